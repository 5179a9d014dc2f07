"""bench.jetson against a fake sysfs tree and canned command output.

The files and command outputs below are real ones from Jetson Nanos (sources named). They are
served from a temporary tree and a fake command runner because no Jetson exists here: that is the
only mock, and platform_state() is also run for real against this machine.
"""
import os

from bench import jetson

# /etc/nv_tegra_release of L4T 32.7.1 on a Nano (t210ref), as quoted in Arducam's Jetson Nano camera
# notes (found through the public-code index, which does not expose the repository name).
NV_TEGRA_RELEASE = ("# R32 (release), REVISION: 7.1, GCID: 29818004, BOARD: t210ref, EABI: aarch64, "
                    "DATE: Sat Feb 19 17:05:08 UTC 2022\n")
# `sudo nvpmodel -q` on a Nano Developer Kit (a warning line first, then name, then id). Public
# notes (2025-09-19) found through the code index; the repository name is not exposed there.
NVPMODEL_Q = "NVPM WARN: fan mode is not set!\nNV Power Mode: MAXN\n0\n"
# `sudo jetson_clocks --show` on a Nano Developer Kit in MAXN, before and after `sudo jetson_clocks`
# (same public notes: the locked output; dynamic output from another public Nano notes file).
CLOCKS_DYNAMIC = """SOC family:tegra210  Machine:NVIDIA Jetson Nano Developer Kit
Online CPUs: 0-3
CPU Cluster Switching: Disabled
cpu0: Online=1 Governor=schedutil MinFreq=102000 MaxFreq=1479000 CurrentFreq=1326000 IdleStates: WFI=1 c7=1
cpu1: Online=1 Governor=schedutil MinFreq=102000 MaxFreq=1479000 CurrentFreq=1479000 IdleStates: WFI=1 c7=1
cpu2: Online=1 Governor=schedutil MinFreq=102000 MaxFreq=1479000 CurrentFreq=1036800 IdleStates: WFI=1 c7=1
cpu3: Online=1 Governor=schedutil MinFreq=102000 MaxFreq=1479000 CurrentFreq=1132800 IdleStates: WFI=1 c7=1
GPU MinFreq=76800000 MaxFreq=921600000 CurrentFreq=76800000
EMC MinFreq=204000000 MaxFreq=1600000000 CurrentFreq=1600000000 FreqOverride=0
Fan: speed=0
NV Power Mode: MAXN
"""
CLOCKS_LOCKED = """SOC family:tegra210  Machine:NVIDIA Jetson Nano Developer Kit
Online CPUs: 0-3
cpu0: Online=1 Governor=schedutil MinFreq=1479000 MaxFreq=1479000 CurrentFreq=1479000 IdleStates: WFI=0 c7=0
cpu1: Online=1 Governor=schedutil MinFreq=1479000 MaxFreq=1479000 CurrentFreq=1479000 IdleStates: WFI=0 c7=0
cpu2: Online=1 Governor=schedutil MinFreq=1479000 MaxFreq=1479000 CurrentFreq=1479000 IdleStates: WFI=0 c7=0
cpu3: Online=1 Governor=schedutil MinFreq=1479000 MaxFreq=1479000 CurrentFreq=1479000 IdleStates: WFI=0 c7=0
GPU MinFreq=921600000 MaxFreq=921600000 CurrentFreq=921600000
EMC MinFreq=204000000 MaxFreq=1600000000 CurrentFreq=1600000000 FreqOverride=1
Fan: PWM=34
NV Power Mode: MAXN
"""
# /proc/swaps with the Nano's stock zram devices (4 x ~495 MB) plus a 4 GB swap file.
PROC_SWAPS = """Filename\t\t\t\tType\t\tSize\tUsed\tPriority
/swapfile                               file\t\t4194300\t0\t-1
/dev/zram0                              partition\t507472\t0\t5
/dev/zram1                              partition\t507472\t0\t5
/dev/zram2                              partition\t507472\t0\t5
/dev/zram3                              partition\t507472\t0\t5
"""
# Thermal zone types of a Nano (see rbonghi/jetson_stats and armbian/build#3747 for the list).
ZONES = [("AO-therm", 45500), ("CPU-therm", 40500), ("GPU-therm", 40000), ("PLL-therm", 37000),
         ("PMIC-Die", 100000), ("thermal-fan-est", 40000)]


