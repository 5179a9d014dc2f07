"""Verdict outputs: a JSONL line and a CSV row per item, each whole when written (a reader tailing
the files never sees half a line), a terminal row, and the summary."""
import csv
import io
import json

from ocr.reader.output import COLUMNS, Outputs, Verdict, percentile


def _verdict(k, verdict, latency):
    return Verdict(wall=1764495000.25 + k, source="cam", frame=10 * k, item=str(k), region="belt",
                   box=[1, 2, 3, 4], text='EXP 05/2027, "A"', fields={"date": "2027-05", "lot": None},
                   confidence=0.91234, verdict=verdict, reason="r", latency_ms=latency, formats=[["labelled_date"]])


def test_lines_are_whole_as_soon_as_an_item_is_written(tmp_path):
    term = io.StringIO()
    out = Outputs(str(tmp_path / "v.jsonl"), str(tmp_path / "v.csv"), str(tmp_path / "s.json"), term)
    out.add(_verdict(1, "PASS", 10.0))
    # before close: the files already hold whole lines
    assert json.loads((tmp_path / "v.jsonl").read_text())["text"] == 'EXP 05/2027, "A"'
    rows = list(csv.reader(io.StringIO((tmp_path / "v.csv").read_text())))
    assert rows[0] == list(COLUMNS) and rows[1][COLUMNS.index("text")] == 'EXP 05/2027, "A"'
    assert rows[1][COLUMNS.index("time")] == "2025-11-30T09:30:01.250Z"
    for k, (v, ms) in enumerate((("FAIL", 30.0), ("REJECT", 20.0)), 2):
        out.add(_verdict(k, v, ms))
    summary = out.close()
    assert summary["counts"] == {"PASS": 1, "FAIL": 1, "REJECT": 1}
    assert summary["latency_ms"] == {"p50": 20.0, "p99": 30.0}
    assert json.loads((tmp_path / "s.json").read_text())["items"] == 3
    lines = term.getvalue().splitlines()
    assert lines[0].split()[:4] == ["frame", "item", "region", "text"] and len(lines) == 5
    assert lines[-1].startswith("3 items: PASS 1, FAIL 1, REJECT 1;")


def test_percentile_nearest_rank():
    values = list(range(1, 101))
    assert (percentile(values, 50), percentile(values, 99)) == (50, 99)
    assert (percentile([7], 99), percentile([], 50)) == (7, None)
