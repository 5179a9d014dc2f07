"""The text grammar of synthetic codes: formats as line templates, their fields, a regex per
format (a format-aware post-processor can reuse it) and random codes drawn from a random.Random.

A format is one to three line templates in str.format syntax; every field is either a named field
(FIELDS) or a class field: n<k> digits, A<k> letters, X<k> lot alphanumerics.
"""
import collections
import datetime
import re
import string

CHARSET = string.digits + string.ascii_uppercase + "./-:,# "

MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
# Lot codes avoid I, O and Q (they read as 1/0): real coders do the same.
LOT_ALNUM = string.digits + "ABCDEFGHJKLMNPRSTUVWXYZ"
_CLASS_CHARS = {"n": string.digits, "A": string.ascii_uppercase, "X": LOT_ALNUM}
_CLASS_REGEX = {"n": "[0-9]", "A": "[A-Z]", "X": "[0-9A-HJ-NP-Z]"}
_CLASS_FIELD = re.compile(r"^([nAX])([0-9]+)$")

_MONTH_RE = "(?:" + "|".join(MONTHS) + ")"
# Named fields: regex of what they produce, and how to produce it from the sample's dates
# (`exp` = expiry/best-before, `prod` = production; plain names are expiry, p-prefixed production).
FIELDS = collections.OrderedDict([
    ("dd", (r"(?:0[1-9]|[12][0-9]|3[01])", lambda c: "%02d" % c["exp"].day)),
    ("mm", (r"(?:0[1-9]|1[0-2])", lambda c: "%02d" % c["exp"].month)),
    ("yyyy", (r"20[0-9]{2}", lambda c: "%04d" % c["exp"].year)),
    ("yy", (r"[0-9]{2}", lambda c: "%02d" % (c["exp"].year % 100))),
    ("MON", (_MONTH_RE, lambda c: MONTHS[c["exp"].month - 1])),
    ("pdd", (r"(?:0[1-9]|[12][0-9]|3[01])", lambda c: "%02d" % c["prod"].day)),
    ("pmm", (r"(?:0[1-9]|1[0-2])", lambda c: "%02d" % c["prod"].month)),
    ("pyyyy", (r"20[0-9]{2}", lambda c: "%04d" % c["prod"].year)),
    ("pyy", (r"[0-9]{2}", lambda c: "%02d" % (c["prod"].year % 100))),
    ("hh", (r"(?:[01][0-9]|2[0-3])", lambda c: "%02d" % c["hour"])),
    ("mi", (r"[0-5][0-9]", lambda c: "%02d" % c["minute"])),
])

