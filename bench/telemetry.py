"""Power, clock and temperature samples taken beside a benchmark, and their per-pass summary.

    s = Sampler(interval_ms=100); s.start()
    t0 = time.time(); ...timed pass...; t1 = time.time()
    summary = s.window(t0, t1)          # mean power, peak temperature, clocks, throttled samples
    samples = s.stop()                  # every sample: {"t": time.time(), ...parsed fields}

The source is picked once: `tegrastats` on a Jetson (jtop's service when only its socket is there,
as in a container), NVML (pynvml) on another NVIDIA GPU, else the CPU clock and thermal zones from
/proc and /sys. Nothing here raises when a source is missing: the sample fields are None and the
summary says so.

Throttle rule, per sample: throttled when a temperature reaches the lowest passive/hot trip point
of its thermal zone (where the kernel starts to slow clocks), or, when jetson_clocks had pinned the
clocks at the start, when the CPU or GPU clock reads under 99 % of its pin. NVML reports its own
thermal/hardware slowdown reasons. None when neither can be judged.
"""
import collections
import glob
import os
import re
import shutil
import subprocess
import threading
import time

from bench import jetson

# Nano's PMIC-Die sensor prints a constant (100 C or 50 C depending on release, idle or not), so it
# would always be the "peak"; it has no throttle trip either.
UNREAL_SENSORS = ("PMIC",)
# Board input rails, first found wins: Nano/TX1 name it POM_5V_IN, Xavier/Orin VDD_IN.
BOARD_RAILS = ("POM_5V_IN", "VDD_IN")

_RAIL = re.compile(r"\b((?:POM|VDDQ?|VIN)_[A-Z0-9_]+) (\d+)(?:mW)?/(\d+)(?:mW)?\b")
_TEMP = re.compile(r"\b([A-Za-z][A-Za-z0-9_]*)@(-?\d+(?:\.\d+)?)C\b")
_CPU = re.compile(r"\bCPU \[([^\]]*)\](?:@(\d+))?")
_EMC = re.compile(r"\bEMC_FREQ (\d+)%(?:@(\d+))?")
_GR3D = re.compile(r"\bGR3D_FREQ (\d+)%(?:@\[?([\d,]+)\]?)?")
_MEM = re.compile(r"\b(RAM|SWAP) (\d+)/(\d+)MB")


def _mean(values):
    values = [v for v in values if v is not None]
    return float(sum(values)) / len(values) if values else None


# --- tegrastats ----------------------------------------------------------------------------------
def _parse_cpus(line):
    """Per-core (load %, MHz) from 'CPU [5%@1224,off,...]' or the older 'CPU [5%,3%]@1224'."""
    m = _CPU.search(line)
    if not m:
        return []
    cores = []
    for entry in m.group(1).split(","):
        core = re.match(r"\s*(\d+)%(?:@(\d+))?", entry)
        if core:
            freq = core.group(2) or m.group(2)
            cores.append({"load_pct": int(core.group(1)), "freq_mhz": int(freq) if freq else None})
        else:
            cores.append(None)  # 'off': the core is powered down
    return cores


def _load_and_freq(regex, line):
    m = regex.search(line)
    if not m:
        return None, None
    freqs = [int(f) for f in (m.group(2) or "").split(",") if f]
    return int(m.group(1)), _mean(freqs)


def parse_tegrastats_line(line):
    """One tegrastats line -> dict of what it says (fields it lacks are None / empty).

    power_w: board input (POM_5V_IN / VDD_IN, current reading) in W; rails_mw: {rail: {"cur",
    "avg"}} in mW; cpu_freq_mhz / cpu_load_pct: means over online cores; gpu_* from GR3D_FREQ;
    emc_* from EMC_FREQ; temps: {sensor: C} (sensors reading below -40 C are disabled ones).
    """
    rails = {name: {"cur": int(cur), "avg": int(avg)} for name, cur, avg in _RAIL.findall(line)}
    board = next((rails[r]["cur"] for r in BOARD_RAILS if r in rails), None)
    cores = [c for c in _parse_cpus(line) if c]
    gpu_load, gpu_freq = _load_and_freq(_GR3D, line)
    emc_load, emc_freq = _load_and_freq(_EMC, line)
    mem = {kind: (int(used), int(total)) for kind, used, total in _MEM.findall(line)}
    return {
        "power_w": board / 1000.0 if board is not None else None,
        "rails_mw": rails,
        "cpu_load_pct": _mean([c["load_pct"] for c in cores]),
        "cpu_freq_mhz": _mean([c["freq_mhz"] for c in cores]),
        "cpus_online": len(cores),
        "gpu_load_pct": gpu_load,
        "gpu_freq_mhz": gpu_freq,
        "emc_load_pct": emc_load,
        "emc_freq_mhz": emc_freq,
        "temps": {n: float(t) for n, t in _TEMP.findall(line) if float(t) > -40},
        "ram_used_mb": mem.get("RAM", (None, None))[0],
        "swap_used_mb": mem.get("SWAP", (None, None))[0],
    }


