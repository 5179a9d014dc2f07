"""Fields of a read code: its dates (ISO 8601, with what kind of date the label says) and its lot.

Numeric dates are read day first (`DD.MM.YYYY`, `DD/MM/YY`) unless the job says `date_order: MDY`,
or the first number cannot be a month; a year first is always year-month-day. A date printed to
the month (`EXP 05/2027`, `JUN 2021`) is ISO `2027-05` and, for date rules, means its month's last
day (an expiry month runs to its end).
"""
import calendar
import datetime
import re

MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
EXPIRY_LABELS = ("BEST BEFORE END", "BEST BEFORE", "BEST IF USED BY", "BEST BY", "USE BY", "EXPIRY",
                 "EXPIRES", "EXP", "EXD", "BBE", "BB", "E")
PRODUCTION_LABELS = ("PACKED ON", "PROD", "PRO", "MFG", "MFD", "PKD", "DOM")
_LABEL = "(?P<label>" + "|".join(re.escape(x) for x in PRODUCTION_LABELS + EXPIRY_LABELS) + r")\.?\s?[:.#]?\s?"
_SEP = r"[./-]"
_MON = "(?P<mon>" + "|".join(MONTHS) + ")"
_DATE_FORMS = (
    r"(?P<y1>(?:19|20)\d\d)" + _SEP + r"(?P<m1>\d\d)" + _SEP + r"(?P<d1>\d\d)",
    r"(?P<a2>\d\d)" + _SEP + r"(?P<b2>\d\d)" + _SEP + r"(?P<y2>(?:19|20)\d\d|\d\d)",
    r"(?P<d3>\d{1,2})\s?" + _SEP + r"?\s?" + _MON + r"\s?" + _SEP + r"?\s?(?P<y3>(?:19|20)\d\d|\d\d)",
    _MON.replace("mon", "mon4") + r"\s?" + _SEP + r"?\s?(?P<d4>\d{1,2})\s?[-,/.]?\s?(?P<y4>(?:19|20)\d\d)",
    _MON.replace("mon", "mon5") + r"\s?" + _SEP + r"?\s?(?P<y5>(?:19|20)\d\d)",
    r"(?P<m6>\d\d)" + _SEP + r"(?P<y6>(?:19|20)\d\d|\d\d)",
)
_DATE_RE = re.compile(r"(?<![0-9A-Z])(?:" + _LABEL + r")?(?:" + "|".join("(?:%s)" % f for f in _DATE_FORMS)
                      + r")(?![0-9])")
_LOT_RE = re.compile(r"(?<![0-9A-Z])(?:LOT|BATCH|B\.NO)(?:\s?NO\.?)?\s?[:.#]?\s?(?P<lot>[0-9A-Z][0-9A-Z-]*)")
_L_LOT_RE = re.compile(r"(?<![0-9A-Z])L(?P<lot>[0-9][0-9A-Z]{3,})(?![0-9A-Z])")


class ParsedDate(object):
    __slots__ = ("label", "kind", "year", "month", "day", "text")

    def __init__(self, label, year, month, day, text):
        self.label, self.year, self.month, self.day, self.text = label, year, month, day, text
        self.kind = None if label is None else ("production" if label in PRODUCTION_LABELS else "expiry")

    @property
    def iso(self):
        if self.day is None:
            return "%04d-%02d" % (self.year, self.month)
        return "%04d-%02d-%02d" % (self.year, self.month, self.day)

    @property
    def last_day(self):
        """The date itself, or the last day of its month for a month-only date."""
        day = self.day or calendar.monthrange(self.year, self.month)[1]
        return datetime.date(self.year, self.month, day)

    def to_dict(self):
        return {"label": self.label, "kind": self.kind, "iso": self.iso, "text": self.text}


def _year(text):
    y = int(text)
    return y + 2000 if len(text) == 2 else y


def _valid(year, month, day):
    try:
        datetime.date(year, month, day or 1)
    except ValueError:
        return False
    return True


def _from_match(m, order):
    g = m.groupdict()
    if g["y1"]:
        y, mo, d = int(g["y1"]), int(g["m1"]), int(g["d1"])
    elif g["a2"]:
        a, b = int(g["a2"]), int(g["b2"])
        d, mo = (b, a) if (order == "MDY" and a <= 12) or (order == "DMY" and b > 12 >= a) else (a, b)
        y = _year(g["y2"])
    elif g["mon"]:
        y, mo, d = _year(g["y3"]), MONTHS.index(g["mon"]) + 1, int(g["d3"])
    elif g["mon4"]:
        y, mo, d = int(g["y4"]), MONTHS.index(g["mon4"]) + 1, int(g["d4"])
    elif g["mon5"]:
        y, mo, d = int(g["y5"]), MONTHS.index(g["mon5"]) + 1, None
    else:
        y, mo, d = _year(g["y6"]), int(g["m6"]), None
    if not _valid(y, mo, d):
        return None
    return ParsedDate(g["label"], y, mo, d, m.group(0))


def parse_dates(text, order="DMY"):
    """Every date in `text`, left to right (ParsedDate list)."""
    out = []
    for m in _DATE_RE.finditer(text.upper()):
        parsed = _from_match(m, order)
        if parsed is not None:
            out.append(parsed)
    return out


def parse_lot(text):
    """The lot: the code after LOT / BATCH / B.NO, else an `L` followed by digits; or None."""
    up = text.upper()
    m = _LOT_RE.search(up) or _L_LOT_RE.search(up)
    return m.group("lot") if m else None


def parse_fields(text, order="DMY"):
    """{"dates": [...], "date": ISO of the first expiry (or unlabelled) date, "lot": ...}."""
    dates = parse_dates(text, order)
    main = [d for d in dates if d.kind != "production"] or dates
    return {"dates": [d.to_dict() for d in dates], "date": main[0].iso if main else None,
            "lot": parse_lot(text)}
