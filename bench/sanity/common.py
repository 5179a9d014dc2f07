"""What every check group shares: a check's Result, the Context (options plus what every check
wants to know about the machine, read once) and small helpers for writing a check."""
import importlib
import os

import bench
from bench import jetson

DATA = bench.DATA
REFERENCE_MODELS = ["resnet18", "resnet50", "alexnet", "squeezenet1_1", "densenet121"]
CPU_MODELS = ["resnet18", "squeezenet1_1"]  # off a Jetson: a short, real CPU measurement
PASS, FAIL, SKIP = "PASS", "FAIL", "SKIP"


class Result(object):
    __slots__ = ("group", "name", "status", "reason", "hint", "data")

    def __init__(self, group, name, status, reason, hint="", data=None):
        self.group, self.name, self.status = group, name, status
        self.reason, self.hint, self.data = reason, hint, data or {}

    def to_dict(self):
        return {k: getattr(self, k) for k in self.__slots__}


class Context(object):
    """The options plus what every check wants to know about the machine, read once."""

    def __init__(self, models=None, iterations=None, warmup=None, paddle_python=None,
                 jetson_benchmarks=None, engines=None, root="/", run=jetson.run_command):
        self.root, self.run = root, run
        self.state = jetson.platform_state(root, run)
        self.on_jetson = self.state["l4t"] is not None
        self.is_nano = "Jetson Nano" in (self.state["board_model"] or "")
        self.models = models or (REFERENCE_MODELS if self.on_jetson else CPU_MODELS)
        self.iterations = iterations or (50 if self.on_jetson else 10)
        self.warmup = warmup if warmup is not None else (10 if self.on_jetson else 2)
        self.interpreters = load_interpreters()
        self.paddle_python = paddle_python or os.environ.get("KIT_PADDLE_PYTHON") or self.interpreter_for("paddleocr")
        self.jetson_benchmarks = jetson_benchmarks
        self.engines = engines
        self.expected = expected_versions(self.state["l4t"])

    def interpreter_for(self, engine):
        """The Python an engine runs under in `invoke bench` (this one unless interpreters.yml says)."""
        from bench import runner
        return runner.interpreter_for(engine, self.interpreters)

    def missing(self, res, reason, hint):
        """Something the Nano needs is absent: a FAIL there, an expected SKIP anywhere else."""
        if self.on_jetson:
            return res(FAIL, reason, hint)
        return res(SKIP, reason + " (expected off a Jetson)")


def load_interpreters():
    """bench/interpreters.yml through the runner, so that sanity and bench agree; {} without it."""
    try:
        from bench import runner
        return runner.load_interpreters()
    except Exception:  # no runner / a broken file: every engine is read in this interpreter
        return {}


def expected_versions(l4t):
    """The versions.yml entry of this L4T release, picked as the docker tasks pick it
    (versions.l4t_key); off a Jetson, or for a release the table lacks, the default entry (so
    check_l4t reports the unknown release instead of raising)."""
    from bench import versions
    table = versions.load_table()
    try:
        key = versions.l4t_key(table, l4t) if l4t else table["default_l4t"]
    except versions.TableProblem:
        key = table["default_l4t"]
    return table["l4t"][key]


def try_import(module):
    """(module, None) or (None, one-line reason): a broken install is reported, not raised."""
    try:
        return importlib.import_module(module), None
    except Exception as exc:  # ImportError, but also OSError from a missing .so, RuntimeError...
        return None, "{}: {}".format(type(exc).__name__, (str(exc).strip().splitlines() or [""])[0][:160])


def outcome(group, name):
    """The Result factory of one check, so that each return says only status, reason and hint."""
    def res(status, reason, hint="", data=None):
        return Result(group, name, status, reason, hint, data)
    return res


def off_jetson(res, what):
    return res(SKIP, "not a Jetson (no /etc/nv_tegra_release): " + what)
