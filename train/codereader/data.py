"""Training lines for the code reader, rendered by the kit's generator (ocr/synth/).

The reader recognises one printed line at a time (the engine splits crops into lines), so every
training sample is one line: a line of a synthetic code rendered alone in that sample's style, or
the matching piece of a multi-line render cut by the projection-profile splitter (so the model
sees what the splitter hands it at run time). Texts mix the generator's formats with strings
sampled from ocr/data/formats.yml and random characters, so the model learns to read characters, not
to recite the generator's templates.

A recipe may also draw a share of its lines from the synthesiser's presets (ocr/synth/presets.py:
`failures` = binarised dense inkjet, every date separator, look-alike lots; `doubled` = doubled
characters, squeezed lines) by passing `presets`, e.g. PRESET_MIX; without it (the default recipe,
the committed model's) not one line changes.

Everything is a pure function of (seed, index): a resumed run sees the same batches.
"""
import random

import cv2
import numpy as np

from ocr import formats, layout, synth

from . import PRESET_MIX  # noqa: F401 - the recipes' mix, drawn here
from .model import CHARSET, HEIGHT

MAX_WIDTH = 640
_RANDOM_CHARS = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ./-:"
_INDEX = {c: k + 1 for k, c in enumerate(CHARSET)}


def encode(text):
    """Class indices of text (blank = 0), or None if a character is outside the charset."""
    out = [_INDEX.get(c) for c in text]
    return None if not out or None in out else out


def _grammar_text(rng):
    text = formats.default_grammar().sample(rng, max_len=28)
    return text.strip() if text and 3 <= len(text.strip()) <= 28 else None


def _random_text(rng):
    words = [''.join(rng.choice(_RANDOM_CHARS) for _ in range(rng.randint(2, 9)))
             for _ in range(rng.randint(1, 3))]
    return " ".join(words)


def line_sample(seed, index, mix=(0.75, 0.15, 0.10), presets=()):
    """(text, RGB image) of one printed line; `mix` = shares of generator / grammar / random texts;
    `presets`: (preset, share) pairs taken first, from their own draw (none: the default mix)."""
    if presets:
        pick = random.Random("codereader-preset/%d/%d" % (seed, index)).random()
        for name, share in presets:
            if pick < share:
                rng = random.Random("codereader/%s/%d/%d" % (name, seed, index))
                return _plan_line(synth.sample_plan(seed, index, preset=name), rng, seed, index, name)
            pick -= share
    rng = random.Random("codereader/%d/%d" % (seed, index))
    pick = rng.random()
    if pick >= mix[0]:
        text = _grammar_text(rng) if pick < mix[0] + mix[1] else None
        text = text or _random_text(rng)
        _, img, _ = synth.make_sample(seed, index, lines=[text])
        return text, img
    return _plan_line(synth.sample_plan(seed, index), rng, seed, index)


def _plan_line(plan, rng, seed, index, preset="default"):
    """One line of a generator's code: cut from the whole render by the splitter (half of the
    multi-line codes), else that line rendered alone in the code's style."""
    lines = plan["lines"]
    if len(lines) > 1 and rng.random() < 0.5:
        img = synth.render(plan)
        bands = layout.split_lines(cv2.cvtColor(img, cv2.COLOR_RGB2GRAY))
        if len(bands) == len(lines):
            k = rng.randrange(len(lines))
            return lines[k], img[bands[k][0]:bands[k][1]]
    text = lines[rng.randrange(len(lines))]
    _, img, _ = synth.make_sample(seed, index, style=plan["style"], lines=[text], preset=preset)
    return text, img


def to_input(images_bgr, max_width=MAX_WIDTH):
    """BGR/gray uint8 lines -> N x 3 x 48 x W float32 as the stock recogniser wants: height 48,
    width from the aspect ratio, scaled to [-1, 1], right-padded with 0. Same maths as the
    engine's (ocr/engines/ppocr.rec_batch)."""
    from ocr.engines.ppocr import rec_batch
    return rec_batch(images_bgr, HEIGHT, max_width)


def fixed_set(seed, n, start=0, presets=()):
    """n lines of `seed` from line start+1 on, as (text, BGR image), skipping unencodable ones;
    `presets` as line_sample's."""
    out = []
    index = start
    while len(out) < n:
        index += 1
        text, img = line_sample(seed, index, presets=presets)
        if encode(text) is not None and min(img.shape[:2]) >= 4:
            out.append((text, np.ascontiguousarray(img[:, :, ::-1])))
    return out
