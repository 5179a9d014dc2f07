"""The job file of `invoke read` (YAML): what to read, where, and what it must say.

Validated on load: every mistake is one line `FILE: key: problem`, all of them at once (JobError).
`Job.from_dict` takes the same mapping without a file (a service builds jobs from requests).
The documented example: ocr/reader/example-job.yml.
"""
import datetime
import json
import os

from ..errors import one_line
from . import verify
from .trigger import PresenceTrigger

KEYS = ("engine", "gpu_twin", "options", "threshold", "regions", "formats", "match", "verify", "now", "date_order",
        "trigger", "output", "serve")
VERIFY_KEYS = ("text", "expect", "pattern", "date", "lot_file")
REGION_KEYS = ("name", "box", "find")
TRIGGER_KEYS = ("rule",) + tuple(PresenceTrigger.DEFAULTS)
OUTPUT_KEYS = ("jsonl", "csv", "summary")
GPU_TWIN_SUFFIX = "-trt"  # codereader -> codereader-trt: the same reader, its network on TensorRT


class JobError(ValueError):
    def __init__(self, problems):
        ValueError.__init__(self, "\n".join(problems))
        self.problems = list(problems)


class Region(object):
    """A region of interest: `box` [x0, y0, x1, y1] in frame pixels (None: the whole frame);
    `find` "auto": DB-detected text boxes inside it, kept when the reader reads a known format."""

    __slots__ = ("name", "box", "find")

    def __init__(self, name, box=None, find=None):
        self.name, self.box, self.find = name, box, find

    def to_dict(self):
        return {"name": self.name, "box": self.box, "find": self.find}


class Job(object):
    """A validated job. `verifier()` builds the rules once the engine's threshold is known."""

    def __init__(self, spec, where):
        self.spec, self.where = spec, where
        self.engine = spec.get("engine", "codereader")
        self.options = dict(spec.get("options") or {})
        self.regions = []
        self.trigger = {}
        self.output = dict(spec.get("output") or {})

    @classmethod
    def from_dict(cls, spec, where="job", base_dir="."):
        problems = []
        if spec is None:
            spec = {}
        if not isinstance(spec, dict):
            raise JobError(["{}: a job is a mapping of keys ({})".format(where, ", ".join(KEYS))])
        job = cls(spec, where)
        job.base_dir = base_dir

        def bad(key, msg):
            problems.append("{}: {}: {}".format(where, key, msg))

        _unknown(spec, KEYS, "", bad)
        _check_engine(job.engine, bad)
        job.gpu_twin = spec.get("gpu_twin", True)
        if not isinstance(job.gpu_twin, bool):
            bad("gpu_twin", "true or false, not {!r}".format(job.gpu_twin))
        if not isinstance(job.options, dict):
            bad("options", "a mapping of engine options")
        threshold = spec.get("threshold", "shipped")
        if not (threshold in ("shipped", None) or _number(threshold, 0.0, 1.0)):
            bad("threshold", "'shipped', null or a number in [0, 1], not {!r}".format(threshold))
        job.threshold = threshold
        job.regions = _regions(spec.get("regions"), bad)
        job.formats = _formats(spec.get("formats"), bad)
        job.match = spec.get("match", "normalised")
        if job.match not in ("normalised", "exact"):
            bad("match", "'normalised' or 'exact', not {!r}".format(job.match))
        job.date_order = spec.get("date_order", "DMY")
        if job.date_order not in ("DMY", "MDY"):
            bad("date_order", "'DMY' or 'MDY', not {!r}".format(job.date_order))
        job.now = _now(spec.get("now"), bad)
        job.rules = _rules(spec.get("verify"), base_dir, bad)
        job.trigger = _trigger(spec.get("trigger"), [r.name for r in job.regions], bad)
        if not isinstance(job.output, dict):
            bad("output", "a mapping with jsonl, csv, summary")
            job.output = {}
        _unknown(job.output, OUTPUT_KEYS, "output.", bad)
        job.output = {k: _path(base_dir, v) for k, v in job.output.items() if k in OUTPUT_KEYS and v}
        from .service import settings  # imported here: it shares this module's checks
        job.serve = settings.parse(spec.get("serve"), base_dir, bad)
        if problems:
            raise JobError(problems)
        return job

    def engine_name(self):
        """The engine to create: the job's, or its GPU twin (NAME-trt) where that is registered and
        available here (a Jetson with TensorRT), unless `gpu_twin: false`."""
        from ..engines import registry
        twin = self.engine + GPU_TWIN_SUFFIX
        if self.gpu_twin and twin in registry.names() and registry.availability(twin)[0]:
            return twin
        return self.engine

    @property
    def needs_detector(self):
        return any(r.find == "auto" for r in self.regions)

    def verifier(self, shipped_threshold):
        threshold = shipped_threshold if self.threshold == "shipped" else self.threshold
        return verify.Verifier(threshold=threshold, formats=self.formats, match=self.match, now=self.now,
                               date_order=self.date_order, **self.rules)


