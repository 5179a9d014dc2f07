"""Measure a codereader model: accuracy on manifests, the rejection threshold for 99 % precision
picked on a held-out *synthetic* calibration set, and PyTorch-vs-ONNX agreement.

    python -m train.codereader.evaluate --model ocr/data/codereader \
        --data ocr/data/default --data ../shared/realdev/labels.jsonl --torch-check

The threshold is chosen on the calibration set only, then applied unchanged to every --data set
(realdev is for validation: nothing is tuned on it). The shipped calibrator and threshold are
written by train/codereader/calibrate.py.
"""
import argparse
import collections
import json
import os
import sys
import time

import numpy as np

from ocr import dataset, metrics, synth

CALIB_SEED, CALIB_N = 7002, 300


def engine_for(model_dir, **options):
    os.environ["KIT_MODELS_CODEREADER"] = os.path.abspath(model_dir)
    from ocr.engines import registry
    return registry.create("codereader", **options).load()


def load_manifest(path):
    ds = dataset.load(path)
    return [(s.text, dataset.read_image(s.image), (s.tags or {}).get("id", "")) for s in ds]


def synthetic_set(seed, n, preset="default"):
    """Full synthetic crops (one to three lines) of `preset` (ocr/synth/presets.py) as BGR, like a
    manifest's."""
    return [(text, np.ascontiguousarray(img[:, :, ::-1]), tags["id"])
            for text, img, tags in synth.generate(n, seed, preset=preset)]


def read(engine, samples):
    t0 = time.time()
    preds = engine.predict([img for _, img, _ in samples])
    return preds, (time.time() - t0) / max(1, len(samples))


def score(preds, samples, threshold=None):
    """Normalised strict accuracy overall and per id prefix, reads that collapsed a repeat;
    coverage/precision at a threshold."""
    ok = [metrics.normalise(p.text) == metrics.normalise(t) for p, (t, _, _) in zip(preds, samples)]
    groups = collections.defaultdict(list)
    for hit, (_, _, sid) in zip(ok, samples):
        groups[sid.split("-")[0]].append(hit)
    out = {"n": len(ok), "accuracy": float(np.mean(ok)) if ok else 0.0,
           "collapsed_repeat_reads": sum(1 for p, (t, _, _) in zip(preds, samples)
                                         if metrics.collapsed_repeats(p.text, t)),
           "by_prefix": {k: {"n": len(v), "accuracy": float(np.mean(v))} for k, v in sorted(groups.items())}}
    if threshold is not None:
        precision, coverage = metrics.precision_at_threshold(
            [(p.confidence, hit) for p, hit in zip(preds, ok)], threshold)
        out.update(threshold=threshold, precision_at_threshold=precision, coverage_at_threshold=coverage)
    return out


def calibrate(engine, seed=CALIB_SEED, n=CALIB_N, target=0.99):
    """Threshold for `target` precision on held-out synthetic crops, with its coverage there."""
    samples = synthetic_set(seed, n)
    preds, _ = read(engine, samples)
    ok = [metrics.normalise(p.text) == metrics.normalise(t) for p, (t, _, _) in zip(preds, samples)]
    threshold = metrics.threshold_for_precision([(p.confidence, hit) for p, hit in zip(preds, ok)], target)
    result = score(preds, samples, threshold if threshold is not None else 1.01)
    result.update(seed=seed, target_precision=target)
    return result


def torch_onnx_agreement(model_dir, samples):
    """Decoded text of the PyTorch model (from codereader.pt) vs the ONNX export, same pipeline."""
    import torch

    from .export import load_full
    full = load_full(os.path.join(model_dir, "codereader.pt"))
    full.net.export_probs = True
    eng = engine_for(model_dir)

    def torch_runner(x):  # stands in for the ONNX Runtime session inside the engine
        with torch.no_grad():
            return full(torch.from_numpy(x)).numpy()

    onnx_preds, _ = read(eng, samples)
    eng.rec = torch_runner
    torch_preds, _ = read(eng, samples)
    same = sum(a.text == b.text for a, b in zip(onnx_preds, torch_preds))
    return {"n": len(samples), "identical_text": same}


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", default="ocr/data/codereader")
    p.add_argument("--data", action="append", default=[], help="manifest or folder; repeatable")
    p.add_argument("--torch-check", action="store_true", help="compare PyTorch and ONNX on the first --data")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--out", help="write the JSON here too")
    a = p.parse_args(argv)
    eng = engine_for(a.model, threads=a.threads)
    report = {"calibration": calibrate(eng)}
    threshold = report["calibration"]["threshold"]
    for path in a.data:
        samples = load_manifest(path)
        preds, per_crop = read(eng, samples)
        report[path] = score(preds, samples, threshold)
        report[path]["ms_per_crop"] = round(per_crop * 1000, 1)
    if a.torch_check and a.data:
        report["torch_vs_onnx"] = torch_onnx_agreement(a.model, load_manifest(a.data[0]))
    text = json.dumps(report, indent=1)
    print(text)
    if a.out:
        with open(a.out, "w") as f:
            f.write(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
