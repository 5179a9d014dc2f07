"""Stream benchmark of `invoke read` (not a CI test): a conveyor video (ocr/reader/conveyor.py,
640x480, 30 FPS) played at its frame rate through the same capture layer a camera uses (frames
the reader is too slow for are dropped, as a camera's are), read with its job file; scored
against the video's ground truth afterwards (timing and scoring are separate passes).

Reported: items in, read once, missed (no verdict), read twice or more; verdicts against the
truth (PASS on the right code, never PASS on a wrong one); end-to-end latency per item (capture
to verdict); where the time goes (trigger per frame; detect, split, network, decode per item) and a
Nano estimate from those stages. Written as results/<run-id>/stream-<engine>.json (atomically).
"""
import os
import sys
import time

from ocr.reader import capture, conveyor, verify
from ocr.reader.job import load_job
from ocr.reader.pipeline import Reader

from . import results
from .nano_estimate import PESSIMISTIC_FACTOR
from .runner import timing_stats

SCHEMA = "nano-ocr-kit/stream-result/1"
# The Nano estimate (stated assumptions, not measurements): the host stages run in Python and
# ONNX Runtime on the Nano's Cortex-A57 cores, assumed NANO_CPU_FACTOR x slower than one core
# here (nano_estimate's pessimistic factor); the recogniser network on its GPU at the roofline
# floor `invoke accel.estimate` gives for codereader in FP16 (README: 2.0 ms per line, 0.474
# GMAC), and a crop reads a line or more.
NANO_CPU_FACTOR = PESSIMISTIC_FACTOR
NANO_NETWORK_MS_PER_LINE = 2.0


def score(verdicts, truth):
    """Match verdicts to ground-truth items by frame; count what a line would care about."""
    per_item = {it["item"]: [] for it in truth["items"]}
    stray = 0
    for v in verdicts:
        it = conveyor.item_at(truth, v.frame)
        if it is None:
            stray += 1
        else:
            per_item[it["item"]].append(v)
    rows = {"right_pass": 0, "wrong_pass": 0, "fail_right_read": 0, "fail_misread": 0, "reject": 0}
    for item, vs in per_item.items():
        want = verify.normalise(truth["items"][item - 1]["text"])
        for v in vs:
            right = verify.normalise(v.text) == want
            if v.verdict == verify.PASS:
                rows["right_pass" if right else "wrong_pass"] += 1
            elif v.verdict == verify.FAIL:
                rows["fail_right_read" if right else "fail_misread"] += 1
            else:
                rows["reject"] += 1
    counts = [len(vs) for vs in per_item.values()]
    return {"items_in": len(per_item), "read_once": counts.count(1), "missed": counts.count(0),
            "read_more_than_once": sum(1 for c in counts if c > 1), "verdicts_outside_items": stray,
            "verdicts": rows}


def nano_estimate(stage_stats, lines_per_item):
    cpu = sum(s["mean"] for name, s in stage_stats.items() if name in ("trigger", "detect", "split", "decode"))
    return {"assumptions": "host stages (trigger, detect, split, decode) x{} (Cortex-A57 vs one core here, "
                           "assumed); network {} ms per line on the GPU (roofline, invoke accel.estimate)".format(
                               NANO_CPU_FACTOR, NANO_NETWORK_MS_PER_LINE),
            "ms_per_item": round(cpu * NANO_CPU_FACTOR + NANO_NETWORK_MS_PER_LINE * lines_per_item, 1),
            "host_ms_per_item_here": round(cpu, 2)}


def warm_up(reader, job, video):
    """Three reads of the video's first frame (the empty belt) in every region, outside the
    measurement: ONNX Runtime's sessions and the caches settle."""
    first = next(capture.open_source(video, realtime=False).frames())
    for _ in range(3):
        for region in job.regions:
            reader.read_region(first, region, "warm-up")


def run(out_dir, items=40, seed=0, speed=12, realtime=True):
    truth = conveyor.write_video(out_dir, items, seed, speed)
    job = load_job(os.path.join(out_dir, "job.yml"))
    reader = Reader(job)
    warm_up(reader, job, os.path.join(out_dir, truth["video"]))
    source = capture.open_source(os.path.join(out_dir, truth["video"]), realtime=realtime)
    verdicts = []
    t0 = time.perf_counter()
    reader.read_source(source, verdicts.append)
    seconds = time.perf_counter() - t0
    source.close()
    scored = score(verdicts, truth)
    latencies = [v.latency_ms for v in verdicts]
    stages = {}
    for v in verdicts:
        for name, ms in (v.stages_ms or {}).items():
            stages.setdefault(name, []).append(ms)
    stage_stats = {name: timing_stats(values) for name, values in stages.items()}
    per_frame = reader.trigger_ms / max(1, reader.frames_seen)
    stage_stats["trigger"] = {"mean": per_frame * truth["frames"] / max(1, len(truth["items"])),
                              "per_frame_ms": per_frame}
    lines = sum(max(1, len(v.formats or ())) for v in verdicts) / float(max(1, len(verdicts)))
    counts = {k: sum(1 for v in verdicts if v.verdict == k) for k in verify.VERDICTS}
    return {"truth": truth, "job": job.spec, "engine": reader.engine.describe(), "seconds": round(seconds, 2),
            "frames": truth["frames"], "frames_dropped": source.dropped, "realtime": realtime,
            "counts": counts, "score": scored, "latency_ms": timing_stats(latencies),
            "items_per_s": round(len(verdicts) / seconds, 3) if seconds else None,
            "stages_ms": stage_stats, "nano_estimate": nano_estimate(stage_stats, lines),
            "verdicts": [v.to_dict() for v in verdicts]}


def stream_cli(out_dir, items=40, seed=0, speed=12, realtime=True, results_dir="results", argv=None, echo=print):
    from tabulate import tabulate
    doc, path = results.write_stream_result(results_dir, "stream", SCHEMA,
                                            lambda: run(out_dir, items, seed, speed, realtime), argv)
    s, lat = doc["score"], doc["latency_ms"] or {}
    echo(tabulate([[s["items_in"], s["read_once"], s["missed"], s["read_more_than_once"],
                    s["verdicts"]["right_pass"], s["verdicts"]["wrong_pass"],
                    s["verdicts"]["fail_right_read"] + s["verdicts"]["fail_misread"], s["verdicts"]["reject"],
                    _ms(lat.get("p50")), _ms(lat.get("p99")), doc["frames_dropped"],
                    doc["nano_estimate"]["ms_per_item"]]],
                   headers=["items in", "read once", "missed", "read twice+", "PASS (right code)",
                            "PASS (wrong code)", "FAIL", "REJECT", "latency p50 ms", "p99 ms",
                            "frames dropped", "Nano est. ms/item"]))
    echo(tabulate([[name, _ms(st["mean"]), _ms(st.get("p90"))] for name, st in sorted(doc["stages_ms"].items())],
                  headers=["stage", "mean ms per item", "p90 ms"]))
    echo("wrote " + path)
    return 1 if s["verdicts"]["wrong_pass"] else 0


def _ms(v):
    return None if v is None else round(v, 1)


if __name__ == "__main__":  # python -m bench.stream OUT [ITEMS]
    sys.exit(stream_cli(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 40))
