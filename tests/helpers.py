"""Small real inputs for tests: crisp printed code crops (the synthesiser's text_crop) in a manifest."""
import os

import numpy as np


def render_code(lines, size=28, pad=8):
    """A dark-on-light crop (BGR uint8) holding `lines` of text, one under the other: the
    synthesiser's clean text crop (`ocr.synth.text_crop`), in OpenCV's channel order."""
    from ocr import synth
    return np.ascontiguousarray(synth.text_crop(lines, px=size, pad=pad)[:, :, ::-1])


def write_manifest(folder, items):
    """items: [(name, lines)] -> manifest.jsonl + PNGs in folder; returns the manifest path."""
    import json

    import cv2
    os.makedirs(os.path.join(folder, "images"), exist_ok=True)
    rows = []
    for name, lines in items:
        cv2.imwrite(os.path.join(folder, "images", name + ".png"), render_code(lines))
        rows.append(json.dumps({"image": "images/{}.png".format(name), "text": " ".join(lines),
                                "tags": {"id": name}}))
    path = os.path.join(folder, "manifest.jsonl")
    with open(path, "w") as f:
        f.write("\n".join(rows) + "\n")
    return path