# --- throttle judgement ------------------------------------------------------------------------
class ThrottleRule:
    """Trip points (sensor -> C) and jetson_clocks pins ({"cpu", "gpu"} MHz), read once at start."""

    def __init__(self, trips_c=None, pinned_mhz=None):
        self.trips_c = trips_c or {}
        self.pinned_mhz = pinned_mhz

    @classmethod
    def from_state(cls, state):
        """From jetson.platform_state()'s trip points and clock pins (results.machine() has it)."""
        return cls(state.get("trip_points_c") or {}, state.get("pinned_mhz"))

    @classmethod
    def read(cls, root="/", run=jetson.run_command):
        return cls.from_state(jetson.platform_state(root, run))

    def _hot(self, temps):
        shared = [n for n in temps if n in self.trips_c]
        return [n for n in shared if temps[n] >= self.trips_c[n]], bool(shared)

    def _slow(self, sample):
        if not self.pinned_mhz:
            return False, False
        pairs = [(sample.get(k + "_freq_mhz"), self.pinned_mhz.get(k)) for k in ("cpu", "gpu")]
        pairs = [(cur, pin) for cur, pin in pairs if cur is not None and pin]
        return any(cur < jetson.PIN_TOLERANCE * pin for cur, pin in pairs), bool(pairs)

    def judge(self, sample):
        """True / False, or None when this sample carries nothing the rule can look at."""
        hot, temps_judged = self._hot(sample.get("temps") or {})
        slow, clocks_judged = self._slow(sample)
        if not (temps_judged or clocks_judged):
            return None
        return bool(hot) or slow


# --- sources -------------------------------------------------------------------------------------
class TegrastatsSource:
    """Streams `tegrastats --interval MS`; every line becomes one sample."""

    name = "tegrastats"

    def __init__(self, interval_ms, binary="tegrastats"):
        self.argv = [binary, "--interval", str(int(interval_ms))]
        self.proc = None
        self.thread = None

    @staticmethod
    def available():
        return shutil.which("tegrastats") is not None

    def start(self, emit):
        self.proc = subprocess.Popen(self.argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                     universal_newlines=True, bufsize=1)  # noqa: UP021 (3.6)
        self.thread = threading.Thread(target=self._pump, args=(emit,), daemon=True)
        self.thread.start()

    def _pump(self, emit):
        for line in self.proc.stdout:
            if line.strip():
                emit(parse_tegrastats_line(line))

    def stop(self):
        if self.proc is None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.thread.join(timeout=5)


class PollingSource:
    """Calls read() every interval on a thread; subclasses say what one reading is."""

    name = "poll"

    def __init__(self, interval_ms):
        self.interval_s = interval_ms / 1000.0
        self.stopping = threading.Event()
        self.thread = None

    def start(self, emit):
        self.thread = threading.Thread(target=self._loop, args=(emit,), daemon=True)
        self.thread.start()

    def _loop(self, emit):
        while not self.stopping.is_set():
            emit(self.read())
            self.stopping.wait(self.interval_s)

    def stop(self):
        self.stopping.set()
        if self.thread is not None:
            self.thread.join(timeout=5)

    def read(self):
        raise NotImplementedError


