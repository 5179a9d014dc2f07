"""The compiled decoder (ocr/_decode.c), when it is there: the hot loops of `Grammar.correct`
(ocr/formats.py) and of the constrained CTC beam (ocr/ctc.py) over a grammar's tables packed
once. Those Python functions stay the reference and the fallback, with the same reads:

- `module()` is the extension, or None when it is not built, was built for another table layout,
  or KIT_PURE_PYTHON=1 asks for the pure-Python path (read once, into PURE: a lookup of the
  environment per call was a tenth of decoding; tests set PURE);
- `Packed(grammar)` is a grammar's tables in the extension's layout, built on first use.

Runs on the Nano's Python 3.6 (ocr/build_ext.py builds the extension there; setup.py elsewhere).
"""
import os

TABLE_VERSION = 1  # ocr/_decode.c's VERSION: a module built from older source is not used

PURE = bool(os.environ.get("KIT_PURE_PYTHON"))

try:
    from . import _decode
except ImportError:
    _decode = None


def module():
    """The extension module, or None: pure Python."""
    if PURE or _decode is None:
        return None
    return _decode if getattr(_decode, "VERSION", None) == TABLE_VERSION else None


class Packed(object):
    """A grammar's automaton in the extension's layout: per state its epsilon closure (eclosure's
    order, costs, label ids), its character edges (a flag per character id), the least closure
    cost and the cost into the accepting state; per character id its look-alikes. Characters are
    numbered over the alphabet and the look-alikes' keys; any other reads nothing."""

    def __init__(self, grammar, sub_cost, drop_cost):
        chars = sorted(grammar.alphabet | {k for k in grammar.lookalikes if isinstance(k, str) and len(k) == 1})
        self.ids = {c: i for i, c in enumerate(chars)}
        self.other = len(chars)
        names = []
        label_id = {}
        cl_off, cl_state, cl_cost, cl_lab_off, lab = [0], [], [], [0], []
        least, acc, has_acc = [], [], bytearray()
        for s in range(len(grammar.trans)):
            closed = grammar.eclosure(s)
            for t, (cost, labels) in closed.items():
                cl_state.append(t)
                cl_cost.append(cost)
                for name in labels:
                    if name not in label_id:
                        label_id[name] = len(names)
                        names.append(name)
                    lab.append(label_id[name])
                cl_lab_off.append(len(lab))
            cl_off.append(len(cl_state))
            least.append(min((cost for cost, _ in closed.values()), default=float("inf")))
            has_acc.append(grammar.accept in closed)
            acc.append(closed[grammar.accept][0] if grammar.accept in closed else 0.0)
        tr_off, tr_target, reads = [0], [], bytearray()
        for edges in grammar.trans:
            for cs, t in edges:
                tr_target.append(t)
                reads.extend(c in cs for c in chars)
            tr_off.append(len(tr_target))
        lk_off, lk_alt = [0], []
        for c in chars:  # only look-alikes some edge reads can ever be used
            lk_alt.extend(self.ids[a] for a in grammar.lookalikes.get(c, "") if a in grammar.alphabet)
            lk_off.append(len(lk_alt))
        self.tables = _decode.tables(
            len(grammar.trans), grammar.start, grammar.accept, len(chars), self.ids.get(" ", -1),
            float(sub_cost), float(drop_cost), cl_off, cl_state, cl_cost, cl_lab_off, lab, tr_off, tr_target,
            bytes(reads), lk_off, lk_alt, [ord(c) for c in chars], least, acc, bytes(has_acc), tuple(names))
        self._classes = {}

    def char_ids(self, text):
        """The character id of each character of text.upper(), or None when some character's upper
        case is not one character (the Python path decides those)."""
        up = text.upper()
        if len(up) != len(text):
            return None
        ids, other = self.ids, self.other
        return [ids.get(c, other) for c in up]

    def correct(self, text, ids):
        """Grammar.correct(text), given char_ids(text)."""
        return _decode.correct(self.tables, text, ids)

    def constrained(self, probs, logp, prune, per_class, beam, prior_weight):
        """ctc.constrained's search: probs and logp T x C float32 (C order); per_class what
        `classes(charset)` gives."""
        return _decode.constrained(self.tables, probs, logp, prune, per_class[0], per_class[1], beam, prior_weight)

    def classes(self, charset):
        """(code point, character id) of each class's upper case, or None when one is not one
        character (the Python path decides those). Cached per charset."""
        key = tuple(charset)
        if key not in self._classes:
            upper = [ch.upper() for ch in charset]
            if any(len(c) != 1 for c in upper[1:]):
                self._classes[key] = None
            else:
                cps = [0] + [ord(c) for c in upper[1:]]
                self._classes[key] = (cps, [-1] + [self.ids.get(c, self.other) for c in upper[1:]])
        return self._classes[key]
