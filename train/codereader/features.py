"""Features of training lines at the cut (model.CUT), computed once with ONNX Runtime and cached.

The backbone's first stages are frozen (generic stroke features; back-propagating through them
at full resolution is what a 2-core CPU cannot afford), so each rendered line costs one forward
pass through them, ever. Chunks are written as they finish: an interrupted run resumes at the
first missing chunk.
"""
import os

import numpy as np
import torch

from . import data
from .model import backbone_onnx

CHUNK = 64


class Backbone(object):
    def __init__(self, threads=2, graph=None):
        import onnxruntime as ort
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = threads
        opts.log_severity_level = 3
        self.session = ort.InferenceSession(backbone_onnx(graph).SerializeToString(), opts,
                                            providers=["CPUExecutionProvider"])

    def __call__(self, images_bgr, batch=16):
        """Lines -> list of float16 arrays 240 x 12 x W/4 (each line padded only within its
        width-sorted batch)."""
        order = sorted(range(len(images_bgr)), key=lambda i: images_bgr[i].shape[1] / float(images_bgr[i].shape[0]))
        out = [None] * len(images_bgr)
        for s in range(0, len(order), batch):
            idx = order[s:s + batch]
            x = data.to_input([images_bgr[i] for i in idx])
            feats = self.session.run(None, {"x": x})[0]
            for i, f in zip(idx, feats):
                out[i] = f.astype(np.float16)
        return out

    def pad_column(self):
        """The feature column (240 x 12) of blank padding (what padded batches hold at run time)."""
        x = np.zeros((1, 3, 48, 64), dtype=np.float32)
        return self.session.run(None, {"x": x})[0][0, :, :, 8].astype(np.float16)


def cache(folder, seed, n, backbone, log=print, presets=()):
    """Features + texts of lines 1..n of `seed` (drawn with `presets`: data.line_sample) in
    folder/chunk_*.pt -> list of (text, feats)."""
    os.makedirs(folder, exist_ok=True)
    items = []
    for c in range((n + CHUNK - 1) // CHUNK):
        path = os.path.join(folder, "chunk_%04d.pt" % c)
        if not os.path.isfile(path):
            lines = data.fixed_set(seed, CHUNK, start=c * CHUNK * 2, presets=presets)  # room for skipped lines
            feats = backbone([img for _, img in lines])
            torch.save([(t, f) for (t, _), f in zip(lines, feats)], path + ".tmp")
            os.replace(path + ".tmp", path)
            log("cached {} lines of seed {} ({})".format((c + 1) * CHUNK, seed, folder))
        items.extend(torch.load(path, weights_only=False))
    return items[:n]


def collate(items, pad):
    """[(text, C x H x W)] -> (N x C x H x Wmax float32 tensor, flat targets, target lengths);
    pad is the C x H column of blank padding."""
    wmax = max(f.shape[-1] for _, f in items)
    x = np.repeat(pad[None, :, :, None].astype(np.float32), len(items), 0).repeat(wmax, 3)
    for i, (_, f) in enumerate(items):
        x[i, :, :, :f.shape[-1]] = f
    targets = [data.encode(t) for t, _ in items]
    flat = torch.tensor([k for t in targets for k in t], dtype=torch.long)
    lengths = torch.tensor([len(t) for t in targets], dtype=torch.long)
    return torch.from_numpy(x), flat, lengths
