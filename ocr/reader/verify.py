"""Verification: is a read trusted, and does it match what the job expects?

REJECT  not trusted: confidence below the threshold (the engine's shipped one unless the job sets
        one), no format fits the read, or it fits none of the job's expected formats;
PASS    trusted and every rule holds; FAIL trusted, and a rule does not hold.

Rules (all that the job sets must hold): `text` (one expected text), `expect` (an expected text
per item), `pattern` (formats language), `date` (a date relative to the clock), `lot_file` (the lot
printed must be the one in a file, re-read when the file changes). Texts compare with spaces
removed and upper-cased (`match: normalised`, the default: printed spacing is unreliable) or as
they are (`match: exact`).
"""
import datetime
import os
import re

from .. import formats
from . import fields

PASS, FAIL, REJECT = "PASS", "FAIL", "REJECT"
VERDICTS = (PASS, FAIL, REJECT)
_DATE_RULE = re.compile(r"^\s*(?P<label>[A-Z][A-Z .]*?)?\s*(?P<op>between|before|after|on)\s+(?P<a>\S+)"
                        r"(?:\s+and\s+(?P<b>\S+))?\s*$", re.IGNORECASE)
_WHEN = re.compile(r"^(?:today(?:(?P<sign>[+-])(?P<n>\d+)(?P<unit>[dw]))?|(?P<iso>\d{4}-\d\d-\d\d))$", re.IGNORECASE)


class RuleError(ValueError):
    pass


def normalise(text):
    return "".join(text.split()).upper()


def _when(token, today):
    m = _WHEN.match(token)
    if not m:
        raise RuleError("'{}' is no day: use today, today+540d, today-2w or YYYY-MM-DD".format(token))
    if m.group("iso"):
        return datetime.datetime.strptime(m.group("iso"), "%Y-%m-%d").date()
    if not m.group("sign"):
        return today
    days = int(m.group("n")) * (7 if m.group("unit").lower() == "w" else 1)
    return today + datetime.timedelta(days=days if m.group("sign") == "+" else -days)


class DateRule(object):
    """"EXP between today+540d and today+550d" | "MFG on today" | "before 2027-01-01" | "after today".

    The label picks which printed date: a production label (MFG, PROD...) the production date, any
    other label the expiry date (or an unlabelled one); no label: the first date. Bounds are
    inclusive."""

    def __init__(self, text):
        m = _DATE_RULE.match(text)
        if not m or (m.group("op").lower() == "between") != bool(m.group("b")):
            raise RuleError("'{}': expected '[LABEL] between A and B', '[LABEL] before|after|on A'".format(text))
        self.text, self.op = text, m.group("op").lower()
        label = (m.group("label") or "").strip().upper() or None
        if label and label not in fields.EXPIRY_LABELS + fields.PRODUCTION_LABELS:
            raise RuleError("'{}': unknown date label '{}' (one of {})".format(
                text, label, ", ".join(fields.EXPIRY_LABELS + fields.PRODUCTION_LABELS)))
        self.kind = None if label is None else ("production" if label in fields.PRODUCTION_LABELS else "expiry")
        self.bounds = [m.group("a")] + ([m.group("b")] if m.group("b") else [])
        for token in self.bounds:
            _when(token, datetime.date.today())  # fails now, on load, not on the first item

    def check(self, dates, today):
        """(ok, why) for the ParsedDate list of a read."""
        if self.kind == "production":
            picked = [d for d in dates if d.kind == "production"]
        elif self.kind == "expiry":
            picked = [d for d in dates if d.kind == "expiry"] or [d for d in dates if d.kind is None]
        else:
            picked = dates
        if not picked:
            return False, "no {}date read".format(self.kind + " " if self.kind else "")
        day = picked[0].last_day
        a = _when(self.bounds[0], today)
        ok = {"between": lambda: a <= day <= _when(self.bounds[1], today), "before": lambda: day < a,
              "after": lambda: day > a, "on": lambda: day == a}[self.op]()
        return ok, "{} {} {}".format(picked[0].iso, "fits" if ok else "breaks", self.text)


