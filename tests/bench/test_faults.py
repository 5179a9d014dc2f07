"""Fault injection: bad manifests, bad options, concurrent runs, a worker that hangs, stops, dies
or is interrupted, unwritable and full output. What must hold every time: no result lost or
overwritten, no number computed on the wrong basis, one clear line per problem, the other engines
and samples still measured, and exit codes that say what happened (0: every engine ran, or under
--all was unavailable here; 1: one failed, one named with --engine cannot run, or a result was not
written; 2: bad arguments or data; 130: interrupted).

Real workers, real files and real mounts (a read-only and a full tmpfs: CI runs as root, so file
modes would not stop a write). The only stand-in is the faulty worker: a wrapper interpreter that
runs the real `bench.worker` with one engine call made to hang, stop, or die."""
import glob
import json
import os
import shutil
import signal
import subprocess
import sys
import time

import pytest

from bench import cli, report, results, runner
from ocr import dataset
from tests.conftest import ROOT, require_tier
from tests.helpers import write_manifest

ITEMS = [("f1", ["LOT 4711"]), ("f2", ["EXP 2025.05.02"]), ("f3", ["MFG 2024", "LOT 250508"])]
FAST = {"warmup": 0, "batch": 0, "telemetry": False}
ENGINES = ["codereader", "ppocr-onnx-rec"]
FAULT_WORKER = '''
import os, signal, sys, time
from bench import worker
from ocr.engines import registry
fault, at = os.environ["KIT_FAULT"], int(os.environ.get("KIT_FAULT_AT", "1"))
real_create = registry.create

def create(name, **options):
    engine = real_create(name, **options)
    real_predict, calls = engine.predict, []
    if fault == "load-hang":
        engine.load = lambda: time.sleep(3600)

    def predict(crops):
        calls.append(1)
        if len(calls) == at:
            if fault == "hang":
                if os.environ.get("KIT_FAULT_MARK"):  # says "hanging now" to a test that waits for it
                    open(os.environ["KIT_FAULT_MARK"], "w").close()
                time.sleep(3600)
            elif fault == "stop":
                os.kill(os.getpid(), signal.SIGSTOP)
            elif fault == "kill":
                os.kill(os.getpid(), signal.SIGKILL)
            elif fault == "interrupt":
                os.kill(os.getpid(), signal.SIGINT)
            elif fault == "raise":
                raise RuntimeError("injected\\nsecond line")
        return real_predict(crops)
    engine.predict = predict
    return engine

registry.create = create
sys.exit(worker.main())
'''


@pytest.fixture(scope="module")
def manifest(tmp_path_factory):
    return write_manifest(str(tmp_path_factory.mktemp("faults")), ITEMS)


@pytest.fixture(scope="module")
def fault_python(tmp_path_factory):
    """An 'interpreter' that runs the real worker with a fault injected (KIT_FAULT, KIT_FAULT_AT)."""
    folder = tmp_path_factory.mktemp("faultpy")
    script = folder / "fault_worker.py"
    script.write_text(FAULT_WORKER)
    wrapper = folder / "python"
    wrapper.write_text('#!/bin/sh\nexec "{}" "{}"\n'.format(sys.executable, script))
    wrapper.chmod(0o755)
    return str(wrapper)


def _bench(tmp_path, manifest, engines, **kw):
    lines = []
    for key, value in FAST.items():
        kw.setdefault(key, value)
    interp = kw.pop("interp", None)
    if interp:
        cfg = tmp_path / "interp.yml"
        cfg.write_text("\n".join("{}: {}".format(k, v) for k, v in interp.items()))
        kw["interpreters"] = str(cfg)
    kw.setdefault("out", str(tmp_path / "res"))
    code = cli.bench(engines=engines, data=manifest, echo=lines.append, argv=["invoke", "bench", "(test)"], **kw)
    return code, lines


def _docs(folder):
    return {results.read_result(f)["engine"]["name"]: results.read_result(f)
            for f in glob.glob(os.path.join(str(folder), "*", "*.json"))}


