"""Group `ocr`: one real read per registered engine of a crop whose text is known, each engine in
the interpreter `invoke bench` gives it (bench/interpreters.yml: the Paddle venv on a Nano).
An engine of this interpreter is read here; one of another interpreter through the runner's
worker (`python -m bench.worker`, JSON lines), the way `invoke bench` runs it there."""
import os
import sys
import tempfile
import time
import warnings

from ocr.metrics import normalise

from .common import FAIL, PASS, SKIP, outcome, try_import

REFERENCE_TEXT = "LOT A7319"
FIX_INTERPRETERS = "check bench/interpreters.yml"


def reference_crop(text=REFERENCE_TEXT):
    """A clean printed-code crop (black on white, RGB uint8) whose text is known: the
    synthesiser's text_crop in DejaVu Sans Bold."""
    from ocr import synth
    return synth.text_crop(text, px=40, pad=12, ink=(0, 0, 0), paper=(255, 255, 255))


def judge_read(res, text, confidence, ms, expected):
    """PASS when the read equals the text, spaces and case aside."""
    got = "read {!r} (confidence {:.2f}), first call {:.0f} ms".format(text, confidence, ms)
    if normalise(text) == normalise(expected):
        return res(PASS, got)
    return res(FAIL, "{}, expected {!r}".format(got, expected),
               "the engine's models or preprocessing are off: compare with `invoke bench`")


def read_once(registry, name, crop, expected):
    """Load the engine (model files verified by sha256 on load) and read the crop once."""
    from ocr.engines.base import EngineUnavailable
    res = outcome("ocr", name)
    ok, why = registry.availability(name)
    if not ok:
        return res(SKIP, why)  # the registry's reason already names what is missing
    try:
        with warnings.catch_warnings():  # the engines' libraries warn about their own internals
            warnings.simplefilter("ignore")
            engine = registry.create(name).load()
            t0 = time.time()
            prediction = engine.predict([crop])[0]
            ms = (time.time() - t0) * 1000
    except EngineUnavailable as exc:  # available, yet a model file is missing or its sha256 is wrong
        return res(FAIL, str(exc), "reinstall the model files (ocr/data/models.yml)")
    except Exception as exc:  # the engine itself broke: report it, check the next one
        return res(FAIL, "{}: {}".format(type(exc).__name__, exc), "run `invoke engines`")
    return judge_read(res, prediction.text, prediction.confidence, ms, expected)


def read_in_worker(python, name, crop, expected, timeout=900):
    """The same read in another interpreter, through the runner's worker: the crop as a PNG, one
    sample, no warm-up, no preprocessing. The worker's own events say unavailable / error / read."""
    import cv2

    from bench import runner
    res = outcome("ocr", name)
    events = {}
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "reference.png")
        cv2.imwrite(path, crop[:, :, ::-1])  # the worker decodes it as BGR, as every dataset image
        job = {"engine": name, "options": {}, "pre": "none", "warmup": 0, "batch": 0,
               "samples": [{"id": "reference", "image": path}]}
        try:
            code, stderr = runner.stream_worker(python, job, lambda ev: events.setdefault(ev.pop("event"), ev),
                                                timeout=timeout)
        except runner.WorkerError as exc:
            return res(FAIL, str(exc), FIX_INTERPRETERS)
        except Exception as exc:  # OSError, a timeout: one line, and the next engine is checked
            return res(FAIL, "{} cannot run: {}: {}".format(python, type(exc).__name__, exc), FIX_INTERPRETERS)
    where = " [{}]".format(python)
    sample = events.get("sample") or {}
    if "unavailable" in events:
        return res(SKIP, events["unavailable"]["reason"] + where)
    if sample.get("text") is None:
        why = sample.get("error") or (events.get("error") or {}).get("message") or \
            "worker exited {}: {}".format(code, (stderr.strip().splitlines() or ["no output"])[-1][:160])
        return res(FAIL, "{} could not read: {}".format(python, why), FIX_INTERPRETERS)
    result = judge_read(res, sample["text"], sample["confidence"], sample["ocr_ms"], expected)
    result.reason += where
    return result


def check_engines(ctx):
    res = outcome("ocr", "engines")
    registry, err = try_import("ocr.engines.registry")
    if registry is None or not hasattr(registry, "availability"):
        return res(SKIP, "engine registry not available: {}".format(err or "no availability()"))
    synth, err = try_import("ocr.synth")
    if synth is None or synth.text_font_path() is None:
        return res(SKIP, "no DejaVu font to draw the reference crop" + (": " + err if err else ""),
                   "pip install matplotlib, or apt install fonts-dejavu-core")
    crop = reference_crop()
    results = []
    for name in ctx.engines or registry.names():  # every registered engine: a new one is read too
        python = ctx.interpreter_for(name)
        if os.path.realpath(python) == os.path.realpath(sys.executable):
            results.append(read_once(registry, name, crop, REFERENCE_TEXT))
        else:
            results.append(read_in_worker(python, name, crop, REFERENCE_TEXT))
    return results


CHECKS = [check_engines]
