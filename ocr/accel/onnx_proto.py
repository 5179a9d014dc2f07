"""The few facts a TensorRT build needs from an ONNX file (its metadata, its input names), read
from the protobuf wire format directly: TensorRT's own parser exposes neither, and a Nano's venv
or the easyocr image may have neither the `onnx` package nor ONNX Runtime.

Field numbers (onnx/onnx.proto): ModelProto graph = 7, metadata_props = 14 (key = 1, value = 2);
GraphProto initializer = 5, input = 11; ValueInfoProto name = 1; TensorProto name = 8.
"""
_MODEL_GRAPH, _MODEL_METADATA = 7, 14
_GRAPH_INITIALIZER, _GRAPH_INPUT = 5, 11
_INPUT_NAME, _TENSOR_NAME, _KEY, _VALUE = 1, 8, 1, 2
_LEN = 2  # wire type of strings and messages


def _varint(buf, i):
    value, shift = 0, 0
    while True:
        byte = buf[i]
        i += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, i
        shift += 7


def _fields(buf, start=0, end=None):
    """(field number, wire type, value) of one message; a length-delimited value is its (start,
    end) span in buf, so a 7 MB graph is skipped, never copied."""
    i, end = start, len(buf) if end is None else end
    while i < end:
        tag, i = _varint(buf, i)
        number, wire = tag >> 3, tag & 7
        if wire == 0:
            value, i = _varint(buf, i)
        elif wire == 1:
            value, i = None, i + 8
        elif wire == 5:
            value, i = None, i + 4
        elif wire == _LEN:
            size, i = _varint(buf, i)
            value, i = (i, i + size), i + size
        else:
            raise ValueError("wire type {} at byte {}".format(wire, i))
        if i > end:
            raise ValueError("field {} runs past its message".format(number))
        yield number, wire, value


def _strings(buf, span, wanted):
    """{field number: text} of the string fields `wanted` in the message at span."""
    return {n: bytes(buf[v[0]:v[1]]).decode("utf-8") for n, w, v in _fields(buf, *span)
            if w == _LEN and n in wanted}


def _parse(path, read):
    """read(buf) on the file's bytes; any malformed field becomes one clear line."""
    with open(path, "rb") as f:
        buf = f.read()
    try:
        return read(buf)
    except (IndexError, ValueError) as exc:  # a truncated varint, a bad wire type, bad UTF-8
        raise ValueError("{} is not an ONNX model ({})".format(path, exc)) from None


def _top(buf, number):
    return [v for n, w, v in _fields(buf) if n == number and w == _LEN]


def metadata(path):
    """The model's metadata_props as a dict (what ONNX Runtime calls custom_metadata_map)."""
    def read(buf):
        entries = (_strings(buf, span, (_KEY, _VALUE)) for span in _top(buf, _MODEL_METADATA))
        return {e.get(_KEY, ""): e.get(_VALUE, "") for e in entries}
    return _parse(path, read)


def input_names(path):
    """Names of the graph's real inputs, in order (initializers listed as inputs, as old IR
    versions allowed, are left out)."""
    def read(buf):
        graphs = _top(buf, _MODEL_GRAPH)
        if not graphs:
            raise ValueError("no graph")
        names, initialisers = [], set()
        for number, wire, span in _fields(buf, *graphs[0]):
            if wire != _LEN:
                continue
            if number == _GRAPH_INPUT:
                names.append(_strings(buf, span, (_INPUT_NAME,)).get(_INPUT_NAME, ""))
            elif number == _GRAPH_INITIALIZER:
                initialisers.add(_strings(buf, span, (_TENSOR_NAME,)).get(_TENSOR_NAME, ""))
        return [n for n in names if n not in initialisers]
    return _parse(path, read)
