"""The benchmark runner: one worker process per engine under the interpreter configured for it,
results streamed back, scored (accuracy is a separate pass over the logged outputs, as MLPerf
does), summarised and written as one self-describing JSON file per engine run.

Interpreters: a small YAML file maps engine -> python (default: the current interpreter), e.g. on a
Nano:
    easyocr: /opt/kit/venv36/bin/python
    easyocr-rec: /opt/kit/venv36/bin/python
    paddleocr: /opt/kit/venv37/bin/python
    "*": /opt/kit/venv36/bin/python
"""
import json
import os
import queue
import subprocess
import sys
import threading
import time

import yaml

from ocr import DATA, ROOT, confidence, metrics

from . import results

DEFAULT_WARMUP_IMAGE = os.path.join(DATA, "warmup.png")
# How long a worker may stay silent. Loading and warming up may build a TensorRT engine, which
# takes minutes on a Nano; after that each sample should answer within seconds.
LOAD_TIMEOUT_S = 3600
SAMPLE_TIMEOUT_S = 300


def percentile(values, q):
    """Linear-interpolated percentile (numpy's default) of a non-empty list."""
    vals = sorted(values)
    if not vals:
        return None
    pos = (len(vals) - 1) * q / 100.0
    lo = int(pos)
    hi = min(lo + 1, len(vals) - 1)
    return vals[lo] + (vals[hi] - vals[lo]) * (pos - lo)


def timing_stats(values):
    if not values:
        return None
    return {"mean": sum(values) / len(values), "p50": percentile(values, 50),
            "p90": percentile(values, 90), "p99": percentile(values, 99),
            "min": min(values), "max": max(values)}


def load_interpreters(path=None):
    """engine -> python executable. Missing file: everything runs in this interpreter."""
    if path is None:
        path = os.environ.get("KIT_INTERPRETERS") or os.path.join(ROOT, "bench", "interpreters.yml")
        if not os.path.isfile(path):
            return {}
    try:
        with open(path) as f:
            data = yaml.safe_load(f) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = ":{}".format(mark.line + 1) if mark is not None else ""
        raise ValueError("{}{}: not valid YAML ({})".format(
            path, where, getattr(exc, "problem", None) or str(exc).splitlines()[0])) from None
    if not isinstance(data, dict):
        raise ValueError("{}: want a mapping engine -> python path".format(path))
    return {str(k): str(v) for k, v in data.items()}


def interpreter_for(engine, table):
    return table.get(engine) or table.get("*") or sys.executable


class WorkerError(Exception):
    """The worker cannot start here (its interpreter is missing): the engine is unavailable."""


class WorkerTimeout(Exception):
    """The worker stopped answering and was ended."""


class Watchdog(object):
    """How long the worker may be silent now: `load_s` until its first inference is done (the
    warm-up, or without one the first sample: a TensorRT runtime may build its engine there),
    then `sample_s` per sample, and for the throughput pass (one answer for all crops, maybe a
    rebuild for the batch shape) `sample_s` per crop, at least `load_s`. None or 0: no limit."""

    def __init__(self, job, load_s=LOAD_TIMEOUT_S, sample_s=SAMPLE_TIMEOUT_S):
        self.load_s, self.sample_s = load_s or None, sample_s or None
        self.ids = [s["id"] for s in job.get("samples", [])]
        self.loading, self.seen = True, 0

    def saw(self, ev):
        kind = ev.get("event")
        if kind in ("warmup", "sample"):
            self.loading = False
        if kind == "sample":
            self.seen += 1

    def limit(self):
        if self.loading:
            return self.load_s
        if self.sample_s and self.seen >= len(self.ids):
            return max(self.sample_s * len(self.ids), self.load_s or 0)
        return self.sample_s

    def what(self):
        if self.loading:
            return "loading the engine and running its first inference (--load-timeout)"
        if self.seen < len(self.ids):
            return "on sample {} (--sample-timeout)".format(self.ids[self.seen])
        return "in the throughput pass (--sample-timeout per crop)"


def _lines_to_queue(stream, q):
    for line in stream:
        q.put(line)
    q.put(None)


def _next_line(lines, limit):
    """The reader's next line, waiting at most `limit` s (None: no limit) in short slices: a
    Ctrl-C delivered to another thread only reaches the main one when it wakes up."""
    deadline = None if limit is None else time.monotonic() + limit
    while True:
        wait = 0.5 if deadline is None else min(0.5, deadline - time.monotonic())
        if wait <= 0:
            raise queue.Empty
        try:
            return lines.get(timeout=wait)
        except queue.Empty:
            continue


