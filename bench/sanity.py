"""`invoke sanity`: is this device set up right, and as fast as a reference Jetson Nano?

Each check gives PASS / FAIL / SKIP with a one-line reason and a hint to fix it; the run ends with
a summary table and exits non-zero when anything failed. Off a Jetson the checks that apply still
run for real (the reference models on this CPU, one OCR read per engine) and the rest SKIP saying
why: nothing PASSes without having been compared with something.
"""
import argparse
import csv
import importlib
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import warnings

from bench import jetson
from ocr.metrics import normalise

HERE = os.path.dirname(os.path.abspath(__file__))
KIT_ROOT = os.path.dirname(HERE)
DATA = os.path.join(HERE, "data")
BAND = 0.15          # +-15 % of a published FPS decides PASS (the paper's Nano was within 3 FPS of it)
MIN_SWAP_MB = 4096   # torch + TensorRT engine builds run out of the Nano's 4 GB without it
MIN_DISK_MB = 2048   # room for model files and TensorRT engines
REFERENCE_MODELS = ["resnet18", "resnet50", "alexnet", "squeezenet1_1", "densenet121"]
CPU_MODELS = ["resnet18", "squeezenet1_1"]  # off a Jetson: a short, real CPU measurement
REFERENCE_TEXT = "LOT A7319"
PASS, FAIL, SKIP = "PASS", "FAIL", "SKIP"


class Result(object):
    __slots__ = ("group", "name", "status", "reason", "hint", "data")

    def __init__(self, group, name, status, reason, hint="", data=None):
        self.group, self.name, self.status = group, name, status
        self.reason, self.hint, self.data = reason, hint, data or {}

    def to_dict(self):
        return {k: getattr(self, k) for k in self.__slots__}


class Context(object):
    """The options plus what every check wants to know about the machine, read once."""

    def __init__(self, models=None, iterations=None, warmup=None, paddle_python=None,
                 jetson_benchmarks=None, engines=None, root="/", run=jetson.run_command):
        self.root, self.run = root, run
        self.state = jetson.platform_state(root, run)
        self.on_jetson = self.state["l4t"] is not None
        self.is_nano = "Jetson Nano" in (self.state["board_model"] or "")
        self.models = models or (REFERENCE_MODELS if self.on_jetson else CPU_MODELS)
        self.iterations = iterations or (50 if self.on_jetson else 10)
        self.warmup = warmup if warmup is not None else (10 if self.on_jetson else 2)
        self.interpreters = load_interpreters()
        self.paddle_python = paddle_python or os.environ.get("KIT_PADDLE_PYTHON") or self.interpreter_for("paddleocr")
        self.jetson_benchmarks = jetson_benchmarks
        self.engines = engines
        self.expected = expected_versions(self.state["l4t"])

    def interpreter_for(self, engine):
        """The Python an engine runs under in `invoke bench` (this one unless interpreters.yml says)."""
        from bench import runner
        return runner.interpreter_for(engine, self.interpreters)

    def missing(self, res, reason, hint):
        """Something the Nano needs is absent: a FAIL there, an expected SKIP anywhere else."""
        if self.on_jetson:
            return res(FAIL, reason, hint)
        return res(SKIP, reason + " (expected off a Jetson)")


def load_interpreters():
    """bench/interpreters.yml through the runner, so that sanity and bench agree; {} without it."""
    try:
        from bench import runner
        return runner.load_interpreters()
    except Exception:  # no runner / a broken file: every engine is read in this interpreter
        return {}


def expected_versions(l4t):
    """The versions.yml entry of this L4T release, picked as the docker tasks pick it
    (versions.l4t_key); off a Jetson, or for a release the table lacks, the default entry (so
    check_l4t reports the unknown release instead of raising)."""
    from bench import versions
    table = versions.load_table()
    try:
        key = versions.l4t_key(table, l4t) if l4t else table["default_l4t"]
    except versions.TableProblem:
        key = table["default_l4t"]
    return table["l4t"][key]


