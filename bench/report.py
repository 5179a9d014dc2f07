"""`invoke report`: compare result files (e.g. a Nano run beside an x86 run) as a terminal table,
CSV, Markdown, and one self-contained HTML page with plots: accuracy vs latency per engine, the
latency distribution, and the worst-read samples with their crops, truth and prediction. The
bench's confident-rejection and Stages tables follow the main one where runs have them."""
import base64
import csv
import glob
import html
import io
import os

from . import results, tables

WORST = 12


def collect(paths):
    """Result documents from files and folders (folders: every *.json below them)."""
    docs, problems = [], []
    for p in paths:
        files = sorted(glob.glob(os.path.join(p, "**", "*.json"), recursive=True)) if os.path.isdir(p) else [p]
        for f in files:
            try:
                doc = results.read_result(f)
            except (IOError, OSError, ValueError) as exc:
                problems.append("{}: {}".format(f, exc))
                continue
            doc["_file"] = f
            docs.append(doc)
    return docs, problems


def run_label(doc):
    host = (doc.get("machine") or {}).get("hostname", "?")
    return "{} @ {}".format((doc.get("engine") or {}).get("name", "?"), host)


def write_csv(path, headers, rows):
    with io.open(path, "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(headers)
        for r in rows:
            w.writerow(r)


def _png(fig):
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=96, bbox_inches="tight")
    return base64.b64encode(buf.getvalue()).decode("ascii")


def plot_accuracy_latency(docs):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for d in docs:
        s = d["summary"]
        x = s["timing"]["total_ms"]["mean"]
        y = 100 * s["metrics"]["normalised"]["strict_accuracy"]
        ax.scatter([x], [y], s=50)
        ax.annotate(run_label(d), (x, y), textcoords="offset points", xytext=(5, 4), fontsize=8)
    ax.axvline(1000.0 / 30, color="grey", ls="--", lw=1)
    ax.text(1000.0 / 30, 2, " 30 FPS", color="grey", fontsize=8)
    ax.set_xscale("log")
    ax.set_xlabel("mean total latency per crop (ms, log)")
    ax.set_ylabel("normalised strict accuracy (%)")
    ax.set_ylim(0, 102)
    ax.grid(alpha=0.3)
    data = _png(fig)
    plt.close(fig)
    return data


def plot_latency_distribution(docs):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(7, 0.5 + 0.45 * len(docs)))
    data = [[s["total_ms"] for s in d["samples"]] for d in docs]
    try:  # matplotlib >= 3.10 names it orientation; the Nano's older matplotlib knows only vert
        ax.boxplot(data, orientation="horizontal", showfliers=True)
    except TypeError:
        ax.boxplot(data, vert=False, showfliers=True)
    ax.set_yticks(range(1, len(docs) + 1))
    ax.set_yticklabels([run_label(d) for d in docs], fontsize=8)
    ax.set_xscale("log")
    ax.set_xlabel("total latency per crop (ms, log)")
    ax.grid(alpha=0.3, axis="x")
    data = _png(fig)
    plt.close(fig)
    return data


def crop_thumbnail(doc, sample):
    """The sample's crop as an inline PNG (None when the image is no longer readable)."""
    import cv2

    from ocr import dataset
    base = os.path.dirname(doc["dataset"]["path"])
    try:
        img = dataset.read_image(os.path.join(base, sample["image"]))
    except ValueError:
        return None
    h = img.shape[0]
    if h > 64:
        img = cv2.resize(img, (int(img.shape[1] * 64.0 / h), 64))
    ok, buf = cv2.imencode(".png", img)
    return base64.b64encode(buf.tobytes()).decode("ascii") if ok else None


def worst_samples(doc, n=WORST):
    return sorted(doc["samples"], key=lambda s: (-s["cer_normalised"], s["id"]))[:n]


