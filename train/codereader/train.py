"""Fine-tune the code reader on synthetic lines: seeded, resumable, logged.

    python -m train.codereader.train [--recipe release] [--steps N --lines N] --out runs/codereader \
        [--resume] [--device cuda]

Writes to OUT: cache/ (backbone features of the rendered lines, by chunk), ckpt.pt (every 100
steps and at the end; --resume continues from it),
train.jsonl (one JSON line per log: step, loss, lr, seconds, validation accuracy), and at the
end codereader.pt (weights + charset) and codereader.onnx (see export.py).
On a CUDA machine it uses the GPU (--device cuda); the default run is sized for 2 CPU cores.
"""
import argparse
import json
import math
import os
import random
import sys
import time

import numpy as np
import torch

from ocr import ctc, metrics

from . import LINES, RECIPES, STEPS, export, features, recipe
from .model import CHARSET, CUT, build, stock_graph

DATA_SEED_OFFSET = 1000   # training lines never share a generator seed with the default set (0)
VAL_SEED, VAL_N = 7001, 192
STAGES_LR_SCALE = 0.5  # the fine-tuned backbone stage moves at half the neck's and head's rate
BUCKET = 4                # a batch is drawn from BUCKET x batch lines of similar width: less padding


def draw_batch(by_width, batch_size, rng):
    """A random batch of lines of similar width (by_width: items sorted by feature width); the
    stage's cost grows with the padded width, so mixing 56- and 160-column lines wastes ~2x."""
    window = min(len(by_width), BUCKET * batch_size)
    start = rng.randrange(len(by_width) - window + 1)
    return rng.sample(by_width[start:start + window], batch_size)


def default_device():
    return "cuda" if torch.cuda.is_available() else "cpu"


def set_seed(seed):
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def freeze_batchnorm(net):
    """Keep the stock BatchNorm statistics: small CPU batches of synthetic lines would skew them."""
    for m in net.modules():
        if isinstance(m, torch.nn.modules.batchnorm._BatchNorm):
            m.eval()


def greedy_texts(log_probs):
    """N x T x C -> decoded strings (best path, repeats merged, blanks dropped)."""
    charset = ["<blank>"] + list(CHARSET)
    return [text for text, _ in ctc.greedy_texts(log_probs.detach().cpu().numpy(), charset)]


def evaluate(net, val, pad, device, bs=64):
    """Normalised strict accuracy of greedy reads on held-out lines (what the metric counts)."""
    net.eval()
    hits = 0
    with torch.no_grad():
        for i in range(0, len(val), bs):
            chunk = val[i:i + bs]
            x, _, _ = features.collate(chunk, pad)
            for (text, _), read in zip(chunk, greedy_texts(net(x.to(device)))):
                hits += metrics.normalise(read) == metrics.normalise(text)
    return hits / float(len(val))


def lr_at(step, steps, base, warmup=50):
    if step < warmup:
        return base * (step + 1) / warmup
    return base * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * (step - warmup) / max(1, steps - warmup))))


