"""The service's result log: one JSON line per item, appended, rotated by size.

Each line goes out in one write() on an O_APPEND descriptor, so a reader tailing the file never
sees a part of one. A short write (a full disk, a file size limit) is cut back to the line before
and counted: the file only ever holds whole lines. Rotation: when the next line would pass
`max_bytes`, PATH becomes PATH.1 (PATH.1 -> PATH.2, ..., the oldest beyond `keep` removed).
"""
import json
import os
import threading


class JsonlLog(object):
    def __init__(self, path, max_bytes=50 * 1024 * 1024, keep=5):
        self.path, self.max_bytes, self.keep = path, int(max_bytes), int(keep)
        self.lock = threading.Lock()
        self.errors = 0
        self.last_error = None
        folder = os.path.dirname(os.path.abspath(path))
        if not os.path.isdir(folder):
            os.makedirs(folder)
        self.fd = self._open()

    def _open(self):
        return os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)

    def write(self, record):
        """Append one record as one line; False (and counted) when it could not be written whole."""
        data = (json.dumps(record, sort_keys=True) + "\n").encode("utf-8")
        with self.lock:
            try:
                size = os.fstat(self.fd).st_size
                if size and size + len(data) > self.max_bytes:
                    self._rotate()
                    size = 0
                written = os.write(self.fd, data)
                if written != len(data):
                    os.ftruncate(self.fd, size)  # never leave half a line
                    raise OSError("short write: {} of {} bytes (disk full?)".format(written, len(data)))
            except OSError as exc:
                self.errors += 1
                self.last_error = "{}: {}".format(self.path, exc.strerror or exc)
                return False
            return True

    def _rotate(self):
        os.close(self.fd)
        try:
            for n in range(self.keep - 1, 0, -1):  # PATH.keep is replaced by the rename onto it
                older = "{}.{}".format(self.path, n)
                if os.path.exists(older):
                    os.rename(older, "{}.{}".format(self.path, n + 1))
            os.rename(self.path, self.path + ".1")
        finally:
            self.fd = self._open()  # a failed rotation keeps appending to PATH

    def close(self):
        with self.lock:
            os.close(self.fd)
