"""PP-OCRv4 (PaddleOCR's det + rec models) on two runtimes: Paddle Inference (the paper's
PaddleOCR) and ONNX Runtime (the fastest CPU path, and the bridge to TensorRT).

Same models, same pre/post-processing, only the runtime differs, so the rows compare runtimes.
- det+rec (`paddleocr`, `ppocr-onnx`): DB text detection with PaddleOCR's defaults (limit_side_len
  960, limit_type 'max'), pieces cut out and recognised, then put in reading order.
- rec only (`paddleocr-rec`, `ppocr-onnx-rec`): the crops are already cut, so detection is wasted
  work: the crop is split into lines (ocr/engines/by_line.py; option `splitter`, default
  `profile`: a projection profile, ocr/layout.py) and each line is recognised.
Recognition: height 48, width from the aspect ratio (dynamic, up to `max_width`), normalised to
[-1, 1], CTC greedy decoding over ppocr_keys_v1 (+ space). Confidence: the mean of the kept
characters' probabilities (0 for an empty read).
"""
import math
import os

import numpy as np

from .. import ctc, layout, models
from . import by_line
from .base import Engine, EngineUnavailable, Prediction, require


# --- runtimes -------------------------------------------------------------------------------------
class OnnxRunner(object):
    def __init__(self, path, threads, providers=None):
        ort = require("onnxruntime", "pip install kit[onnx] (onnxruntime)")
        opts = ort.SessionOptions()
        if threads:
            opts.intra_op_num_threads = int(threads)
        opts.log_severity_level = 3
        self.session = ort.InferenceSession(path, sess_options=opts,
                                            providers=providers or ["CPUExecutionProvider"])
        self.input = self.session.get_inputs()[0].name
        self.meta = self.session.get_modelmeta().custom_metadata_map

    def __call__(self, x):
        return self.session.run(None, {self.input: x})[0]


class PaddleRunner(object):
    def __init__(self, model_file, params_file, threads, use_gpu=False):
        inference = require("paddle.inference", "the Python 3.7 venv with Paddle Inference "
                                                 "(pip install kit[paddle])")
        config = inference.Config(model_file, params_file)
        if use_gpu:
            config.enable_use_gpu(500, 0)
        else:
            config.disable_gpu()
            config.set_cpu_math_library_num_threads(int(threads) if threads else 1)
        config.switch_ir_optim(True)
        config.enable_memory_optim()
        config.disable_glog_info()
        self.predictor = inference.create_predictor(config)
        self.input = self.predictor.get_input_handle(self.predictor.get_input_names()[0])
        self.output = self.predictor.get_output_handle(self.predictor.get_output_names()[0])

    def __call__(self, x):
        self.input.reshape(list(x.shape))
        self.input.copy_from_cpu(np.ascontiguousarray(x))
        self.predictor.run()
        return self.output.copy_to_cpu()


def _package_version(name):
    try:
        import importlib
        return getattr(importlib.import_module(name), "__version__", "?")
    except ImportError:
        return "missing"


# --- recognition -------------------------------------------------------------------------------
def load_charset(path):
    with open(path, "rb") as f:
        keys = f.read().decode("utf-8").splitlines()
    return ["<blank>"] + keys + [" "]


MIN_WIDTH, WIDTH_MULTIPLE = 16, 32  # a line's width floor; batches pad to multiples of this


def padded_width(width, multiple=WIDTH_MULTIPLE):
    """The width rec_batch pads a batch to, given its widest line's (clamped) width."""
    return int(math.ceil(width / float(multiple)) * multiple)


def rec_batch(images, height=48, max_width=960, min_width=MIN_WIDTH, multiple=WIDTH_MULTIPLE):
    """BGR/gray crops -> N x 3 x height x W float32, W the widest aspect in the batch rounded up to
    `multiple` (few distinct shapes: runtimes that specialise per shape, like Paddle's oneDNN
    kernels or TensorRT profiles, then reuse their work)."""
    import cv2
    widths = []
    for img in images:
        h, w = img.shape[:2]
        widths.append(int(min(max_width, max(min_width, math.ceil(height * w / float(max(h, 1)))))))
    width = padded_width(max(widths), multiple)
    batch = np.zeros((len(images), 3, height, width), dtype=np.float32)
    for i, (img, w) in enumerate(zip(images, widths)):
        if img.ndim == 2:
            img = cv2.cvtColor(img, cv2.COLOR_GRAY2BGR)
        resized = cv2.resize(img, (w, height)).astype(np.float32)
        batch[i, :, :, :w] = (resized.transpose(2, 0, 1) / 255.0 - 0.5) / 0.5
    return batch


