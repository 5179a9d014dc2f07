"""The dataset writer: samples 1..n of a seed (and a preset, ocr/synth/presets.py) in the kit's
dataset format (manifest.jsonl + images/ + generator.json), PNGs without varying chunks, and the
warm-up crop (`invoke dataset.synth`, `python -m ocr.synth`)."""
import argparse
import collections
import hashlib
import json
import os
import shutil
import sys
import tempfile

import cv2
import numpy as np
from PIL import Image

from ocr import user_cache

from .grammar import doubled_pairs
from .presets import PRESETS, unknown
from .sample import make_sample

VERSION = "1"


def sample_tags(plan, seed, index, split):
    preset = plan.get("preset")
    tags = collections.OrderedDict([
        ("id", "%s-%06d" % (split, index)),
        ("source", "ocr.synth seed=%d" % seed + (" preset=%s" % preset if preset else "")),
        ("style", plan["style"]), ("lines", len(plan["lines"])),
        ("degradations", plan["degradations"]), ("format", plan["format"]), ("split", split),
        ("generator", "ocr.synth v" + VERSION),
    ])
    if preset:  # the default set's tags stay what they were
        tags["doubled"] = doubled_pairs(plan["text"])
    return tags


def default_split(preset):
    return "synth" if preset == "default" else preset


def generate(n, seed=0, split=None, preset="default"):
    """Yield (text, RGB uint8 numpy image, tags) for samples 1..n of `seed` (and `preset`)."""
    split = split or default_split(preset)
    for index in range(1, n + 1):
        text, img, plan = make_sample(seed, index, preset=preset)
        yield text, img, sample_tags(plan, seed, index, split)


def save_png(img, path):
    """PNG without timestamps or other varying chunks: same pixels, same bytes. Grey crops are
    stored as one channel (a third of the size); readers get the same pixels back."""
    if img.ndim == 3 and (img == img[..., :1]).all():
        img = img[..., 0]
    Image.fromarray(img).save(path, format="PNG", compress_level=9)


def library_versions():
    """The libraries that shape the pixels: image bytes repeat exactly only when these match."""
    versions = collections.OrderedDict([("numpy", np.__version__), ("pillow", Image.__version__),
                                        ("opencv", cv2.__version__)])
    try:
        from PIL import features
        versions["freetype"] = features.version("freetype2")
    except (ImportError, AttributeError):  # Pillow < 8 has no features.version
        versions["freetype"] = None
    return versions


def _write_json(path, obj):
    with open(path, "w", newline="\n") as f:
        f.write(json.dumps(obj, indent=1) + "\n")


def cached_set(preset, seed, n):
    """The folder of a generated set (write_dataset's), made once per generator version and pixel
    libraries and reused after: a set is a pure function of (preset, seed, n) and those. Written
    beside its final place and renamed in, so a reader never sees half a set."""
    wrong = unknown(preset)
    if wrong:
        raise ValueError(wrong)
    libs = hashlib.sha256(json.dumps(library_versions()).encode()).hexdigest()[:10]
    folder = os.path.join(user_cache("KIT_SYNTH_CACHE", "synth"), "v%s-%s" % (VERSION, libs),
                          "%s-%d-%d" % (preset, seed, n))
    if not os.path.isfile(os.path.join(folder, "manifest.jsonl")):
        os.makedirs(os.path.dirname(folder), exist_ok=True)
        tmp = tempfile.mkdtemp(prefix=".tmp-", dir=os.path.dirname(folder))
        try:
            write_dataset(tmp, n=n, seed=seed, preset=preset)
            try:
                os.rename(tmp, folder)
            except OSError:  # another process made it first: theirs is the same set
                if not os.path.isfile(os.path.join(folder, "manifest.jsonl")):
                    raise
            else:  # stderr: the caller's stdout may be a table
                sys.stderr.write("made %d crops of preset %s, seed %d (ocr.synth v%s) in %s\n"
                                 % (n, preset, seed, VERSION, folder))
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    return folder


def write_dataset(out_dir, n=300, seed=0, split=None, preset="default"):
    """Write `n` crops of `seed` (and `preset`) as the kit's dataset format: manifest.jsonl +
    images/, plus generator.json (how it was made, and with which library versions)."""
    wrong = unknown(preset)
    if wrong:  # before anything is written
        raise ValueError(wrong)
    split = split or default_split(preset)
    os.makedirs(os.path.join(out_dir, "images"), exist_ok=True)
    with open(os.path.join(out_dir, "manifest.jsonl"), "w", newline="\n") as manifest:
        for i, (text, img, tags) in enumerate(generate(n, seed, split, preset), 1):
            rel = "images/%06d.png" % i
            save_png(img, os.path.join(out_dir, rel))
            row = collections.OrderedDict([("image", rel), ("text", text), ("box", None), ("tags", tags)])
            manifest.write(json.dumps(row) + "\n")
    _remove_stale_images(out_dir, n)
    info = collections.OrderedDict([("generator", "ocr.synth v" + VERSION), ("n", n), ("seed", seed),
                                    ("split", split)])
    command = "invoke dataset.synth -n %d --seed %d --split %s --out DIR" % (n, seed, split)
    if preset != "default":
        info["preset"] = preset
        command = command.replace(" --out", " --preset %s --out" % preset)
    info["command"] = command
    info["libraries"] = library_versions()
    _write_json(os.path.join(out_dir, "generator.json"), info)


def _remove_stale_images(out_dir, n):
    """Crops past `n` left by an earlier, larger run in the same folder."""
    index = n + 1
    while os.path.isfile(os.path.join(out_dir, "images", "%06d.png" % index)):
        os.remove(os.path.join(out_dir, "images", "%06d.png" % index))
        index += 1


def write_warmup(png_path, seed=1, index=1):
    """One crop outside any measured set (engines warm up on it) and its label beside it (.json)."""
    text, img, plan = make_sample(seed, index)
    save_png(img, png_path)
    tags = sample_tags(plan, seed, index, "warmup")
    _write_json(os.path.splitext(png_path)[0] + ".json", collections.OrderedDict([
        ("image", os.path.basename(png_path)), ("text", text), ("box", None), ("tags", tags)]))


def write_cli(out_dir, n=300, seed=0, split=None, preset="default"):
    """write_dataset for `invoke dataset.synth`: an unknown preset is one line and exit status 2."""
    wrong = unknown(preset)
    if wrong:
        print("dataset.synth: " + wrong, file=sys.stderr)
        return 2
    write_dataset(out_dir, n=n, seed=seed, split=split, preset=preset)
    print("wrote %d crops (seed %d%s, ocr.synth v%s) to %s"
          % (n, seed, "" if preset == "default" else ", preset " + preset, VERSION, out_dir))
    return 0


def main(argv=None):
    parser = argparse.ArgumentParser(description="Synthetic printed product-code crops in the kit's dataset format")
    parser.add_argument("--n", type=int, default=300)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--split", help="label in each sample's tags (default: synth, or the preset's name)")
    parser.add_argument("--preset", default="default", choices=list(PRESETS),
                        help="what the set draws from (ocr/synth/presets.py): default, doubled characters, "
                             "or what real prints fail on")
    parser.add_argument("--out", required=True)
    args = parser.parse_args(argv)
    return write_cli(args.out, n=args.n, seed=args.seed, split=args.split, preset=args.preset)
