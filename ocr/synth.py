"""Synthetic printed product-code crops: a text grammar, print styles, degradations, a writer.

The kit's embedded default dataset (`ocr/data/default/`) comes from here, and
`invoke dataset.synth --n N --seed S --out DIR` makes more.

Determinism: sample `i` of seed `s` draws everything from its own generators seeded with the
string "s/i" (sha512-seeded `random.Random`, stable across Python versions). The text, style and
degradation *choices* (everything the manifest records) come from `random.Random` before any pixel
is touched, so a manifest is the same on any machine; the pixels come from a
`numpy.random.RandomState` (a frozen stream) plus FreeType/OpenCV/zlib, so image bytes are
identical for the same library versions and only close across versions.

Public pieces: `FORMATS` / `FIELDS` / `random_code(rng)` / `format_pattern(name)` (the text
grammar, reusable by a format-aware post-processor), `STYLES` and `DEGRADATIONS` (what can be
drawn), `make_sample(seed, index, style=, fmt=, lines=)` (one crop, e.g. for training),
`generate(n, seed)` and `write_dataset(out_dir, n, seed)`.

Python 3.6 (the Nano's system Python); needs numpy, Pillow and OpenCV, and matplotlib only for
its bundled DejaVu fonts.
"""
import argparse
import collections
import datetime
import json
import os
import random
import re
import string

import numpy as np
from PIL import Image, ImageDraw, ImageFont

try:
    import cv2
except ImportError:  # pragma: no cover - the kit's core dependency; say which package gives it
    raise ImportError("ocr.synth needs OpenCV: pip install opencv-python-headless "
                      "(on a Nano the opencv_cuda role installs a CUDA build)") from None

VERSION = "1"
CHARSET = string.digits + string.ascii_uppercase + "./-:,# "

# ================================================================================================
# Text grammar. A format is one to three line templates in str.format syntax; every field is
# either a named field (below) or a class field: n<k> digits, A<k> letters, X<k> lot alphanumerics.
# `format_pattern(name)` turns a format into a regex, so a post-processor can reuse the grammar.
# ================================================================================================
MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
# Lot codes avoid I, O and Q (they read as 1/0): real coders do the same.
LOT_ALNUM = string.digits + "ABCDEFGHJKLMNPRSTUVWXYZ"
_CLASS_CHARS = {"n": string.digits, "A": string.ascii_uppercase, "X": LOT_ALNUM}
_CLASS_REGEX = {"n": "[0-9]", "A": "[A-Z]", "X": "[0-9A-HJ-NP-Z]"}
_CLASS_FIELD = re.compile(r"^([nAX])([0-9]+)$")

_MONTH_RE = "(?:" + "|".join(MONTHS) + ")"
# Named fields: regex of what they produce, and how to produce it from the sample's dates
# (`exp` = expiry/best-before, `prod` = production; plain names are expiry, p-prefixed production).
FIELDS = collections.OrderedDict([
    ("dd", (r"(?:0[1-9]|[12][0-9]|3[01])", lambda c: "%02d" % c["exp"].day)),
    ("mm", (r"(?:0[1-9]|1[0-2])", lambda c: "%02d" % c["exp"].month)),
    ("yyyy", (r"20[0-9]{2}", lambda c: "%04d" % c["exp"].year)),
    ("yy", (r"[0-9]{2}", lambda c: "%02d" % (c["exp"].year % 100))),
    ("MON", (_MONTH_RE, lambda c: MONTHS[c["exp"].month - 1])),
    ("pdd", (r"(?:0[1-9]|[12][0-9]|3[01])", lambda c: "%02d" % c["prod"].day)),
    ("pmm", (r"(?:0[1-9]|1[0-2])", lambda c: "%02d" % c["prod"].month)),
    ("pyyyy", (r"20[0-9]{2}", lambda c: "%04d" % c["prod"].year)),
    ("pyy", (r"[0-9]{2}", lambda c: "%02d" % (c["prod"].year % 100))),
    ("hh", (r"(?:[01][0-9]|2[0-3])", lambda c: "%02d" % c["hour"])),
    ("mi", (r"[0-5][0-9]", lambda c: "%02d" % c["minute"])),
])

