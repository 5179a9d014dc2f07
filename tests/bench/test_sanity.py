"""bench.sanity: the band logic, the checks' PASS/FAIL/SKIP decisions on a fake Nano tree and on this
machine, the reference crop read by a real engine, and the jetson_benchmarks wrapper fed through a
real subprocess (NVIDIA's benchmark cannot run here: a stand-in script prints its report format)."""
import io
import os
import sys

import pytest

from bench import jetson, sanity
from tests.bench.test_jetson import CLOCKS_DYNAMIC, CLOCKS_LOCKED, NVPMODEL_Q, fake_nano, runner

NANO_OK = {"nvpmodel_mode": {"name": "MAXN", "id": 0}, "jetson_clocks": True, "throttled": False,
           "throttle_reasons": []}


def nano_context(tmp_path, clocks=CLOCKS_LOCKED, nvpmodel=NVPMODEL_Q, swap=True, **options):
    fake_nano(tmp_path)
    if not swap:
        (tmp_path / "proc" / "swaps").write_text("Filename\tType\tSize\tUsed\tPriority\n")
    run = runner({"nvpmodel": (0, nvpmodel), "jetson_clocks": (0, clocks)})
    return sanity.Context(root=str(tmp_path), run=run, **options)


def statuses(results):
    return {r.name: r.status for r in results}


# --- band logic ------------------------------------------------------------------------------------
def test_within_band_passes_and_says_by_how_much():
    status, reason, hint = sanity.judge_fps(27.0, 29.4, NANO_OK)
    assert status == sanity.PASS and "-8 %" in reason and hint == ""


def test_faster_than_the_band_is_not_unhealthy():
    status, reason, _ = sanity.judge_fps(40.0, 29.4, NANO_OK)
    assert status == sanity.PASS and "above the band" in reason


def test_edges_of_the_band():
    assert sanity.judge_fps(29.4 * 0.85, 29.4, NANO_OK)[0] == sanity.PASS
    assert sanity.judge_fps(29.4 * 0.84, 29.4, NANO_OK)[0] == sanity.FAIL


def test_slow_result_names_the_likely_cause():
    state = dict(NANO_OK, nvpmodel_mode={"name": "5W", "id": 1}, jetson_clocks=False, throttled=True,
                 throttle_reasons=["CPU at 98.0 C (trip 97.0 C)"])
    status, reason, hint = sanity.judge_fps(12.0, 29.4, state)
    assert status == sanity.FAIL and "-59 %" in reason
    assert hint.startswith("likely: power mode 5W (sudo nvpmodel -m 0); clocks not pinned (sudo jetson_clocks)")
    assert "heat: CPU at 98.0 C" in hint


def test_slow_without_a_platform_explanation_says_where_to_look():
    assert "background load" in sanity.judge_fps(12.0, 29.4, NANO_OK)[2]


def test_references_come_from_the_copied_torch2trt_table():
    refs = sanity.load_references()
    assert refs["resnet18"] == {"pytorch": 29.4, "tensorrt": 90.2}
    assert refs["densenet121"] == {"pytorch": 11.5, "tensorrt": 41.9}
    assert set(sanity.REFERENCE_MODELS) <= set(refs)
    with open(os.path.join(sanity.DATA, "torch2trt_jetson_nano.csv")) as f:
        assert f.readline().startswith("# source: NVIDIA-AI-IOT/torch2trt@")


def test_throughput_on_a_nano_is_judged_and_off_it_never_passes(tmp_path):
    nano = nano_context(tmp_path)
    assert sanity.throughput_result(nano, "resnet18", "pytorch", 28.0, 29.4, "fp16", "cuda").status == sanity.PASS
    assert sanity.throughput_result(nano, "resnet18", "pytorch", 20.0, 29.4, "fp16", "cuda").status == sanity.FAIL
    here = sanity.Context(root=str(tmp_path / "elsewhere"), run=runner({}))
    off = sanity.throughput_result(here, "resnet18", "pytorch", 500.0, 29.4, "fp32", "cpu")
    assert off.status == sanity.SKIP and "no reference for this device" in off.reason


# --- platform checks on a fake Nano --------------------------------------------------------------------
def test_a_healthy_nano_passes_the_platform_group(tmp_path):
    ctx = nano_context(tmp_path)
    results = sanity.run_checks(ctx, ["platform"], io.StringIO())
    assert statuses(results) == {"l4t": "PASS", "board": "PASS", "power_mode": "PASS", "jetson_clocks": "PASS",
                                 "swap": "PASS", "disk_free": "PASS", "thermal": "PASS"}