def try_import(module):
    """(module, None) or (None, one-line reason): a broken install is reported, not raised."""
    try:
        return importlib.import_module(module), None
    except Exception as exc:  # ImportError, but also OSError from a missing .so, RuntimeError...
        return None, "{}: {}".format(type(exc).__name__, (str(exc).strip().splitlines() or [""])[0][:160])


def outcome(group, name):
    """The Result factory of one check, so that each return says only status, reason and hint."""
    def res(status, reason, hint="", data=None):
        return Result(group, name, status, reason, hint, data)
    return res


def off_jetson(res, what):
    return res(SKIP, "not a Jetson (no /etc/nv_tegra_release): " + what)


# --- platform ------------------------------------------------------------------------------------
def check_l4t(ctx):
    res = outcome("platform", "l4t")
    if not ctx.on_jetson:
        return off_jetson(res, "nothing to compare with versions.yml")
    l4t, releases = ctx.state["l4t"], ctx.expected["l4t_releases"]
    if l4t in releases:
        return res(PASS, "L4T {} (JetPack {})".format(l4t, ctx.state["jetpack"]))
    return res(FAIL, "L4T {} is not one of {}".format(l4t, ", ".join(releases)),
               "flash JetPack 4.6.x (L4T 32.7.x): the kit's wheels are built for it")


def check_board(ctx):
    res = outcome("platform", "board")
    model = ctx.state["board_model"]
    if not ctx.on_jetson:
        return off_jetson(res, "board model {!r}".format(model))
    if ctx.is_nano:
        return res(PASS, model)
    return res(FAIL, "{!r} is not a Jetson Nano".format(model),
               "the references and pins of this kit are the Jetson Nano's")


def jetson_reading(ctx, res, value, command, judge):
    """The frame of checks on what only a Jetson, and often only root, can read."""
    if not ctx.on_jetson:
        return off_jetson(res, "no " + command.split()[0])
    if value is None:
        return res(SKIP, "`{}` gave nothing".format(command), "run with sudo")
    return judge(value)


def check_power_mode(ctx):
    res = outcome("platform", "power_mode")

    def judge(mode):
        if mode["name"] == "MAXN":
            return res(PASS, "nvpmodel MAXN (id {})".format(mode["id"]))
        return res(FAIL, "nvpmodel {} (id {}), not MAXN".format(mode["name"], mode["id"]),
                   "sudo nvpmodel -m 0 (the ansible power role keeps it there)")
    return jetson_reading(ctx, res, ctx.state["nvpmodel_mode"], "nvpmodel -q", judge)


def check_clocks(ctx):
    res = outcome("platform", "jetson_clocks")

    def judge(pinned):
        if pinned:
            return res(PASS, "CPU and GPU clocks pinned at their maximum")
        return res(FAIL, "clocks are scaling (jetson_clocks not active)",
                   "sudo jetson_clocks (the ansible power role installs a unit that runs it at boot)")
    return jetson_reading(ctx, res, ctx.state["jetson_clocks"], "jetson_clocks --show", judge)


def check_swap(ctx):
    res = outcome("platform", "swap")
    if not ctx.on_jetson:
        return off_jetson(res, "the swap need is the Nano's ({} MB)".format(MIN_SWAP_MB))
    swap = ctx.state["swap_mb"] or 0
    status = PASS if swap >= MIN_SWAP_MB else FAIL
    return res(status, "{} MB of swap (need {} MB)".format(swap, MIN_SWAP_MB),
               "" if status == PASS else "add a swap file (ansible role swap, swap_file_size_mb)")


def check_disk(ctx):
    res = outcome("platform", "disk_free")
    free = ctx.state["disk_free_mb"]
    if free is None:
        return res(SKIP, "statvfs({}) failed".format(ctx.root))
    status = PASS if free >= MIN_DISK_MB else FAIL
    return res(status, "{} MB free on {} (need {} MB)".format(free, ctx.root, MIN_DISK_MB),
               "" if status == PASS else "free space: remove old TensorRT engines, apt-get clean, docker prune")


