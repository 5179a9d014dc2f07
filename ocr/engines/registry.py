"""The one engine registry: names -> implementing class, imported lazily so that an interpreter
without an engine's packages can still list it and say why it is unavailable."""
import importlib

from .base import EngineUnavailable

# name -> "module:Class". Families add their names here (one line each); options live on classes.
ENGINES = {}


def register(name, target):
    ENGINES[name] = target


def names():
    return sorted(ENGINES)


class UnknownEngine(ValueError):
    pass


def engine_class(name):
    if name not in ENGINES:
        raise UnknownEngine("unknown engine '{}'; valid engines: {}".format(name, ", ".join(names())))
    module, cls = ENGINES[name].split(":")
    try:
        mod = importlib.import_module(module)
    except ImportError as exc:  # the family module itself imports only the stdlib + numpy
        raise EngineUnavailable("{}: cannot import {} ({})".format(name, module, exc)) from exc
    found = getattr(mod, cls)
    if found.name != name:  # results, options errors and the worker all go by the class's name
        raise ValueError("engine '{}' is registered as {} whose name is '{}'".format(name, ENGINES[name], found.name))
    return found


def create(name, **options):
    """Instantiate (not load) an engine by name with named options."""
    return engine_class(name)(**options)


def availability(name):
    """(True, "") or (False, one-line reason) without loading model weights."""
    try:
        cls = engine_class(name)
        reason = cls.check_available()
    except EngineUnavailable as exc:
        return False, str(exc)
    return (reason is None), (reason or "")


def print_engines():
    from tabulate import tabulate
    rows = []
    for n in names():
        ok, why = availability(n)
        try:
            needs = engine_class(n).needs
        except EngineUnavailable:
            needs = "?"
        rows.append([n, needs, "yes" if ok else "no: " + why])
    print(tabulate(rows, headers=["engine", "needs", "available here"]))


# Built-in families register themselves by name; import cost is nil (no heavy imports at top).
register("easyocr", "ocr.engines.easyocr_engine:EasyOCRReadtext")
register("easyocr-rec", "ocr.engines.easyocr_engine:EasyOCRRec")
register("paddleocr", "ocr.engines.ppocr:PaddleDetRec")
register("paddleocr-rec", "ocr.engines.ppocr:PaddleRec")
register("ppocr-onnx", "ocr.engines.ppocr:OnnxDetRec")
register("ppocr-onnx-rec", "ocr.engines.ppocr:OnnxRec")
register("ppocr-onnx-rec-fp16", "ocr.engines.accel_engines:OnnxRecFp16")
register("ppocr-onnx-cuda", "ocr.engines.accel_engines:OnnxDetRecCuda")
register("ppocr-onnx-rec-cuda", "ocr.engines.accel_engines:OnnxRecCuda")
register("ppocr-onnx-trt", "ocr.engines.accel_engines:OnnxDetRecTrt")
register("ppocr-onnx-rec-trt", "ocr.engines.accel_engines:OnnxRecTrt")
register("paddleocr-trt", "ocr.engines.accel_engines:PaddleDetRecTrt")
register("paddleocr-rec-trt", "ocr.engines.accel_engines:PaddleRecTrt")
register("easyocr-cuda", "ocr.engines.accel_easyocr:EasyOCRCuda")
register("easyocr-rec-cuda", "ocr.engines.accel_easyocr:EasyOCRRecCuda")
register("easyocr-trt", "ocr.engines.accel_easyocr:EasyOCRTrt")
register("easyocr-rec-trt", "ocr.engines.accel_easyocr:EasyOCRRecTrt")
register("codereader", "ocr.engines.codereader:CodeReader")
register("codereader-trt", "ocr.engines.codereader_trt:CodeReaderTrt")
