"""TensorRT: build an engine from ONNX with dynamic-shape profiles, serialise it into a cache
folder keyed by model/TensorRT/GPU/precision/shapes (cache.py), and run it on torch CUDA tensors.

Written for TensorRT 8.2 (JetPack 4.6, the Nano) and 8.5+/10 (x86 GPUs): the binding API
(`execute_async_v2`) where it exists, else the named-tensor API (`execute_async_v3`).
Runs only where TensorRT and CUDA are present; everything here imports tensorrt lazily.
"""
import os

from ..errors import EngineUnavailable
from ..models import sha256_file
from . import cache, onnx_proto

WORKSPACE = 1 << 30  # 1 GiB: the Nano has 4 GiB shared with the CPU
NEEDS = "needs TensorRT's Python bindings (JetPack: python3-libnvinfer; x86: pip install tensorrt)"


def require_trt():
    try:
        import tensorrt
    except ImportError:
        raise EngineUnavailable(NEEDS) from None
    return tensorrt


def engine_fields(model_path, precision, profiles, **extra):
    """cache.key_fields for an engine built from this model file."""
    return cache.key_fields(sha256_file(model_path), cache.tensorrt_version(), cache.gpu_name(),
                            precision, profiles, **extra)


def build_from_onnx(onnx_path, precision, profiles, workspace=WORKSPACE, calibrator=None):
    """Serialised engine bytes. profiles: {input name: (min, opt, max) shapes}."""
    trt = require_trt()
    logger = trt.Logger(trt.Logger.WARNING)
    builder = trt.Builder(logger)
    network = builder.create_network(1 << int(trt.NetworkDefinitionCreationFlag.EXPLICIT_BATCH))
    parser = trt.OnnxParser(network, logger)
    with open(onnx_path, "rb") as f:
        if not parser.parse(f.read()):
            errors = "; ".join(str(parser.get_error(i)) for i in range(parser.num_errors))
            raise RuntimeError(f"TensorRT cannot parse {onnx_path}: {errors}")
    config = builder.create_builder_config()
    if hasattr(config, "set_memory_pool_limit"):  # TensorRT >= 8.4
        config.set_memory_pool_limit(trt.MemoryPoolType.WORKSPACE, workspace)
    else:
        config.max_workspace_size = workspace
    if precision == "fp16":
        config.set_flag(trt.BuilderFlag.FP16)
    elif precision == "int8":
        if calibrator is None:
            raise ValueError("int8 needs a calibrator")
        config.set_flag(trt.BuilderFlag.INT8)
        config.int8_calibrator = calibrator
    profile = builder.create_optimization_profile()
    for name, (lo, opt, hi) in sorted(profiles.items()):
        profile.set_shape(name, tuple(lo), tuple(opt), tuple(hi))
    config.add_optimization_profile(profile)
    if hasattr(builder, "build_serialized_network"):
        data = builder.build_serialized_network(network, config)
    else:  # TensorRT < 8
        data = builder.build_engine(network, config).serialize()
    if data is None:
        raise RuntimeError(f"TensorRT failed to build {onnx_path} ({precision})")
    return bytes(data)


def cached_engine(onnx_path, precision, profiles, kind="trt"):
    """Path of the serialised engine for these exact fields, built on first use."""
    folder = cache.folder(kind, engine_fields(onnx_path, precision, profiles))
    path = os.path.join(folder, "model.engine")
    if not os.path.isfile(path):
        data = build_from_onnx(onnx_path, precision, profiles)
        with open(path + ".tmp", "wb") as f:
            f.write(data)
        os.rename(path + ".tmp", path)
    return path


class TrtModule:
    """Calls a serialised engine with CUDA torch tensors (one input, one output)."""

    def __init__(self, engine_path):
        import torch
        trt = require_trt()
        self.torch = torch
        self.runtime = trt.Runtime(trt.Logger(trt.Logger.WARNING))
        with open(engine_path, "rb") as f:
            self.engine = self.runtime.deserialize_cuda_engine(f.read())
        self.context = self.engine.create_execution_context()
        self.legacy = hasattr(self.engine, "get_binding_index")  # TensorRT < 10
        if self.legacy:
            names = [self.engine.get_binding_name(i) for i in range(self.engine.num_bindings)]
            self.input = next(n for i, n in enumerate(names) if self.engine.binding_is_input(i))
            self.output = next(n for i, n in enumerate(names) if not self.engine.binding_is_input(i))
        else:
            names = [self.engine.get_tensor_name(i) for i in range(self.engine.num_io_tensors)]
            is_input = [self.engine.get_tensor_mode(n) == trt.TensorIOMode.INPUT for n in names]
            self.input = names[is_input.index(True)]
            self.output = names[is_input.index(False)]

    def __call__(self, x):
        torch = self.torch
        x = x.contiguous()
        stream = torch.cuda.current_stream().cuda_stream
        if self.legacy:
            i_in = self.engine.get_binding_index(self.input)
            i_out = self.engine.get_binding_index(self.output)
            self.context.set_binding_shape(i_in, tuple(x.shape))
            shape = tuple(self.context.get_binding_shape(i_out))
            out = torch.empty(shape, dtype=torch.float32, device=x.device)
            bindings = [0] * self.engine.num_bindings
            bindings[i_in], bindings[i_out] = x.data_ptr(), out.data_ptr()
            self.context.execute_async_v2(bindings, stream)
        else:
            self.context.set_input_shape(self.input, tuple(x.shape))
            out = torch.empty(tuple(self.context.get_tensor_shape(self.output)), dtype=torch.float32,
                              device=x.device)
            self.context.set_tensor_address(self.input, x.data_ptr())
            self.context.set_tensor_address(self.output, out.data_ptr())
            self.context.execute_async_v3(stream)
        return out

    def numpy(self, x):
        """A float32 numpy batch in, the output as numpy (copied back: the GPU work is done)."""
        return self(self.torch.from_numpy(x).cuda()).cpu().numpy()


class ArrayRunner:
    """A cached engine called as ppocr.OnnxRunner is (numpy in, numpy out; `meta`: the ONNX
    file's metadata), so an engine's reading code runs unchanged with TensorRT underneath."""

    def __init__(self, onnx_path, precision, profiles):
        self.meta = onnx_proto.metadata(onnx_path)
        self.module = TrtModule(cached_engine(onnx_path, precision, profiles))

    def __call__(self, x):
        return self.module.numpy(x)
