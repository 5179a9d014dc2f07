"""The reduced-precision guard: before an FP16/INT8 engine is benchmarked or used, it reads a
calibration set beside its FP32 twin. If normalised strict accuracy drops more than 2 points or
CER rises more than 1 point, the engine is refused; with `allow_degraded` it runs but every
result carries "accuracy-degraded". (The reference study published Paddle FP16 rows at 81.5 %
CER: the kit must not.)
"""
from .. import metrics
from ..errors import EngineUnavailable

MAX_ACCURACY_DROP = 0.02  # strict accuracy, fraction (2 points)
MAX_CER_RISE = 0.01       # CER, fraction (1 point)

OK, REFUSED, DEGRADED = "ok", "refused", "accuracy-degraded"

# Options every guarded engine accepts (recorded in results like any other option).
OPTIONS = {"allow_degraded": False, "calib": "", "calib_n": 50}


class Verdict:
    __slots__ = ("status", "reasons", "reference", "candidate", "agreement", "n")

    def __init__(self, status, reasons, reference, candidate, agreement, n):
        self.status, self.reasons = status, reasons
        self.reference, self.candidate, self.agreement, self.n = reference, candidate, agreement, n

    @property
    def usable(self):
        return self.status != REFUSED

    def summary(self):
        return "{}: strict {:.1%} -> {:.1%}, CER {:.1%} -> {:.1%} on {} crops{}".format(
            self.status, self.reference["strict_accuracy"], self.candidate["strict_accuracy"],
            self.reference["cer"], self.candidate["cer"], self.n,
            " ({})".format("; ".join(self.reasons)) if self.reasons else "")

    def to_dict(self):
        return {"status": self.status, "reasons": self.reasons, "n": self.n, "agreement": self.agreement,
                "reference": self.reference, "candidate": self.candidate}


def decide(reference, candidate, allow_degraded=False, max_accuracy_drop=MAX_ACCURACY_DROP,
           max_cer_rise=MAX_CER_RISE, agreement=None, n=None):
    """reference/candidate: {"strict_accuracy", "cer"} (fractions) -> Verdict."""
    reasons = []
    drop = reference["strict_accuracy"] - candidate["strict_accuracy"]
    rise = candidate["cer"] - reference["cer"]
    # A tiny epsilon keeps an exact 2.0-point drop (1 of 50) on the allowed side of the line.
    if drop > max_accuracy_drop + 1e-9:
        reasons.append(f"strict accuracy -{100 * drop:.1f} points (limit {100 * max_accuracy_drop:.1f})")
    if rise > max_cer_rise + 1e-9:
        reasons.append(f"CER +{100 * rise:.1f} points (limit {100 * max_cer_rise:.1f})")
    status = OK if not reasons else (DEGRADED if allow_degraded else REFUSED)
    return Verdict(status, reasons, reference, candidate, agreement, n)


def compare_texts(reference_texts, candidate_texts, truths, allow_degraded=False):
    """Score both engines' reads against the truths (normalised metrics) and decide."""
    ref = metrics.evaluate(zip(reference_texts, truths))["normalised"]
    cand = metrics.evaluate(zip(candidate_texts, truths))["normalised"]
    same = sum(1 for a, b in zip(reference_texts, candidate_texts) if a == b)
    n = len(truths)
    return decide(ref, cand, allow_degraded, agreement=same / float(max(n, 1)), n=n)


def compare_engines(candidate, reference, samples, allow_degraded=False):
    """Run both (loaded) engines on [(crop, truth)] and decide."""
    crops = [c for c, _ in samples]
    return compare_texts([p.text for p in reference.predict(crops)],
                         [p.text for p in candidate.predict(crops)],
                         [t for _, t in samples], allow_degraded)


class GuardedPrecision:
    """Mixin for engines with a `precision` option: a reduced precision loads only after the
    guard passed (or was explicitly allowed to degrade); the verdict goes into describe()."""

    verdict = None

    def _init_precision(self, choices):
        if self.options["precision"] not in choices:
            raise ValueError("engine {}: precision must be one of {}".format(self.name, "|".join(choices)))
        self.precision = self.options["precision"]

    def fp32_twin(self):
        return type(self)(**dict(self.options, precision="fp32"))

    def load(self):
        super().load()
        if self.precision != "fp32" and self.verdict is None:
            from . import calib
            n = int(self.options["calib_n"])
            samples = calib.dataset_samples(self.options["calib"], n) if self.options["calib"] \
                else calib.default_samples(n)[0]
            self.verdict = compare_engines(self, self.fp32_twin().load(), samples,
                                           bool(self.options["allow_degraded"]))
            if not self.verdict.usable:
                self.loaded = False
                what = f"{self.name} {self.precision}"
                raise EngineUnavailable(f"{what} refused by the precision guard: {self.verdict.summary()}")
        return self

    def describe(self):
        d = super().describe()
        if self.verdict is not None:
            d["accuracy_guard"] = self.verdict.to_dict()
            d["accuracy_flag"] = self.verdict.status
        return d
