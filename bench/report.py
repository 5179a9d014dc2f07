"""`invoke report`: compare result files (e.g. a Nano run beside an x86 run) as a terminal table,
CSV, Markdown, and one self-contained HTML page with plots: accuracy vs latency per engine, the
latency distribution, and the worst-read samples with their crops, truth and prediction. The
bench's confident-rejection and Stages tables follow the main one where runs have them.

Runs are grouped by the data they were measured on (dataset name + sha256): each group has its
own tables and plots, headed by that dataset, so runs on different data never sit side by side
as if comparable. Engines that were not measured are one line each under their table."""
import base64
import collections
import csv
import glob
import html
import io
import os

from . import results, tables

WORST = 12
SAMPLE_KEYS = ("id", "image", "truth", "text", "total_ms", "cer_normalised", "exact_normalised", "confidence")
HOW_TO_READ = ("How to read this: each marker is one run (engine @ host, named in the legend); further "
               "left is faster (log scale), higher is more accurate, so the best trade-offs sit top-left; "
               "the dashed line is 30 frames per second.")


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


def host(doc):
    return (doc.get("machine") or {}).get("hostname", "?")


def run_label(doc):
    return "{} @ {}".format((doc.get("engine") or {}).get("name", "?"), host(doc))


def by_dataset(docs):
    """[(label, docs)]: the runs grouped by the data they were measured on (name + sha256)."""
    groups = collections.OrderedDict()
    for d in docs:
        info = d.get("dataset") or {}
        groups.setdefault((results.dataset_label(info), info.get("sha256"), info.get("measured")), []).append(d)
    return [(key[0], group) for key, group in groups.items()]


def samples_of(doc):
    """The per-sample records a report can show (a hand-edited file may lack some keys)."""
    return [s for s in doc.get("samples") or [] if isinstance(s, dict) and all(k in s for k in SAMPLE_KEYS)]


def csv_text(headers, rows):
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(headers)
    for r in rows:
        w.writerow(r)
    return buf.getvalue()


def _png(fig):
    """The figure as base64 PNG (the legend beside the axes is kept: bbox tight); closes it."""
    import matplotlib.pyplot as plt
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=96, bbox_inches="tight")
    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _log_ms_axis(ax):
    """A log x axis labelled 10, 20, 50, 100 ... in plain numbers (the default's minor labels
    such as 3x10^1 run into each other)."""
    from matplotlib import ticker
    ax.set_xscale("log")
    ax.xaxis.set_major_locator(ticker.LogLocator(subs=(1.0, 2.0, 5.0)))
    ax.xaxis.set_major_formatter(ticker.FormatStrFormatter("%g"))
    ax.xaxis.set_minor_formatter(ticker.NullFormatter())


def plot_accuracy_latency(docs, title=""):
    return _png(accuracy_latency_figure(docs, title))


