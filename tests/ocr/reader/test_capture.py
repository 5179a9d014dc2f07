"""One capture layer: image files, folders, globs, a video file written here, a network stream
stand-in (MJPEG over HTTP served by this test, opened through the same `open_source()` branch as
rtsp:// URLs: OpenCV's FFmpeg backend), a camera and a CSI camera (their open fails here with one
line: no camera, no GStreamer in this OpenCV; the CSI pipeline string is checked as text)."""
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import cv2
import numpy as np
import pytest

from ocr.reader import capture


def _frame(i, size=(48, 64)):
    img = np.zeros(size + (3,), np.uint8)
    img[:, :] = (i * 20) % 256
    return img


@pytest.fixture
def images(tmp_path):
    folder = tmp_path / "imgs"
    folder.mkdir()
    for i in range(3):
        cv2.imwrite(str(folder / "c{}.png".format(i)), _frame(i))
    (folder / "notes.txt").write_text("not an image")
    return folder


def test_files_folders_and_globs(images):
    one = capture.open_source(str(images / "c1.png"))
    assert one.items_are_frames and [f.name for f in one.frames()] == ["c1.png"]
    folder = capture.open_source(str(images))
    frames = list(folder.frames())
    assert [f.name for f in frames] == ["c0.png", "c1.png", "c2.png"] and frames[2].image[0, 0, 0] == 40
    glob = capture.open_source(str(images / "c[12].png"))
    assert [f.index for f in glob.frames()] == [0, 1]


def test_bad_sources_say_so_in_one_line(images, tmp_path):
    for spec, why in ((str(tmp_path / "none.png"), "no such file"), (str(images / "*.jpg"), "no images"),
                      ("csi://0?zoom=2", "unknown CSI option 'zoom'")):
        with pytest.raises(capture.SourceError, match=why):
            capture.open_source(spec)
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"not a png")
    frames = list(capture.open_source(str(broken)).frames())  # an item the reader reports
    assert frames[0].image is None and frames[0].error == "not an image OpenCV can decode"
    with pytest.raises(capture.SourceError, match="OpenCV cannot open it as a video"):
        capture.open_source(str(images / "notes.txt"))


def _video(path, n=12, fps=30):
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), fps, (64, 48))
    for i in range(n):
        writer.write(_frame(i))
    writer.release()
    return path


def test_video_file_every_frame_in_order(tmp_path):
    src = capture.open_source(str(_video(tmp_path / "v.avi")))
    assert src.kind == "video" and not src.items_are_frames and src.fps == 30
    frames = list(src.frames())
    assert [f.index for f in frames] == list(range(12))
    assert [int(round(f.image.mean() / 20.0)) for f in frames] == list(range(12))  # the right frames
    src.close()


def test_video_file_in_real_time_keeps_only_the_newest_frame(tmp_path):
    src = capture.open_source(str(_video(tmp_path / "v.avi", n=30, fps=100)), realtime=True)
    got = []
    for frame in src.frames():
        got.append(frame.index)
        threading.Event().wait(0.05)  # a slow reader: 5 frame periods per frame
    src.close()
    assert got == sorted(got) and len(got) + src.dropped == 30 and src.dropped > 0


class _Mjpeg(BaseHTTPRequestHandler):
    frames = 8

    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Type", "multipart/x-mixed-replace; boundary=frame")
        self.end_headers()
        for i in range(self.frames):
            data = cv2.imencode(".jpg", _frame(i))[1].tobytes()
            self.wfile.write(b"--frame\r\nContent-Type: image/jpeg\r\nContent-Length: %d\r\n\r\n" % len(data)
                             + data + b"\r\n")

    def log_message(self, *args):
        pass


def test_network_stream_stand_in_through_the_same_code(monkeypatch):
    server = HTTPServer(("127.0.0.1", 0), _Mjpeg)
    thread = threading.Thread(target=server.serve_forever)
    thread.daemon = True
    thread.start()
    try:
        url = "http://127.0.0.1:{}/stream.mjpg".format(server.server_port)
        src = capture.open_source(url, realtime=False)
        assert src.kind == "stream" and src.realtime is False
        means = [int(round(f.image.mean() / 20.0)) for f in src.frames()]
        src.close()
        assert means == list(range(8))
        live = capture.open_source(url)  # live by default, as a camera: the newest frame
        got = [f.index for f in live.frames()]
        live.close()
        assert live.realtime and got and len(got) + live.dropped == 8
    finally:
        server.shutdown()
        server.server_close()


def test_cameras_classify_and_fail_in_one_line_without_hardware():
    assert capture.classify("0") == ("camera", 0)
    assert capture.classify("/dev/video3") == ("camera", "/dev/video3")
    assert capture.classify("rtsp://cam.local:8554/line1") == ("stream", "rtsp://cam.local:8554/line1")
    with pytest.raises(capture.SourceError, match="/dev/video99: OpenCV cannot open it as a camera"):
        capture.open_source("/dev/video99")


def test_csi_pipeline_string():
    kind, pipeline = capture.classify("csi://1?width=1920&height=1080&fps=60&flip=2")
    assert kind == "gstreamer"
    assert pipeline == (
        "nvarguscamerasrc sensor-id=1 ! video/x-raw(memory:NVMM), width=(int)1920, height=(int)1080, "
        "format=(string)NV12, framerate=(fraction)60/1 ! nvvidconv flip-method=2 ! video/x-raw, "
        "width=(int)1920, height=(int)1080, format=(string)BGRx ! videoconvert ! "
        "video/x-raw, format=(string)BGR ! appsink drop=true max-buffers=1")
    assert capture.classify("csi://")[1] == capture.csi_pipeline(0, 1280, 720, 30, 0)
    assert capture.classify("videotestsrc ! appsink") == ("gstreamer", "videotestsrc ! appsink")
    if "GStreamer:                   NO" in cv2.getBuildInformation():
        with pytest.raises(capture.SourceError, match="without GStreamer"):
            capture.open_source("csi://0")