Format = collections.namedtuple("Format", "weight lines")
FORMATS = collections.OrderedDict([
    # the paper's example, three lines: PRO/EXP, lot, time
    ("pro_exp_lot_time", Format(3, ("PRO:{pmm}/{pyyyy} EXP:{mm}/{yyyy}", "L{n10}", "H{hh}:{mi}"))),
    ("exp_dot_date", Format(3, ("EXP {yyyy}.{mm}.{dd}",))),
    ("best_before", Format(2, ("BEST BEFORE {dd}/{mm}/{yyyy}",))),
    ("best_before_2l", Format(1, ("BEST BEFORE", "{dd}/{mm}/{yyyy}"))),
    ("dd_mon_yyyy", Format(2, ("{dd} {MON} {yyyy}",))),
    ("mon_dd_yyyy", Format(2, ("{MON}-{dd}-{yyyy}",))),
    ("lot_dash", Format(2, ("LOT {A1}{n5}-{A1}{n1}",))),
    ("lot_short", Format(2, ("L{pyy}{X4}",))),
    ("pcode_mm_yy", Format(2, ("P{n6} {mm}/{yy}",))),
    ("mfg_lot_2l", Format(2, ("MFG:{pyyyy}.{pmm}.{pdd}", "LOT{pyy}{pmm}{pdd}{n3}"))),
    ("best_if_used_by", Format(1, ("BEST IF USED BY {MON} {yyyy}",))),
    ("date_ymd_dot", Format(4, ("{yyyy}.{mm}.{dd}",))),
    ("date_dmy_dot", Format(2, ("{dd}.{mm}.{yyyy}",))),
    ("date_dmy_slash_yy", Format(2, ("{dd}/{mm}/{yy}",))),
    ("date_dmy_dash", Format(1, ("{dd}-{mm}-{yyyy}",))),
    ("date_ymd_slash", Format(1, ("{yyyy}/{mm}/{dd}",))),
    ("exp_mm_yy", Format(1, ("EXP {mm}/{yy}",))),
    ("exp_mon_dd_yyyy", Format(1, ("EXP {MON} {dd}, {yyyy}",))),
    ("exp_lot_2l", Format(2, ("EXP {dd}/{mm}/{yyyy}", "LOT {n6}"))),
    ("date_lot", Format(1, ("{dd}/{mm}/{yy} L{n5}",))),
    ("mfg_exp_2l", Format(1, ("MFG {pdd}/{pmm}/{pyyyy}", "EXP {dd}/{mm}/{yyyy}"))),
    ("bb_dd_mon_yy", Format(1, ("BB {dd} {MON} {yy}",))),
    ("batch_no", Format(1, ("BATCH #{X6}",))),
    ("date_time_lot_3l", Format(1, ("{dd}.{mm}.{yyyy}", "{hh}:{mi}", "L{n4}{A1}"))),
])


def template_fields(template):
    """Field names of one line template, in order (e.g. ['yyyy', 'mm', 'dd'])."""
    return [f for _, f, _, _ in string.Formatter().parse(template) if f]


def _field_regex(name):
    m = _CLASS_FIELD.match(name)
    if m:
        return "%s{%s}" % (_CLASS_REGEX[m.group(1)], m.group(2))
    return FIELDS[name][0]


def format_pattern(name):
    """Compiled regex matching the label of format `name` (lines joined by one space)."""
    parts = []
    for template in FORMATS[name].lines:
        for literal, field, _, _ in string.Formatter().parse(template):
            parts.append(re.escape(literal))
            if field:
                parts.append(_field_regex(field))
        parts.append(" ")
    return re.compile("^" + "".join(parts[:-1]) + "$")


