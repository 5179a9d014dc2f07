"""Degradations. A sample's plan decides which apply (recorded in its tags, in the order below);
they run at the design scale (geometry, occlusion, light) or at the final crop size (blur, noise,
JPEG...)."""
import collections
import random

import cv2
import numpy as np

from .grammar import random_code
from .styles import CAP

DEGRADATIONS = collections.OrderedDict([
    ("colour_bg", 0.3), ("texture", 0.25), ("rotation", 0.3), ("perspective", 0.2),
    ("edge_cut", 0.12), ("occlusion", 0.08), ("uneven_light", 0.3), ("glare", 0.07),
    ("low_contrast", 0.12), ("low_res", 0.1), ("blur", 0.3), ("motion_blur", 0.06),
    ("noise", 0.3), ("jpeg", 0.3), ("binarized", 0.06),
])
# Drawn only when a preset asks (ocr/synth/presets.py), never by the table above: a new entry there
# would take a draw from every sample and move the default set. ORDER: how a plan lists them.
ON_REQUEST = ("squeeze",)
ORDER = ON_REQUEST + tuple(DEGRADATIONS)
# Image-quality losses that stack badly: a sample keeps at most MAX_HARD of them (first in order).
HARD = ("occlusion", "glare", "low_contrast", "low_res", "blur", "motion_blur", "noise", "jpeg")
MAX_HARD = 2
# Relief and laser marks are low-contrast by nature and bring their own surface.
NOT_FOR_RELIEF = ("colour_bg", "binarized", "low_contrast", "low_res")


def squeeze(mask, nrng):
    """A line printed narrow (a coder's condensed setting, a squeezed label): glyphs get fewer
    columns, and a reader fewer frames per character."""
    f = nrng.uniform(0.45, 0.7)
    return cv2.resize(mask, (max(1, int(mask.shape[1] * f)), mask.shape[0]), interpolation=cv2.INTER_AREA)