def write(root, path, text):
    full = jetson.under(str(root), path)
    if not os.path.isdir(os.path.dirname(full)):
        os.makedirs(os.path.dirname(full))
    with open(full, "w") as f:
        f.write(text)


def make_zone(root, index, ztype, temp_mc, trips=()):
    base = f"/sys/class/thermal/thermal_zone{index}/"
    write(root, base + "type", ztype + "\n")
    write(root, base + "temp", f"{temp_mc}\n")
    for k, (ttype, ttemp) in enumerate(trips):
        write(root, base + f"trip_point_{k}_type", ttype + "\n")
        write(root, base + f"trip_point_{k}_temp", f"{ttemp}\n")


def fake_nano(root, cpu_temp_mc=40500):
    write(root, "/etc/nv_tegra_release", NV_TEGRA_RELEASE)
    write(root, "/proc/device-tree/model", "NVIDIA Jetson Nano Developer Kit\x00")
    write(root, "/proc/swaps", PROC_SWAPS)
    for i, (ztype, temp) in enumerate(ZONES):
        temp = cpu_temp_mc if ztype == "CPU-therm" else temp
        trips = [("passive", 97000), ("critical", 105000)] if ztype in ("CPU-therm", "GPU-therm") else []
        make_zone(root, i, ztype, temp, trips)


def runner(outputs):
    """A command runner answering from a dict {program: (rc, stdout)}; anything else: missing."""
    calls = []

    def run(argv):
        calls.append(argv)
        return outputs.get(argv[0], (127, ""))
    run.calls = calls
    return run


def test_nv_tegra_release_gives_the_dotted_release():
    assert jetson.parse_nv_tegra_release(NV_TEGRA_RELEASE) == "32.7.1"
    assert jetson.parse_nv_tegra_release("# R35 (release), REVISION: 4.1, GCID: 1") == "35.4.1"
    assert jetson.parse_nv_tegra_release("garbage") is None
    assert jetson.parse_nv_tegra_release(None) is None


def test_nvpmodel_query_skips_the_warning_line():
    assert jetson.parse_nvpmodel(NVPMODEL_Q) == {"name": "MAXN", "id": 0}
    assert jetson.parse_nvpmodel("NV Fan Mode:cool\nNV Power Mode: MODE_30W_4CORE\n5\n") == \
        {"name": "MODE_30W_4CORE", "id": 5}
    assert jetson.parse_nvpmodel("") is None


def test_jetson_clocks_show_is_parsed_in_mhz():
    show = jetson.parse_jetson_clocks_show(CLOCKS_DYNAMIC)
    assert len(show["cpus"]) == 4
    assert show["cpus"][0] == {"cpu": 0, "online": True, "min_mhz": 102.0, "max_mhz": 1479.0,
                               "cur_mhz": 1326.0}
    assert show["gpu"] == {"min_mhz": 76.8, "max_mhz": 921.6, "cur_mhz": 76.8}
    assert show["emc"]["override"] is False
    assert show["power_mode"] == "MAXN"
    assert jetson.parse_jetson_clocks_show("Error! You must be root") is None


def test_pinned_only_after_jetson_clocks():
    assert jetson.clocks_pinned(jetson.parse_jetson_clocks_show(CLOCKS_DYNAMIC)) is False
    locked = jetson.parse_jetson_clocks_show(CLOCKS_LOCKED)
    assert jetson.clocks_pinned(locked) is True
    assert jetson.pinned_mhz(locked) == {"cpu": 1479.0, "gpu": 921.6}
    assert jetson.clocks_pinned(None) is None


