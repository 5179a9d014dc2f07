"""The reader as a long-running service: the line's source read continuously, uploads on request.

Three stages overlap, each on its own thread:

capture   the Source's own grab thread keeps only the newest frame (a live source drops the frames
          the trigger was too slow for, counted: `frames_dropped`);
trigger   one presence trigger per region on every frame (Reader.items): an item fires once;
read      the engine reads fired items from a bounded queue (`serve.queue`, default 2).

Drop policy: when an item fires while the queue is full, it is not queued: it gets a REJECT at once
("dropped: the reader was busy"), counted in `items_dropped`. A line acts on every item (the
reject signal goes out), the backlog never grows, and latency stays bounded by the queue's length.
Items of image files (a folder as the source) wait for room instead: files do not run away.

Faults: a frame without a usable image is counted (`bad_frames`) and skipped; a read that raises
is a REJECT with its reason (`read_errors`); a source that cannot be opened or ends (a camera
unplugged, a stream gone) is reopened after a back-off that doubles from `retry_s[0]` to
`retry_s[1]`, and /health says so. Uploads (POST /read) and the line share the engine, one read
at a time.
"""
import collections
import queue
import threading
import time

from ...errors import one_line
from .. import capture
from ..verify import REJECT
from .jsonlog import JsonlLog
from .metrics import Metrics
from .signals import Signals

RECENT = 20  # records kept for the live page