def warp(mask, nrng, plan):
    """Rotation and perspective on the ink mask (before composing, so no borders show)."""
    h, w = mask.shape
    pad = int(0.5 * CAP)
    mask = cv2.copyMakeBorder(mask, pad, pad, pad, pad, cv2.BORDER_CONSTANT, value=0)
    src = np.float32([[pad, pad], [pad + w, pad], [pad + w, pad + h], [pad, pad + h]])
    dst = src.copy()
    if "perspective" in plan["degradations"]:
        dst += nrng.uniform(-0.08, 0.08, (4, 2)).astype(np.float32) * np.float32([w * 0.4, h])
    if "rotation" in plan["degradations"]:
        angle = np.deg2rad(nrng.uniform(1.0, 5.0) * (1 if nrng.rand() < 0.5 else -1))
        centre = dst.mean(axis=0)
        rot = np.float32([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
        dst = (dst - centre).dot(rot.T) + centre
    mat = cv2.getPerspectiveTransform(src, dst.astype(np.float32))
    return cv2.warpPerspective(mask, mat, (mask.shape[1], mask.shape[0]), flags=cv2.INTER_LINEAR)


def crop_box(mask, nrng, margin=1.0):
    """Tight crop like the real sets: a little margin around the ink, sometimes none (`margin`
    times that for a style whose sets crop wide)."""
    ys, xs = np.nonzero(mask > 0.2)
    y0, y1, x0, x1 = ys.min(), ys.max() + 1, xs.min(), xs.max() + 1
    my = nrng.uniform(0.05, 0.45, 2) * CAP * margin
    mx = nrng.uniform(0.05, 0.8, 2) * CAP * margin
    return int(y0 - my[0]), int(y1 + my[1]), int(x0 - mx[0]), int(x1 + mx[1])


def add_cut_line(mask, box, line_fn, nrng):
    """Part of a neighbouring printed line shows at the top or bottom edge of the crop."""
    y0, y1, x0, x1 = box
    _, other = random_code(random.Random(int(nrng.randint(2 ** 31))))
    frag = line_fn(other[0])
    visible = int(nrng.uniform(0.15, 0.4) * CAP)
    fy = y0 + visible - frag.shape[0] + int(0.25 * CAP) if nrng.rand() < 0.5 else y1 - visible - int(0.25 * CAP)
    fx = x0 + int(nrng.uniform(-0.3, 0.3) * (x1 - x0))
    canvas = np.zeros_like(mask)
    _paste_max(canvas, frag, fy, fx)
    return np.maximum(mask, canvas)


def _paste_max(canvas, patch, y, x):
    h, w = canvas.shape
    py0, px0 = max(0, -y), max(0, -x)
    cy0, cx0 = max(0, y), max(0, x)
    ch, cw = min(h - cy0, patch.shape[0] - py0), min(w - cx0, patch.shape[1] - px0)
    if ch > 0 and cw > 0:
        region = canvas[cy0:cy0 + ch, cx0:cx0 + cw]
        np.maximum(region, patch[py0:py0 + ch, px0:px0 + cw], out=region)


def crop(mask, box):
    """Cut `box` out of `mask`, padding with zeros where the box leaves it."""
    y0, y1, x0, x1 = box
    pad = max(0, -y0, -x0, y1 - mask.shape[0], x1 - mask.shape[1])
    if pad:
        mask = cv2.copyMakeBorder(mask, pad, pad, pad, pad, cv2.BORDER_CONSTANT, value=0)
    return mask[y0 + pad:y1 + pad, x0 + pad:x1 + pad]


def occlude(img, nrng):
    """A smear, scratch or fold crossing part of the code; the label stays what was printed."""
    h, w = img.shape[:2]
    colour = img.reshape(-1, 3)[nrng.randint(h * w)] if nrng.rand() < 0.6 else nrng.uniform(0, 255, 3)
    cover = np.zeros((h, w), np.float32)
    x = int(nrng.uniform(0.1, 0.9) * w)
    if nrng.rand() < 0.5:  # scratch or fold line across
        cv2.line(cover, (x, 0), (x + int(nrng.uniform(-0.5, 0.5) * h), h), 1.0,
                 max(1, int(nrng.uniform(0.04, 0.12) * CAP)), cv2.LINE_AA)
    else:  # blob
        cv2.ellipse(cover, (x, int(nrng.rand() * h)), (int(nrng.uniform(0.1, 0.3) * CAP),
                    int(nrng.uniform(0.15, 0.5) * CAP)), nrng.uniform(0, 180), 0, 360, 1.0, -1)
        cover = cv2.GaussianBlur(cover, (0, 0), 2.0)
    a = cover[..., None] * nrng.uniform(0.6, 0.95)
    return img * (1 - a) + np.float32(colour) * a


def light(img, nrng, plan):
    h, w = img.shape[:2]
    degr = plan["degradations"]
    if "uneven_light" in degr:
        yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
        angle = nrng.uniform(0, 2 * np.pi)
        ramp = (xx / w - 0.5) * np.cos(angle) + (yy / h - 0.5) * np.sin(angle)
        img = img * (1.0 + nrng.uniform(0.3, 0.8) * ramp)[..., None]
    if "glare" in degr:
        blob = np.zeros((h, w), np.float32)
        cv2.circle(blob, (int(nrng.rand() * w), int(nrng.rand() * h)), int(nrng.uniform(0.3, 0.9) * CAP), 1.0, -1)
        blob = cv2.GaussianBlur(blob, (0, 0), CAP * 0.3)
        img = img + blob[..., None] * nrng.uniform(60, 150)
    if "low_contrast" in degr:
        mean = img.reshape(-1, 3).mean(axis=0)
        img = mean + (img - mean) * nrng.uniform(0.3, 0.55)
    return img


def _binarize(img):
    """Local-mean threshold (a global one fails under uneven light); print made black, as the
    minority class."""
    gray = cv2.cvtColor(img, cv2.COLOR_RGB2GRAY)
    block = (gray.shape[0] // 2) * 2 + 1
    bw = cv2.adaptiveThreshold(gray, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY, block, 6)
    dark_print = cv2.adaptiveThreshold(gray, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY_INV,
                                       block, -6)
    return bw if (bw == 0).mean() <= (dark_print == 0).mean() else dark_print


def camera(img, nrng, plan):
    """What the camera and the file add at the final size."""
    degr = plan["degradations"]
    h, w = img.shape[:2]
    if "low_res" in degr:
        f = nrng.uniform(0.45, 0.7)
        small = cv2.resize(img, (max(1, int(w * f)), max(1, int(h * f))), interpolation=cv2.INTER_AREA)
        img = cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)
    if "blur" in degr:
        img = cv2.GaussianBlur(img, (0, 0), nrng.uniform(0.5, 1.3))
    if "motion_blur" in degr:
        k = int(nrng.randint(3, 6))
        img = cv2.blur(img, (k, 1) if nrng.rand() < 0.7 else (1, k))
    if "noise" in degr:
        # luminance noise: what is left after the camera's demosaicing and denoising
        img = img + nrng.randn(h, w, 1).astype(np.float32) * nrng.uniform(3, 12)
    img = np.clip(img, 0, 255).astype(np.uint8)
    if "jpeg" in degr:
        ok, buf = cv2.imencode(".jpg", img[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, int(nrng.randint(12, 50))])
        img = cv2.imdecode(buf, cv2.IMREAD_COLOR)[..., ::-1]
    if "binarized" in degr:  # like sets that ship only binarised crops: black print on white
        img = np.repeat(_binarize(img)[..., None], 3, axis=2)
    return np.ascontiguousarray(img)
