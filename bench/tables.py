"""The paper-format comparison table, built from result documents, and the paper's own numbers
(bench/data/paper_reference.csv, kept as data with its source) to print beside ours."""
import csv
import io
import os

from . import DATA, results

HEADERS = ["engine", "device", "precision", "strict acc", "norm. strict acc", "CER", "char prec",
           "char recall", "pre ms", "OCR ms", "total ms", "FPS", "batch FPS"]
REJECTION_HEADERS = ["engine", "threshold from", "threshold", "precision", "coverage", "accuracy at full coverage",
                     "calibration error"]
TELEMETRY_HEADERS = ["power W", "mJ/read", "peak °C"]
STAGE_HEADERS = ["engine", "stage", "mean ms", "p90 ms", "share"]
REFERENCE_CSV = os.path.join(DATA, "paper_reference.csv")


def _pct(x):
    return "" if x is None else "{:.1f}%".format(100.0 * x)


def _num(x, digits=1):
    return "" if x is None else "{:.{}f}".format(x, digits)


def measured(docs):
    """The runs that have numbers (status ok); the others go to `not_measured`'s list."""
    return [d for d in docs if d.get("status") == "ok"]


def row(doc):
    """One table row (list of strings) for a measured result document."""
    eng = doc.get("engine") or {}
    name = eng.get("name", "?")
    precision = eng.get("precision", "")
    if eng.get("accuracy_flag") == "accuracy-degraded":  # the FP16 guard let it run, marked (ocr/accel/guard.py)
        precision += " (accuracy-degraded)"
    device = results.device_label(doc.get("machine") or {}, eng.get("device", "cpu"))
    s = doc["summary"]
    raw, norm, t = s["metrics"]["raw"], s["metrics"]["normalised"], s["timing"]
    return [name, device, precision, _pct(raw["strict_accuracy"]), _pct(norm["strict_accuracy"]),
            _pct(raw.get("cer")), _pct(raw.get("char_precision")), _pct(raw.get("char_recall")),
            _num(t["pre_ms"]["mean"]), _num(t["ocr_ms"]["mean"]), _num(t["total_ms"]["mean"]),
            _num(s.get("fps"), 2), _num((s.get("throughput") or {}).get("fps"), 2)]


def not_measured(docs, hosts=None):
    """One compact line per reason for the runs without numbers, under the table instead of
    full-width rows: '- easyocr-cuda, ppocr-onnx-cuda: unavailable: no CUDA GPU'."""
    grouped = {}
    for i, doc in enumerate(docs):
        if doc.get("status") == "ok":
            continue
        status = "failed" if doc.get("status") == "error" else doc.get("status") or "?"
        reason = (str(doc.get("reason") or "").strip().splitlines() or ["no reason given"])[0]
        name = (doc.get("engine") or {}).get("name", "?")
        grouped.setdefault((status, reason), []).append(name if hosts is None else "{} @ {}".format(name, hosts[i]))
    return ["- {}: {}: {}".format(", ".join(names), status, reason) for (status, reason), names in grouped.items()]


def rejection(docs):
    """(headers, rows): precision and coverage of the reads accepted at a confidence threshold,
    for the engine's shipped threshold (calibrated on other data) and the run's oracle one."""
    rows = []
    for doc in docs:
        s = doc.get("summary") or {}
        full = _pct(((s.get("metrics") or {}).get("normalised") or {}).get("strict_accuracy"))
        ece = _num(s.get("calibration_error"), 3)
        for key, source in (("rejection_shipped", "engine (calibrated)"), ("rejection", "this run (oracle)")):
            r = s.get(key)
            if r:
                rows.append([(doc.get("engine") or {}).get("name", "?"), source, _num(r["threshold"], 3),
                             _pct(r["precision"]), _pct(r["coverage"]), full, ece])
    return REJECTION_HEADERS, rows


def stages(docs):
    """(headers, rows): where an engine's OCR time per crop goes (batch 1), one row a stage, for
    engines that time their own stages (codereader: split, network, decode)."""
    rows = []
    for doc in docs:
        staged = (doc.get("summary") or {}).get("stages") or []
        total = sum(st["mean"] for st in staged) or 1.0
        name = (doc.get("engine") or {}).get("name", "?")
        rows += [[name, st["stage"], _num(st["mean"]), _num(st["p90"]), _pct(st["mean"] / total)] for st in staged]
    return STAGE_HEADERS, rows


def side_tables(docs, hosts=None):
    """[(title, note, headers, rows)]: the tables printed after the comparison, for the
    runs that have them; with `hosts` (one a doc) a host column first, as `invoke report` shows."""
    out = []
    for title, note, table in (
            ("Confident rejection", "reads accepted at confidence >= threshold (norm. exact; 99 % precision wanted)",
             rejection),
            ("Stages of OCR time per crop (batch 1)", "on a Nano the network runs on the GPU, the rest in Python",
             stages)):
        headers = table([])[0]
        if hosts is None:
            rows = table(docs)[1]
        else:
            headers = ["host"] + headers
            rows = [[host] + r for doc, host in zip(docs, hosts) for r in table([doc])[1]]
        if rows:
            out.append((title, note, headers, rows))
    return out


def telemetry_cells(doc):
    tel = ((doc.get("summary") or {}).get("telemetry") or {})
    return [_num(tel.get("mean_power_w"), 2), _num(tel.get("energy_per_read_mj"), 1),
            _num(tel.get("peak_temp_c"), 1)]


def comparison(docs):
    """(headers, rows) of the measured runs (`not_measured` lists the others); telemetry columns
    only when some run measured power or temperature."""
    docs = measured(docs)
    with_tel = any(any(telemetry_cells(d)) for d in docs)
    headers = HEADERS + (TELEMETRY_HEADERS if with_tel else [])
    rows = [row(d) + (telemetry_cells(d) if with_tel else []) for d in docs]
    return headers, rows


def reference():
    """(headers, rows, source line) of the paper's published numbers."""
    with io.open(REFERENCE_CSV, encoding="utf-8") as f:
        source = f.readline().lstrip("# ").strip().replace("source: ", "", 1)
        rows = list(csv.DictReader(f))
    headers = ["engine", "platform", "precision", "strict acc", "CER", "char prec", "char recall",
               "pre ms", "OCR ms", "total ms", "FPS"]
    out = [[r["engine"], r["platform"], r["precision"], r["strict_accuracy"] + "%", r["cer"] + "%",
            r["char_precision"] + "%", r["char_recall"] + "%", r["preprocess_ms"], r["ocr_ms"],
            r["total_ms"], r["fps"]] for r in rows]
    return headers, out, source


def render(headers, rows, fmt="github"):
    from tabulate import tabulate
    return tabulate(rows, headers=headers, tablefmt=fmt, disable_numparse=True)