def check_thermal(ctx):
    res = outcome("platform", "thermal")
    throttled, reasons = ctx.state["throttled"], ctx.state["throttle_reasons"]
    trips = ctx.state["trip_points_c"]
    temps = ", ".join("{} {:.1f} C (trip {:.0f})".format(n, t, trips[n]) if n in trips else "{} {:.1f} C".format(n, t)
                      for n, t in sorted(ctx.state["temperatures"].items()))
    if throttled is None:
        seen = " ({})".format(temps) if temps else ""
        return res(SKIP, "no thermal trip points or clock pins readable here" + seen)
    if throttled:
        return res(FAIL, "throttling now: " + "; ".join(reasons),
                   "add a fan / let it cool; check the 5 V 4 A barrel supply")
    return res(PASS, "under the throttle trip points: " + temps)


# --- software stack ----------------------------------------------------------------------------------
def check_torch_cuda(ctx):
    res = outcome("stack", "torch_cuda")
    torch, err = try_import("torch")
    if torch is None:
        return ctx.missing(res, "torch does not import: " + err,
                           "install NVIDIA's torch wheel (ansible role python_envs)")
    where = "torch {} on Python {}.{}".format(torch.__version__, *sys.version_info[:2])
    if torch.cuda.is_available():
        return res(PASS, "{}: CUDA on {}".format(where, torch.cuda.get_device_name(0)))
    return ctx.missing(res, where + ": torch.cuda.is_available() is False",
                       "install NVIDIA's CUDA torch wheel for JetPack 4.6 (PyPI's aarch64 torch is CPU-only)")


def check_cv2_cuda(ctx):
    res = outcome("stack", "cv2_cuda")
    cv2, err = try_import("cv2")
    if cv2 is None:
        return ctx.missing(res, "cv2 does not import: " + err, "ansible role opencv_cuda")
    count = cv2.cuda.getCudaEnabledDeviceCount() if hasattr(cv2, "cuda") else 0
    if count > 0:
        return res(PASS, "OpenCV {}: {} CUDA device(s)".format(cv2.__version__, count))
    return ctx.missing(res, "OpenCV {} sees no CUDA device".format(cv2.__version__),
                       "build OpenCV with CUDA (ansible role opencv_cuda); pip's opencv has none")


def distribution_version(name):
    try:
        import pkg_resources
        return pkg_resources.get_distribution(name).version
    except Exception:  # not installed by pip, or no setuptools: the version stays unknown
        return None


def check_pinned_import(ctx, name, module, expected, version_of, hint):
    """Import `module` and compare its version with the pin from versions.yml."""
    res = outcome("stack", name)
    mod, err = try_import(module)
    if mod is None:
        return ctx.missing(res, "{} does not import: {}".format(module, err), hint)
    version = version_of(mod)
    if version and version.lstrip("v").startswith(expected.lstrip("v")):
        return res(PASS, "{} {} (pinned {})".format(module, version, expected))
    return res(FAIL, "{} {} but versions.yml pins {}".format(module, version or "?", expected), hint)


def check_tensorrt(ctx):
    return check_pinned_import(ctx, "tensorrt", "tensorrt", ctx.expected["tensorrt"],
                               lambda m: getattr(m, "__version__", None), "JetPack 4.6.x ships TensorRT 8.2.1")


def check_torch2trt(ctx):
    return check_pinned_import(ctx, "torch2trt", "torch2trt", ctx.expected["pins"]["torch2trt"],
                               lambda m: distribution_version("torch2trt"),
                               "ansible role torch2trt (clones the pinned tag)")


def check_easyocr_bidi(ctx):
    res = outcome("stack", "easyocr_bidi")
    easyocr, err = try_import("easyocr")
    if easyocr is None and "get_display" in (err or ""):
        return res(FAIL, "easyocr does not import: " + err,
                   "apply the bidi fix: in easyocr/easyocr.py use `from bidi.algorithm import get_display` "
                   "(ansible role easyocr), or pin python-bidi 0.4.2")
    if easyocr is None:
        return ctx.missing(res, "easyocr does not import: " + err, "pip install kit[easyocr]")
    display = importlib.import_module("easyocr.easyocr").get_display
    return res(PASS, "easyocr {} imports; get_display from {}".format(
        easyocr.__version__, display.__module__))


