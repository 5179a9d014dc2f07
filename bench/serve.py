"""`invoke serve` at the bench layer: the reader service (ocr/reader/service/) with the kit's
telemetry wired in on a Jetson, so that /metrics carries its temperatures and the throttle rule of
bench/telemetry.py (the service itself sits below bench/ and takes telemetry as a callable)."""
from ocr.reader.service import serve_cli as _serve_cli

from . import telemetry


class Latest(object):
    """The newest telemetry sample, judged by the throttle rule (a service runs for months: the
    benchmark's Sampler keeps every sample, this keeps one)."""

    def __init__(self, source, rule):
        self.source, self.rule, self.sample = source, rule, None

    def _emit(self, fields):
        sample = dict(fields)
        if sample.get("throttled") is None:
            sample["throttled"] = self.rule.judge(sample)
        self.sample = sample

    def start(self):
        self.source.start(self._emit)
        return self

    def __call__(self):
        return self.sample

    def stop(self):
        self.source.stop()


def serve_cli(job, source=None, interval_ms=2000):
    latest = None
    if telemetry.TegrastatsSource.available():  # a Jetson: tegrastats is there
        latest = Latest(telemetry.TegrastatsSource(interval_ms), telemetry.ThrottleRule.read()).start()
    try:
        return _serve_cli(job, source, telemetry=latest)
    finally:
        if latest is not None:
            latest.stop()
