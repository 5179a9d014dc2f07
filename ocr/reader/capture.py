"""One capture layer for every image source `invoke read` (and a service) takes.

A source is named by one string:
- an image file, a folder of images (sorted, one level) or a glob (`crops/*.png`): each image is
  one item, read in order;
- a video file (anything else OpenCV opens): frames, items found by the trigger;
- a camera: an OpenCV index (`0`) or a V4L2 device (`/dev/video0`);
- a Jetson CSI camera: `csi://0` (options as a query: `csi://0?width=1280&height=720&fps=30&flip=0`),
  opened through a GStreamer `nvarguscamerasrc` pipeline (`csi_pipeline`); any other string with
  `!` in it is taken as a GStreamer pipeline as it stands;
- a network stream: `rtsp://`, `rtsps://`, `http(s)://` (e.g. MJPEG over HTTP), through OpenCV's
  FFmpeg backend.

Live sources (cameras, streams; a video file with `realtime=True`) are read by a thread that
keeps only the newest frame, as a line camera does: frames the reader was too busy for are counted
as dropped, never queued up into latency.
"""
import glob
import os
import threading
import time

IMAGE_EXT = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp", ".pgm", ".ppm")
STREAM_SCHEMES = ("rtsp://", "rtsps://", "http://", "https://")


class SourceError(ValueError):
    """A source that cannot be opened; the message is one line naming it."""


class Frame(object):
    """One captured image. `name` keys the item for expectations: an image's path relative to its
    folder (or its file name), a stream's source string; `t` is time.perf_counter() at capture.
    An image file that cannot be decoded is a Frame with `image` None and `error` saying why (the
    reader reports it as an item and goes on)."""

    __slots__ = ("source", "name", "index", "image", "t", "wall", "error")

    def __init__(self, source, name, index, image, t=None, wall=None, error=None):
        self.source, self.name, self.index, self.image, self.error = source, name, index, image, error
        self.t = time.perf_counter() if t is None else t
        self.wall = time.time() if wall is None else wall


def csi_pipeline(sensor_id=0, width=1280, height=720, fps=30, flip=0):
    """The GStreamer pipeline of a Jetson CSI camera (nvarguscamerasrc), ending in BGR frames for
    OpenCV's appsink; drop=true/max-buffers=1 keep only the newest frame."""
    return ("nvarguscamerasrc sensor-id={sid} ! video/x-raw(memory:NVMM), width=(int){w}, "
            "height=(int){h}, format=(string)NV12, framerate=(fraction){fps}/1 ! "
            "nvvidconv flip-method={flip} ! video/x-raw, width=(int){w}, height=(int){h}, "
            "format=(string)BGRx ! videoconvert ! video/x-raw, format=(string)BGR ! "
            "appsink drop=true max-buffers=1").format(sid=int(sensor_id), w=int(width), h=int(height),
                                                      fps=int(fps), flip=int(flip))


def parse_csi(spec):
    """`csi://0?width=640&fps=60` -> csi_pipeline keyword arguments."""
    rest = spec[len("csi://"):]
    sid, _, query = rest.partition("?")
    args = {"sensor_id": int(sid or 0)}
    for pair in filter(None, query.split("&")):
        key, _, value = pair.partition("=")
        if key not in ("width", "height", "fps", "flip"):
            raise SourceError("{}: unknown CSI option '{}' (width, height, fps, flip)".format(spec, key))
        args[key] = int(value)
    return args


def classify(spec):
    """(kind, target): image | images | video | camera | gstreamer | stream."""
    if spec.startswith("csi://"):
        return "gstreamer", csi_pipeline(**parse_csi(spec))
    if "!" in spec:
        return "gstreamer", spec
    if spec.lower().startswith(STREAM_SCHEMES):
        return "stream", spec
    if spec.isdigit():
        return "camera", int(spec)
    if spec.startswith("/dev/video"):
        return "camera", spec
    if os.path.isdir(spec):
        files = sorted(os.path.join(spec, f) for f in os.listdir(spec) if f.lower().endswith(IMAGE_EXT))
        return "images", files
    if any(ch in spec for ch in "*?["):
        return "images", sorted(p for p in glob.glob(spec) if p.lower().endswith(IMAGE_EXT))
    if os.path.isfile(spec):
        return ("image", [spec]) if spec.lower().endswith(IMAGE_EXT) else ("video", spec)
    raise SourceError("{}: no such file, folder, glob match, camera or stream".format(spec))