PADDLE_PROBE = (
    "import json, sys, paddle, paddle.inference as pi\n"
    "trt = pi.get_trt_compile_version() if hasattr(pi, 'get_trt_compile_version') else (0, 0, 0)\n"
    "print(json.dumps({'python': '%d.%d' % sys.version_info[:2], 'paddle': paddle.__version__,\n"
    "                  'cuda': bool(paddle.is_compiled_with_cuda()), 'trt': list(trt)}))\n")


def probe_paddle(python, timeout=300):
    """Ask another interpreter (the Nano's Python 3.7 venv) what its Paddle was compiled with."""
    try:
        proc = subprocess.run([python, "-c", PADDLE_PROBE], stdout=subprocess.PIPE,  # noqa: UP022 (3.6)
                              stderr=subprocess.PIPE, universal_newlines=True, timeout=timeout)  # noqa: UP021
    except (OSError, subprocess.SubprocessError) as exc:
        return None, "{} cannot run: {}".format(python, exc)
    lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
    if proc.returncode or not lines:
        tail = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        return None, "paddle does not import in {}: {}".format(python, tail[:160])
    return json.loads(lines[-1]), None


def check_paddle(ctx):
    res = outcome("stack", "paddle_cuda_trt")
    info, err = probe_paddle(ctx.paddle_python)
    hint = "Paddle Inference's Jetson wheel in the Python {} venv; point --paddle-python at it".format(
        ctx.expected["python_paddle"])
    if info is None:
        return ctx.missing(res, err, hint)
    trt = ".".join(str(v) for v in info["trt"]) if any(info["trt"]) else "none"
    what = "paddle {} (Python {}): CUDA {}, TensorRT {}".format(
        info["paddle"], info["python"], "yes" if info["cuda"] else "no", trt)
    if info["cuda"] and any(info["trt"]):
        return res(PASS, what)
    return ctx.missing(res, what, hint)


# --- one real OCR read per engine ---------------------------------------------------------------------
SYSTEM_DEJAVU = "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"  # Ubuntu's fonts-dejavu-core


def dejavu_path():
    """DejaVu Sans Bold from matplotlib when it is installed, else Ubuntu's copy (L4T ships it)."""
    matplotlib, _ = try_import("matplotlib")
    if matplotlib is not None:
        return os.path.join(os.path.dirname(matplotlib.__file__), "mpl-data", "fonts", "ttf", "DejaVuSans-Bold.ttf")
    return SYSTEM_DEJAVU if os.path.isfile(SYSTEM_DEJAVU) else None


def dejavu_font(size):
    from PIL import ImageFont
    return ImageFont.truetype(dejavu_path(), size)


def reference_crop(text=REFERENCE_TEXT, size=40, pad=12):
    """A clean printed-code crop (black on white, RGB uint8) whose text is known."""
    import numpy as np
    from PIL import Image, ImageDraw
    font = dejavu_font(size)
    left, top, right, bottom = ImageDraw.Draw(Image.new("RGB", (1, 1))).textbbox((0, 0), text, font=font)
    image = Image.new("RGB", (right - left + 2 * pad, bottom - top + 2 * pad), "white")
    ImageDraw.Draw(image).text((pad - left, pad - top), text, fill="black", font=font)
    return np.asarray(image)


def read_once(registry, name, crop, expected):
    """Load the engine (model files verified by sha256 on load) and read the crop once."""
    from ocr.engines.base import EngineUnavailable
    res = outcome("ocr", name)
    ok, why = registry.availability(name)
    if not ok:
        return res(SKIP, why)  # the registry's reason already names what is missing
    try:
        with warnings.catch_warnings():  # the engines' libraries warn about their own internals
            warnings.simplefilter("ignore")
            engine = registry.create(name).load()
            t0 = time.time()
            prediction = engine.predict([crop])[0]
            ms = (time.time() - t0) * 1000
    except EngineUnavailable as exc:  # available, yet a model file is missing or its sha256 is wrong
        return res(FAIL, str(exc), "reinstall the model files (ocr/data/models.yml)")
    except Exception as exc:  # the engine itself broke: report it, check the next one
        return res(FAIL, "{}: {}".format(type(exc).__name__, exc), "run `invoke engines`")
    got = "read {!r} (confidence {:.2f}), first call {:.0f} ms".format(
        prediction.text, prediction.confidence, ms)
    if normalise(prediction.text) == normalise(expected):
        return res(PASS, got)
    return res(FAIL, "{}, expected {!r}".format(got, expected),
               "the engine's models or preprocessing are off: compare with `invoke bench`")


