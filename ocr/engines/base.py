"""The one small engine interface (after MLPerf's backends: name, version, load, predict)."""
import os

from ..errors import EngineUnavailable
from ..models import sha256_file


class Prediction(object):
    """One read: the text (lines joined as the labels are), a confidence in [0, 1], extras, and
    where the engine's time went when it times its own stages (`stages_ms`, {stage: ms per crop},
    e.g. the code reader's split, network and decode; None when it does not)."""

    __slots__ = ("text", "confidence", "lines", "extra", "stages_ms")

    def __init__(self, text, confidence, lines=None, extra=None, stages_ms=None):
        self.text = text
        self.confidence = float(confidence)
        self.lines = lines if lines is not None else [text]
        self.extra = extra or {}
        self.stages_ms = stages_ms

    def to_dict(self):
        d = {"text": self.text, "confidence": round(self.confidence, 5), "lines": self.lines}
        if self.extra:
            d["extra"] = self.extra
        if self.stages_ms:
            d["stages_ms"] = self.stages_ms
        return d


class Engine(object):
    """Base class. Subclasses set `name` (its registry key), `family`, `needs` (one line: which
    package or venv), `default_options` (and `option_choices` for options with a fixed set of
    values), and implement `check_available`, `_load` and `predict`.

    Options are named parameters (threads, precision, batch, height, pre, device...) recorded in
    every result file. `predict` takes a list of preprocessed crops (numpy arrays, HxW or HxWx3
    uint8) and returns one Prediction per crop, in order.
    """

    name = "base"
    family = "base"
    needs = ""
    device = "cpu"
    precision = "fp32"
    default_options = {}
    option_choices = {}  # option -> its valid values (checked when the engine is created)
    # Confidence below which a read should go to manual check, when the engine ships one
    # calibrated on other data (the bench reports precision/coverage at it); None: it ships none.
    reject_below = None

    def __init__(self, **options):
        unknown = sorted(set(options) - set(self.default_options))
        if unknown:
            raise ValueError("engine {}: unknown option(s) {}; valid: {}".format(
                self.name, ", ".join(unknown), ", ".join(sorted(self.default_options)) or "none"))
        self.options = dict(self.default_options)
        self.options.update(options)
        for option, valid in sorted(self.option_choices.items()):
            if self.options[option] not in valid:
                raise ValueError("engine {}: option {}={!r}; valid: {}".format(
                    self.name, option, self.options[option], ", ".join(str(v) for v in valid)))
        self.models = {}      # role -> {"path": ..., "sha256": ...}
        self.loaded = False

    # --- the interface -------------------------------------------------------------------------
    @classmethod
    def check_available(cls):
        """Why this engine cannot run in this interpreter (one line), or None when it can: packages
        and model files, without loading weights. Engines with anything to check override it."""
        return None

    def version(self):
        """Version string of the underlying package(s)."""
        return "unknown"

    def load(self):
        """Load models once (raises EngineUnavailable with a one-line reason)."""
        if not self.loaded:
            self._load()
            self.loaded = True
        return self

    def _load(self):
        raise NotImplementedError

    def predict(self, crops):
        raise NotImplementedError

    def synchronize(self):
        """Wait for asynchronous device work (GPU engines override); called around timers."""

    def describe(self):
        """Self-description recorded in results: options, models with sha256, device, precision."""
        info = {"name": self.name, "family": self.family, "version": self.version(),
                "device": self.device, "precision": self.precision,
                "options": dict(self.options), "models": dict(self.models)}
        if self.reject_below is not None:
            info["reject_below"] = self.reject_below
        return info

    # --- helpers for subclasses -------------------------------------------------------------------
    def register_model(self, role, path, expected_sha256=None):
        """Record a model file and verify it by sha256 before use."""
        if not os.path.isfile(path):
            raise EngineUnavailable("{}: model file missing: {}".format(self.name, path))
        digest = sha256_file(path)
        if expected_sha256 and digest != expected_sha256:
            raise EngineUnavailable("{}: model {} has sha256 {}, expected {} (corrupt or wrong "
                                    "version)".format(self.name, path, digest[:12], expected_sha256[:12]))
        self.models[role] = {"path": path, "sha256": digest}
        return path


def require(module, needs):
    """Import `module` or raise EngineUnavailable with the one-line `needs` hint."""
    import importlib
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise EngineUnavailable("needs {} ({}: {})".format(needs, module, exc)) from exc
