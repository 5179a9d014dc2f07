"""Every accelerated engine is registered and says in one line why it cannot run here; the
device paths run where CUDA / TensorRT exist (a Nano, a GPU box) and are skipped elsewhere."""
import pytest

from ocr.engines import registry

ACCEL = ["ppocr-onnx-rec-fp16", "ppocr-onnx-cuda", "ppocr-onnx-rec-cuda", "ppocr-onnx-trt", "ppocr-onnx-rec-trt",
         "paddleocr-trt", "paddleocr-rec-trt", "easyocr-cuda", "easyocr-rec-cuda", "easyocr-trt",
         "easyocr-rec-trt", "codereader-trt"]


def _cuda():
    try:
        import torch
    except ImportError:
        return False
    return torch.cuda.is_available()


def _trt():
    try:
        import tensorrt  # noqa: F401
    except ImportError:
        return False
    return _cuda()


@pytest.mark.parametrize("name", ACCEL)
def test_registered_with_a_one_line_reason(name):
    assert name in registry.names()
    ok, why = registry.availability(name)
    assert ok or (why and "\n" not in why and len(why) < 200)


def test_cpu_fp16_engine_is_available_here():
    pytest.importorskip("onnxruntime")
    assert registry.availability("ppocr-onnx-rec-fp16") == (True, "")


@pytest.mark.parametrize("name", ["easyocr-cuda", "easyocr-rec-trt", "ppocr-onnx-cuda"])
def test_reasons_name_what_is_missing(name):
    ok, why = registry.availability(name)
    if ok:
        pytest.skip("available here")
    assert any(w in why for w in ("CUDA", "cuda", "TensorRT", "easyocr", "onnxruntime", "torch"))


def _run_guarded(name, precision, crops_and_truths):
    engine = registry.create(name, precision=precision, calib_n=8).load()
    preds = engine.predict([c for c, _ in crops_and_truths[:4]])
    engine.synchronize()
    assert len(preds) == 4
    return engine


@pytest.mark.device
@pytest.mark.parametrize("name,precision", [("easyocr-rec-cuda", "fp32"), ("easyocr-rec-cuda", "fp16"),
                                            ("easyocr-cuda", "fp16")])
def test_torch_cuda_engines(name, precision, crops_and_truths):
    if not _cuda():
        pytest.skip("no CUDA device here: torch CUDA engines run on a GPU machine or a Nano")
    engine = _run_guarded(name, precision, crops_and_truths)
    assert engine.device == "cuda"


@pytest.mark.device
def test_cuda_graphs_read_like_eager(crops_and_truths):
    if not _cuda():
        pytest.skip("no CUDA device here")
    crops = [c for c, _ in crops_and_truths[:6]]
    eager = registry.create("easyocr-rec-cuda").load().predict(crops)
    graphed = registry.create("easyocr-rec-cuda", cuda_graphs=True).load().predict(crops)
    assert [p.text for p in eager] == [p.text for p in graphed]


@pytest.mark.device
@pytest.mark.parametrize("name,precision", [("easyocr-rec-trt", "fp32"), ("easyocr-rec-trt", "fp16"),
                                            ("easyocr-trt", "fp16")])
def test_tensorrt_engines(name, precision, crops_and_truths, tmp_path, monkeypatch):
    if not _trt():
        pytest.skip("no TensorRT + CUDA here: run on a Jetson (JetPack) or a GPU box with TensorRT")
    monkeypatch.setenv("KIT_ACCEL_CACHE", str(tmp_path))
    _run_guarded(name, precision, crops_and_truths)
    # A second start reuses the serialised engine from the keyed folder.
    built = sorted(p.name for p in tmp_path.rglob("*.engine"))
    _run_guarded(name, precision, crops_and_truths)
    assert sorted(p.name for p in tmp_path.rglob("*.engine")) == built


@pytest.mark.device
@pytest.mark.parametrize("name", ["ppocr-onnx-rec-cuda", "ppocr-onnx-rec-trt", "paddleocr-rec-trt"])
def test_ort_and_paddle_gpu_engines(name, crops_and_truths, tmp_path, monkeypatch):
    ok, why = registry.availability(name)
    if not ok:
        pytest.skip(why)
    monkeypatch.setenv("KIT_ACCEL_CACHE", str(tmp_path))
    _run_guarded(name, "fp16", crops_and_truths)
