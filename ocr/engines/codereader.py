"""codereader: the kit's own product-code reader (issue 9).

Recognition only, on the crop: the crop is split into printed lines (ocr/engines/by_line.py;
option `splitter`, default `sturdy`: ocr/lines.py), each line is
read by PP-OCRv4's recogniser fine-tuned on the kit's synthetic codes, with a CTC head over the
product-code charset (ocr/data/codereader/, trained by train/codereader), on ONNX Runtime; then
format-aware decoding (ocr/postprocess.py) corrects look-alikes by position and, when the top
path fits no format, searches the per-step probabilities for the best string that does.

Confidence: the least certain character of the returned text (the model's probability for it
under the best alignment), over all lines; text fitting no format is returned unchanged, flagged
(`extra["formats"]` None) and its confidence halved, so a threshold rejects it first.
"""
import difflib
import os
import time

import cv2
import numpy as np

from .. import confidence, formats, models, postprocess
from . import by_line, second_look
from .base import Engine, EngineUnavailable, Prediction
from .ppocr import OnnxRunner, _package_version, batched_rec

MODEL_NAME = "codereader.onnx"
# The rejection threshold for >= 99 % precision, chosen on held-out synthetic crops when the
# model was calibrated (train/codereader/calibrate.py --write), beside the model.
THRESHOLD_NAME = "threshold.json"
# The calibrator (ocr/confidence.py) fitted for the model on synthetic reads
# (train/codereader/calibrate.py): the confidence it gives is P(read right), and threshold.json
# then holds a threshold on that scale ("confidence": "calibrated").
CALIBRATOR_NAME = "calibrator.json"
UNMATCHED_FACTOR = 0.5
# Option `whole_reread` (off by default): a split crop is also read whole, and the whole reading
# wins only when it is surer *and* either reads at least
# WHOLE_MIN_CHARS of the characters its lines read (squeezed to one line's height, a real
# multi-line crop reads a short, sometimes confident fragment) or the lines read near-duplicates
# (similarity >= FALSE_SPLIT_SIMILARITY: a cut through one line gives two halves that each read
# as the whole line). Chosen on the synthetic calibration set (seed 7002, 600 crops): flat for
# 0.6-1.0 and 0.5-0.6 respectively; realdev was not used. Measured since (replays at 80574b5):
# it changed no crop's accuracy on synthetic seeds 7101 (600), 7002 (600), the default set and
# the doubled set (seed 2002), nor on realdev, and read 10-18 % more lines: off.
# Option `width_floor` (frames per character, 0: off): a line read with fewer frames per character
# is read again stretched to that many (at most MAX_STRETCH) and the surer read kept; repeats need
# a blank frame between them. Off by default: measured on the synthetic `doubled` set (seed 2002,
# 300 crops) a floor of 3 took collapsed-repeat reads 10 -> 6 and accuracy 85.0 -> 87.3 %, the
# default set unchanged (95.3 %), but it reads 53 % of the default set's lines twice.
MAX_STRETCH = 2.0
WHOLE_MIN_CHARS = 0.8
FALSE_SPLIT_SIMILARITY = 0.6


def model_dir():
    """ocr/data/codereader/ in the package, or KIT_MODELS_CODEREADER (another trained model)."""
    return models.model_dir("codereader")


def expected_sha256(folder=None):
    """The sha256 recorded beside the model (SHA256SUMS, `sha256sum` format), or None."""
    path = os.path.join(folder or model_dir(), "SHA256SUMS")
    if not os.path.isfile(path):
        return None
    with open(path) as f:
        for row in f:
            parts = row.split()
            if len(parts) == 2 and parts[1].lstrip("*") == MODEL_NAME:
                return parts[0]
    return None


def calibrated_threshold(folder, model_sha256, calibrated=False):
    """The confidence below which a read should go to manual check, or None: from
    threshold.json, if it was calibrated for this very model file and on the confidence scale
    the engine gives (the calibrator's probability, or the raw least character probability)."""
    data = confidence.fitted_for(os.path.join(folder, THRESHOLD_NAME), model_sha256)
    if data is None or (data.get("confidence") == "calibrated") != calibrated:
        return None
    return data.get("threshold")


