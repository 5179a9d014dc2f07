"""Group `stack`: torch and OpenCV see CUDA, TensorRT and torch2trt at their pins, EasyOCR imports
with the bidi fix, Paddle compiled with CUDA and TensorRT (probed in the Paddle venv's interpreter)."""
import importlib
import json
import subprocess
import sys

from .common import FAIL, PASS, outcome, try_import


def check_torch_cuda(ctx):
    res = outcome("stack", "torch_cuda")
    torch, err = try_import("torch")
    if torch is None:
        return ctx.missing(res, "torch does not import: " + err,
                           "install NVIDIA's torch wheel (ansible role python_envs)")
    where = "torch {} on Python {}.{}".format(torch.__version__, *sys.version_info[:2])
    if torch.cuda.is_available():
        return res(PASS, "{}: CUDA on {}".format(where, torch.cuda.get_device_name(0)))
    return ctx.missing(res, where + ": torch.cuda.is_available() is False",
                       "install NVIDIA's CUDA torch wheel for JetPack 4.6 (PyPI's aarch64 torch is CPU-only)")


def check_cv2_cuda(ctx):
    res = outcome("stack", "cv2_cuda")
    cv2, err = try_import("cv2")
    if cv2 is None:
        return ctx.missing(res, "cv2 does not import: " + err, "ansible role opencv_cuda")
    count = cv2.cuda.getCudaEnabledDeviceCount() if hasattr(cv2, "cuda") else 0
    if count > 0:
        return res(PASS, "OpenCV {}: {} CUDA device(s)".format(cv2.__version__, count))
    return ctx.missing(res, "OpenCV {} sees no CUDA device".format(cv2.__version__),
                       "build OpenCV with CUDA (ansible role opencv_cuda); pip's opencv has none")


def distribution_version(name):
    try:
        import pkg_resources
        return pkg_resources.get_distribution(name).version
    except Exception:  # not installed by pip, or no setuptools: the version stays unknown
        return None


def check_pinned_import(ctx, name, module, expected, version_of, hint):
    """Import `module` and compare its version with the pin from versions.yml."""
    res = outcome("stack", name)
    mod, err = try_import(module)
    if mod is None:
        return ctx.missing(res, "{} does not import: {}".format(module, err), hint)
    version = version_of(mod)
    if version and version.lstrip("v").startswith(expected.lstrip("v")):
        return res(PASS, "{} {} (pinned {})".format(module, version, expected))
    return res(FAIL, "{} {} but versions.yml pins {}".format(module, version or "?", expected), hint)


def check_tensorrt(ctx):
    return check_pinned_import(ctx, "tensorrt", "tensorrt", ctx.expected["tensorrt"],
                               lambda m: getattr(m, "__version__", None), "JetPack 4.6.x ships TensorRT 8.2.1")


def check_torch2trt(ctx):
    return check_pinned_import(ctx, "torch2trt", "torch2trt", ctx.expected["pins"]["torch2trt"],
                               lambda m: distribution_version("torch2trt"),
                               "ansible role torch2trt (clones the pinned tag)")


def check_easyocr_bidi(ctx):
    res = outcome("stack", "easyocr_bidi")
    easyocr, err = try_import("easyocr")
    if easyocr is None and "get_display" in (err or ""):
        return res(FAIL, "easyocr does not import: " + err,
                   "apply the bidi fix: in easyocr/easyocr.py use `from bidi.algorithm import get_display` "
                   "(ansible role easyocr), or pin python-bidi 0.4.2")
    if easyocr is None:
        return ctx.missing(res, "easyocr does not import: " + err, "pip install kit[easyocr]")
    display = importlib.import_module("easyocr.easyocr").get_display
    return res(PASS, "easyocr {} imports; get_display from {}".format(
        easyocr.__version__, display.__module__))


PADDLE_PROBE = (
    "import json, sys, paddle, paddle.inference as pi\n"
    "trt = pi.get_trt_compile_version() if hasattr(pi, 'get_trt_compile_version') else (0, 0, 0)\n"
    "print(json.dumps({'python': '%d.%d' % sys.version_info[:2], 'paddle': paddle.__version__,\n"
    "                  'cuda': bool(paddle.is_compiled_with_cuda()), 'trt': list(trt)}))\n")


def probe_paddle(python, timeout=300):
    """Ask another interpreter (the Nano's Python 3.7 venv) what its Paddle was compiled with."""
    try:
        proc = subprocess.run([python, "-c", PADDLE_PROBE], stdout=subprocess.PIPE,  # noqa: UP022 (3.6)
                              stderr=subprocess.PIPE, universal_newlines=True, timeout=timeout)  # noqa: UP021
    except (OSError, subprocess.SubprocessError) as exc:
        return None, "{} cannot run: {}".format(python, exc)
    lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
    if proc.returncode or not lines:
        tail = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        return None, "paddle does not import in {}: {}".format(python, tail[:160])
    return json.loads(lines[-1]), None


def check_paddle(ctx):
    res = outcome("stack", "paddle_cuda_trt")
    info, err = probe_paddle(ctx.paddle_python)
    hint = "Paddle Inference's Jetson wheel in the Python {} venv; point --paddle-python at it".format(
        ctx.expected["python_paddle"])
    if info is None:
        return ctx.missing(res, err, hint)
    trt = ".".join(str(v) for v in info["trt"]) if any(info["trt"]) else "none"
    what = "paddle {} (Python {}): CUDA {}, TensorRT {}".format(
        info["paddle"], info["python"], "yes" if info["cuda"] else "no", trt)
    if info["cuda"] and any(info["trt"]):
        return res(PASS, what)
    return ctx.missing(res, what, hint)


CHECKS = [check_torch_cuda, check_cv2_cuda, check_tensorrt, check_torch2trt, check_easyocr_bidi, check_paddle]
