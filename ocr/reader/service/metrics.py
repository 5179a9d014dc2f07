"""What the service counts, and its Prometheus text exposition (format 0.0.4), written by hand: the
format is a few lines of text, and the Nano's service then needs no client library (the tests
parse it with prometheus_client's own parser).

`origin` tells items from the line (`line`) from uploads to POST /read (`upload`).
"""
import collections
import threading
import time

from ..verify import VERDICTS

# latency buckets (seconds), capture to verdict: a Nano reads an item in ~0.1-0.5 s
BUCKETS = (0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
RATE_WINDOW_S = 30.0


class Metrics(object):
    def __init__(self):
        self.lock = threading.Lock()
        self.counts = {(o, v): 0 for o in ("line", "upload") for v in VERDICTS}
        self.buckets = [0] * len(BUCKETS)
        self.latency_sum, self.latency_count = 0.0, 0
        self.recent = collections.deque()  # perf_counter of line verdicts in the last RATE_WINDOW_S
        self.started = time.perf_counter()

    def add(self, verdict, origin):
        seconds = (verdict.latency_ms or 0.0) / 1000.0
        with self.lock:
            self.counts[(origin, verdict.verdict)] += 1
            for i, edge in enumerate(BUCKETS):
                if seconds <= edge:
                    self.buckets[i] += 1
            self.latency_sum += seconds
            self.latency_count += 1
            if origin == "line":
                now = time.perf_counter()
                self.recent.append(now)
                self._trim(now)

    def _trim(self, now):
        while self.recent and self.recent[0] < now - RATE_WINDOW_S:
            self.recent.popleft()

    def items_per_s(self):
        """Line items per second over the last RATE_WINDOW_S (or since the start, if shorter)."""
        now = time.perf_counter()
        with self.lock:
            self._trim(now)
            span = min(RATE_WINDOW_S, now - self.started)
            return len(self.recent) / span if span > 0 else 0.0

    def verdict_counts(self, origin="line"):
        with self.lock:
            return {v: self.counts[(origin, v)] for v in VERDICTS}

    def exposition(self, gauges=()):
        """The text of GET /metrics; `gauges`: extra (name, help, type, [(labels, value)]) families."""
        out = []
        with self.lock:
            family(out, "reader_items_total", "Items judged, by verdict and origin (line or upload).", "counter",
                   [({"verdict": v, "origin": o}, n) for (o, v), n in sorted(self.counts.items())])
            out.append("# HELP reader_latency_seconds Capture (or upload) to verdict.")
            out.append("# TYPE reader_latency_seconds histogram")
            for edge, n in zip(BUCKETS, self.buckets):
                out.append('reader_latency_seconds_bucket{{le="{}"}} {}'.format(edge, n))
            out.append('reader_latency_seconds_bucket{{le="+Inf"}} {}'.format(self.latency_count))
            out.append("reader_latency_seconds_sum {}".format(_num(self.latency_sum)))
            out.append("reader_latency_seconds_count {}".format(self.latency_count))
        for name, help_text, kind, samples in gauges:
            family(out, name, help_text, kind, samples)
        return "\n".join(out) + "\n"


def family(out, name, help_text, kind, samples):
    out.append("# HELP {} {}".format(name, help_text))
    out.append("# TYPE {} {}".format(name, kind))
    for labels, value in samples:
        if value is None:
            continue
        text = ",".join('{}="{}"'.format(k, _escape(v)) for k, v in sorted((labels or {}).items()))
        out.append("{}{} {}".format(name, "{" + text + "}" if text else "", _num(value)))


def _escape(v):
    return str(v).replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _num(v):
    if isinstance(v, bool):
        return "1" if v else "0"
    return repr(float(v)) if isinstance(v, float) else str(v)
