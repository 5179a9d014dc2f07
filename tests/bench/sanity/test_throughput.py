"""bench.sanity.throughput: the band logic, the copied torch2trt table, a real CPU measurement."""
import os

import pytest

from bench.sanity import common, throughput
from tests.bench.sanity.fakes import NANO_OK, nano_context
from tests.bench.test_jetson import runner


def test_within_band_passes_and_says_by_how_much():
    status, reason, hint = throughput.judge_fps(27.0, 29.4, NANO_OK)
    assert status == common.PASS and "-8 %" in reason and hint == ""


def test_faster_than_the_band_is_not_unhealthy():
    status, reason, _ = throughput.judge_fps(40.0, 29.4, NANO_OK)
    assert status == common.PASS and "above the band" in reason


def test_edges_of_the_band():
    assert throughput.judge_fps(29.4 * 0.85, 29.4, NANO_OK)[0] == common.PASS
    assert throughput.judge_fps(29.4 * 0.84, 29.4, NANO_OK)[0] == common.FAIL


def test_slow_result_names_the_likely_cause():
    state = dict(NANO_OK, nvpmodel_mode={"name": "5W", "id": 1}, jetson_clocks=False, throttled=True,
                 throttle_reasons=["CPU at 98.0 C (trip 97.0 C)"])
    status, reason, hint = throughput.judge_fps(12.0, 29.4, state)
    assert status == common.FAIL and "-59 %" in reason
    assert hint.startswith("likely: power mode 5W (sudo nvpmodel -m 0); clocks not pinned (sudo jetson_clocks)")
    assert "heat: CPU at 98.0 C" in hint


def test_slow_without_a_platform_explanation_says_where_to_look():
    assert "background load" in throughput.judge_fps(12.0, 29.4, NANO_OK)[2]


def test_references_come_from_the_copied_torch2trt_table():
    refs = throughput.load_references()
    assert refs["resnet18"] == {"pytorch": 29.4, "tensorrt": 90.2}
    assert refs["densenet121"] == {"pytorch": 11.5, "tensorrt": 41.9}
    assert set(common.REFERENCE_MODELS) <= set(refs)
    with open(os.path.join(common.DATA, "torch2trt_jetson_nano.csv")) as f:
        assert f.readline().startswith("# source: NVIDIA-AI-IOT/torch2trt@")


def test_throughput_on_a_nano_is_judged_and_off_it_never_passes(tmp_path):
    nano = nano_context(tmp_path)
    assert throughput.throughput_result(nano, "resnet18", "pytorch", 28.0, 29.4, "fp16", "cuda").status == common.PASS
    assert throughput.throughput_result(nano, "resnet18", "pytorch", 20.0, 29.4, "fp16", "cuda").status == common.FAIL
    here = common.Context(root=str(tmp_path / "elsewhere"), run=runner({}))
    off = throughput.throughput_result(here, "resnet18", "pytorch", 500.0, 29.4, "fp32", "cpu")
    assert off.status == common.SKIP and "no reference for this device" in off.reason


def test_a_reference_model_is_measured_on_this_cpu():
    torch = pytest.importorskip("torch")
    torchvision = pytest.importorskip("torchvision")
    ctx = common.Context(models=["squeezenet1_1"], iterations=2, warmup=1)
    refs = throughput.load_references()
    results = throughput.run_reference_model(ctx, torch, torchvision, "squeezenet1_1", refs, None)
    assert len(results) == 1 and results[0].data["fps"] > 0
    if not ctx.on_jetson:
        assert results[0].status == common.SKIP and results[0].data["reference_fps"] == 76.6


def test_a_failed_tensorrt_conversion_is_a_fail_not_a_crash():
    torch = pytest.importorskip("torch")
    torchvision = pytest.importorskip("torchvision")

    def broken_converter(model, inputs, fp16_mode):
        raise RuntimeError("Network must have at least one output")

    ctx = common.Context(iterations=1, warmup=0)
    results = throughput.run_reference_model(ctx, torch, torchvision, "squeezenet1_1", {}, broken_converter)
    assert [r.name for r in results] == ["squeezenet1_1/pytorch", "squeezenet1_1/tensorrt"]
    assert results[1].status == common.FAIL and "at least one output" in results[1].reason
