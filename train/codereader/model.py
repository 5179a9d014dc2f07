"""The code reader's network: PP-OCRv4's recogniser (converted from its ONNX inference model to
PyTorch) with a new CTC head over the product-code charset; the backbone's first stages stay
frozen, its last stage, the SVTR neck and the head are fine-tuned.

Why this route: PP-OCRv4 rec already reads ~0.88 of real codes; its training weights are not on
PyPI, but its inference ONNX converts to a trainable torch module. The 6625-class head is cut and
replaced by a head whose rows are copied from the stock head for our characters, so the fine-tune
starts from the stock model's own reading instead of from noise.
"""
import os

import torch
from torch import nn

# Blank is class 0 (CTC), then these characters, in this order; exported into the ONNX metadata.
CHARSET = ("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
           " ./-:,#()&+")
HEIGHT = 48
BACKBONE_OUT = "p2o.AveragePool.1"  # N x 480 x 1 x W/8: the PPLCNetV3 backbone's output
# Where the frozen part ends: N x 240 x 12 x W/4, the input of PPLCNetV3's last stage (a stride-2
# depthwise block into the 480-channel blocks). Below it the features are generic strokes, cached
# once per line; above it the features that tell 3 from 8 or a dot from a dash adapt to print.
# (One stage earlier, p2o.Add.95, costs ~4x the CPU time per step: over the 1-hour budget.)
CUT = "p2o.Add.159"
CUT_SHAPE = (240, 12)  # channels, height at the cut; its width is W/4
FEATURES = "transpose_51.tmp_0"     # N x T x 120: the SVTR neck's output, before the stock head
HEAD_W, HEAD_B = "linear_85.w_0", "linear_85.b_0"


def stock_onnx_path():
    """The PP-OCRv4 rec ONNX shipped by rapidocr-onnxruntime (a PyPI package, nothing downloaded)."""
    import rapidocr_onnxruntime
    return os.path.join(os.path.dirname(rapidocr_onnxruntime.__file__), "models",
                        "ch_PP-OCRv4_rec_infer.onnx")


def stock_graph(onnx_path=None):
    """The stock ONNX with its weights (stored as Constant nodes) turned into initializers, so
    onnx2torch makes them parameters, and a fixed input height so shapes can be inferred."""
    import onnx
    model = onnx.load(onnx_path or stock_onnx_path())
    nodes = []
    for node in model.graph.node:
        if node.op_type == "Constant" and len(node.attribute) == 1 and node.attribute[0].name == "value":
            tensor = node.attribute[0].t
            tensor.name = node.output[0]
            model.graph.initializer.append(tensor)
        else:
            nodes.append(node)
    del model.graph.node[:]
    model.graph.node.extend(nodes)
    model.graph.input[0].type.tensor_type.shape.dim[2].dim_value = HEIGHT
    return onnx.shape_inference.infer_shapes(model)


def part(model, inputs, outputs):
    """The sub-graph between named tensors (e.g. the backbone: x -> BACKBONE_OUT)."""
    from onnx.utils import Extractor
    return Extractor(model).extract_model(list(inputs), list(outputs))


def to_torch(model):
    """onnx2torch conversion; every BatchNorm input gets a rank (onnx2torch picks BatchNorm2d
    from it, and shape inference loses it after the neck's reshapes)."""
    import onnx
    import onnx2torch.converter as converter
    ranked = [v for v in model.graph.value_info if len(v.type.tensor_type.shape.dim)]
    del model.graph.value_info[:]
    model.graph.value_info.extend(ranked)
    known = {v.name for v in ranked} | {v.name for v in model.graph.input}
    for node in model.graph.node:
        if node.op_type == "BatchNormalization" and node.input[0] not in known:
            model.graph.value_info.append(onnx.helper.make_tensor_value_info(
                node.input[0], onnx.TensorProto.FLOAT, ["n", "c", "h", "w"]))
    # onnx2torch re-runs shape inference, which would drop the ranks given above.
    converter.safe_shape_inference = lambda m: m
    module = converter.convert(model)
    _buffers_to_parameters(module.initializers)
    return module


def _buffers_to_parameters(container):
    """onnx2torch keeps MatMul/Add weights (the SVTR neck's attention and MLPs) as buffers;
    make the float ones trainable so the fine-tune can adapt the neck too."""
    for name, buf in list(container.named_buffers(recurse=False)):
        if buf.is_floating_point() and buf.numel() > 1:
            delattr(container, name)
            container.register_parameter(name, nn.Parameter(buf.clone()))


class CodeReaderNet(nn.Module):
    """The trainable part: features at CUT (N x 240 x 12 x 2T) -> last backbone stage -> SVTR
    neck -> head -> N x T x C log-probabilities (training) or probabilities (export); class 0 =
    CTC blank. The frozen stages in front of it run once per training line (features cache)."""

    def __init__(self, stages, neck, features=120, charset=CHARSET):
        super().__init__()
        self.stages = stages
        self.neck = neck
        self.charset = charset
        self.head = nn.Linear(features, len(charset) + 1)
        self.export_probs = False

    def forward(self, feats):
        logits = self.head(self.neck(self.stages(feats)))
        return logits.softmax(-1) if self.export_probs else logits.log_softmax(-1)


class FullNet(nn.Module):
    """Image in (N x 3 x 48 x W, BGR in [-1, 1]) -> probabilities: backbone + CodeReaderNet."""

    def __init__(self, backbone, net):
        super().__init__()
        self.backbone, self.net = backbone, net

    def forward(self, x):
        return self.net(self.backbone(x))


def _stock_charset(model):
    meta = {p.key: p.value for p in model.metadata_props}
    return ["<blank>"] + meta["character"].splitlines() + [" "]


def build(charset=CHARSET, graph=None):
    """The trainable net with stock weights: last backbone stage and neck converted, head rows
    copied for our charset."""
    from onnx import numpy_helper
    graph = graph or stock_graph()
    stock_chars = _stock_charset(graph)
    net = CodeReaderNet(to_torch(part(graph, [CUT], [BACKBONE_OUT])),
                        to_torch(part(graph, [BACKBONE_OUT], [FEATURES])), charset=charset)
    weights = {t.name: t for t in graph.graph.initializer}
    w = torch.from_numpy(numpy_helper.to_array(weights[HEAD_W]).copy())  # 120 x 6625
    b = torch.from_numpy(numpy_helper.to_array(weights[HEAD_B]).copy())
    rows = [0] + [stock_chars.index(ch) for ch in charset]
    with torch.no_grad():
        net.head.weight.copy_(w[:, rows].t())
        net.head.bias.copy_(b[rows])
    return net


def backbone_onnx(graph=None):
    """The frozen first stages of the stock backbone (x -> CUT) as an ONNX model (for ONNX
    Runtime and for the export)."""
    return part(graph or stock_graph(), ["x"], [CUT])


def backbone_torch(graph=None):
    return to_torch(backbone_onnx(graph)).eval()