def batched_rec(run, images, batch, height, max_width, multiple=WIDTH_MULTIPLE):
    """Per-image T x C outputs of `run` over single-line images, in batches of `batch`. Sorting by
    aspect keeps padding small within a batch (as PaddleOCR does); results come back in order."""
    order = sorted(range(len(images)), key=lambda i: images[i].shape[1] / float(max(1, images[i].shape[0])))
    out, step = [None] * len(images), max(1, int(batch))
    for start in range(0, len(order), step):
        chunk = order[start:start + step]
        probs = run(rec_batch([images[i] for i in chunk], height, max_width, multiple=multiple))
        for i, p in zip(chunk, probs):
            out[i] = p
    return out


def crop_quad(img, quad):
    """Perspective-cut a detected quadrilateral, rotated upright when it is tall and thin."""
    import cv2
    quad = np.asarray(quad, dtype=np.float32)
    w = int(max(np.linalg.norm(quad[0] - quad[1]), np.linalg.norm(quad[2] - quad[3])))
    h = int(max(np.linalg.norm(quad[0] - quad[3]), np.linalg.norm(quad[1] - quad[2])))
    w, h = max(w, 1), max(h, 1)
    dst = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
    out = cv2.warpPerspective(img, cv2.getPerspectiveTransform(quad, dst), (w, h),
                              borderMode=cv2.BORDER_REPLICATE, flags=cv2.INTER_CUBIC)
    if h / float(w) >= 1.5:
        out = np.rot90(out)
    return out


class _PPOCRBase(Engine):
    family = "ppocr"
    runtime = None  # "onnx" | "paddle"
    default_options = {"threads": 0, "rec_height": 48, "max_width": 960, "width_multiple": 32,
                       "batch": 8, "split_lines": True, "splitter": "profile"}
    option_choices = {"splitter": by_line.SPLITTERS}

    @classmethod
    def check_available(cls):
        module = "onnxruntime" if cls.runtime == "onnx" else "paddle"
        try:
            __import__(module)
        except ImportError:
            return "needs {}".format(cls.needs)
        try:
            models.model_dir("ppocr_" + cls.runtime)
        except EngineUnavailable as exc:
            return str(exc)
        return None

    def version(self):
        if self.runtime == "onnx":
            return "onnxruntime " + _package_version("onnxruntime")
        return "paddle " + _package_version("paddle")

    def _onnx_file(self, kind):
        """The verified ONNX model of 'det' or 'rec' (registered under `kind`)."""
        name = "ch_PP-OCRv4_{}_infer.onnx".format(kind)
        return self.register_model(kind, models.locate("ppocr_onnx", name), models.expected_sha256("ppocr_onnx", name))

    def _paddle_files(self, kind):
        """The verified (pdmodel, pdiparams) pair of 'det' or 'rec' (registered as kind.ext)."""
        files = []
        for ext in ("pdmodel", "pdiparams"):
            name = "ch_PP-OCRv4_{}_infer/inference.{}".format(kind, ext)
            files.append(self.register_model("{}.{}".format(kind, ext), models.locate("ppocr_paddle", name),
                                             models.expected_sha256("ppocr_paddle", name)))
        return files

    def _runner(self, kind):
        """A runtime session for 'det' or 'rec', model files verified by sha256."""
        threads = self.options["threads"]
        if self.runtime == "onnx":
            return OnnxRunner(self._onnx_file(kind), threads)
        model, params = self._paddle_files(kind)
        return PaddleRunner(model, params, threads, use_gpu=self.device == "cuda")

    def _load_rec(self):
        self.rec = self._runner("rec")
        meta = getattr(self.rec, "meta", {}) or {}
        if "character" in meta:  # the ONNX export carries its dictionary
            self.charset = ["<blank>"] + meta["character"].splitlines() + [" "]
        else:
            base = models.model_dir("ppocr_paddle")
            keys = models.locate("ppocr_paddle", "ppocr_keys_v1.txt",
                                 (os.path.join(os.path.dirname(base), "ch_ppocr_rec"),))
            self.register_model("keys", keys, models.expected_sha256("ppocr_paddle", "ppocr_keys_v1.txt"))
            self.charset = load_charset(keys)

    def recognise(self, images):
        """Recognise single-line images in batches of `batch` -> [(text, confidence)]."""
        probs = batched_rec(self.rec, images, self.options["batch"], int(self.options["rec_height"]),
                            int(self.options["max_width"]), int(self.options["width_multiple"]))
        return ctc.greedy_texts(probs, self.charset)


