"""Code-crop datasets: one JSONL manifest format, a validating loader and a summary.

A manifest holds one JSON object a line:
    {"image": "images/0001.png", "text": "EXP 2025.05.02", "box": [x0, y0, x1, y1] or null,
     "tags": {"id": "...", "source": "...", ...}}
`image` is relative to the manifest; `text` is the ground truth exactly as printed; `box` crops a
code out of a larger photo. An optional first line `{"manifest": {"line_join": " ", ...}}` says how
the labels join the lines of a multi-line code (realdev: one space; the paper: nothing).

Every problem is reported with file and line number; a bad sample is skipped, the rest loads.
Image paths stay inside the manifest's folder unless the caller allows otherwise (a manifest is
data: it must not make the bench read, or a report embed, any file on the machine).
"""
import collections
import hashlib
import json
import math
import os
import sys

from ocr import DATA

DEFAULT_DIR = os.path.join(DATA, "default")
MANIFEST_NAMES = ("manifest.jsonl", "labels.jsonl")
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
UTF8_BOM = b"\xef\xbb\xbf"


class Problem(object):
    __slots__ = ("path", "line", "message")

    def __init__(self, path, line, message):
        self.path, self.line, self.message = path, line, message

    def __str__(self):
        return "{}:{}: {}".format(self.path, self.line, self.message)

    def to_dict(self):
        return {"path": self.path, "line": self.line, "message": self.message}


class Sample(object):
    __slots__ = ("id", "image", "text", "box", "tags", "line")

    def __init__(self, id, image, text, box=None, tags=None, line=0):
        self.id, self.image, self.text, self.box = id, image, text, box
        self.tags = tags or {}
        self.line = line

    def to_dict(self):
        return {"id": self.id, "image": self.image, "text": self.text, "box": self.box,
                "tags": self.tags}


class Dataset(object):
    def __init__(self, path, samples, problems, meta):
        self.path, self.samples, self.problems, self.meta = path, samples, problems, meta

    def __len__(self):
        return len(self.samples)

    def __iter__(self):
        return iter(self.samples)

    @property
    def line_join(self):
        return self.meta.get("line_join", " ")

    def sha256(self):
        """Hash of the manifest and of every image it names: identifies the data of a run."""
        h = hashlib.sha256()
        with open(self.path, "rb") as f:
            h.update(f.read())
        for s in self.samples:
            with open(s.image, "rb") as f:
                h.update(hashlib.sha256(f.read()).digest())
        return h.hexdigest()

    def describe(self):
        """Identity of the data (hashing every image once per Dataset object)."""
        if not hasattr(self, "_described"):
            self._described = {"path": os.path.abspath(self.path), "samples": len(self.samples),
                               "problems": [str(p) for p in self.problems], "sha256": self.sha256(),
                               "meta": self.meta}
        return self._described


class DatasetError(Exception):
    """The manifest itself cannot be used (missing, unreadable, empty)."""


SYNTH_PREFIX = "synth:"


def synth_spec(spec):
    """'synth:PRESET:SEED[:N]' -> (preset, seed, n); N defaults to 300. DatasetError if malformed
    or N < 1 (the preset is checked where the set is made)."""
    parts = spec[len(SYNTH_PREFIX):].split(":")
    try:
        if len(parts) not in (2, 3) or not parts[0]:
            raise ValueError
        preset, seed, n = parts[0], int(parts[1]), int(parts[2]) if len(parts) == 3 else 300
    except ValueError:
        raise DatasetError("{}: a generated set is synth:PRESET:SEED[:N], e.g. synth:doubled:2001:300".format(
            spec)) from None
    if n < 1:
        raise DatasetError("{}: N must be at least 1".format(spec))
    return preset, seed, n


def resolve(path=None):
    """A manifest path from a file, a folder holding one, None (the embedded default set) or
    'synth:PRESET:SEED[:N]' (a set the generator makes once into its cache: ocr/synth/writer.py)."""
    path = path or DEFAULT_DIR
    if path.startswith(SYNTH_PREFIX):
        preset, seed, n = synth_spec(path)
        from ocr.synth import writer
        try:
            path = writer.cached_set(preset, seed, n)
        except ValueError as exc:
            raise DatasetError("{}: {}".format(path, exc)) from None
    if os.path.isdir(path):
        for name in MANIFEST_NAMES:
            candidate = os.path.join(path, name)
            if os.path.isfile(candidate):
                return candidate
        raise DatasetError("{}: no {} in this folder".format(path, " or ".join(MANIFEST_NAMES)))
    if not os.path.isfile(path):
        raise DatasetError("{}: no such manifest".format(path))
    return path


def inside(rel):
    """Whether an image path relative to a manifest stays inside its folder (not absolute, no ..)."""
    norm = os.path.normpath(rel)
    return not os.path.isabs(norm) and norm != os.pardir and not norm.startswith(os.pardir + os.sep)


