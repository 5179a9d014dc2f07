"""Replay the code reader's CPU side (line splitting, format-aware decoding) on cached network
outputs: the same reads, measured without the network, on any dataset.

The network's per-line probabilities are computed once per crop piece (a line the splitter cut,
or a split crop read whole) and kept in a cache outside the repository (KIT_REPLAY_CACHE, else
.cache/replay/ in the checkout, which git ignores: realdev-derived data must never be committed),
keyed by the model's sha256 and the dataset's hash. A replay runs the engine's own `predict` with
its `line_probs` answered from the cache, so splitting, choosing and decoding are exactly the
shipped code, and a piece the cache does not hold (the splitter cut differently) is an error.

    python -m bench.replay --data ../shared/realdev --repeats 20   # median ms per crop, per stage
    python -m bench.replay --patches tests.ocr.reference           # the same, old hot loops
    python -m bench.replay --compare tests.ocr.reference           # both in turn, same load
"""
import argparse
import contextlib
import hashlib
import importlib
import os
import statistics
import sys
import time

import numpy as np

from ocr import ROOT


class CacheMiss(KeyError):
    """The splitter produced a piece whose network output is not cached."""


def cache_root():
    return os.environ.get("KIT_REPLAY_CACHE") or os.path.join(ROOT, ".cache", "replay")


def piece_key(img):
    """A piece's identity: its shape and pixels."""
    img = np.ascontiguousarray(img)
    return hashlib.sha1(repr(img.shape).encode("ascii") + img.tobytes()).hexdigest()


class Replay(object):
    """One dataset's crops (preprocessed as the bench does) and the network outputs of their
    pieces; `run()` reads every crop at batch 1, as the bench's latency pass does."""

    def __init__(self, data=None, limit=0, pre="gray", threads=0, cache=None, **options):
        from ocr import dataset
        from ocr.engines import registry
        from ocr.preprocess import Pipeline
        ds = dataset.load(data)
        samples = list(ds)[:limit] if limit else list(ds)
        pipeline = Pipeline(pre)
        self.ids = [s.id for s in samples]
        self.crops = [pipeline(dataset.read_image(s.image), s.box) for s in samples]
        # the first pass only: a second look reads variants the cache does not hold
        self.engine = registry.create("codereader", threads=threads, **dict({"second_look": ""}, **options)).load()
        self.network = self.engine.line_probs
        self.lookup_cpu = 0.0  # CPU seconds spent answering from the cache (not the reader's)
        sha = self.engine.describe()["models"]["rec"]["sha256"]
        name = "{}-{}-{}.npz".format(sha[:12], ds.sha256()[:12], len(samples))
        self.path = os.path.join(cache or cache_root(), name)
        self.probs = self._load() if os.path.isfile(self.path) else {}
        missing = [c for c in self.crops if not self._cached(c)]
        if missing:
            self._fill(missing)

    def _cached(self, crop):
        try:
            self.run([crop])
        except CacheMiss:
            return False
        return True

    def _fill(self, crops):
        """Run the network on the pieces the cache lacks (at batch 1, as `run` reads) and save."""
        def record(images):
            out = self.network(images)
            for img, probs in zip(images, out):
                self.probs[piece_key(img)] = np.asarray(probs, dtype=np.float32)
            return out
        self.engine.line_probs = record
        try:
            for crop in crops:
                self.engine.predict([crop])
        finally:
            del self.engine.line_probs
        self._save()

    def _lookup(self, images):
        cpu = time.process_time()
        out = []
        for img in images:
            key = piece_key(img)
            if key not in self.probs:
                raise CacheMiss("piece {}x{} not cached: the splitter cut differently".format(*img.shape[:2]))
            out.append(self.probs[key])
        self.lookup_cpu += time.process_time() - cpu
        return out

    def run(self, crops=None):
        """[Prediction] of every crop (or of `crops`), the network answered from the cache."""
        self.engine.line_probs = self._lookup
        try:
            return [self.engine.predict([c])[0] for c in (self.crops if crops is None else crops)]
        finally:
            del self.engine.line_probs

    def _load(self):
        with np.load(self.path) as z:
            return {k: z[k] for k in z.files}

    def _save(self):
        folder = os.path.dirname(self.path)
        if not os.path.isdir(folder):
            os.makedirs(folder)
        tmp = self.path + ".tmp.npz"
        np.savez(tmp, **self.probs)
        os.replace(tmp, self.path)