def test_a_misconfigured_nano_fails_with_fixes(tmp_path):
    ctx = nano_context(tmp_path, clocks=CLOCKS_DYNAMIC, nvpmodel="NV Power Mode: 5W\n1\n", swap=False)
    out = io.StringIO()
    results = {r.name: r for r in sanity.run_checks(ctx, ["platform"], out)}
    assert results["power_mode"].status == "FAIL" and "sudo nvpmodel -m 0" in results["power_mode"].hint
    assert results["jetson_clocks"].status == "FAIL"
    assert results["swap"].status == "FAIL" and results["swap"].reason == "0 MB of swap (need 4096 MB)"
    assert "FAIL  platform/power_mode: nvpmodel 5W (id 1), not MAXN\n      fix: sudo nvpmodel" in out.getvalue()


def test_missing_stack_pieces_fail_on_a_jetson_and_skip_elsewhere(tmp_path):
    nano = nano_context(tmp_path)
    here = sanity.Context(root=str(tmp_path / "elsewhere"), run=runner({}))
    res = sanity.outcome("stack", "x")
    assert nano.missing(res, "gone", "install it").status == sanity.FAIL
    skipped = here.missing(res, "gone", "install it")
    assert skipped.status == sanity.SKIP and skipped.reason == "gone (expected off a Jetson)"


def test_pinned_import_compares_versions(tmp_path):
    ctx = nano_context(tmp_path)
    ok = sanity.check_pinned_import(ctx, "pytest", "pytest", pytest.__version__, lambda m: m.__version__, "")
    assert ok.status == sanity.PASS
    bad = sanity.check_pinned_import(ctx, "pytest", "pytest", "0.1", lambda m: m.__version__, "pip install")
    assert bad.status == sanity.FAIL and "versions.yml pins 0.1" in bad.reason
    gone = sanity.check_pinned_import(ctx, "nothing", "no_such_module_here", "1", lambda m: None, "")
    assert gone.status == sanity.FAIL and "ModuleNotFoundError" in gone.reason


def test_expected_versions_follow_the_l4t_line():
    assert sanity.expected_versions("32.7.1")["tensorrt"] == "8.2.1"
    assert sanity.expected_versions(None)["pins"]["torch2trt"] == "v0.4.0"
    # A release the table lacks: the default entry, whose release list check_l4t then reports.
    assert "32.6.1" not in sanity.expected_versions("32.6.1")["l4t_releases"]


# --- this machine, for real ------------------------------------------------------------------------------
def test_platform_checks_here_skip_honestly(tmp_path):
    ctx = sanity.Context()
    results = {r.name: r for r in sanity.run_checks(ctx, ["platform"], io.StringIO())}
    if not ctx.on_jetson:
        assert results["power_mode"].status == sanity.SKIP
        assert results["disk_free"].status in (sanity.PASS, sanity.FAIL)  # measured everywhere


def test_paddle_probe_runs_in_another_interpreter():
    info, err = sanity.probe_paddle(sys.executable)
    if info is None:
        assert "paddle does not import" in err
    else:
        assert set(info) == {"python", "paddle", "cuda", "trt"} and len(info["trt"]) == 3
    info, err = sanity.probe_paddle("/nonexistent/python3.7")
    assert info is None and "cannot run" in err


def test_reference_crop_has_dark_text_on_white():
    crop = sanity.reference_crop()
    assert crop.dtype.name == "uint8" and crop.ndim == 3 and crop.shape[2] == 3
    assert crop[0, 0].tolist() == [255, 255, 255] and crop.min() == 0
    assert crop.shape[1] > 3 * crop.shape[0]  # one line of text


@pytest.mark.slow
def test_a_real_engine_reads_the_reference_crop():
    registry = pytest.importorskip("ocr.engines.registry")
    ok, why = registry.availability("ppocr-onnx-rec")
    if not ok:
        pytest.skip(why)
    result = sanity.read_once(registry, "ppocr-onnx-rec", sanity.reference_crop(), sanity.REFERENCE_TEXT)
    assert result.status == sanity.PASS, result.reason


