"""What the print is made of: the TrueType fonts solid styles draw with (the DejaVu/STIX fonts
matplotlib ships) and the 5x7 dot-matrix glyph table; also `text_crop`, a clean crop of known
text for tests and `invoke sanity`."""
import os

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from .grammar import CHARSET

SOLID_FONTS = ("DejaVuSans.ttf", "DejaVuSans-Bold.ttf", "DejaVuSansMono.ttf", "DejaVuSansMono-Bold.ttf",
               "DejaVuSerif.ttf", "DejaVuSerif-Bold.ttf", "STIXGeneral.ttf",
               "STIXGeneralBol.ttf")
OBLIQUE_FONTS = ("DejaVuSans-Oblique.ttf", "DejaVuSans-BoldOblique.ttf", "DejaVuSansMono-Oblique.ttf",
                 "DejaVuSerif-Italic.ttf", "STIXGeneralItalic.ttf")
THERMAL_FONTS = ("DejaVuSansMono.ttf", "DejaVuSansMono-Bold.ttf", "DejaVuSans-Bold.ttf")
CIJ_FONTS = ("DejaVuSans.ttf", "DejaVuSans-Bold.ttf")  # sans shapes; mono's dotted zero is no coder's
TEXT_FONT = "DejaVuSans-Bold.ttf"  # text_crop's: a clean, common sans that every engine reads
SYSTEM_FONT_DIR = "/usr/share/fonts/truetype/dejavu"  # Ubuntu's fonts-dejavu-core (L4T ships it)
_FONT_CACHE = {}
_DOTS_CACHE = {}


def font_dir():
    """matplotlib's bundled TrueType folder (the only use of matplotlib here)."""
    try:
        import matplotlib
    except ImportError:
        raise RuntimeError("ocr.synth renders solid fonts with the DejaVu fonts that ship in "
                           "matplotlib: pip install matplotlib") from None
    return os.path.join(matplotlib.get_data_path(), "fonts", "ttf")


def load_font(name, px):
    key = (name, px)
    if key not in _FONT_CACHE:
        _FONT_CACHE[key] = ImageFont.truetype(os.path.join(font_dir(), name), px)
    return _FONT_CACHE[key]


def font_dots(name, rows, ch, threshold=128, thin=False):
    """Boolean drop raster of `ch` in font `name` with a cap height of `rows` drops: where a
    high-resolution inkjet coder fires a drop; `thin`: strokes one drop wide, as most such coders
    print. Every character of a font and size has the same height (ascent + descent) and its own
    advance as width."""
    key = (name, rows, ch, threshold, thin)
    if key not in _DOTS_CACHE:
        font = load_font(name, max(4, int(round(rows / 0.73))))
        ascent, descent = font.getmetrics()
        img = Image.new("L", (max(1, int(round(advance(font, ch)))), ascent + descent), 0)
        ImageDraw.Draw(img).text((0, 0), ch, fill=255, font=font)
        dots = np.asarray(img) >= threshold
        _DOTS_CACHE[key] = _thin(dots) if thin else dots
    return _DOTS_CACHE[key]


def _thin(grid):
    """Zhang-Suen thinning of a small boolean grid to one-cell-wide strokes; a blob it would erase
    (the dot of a `:` or `.`) keeps its middle cell, so the glyph still says what it is."""
    thin = _zhang_suen(grid)
    count, labels = cv2.connectedComponents(grid.astype(np.uint8), connectivity=8)
    for k in range(1, count):
        ys, xs = np.nonzero(labels == k)
        if not thin[ys, xs].any():
            mid = np.argmin((ys - ys.mean()) ** 2 + (xs - xs.mean()) ** 2)
            thin[ys[mid], xs[mid]] = True
    return thin


def _zhang_suen(grid):
    g = np.pad(grid.astype(np.uint8), 1)
    changed = True
    while changed:
        changed = False
        for step in (0, 1):
            # neighbours P2..P9, clockwise from north
            n = [np.roll(np.roll(g, dy, 0), dx, 1) for dy, dx in
                 ((1, 0), (1, -1), (0, -1), (-1, -1), (-1, 0), (-1, 1), (0, 1), (1, 1))]
            count = sum(n)
            turns = sum(((n[k] == 0) & (n[(k + 1) % 8] == 1)) for k in range(8))
            if step == 0:
                cond = (n[0] * n[2] * n[4] == 0) & (n[2] * n[4] * n[6] == 0)
            else:
                cond = (n[0] * n[2] * n[6] == 0) & (n[0] * n[4] * n[6] == 0)
            remove = (g == 1) & (count >= 2) & (count <= 6) & (turns == 1) & cond
            if remove.any():
                g[remove] = 0
                changed = True
    return g[1:-1, 1:-1].astype(bool)


def advance(font, text):
    if hasattr(font, "getlength"):  # Pillow >= 8
        return font.getlength(text)
    return font.getsize(text)[0]


def text_font_path(name=TEXT_FONT):
    """A font file for `text_crop`: matplotlib's copy, else the system's DejaVu (a Nano's venvs may
    lack matplotlib); None when neither is there. The synthesiser itself takes matplotlib's only,
    so that its pixels do not depend on what the system happens to ship."""
    try:
        return os.path.join(font_dir(), name)
    except RuntimeError:
        system = os.path.join(SYSTEM_FONT_DIR, name)
        return system if os.path.isfile(system) else None


def text_crop(lines, px=28, pad=8, ink=(25, 25, 30), paper=(238, 236, 230), font=TEXT_FONT):
    """A clean crop (RGB uint8) of known text, lines one under the other, left-aligned: the
    reference crop of `invoke sanity` and the tests' printed codes. No style, no degradation."""
    lines = [lines] if isinstance(lines, str) else list(lines)
    path = text_font_path(font)
    if path is None:
        raise RuntimeError("no {} to draw text with: pip install matplotlib, or apt install "
                           "fonts-dejavu-core".format(font))
    face = ImageFont.truetype(path, px)
    line_h = int(px * 1.35)
    width = max(int(advance(face, text)) for text in lines)
    img = Image.new("RGB", (width + 2 * pad, line_h * len(lines) + 2 * pad), tuple(paper))
    draw = ImageDraw.Draw(img)
    for i, text in enumerate(lines):
        draw.text((pad, pad + i * line_h), text, font=face, fill=tuple(ink))
    return np.asarray(img)


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


_GLYPH_CACHE = {}  # (character, grid) -> its read-only dot grid: every dot-matrix line asks again


def dot_glyph(ch, grid="5x7"):
    """Boolean dot grid (rows x cols) of `ch`, read-only; "7x9" is resampled from the 5x7 shapes."""
    key = (ch, grid)
    if key not in _GLYPH_CACHE:
        if ch not in DOT5X7:
            raise ValueError("no dot-matrix glyph for %r (charset: %r)" % (ch, CHARSET))
        g = np.array([[c == "#" for c in row] for row in DOT5X7[ch].split()], bool)
        if grid == "7x9":
            g = _redraw_7x9(g)
        if ch in _NARROW:
            g = g[:, g.any(axis=0)]
        g.flags.writeable = False
        _GLYPH_CACHE[key] = g
    return _GLYPH_CACHE[key]


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
