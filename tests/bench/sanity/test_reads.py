"""bench.sanity.reads: the reference crop read by a real engine, here and through the worker of
another interpreter, and the PASS/FAIL/SKIP of a read."""
import sys

import pytest

from bench.sanity import common, reads


def test_reference_crop_has_dark_text_on_white():
    crop = reads.reference_crop()
    assert crop.dtype.name == "uint8" and crop.ndim == 3 and crop.shape[2] == 3
    assert crop[0, 0].tolist() == [255, 255, 255] and crop.min() == 0
    assert crop.shape[1] > 3 * crop.shape[0]  # one line of text


@pytest.mark.slow
def test_a_real_engine_reads_the_reference_crop():
    registry = pytest.importorskip("ocr.engines.registry")
    ok, why = registry.availability("ppocr-onnx-rec")
    if not ok:
        pytest.skip(why)
    result = reads.read_once(registry, "ppocr-onnx-rec", reads.reference_crop(), reads.REFERENCE_TEXT)
    assert result.status == common.PASS, result.reason


def test_a_wrong_read_fails(monkeypatch):
    class Engine(object):
        def load(self):
            return self

        def predict(self, crops):
            from ocr.engines.base import Prediction
            return [Prediction("L0T A7319", 0.9)]

    class Registry(object):
        availability = staticmethod(lambda name: (True, ""))
        create = staticmethod(lambda name: Engine())

    result = reads.read_once(Registry, "fake", reads.reference_crop(), reads.REFERENCE_TEXT)
    assert result.status == common.FAIL and "expected 'LOT A7319'" in result.reason


def test_unavailable_engine_is_skipped_with_its_reason():
    class Registry(object):
        availability = staticmethod(lambda name: (False, "needs the Paddle venv"))

    result = reads.read_once(Registry, "paddleocr", None, "x")
    assert (result.status, result.reason) == (common.SKIP, "needs the Paddle venv")


@pytest.mark.slow
def test_an_engine_is_read_through_the_worker_of_its_interpreter():
    registry = pytest.importorskip("ocr.engines.registry")
    if not registry.availability("ppocr-onnx-rec")[0]:
        pytest.skip("ppocr-onnx-rec unavailable here")
    result = reads.read_in_worker(sys.executable, "ppocr-onnx-rec", reads.reference_crop(), reads.REFERENCE_TEXT)
    assert result.status == common.PASS and result.reason.endswith("[{}]".format(sys.executable)), result.reason
    assert "first call" in result.reason


def test_a_worker_error_is_a_fail_in_one_line():
    result = reads.read_in_worker(sys.executable, "no-such-engine", reads.reference_crop(), "x")
    assert result.status == common.FAIL and "unknown engine 'no-such-engine'" in result.reason
    assert "\n" not in result.reason


def test_an_engine_unavailable_in_the_worker_is_skipped_with_its_reason():
    from ocr.engines import registry
    ok, why = registry.availability("ppocr-onnx-trt")
    if ok:
        pytest.skip("TensorRT is here: ppocr-onnx-trt is available")
    result = reads.read_in_worker(sys.executable, "ppocr-onnx-trt", reads.reference_crop(), "x")
    assert (result.status, result.reason) == (common.SKIP, "{} [{}]".format(why, sys.executable))


def test_an_engine_whose_interpreter_is_missing_fails():
    result = reads.read_in_worker("/nonexistent/venv-paddle/bin/python", "paddleocr", reads.reference_crop(), "x")
    assert result.status == common.FAIL and "interpreter /nonexistent/venv-paddle/bin/python does not exist" \
        in result.reason and result.hint == "check bench/interpreters.yml"


def test_other_interpreters_are_read_through_the_worker(monkeypatch, tmp_path):
    python = tmp_path / "python"  # another interpreter, as a venv's bin/python is to sanity
    python.write_text("#!/bin/sh\nexec {} \"$@\"\n".format(sys.executable))
    python.chmod(0o755)
    calls = []
    monkeypatch.setattr(reads, "read_in_worker", lambda py, name, crop, text: calls.append((py, name)) or
                        common.Result("ocr", name, common.PASS, "read"))
    ctx = common.Context(engines=["paddleocr", "ppocr-onnx-rec"])
    ctx.interpreters = {"paddleocr": str(python)}
    monkeypatch.setattr(reads, "read_once", lambda registry, name, crop, text: common.Result(
        "ocr", name, common.PASS, "here"))
    results = reads.check_engines(ctx)
    assert calls == [(str(python), "paddleocr")] and [r.reason for r in results] == ["read", "here"]


def test_without_a_dejavu_font_the_reads_skip(monkeypatch, tmp_path):
    from ocr.synth import glyphs

    def no_matplotlib():
        raise RuntimeError("no matplotlib")
    monkeypatch.setattr(glyphs, "font_dir", no_matplotlib)
    monkeypatch.setattr(glyphs, "SYSTEM_FONT_DIR", str(tmp_path))
    result = reads.check_engines(common.Context(engines=["ppocr-onnx-rec"]))
    assert result.status == common.SKIP and "no DejaVu font" in result.reason
