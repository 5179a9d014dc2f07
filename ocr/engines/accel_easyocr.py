"""EasyOCR on NVIDIA GPUs: torch CUDA (FP32/FP16, CUDA graphs) and TensorRT (the reference
study's hybrid: CRAFT through torch2trt, the recogniser through ONNX -> TensorRT).

Each engine is a stock one (easyocr_engine.py: `easyocr` readtext, `easyocr-rec` recogniser
alone) with its Reader's modules swapped for accelerated ones after loading, so resizing,
decoding and reading order stay EasyOCR's and the kit's own: the rows compare runtimes only.
"""
import os

from ..accel import cache, easyocr_rec
from .accel_engines import _installed, _Precision, _torch_cuda_reason, _trt_reason, _with
from .easyocr_engine import EasyOCRReadtext, EasyOCRRec


class _Wrapper:
    """Stands in for a torch module inside EasyOCR, which calls model.eval() before use."""

    def eval(self):
        return self


class _Half(_Wrapper):
    """Runs a module in FP16 behind FP32 inputs/outputs, so EasyOCR's code is unchanged."""

    def __init__(self, module):
        self.module = module.half()

    def __call__(self, *args):
        out = self.module(*[a.half() if hasattr(a, "half") and a.is_floating_point() else a for a in args])
        return tuple(o.float() for o in out) if isinstance(out, tuple) else out.float()


class _Graphed(_Wrapper):
    """The recogniser replayed from one captured CUDA graph per input shape: on small crops the
    kernel launches of VGG + 2 BiLSTMs cost more than their arithmetic."""

    def __init__(self, module):
        self.module, self.graphs = module, {}

    def __call__(self, image, text=None):
        import torch
        key = tuple(image.shape)
        if key not in self.graphs:
            static_in = image.clone()
            side = torch.cuda.Stream()
            side.wait_stream(torch.cuda.current_stream())
            with torch.cuda.stream(side):  # warm-up outside the graph (cuDNN picks algorithms)
                for _ in range(3):
                    self.module(static_in)
            torch.cuda.current_stream().wait_stream(side)
            graph = torch.cuda.CUDAGraph()
            with torch.cuda.graph(graph):
                static_out = self.module(static_in)
            self.graphs[key] = (graph, static_in, static_out)
        graph, static_in, static_out = self.graphs[key]
        static_in.copy_(image)
        graph.replay()
        return static_out.clone()


class _Torch2trtDetector(_Wrapper):
    """CRAFT through torch2trt. torch2trt (v0.4.0 on JetPack 4) builds static shapes, so each
    input is zero-padded up to a bucket (multiples of `step`) and one engine is kept per bucket,
    serialised into the keyed cache; the outputs (half resolution) are cut back."""

    def __init__(self, net, precision, model_sha256, step=128):
        self.net, self.precision, self.sha, self.step, self.engines = net, precision, model_sha256, step, {}

    def _engine(self, shape):
        import torch
        from torch2trt import TRTModule, torch2trt
        if shape not in self.engines:
            fields = cache.key_fields(self.sha, cache.tensorrt_version(), cache.gpu_name(), self.precision,
                                      list(shape), builder="torch2trt")
            path = os.path.join(cache.folder("torch2trt", fields), "craft.pth")
            module = TRTModule()
            if os.path.isfile(path):
                module.load_state_dict(torch.load(path))
            else:
                module = torch2trt(self.net, [torch.zeros(shape, device="cuda")],
                                   fp16_mode=self.precision == "fp16", max_workspace_size=1 << 28)
                torch.save(module.state_dict(), path)
            self.engines[shape] = module
        return self.engines[shape]

    def __call__(self, x):
        import torch.nn.functional as F
        n, c, h, w = x.shape
        bh, bw = -(-h // self.step) * self.step, -(-w // self.step) * self.step
        y, feature = self._engine((int(n), int(c), int(bh), int(bw)))(F.pad(x, (0, bw - w, 0, bh - h)))
        return y[:, :h // 2, :w // 2, :], feature[:, :, :h // 2, :w // 2]


class _TrtRecogniser(_Wrapper):
    """english_g2 exported to ONNX (the export `invoke accel.export` verifies), built by TensorRT
    for a dynamic batch x width profile, cached by model/TensorRT/GPU/precision/shapes; called as
    EasyOCR calls its model: model(image, text)."""

    def __init__(self, reader, precision, batch, max_width):
        from ..accel import export, trt
        onnx_path = export.export_easyocr_rec(os.path.join(cache.root(), "exports"), reader)
        profiles = {"image": ((1, 1, 64, 64), (batch, 1, 64, 256), (batch, 1, 64, max_width))}
        self.module = trt.TrtModule(trt.cached_engine(onnx_path, precision, profiles))

    def __call__(self, image, text=None):
        return self.module(image.float())


class _GPU(_Precision):
    needs = "EasyOCR + PyTorch with CUDA (Nano: the Python 3.6 venv with JetPack's torch)"
    device = "cuda"
    trt = False

    @classmethod
    def check_available(cls):
        reason = super().check_available() or _torch_cuda_reason()
        if reason is None and cls.trt:
            reason = _trt_reason() or (None if _installed("torch2trt") else
                                       "needs torch2trt (ansible role torch2trt, pinned tag)")
        return reason

    def _load(self):
        super()._load()
        self._accelerate(self.reader)


class _Cuda(_GPU):
    def _accelerate(self, reader):
        if self.precision == "fp16":
            if getattr(reader, "detector", None) is not None:
                reader.detector = _Half(easyocr_rec.unwrap(reader.detector))
            reader.recognizer = _Half(easyocr_rec.unwrap(reader.recognizer))
        if self.options.get("cuda_graphs"):
            module = reader.recognizer if self.precision == "fp16" else easyocr_rec.unwrap(reader.recognizer)
            reader.recognizer = _Graphed(module)


class _Trt(_GPU):
    trt = True
    needs = _GPU.needs + " + TensorRT + torch2trt"

    def _accelerate(self, reader):
        if getattr(reader, "detector", None) is not None:
            net = easyocr_rec.unwrap(reader.detector).float().eval()
            reader.detector = _Torch2trtDetector(net, self.precision, self.models["craft_mlt_25k"]["sha256"])
        reader.recognizer = _TrtRecogniser(reader, self.precision, max(1, int(self.options["batch"])),
                                           int(self.options["max_width"]))


class EasyOCRCuda(_Cuda, EasyOCRReadtext):
    name = "easyocr-cuda"
    default_options = _with(EasyOCRReadtext.default_options, gpu=True, precision="fp32", cuda_graphs=False)


class EasyOCRRecCuda(_Cuda, EasyOCRRec):
    name = "easyocr-rec-cuda"
    default_options = _with(EasyOCRRec.default_options, gpu=True, precision="fp32", cuda_graphs=False)


class EasyOCRTrt(_Trt, EasyOCRReadtext):
    name = "easyocr-trt"
    default_options = _with(EasyOCRReadtext.default_options, gpu=True, precision="fp16", max_width=2048)


class EasyOCRRecTrt(_Trt, EasyOCRRec):
    name = "easyocr-rec-trt"
    default_options = _with(EasyOCRRec.default_options, gpu=True, precision="fp16", max_width=2048)