def render_html(docs, headers, rows, reference, sections=()):
    ok = [d for d in docs if d.get("status") == "ok" and d.get("samples")]
    esc = html.escape
    parts = ["<!DOCTYPE html><html><head><meta charset='utf-8'><title>OCR benchmark report</title>",
             "<style>body{font-family:sans-serif;margin:24px;max-width:1200px}"
             "table{border-collapse:collapse;font-size:13px;margin:8px 0}"
             "td,th{border:1px solid #ccc;padding:3px 6px}th{background:#eee}"
             ".bad{color:#b00}.ok{color:#070}code{background:#f4f4f4}</style></head><body>",
             "<h1>OCR benchmark report</h1>", "<h2>Runs</h2>", _html_table(headers, rows)]
    for title, note, h, r in sections:
        parts += ["<h2>{}</h2><p>{}</p>".format(esc(title), esc(note)), _html_table(h, r)]
    if ok:
        parts += ["<h2>Accuracy vs latency</h2>",
                  "<img id='acc-latency' alt='accuracy vs latency' src='data:image/png;base64,{}'>".format(
                      plot_accuracy_latency(ok)),
                  "<h2>Latency distribution</h2>",
                  "<img id='latency-dist' alt='latency distribution' src='data:image/png;base64,{}'>".format(
                      plot_latency_distribution(ok)),
                  "<h2>Worst reads</h2>"]
        for d in ok:
            parts.append("<h3>{}</h3><table class='worst'><tr><th>id</th><th>crop</th><th>truth</th>"
                         "<th>prediction</th><th>CER (norm.)</th><th>conf</th></tr>".format(esc(run_label(d))))
            for s in worst_samples(d):
                thumb = crop_thumbnail(d, s)
                img = "<img src='data:image/png;base64,{}'>".format(thumb) if thumb else "(missing)"
                cls = "ok" if s["exact_normalised"] else "bad"
                parts.append("<tr><td>{}</td><td>{}</td><td><code>{}</code></td><td class='{}'><code>{}"
                             "</code></td><td>{:.3f}</td><td>{:.2f}</td></tr>".format(
                                 esc(s["id"]), img, esc(s["truth"]), cls, esc(s["text"]),
                                 s["cer_normalised"], s["confidence"]))
            parts.append("</table>")
    rh, rr, source = reference
    parts += ["<h2>The paper's published numbers</h2>", _html_table(rh, rr),
              "<p>Source: {}</p>".format(esc(source)), "</body></html>"]
    return "\n".join(parts)


def _html_table(headers, rows):
    out = ["<table><tr>" + "".join("<th>{}</th>".format(html.escape(str(h))) for h in headers) + "</tr>"]
    for r in rows:
        out.append("<tr>" + "".join("<td>{}</td>".format(html.escape(str(c))) for c in r) + "</tr>")
    return "".join(out) + "</table>"


def report_cli(paths, out, echo=print):
    """Write table.md, table.csv, report.html under `out`; print the table. Exit code."""
    docs, problems = collect(paths)
    for p in problems:
        echo("report: skipped {}".format(p))
    if not docs:
        echo("report: no result files found in {}".format(" ".join(paths)))
        return 2
    headers, rows = tables.comparison(docs)
    hosts = [(d.get("machine") or {}).get("hostname", "?") for d in docs]
    headers_h, rows_h = ["host"] + headers, [[h] + r for h, r in zip(hosts, rows)]
    sections = tables.side_tables(docs, hosts)
    # GitHub Markdown: the terminal's and table.md's
    text = "\n\n".join([tables.render(headers_h, rows_h)] +
                        ["{}: {}\n{}".format(title, note, tables.render(h, r)) for title, note, h, r in sections])
    echo(text)
    if not os.path.isdir(out):
        os.makedirs(out)
    write_csv(os.path.join(out, "table.csv"), headers_h, rows_h)
    with io.open(os.path.join(out, "table.md"), "w", encoding="utf-8") as f:
        f.write(text + "\n")
    page = render_html(docs, headers_h, rows_h, tables.reference(), sections)
    with io.open(os.path.join(out, "report.html"), "w", encoding="utf-8") as f:
        f.write(page)
    echo("report: {} runs -> {}".format(len(docs), os.path.join(out, "report.html")))
    return 0
