"""The paper's accuracy metrics (section 5.1), raw and after normalisation.

- strict accuracy: the whole string equal;
- CER: Levenshtein(prediction, truth) / len(truth), the mean over samples, plus corpus CER
  (sum of distances / sum of truth lengths). With an empty truth the denominator is 1, so an empty
  prediction scores 0 and every extra character counts 1;
- character precision / recall: characters as a multiset (true positives = the multiset
  intersection), micro-averaged over the corpus; per sample an empty side scores 0 unless both
  are empty (then 1).
Normalised variants remove all whitespace and upper-case both sides: many real labels differ from
predictions only in spaces.
"""
import collections
import difflib
import re

try:  # rapidfuzz >= 2 (Python 3.7+)
    from rapidfuzz.distance import Levenshtein as _lev

    def levenshtein(a, b):
        return _lev.distance(a, b)
except ImportError:  # rapidfuzz 1.x, the last line for Python 3.6 (the Nano)
    from rapidfuzz.string_metric import levenshtein  # noqa: F401

_WS = re.compile(r"\s+")


def normalise(text):
    return _WS.sub("", text or "").upper()


def sample_scores(pred, truth):
    """Per-sample scores of one prediction against its truth."""
    pred, truth = pred or "", truth or ""
    dist = levenshtein(pred, truth)
    tp = sum((collections.Counter(pred) & collections.Counter(truth)).values())
    both_empty = not pred and not truth
    return {
        "exact": pred == truth,
        "distance": dist,
        "truth_len": len(truth),
        "pred_len": len(pred),
        "tp": tp,
        "cer": dist / float(max(len(truth), 1)),
        "precision": 1.0 if both_empty else (tp / float(len(pred)) if pred else 0.0),
        "recall": 1.0 if both_empty else (tp / float(len(truth)) if truth else 0.0),
    }


def _aggregate(scores):
    n = len(scores)
    if not n:
        return {"n": 0, "strict_accuracy": None, "cer": None, "corpus_cer": None,
                "char_precision": None, "char_recall": None}
    truth_chars = sum(s["truth_len"] for s in scores)
    pred_chars = sum(s["pred_len"] for s in scores)
    tp = sum(s["tp"] for s in scores)
    return {
        "n": n,
        "strict_accuracy": sum(1 for s in scores if s["exact"]) / float(n),
        "cer": sum(s["cer"] for s in scores) / n,
        "corpus_cer": sum(s["distance"] for s in scores) / float(max(truth_chars, 1)),
        "char_precision": tp / float(pred_chars) if pred_chars else 0.0,
        "char_recall": tp / float(truth_chars) if truth_chars else 0.0,
    }


def collapsed_repeats(pred, truth):
    """How many characters of a doubled (or longer) run in the truth the prediction lost while
    keeping the run (`P113036` read `P13036`: 1), normalised: the error CTC makes when a repeat
    gets no blank frame between its characters."""
    pred, truth = normalise(pred), normalise(truth)
    lost = 0
    for op, a0, a1, _, _ in difflib.SequenceMatcher(None, truth, pred, autojunk=False).get_opcodes():
        if op != "delete":
            continue
        for k in range(a0, a1):
            kept = (a0 > 0 and truth[a0 - 1] == truth[k]) or (a1 < len(truth) and truth[a1] == truth[k])
            lost += bool(kept)
    return lost


def evaluate(pairs):
    """pairs: iterable of (prediction, truth). Returns {"raw": {...}, "normalised": {...}}, the
    normalised one with the count of reads that collapsed a repeat (collapsed_repeats)."""
    pairs = list(pairs)
    raw = [sample_scores(p, t) for p, t in pairs]
    normed = [(normalise(p), normalise(t)) for p, t in pairs]
    out = {"raw": _aggregate(raw), "normalised": _aggregate([sample_scores(p, t) for p, t in normed])}
    out["normalised"]["collapsed_repeat_reads"] = sum(1 for p, t in normed if collapsed_repeats(p, t))
    return out


def precision_at_threshold(records, threshold):
    """Accepted reads are those with confidence >= threshold: (precision, coverage) on normalised
    exact match. records: iterable of (confidence, correct)."""
    records = list(records)
    accepted = [ok for conf, ok in records if conf >= threshold]
    if not records:
        return None, None
    coverage = len(accepted) / float(len(records))
    precision = sum(accepted) / float(len(accepted)) if accepted else None
    return precision, coverage


def threshold_for_precision(records, target=0.99):
    """The lowest confidence threshold whose accepted reads reach `target` precision (None when no
    threshold does). Pick it on a calibration set, never on the evaluation set itself."""
    records = sorted(records, key=lambda r: -r[0])
    best, correct = None, 0
    for i, (conf, ok) in enumerate(records, 1):
        correct += bool(ok)
        if correct / float(i) >= target and (i == len(records) or records[i][0] < conf):
            best = conf
    return best
