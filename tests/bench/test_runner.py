"""The runner end to end through real worker processes: two interpreters, bad inputs, atomic
writes, and the scoring wiring."""
import glob
import json
import os
import subprocess
import sys

import pytest

from bench import cli, results, runner
from ocr import dataset
from tests.helpers import write_manifest

ITEMS = [("c1", ["LOT 4711"]), ("c2", ["EXP 2025.05.02"]), ("c3", ["MFG 2024", "LOT 250508"])]


@pytest.fixture(scope="module")
def manifest(tmp_path_factory):
    return write_manifest(str(tmp_path_factory.mktemp("codes")), ITEMS)


@pytest.fixture(scope="module")
def second_python(tmp_path_factory):
    """A second, real interpreter: a fresh venv that sees this venv's packages through a .pth."""
    folder = str(tmp_path_factory.mktemp("venv2"))
    base = getattr(sys, "_base_executable", sys.executable)
    subprocess.check_call([base, "-m", "venv", "--without-pip", folder])
    py = os.path.join(folder, "bin", "python")
    site = subprocess.check_output([py, "-c", "import site; print(site.getsitepackages()[0])"],
                                   universal_newlines=True).strip()
    ours = [p for p in sys.path if p.endswith("site-packages")]
    with open(os.path.join(site, "kit-parent.pth"), "w") as f:
        f.write("\n".join(ours) + "\n")
    return py


@pytest.fixture(scope="module")
def bare_python(tmp_path_factory):
    """An interpreter with nothing installed: every engine must say it is unavailable there."""
    folder = str(tmp_path_factory.mktemp("bare"))
    subprocess.check_call([getattr(sys, "_base_executable", sys.executable), "-m", "venv", "--without-pip", folder])
    return os.path.join(folder, "bin", "python")


def _run(tmp_path, manifest, engines, interp=None, **kw):
    lines = []
    if interp:
        cfg = tmp_path / "interp.yml"
        cfg.write_text("\n".join("{}: {}".format(k, v) for k, v in interp.items()))
        kw["interpreters"] = str(cfg)
    kw.setdefault("warmup", 1)
    kw.setdefault("warmup_image", dataset.load(manifest).samples[0].image)
    code = cli.bench(engines=engines, data=manifest, out=str(tmp_path / "res"), telemetry=False,
                     echo=lines.append, argv=["invoke", "bench", "(test)"], **kw)
    docs = {}
    for f in glob.glob(str(tmp_path / "res" / "*" / "*.json")):
        doc = results.read_result(f)
        docs[doc["engine"]["name"]] = doc
    return code, "\n".join(lines), docs


@pytest.mark.slow
def test_two_interpreters_one_code_path(tmp_path, manifest, second_python):
    code, out, docs = _run(tmp_path, manifest, ["ppocr-onnx-rec", "paddleocr-rec"],
                           interp={"paddleocr-rec": second_python}, batch=2)
    assert code == 0, out
    a, b = docs["ppocr-onnx-rec"], docs["paddleocr-rec"]
    assert a["run"]["worker"]["executable"] == sys.executable
    assert b["run"]["worker"]["executable"] == second_python
    for doc in (a, b):
        assert doc["status"] == "ok"
        s = doc["summary"]
        assert s["samples"] == 3 and s["metrics"]["normalised"]["strict_accuracy"] == 1.0
        assert s["timing"]["ocr_ms"]["p99"] >= s["timing"]["ocr_ms"]["p50"] > 0
        assert s["fps"] == pytest.approx(1000.0 / s["timing"]["total_ms"]["mean"], rel=1e-3)
        assert s["throughput"]["batch"] == 2 and s["throughput"]["n"] == 3
        assert doc["run"]["warmup"]["n"] == 1
        assert doc["dataset"]["sha256"] and doc["machine"]["cores"]
        assert doc["engine"]["models"]["rec" if doc is a else "rec.pdmodel"]["sha256"]
        assert doc["run"]["command"] == ["invoke", "bench", "(test)"]
    assert "ppocr-onnx-rec" in out and "| engine" in out and "Reference" in out


def test_stage_timings_reach_the_result_and_the_printed_table(tmp_path, manifest):
    code, out, docs = _run(tmp_path, manifest, ["codereader", "ppocr-onnx-rec"])
    assert code == 0, out
    s = docs["codereader"]["summary"]
    assert [st["stage"] for st in s["stages"]] == ["split", "network", "decode"]
    assert sum(st["mean"] for st in s["stages"]) <= s["timing"]["ocr_ms"]["mean"]
    assert all(r["stages_ms"]["network"] > 0 for r in docs["codereader"]["samples"])
    assert "stages" not in docs["ppocr-onnx-rec"]["summary"]
    assert "Stages of OCR time per crop" in out and "| codereader | network " in out