def check_engines(ctx):
    res = outcome("ocr", "engines")
    registry, err = try_import("ocr.engines.registry")
    if registry is None or not hasattr(registry, "availability"):
        return res(SKIP, "engine registry not available: {}".format(err or "no availability()"))
    if dejavu_path() is None:
        return res(SKIP, "no DejaVu font to draw the reference crop", "pip install matplotlib, or apt install "
                   "fonts-dejavu-core")
    crop = reference_crop()
    results = []
    for name in ctx.engines or registry.names():
        python = ctx.interpreter_for(name)
        same = os.path.realpath(python) == os.path.realpath(sys.executable)
        results.append(read_once(registry, name, crop, REFERENCE_TEXT) if same else read_elsewhere(python, name))
    return results


def read_elsewhere(python, name, timeout=900):
    """The same read in the engine's own interpreter (bench/interpreters.yml: the Paddle venv on a
    Nano), by running this module there for that one engine."""
    res = outcome("ocr", name)
    env = dict(os.environ, PYTHONPATH=KIT_ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "result.json")
        argv = [python, "-m", "bench.sanity", "--only", "ocr", "--engines", name, "--json", path]
        try:
            proc = subprocess.run(argv, env=env, cwd=KIT_ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                  universal_newlines=True, timeout=timeout)  # noqa: UP021 (3.6)
        except (OSError, subprocess.SubprocessError) as exc:
            return res(FAIL, "{} cannot run: {}".format(python, exc), "check bench/interpreters.yml")
        if not os.path.isfile(path):
            tail = (proc.stdout.strip().splitlines() or ["no output"])[-1]
            return res(FAIL, "{} could not run the check: {}".format(python, tail[:160]),
                       "check bench/interpreters.yml")
        with open(path) as f:
            saved = json.load(f)["results"][0]
    saved["reason"] += " [{}]".format(python)
    return Result(**saved)


# --- reference throughput --------------------------------------------------------------------------------
def load_references(path=os.path.join(DATA, "torch2trt_jetson_nano.csv")):
    """{model: {"pytorch": FPS, "tensorrt": FPS}} from torch2trt's published Jetson Nano table."""
    with open(path) as f:
        rows = csv.DictReader(line for line in f if not line.startswith("#"))
        return {r["model"]: {"pytorch": float(r["throughput_pytorch_fps"]),
                             "tensorrt": float(r["throughput_tensorrt_fps"])} for r in rows}


def likely_causes(state):
    """Why a Nano may run slow, from what the platform state says (most likely first)."""
    causes = []
    mode = state.get("nvpmodel_mode")
    if mode and mode["name"] != "MAXN":
        causes.append("power mode {} (sudo nvpmodel -m 0)".format(mode["name"]))
    if state.get("jetson_clocks") is False:
        causes.append("clocks not pinned (sudo jetson_clocks)")
    if state.get("throttled"):
        causes.append("heat: " + "; ".join(state.get("throttle_reasons") or ["throttling"]))
    return causes or ["not power mode, clocks or heat: check background load (top), swap use, and that "
                      "torch is NVIDIA's CUDA wheel"]


def judge_fps(measured, reference, state, band=BAND):
    """(status, reason, hint) of a measured FPS against a published Nano FPS."""
    delta = measured / reference - 1
    where = "{:.1f} FPS vs published {:.1f} ({:+.0f} %)".format(measured, reference, delta * 100)
    if measured < reference * (1 - band):  # products, not the rounded delta, decide at the edge
        causes = "likely: " + "; ".join(likely_causes(state))
        return FAIL, where + ", under the -{:.0f} % band".format(band * 100), causes
    if measured > reference * (1 + band):
        return PASS, where + ", above the band (faster than the reference)", ""
    return PASS, where + ", within +-{:.0f} %".format(band * 100), ""


