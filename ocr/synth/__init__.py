"""Synthetic printed product-code crops: a text grammar, print styles, surfaces, degradations, a writer.

The kit's embedded default dataset (`ocr/data/default/`) comes from here, and
`invoke dataset.synth --n N --seed S --out DIR` makes more; `--preset doubled` (doubled characters)
and `--preset failures` (binarised dense inkjet, every date separator, look-alike lots) make the
evaluation sets of what real prints fail on (`presets`).

One module per concern: `grammar` (formats, fields, random codes), `glyphs` (fonts, dot-matrix
glyphs, `text_crop`), `styles` (text -> ink mask per print style), `surfaces` (backgrounds and
how ink meets them), `degradations` (geometry, light, camera), `sample` (a sample's plan and its
rendering), `presets` (what a whole set draws from) and `writer` (the dataset on disk).

Determinism: sample `i` of seed `s` draws everything from its own generators seeded with the
string "s/i" (sha512-seeded `random.Random`, stable across Python versions). The text, style and
degradation *choices* (everything the manifest records) come from `random.Random` before any pixel
is touched, so a manifest is the same on any machine; the pixels come from a
`numpy.random.RandomState` (a frozen stream) plus FreeType/OpenCV/zlib, so image bytes are
identical for the same library versions and only close across versions.

Public pieces: `FORMATS` / `FIELDS` / `random_code(rng)` / `format_pattern(name)` (the text
grammar, reusable by a format-aware post-processor), `STYLES` and `DEGRADATIONS` (what can be
drawn), `make_sample(seed, index, style=, fmt=, lines=)` (one crop, e.g. for training),
`generate(n, seed, preset=)`, `write_dataset(out_dir, n, seed, preset=)` and `text_crop(lines)` (a clean crop of
known text).

Python 3.6 (the Nano's system Python); needs numpy, Pillow and OpenCV, and matplotlib only for
its bundled DejaVu fonts.
"""
try:
    import cv2  # noqa: F401 - checked once here: every module below draws with it
except ImportError:  # pragma: no cover - the kit's core dependency; say which package gives it
    raise ImportError("ocr.synth needs OpenCV: pip install opencv-python-headless "
                      "(on a Nano the opencv_cuda role installs a CUDA build)") from None

from .degradations import DEGRADATIONS  # noqa: E402
from .glyphs import DOT5X7, dot_glyph, font_dir, text_crop, text_font_path  # noqa: E402
from .grammar import (  # noqa: E402
    CHARSET,
    FIELDS,
    FORMATS,
    LOOKALIKE,
    LOOKALIKE_FORMATS,
    LOT_ALNUM,
    MONTHS,
    SEPARATOR_FORMATS,
    doubled_pairs,
    format_lines,
    format_pattern,
    random_code,
    template_fields,
)
from .presets import PRESETS  # noqa: E402
from .sample import make_sample, render, sample_plan  # noqa: E402
from .styles import CAP, STYLES  # noqa: E402
from .writer import (  # noqa: E402
    VERSION,
    generate,
    library_versions,
    main,
    sample_tags,
    save_png,
    write_cli,
    write_dataset,
    write_warmup,
)

__all__ = ["CAP", "CHARSET", "DEGRADATIONS", "DOT5X7", "FIELDS", "FORMATS", "LOOKALIKE", "LOOKALIKE_FORMATS",
           "LOT_ALNUM", "MONTHS", "PRESETS", "SEPARATOR_FORMATS", "STYLES", "VERSION", "dot_glyph",
           "doubled_pairs", "font_dir", "format_lines", "format_pattern", "generate", "library_versions", "main",
           "make_sample", "random_code", "render", "sample_plan", "sample_tags", "save_png", "template_fields",
           "text_crop", "text_font_path", "write_cli", "write_dataset", "write_warmup"]