def stream_worker(python, job, on_event, timeout=None, watchdog=None):
    """Start `python -m bench.worker`, send the job, call on_event(dict) for each line; a worker
    silent for longer than the watchdog allows is killed (WorkerTimeout)."""
    if not (os.path.isfile(python) and os.access(python, os.X_OK)):
        raise WorkerError("interpreter {} does not exist (is the venv created? see "
                          "bench/interpreters.yml)".format(python))
    env = dict(os.environ)
    # The kit must be importable in the worker's interpreter: installed there, or from this tree.
    env["PYTHONPATH"] = ROOT + os.pathsep + env.get("PYTHONPATH", "")
    env.setdefault("PYTHONUNBUFFERED", "1")
    proc = subprocess.Popen([python, "-m", "bench.worker"], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=ROOT,
                            universal_newlines=True)
    stderr_tail = []
    try:
        def drain():
            for line in proc.stderr:
                stderr_tail.append(line)
                del stderr_tail[:-40]
        t = threading.Thread(target=drain)
        t.daemon = True
        t.start()
        proc.stdin.write(json.dumps(job))
        proc.stdin.close()
        lines = queue.Queue()
        reader = threading.Thread(target=_lines_to_queue, args=(proc.stdout, lines))
        reader.daemon = True
        reader.start()
        while True:
            limit = watchdog.limit() if watchdog else None
            try:
                line = _next_line(lines, limit)
            except queue.Empty:
                raise WorkerTimeout("worker silent for {:g} s {}: ended".format(limit, watchdog.what())) from None
            if line is None:
                break
            line = line.strip()
            if line.startswith("{"):
                ev = json.loads(line)
                if watchdog:
                    watchdog.saw(ev)
                on_event(ev)
        proc.wait(timeout=timeout)
        t.join(5)
    except BaseException:
        proc.kill()
        proc.wait()
        raise
    return proc.returncode, "".join(stderr_tail)


class EngineRun(object):
    """Collects one engine's events and turns them into the result document."""

    def __init__(self, dataset, progress=None):
        self.dataset, self.progress = dataset, progress
        self.events = {"samples": []}
        self.status, self.reason = "ok", None

    def on_event(self, ev):
        kind = ev.pop("event")
        if kind == "sample":
            self.events["samples"].append(ev)
            if self.progress:
                self.progress.update(1)
        elif kind == "unavailable":
            self.status, self.reason = "unavailable", ev["reason"]
        elif kind == "error":
            self.status, self.reason = "error", ev["message"]
        else:
            self.events[kind] = ev

    def score(self):
        """Accuracy pass over the logged predictions (errors listed, excluded from metrics)."""
        truth = {s.id: s for s in self.dataset.samples}
        records, errors = [], []
        for ev in self.events["samples"]:
            s = truth[ev["id"]]
            rec = {"id": ev["id"], "image": os.path.relpath(s.image, os.path.dirname(self.dataset.path)),
                   "truth": s.text, "tags": s.tags}
            if ev.get("error"):
                rec["error"] = ev["error"]
                errors.append(rec)
                continue
            # raw metrics compare the lines joined as this dataset's labels join them
            text = self.dataset.line_join.join(ev["lines"]) if ev.get("lines") else ev["text"]
            rec.update({"text": text, "confidence": ev["confidence"], "lines": ev["lines"],
                        "pre_ms": ev["pre_ms"], "ocr_ms": ev["ocr_ms"],
                        "total_ms": round(ev["pre_ms"] + ev["ocr_ms"], 4)})
            if ev.get("stages_ms"):
                rec["stages_ms"] = ev["stages_ms"]
            sc = metrics.sample_scores(text, s.text)
            nsc = metrics.sample_scores(metrics.normalise(text), metrics.normalise(s.text))
            rec.update({"exact": sc["exact"], "cer": round(sc["cer"], 5),
                        "exact_normalised": nsc["exact"], "cer_normalised": round(nsc["cer"], 5)})
            records.append(rec)
        return records, errors

    def summary(self, records, errors):
        ok = records
        acc = metrics.evaluate((r["text"], r["truth"]) for r in ok)
        timing = {k: timing_stats([r[k] for r in ok]) for k in ("pre_ms", "ocr_ms", "total_ms")}
        mean_total = timing["total_ms"]["mean"] if timing["total_ms"] else None
        summary = {"metrics": acc, "timing": timing,
                   "fps": round(1000.0 / mean_total, 3) if mean_total else None,
                   "throughput": self.events.get("throughput"),
                   "samples": len(ok), "errors": len(errors),
                   "error_ids": [e["id"] for e in errors]}
        staged = [r["stages_ms"] for r in ok if r.get("stages_ms")]
        if staged:  # where OCR time goes, for engines that report their stages
            names = []
            for st in staged:
                names += [k for k in st if k not in names]
            summary["stages"] = [dict(timing_stats([st[k] for st in staged if k in st]), stage=k) for k in names]
        # Confident rejection: precision and coverage of the reads accepted at a threshold: the one
        # that makes this run's reads >= 99 % precise (an oracle), and the one the engine ships.
        conf = [(r["confidence"], r["exact_normalised"]) for r in ok]
        shipped = (self.events.get("loaded") or {}).get("engine", {}).get("reject_below")
        for key, thr, note in (
                ("rejection", metrics.threshold_for_precision(conf, 0.99),
                 "threshold chosen on this run's own data (oracle)"),
                ("rejection_shipped", shipped, "the engine's own threshold, calibrated on other data")):
            if thr is not None and conf:
                prec, cov = metrics.precision_at_threshold(conf, thr)
                summary[key] = {"threshold": thr, "precision": prec, "coverage": cov, "note": note}
        if conf:  # how far the confidence is from a probability: ECE over 10 equal-width bins
            summary["calibration_error"] = confidence.calibration_error(conf)
        return summary


