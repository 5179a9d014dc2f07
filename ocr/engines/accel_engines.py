"""Accelerated engines: TensorRT (Jetson and x86), CUDA (torch, ONNX Runtime) and reduced
precision, each the same model and pre/post-processing as a stock engine with another runtime.

- `ppocr-onnx-rec-fp16`: PP-OCRv4 rec converted to FP16, ONNX Runtime on the CPU: runs anywhere,
  so the precision guard is exercised on real FP16 outputs in CI.
- `ppocr-onnx-cuda`, `ppocr-onnx-rec-cuda`, `ppocr-onnx-trt`, `ppocr-onnx-rec-trt`: ONNX Runtime's
  CUDA / TensorRT execution providers (TRT engines cached by cache.py's key).
- `paddleocr-trt`, `paddleocr-rec-trt`: Paddle Inference with TensorRT subgraphs: the engines are
  serialised (`use_static`) into a keyed cache folder and the dynamic shape ranges are collected
  once from calibration crops, then reused on every start.
EasyOCR's CUDA and TensorRT engines are in accel_easyocr.py.
Every engine with precision below FP32 passes the guard (ocr/accel/guard.py) before use.
"""
import importlib
import os

from ..accel import cache, guard, trt
from .base import require, sha256_file
from .ppocr import OnnxDetRec, OnnxRec, OnnxRunner, PaddleDetRec, PaddleRec, PaddleRunner

TRT_EP, CUDA_EP = "TensorrtExecutionProvider", "CUDAExecutionProvider"


def _installed(module):
    """True if a module can be imported, without importing it (no CUDA initialisation)."""
    import importlib.util
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def _torch_cuda_reason():
    if not _installed("torch"):
        return "needs PyTorch with CUDA (JetPack's torch wheel on a Nano)"
    import torch
    if not torch.cuda.is_available():
        return f"no CUDA device (torch {torch.__version__} sees none)"
    return None


def _trt_reason():
    if not _installed("tensorrt"):
        return trt.NEEDS
    return None


class _Precision(guard.GuardedPrecision):
    """Adds `precision` (checked against `precisions`) and the guard's options."""

    precisions = ("fp32", "fp16")

    def __init__(self, **options):
        super().__init__(**options)
        self._init_precision(self.precisions)


def _with(base, **extra):
    opts = dict(base)
    opts.update(guard.OPTIONS)
    opts.update(extra)
    return opts