def accuracy_latency_figure(docs, title=""):
    """One marker per run, named in a legend beside the axes (labels on the points overlap)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(7, 4.5))
    markers = "osD^vP*Xh<>p"
    for i, d in enumerate(docs):
        s = d["summary"]
        x = s["timing"]["total_ms"]["mean"]
        y = 100 * s["metrics"]["normalised"]["strict_accuracy"]
        ax.scatter([x], [y], s=50, marker=markers[i % len(markers)], label=run_label(d))
    ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), fontsize=8, frameon=False)
    ax.set_title(title, fontsize=9)
    ax.axvline(1000.0 / 30, color="grey", ls="--", lw=1)
    ax.text(1000.0 / 30, 2, " 30 FPS", color="grey", fontsize=8)
    _log_ms_axis(ax)
    ax.set_xlabel("mean total latency per crop (ms, log)")
    ax.set_ylabel("normalised strict accuracy (%)")
    ax.set_ylim(0, 102)
    ax.grid(alpha=0.3)
    return fig


def plot_latency_distribution(docs, title=""):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(7, 0.9 + 0.45 * len(docs)))
    ax.set_title(title, fontsize=9)
    data = [[s["total_ms"] for s in samples_of(d)] for d in docs]
    try:  # matplotlib >= 3.10 names it orientation; the Nano's older matplotlib knows only vert
        ax.boxplot(data, orientation="horizontal", showfliers=True)
    except TypeError:
        ax.boxplot(data, vert=False, showfliers=True)
    ax.set_yticks(range(1, len(docs) + 1))
    ax.set_yticklabels([run_label(d) for d in docs], fontsize=8)
    _log_ms_axis(ax)
    ax.set_xlabel("total latency per crop (ms, log)")
    ax.grid(alpha=0.3, axis="x")
    return _png(fig)


def crop_thumbnail(doc, sample):
    """The sample's crop as an inline PNG (None when the image is no longer readable, or lies
    outside the dataset's folder: a report embeds nothing else from the machine)."""
    import cv2

    from ocr import dataset
    base = os.path.dirname(str(doc["dataset"].get("path") or ""))
    if not base or not dataset.inside(str(sample["image"])):
        return None
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
    return sorted(samples_of(doc), key=lambda s: (-s["cer_normalised"], str(s["id"])))[:n]


def render_html(groups, reference):
    """The page: per dataset (label, runs, headers, rows, not-measured lines, side tables), its
    tables, plots and worst reads; then the paper's numbers."""
    esc = html.escape
    parts = ["<!DOCTYPE html><html><head><meta charset='utf-8'><title>OCR benchmark report</title>",
             "<style>body{font-family:sans-serif;margin:24px;max-width:1200px}"
             "table{border-collapse:collapse;font-size:13px;margin:8px 0}"
             "td,th{border:1px solid #ccc;padding:3px 6px}th{background:#eee}"
             ".bad{color:#b00}.ok{color:#070}code{background:#f4f4f4}.how{color:#444;font-size:13px}"
             "</style></head><body>", "<h1>OCR benchmark report</h1>"]
    for label, docs, headers, rows, missing, sections in groups:
        info = docs[0].get("dataset") or {}
        parts += ["<h2>Dataset: {}</h2><p>{} &middot; sha256 <code>{}</code></p>".format(
            esc(label), esc(str(info.get("path", "?"))), esc(str(info.get("sha256", "?")))),
            "<h3>Runs</h3>", _html_table(headers, rows)]
        if missing:
            parts.append("<p>Not measured here:</p><ul class='missing'>{}</ul>".format(
                "".join("<li>{}</li>".format(esc(m[2:])) for m in missing)))
        for title, note, h, r in sections:
            parts += ["<h3>{}</h3><p>{}</p>".format(esc(title), esc(note)), _html_table(h, r)]
        ok = [d for d in tables.measured(docs) if samples_of(d)]
        if not ok:
            continue
        parts += ["<h3>Accuracy vs latency</h3>", "<p class='how'>{}</p>".format(esc(HOW_TO_READ)),
                  "<img class='acc-latency' alt='accuracy vs latency on {}' src='data:image/png;base64,{}'>".format(
                      esc(label), plot_accuracy_latency(ok, "dataset: " + label)),
                  "<h3>Latency distribution</h3>",
                  "<img class='latency-dist' alt='latency distribution on {}' src='data:image/png;base64,{}'>".format(
                      esc(label), plot_latency_distribution(ok, "dataset: " + label)),
                  "<h3>Worst reads</h3>"]
        for d in ok:
            parts.append("<h4>{}</h4><table class='worst'><tr><th>id</th><th>crop</th><th>truth</th>"
                         "<th>prediction</th><th>CER (norm.)</th><th>conf</th></tr>".format(esc(run_label(d))))
            for s in worst_samples(d):
                thumb = crop_thumbnail(d, s)
                img = "<img src='data:image/png;base64,{}'>".format(thumb) if thumb else "(not shown)"
                cls = "ok" if s["exact_normalised"] else "bad"
                parts.append("<tr><td>{}</td><td>{}</td><td><code>{}</code></td><td class='{}'><code>{}"
                             "</code></td><td>{}</td><td>{}</td></tr>".format(
                                 esc(str(s["id"])), img, esc(str(s["truth"])), cls, esc(str(s["text"])),
                                 esc(_fmt(s["cer_normalised"], 3)), esc(_fmt(s["confidence"], 2))))
            parts.append("</table>")
    rh, rr, source = reference
    parts += ["<h2>The paper's published numbers</h2>", _html_table(rh, rr),
              "<p>Source: {}</p>".format(esc(source)), "</body></html>"]
    return "\n".join(parts)


