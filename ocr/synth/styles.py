"""Print styles. Each style makes a per-sample line renderer: text -> float ink mask (0..1) at the
design scale where the cap height is CAP px; the mask is composed onto a surface later
(ocr/synth/surfaces.py). A style may also bring its look: degradations it always or never has,
its final size and its margins (`Look`)."""
import collections

import cv2
import numpy as np
from PIL import Image, ImageDraw

from .glyphs import CIJ_FONTS, OBLIQUE_FONTS, SOLID_FONTS, THERMAL_FONTS, advance, dot_glyph, font_dots, load_font

CAP = 40


def _solid_line_fn(nrng, fonts, x_scale=1.0):
    font = load_font(fonts[nrng.randint(len(fonts))], int(CAP / 0.73))
    tracking = CAP * nrng.choice([0.0, 0.0, 0.0, 0.05, 0.12, 0.3])

    def line(text):
        # character by character: tracking (letter spacing) varies between printers
        ascent, descent = font.getmetrics()
        pad = CAP // 4
        advances = [advance(font, ch) for ch in text]
        width = int(sum(advances) + tracking * max(0, len(text) - 1)) + 2 * pad
        img = Image.new("L", (width, ascent + descent + 2 * pad), 0)
        draw = ImageDraw.Draw(img)
        x = float(pad)
        for ch, adv in zip(text, advances):
            draw.text((int(round(x)), pad), ch, fill=255, font=font)
            x += adv + tracking
        mask = np.asarray(img, np.float32) / 255.0
        if x_scale != 1.0:
            mask = cv2.resize(mask, (max(1, int(mask.shape[1] * x_scale)), mask.shape[0]),
                              interpolation=cv2.INTER_AREA)
        return _ink_spread(mask, nrng.uniform(-0.06, 0.08))
    return line


def _ink_spread(mask, amount):
    """Bolder (amount > 0) or thinner print: ink spread varies with printer and substrate."""
    k = int(round(abs(amount) * CAP))
    if k < 1:
        return mask
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k))
    return cv2.dilate(mask, kernel) if amount > 0 else cv2.erode(mask, kernel)


def _style_solid(nrng):
    return _solid_line_fn(nrng, SOLID_FONTS)


def _style_condensed(nrng):
    return _solid_line_fn(nrng, SOLID_FONTS, x_scale=nrng.uniform(0.5, 0.75))


def _style_italic(nrng):
    fonts = OBLIQUE_FONTS if nrng.rand() < 0.5 else SOLID_FONTS
    line = _solid_line_fn(nrng, fonts)
    shear = nrng.uniform(0.12, 0.32)
    return lambda text: _shear(line(text), shear)


def _shear(mask, k):
    h, w = mask.shape
    m = np.float32([[1, -k, k * h], [0, 1, 0]])
    return cv2.warpAffine(mask, m, (w + int(k * h) + 1, h), flags=cv2.INTER_LINEAR)


def _style_dotmatrix(nrng):
    """Continuous-inkjet print: round drops on a 5x7 or 7x9 grid, with spread and dropouts."""
    grid = "7x9" if nrng.rand() < 0.3 else "5x7"
    rows = 9 if grid == "7x9" else 7
    pitch_y = CAP / (rows - 0.6)
    pitch_x = pitch_y * nrng.uniform(0.85, 1.25)
    radius = pitch_y * nrng.uniform(0.4, 0.62)
    jitter = pitch_y * nrng.uniform(0.02, 0.07)
    dropout = nrng.choice([0.0, 0.0, 0.03, 0.08])
    gap_cols = nrng.choice([1, 1, 1, 1.5, 2])

    def line(text):
        glyphs = [dot_glyph(ch, grid) for ch in text]
        cols = sum(g.shape[1] for g in glyphs) + gap_cols * max(0, len(glyphs) - 1)
        pad = int(CAP * 0.3)
        h, w = int(rows * pitch_y) + 2 * pad, int(cols * pitch_x) + 2 * pad
        mask = np.zeros((h, w), np.uint8)  # OpenCV anti-aliases 8-bit images only
        x0 = 0.0
        for g in glyphs:
            ys, xs = np.nonzero(g)
            keep = nrng.rand(len(ys)) >= dropout
            cx = pad + (x0 + xs + 0.5) * pitch_x + nrng.normal(0, jitter, len(xs))
            cy = pad + (ys + 0.5) * pitch_y + nrng.normal(0, jitter, len(ys))
            rr = radius * nrng.uniform(0.9, 1.1, len(ys))
            _drops(mask, cx, cy, rr, keep)
            x0 += g.shape[1] + gap_cols
        return mask.astype(np.float32) / 255.0
    return line


