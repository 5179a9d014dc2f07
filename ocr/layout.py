"""Layout of a code crop: splitting it into text lines, and the reading order of detected pieces.

Line splitting (for recognition-only engines, whose recognisers read one line at a time) is an
honest horizontal projection profile: binarise with Otsu (ink = the minority class, so light-on-
dark prints work too), count ink pixels per row, and cut where a run of near-empty rows separates
two bands tall enough to be text. A crop with no clear gap stays one line — never guessed from
the label.
"""
import cv2
import numpy as np


def _otsu_dark(gray):
    _, binary = cv2.threshold(gray, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    return binary == 0


def is_light_on_dark(gray):
    """Text is the minority class after Otsu: if the dark class is larger, ink is light."""
    return bool(_otsu_dark(gray).mean() > 0.5)


def ink_mask(gray):
    """Boolean ink pixels: the minority Otsu class (dark-on-light or light-on-dark prints)."""
    dark = _otsu_dark(gray)
    return ~dark if dark.mean() > 0.5 else dark


def row_runs(rows, min_gap):
    """[[y0, y1), ...] runs of True in `rows`, runs closer than `min_gap` rows merged."""
    edged = np.zeros(len(rows) + 2, bool)
    edged[1:-1] = rows
    edges = np.flatnonzero(edged[1:] != edged[:-1]).tolist()  # a run's start, then its end
    merged = []
    for start, end in zip(edges[::2], edges[1::2]):
        if merged and start - merged[-1][1] < min_gap:
            merged[-1][1] = end
        else:
            merged.append([start, end])
    return merged


def split_lines(gray, min_gap_frac=0.04, min_line_frac=0.4, pad_frac=0.12):
    """Row bands [(y0, y1), ...] top to bottom; one band covering the crop if no clear split."""
    h = gray.shape[0]
    if h < 16:
        return [(0, h)]
    ink = ink_mask(gray)
    # Ignore specks: a row is 'text' when it holds a meaningful share of the busiest row's ink.
    profile = cv2.blur(ink.sum(axis=1).astype(np.float32).reshape(-1, 1), (1, 3)).ravel()
    if profile.max() <= 0:
        return [(0, h)]
    # Bands of text rows; gaps too thin to be line spacing are merged, and bands much shorter
    # than the tallest one (underlines, specks, clipped neighbours) dropped below.
    merged = row_runs(profile > 0.12 * profile.max(), max(1, int(min_gap_frac * h)))
    tallest = max(b[1] - b[0] for b in merged) if merged else 0
    lines = [b for b in merged if b[1] - b[0] >= max(4, min_line_frac * tallest)]
    if len(lines) <= 1:
        return [(0, h)]
    out = []
    for y0, y1 in lines:
        pad = int(pad_frac * (y1 - y0)) + 1
        out.append((max(0, y0 - pad), min(h, y1 + pad)))
    return out


def reading_order(pieces, overlap=0.5):
    """Group detected pieces into lines top to bottom, each left to right.

    pieces: [(x0, y0, x1, y1, text, confidence)]. Two pieces share a line when their vertical
    overlap is at least `overlap` of the shorter one. Returns [[piece, ...], ...].
    """
    lines = []
    for p in sorted(pieces, key=lambda q: (q[1] + q[3]) / 2.0):
        for line in lines:
            ly0 = min(q[1] for q in line)
            ly1 = max(q[3] for q in line)
            inter = min(ly1, p[3]) - max(ly0, p[1])
            if inter >= overlap * min(ly1 - ly0, p[3] - p[1]):
                line.append(p)
                break
        else:
            lines.append([p])
    return [sorted(line, key=lambda q: q[0]) for line in lines]


def line_texts(lines, piece_join=" "):
    """One text per ordered line, its pieces joined by a space."""
    return [piece_join.join(p[4] for p in line if p[4]) for line in lines]


def join_pieces(lines, line_join=" ", piece_join=" "):
    """Text of ordered lines: pieces joined by a space, lines as the labels join them."""
    return line_join.join(line_texts(lines, piece_join)).strip()


def read_pieces(pieces, line_join=" "):
    """Detected pieces -> (text, confidence, line texts): reading order, pieces in a line joined
    by a space, lines as the labels join them; confidence is the weakest piece's (0 if none)."""
    lines = line_texts(reading_order(pieces))
    return line_join.join(lines), min([p[5] for p in pieces] or [0.0]), lines
