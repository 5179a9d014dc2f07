"""The EasyOCR recogniser's ONNX export computes what PyTorch computes (run on ONNX Runtime CPU)."""
import numpy as np
import pytest

from ocr.accel import easyocr_rec, export

torch = pytest.importorskip("torch")
onnx = pytest.importorskip("onnx")


def test_export_matches_pytorch_logits_and_texts(exported, reader, crops_and_truths):
    crops = [c for c, _ in crops_and_truths]
    report = export.compare_easyocr_rec(exported, crops, reader)
    assert report["n"] == len(crops) >= 8
    assert report["max_abs_diff"] <= export.MAX_ABS_DIFF, report
    assert report["identical"] == report["n"], report["mismatches"]


def test_mean_over_width_equals_the_adaptive_pool(reader):
    model = easyocr_rec.unwrap(reader.recognizer).eval()
    x = torch.randn(2, 1, 64, 173)
    with torch.no_grad():
        original = model(x, None)  # AdaptiveAvgPool2d((None, 1)) inside
        replaced = easyocr_rec.exportable(model)(x)
    assert torch.allclose(original, replaced, atol=1e-6)


def test_dataparallel_wrapper_is_unwrapped(reader):
    model = easyocr_rec.unwrap(reader.recognizer)
    wrapped = torch.nn.DataParallel(model)  # what EasyOCR builds on a GPU
    assert easyocr_rec.unwrap(wrapped) is model
    assert easyocr_rec.exportable(wrapped).model is model


def test_graph_has_lstm_dynamic_width_and_no_adaptive_pool(exported):
    model = onnx.load(exported)
    ops = {n.op_type for n in model.graph.node}
    assert "LSTM" in ops
    assert not ops & {"AdaptiveAvgPool2d", "GlobalAveragePool", "ATen"}
    dims = model.graph.input[0].type.tensor_type.shape.dim
    assert dims[0].dim_param == "batch" and dims[3].dim_param == "width"
    assert "characters" in export.metadata(exported)


@pytest.mark.parametrize("batch,width", [(1, 64), (3, 200), (2, 640)])
def test_any_batch_and_width_runs_like_pytorch(exported, reader, batch, width):
    x = np.random.RandomState(width).uniform(-1, 1, (batch, 1, 64, width)).astype(np.float32)
    out = export.ort_session(exported).run(None, {"image": x})[0]
    with torch.no_grad():
        ref = easyocr_rec.exportable(reader.recognizer)(torch.from_numpy(x)).numpy()
    assert out.shape == ref.shape and out.shape[0] == batch
    assert np.abs(out - ref).max() <= export.MAX_ABS_DIFF


def test_fp16_conversion_keeps_fp32_io_and_runs_on_cpu(exported, reader, crops_and_truths):
    fp16 = export.to_fp16(exported)
    assert export.is_fp16(fp16) and not export.is_fp16(exported)
    model = onnx.load(fp16)
    assert model.graph.input[0].type.tensor_type.elem_type == onnx.TensorProto.FLOAT
    report = export.compare_easyocr_rec(fp16, [c for c, _ in crops_and_truths], reader)
    # FP16 is not bit-equivalent: its differences are real but small; the guard judges accuracy.
    assert 0 < report["max_abs_diff"] < 1.0
