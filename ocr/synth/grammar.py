"""The text grammar of synthetic codes: formats as line templates, their fields, a regex per
format (a format-aware post-processor can reuse it) and random codes drawn from a random.Random.

A format is one to three line templates in str.format syntax; every field is either a named field
(FIELDS) or a class field: n<k> digits, A<k> letters, X<k> lot alphanumerics, Y<k> look-alikes.
A format of weight 0 is never drawn at random, only by name (the presets' formats, ocr/synth/presets.py):
the default draw, and so the default set, stays what it was.
"""
import calendar
import collections
import datetime
import re
import string

CHARSET = string.digits + string.ascii_uppercase + "./-:,# "

MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
# Lot codes avoid I, O and Q (they read as 1/0): real coders do the same.
LOT_ALNUM = string.digits + "ABCDEFGHJKLMNPRSTUVWXYZ"
# ...but some print them, and a reader confuses these pairs (issue 20): lots made of them on purpose.
LOOKALIKE = "B8O0I1"
_CLASS_CHARS = {"n": string.digits, "A": string.ascii_uppercase, "X": LOT_ALNUM, "Y": LOOKALIKE}
_CLASS_REGEX = {"n": "[0-9]", "A": "[A-Z]", "X": "[0-9A-HJ-NP-Z]", "Y": "[%s]" % LOOKALIKE}
_CLASS_FIELD = re.compile(r"^([nAXY])([0-9]+)$")

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
# Weight 0 from here on: drawn by name only (ocr/synth/presets.py). Every separator a coder prints
# between date fields, where ocr/data/formats.yml reads it: `.` `/` `-`, a space, none, `:` (a
# time, or after a label) and `,` (after the day of a month-name date; formats.yml has no `,` or
# `:` between numeric date fields, so neither is printed there).
SEPARATOR_FORMATS = collections.OrderedDict([
    ("date_dmy_slash", Format(0, ("{dd}/{mm}/{yyyy}",))),
    ("date_dmy_space", Format(0, ("{dd} {mm} {yyyy}",))),
    ("date_dmy_none", Format(0, ("{dd}{mm}{yyyy}",))),
    ("exp_mm_yyyy_space", Format(0, ("EXP {mm} {yyyy}",))),
    ("exp_ymd_none", Format(0, ("EXP {yyyy}{mm}{dd}",))),
    ("exp_yyyy_mm_dash", Format(0, ("EXP {yyyy}-{mm}",))),
    ("exp_colon_dmy_dot", Format(0, ("EXP:{dd}.{mm}.{yyyy}",))),
    ("bb_colon_dmy_dash", Format(0, ("BB: {dd}-{mm}-{yy}",))),
    ("mon_dd_comma_yyyy", Format(0, ("{MON} {dd},{yyyy}",))),
    ("mon_slash_yy", Format(0, ("{MON}/{yy}",))),
    ("dd_mon_yyyy_none", Format(0, ("{dd}{MON}{yyyy}",))),
    ("date_dot_time", Format(0, ("{dd}.{mm}.{yy} {hh}:{mi}",))),
    ("date_slash_time_2l", Format(0, ("EXP {dd}/{mm}/{yy}", "{hh}:{mi}"))),
])
# Lot codes made of the look-alike pairs B/8, O/0, I/1.
LOOKALIKE_FORMATS = collections.OrderedDict([
    ("lot_lookalike", Format(0, ("LOT {Y2}{X2}{Y2}",))),
    ("lot_colon_lookalike", Format(0, ("LOT: {X1}{Y5}",))),
    ("batch_lookalike", Format(0, ("BATCH {Y3}{n3}",))),
    ("code_lookalike", Format(0, ("{A1}{Y4}{n2}",))),
    ("lot_short_lookalike", Format(0, ("L{pyy}{Y4}",))),
    ("lot_lookalike_exp_2l", Format(0, ("LOT {Y2}{n2}{Y2}", "EXP {mm}/{yy}"))),
])
FORMATS.update(SEPARATOR_FORMATS)
FORMATS.update(LOOKALIKE_FORMATS)


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


def _date_context(rng, repeat=0.0):
    """Production date, expiry 2 months to 3 years later, and a time of day; with `repeat` > 0
    each part is, that often, one that prints a doubled digit (11, 22, 2033, 00...)."""
    prod = datetime.date(2019, 1, 1) + datetime.timedelta(days=int(rng.random() * 9 * 365))
    exp = prod + datetime.timedelta(days=60 + int(rng.random() * 1040))
    ctx = {"prod": prod, "exp": exp, "hour": int(rng.random() * 24), "minute": int(rng.random() * 60)}
    if repeat:  # no draw at all otherwise: the default set's codes stay what they were
        ctx["prod"], ctx["exp"] = _doubled_date(prod, rng, repeat), _doubled_date(exp, rng, repeat)
        ctx["hour"] = _pick(rng, (0, 11, 22)) if rng.random() < repeat else ctx["hour"]
        ctx["minute"] = _pick(rng, (0, 11, 22, 33, 44, 55)) if rng.random() < repeat else ctx["minute"]
    return ctx


def _pick(rng, options):
    return options[int(rng.random() * len(options))]


def _doubled_date(date, rng, repeat):
    year = _pick(rng, (2011, 2022, 2033, 2044)) if rng.random() < repeat else date.year
    month = 11 if rng.random() < repeat else date.month
    day = _pick(rng, (11, 22)) if rng.random() < repeat else date.day
    return datetime.date(year, month, min(day, calendar.monthrange(year, month)[1]))


def _field_value(name, ctx, rng, repeat=0.0):
    m = _CLASS_FIELD.match(name)
    if m:
        chars = _CLASS_CHARS[m.group(1)]
        out = []
        for _ in range(int(m.group(2))):
            if out and repeat and rng.random() < repeat:
                out.append(out[-1])
            else:
                out.append(chars[int(rng.random() * len(chars))])
        return "".join(out)
    return FIELDS[name][1](ctx)


def format_lines(name, rng, repeat=0.0):
    """The printed lines of one random code of format `name`; `repeat` (0..1) makes doubled
    characters that much likelier (each class character repeats the one before it that often)."""
    ctx = _date_context(rng, repeat)
    out = []
    for template in FORMATS[name].lines:
        values = {f: _field_value(f, ctx, rng, repeat) for f in template_fields(template)}
        out.append(template.format(**values))
    return out


def doubled_pairs(text):
    """How many places `text` prints one character twice in a row (spaces aside): `11`, `00`..."""
    return sum(1 for a, b in zip(text, text[1:]) if a == b and a != " ")


def weighted(rng, table):
    """A key of `table` (name -> weight, or -> object with .weight), one rng.random() draw; a key
    of weight 0 is never drawn."""
    keys = [k for k in table if getattr(table[k], "weight", table[k]) > 0]
    weights = [getattr(table[k], "weight", table[k]) for k in keys]
    x = rng.random() * sum(weights)
    for key, w in zip(keys, weights):
        x -= w
        if x < 0:
            return key
    return keys[-1]


def random_code(rng, fmt=None, table=None, repeat=0.0):
    """(format name, printed lines) of one random product code; `rng` is a random.Random, `table`
    the formats drawn from (name -> weight; default FORMATS' weights)."""
    name = fmt or weighted(rng, FORMATS if table is None else table)
    return name, format_lines(name, rng, repeat)
