"""Table rows from result documents: degraded engines are marked in every table, unavailable ones
say why, telemetry columns appear only when measured."""
from bench import tables


def _doc(**engine):
    t = {"mean": 10.0, "p50": 10.0, "p90": 10.0, "p99": 10.0}
    m = {"strict_accuracy": 0.5, "cer": 0.1, "corpus_cer": 0.1, "char_precision": 0.9, "char_recall": 0.8, "n": 2}
    eng = dict({"name": "ppocr-onnx-rec-fp16", "device": "cpu", "precision": "fp16"}, **engine)
    return {"status": "ok", "engine": eng, "machine": {"arch": "x86_64"},
            "summary": {"metrics": {"raw": m, "normalised": m}, "fps": 50.0,
                        "timing": {"pre_ms": t, "ocr_ms": t, "total_ms": t}}}


def test_degraded_engine_is_marked():
    assert tables.row(_doc(accuracy_flag="accuracy-degraded"))[2] == "fp16 (accuracy-degraded)"
    assert tables.row(_doc(accuracy_flag="ok"))[2] == "fp16"


def test_unmeasured_engines_are_one_line_per_reason_under_the_table_not_rows():
    docs = [_doc()] + [{"status": "unavailable", "reason": "needs onnxruntime-gpu\nmore", "engine": {"name": n},
                        "machine": {}} for n in ("x-cuda", "y-cuda")]
    docs.append({"status": "error", "reason": "worker exited 1: boom", "engine": {"name": "z"}})
    headers, rows = tables.comparison(docs)
    assert len(rows) == 1 and rows[0][0] == "ppocr-onnx-rec-fp16"
    assert tables.not_measured(docs) == ["- x-cuda, y-cuda: unavailable: needs onnxruntime-gpu",
                                         "- z: failed: worker exited 1: boom"]
    assert tables.not_measured(docs, ["h"] * 4)[0].startswith("- x-cuda @ h, y-cuda @ h: ")


def test_telemetry_columns_only_when_measured():
    headers, rows = tables.comparison([_doc()])
    assert headers == tables.HEADERS
    doc = _doc()
    doc["summary"]["telemetry"] = {"mean_power_w": 5.2, "energy_per_read_mj": 52.0, "peak_temp_c": 41.5}
    headers, rows = tables.comparison([doc, _doc()])
    assert headers[-3:] == tables.TELEMETRY_HEADERS
    assert rows[0][-3:] == ["5.20", "52.0", "41.5"] and rows[1][-3:] == ["", "", ""]


def test_reference_table_has_the_papers_headline_rows():
    headers, rows, source = tables.reference()
    assert "Medina" in source
    trt = [r for r in rows if r[1] == "Jetson Nano GPU TensorRT" and r[2] == "fp16"]
    assert {r[0]: r[9] for r in trt} == {"EasyOCR": "173", "PaddleOCR": "142"}


def test_rejection_rows_show_the_shipped_and_the_oracle_threshold():
    doc = _doc()
    doc["summary"]["rejection"] = {"threshold": 0.9, "precision": 1.0, "coverage": 0.5}
    doc["summary"]["rejection_shipped"] = {"threshold": 0.849, "precision": 0.962, "coverage": 0.883}
    doc["summary"]["calibration_error"] = 0.0312
    headers, rows = tables.rejection([doc, _doc()])
    assert headers == tables.REJECTION_HEADERS and len(rows) == 2
    assert rows[0][1:5] == ["engine (calibrated)", "0.849", "96.2%", "88.3%"]
    assert rows[1][1:5] == ["this run (oracle)", "0.900", "100.0%", "50.0%"]
    assert rows[0][-1] == rows[1][-1] == "0.031"  # the run's calibration error, beside both


def test_stages_rows_only_for_engines_that_time_their_stages():
    doc = _doc(name="codereader")
    doc["summary"]["stages"] = [{"stage": "split", "mean": 0.91, "p90": 1.4},
                                {"stage": "network", "mean": 11.2, "p90": 15.0},
                                {"stage": "decode", "mean": 1.25, "p90": 3.0}]
    headers, rows = tables.stages([doc, _doc()])
    assert headers == tables.STAGE_HEADERS
    assert rows == [["codereader", "split", "0.9", "1.4", "6.8%"], ["codereader", "network", "11.2", "15.0", "83.8%"],
                    ["codereader", "decode", "1.2", "3.0", "9.4%"]]
    assert tables.stages([_doc()])[1] == []