def _fmt(x, digits):
    try:
        return "{:.{}f}".format(float(x), digits)
    except (TypeError, ValueError):
        return str(x)


def _html_table(headers, rows):
    out = ["<table><tr>" + "".join("<th>{}</th>".format(html.escape(str(h))) for h in headers) + "</tr>"]
    for r in rows:
        out.append("<tr>" + "".join("<td>{}</td>".format(html.escape(str(c))) for c in r) + "</tr>")
    return "".join(out) + "</table>"


def _group_tables(label, docs, headers):
    """(label, docs, headers, rows, not-measured lines, side tables) of one dataset's runs, with
    a host column first; `headers` are all groups' (telemetry columns when any run has them)."""
    measured = tables.measured(docs)
    hosts = [host(d) for d in measured]
    rows = [[h] + r + [""] * (len(headers) - len(r)) for h, r in zip(hosts, tables.comparison(docs)[1])]
    sections = [("{} [{}]".format(title, label), note, h, r)
                for title, note, h, r in tables.side_tables(measured, hosts)]
    return label, docs, ["host"] + headers, rows, tables.not_measured(docs, [host(d) for d in docs]), sections


def _group_text(group):
    label, docs, headers, rows, missing, sections = group
    info = docs[0].get("dataset") or {}
    parts = ["Dataset: {}: {}\n{}".format(label, info.get("path", "?"), tables.render(headers, rows))]
    if missing:
        parts[0] += "\nNot measured here:\n" + "\n".join(missing)
    parts += ["{}: {}\n{}".format(title, note, tables.render(h, r)) for title, note, h, r in sections]
    return "\n\n".join(parts)


def _text(text):
    return lambda f: f.write(text)


def report_cli(paths, out, echo=print):
    """Write table.md, table.csv, report.html under `out`; print the tables. Exit code."""
    docs, problems = collect(paths)
    for p in problems:
        echo("report: skipped {}".format(p))
    if not docs:
        echo("report: no result files to compare in {}{}".format(
            " ".join(paths), " ({} skipped above)".format(len(problems)) if problems else ""))
        return 2
    headers = tables.comparison(docs)[0]
    groups = [_group_tables(label, group, headers) for label, group in by_dataset(docs)]
    # GitHub Markdown: the terminal's and table.md's
    text = "\n\n".join(_group_text(g) for g in groups)
    echo(text)
    try:
        if not os.path.isdir(out):
            os.makedirs(out)
        rows = [[g[0]] + r for g in groups for r in g[3]]
        results.write_atomic(os.path.join(out, "table.csv"), _text(csv_text(["dataset"] + groups[0][2], rows)))
        results.write_atomic(os.path.join(out, "table.md"), _text(text + "\n"))
        results.write_atomic(os.path.join(out, "report.html"), _text(render_html(groups, tables.reference())))
    except OSError as exc:
        echo("report: cannot write under {}: {}".format(out, getattr(exc, "strerror", None) or exc))
        return 1
    echo("report: {} runs on {} dataset{} -> {}".format(len(docs), len(groups), "" if len(groups) == 1 else "s",
                                                        os.path.join(out, "report.html")))
    return 0
