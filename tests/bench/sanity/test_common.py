"""bench.sanity.common: the Context (platform state read once, interpreters, pins) and missing()."""
import sys

from bench import jetson
from bench.sanity import common
from tests.bench.sanity.fakes import nano_context
from tests.bench.test_jetson import CLOCKS_LOCKED, NVPMODEL_Q, runner


def test_missing_stack_pieces_fail_on_a_jetson_and_skip_elsewhere(tmp_path):
    nano = nano_context(tmp_path)
    here = common.Context(root=str(tmp_path / "elsewhere"), run=runner({}))
    res = common.outcome("stack", "x")
    assert nano.missing(res, "gone", "install it").status == common.FAIL
    skipped = here.missing(res, "gone", "install it")
    assert skipped.status == common.SKIP and skipped.reason == "gone (expected off a Jetson)"


def test_expected_versions_follow_the_l4t_line():
    assert common.expected_versions("32.7.1")["tensorrt"] == "8.2.1"
    assert common.expected_versions(None)["pins"]["torch2trt"] == "v0.4.0"
    # A release the table lacks: the default entry, whose release list check_l4t then reports.
    assert "32.6.1" not in common.expected_versions("32.6.1")["l4t_releases"]


def test_platform_state_is_what_the_context_holds(tmp_path):
    ctx = nano_context(tmp_path)
    assert ctx.on_jetson and ctx.is_nano
    assert ctx.models == common.REFERENCE_MODELS and ctx.iterations == 50
    again = jetson.platform_state(str(tmp_path), runner({"nvpmodel": (0, NVPMODEL_Q),
                                                         "jetson_clocks": (0, CLOCKS_LOCKED)}))
    del again["disk_free_mb"], ctx.state["disk_free_mb"]  # other processes write to this disk meanwhile
    assert ctx.state == again


def test_engines_follow_the_bench_interpreters_table(tmp_path):
    ctx = common.Context(root=str(tmp_path), run=runner({}))
    ctx.interpreters = {"paddleocr": "/opt/nano-ocr-kit/venv-paddle/bin/python"}
    assert ctx.interpreter_for("paddleocr") == "/opt/nano-ocr-kit/venv-paddle/bin/python"
    assert ctx.interpreter_for("easyocr") == sys.executable
