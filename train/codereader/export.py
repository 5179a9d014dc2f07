"""Export the code reader to one ONNX file: the stock backbone's frozen stages followed by the
fine-tuned last stages, neck and head (dynamic batch and width), with the charset in the metadata, so the engine needs
nothing but the .onnx file. Also reloads committed .pt weights."""
import torch

from . import fold
from .model import CHARSET, CUT, CUT_SHAPE, HEIGHT, FullNet, backbone_onnx, backbone_torch, build, stock_graph

OPSET = 12  # the stock model's opset; TensorRT 8.x (JetPack 4.6) parses it
TRACE_T = 37  # an odd sequence length for tracing, so the traced-in length is recognisable


def load(pt_path, graph=None):
    """The trainable net (last stages + neck + head) with weights from a .pt written by train.py."""
    state = torch.load(pt_path, map_location="cpu", weights_only=False)
    net = build(charset=state.get("charset", CHARSET), graph=graph)
    net.load_state_dict(state["model"])
    return net.eval()


def load_full(pt_path):
    """Image -> probabilities in PyTorch (frozen stages + the fine-tuned rest)."""
    graph = stock_graph()
    return FullNet(backbone_torch(graph), load(pt_path, graph)).eval()


def _free_sequence_length(model):
    """Tracing folds the neck's reshape targets into constants holding the traced length
    ([0, 37, 3, 8, 15]); put -1 there so the export accepts any width."""
    from onnx import numpy_helper
    tensors = list(model.graph.initializer)
    tensors += [n.attribute[0].t for n in model.graph.node if n.op_type == "Constant" and n.attribute]
    for t in tensors:
        a = numpy_helper.to_array(t)
        if a.dtype.kind == "i" and a.ndim == 1 and a.size <= 8 and (a == TRACE_T).sum() == 1 and -1 not in a:
            a = a.copy()
            a[a == TRACE_T] = -1
            t.CopyFrom(numpy_helper.from_array(a, t.name))
    return model


def _inline_squeeze_ifs(model):
    """The exporter guards each squeeze of a traced size-1 axis with If(size == 1): Squeeze else
    Identity. The axis is always 1 here (q/k/v sliced apart), so keep the Squeeze and drop the If
    and its dead condition: TensorRT and FLOP counters then see a plain graph."""
    import onnx
    nodes = []
    for node in model.graph.node:
        if node.op_type == "If":
            branches = {a.name: a.g for a in node.attribute}
            then = branches["then_branch"].node
            if len(then) == 1 and then[0].op_type == "Squeeze":
                squeeze = onnx.helper.make_node("Squeeze", list(then[0].input), list(node.output),
                                                name=node.name + "/inlined")
                squeeze.attribute.extend(then[0].attribute)
                node = squeeze
        nodes.append(node)
    del model.graph.node[:]
    model.graph.node.extend(nodes)
    return fold.prune(model)


def export(net, path, graph=None):
    import io

    import onnx
    from onnx import compose
    graph = graph or stock_graph()
    net = net.eval()
    net.export_probs = True
    buf = io.BytesIO()
    try:
        dummy = torch.zeros((1,) + CUT_SHAPE + (2 * TRACE_T,))  # W/4 at the cut -> T = W/8
        torch.onnx.export(net, dummy, buf, input_names=["feats"], output_names=["probs"],
                          dynamic_axes={"feats": {0: "n", 3: "t"}, "probs": {0: "n", 1: "t"}},
                          opset_version=OPSET, dynamo=False)
    finally:
        net.export_probs = False
    tail = _inline_squeeze_ifs(_free_sequence_length(onnx.load_from_string(buf.getvalue())))
    head = backbone_onnx(graph)
    tail.ir_version = head.ir_version
    model = compose.merge_models(head, tail, io_map=[(CUT, "feats")])
    fold.fold(model)
    del model.metadata_props[:]
    for key, value in (("charset", net.charset), ("height", str(HEIGHT)), ("blank", "0")):
        prop = model.metadata_props.add()
        prop.key, prop.value = key, value
    onnx.checker.check_model(model)
    onnx.save(model, path)
    return path


def main(argv=None):
    import argparse
    p = argparse.ArgumentParser(description="export codereader .pt weights to ONNX")
    p.add_argument("pt")
    p.add_argument("onnx")
    a = p.parse_args(argv)
    export(load(a.pt), a.onnx)


if __name__ == "__main__":
    main()
