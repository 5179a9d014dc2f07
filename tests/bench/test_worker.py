"""The worker's protocol (bench/worker.py, PROTOCOL): every event it documents is sent, with the
fields it documents, by a real worker run on a small engine defined here; the fatal `error` by a
real `python -m bench.worker` process."""
import json
import os
import re
import subprocess
import sys

import cv2
import pytest

from bench import worker
from ocr.engines import Engine, Prediction, registry
from tests.conftest import ROOT
from tests.helpers import render_code


class Echo(Engine):
    """Reads every crop as its height, and says where the time went."""
    name = "test-echo"

    def _load(self):
        pass

    def predict(self, crops):
        return [Prediction(str(c.shape[0]), 0.5, stages_ms={"all": 1.0}) for c in crops]


class Moonless(Echo):
    name = "test-moonless"

    @classmethod
    def check_available(cls):
        return "needs the moon"


class Recorder(object):
    def __init__(self):
        self.events = []

    def send(self, event, **fields):
        self.events.append(dict(fields, event=event))

    def kinds(self):
        return [e["event"] for e in self.events]


def documented_events():
    """The event names of the PROTOCOL section, in order."""
    section = worker.__doc__.split("Events,")[1].split("Whatever")[0]
    return re.findall(r"^  ([a-z]+) ", section, re.M)


@pytest.fixture()
def echo(monkeypatch):
    monkeypatch.setitem(registry.ENGINES, Echo.name, "tests.bench.test_worker:Echo")
    monkeypatch.setitem(registry.ENGINES, Moonless.name, "tests.bench.test_worker:Moonless")


@pytest.fixture()
def image(tmp_path):
    path = str(tmp_path / "code.png")
    cv2.imwrite(path, render_code(["LOT 4711"]))
    return path


def _job(image, **kw):
    job = {"engine": Echo.name, "options": {}, "pre": "gray", "warmup": 2, "warmup_image": image, "batch": 2,
           "samples": [{"id": "a", "image": image, "box": None}, {"id": "b", "image": image + ".missing"},
                       {"id": "c", "image": image, "box": [0, 0, 40, 20]}]}
    job.update(kw)
    return job


def test_a_run_sends_its_events_in_the_documented_order(echo, image):
    chan = Recorder()
    assert worker.run(_job(image), chan) == 0
    assert chan.kinds() == ["hello", "loaded", "warmup", "sample", "sample", "sample", "throughput", "done"]
    ev = {e["event"]: e for e in chan.events}
    assert set(ev["hello"]) >= {"python", "executable", "pid"}
    assert ev["loaded"]["engine"]["name"] == Echo.name and set(ev["loaded"]) >= {"load_s", "packages"}
    assert ev["warmup"]["n"] == 2 and ev["warmup"]["image"] == image
    a, b, c = [e for e in chan.events if e["event"] == "sample"]
    assert a["error"] is None and a["stages_ms"] == {"all": 1.0} and a["text"] == a["lines"][0]
    assert set(a) == {"event", "id", "text", "confidence", "lines", "pre_ms", "ocr_ms", "error", "stages_ms"}
    assert set(b) == {"event", "id", "error"} and "\n" not in b["error"]
    assert c["text"] == "20"  # the box was cut before the engine saw the crop
    assert ev["throughput"]["batch"] == 2 and ev["throughput"]["n"] == 2
    assert ev["done"]["t0"] <= ev["done"]["t1"]


def test_an_engine_that_cannot_run_here_says_why_and_the_worker_exits_0(echo, image):
    chan = Recorder()
    assert worker.run(_job(image, engine=Moonless.name), chan) == 0
    assert chan.kinds() == ["hello", "unavailable"] and chan.events[1]["reason"] == "needs the moon"


def test_a_broken_job_is_one_fatal_error_line_and_exit_1():
    env = dict(os.environ, PYTHONPATH=ROOT)
    proc = subprocess.run([sys.executable, "-m", "bench.worker"], input="not json", cwd=ROOT, env=env,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True)
    events = [json.loads(line) for line in proc.stdout.splitlines()]
    assert proc.returncode == 1 and [e["event"] for e in events] == ["error"]
    assert events[0]["message"].startswith("JSONDecodeError")


def test_every_documented_event_is_one_these_tests_send():
    assert documented_events() == ["hello", "unavailable", "loaded", "warmup", "sample", "throughput",
                                   "done", "error"]