def load_job(path=None):
    """The job in YAML file `path` (None: the defaults: whole frame, codereader, no rule)."""
    if path is None:
        return Job.from_dict({}, "job (defaults)")
    import yaml
    try:
        with open(path) as f:
            spec = yaml.safe_load(f)
    except (IOError, OSError) as exc:
        raise JobError(["{}: cannot read ({})".format(path, exc.strerror)]) from None
    except yaml.YAMLError as exc:
        raise JobError(["{}: not YAML: {}".format(path, one_line(exc))]) from None
    return Job.from_dict(spec, path, os.path.dirname(os.path.abspath(path)))


# --- checks, each adding one line per mistake ------------------------------------------------------
def _unknown(spec, keys, prefix, bad):
    for key in sorted(set(spec) - set(keys), key=str):
        bad(prefix + str(key), "unknown key (valid: {})".format(", ".join(keys)))


def _number(v, lo, hi):
    return isinstance(v, (int, float)) and not isinstance(v, bool) and lo <= v <= hi


def _path(base_dir, p):
    return p if os.path.isabs(str(p)) else os.path.join(base_dir, str(p))


def _check_engine(name, bad):
    from ..engines import registry
    if name not in registry.names():
        bad("engine", "unknown engine {!r} (valid: {})".format(name, ", ".join(registry.names())))


def _regions(spec, bad):
    if spec is None:
        return [Region("frame")]
    if spec == "auto":
        return [Region("auto", None, "auto")]
    if not isinstance(spec, list) or not spec:
        bad("regions", "'auto' or a list of {name, box: [x0, y0, x1, y1], find: auto}")
        return []
    out = []
    for i, r in enumerate(spec):
        key = "regions[{}]".format(i)
        if not isinstance(r, dict):
            bad(key, "a mapping {name, box, find}")
            continue
        _unknown(r, REGION_KEYS, key + ".", bad)
        name = str(r.get("name", "r{}".format(i + 1)))
        if name in [x.name for x in out]:
            bad(key + ".name", "{!r} used twice".format(name))
        box = r.get("box")
        if box is not None and not (isinstance(box, list) and len(box) == 4 and all(
                isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in box)
                and box[0] < box[2] and box[1] < box[3]):
            bad(key + ".box", "four pixel coordinates [x0, y0, x1, y1], x0 < x1 and y0 < y1, not {!r}".format(box))
            box = None
        find = r.get("find")
        if find not in (None, "auto"):
            bad(key + ".find", "'auto' or absent, not {!r}".format(find))
        out.append(Region(name, box, find))
    return out


def _formats(spec, bad):
    if spec is None:
        return None
    from .. import formats
    known = formats.default_grammar().names
    if not isinstance(spec, list) or not all(isinstance(f, str) for f in spec):
        bad("formats", "a list of format names ({})".format(", ".join(known)))
        return None
    for f in spec:
        if f not in known:
            bad("formats", "unknown format {!r} (ocr/data/formats.yml has {})".format(f, ", ".join(known)))
    return list(spec)


