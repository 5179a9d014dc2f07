"""The code reader's CPU-side hot loops as they were before they were made faster (the splitter
at commit 1df74ff — its split(), _lines(), _bands()' busy row and layout.row_runs() unchanged
until 0ada6aa — the decoders at 346afed, right after ocr/postprocess.py was split), frozen:
the oracle the replay test (test_replay.py) checks the shipped ones against. Each function here
replaces the attribute of the same name in `PATCHES`; everything else runs the shipped code
(parts that did not change are shared, so the frozen split calls them in the shipped module).
Never edit these to follow a change: a change in reads is what they catch."""
import math

import cv2
import numpy as np

from ocr import ctc, formats, layout, lines


# --- ocr/lines.py -----------------------------------------------------------------------------
def ink_map(gray):
    h, w = gray.shape
    small = cv2.resize(gray, (max(1, w // 4), max(1, h // 4)), interpolation=cv2.INTER_NEAREST)
    k = max(3, (min(small.shape) // 2) | 1)
    bg = cv2.resize(cv2.medianBlur(small, min(k, 255)), (w, h), interpolation=cv2.INTER_LINEAR)
    diff = bg.astype(np.int16) - gray.astype(np.int16)
    dark, light = np.clip(diff, 0, None), np.clip(-diff, 0, None)
    ink = dark if (dark > 24).sum() >= (light > 24).sum() else light
    ink = ink.astype(np.float32)
    top = np.percentile(ink, 99) or 1.0
    return np.clip(ink / top, 0, 1)


def _profile(ys, xs, h, w, shear):
    shifted = np.round(ys - shear * (xs - w / 2.0)).astype(np.int64)
    ok = (shifted >= 0) & (shifted < h)
    return np.bincount(shifted[ok], minlength=h).astype(np.float32)


def _profiles_all(ys, xs, h, w, shears):
    return np.stack([_profile(ys, xs, h, w, s) for s in shears])


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


def row_runs(rows, min_gap):  # ocr/layout.py
    runs, start = [], None
    for y, on in enumerate(rows):
        if on and start is None:
            start = y
        elif not on and start is not None:
            runs.append([start, y])
            start = None
    if start is not None:
        runs.append([start, len(rows)])
    merged = []
    for r in runs:
        if merged and r[0] - merged[-1][1] < min_gap:
            merged[-1][1] = r[1]
        else:
            merged.append(r)
    return merged


def _bands(profile, h, min_gap, min_line):
    busy = np.percentile(profile[profile > 0], 75) if (profile > 0).any() else 0
    return lines._bands(profile, h, min_gap, min_line, busy)  # the rest unchanged, shared


def _lines(mask, h, min_line_px, strokes):
    win = max(3, h // 40)
    profile = cv2.blur(mask.sum(axis=1).astype(np.float32).reshape(-1, 1), (1, win)).ravel()
    bands = _bands(profile, h, max(2, int(0.04 * h)), min_line_px)
    return lines._join_crossed(bands, strokes)


def split(img, min_line_px=6, pad_frac=0.15):
    gray = img if img.ndim == 2 else cv2.cvtColor(img, cv2.COLOR_BGR2GRAY)
    h, w = gray.shape
    if h < 2 * min_line_px or h > 0.9 * w:
        return [img]
    ink = ink_map(gray)
    mask = (ink > 0.35).astype(np.uint8)
    mask = cv2.morphologyEx(mask, cv2.MORPH_OPEN, np.ones((2, 2), np.uint8))
    if mask.sum() == 0:
        return [img]
    strokes = (ink > lines.STROKE_INK).astype(np.uint8)
    found = _lines(mask, h, min_line_px, strokes)
    if h >= 0.15 * w:
        shear = deskew_shear(mask)
        if shear:
            straight = lines._unshear(mask, shear)
            more = _lines(straight, h, min_line_px, lines._unshear(strokes, shear))
            if len(more) > len(found):
                img, found = lines._unshear(img, shear), more
    return lines._cut_out(img, found, pad_frac)  # unchanged, shared


# --- ocr/ctc.py ---------------------------------------------------------------------------------
def align(probs, labels):
    if not labels:
        return [], float(np.log(np.maximum(probs[:, 0], 1e-12)).sum())
    T = probs.shape[0]
    ext, logp, skip = ctc._extended(probs, labels)  # unchanged, shared
    S = len(ext)
    score = np.full(S, -np.inf)
    score[:2] = logp[0, :2]
    back = np.zeros((T, S), dtype=np.int64)
    # rows: stay on s, come from s-1, jump from s-2 (where allowed); argmax prefers them in that order
    moves = np.full((3, S), -np.inf)
    jump = np.where(skip[2:], 0.0, -np.inf)
    for t in range(1, T):
        moves[0] = score
        moves[1, 1:] = score[:-1]
        moves[2, 2:] = score[:-2] + jump
        back[t] = moves.argmax(axis=0)
        score = moves.max(axis=0) + logp[t]
    end = ctc._best_end(score)  # unchanged parts, shared
    if end is None:
        return None
    return ctc._walk_back(probs, ext, end, lambda t, s: back[t, s]), float(score[end])


def greedy(probs, best_frame=True):
    idx = probs.argmax(axis=1)
    labels, conf = [], []
    prev = 0
    for t, k in enumerate(idx):
        if k != 0 and k != prev:
            labels.append(int(k))
            conf.append(float(probs[t, k]))
        elif k != 0 and best_frame:
            conf[-1] = max(conf[-1], float(probs[t, k]))
        prev = k
    return labels, conf


def _logadd(a, b):
    if a == -math.inf:
        return b
    if b == -math.inf:
        return a
    m = max(a, b)
    return m + math.log(math.exp(a - m) + math.exp(b - m))


def _add_prob(beams, prefix, pb, pnb):
    e = beams.get(prefix)
    if e is None:
        beams[prefix] = [pb, pnb]
    else:
        e[0], e[1] = _logadd(e[0], pb), _logadd(e[1], pnb)


def constrained(probs, charset, grammar, beam=8, prune=1e-3, prior_weight=1.0):
    logp = np.log(np.maximum(probs, 1e-12)).tolist()
    kernels = {"": grammar.kernel()}  # prefix -> automaton kernel after reading it ({}: dead)
    spent = {"": grammar.least_cost(kernels[""])}  # prefix -> the least format cost of reading it
    beams = {"": [0.0, -math.inf]}     # prefix -> [log P ending in blank, ending in a label]
    for t in range(probs.shape[0]):
        row = logp[t]
        cands = [(int(k), charset[k].upper()) for k in np.nonzero(probs[t] >= prune)[0] if k != 0]
        nxt = {}
        for prefix, (pb, pnb) in beams.items():
            total = _logadd(pb, pnb)
            _add_prob(nxt, prefix, total + row[0], -math.inf)
            for k, c in cands:
                if prefix and prefix[-1] == c:
                    _add_prob(nxt, prefix, -math.inf, pnb + row[k])  # a repeat collapses
                    _add_prob(nxt, prefix + c, -math.inf, pb + row[k])
                else:
                    _add_prob(nxt, prefix + c, -math.inf, total + row[k])
        beams = ctc._rank(nxt, kernels, spent, grammar, beam, prior_weight)  # unchanged parts, shared
    return ctc._best(beams, kernels, grammar, prior_weight)


# --- ocr/formats.py -----------------------------------------------------------------------------
def correct(self, text):
    layer = {self.start: (0.0, None)}
    for ch in text:
        c = ch.upper()
        layer = self.closure(layer, c)
        new = {}
        for s, (cost, path) in layer.items():
            for t, swap, alt in self._reads(s, c):
                formats._keep_cheapest(new, t, cost + swap, (path, alt or ch, None))
            if c == " ":
                formats._keep_cheapest(new, s, cost + formats.SPACE_DROP_COST, path)
        if not new:
            return None
        layer = new
    layer = self.closure(layer, None)
    return formats._unwind(*layer[self.accept]) if self.accept in layer else None


def step(self, kernel, c):
    out = {}
    for t, cost in kernel.items():
        for u, cu in self._moves_from(t).get(c, ()):
            nc = cost + cu
            if nc < out.get(u, math.inf):
                out[u] = nc
    return out


def least_cost(self, kernel):
    return min(cost + self._least(t) for t, cost in kernel.items())


PATCHES = [(lines, "split", split), (layout, "row_runs", row_runs), (lines, "ink_map", ink_map),
           (lines, "deskew_shear", deskew_shear), (lines, "_cut_valleys", _cut_valleys),
           (ctc, "greedy", greedy), (ctc, "align", align), (ctc, "constrained", constrained),
           (formats.Grammar, "correct", correct), (formats.Grammar, "step", step),
           (formats.Grammar, "least_cost", least_cost)]


def old_paths(monkeypatch):
    """Run the rest of the test through the frozen hot loops."""
    for module, name, fn in PATCHES:
        monkeypatch.setattr(module, name, fn)
