"""The service's HTTP API, on the standard library's http.server with a thread per request
(socketserver.ThreadingMixIn: Python 3.6 has no ThreadingHTTPServer). Five endpoints need no web
framework, and the Nano's reader then needs nothing beyond what `invoke read` does.

GET  /health       no token; 200 while the line's source delivers frames (or none is set), else 503
POST /read         an image (the request body: PNG, JPEG, ...) -> {"item", "verdicts": [records of
                   `invoke read`]}; ?item=NAME keys it for per-item expectations
GET  /metrics      Prometheus text format
GET  /             the live page (page.html); it polls /state and /frame.jpg
GET  /state        the page's data (counts per verdict, items/s, recent reads, health)
GET  /frame.jpg    the newest frame read, its regions and reads drawn on it

The token (serve.token) goes in `Authorization: Bearer TOKEN` or `?token=TOKEN` (the page passes
its own on). Errors are 4xx/5xx with one line of JSON: {"error": "why"}.
"""
import hmac
import json
import os
import socketserver
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from urllib.parse import parse_qs, urlparse

from ...errors import one_line

PAGE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "page.html")


class Server(socketserver.ThreadingMixIn, HTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, service, address):
        HTTPServer.__init__(self, address, Handler)
        self.service = service


class Handler(BaseHTTPRequestHandler):
    server_version = "nano-ocr-kit-reader"
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):  # requests are not logged: results go to the JSONL log
        pass

    # --- answers --------------------------------------------------------------------------------------
    def _send(self, code, body, ctype="application/json"):
        if isinstance(body, (dict, list)):
            body = json.dumps(body) + "\n"
        if isinstance(body, str):
            body = body.encode("utf-8")
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _error(self, code, why):
        self._send(code, {"error": why})

    def _authorised(self, query):
        token = self.server.service.settings.token
        if token is None:
            return True
        given = self.headers.get("Authorization", "")
        given = given[len("Bearer "):] if given.startswith("Bearer ") else (query.get("token") or [""])[0]
        if hmac.compare_digest(given.encode("utf-8"), token.encode("utf-8")):
            return True
        self._error(401, "a token is needed: Authorization: Bearer TOKEN or ?token=TOKEN")
        return False

    # --- routes ---------------------------------------------------------------------------------------
    def do_GET(self):
        url = urlparse(self.path)
        query = parse_qs(url.query)
        service = self.server.service
        if url.path == "/health":
            ok, doc = service.health()
            return self._send(200 if ok else 503, doc)
        if url.path not in ("/", "/metrics", "/state", "/frame.jpg"):
            return self._error(404, "no such endpoint: " + url.path)
        if not self._authorised(query):
            return None
        if url.path == "/metrics":
            return self._send(200, service.metrics_text(), "text/plain; version=0.0.4; charset=utf-8")
        if url.path == "/state":
            return self._send(200, service.state())
        if url.path == "/frame.jpg":
            data = service.frame_jpeg()
            return self._send(200, data, "image/jpeg") if data else self._error(404, "no frame read yet")
        with open(PAGE, "rb") as f:
            return self._send(200, f.read(), "text/html; charset=utf-8")

    def do_POST(self):
        url = urlparse(self.path)
        query = parse_qs(url.query)
        self.close_connection = True  # a refused body is never read: the connection cannot be reused
        if url.path != "/read":
            return self._error(404, "no such endpoint: " + url.path)
        if not self._authorised(query):
            return None
        limit = self.server.service.settings.max_upload_bytes
        try:
            length = int(self.headers.get("Content-Length", ""))
        except ValueError:
            length = -1
        if length < 0:
            return self._error(411, "Content-Length is needed (send the image as the request body)")
        if length > limit:
            return self._error(413, "the upload is {} bytes; the limit is {} (serve.max_upload_mb)".format(
                length, limit))
        body = self.rfile.read(length)
        image = decode(body)
        if image is None:
            return self._error(400, "not an image OpenCV can decode ({} bytes)".format(len(body)))
        item = (query.get("item") or ["upload"])[0]
        try:
            records = self.server.service.read_upload(image, item)
        except Exception as exc:  # noqa: BLE001 - one request's fault is its own answer
            return self._error(500, "read failed: " + one_line(exc))
        self.close_connection = False
        return self._send(200, {"item": item, "verdicts": records})


def decode(data):
    """Image bytes -> a BGR image, or None for anything OpenCV cannot decode."""
    import cv2
    import numpy as np
    if not data:
        return None
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    return image if image is not None and image.size else None


def serve(service, bind, port):
    """Start `service` and its HTTP server; returns the server (server.serve_forever() to run it)."""
    return Server(service.start(), (bind, port))


def serve_in_background(service, bind, port):
    """serve() with the HTTP loop on a daemon thread (benchmarks, tests); returns the server."""
    server = serve(service, bind, port)
    thread = threading.Thread(target=server.serve_forever)
    thread.daemon = True
    thread.start()
    return server