def read_image(path):
    """Decode an image as BGR uint8 (OpenCV's order). Raises ValueError with a short reason."""
    import cv2
    import numpy as np
    if not os.path.isfile(path):
        raise ValueError("image missing: {}".format(path))
    data = np.fromfile(path, dtype=np.uint8)
    img = None
    if data.size and data[:8].tobytes() == PNG_SIGNATURE:
        img = cv2.imdecode(data, cv2.IMREAD_UNCHANGED)  # keeps alpha (IMREAD_COLOR drops it)
        if img is not None:
            img = _to_bgr(img)
    elif data.size:
        img = cv2.imdecode(data, cv2.IMREAD_COLOR)
    if img is None:
        raise ValueError("image unreadable (corrupt or not an image): {}".format(path))
    return img


def _to_bgr(img):
    """A PNG as decoded unchanged (gray, 16-bit, alpha) -> BGR uint8. Transparent pixels carry
    arbitrary colour (often black, which would hide black ink), so they are composited onto a
    background of the opposite polarity to the ink: white under dark ink, black under light."""
    import cv2
    import numpy as np
    if img.dtype != np.uint8:
        img = (img.astype(np.float32) * (255.0 / np.iinfo(img.dtype).max)).round().astype(np.uint8)
    if img.ndim == 2:
        return cv2.cvtColor(img, cv2.COLOR_GRAY2BGR)
    if img.shape[2] != 4:
        return np.ascontiguousarray(img[:, :, :3])
    alpha = img[:, :, 3:].astype(np.float32) / 255.0
    bgr = img[:, :, :3].astype(np.float32)
    luma = cv2.cvtColor(img[:, :, :3], cv2.COLOR_BGR2GRAY).astype(np.float32)
    weight = alpha[:, :, 0]
    ink = float((luma * weight).sum() / weight.sum()) if weight.sum() > 0 else 0.0
    background = 255.0 if ink < 128 else 0.0
    return (bgr * alpha + background * (1.0 - alpha)).round().astype(np.uint8)


def _check_box(box, shape):
    if box is None:
        return None
    if (not isinstance(box, (list, tuple)) or len(box) != 4
            or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in box)):
        return "bad box {!r}: want [x0, y0, x1, y1] numbers".format(box)
    if not all(math.isfinite(v) for v in box):
        return "bad box {!r}: want finite numbers".format(box)
    x0, y0, x1, y1 = box
    if x0 < 0 or y0 < 0 or x1 <= x0 or y1 <= y0:
        return "bad box {!r}: want 0 <= x0 < x1 and 0 <= y0 < y1".format(box)
    # the crop rounds its corners (ocr/preprocess.py): a sub-pixel box would be an empty crop
    if int(round(x1)) <= int(round(x0)) or int(round(y1)) <= int(round(y0)):
        return "bad box {!r}: smaller than a pixel once rounded (an empty crop)".format(box)
    if shape is not None and (x1 > shape[1] or y1 > shape[0]):
        return "bad box {!r}: outside the {}x{} image".format(box, shape[1], shape[0])
    return None


def _parse_line(raw, path, lineno, base, check_images, allow_outside=False):
    """One manifest line -> (Sample or None, [Problem])."""
    def problem(msg):
        return None, [Problem(path, lineno, msg)]

    try:
        obj = json.loads(raw)
    except ValueError as exc:
        return problem("bad JSON ({})".format(exc))
    if not isinstance(obj, dict):
        return problem("not a JSON object")
    image, text, box = obj.get("image"), obj.get("text"), obj.get("box")
    tags = obj.get("tags") or {}
    if not isinstance(image, str) or not image:
        return problem("missing 'image'")
    if not isinstance(text, str):
        return problem("missing 'text'")
    if not text.strip():
        return problem("empty text")
    if not isinstance(tags, dict):
        return problem("'tags' must be an object")
    if not allow_outside and not inside(image):
        return problem("image path leaves the manifest's folder: {} (refused unless outside paths "
                       "are allowed: --allow-outside-images)".format(image))
    full = os.path.normpath(os.path.join(base, image))
    shape = None
    if check_images:
        try:
            shape = read_image(full).shape
        except ValueError as exc:
            return problem(str(exc))
    bad_box = _check_box(box, shape)
    if bad_box:
        return problem(bad_box)
    sid = str(tags.get("id") or os.path.splitext(os.path.basename(image))[0])
    return Sample(sid, full, text, list(box) if box else None, tags, lineno), []


