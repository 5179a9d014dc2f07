"""codereader-trt: the kit's code reader with its network on TensorRT (a Jetson's GPU).

Everything but the network is CodeReader's own code, inherited: line splitting, batching and
padding, format-aware decoding, confidence, the shipped rejection threshold (bound to the same
ONNX file's sha256). Only `_runner` differs: the verified `ocr/data/codereader/codereader.onnx`
is built by `ocr/accel/trt.py` (TensorRT 8.2 on JetPack 4.6: builder config, one optimisation
profile, FP16 flag, `build_serialized_network`) into the engine cache keyed by model sha256,
TensorRT version, GPU, precision and shapes (`ocr/accel/cache.py`); the first start builds,
later starts load. FP16 (the default) loads only after the precision guard compared its reads
with the FP32 engine's (`ocr/accel/guard.py`).

Not run on a GPU yet: no TensorRT was available to this work.
"""
import os

from ..accel import onnx_proto, trt
from .accel_engines import _Precision, _torch_cuda_reason, _trt_reason, _with
from .base import EngineUnavailable
from .codereader import MODEL_NAME, CodeReader, model_dir
from .ppocr import MIN_WIDTH, _package_version, padded_width

# The profile's optimum (TensorRT tunes its kernels for it; other shapes in range still run):
# reading the 300 default crops one at a time (`invoke bench`'s latency pass), 239 of the 300
# network calls were one line, and the median padded width was 320 (measured with the ONNX
# codereader at commit 1df74ff, threads=1, a spy on its runner).
OPT_BATCH, OPT_WIDTH = 1, 320
CHANNELS = 3  # rec_batch feeds BGR


def profiles(input_name, height, batch, max_width):
    """TensorRT min/opt/max shapes covering every batch CodeReader.line_probs feeds: 1 to `batch`
    lines, the model's height, widths as ppocr.rec_batch pads them (a line at least MIN_WIDTH and
    at most max_width wide, the batch rounded up to WIDTH_MULTIPLE)."""
    batch, max_width = max(1, int(batch)), int(max_width)
    if max_width < 1:
        raise ValueError("max_width must be at least 1, got {}".format(max_width))
    lo, hi = padded_width(min(MIN_WIDTH, max_width)), padded_width(max_width)
    opt = (min(OPT_BATCH, batch), CHANNELS, height, min(max(OPT_WIDTH, lo), hi))
    return {input_name: ((1, CHANNELS, height, lo), opt, (batch, CHANNELS, height, hi))}


class CodeReaderTrt(_Precision, CodeReader):
    name = "codereader-trt"
    device = "cuda"
    needs = "TensorRT + PyTorch with CUDA (Nano: JetPack's python3-libnvinfer, NVIDIA's torch wheel)"
    default_options = _with(CodeReader.default_options, precision="fp16")
    profile = None

    @classmethod
    def check_available(cls):
        path = os.path.join(model_dir(), MODEL_NAME)
        if not os.path.isfile(path):
            return "model missing: {}".format(path)
        return "; ".join(r for r in (_torch_cuda_reason(), _trt_reason()) if r) or None

    def version(self):
        return "tensorrt " + _package_version("tensorrt")

    def _runner(self, path):
        meta = onnx_proto.metadata(path)
        if "height" not in meta:
            raise EngineUnavailable("{}: {} carries no height metadata (TensorRT's profile needs "
                                    "it)".format(self.name, path))
        self.profile = profiles(onnx_proto.input_names(path)[0], int(meta["height"]), self.options["batch"],
                                self.options["max_width"])
        return trt.ArrayRunner(path, self.precision, self.profile)

    def describe(self):
        d = super().describe()
        if self.profile is not None:
            d["shapes"] = self.profile
        return d
