"""The measured half of the Nano estimate: the roofline floors of ocr/accel/estimate.py turned into
an expected latency per crop on a Jetson Nano, with the numbers measured elsewhere kept here in
bench/ (ocr/ never imports bench/).

GPU side: torch2trt's published Jetson Nano latencies (TensorRT FP16, batch 1, 224x224;
bench/data/torch2trt_jetson_nano.csv) against the roofline floor of the same torchvision models,
counted the same way as the kit's models (onnx-tool on their ONNX export,
bench/data/torch2trt_jetson_nano_counts.csv, written by `python -m bench.nano_estimate --count`):
measured / floor is how far a real TensorRT engine on a Nano stays above its floor. A kit model's
expected latency is its floor times the median of those ratios (their range printed beside it).

CPU side: what runs in Python beside the network (the code reader's line splitting and
format-aware decoding), measured on this host and scaled by a single-core factor between this
kind of x86 core and the Nano's Cortex-A57 (CPU_FACTOR below, with its source). A result file
from a Nano itself needs no factor.
"""
import csv
import math
import os
import statistics
import sys

from bench import DATA, csv_rows

PUBLISHED = os.path.join(DATA, "torch2trt_jetson_nano.csv")
COUNTS = os.path.join(DATA, "torch2trt_jetson_nano_counts.csv")
FRAME_MS = 1000.0 / 30  # the 30 FPS budget: one crop a frame
NEIGHBOURS = 3  # calibration models nearest in floor that calibrate a kit model

# Single-core factor, x86 host / Jetson Nano CPU, from 7-Zip's single-threaded benchmark rating
# (MIPS, `7z b` pinned to one core) as published by sbc-bench (github.com/ThomasKaiser/sbc-bench,
# Sorted-Results.md, "7-zip MIPS single-threaded"): Jetson Nano (Cortex-A57 at 1479 MHz, MAXN,
# L4T 4.9 kernel) 1563, results/3Lpf.txt; the table's fastest x86 desktop core, Pentium G4600
# (Kaby Lake, 3600 MHz) 4448, results/2jVw.txt. 4448 / 1563 = 2.85. A check on this project's
# host (AMD EPYC, Zen 4, KVM): `7z b -mmt1` (7-Zip 26.02) rated 3773 MIPS per 100 % core use
# (R/U; 54 % use on the shared VM, 2026-11-30), 2.4x the Nano's R/U of 1571. 7-Zip is compiled
# integer code: CPython's interpreter loop may favour the newer core more, so the estimate is
# also printed at PESSIMISTIC_FACTOR (the guess) to show whether the verdict depends on it.
NANO_7ZIP_SINGLE = 1563.0
X86_7ZIP_SINGLE = 4448.0
CPU_FACTOR = X86_7ZIP_SINGLE / NANO_7ZIP_SINGLE
PESSIMISTIC_FACTOR = 5.0


# --- GPU side: floor -> expected ---------------------------------------------------------------------
def published(path=PUBLISHED):
    """{model: TensorRT FP16 latency ms on a Jetson Nano} from torch2trt's table."""
    return {r["model"]: float(r["latency_tensorrt_ms"]) for r in csv_rows(path) if r["data_type"] == "float16"}


def counts(path=COUNTS):
    """{model: {macs, weight_bytes, act_bytes, shape}} of the same models, counted by onnx-tool."""
    return {r["model"]: {"macs": float(r["macs"]), "weight_bytes": float(r["weight_bytes"]),
                         "act_bytes": float(r["act_bytes"]), "shape": r["input"]} for r in csv_rows(path)}


def nano_fp16_floor_ms(count):
    """The roofline floor of one model on the Nano in FP16 (ocr/accel/estimate.py's arithmetic)."""
    from ocr.accel import estimate
    _, _, fp16, gbps, _ = estimate.PLATFORMS[0]
    return estimate.roofline_ms(count["macs"], count["weight_bytes"], count["act_bytes"], fp16, gbps, 2)


def calibration(measured=None, counted=None):
    """[(model, floor ms, measured ms, measured / floor)] for every model in both tables."""
    measured = published() if measured is None else measured
    counted = counts() if counted is None else counted
    out = []
    for model in sorted(set(measured) & set(counted)):
        floor = nano_fp16_floor_ms(counted[model])
        out.append((model, floor, measured[model], measured[model] / floor))
    return out


