"""Platform facts of a Jetson (or of whatever machine this is): L4T, board, power mode, clocks,
swap, disk, temperatures and whether it is throttling right now.

Every read goes through `root` (a path prefix) and `run` (a command runner), so tests point it at
a fake sysfs tree and canned command output. A missing file or command yields None, never an error:
the caller decides whether "unknown" is a failure.
"""
import glob
import os
import re
import subprocess

# JetPack 4.6.N ships L4T 32.7.N (NVIDIA's JetPack archive); used when dpkg has no nvidia-jetpack.
JETPACK_OF_L4T = {
    "32.6.1": "4.6",
    "32.7.1": "4.6.1",
    "32.7.2": "4.6.2",
    "32.7.3": "4.6.3",
    "32.7.4": "4.6.4",
    "32.7.5": "4.6.5",
    "32.7.6": "4.6.6",
}

# Trip types at which the kernel starts to slow clocks (critical = shutdown, not throttling).
THROTTLE_TRIP_TYPES = ("passive", "hot")
# A pinned clock reading this far under its pin counts as pulled down (not rounding noise).
PIN_TOLERANCE = 0.99


def run_command(argv, timeout=15):
    """(returncode, stdout text) of argv; (127, "") when the program does not exist here."""
    try:
        proc = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              universal_newlines=True, timeout=timeout)  # noqa: UP021 (3.6)
    except (OSError, subprocess.SubprocessError):
        return 127, ""
    return proc.returncode, proc.stdout


def under(root, path):
    """root/path for an absolute path: how every read honours the fake-tree prefix."""
    return os.path.join(root, path.lstrip("/"))


def read_file(path):
    """Content of a file with NULs stripped (device-tree strings end in one), or None."""
    try:
        with open(path, "rb") as f:
            return f.read().decode("utf-8", "replace").replace("\x00", "").strip()
    except OSError:
        return None


def read_text(root, path):
    return read_file(under(root, path))


# --- release and board --------------------------------------------------------------------------
def parse_nv_tegra_release(text):
    """'# R32 (release), REVISION: 7.1, ...' -> '32.7.1' (None when the line is not there)."""
    m = re.search(r"R(\d+) \(release\), REVISION: ([\d.]+)", text or "")
    return f"{m.group(1)}.{m.group(2)}" if m else None


def read_l4t(root="/"):
    return parse_nv_tegra_release(read_text(root, "/etc/nv_tegra_release"))


def jetpack_version(l4t, run=run_command):
    """JetPack from the nvidia-jetpack package when installed, else from the L4T release."""
    rc, out = run(["dpkg-query", "-W", "-f=${Version}", "nvidia-jetpack"])
    if rc == 0 and out.strip():
        return out.strip().split("-")[0]
    return JETPACK_OF_L4T.get(l4t)


def board_model(root="/"):
    return read_text(root, "/proc/device-tree/model")


# --- power mode and clocks -----------------------------------------------------------------------
def parse_nvpmodel(text):
    """`nvpmodel -q` ('NV Power Mode: MAXN' then the id on its own line) -> {"name", "id"}."""
    m = re.search(r"NV Power Mode:\s*(\S+)\s*\n\s*(\d+)", text or "")
    if m:
        return {"name": m.group(1), "id": int(m.group(2))}
    m = re.search(r"NV Power Mode:\s*(\S+)", text or "")
    return {"name": m.group(1), "id": None} if m else None


def _freqs(text):
    return {k: int(v) for k, v in re.findall(r"(MinFreq|MaxFreq|CurrentFreq)=(\d+)", text)}


def parse_jetson_clocks_show(text):
    """`jetson_clocks --show` -> {"cpus": [...], "gpu": {...}, "emc": {...}, "power_mode"}.

    Frequencies are kept in MHz; CPU lines are in kHz, GPU and EMC lines in Hz.
    """
    show = {"cpus": [], "gpu": None, "emc": None, "power_mode": None}
    for line in (text or "").splitlines():
        line = line.strip()
        cpu = re.match(r"cpu(\d+): Online=(\d)", line)
        if cpu:
            f = _freqs(line)
            show["cpus"].append({"cpu": int(cpu.group(1)), "online": cpu.group(2) == "1",
                                 "min_mhz": f.get("MinFreq", 0) / 1e3, "max_mhz": f.get("MaxFreq", 0) / 1e3,
                                 "cur_mhz": f.get("CurrentFreq", 0) / 1e3})
        elif line.startswith(("GPU ", "EMC ")):
            f = _freqs(line)
            entry = {"min_mhz": f.get("MinFreq", 0) / 1e6, "max_mhz": f.get("MaxFreq", 0) / 1e6,
                     "cur_mhz": f.get("CurrentFreq", 0) / 1e6}
            override = re.search(r"FreqOverride=(\d)", line)
            if override:
                entry["override"] = override.group(1) == "1"
            show[line[:3].lower()] = entry
        elif line.startswith("NV Power Mode:"):
            show["power_mode"] = line.split(":", 1)[1].strip()
    return show if (show["cpus"] or show["gpu"]) else None


def clocks_pinned(show):
    """jetson_clocks is active when every online CPU and the GPU have MinFreq == MaxFreq (that is
    what the script writes); None when `--show` could not be read."""
    if not show:
        return None
    units = [c for c in show["cpus"] if c["online"]] + ([show["gpu"]] if show["gpu"] else [])
    return bool(units) and all(u["min_mhz"] == u["max_mhz"] for u in units)


