"""One sample: its plan (every choice the manifest records, drawn from random.Random before any
pixel is touched) and its rendering (a numpy RandomState seeded by the plan, plus
FreeType/OpenCV): style -> lines of ink -> geometry -> surface -> light -> camera. A preset
(ocr/synth/presets.py) says which styles and formats a set draws from."""
import random

import cv2
import numpy as np

from . import degradations as dg
from .grammar import doubled_pairs, random_code, weighted
from .presets import PRESETS, unknown
from .styles import CAP, STYLES, stack_lines
from .surfaces import COMPOSERS


def sample_plan(seed, index, style=None, fmt=None, lines=None, preset="default"):
    """Everything a manifest records about sample `index` of `seed`, drawn before rendering."""
    recipe = PRESETS.get(preset)
    if recipe is None:
        raise ValueError(unknown(preset))
    rng = random.Random("%d/%d" % (seed, index) if preset == "default" else "%s/%d/%d" % (preset, seed, index))
    name, printed = _code(rng, fmt, recipe)
    if lines is not None:
        name, printed = "custom", list(lines)
        if not printed or not all(line.strip() for line in printed):
            raise ValueError("every line needs something to print: %r" % (printed,))
    style = style or weighted(rng, recipe.styles or STYLES)
    if style not in STYLES:
        raise ValueError("unknown style %r (styles: %s)" % (style, ", ".join(STYLES)))
    look = STYLES[style].look
    drawn = [d for d, p in dg.DEGRADATIONS.items() if rng.random() < p]
    if recipe.squeeze and rng.random() < recipe.squeeze:  # no draw for the default set
        drawn.append("squeeze")
    degr = [d for d in dg.ORDER if (d in drawn or d in look.always) and d not in look.never]
    if STYLES[style].compose != "print":
        degr = [d for d in degr if d not in dg.NOT_FOR_RELIEF]
    hard = [d for d in degr if d in dg.HARD][dg.MAX_HARD:]
    degr = [d for d in degr if d not in hard]
    plan = {"lines": printed, "text": " ".join(printed), "format": name, "style": style,
            "degradations": degr, "pixel_seed": rng.getrandbits(32)}
    if preset != "default":
        plan["preset"] = preset
    return plan


def _code(rng, fmt, preset, tries=100):
    """(format, lines) of a code the preset wants: one with a doubled character on every line
    when it asks (redrawn until so; a format that cannot have one keeps its last draw)."""
    for _ in range(tries):
        name, printed = random_code(rng, fmt, preset.formats, preset.repeat)
        if not preset.doubled or all(doubled_pairs(line) for line in printed):
            break
    return name, printed


def render(plan):
    """RGB uint8 crop (numpy HxWx3) of a plan from `sample_plan`."""
    nrng = np.random.RandomState(plan["pixel_seed"])
    style = STYLES[plan["style"]]
    line_fn = style.line_fn(nrng)
    mask = stack_lines([line_fn(t) for t in plan["lines"]], nrng)
    if "squeeze" in plan["degradations"]:
        mask = dg.squeeze(mask, nrng)
    mask = dg.warp(mask, nrng, plan)
    box = dg.crop_box(mask, nrng, style.look.margin)
    if "edge_cut" in plan["degradations"]:
        mask = dg.add_cut_line(mask, box, line_fn, nrng)
    mask = dg.crop(mask, box)
    img = COMPOSERS[style.compose](mask, nrng, plan)
    if "occlusion" in plan["degradations"]:
        img = dg.occlude(img, nrng)
    img = dg.light(img, nrng, plan)
    # final size: 20-60 px per printed line (real crops: median ~36 px high for one line)
    if style.look.line_px:
        line_px = nrng.uniform(*style.look.line_px)
    else:
        line_px = float(np.clip(nrng.lognormal(np.log(28), 0.25), 20, 60))
    scale = line_px / (CAP * 1.45)
    size = (max(8, int(img.shape[1] * scale)), max(8, int(img.shape[0] * scale)))
    img = cv2.resize(np.clip(img, 0, 255), size, interpolation=cv2.INTER_AREA)
    return dg.camera(img, nrng, plan)


def make_sample(seed=0, index=1, style=None, fmt=None, lines=None, preset="default"):
    """(text, RGB uint8 image, plan) of one sample; pick the style, the format or the lines."""
    plan = sample_plan(seed, index, style=style, fmt=fmt, lines=lines, preset=preset)
    return plan["text"], render(plan), plan
