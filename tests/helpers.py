"""Small real inputs for tests: crisp printed code crops rendered with matplotlib's DejaVu font."""
import os

import numpy as np


def dejavu(size):
    import matplotlib
    from PIL import ImageFont
    path = os.path.join(matplotlib.get_data_path(), "fonts", "ttf", "DejaVuSans-Bold.ttf")
    return ImageFont.truetype(path, size)


def render_code(lines, size=28, pad=8):
    """A dark-on-light crop (BGR uint8) holding `lines` of text, one under the other."""
    from PIL import Image, ImageDraw
    font = dejavu(size)
    widths = [int(font.getlength(t)) for t in lines]
    line_h = int(size * 1.35)
    img = Image.new("RGB", (max(widths) + 2 * pad, line_h * len(lines) + 2 * pad), (238, 236, 230))
    draw = ImageDraw.Draw(img)
    for i, text in enumerate(lines):
        draw.text((pad, pad + i * line_h), text, font=font, fill=(25, 25, 30))
    return np.ascontiguousarray(np.array(img)[:, :, ::-1])


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
