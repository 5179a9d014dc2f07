"""bench.sanity.stack: pinned versions, and the Paddle probe run in another interpreter."""
import sys

import pytest

from bench.sanity import common, stack
from tests.bench.sanity.fakes import nano_context


def test_pinned_import_compares_versions(tmp_path):
    ctx = nano_context(tmp_path)
    ok = stack.check_pinned_import(ctx, "pytest", "pytest", pytest.__version__, lambda m: m.__version__, "")
    assert ok.status == common.PASS
    bad = stack.check_pinned_import(ctx, "pytest", "pytest", "0.1", lambda m: m.__version__, "pip install")
    assert bad.status == common.FAIL and "versions.yml pins 0.1" in bad.reason
    gone = stack.check_pinned_import(ctx, "nothing", "no_such_module_here", "1", lambda m: None, "")
    assert gone.status == common.FAIL and "ModuleNotFoundError" in gone.reason


def test_paddle_probe_runs_in_another_interpreter():
    info, err = stack.probe_paddle(sys.executable)
    if info is None:
        assert "paddle does not import" in err
    else:
        assert set(info) == {"python", "paddle", "cuda", "trt"} and len(info["trt"]) == 3
    info, err = stack.probe_paddle("/nonexistent/python3.7")
    assert info is None and "cannot run" in err
