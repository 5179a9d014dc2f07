"""Surfaces and composition: the background a code is printed on (colour, texture, artwork) and
how the ink mask meets it (printed ink, embossed relief, laser marks)."""
import cv2
import numpy as np

from .styles import CAP

LIGHT_BG = ((246, 246, 244), (238, 232, 212), (226, 226, 226))
COLOUR_BG = ((240, 212, 40), (236, 192, 200), (200, 216, 236), (204, 230, 204), (204, 172, 132),
             (190, 40, 40), (30, 90, 170), (40, 110, 70), (150, 150, 160), (225, 170, 60))
DARK_BG = ((30, 30, 34), (24, 60, 140), (25, 80, 50), (70, 45, 30), (150, 30, 30))
DARK_INK = ((20, 20, 22), (30, 40, 90), (70, 70, 72), (100, 20, 30), (60, 35, 80))
LIGHT_INK = ((245, 245, 245), (240, 225, 120), (215, 215, 215))


def _jitter(colour, nrng, amount=14):
    return np.clip(np.array(colour, np.float32) + nrng.uniform(-amount, amount, 3), 0, 255)


def _texture(h, w, nrng):
    """A grey-level texture in about -1..1: ribs, brushed metal, paper grain or blotches."""
    kind = nrng.randint(4)
    if kind == 0:
        period = nrng.uniform(4, 14)
        angle = nrng.uniform(0, np.pi)
        yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
        return np.sin((xx * np.cos(angle) + yy * np.sin(angle)) * 2 * np.pi / period)
    noise = nrng.randn(h, w).astype(np.float32)
    if kind == 1:
        k = int(nrng.randint(15, 45))
        out = cv2.blur(noise, (k, 1))
    elif kind == 2:
        out = cv2.GaussianBlur(noise, (0, 0), 1.0)
    else:
        out = cv2.GaussianBlur(noise, (0, 0), nrng.uniform(6, 16))
    return out / (out.std() + 1e-6)


def _artwork(h, w, nrng):
    """Package artwork behind the code: a few soft-edged coloured shapes."""
    art = np.zeros((h, w, 3), np.float32)
    weight = np.zeros((h, w), np.float32)
    for _ in range(nrng.randint(1, 4)):
        shape = np.zeros((h, w), np.float32)
        centre = (int(nrng.rand() * w), int(nrng.rand() * h))
        axes = (int(nrng.uniform(0.2, 1.0) * w), int(nrng.uniform(0.2, 1.0) * h))
        cv2.ellipse(shape, centre, axes, nrng.uniform(0, 180), 0, 360, 1.0, -1)
        shape = cv2.GaussianBlur(shape, (0, 0), 2.0)
        art += shape[..., None] * nrng.uniform(40, 230, 3).astype(np.float32)
        weight += shape
    return art, np.clip(weight, 0, 1)


def _background(h, w, colour, nrng, textured, artwork=True):
    bg = np.empty((h, w, 3), np.float32)
    bg[:] = colour
    if textured:
        if artwork and nrng.rand() < 0.3:
            art, a = _artwork(h, w, nrng)
            mix = nrng.uniform(0.3, 0.7) * a[..., None]
            bg = bg * (1 - mix) + art * mix
        bg += _texture(h, w, nrng)[..., None] * nrng.uniform(6, 22)
    return bg


def _luma(rgb):
    return 0.299 * rgb[0] + 0.587 * rgb[1] + 0.114 * rgb[2]


def _compose_print(mask, nrng, plan):
    """Ink on a substrate: dark on light, or light print on dark packaging (1 in 6 coloured)."""
    h, w = mask.shape
    if "colour_bg" not in plan["degradations"]:
        bg_col = LIGHT_BG[nrng.randint(len(LIGHT_BG))]
    elif nrng.rand() < 0.17:
        bg_col = DARK_BG[nrng.randint(len(DARK_BG))]
    else:
        bg_col = COLOUR_BG[nrng.randint(len(COLOUR_BG))]
    inks = LIGHT_INK if _luma(bg_col) < 110 else DARK_INK  # printers choose a readable ink
    ink = inks[nrng.randint(len(inks))]
    bg = _background(h, w, _jitter(bg_col, nrng), nrng, "texture" in plan["degradations"])
    opacity = nrng.uniform(0.8, 1.0)
    a = (mask * opacity)[..., None]
    return bg * (1 - a) + _jitter(ink, nrng)[None, None, :] * a


def _compose_relief(mask, nrng, plan):
    """Embossed/debossed: only shading at the stroke edges, light on light."""
    h, w = mask.shape
    grey = nrng.uniform(150, 225)
    bg = _background(h, w, (grey, grey, grey), nrng, True, artwork=False)
    m = cv2.GaussianBlur(mask, (0, 0), CAP * 0.03)
    d = max(1, int(CAP * nrng.uniform(0.02, 0.06)))
    relief = np.roll(np.roll(m, -d, 0), -d, 1) - np.roll(np.roll(m, d, 0), d, 1)
    sign = 1 if nrng.rand() < 0.5 else -1  # embossed or debossed
    face = nrng.uniform(-20, 20) * m
    return bg + (sign * nrng.uniform(70, 120) * relief + face)[..., None]


def _compose_laser(mask, nrng, plan):
    """Laser marks on caps and metal: light strokes a little brighter than a grey surface."""
    h, w = mask.shape
    grey = nrng.uniform(95, 185)
    bg = _background(h, w, (grey, grey, grey), nrng, True, artwork=False)
    lift = nrng.uniform(50, 95)
    m = cv2.GaussianBlur(mask, (0, 0), CAP * 0.02)
    return bg + (lift * m)[..., None]


COMPOSERS = {"print": _compose_print, "relief": _compose_relief, "laser": _compose_laser}
