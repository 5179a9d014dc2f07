"""CTC decoding over a recogniser's per-step probabilities (T x C, class 0 the blank), one of each:

- `greedy`: the best path, repeats merged and blanks dropped (every engine's plain read);
- `align`: the best alignment (Viterbi) of a given label sequence: its per-label probabilities
  and path log-probability, to score candidate texts against the frames;
- `constrained`: a CTC prefix beam search that only extends prefixes a format grammar
  (ocr/formats.py) can still accept, so the best *valid* string wins.

Runs on the Nano's Python 3.6 (numpy only).
"""
import heapq
import math

import numpy as np

from . import compiled


def greedy(probs, best_frame=True):
    """probs T x C (class 0 blank) -> (label indices, per-label probability: its best frame, or
    the first frame of its run when not `best_frame`). In numpy: a label starts where the best
    class is no blank and differs from the frame before; its run lasts while that class does.
    The compiled decoder reads float32 rows the same way (ocr/_decode.c)."""
    fast = compiled.module()
    if fast is not None and probs.dtype == np.float32 and probs.ndim == 2 and probs.size:
        return fast.greedy(np.ascontiguousarray(probs), best_frame)
    idx = probs.argmax(axis=1)
    prev = np.zeros_like(idx)
    prev[1:] = idx[:-1]
    starts = np.nonzero((idx != 0) & (idx != prev))[0]
    if not len(starts):
        return [], []
    top = probs[np.arange(len(idx)), idx]
    if best_frame:  # blanks between runs count below any probability
        conf = np.maximum.reduceat(np.where(idx != 0, top, -1), starts)
    else:
        conf = top[starts]
    return idx[starts].tolist(), [float(v) for v in conf]


def greedy_texts(probs, charset):
    """probs N x T x C -> [(text, confidence)]: the best path of each row, with PaddleOCR's
    confidence, the mean probability of each kept character's first frame (0 for an empty read).
    charset[k] is the character of class k; a class past its end reads as nothing."""
    out = []
    for row in probs:
        labels, first = greedy(row, best_frame=False)
        chars = [charset[k] if k < len(charset) else "" for k in labels]
        conf = float(np.array(first, dtype=row.dtype).mean()) if labels else 0.0
        out.append(("".join(chars), conf))
    return out


def align(probs, labels):
    """(per-label probability, log-probability of the path) of `labels` under the best CTC
    alignment (Viterbi), or None when no alignment fits in T frames."""
    if not labels:
        return [], float(np.log(np.maximum(probs[:, 0], 1e-12)).sum())
    T = probs.shape[0]
    ext, logp, skip = _extended(probs, labels)
    fast = compiled.module()
    if fast is not None and T and probs.dtype == np.float32 and logp.dtype == np.float32:
        # the same top path and search in C (ocr/_decode.c), on these same numpy tables
        aligned = fast.align(np.ascontiguousarray(probs), np.ascontiguousarray(logp), ext, skip.tobytes())
        if aligned is not NotImplemented:  # (NaN probabilities: the code below decides)
            return aligned
    top = _top_path(probs, labels, ext, logp)
    if top is not None:
        return top
    S = len(ext)
    # Forward scores of every step, two -inf columns first (s - 1 and s - 2 of the first states):
    # four numpy calls a step; the way back is read off the stored scores along the one path.
    sc = np.full((T, S + 2), -np.inf)
    sc[0, 2:4] = logp[0, :2]
    jump = np.full(S, -np.inf)  # onto s from s - 2: 0 where allowed
    jump[skip] = 0.0
    tmp = np.empty(S)
    for t in range(1, T):
        prev, row = sc[t - 1], sc[t, 2:]
        np.maximum(prev[2:], prev[1:-1], out=row)
        np.add(prev[:-2], jump, out=tmp)
        np.maximum(row, tmp, out=row)
        row += logp[t]
    score = sc[T - 1, 2:]
    end = _best_end(score)
    if end is None:
        return None

    def came_back(t, s):  # from where s was reached: stay, s - 1, s - 2, the first best (as argmax)
        if not t:
            return 0
        prev = sc[t - 1]
        stay, step, hop = prev[s + 2], prev[s + 1], prev[s] + jump[s]
        return 0 if stay >= step and stay >= hop else (1 if step >= hop else 2)
    return _walk_back(probs, ext, end, came_back), float(score[end])


