"""Calibration crops for export checks and the precision guard: the kit's dataset when there is
one, else a few code-like crops rendered here (deterministic, so tests compare like with like)."""
import os

DEFAULT_LIMIT = 50


def dataset_samples(path=None, limit=DEFAULT_LIMIT):
    """[(BGR crop, truth)] from a manifest (None: the embedded default set)."""
    from .. import dataset, preprocess
    ds = dataset.load(path)
    out = []
    for s in ds.samples[:limit or None]:
        img = dataset.read_image(s.image)
        out.append((preprocess.crop(img, s.box), s.text))
    return out


def default_samples(limit=DEFAULT_LIMIT):
    """The default dataset if it has been generated, else rendered crops."""
    from .. import dataset
    try:
        return dataset_samples(None, limit), "ocr/data/default"
    except dataset.DatasetError:
        return rendered_samples(min(limit, 24)), "rendered"


_FONTS = ("/usr/share/fonts/truetype/dejavu/DejaVuSansMono-Bold.ttf",
          "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
_TEXTS = ("LOT 2215029520", "EXP 08/2023", "BEST BEFORE 12.05.2025", "L2215 H02:05", "PRO 08/2022",
          "A1B2C3", "EXP:31/12/2026", "BATCH 7F3K9", "0123456789", "NET WT 500G", "REF 44-1907",
          "MFD 2024.01.15")


def rendered_samples(n=12, seed=0, height=40):
    """n dark-on-light single-line crops (BGR uint8) with their texts."""
    import numpy as np
    from PIL import Image, ImageDraw, ImageFont
    rng = np.random.RandomState(seed)
    out = []
    for i in range(n):
        text = _TEXTS[i % len(_TEXTS)]
        path = _FONTS[i % len(_FONTS)]
        font = ImageFont.truetype(path, int(height * 0.7)) if os.path.isfile(path) else \
            ImageFont.load_default()
        x0, y0, x1, y1 = ImageDraw.Draw(Image.new("L", (1, 1))).textbbox((0, 0), text, font=font)
        img = Image.new("L", (x1 - x0 + 12, height), int(rng.randint(200, 250)))
        ImageDraw.Draw(img).text((6 - x0, (height - (y1 - y0)) // 2 - y0), text,
                                 fill=int(rng.randint(0, 60)), font=font)
        arr = np.asarray(img, dtype=np.float32) + rng.normal(0, 4, (height, img.size[0]))
        gray = np.clip(arr, 0, 255).astype(np.uint8)
        out.append((np.stack([gray] * 3, axis=2), text))
    return out