def run_engine(engine, options, pre, dataset, samples, python, warmup, batch, warmup_image,
               argv=None, machine=None, git=None, telemetry=None, progress=None, timeouts=(None, None)):
    """Run one engine in its worker; return the result document (not yet written).
    timeouts: (load_s, sample_s) for the watchdog (None: the defaults; 0: no limit)."""
    job = {"engine": engine, "options": options, "pre": pre, "warmup": warmup, "batch": batch,
           "warmup_image": warmup_image, "samples": [s.to_dict() for s in samples]}
    run = EngineRun(dataset, progress)
    load_s, sample_s = timeouts
    watchdog = Watchdog(job, LOAD_TIMEOUT_S if load_s is None else load_s,
                        SAMPLE_TIMEOUT_S if sample_s is None else sample_s)
    started = time.time()
    try:
        code, stderr = stream_worker(python, job, run.on_event, watchdog=watchdog)
        if code != 0 and run.status == "ok":
            run.status, run.reason = "error", "worker exited {}: {}".format(
                code, (stderr.strip().splitlines() or ["no output"])[-1])
    except WorkerError as exc:
        run.status, run.reason = "unavailable", str(exc)
    except WorkerTimeout as exc:
        run.status, run.reason = "error", str(exc)
    doc = {
        "schema": results.SCHEMA,
        "status": run.status,
        "reason": run.reason,
        "engine": run.events.get("loaded", {}).get("engine") or {"name": engine, "options": options},
        "run": {"started": started, "finished": time.time(), "command": list(argv or sys.argv),
                "git": git if git is not None else results.git_describe(),
                "warmup": run.events.get("warmup") or {"n": warmup},
                "batch": batch, "pre": pre, "interpreter": python,
                "worker": run.events.get("hello"), "load_s": run.events.get("loaded", {}).get("load_s"),
                "packages": run.events.get("loaded", {}).get("packages")},
        "machine": machine if machine is not None else results.machine(),
        # the data identity, and how many of its samples this run measured (--limit)
        "dataset": dict(dataset.describe(), measured=len(samples)),
    }
    if run.status == "ok":
        records, errors = run.score()
        if not records:  # never an "ok" result with nothing measured
            doc["status"] = "error"
            doc["reason"] = "no sample read: " + (errors[0]["error"] if errors else "no sample was sent")
            doc["errors"] = errors
            return doc
        doc["summary"] = run.summary(records, errors)
        done = run.events.get("done")
        if telemetry is not None and done:
            doc["summary"]["telemetry"] = telemetry(done["t0"], done["t1"], doc["summary"])
        doc["samples"] = records
        doc["errors"] = errors
    return doc
