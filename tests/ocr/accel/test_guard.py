"""The precision guard: its thresholds, and its decisions on real FP32 / FP16 reads."""
import pytest

from ocr.accel import guard
from ocr.engines.base import EngineUnavailable


def _scores(acc, cer):
    return {"strict_accuracy": acc, "cer": cer}


@pytest.mark.parametrize("ref,cand,status", [
    (_scores(0.90, 0.05), _scores(0.90, 0.05), guard.OK),
    (_scores(0.90, 0.05), _scores(0.88, 0.06), guard.OK),        # exactly 2 and 1 points: allowed
    (_scores(0.90, 0.05), _scores(0.879, 0.05), guard.REFUSED),  # 2.1 points of strict accuracy
    (_scores(0.90, 0.05), _scores(0.90, 0.061), guard.REFUSED),  # 1.1 points of CER
    (_scores(0.90, 0.05), _scores(0.95, 0.02), guard.OK),        # better is fine
    (_scores(0.00, 0.138), _scores(0.00, 0.815), guard.REFUSED),  # the study's Paddle FP16 row
])
def test_thresholds(ref, cand, status):
    assert guard.decide(ref, cand).status == status


def test_allow_degraded_runs_but_marks():
    verdict = guard.decide(_scores(0.9, 0.05), _scores(0.5, 0.3), allow_degraded=True)
    assert verdict.status == guard.DEGRADED and verdict.usable and len(verdict.reasons) == 2


@pytest.fixture(scope="module")
def ppocr_pair():
    pytest.importorskip("onnxruntime")
    from ocr.engines import accel_engines
    fp16 = accel_engines.OnnxRecFp16(calib_n=8)
    return fp16.fp32_twin().load(), fp16


def test_real_fp16_reads_pass_the_guard(ppocr_pair, crops_and_truths, tmp_path, monkeypatch):
    monkeypatch.setenv("KIT_ACCEL_CACHE", str(tmp_path))
    fp32, fp16 = ppocr_pair
    fp16.load()  # converts to FP16, runs the guard against its FP32 twin on calibration crops
    assert fp16.verdict.status == guard.OK
    assert fp16.describe()["accuracy_flag"] == guard.OK
    assert fp16.models["rec.fp16"]["sha256"] != fp16.models["rec"]["sha256"]
    verdict = guard.compare_engines(fp16, fp32, crops_and_truths)
    assert verdict.status == guard.OK, verdict.summary()
    assert verdict.agreement >= 0.9


def test_collapsed_reads_are_refused_or_marked(ppocr_pair, crops_and_truths):
    """Real FP32 and FP16 reads; the FP16 reads then lose their digits, as the study's Paddle
    FP16 engine read garbage: refused, or run and marked when explicitly allowed."""
    fp32, fp16 = ppocr_pair
    crops = [c for c, _ in crops_and_truths]
    truths = [t for _, t in crops_and_truths]
    ref = [p.text for p in fp32.predict(crops)]
    cand = [p.text for p in fp16.predict(crops)]
    collapsed = ["".join(ch for ch in t if not ch.isdigit()) for t in cand]
    assert guard.compare_texts(ref, cand, truths).status == guard.OK
    assert guard.compare_texts(ref, collapsed, truths).status == guard.REFUSED
    assert guard.compare_texts(ref, collapsed, truths, allow_degraded=True).status == guard.DEGRADED


def test_guarded_engine_refuses_to_load_when_worse(monkeypatch, tmp_path):
    pytest.importorskip("onnxruntime")
    monkeypatch.setenv("KIT_ACCEL_CACHE", str(tmp_path))
    from ocr.engines import accel_engines

    class Broken(accel_engines.OnnxRecFp16):
        def predict(self, crops):
            preds = super().predict(crops)
            if self.precision == "fp16":  # the twin reads normally
                for p in preds:
                    p.text = p.text[::-1]
            return preds

    with pytest.raises(EngineUnavailable, match="refused by the precision guard"):
        Broken(calib_n=6).load()
    allowed = Broken(calib_n=6, allow_degraded=True).load()
    assert allowed.describe()["accuracy_flag"] == guard.DEGRADED


def test_precision_is_validated():
    from ocr.engines import accel_engines
    with pytest.raises(ValueError, match="precision"):
        accel_engines.OnnxRecFp16(precision="int4")
