"""Format-aware decoding of one line of product code: the thin join of CTC decoding (ocr/ctc.py) and
the format grammar (ocr/formats.py), used three ways on a recogniser's output:

1. the top path (`ctc.greedy`) read as formats (`Grammar.correct`): look-alikes swapped where a
   slot demands, each swap costing 1 and generic formats costing their prior;
2. when the top path is no clean reading of a specific format, the most probable string the
   grammar accepts (`ctc.constrained`), ranked by probability less the format cost run up so
   far (skipped when it provably cannot beat the top path);
3. text matching no format even then is returned unchanged and flagged (`format` None).

Runs on the Nano's Python 3.6 (numpy + pyyaml only).
"""
import math

from . import ctc

PRIOR_WEIGHT = 2.0      # nats of model log-probability one unit of format cost is worth
# The top path read as no format stays a candidate at this cost: a format found only by deleting
# or changing characters the model is sure of must not beat it (a code the grammar does not know).
# Above one swap plus a clear look-alike confusion (EXP 05/2O25 -> 2025 still wins); the synthetic
# calibration set (seed 7002) reads the same at 2-6.
UNMATCHED_COST = 4.0


class Read(object):
    """A decoded line: text, per-character probabilities, the formats it was read as (None: no
    format matched, text unchanged), how it was obtained, and what ocr/confidence.py measured
    of it (None until measured)."""

    __slots__ = ("text", "char_probs", "formats", "how", "signals")

    def __init__(self, text, char_probs, formats, how, signals=None):
        self.text, self.char_probs, self.formats, self.how = text, char_probs, formats, how
        self.signals = signals

    @property
    def confidence(self):
        """The least certain character's probability (0 for an empty read)."""
        return min(self.char_probs) if self.char_probs else 0.0


def decode(probs, charset, grammar=None, constrain=True, prior_weight=PRIOR_WEIGHT):
    """Greedy CTC, then format-aware decoding; probs T x C with charset[k] for class k.

    Candidates: the top path read as formats (look-alikes swapped where a slot demands) and,
    unless that reading is clean (specific formats, no swap), the most probable string the
    grammar accepts (constrained beam), and the top path itself at UNMATCHED_COST unless it
    reads as a format unchanged. The winner maximises log P(best alignment) minus prior_weight
    x its format cost; the top path winning is returned unchanged, flagged (formats None)."""
    labels, conf = ctc.greedy(probs)
    text = "".join(charset[k] for k in labels)
    if grammar is None or not text.strip():
        return Read(text, conf, None, "greedy")
    where = _classes(charset)
    candidates = []  # (score, log P, Read) of each candidate that fits the frames
    fixed = grammar.correct(text)
    if fixed is not None:
        candidates.append(_scored(probs, where, prior_weight, fixed + ("greedy" if fixed[0] == text else "grammar",)))
    if fixed is None or fixed[0] != text:
        candidates.append(_scored(probs, where, prior_weight, (text, UNMATCHED_COST, None, "unmatched")))
    if constrain and (fixed is None or fixed[1] > 0) and not _beam_cannot_win(candidates[0]):
        beam_text = ctc.constrained(probs, charset, grammar, prior_weight=prior_weight)
        beam = fixed if beam_text == text else (grammar.correct(beam_text) if beam_text else None)
        if beam is not None and beam[0] != (fixed or ("",))[0]:
            candidates.append(_scored(probs, where, prior_weight, beam + ("constrained",)))
    best = None
    for cand in candidates:
        if cand is not None and (best is None or cand[0] > best[0]):
            best = cand
    return best[2] if best else Read(text, conf, None, "unmatched")


_CLASSES = {}  # tuple(charset) -> {character: class}: an engine decodes every line with one charset


def _classes(charset):
    key = tuple(charset)
    if key not in _CLASSES:
        if len(_CLASSES) > 8:
            _CLASSES.clear()
        _CLASSES[key] = {ch: k for k, ch in enumerate(charset) if k}
    return _CLASSES[key]


def _scored(probs, where, prior_weight, candidate):
    """(log P(best alignment) - prior_weight x format cost, log P, Read) of a candidate
    (text, cost, format names, how), or None when its text does not fit the frames."""
    cand_text, cost, names, how = candidate
    cand_labels = [where.get(ch, where.get(ch.upper())) for ch in cand_text]
    aligned = ctc.align(probs, cand_labels) if None not in cand_labels else None
    if aligned is None:
        return None
    return aligned[1] - prior_weight * cost, aligned[1], Read(cand_text, aligned[0], names, how)


def _beam_cannot_win(first):
    """True when no string the beam could add outscores the top path read as a format as it
    stands (`first`, scored, how "greedy"): any other string has at most 1 - P(top path) of the
    probability, and a format cost only lowers a score. Exact; spares the beam on ~1 in 4 of the
    lines that would run it (sure lot codes and numbers, which cost their prior)."""
    if first is None or first[2].how != "greedy":
        return False
    score, top, _ = first
    return top >= 0.0 or score >= math.log(-math.expm1(top))
