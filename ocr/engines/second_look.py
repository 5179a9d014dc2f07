"""A second look for the unsure: a crop whose read falls below the engine's threshold is read again
on a few variants of itself, and the reading most of them agree on wins (issue 20).

Measured on synthetic crops (seed 7101, 2000; train/codereader/calibrate.py's fit seed, never
realdev) with the shipped model: 202 crops were unsure (98 of them read right); a majority of
the original and the four variants below fixed 22 reads and broke 3. Agreement does not make a
read trustworthy, though: unsure reads all four variants agreed with were right in 90 % (67), far
from the 99 % a line needs, so the second look changes *what* is read, never whether it is
accepted: the winner's confidence is at most the first read's. Only the unsure fraction pays.

Off by default (engine option `second_look`, e.g. "squeeze,pad,blur,up"): in the bench at
a3712e7 (runs 20261130-125102-vm-ab9f default set, -125234-vm-f8c6 realdev) it changed no crop's
accuracy at full coverage (95.3 %, 95.0 %) while its stage took 45 % and 39 % of the OCR time;
and with a winner keeping its own confidence, realdev's precision at the threshold fell
98.1 -> 97.2 %, which is why the confidence is now capped.
"""
import collections

import cv2

from .. import metrics

VARIANTS = ("squeeze", "pad", "blur", "up")


def variants(crop, names=VARIANTS):
    """The crop (BGR or gray) as each named variant, gray: narrower glyphs, a margin of its own
    border, a slight blur, and 1.5x larger (each moves the line split and the network's frames)."""
    gray = crop if crop.ndim == 2 else cv2.cvtColor(crop, cv2.COLOR_BGR2GRAY)
    h, w = gray.shape
    make = {
        "squeeze": lambda: cv2.resize(gray, (max(1, int(w * 0.85)), h), interpolation=cv2.INTER_AREA),
        "pad": lambda: cv2.copyMakeBorder(gray, h // 8, h // 8, h // 4, h // 4, cv2.BORDER_REPLICATE),
        "blur": lambda: cv2.GaussianBlur(gray, (3, 3), 0),
        "up": lambda: cv2.resize(gray, (int(w * 1.5), int(h * 1.5)), interpolation=cv2.INTER_CUBIC),
    }
    unknown = [n for n in names if n not in make]
    if unknown:
        raise ValueError("unknown second-look variant(s) {}; valid: {}".format(", ".join(unknown), ", ".join(VARIANTS)))
    return [make[n]() for n in names]


def vote(first, looks):
    """The prediction to keep: `first` unless a reading that at least two of first + looks agree
    on (normalised text) has more votes than first's own; then the first look that reads it.
    A winning look's confidence is capped at first's (see the module doc); the kept prediction
    records the vote in extra["second_look"]."""
    texts = [metrics.normalise(p.text) for p in [first] + list(looks)]
    counts = collections.Counter(texts)
    best, votes = counts.most_common(1)[0]
    keep = first
    if votes >= 2 and best != texts[0] and votes > counts[texts[0]]:
        keep = looks[texts.index(best) - 1]
        keep.confidence = min(keep.confidence, first.confidence)
    keep.extra["second_look"] = {"votes": counts[metrics.normalise(keep.text)], "of": len(texts),
                                 "changed": keep is not first}
    return keep
