"""Group `throughput`: torchvision reference models at batch 1, 224x224 (PyTorch and torch2trt,
FP16 on the GPU) against torch2trt's published Jetson Nano table, within +-15 %."""
import os
import time

from bench import csv_rows

from .common import DATA, FAIL, PASS, SKIP, Result, outcome, try_import

BAND = 0.15          # +-15 % of a published FPS decides PASS (the paper's Nano was within 3 FPS of it)


def load_references(path=os.path.join(DATA, "torch2trt_jetson_nano.csv")):
    """{model: {"pytorch": FPS, "tensorrt": FPS}} from torch2trt's published Jetson Nano table."""
    return {r["model"]: {"pytorch": float(r["throughput_pytorch_fps"]),
                         "tensorrt": float(r["throughput_tensorrt_fps"])} for r in csv_rows(path)}


def likely_causes(state):
    """Why a Nano may run slow, from what the platform state says (most likely first)."""
    causes = []
    mode = state.get("nvpmodel_mode")
    if mode and mode["name"] != "MAXN":
        causes.append("power mode {} (sudo nvpmodel -m 0)".format(mode["name"]))
    if state.get("jetson_clocks") is False:
        causes.append("clocks not pinned (sudo jetson_clocks)")
    if state.get("throttled"):
        causes.append("heat: " + "; ".join(state.get("throttle_reasons") or ["throttling"]))
    return causes or ["not power mode, clocks or heat: check background load (top), swap use, and that "
                      "torch is NVIDIA's CUDA wheel"]


def judge_fps(measured, reference, state, band=BAND):
    """(status, reason, hint) of a measured FPS against a published Nano FPS."""
    delta = measured / reference - 1
    where = "{:.1f} FPS vs published {:.1f} ({:+.0f} %)".format(measured, reference, delta * 100)
    if measured < reference * (1 - band):  # products, not the rounded delta, decide at the edge
        causes = "likely: " + "; ".join(likely_causes(state))
        return FAIL, where + ", under the -{:.0f} % band".format(band * 100), causes
    if measured > reference * (1 + band):
        return PASS, where + ", above the band (faster than the reference)", ""
    return PASS, where + ", within +-{:.0f} %".format(band * 100), ""


def build_model(torchvision, name):
    """A torchvision reference model with random weights (nothing downloaded; FPS does not care)."""
    ctor = getattr(torchvision.models, name)
    try:
        return ctor(weights=None)
    except TypeError:  # torchvision 0.11 (the Nano's) predates `weights`
        return ctor(pretrained=False)


def measure_fps(torch, model, x, iterations, warmup):
    """Throughput at batch 1: warm-up excluded, the device synchronized at both ends (torch2trt's
    harness does the same)."""
    sync = torch.cuda.synchronize if x.is_cuda else (lambda: None)
    with torch.no_grad():
        for _ in range(warmup):
            model(x)
        sync()
        t0 = time.perf_counter()
        for _ in range(iterations):
            model(x)
        sync()
        return iterations / (time.perf_counter() - t0)


def throughput_result(ctx, name, backend, fps, reference, precision, device):
    res = outcome("throughput", "{}/{}".format(name, backend))
    data = {"model": name, "backend": backend, "device": device, "precision": precision,
            "fps": round(fps, 2), "reference_fps": reference}
    if not (ctx.on_jetson and ctx.is_nano) or reference is None:
        why = "no reference for this device" if reference else "no published Nano figure"
        return res(SKIP, "{:.1f} FPS ({}, {}, batch 1, 224x224, random weights): {}".format(
            fps, precision, device, why), data=data)
    status, reason, hint = judge_fps(fps, reference, ctx.state)
    return res(status, reason, hint, data)


def run_reference_model(ctx, torch, torchvision, name, refs, to_trt):
    device = "cuda" if torch.cuda.is_available() else "cpu"
    half = device == "cuda"  # the published figures are FP16 on the GPU; half convs on a CPU are not
    model = build_model(torchvision, name).eval().to(device)
    x = torch.randn(1, 3, 224, 224, device=device)
    model, x = (model.half(), x.half()) if half else (model, x)
    precision = "fp16" if half else "fp32"
    ref = refs.get(name, {})
    results = [throughput_result(ctx, name, "pytorch", measure_fps(torch, model, x, ctx.iterations, ctx.warmup),
                                 ref.get("pytorch"), precision, device)]
    if to_trt is not None:
        try:
            trt_model = to_trt(model, [x], fp16_mode=True)
        except Exception as exc:  # a converter/TensorRT mismatch: report it, measure the next model
            return results + [Result("throughput", name + "/tensorrt", FAIL, "torch2trt could not convert: {}".format(
                str(exc).splitlines()[0][:160] if str(exc) else type(exc).__name__), "check TensorRT/torch2trt pins")]
        results.append(throughput_result(ctx, name, "tensorrt", measure_fps(
            torch, trt_model, x, ctx.iterations, ctx.warmup), ref.get("tensorrt"), "fp16", device))
    return results


def check_reference_models(ctx):
    torch, err = try_import("torch")
    torchvision, err_tv = try_import("torchvision")
    if torch is None or torchvision is None:
        return ctx.missing(outcome("throughput", "reference_models"), "torch/torchvision missing: {}".format(
            err or err_tv), "install NVIDIA's torch wheel and torchvision " + ctx.expected["pins"]["torchvision"])
    torch2trt, trt_err = try_import("torch2trt") if torch.cuda.is_available() else (None, "no CUDA device")
    refs = load_references()
    results = []
    for name in ctx.models:
        results += run_reference_model(ctx, torch, torchvision, name, refs,
                                       torch2trt.torch2trt if torch2trt else None)
        if torch.cuda.is_available():
            torch.cuda.empty_cache()  # the Nano's 4 GB are shared with the CPU: free each model's memory
    if torch2trt is None:
        results.append(ctx.missing(outcome("throughput", "tensorrt"), "TensorRT path not measured: " + trt_err,
                                   "ansible role torch2trt"))
    return results


CHECKS = [check_reference_models]
