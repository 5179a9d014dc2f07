"""`invoke report`: tables, CSV, Markdown and an HTML page that a real headless browser renders."""
import csv
import json
import os
import shutil
import subprocess
import sys

import pytest

from bench import cli, report, results
from tests.conftest import ROOT, require_tier
from tests.helpers import write_manifest


@pytest.fixture(scope="module")
def run_dirs(tmp_path_factory):
    """Two real runs of one engine, standing for two hosts (as bench-fleet.yml gathers them)."""
    base = tmp_path_factory.mktemp("rep")
    manifest = write_manifest(str(base / "data"), [("a", ["LOT 4711"]), ("b", ["EXP 2025.05.02"]),
                                                   ("c", ["BEST BEFORE 04/03/2023"])])
    out = []
    for host in ("nano-01", "x86"):
        folder = str(base / host)
        assert cli.bench(engines=["ppocr-onnx-rec", "codereader"], data=manifest, out=folder, warmup=0,
                         telemetry=False, echo=lambda *a: None) == 0
        out.append(folder)
    return out


def _chromium():
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


def test_report_files_and_rendering(run_dirs, tmp_path):
    lines = []
    assert report.report_cli(run_dirs, str(tmp_path), echo=lines.append) == 0
    assert "4 runs" in lines[-1]
    with open(str(tmp_path / "table.csv")) as f:
        rows = list(csv.reader(f))
    assert rows[0][:4] == ["dataset", "host", "engine", "device"] and len(rows) == 5
    assert rows[1][0].startswith("data (sha256 ")  # the folder holding the manifest, and its hash
    md = (tmp_path / "table.md").read_text()
    assert md.startswith("Dataset: data (sha256 ") and "\n| host" in md
    # the side tables: each run's oracle threshold (and codereader's shipped one), codereader's stages
    assert "Confident rejection" in md and "engine (calibrated)" in md
    assert "Stages of OCR time" in md and md.count("| codereader | decode ") == 2
    page = (tmp_path / "report.html").read_text()
    assert "<h3>Stages of OCR time per crop (batch 1) [data (sha256 " in page
    assert page.count("data:image/png;base64,") >= 2 + 3  # two plots + crops of worst reads

    browser = _chromium()
    require_tier("browser", browser, "no chromium (apt-get install chromium)")
    profile = str(tmp_path / "profile")
    flags = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             "--user-data-dir=" + profile]
    url = "file://" + str(tmp_path / "report.html")
    dom = subprocess.run(flags + ["--dump-dom", url], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         universal_newlines=True, timeout=120).stdout
    assert "<h1>OCR benchmark report</h1>" in dom and "Worst reads" in dom
    assert 'class="acc-latency"' in dom and "ppocr-onnx-rec" in dom
    shot = str(tmp_path / "shot.png")
    subprocess.run(flags + ["--screenshot=" + shot, "--window-size=1200,1600", url], stdout=subprocess.PIPE,
                   stderr=subprocess.PIPE, timeout=120)
    assert os.path.getsize(shot) > 20000  # a rendered page with plots, not a blank one


def test_report_without_results_is_one_line(tmp_path):
    lines = []
    assert report.report_cli([str(tmp_path)], str(tmp_path / "out"), echo=lines.append) == 2
    assert len(lines) == 1 and "no result files" in lines[0]


def test_report_skips_foreign_json(tmp_path, run_dirs):
    (tmp_path / "other.json").write_text('{"hello": 1}')
    lines = []
    assert report.report_cli([run_dirs[0], str(tmp_path / "other.json")], str(tmp_path / "o"),
                             echo=lines.append) == 0
    assert any("skipped" in line and "not a bench result" in line for line in lines)


def test_invoke_report_task(run_dirs, tmp_path):
    proc = subprocess.run([sys.executable, "-m", "invoke", "report", "--results", " ".join(run_dirs),
                           "--out", str(tmp_path)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          universal_newlines=True, cwd=ROOT)
    assert proc.returncode == 0, proc.stdout
    assert os.path.isfile(str(tmp_path / "report.html"))


def _fake(doc, **changes):
    out = json.loads(json.dumps(doc))
    out.update(changes)
    return out


def test_runs_on_different_datasets_are_grouped_never_interleaved(run_dirs, tmp_path):
    docs, _ = report.collect(run_dirs[:1])
    other = [_fake(d, dataset=dict(d["dataset"], sha256="f" * 64)) for d in docs]
    missing = _fake(docs[0], status="unavailable", reason="no CUDA device", engine={"name": "x-cuda"})
    host = report.host(docs[0])
    for i, d in enumerate([other[0], docs[0], missing, other[1], docs[1]]):
        results.write_json_atomic(str(tmp_path / "in" / "{}.json".format(i)), d)
    lines = []
    assert report.report_cli([str(tmp_path / "in")], str(tmp_path / "out"), echo=lines.append) == 0
    text = lines[0]
    first, second = text.split("Dataset: ")[1:3]
    assert first.startswith("data (sha256 ffffffffffff)") and second.startswith("data (sha256 {})".format(
        docs[0]["dataset"]["sha256"][:12]))
    for block in (first, second):  # each dataset's table holds its own two runs, the same engines
        assert block.count("| {} ".format(host)) >= 2 and "| codereader " in block and "| ppocr-onnx-rec " in block
    assert "Not measured here:\n- x-cuda @ {}: unavailable: no CUDA device".format(host) in second
    assert "x-cuda" not in "".join(line for line in second.splitlines() if line.startswith("| "))
    assert "2 datasets" in lines[-1]
    page = (tmp_path / "out" / "report.html").read_text()
    assert page.count("<h2>Dataset: data (sha256 ") == 2 and page.count("class='acc-latency'") == 2
    assert "<li>x-cuda @ {}: unavailable: no CUDA device</li>".format(host) in page and report.HOW_TO_READ in page
    rows = list(csv.reader(open(str(tmp_path / "out" / "table.csv"))))
    assert sorted(r[0] for r in rows[1:]) == ["data (sha256 {})".format(docs[0]["dataset"]["sha256"][:12])] * 2 + [
        "data (sha256 ffffffffffff)"] * 2


def test_a_limited_run_is_not_compared_with_a_full_one(run_dirs, tmp_path):
    docs, _ = report.collect(run_dirs[:1])
    part = _fake(docs[0], dataset=dict(docs[0]["dataset"], measured=1))
    groups = report.by_dataset([docs[0], part])
    assert [label.endswith(", first 1 of 3 samples)") for label, _ in groups] == [False, True]


def test_scatter_names_each_run_in_a_legend(run_dirs):
    docs, _ = report.collect(run_dirs)
    fig = report.accuracy_latency_figure(docs, "dataset: x")
    legend = fig.axes[0].get_legend()
    assert [t.get_text() for t in legend.get_texts()] == [report.run_label(d) for d in docs]
    assert fig.axes[0].get_title() == "dataset: x"


def test_html_embeds_only_images_inside_the_dataset(run_dirs, tmp_path):
    docs, _ = report.collect(run_dirs[:1])
    doc = docs[0]
    sample = dict(doc["samples"][0])
    assert report.crop_thumbnail(doc, sample)  # inside: shown
    outside = tmp_path / "secret.png"
    outside.write_bytes(open(os.path.join(os.path.dirname(doc["dataset"]["path"]), sample["image"]), "rb").read())
    for path in (str(outside), os.path.relpath(str(outside), os.path.dirname(doc["dataset"]["path"]))):
        assert report.crop_thumbnail(doc, dict(sample, image=path)) is None