def clocks_pulled_down(show):
    """Names of pinned units running under their pin: something (heat, over-current) overrode
    jetson_clocks."""
    if not clocks_pinned(show):
        return []
    units = [("cpu{}".format(c["cpu"]), c) for c in show["cpus"] if c["online"]]
    units += [("gpu", show["gpu"])] if show["gpu"] else []
    return [name for name, u in units if u["cur_mhz"] < PIN_TOLERANCE * u["max_mhz"]]


def pinned_mhz(show):
    """{"cpu": MHz, "gpu": MHz} the clocks are pinned at, or None when they are not pinned."""
    if not clocks_pinned(show):
        return None
    cpus = [c["max_mhz"] for c in show["cpus"] if c["online"]]
    return {"cpu": min(cpus) if cpus else None, "gpu": show["gpu"]["max_mhz"] if show["gpu"] else None}


# --- memory, disk, heat ----------------------------------------------------------------------------
def parse_swaps(text):
    """Total swap in MB from /proc/swaps (sizes there are KiB); 0 when the table is empty."""
    if text is None:
        return None
    sizes = [int(line.split()[2]) for line in text.splitlines()[1:] if len(line.split()) >= 3]
    return int(round(sum(sizes) / 1024.0))


def disk_free_mb(root="/"):
    try:
        st = os.statvfs(root)
    except OSError:
        return None
    return int(st.f_bavail * st.f_frsize // (1024 * 1024))


def sensor_name(zone_type):
    """'CPU-therm' -> 'CPU', 'thermal-fan-est' -> 'thermal': the names tegrastats prints."""
    return zone_type.split("-")[0]


def _millideg(text):
    try:
        value = int(text) / 1000.0
    except (TypeError, ValueError):
        return None
    return value if value > -40 else None  # disabled sensors read large negatives


def thermal_zones(root="/"):
    """[{"name", "temp_c", "trip_c"}] of /sys/class/thermal; trip_c is the lowest passive/hot trip
    point of the zone (None when it has none)."""
    zones = []
    for zdir in sorted(glob.glob(under(root, "/sys/class/thermal/thermal_zone*"))):
        ztype = read_file(os.path.join(zdir, "type"))
        temp = _millideg(read_file(os.path.join(zdir, "temp")))
        if ztype is None or temp is None:
            continue
        trips = []
        for tfile in glob.glob(os.path.join(zdir, "trip_point_*_type")):
            if read_file(tfile) in THROTTLE_TRIP_TYPES:
                trip = _millideg(read_file(tfile[:-len("type")] + "temp"))
                trips += [trip] if trip is not None else []
        zones.append({"name": sensor_name(ztype), "temp_c": temp, "trip_c": min(trips) if trips else None})
    return zones


def throttle_reasons(zones, show):
    """(throttled, reasons): hot zones at or over a throttle trip point, or pinned clocks pulled
    down. throttled is None when neither could be judged (no trip points, clocks unknown)."""
    hot = ["{} at {:.1f} C (trip {:.1f} C)".format(z["name"], z["temp_c"], z["trip_c"])
           for z in zones if z["trip_c"] is not None and z["temp_c"] >= z["trip_c"]]
    slow = [f"{n} under its jetson_clocks pin" for n in clocks_pulled_down(show)]
    judged = any(z["trip_c"] is not None for z in zones) or clocks_pinned(show) is not None
    if not judged:
        return None, []
    return bool(hot or slow), hot + slow


# --- everything at once ------------------------------------------------------------------------------
def read_nvpmodel(run=run_command):
    rc, out = run(["nvpmodel", "-q"])
    return parse_nvpmodel(out) if rc == 0 else None


def read_clocks(run=run_command):
    rc, out = run(["jetson_clocks", "--show"])
    return parse_jetson_clocks_show(out) if rc == 0 else None


def platform_state(root="/", run=run_command):
    """One dict describing the machine's power/thermal state, for sanity checks and result files.

    Keys: l4t, jetpack, board_model, nvpmodel_mode ({"name", "id"} or None), jetson_clocks
    (True/False/None), pinned_mhz ({"cpu", "gpu"} MHz jetson_clocks pinned, or None), swap_mb,
    disk_free_mb, throttled (bool or None), throttle_reasons, temperatures ({sensor: C}),
    trip_points_c ({sensor: lowest passive/hot trip C}). Commands that need a Jetson are only run
    on one.
    """
    l4t = read_l4t(root)
    on_jetson = l4t is not None
    show = read_clocks(run) if on_jetson else None
    zones = thermal_zones(root)
    throttled, reasons = throttle_reasons(zones, show)
    return {
        "l4t": l4t,
        "jetpack": jetpack_version(l4t, run) if on_jetson else None,
        "board_model": board_model(root),
        "nvpmodel_mode": read_nvpmodel(run) if on_jetson else None,
        "jetson_clocks": clocks_pinned(show),
        "pinned_mhz": pinned_mhz(show) if show else None,
        "swap_mb": parse_swaps(read_text(root, "/proc/swaps")),
        "disk_free_mb": disk_free_mb(root),
        "throttled": throttled,
        "throttle_reasons": reasons,
        "temperatures": {z["name"]: z["temp_c"] for z in zones},
        "trip_points_c": {z["name"]: z["trip_c"] for z in zones if z["trip_c"] is not None},
    }
