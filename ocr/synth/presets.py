"""Presets: what a whole set draws from. `default` is the embedded set's recipe (every style and
format by its weight); the others are evaluation sets of what real prints fail on (issue 20):

- `doubled`: codes rich in doubled characters (`11`, `33`, `00`, `88`... in dates and lot codes;
  every printed line has at least one), in every style (the default mix, plus `cij_binarised`),
  a third of them squeezed so glyphs are narrow: the repeats that CTC collapses when a character
  gets too few frames.
- `failures`: binarised, deskewed high-resolution inkjet (`cij_binarised`), every separator
  between date fields, lot codes of the look-alike pairs B/8, O/0, I/1.

A preset's samples are drawn from their own random.Random stream ("<preset>/<seed>/<index>"),
so `--preset doubled --seed 0` shares nothing with the default set of seed 0.
"""
import collections

from .grammar import FORMATS, LOOKALIKE_FORMATS, SEPARATOR_FORMATS, template_fields
from .styles import STYLES

# styles / formats: name -> weight, None = every one of STYLES / FORMATS by its own weight.
# repeat: how often a class character repeats the one before it (grammar.format_lines).
# squeeze: the share of samples narrowed to 0.45-0.7 of their width (degradations.squeeze).
# doubled: every printed line has a doubled character (a code is redrawn until it has).
Preset = collections.namedtuple("Preset", "styles formats repeat squeeze doubled")


def _fielded(name):
    """Every line of the format has a field, so it can be drawn with a doubled character."""
    return all(template_fields(t) for t in FORMATS[name].lines)


PRESETS = collections.OrderedDict([
    ("default", Preset(None, None, 0.0, 0.0, False)),
    ("doubled", Preset(
        styles=collections.OrderedDict([(k, s.weight or 0.15) for k, s in STYLES.items()]),
        formats=collections.OrderedDict([(k, max(1, f.weight)) for k, f in FORMATS.items() if _fielded(k)]),
        repeat=0.35, squeeze=0.35, doubled=True)),
    ("failures", Preset(
        styles=collections.OrderedDict([("cij_binarised", 5), ("dotmatrix", 2), ("solid", 1), ("condensed", 1),
                                        ("thermal", 1)]),
        formats=collections.OrderedDict([(k, 1) for k in list(SEPARATOR_FORMATS) + list(LOOKALIKE_FORMATS)]),
        repeat=0.0, squeeze=0.15, doubled=False)),
])


def unknown(preset):
    """The one-line complaint about a preset name that is none of PRESETS, or None."""
    return "unknown preset %r (presets: %s)" % (preset, ", ".join(PRESETS)) if preset not in PRESETS else None
