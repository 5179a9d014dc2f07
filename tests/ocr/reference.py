"""The code reader's CPU-side hot loops as they were before they were vectorised (commit
1df74ff), frozen: the oracle the replay test (test_replay.py) checks the shipped ones against.
Each function here replaces the module attribute of the same name in `PATCHES`; everything else
runs the shipped code. Never edit these to follow a change: a change in reads is what they catch."""
import math

import numpy as np

from ocr import lines


# --- ocr/lines.py -----------------------------------------------------------------------------
def _profile(ys, xs, h, w, shear):
    shifted = np.round(ys - shear * (xs - w / 2.0)).astype(np.int64)
    ok = (shifted >= 0) & (shifted < h)
    return np.bincount(shifted[ok], minlength=h).astype(np.float32)


def deskew_shear(mask):
    ys, xs = np.nonzero(mask)
    best, best_score = 0.0, -1.0
    for s in lines.SHEARS:
        score = float(np.var(_profile(ys, xs, mask.shape[0], mask.shape[1], s)))
        if score > best_score + 1e-6 or (abs(score - best_score) <= 1e-6 and abs(s) < abs(best)):
            best, best_score = float(s), score
    return best


def _cut_valleys(profile, y0, y1, least, most_ink):
    best = None
    for v in range(int(math.ceil(y0 + least)), int(math.floor(y1 - 1 - least)) + 1):
        if profile[v] > most_ink:
            continue
        depth = profile[v] / max(1e-6, min(profile[y0:v].max(), profile[v + 1:y1].max()))
        if depth <= lines.VALLEY_DEPTH and (best is None or depth < best[0]):
            best = (depth, v)
    if best is None:
        return [(y0, y1)]
    v = best[1]
    return _cut_valleys(profile, y0, v, least, most_ink) + _cut_valleys(profile, v + 1, y1, least, most_ink)


PATCHES = [(lines, "deskew_shear", deskew_shear), (lines, "_cut_valleys", _cut_valleys)]


def old_paths(monkeypatch):
    """Run the rest of the test through the frozen hot loops."""
    for module, name, fn in PATCHES:
        monkeypatch.setattr(module, name, fn)
