"""bench.sanity.cli: groups, the exit code, the JSON file, the invoke task and `python -m`."""
import io
import json
import subprocess
import sys

import pytest

from bench.sanity import cli
from tests.conftest import ROOT


def test_cli_rejects_unknown_groups_and_writes_json(tmp_path):
    assert cli.sanity_cli(only="nope", stream=io.StringIO()) == 2
    out = io.StringIO()
    code = cli.sanity_cli(only="platform", out_json=str(tmp_path / "s.json"), stream=out)
    assert code in (0, 1) and "sanity: " in out.getvalue()
    with open(str(tmp_path / "s.json")) as f:
        saved = json.load(f)
    assert set(saved) == {"platform", "results"} and saved["results"][0]["group"] == "platform"


# --- jetson_benchmarks -------------------------------------------------------------------------------------


def test_invoke_task_is_thin_and_exits_with_the_checks_code():
    from invoke import Exit, MockContext

    import tasks
    with pytest.raises(Exit) as raised:
        tasks.sanity(MockContext(), only="no_such_group")
    assert raised.value.code == 2


def test_python_m_bench_sanity_runs_a_group(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "bench.sanity", "--only", "platform", "--json",
                           str(tmp_path / "s.json")], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          universal_newlines=True)
    assert proc.returncode in (0, 1) and "platform/disk_free" in proc.stdout, proc.stdout
    with open(str(tmp_path / "s.json")) as f:
        assert {r["group"] for r in json.load(f)["results"]} == {"platform"}