class Source(object):
    """An opened source: `frames()` yields Frame objects; `items_are_frames` is True for images
    (one item each) and False for video-like sources (items come from the trigger)."""

    def __init__(self, spec, realtime=None):
        self.spec = spec
        self.kind, self.target = classify(spec)
        self.items_are_frames = self.kind in ("image", "images")
        if self.items_are_frames and not self.target:
            raise SourceError("{}: no images ({})".format(spec, ", ".join(IMAGE_EXT)))
        live = self.kind in ("camera", "gstreamer", "stream")
        self.realtime = live if realtime is None else bool(realtime)
        self.fps = None
        self.dropped = 0
        self._stop, self._thread = threading.Event(), None
        self.cap = None if self.items_are_frames else self._open()

    def _open(self):
        import cv2
        if self.kind == "gstreamer":
            cap = cv2.VideoCapture(self.target, cv2.CAP_GSTREAMER)
        elif self.kind == "camera" and isinstance(self.target, str):
            cap = cv2.VideoCapture(self.target, cv2.CAP_V4L2)
        elif self.kind == "stream":
            cap = cv2.VideoCapture(self.target, cv2.CAP_FFMPEG)
        else:
            cap = cv2.VideoCapture(self.target)
        if not cap.isOpened():
            why = {"gstreamer": " (OpenCV built without GStreamer, or no CSI camera)",
                   "camera": " (no such camera, or it is busy)"}.get(self.kind, "")
            raise SourceError("{}: OpenCV cannot open it as a {}{}".format(self.spec, self.kind, why))
        fps = cap.get(cv2.CAP_PROP_FPS)
        self.fps = fps if fps and fps > 0 else None
        return cap

    def frames(self):
        if self.items_are_frames:
            return self._images()
        return self._live() if self.realtime else self._every()

    def _images(self):
        import cv2
        root = self.spec if self.kind == "images" and os.path.isdir(self.spec) else None
        for index, path in enumerate(self.target):
            image = cv2.imread(path, cv2.IMREAD_COLOR)
            name = os.path.relpath(path, root) if root else os.path.basename(path)
            yield Frame(path, name, index, image, error=None if image is not None else "not an image OpenCV can decode")

    def _every(self):
        index = 0
        while True:
            ok, image = self.cap.read()
            if not ok:
                return
            yield Frame(self.spec, self.spec, index, image)
            index += 1

    def _live(self):
        """The newest frame each time the reader asks; a file is paced at its frame rate."""
        slot = {"frame": None, "done": False}
        cond = threading.Condition()
        period = 1.0 / self.fps if (self.kind == "video" and self.fps) else 0.0

        def grab():
            index, start = 0, time.perf_counter()
            while not self._stop.is_set():
                if period:  # a file plays at its frame rate, like a camera
                    delay = start + index * period - time.perf_counter()
                    if delay > 0:
                        time.sleep(delay)
                ok, image = self.cap.read()
                with cond:
                    if not ok:
                        slot["done"] = True
                        cond.notify()
                        return
                    if slot["frame"] is not None:
                        self.dropped += 1
                    slot["frame"] = Frame(self.spec, self.spec, index, image)
                    cond.notify()
                index += 1
            with cond:
                slot["done"] = True
                cond.notify()

        self._thread = threading.Thread(target=grab, name="capture " + self.spec)
        self._thread.daemon = True
        self._thread.start()
        while True:
            with cond:
                while slot["frame"] is None and not slot["done"]:
                    cond.wait()
                frame, slot["frame"] = slot["frame"], None
            if frame is None:
                return
            yield frame

    def close(self):
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5.0)
        if self.cap is not None:
            self.cap.release()


def open_source(spec, realtime=None):
    """Open one source string (see the module doc); raises SourceError with one line."""
    return Source(spec, realtime)