def _top_path(probs, labels, ext, logp):
    """align() without the search, when the best path of every frame (the greedy read) reads
    `labels` and beats, frame by frame, every state of another class: then it is the one best
    alignment (any other differs in some frame's class, and so scores less), its log-probability
    the frames' sum in order (as the search adds it) and each label's probability its run's best
    frame. Most candidates are the top path itself (read as it stands, or as a format unchanged).
    None when that does not hold: the search decides."""
    idx = probs.argmax(axis=1)
    prev = np.zeros_like(idx)
    prev[1:] = idx[:-1]
    starts = (idx != 0) & (idx != prev)
    if int(starts.sum()) != len(labels) or idx[starts].tolist() != list(labels):
        return None
    T = len(idx)
    state = 2 * np.cumsum(starts) - (idx != 0)  # a label's state on its frames, the blank's between
    on_path = logp[np.arange(T), state]
    others = np.where(np.array(ext)[None, :] == idx[:, None], -np.inf, logp).max(axis=1)
    if not (on_path > others).all():
        return None
    total = 0.0
    for v in on_path.tolist():
        total += v
    conf = np.maximum.reduceat(np.where(idx != 0, probs[np.arange(T), idx], -1), np.nonzero(starts)[0])
    return [float(v) for v in conf], total


def _best_end(score):
    """The path's last state: the last label or the blank after it, the likelier; None: no path."""
    end = len(score) - 1 if score[-1] >= score[-2] else len(score) - 2
    return end if np.isfinite(score[end]) else None


