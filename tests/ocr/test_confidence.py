"""ocr/confidence.py: each signal on hand-made per-step probabilities, the crop's combination, the
calibrator (fit, file round trip, model check) and the calibration error."""
import json

import numpy as np
import pytest

from ocr import confidence
from ocr.postprocess import Read

CHARSET = ["<blank>", "1", "3", "0", ":", "2", ".", " "]
K = {ch: k for k, ch in enumerate(CHARSET) if k}


def frames(*rows):
    """T x C probabilities from rows of {character or "_": probability}; the rest to the blank."""
    out = np.zeros((len(rows), len(CHARSET)), dtype=np.float32)
    for t, row in enumerate(rows):
        for ch, p in row.items():
            out[t, 0 if ch == "_" else K[ch]] = p
        out[t, 0] += 1.0 - out[t].sum()
    return out


def signals(probs, text, formats=("date",), costs=None):
    conf = [1.0] * len(text.replace(" ", ""))
    return confidence.line_signals(probs, Read(text, conf, list(formats) if formats else None, "greedy"), CHARSET,
                                   costs or {})


def test_a_sure_clean_read_has_no_alternative_mass():
    s = signals(frames({"1": 1.0}, {"_": 1.0}, {"3": 1.0}, {"_": 1.0}), "13")
    assert s["alt"] == pytest.approx(0.0, abs=1e-6) and s["sep"] == 0.0 and s["edit"] == 0.0


def test_a_half_seen_character_is_alternative_mass():
    # P113036 read P11036 in realdev's style: the dropped 3 is 9 % of one frame of the 1's run
    s = signals(frames({"1": 1.0}, {"1": 0.89, "3": 0.09}, {"_": 1.0}, {"0": 1.0}), "10")
    assert s["alt"] == pytest.approx(0.09, abs=1e-6)


def test_a_blank_inside_a_run_would_split_a_repeat():
    s = signals(frames({"1": 1.0}, {"1": 0.7, "_": 0.3}, {"1": 1.0}), "1")
    assert s["alt"] == pytest.approx(0.3, abs=1e-6)
    # the same blank at the run's edge only shortens it: the text stays "1"
    s = signals(frames({"1": 1.0}, {"1": 0.7, "_": 0.3}, {"_": 1.0}), "1")
    assert s["alt"] == pytest.approx(0.0, abs=1e-6)


def test_the_repeats_own_class_on_the_blank_between_would_merge_it():
    s = signals(frames({"1": 1.0}, {"_": 0.6, "1": 0.4}, {"1": 1.0}), "11")
    assert s["alt"] == pytest.approx(0.4, abs=1e-6)


def test_an_unsure_separator_is_counted_apart():
    s = signals(frames({"2": 1.0}, {" ": 0.6, ".": 0.4}, {"0": 1.0}), "2 0")
    assert s["sep"] == pytest.approx(0.4, abs=1e-6) and s["alt"] == pytest.approx(0.4, abs=1e-6)


def test_a_sure_character_the_decoding_deleted_is_edit_mass():
    # a printed ':' before a date, read at 0.999 and dropped to fit the date format
    probs = frames({":": 0.999}, {"_": 1.0}, {"2": 1.0}, {"_": 1.0}, {"0": 1.0})
    assert signals(probs, "20")["edit"] == pytest.approx(0.999, abs=1e-6)
    assert signals(probs, ":20")["edit"] == 0.0


def test_frames_per_character_counts_the_inked_span():
    idx = np.array([0, 0, 1, 0, 2, 2, 0, 3, 0, 0])
    assert confidence.frames_per_char(idx, 3) == pytest.approx(6 / 3.0)
    assert confidence.frames_per_char(np.zeros(8, dtype=int), 0) == 8.0


def test_format_priors_and_unmatched_reads():
    probs = frames({"1": 1.0})
    assert signals(probs, "1", formats=["lot_code", "number"], costs={"lot_code": 1.0, "number": 1.0})["prior"] == 2.0
    s = signals(probs, "1", formats=None)
    assert s["unmatched"] is True and s["prior"] == 0.0


def test_a_crop_takes_its_worst_line():
    a = {"char": 0.9, "alt": 0.1, "sep": 0.0, "edit": 0.0, "density": 3.0, "prior": 1.0, "unmatched": False}
    b = {"char": 0.99, "alt": 0.0, "sep": 0.2, "edit": 0.5, "density": 2.0, "prior": 0.0, "unmatched": True}
    crop = confidence.crop_signals([a, b])
    assert crop == {"char": 0.9, "alt": 0.1, "sep": 0.2, "edit": 0.5, "density": 2.0, "prior": 1.0, "unmatched": True}
    assert confidence.crop_signals([]) is None


def _sig(char, alt):
    return {"char": char, "alt": alt, "sep": 0.0, "edit": 0.0, "density": 3.0, "prior": 0.0, "unmatched": False}


def test_the_calibrator_learns_that_alternative_mass_means_errors(tmp_path):
    rng = np.random.RandomState(0)
    sigs, right = [], []
    for _ in range(400):
        alt = float(rng.uniform(0, 0.6))
        sigs.append(_sig(float(rng.uniform(0.8, 1.0)), alt))
        right.append(bool(rng.uniform() > alt))  # the likelier an alternative, the likelier an error
    cal = confidence.Calibrator.fit(sigs, right, meta={"model_sha256": "abc"})
    assert cal.probability(_sig(0.95, 0.0)) > cal.probability(_sig(0.95, 0.5))
    assert 0.0 < cal.probability(_sig(0.95, 0.5)) < 1.0
    path = tmp_path / "calibrator.json"
    path.write_text(json.dumps(cal.to_dict()))
    again = confidence.Calibrator.load(str(path), "abc")
    assert again.probability(_sig(0.9, 0.2)) == pytest.approx(cal.probability(_sig(0.9, 0.2)), abs=1e-12)
    assert confidence.Calibrator.load(str(path), "another model") is None
    assert confidence.Calibrator.load(str(tmp_path / "missing.json"), "abc") is None


def test_a_calibrator_of_other_features_is_refused():
    with pytest.raises(ValueError, match="features"):
        confidence.Calibrator.from_dict({"features": ["char_logit"], "weights": [1.0], "bias": 0.0,
                                         "mean": [0.0], "scale": [1.0]})


def test_calibration_error_over_ten_bins():
    assert confidence.calibration_error([(1.0, True), (0.0, False)]) == 0.0
    # two reads at 0.95 (bin 9), one right: |0.95 - 0.5| over all; one at 0.15 (bin 1), wrong
    ece = confidence.calibration_error([(0.95, True), (0.95, False), (0.15, False)])
    assert ece == pytest.approx(2 / 3.0 * 0.45 + 1 / 3.0 * 0.15)
    assert confidence.calibration_error([]) is None