def test_a_wrong_read_fails(monkeypatch):
    class Engine(object):
        def load(self):
            return self

        def predict(self, crops):
            from ocr.engines.base import Prediction
            return [Prediction("L0T A7319", 0.9)]

    class Registry(object):
        availability = staticmethod(lambda name: (True, ""))
        create = staticmethod(lambda name: Engine())

    result = sanity.read_once(Registry, "fake", sanity.reference_crop(), sanity.REFERENCE_TEXT)
    assert result.status == sanity.FAIL and "expected 'LOT A7319'" in result.reason


def test_unavailable_engine_is_skipped_with_its_reason():
    class Registry(object):
        availability = staticmethod(lambda name: (False, "needs the Paddle venv"))

    result = sanity.read_once(Registry, "paddleocr", None, "x")
    assert (result.status, result.reason) == (sanity.SKIP, "needs the Paddle venv")


def test_a_reference_model_is_measured_on_this_cpu():
    torch = pytest.importorskip("torch")
    torchvision = pytest.importorskip("torchvision")
    ctx = sanity.Context(models=["squeezenet1_1"], iterations=2, warmup=1)
    results = sanity.run_reference_model(ctx, torch, torchvision, "squeezenet1_1", sanity.load_references(), None)
    assert len(results) == 1 and results[0].data["fps"] > 0
    if not ctx.on_jetson:
        assert results[0].status == sanity.SKIP and results[0].data["reference_fps"] == 76.6


def test_cli_rejects_unknown_groups_and_writes_json(tmp_path):
    assert sanity.sanity_cli(only="nope", stream=io.StringIO()) == 2
    out = io.StringIO()
    code = sanity.sanity_cli(only="platform", out_json=str(tmp_path / "s.json"), stream=out)
    assert code in (0, 1) and "sanity: " in out.getvalue()
    import json
    with open(str(tmp_path / "s.json")) as f:
        saved = json.load(f)
    assert set(saved) == {"platform", "results"} and saved["results"][0]["group"] == "platform"


# --- jetson_benchmarks -------------------------------------------------------------------------------------
# The per-model report and the final table as benchmark.py prints them at the pinned commit
# (utils/run_benchmark_models.py report(): 'Model Name: {} \nFPS:{:.2f} \n'; benchmark.py:
# print(benchmark_table[['Model Name', 'FPS']])). Values are illustrative, not measurements.
REPORT = ("------------Executing inception_v4------------\n\n--------------------------\n\n"
          "Model Name: inception_v4 \nFPS:11.23 \n\n--------------------------\n\n"
          "Model Name: vgg19_N2 \nFPS:0.00 \n\n")
TABLE = "         Model Name    FPS\n0      inception_v4  11.23\n1          vgg19_N2   9.87\n"


def test_parse_per_model_reports_and_the_final_table():
    assert sanity.parse_jetson_benchmarks(REPORT) == {"inception_v4": 11.23, "vgg19_N2": 0.0}
    assert sanity.parse_jetson_benchmarks(TABLE) == {"inception_v4": 11.23, "vgg19_N2": 9.87}
    assert sanity.parse_jetson_benchmarks("Exiting. Check if TensorRT is installed") == {}


def test_table_lists_every_nano_model_beside_the_nx_sample():
    table = sanity.jetson_benchmarks_table({"inception_v4": 11.23})
    assert [row[0] for row in table][:2] == ["inception_v4", "vgg19_N2"] and len(table) == 8
    assert table[0] == ["inception_v4", 11.23, "fp16", "n/a", "311.73"]
    assert table[1][1] is None


def test_command_is_the_readme_nano_command_with_jetson_clocks():
    argv = sanity.jetson_benchmarks_command("/jb", "/jb/models")
    assert argv[1:3] == ["/jb/benchmark.py", "--all"]
    assert argv[argv.index("--jetson_devkit") + 1] == "nano"
    assert argv[argv.index("--precision") + 1] == "fp16" and argv[-1] == "--jetson_clocks"


STAND_IN = '''import sys
input("Please close all other applications and Press Enter to continue...")
print("Model Name: inception_v4 \\nFPS:11.23 \\n")
print("Model Name: vgg19_N2 \\nFPS:9.87 \\n")
sys.exit(0)
'''


def test_wrapper_feeds_enter_and_parses_a_run(tmp_path):
    repo = tmp_path / "jetson_benchmarks"
    repo.mkdir()
    (repo / "benchmark.py").write_text(STAND_IN)
    pin = sanity.expected_versions("32.7.1")["pins"]["jetson_benchmarks"]
    fake_nano(tmp_path / "root")
    ctx = sanity.Context(root=str(tmp_path / "root"), jetson_benchmarks=str(repo),
                         run=runner({"git": (0, pin + "\n")}))
    result = sanity.check_jetson_benchmarks(ctx)
    assert result.data["table"][0][:2] == ["inception_v4", 11.23]
    assert result.status == sanity.FAIL and "2/8 models ran (exit 0)" in result.reason
    assert result.hint.startswith("failed: super_resolution_bsd500, unet-segmentation")


