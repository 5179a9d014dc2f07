"""Split a code crop into printed lines for a one-line recogniser (the code reader).

Like ocr/layout.split_lines a horizontal projection profile, made sturdier for real prints:
- ink is measured against the local background (a large median blur), not one global Otsu
  threshold, so uneven light, dark blobs and textured or coloured surfaces do not fill rows;
- a row counts as text when its ink is a share of the *typical* busy row, so a short line
  ("H21:03" under a long date) is not lost beside a long one;
- a tilted print (rotation, perspective) is straightened first by the vertical shear that makes
  the profile sharpest, so the gaps between lines open up;
- lines printed (almost) touching are cut at the deep valley of the profile between them;
- a gap that strokes cross is no gap: a thin font's 1-px verticals vanish in the speck filter,
  and its horizontal bars alone would look like two lines.
A crop with no clear gap stays one line. Python 3.6, numpy + OpenCV.

It runs on the Nano's CPU for every crop, so it is written for few passes over the pixels, all in
8-bit OpenCV or integer numpy: the masks from thresholds on the 0..255 ink levels, the percentile
from counts, the sheared profiles from whole-row column moves. Every cut is bit for bit that of the
earlier float code, frozen in tests/ocr/reference.py (test_replay.py, test_lines_exact.py).
"""
import functools
import math

import cv2
import numpy as np

from . import layout

SHEARS = np.linspace(-0.12, 0.12, 9)  # tan of the tilts tried (about +-7 degrees)
# Strokes crossing a gap (see _join_crossed): ink above STROKE_INK, unfiltered, in at least
# CROSSING_SHARE of the columns. On the synthetic calibration crops (seed 7002, 600) true gaps
# between lines are crossed in at most 0.7 % of the columns at this ink level.
STROKE_INK = 0.5
MASK_INK = 0.35  # ink above this (after a 2x2 opening against specks) makes the mask
CROSSING_SHARE = 0.05
# Lines printed close together (dot matrix, small fonts) leave no empty row between them, only a
# valley: a band is cut at a row at most VALLEY_DEPTH of the lower of the peaks either side and at
# most VALLEY_INK of a busy row. On the synthetic calibration crops (seeds 7002/7003) the real gaps
# this finds are <= 0.10 of a busy row; the valleys inside a single line (between its top and
# bottom bars) >= 0.17, and _join_crossed rejoins those whose strokes cross.
VALLEY_DEPTH = 0.2
VALLEY_INK = 0.15
# a depth <= VALLEY_DEPTH, as numpy compares a float32 scalar with a Python float: float32 values
# up to _DEEP, or below it (float64: _DEEP, float32(0.2), is just above 0.2)
_DEEP = np.float32(VALLEY_DEPTH)
_DEEP_INCLUSIVE = bool(_DEEP <= VALLEY_DEPTH)
SPECK = np.ones((2, 2), np.uint8)  # the mask is opened with it: ink smaller than 2 x 2 is a speck
# _profiles moves runs of columns rather than pixels from this many inked pixels on: where the two
# cost about the same on the default set's and realdev's crops (x86, numpy 2: ~0.03 us a pixel,
# against ~0.17 ms plus ~1 ns a row and run)
RUNS_FROM_INK = 6000
# _ranks_99 counts levels from this many pixels on, else partitions them: where the two cost
# about the same on the default set's and realdev's crops (x86, numpy 2)
COUNT_FROM_PIXELS = 20000
# the type of numpy's percentile of a float32 image (numpy 2: float32; 1.x: float64): the ink map
# divides by it
_PERCENTILE_TYPE = type(np.percentile(np.zeros(2, np.float32), 99))


