"""Shared fixtures: the EasyOCR recogniser exported once per session, and calibration crops
(the default dataset when it exists, plus rendered crops so the set is never empty)."""
import pytest

from ocr.accel import calib


@pytest.fixture(scope="session")
def crops_and_truths():
    samples = calib.rendered_samples(8)
    try:
        samples += calib.dataset_samples(None, 20)
    except Exception:  # noqa: BLE001 - the default set may not be generated yet
        pass
    return samples


@pytest.fixture(scope="session")
def reader():
    pytest.importorskip("easyocr")
    from ocr.accel import easyocr_rec
    return easyocr_rec.load_reader()


@pytest.fixture(scope="session")
def exported(tmp_path_factory, reader):
    pytest.importorskip("onnxruntime")
    from ocr.accel import export
    return export.export_easyocr_rec(str(tmp_path_factory.mktemp("accel")), reader)