def ratios(rows):
    """(median, lowest, highest) of measured / floor."""
    values = [r[3] for r in rows]
    return statistics.median(values), min(values), max(values)


def nearest(calib, floor, k=NEIGHBOURS):
    """The k calibration rows whose floor is closest to `floor` (by ratio): small networks stay
    further above their floor than large ones (launch and synchronisation costs that do not shrink
    with the model: squeezenet1_1 2.9x, vgg16 1.3x), so a kit model is calibrated by its peers."""
    return sorted(calib, key=lambda r: abs(math.log(r[1] / floor)))[:k]


def count_reference_models(path=COUNTS):
    """Count torch2trt's torchvision models (random weights: counting needs shapes only) at their
    published input shape with onnx-tool, as the kit's models are counted; write `path`."""
    import tempfile

    import torch
    import torchvision

    from bench.sanity.throughput import build_model
    from ocr.accel import estimate
    from ocr.accel.export import _export_kwargs
    rows = []
    for model in sorted(published()):
        net = build_model(torchvision, model).eval()
        shape = (1, 3, 224, 224)
        with tempfile.TemporaryDirectory() as tmp:
            onnx_path = os.path.join(tmp, model + ".onnx")
            with torch.no_grad():
                torch.onnx.export(net, (torch.zeros(shape),), onnx_path, opset_version=13, **_export_kwargs())
            c = estimate.count_onnx(onnx_path, shape)
        rows.append({"model": model, "input": "x".join(map(str, shape)), "macs": int(c["macs"]),
                     "weight_bytes": int(c["weight_bytes"]), "act_bytes": int(c["act_bytes"])})
        print("{model}: {macs} MAC".format(**rows[-1]), file=sys.stderr)
    with open(path, "w") as f:
        f.write("# onnx-tool counts of torch2trt's Jetson Nano benchmark models (torchvision, batch 1, FP32 "
                "bytes), written by `python -m bench.nano_estimate --count`\n")
        w = csv.DictWriter(f, fieldnames=["model", "input", "macs", "weight_bytes", "act_bytes"], lineterminator="\n")
        w.writeheader()
        w.writerows(rows)
    return path


# --- measured results ----------------------------------------------------------------------------------
def _engine_row(name):
    from ocr.accel import estimate
    base = max((p for p in estimate.ENGINE_PREFIXES if name.startswith(p)), key=len, default=None)
    return None if base is None else estimate.ENGINE_PREFIXES[base]


def result_docs(paths):
    """The measured (status ok) result documents of files and folders (report.collect's reading;
    unreadable files are left out here: the estimate is about what was measured)."""
    from bench import report
    return [doc for doc in report.collect(paths)[0] if doc.get("status") == "ok"]


def measured(docs):
    """{engine row index: ["name precision: ms (device)"]} from bench result documents."""
    from bench import results
    found = {}
    for doc in docs:
        eng = doc.get("engine") or {}
        name = eng.get("name", "")
        row = _engine_row(name)
        timing = ((doc.get("summary") or {}).get("timing") or {}).get("ocr_ms") or {}
        if row is None or not timing:
            continue
        label = results.device_label(doc.get("machine") or {}, eng.get("device", "cpu"))
        found.setdefault(row, []).append("{} {} {:.1f} ms p50 ({})".format(
            name, eng.get("precision", "fp32"), timing["p50"], label))
    return found


def nano_stages(docs):
    """[(ms per crop of the CPU-side stages, run)] of codereader results measured on a Jetson Nano:
    the mean split + decode of their Stages summary (no single-core factor needed)."""
    out = []
    for doc in docs:
        path = doc["_file"]
        name = (doc.get("engine") or {}).get("name", "")
        staged = {st["stage"]: st["mean"] for st in (doc.get("summary") or {}).get("stages") or []}
        board = str(((doc.get("machine") or {}).get("platform") or {}).get("board_model", ""))
        if name.startswith("codereader") and staged and "nano" in board.lower():
            run = os.path.basename(os.path.dirname(os.path.abspath(path)))
            out.append((staged.get("split", 0.0) + staged.get("decode", 0.0), "{} {}".format(name, run)))
    return out


def replayed_stages(data=None, repeats=5):
    """(ms per crop of split + decode, where from): here, the CPU time of the replayed predict on
    cached network outputs (bench/replay.py), median of `repeats` replays: a wall clock on a
    shared machine also counts the other processes."""
    from bench import replay
    r = replay.Replay(data)
    timing = replay.time_stages(r, repeats)
    return timing["cpu"], "CPU time replayed here ({} crops of {}, median of {} replays; wall clock {:.2f})".format(
        len(r.crops), data or "the default set", repeats, timing["split+decode"])