def _ink_levels(gray):
    """The ink before normalising, 0..255 (uint8): contrast against the local background, either
    polarity (the one with more pixels over 24 levels wins: dark-on-light or light-on-dark)."""
    if gray.dtype != np.uint8:
        raise ValueError("line splitting needs an 8-bit image, got {}".format(gray.dtype))
    h, w = gray.shape
    # the background varies slowly: a median at quarter resolution is as good and ~10x cheaper
    small = cv2.resize(gray, (max(1, w // 4), max(1, h // 4)), interpolation=cv2.INTER_NEAREST)
    k = min(max(3, (min(small.shape) // 2) | 1), 255)
    bg = cv2.resize(_median(small, k), (w, h), interpolation=cv2.INTER_LINEAR)
    dark, light = cv2.subtract(bg, gray), cv2.subtract(gray, bg)  # saturating: the positive part
    return dark if _count_over(dark, 24) >= _count_over(light, 24) else light


def _median(img, k):
    """cv2.medianBlur of an 8-bit image. For 3 x 3 and 5 x 5 (sorting networks) its 8-bit code is
    up to ~20x slower than its 16-bit code on narrow images here (OpenCV 5, x86: 5 x 5 on the
    default set's quarter-size crops 45 us against 3 us a crop); the median of the same values
    is the same, so those run on a 16-bit copy."""
    if k <= 5:
        return cv2.medianBlur(img.astype(np.uint16), k).astype(np.uint8)
    return cv2.medianBlur(img, k)


def _count_over(levels, level):
    return cv2.countNonZero(_at_least(levels, level + 1))


def _ranks_99(levels, by_counts=None):
    """(a, b, g): the levels at the ranks either side of numpy's 99th percentile of `levels` (its
    linear interpolation: index 0.99 (n - 1), rounded down, and the next), and the weight of b;
    not from a partition of every pixel as float but, for images of COUNT_FROM_PIXELS or more (or
    as `by_counts` says), by a binary search over how many levels reach each level (a pass of
    cv2.threshold and countNonZero each, SIMD), else by a partition of the 8-bit levels."""
    n = levels.size
    index = 0.99 * (n - 1)
    k = int(index)
    ranks = [k, min(k + 1, n - 1)]
    if by_counts is None:
        by_counts = n >= COUNT_FROM_PIXELS
    if by_counts:  # the level at rank r: the highest t that at least n - r levels reach
        a = _highest_reached(levels, n - k, 0)
        b = a if ranks[1] == k else _highest_reached(levels, n - k - 1, a)
        return a, b, index - k
    a, b = np.partition(levels.ravel(), ranks)[ranks].tolist()
    return a, b, index - k


def _highest_reached(levels, count, lo):
    """The highest level t (lo..255) that at least `count` of `levels` reach (lo's do)."""
    hi = 255
    if lo < hi and cv2.countNonZero(_at_least(levels, lo + 1)) < count:  # often lo itself
        return lo
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if cv2.countNonZero(_at_least(levels, mid)) >= count:
            lo = mid
        else:
            hi = mid - 1
    return lo


def _tables(top):
    """When numpy's 99th percentile of the levels is `top` (in its type): each level's ink value
    (float32, as ink_map's), and the lowest level over MASK_INK, over STROKE_INK (256: none; the
    values grow with the level)."""
    values = np.minimum(np.arange(256, dtype=np.float32) / (top or 1.0), 1)
    values.flags.writeable = False
    return values, 256 - np.count_nonzero(values > MASK_INK), 256 - np.count_nonzero(values > STROKE_INK)


@functools.lru_cache(maxsize=None)
def _level_tables(level):
    """_tables when the ranks either side of the percentile hold the same level: numpy's answer is
    that level (any interpolation between equal values is that value), in numpy's type."""
    return _tables(np.percentile(np.full(2, level, np.float32), 99))


def _exact_tables(levels, ranks):
    """_tables of `levels` (ranks: their _ranks_99), the percentile numpy's own where the
    histogram cannot give it exactly."""
    a, b, _ = ranks
    return _level_tables(a) if a == b else _tables(np.percentile(levels.astype(np.float32), 99))


def _ink_from(levels):
    """(mask from, stroke from): the lowest levels whose ink_map values are over MASK_INK, over
    STROKE_INK, without the float map. Between two different levels numpy's interpolated
    percentile is within a few float32 units of a + (b - a) g, and a level's value only falls as
    the percentile grows, so when both agree at 1e-6 either side, they are those at numpy's value,
    whatever its rounding (numpy's float32 lerp, or 1.19's float64 weights)."""
    ranks = _ranks_99(levels)
    a, b, g = ranks
    if a == b:
        return _level_tables(a)[1:]
    if a > 0:
        top = a + (b - a) * g
        low = _tables(_PERCENTILE_TYPE(top * (1 - 1e-6)))[1:]
        if low == _tables(_PERCENTILE_TYPE(top * (1 + 1e-6)))[1:]:
            return low
    return _exact_tables(levels, ranks)[1:]


def _at_least(levels, level):
    """1 where `levels` >= `level` (0..256), else 0 (uint8)."""
    return cv2.threshold(levels, level - 1, 1, cv2.THRESH_BINARY)[1]


def ink_map(gray):
    """Per-pixel ink strength in [0, 1]: contrast against the local background (see _ink_levels)
    over its 99th percentile."""
    levels = _ink_levels(gray)
    return _exact_tables(levels, _ranks_99(levels))[0][levels]


def _profiles(mask, shears, by_runs=None):
    """Row sums of a 0/1 uint8 mask after moving column x by shear * (x - centre) rows, each
    pixel's row rounded (half to even) and pixels moved out dropped, for every shear:
    (len(shears), h) float32. Small masks (under RUNS_FROM_INK pixels; `by_runs` decides
    otherwise) round pixel by pixel; bigger ones move runs of columns by whole rows (for a whole y,
    round(y - shift) = y - round(shift) unless the shift is a half) and round only the pixels of
    columns whose shift is a half one by one."""
    h, w = mask.shape
    # Shear k counts row r at k * room + pad + r: `pad` spare rows either side take the pixels
    # moved out (by at most max |shear| w / 2 + 1/2 rows), so no row needs a bounds check.
    pad = int(np.abs(shears).max() * w / 2.0) + 2
    room = h + 2 * pad
    base = pad + room * np.arange(len(shears))
    if by_runs is None:
        by_runs = cv2.countNonZero(mask) >= RUNS_FROM_INK
    if not by_runs:
        ys, xs = _nonzero(mask)
        rows = np.round(ys - shears[:, None] * (xs - w / 2.0)).astype(np.int64) + base[:, None]
        return _counts(rows.ravel(), room, len(shears))[:, pad:pad + h].astype(np.float32)
    shift = shears[:, None] * (np.arange(w) - w / 2.0)[None, :]  # per shear and column
    whole = np.round(shift).astype(np.int64)
    columns = cv2.transpose(mask)
    out = _run_sums(columns, whole)
    # the pixels of columns whose shift is a half, moved whole: moved back, then one by one
    ys, k, x = _half_pixels(columns, np.abs(shift - np.floor(shift) - 0.5) <= 1e-9)
    fix = _counts(base[k] + np.round(ys - shift[k, x]).astype(np.int64), room, len(shears))
    fix -= _counts(base[k] - whole[k, x] + ys, room, len(shears))
    out = out + fix[:, pad:pad + h]
    return out.astype(np.float32)


def _half_pixels(columns, half):
    """(ys, k, xs): the inked pixels of the columns whose shift is a half, per shear k (`columns`:
    the mask transposed)."""
    k, x = _nonzero(half)
    pair, ys = _nonzero(columns[x])
    return ys, k[pair], x[pair]


def _nonzero(mask):
    """np.nonzero of a 2-D 0/1 mask, from the flat indices of its bool view (several times faster)."""
    return np.divmod(np.flatnonzero(mask.view(bool)), mask.shape[1])


def _counts(rows, room, n):
    """(n, room) counts of `rows` (shear k's row r at k * room + r)."""
    return np.bincount(rows, minlength=n * room).reshape(n, room)


def _run_sums(columns, whole):
    """The row sums of a mask (given transposed: `columns`, (w, h)), column x moved by
    whole[k, x] rows for shear k, rows moved out dropped, by runs of columns: the shift is
    monotonic in x and moves by at most one row a column, so columns sharing a shift form runs, and
    neighbouring runs differ by one row. A shear's profile is the sum of its runs' row sums, each
    moved by its shift: diagonals of the (runs x rows) matrix, summed through a skewed view. Work ~
    rows x runs, not pixels x shears."""
    w, h = columns.shape
    # prefix[x, y]: the ink of row y left of column x, the difference of an integral image
    integral = cv2.integral(columns)  # (w + 1, h + 1)
    # Each shear's prefix rows at its run edges go into one buffer, at columns pad .. pad + h, with
    # zeros around for rows moved out (never written, so they stay zero from shear to shear).
    pad = max(0, -int(whole.min())) + 1
    width = pad + h + max(0, int(whole.max()))
    changes = [np.flatnonzero(r[1:] != r[:-1]) + 1 for r in whole]
    flat = np.zeros((max(map(len, changes)) + 3) * (width + 1), np.int32)
    out = np.empty((len(whole), h), np.int32)
    for k, r in enumerate(whole):
        edges = np.concatenate(([0], changes[k], [w]))  # run g: columns edges[g] .. edges[g + 1]
        first, sign = int(r[0]), 1
        if first > r[-1]:  # falling shifts: walk the runs right to left (their sums negate)
            edges, first, sign = edges[::-1], int(r[-1]), -1
        runs = len(edges) - 1
        at = integral[edges]
        prefix = flat[:(runs + 1) * width].reshape(runs + 1, width)
        np.subtract(at[:, 1:], at[:, :-1], out=prefix[:, pad:pad + h])
        skew = flat[:(runs + 1) * (width + 1)].reshape(runs + 1, width + 1)  # skew[i, t] = prefix[i, i + t]
        # run g (shift first + g) = prefix[g + 1] - prefix[g]; its row y + first + g lands on row y
        c = pad + first
        np.subtract(skew[1:, c - 1:c - 1 + h].sum(axis=0, dtype=np.int32),
                    skew[:runs, c:c + h].sum(axis=0, dtype=np.int32), out=out[k])
        out[k] *= sign
    return out


def deskew_shear(mask):
    """The shear (from SHEARS) whose row profile of a 0/1 mask is sharpest (largest variance); of
    scores within 1e-6, the smallest tilt."""
    scores = np.var(_profiles(mask, SHEARS), axis=1).tolist()
    best, best_score = 0.0, -1.0
    for s, score in zip(SHEARS.tolist(), scores):
        if score > best_score + 1e-6 or (abs(score - best_score) <= 1e-6 and abs(s) < abs(best)):
            best, best_score = s, score
    return best


def _unshear(img, shear):
    h, w = img.shape[:2]
    m = np.float32([[1, 0, 0], [-shear, 1, shear * w / 2.0]])
    return cv2.warpAffine(img, m, (w, h), borderMode=cv2.BORDER_REPLICATE, flags=cv2.INTER_LINEAR)


def _bands(profile, h, min_gap, min_line, busy=None):
    """Text bands: rows busier than a tenth of a typical text row (`busy`, else _busy's),
    short gaps bridged, cut at deep valleys, bands too short to be a line (beside the tallest)
    dropped."""
    busy = _busy(profile) if busy is None else busy
    merged = layout.row_runs(profile > 0.1 * busy, min_gap)
    if not merged:
        return []
    tallest = max(b[1] - b[0] for b in merged)
    least = max(min_line, 0.18 * h, 0.35 * tallest)
    bands = []
    for y0, y1 in merged:
        bands += _cut_valleys(profile, y0, y1, least, VALLEY_INK * busy)
    return [b for b in bands if b[1] - b[0] >= least]


def _busy(profile):
    """A typical busy row's ink: numpy's 75th percentile of the positive rows (0 when none), for
    the thresholds of _bands only (a tenth and VALLEY_INK of it). Computed from one sort, without
    numpy's percentile (a call costs more than the sort): its linear interpolation, up to
    rounding; where some row lies within 1e-6 of a threshold that rounding could decide, numpy's
    own answer, else any value within 1e-6 decides every row alike."""
    pos = np.sort(profile[profile > 0])
    if not pos.size:
        return 0
    index = 0.75 * (pos.size - 1)
    k = int(index)
    a, b = pos[k:k + 2].tolist() if k + 1 < pos.size else [float(pos[k])] * 2
    busy = a + (b - a) * (index - k)
    near = pos.searchsorted([t * f for t in (0.1 * busy, VALLEY_INK * busy) for f in (1 - 1e-6, 1 + 1e-6)]).tolist()
    return np.percentile(pos, 75) if near[0] != near[1] or near[2] != near[3] else busy


def _cut_valleys(profile, y0, y1, least, most_ink):
    """[(y0, y1)] cut at its deepest valley row, recursively, where both sides stay >= `least`
    rows tall (the valley row itself belongs to neither: it is the gap _join_crossed checks)."""
    lo, hi = int(math.ceil(y0 + least)), int(math.floor(y1 - 1 - least)) + 1  # the rows a cut may take
    if lo >= hi:
        return [(y0, y1)]
    seg = profile[y0:y1]
    above = np.maximum.accumulate(seg)               # above[i]: the peak of rows y0 .. y0 + i
    below = np.maximum.accumulate(seg[::-1])[::-1]   # below[i]: the peak of rows y0 + i .. y1 - 1
    rows = profile[lo:hi]
    # a row's depth: its ink over the lower of the peaks either side (float32, as row by row)
    depth = rows / np.maximum(np.minimum(above[lo - 1 - y0:hi - 1 - y0], below[lo + 1 - y0:hi + 1 - y0]),
                              np.float32(1e-6))
    # compared as a float32 scalar with a float is (numpy 2: in float32, 1.x: in float64)
    deep = (depth <= _DEEP) if _DEEP_INCLUSIVE else (depth < _DEEP)
    valleys = np.flatnonzero(deep & (rows.astype(np.float64) <= most_ink))
    if not valleys.size:
        return [(y0, y1)]
    v = lo + int(valleys[np.argmin(depth[valleys])])  # the deepest; the first of equals
    return _cut_valleys(profile, y0, v, least, most_ink) + _cut_valleys(profile, v + 1, y1, least, most_ink)


def _lines(mask, h, min_line_px, strokes):
    """The bands of a mask's lines; `strokes()` gives the stroke mask, made only when there are
    gaps to check."""
    # a window of ~h/40 rows bridges the gaps between the dot rows of a dot-matrix line
    win = max(3, h // 40)
    rows = cv2.reduce(mask, 1, cv2.REDUCE_SUM, dtype=cv2.CV_32S)  # the mask's row sums, (h, 1)
    profile = cv2.blur(rows.astype(np.float32), (1, win)).ravel()
    bands = _bands(profile, h, max(2, int(0.04 * h)), min_line_px)
    return _join_crossed(bands, strokes()) if len(bands) > 1 else bands


def _join_crossed(bands, strokes):
    """Join neighbouring bands when strokes cross the gap between them: a thin font's vertical
    strokes are faint after the speck filter, so the profile sees a gap through the middle of
    the line; between two printed lines no stroke runs from one to the other."""
    out = bands[:1]
    for y0, y1 in bands[1:]:
        gap = strokes[out[-1][1]:y0]
        # a column (give or take one pixel sideways, for slanted strokes) inked on every gap row
        near = cv2.dilate(gap, np.ones((1, 3), np.uint8)) if gap.size else gap
        crossing = int(near.all(axis=0).sum()) if len(gap) else 0
        if crossing >= max(3, CROSSING_SHARE * strokes.shape[1]):
            out[-1] = (out[-1][0], y1)
        else:
            out.append((y0, y1))
    return out


def split(img, min_line_px=6, pad_frac=0.15):
    """Crop (HxW gray or HxWx3) -> list of line images, top to bottom; [img] when no clear gap."""
    gray = img if img.ndim == 2 else cv2.cvtColor(img, cv2.COLOR_BGR2GRAY)
    h, w = gray.shape
    if h < 2 * min_line_px or h > 0.9 * w:  # too small, or not a line layout worth guessing
        return [img]
    levels = _ink_levels(gray)
    mask_from, stroke_from = _ink_from(levels)
    mask = cv2.morphologyEx(_at_least(levels, mask_from), cv2.MORPH_OPEN, SPECK)
    if not cv2.countNonZero(mask):
        return [img]

    def strokes():
        return _at_least(levels, stroke_from)
    lines = _lines(mask, h, min_line_px, strokes)
    # Tilt closes the gaps: straighten crops tall enough to hold several lines, and keep the
    # straightened cut when it finds more lines.
    if h >= 0.15 * w:
        shear = deskew_shear(mask)
        if shear:
            straight = _unshear(mask, shear)
            more = _lines(straight, h, min_line_px, lambda: _unshear(strokes(), shear))
            if len(more) > len(lines):
                img, lines = _unshear(img, shear), more
    return _cut_out(img, lines, pad_frac)


def _cut_out(img, bands, pad_frac):
    """The line images of `bands` [(y0, y1)], each padded by pad_frac of its height (never past
    half way to its neighbour); [img] for one band or none."""
    if len(bands) <= 1:
        return [img]
    h, out = img.shape[0], []
    for k, (y0, y1) in enumerate(bands):
        pad = int(pad_frac * (y1 - y0)) + 1
        top = max(0, y0 - pad, (bands[k - 1][1] + y0) // 2 if k else 0)
        bottom = min(h, y1 + pad, (y1 + bands[k + 1][0]) // 2 if k + 1 < len(bands) else h)
        out.append(img[top:bottom])
    return out