def _invoke(*args, **kw):
    return subprocess.run([sys.executable, "-m", "invoke"] + list(args), cwd=ROOT, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, universal_newlines=True, timeout=600, **kw)


def _no_traceback(text):
    assert "Traceback" not in text, text[-2000:]


def _measured_line(lines, name):
    return [line for line in lines if line.startswith("bench: {} ".format(name))]


# --- 1. run ids, no overwriting, one dataset per run folder ----------------------------------------
def test_two_runs_in_the_same_second_get_two_folders(tmp_path, monkeypatch):
    monkeypatch.setattr(results.time, "strftime", lambda fmt: "20260101-000000")
    a, b = results.new_run_dir(str(tmp_path)), results.new_run_dir(str(tmp_path))
    assert a != b and os.path.isdir(a) and os.path.isdir(b)


def test_a_result_file_is_never_overwritten(tmp_path):
    path = str(tmp_path / "codereader.json")
    results.write_json_atomic(path, {"first": 1}, overwrite=False)
    with pytest.raises(FileExistsError):
        results.write_json_atomic(path, {"second": 2}, overwrite=False)
    assert json.load(open(path)) == {"first": 1} and os.listdir(str(tmp_path)) == ["codereader.json"]


def test_two_benches_started_together_keep_both_results(tmp_path, manifest):
    args = ["bench", "--engine", "codereader", "--data", manifest, "--limit", "1", "--warmup", "0",
            "--batch", "0", "--no-telemetry", "--out", str(tmp_path)]
    procs = [subprocess.Popen([sys.executable, "-m", "invoke"] + args, cwd=ROOT, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, universal_newlines=True) for _ in range(2)]
    outs = [p.communicate(timeout=600)[0] for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    files = sorted(glob.glob(str(tmp_path / "*" / "codereader.json")))
    assert len(files) == 2  # two run folders, one file each: nothing overwritten
    assert all(results.read_result(f)["status"] == "ok" for f in files)
    assert {line for out in outs for line in out.splitlines() if line.startswith("results: ")} == \
        {"results: " + os.path.dirname(f) for f in files}


# --- 2. line_join -------------------------------------------------------------------------------------
def test_raw_metrics_join_predicted_lines_as_the_labels_do(tmp_path):
    folder = str(tmp_path)
    path = write_manifest(folder, [("m1", ["MFG 2024", "LOT 250508"])])
    with open(path) as f:
        line = json.loads(f.read())
    line["text"] = "MFG 2024LOT 250508"  # the paper's labels: lines joined with nothing
    with open(path, "w") as f:
        f.write('{"manifest": {"line_join": ""}}\n' + json.dumps(line) + "\n")
    ds = dataset.load(path)
    run = runner.EngineRun(ds)
    run.on_event({"event": "sample", "id": "m1", "text": "MFG 2024 LOT 250508", "lines": ["MFG 2024", "LOT 250508"],
                  "confidence": 0.9, "pre_ms": 0.1, "ocr_ms": 1.0, "error": None})
    records, _ = run.score()
    assert records[0]["text"] == "MFG 2024LOT 250508" and records[0]["exact"] and records[0]["cer"] == 0
    assert run.summary(records, [])["metrics"]["raw"]["strict_accuracy"] == 1.0


# --- 3. counts on the command line ---------------------------------------------------------------------
@pytest.mark.parametrize("args", [["--limit", "-1"], ["--limit", "abc"], ["--batch", "-3"], ["--warmup=-5"],
                                  ["--sample-timeout", "-1"], ["--load-timeout", "nan"]])
def test_bad_counts_are_one_line_and_exit_2(tmp_path, manifest, args):
    proc = _invoke("bench", "--engine", "codereader", "--data", manifest, "--out", str(tmp_path), *args)
    assert proc.returncode == 2, proc.stdout
    assert len(proc.stdout.strip().splitlines()) == 1 and "wants a" in proc.stdout, proc.stdout
    assert not os.listdir(str(tmp_path))  # nothing measured, nothing written


# --- 4. bad boxes rejected per sample at load ------------------------------------------------------------
def test_nan_and_subpixel_boxes_cost_their_sample_only(tmp_path, manifest):
    image = dataset.load(manifest).samples[0].image
    lines = [json.dumps({"image": image, "text": "LOT 4711", "tags": {"id": "good"}}),
             '{"image": "%s", "text": "LOT 1", "box": [NaN, 0, 10, 10]}' % image,
             '{"image": "%s", "text": "LOT 2", "box": [0, 0, Infinity, 10]}' % image,
             json.dumps({"image": image, "text": "LOT 3", "box": [10.2, 2, 10.4, 20]})]
    path = tmp_path / "boxes.jsonl"
    path.write_text("\n".join(lines) + "\n")
    code, out = _bench(tmp_path, str(path), ["codereader"], allow_outside_images=True)
    problems = [line for line in out if "dataset problem" in line]
    assert [p.split(": dataset problem (sample skipped): ")[1].split(": ")[0] for p in problems] == \
        ["{}:{}".format(path, n) for n in (2, 3, 4)]
    assert "finite" in problems[0] and "finite" in problems[1] and "empty crop" in problems[2]
    assert code == 0, out
    doc = _docs(tmp_path / "res")["codereader"]
    assert doc["status"] == "ok" and doc["summary"]["samples"] == 1 and doc["summary"]["errors"] == 0


# --- 5. --option from the command line, repeated ------------------------------------------------------
def test_option_repeats_on_the_command_line(tmp_path, manifest):
    proc = _invoke("bench", "--engine", "codereader", "--data", manifest, "--limit", "1", "--warmup", "0",
                   "--batch", "0", "--no-telemetry", "--option", "threads=1", "--option", "codereader.batch=2",
                   "--option", "pre=gray", "--out", str(tmp_path))
    assert proc.returncode == 0, proc.stdout
    options = _docs(tmp_path)["codereader"]["engine"]["options"]
    assert options["threads"] == 1 and options["batch"] == 2


# --- 6. a manifest with no valid sample --------------------------------------------------------------------
def test_manifest_without_a_valid_sample_measures_nothing(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text('{"image": "nope.png", "text": "X"}\n{oops\n')
    code, out = _bench(tmp_path, str(path), ["codereader"])
    assert code == 2 and "no valid sample" in out[-1] and len(out) == 3, out
    assert not os.path.exists(str(tmp_path / "res"))


def test_every_sample_unreadable_is_an_error_not_an_empty_ok(tmp_path, manifest):
    ds = dataset.load(manifest)
    gone = [dataset.Sample(s.id, str(tmp_path / "vanished.png"), s.text) for s in ds.samples]
    doc = runner.run_engine("codereader", {}, "gray", ds, gone, sys.executable, 0, 0, None, machine={})
    assert doc["status"] == "error" and "no sample read" in doc["reason"] and "summary" not in doc


def test_report_skips_empty_list_and_incomplete_results_with_one_line_each(tmp_path):
    base = {"schema": results.SCHEMA, "engine": {"name": "x"}, "dataset": {"path": "/d/manifest.jsonl"}}
    (tmp_path / "list.json").write_text("[1, 2]")
    (tmp_path / "empty-ok.json").write_text(json.dumps(dict(base, status="ok", samples=[], summary={
        "samples": 0, "metrics": {"raw": {"strict_accuracy": None}, "normalised": {"strict_accuracy": None}},
        "timing": {"pre_ms": None, "ocr_ms": None, "total_ms": None}})))
    (tmp_path / "nokey.json").write_text(json.dumps(dict(base, status="ok", summary={"metrics": {}})))
    (tmp_path / "binary.json").write_bytes(b"\xff\xfe{")
    lines = []
    assert report.report_cli([str(tmp_path)], str(tmp_path / "out"), echo=lines.append) == 2
    assert len(lines) == 5 and all(line.startswith("report: ") for line in lines), lines
    assert sum(line.startswith("report: skipped ") for line in lines) == 4
    assert lines[-1].endswith("(4 skipped above)")


# --- 7. write failures ---------------------------------------------------------------------------------
def _mount_tmpfs(path, options):
    os.makedirs(path)
    ok = os.geteuid() == 0 and subprocess.call(["mount", "-t", "tmpfs", "-o", options, "tmpfs", path],
                                               stderr=subprocess.DEVNULL) == 0
    require_tier("mount", ok, "mounting a tmpfs needs root (CI runs as root)")


def _check_still_measured(code, out):
    _no_traceback("\n".join(out))
    assert code == 1
    for name in ENGINES:  # both engines ran and said so
        assert _measured_line(out, name) and " ok " in _measured_line(out, name)[0], out
    text = "\n".join(out)
    assert "\n| codereader " in text and "\n| ppocr-onnx-rec " in text  # the table is still printed
    assert out[-1] == "results: none written"


def test_out_is_a_file(tmp_path, manifest):
    target = tmp_path / "file"
    target.write_text("keep me")
    code, out = _bench(tmp_path, manifest, ENGINES, out=str(target))
    _check_still_measured(code, out)
    assert sum("cannot create a run folder" in line and "Not a directory" in line for line in out) == 1
    assert target.read_text() == "keep me"


def test_read_only_output(tmp_path, manifest):
    ro = str(tmp_path / "ro")
    _mount_tmpfs(ro, "ro,size=1m")
    try:
        code, out = _bench(tmp_path, manifest, ENGINES, out=ro)
        _check_still_measured(code, out)
        assert sum("Read-only file system" in line for line in out) == 1
    finally:
        subprocess.call(["umount", ro])


def test_full_disk(tmp_path, manifest):
    full = str(tmp_path / "full")
    _mount_tmpfs(full, "size=64k")
    try:
        with open(os.path.join(full, "filler"), "wb", buffering=0) as f:
            try:
                while True:
                    f.write(b"\0" * 4096)
            except OSError:  # the disk is full now
                pass
        code, out = _bench(tmp_path, manifest, ENGINES, out=full)
        _check_still_measured(code, out)
        assert [line.split(":")[0] + ":" + line.split(":")[1] for line in out if "result not written" in line] == \
            ["bench: codereader", "bench: ppocr-onnx-rec"]
        assert all("No space left" in line for line in out if "result not written" in line)
        leftovers = [f for _, _, files in os.walk(full) for f in files if f != "filler"]
        assert leftovers == []  # no half-written result, no temp file
    finally:
        subprocess.call(["umount", full])


def test_report_to_a_read_only_folder_is_one_line(tmp_path, manifest):
    code, _ = _bench(tmp_path, manifest, ["codereader"], limit=1)
    assert code == 0
    ro = str(tmp_path / "ro")
    _mount_tmpfs(ro, "ro,size=1m")
    try:
        lines = []
        assert report.report_cli([str(tmp_path / "res")], os.path.join(ro, "report"), echo=lines.append) == 1
        assert lines[-1].startswith("report: cannot write under ") and "Read-only file system" in lines[-1]
    finally:
        subprocess.call(["umount", ro])


# --- 8. one line instead of a traceback --------------------------------------------------------------------
@pytest.mark.parametrize("header,why", [('{"manifest": [1]}', "want an object"),
                                        ('{"manifest": {"line_join": 5}}', "must be a string")])
def test_dataset_check_bad_header_is_one_problem(tmp_path, manifest, header, why):
    shutil.copy(dataset.load(manifest).samples[0].image, str(tmp_path / "a.png"))
    path = tmp_path / "m.jsonl"
    path.write_text(header + "\n" + json.dumps({"image": "a.png", "text": "A"}) + "\n")
    proc = _invoke("dataset.check", str(path), "--show-problems", "5")
    _no_traceback(proc.stdout)
    assert proc.returncode == 0 and proc.stdout.count("problem: ") == 1 and why in proc.stdout


def test_invalid_interpreters_yaml_is_one_line(tmp_path, manifest):
    cfg = tmp_path / "interp.yml"
    cfg.write_text("codereader: [unclosed\n")
    code, out = _bench(tmp_path, manifest, ["codereader"], interpreters=str(cfg))
    assert code == 2 and len(out) == 1 and "not valid YAML" in out[0] and str(cfg) in out[0]


# --- weaker: exit codes -------------------------------------------------------------------------------------
def test_named_engine_that_cannot_run_fails_but_all_does_not(tmp_path, manifest, monkeypatch):
    monkeypatch.setattr(cli.registry, "names", lambda: ["codereader", "ppocr-onnx-rec-cuda"])
    code, out = _bench(tmp_path, manifest, [], all_engines=True, limit=1)
    assert code == 0, out
    code, out = _bench(tmp_path, manifest, ["codereader", "ppocr-onnx-rec-cuda"], limit=1)
    assert code == 1 and "\n- ppocr-onnx-rec-cuda: unavailable: " in "\n".join(out)


def test_tampered_model_named_with_engine_fails(tmp_path, manifest, monkeypatch):
    from ocr.engines import codereader
    folder = tmp_path / "models"
    folder.mkdir()
    (folder / codereader.MODEL_NAME).symlink_to(os.path.join(codereader.model_dir(), codereader.MODEL_NAME))
    (folder / "SHA256SUMS").write_text("0" * 64 + "  " + codereader.MODEL_NAME + "\n")
    monkeypatch.setenv("KIT_MODELS_CODEREADER", str(folder))
    code, out = _bench(tmp_path, manifest, ["codereader"])
    assert code == 1 and any("unavailable" in line and "sha256" in line for line in out), out


@pytest.mark.parametrize("sums, why", [
    (None, "has no SHA256SUMS"),  # no SHA256SUMS at all
    ("0" * 64 + "  some-other-file.onnx\n", "lists no sha256 for"),  # one without the model's line
])
def test_model_folders_that_cannot_be_verified_are_refused_unless_trusted(tmp_path, manifest, monkeypatch,
                                                                          sums, why):
    from ocr.engines import codereader
    folder = tmp_path / "models"
    folder.mkdir()
    (folder / codereader.MODEL_NAME).symlink_to(os.path.join(codereader.model_dir(), codereader.MODEL_NAME))
    if sums is not None:
        (folder / "SHA256SUMS").write_text(sums)
    monkeypatch.setenv("KIT_MODELS_CODEREADER", str(folder))
    monkeypatch.delenv("KIT_TRUST_MODELS", raising=False)
    code, out = _bench(tmp_path, manifest, ["codereader"], limit=1)
    assert code == 1 and any(why in line and "--trust-models" in line for line in out), out
    code, out = _bench(tmp_path, manifest, ["codereader"], limit=1, trust_models=True, out=str(tmp_path / "t"))
    assert code == 0, out
    assert "KIT_TRUST_MODELS" not in os.environ  # the option lasts one run


# --- weaker: a worker that hangs, stops, dies --------------------------------------------------------------
@pytest.mark.parametrize("fault,at,timeouts,why", [
    ("hang", 2, {"sample_timeout": 2}, "on sample f2 (--sample-timeout)"),
    ("stop", 3, {"sample_timeout": 2}, "on sample f3 (--sample-timeout)"),
    ("load-hang", 1, {"load_timeout": 2}, "loading the engine and running its first inference (--load-timeout)"),
    ("hang", 1, {"load_timeout": 2, "sample_timeout": 60}, "its first inference (--load-timeout)"),
    ("kill", 2, {}, "worker exited -9"),
    ("interrupt", 2, {}, "worker exited -2: KeyboardInterrupt")])
def test_faulty_worker_costs_its_engine_only(tmp_path, manifest, fault_python, monkeypatch, fault, at, timeouts, why):
    monkeypatch.setenv("KIT_FAULT", fault)
    monkeypatch.setenv("KIT_FAULT_AT", str(at))
    code, out = _bench(tmp_path, manifest, ENGINES, interp={"codereader": fault_python}, **timeouts)
    _no_traceback("\n".join(out))
    assert code == 1
    docs = _docs(tmp_path / "res")
    assert docs["codereader"]["status"] == "error" and why in docs["codereader"]["reason"], docs["codereader"]
    assert "- codereader: failed: " in "\n".join(out)
    assert docs["ppocr-onnx-rec"]["status"] == "ok" and docs["ppocr-onnx-rec"]["summary"]["samples"] == 3


@pytest.mark.parametrize("warmup", [True, False])
def test_watchdog_gives_loading_and_throughput_their_own_time(warmup):
    dog = runner.Watchdog({"samples": [{"id": "a"}, {"id": "b"}]}, load_s=600, sample_s=10)
    assert dog.limit() == 600
    dog.saw({"event": "loaded"})
    assert dog.limit() == 600  # the first inference may build a TensorRT engine: still the load phase
    dog.saw({"event": "warmup" if warmup else "sample"})
    assert dog.limit() == 10 and ("on sample " in dog.what())
    dog.saw({"event": "sample"})
    dog.saw({"event": "sample"} if warmup else {"event": "ignored"})
    assert dog.limit() == 600  # the throughput pass: one answer for every crop, at least the load time
    dog = runner.Watchdog({"samples": [{"id": str(i)} for i in range(100)]}, load_s=600, sample_s=10)
    for _ in range(101):
        dog.saw({"event": "sample"})
    assert dog.limit() == 1000


def test_a_sample_that_fails_in_the_engine_costs_that_sample_only(tmp_path, manifest, fault_python, monkeypatch):
    monkeypatch.setenv("KIT_FAULT", "raise")
    monkeypatch.setenv("KIT_FAULT_AT", "2")
    code, out = _bench(tmp_path, manifest, ["codereader"], interp={"codereader": fault_python})
    assert code == 0, out
    doc = _docs(tmp_path / "res")["codereader"]
    assert doc["status"] == "ok" and doc["summary"]["samples"] == 2 and doc["summary"]["error_ids"] == ["f2"]
    assert doc["errors"][0]["error"] == "RuntimeError: injected"


# --- weaker: Ctrl-C ---------------------------------------------------------------------------------------
def test_ctrl_c_says_which_result_files_were_kept(tmp_path, manifest, fault_python):
    cfg = tmp_path / "interp.yml"
    cfg.write_text("ppocr-onnx-rec: {}\n".format(fault_python))
    mark = tmp_path / "hanging"
    env = dict(os.environ, KIT_FAULT="hang", KIT_FAULT_AT="1", KIT_FAULT_MARK=str(mark))
    proc = subprocess.Popen([sys.executable, "-m", "invoke", "bench", "--engine", "codereader", "--engine",
                             "ppocr-onnx-rec", "--data", manifest, "--warmup", "0", "--batch", "0", "--no-telemetry",
                             "--interpreters", str(cfg), "--out", str(tmp_path / "res")], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True,
                            start_new_session=True)
    for _ in range(2400):  # until the first engine is saved and the second one's worker hangs
        if mark.exists() or proc.poll() is not None:
            break
        time.sleep(0.25)
    os.killpg(proc.pid, signal.SIGINT)  # what a terminal's Ctrl-C does: the whole process group
    try:
        out = proc.communicate(timeout=300)[0]
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        pytest.fail("bench still running 300 s after Ctrl-C:\n" + proc.communicate()[0][-3000:])
    kept = glob.glob(str(tmp_path / "res" / "*" / "*.json"))
    _no_traceback(out)
    assert proc.returncode == 130, out
    assert [os.path.basename(f) for f in kept] == ["codereader.json"]
    assert out.strip().splitlines()[-1] == "bench: interrupted; kept " + kept[0]


# --- weaker: result files and the user's umask --------------------------------------------------------------
def test_result_files_follow_the_umask(tmp_path):
    old = os.umask(0o027)
    try:
        path = results.write_json_atomic(str(tmp_path / "r.json"), {"a": 1})
    finally:
        os.umask(old)
    assert os.stat(path).st_mode & 0o777 == 0o640
    path = results.write_json_atomic(str(tmp_path / "s.json"), {"a": 1})
    assert os.stat(path).st_mode & 0o777 == 0o666 & ~old
