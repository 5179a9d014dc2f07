"""The reading loop: sources -> regions -> engine -> verdicts, one per item.

Images are one item each and every region of the job is read on them. Video-like sources go
through one trigger per region (ocr/reader/trigger.py): a region is read once per passing item.
A region with `find: auto` is searched with PP-OCRv4's DB detector (the `ppocr-onnx` engine's);
the blocks whose read fits a known format are the code; blocks near each other are read as one
(one verdict per item), codes far apart get a verdict each. A region where nothing is read still
gets a verdict (REJECT, "no code found"): a line acts on every item.

Latency of an item: from its frame's capture (time.perf_counter when the frame was grabbed) to
its verdict.
"""
import time

import numpy as np

from .. import layout
from ..engines import registry
from . import capture
from .job import Region
from .output import Verdict
from .trigger import FIRE, PASSED, PresenceTrigger
from .verify import REJECT

# Detected boxes closer than BLOCK_GAP of the taller one's height make one code block (the lines
# and words of one printed code), read as one crop: the code reader splits lines itself and knows
# labelled formats ("EXP 05/2027"). The blocks are not padded: DB's unclip leaves a margin, and
# on conveyor frames a padded block read worse (a second line from the label's edge).
BLOCK_GAP = 1.0
# Code blocks closer than ITEM_GAP x their height are one item (an expiry line above a lot line,
# detected apart): one verdict; blocks further apart are separate codes, a verdict each.
ITEM_GAP = 3.0


class Detector(object):
    """Text boxes from the `ppocr-onnx` engine's DB detector (its model, pre- and post-processing)."""

    def __init__(self, engine_name="ppocr-onnx"):
        self.engine = registry.create(engine_name).load()

    def boxes(self, image):
        """Axis-aligned [x0, y0, x1, y1] of each code block (detected pieces grouped), top to bottom."""
        h, w = image.shape[:2]
        pieces = []
        for quad in self.engine.detect(image):  # the engine's own detector
            q = np.asarray(quad)
            pieces.append([q[:, 0].min(), q[:, 1].min(), q[:, 0].max(), q[:, 1].max()])
        out = [[int(max(0, x0)), int(max(0, y0)), int(min(w, x1 + 1)), int(min(h, y1 + 1))]
               for x0, y0, x1, y1, _ in blocks(pieces)]
        return sorted(out, key=lambda b: (b[1], b[0]))


def blocks(pieces, gap=BLOCK_GAP):
    """Boxes [x0, y0, x1, y1] grouped (see `groups`) -> [x0, y0, x1, y1, tallest piece's height]."""
    out = []
    for members in groups(pieces, gap):
        g = [pieces[k] for k in members]
        out.append([min(p[0] for p in g), min(p[1] for p in g), max(p[2] for p in g), max(p[3] for p in g),
                    max(p[3] - p[1] for p in g)])
    return out


def groups(boxes, gap):
    """Indices of boxes [x0, y0, x1, y1] chained together by gaps (both ways) below `gap` x the
    taller box's height, each group in input order."""
    members = [[k] for k in range(len(boxes))]
    merged = True
    while merged:
        merged = False
        for i in range(len(members)):
            for j in range(i + 1, len(members)):
                if any(_near(boxes[a], boxes[b], gap) for a in members[i] for b in members[j]):
                    members[i] = sorted(members[i] + members.pop(j))
                    merged = True
                    break
            if merged:
                break
    return members


def _near(a, b, gap):
    limit = gap * max(a[3] - a[1], b[3] - b[1])
    dx = max(a[0], b[0]) - min(a[2], b[2])
    dy = max(a[1], b[1]) - min(a[3], b[3])
    return dx < limit and dy < limit