class _PPOCRRec(_PPOCRBase):
    def _load(self):
        self._load_rec()

    def predict(self, crops):
        """Split each crop into lines, recognise all lines of all crops together."""
        per_crop = by_line.read_by_lines(crops, lambda crop: by_line.line_images(crop, self.options),
                                         self.recognise)
        return [by_line.lines_prediction(reads) for reads in per_crop]


class _PPOCRDetRec(_PPOCRBase):
    default_options = dict(_PPOCRBase.default_options, det_limit_side_len=960, det_limit_type="max",
                           det_thresh=0.3, det_box_thresh=0.6, det_unclip_ratio=1.5)

    def _load(self):
        self.det = self._runner("det")
        self._load_rec()
        self.det_post = _db_postprocess(self)

    def detect(self, img):
        """Text quads (4 corner points each) that PP-OCRv4's DB detector finds in a BGR image."""
        import cv2
        h, w = img.shape[:2]
        side, kind = float(self.options["det_limit_side_len"]), self.options["det_limit_type"]
        ratio = 1.0
        if kind == "max" and max(h, w) > side:
            ratio = side / max(h, w)
        elif kind == "min" and min(h, w) < side:
            ratio = side / min(h, w)
        rh, rw = max(32, int(round(h * ratio / 32)) * 32), max(32, int(round(w * ratio / 32)) * 32)
        x = cv2.resize(img, (rw, rh)).astype(np.float32)
        x = ((x / 255.0 - 0.5) / 0.5).transpose(2, 0, 1)[None]
        pred = self.det(np.ascontiguousarray(x, dtype=np.float32))
        boxes, _scores = self.det_post(pred, (h, w))
        return boxes

    def predict(self, crops):
        preds = []
        for crop in crops:
            img = crop if crop.ndim == 3 else np.stack([crop] * 3, axis=2)
            quads = self.detect(img)
            cuts = [crop_quad(img, q) for q in quads]
            reads = self.recognise(cuts) if cuts else []
            pieces = []
            for q, (text, conf) in zip(quads, reads):
                q = np.asarray(q)
                if text.strip():
                    pieces.append((q[:, 0].min(), q[:, 1].min(), q[:, 0].max(), q[:, 1].max(),
                                   text.strip(), conf))
            text, conf, lines = layout.read_pieces(pieces)
            preds.append(Prediction(text, conf, lines, {"boxes": len(quads)}))
        return preds


def _db_postprocess(engine):
    """DB post-processing (box extraction + unclip) from the installed rapidocr package: pure
    numpy/OpenCV/pyclipper code, identical in its onnxruntime and paddle flavours."""
    try:
        from rapidocr_onnxruntime.ch_ppocr_det.utils import DBPostProcess
    except ImportError:
        try:
            from rapidocr_paddle.ch_ppocr_det.utils import DBPostProcess
        except ImportError:
            raise EngineUnavailable("{}: needs rapidocr-onnxruntime or rapidocr-paddle for DB "
                                    "post-processing".format(engine.name)) from None
    return DBPostProcess(thresh=engine.options["det_thresh"], box_thresh=engine.options["det_box_thresh"],
                         max_candidates=1000, unclip_ratio=engine.options["det_unclip_ratio"],
                         use_dilation=False, score_mode="fast")


class OnnxRec(_PPOCRRec):
    name, runtime, needs = "ppocr-onnx-rec", "onnx", "pip install kit[onnx] (onnxruntime + rapidocr-onnxruntime)"


class OnnxDetRec(_PPOCRDetRec):
    name, runtime, needs = "ppocr-onnx", "onnx", OnnxRec.needs


class PaddleRec(_PPOCRRec):
    name, runtime = "paddleocr-rec", "paddle"
    needs = "the Paddle venv (Python 3.7 on a Nano): pip install kit[paddle]"


class PaddleDetRec(_PPOCRDetRec):
    name, runtime, needs = "paddleocr", "paddle", PaddleRec.needs
