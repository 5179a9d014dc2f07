"""Graph folding of the exported reader: PPLCNetV3's conv -> affine -> hardswish -> affine chain
folds to fewer operators with the same outputs (ONNX Runtime on both graphs), and chains it
cannot fold exactly (an affine before a padded convolution, a shared intermediate) stay."""
import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

from onnx import TensorProto, helper, numpy_helper  # noqa: E402

from train.codereader import fold  # noqa: E402

RNG = np.random.RandomState(3)


def _const(name, value):
    return numpy_helper.from_array(np.asarray(value, dtype=np.float32), name)


def _block(prefix, x, out, cin, cout, kernel, inits, nodes, pads):
    """conv -> *a + b (learnable affine) -> x*clip(x+3,0,6)/6 -> *a2 + b2, as Paddle exports it."""
    w = RNG.randn(cout, cin, kernel, kernel).astype(np.float32) * 0.3
    inits += [_const(prefix + "w", w), _const(prefix + "bias", RNG.randn(cout) * 0.1),
              _const(prefix + "a", [1.3]), _const(prefix + "b", [0.2]),
              _const(prefix + "a2", [0.7]), _const(prefix + "b2", [-0.1]),
              _const(prefix + "three", 3.0), _const(prefix + "zero", 0.0), _const(prefix + "six", 6.0)]
    t = [prefix + str(k) for k in range(8)]
    nodes += [
        helper.make_node("Conv", [x, prefix + "w", prefix + "bias"], [t[0]], name=prefix + "conv",
                         kernel_shape=[kernel, kernel], pads=[pads] * 4),
        helper.make_node("Mul", [prefix + "a", t[0]], [t[1]]),
        helper.make_node("Add", [t[1], prefix + "b"], [t[2]]),
        helper.make_node("Add", [t[2], prefix + "three"], [t[3]]),
        helper.make_node("Clip", [t[3], prefix + "zero", prefix + "six"], [t[4]]),
        helper.make_node("Mul", [t[2], t[4]], [t[5]]),
        helper.make_node("Div", [t[5], prefix + "six"], [t[6]]),
        helper.make_node("Mul", [prefix + "a2", t[6]], [t[7]]),
        helper.make_node("Add", [t[7], prefix + "b2"], [out]),
    ]


def _model(second_kernel):
    inits, nodes = [], []
    _block("p/", "x", "h", 4, 6, 3, inits, nodes, pads=1)
    _block("q/", "h", "y", 6, 5, second_kernel, inits, nodes, pads=second_kernel // 2)
    graph = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4, 7, 9])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 5, 7, 9])], inits)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 12)])


def _run(model, x):
    return ort.InferenceSession(model.SerializeToString()).run(None, {"x": x})[0]


@pytest.mark.parametrize("second_kernel,into_pointwise", [(1, 1), (3, 0)])
def test_fold_keeps_outputs_and_removes_operators(second_kernel, into_pointwise):
    model = _model(second_kernel)
    x = RNG.randn(1, 4, 7, 9).astype(np.float32) * 3
    before = _run(model, x)
    counts = fold.fold(model)
    onnx.checker.check_model(model)
    assert counts == {"conv_affine": 2, "hardswish": 2, "affine_pointwise": into_pointwise}
    ops = [n.op_type for n in model.graph.node]
    assert "Clip" not in ops and "Div" not in ops and ops.count("HardSigmoid") == 2
    # the first block's trailing affine feeds a 1x1 conv (folded) or a padded 3x3 one (kept)
    assert ops.count("Add") == 2 - into_pointwise
    np.testing.assert_allclose(_run(model, x), before, rtol=1e-5, atol=1e-5)


def test_a_shared_intermediate_is_not_folded():
    model = _model(1)
    # a second reader of the first conv's raw output: folding the affine into it would change it
    model.graph.output.append(helper.make_tensor_value_info("p/0", TensorProto.FLOAT, [1, 6, 7, 9]))
    x = RNG.randn(1, 4, 7, 9).astype(np.float32)
    before = ort.InferenceSession(model.SerializeToString()).run(None, {"x": x})
    assert fold.fold(model)["conv_affine"] == 1
    after = ort.InferenceSession(model.SerializeToString()).run(None, {"x": x})
    for a, b in zip(before, after):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5)


def test_prune_drops_what_no_output_needs():
    model = _model(1)
    model.graph.node.append(helper.make_node("Identity", ["p/w"], ["dead"]))
    model.graph.initializer.append(_const("unused", [1.0]))
    fold.prune(model)
    assert "dead" not in {o for n in model.graph.node for o in n.output}
    assert "unused" not in {t.name for t in model.graph.initializer}