# --- PP-OCRv4 through ONNX Runtime ------------------------------------------------------------------
class _OrtAccel(_Precision):
    provider = None  # None: CPU
    max_width = 960

    @classmethod
    def check_available(cls):
        reason = super().check_available()
        if reason or not cls.provider:
            return reason
        import onnxruntime
        if cls.provider not in onnxruntime.get_available_providers():
            return "onnxruntime {} has no {} (installed: {})".format(
                onnxruntime.__version__, cls.provider, ", ".join(onnxruntime.get_available_providers()))
        return None

    def _runner(self, kind):
        path = self._onnx_file(kind)
        name = os.path.basename(path)
        if self.precision == "fp16" and self.provider != TRT_EP:  # TensorRT makes its own FP16
            from ..accel import export
            digest = self.models[kind]["sha256"]
            fp16_name = f"{name[:-5]}.{digest[:12]}.fp16.onnx"
            path = export.to_fp16(path, os.path.join(cache.root(), "onnx-fp16", fp16_name))
            self.models[kind + ".fp16"] = {"path": path, "sha256": sha256_file(path)}
        return OnnxRunner(path, self.options["threads"], providers=self._providers(kind, path))

    def _providers(self, kind, path):
        if self.provider == CUDA_EP:
            return [(CUDA_EP, {"device_id": 0}), "CPUExecutionProvider"]
        if self.provider != TRT_EP:
            return ["CPUExecutionProvider"]
        shapes = self._profile(kind)
        # The EP loads the system's TensorRT: both versions decide whether a cached engine loads.
        runtime = "{}+ort-{}".format(cache.tensorrt_version(), importlib.import_module("onnxruntime").__version__)
        fields = cache.key_fields(sha256_file(path), runtime, cache.gpu_name(), self.precision, shapes)
        trt_options = {"device_id": 0, "trt_fp16_enable": self.precision == "fp16",
                       "trt_engine_cache_enable": True, "trt_timing_cache_enable": True,
                       "trt_engine_cache_path": cache.folder("ort-trt", fields),
                       "trt_profile_min_shapes": "x:" + shapes[0], "trt_profile_opt_shapes": "x:" + shapes[1],
                       "trt_profile_max_shapes": "x:" + shapes[2]}
        return [(TRT_EP, trt_options), (CUDA_EP, {"device_id": 0}), "CPUExecutionProvider"]

    def _profile(self, kind):
        """min/opt/max input shapes for the TRT EP ("NxCxHxW")."""
        if kind == "det":
            side = int(self.options.get("det_limit_side_len", 960))
            return ["1x3x32x32", "1x3x{0}x{0}".format(side // 2), f"1x3x{side}x{side}"]
        b, h = int(self.options["batch"]), int(self.options["rec_height"])
        return [f"1x3x{h}x16", f"{b}x3x{h}x320",
                "{}x3x{}x{}".format(b, h, int(self.options["max_width"]))]


_REC_OPTIONS = _with(OnnxRec.default_options, precision="fp32")
_DETREC_OPTIONS = _with(OnnxDetRec.default_options, precision="fp32")
_CUDA_NEEDS = "onnxruntime-gpu (CUDA EP)"
_TRT_NEEDS = "onnxruntime-gpu built with TensorRT (TensorRT EP)"


class OnnxRecFp16(_OrtAccel, OnnxRec):
    name, device, precision = "ppocr-onnx-rec-fp16", "cpu", "fp16"
    default_options = dict(_REC_OPTIONS, precision="fp16")


class OnnxRecCuda(_OrtAccel, OnnxRec):
    name, device, provider, needs, default_options = "ppocr-onnx-rec-cuda", "cuda", CUDA_EP, _CUDA_NEEDS, _REC_OPTIONS


class OnnxDetRecCuda(_OrtAccel, OnnxDetRec):
    name, device, provider, needs, default_options = "ppocr-onnx-cuda", "cuda", CUDA_EP, _CUDA_NEEDS, _DETREC_OPTIONS


class OnnxRecTrt(_OrtAccel, OnnxRec):
    name, device, provider, needs, default_options = "ppocr-onnx-rec-trt", "cuda", TRT_EP, _TRT_NEEDS, _REC_OPTIONS


class OnnxDetRecTrt(_OrtAccel, OnnxDetRec):
    name, device, provider, needs, default_options = "ppocr-onnx-trt", "cuda", TRT_EP, _TRT_NEEDS, _DETREC_OPTIONS


# --- PP-OCRv4 through Paddle Inference + TensorRT ------------------------------------------------------
class PaddleTrtRunner(PaddleRunner):
    """A Paddle predictor with TensorRT subgraphs; `collect_shapes` instead runs plain GPU Paddle
    and records every tensor's min/max/opt shape into shape_file (done once per cache folder)."""

    def __init__(self, model_file, params_file, precision, cache_dir, shape_file, collect_shapes=False):
        inference = require("paddle.inference", "Paddle Inference built with TensorRT (the Jetson wheel)")
        config = inference.Config(model_file, params_file)
        config.enable_use_gpu(500, 0)
        config.switch_ir_optim(True)
        config.enable_memory_optim()
        config.disable_glog_info()
        config.set_optim_cache_dir(cache_dir)  # serialised TRT engines (use_static) live here
        if collect_shapes:
            config.collect_shape_range_info(shape_file)
        else:
            modes = {"fp32": inference.PrecisionType.Float32, "fp16": inference.PrecisionType.Half,
                     "int8": inference.PrecisionType.Int8}
            config.enable_tensorrt_engine(workspace_size=1 << 30, max_batch_size=1, min_subgraph_size=3,
                                          precision_mode=modes[precision], use_static=True,
                                          use_calib_mode=precision == "int8")
            config.enable_tuned_tensorrt_dynamic_shape(shape_file, True)
        self.predictor = inference.create_predictor(config)
        self.input = self.predictor.get_input_handle(self.predictor.get_input_names()[0])
        self.output = self.predictor.get_output_handle(self.predictor.get_output_names()[0])


class _PaddleTrt(_Precision):
    precisions = ("fp32", "fp16", "int8")
    device = "cuda"
    needs = "Paddle Inference with TensorRT (the Jetson wheel, Python 3.7 venv)"

    @classmethod
    def check_available(cls):
        reason = super().check_available()
        if reason:
            return reason
        import paddle
        if not paddle.device.is_compiled_with_cuda():
            return f"paddle {paddle.__version__} is a CPU build (needs the CUDA + TensorRT wheel)"
        if not getattr(paddle.inference, "get_trt_compile_version", lambda: (0, 0, 0))()[0]:
            return f"paddle {paddle.__version__} was built without TensorRT"
        return None

    def _load(self):
        # First start: plain GPU Paddle records the shape ranges (runners built in _runner with
        # collect_shapes), then the TensorRT runners are built from them; later starts find the
        # ranges and the serialised engines in the keyed folder and skip both steps.
        self._collecting, self._collected = True, []
        try:
            super()._load()
            if self._collected:
                self._calibration_pass()
        finally:
            self._collecting = False
        if self._collected:
            super()._load()
        if self.precision == "int8" and not self._has_int8_table():
            self._calibration_pass()  # Paddle calibrates in this pass, writes the table on release
            super()._load()

    def _calibration_pass(self):
        from ..accel import calib
        self.predict([c for c, _ in calib.default_samples(int(self.options["calib_n"]))[0]])

    def _has_int8_table(self):
        for folder, _ in self._folders.values():
            names = [n for _, _, files in os.walk(folder) for n in files]
            if not any(n.startswith("trt_calib") for n in names):
                return False
        return True

    def _runner(self, kind):
        files = self._paddle_files(kind)
        inference = importlib.import_module("paddle.inference")
        trt_version = ".".join(str(v) for v in inference.get_trt_compile_version())
        fields = cache.key_fields(self.models[kind + ".pdiparams"]["sha256"], trt_version, cache.gpu_name(),
                                  self.precision, "collected", model=self.models[kind + ".pdmodel"]["sha256"])
        folder = cache.folder("paddle-trt", fields)
        shape_file = os.path.join(folder, "shape_range_info.pbtxt")
        self._folders = getattr(self, "_folders", {})
        self._folders[kind] = (folder, shape_file)
        collect = self._collecting and not os.path.isfile(shape_file)
        if collect:
            self._collected.append(kind)
        return PaddleTrtRunner(files[0], files[1], self.precision, folder, shape_file, collect_shapes=collect)


class PaddleRecTrt(_PaddleTrt, PaddleRec):
    name = "paddleocr-rec-trt"
    default_options = _with(PaddleRec.default_options, precision="fp32")


class PaddleDetRecTrt(_PaddleTrt, PaddleDetRec):
    name = "paddleocr-trt"
    default_options = _with(PaddleDetRec.default_options, precision="fp32")
