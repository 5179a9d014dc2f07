"""Pack the kit's source paths into one tar.gz on the controller, the same bytes for the same files
(sorted, fixed owner and times, no __pycache__), so that the Nano gets one file instead of one
transfer per file, and nothing changes on a second run.

  python pack_source.py SRC OUT PATH...
"""
import gzip
import os
import sys
import tarfile

EPOCH = 315532800  # 1980-01-01: zip (the wheel pip builds in the image) refuses older times


def files(src, paths):
    for path in paths:
        full = os.path.join(src, path)
        if not os.path.isdir(full):
            yield path
            continue
        for base, dirs, names in os.walk(full):
            dirs[:] = sorted(d for d in dirs if d != "__pycache__")
            for name in sorted(names):
                if not name.endswith(".pyc"):
                    yield os.path.relpath(os.path.join(base, name), src)


def pack(src, out, paths):
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    with open(out + ".tmp", "wb") as raw:
        with gzip.GzipFile(fileobj=raw, mode="wb", mtime=EPOCH) as gz, tarfile.open(fileobj=gz, mode="w") as tar:
            for name in files(src, paths):
                info = tar.gettarinfo(os.path.join(src, name), arcname=name)
                info.mtime, info.uid, info.gid, info.uname, info.gname = EPOCH, 0, 0, "", ""
                with open(os.path.join(src, name), "rb") as f:
                    tar.addfile(info, f)
    os.replace(out + ".tmp", out)


if __name__ == "__main__":
    pack(sys.argv[1], sys.argv[2], sys.argv[3:])