def _walk_back(probs, ext, end, came_back):
    """Per-label probability (its best frame) along the path ending in state `end` at the last
    step; came_back(t, s): how many states back s was reached from at step t."""
    conf = [0.0] * (len(ext) // 2)
    s = end
    for t in range(probs.shape[0] - 1, -1, -1):
        if s % 2 == 1:
            conf[s // 2] = max(conf[s // 2], float(probs[t, ext[s]]))
        s -= came_back(t, s)
    return conf


def _extended(probs, labels):
    """CTC's extended sequence of `labels` (blank, label, blank, ...), its log-probabilities per
    step (T x S) and where a state may be reached from two back (a label unlike the one before)."""
    ext = [0]
    for k in labels:
        ext += [k, 0]
    logp = np.log(np.maximum(probs[:, ext], 1e-12))
    ext_a = np.array(ext)
    skip = np.zeros(len(ext), dtype=bool)
    skip[3::2] = ext_a[3::2] != ext_a[1:-2:2]
    return ext, logp, skip


def _logadd(a, b):
    """log(exp(a) + exp(b)); the larger one's exp(0) is exactly 1.0, so it is not computed."""
    if a == -math.inf:
        return b
    if b == -math.inf:
        return a
    if a >= b:
        return a + math.log(1.0 + math.exp(b - a))
    return b + math.log(math.exp(a - b) + 1.0)


def constrained(probs, charset, grammar, beam=8, prune=1e-3, prior_weight=1.0):
    """CTC prefix beam search that keeps only prefixes the grammar can continue; returns the
    accepted string with the best log P(text) - prior_weight * format cost, or None.

    The beam is ranked by that same score, with the cheapest format cost a prefix has run up so
    far: ranked by probability alone, a specific format whose first characters the model was
    less sure of (`EXP` under a read `EXF`) fell out of the beam before its prior could count.
    charset[k] is the character of class k (charset[0] unused: blank). Classes below `prune`
    at a step are skipped, and a prefix's grammar state is computed only when its probability
    could still make the beam (once per prefix): a format cost only lowers a score.
    The compiled decoder runs this same search when it is built (ocr/_decode.c, through the
    grammar's `packed` tables); this is its reference and fallback."""
    fast = grammar.packed()
    classes = fast.classes(charset) if fast is not None and beam >= 1 else None
    # (float32 probabilities and a Python number for `prune`: numpy compares them in float32, so does C)
    if classes is not None and len(classes[0]) >= probs.shape[1] and probs.dtype == np.float32 \
            and type(prune) in (int, float):
        probs = np.ascontiguousarray(probs)
        return fast.constrained(probs, np.log(np.maximum(probs, 1e-12)), prune, classes, beam, prior_weight)
    logp = np.log(np.maximum(probs, 1e-12)).tolist()
    upper = [ch.upper() for ch in charset]
    cands_at = [[] for _ in range(probs.shape[0])]  # per step: (class, character) above `prune`
    steps, classes = np.nonzero(probs[:, 1:] >= prune)
    for t, k in zip(steps.tolist(), (classes + 1).tolist()):
        cands_at[t].append((k, upper[k]))
    kernels = {"": grammar.kernel()}  # prefix -> automaton kernel after reading it ({}: dead)
    spent = {"": grammar.least_cost(kernels[""])}  # prefix -> the least format cost of reading it
    beams = {"": [0.0, -math.inf]}     # prefix -> [log P ending in blank, ending in a label]
    t = 0
    while t < len(cands_at):
        row, cands = logp[t], cands_at[t]
        t += 1
        if not cands:
            # Blank steps (most steps): every prefix ends in blank, none is new, all stay. A run of
            # them is summed at once, each step's blank added in turn; only the order of the beam
            # after the run matters, and when its probabilities are all different it is theirs
            # whatever the order before. On a tie, the run is taken one step at a time.
            end = t
            while end < len(cands_at) and not cands_at[end]:
                end += 1
            nxt = {}
            for prefix, (pb, pnb) in beams.items():
                total = _logadd(pb, pnb) + row[0]
                for step in range(t, end):
                    total += logp[step][0]
                nxt[prefix] = [total, -math.inf]
            if end > t and len({v for v, _ in nxt.values()}) < len(nxt):
                nxt = {prefix: [_logadd(pb, pnb) + row[0], -math.inf] for prefix, (pb, pnb) in beams.items()}
            else:
                t = end
        else:  # sum each path's probability into its prefix: [ending in blank, in a label]
            nxt = {}
            blank = row[0]
            for prefix, (pb, pnb) in beams.items():
                total = _logadd(pb, pnb)
                e = nxt.get(prefix)
                if e is None:
                    nxt[prefix] = [total + blank, -math.inf]
                else:
                    e[0] = _logadd(e[0], total + blank)
                last = prefix[-1] if prefix else None
                for k, c in cands:
                    if last == c:  # a repeat collapses; a new one needs a blank between
                        e = nxt[prefix]
                        e[1] = _logadd(e[1], pnb + row[k])
                        grown, p = prefix + c, pb + row[k]
                    else:
                        grown, p = prefix + c, total + row[k]
                    e = nxt.get(grown)
                    if e is None:
                        nxt[grown] = [-math.inf, p]
                    else:
                        e[1] = _logadd(e[1], p)
        beams = _rank(nxt, kernels, spent, grammar, beam, prior_weight)
    return _best(beams, kernels, grammar, prior_weight)


def _rank(nxt, kernels, spent, grammar, beam, prior_weight):
    """The next beam: the `beam` prefixes of `nxt` the grammar can continue with the best
    log P - prior_weight x the least format cost so far (a prefix's kernel is stepped only when
    its probability alone could still make the beam: a format cost only lowers a score)."""
    kept = []  # min-heap of (score, prefix), at most `beam`
    for prefix, logp_ in sorted(((p, _logadd(*v)) for p, v in nxt.items()), key=lambda kv: -kv[1]):
        if len(kept) == beam and logp_ <= kept[0][0]:
            break  # neither this prefix nor any less probable one can score higher
        if prefix not in kernels:
            kernels[prefix] = grammar.step(kernels[prefix[:-1]], prefix[-1])
            if kernels[prefix]:
                spent[prefix] = grammar.least_cost(kernels[prefix])
        if not kernels[prefix]:
            continue
        entry = (logp_ - prior_weight * spent[prefix], prefix)
        if len(kept) < beam:
            heapq.heappush(kept, entry)
        elif entry > kept[0]:
            heapq.heapreplace(kept, entry)
    return {prefix: nxt[prefix] for _, prefix in kept}


def _best(beams, kernels, grammar, prior_weight):
    """The accepted prefix of the final beam with the best log P - prior_weight x format cost."""
    best, best_score = None, -math.inf
    for prefix, (pb, pnb) in beams.items():
        cost = grammar.accept_cost(kernels[prefix])
        if cost is not None:
            score = _logadd(pb, pnb) - prior_weight * cost
            if score > best_score:
                best, best_score = prefix, score
    return best

