"""Reading a crop line by line, for the recognition-only engines (their recognisers read one line
at a time): every crop is split into its printed lines by the engine's named splitter, all lines
of all crops are read in one call (batched across crops), and each crop gets its reads back, top
to bottom. The split/regroup bookkeeping lives here once (as doctr keeps a predictor's).

Splitters (the engine option `splitter`):
- `profile`: one global Otsu threshold and a horizontal projection profile (ocr/layout.py), the
  line bands cut from the crop as they are;
- `sturdy`: ink against the local background, shear correction, cuts at deep valleys and none
  where strokes cross (ocr/lines.py), each line its own (straightened) image.
"""
import numpy as np

from .. import layout, lines
from .base import Prediction

SPLITTERS = ("profile", "sturdy")


def bands(crop, splitter):
    """The crop's lines, top to bottom, as [(image, y0, y1)]: rows y0:y1 of image (the crop itself
    for `profile`, each line's own image for `sturdy`); one band when there is no clear split."""
    if splitter == "profile":
        gray = crop if crop.ndim == 2 else crop.mean(axis=2).astype(np.uint8)
        return [(crop, y0, y1) for y0, y1 in layout.split_lines(gray)]
    if splitter == "sturdy":
        return [(part, 0, part.shape[0]) for part in map(np.ascontiguousarray, lines.split(crop))]
    raise ValueError("unknown splitter {!r}; valid: {}".format(splitter, ", ".join(SPLITTERS)))


def line_images(crop, options):
    """The crop's line images by the engine's options `split_lines` and `splitter`."""
    if not options["split_lines"]:
        return [crop]
    return [image[y0:y1] for image, y0, y1 in bands(crop, options["splitter"])]


class LineBatch(object):
    """Every line of every crop (`split(crop)` -> its lines), in crop order, for one recogniser
    call; `regroup(reads)`, one read a line in that order, gives each crop its reads back."""

    def __init__(self, crops, split):
        self.lines, self._owner, self._crops = [], [], len(crops)
        for k, crop in enumerate(crops):
            for line in split(crop):
                self.lines.append(line)
                self._owner.append(k)

    def regroup(self, reads):
        per_crop = [[] for _ in range(self._crops)]
        for k, read in zip(self._owner, reads):
            per_crop[k].append(read)
        return per_crop


def read_by_lines(crops, split, read):
    """Split crops into lines, read all lines at once (`read(lines)` -> one read a line), and
    return per crop the list of its lines' reads."""
    batch = LineBatch(crops, split)
    return batch.regroup(read(batch.lines) if batch.lines else [])


def lines_prediction(reads):
    """A crop's [(text, confidence)] a line -> its Prediction: the lines that read something,
    joined by a space; confidence the least sure of them (0 when none read anything)."""
    texts = [t.strip() for t, _ in reads if t.strip()]
    conf = min([c for t, c in reads if t.strip()] or [0.0])
    return Prediction(" ".join(texts), conf, texts)
