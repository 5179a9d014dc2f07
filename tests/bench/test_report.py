"""`invoke report`: tables, CSV, Markdown and an HTML page that a real headless browser renders."""
import csv
import os
import shutil
import subprocess
import sys

import pytest

from bench import cli, report
from tests.conftest import require_tier
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
                          universal_newlines=True, cwd=os.path.dirname(os.path.dirname(os.path.dirname(
                              os.path.abspath(__file__)))))
    assert proc.returncode == 0, proc.stdout
    assert os.path.isfile(str(tmp_path / "report.html"))
