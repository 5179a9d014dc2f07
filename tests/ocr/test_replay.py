"""The code reader's CPU side through its frozen pre-vectorisation hot loops (reference.py) and
through the shipped ones, replayed on cached network outputs (bench/replay.py): identical cuts,
texts, lines and formats, confidences within 1e-6, on the default set and, where it is present,
on ../shared/realdev. The cache is built on first use (one network pass per piece) outside the
repository; later runs only replay. Decoding is checked through the compiled decoder
(ocr/_decode.c) and through its pure-Python fallback (KIT_PURE_PYTHON=1), which must read alike
bit for bit."""
import os

import numpy as np
import pytest

from ocr import compiled, lines
from tests.conftest import REALDEV
from tests.ocr import reference

pytest.importorskip("onnxruntime")


@pytest.fixture(scope="module", params=["default", "realdev"])
def replay(request):
    from bench.replay import Replay
    if request.param == "realdev" and not os.path.isfile(REALDEV):
        pytest.skip("../shared/realdev not present")
    return Replay(None if request.param == "default" else REALDEV, threads=2)


@pytest.fixture(params=["compiled", "pure"])
def decoder(request, monkeypatch):
    """The decoding path the test reads through: the compiled decoder or pure Python."""
    monkeypatch.setattr(compiled, "PURE", request.param == "pure")  # what KIT_PURE_PYTHON=1 sets
    if request.param == "compiled":
        if compiled.module() is None:
            if os.environ.get("KIT_CI"):
                pytest.fail("ocr._decode is not built: CI must build it")
            pytest.skip("ocr._decode is not built here")
    return request.param


def test_the_splitter_cuts_the_same_lines(replay, monkeypatch):
    new = [lines.split(c) for c in replay.crops]
    reference.old_paths(monkeypatch)
    old = [lines.split(c) for c in replay.crops]
    for i, (a, b) in enumerate(zip(old, new)):
        assert len(a) == len(b) and all(np.array_equal(x, y) for x, y in zip(a, b)), replay.ids[i]


def test_the_ink_map_is_bit_identical(replay):
    for i, crop in enumerate(replay.crops):
        old, new = reference.ink_map(_gray(crop)), lines.ink_map(_gray(crop))
        assert old.dtype == new.dtype and np.array_equal(old, new), replay.ids[i]


def test_old_and_new_paths_read_the_same(replay, decoder, monkeypatch):
    from bench.replay import reads
    new = reads(replay.run())
    reference.old_paths(monkeypatch)
    old = reads(replay.run())
    for i, (a, b) in enumerate(zip(old, new)):
        conf_a, conf_b = a.pop("confidence"), b.pop("confidence")
        assert a == b, replay.ids[i]
        assert conf_a == pytest.approx(conf_b, abs=1e-6), replay.ids[i]


def test_every_cached_line_decodes_the_same(replay, decoder, monkeypatch):
    from ocr import ctc, postprocess
    engine = replay.engine
    lines_probs = [replay.probs[k] for k in sorted(replay.probs)]

    def reads():
        out = []
        for probs in lines_probs:
            read = postprocess.decode(probs, engine.charset, engine.grammar)
            out.append((ctc.greedy(probs), ctc.greedy(probs, best_frame=False),
                        (read.text, read.formats, read.how), read.char_probs))
        return out

    new = reads()
    reference.old_paths(monkeypatch)
    old = reads()
    for i, (a, b) in enumerate(zip(old, new)):
        assert a[:3] == b[:3], i
        assert a[3] == pytest.approx(b[3], abs=1e-6), i


def test_alignments_are_bit_identical_on_and_off_the_top_path(replay, decoder):
    from ocr import ctc
    for key in sorted(replay.probs):
        probs = replay.probs[key]
        labels, _ = ctc.greedy(probs)
        for seq in (labels, labels[1:], labels[:-1] + labels[-1:] * 2):  # the top path, and two others
            if seq:
                assert ctc.align(probs, seq) == reference.align(probs, seq), key


def _gray(crop):
    import cv2
    return crop if crop.ndim == 2 else cv2.cvtColor(crop, cv2.COLOR_BGR2GRAY)


def test_the_ink_masks_are_bit_identical(replay):
    for i, crop in enumerate(replay.crops):
        ink, levels = reference.ink_map(_gray(crop)), lines._ink_levels(_gray(crop))
        for level, value in zip(lines._ink_from(levels), (lines.MASK_INK, lines.STROKE_INK)):
            assert np.array_equal(lines._at_least(levels, level), (ink > value).astype(np.uint8)), replay.ids[i]


def test_sheared_profiles_are_bit_identical(replay):
    for i, crop in enumerate(replay.crops):
        mask = (reference.ink_map(_gray(crop)) > 0.35).astype(np.uint8)
        ys, xs = np.nonzero(mask)
        h, w = mask.shape
        for shears in (lines.SHEARS, np.array([0.25, -0.5, 0.1 / 3])):  # the first two hit half shifts
            old = reference._profiles_all(ys, xs, h, w, shears)
            for by_runs in (False, True):  # both ways, whichever _profiles picks for this mask
                assert np.array_equal(old, lines._profiles(mask, shears, by_runs)), (replay.ids[i], by_runs)


def test_the_compiled_and_pure_decoders_read_every_cached_line_alike(replay, monkeypatch):
    """Bit for bit (confidences too): the C loops follow the Python ones' every tie-break."""
    from ocr import postprocess
    monkeypatch.setattr(compiled, "PURE", False)
    if compiled.module() is None:
        pytest.skip("ocr._decode is not built here")  # test_compiled.py fails that under CI
    engine = replay.engine
    lines_probs = [replay.probs[k] for k in sorted(replay.probs)]

    def reads():
        return [(r.text, r.formats, r.how, r.char_probs) for r in
                (postprocess.decode(p, engine.charset, engine.grammar) for p in lines_probs)]
    fast = reads()
    monkeypatch.setattr(compiled, "PURE", True)
    assert reads() == fast
