"""The reject signal a line can wire, sent for each verdict in the job's `serve.reject.verdicts`
(default FAIL and REJECT):

webhook  an HTTP POST of the item's record (the JSON `invoke read` writes), per item
tcp      the same record as one JSON line on a TCP connection (kept open, reopened after an error)
gpio     a pulse on a Jetson header pin through Jetson.GPIO (`pulse_ms` long, active high or low)

Signals go out on a thread of their own behind a bounded queue, so a slow receiver never holds up
reading; when the queue is full the signal is dropped and counted (`dropped`), and every failed send
is counted per signal (`errors`) with its last reason: the line's own watchdog sees both in /metrics.
"""
import json
import socket
import threading
import time

from ...errors import one_line

QUEUE = 64


class Webhook(object):
    name = "webhook"

    def __init__(self, url, timeout_s=2.0):
        self.url, self.timeout = url, timeout_s

    def send(self, record):
        from urllib.request import Request, urlopen
        body = json.dumps(record).encode("utf-8")
        req = Request(self.url, data=body, headers={"Content-Type": "application/json"}, method="POST")
        with urlopen(req, timeout=self.timeout) as resp:
            resp.read()

    def close(self):
        pass


class TcpLine(object):
    name = "tcp"

    def __init__(self, host, port, timeout_s=2.0):
        self.address, self.timeout = (host, port), timeout_s
        self.sock = None

    def send(self, record):
        line = (json.dumps(record, sort_keys=True) + "\n").encode("utf-8")
        if self.sock is None:
            self.sock = socket.create_connection(self.address, timeout=self.timeout)
        try:
            self.sock.sendall(line)
        except OSError:
            self.close()  # the next item reconnects
            raise

    def close(self):
        if self.sock is not None:
            self.sock.close()
            self.sock = None


class GpioPulse(object):
    """A pulse on one pin. `gpio` is the Jetson.GPIO module (a test passes a stand-in)."""

    name = "gpio"

    def __init__(self, pin, pulse_ms=100, mode="BOARD", active="high", gpio=None):
        if gpio is None:
            try:
                import Jetson.GPIO as gpio
            except ImportError:
                raise RuntimeError("serve.reject.gpio: Jetson.GPIO is not installed here "
                                   "(pip install Jetson.GPIO on the Jetson)") from None
        self.gpio, self.pin, self.seconds = gpio, pin, pulse_ms / 1000.0
        self.on, self.off = (gpio.HIGH, gpio.LOW) if active == "high" else (gpio.LOW, gpio.HIGH)
        gpio.setmode(getattr(gpio, mode))
        gpio.setup(pin, gpio.OUT, initial=self.off)

    def send(self, record):
        self.gpio.output(self.pin, self.on)
        time.sleep(self.seconds)
        self.gpio.output(self.pin, self.off)

    def close(self):
        self.gpio.cleanup(self.pin)


class Signals(object):
    """Sends each verdict in `on` to every configured signal, on a thread of its own."""

    def __init__(self, spec, gpio=None):
        import queue
        spec = spec or {}
        self.verdicts = set(spec.get("verdicts") or ())
        self.targets = []
        if spec.get("webhook"):
            self.targets.append(Webhook(spec["webhook"]["url"], spec["webhook"]["timeout_s"]))
        if spec.get("tcp"):
            t = spec["tcp"]
            self.targets.append(TcpLine(t["host"], t["port"], t["timeout_s"]))
        if spec.get("gpio"):
            g = spec["gpio"]
            self.targets.append(GpioPulse(g["pin"], g["pulse_ms"], g["mode"], g["active"], gpio))
        self.sent = {t.name: 0 for t in self.targets}
        self.errors = {t.name: 0 for t in self.targets}
        self.last_error = {}
        self.dropped = 0
        self.queue = queue.Queue(QUEUE)
        self.thread = None
        if self.targets:
            self.thread = threading.Thread(target=self._run, name="reject signals")
            self.thread.daemon = True
            self.thread.start()

    def notify(self, record):
        """Queue a verdict record; returns at once (a full queue drops it and counts it)."""
        import queue
        if not self.targets or record.get("verdict") not in self.verdicts:
            return
        try:
            self.queue.put_nowait(record)
        except queue.Full:
            self.dropped += 1

    def _run(self):
        while True:
            record = self.queue.get()
            if record is None:
                return
            for target in self.targets:
                try:
                    target.send(record)
                    self.sent[target.name] += 1
                except Exception as exc:  # noqa: BLE001 - a receiver's fault never stops the service
                    self.errors[target.name] += 1
                    self.last_error[target.name] = one_line(exc)

    def close(self, timeout=5.0):
        import queue
        if self.thread is not None:
            try:
                self.queue.put(None, timeout=timeout)
            except queue.Full:
                pass
            self.thread.join(timeout)
        for target in self.targets:
            target.close()
