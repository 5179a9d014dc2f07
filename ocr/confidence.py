"""How far to trust a read: signals of the code reader's known failure modes, and a calibrator that
maps them to the probability that the read is right.

The least certain character's probability (`Read.confidence`) misses the errors that matter on a
line, because in each of them every character that *was* read is sure:
- a character the network half-saw and the best path dropped (a dense print's `P113036` read
  `P11036`: the second `3` is 9 % in one frame), or a repeat the path merged (a blank between
  two equal frames): mass on a class whose path would spell another text (`alt`);
- a separator the network is unsure of (`.` against `,` or a space between date fields) (`sep`);
- a sure character the format-aware decoding deleted or swapped to fit a format (a printed `:`
  before a date) (`edit`);
- few frames per character (squeezed glyphs: repeats need a blank between) (`density`), a read in
  generic formats only (`prior`), or in none (`unmatched`).
`line_signals` measures them on one line's per-step probabilities; `crop_signals` combines lines;
`Calibrator` (logistic regression fitted on synthetic reads only, train/codereader/calibrate.py)
turns them into P(correct). `calibration_error` is the expected calibration error the bench
reports. Python 3.6, numpy only.
"""
import difflib
import json
import math

import numpy as np

from . import ctc

SEPARATORS = frozenset(" .,:-/")
# The order of the calibrator's inputs; a calibrator file names them, so a mismatch is caught.
FEATURES = ("char_logit", "alt", "sep", "edit", "density", "prior", "unmatched")
LOGIT_CLIP = 9.0  # a probability of 1 - 1e-4 or more is as sure as it gets


def line_signals(probs, read, charset, costs):
    """Signals of one decoded line (probs T x C, class 0 blank; `read`: ocr.postprocess.Read;
    `costs`: format name -> its prior cost) as a dict; see the module doc."""
    idx = probs.argmax(axis=1)
    alt, sep = _alt_mass(probs, idx, charset)
    return {
        "char": float(read.confidence),
        "alt": alt,
        "sep": sep,
        "edit": _edit_mass(probs, charset, read.text),
        "density": frames_per_char(idx, len(read.text.replace(" ", ""))),
        "prior": sum(costs.get(name, 0.0) for name in (read.formats or ())),
        "unmatched": read.formats is None,
    }


def frames_per_char(idx, chars):
    """Frames from the first labelled frame of the best path (`idx`, its class per frame) to the
    last, per character read (`chars`, spaces not counted); all frames when none is labelled."""
    labelled = np.nonzero(idx)[0]
    span = (labelled[-1] - labelled[0] + 1) if len(labelled) else len(idx)
    return float(span) / max(1, chars)


def _alt_mass(probs, idx, charset):
    """(largest, largest at a separator) per-frame probability of the classes that would spell
    another text than the best path. At frame t the path's class, its neighbours' classes and the
    blank keep the text, except the blank inside a run (`1 1 1` -> `1 _ 1` splits a repeat) and a
    neighbour's class on the blank between a repeat (`1 _ 1` -> `1 1 1` merges it)."""
    T = len(idx)
    if not T:
        return 0.0, 0.0
    before = np.concatenate(([0], idx[:-1]))
    after = np.concatenate((idx[1:], [0]))
    rows = np.arange(T)
    repeat_gap = (idx == 0) & (before == after) & (before != 0)
    other = probs.copy()
    # zero what keeps the text; a neighbour's class on a repeat's gap is the path's (blank) there
    other[rows, np.where(repeat_gap, idx, before)] = 0
    other[rows, np.where(repeat_gap, idx, after)] = 0
    other[rows, idx] = 0
    inside = (idx != 0) & (before == idx) & (after == idx)
    other[:, 0] = np.where(inside, probs[:, 0], 0)
    mass = other.sum(axis=1)
    is_sep = _separator_classes(tuple(charset))
    at_sep = is_sep[idx] | is_sep[other.argmax(axis=1)]
    return float(mass.max()), float(mass[at_sep].max()) if at_sep.any() else 0.0


_SEPARATOR_CLASSES = {}


def _separator_classes(charset):
    """A boolean per class: is it a separator (the blank is not)."""
    if charset not in _SEPARATOR_CLASSES:
        _SEPARATOR_CLASSES[charset] = np.array([bool(k) and ch in SEPARATORS for k, ch in enumerate(charset)])
    return _SEPARATOR_CLASSES[charset]


def _edit_mass(probs, charset, text):
    """The surest character of the best path that the decoding deleted or swapped to reach `text`
    (its best frame's probability; 0 when the text is the best path's)."""
    labels, peaks = ctc.greedy(probs)
    read = "".join(charset[k] for k in labels).upper()
    if read == text.upper():
        return 0.0
    worst = 0.0
    for op, a0, a1, _, _ in difflib.SequenceMatcher(None, read, text.upper(), autojunk=False).get_opcodes():
        if op in ("delete", "replace"):
            worst = max([worst] + peaks[a0:a1])
    return worst