def _date_context(rng):
    """Production date, expiry 2 months to 3 years later, and a time of day."""
    prod = datetime.date(2019, 1, 1) + datetime.timedelta(days=int(rng.random() * 9 * 365))
    exp = prod + datetime.timedelta(days=60 + int(rng.random() * 1040))
    return {"prod": prod, "exp": exp, "hour": int(rng.random() * 24), "minute": int(rng.random() * 60)}


def _field_value(name, ctx, rng):
    m = _CLASS_FIELD.match(name)
    if m:
        chars = _CLASS_CHARS[m.group(1)]
        return "".join(chars[int(rng.random() * len(chars))] for _ in range(int(m.group(2))))
    return FIELDS[name][1](ctx)


def format_lines(name, rng):
    """The printed lines of one random code of format `name`."""
    ctx = _date_context(rng)
    out = []
    for template in FORMATS[name].lines:
        values = {f: _field_value(f, ctx, rng) for f in template_fields(template)}
        out.append(template.format(**values))
    return out


def _weighted(rng, table):
    """A key of `table` (name -> weight, or -> object with .weight), one rng.random() draw."""
    keys = list(table)
    weights = [getattr(table[k], "weight", table[k]) for k in keys]
    x = rng.random() * sum(weights)
    for key, w in zip(keys, weights):
        x -= w
        if x < 0:
            return key
    return keys[-1]


def random_code(rng, fmt=None):
    """(format name, printed lines) of one random product code; `rng` is a random.Random."""
    name = fmt or _weighted(rng, FORMATS)
    return name, format_lines(name, rng)


# ================================================================================================
# Fonts. Solid styles use the DejaVu/STIX fonts matplotlib ships; dot-matrix uses the table below.
# ================================================================================================
SOLID_FONTS = ("DejaVuSans.ttf", "DejaVuSans-Bold.ttf", "DejaVuSansMono.ttf", "DejaVuSansMono-Bold.ttf",
               "DejaVuSerif.ttf", "DejaVuSerif-Bold.ttf", "STIXGeneral.ttf",
               "STIXGeneralBol.ttf")
OBLIQUE_FONTS = ("DejaVuSans-Oblique.ttf", "DejaVuSans-BoldOblique.ttf", "DejaVuSansMono-Oblique.ttf",
                 "DejaVuSerif-Italic.ttf", "STIXGeneralItalic.ttf")
THERMAL_FONTS = ("DejaVuSansMono.ttf", "DejaVuSansMono-Bold.ttf", "DejaVuSans-Bold.ttf")
_FONT_CACHE = {}


def font_dir():
    """matplotlib's bundled TrueType folder (the only use of matplotlib here)."""
    try:
        import matplotlib
    except ImportError:
        raise RuntimeError("ocr.synth renders solid fonts with the DejaVu fonts that ship in "
                           "matplotlib: pip install matplotlib") from None
    return os.path.join(matplotlib.get_data_path(), "fonts", "ttf")


def _font(name, px):
    key = (name, px)
    if key not in _FONT_CACHE:
        _FONT_CACHE[key] = ImageFont.truetype(os.path.join(font_dir(), name), px)
    return _FONT_CACHE[key]


def _advance(font, ch):
    if hasattr(font, "getlength"):  # Pillow >= 8
        return font.getlength(ch)
    return font.getsize(ch)[0]