class Service(object):
    def __init__(self, job, reader=None, opener=capture.open_source, telemetry=None, gpio=None):
        """telemetry: a callable returning the newest {"temps": {sensor: C}, "throttled": bool}
        sample or None (bench/serve.py passes the kit's sampler on a Jetson); gpio: a stand-in for
        Jetson.GPIO (tests)."""
        from ..pipeline import Reader
        self.job, self.settings = job, job.serve
        self.reader = reader if reader is not None else Reader(job)
        self.opener, self.telemetry = opener, telemetry
        self.engine_lock = threading.Lock()  # one read at a time: the line and uploads share the engine
        self.state_lock = threading.Lock()
        self.metrics = Metrics()
        log = self.settings.log
        self.log = JsonlLog(log["path"], log["max_mb"] * 1024 * 1024, log["keep"]) if log else None
        self.signals = Signals(self.settings.reject, gpio)
        self.reads = queue.Queue(self.settings.queue)
        self.counters = dict.fromkeys(("frames_dropped", "items_dropped", "bad_frames", "read_errors",
                                       "camera_retries"), 0)
        self.camera = {"state": "none" if self.settings.source is None else "opening",
                       "source": self.settings.source, "error": None, "backoff_s": 0.0, "since": time.time()}
        self.recent = collections.deque(maxlen=RECENT)
        self.last = None  # (image, [records]) of the newest frame read
        self.stopping = threading.Event()
        self.threads = []
        self.started = time.time()
        self._source = None

    # --- running ------------------------------------------------------------------------------------
    def start(self):
        if self.settings.source is not None:
            for target, name in ((self._capture_loop, "capture+trigger"), (self._read_loop, "read")):
                t = threading.Thread(target=target, name=name)
                t.daemon = True
                t.start()
                self.threads.append(t)
        return self

    def stop(self, timeout=10.0):
        self.stopping.set()
        source = self._source
        if source is not None:
            source.close()
        for t in self.threads:
            t.join(timeout)
        self.signals.close()
        if self.log is not None:
            self.log.close()

    def _set_camera(self, state, error=None, backoff=None):
        """backoff: the wait before the next open (None: keep the last one's, shown while opening)."""
        with self.state_lock:
            if state != self.camera["state"]:
                self.camera["since"] = time.time()
            self.camera.update(state=state, error=error)
            if backoff is not None:
                self.camera["backoff_s"] = backoff

    def _capture_loop(self):
        first, longest = self.settings.retry_s
        delay = first
        while not self.stopping.is_set():
            self._set_camera("opening", self.camera["error"])
            try:
                source = self._source = self.opener(self.settings.source, realtime=True)
            except Exception as exc:  # noqa: BLE001 - SourceError or a driver's own: retried either way
                error = one_line(exc)
            else:
                error, flowed = self._run_source(source)
                if flowed:
                    delay = first  # frames came: the back-off starts afresh
            if self.stopping.is_set():
                return
            with self.state_lock:
                self.counters["camera_retries"] += 1
            self._set_camera("lost", error, delay)
            self.stopping.wait(delay)
            delay = min(longest, delay * 2)

    def _run_source(self, source):
        """Feed one opened source's items until it ends or fails -> (why it stopped, in one line;
        whether any usable frame came)."""
        self._set_camera("up", backoff=0.0)
        checked = _Checked(source, self)
        try:
            for reads, verdicts in self.reader.items(checked):
                for v in verdicts:
                    self._record(v, "line")
                self._enqueue(reads, source.items_are_frames)
                if self.stopping.is_set():
                    break
            return "the source ended", checked.flowed
        except Exception as exc:  # noqa: BLE001 - a lost camera is reopened, never fatal
            return one_line(exc), checked.flowed
        finally:
            source.close()
            with self.state_lock:  # counts() adds a running source's drops: move them over at once
                self._source = None
                self.counters["frames_dropped"] += source.dropped

    def _enqueue(self, reads, wait):
        for frame, region, key in reads:
            while True:
                try:
                    self.reads.put((frame, region, key), block=wait, timeout=0.2 if wait else None)
                    break
                except queue.Full:
                    if self.stopping.is_set():
                        return
                    if wait:
                        continue
                    with self.state_lock:
                        self.counters["items_dropped"] += 1
                    self._record(self.reader._verdict(
                        frame, region, key, region.box, "", 0.0, None, REJECT,
                        "dropped: the reader was busy ({} items queued)".format(self.settings.queue), {}), "line")
                    break

    def _read_loop(self):
        while not self.stopping.is_set():
            try:
                frame, region, key = self.reads.get(timeout=0.2)
            except queue.Empty:
                continue
            self.read_frame(frame, [region], key, "line")

    # --- reading ------------------------------------------------------------------------------------
    def read_frame(self, frame, regions, item, origin):
        """Read `regions` of one frame -> the records written for it (one line each in the log)."""
        verdicts = []
        for region in regions:
            try:
                with self.engine_lock:
                    verdicts += self.reader.read_region(frame, region, item)
            except Exception as exc:  # noqa: BLE001 - one bad frame never stops the service
                with self.state_lock:
                    self.counters["read_errors"] += 1
                verdicts.append(self.reader._verdict(frame, region, item, region.box, "", 0.0, None, REJECT,
                                                     "read failed: " + one_line(exc), {}))
        records = [self._record(v, origin) for v in verdicts]
        with self.state_lock:
            self.last = (frame.image, records)
        return records

    def read_upload(self, image, item="upload"):
        """POST /read: every region of the job on one uploaded image -> the `invoke read` records."""
        return self.read_frame(capture.Frame("upload", item, 0, image), self.job.regions, item, "upload")

    def _record(self, verdict, origin):
        record = verdict.to_dict()
        record["origin"] = origin
        self.metrics.add(verdict, origin)
        if self.log is not None:
            self.log.write(record)
        if origin == "line":
            self.signals.notify(record)
        with self.state_lock:
            self.recent.appendleft(record)
        return record

    # --- what the endpoints show ----------------------------------------------------------------------
    def health(self):
        """(ok, document): ok is False while a configured source is not delivering frames."""
        with self.state_lock:
            camera = dict(self.camera)
        ok = camera["state"] in ("none", "up")
        return ok, {"status": "ok" if ok else "camera " + camera["state"], "camera": camera,
                    "retries": self.counters["camera_retries"], "uptime_s": round(time.time() - self.started, 1)}

    def counts(self):
        with self.state_lock:
            out = dict(self.counters)
            if self._source is not None:
                out["frames_dropped"] += self._source.dropped
        if self.log is not None:
            out["log_errors"] = self.log.errors
        out["signals_dropped"] = self.signals.dropped
        return out

    def state(self):
        """GET /state: what the live page shows."""
        with self.state_lock:
            recent, has_frame = list(self.recent), self.last is not None
        ok, health = self.health()
        return {"counts": self.metrics.verdict_counts("line"), "uploads": self.metrics.verdict_counts("upload"),
                "items_per_s": round(self.metrics.items_per_s(), 3), "health": health, "counters": self.counts(),
                "recent": recent, "frame": has_frame}

    def frame_jpeg(self):
        """The newest frame read, its regions (grey) and reads (green PASS, red FAIL, orange REJECT)
        drawn on it, as JPEG bytes; None before the first read."""
        import cv2
        with self.state_lock:
            last = self.last
        if last is None or last[0] is None:
            return None
        image, records = last
        canvas = image.copy() if image.ndim == 3 else cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
        colours = {"PASS": (0, 160, 0), "FAIL": (0, 0, 220), "REJECT": (0, 140, 255)}
        for region in self.job.regions:
            if region.box:
                cv2.rectangle(canvas, tuple(region.box[:2]), tuple(region.box[2:]), (160, 160, 160), 1)
        for r in records:
            if r.get("box"):
                x0, y0, x1, y1 = r["box"]
                colour = colours.get(r["verdict"], (255, 255, 255))
                cv2.rectangle(canvas, (x0, y0), (x1, y1), colour, 2)
                cv2.putText(canvas, "{} {}".format(r["verdict"], r["text"])[:40], (x0, max(12, y0 - 4)),
                            cv2.FONT_HERSHEY_SIMPLEX, 0.45, colour, 1, cv2.LINE_AA)
        ok, data = cv2.imencode(".jpg", canvas, [cv2.IMWRITE_JPEG_QUALITY, 80])
        return data.tobytes() if ok else None

    def metrics_text(self):
        c = self.counts()
        health = self.health()[1]
        source = self.settings.source or ""
        gauges = [
            ("reader_camera_up", "1 while the line's source delivers frames.", "gauge",
             [({"source": source}, 1 if health["camera"]["state"] == "up" else 0)] if self.settings.source else []),
            ("reader_camera_retries_total", "Times the source was lost (or failed to open) and retried.",
             "counter", [(None, health["retries"])]),
            ("reader_camera_backoff_seconds", "Current wait before reopening the source.", "gauge",
             [(None, health["camera"]["backoff_s"])]),
            ("reader_frames_dropped_total", "Frames the trigger was too slow for (newest frame kept).", "counter",
             [(None, c["frames_dropped"])]),
            ("reader_items_dropped_total", "Items not read because the reader was busy (each REJECTed).",
             "counter", [(None, c["items_dropped"])]),
            ("reader_bad_frames_total", "Frames without a usable image, skipped.", "counter",
             [(None, c["bad_frames"])]),
            ("reader_read_errors_total", "Reads that raised (each REJECTed).", "counter", [(None, c["read_errors"])]),
            ("reader_items_per_second", "Line items judged per second, last 30 s.", "gauge",
             [(None, round(self.metrics.items_per_s(), 4))]),
            ("reader_signals_total", "Reject signals sent.", "counter",
             [({"signal": k}, n) for k, n in sorted(self.signals.sent.items())]),
            ("reader_signal_errors_total", "Reject signals that failed.", "counter",
             [({"signal": k}, n) for k, n in sorted(self.signals.errors.items())]),
            ("reader_signals_dropped_total", "Reject signals dropped (their queue was full).", "counter",
             [(None, c["signals_dropped"])]),
        ]
        if self.log is not None:
            gauges.append(("reader_log_errors_total", "Log lines that could not be written whole.", "counter",
                           [(None, c["log_errors"])]))
        sample = self.telemetry() if self.telemetry else None
        if sample:
            gauges.append(("reader_temperature_celsius", "Board temperatures (the kit's telemetry).", "gauge",
                           [({"sensor": k}, v) for k, v in sorted((sample.get("temps") or {}).items())]))
            if sample.get("throttled") is not None:
                gauges.append(("reader_throttled", "1 when a sensor reached its trip point or clocks fell "
                               "under their pin (bench/telemetry.py's rule).", "gauge",
                               [(None, bool(sample["throttled"]))]))
        return self.metrics.exposition(gauges)


class _Checked(object):
    """A source whose frames without a usable image (none, or smaller than a region's corner) are
    counted as bad and skipped, so that one bad frame never reaches the trigger."""

    def __init__(self, source, service):
        self.source, self.service = source, service
        self.items_are_frames = source.items_are_frames
        corners = [r.box for r in service.job.regions if r.box]
        self.need = (max([b[0] for b in corners] or [0]), max([b[1] for b in corners] or [0]))
        self.flowed = False  # a usable frame came


    def frames(self):
        for frame in self.source.frames():
            if self.service.stopping.is_set():
                return
            image = frame.image
            usable = image is not None and getattr(image, "ndim", 0) in (2, 3) and \
                image.shape[1] > self.need[0] and image.shape[0] > self.need[1]
            if usable or (self.items_are_frames and image is None):  # an undecodable file is an item
                self.flowed = True
                yield frame
            else:
                with self.service.state_lock:
                    self.service.counters["bad_frames"] += 1