def _drops(mask, cx, cy, rr, keep):
    """Round ink drops at (cx, cy) of radius rr where keep, on a uint8 mask (OpenCV anti-aliases
    8-bit images only; 4 fractional bits: sub-pixel drop positions)."""
    for x, y, r, k in zip(cx, cy, rr, keep):
        if k:
            cv2.circle(mask, (int(x * 16), int(y * 16)), int(r * 16), 255, -1, cv2.LINE_AA, 4)


def _style_cij_dense(nrng):
    """High-resolution continuous-inkjet print: a sans font sampled on a fine drop raster (11-17
    drops per cap height, strokes mostly one drop wide), drops that touch or merge, a few missing,
    characters riding a little up or down and spaced wide. Its look (Look below): deskewed,
    thresholded to black on white, large margins, as sets that ship binarised crops show it."""
    rows = nrng.randint(11, 18)
    font = CIJ_FONTS[nrng.randint(len(CIJ_FONTS))]
    threshold = nrng.randint(90, 170)  # where a drop is fired: thinner or bolder strokes
    thin = nrng.rand() < 0.7
    pitch_y = float(CAP) / rows
    pitch_x = pitch_y * nrng.uniform(0.9, 1.2)
    radius = pitch_y * nrng.uniform(0.45, 0.75 if thin else 0.62)  # > 0.5: neighbouring drops merge
    jitter = pitch_y * nrng.uniform(0.03, 0.1)
    dropout = nrng.choice([0.0, 0.02, 0.05, 0.1])
    gap_cols = nrng.uniform(1.0, 4.0)
    bob = CAP * nrng.uniform(0.0, 0.06)  # each character's own height on the line

    def line(text):
        glyphs = [font_dots(font, rows, ch, threshold, thin) for ch in text]
        h_dots = glyphs[0].shape[0]
        cols = sum(g.shape[1] for g in glyphs) + gap_cols * max(0, len(glyphs) - 1)
        pad = int(CAP * 0.3)
        h, w = int(h_dots * pitch_y) + 2 * pad, int(cols * pitch_x) + 2 * pad
        mask = np.zeros((h, w), np.uint8)
        x0 = 0.0
        for g in glyphs:
            ys, xs = np.nonzero(g)
            dy = nrng.normal(0, bob)
            keep = (nrng.rand(len(ys)) >= dropout) | (len(ys) <= 6)  # a `.` or `:` loses none
            cx = pad + (x0 + xs + 0.5) * pitch_x + nrng.normal(0, jitter, len(xs))
            cy = pad + dy + (ys + 0.5) * pitch_y + nrng.normal(0, jitter, len(ys))
            _drops(mask, cx, cy, radius * nrng.uniform(0.85, 1.15, len(ys)), keep)
            x0 += g.shape[1] + gap_cols
        return mask.astype(np.float32) / 255.0
    return line


