"""Engine caches that cannot be reused on the wrong device.

A serialised TensorRT engine (or Paddle-TRT's optimisation cache, or ORT's TRT EP cache) is only
valid for the model bytes, TensorRT version, GPU, precision and input shapes it was built for.
Every cache lives in a folder named by a hash of all of those, and the folder keeps the fields
in key.json, so a mismatch is visible and never silently loaded.
"""
import functools
import hashlib
import json
import os

from ocr import user_cache

FIELDS = ("model_sha256", "tensorrt", "gpu", "precision", "shapes")


def root():
    """KIT_ACCEL_CACHE, else ~/.cache/nano-ocr-kit/accel."""
    return user_cache("KIT_ACCEL_CACHE", "accel")


def key_fields(model_sha256, tensorrt, gpu, precision, shapes, **extra):
    """The identity of a built engine. shapes: {input: [min, opt, max]} or any JSON value;
    extra: anything else that changes the build (workspace, builder flags, runtime name)."""
    if not model_sha256 or not precision:
        raise ValueError("a cache key needs the model sha256 and the precision")
    fields = {"model_sha256": model_sha256, "tensorrt": str(tensorrt or "none"),
              "gpu": str(gpu or "none"), "precision": precision, "shapes": shapes}
    fields.update(extra)
    return fields


def key(fields):
    blob = json.dumps(fields, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:24]


def folder(kind, fields, base=None):
    """The cache folder for these fields (created, with key.json); kind names the runtime."""
    path = os.path.join(base or root(), kind, key(fields))
    if not os.path.isdir(path):
        os.makedirs(path)
    stamp = os.path.join(path, "key.json")
    if os.path.isfile(stamp):
        problem = mismatch(path, fields)
        if problem:
            raise ValueError(f"engine cache {path} does not belong to this build: {problem}")
    else:
        with open(stamp, "w") as f:
            json.dump(fields, f, indent=1, sort_keys=True)
    return path


def mismatch(path, fields):
    """None if the folder's key.json holds exactly these fields, else the first difference."""
    try:
        with open(os.path.join(path, "key.json")) as f:
            stored = json.load(f)
    except (OSError, ValueError) as exc:
        return f"unreadable key.json ({exc})"
    for name in sorted(set(stored) | set(fields)):
        # Round-trip through JSON so tuples and lists compare equal.
        want = json.loads(json.dumps(fields.get(name)))
        if stored.get(name) != want:
            return f"{name}: cached {stored.get(name)!r}, wanted {want!r}"
    return None


def tensorrt_version():
    try:
        import tensorrt
    except ImportError:
        return None
    return tensorrt.__version__


@functools.lru_cache(maxsize=None)  # asked per runner and shape bucket; the GPU does not change
def gpu_name(device=0):
    """The GPU's name, from whichever source this interpreter has: torch (+ compute capability),
    nvidia-smi (x86), the device tree (a Jetson, whose GPU nvidia-smi does not list). None without."""
    return _torch_gpu(device) or _nvidia_smi(device) or jetson_model()


def _torch_gpu(device):
    try:
        import torch
    except ImportError:
        return None
    if not torch.cuda.is_available():
        return None
    major, minor = torch.cuda.get_device_capability(device)
    return f"{torch.cuda.get_device_name(device)} sm_{major}{minor}"


def _nvidia_smi(device):
    import subprocess
    try:
        out = subprocess.check_output(["nvidia-smi", "--query-gpu=name", "--format=csv,noheader",
                                       "-i", str(device)], stderr=subprocess.DEVNULL, universal_newlines=True)
    except (OSError, subprocess.CalledProcessError):
        return None
    return out.strip() or None


def jetson_model(path="/proc/device-tree/model"):
    try:
        with open(path, "rb") as f:
            model = f.read().decode("utf-8", "replace").strip("\x00 \n")
    except OSError:
        return None
    return model if "jetson" in model.lower() else None