class NvmlSource(PollingSource):
    """NVIDIA GPU through pynvml: board power, GPU temperature, SM/memory clocks, slowdown flags."""

    name = "nvml"
    # Thermal and hardware slowdowns; a power-cap slowdown is the card working as designed.
    SLOWDOWN_FLAGS = ("nvmlClocksThrottleReasonSwThermalSlowdown", "nvmlClocksThrottleReasonHwSlowdown",
                      "nvmlClocksThrottleReasonHwThermalSlowdown")

    def __init__(self, interval_ms, nvml, index=0):
        PollingSource.__init__(self, interval_ms)
        self.nvml = nvml
        self.handle = nvml.nvmlDeviceGetHandleByIndex(index)
        self.slow_mask = sum(getattr(nvml, f, 0) for f in self.SLOWDOWN_FLAGS)

    @staticmethod
    def load():
        """The initialised pynvml module, or None when there is no NVIDIA driver / pynvml."""
        try:
            import pynvml
            pynvml.nvmlInit()
            return pynvml
        except Exception:  # ImportError, NVMLError_LibraryNotFound, driver errors alike
            return None

    def _try(self, fn, *args):
        try:
            return fn(self.handle, *args)
        except Exception:  # a query this GPU does not support
            return None

    def read(self):
        nv = self.nvml
        power_mw = self._try(nv.nvmlDeviceGetPowerUsage)
        reasons = self._try(nv.nvmlDeviceGetCurrentClocksThrottleReasons)
        temp = self._try(nv.nvmlDeviceGetTemperature, nv.NVML_TEMPERATURE_GPU)
        return {
            "power_w": power_mw / 1000.0 if power_mw is not None else None,
            "rails_mw": {"GPU": {"cur": power_mw, "avg": None}} if power_mw is not None else {},
            "gpu_freq_mhz": self._try(nv.nvmlDeviceGetClockInfo, nv.NVML_CLOCK_SM),
            "emc_freq_mhz": self._try(nv.nvmlDeviceGetClockInfo, nv.NVML_CLOCK_MEM),
            "cpu_freq_mhz": cpu_freq_mhz(),
            "temps": {"GPU": float(temp)} if temp is not None else {},
            "throttled": bool(reasons & self.slow_mask) if reasons is not None else None,
        }


def cpu_freq_mhz(root="/"):
    """Mean current CPU clock: cpufreq when the kernel exposes it, else /proc/cpuinfo's 'cpu MHz'."""
    pattern = jetson.under(root, "/sys/devices/system/cpu/cpu[0-9]*/cpufreq/scaling_cur_freq")
    khz = [jetson.read_file(p) for p in glob.glob(pattern)]
    mhz = [int(k) / 1000.0 for k in khz if k and k.isdigit()]
    if not mhz:
        info = jetson.read_text(root, "/proc/cpuinfo") or ""
        mhz = [float(v) for v in re.findall(r"^cpu MHz\s*:\s*([\d.]+)", info, re.M)]
    return _mean(mhz)


class SysfsSource(PollingSource):
    """What any Linux box has: the CPU clock and the thermal zones."""

    name = "cpu-sysfs"

    def __init__(self, interval_ms, root="/"):
        PollingSource.__init__(self, interval_ms)
        self.root = root

    def read(self):
        zones = jetson.thermal_zones(self.root)
        return {"cpu_freq_mhz": cpu_freq_mhz(self.root), "temps": {z["name"]: z["temp_c"] for z in zones}}


def parse_jtop_stats(stats):
    """jtop's flat `stats` dict (jetson-stats 4.x: 'Power TOT' and 'Power <rail>' in mW, 'Temp
    <sensor>' in C, 'GPU' load %) -> the same fields as a tegrastats sample. jtop has no clocks there."""
    rails = {k[len("Power "):]: {"cur": v, "avg": None} for k, v in stats.items()
             if k.startswith("Power ") and k != "Power TOT" and isinstance(v, (int, float))}
    total = stats.get("Power TOT")
    return {
        "power_w": total / 1000.0 if isinstance(total, (int, float)) else None,
        "rails_mw": rails,
        "gpu_load_pct": stats.get("GPU"),
        "temps": {k[len("Temp "):]: float(v) for k, v in stats.items()
                  if k.startswith("Temp ") and isinstance(v, (int, float)) and v > -40},
    }


