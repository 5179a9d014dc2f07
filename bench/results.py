"""Result files: written atomically (temp file + rename, so an interrupted run leaves no half-written
file), and self-describing (machine, device state, git commit, exact command)."""
import errno
import getpass
import json
import os
import platform
import random
import socket
import subprocess
import sys
import time

from bench import jetson
from ocr import ROOT
from ocr.files import write_atomic, write_json_atomic  # noqa: F401 (re-exported: the bench's writers)

SCHEMA = "nano-ocr-kit/bench-result/1"


def write_stream_result(results_dir, kind, schema, measure, argv=None):
    """Run measure() -> doc (a stream or service benchmark), describe it like a bench result
    (machine, git, command, run id, and the host's load around it: a shared host moves the
    timings) and write it to RESULTS/<run id>/<kind>-<engine>.json; returns (doc, path)."""
    load_before = os.getloadavg()
    doc = measure()
    doc.update(load_average={"before": load_before, "after": os.getloadavg()}, schema=schema,
               machine=machine(), git=git_describe(), command=" ".join(argv or sys.argv), run_id=run_id())
    path = os.path.join(results_dir, doc["run_id"], "{}-{}.json".format(kind, doc["engine"]["name"]))
    write_json_atomic(path, doc)
    return doc, path


def read_result(path):
    """A result document, checked enough that tables can be built from it (ValueError: why not)."""
    with open(path, "rb") as f:
        try:
            obj = json.loads(f.read().decode("utf-8"))
        except UnicodeDecodeError as exc:
            raise ValueError("not UTF-8 ({})".format(exc)) from None
    if not isinstance(obj, dict) or obj.get("schema") != SCHEMA:
        schema = obj.get("schema") if isinstance(obj, dict) else type(obj).__name__
        raise ValueError("not a bench result (schema {!r})".format(schema))
    problem = _shape_problem(obj)
    if problem:
        raise ValueError("incomplete bench result: " + problem)
    return obj


def _shape_problem(doc):
    """What a result document lacks for the tables, or None."""
    if doc.get("status") not in ("ok", "error", "unavailable"):
        return "status {!r}".format(doc.get("status"))
    if not isinstance(doc.get("engine"), dict) or not isinstance(doc.get("dataset"), dict):
        return "no 'engine' or 'dataset' object"
    if doc["status"] != "ok":
        return None
    s = doc.get("summary")
    try:
        for part in ("raw", "normalised"):
            s["metrics"][part]["strict_accuracy"]
        for key in ("pre_ms", "ocr_ms", "total_ms"):
            s["timing"][key]["mean"]
        if not isinstance(doc["samples"], list):
            return "'samples' is not a list"
    except KeyError as exc:
        return "missing {}".format(exc)
    except TypeError:
        return "its summary's metrics or timing are empty or not objects"
    if not s.get("samples"):
        return "status ok with no sample measured"
    return None


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
    """Time, host and a random suffix: two runs started in the same second get different ids."""
    return "{}-{}-{:04x}".format(time.strftime("%Y%m%d-%H%M%S"), socket.gethostname(), random.getrandbits(16))


def new_run_dir(out, tries=20):
    """Create a fresh run folder under `out` (exclusive mkdir: never one another run uses)."""
    if os.path.exists(out) and not os.path.isdir(out):
        raise NotADirectoryError(errno.ENOTDIR, "Not a directory", out)
    if not os.path.isdir(out):
        os.makedirs(out, exist_ok=True)
    for _ in range(tries):
        path = os.path.join(out, run_id())
        try:
            os.mkdir(path)
            return path
        except FileExistsError:
            continue
    raise OSError("{}: no free run id after {} tries".format(out, tries))


def dataset_label(info):
    """'default (sha256 3f2a9c1b0e4d)' for a result's `dataset` block: the name, the hash and
    (after --limit) the part of it measured: what says which rows were measured on the same data."""
    info = info or {}
    name = (info.get("meta") or {}).get("name") if isinstance(info.get("meta"), dict) else None
    path = info.get("path") or "?"
    if not name:
        folder, base = os.path.split(path)
        name = os.path.basename(folder) if base in ("manifest.jsonl", "labels.jsonl") else base
    subset = ""
    if info.get("measured") is not None and info.get("measured") != info.get("samples"):
        subset = ", first {} of {} samples".format(info["measured"], info.get("samples"))
    return "{} (sha256 {}{})".format(name or "?", (info.get("sha256") or "?")[:12], subset)