class PatternRule(object):
    """A pattern in the formats language (ocr/data/formats.yml, its macros available): the whole
    read must be one item of it, character for character (no look-alike swaps)."""

    def __init__(self, pattern, macros):
        self.pattern = pattern
        try:
            self.grammar = formats.Grammar([{"name": "expected", "pattern": pattern}], macros)
        except (formats.PatternError, ValueError, IndexError) as exc:
            raise RuleError("pattern {!r}: {}".format(pattern, exc)) from None

    def check(self, text):
        best = self.grammar.correct(text) if text.strip() else None
        ok = best is not None and best[1] == 0 and len(best[2]) == 1 and best[0].upper() == text.upper()
        return ok, "{} pattern {!r}".format("fits" if ok else "breaks", self.pattern)


class LotFile(object):
    """The expected lot, the first non-empty line of a file, re-read when the file changes (the
    line's controller writes it at a lot change)."""

    def __init__(self, path):
        self.path, self._stamp, self._lot = path, None, None
        self.lot()

    def lot(self):
        try:
            st = os.stat(self.path)
        except OSError as exc:
            raise RuleError("lot_file {}: {}".format(self.path, exc.strerror)) from None
        stamp = (st.st_mtime, st.st_size)
        if stamp != self._stamp:
            with open(self.path) as f:
                lines = [line.strip() for line in f if line.strip()]
            if not lines:
                raise RuleError("lot_file {}: empty".format(self.path))
            self._stamp, self._lot = stamp, lines[0]
        return self._lot


def _names(key):
    """An item key, its file name, its file name without extension."""
    base = os.path.basename(key)
    return (key, base, os.path.splitext(base)[0])


def _index(expect):
    """The expectation map, also under each key's file name and stem where that is unambiguous
    (a manifest's `crops/a.png` matches an image read from the folder as `a.png`)."""
    out, seen = {}, {}
    for key, text in expect.items():
        for k in _names(key)[1:]:
            seen.setdefault(k, []).append(text)
    out.update({k: v[0] for k, v in seen.items() if len(v) == 1})
    out.update(expect)
    return out


class Verifier(object):
    """Judges reads against a job's rules (built by ocr.reader.job)."""

    def __init__(self, threshold=None, formats=None, text=None, expect=None, pattern=None, date=None,
                 lot_file=None, match="normalised", now=None, date_order="DMY"):
        self.threshold, self.formats = threshold, set(formats) if formats else None
        self.text, self.expect, self.pattern, self.date, self.lot_file = text, expect, pattern, date, lot_file
        self.match, self.now, self.date_order = match, now, date_order
        self._expect = _index(expect) if expect is not None else None

    def today(self):
        return self.now or datetime.date.today()

    def _same(self, a, b):
        return a == b if self.match == "exact" else normalise(a) == normalise(b)

    def trusted(self, text, confidence, formats):
        """(trusted, why not)."""
        if not text.strip():
            return False, "nothing read"
        if formats is None:
            return False, "fits no format"
        if self.formats is not None:
            odd = sorted({f for names in formats for f in names} - self.formats)
            if odd:
                return False, "format {} not expected".format(", ".join(odd))
        if self.threshold is not None and confidence < self.threshold:
            return False, "confidence {:.3f} < {:.3f}".format(confidence, self.threshold)
        return True, ""

    def expected_for(self, key):
        """The expected text of an item from the expectation map, or None when it has none."""
        if self._expect is None:
            return None
        for k in _names(key):
            if k in self._expect:
                return self._expect[k]
        return None

    def judge(self, text, confidence, formats, key):
        """(verdict, reason, parsed fields) of one read; `key` names the item for `expect`."""
        parsed = fields.parse_fields(text, self.date_order)
        ok, why = self.trusted(text, confidence, formats)
        if not ok:
            return REJECT, why, parsed
        failed, held = [], []
        checks = []
        if self.text is not None:
            checks.append((self._same(text, self.text), "text {!r}".format(self.text)))
        if self.expect is not None:
            want = self.expected_for(key)
            checks.append((want is not None and self._same(text, want),
                           "expected {!r}".format(want) if want is not None else "no expected text for " + key))
        if self.pattern is not None:
            checks.append(self.pattern.check(text))
        if self.date is not None:
            checks.append(self.date.check(fields.parse_dates(text, self.date_order), self.today()))
        if self.lot_file is not None:
            lot = self.lot_file.lot()
            checks.append((parsed["lot"] is not None and parsed["lot"].upper() == lot.upper(),
                           "lot {} (file: {})".format(parsed["lot"], lot)))
        for good, what in checks:
            (held if good else failed).append(what)
        if failed:
            return FAIL, "; ".join(failed), parsed
        return PASS, "; ".join(held) or "read (no rule)", parsed
