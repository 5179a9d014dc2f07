"""Verdicts out: one record per item, written as they come to a terminal table, a JSONL file and a
CSV file (each line written whole and flushed: a reader tailing the file never sees half a line),
and a summary at the end (counts per verdict, items/s, latency p50/p99; written atomically)."""
import csv
import io
import json
import math
import os
import sys
import time

from ..files import write_json_atomic
from .verify import VERDICTS

COLUMNS = ("time", "source", "frame", "item", "region", "box", "text", "date", "lot", "confidence",
           "verdict", "reason", "latency_ms")


class Verdict(object):
    """One item's verdict. `fields` holds the parsed dates (ISO 8601) and lot."""

    __slots__ = ("wall", "source", "frame", "item", "region", "box", "text", "fields", "confidence",
                 "verdict", "reason", "latency_ms", "formats", "stages_ms")

    def __init__(self, **values):
        for key in self.__slots__:
            setattr(self, key, values.get(key))

    def to_dict(self):
        d = {k: getattr(self, k) for k in self.__slots__ if k != "wall"}
        d["time"] = iso_time(self.wall)
        d["confidence"] = round(self.confidence or 0.0, 4)
        d["latency_ms"] = round(self.latency_ms or 0.0, 2)
        if self.stages_ms:
            d["stages_ms"] = {k: round(v, 3) for k, v in self.stages_ms.items()}
        return d

    def row(self):
        d = self.to_dict()
        f = self.fields or {}
        d.update(date=f.get("date") or "", lot=f.get("lot") or "",
                 box=" ".join(str(v) for v in self.box) if self.box else "")
        return [d[c] if d[c] is not None else "" for c in COLUMNS]


def iso_time(wall):
    t = time.gmtime(wall)
    return time.strftime("%Y-%m-%dT%H:%M:%S", t) + ".%03dZ" % int((wall % 1) * 1000)


def percentile(values, q):
    """The q-th percentile (nearest rank) of a list; None when empty."""
    if not values:
        return None
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, int(math.ceil(q / 100.0 * len(ordered))) - 1))
    return ordered[k]


class Summary(object):
    def __init__(self):
        self.counts = dict.fromkeys(VERDICTS, 0)
        self.latencies = []
        self.start = time.perf_counter()
        self.end = None
        self.dropped = 0

    def add(self, v):
        self.counts[v.verdict] += 1
        self.latencies.append(v.latency_ms)

    def to_dict(self):
        elapsed = (self.end or time.perf_counter()) - self.start
        items = sum(self.counts.values())
        return {"items": items, "counts": dict(self.counts), "seconds": round(elapsed, 3),
                "items_per_s": round(items / elapsed, 3) if elapsed > 0 else None,
                "latency_ms": {"p50": _r(percentile(self.latencies, 50)),
                               "p99": _r(percentile(self.latencies, 99))},
                "frames_dropped": self.dropped}

    def line(self):
        d = self.to_dict()
        lat = d["latency_ms"]
        return "{} items: {}; {} items/s; latency p50 {} ms, p99 {} ms{}".format(
            d["items"], ", ".join("{} {}".format(k, d["counts"][k]) for k in VERDICTS), d["items_per_s"],
            lat["p50"], lat["p99"], "; {} frames dropped".format(self.dropped) if self.dropped else "")


def _r(v):
    return None if v is None else round(v, 2)


class Outputs(object):
    """Sinks for verdicts; `add` writes each one at once, `close` writes the summary."""

    TERMINAL = ("frame", "item", "region", "text", "date", "lot", "confidence", "verdict", "latency_ms", "source")
    HEADERS = ("frame", "item", "region", "text", "date", "lot", "conf", "verdict", "ms", "source")
    WIDTHS = (6, 14, 8, 30, 10, 10, 5, 7, 7, 0)

    def __init__(self, jsonl=None, csv_path=None, summary=None, terminal=sys.stdout):
        self.summary = Summary()
        self.summary_path, self.terminal = summary, terminal
        self.jsonl = _open_lines(jsonl)
        self.csv = _open_lines(csv_path)
        if self.csv is not None:
            self._csv_line(COLUMNS)
        if terminal is not None:
            self._term(self.HEADERS)
        self.verdicts = []

    def _csv_line(self, row):
        buf = io.StringIO()
        csv.writer(buf, lineterminator="\n").writerow(row)
        self.csv.write(buf.getvalue())
        self.csv.flush()

    def _term(self, cells):
        out = []
        for cell, width in zip(cells, self.WIDTHS):
            text = str(cell)
            out.append(text[:width].ljust(width) if width else text)
        self.terminal.write("  ".join(out).rstrip() + "\n")
        self.terminal.flush()

    def add(self, v):
        self.verdicts.append(v)
        self.summary.add(v)
        if self.jsonl is not None:
            self.jsonl.write(json.dumps(v.to_dict()) + "\n")
            self.jsonl.flush()
        row = dict(zip(COLUMNS, v.row()))
        if self.csv is not None:
            self._csv_line(v.row())
        if self.terminal is not None:
            row["confidence"] = "%.3f" % (v.confidence or 0.0)
            row["latency_ms"] = "%.1f" % (v.latency_ms or 0.0)
            self._term([row[c] for c in self.TERMINAL])

    def close(self):
        self.summary.end = time.perf_counter()
        for f in (self.jsonl, self.csv):
            if f is not None:
                f.close()
        if self.terminal is not None:
            self.terminal.write(self.summary.line() + "\n")
        if self.summary_path:  # the kit's one atomic writer (temp file + rename)
            write_json_atomic(self.summary_path, self.summary.to_dict())
        return self.summary.to_dict()


def _open_lines(path):
    if not path:
        return None
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        os.makedirs(folder)
    return open(path, "w", newline="")
