"""bench.telemetry: the tegrastats parser on real lines (tests/fixtures/tegrastats, sources named in
each file), the throttle rule, window summaries, energy, and the sampler running for real here."""
import os
import time

import pytest

from bench import telemetry
from tests.conftest import ROOT

FIXTURES = os.path.join(ROOT, "tests", "fixtures", "tegrastats")


def fixture_lines(name):
    with open(os.path.join(FIXTURES, name)) as f:
        return [line.rstrip("\n") for line in f if line.strip() and not line.startswith("#")]


def test_every_fixture_names_its_source():
    for name in os.listdir(FIXTURES):
        with open(os.path.join(FIXTURES, name)) as f:
            assert "# source: https://github.com/" in f.read(), name


def test_nano_r32_7_1_idle_line():
    s = telemetry.parse_tegrastats_line(fixture_lines("nano_r32.7.1_idle.txt")[0])
    assert s["power_w"] == 1.75
    assert s["rails_mw"] == {"POM_5V_IN": {"cur": 1750, "avg": 1628}, "POM_5V_GPU": {"cur": 0, "avg": 0},
                             "POM_5V_CPU": {"cur": 366, "avg": 406}}
    assert s["cpus_online"] == 4 and s["cpu_freq_mhz"] == 1224 and s["cpu_load_pct"] == 4.5
    assert (s["gpu_load_pct"], s["gpu_freq_mhz"]) == (0, 76)
    assert (s["emc_load_pct"], s["emc_freq_mhz"]) == (0, 1600)
    assert s["temps"] == {"PLL": 37.0, "CPU": 40.0, "PMIC": 50.0, "GPU": 40.0, "AO": 45.0, "thermal": 40.0}
    assert (s["ram_used_mb"], s["swap_used_mb"]) == (1923, 191)


def test_nano_lines_under_gpu_load():
    samples = [telemetry.parse_tegrastats_line(line)
               for line in fixture_lines("nano_r32_detectnet_gpu_load.txt")]
    assert [s["gpu_load_pct"] for s in samples] == [28, 86, 99, 99]
    assert [s["gpu_freq_mhz"] for s in samples] == [76, 921, 921, 921]
    assert [s["power_w"] for s in samples] == [4.122, 4.531, 4.523, 4.531]
    assert [s["rails_mw"]["POM_5V_GPU"]["cur"] for s in samples] == [109, 1113, 1113, 1256]
    assert samples[3]["temps"]["thermal"] == 43.25
    assert samples[0]["swap_used_mb"] is None  # this tegrastats printed no SWAP field


def test_older_line_without_clock_frequencies_degrades_to_unknown():
    s = telemetry.parse_tegrastats_line(fixture_lines("nano_older_no_emc_gpu_freq.txt")[0])
    assert (s["gpu_load_pct"], s["gpu_freq_mhz"]) == (0, None)
    assert (s["emc_load_pct"], s["emc_freq_mhz"]) == (0, None)
    assert s["power_w"] == 0.9 and s["cpu_freq_mhz"] == 102


def test_newer_mw_format_with_timestamp_and_bracketed_gpu_clock():
    s = telemetry.parse_tegrastats_line(fixture_lines("xavier_nx_jp5.1.2_mw_units.txt")[0])
    assert s["power_w"] == 2.763
    assert s["rails_mw"]["VDD_CPU_GPU_CV"] == {"cur": 650, "avg": 670}
    assert s["gpu_freq_mhz"] == 114 and s["cpus_online"] == 6


def test_offline_cores_and_partial_lines():
    s = telemetry.parse_tegrastats_line("CPU [10%@1479,off,off,30%@1479] GR3D_FREQ 0%@[611,0]")
    assert s["cpus_online"] == 2 and s["cpu_load_pct"] == 20
    assert s["gpu_freq_mhz"] == 305.5
    empty = telemetry.parse_tegrastats_line("")
    assert empty["power_w"] is None and empty["temps"] == {} and empty["rails_mw"] == {}


