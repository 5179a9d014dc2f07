"""bench/serve.py: on a Jetson, /metrics carries the kit's telemetry (temperatures, the throttle rule).
tegrastats cannot run here: a real tegrastats line of a Nano (tests/fixtures) is fed through the
same parser and rule the benchmark uses, and the service's metrics parsed with prometheus_client."""
import os

from prometheus_client.parser import text_string_to_metric_families

from bench import serve, telemetry
from ocr.reader.job import Job
from ocr.reader.service.service import Service
from tests.conftest import ROOT

LINE = [line for line in open(os.path.join(ROOT, "tests", "fixtures", "tegrastats", "nano_r32.7.1_idle.txt"))
        if not line.startswith("#")][0]


class OneLine(object):
    """A telemetry source that emits one parsed tegrastats line when started."""

    def __init__(self):
        self.stopped = False

    def start(self, emit):
        emit(telemetry.parse_tegrastats_line(LINE))

    def stop(self):
        self.stopped = True


def test_the_service_exports_the_newest_jetson_sample():
    source = OneLine()
    latest = serve.newest_sample(source, telemetry.ThrottleRule(trips_c={"CPU": 40.0, "GPU": 97.0}))
    for _ in range(3):  # it keeps one sample, however long it runs
        source.start(latest._emit)
    assert len(latest.samples) == 1
    service = Service(Job.from_dict({}), reader=object(), telemetry=latest.latest)
    samples = {(s.name, tuple(sorted(s.labels.items()))): s.value
               for fam in text_string_to_metric_families(service.metrics_text()) for s in fam.samples}
    service.stop()
    latest.stop()
    assert samples[("reader_temperature_celsius", (("sensor", "CPU"),))] == 40.0
    assert samples[("reader_temperature_celsius", (("sensor", "GPU"),))] == 40.0
    assert samples[("reader_throttled", ())] == 1.0  # CPU@40C reached its 40 C trip point
    assert source.stopped
    # off a Jetson (no telemetry): no such family at all
    text = Service(Job.from_dict({}), reader=object()).metrics_text()
    assert "reader_temperature_celsius" not in text and "reader_throttled" not in text