def _one_read(reads):
    """The code blocks found in one region (an item) as one read, in reading order: texts joined
    by a space, the weakest confidence, each line's formats, the box around them all."""
    pieces = [tuple(b) + (p.text, p.confidence, k) for k, (b, p) in enumerate(reads)]
    order = [piece[6] for line in layout.reading_order(pieces) for piece in line]
    text = " ".join(reads[k][1].text for k in order)
    formats = [names for k in order for names in (_formats(reads[k][1]) or [])] or None
    if any(_formats(reads[k][1]) is None for k in order):
        formats = None
    boxes = [b for b, _ in reads]
    box = [min(b[0] for b in boxes), min(b[1] for b in boxes), max(b[2] for b in boxes), max(b[3] for b in boxes)]
    return text, min(p.confidence for _, p in reads), formats, box


def _formats(pred):
    return (pred.extra or {}).get("formats") if pred.text.strip() else None


class Reader(object):
    """Reads frames for one job: `read_region(frame, region, item)` -> [Verdict]."""

    def __init__(self, job, engine=None, detector=None):
        self.job = job
        self.engine = engine or registry.create(job.engine_name(), **job.options).load()
        self.detector = detector if detector is not None else (Detector() if job.needs_detector else None)
        self.verifier = job.verifier(getattr(self.engine, "reject_below", None))
        self.frames_seen, self.trigger_ms = 0, 0.0  # trigger cost: frames x regions checked, ms

    def _crop(self, image, box):
        if box is None:
            return image, [0, 0, image.shape[1], image.shape[0]]
        x0, y0, x1, y1 = box
        if x0 >= image.shape[1] or y0 >= image.shape[0]:
            raise capture.SourceError("region {} lies outside the {}x{} frame".format(
                box, image.shape[1], image.shape[0]))
        return image[y0:y1, x0:x1], list(box)

    def read_region(self, frame, region, item):
        """The verdicts of one region of one frame: one, unless `find: auto` finds codes far apart
        (blocks near each other are one code, read as one in reading order). Each carries where
        its time went (`stages_ms`: detect, read and the engine's own stages)."""
        image, box = self._crop(frame.image, region.box)
        t0 = time.perf_counter()
        if region.find == "auto":
            found = self.detector.boxes(image)
            boxes = [[b[0] + box[0], b[1] + box[1], b[2] + box[0], b[3] + box[1]] for b in found]
            crops = [image[b[1]:b[3], b[0]:b[2]] for b in found]
        else:
            boxes, crops = [box], [image]
        t1 = time.perf_counter()
        preds = self.engine.predict([np.ascontiguousarray(c) for c in crops]) if crops else []
        stages = {"detect": (t1 - t0) * 1000.0, "read": (time.perf_counter() - t1) * 1000.0}
        for pred in preds[:1]:  # the engine's stages are per crop, averaged over the batch
            for name, ms in (pred.stages_ms or {}).items():
                stages[name] = ms * len(crops)
        reads = list(zip(boxes, preds))
        if region.find == "auto":
            reads = [(b, p) for b, p in reads if _formats(p) is not None]
        if not reads:
            return [self._verdict(frame, region, item, box, "", 0.0, None, REJECT, "no code found", {}, stages)]
        out = []
        for members in groups([b for b, _ in reads], ITEM_GAP):
            text, confidence, formats, b = _one_read([reads[k] for k in members])
            verdict, reason, fields = self.verifier.judge(text, confidence, formats, item)
            out.append(self._verdict(frame, region, item, b, text, confidence, formats, verdict, reason, fields,
                                     stages))
        return out

    def _verdict(self, frame, region, item, box, text, confidence, formats, verdict, reason, fields, stages=None):
        return Verdict(wall=time.time(), source=frame.source, frame=frame.index, item=item, region=region.name,
                       box=box, text=text, fields=fields, confidence=confidence, verdict=verdict,
                       reason=reason, formats=formats, latency_ms=(time.perf_counter() - frame.t) * 1000.0,
                       stages_ms=stages)

    def items(self, source):
        """Each item of an opened Source as it is found: (reads, verdicts), the (frame, region, key)
        reads it needs and the verdicts known without reading (an image OpenCV cannot decode, an
        item that passed the trigger unread). Images are an item each; video-like sources run one
        trigger per region on every frame. `read_source` reads them in order; a service queues the
        reads (ocr/reader/service/)."""
        if source.items_are_frames:
            for frame in source.frames():
                if frame.image is None:
                    yield [], [self._verdict(frame, Region("file"), frame.name, None, "", 0.0, None, REJECT,
                                             frame.error, {})]
                else:
                    yield [(frame, region, frame.name) for region in self.job.regions], []
            return
        triggers = [PresenceTrigger(**self.job.trigger) for _ in self.job.regions]
        for frame in source.frames():
            for region, trig in zip(self.job.regions, triggers):
                crop, box = self._crop(frame.image, region.box)
                t0 = time.perf_counter()
                event = trig.update(crop)
                self.trigger_ms += (time.perf_counter() - t0) * 1000.0
                self.frames_seen += 1
                key = str(trig.items)
                if event == FIRE:
                    yield [(frame, region, key)], []
                elif event == PASSED:
                    yield [], [self._verdict(frame, region, key, box, "", 0.0, None, REJECT,
                                             "passed without covering {:.0%} of the region".format(trig.cover), {})]

    def read_source(self, source, sink, limit=0):
        """Every item of an opened Source into `sink(verdict)`; returns the number of items."""
        work = _Worker(self, sink) if source.realtime and not source.items_are_frames else None
        n = 0
        try:
            for reads, verdicts in self.items(source):
                for read in reads:
                    (work.read if work else self._read_into)(sink, *read)
                for v in verdicts:
                    (work.put if work else sink)(v)
                n += 1
                if limit and n >= limit:
                    break
        finally:
            if work:
                work.finish()
        return n

    def _read_into(self, sink, frame, region, key):
        for v in self.read_region(frame, region, key):
            sink(v)