def _now(spec, bad):
    if spec is None:
        return None
    if isinstance(spec, datetime.datetime):
        return spec.date()
    if isinstance(spec, datetime.date):
        return spec
    try:
        return datetime.datetime.strptime(str(spec), "%Y-%m-%d").date()
    except ValueError:
        bad("now", "a date YYYY-MM-DD, not {!r}".format(spec))
        return None


def _rules(spec, base_dir, bad):
    rules = {}
    if spec is None:
        return rules
    if not isinstance(spec, dict):
        bad("verify", "a mapping of rules ({})".format(", ".join(VERIFY_KEYS)))
        return rules
    _unknown(spec, VERIFY_KEYS, "verify.", bad)
    if "text" in spec:
        if isinstance(spec["text"], (str, int)) and str(spec["text"]).strip():
            rules["text"] = str(spec["text"])
        else:
            bad("verify.text", "the expected text, not {!r}".format(spec["text"]))
    for key, build in (("pattern", _pattern_rule), ("date", verify.DateRule),
                       ("lot_file", lambda p: verify.LotFile(_path(base_dir, p)))):
        if key in spec:
            try:
                rules[key] = build(spec[key])
            except (verify.RuleError, TypeError) as exc:
                bad("verify." + key, str(exc))
    if "expect" in spec:
        try:
            rules["expect"] = load_expectations(spec["expect"], base_dir)
        except ValueError as exc:
            bad("verify.expect", str(exc))
    return rules


def _pattern_rule(pattern):
    from .. import formats
    macros = formats.load_spec(formats.FORMATS_PATH)["macros"]
    return verify.PatternRule(str(pattern), macros)


def load_expectations(spec, base_dir="."):
    """An expected text per item: an inline mapping {item: text}, or a file: a dataset manifest
    (JSONL: image, text; keyed by image path), JSONL rows {item, text}, a conveyor ground truth
    (JSON with items [{item, text}]), or a YAML/JSON mapping. Items are keyed by image path or
    name, or by the item number (1, 2, ...) on a video/stream."""
    if isinstance(spec, dict):
        return {str(k): str(v) for k, v in spec.items()}
    if not isinstance(spec, str):
        raise ValueError("a file or a mapping {item: expected text}, not " + repr(spec))
    path = _path(base_dir, spec)
    try:
        with open(path) as f:
            raw = f.read()
    except (IOError, OSError) as exc:
        raise ValueError("{}: cannot read ({})".format(path, exc.strerror)) from None
    if path.endswith(".jsonl"):
        out = {}
        for n, line in enumerate(raw.splitlines(), 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                key = row["image"] if "image" in row else row["item"]
                out[str(key)] = str(row["text"])
            except (ValueError, KeyError, TypeError):
                if n == 1 and "manifest" in line:
                    continue
                raise ValueError("{}:{}: needs image (or item) and text".format(path, n)) from None
        return out
    import yaml
    try:
        data = yaml.safe_load(raw)
    except yaml.YAMLError as exc:
        raise ValueError("{}: not YAML/JSON: {}".format(path, one_line(exc))) from None
    if isinstance(data, dict) and isinstance(data.get("items"), list):
        return {str(i["item"]): str(i["text"]) for i in data["items"]}
    if isinstance(data, dict):
        return {str(k): str(v) for k, v in data.items()}
    raise ValueError("{}: a mapping item -> text, a manifest or a ground-truth file".format(path))


def _trigger(spec, region_names, bad):
    if spec is None:
        return {"rule": "presence"}
    if not isinstance(spec, dict):
        bad("trigger", "a mapping (rule: presence, ...)")
        return {}
    _unknown(spec, TRIGGER_KEYS, "trigger.", bad)
    if spec.get("rule", "presence") != "presence":
        bad("trigger.rule", "'presence' is the one rule, not {!r}".format(spec.get("rule")))
    for key, _default in PresenceTrigger.DEFAULTS.items():
        if key in spec:
            lo, hi = PresenceTrigger.RANGES[key]
            if not _number(spec[key], lo, hi):
                bad("trigger." + key, "a number in [{}, {}], not {!r}".format(lo, hi, spec[key]))
    return dict(spec, rule="presence")