class JtopSource(PollingSource):
    """jetson-stats' jtop service: what a container sees (through /run/jtop.sock) when the host's
    tegrastats is not inside it."""

    name = "jtop"

    def __init__(self, interval_ms, jtop_class):
        PollingSource.__init__(self, interval_ms)
        self.jetson = jtop_class(interval=max(interval_ms / 1000.0, 0.1))

    @staticmethod
    def load(socket="/run/jtop.sock"):
        """jtop's client class when the service's socket is there, else None."""
        if not os.path.exists(socket):
            return None
        try:
            from jtop import jtop
            return jtop
        except Exception:  # jetson-stats not installed in this interpreter
            return None

    def start(self, emit):
        self.jetson.start()
        PollingSource.start(self, emit)

    def stop(self):
        PollingSource.stop(self)
        self.jetson.close()

    def read(self):
        return parse_jtop_stats(self.jetson.stats)


def pick_source(interval_ms, root="/", nvml_loader=NvmlSource.load, jtop_loader=JtopSource.load):
    """tegrastats, else jtop, else NVML, else the CPU's own /proc and /sys: the first that exists."""
    if TegrastatsSource.available():
        return TegrastatsSource(interval_ms)
    jtop_class = jtop_loader()
    if jtop_class is not None:
        return JtopSource(interval_ms, jtop_class)
    nvml = nvml_loader()
    if nvml is not None:
        return NvmlSource(interval_ms, nvml)
    return SysfsSource(interval_ms, root)


# --- the sampler -----------------------------------------------------------------------------------
class Sampler:
    """Collects samples from one source on a background thread; see the module docstring."""

    def __init__(self, interval_ms=100, root="/", source=None, rule=None, state=None, keep=None):
        """state: jetson.platform_state() already read (the throttle rule comes from it); keep: how
        many of the newest samples to hold (None: all, a benchmark's windows; a service that runs
        for months keeps 1 and reads it with latest())."""
        self.interval_ms = interval_ms
        self.source = source or pick_source(interval_ms, root)
        if rule is None:
            rule = ThrottleRule.from_state(state) if state else ThrottleRule.read(root)
        self.rule = rule
        self.samples = collections.deque(maxlen=keep) if keep else []
        self.lock = threading.Lock()
        self.started = False
        self.error = None

    def _emit(self, fields):
        sample = dict(fields)
        sample["t"] = time.time()
        if sample.get("throttled") is None:
            sample["throttled"] = self.rule.judge(sample)
        with self.lock:
            self.samples.append(sample)

    def start(self):
        try:
            self.source.start(self._emit)
            self.started = True
        except (OSError, ValueError) as exc:  # the source vanished between pick and start
            self.error = f"{self.source.name}: {exc}"
        return self

    def latest(self):
        """The newest sample, judged by the throttle rule, or None before the first."""
        with self.lock:
            return self.samples[-1] if self.samples else None

    def window(self, t0, t1):
        """Summary of the samples taken between t0 and t1 (time.time() values)."""
        with self.lock:
            inside = [s for s in self.samples if t0 <= s["t"] <= t1]
        return summarize(inside, self.source.name)

    def stop(self):
        if self.started:
            self.source.stop()
            self.started = False
        with self.lock:
            return list(self.samples)


def summarize(samples, source):
    """Means of power and clocks, peak temperature (PMIC excluded), throttled count, mean rails."""
    temps = [t for s in samples for n, t in (s.get("temps") or {}).items() if n not in UNREAL_SENSORS]
    judged = [s["throttled"] for s in samples if s.get("throttled") is not None]
    rails = sorted({r for s in samples for r in (s.get("rails_mw") or {})})
    rails_w = {r: _mean([(s.get("rails_mw") or {}).get(r, {}).get("cur") for s in samples]) for r in rails}
    return {
        "source": source,
        "n": len(samples),
        "mean_power_w": _mean([s.get("power_w") for s in samples]),
        "peak_temp_c": max(temps) if temps else None,
        "gpu_freq_mhz": _mean([s.get("gpu_freq_mhz") for s in samples]),
        "cpu_freq_mhz": _mean([s.get("cpu_freq_mhz") for s in samples]),
        "emc_freq_mhz": _mean([s.get("emc_freq_mhz") for s in samples]),
        "throttled_samples": sum(judged) if judged else None,
        "rails_w": {r: v / 1000.0 for r, v in rails_w.items() if v is not None},
    }


def energy_per_read_mj(mean_power_w, mean_total_ms):
    """Energy of one read: W x ms = mJ. None when either is unknown."""
    if mean_power_w is None or mean_total_ms is None:
        return None
    return mean_power_w * mean_total_ms