def test_wrapper_refuses_an_unpinned_clone(tmp_path):
    fake_nano(tmp_path)
    ctx = sanity.Context(root=str(tmp_path), jetson_benchmarks="/jb", run=runner({"git": (0, "c029c7de35d6\n")}))
    result = sanity.check_jetson_benchmarks(ctx)
    assert result.status == sanity.FAIL and "not the pinned d0e474ff5e79" in result.reason


def test_jetson_benchmarks_is_opt_in_and_skips_off_a_jetson(tmp_path):
    assert sanity.check_jetson_benchmarks(nano_context(tmp_path)).reason.startswith("opt-in")
    here = sanity.Context(root=str(tmp_path / "elsewhere"), run=runner({}))
    assert sanity.check_jetson_benchmarks(here).status == sanity.SKIP


def test_platform_state_is_what_the_context_holds(tmp_path):
    ctx = nano_context(tmp_path)
    assert ctx.on_jetson and ctx.is_nano
    assert ctx.models == sanity.REFERENCE_MODELS and ctx.iterations == 50
    again = jetson.platform_state(str(tmp_path), runner({"nvpmodel": (0, NVPMODEL_Q),
                                                         "jetson_clocks": (0, CLOCKS_LOCKED)}))
    del again["disk_free_mb"], ctx.state["disk_free_mb"]  # other processes write to this disk meanwhile
    assert ctx.state == again


def test_invoke_task_is_thin_and_exits_with_the_checks_code():
    from invoke import Exit, MockContext

    import tasks
    with pytest.raises(Exit) as raised:
        tasks.sanity(MockContext(), only="no_such_group")
    assert raised.value.code == 2


@pytest.mark.slow
def test_an_engine_is_read_in_its_own_interpreter():
    registry = pytest.importorskip("ocr.engines.registry")
    if not registry.availability("ppocr-onnx-rec")[0]:
        pytest.skip("ppocr-onnx-rec unavailable here")
    result = sanity.read_elsewhere(sys.executable, "ppocr-onnx-rec")
    assert result.status == sanity.PASS and result.reason.endswith("[{}]".format(sys.executable))


def test_an_engine_whose_interpreter_is_missing_fails():
    result = sanity.read_elsewhere("/nonexistent/venv-paddle/bin/python", "paddleocr")
    assert result.status == sanity.FAIL and "cannot run" in result.reason


def test_engines_follow_the_bench_interpreters_table(tmp_path):
    ctx = sanity.Context(root=str(tmp_path), run=runner({}))
    ctx.interpreters = {"paddleocr": "/opt/nano-ocr-kit/venv-paddle/bin/python"}
    assert ctx.interpreter_for("paddleocr") == "/opt/nano-ocr-kit/venv-paddle/bin/python"
    assert ctx.interpreter_for("easyocr") == sys.executable


def test_a_failed_tensorrt_conversion_is_a_fail_not_a_crash():
    torch = pytest.importorskip("torch")
    torchvision = pytest.importorskip("torchvision")

    def broken_converter(model, inputs, fp16_mode):
        raise RuntimeError("Network must have at least one output")

    ctx = sanity.Context(iterations=1, warmup=0)
    results = sanity.run_reference_model(ctx, torch, torchvision, "squeezenet1_1", {}, broken_converter)
    assert [r.name for r in results] == ["squeezenet1_1/pytorch", "squeezenet1_1/tensorrt"]
    assert results[1].status == sanity.FAIL and "at least one output" in results[1].reason


def test_without_matplotlib_the_system_dejavu_is_used(monkeypatch):
    real = sanity.try_import
    monkeypatch.setattr(sanity, "try_import", lambda name: (None, "gone") if name == "matplotlib" else real(name))
    monkeypatch.setattr(sanity, "SYSTEM_DEJAVU", "/nonexistent/DejaVuSans-Bold.ttf")
    assert sanity.dejavu_path() is None
    result = sanity.check_engines(sanity.Context(engines=["ppocr-onnx-rec"]))
    assert result.status == sanity.SKIP and "no DejaVu font" in result.reason