class _Worker(object):
    """Reads triggered frames in a thread, in order, so that the trigger sees every frame of a
    live source while a read runs (a read can take longer than the gap between two items: the
    trigger would miss the gap that re-arms it)."""

    def __init__(self, reader, sink):
        import queue
        import threading
        self.reader, self.sink, self.queue = reader, sink, queue.Queue()
        self.error = None
        self.thread = threading.Thread(target=self._run, name="reader")
        self.thread.daemon = True
        self.thread.start()

    def read(self, sink, frame, region, key):
        self.queue.put((frame, region, key))

    def put(self, verdict):
        self.queue.put(verdict)

    def _run(self):
        while True:
            job = self.queue.get()
            if job is None:
                return
            try:
                if isinstance(job, tuple):
                    self.reader._read_into(self.sink, *job)
                else:
                    self.sink(job)
            except Exception as exc:  # noqa: BLE001 - raised again in the caller's thread
                self.error = exc
                return

    def finish(self):
        self.queue.put(None)
        self.thread.join()
        if self.error is not None:
            raise self.error


def read_cli(sources, job_path=None, jsonl=None, csv_path=None, summary=None, realtime=None, limit=0,
             quiet=False, stream=None):
    """`invoke read`: every source through one job; exit code 0, or 2 on a bad job or source."""
    import sys

    from .job import JobError, load_job
    from .output import Outputs
    out = stream or sys.stdout
    try:
        job = load_job(job_path)
        opened = [capture.open_source(s, realtime) for s in sources]
    except (JobError, capture.SourceError) as exc:
        out.write(str(exc) + "\n")
        return 2
    paths = dict(job.output)
    paths.update({k: v for k, v in (("jsonl", jsonl), ("csv", csv_path), ("summary", summary)) if v})
    reader = Reader(job)
    sinks = Outputs(paths.get("jsonl"), paths.get("csv"), paths.get("summary"), None if quiet else out)
    try:
        for source in opened:
            try:
                reader.read_source(source, sinks.add, limit)
            except capture.SourceError as exc:
                out.write(str(exc) + "\n")
            finally:
                sinks.summary.dropped += source.dropped
                source.close()
    finally:
        if quiet:
            out.write(sinks.summary.line() + "\n")
        sinks.close()
    return 0