def build_model(torchvision, name):
    """A torchvision reference model with random weights (nothing downloaded; FPS does not care)."""
    ctor = getattr(torchvision.models, name)
    try:
        return ctor(weights=None)
    except TypeError:  # torchvision 0.11 (the Nano's) predates `weights`
        return ctor(pretrained=False)


def measure_fps(torch, model, x, iterations, warmup):
    """Throughput at batch 1: warm-up excluded, the device synchronized at both ends (torch2trt's
    harness does the same)."""
    sync = torch.cuda.synchronize if x.is_cuda else (lambda: None)
    with torch.no_grad():
        for _ in range(warmup):
            model(x)
        sync()
        t0 = time.perf_counter()
        for _ in range(iterations):
            model(x)
        sync()
        return iterations / (time.perf_counter() - t0)


def throughput_result(ctx, name, backend, fps, reference, precision, device):
    res = outcome("throughput", "{}/{}".format(name, backend))
    data = {"model": name, "backend": backend, "device": device, "precision": precision,
            "fps": round(fps, 2), "reference_fps": reference}
    if not (ctx.on_jetson and ctx.is_nano) or reference is None:
        why = "no reference for this device" if reference else "no published Nano figure"
        return res(SKIP, "{:.1f} FPS ({}, {}, batch 1, 224x224, random weights): {}".format(
            fps, precision, device, why), data=data)
    status, reason, hint = judge_fps(fps, reference, ctx.state)
    return res(status, reason, hint, data)


def run_reference_model(ctx, torch, torchvision, name, refs, to_trt):
    device = "cuda" if torch.cuda.is_available() else "cpu"
    half = device == "cuda"  # the published figures are FP16 on the GPU; half convs on a CPU are not
    model = build_model(torchvision, name).eval().to(device)
    x = torch.randn(1, 3, 224, 224, device=device)
    model, x = (model.half(), x.half()) if half else (model, x)
    precision = "fp16" if half else "fp32"
    ref = refs.get(name, {})
    results = [throughput_result(ctx, name, "pytorch", measure_fps(torch, model, x, ctx.iterations, ctx.warmup),
                                 ref.get("pytorch"), precision, device)]
    if to_trt is not None:
        try:
            trt_model = to_trt(model, [x], fp16_mode=True)
        except Exception as exc:  # a converter/TensorRT mismatch: report it, measure the next model
            return results + [Result("throughput", name + "/tensorrt", FAIL, "torch2trt could not convert: {}".format(
                str(exc).splitlines()[0][:160] if str(exc) else type(exc).__name__), "check TensorRT/torch2trt pins")]
        results.append(throughput_result(ctx, name, "tensorrt", measure_fps(
            torch, trt_model, x, ctx.iterations, ctx.warmup), ref.get("tensorrt"), "fp16", device))
    return results


def check_reference_models(ctx):
    torch, err = try_import("torch")
    torchvision, err_tv = try_import("torchvision")
    if torch is None or torchvision is None:
        return ctx.missing(outcome("throughput", "reference_models"), "torch/torchvision missing: {}".format(
            err or err_tv), "install NVIDIA's torch wheel and torchvision " + ctx.expected["pins"]["torchvision"])
    torch2trt, trt_err = try_import("torch2trt") if torch.cuda.is_available() else (None, "no CUDA device")
    refs = load_references()
    results = []
    for name in ctx.models:
        results += run_reference_model(ctx, torch, torchvision, name, refs,
                                       torch2trt.torch2trt if torch2trt else None)
        if torch.cuda.is_available():
            torch.cuda.empty_cache()  # the Nano's 4 GB are shared with the CPU: free each model's memory
    if torch2trt is None:
        results.append(ctx.missing(outcome("throughput", "tensorrt"), "TensorRT path not measured: " + trt_err,
                                   "ansible role torch2trt"))
    return results


