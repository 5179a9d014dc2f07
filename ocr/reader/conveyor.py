"""A deterministic conveyor-belt video: packages carrying default-set codes move through a 640x480
frame at 30 FPS, with the ground truth of every item (JSON) and a job file that reads it.

Codes are the embedded default set's (`ocr.synth.make_sample(0, index)`: same text and pixels
as `ocr/data/default/`), printed at a fixed distance from each package's leading edge (a line's
coder is triggered by a photo eye at that edge). Packages are cardboard-coloured boxes with some
printed artwork on a textured grey belt, moving left to right at `speed` pixels a frame, spaced by
random gaps; the camera adds a little sensor noise. No motion blur (a short exposure).
Everything comes from `random.Random(seed)` and `numpy.random.RandomState(seed)`: the same
arguments give the same frames (and, with the same OpenCV, the same file).
"""
import json
import os
import random

import cv2
import numpy as np

from .. import synth

WIDTH, HEIGHT, FPS = 640, 480, 30
BELT = (100, 380)          # belt rows
REGION = [200, 150, 440, 350]  # the job's region: a package covers it (below its printed band), its code inside it
CODE_FROM_EDGE = 110       # px from a package's leading edge to its code's centre (~half the region)
MAX_CODE = (200, 150)      # w, h: a code larger than this is scaled down to fit the region


def _package(rng, nrng, code):
    """BGR image of one package with its code pasted; (image, code box inside it)."""
    w, h = rng.randint(270, 320), rng.randint(240, 270)
    base = np.array([rng.randint(90, 120), rng.randint(140, 170), rng.randint(180, 215)], np.float32)
    img = np.clip(base + nrng.normal(0, 6, (h, w, 3)), 0, 255).astype(np.uint8)
    art = tuple(int(c) for c in (nrng.randint(20, 120), nrng.randint(20, 120), nrng.randint(60, 160)))
    cv2.rectangle(img, (8, 8), (w - 9, 24), art, -1)              # a printed band
    cv2.circle(img, (w - 40, h - 40), 22, art, 3)                   # a logo
    ch, cw = code.shape[:2]
    scale = min(1.0, MAX_CODE[0] / float(cw), MAX_CODE[1] / float(ch))
    if scale < 1.0:
        code = cv2.resize(code, (max(1, int(cw * scale)), max(1, int(ch * scale))), interpolation=cv2.INTER_AREA)
        ch, cw = code.shape[:2]
    cx, cy = w - CODE_FROM_EDGE, h // 2 + rng.randint(-10, 10)
    x0, y0 = cx - cw // 2, cy - ch // 2
    img[y0:y0 + ch, x0:x0 + cw] = code
    return img, [x0, y0, x0 + cw, y0 + ch]


def _belt(nrng):
    img = np.full((HEIGHT, WIDTH, 3), 35, np.uint8)
    belt = np.clip(62 + nrng.normal(0, 5, (BELT[1] - BELT[0], WIDTH, 1)), 0, 255).astype(np.uint8)
    img[BELT[0]:BELT[1]] = belt
    img[BELT[0]:BELT[0] + 4] = img[BELT[1] - 4:BELT[1]] = 140      # belt edges
    return img


def plan(n_items, seed=0, speed=12, gap=(60, 160)):
    """Where every package is: [{item, index, text, format, x0 at frame 0, y, ...}] and frame count."""
    rng, nrng = random.Random(seed), np.random.RandomState(seed)
    indices = rng.sample(range(1, 301), n_items)
    items, x = [], -rng.randint(20, 100)
    for k, index in enumerate(indices, 1):
        text, rgb, meta = synth.make_sample(0, index)
        pkg, box = _package(rng, nrng, np.ascontiguousarray(rgb[:, :, ::-1]))
        x -= pkg.shape[1]
        y = (BELT[0] + BELT[1]) // 2 - pkg.shape[0] // 2 + rng.randint(-6, 6)
        items.append({"item": k, "index": index, "text": text, "format": meta["format"], "style": meta["style"],
                      "x_start": x, "y": y, "size": [pkg.shape[1], pkg.shape[0]], "code_box": box, "_img": pkg})
        x -= rng.randint(*gap)
    frames = int((WIDTH - x) / float(speed)) + 1
    return items, frames


def _x(item, frame, speed):
    return item["x_start"] + frame * speed


def render_frame(items, frame, speed, background, nrng):
    img = background.copy()
    for it in items:
        x0, pkg = _x(it, frame, speed), it["_img"]
        w, h = it["size"]
        a, b = max(0, x0), min(WIDTH, x0 + w)
        if a < b:
            img[it["y"]:it["y"] + h, a:b] = pkg[:, a - x0:b - x0]
    noise = nrng.normal(0, 2.0, img.shape)
    return np.clip(img + noise, 0, 255).astype(np.uint8)


def write_video(out_dir, n_items=20, seed=0, speed=12, name="conveyor.avi"):
    """Write the video (MJPG AVI), truth.json (per item: text, frames it is in view / covers the
    region, code box at its covering frame) and job.yml (the region, its expected texts) into
    out_dir; returns the truth dict."""
    if not os.path.isdir(out_dir):
        os.makedirs(out_dir)
    items, frames = plan(n_items, seed, speed)
    nrng = np.random.RandomState(seed + 1)
    background = _belt(nrng)
    path = os.path.join(out_dir, name)
    writer = cv2.VideoWriter(path, cv2.VideoWriter_fourcc(*"MJPG"), FPS, (WIDTH, HEIGHT))
    for f in range(frames):
        writer.write(render_frame(items, f, speed, background, nrng))
    writer.release()
    truth = {"generator": "ocr.reader.conveyor", "seed": seed, "speed_px_per_frame": speed, "fps": FPS,
             "size": [WIDTH, HEIGHT], "frames": frames, "video": name, "region": REGION,
             "codes": "ocr.synth.make_sample(0, index): the embedded default set", "items": []}
    for it in items:
        w = it["size"][0]
        # frames during which the package is in view, and during which it covers the region's width
        first = int(np.ceil((-it["x_start"] - w) / float(speed)))
        last = int((WIDTH - it["x_start"]) / float(speed))
        cover = [int(np.ceil((REGION[2] - w - it["x_start"]) / float(speed))),
                 int((REGION[0] - it["x_start"]) / float(speed))]
        row = {k: v for k, v in it.items() if not k.startswith("_")}
        row.update(in_view=[max(0, first), min(frames - 1, last)], covers_region=cover)
        truth["items"].append(row)
    with open(os.path.join(out_dir, "truth.json"), "w") as f:
        json.dump(truth, f, indent=1)
    with open(os.path.join(out_dir, "job.yml"), "w") as f:
        f.write(JOB.format(region=REGION))
    return truth


def item_at(truth, frame):
    """The ground-truth item whose package overlaps the region most at `frame` (None: none)."""
    best, most = None, 0
    for it in truth["items"]:
        x0 = it["x_start"] + frame * truth["speed_px_per_frame"]
        overlap = min(x0 + it["size"][0], truth["region"][2]) - max(x0, truth["region"][0])
        if overlap > most:
            best, most = it, overlap
    return best


JOB = """# Reads the conveyor video beside it (written by ocr.reader.conveyor): one region the packages
# cross, codes found in it by the DB detector, each item's expected text from truth.json (item 1, 2...).
engine: codereader
regions:
  - name: belt
    box: {region}
    find: auto
trigger:
  rule: presence
  diff: 30
  cover: 0.95
  leave: 0.8
verify:
  expect: truth.json
"""