# 5x7 dot-matrix glyphs (rows top to bottom, '#' = dot), the usual inkjet/LCD shapes.
DOT5X7 = {
    "0": ".###. #...# #...# #...# #...# #...# .###.", "1": "..#.. .##.. ..#.. ..#.. ..#.. ..#.. .###.",
    "2": ".###. #...# ....# ...#. ..#.. .#... #####", "3": "##### ...#. ..#.. ...#. ....# #...# .###.",
    "4": "...#. ..##. .#.#. #..#. ##### ...#. ...#.", "5": "##### #.... ####. ....# ....# #...# .###.",
    "6": "..##. .#... #.... ####. #...# #...# .###.", "7": "##### ....# ...#. ..#.. .#... .#... .#...",
    "8": ".###. #...# #...# .###. #...# #...# .###.", "9": ".###. #...# #...# .#### ....# ...#. .##..",
    "A": ".###. #...# #...# #...# ##### #...# #...#", "B": "####. #...# #...# ####. #...# #...# ####.",
    "C": ".###. #...# #.... #.... #.... #...# .###.", "D": "###.. #..#. #...# #...# #...# #..#. ###..",
    "E": "##### #.... #.... ####. #.... #.... #####", "F": "##### #.... #.... ####. #.... #.... #....",
    "G": ".###. #...# #.... #.### #...# #...# .####", "H": "#...# #...# #...# ##### #...# #...# #...#",
    "I": ".###. ..#.. ..#.. ..#.. ..#.. ..#.. .###.", "J": "..### ...#. ...#. ...#. ...#. #..#. .##..",
    "K": "#...# #..#. #.#.. ##... #.#.. #..#. #...#", "L": "#.... #.... #.... #.... #.... #.... #####",
    "M": "#...# ##.## #.#.# #.#.# #...# #...# #...#", "N": "#...# #...# ##..# #.#.# #..## #...# #...#",
    "O": ".###. #...# #...# #...# #...# #...# .###.", "P": "####. #...# #...# ####. #.... #.... #....",
    "Q": ".###. #...# #...# #...# #.#.# #..#. .##.#", "R": "####. #...# #...# ####. #.#.. #..#. #...#",
    "S": ".#### #.... #.... .###. ....# ....# ####.", "T": "##### ..#.. ..#.. ..#.. ..#.. ..#.. ..#..",
    "U": "#...# #...# #...# #...# #...# #...# .###.", "V": "#...# #...# #...# #...# #...# .#.#. ..#..",
    "W": "#...# #...# #...# #.#.# #.#.# #.#.# .#.#.", "X": "#...# #...# .#.#. ..#.. .#.#. #...# #...#",
    "Y": "#...# #...# #...# .#.#. ..#.. ..#.. ..#..", "Z": "##### ....# ...#. ..#.. .#... #.... #####",
    ".": "..... ..... ..... ..... ..... .##.. .##..", "/": "....# ...#. ...#. ..#.. .#... .#... #....",
    "-": "..... ..... ..... .###. ..... ..... .....", ":": "..... ..... ..#.. ..... ..... ..#.. .....",
    ",": "..... ..... ..... ..... .##.. ..#.. .#...", "#": ".#.#. .#.#. ##### .#.#. ##### .#.#. .#.#.",
    " ": "..... ..... ..... ..... ..... ..... .....",
}
_NARROW = ".:,"  # punctuation cells shrink to their dots, as on real coders


def dot_glyph(ch, grid="5x7"):
    """Boolean dot grid (rows x cols) of `ch`; "7x9" is resampled from the 5x7 shapes."""
    if ch not in DOT5X7:
        raise ValueError("no dot-matrix glyph for %r (charset: %r)" % (ch, CHARSET))
    g = np.array([[c == "#" for c in row] for row in DOT5X7[ch].split()], bool)
    if grid == "7x9":
        g = _redraw_7x9(g)
    if ch in _NARROW:
        g = g[:, g.any(axis=0)]
    return g


def _redraw_7x9(g):
    """Redraw a 5x7 glyph's strokes on a 7x9 grid: single-dot strokes, as real 7x9 fonts have."""
    out = np.zeros((9, 7), np.uint8)

    def at(r, c):  # symmetric spreading of 5 columns over 7 and 7 rows over 9
        return (0, 2, 3, 4, 6)[c], (0, 1, 3, 4, 5, 7, 8)[r]
    for r, c in zip(*np.nonzero(g)):
        out[at(r, c)[1], at(r, c)[0]] = 1
        for dr, dc in ((0, 1), (1, 0), (1, 1), (1, -1)):
            r2, c2 = r + dr, c + dc
            if not (r2 < 7 and 0 <= c2 < 5 and g[r2, c2]):
                continue
            if dr and dc and (g[r2, c] or g[r, c2]):  # a diagonal where a corner already joins
                continue
            cv2.line(out, at(r, c), at(r2, c2), 1, 1, 8)
            cv2.line(out, at(r2, c2), at(r, c), 1, 1, 8)  # both ways: Bresenham is not symmetric
    return out.astype(bool)