def test_throttle_rule_trip_points_and_pins():
    rule = telemetry.ThrottleRule({"CPU": 97.0, "GPU": 97.0}, {"cpu": 1479.0, "gpu": 921.6})
    cool_pinned = {"temps": {"CPU": 44.0, "GPU": 43.0}, "cpu_freq_mhz": 1479.0, "gpu_freq_mhz": 921.0}
    assert rule.judge(cool_pinned) is False
    assert rule.judge(dict(cool_pinned, temps={"CPU": 97.0, "GPU": 43.0})) is True
    assert rule.judge(dict(cool_pinned, gpu_freq_mhz=76.0)) is True
    # Clocks not pinned: DVFS idling at 76 MHz is normal, only heat counts.
    dvfs = telemetry.ThrottleRule({"CPU": 97.0})
    assert dvfs.judge({"temps": {"CPU": 44.0}, "gpu_freq_mhz": 76.0}) is False
    # Nothing the rule can look at: unknown, not "fine".
    assert telemetry.ThrottleRule().judge({"temps": {"PMIC": 100.0}}) is None
    # Built from the platform state a bench run already read (results.machine()).
    state = {"trip_points_c": {"CPU": 97.0}, "pinned_mhz": {"cpu": 1479.0, "gpu": 921.6}}
    assert telemetry.ThrottleRule.from_state(state).judge(dict(cool_pinned, gpu_freq_mhz=76.0)) is True
    assert telemetry.ThrottleRule.from_state({"error": "no sysfs"}).judge(cool_pinned) is None


def stamped(samples, t0=1000.0, step=0.1):
    out = []
    for i, s in enumerate(samples):
        s = dict(s)
        s["t"] = t0 + i * step
        s.setdefault("throttled", None)
        out.append(s)
    return out


def test_summary_of_the_loaded_nano_window():
    lines = fixture_lines("nano_r32_detectnet_gpu_load.txt")
    rule = telemetry.ThrottleRule({"CPU": 97.0, "GPU": 97.0, "PLL": 97.0}, {"cpu": 1479.0, "gpu": 921.6})
    samples = stamped([telemetry.parse_tegrastats_line(line) for line in lines])
    for s in samples:
        s["throttled"] = rule.judge(s)
    summary = telemetry.summarize(samples[1:], "tegrastats")
    assert summary["n"] == 3
    assert summary["mean_power_w"] == pytest.approx((4.531 + 4.523 + 4.531) / 3)
    assert summary["peak_temp_c"] == 48.0  # AO; the PMIC's constant 100 C is left out
    assert (summary["gpu_freq_mhz"], summary["cpu_freq_mhz"], summary["emc_freq_mhz"]) == (921, 1479, 1600)
    assert summary["throttled_samples"] == 0
    assert summary["rails_w"]["POM_5V_GPU"] == pytest.approx((1113 + 1113 + 1256) / 3000.0)
    # The first sample, GPU at 76 MHz while clocks were said to be pinned, counts as throttled.
    assert telemetry.summarize(samples, "tegrastats")["throttled_samples"] == 1


def test_empty_window_says_nothing_is_known():
    summary = telemetry.summarize([], "cpu-sysfs")
    assert summary == {"source": "cpu-sysfs", "n": 0, "mean_power_w": None, "peak_temp_c": None,
                       "gpu_freq_mhz": None, "cpu_freq_mhz": None, "emc_freq_mhz": None,
                       "throttled_samples": None, "rails_w": {}}


def test_energy_per_read():
    assert telemetry.energy_per_read_mj(4.5, 120.0) == pytest.approx(540.0)
    assert telemetry.energy_per_read_mj(None, 120.0) is None
    assert telemetry.energy_per_read_mj(4.5, None) is None


class ListSource:
    """A source replaying given readings, one per start/emit, to test the Sampler's bookkeeping."""

    name = "replay"

    def __init__(self, readings):
        self.readings = readings

    def start(self, emit):
        for r in self.readings:
            emit(r)

    def stop(self):
        pass


def test_sampler_windows_by_time_and_judges_samples():
    sampler = telemetry.Sampler(source=ListSource([{"temps": {"CPU": 99.0}, "power_w": 5.0}]),
                                rule=telemetry.ThrottleRule({"CPU": 97.0}))
    t0 = time.time()
    sampler.start()
    t1 = time.time()
    summary = sampler.window(t0, t1)
    assert summary["source"] == "replay" and summary["n"] == 1
    assert summary["throttled_samples"] == 1 and summary["mean_power_w"] == 5.0
    assert sampler.window(t1 + 1, t1 + 2)["n"] == 0
    samples = sampler.stop()
    assert len(samples) == 1 and t0 <= samples[0]["t"] <= t1