# --- the report ----------------------------------------------------------------------------------------
def expected_rows(engine_floors, cpu_ms, factor, calib):
    """[(engine, GPU expected ms, (low, high), CPU ms on a Nano or None, total ms, 30 FPS holds?,
    calibration models used)]: the floor times the median ratio of its NEIGHBOURS."""
    out = []
    for engine, floor in engine_floors:
        peers = nearest(calib, floor)
        median, low, high = ratios(peers)
        cpu = cpu_ms.get(engine)
        nano_cpu = None if cpu is None else cpu * factor
        total = floor * median + (nano_cpu or 0.0)
        out.append((engine, floor * median, (floor * low, floor * high), nano_cpu, total, total <= FRAME_MS,
                    [r[0] for r in peers]))
    return out


def format_expected(rows, calib, cpu_note, factor):
    from tabulate import tabulate
    table = [[e, "{:.1f} ({:.1f}-{:.1f})".format(g, lo, hi), "-" if c is None else "{:.1f}".format(c),
              "{:.1f}".format(t), ("yes" if ok else "no") + ("" if c is not None else " (GPU only)"), ", ".join(peers)]
             for e, g, (lo, hi), c, t, ok, peers in rows]
    median, low, high = ratios(calib)
    lines = ["Expected per crop on a Nano (FP16 TensorRT, MAXN, one crop a frame):", "",
             tabulate(table, headers=["engine", "GPU ms (range)", "CPU ms", "expected ms", "30 FPS",
                                      "calibrated on"], disable_numparse=True), "",
             "GPU: roofline floor x the median measured / floor of the {} models of torch2trt's Jetson Nano "
             "table (TensorRT FP16, batch 1) nearest in floor (range: their lowest and highest); over all {}: "
             "{:.1f}x ({:.1f}-{:.1f}x). bench/data/torch2trt_jetson_nano*.csv.".format(
                 NEIGHBOURS, len(calib), median, low, high),
             "CPU: split + decode in Python, {}, x {:.2f} for the Nano's Cortex-A57 (7-Zip single-thread, "
             "sbc-bench: x86 Pentium G4600 {:.0f} / Jetson Nano {:.0f} MIPS). Capture, decoding the image and "
             "preprocessing are not counted; the stages run one after another.".format(
                 cpu_note, factor, X86_7ZIP_SINGLE, NANO_7ZIP_SINGLE)]
    return "\n".join(lines)


def estimate_cli(crop="36x158", results=(), data=None, stream=sys.stdout):
    """`invoke accel.estimate`: the roofline tables, then the expected latency on a Nano."""
    from ocr.accel import estimate
    h, w = (int(v) for v in crop.lower().split("x"))
    counted = estimate.count_models((h, w))
    docs = result_docs(results) if results else []
    stream.write(estimate.format_report(counted, (h, w), measured(docs) if results else None) + "\n\n")
    floors = [(engine, per[estimate.PLATFORMS[0][0]][1]) for engine, per, _ in estimate.engine_estimates(counted)]
    calib = calibration()
    on_nano = nano_stages(docs)
    if on_nano:
        cpu, note, factor = on_nano[0][0], "measured on a Nano ({})".format(on_nano[0][1]), 1.0
    else:
        cpu, where = replayed_stages(data)
        note, factor = "{:.2f} ms {}".format(cpu, where), CPU_FACTOR
    stream.write(format_expected(expected_rows(floors, {"codereader": cpu}, factor, calib), calib, note, factor) + "\n")
    if factor != 1.0:
        worst = expected_rows(floors, {"codereader": cpu}, PESSIMISTIC_FACTOR, calib)
        code = [r for r in worst if r[0] == "codereader"][0]
        stream.write("At a single-core factor of {:.0f} instead: codereader {:.1f} ms per crop, 30 FPS {}.\n".format(
            PESSIMISTIC_FACTOR, code[4], "holds" if code[5] else "does not hold"))
    return 0


if __name__ == "__main__":
    if sys.argv[1:] == ["--count"]:
        print(count_reference_models())
    else:
        sys.exit("usage: python -m bench.nano_estimate --count   (rewrites {})".format(COUNTS))