# ================================================================================================
# Print styles. Each style makes a per-sample line renderer: text -> float ink mask (0..1) at the
# design scale where the cap height is CAP px; the mask is composed onto a background later.
# ================================================================================================
CAP = 40


def _solid_line_fn(nrng, fonts, x_scale=1.0):
    font = _font(fonts[nrng.randint(len(fonts))], int(CAP / 0.73))
    tracking = CAP * nrng.choice([0.0, 0.0, 0.0, 0.05, 0.12, 0.3])

    def line(text):
        # character by character: tracking (letter spacing) varies between printers
        ascent, descent = font.getmetrics()
        pad = CAP // 4
        advances = [_advance(font, ch) for ch in text]
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
            for x, y, r, k in zip(cx, cy, rr, keep):
                if k:  # 4 fractional bits: sub-pixel drop positions
                    cv2.circle(mask, (int(x * 16), int(y * 16)), int(r * 16), 255, -1, cv2.LINE_AA, 4)
            x0 += g.shape[1] + gap_cols
        return mask.astype(np.float32) / 255.0
    return line


def _style_thermal(nrng):
    """Thermal transfer/direct thermal: a coarse pixel font with faded heater columns."""
    low = nrng.randint(9, 15)  # cap height in printhead dots
    font = _font(THERMAL_FONTS[nrng.randint(len(THERMAL_FONTS))], int(low / 0.73))
    fade = nrng.uniform(0.0, 0.5)

    def line(text):
        ascent, descent = font.getmetrics()
        w = int(sum(_advance(font, ch) for ch in text)) + 4
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


Style = collections.namedtuple("Style", "weight line_fn compose")
# compose: "print" (ink on a background), "relief" (embossed: shading only), "laser" (light marks)
STYLES = collections.OrderedDict([
    ("solid", Style(0.24, _style_solid, "print")),
    ("dotmatrix", Style(0.30, _style_dotmatrix, "print")),
    ("thermal", Style(0.08, _style_thermal, "print")),
    ("condensed", Style(0.12, _style_condensed, "print")),
    ("italic", Style(0.10, _style_italic, "print")),
    ("embossed", Style(0.08, _style_relief, "relief")),
    ("laser", Style(0.08, _style_relief, "laser")),
])


def _stack_lines(masks, nrng):
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


# ================================================================================================
# Backgrounds and composition
# ================================================================================================
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


# ================================================================================================
# Degradations. The plan decides which apply (recorded in tags, order below); they run at the
# design scale (geometry, occlusion, light) or at the final crop size (blur, noise, JPEG...).
# ================================================================================================
DEGRADATIONS = collections.OrderedDict([
    ("colour_bg", 0.3), ("texture", 0.25), ("rotation", 0.3), ("perspective", 0.2),
    ("edge_cut", 0.12), ("occlusion", 0.08), ("uneven_light", 0.3), ("glare", 0.07),
    ("low_contrast", 0.12), ("low_res", 0.1), ("blur", 0.3), ("motion_blur", 0.06),
    ("noise", 0.3), ("jpeg", 0.3), ("binarized", 0.06),
])
# Image-quality losses that stack badly: a sample keeps at most MAX_HARD of them (first in order).
HARD = ("occlusion", "glare", "low_contrast", "low_res", "blur", "motion_blur", "noise", "jpeg")
MAX_HARD = 2
# Relief and laser marks are low-contrast by nature and bring their own surface.
NOT_FOR_RELIEF = ("colour_bg", "binarized", "low_contrast", "low_res")