def time_stages(replay, repeats=10, warm_up=True):
    """{stage: median over `repeats` replays of the mean wall-clock ms per crop}, "cpu" (the
    same for the process's CPU time of the replayed predict less the cache lookup: splitting,
    decoding and the engine's glue; less moved by other processes on a shared machine, which a
    wall clock also counts), and "per_repeat" (the split +
    decode of every replay, to show the noise); after one replay not timed. The network stage
    here is a cache lookup."""
    per = {"split": [], "decode": [], "split+decode": [], "cpu": []}
    if warm_up:
        replay.run()  # the grammar builds its per-state tables on first use
    for _ in range(repeats):
        cpu, lookup = time.process_time(), replay.lookup_cpu
        stages = [p.stages_ms or {} for p in replay.run()]
        cpu = time.process_time() - cpu - (replay.lookup_cpu - lookup)
        per["cpu"].append(cpu * 1000.0 / max(1, len(stages)))
        split = statistics.mean(s["split"] for s in stages)
        decode = statistics.mean(s["decode"] for s in stages)
        per["split"].append(split)
        per["decode"].append(decode)
        per["split+decode"].append(split + decode)
    out = {k: statistics.median(v) for k, v in per.items()}
    out["per_repeat"] = [round(v, 4) for v in per["split+decode"]]
    return out


@contextlib.contextmanager
def patched(module_name):
    """Replace the shipped functions by those in `module_name`'s PATCHES [(owner, attribute,
    function)] for the block (nothing when None), and put them back after."""
    patches = importlib.import_module(module_name).PATCHES if module_name else []
    saved = [(owner, name, getattr(owner, name)) for owner, name, _ in patches]
    try:
        for owner, name, fn in patches:
            setattr(owner, name, fn)
        yield
    finally:
        for owner, name, fn in saved:
            setattr(owner, name, fn)


def compare(replay, module_name, rounds=10):
    """{"shipped": timing, module_name: timing}: the shipped hot loops and `module_name`'s PATCHES
    replayed in turn, one replay each a round, so both see the same load; medians over rounds."""
    sides = [("shipped", None), (module_name, module_name)]
    for _, module in sides:  # warm-up of each
        with patched(module):
            replay.run()
    per = {side: [] for side, _ in sides}
    for _ in range(rounds):
        for side, module in sides:
            with patched(module):
                per[side].append(time_stages(replay, 1, warm_up=False))
    return {side: {k: statistics.median(t[k] for t in runs) for k in ("split", "decode", "split+decode", "cpu")}
            for side, runs in per.items()}


def reads(preds):
    """What a replay must reproduce: per crop text, lines, formats, how each line was decoded,
    and the confidence."""
    return [{"text": p.text, "lines": p.lines, "formats": p.extra.get("formats"),
             "decoded": p.extra.get("decoded"), "confidence": p.confidence} for p in preds]


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m bench.replay", description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", default=None, help="dataset manifest or folder (default: the embedded set)")
    ap.add_argument("--repeats", type=int, default=10, help="replays timed (default 10)")
    ap.add_argument("--limit", type=int, default=0, help="use only the first N samples")
    ap.add_argument("--out", default=None, help="also write the timings and reads as JSON here")
    ap.add_argument("--compare", default=None, metavar="MODULE",
                    help="alternate replays of the shipped loops and MODULE's PATCHES (one each a round, "
                         "--repeats rounds) and print both medians, e.g. tests.ocr.reference")
    ap.add_argument("--patches", default=None,
                    help="a module whose PATCHES [(owner, name, function)] replace the shipped ones first, "
                         "e.g. tests.ocr.reference (the hot loops before they were made faster)")
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    replay = Replay(args.data, limit=args.limit)
    if args.compare:
        both = compare(replay, args.compare, args.repeats)
        for side, t in both.items():
            print("{}: median of {} alternating replays, mean ms per crop: split {:.3f}, decode {:.3f}, "
                  "split + decode {:.3f} (CPU time {:.3f})".format(side, args.repeats, t["split"], t["decode"],
                                                                   t["split+decode"], t["cpu"]))
        if args.out:
            from bench.results import write_json_atomic
            write_json_atomic(args.out, {"data": args.data or "default", "crops": len(replay.crops),
                                         "rounds": args.repeats, "compare": both})
        return 0
    with patched(args.patches):
        return _report(args, replay, t0)


def _report(args, replay, t0):
    if args.patches:
        print("timing with {}'s PATCHES".format(args.patches))
    print("{} crops, {} cached pieces ({}; ready in {:.1f} s)".format(
        len(replay.crops), len(replay.probs), replay.path, time.perf_counter() - t0))
    timing = time_stages(replay, args.repeats)
    print("median of {} replays, mean ms per crop: split {:.3f}, decode {:.3f}, split + decode {:.3f} "
          "(CPU time of the replayed predict: {:.3f})".format(
              args.repeats, timing["split"], timing["decode"], timing["split+decode"], timing["cpu"]))
    print("split + decode per replay: " + " ".join("{:.3f}".format(v) for v in timing["per_repeat"]))
    if args.out:
        from bench.results import write_json_atomic
        write_json_atomic(args.out, {"data": args.data or "default", "crops": len(replay.crops),
                                     "repeats": args.repeats, "patches": args.patches, "timing": timing,
                                     "reads": dict(zip(replay.ids, reads(replay.run())))})
    return 0


if __name__ == "__main__":
    sys.exit(main())