def _header(raw):
    """The optional first line {"manifest": {...}} -> (meta or None when not a header, problem)."""
    try:
        obj = json.loads(raw)
    except ValueError:
        return None, None
    if not isinstance(obj, dict) or set(obj) != {"manifest"}:
        return None, None
    meta = obj["manifest"]
    if not isinstance(meta, dict):
        return {}, "manifest header: want an object, got {!r}".format(meta)
    if not isinstance(meta.get("line_join", " "), str):
        return {}, "manifest header: 'line_join' must be a string, got {!r} (one space used)".format(
            meta["line_join"])
    return meta, None


def _lines(path):
    """(line number, text or None, decoding problem) for each line; a BOM is dropped and one
    undecodable line costs only that line."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except (IOError, OSError) as exc:
        raise DatasetError("{}: cannot read manifest ({})".format(path, exc)) from exc
    if data.startswith(UTF8_BOM):
        data = data[len(UTF8_BOM):]
    for lineno, raw in enumerate(data.splitlines(), 1):
        try:
            yield lineno, raw.decode("utf-8"), None
        except UnicodeDecodeError as exc:
            yield lineno, None, "not UTF-8 ({})".format(exc.reason)


def load(path=None, check_images=True, allow_outside=False):
    """Load and validate a manifest. Problems are collected, never raised, per sample.
    allow_outside: accept image paths that leave the manifest's folder (absolute or ../)."""
    path = resolve(path)
    base = os.path.dirname(os.path.abspath(path))
    samples, problems, meta, seen = [], [], {}, {}
    for lineno, raw, bad in _lines(path):
        if bad:
            problems.append(Problem(path, lineno, bad))
            continue
        if not raw.strip():
            continue
        if lineno == 1:
            header, bad = _header(raw)
            if bad:
                problems.append(Problem(path, lineno, bad))
            if header is not None:
                meta = header
                continue
        sample, probs = _parse_line(raw, path, lineno, base, check_images, allow_outside)
        problems.extend(probs)
        if sample is None:
            continue
        if sample.id in seen:
            problems.append(Problem(path, lineno, "duplicate id '{}' (first on line {})".format(
                sample.id, seen[sample.id])))
            continue
        seen[sample.id] = lineno
        samples.append(sample)
    if not samples and not problems:
        raise DatasetError("{}: no samples".format(path))
    return Dataset(path, samples, problems, meta)


def summary(ds):
    """Counts, charset, length and line distributions, tags, problems: a plain dict."""
    texts = [s.text for s in ds.samples]
    lengths = sorted(len(t) for t in texts)
    chars = collections.Counter("".join(texts))
    prefixes = collections.Counter(s.id.split("-")[0] if "-" in s.id else "(none)" for s in ds.samples)

    def pct(p):
        return lengths[min(len(lengths) - 1, int(p * len(lengths)))] if lengths else 0

    return {
        "manifest": ds.path,
        "samples": len(ds.samples),
        "problems": [str(p) for p in ds.problems],
        "charset": "".join(sorted(chars)),
        "char_counts": dict(chars.most_common()),
        "length": {"min": lengths[0] if lengths else 0, "p50": pct(0.5), "p90": pct(0.9),
                   "max": lengths[-1] if lengths else 0},
        "length_hist": dict(sorted(collections.Counter(min(n // 5 * 5, 40) for n in lengths).items())),
        "with_box": sum(1 for s in ds.samples if s.box),
        "id_prefixes": dict(prefixes.most_common()),
        "line_join": ds.line_join,
    }


def format_summary(info, show_problems=50):
    from tabulate import tabulate
    rows = [["manifest", info["manifest"]], ["samples", info["samples"]],
            ["problems", len(info["problems"])],
            ["charset ({} chars)".format(len(info["charset"])), repr(info["charset"])],
            ["length min/p50/p90/max", "{min}/{p50}/{p90}/{max}".format(**info["length"])],
            ["with box", info["with_box"]],
            ["id prefixes", ", ".join("{}: {}".format(k, v) for k, v in info["id_prefixes"].items())]]
    out = [tabulate(rows, tablefmt="plain")]
    hist = info["length_hist"]
    if hist:
        out.append("length histogram: " + "  ".join(
            "{}-{}: {}".format(k, k + 4, v) if k < 40 else "40+: {}".format(v) for k, v in hist.items()))
    for p in info["problems"][:show_problems]:
        out.append("problem: " + p)
    if len(info["problems"]) > show_problems:
        out.append("... and {} more problems".format(len(info["problems"]) - show_problems))
    return "\n".join(out)


def check_cli(path=None, show_problems=50, out=sys.stdout, allow_outside=False):
    """`invoke dataset.check`: print the summary; exit code 1 when the manifest is unusable."""
    try:
        ds = load(path, allow_outside=allow_outside)
    except DatasetError as exc:
        print("dataset.check: " + str(exc), file=out)
        return 1
    info = summary(ds)
    print(format_summary(info, show_problems), file=out)
    return 0