def _warp(mask, nrng, plan):
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


def _crop_box(mask, nrng):
    """Tight crop like the real sets: a little margin around the ink, sometimes none."""
    ys, xs = np.nonzero(mask > 0.2)
    y0, y1, x0, x1 = ys.min(), ys.max() + 1, xs.min(), xs.max() + 1
    my = nrng.uniform(0.05, 0.45, 2) * CAP
    mx = nrng.uniform(0.05, 0.8, 2) * CAP
    return int(y0 - my[0]), int(y1 + my[1]), int(x0 - mx[0]), int(x1 + mx[1])


def _add_cut_line(mask, box, line_fn, nrng):
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


def _crop(mask, box):
    """Cut `box` out of `mask`, padding with zeros where the box leaves it."""
    y0, y1, x0, x1 = box
    pad = max(0, -y0, -x0, y1 - mask.shape[0], x1 - mask.shape[1])
    if pad:
        mask = cv2.copyMakeBorder(mask, pad, pad, pad, pad, cv2.BORDER_CONSTANT, value=0)
    return mask[y0 + pad:y1 + pad, x0 + pad:x1 + pad]


def _occlude(img, nrng):
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


def _light(img, nrng, plan):
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


def _camera(img, nrng, plan):
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


# ================================================================================================
# Samples
# ================================================================================================
def sample_plan(seed, index, style=None, fmt=None, lines=None):
    """Everything a manifest records about sample `index` of `seed`, drawn before rendering."""
    rng = random.Random("%d/%d" % (seed, index))
    name, printed = random_code(rng, fmt)
    if lines is not None:
        name, printed = "custom", list(lines)
        if not printed or not all(line.strip() for line in printed):
            raise ValueError("every line needs something to print: %r" % (printed,))
    style = style or _weighted(rng, STYLES)
    if style not in STYLES:
        raise ValueError("unknown style %r (styles: %s)" % (style, ", ".join(STYLES)))
    degr = [d for d, p in DEGRADATIONS.items() if rng.random() < p]
    if STYLES[style].compose != "print":
        degr = [d for d in degr if d not in NOT_FOR_RELIEF]
    hard = [d for d in degr if d in HARD][MAX_HARD:]
    degr = [d for d in degr if d not in hard]
    return {"lines": printed, "text": " ".join(printed), "format": name, "style": style,
            "degradations": degr, "pixel_seed": rng.getrandbits(32)}


def render(plan):
    """RGB uint8 crop (numpy HxWx3) of a plan from `sample_plan`."""
    nrng = np.random.RandomState(plan["pixel_seed"])
    style = STYLES[plan["style"]]
    line_fn = style.line_fn(nrng)
    mask = _stack_lines([line_fn(t) for t in plan["lines"]], nrng)
    mask = _warp(mask, nrng, plan)
    box = _crop_box(mask, nrng)
    if "edge_cut" in plan["degradations"]:
        mask = _add_cut_line(mask, box, line_fn, nrng)
    mask = _crop(mask, box)
    img = COMPOSERS[style.compose](mask, nrng, plan)
    if "occlusion" in plan["degradations"]:
        img = _occlude(img, nrng)
    img = _light(img, nrng, plan)
    # final size: 20-60 px per printed line (real crops: median ~36 px high for one line)
    line_px = float(np.clip(nrng.lognormal(np.log(28), 0.25), 20, 60))
    scale = line_px / (CAP * 1.45)
    size = (max(8, int(img.shape[1] * scale)), max(8, int(img.shape[0] * scale)))
    img = cv2.resize(np.clip(img, 0, 255), size, interpolation=cv2.INTER_AREA)
    return _camera(img, nrng, plan)


def make_sample(seed=0, index=1, style=None, fmt=None, lines=None):
    """(text, RGB uint8 image, plan) of one sample; pick the style, the format or the lines."""
    plan = sample_plan(seed, index, style=style, fmt=fmt, lines=lines)
    return plan["text"], render(plan), plan