def train(out, steps=STEPS, seed=0, lines=LINES, batch_size=24, lr=3e-4, resume=False, device="cpu",
          eval_every=100, ckpt_every=100, threads=2, log=print, presets=()):
    """Phase 1: render `lines` training lines (with `presets`' share of lines drawn from the
    evaluation presets of what real prints fail on: data.PRESET_MIX) and cache their features at
    the cut (resumable by chunk). Phase 2: `steps` steps fine-tuning the last backbone stage (at STAGES_LR_SCALE of
    the rate: they start from features that already read), neck and head on random batches."""
    os.makedirs(out, exist_ok=True)
    torch.set_num_threads(threads)
    set_seed(seed)
    graph = stock_graph()
    backbone = features.Backbone(threads, graph)
    pad = backbone.pad_column()
    data_seed = seed + DATA_SEED_OFFSET
    where = os.path.join(out, "cache", CUT.replace("p2o.", "").replace(".", ""))  # per cut point
    name = "train-%d" % data_seed + ("-" + "-".join("%s%g" % p for p in presets) if presets else "")
    train_set = features.cache(os.path.join(where, name), data_seed, lines, backbone, log, presets=presets)
    val = features.cache(os.path.join(where, "val-%d" % VAL_SEED), VAL_SEED, VAL_N, backbone, log)

    by_width = sorted(train_set, key=lambda item: item[1].shape[-1])
    net = build(graph=graph).to(device)
    stages = [p for p in net.stages.parameters() if p.requires_grad]
    rest = [p for n, p in net.named_parameters() if p.requires_grad and not n.startswith("stages.")]
    opt = torch.optim.AdamW([{"params": stages, "lr_scale": STAGES_LR_SCALE}, {"params": rest, "lr_scale": 1.0}],
                            lr=lr, weight_decay=0.01)
    ctc = torch.nn.CTCLoss(blank=0, zero_infinity=True)
    ckpt_path = os.path.join(out, "ckpt.pt")
    step, spent = 0, 0.0
    if resume and os.path.isfile(ckpt_path):
        state = torch.load(ckpt_path, map_location=device, weights_only=False)
        net.load_state_dict(state["model"])
        opt.load_state_dict(state["opt"])
        step, spent = state["step"], state["seconds"]
        log("resumed at step {} ({:.0f} s spent)".format(step, spent))
    logf = open(os.path.join(out, "train.jsonl"), "a")

    def record(**row):
        logf.write(json.dumps(row) + "\n")
        logf.flush()

    if step == 0:
        acc = evaluate(net, val, pad, device)
        record(step=0, val_acc=acc, seconds=0.0)
        log("step 0: stock recogniser, head cut to the charset: val acc {:.3f}".format(acc))
    t0, losses = time.time() - spent, []
    while step < steps:
        net.train()
        freeze_batchnorm(net)
        rng = random.Random("batch/%d/%d" % (seed, step))  # a resumed run draws the same batches
        x, targets, lengths = features.collate(draw_batch(by_width, batch_size, rng), pad)
        lp = net(x.to(device))  # N x T x C log-probs
        t_len = torch.full((lp.shape[0],), lp.shape[1], dtype=torch.long)
        loss = ctc(lp.permute(1, 0, 2), targets, t_len, lengths)
        for g in opt.param_groups:
            g["lr"] = lr_at(step, steps, lr) * g["lr_scale"]
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(net.parameters(), 5.0)
        opt.step()
        losses.append(loss.item())
        step += 1
        if step % 20 == 0 or step == steps:
            elapsed = time.time() - t0
            row = {"step": step, "loss": float(np.mean(losses)), "lr": opt.param_groups[-1]["lr"],
                   "seconds": round(elapsed, 1)}
            if step % eval_every == 0 or step == steps:
                row["val_acc"] = evaluate(net, val, pad, device)
            record(**row)
            eta = elapsed / step * (steps - step) if step else 0
            log("step {}/{} loss {:.3f}{} {:.0f}s eta {:.0f}s".format(
                step, steps, row["loss"], " val {:.3f}".format(row["val_acc"]) if "val_acc" in row else "",
                elapsed, eta))
            losses = []
        if step % ckpt_every == 0 or step == steps:
            torch.save({"model": net.state_dict(), "opt": opt.state_dict(), "step": step,
                        "seconds": time.time() - t0, "seed": seed}, ckpt_path + ".tmp")
            os.replace(ckpt_path + ".tmp", ckpt_path)
    logf.close()
    weights = os.path.join(out, "codereader.pt")
    torch.save({"model": net.state_dict(), "charset": CHARSET, "steps": steps, "seed": seed,
                "lines": lines, "seconds": round(time.time() - t0, 1)}, weights)
    onnx_path = export.export(net, os.path.join(out, "codereader.onnx"), graph=graph)
    log("wrote {} and {}".format(weights, onnx_path))
    return weights, onnx_path


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", default="runs/codereader")
    p.add_argument("--recipe", default="default", choices=sorted(RECIPES),
                   help="named steps/lines/presets (train/codereader/__init__.py); the options below override")
    p.add_argument("--steps", type=int, default=0, help="fine-tuning steps (default: the recipe's)")
    p.add_argument("--lines", type=int, default=0, help="training lines rendered and cached (default: the recipe's)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--batch-size", type=int, default=24)
    p.add_argument("--lr", type=float, default=3e-4)
    p.add_argument("--resume", action="store_true")
    p.add_argument("--device", default=default_device())
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--presets", action="store_true",
                   help="draw data.PRESET_MIX's share of the lines from the doubled/failures presets")
    a = p.parse_args(argv)
    r = recipe(a.recipe, a.steps, a.lines, a.presets)
    train(a.out, steps=r["steps"], seed=a.seed, lines=r["lines"], batch_size=a.batch_size, lr=a.lr,
          resume=a.resume, device=a.device, threads=a.threads, log=lambda s: print(s, flush=True),
          presets=r["presets"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
