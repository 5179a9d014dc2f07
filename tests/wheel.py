"""Write a wheel from {archive path: text}: its dist-info RECORD computed, timestamps fixed (the same
bytes every time). For the stand-in wheels of the simulated Nano and of the real-index tier."""
import base64
import csv
import hashlib
import io
import zipfile


def write_wheel(path, files, info):
    """Zip `files` plus `info`/RECORD (`info`: the wheel's .dist-info folder) into `path`."""
    files = dict(files)
    record = info + "/RECORD"
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    for name, text in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b"=").decode()
        writer.writerow([name, "sha256=" + digest, len(text.encode())])
    writer.writerow([record, "", ""])
    files[record] = out.getvalue()
    with zipfile.ZipFile(path, "w") as zf:
        for arc, text in files.items():
            zf.writestr(zipfile.ZipInfo(arc, (1980, 1, 1, 0, 0, 0)), text)
    return path