# --- NVIDIA's jetson_benchmarks -------------------------------------------------------------------------
def jetson_benchmarks_command(repo, model_dir, python="python3"):
    """The README's Nano command at the pinned commit, plus --jetson_clocks (its DVFS path for the
    Nano writes registers that do not exist there)."""
    return [python, os.path.join(repo, "benchmark.py"), "--all",
            "--csv_file_path", os.path.join(repo, "benchmark_csv", "tx2-nano-benchmarks.csv"),
            "--model_dir", model_dir, "--jetson_devkit", "nano", "--gpu_freq", "921600000",
            "--power_mode", "0", "--precision", "fp16", "--jetson_clocks"]


def parse_jetson_benchmarks(text):
    """{model: FPS} from its per-model report ("Model Name: X \\nFPS:Y"), else from the final
    pandas table (index, model, FPS)."""
    blocks = re.findall(r"Model Name: (\S+)\s*\n\s*FPS:\s*([\d.]+)", text)
    if blocks:
        return {m: float(f) for m, f in blocks}
    table = text.split("Model Name", 1)[-1] if "Model Name" in text else ""
    return {m: float(f) for m, f in re.findall(r"^\s*\d+\s+(\S+)\s+([\d.]+)\s*$", table, re.M)}


def jetson_benchmarks_table(measured, ref_dir=DATA):
    """Rows of model, measured FPS, precision used, and the NX sample FPS for scale. The pinned
    repo publishes no Nano FPS, so nothing here is a Nano pass mark."""
    def rows(name):
        with open(os.path.join(ref_dir, name)) as f:
            return {r["ModelName"]: r for r in csv.DictReader(line for line in f if not line.startswith("#"))}
    nano, nx = rows("jetson_benchmarks_nano.csv"), rows("jetson_benchmarks_xavier_nx.csv")
    return [[m, measured.get(m), nano[m]["Precision"], "n/a", nx.get(m, {}).get("SampleOutputFPS")]
            for m in nano]


def check_jetson_benchmarks(ctx):
    res = outcome("jetson_benchmarks", "jetson_benchmarks")
    pin = ctx.expected["pins"]["jetson_benchmarks"]
    if not ctx.on_jetson:
        return off_jetson(res, "it builds TensorRT engines with trtexec")
    repo = ctx.jetson_benchmarks
    if not repo:
        return res(SKIP, "opt-in: it takes about 2 hours",
                   "clone NVIDIA-AI-IOT/jetson_benchmarks at {}, download its models into <clone>/models, "
                   "then: sudo invoke sanity --jetson-benchmarks <clone>".format(pin))
    rc, head = ctx.run(["git", "-C", repo, "rev-parse", "HEAD"])
    if rc != 0 or head.strip() != pin:
        return res(FAIL, "{} is at {}, not the pinned {}".format(
            repo, head.strip()[:12] or "?", pin[:12]), "git -C {} checkout {}".format(repo, pin))
    proc = subprocess.run(jetson_benchmarks_command(repo, os.path.join(repo, "models")), cwd=repo, input="\n",
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          universal_newlines=True)  # noqa: UP021 (3.6)
    measured = parse_jetson_benchmarks(proc.stdout)
    table = jetson_benchmarks_table(measured)
    failed = [row[0] for row in table if not row[1]]
    status = FAIL if failed or proc.returncode else PASS
    reason = "{}/{} models ran (exit {}); no Nano FPS is published in the pinned repo: see the table".format(
        len(table) - len(failed), len(table), proc.returncode)
    hint = "failed: {} (see {}/models/*.txt)".format(", ".join(failed), repo) if failed else ""
    return res(status, reason, hint, {"table": table})


# --- running and reporting ------------------------------------------------------------------------------
CHECKS = [
    ("platform", [check_l4t, check_board, check_power_mode, check_clocks, check_swap, check_disk, check_thermal]),
    ("stack", [check_torch_cuda, check_cv2_cuda, check_tensorrt, check_torch2trt, check_easyocr_bidi,
               check_paddle]),
    ("ocr", [check_engines]),
    ("throughput", [check_reference_models]),
    ("jetson_benchmarks", [check_jetson_benchmarks]),
]
GROUPS = [group for group, _ in CHECKS]