def _tags(plan, seed, index, split):
    return collections.OrderedDict([
        ("id", "%s-%06d" % (split, index)), ("source", "ocr.synth seed=%d" % seed),
        ("style", plan["style"]), ("lines", len(plan["lines"])),
        ("degradations", plan["degradations"]), ("format", plan["format"]), ("split", split),
        ("generator", "ocr.synth v" + VERSION),
    ])


def generate(n, seed=0, split="synth"):
    """Yield (text, RGB uint8 numpy image, tags) for samples 1..n of `seed`."""
    for index in range(1, n + 1):
        text, img, plan = make_sample(seed, index)
        yield text, img, _tags(plan, seed, index, split)


def save_png(img, path):
    """PNG without timestamps or other varying chunks: same pixels, same bytes. Grey crops are
    stored as one channel (a third of the size); readers get the same pixels back."""
    if img.ndim == 3 and (img == img[..., :1]).all():
        img = img[..., 0]
    Image.fromarray(img).save(path, format="PNG", compress_level=9)


def library_versions():
    """The libraries that shape the pixels: image bytes repeat exactly only when these match."""
    versions = collections.OrderedDict([("numpy", np.__version__), ("pillow", Image.__version__),
                                        ("opencv", cv2.__version__)])
    try:
        from PIL import features
        versions["freetype"] = features.version("freetype2")
    except (ImportError, AttributeError):  # Pillow < 8 has no features.version
        versions["freetype"] = None
    return versions


def _write_json(path, obj):
    with open(path, "w", newline="\n") as f:
        f.write(json.dumps(obj, indent=1) + "\n")


def write_dataset(out_dir, n=300, seed=0, split="synth"):
    """Write `n` crops of `seed` as the kit's dataset format: manifest.jsonl + images/, plus
    generator.json (how it was made, and with which library versions)."""
    os.makedirs(os.path.join(out_dir, "images"), exist_ok=True)
    with open(os.path.join(out_dir, "manifest.jsonl"), "w", newline="\n") as manifest:
        for i, (text, img, tags) in enumerate(generate(n, seed, split), 1):
            rel = "images/%06d.png" % i
            save_png(img, os.path.join(out_dir, rel))
            row = collections.OrderedDict([("image", rel), ("text", text), ("box", None), ("tags", tags)])
            manifest.write(json.dumps(row) + "\n")
    _remove_stale_images(out_dir, n)
    _write_json(os.path.join(out_dir, "generator.json"), collections.OrderedDict([
        ("generator", "ocr.synth v" + VERSION), ("n", n), ("seed", seed), ("split", split),
        ("command", "invoke dataset.synth -n %d --seed %d --split %s --out DIR" % (n, seed, split)),
        ("libraries", library_versions())]))
    print("wrote %d crops (seed %d, ocr.synth v%s) to %s" % (n, seed, VERSION, out_dir))


def _remove_stale_images(out_dir, n):
    """Crops past `n` left by an earlier, larger run in the same folder."""
    index = n + 1
    while os.path.isfile(os.path.join(out_dir, "images", "%06d.png" % index)):
        os.remove(os.path.join(out_dir, "images", "%06d.png" % index))
        index += 1


def write_warmup(png_path, seed=1, index=1):
    """One crop outside any measured set (engines warm up on it) and its label beside it (.json)."""
    text, img, plan = make_sample(seed, index)
    save_png(img, png_path)
    tags = _tags(plan, seed, index, "warmup")
    _write_json(os.path.splitext(png_path)[0] + ".json", collections.OrderedDict([
        ("image", os.path.basename(png_path)), ("text", text), ("box", None), ("tags", tags)]))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=300)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--split", default="synth")
    parser.add_argument("--out", required=True)
    args = parser.parse_args(argv)
    write_dataset(args.out, n=args.n, seed=args.seed, split=args.split)


if __name__ == "__main__":
    main()