Format = collections.namedtuple("Format", "weight lines")
FORMATS = collections.OrderedDict([
    # the paper's example, three lines: PRO/EXP, lot, time
    ("pro_exp_lot_time", Format(3, ("PRO:{pmm}/{pyyyy} EXP:{mm}/{yyyy}", "L{n10}", "H{hh}:{mi}"))),
    ("exp_dot_date", Format(3, ("EXP {yyyy}.{mm}.{dd}",))),
    ("best_before", Format(2, ("BEST BEFORE {dd}/{mm}/{yyyy}",))),
    ("best_before_2l", Format(1, ("BEST BEFORE", "{dd}/{mm}/{yyyy}"))),
    ("dd_mon_yyyy", Format(2, ("{dd} {MON} {yyyy}",))),
    ("mon_dd_yyyy", Format(2, ("{MON}-{dd}-{yyyy}",))),
    ("lot_dash", Format(2, ("LOT {A1}{n5}-{A1}{n1}",))),
    ("lot_short", Format(2, ("L{pyy}{X4}",))),
    ("pcode_mm_yy", Format(2, ("P{n6} {mm}/{yy}",))),
    ("mfg_lot_2l", Format(2, ("MFG:{pyyyy}.{pmm}.{pdd}", "LOT{pyy}{pmm}{pdd}{n3}"))),
    ("best_if_used_by", Format(1, ("BEST IF USED BY {MON} {yyyy}",))),
    ("date_ymd_dot", Format(4, ("{yyyy}.{mm}.{dd}",))),
    ("date_dmy_dot", Format(2, ("{dd}.{mm}.{yyyy}",))),
    ("date_dmy_slash_yy", Format(2, ("{dd}/{mm}/{yy}",))),
    ("date_dmy_dash", Format(1, ("{dd}-{mm}-{yyyy}",))),
    ("date_ymd_slash", Format(1, ("{yyyy}/{mm}/{dd}",))),
    ("exp_mm_yy", Format(1, ("EXP {mm}/{yy}",))),
    ("exp_mon_dd_yyyy", Format(1, ("EXP {MON} {dd}, {yyyy}",))),
    ("exp_lot_2l", Format(2, ("EXP {dd}/{mm}/{yyyy}", "LOT {n6}"))),
    ("date_lot", Format(1, ("{dd}/{mm}/{yy} L{n5}",))),
    ("mfg_exp_2l", Format(1, ("MFG {pdd}/{pmm}/{pyyyy}", "EXP {dd}/{mm}/{yyyy}"))),
    ("bb_dd_mon_yy", Format(1, ("BB {dd} {MON} {yy}",))),
    ("batch_no", Format(1, ("BATCH #{X6}",))),
    ("date_time_lot_3l", Format(1, ("{dd}.{mm}.{yyyy}", "{hh}:{mi}", "L{n4}{A1}"))),
])


def template_fields(template):
    """Field names of one line template, in order (e.g. ['yyyy', 'mm', 'dd'])."""
    return [f for _, f, _, _ in string.Formatter().parse(template) if f]


def _field_regex(name):
    m = _CLASS_FIELD.match(name)
    if m:
        return "%s{%s}" % (_CLASS_REGEX[m.group(1)], m.group(2))
    return FIELDS[name][0]


def format_pattern(name):
    """Compiled regex matching the label of format `name` (lines joined by one space)."""
    parts = []
    for template in FORMATS[name].lines:
        for literal, field, _, _ in string.Formatter().parse(template):
            parts.append(re.escape(literal))
            if field:
                parts.append(_field_regex(field))
        parts.append(" ")
    return re.compile("^" + "".join(parts[:-1]) + "$")


def _date_context(rng):
    """Production date, expiry 2 months to 3 years later, and a time of day."""
    prod = datetime.date(2019, 1, 1) + datetime.timedelta(days=int(rng.random() * 9 * 365))
    exp = prod + datetime.timedelta(days=60 + int(rng.random() * 1040))
    return {"prod": prod, "exp": exp, "hour": int(rng.random() * 24), "minute": int(rng.random() * 60)}


def _field_value(name, ctx, rng):
    m = _CLASS_FIELD.match(name)
    if m:
        chars = _CLASS_CHARS[m.group(1)]
        return "".join(chars[int(rng.random() * len(chars))] for _ in range(int(m.group(2))))
    return FIELDS[name][1](ctx)


def format_lines(name, rng):
    """The printed lines of one random code of format `name`."""
    ctx = _date_context(rng)
    out = []
    for template in FORMATS[name].lines:
        values = {f: _field_value(f, ctx, rng) for f in template_fields(template)}
        out.append(template.format(**values))
    return out


def weighted(rng, table):
    """A key of `table` (name -> weight, or -> object with .weight), one rng.random() draw."""
    keys = list(table)
    weights = [getattr(table[k], "weight", table[k]) for k in keys]
    x = rng.random() * sum(weights)
    for key, w in zip(keys, weights):
        x -= w
        if x < 0:
            return key
    return keys[-1]


def random_code(rng, fmt=None):
    """(format name, printed lines) of one random product code; `rng` is a random.Random."""
    name = fmt or weighted(rng, FORMATS)
    return name, format_lines(name, rng)
