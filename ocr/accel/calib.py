"""Calibration crops for export checks and the precision guard: the kit's dataset when there is
one, else a few code-like crops drawn by the synthesiser's text_crop (deterministic, so tests
compare like with like)."""

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


_FONTS = ("DejaVuSansMono-Bold.ttf", "DejaVuSans.ttf")
_TEXTS = ("LOT 2215029520", "EXP 08/2023", "BEST BEFORE 12.05.2025", "L2215 H02:05", "PRO 08/2022",
          "A1B2C3", "EXP:31/12/2026", "BATCH 7F3K9", "0123456789", "NET WT 500G", "REF 44-1907",
          "MFD 2024.01.15")


def rendered_samples(n=12, seed=0, height=40):
    """n dark-on-light single-line crops (BGR uint8) with their texts: the synthesiser's clean text
    crop in random greys, plus a little sensor noise."""
    import numpy as np

    from ..synth import text_crop
    rng = np.random.RandomState(seed)
    out = []
    for i in range(n):
        text = _TEXTS[i % len(_TEXTS)]
        paper, ink = int(rng.randint(200, 250)), int(rng.randint(0, 60))
        crop = text_crop(text, px=int(height * 0.7), pad=6, ink=(ink,) * 3, paper=(paper,) * 3,
                         font=_FONTS[i % len(_FONTS)])[:, :, 0]
        gray = np.clip(crop + rng.normal(0, 4, crop.shape), 0, 255).astype(np.uint8)
        out.append((np.stack([gray] * 3, axis=2), text))
    return out