def crop_signals(lines):
    """The signals of a crop read as these lines (line_signals dicts): the worst line's each
    (priors add up, as one code's items do); None for a crop with no line read."""
    if not lines:
        return None
    return {"char": min(s["char"] for s in lines), "alt": max(s["alt"] for s in lines),
            "sep": max(s["sep"] for s in lines), "edit": max(s["edit"] for s in lines),
            "density": min(s["density"] for s in lines), "prior": sum(s["prior"] for s in lines),
            "unmatched": any(s["unmatched"] for s in lines)}


def features(signals):
    """The calibrator's inputs (FEATURES order) from a crop's signals."""
    p = min(max(signals["char"], 1e-12), 1 - 1e-12)
    logit = max(-LOGIT_CLIP, min(LOGIT_CLIP, math.log(p / (1 - p))))
    return [logit, signals["alt"], signals["sep"], signals["edit"], signals["density"],
            signals["prior"], 1.0 if signals["unmatched"] else 0.0]


def _sigmoid(z):
    return 1.0 / (1.0 + math.exp(-z)) if z >= 0 else math.exp(z) / (1.0 + math.exp(z))


class Calibrator(object):
    """P(read right) = sigmoid(bias + weights . standardised features)."""

    def __init__(self, weights, bias, mean, scale, meta=None):
        self.weights, self.bias = [float(w) for w in weights], float(bias)
        self.mean, self.scale = [float(m) for m in mean], [float(s) for s in scale]
        self.meta = dict(meta or {})

    def probability(self, signals):
        x = features(signals)
        z = self.bias + sum(w * (v - m) / s for w, v, m, s in zip(self.weights, x, self.mean, self.scale))
        return _sigmoid(z)

    @classmethod
    def fit(cls, signals, correct, l2=1.0, iterations=50, meta=None):
        """Logistic regression by Newton's method (L2 on the weights, not the bias) on crops'
        signals and whether each read was right."""
        X = np.array([features(s) for s in signals], dtype=np.float64)
        y = np.array(correct, dtype=np.float64)
        mean, scale = X.mean(axis=0), X.std(axis=0)
        scale[scale < 1e-9] = 1.0
        Z = np.hstack([np.ones((len(X), 1)), (X - mean) / scale])
        w = np.zeros(Z.shape[1])
        penalty = np.full(Z.shape[1], l2)
        penalty[0] = 0.0
        for _ in range(iterations):
            p = 1.0 / (1.0 + np.exp(-Z.dot(w)))
            grad = Z.T.dot(p - y) + penalty * w
            hess = (Z * (p * (1 - p))[:, None]).T.dot(Z) + np.diag(penalty + 1e-9)
            step = np.linalg.solve(hess, grad)
            w -= step
            if np.abs(step).max() < 1e-10:
                break
        return cls(w[1:], w[0], mean, scale, meta)

    def to_dict(self):
        return dict(self.meta, features=list(FEATURES), weights=self.weights, bias=self.bias,
                    mean=self.mean, scale=self.scale)

    @classmethod
    def from_dict(cls, data):
        if list(data.get("features") or []) != list(FEATURES):
            raise ValueError("calibrator features {} are not this kit's {}".format(data.get("features"),
                                                                                   list(FEATURES)))
        return cls(data["weights"], data["bias"], data["mean"], data["scale"],
                   {k: v for k, v in data.items() if k not in ("features", "weights", "bias", "mean", "scale")})

    @classmethod
    def load(cls, path, model_sha256):
        """The calibrator in `path` if it was fitted for this very model file, else None."""
        data = fitted_for(path, model_sha256)
        return cls.from_dict(data) if data is not None else None


def fitted_for(path, model_sha256):
    """The JSON object in `path` (a calibrator, a threshold) if it names this very model file
    (`model_sha256`), else None; a missing or unreadable file is None too."""
    try:
        with open(path) as f:
            data = json.load(f)
    except (IOError, ValueError):
        return None
    return data if isinstance(data, dict) and data.get("model_sha256") == model_sha256 else None


def calibration_error(records, bins=10):
    """Expected calibration error: over `bins` equal-width confidence bins, the share of reads in
    each times |mean confidence - accuracy| there, summed. records: (confidence, correct)."""
    records = [(min(max(float(c), 0.0), 1.0), bool(ok)) for c, ok in records]
    if not records:
        return None
    total = 0.0
    for b in range(bins):
        inside = [(c, ok) for c, ok in records
                  if (b / float(bins) <= c < (b + 1) / float(bins)) or (b == bins - 1 and c == 1.0)]
        if inside:
            conf = sum(c for c, _ in inside) / len(inside)
            acc = sum(ok for _, ok in inside) / float(len(inside))
            total += len(inside) / float(len(records)) * abs(conf - acc)
    return total