class CodeReader(Engine):
    name = "codereader"
    family = "codereader"
    needs = "onnxruntime (pip install kit[onnx]) + ocr/data/codereader/codereader.onnx"
    default_options = {"threads": 0, "batch": 8, "max_width": 640, "split_lines": True, "splitter": "sturdy",
                       "formats": True, "constrain": True, "formats_file": "", "calibrate": True,
                       "second_look": "", "whole_reread": False, "width_floor": 0.0}
    option_choices = {"splitter": by_line.SPLITTERS}

    @classmethod
    def check_available(cls):
        try:
            __import__("onnxruntime")
        except ImportError:
            return "needs " + cls.needs
        path = os.path.join(model_dir(), MODEL_NAME)
        if not os.path.isfile(path):
            return "model missing: {} (train it: invoke train)".format(path)
        return None

    def version(self):
        return "onnxruntime " + _package_version("onnxruntime")

    def _load(self):
        expected = expected_sha256()
        if expected is None and not models.trusted():  # a SHA256SUMS without the model's line
            raise EngineUnavailable("{}: {} lists no sha256 for {}, so it cannot be verified: add it "
                                    "(sha256sum {} >> SHA256SUMS) or trust it with --trust-models".format(
                                        self.name, os.path.join(model_dir(), "SHA256SUMS"), MODEL_NAME,
                                        MODEL_NAME))
        path = self.register_model("rec", os.path.join(model_dir(), MODEL_NAME), expected)
        self.rec = self._runner(path)
        meta = self.rec.meta
        if "charset" not in meta:
            raise EngineUnavailable("{}: {} carries no charset metadata".format(self.name, path))
        self.charset = ["<blank>"] + list(meta["charset"])
        self.height = int(meta.get("height", 48))
        sha = self.models["rec"]["sha256"]
        self.calibrator = None
        if self.options["calibrate"]:
            self.calibrator = confidence.Calibrator.load(os.path.join(model_dir(), CALIBRATOR_NAME), sha)
        self.reject_below = calibrated_threshold(model_dir(), sha, self.calibrator is not None)
        self.grammar = None
        if self.options["formats"]:
            extra = self.options["formats_file"] or None
            self.grammar = formats.Grammar.from_yaml(extra) if extra else formats.default_grammar()
        self.format_costs = self.grammar.format_costs() if self.grammar else {}

    def _runner(self, path):
        """The network (numpy batch in, probabilities out, `meta`): ONNX Runtime on the CPU here;
        codereader-trt puts a TensorRT engine in its place and nothing else changes."""
        return OnnxRunner(path, self.options["threads"])

    def line_probs(self, images):
        """Per-step probabilities (T x C arrays) of single-line images, batched by similar width."""
        return batched_rec(self.rec, images, self.options["batch"], self.height, int(self.options["max_width"]))

    def read_line(self, probs):
        read = postprocess.decode(probs, self.charset, self.grammar, constrain=self.options["constrain"])
        read.signals = confidence.line_signals(probs, read, self.charset, self.format_costs)
        return read

    def predict(self, crops):
        """Split crops into lines; a crop that was split is also read whole, and the whole
        reading wins when it is surer and about as long (a false split cuts characters in half:
        both halves read poorly; a real multi-line crop read whole reads a short fragment).
        With option second_look, a read below the threshold is read again on variants
        (second_look.py)."""
        preds, stages = self._read(crops)
        looks = [n for n in str(self.options["second_look"]).split(",") if n.strip()]
        if looks:  # timed over all crops, 0 for a batch without an unsure read
            t0 = time.perf_counter()
            bar = self.reject_below
            unsure = [i for i, p in enumerate(preds) if bar is not None and p.confidence < bar]
            if unsure:
                seen, _ = self._read([v for i in unsure for v in second_look.variants(crops[i], looks)])
                for j, i in enumerate(unsure):
                    preds[i] = second_look.vote(preds[i], seen[j * len(looks):(j + 1) * len(looks)])
            stages["second_look"] = round((time.perf_counter() - t0) * 1000.0 / max(1, len(crops)), 4)
        for pred in preds:
            pred.stages_ms = stages
        return preds

    def _read(self, crops):
        """(predictions, {stage: ms per crop}) of one pass over the crops."""
        t0 = time.perf_counter()
        batch = by_line.LineBatch(crops, self._lines_and_whole)
        t1 = time.perf_counter()
        probs = self.line_probs(batch.lines) if batch.lines else []
        t2 = time.perf_counter()
        reads = [self.read_line(p) for p in probs]
        if float(self.options["width_floor"]):
            self._floor(batch.lines, reads, float(self.options["width_floor"]))
        preds = [self._prediction(_choose(r[:-1], r[-1:]) if len(r) > 1 and self.options["whole_reread"] else r)
                 for r in batch.regroup(reads)]
        # Where a crop's time goes (ms per crop, averaged over a batch): the network runs on the
        # accelerator on a Nano, splitting and decoding in Python on its CPU.
        return preds, {name: round((b - a) * 1000.0 / max(1, len(crops)), 4) for name, a, b in (
            ("split", t0, t1), ("network", t1, t2), ("decode", t2, time.perf_counter()))}

    def _floor(self, lines, reads, floor):
        """Read again, stretched, the lines read with fewer than `floor` frames per character;
        keep the surer read (in `reads`, in place)."""
        dense = [(i, min(MAX_STRETCH, floor / r.signals["density"])) for i, r in enumerate(reads)
                 if r.text.strip() and r.signals["density"] < floor]  # frames per character (read_line)
        if not dense:
            return
        stretched = [cv2.resize(lines[i], (int(round(lines[i].shape[1] * f)), lines[i].shape[0]),
                                interpolation=cv2.INTER_LINEAR) for i, f in dense]
        for (i, _), p in zip(dense, self.line_probs(stretched)):
            again = self.read_line(p)
            if again.confidence > reads[i].confidence:
                reads[i] = again

    def _lines_and_whole(self, crop):
        """The crop's lines and, when it was split (and whole_reread is on), the crop whole after
        them (see predict)."""
        parts = [np.ascontiguousarray(part) for part in by_line.line_images(crop, self.options)]
        return parts + [crop] if len(parts) > 1 and self.options["whole_reread"] else parts

    def _prediction(self, reads):
        mine = [r for r in reads if r.text.strip()]
        texts = [r.text.strip() for r in mine]
        matched = bool(mine) and all(r.formats is not None for r in mine)
        raw = _reading_confidence(reads)
        signals = confidence.crop_signals([r.signals for r in mine if r.signals is not None])
        calibrated = self.calibrator.probability(signals) if self.calibrator and signals else None
        extra = {"formats": [r.formats for r in mine] if matched else None, "decoded": [r.how for r in mine],
                 "signals": {k: round(float(v), 4) for k, v in (signals or {}).items()}}
        if calibrated is not None:
            extra["raw_confidence"] = raw
        return Prediction(" ".join(texts), raw if calibrated is None else calibrated, lines=texts, extra=extra)


def _choose(split, whole):
    """The reading of a crop: its lines' reads, or its whole read (see predict)."""
    if not split or not whole:
        return split or whole
    if _reading_confidence(whole) <= _reading_confidence(split):
        return split
    texts = [r.text.replace(" ", "").upper() for r in split]
    chars = sum(len(t) for t in texts), sum(len(r.text.replace(" ", "")) for r in whole)
    pairs = [(a, b) for i, a in enumerate(texts) for b in texts[i + 1:]]
    similar = max([difflib.SequenceMatcher(None, a, b).ratio() for a, b in pairs] or [0.0])
    return whole if chars[1] >= WHOLE_MIN_CHARS * chars[0] or similar >= FALSE_SPLIT_SIMILARITY else split


def _reading_confidence(reads):
    """Least certain character over the lines; halved when any line fits no format."""
    mine = [r for r in reads if r.text.strip()]
    conf = min([r.confidence for r in mine] or [0.0])
    return conf * UNMATCHED_FACTOR if any(r.formats is None for r in mine) else conf
