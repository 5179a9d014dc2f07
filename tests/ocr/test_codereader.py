"""The codereader engine with the committed model: registry wiring, model verification, reads of
synthetic crops (single and multi-line), confidence, and the no-split option."""
import os
import time

import numpy as np
import pytest

from ocr import dataset, metrics, synth
from ocr.engines import codereader, registry

pytest.importorskip("onnxruntime")
MODEL = os.path.join(codereader.model_dir(), codereader.MODEL_NAME)


def test_committed_model_is_shipped():
    assert os.path.isfile(MODEL)  # committed with the package (ocr/data/codereader), never skipped


@pytest.fixture(scope="module")
def engine():
    return registry.create("codereader", threads=2).load()


def bgr(img):
    return np.ascontiguousarray(img[:, :, ::-1])


def test_registered_and_verified(engine):
    assert registry.availability("codereader") == (True, "")
    model = engine.describe()["models"]["rec"]
    assert model["sha256"] == codereader.expected_sha256()
    # The shipped rejection threshold belongs to this very model file.
    assert 0.0 < engine.describe()["reject_below"] < 1.0
    assert len(engine.charset) == 1 + len(set(engine.charset[1:]))


def test_a_threshold_calibrated_for_another_model_is_ignored(tmp_path):
    import json
    (tmp_path / codereader.THRESHOLD_NAME).write_text(json.dumps({"threshold": 0.8, "model_sha256": "abc"}))
    assert codereader.calibrated_threshold(str(tmp_path), "abc") == 0.8
    assert codereader.calibrated_threshold(str(tmp_path), "def") is None
    (tmp_path / codereader.THRESHOLD_NAME).write_text("{not json")
    assert codereader.calibrated_threshold(str(tmp_path), "abc") is None
    assert codereader.calibrated_threshold(str(tmp_path / "none"), "abc") is None


def test_reads_the_default_set_prefix(engine):
    samples = list(dataset.load(None))[:40]
    preds = engine.predict([dataset.read_image(s.image) for s in samples])
    hits = [metrics.normalise(p.text) == metrics.normalise(s.text) for p, s in zip(preds, samples)]
    assert np.mean(hits) >= 0.9
    assert all(0.0 <= p.confidence <= 1.0 for p in preds)


def test_multi_line_crop_is_read_line_by_line(engine):
    _, img, _ = synth.make_sample(11, 3, style="solid", lines=["EXP 05/2026", "LOT 483920"])
    pred = engine.predict([bgr(img)])[0]
    assert pred.lines == ["EXP 05/2026", "LOT 483920"]
    assert pred.text == "EXP 05/2026 LOT 483920"
    assert pred.extra["formats"] == [["labelled_date"], ["labelled_lot"]]


def test_every_read_says_where_its_time_went(engine):
    """Splitting and decoding run in Python on a Nano's CPU, the network on its GPU: the bench
    reports the three apart (bench/runner.py, the Stages table)."""
    _, img, _ = synth.make_sample(11, 3, style="solid", lines=["EXP 05/2026", "LOT 483920"])
    t0 = time.perf_counter()
    preds = engine.predict([bgr(img), bgr(img)])
    elapsed_ms = (time.perf_counter() - t0) * 1000.0
    stages = preds[0].stages_ms
    assert list(stages) == ["split", "network", "decode"] and preds[1].stages_ms == stages
    assert "stages_ms" not in preds[0].extra and preds[0].to_dict()["stages_ms"] == stages
    assert all(v > 0 for v in stages.values())
    assert 2 * sum(stages.values()) <= elapsed_ms + 0.01  # per crop, averaged over the batch of two


def test_blank_crop_reads_nothing_with_zero_confidence(engine):
    pred = engine.predict([np.full((36, 150, 3), 200, np.uint8)])[0]
    assert pred.text == "" and pred.confidence == 0.0


def _reads(*items):
    from ocr.postprocess import Read
    return [Read(text, [conf] * len(text), ["code"], "greedy") for text, conf in items]


def test_a_split_crop_keeps_its_lines_unless_the_whole_read_is_surer_and_as_long():
    lines = _reads(("EXP 17/06/2028", 0.99), ("LOT 304940", 0.6))
    # A real two-line crop read whole: a confident short fragment must not win.
    assert codereader._choose(lines, _reads(("EXP 17/06", 0.9))) is lines
    # Less sure whole reads never win.
    assert codereader._choose(lines, _reads(("EXP 17/06/2028 LOT 304940", 0.5))) is lines
    whole = _reads(("EXP 17/06/2028 LOT 304940", 0.9))
    assert codereader._choose(lines, whole) is whole
    # A cut through one line: both halves read (nearly) the whole line; the whole read wins.
    halves = _reads(("2022.12.17", 0.3), ("2U22.12.1/", 0.2))
    whole = _reads(("2022.12.17", 0.8))
    assert codereader._choose(halves, whole) is whole
    assert codereader._choose(lines, []) is lines and codereader._choose([], whole) is whole