def test_dynamic_clocks_idling_low_are_not_throttling():
    assert jetson.clocks_pulled_down(jetson.parse_jetson_clocks_show(CLOCKS_DYNAMIC)) == []


def test_pinned_clock_reading_under_its_pin_is_pulled_down():
    pulled = CLOCKS_LOCKED.replace("MaxFreq=921600000 CurrentFreq=921600000",
                                   "MaxFreq=921600000 CurrentFreq=614400000")
    assert jetson.clocks_pulled_down(jetson.parse_jetson_clocks_show(pulled)) == ["gpu"]


def test_swaps_are_summed_in_mb():
    assert jetson.parse_swaps(PROC_SWAPS) == 6078
    assert jetson.parse_swaps("Filename\tType\tSize\tUsed\tPriority\n") == 0
    assert jetson.parse_swaps(None) is None


def test_thermal_zones_carry_their_lowest_throttle_trip(tmp_path):
    make_zone(tmp_path, 0, "CPU-therm", 50500, [("critical", 105000), ("passive", 97000), ("hot", 99000)])
    make_zone(tmp_path, 1, "PMIC-Die", 100000, [("critical", 160000)])
    make_zone(tmp_path, 2, "disabled", -256000)
    assert jetson.thermal_zones(str(tmp_path)) == [
        {"name": "CPU", "temp_c": 50.5, "trip_c": 97.0},
        {"name": "PMIC", "temp_c": 100.0, "trip_c": None},
    ]


def test_platform_state_of_a_cool_pinned_nano(tmp_path):
    fake_nano(tmp_path)
    run = runner({"nvpmodel": (0, NVPMODEL_Q), "jetson_clocks": (0, CLOCKS_LOCKED),
                  "dpkg-query": (0, "4.6.1-b110")})
    state = jetson.platform_state(str(tmp_path), run)
    assert state["l4t"] == "32.7.1"
    assert state["jetpack"] == "4.6.1"
    assert state["board_model"] == "NVIDIA Jetson Nano Developer Kit"
    assert state["nvpmodel_mode"] == {"name": "MAXN", "id": 0}
    assert state["jetson_clocks"] is True
    assert state["swap_mb"] == 6078
    assert state["disk_free_mb"] > 0
    assert state["throttled"] is False and state["throttle_reasons"] == []
    assert state["temperatures"]["CPU"] == 40.5 and state["temperatures"]["PMIC"] == 100.0
    assert state["trip_points_c"] == {"CPU": 97.0, "GPU": 97.0}
    assert state["pinned_mhz"] == {"cpu": 1479.0, "gpu": 921.6}


def test_platform_state_names_a_zone_over_its_trip(tmp_path):
    fake_nano(tmp_path, cpu_temp_mc=97500)
    state = jetson.platform_state(str(tmp_path), runner({}))
    assert state["throttled"] is True
    assert state["throttle_reasons"] == ["CPU at 97.5 C (trip 97.0 C)"]
    # Without dpkg's nvidia-jetpack the JetPack comes from the L4T table; no root: clocks unknown.
    assert state["jetpack"] == "4.6.1"
    assert state["jetson_clocks"] is None and state["nvpmodel_mode"] is None


def test_off_a_jetson_no_jetson_command_is_run(tmp_path):
    run = runner({})
    state = jetson.platform_state(str(tmp_path), run)
    assert state["l4t"] is None and state["jetpack"] is None and state["throttled"] is None
    assert run.calls == []


def test_platform_state_of_this_machine_has_every_key():
    state = jetson.platform_state()
    assert set(state) == {"l4t", "jetpack", "board_model", "nvpmodel_mode", "jetson_clocks", "pinned_mhz", "swap_mb",
                          "disk_free_mb", "throttled", "throttle_reasons", "temperatures", "trip_points_c"}
    assert state["disk_free_mb"] > 0