def test_unavailable_engine_gets_a_reason_and_others_run(tmp_path, manifest, bare_python):
    code, out, docs = _run(tmp_path, manifest, ["ppocr-onnx-rec", "easyocr-rec", "paddleocr-rec"],
                           interp={"easyocr-rec": bare_python, "paddleocr-rec": "/nonexistent/python"},
                           warmup=0)
    assert code == 1, out  # named with --engine and cannot run: the exit code says so (--all: 0)
    assert docs["ppocr-onnx-rec"]["status"] == "ok"
    assert docs["easyocr-rec"]["status"] == "unavailable"
    assert "numpy" in docs["easyocr-rec"]["reason"] or "No module" in docs["easyocr-rec"]["reason"]
    assert docs["paddleocr-rec"]["status"] == "unavailable"
    assert "does not exist" in docs["paddleocr-rec"]["reason"]
    assert "- paddleocr-rec: unavailable: interpreter /nonexistent/python" in out  # listed under the table


def test_unknown_engine_lists_valid_names(tmp_path, manifest):
    code, out, docs = _run(tmp_path, manifest, ["tesseract"])
    assert code == 2 and "valid engines:" in out and "ppocr-onnx-rec" in out and not docs


def test_unreadable_image_is_an_error_for_that_sample_only(tmp_path, manifest):
    ds = dataset.load(manifest)
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"garbage")
    samples = list(ds.samples)
    samples[1] = dataset.Sample("c2", str(broken), samples[1].text)  # vanished after loading
    doc = runner.run_engine("ppocr-onnx-rec", {}, "gray", ds, samples, sys.executable, 0, 0, None,
                            machine={})
    assert doc["status"] == "ok"
    assert doc["summary"]["errors"] == 1 and doc["summary"]["error_ids"] == ["c2"]
    assert "unreadable" in doc["errors"][0]["error"]
    assert doc["summary"]["samples"] == 2


def test_bad_option_and_missing_warmup_image(tmp_path, manifest):
    code, out, _ = _run(tmp_path, manifest, ["ppocr-onnx-rec"], options=["frobnicate=1"])
    assert code == 2 and "no selected engine has option 'frobnicate'" in out
    code, out, _ = _run(tmp_path, manifest, ["ppocr-onnx-rec"], warmup_image=str(tmp_path / "no.png"))
    assert code == 2 and "warm-up image missing" in out


def test_parse_options_targets_engines():
    opts, pres = cli.parse_options(["threads=2", "ppocr-onnx-rec.batch=4", "pre=gray+clahe",
                                    "paddleocr-rec.pre=none"], ["ppocr-onnx-rec", "paddleocr-rec"])
    assert opts == {"ppocr-onnx-rec": {"threads": 2, "batch": 4}, "paddleocr-rec": {"threads": 2}}
    assert pres == {"ppocr-onnx-rec": "gray+clahe", "paddleocr-rec": "none"}


def test_atomic_write_leaves_old_file_or_nothing(tmp_path, monkeypatch):
    target = str(tmp_path / "r.json")
    results.write_json_atomic(target, {"a": 1})

    def interrupted(obj, f, **kw):
        f.write('{"partial": ')
        raise KeyboardInterrupt

    monkeypatch.setattr(json, "dump", interrupted)
    with pytest.raises(KeyboardInterrupt):
        results.write_json_atomic(target, {"a": 2})
    with pytest.raises(KeyboardInterrupt):
        results.write_json_atomic(str(tmp_path / "new.json"), {"b": 1})
    monkeypatch.undo()
    assert json.load(open(target)) == {"a": 1}
    assert os.listdir(str(tmp_path)) == ["r.json"]  # no temp file, no half-written new file


def test_percentiles_match_numpy():
    import numpy as np
    vals = [5.0, 1.0, 9.0, 3.0, 7.0, 2.0]
    for q in (50, 90, 99):
        assert runner.percentile(vals, q) == pytest.approx(float(np.percentile(vals, q)))


def test_the_summary_reports_the_confidences_calibration_error(manifest):
    """ECE over 10 bins of the run's confidences against its normalised exact matches."""
    run = runner.EngineRun(dataset.load(manifest))
    for sid, text, conf in (("c1", "LOT 4711", 0.95), ("c2", "EXP 2025.05.02", 0.95), ("c3", "LOT", 0.15)):
        run.on_event({"event": "sample", "id": sid, "text": text, "lines": [text], "confidence": conf,
                      "pre_ms": 0.1, "ocr_ms": 1.0, "error": None})
    records, _ = run.score()
    summary = run.summary(records, [])
    assert summary["calibration_error"] == pytest.approx(2 / 3.0 * 0.05 + 1 / 3.0 * 0.15)