def _style_thermal(nrng):
    """Thermal transfer/direct thermal: a coarse pixel font with faded heater columns."""
    low = nrng.randint(9, 15)  # cap height in printhead dots
    font = load_font(THERMAL_FONTS[nrng.randint(len(THERMAL_FONTS))], int(low / 0.73))
    fade = nrng.uniform(0.0, 0.5)

    def line(text):
        ascent, descent = font.getmetrics()
        w = int(sum(advance(font, ch) for ch in text)) + 4
        img = Image.new("L", (w, ascent + descent + 4), 0)
        ImageDraw.Draw(img).text((2, 2), text, fill=255, font=font)
        dots = (np.asarray(img) > 110).astype(np.float32)
        scale = float(CAP) / low
        mask = cv2.resize(dots, (int(w * scale), int(dots.shape[0] * scale)),
                          interpolation=cv2.INTER_NEAREST)
        # weak heater elements leave streaks along the paper feed (vertical here)
        columns = 1.0 - fade * (nrng.rand(mask.shape[1]) < 0.06)
        density = 1.0 - fade * 0.5 * np.linspace(nrng.rand(), nrng.rand(), mask.shape[1])
        return mask * (columns * density)[None, :].astype(np.float32)
    return line


def _style_relief(nrng):
    """Embossed or laser-marked: the shape of a solid or dot font; the look comes in composing."""
    return _style_dotmatrix(nrng) if nrng.rand() < 0.3 else _solid_line_fn(nrng, SOLID_FONTS)


# always / never: degradations a sample of the style always / never has (ocr/synth/degradations.py);
# line_px: (low, high) final height of a printed line in px, None = the usual draw; margin: the
# crop's margins around the ink, times the usual.
Look = collections.namedtuple("Look", "always never line_px margin")
PLAIN = Look((), (), None, 1.0)
# Sets that ship only binarised, deskewed crops of large prints: nothing skews, colours or lights
# them unevenly (the binarisation would undo it), and the crop keeps wide margins.
BINARISED = Look(always=("binarized",),
                 never=("colour_bg", "texture", "rotation", "perspective", "edge_cut", "occlusion",
                        "uneven_light", "glare", "low_contrast", "motion_blur", "noise"),
                 line_px=(36.0, 90.0), margin=2.5)
NARROW = Look((), ("squeeze",), None, 1.0)  # already condensed: squeezed again it is unreadable

Style = collections.namedtuple("Style", "weight line_fn compose look")
Style.__new__.__defaults__ = (PLAIN,)
# compose: "print" (ink on a background), "relief" (embossed: shading only), "laser" (light marks).
# A style of weight 0 is drawn by name only (the presets, ocr/synth/presets.py): the default draw,
# and so the default set, stays what it was.
STYLES = collections.OrderedDict([
    ("solid", Style(0.24, _style_solid, "print")),
    ("dotmatrix", Style(0.30, _style_dotmatrix, "print")),
    ("thermal", Style(0.08, _style_thermal, "print")),
    ("condensed", Style(0.12, _style_condensed, "print", NARROW)),
    ("italic", Style(0.10, _style_italic, "print")),
    ("embossed", Style(0.08, _style_relief, "relief")),
    ("laser", Style(0.08, _style_relief, "laser")),
    ("cij_binarised", Style(0, _style_cij_dense, "print", BINARISED)),
])


def stack_lines(masks, nrng):
    """Lines under one another, left-aligned or centred; the gap between the inked rows of two
    lines is 0.2-0.6 cap heights, as coders print (font line spacing would be far looser)."""
    if len(masks) == 1:
        return masks[0]
    width = max(m.shape[1] for m in masks) + int(0.2 * CAP)
    centred = nrng.rand() < 0.4
    gap = np.zeros((int(CAP * nrng.uniform(0.2, 0.6)), width), np.float32)
    rows = []
    for i, m in enumerate(masks):
        inked = np.nonzero(m.max(axis=1) > 0.1)[0]
        m = m[inked[0]:inked[-1] + 1] if len(inked) else m
        left = (width - m.shape[1]) // 2 if centred else int(nrng.uniform(0, 0.2) * CAP)
        row = np.zeros((m.shape[0], width), np.float32)
        row[:, left:left + m.shape[1]] = m
        rows.extend([gap, row] if i else [row])
    return np.vstack(rows)
