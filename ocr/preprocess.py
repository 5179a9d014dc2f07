"""Named, composable preprocessing steps (OpenCV underneath: the Nano has a CUDA build).

A pipeline is a string of steps joined by '+', each optionally with ':arg', e.g.
    "gray"                 the paper's choice
    "gray+clahe"           contrast-limited adaptive histogram equalisation
    "gray+invert+otsu"     light-on-dark made dark-on-light, then Otsu binarisation
    "gray+resize:48+pad:4" height 48 keeping aspect, 4 px border
    "none"                 the crop as decoded (BGR)
Cropping to the sample's box always comes first (the crops are the unit of the benchmark).
"""
import cv2
import numpy as np

from .layout import is_light_on_dark


def _gray(img, arg=None):
    return img if img.ndim == 2 else cv2.cvtColor(img, cv2.COLOR_BGR2GRAY)


def _clahe(img, arg=None):
    clip = float(arg) if arg else 2.0
    op = cv2.createCLAHE(clipLimit=clip, tileGridSize=(8, 8))
    if img.ndim == 2:
        return op.apply(img)
    lab = cv2.cvtColor(img, cv2.COLOR_BGR2LAB)
    lab[..., 0] = op.apply(lab[..., 0])
    return cv2.cvtColor(lab, cv2.COLOR_LAB2BGR)


def _otsu(img, arg=None):
    _, out = cv2.threshold(_gray(img), 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    return out


def _adaptive(img, arg=None):
    block = int(arg) if arg else 31
    block += (block + 1) % 2  # OpenCV wants an odd block size
    return cv2.adaptiveThreshold(_gray(img), 255, cv2.ADAPTIVE_THRESH_GAUSSIAN_C,
                                 cv2.THRESH_BINARY, block, 10)


def _invert(img, arg=None):
    """Invert only light-on-dark crops ('invert:always' inverts unconditionally)."""
    if arg == "always" or is_light_on_dark(_gray(img)):
        return 255 - img
    return img


def _resize(img, arg=None):
    height = int(arg) if arg else 48
    h, w = img.shape[:2]
    width = max(1, int(round(w * height / float(h))))
    interp = cv2.INTER_AREA if height < h else cv2.INTER_CUBIC
    return cv2.resize(img, (width, height), interpolation=interp)


def _pad(img, arg=None):
    border = int(arg) if arg else 4
    value = int(np.median(np.concatenate([img[0].ravel(), img[-1].ravel()])))
    return cv2.copyMakeBorder(img, border, border, border, border, cv2.BORDER_CONSTANT,
                              value=value if img.ndim == 2 else [value] * 3)


def _bgr(img, arg=None):
    return cv2.cvtColor(img, cv2.COLOR_GRAY2BGR) if img.ndim == 2 else img


STEPS = {"gray": _gray, "clahe": _clahe, "otsu": _otsu, "adaptive": _adaptive,
         "invert": _invert, "resize": _resize, "pad": _pad, "bgr": _bgr}


def crop(img, box):
    if not box:
        return img
    x0, y0, x1, y1 = [int(round(v)) for v in box]
    return img[y0:y1, x0:x1]


class Pipeline(object):
    """A parsed pipeline; `Pipeline("gray+clahe")(img, box)` -> preprocessed crop."""

    def __init__(self, spec="gray"):
        self.spec = (spec or "none").strip()
        self.steps = []
        if self.spec != "none":
            for part in self.spec.split("+"):
                name, _, arg = part.strip().partition(":")
                if name not in STEPS:
                    raise ValueError("unknown preprocessing step '{}' in '{}'; steps: {}".format(
                        name, self.spec, ", ".join(sorted(STEPS))))
                self.steps.append((STEPS[name], arg or None))

    def __call__(self, img, box=None):
        out = crop(img, box)
        for fn, arg in self.steps:
            out = fn(out, arg)
        return np.ascontiguousarray(out)

    def __repr__(self):
        return "Pipeline({!r})".format(self.spec)