def run_checks(ctx, groups=None, out=sys.stdout):
    results = []
    for group, checks in CHECKS:
        for check in checks if not groups or group in groups else []:
            produced = check(ctx)
            for result in produced if isinstance(produced, list) else [produced]:
                print_result(result, out)
                results.append(result)
    return results


def print_result(result, out):
    out.write("{:4}  {}/{}: {}\n".format(result.status, result.group, result.name, result.reason))
    if result.hint and result.status != PASS:
        out.write("      fix: {}\n".format(result.hint))
    out.flush()


def clip(text, width=100):
    return text if len(text) <= width else text[:width - 3] + "..."


def platform_line(state):
    if not state["l4t"]:
        return "Platform: not a Jetson ({} MB swap, {} MB free disk)".format(state["swap_mb"], state["disk_free_mb"])
    return "Platform: {}, L4T {}, JetPack {}, power mode {}, jetson_clocks {}, swap {} MB".format(
        state["board_model"], state["l4t"], state["jetpack"], (state["nvpmodel_mode"] or {}).get("name"),
        state["jetson_clocks"], state["swap_mb"])


def summary(results, state):
    from tabulate import tabulate
    lines = ["", platform_line(state), ""]
    lines.append(tabulate([[r.status, r.group, r.name, clip(r.reason)] for r in results],
                          headers=["status", "group", "check", "reason"]))
    speed = [r.data for r in results if r.group == "throughput" and r.data]
    if speed:
        lines += ["", tabulate([[d["model"], d["backend"], d["device"], d["precision"], d["fps"], d["reference_fps"]]
                                for d in speed], headers=["model", "backend", "device", "precision", "FPS",
                                                          "Nano reference FPS"])]
    for r in results:
        if "table" in r.data:
            lines += ["", tabulate(r.data["table"], headers=["jetson_benchmarks model", "FPS", "precision",
                                                             "Nano published", "Xavier NX sample FPS"])]
    counts = {s: sum(r.status == s for r in results) for s in (PASS, FAIL, SKIP)}
    lines += ["", "sanity: {PASS} PASS, {FAIL} FAIL, {SKIP} SKIP".format(**counts)]
    return "\n".join(lines) + "\n"


def sanity_cli(only=None, models=None, iterations=None, warmup=None, paddle_python=None,
               jetson_benchmarks=None, engines=None, out_json=None, stream=sys.stdout):
    """Run the checks, print each result and the summary; 1 when anything failed, else 0."""
    groups = [g.strip() for g in only.split(",")] if only else None
    unknown = sorted(set(groups or []) - set(GROUPS))
    if unknown:
        stream.write("unknown group(s) {}; valid: {}\n".format(", ".join(unknown), ", ".join(GROUPS)))
        return 2
    ctx = Context(models=models, iterations=iterations, warmup=warmup, paddle_python=paddle_python,
                  jetson_benchmarks=jetson_benchmarks, engines=engines)
    results = run_checks(ctx, groups, stream)
    stream.write(summary(results, ctx.state))
    if out_json:
        with open(out_json, "w") as f:
            json.dump({"platform": ctx.state, "results": [r.to_dict() for r in results]}, f, indent=1)
    return 1 if any(r.status == FAIL for r in results) else 0


def split_list(text):
    """'a, b' -> ['a', 'b']; empty -> None (the default applies)."""
    return [x.strip() for x in text.split(",") if x.strip()] if text else None


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--only", help="comma-separated groups: " + ", ".join(GROUPS))
    p.add_argument("--models", help="comma-separated torchvision models")
    p.add_argument("--iterations", type=int)
    p.add_argument("--warmup", type=int)
    p.add_argument("--paddle-python")
    p.add_argument("--jetson-benchmarks")
    p.add_argument("--engines", help="comma-separated engine names")
    p.add_argument("--json")
    a = p.parse_args(argv)
    return sanity_cli(a.only, split_list(a.models), a.iterations, a.warmup, a.paddle_python,
                      a.jetson_benchmarks, split_list(a.engines), a.json)


if __name__ == "__main__":
    sys.exit(main())