def test_nvml_source_reads_power_clocks_and_slowdowns():
    class FakeNvml:
        """No NVIDIA driver exists here: a stand-in with pynvml's names and units (mW, MHz)."""
        NVML_TEMPERATURE_GPU, NVML_CLOCK_SM, NVML_CLOCK_MEM = 0, 1, 2
        nvmlClocksThrottleReasonSwThermalSlowdown = 0x20
        nvmlClocksThrottleReasonHwSlowdown = 0x8
        nvmlClocksThrottleReasonSwPowerCap = 0x4
        reasons = 0x4

        def nvmlDeviceGetHandleByIndex(self, i):
            return f"gpu{i}"

        def nvmlDeviceGetPowerUsage(self, h):
            return 71250

        def nvmlDeviceGetCurrentClocksThrottleReasons(self, h):
            return self.reasons

        def nvmlDeviceGetTemperature(self, h, sensor):
            return 41

        def nvmlDeviceGetClockInfo(self, h, clock):
            return {1: 1980, 2: 2619}[clock]

    nv = FakeNvml()
    source = telemetry.NvmlSource(100, nv)
    reading = source.read()
    assert reading["power_w"] == 71.25 and reading["temps"] == {"GPU": 41.0}
    assert (reading["gpu_freq_mhz"], reading["emc_freq_mhz"]) == (1980, 2619)
    assert reading["throttled"] is False  # a power cap is the card working as designed
    nv.reasons = 0x20 | 0x4
    assert source.read()["throttled"] is True


def test_sampler_runs_for_real_on_this_machine():
    sampler = telemetry.Sampler(interval_ms=20)
    assert sampler.source.name in ("tegrastats", "nvml", "cpu-sysfs")
    t0 = time.time()
    sampler.start()
    deadline = time.time() + 5
    while len(sampler.samples) < 3 and time.time() < deadline:
        time.sleep(0.02)
    t1 = time.time()
    samples = sampler.stop()
    assert len(samples) >= 3
    assert sampler.window(t0, t1)["n"] == len([s for s in samples if t0 <= s["t"] <= t1])
    count = len(samples)
    time.sleep(0.1)
    assert len(sampler.samples) == count  # stopped means stopped


# jtop's `stats` keys as jetson-stats 4.x builds them (jtop/jtop.py, property `stats`: "Temp <name>"
# from temperature[name]['temp'], "Power <rail>" from rail['power'] in mW, 'Power TOT' from the
# total); values from the Nano idle line above. A sensor jtop reports offline reads -256.
JTOP_STATS = {"time": None, "uptime": None, "CPU1": 5, "RAM": 0.48, "GPU": 0.0, "Temp AO": 45.0,
              "Temp CPU": 40.0, "Temp GPU": 40.0, "Temp PLL": 37.0, "Temp thermal": 40.0, "Temp PMIC": -256.0,
              "Power POM_5V_CPU": 366, "Power POM_5V_GPU": 0, "Power TOT": 1750,
              "jetson_clocks": "OFF", "nvp model": "MAXN"}


def test_jtop_stats_become_a_sample():
    s = telemetry.parse_jtop_stats(JTOP_STATS)
    assert s["power_w"] == 1.75
    assert s["rails_mw"] == {"POM_5V_CPU": {"cur": 366, "avg": None}, "POM_5V_GPU": {"cur": 0, "avg": None}}
    assert s["temps"] == {"AO": 45.0, "CPU": 40.0, "GPU": 40.0, "PLL": 37.0, "thermal": 40.0}
    assert s["gpu_load_pct"] == 0.0
    assert telemetry.parse_jtop_stats({})["power_w"] is None


def test_source_order_tegrastats_jtop_nvml_sysfs(monkeypatch):
    monkeypatch.setattr(telemetry.TegrastatsSource, "available", staticmethod(lambda: False))

    class FakeJtop(object):
        def __init__(self, interval):
            self.interval = interval

    source = telemetry.pick_source(100, jtop_loader=lambda: FakeJtop, nvml_loader=lambda: None)
    assert source.name == "jtop" and source.jetson.interval == 0.1
    assert telemetry.pick_source(100, jtop_loader=lambda: None, nvml_loader=lambda: None).name == "cpu-sysfs"
    monkeypatch.setattr(telemetry.TegrastatsSource, "available", staticmethod(lambda: True))
    assert telemetry.pick_source(100).name == "tegrastats"
    assert telemetry.JtopSource.load(socket="/nonexistent/jtop.sock") is None
