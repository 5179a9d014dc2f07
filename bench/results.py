"""Result files: written atomically (temp file + rename, so an interrupted run leaves no half-written
file), and self-describing (machine, device state, git commit, exact command)."""
import getpass
import json
import os
import platform
import socket
import subprocess
import tempfile
import time

from bench import jetson
from ocr import ROOT

SCHEMA = "nano-ocr-kit/bench-result/1"


def write_json_atomic(path, obj):
    """Write JSON to `path` so that readers see the old file or the whole new one, never a part."""
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        os.makedirs(folder)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".json", dir=folder)
    try:
        with os.fdopen(fd, "w") as f:
            json.dump(obj, f, indent=1, sort_keys=False)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path


def read_result(path):
    with open(path) as f:
        obj = json.load(f)
    if obj.get("schema") != SCHEMA:
        raise ValueError("{}: not a bench result (schema {!r})".format(path, obj.get("schema")))
    return obj


def git_describe():
    def git(*args):
        try:
            return subprocess.check_output(("git", "-C", ROOT) + args, stderr=subprocess.DEVNULL,
                                           universal_newlines=True).strip()
        except (OSError, subprocess.CalledProcessError):
            return None
    commit = git("rev-parse", "HEAD")
    dirty = git("status", "--porcelain", "--untracked-files=no")
    info = {"commit": commit, "dirty": bool(dirty) if commit else None}
    if commit is None and os.environ.get("KIT_GIT_COMMIT"):  # inside a kit image: no .git, a label
        info["commit"] = os.environ["KIT_GIT_COMMIT"]
    if os.environ.get("KIT_IMAGE"):
        info["image"] = os.environ["KIT_IMAGE"]
    return info


def _proc_field(path, prefixes):
    """The value after ':' of the first line of a /proc file starting with one of prefixes."""
    for line in (jetson.read_file(path) or "").splitlines():
        if line.lower().startswith(prefixes):
            return line.split(":", 1)[1].strip()
    return None


def _cpu_model():
    return _proc_field("/proc/cpuinfo", ("model name", "hardware")) or platform.processor() or platform.machine()


def _memory_mb():
    total = _proc_field("/proc/meminfo", ("memtotal",))  # "16314368 kB"
    return int(total.split()[0]) // 1024 if total else None


def _gpu():
    """GPU name from nvidia-smi when present (not on a Jetson, whose GPU jetson.py reports)."""
    rc, out = jetson.run_command(["nvidia-smi", "--query-gpu=name,driver_version", "--format=csv,noheader"], 10)
    return out.strip().splitlines()[0] if rc == 0 and out.strip() else None


def machine():
    """What ran the benchmark: CPU, cores, memory, GPU, and on a Jetson its L4T / power state."""
    info = {"hostname": socket.gethostname(), "user": getpass.getuser(), "os": platform.platform(),
            "arch": platform.machine(), "cpu": _cpu_model(), "cores": os.cpu_count(),
            "memory_mb": _memory_mb(), "gpu": _gpu()}
    try:
        info["platform"] = jetson.platform_state()
    except Exception as exc:  # noqa: BLE001 - the state is informative, never fatal
        info["platform"] = {"error": str(exc)}
    return info


def device_label(machine_info, engine_device):
    """Short label for tables: 'Jetson Nano (GPU)', 'x86_64 CPU', 'NVIDIA H100 ...'."""
    plat = machine_info.get("platform") or {}
    board = plat.get("board_model")
    if board:
        return "{} ({})".format(board.replace("NVIDIA ", "").replace(" Developer Kit", ""),
                                engine_device.upper())
    if engine_device == "cuda" and machine_info.get("gpu"):
        return machine_info["gpu"].split(",")[0]
    return "{} {}".format(machine_info.get("arch", "?"), engine_device.upper())


def run_id():
    return time.strftime("%Y%m%d-%H%M%S") + "-" + socket.gethostname()
