"""Fold the exported graph's elementwise chains into fewer operators: same maths, less CPU time.

PPLCNetV3 (the reader's backbone) wraps every convolution in a learnable affine block
(conv -> *a -> +b) and writes hardswish out as four operators (x * clip(x + 3, 0, 6) / 6), each
followed by another affine block. ONNX Runtime fuses none of that into the convolutions: on 2 x86
cores the elementwise operators and the layout reorders around them took ~40 % of a line's time
(onnxruntime profile of the v2 model). Here:
- conv -> Mul(a) -> Add(b) becomes one conv with weights a*W and bias a*B + b;
- x * clip(x + 3, 0, 6) / 6 becomes x * HardSigmoid(x, 1/6, 1/2) (opset 6: TensorRT 8.2 parses
  it, and ONNX Runtime fuses a conv's HardSigmoid into the conv).
Only chains whose intermediate results nobody else reads are touched, and only when a and b are
scalars or per-channel constants; everything else is left as it is.
"""
import numpy as np


class _Graph(object):
    """Constant lookup and consumer counts over an onnx GraphProto."""

    def __init__(self, graph):
        from onnx import numpy_helper
        self.graph = graph
        self.inits = {t.name: t for t in graph.initializer}
        self.added = []
        self.values = {}
        for node in graph.node:
            if node.op_type == "Constant" and node.attribute and node.attribute[0].name == "value":
                self.values[node.output[0]] = numpy_helper.to_array(node.attribute[0].t)
        self.producer = {o: n for n in graph.node for o in n.output}
        self.readers = {}
        for node in graph.node:
            for name in node.input:
                self.readers.setdefault(name, []).append(node)
        for out in graph.output:
            self.readers.setdefault(out.name, []).append(None)

    def add_const(self, name, value):
        """A new initializer (visible to later lookups) under a fresh name; returns the name."""
        from onnx import numpy_helper
        base, k = name, 1
        while name in self.inits or name in self.values or name in self.producer:
            name, k = "{}_{}".format(base, k), k + 1
        self.inits[name] = numpy_helper.from_array(np.asarray(value, dtype=np.float32), name)
        self.added.append(self.inits[name])
        return name

    def const(self, name):
        """The value of a constant input (initializer, Constant, or Identity of one), else None."""
        from onnx import numpy_helper
        seen = 0
        while name not in self.inits and name not in self.values and seen < 8:
            node = self.producer.get(name)
            if node is None or node.op_type != "Identity":
                return None
            name, seen = node.input[0], seen + 1
        if name in self.inits:
            return numpy_helper.to_array(self.inits[name])
        return self.values.get(name)

    def only_reader(self, name, op_type):
        readers = self.readers.get(name, [])
        if len(readers) == 1 and readers[0] is not None and readers[0].op_type == op_type:
            return readers[0]
        return None

    def other_input(self, node, name):
        rest = [i for i in node.input if i != name]
        return rest[0] if len(rest) == 1 else None


def _channel_vector(value, channels):
    """A constant that multiplies or adds per channel of an N x C x H x W tensor (a scalar, or
    shaped (1, C, 1, 1) / (C, 1, 1) once broadcast) as a length-C vector, else None."""
    if value is None:
        return None
    v = np.asarray(value, dtype=np.float32)
    if v.size == 1:
        return np.full(channels, float(v.reshape(-1)[0]), dtype=np.float32)
    shape = (1,) * (4 - v.ndim) + v.shape if v.ndim <= 4 else None
    return v.reshape(-1) if shape in ((1, channels, 1, 1),) else None


def _affine(g, x, mul, add, channels):
    """(a, b) of Mul(x, a) -> Add(., b) with per-channel constants, else None."""
    a = _channel_vector(g.const(g.other_input(mul, x) or ""), channels)
    b = _channel_vector(g.const(g.other_input(add, mul.output[0]) or ""), channels)
    return None if a is None or b is None else (a, b)


def _bias(g, conv, channels):
    if len(conv.input) > 2 and conv.input[2]:
        return g.const(conv.input[2])
    return np.zeros(channels, np.float32)


def _fold_conv_affine(g, drop):
    """conv -> Mul(a) -> Add(b)  =>  conv(a*W, a*B + b): returns how many were folded."""
    folded = 0
    for conv in g.graph.node:
        weight = g.const(conv.input[1]) if conv.op_type == "Conv" else None
        mul = weight is not None and g.only_reader(conv.output[0], "Mul")
        add = mul and g.only_reader(mul.output[0], "Add")
        ab = add and _affine(g, conv.output[0], mul, add, weight.shape[0])
        bias = ab and _bias(g, conv, weight.shape[0])
        if bias is None or bias is False:
            continue
        a, b = ab
        scale = a.reshape((-1,) + (1,) * (weight.ndim - 1))
        conv.input[:] = [conv.input[0], g.add_const(conv.input[1] + "/folded", weight * scale),
                         g.add_const(conv.input[1] + "/folded_bias", bias * a + b)]
        conv.output[0] = add.output[0]
        drop.update((id(mul), id(add)))
        folded += 1
    return folded


