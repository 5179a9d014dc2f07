"""One engine, one process: `python -m bench.worker` reads a job (JSON) on stdin and streams JSON
lines on stdout. The runner starts it under the interpreter configured for the engine (on a Nano
EasyOCR lives in a Python 3.6 venv and Paddle in a 3.7 one), so this file must stay importable
with nothing but the kit and the engine's own packages.

PROTOCOL (the one place it is written down; tests/bench/test_worker.py sends every event)

Job, one JSON object on stdin (bench/runner.py: run_engine):
  engine        registry name                  options   {option: value} (engine defaults else)
  pre           preprocessing (ocr/preprocess.py, default "gray")
  warmup        untimed inferences first (default 30)   warmup_image   path of the image they read
  samples       [{id, image, box (or null), text, tags}] (ocr/dataset.py: Sample.to_dict)
  batch         batch size of the throughput pass (<= 1: none)

Events, one JSON object a line on stdout, in this order (`event` says which):
  hello       python, executable, pid
  unavailable reason (one line)           -> the worker exits 0
  loaded      engine (its self-description), load_s, packages (versions of those it imported)
  warmup      n, s, image
  sample      id, text, confidence, lines, pre_ms, ocr_ms, error (null), stages_ms (the
              engine's own split of ocr_ms, {stage: ms}: Prediction.stages_ms, or null);
              a sample whose image cannot be read: id, error (one line) only
  throughput  batch, n, s, fps
  done        t0, t1 (wall clock of the timed latency pass, for telemetry windows)
  error       message (fatal, one line)       -> the worker exits 1
Whatever the engines print goes to stderr: stdout carries the protocol alone.

Method (paper section 5): load once; warm up N inferences on an image outside the measured set;
then for every sample, decoding outside the timers, time preprocessing and OCR separately with
perf_counter, engine.synchronize() around device work.
"""
import json
import os
import sys
import time
import traceback

PACKAGES = ("numpy", "cv2", "torch", "easyocr", "onnxruntime", "paddle", "tensorrt", "torch2trt")


def package_versions():
    """Versions of the packages this process actually imported (after the engine loaded): what
    ran, without paying for importing frameworks the engine does not use."""
    out = {}
    for name in PACKAGES:
        mod = sys.modules.get(name)
        if mod is not None:
            out[name] = getattr(mod, "__version__", "?")
    return out


class Channel(object):
    """The protocol stream: a private dup of fd 1; fd 1 itself is pointed at stderr so that
    prints from engines (and their C++ runtimes) never corrupt the protocol."""

    def __init__(self):
        self.out = os.fdopen(os.dup(1), "w")
        os.dup2(2, 1)
        sys.stdout = sys.stderr

    def send(self, event, **fields):
        fields["event"] = event
        self.out.write(json.dumps(fields) + "\n")
        self.out.flush()


def _ms(t0, t1):
    return round((t1 - t0) * 1000.0, 4)


def _warm_up(engine, pipeline, job, chan):
    from ocr import dataset
    n = int(job.get("warmup", 30))
    if n <= 0:
        return
    img = pipeline(dataset.read_image(job["warmup_image"]))
    t0 = time.perf_counter()
    for _ in range(n):
        engine.predict([img])
    engine.synchronize()
    chan.send("warmup", n=n, s=round(time.perf_counter() - t0, 4), image=job["warmup_image"])


def _latency_pass(engine, pipeline, samples, chan):
    """Batch 1, one sample at a time; returns the preprocessed crops for the throughput pass."""
    from ocr import dataset
    crops = []
    for s in samples:
        try:
            img = dataset.read_image(s["image"])
            t0 = time.perf_counter()
            crop = pipeline(img, s.get("box"))
            t1 = time.perf_counter()
            engine.synchronize()
            pred = engine.predict([crop])[0]
            engine.synchronize()
            t2 = time.perf_counter()
        except Exception as exc:  # noqa: BLE001 - one sample's failure costs that sample, named by id
            msg = str(exc) if isinstance(exc, ValueError) else "{}: {}".format(type(exc).__name__, exc)
            chan.send("sample", id=s["id"], error=(msg.splitlines() or [type(exc).__name__])[0])
            continue
        crops.append(crop)
        chan.send("sample", id=s["id"], text=pred.text, confidence=round(pred.confidence, 5),
                  lines=pred.lines, pre_ms=_ms(t0, t1), ocr_ms=_ms(t1, t2), error=None,
                  stages_ms=pred.stages_ms)
    return crops


def _throughput_pass(engine, crops, batch, chan):
    if batch <= 1 or not crops:
        return
    engine.synchronize()
    t0 = time.perf_counter()
    for i in range(0, len(crops), batch):
        engine.predict(crops[i:i + batch])
    engine.synchronize()
    s = time.perf_counter() - t0
    chan.send("throughput", batch=batch, n=len(crops), s=round(s, 4), fps=round(len(crops) / s, 3))


def run(job, chan):
    from ocr.engines import EngineUnavailable, registry
    chan.send("hello", python=sys.version.split()[0], executable=sys.executable, pid=os.getpid())
    try:
        from ocr.preprocess import Pipeline  # needs OpenCV: part of what makes an engine available
        engine = registry.create(job["engine"], **job.get("options", {}))
        # An engine whose runtime is missing must never fall back silently (ONNX Runtime would
        # run a CUDA/TensorRT session on the CPU): ask it first.
        reason = engine.check_available()
        if reason:
            raise EngineUnavailable(reason)
        pipeline = Pipeline(job.get("pre", "gray"))
        t0 = time.perf_counter()
        engine.load()
    except (EngineUnavailable, ImportError) as exc:
        chan.send("unavailable", reason=str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
        return 0
    chan.send("loaded", engine=engine.describe(), load_s=round(time.perf_counter() - t0, 3),
              packages=package_versions())
    _warm_up(engine, pipeline, job, chan)
    w0 = time.time()
    crops = _latency_pass(engine, pipeline, job["samples"], chan)
    w1 = time.time()
    _throughput_pass(engine, crops, int(job.get("batch", 0)), chan)
    chan.send("done", t0=w0, t1=w1)
    return 0


def main():
    chan = Channel()
    try:
        job = json.loads(sys.stdin.read())
        return run(job, chan)
    except Exception as exc:  # noqa: BLE001 - report any failure as one protocol line
        traceback.print_exc()
        chan.send("error", message="{}: {}".format(type(exc).__name__, exc).splitlines()[0])
        return 1


if __name__ == "__main__":
    sys.exit(main())