def test_without_splitting_a_crop_is_one_line():
    eng = registry.create("codereader", threads=2, split_lines=False).load()
    _, img, _ = synth.make_sample(11, 3, style="solid", lines=["EXP 05/2026", "LOT 483920"])
    assert len(eng.predict([bgr(img)])[0].lines) <= 1


def test_wrong_model_checksum_is_refused(tmp_path, monkeypatch):
    link = tmp_path / codereader.MODEL_NAME
    link.write_bytes(open(MODEL, "rb").read())
    (tmp_path / "SHA256SUMS").write_text("0" * 64 + "  " + codereader.MODEL_NAME + "\n")
    monkeypatch.setenv("KIT_MODELS_CODEREADER", str(tmp_path))
    from ocr.engines.base import EngineUnavailable
    with pytest.raises(EngineUnavailable):
        registry.create("codereader").load()


def test_the_shipped_confidence_is_the_calibrators_probability(engine):
    """calibrator.json was fitted for this model (train/codereader/calibrate.py): a read's
    confidence is its P(right) from the read's signals, the raw least character probability kept
    beside it, and the threshold is on the calibrated scale."""
    assert engine.calibrator is not None
    _, img, _ = synth.make_sample(11, 3, style="solid", lines=["EXP 05/2026", "LOT 483920"])
    pred = engine.predict([bgr(img)])[0]
    signals = pred.extra["signals"]
    assert set(signals) == {"char", "alt", "sep", "edit", "density", "prior", "unmatched"}
    assert pred.confidence == pytest.approx(engine.calibrator.probability(signals), abs=1e-3)  # signals rounded
    assert 0.0 <= pred.extra["raw_confidence"] <= 1.0
    raw = registry.create("codereader", threads=2, calibrate=False).load()
    assert raw.calibrator is None and raw.reject_below is None  # the threshold is not for raw confidences
    assert raw.predict([bgr(img)])[0].confidence == pytest.approx(pred.extra["raw_confidence"])


def test_a_threshold_on_the_other_scale_is_ignored(tmp_path):
    import json
    (tmp_path / codereader.THRESHOLD_NAME).write_text(json.dumps(
        {"threshold": 0.9, "model_sha256": "abc", "confidence": "calibrated"}))
    assert codereader.calibrated_threshold(str(tmp_path), "abc", calibrated=True) == 0.9
    assert codereader.calibrated_threshold(str(tmp_path), "abc") is None


def test_a_second_look_rereads_unsure_crops_and_never_raises_their_confidence():
    looks = registry.create("codereader", threads=2, second_look="squeeze,pad,blur,up").load()
    first = registry.create("codereader", threads=2).load()
    looks.reject_below = 1.01  # every read is unsure
    samples = list(dataset.load(None))[:6]
    crops = [dataset.read_image(s.image) for s in samples]
    again, plain = looks.predict(crops), first.predict(crops)
    assert all(p.extra["second_look"]["of"] == 5 and 1 <= p.extra["second_look"]["votes"] <= 5 for p in again)
    assert all(a.confidence <= b.confidence + 1e-9 for a, b in zip(again, plain))
    assert all(not p.extra["second_look"]["changed"] or p.extra["second_look"]["votes"] >= 2 for p in again)
    assert again[0].stages_ms["second_look"] > 0
    with pytest.raises(ValueError, match="unknown second-look variant"):
        looks.options["second_look"] = "sideways"
        looks.predict(crops[:1])


def test_a_width_floor_rereads_dense_lines_stretched():
    floored = registry.create("codereader", threads=2, width_floor=6.0).load()  # above every line's
    seen = []
    network = floored.line_probs
    floored.line_probs = lambda images: seen.append([im.shape for im in images]) or network(images)
    _, img, _ = synth.make_sample(11, 3, style="solid", lines=["EXP 05/2026"])
    pred = floored.predict([bgr(img)])[0]
    assert len(seen) == 2 and seen[1][0][0] == seen[0][0][0] and seen[1][0][1] > seen[0][0][1]
    assert pred.text  # the surer of the two reads


def test_a_split_crop_is_read_whole_too_only_with_whole_reread():
    _, img, _ = synth.make_sample(11, 3, style="solid", lines=["EXP 05/2026", "LOT 483920"])
    counts = {}
    for whole in (False, True):
        eng = registry.create("codereader", threads=2, whole_reread=whole).load()
        network = eng.line_probs
        eng.line_probs = lambda images, n=network, w=whole: counts.setdefault(w, len(images)) and n(images)
        assert eng.predict([bgr(img)])[0].lines == ["EXP 05/2026", "LOT 483920"]
    assert counts == {False: 2, True: 3}