def _pointwise(conv, weight):
    """A 1x1 convolution with one group and no padding."""
    attrs = {a.name: a for a in conv.attribute}
    group = attrs["group"].i if "group" in attrs else 1
    pads = list(attrs["pads"].ints) if "pads" in attrs else []
    return weight.shape[2:] == (1, 1) and group == 1 and not any(pads) and "auto_pad" not in attrs


def _fold_affine_into_pointwise(g, drop):
    """Mul(a) -> Add(b) -> 1x1 conv  =>  conv(W*a, B + W.b): exact, as no padded border sees the
    shifted values (a padded conv would). Returns how many were folded."""
    folded = 0
    for conv in g.graph.node:
        weight = g.const(conv.input[1]) if conv.op_type == "Conv" else None
        add = weight is not None and _pointwise(conv, weight) and g.producer.get(conv.input[0])
        if not add or add.op_type != "Add" or id(add) in drop or g.only_reader(add.output[0], "Conv") is not conv:
            continue
        mul = next((g.producer[i] for i in add.input if i in g.producer and g.producer[i].op_type == "Mul"), None)
        if mul is None or id(mul) in drop or g.only_reader(mul.output[0], "Add") is not add:
            continue
        x = next((i for i in mul.input if g.const(i) is None), None)
        ab = x and _affine(g, x, mul, add, weight.shape[1])
        bias = ab and _bias(g, conv, weight.shape[0])
        if bias is None or bias is False:
            continue
        a, b = ab
        conv.input[:] = [x, g.add_const(conv.input[1] + "/prefolded", weight * a.reshape(1, -1, 1, 1)),
                         g.add_const(conv.input[1] + "/prefolded_bias", bias + weight[:, :, 0, 0].dot(b))]
        drop.update((id(mul), id(add)))
        folded += 1
    return folded


def _is_const(g, name, value):
    v = g.const(name)
    return v is not None and v.size == 1 and abs(float(v.reshape(-1)[0]) - value) < 1e-6


def _fold_hardswish(g, drop):
    """Add(x, 3) -> Clip(0, 6) -> Mul(x, .) -> Div(6)  =>  Mul(x, HardSigmoid(x))."""
    from onnx import helper
    folded = 0
    for add in g.graph.node:
        three = [i for i in add.input if _is_const(g, i, 3.0)] if add.op_type == "Add" else []
        if id(add) in drop or len(three) != 1 or len(add.input) != 2:
            continue
        x = g.other_input(add, three[0])
        clip = g.only_reader(add.output[0], "Clip")
        bounds = list(clip.input[1:]) if clip else []
        if len(bounds) != 2 or not (_is_const(g, bounds[0], 0.0) and _is_const(g, bounds[1], 6.0)):
            continue
        mul = g.only_reader(clip.output[0], "Mul")
        div = mul and x in mul.input and g.only_reader(mul.output[0], "Div")
        if not div or div.input[0] != mul.output[0] or not _is_const(g, div.input[1], 6.0):
            continue
        gate = add.output[0] + "/hardsigmoid"
        add.CopyFrom(helper.make_node("HardSigmoid", [x], [gate], name=gate, alpha=1.0 / 6, beta=0.5))
        mul.CopyFrom(helper.make_node("Mul", [x, gate], list(div.output), name=mul.name))
        drop.update((id(clip), id(div)))
        folded += 1
    return folded


def fold(model):
    """Fold `model` (an onnx ModelProto) in place; returns how many chains of each kind folded."""
    g = _Graph(model.graph)
    drop = set()
    counts = {"conv_affine": _fold_conv_affine(g, drop)}
    counts["hardswish"] = _fold_hardswish(g, drop)
    counts["affine_pointwise"] = _fold_affine_into_pointwise(g, drop)
    kept = [n for n in model.graph.node if id(n) not in drop]
    del model.graph.node[:]
    model.graph.node.extend(kept)
    model.graph.initializer.extend(g.added)
    prune(model)
    return counts


def prune(model):
    """Drop the nodes no graph output depends on, then the initializers nothing reads."""
    needed = {o.name for o in model.graph.output}
    kept = []
    for node in reversed(list(model.graph.node)):
        if any(o in needed for o in node.output):
            kept.append(node)
            needed.update(node.input)
    del model.graph.node[:]
    model.graph.node.extend(reversed(kept))
    inits = [t for t in model.graph.initializer if t.name in needed]
    del model.graph.initializer[:]
    model.graph.initializer.extend(inits)
    return model
