"""Group `jetson_benchmarks`: NVIDIA's jetson_benchmarks at the pinned commit (opt-in, about 2 h);
its table beside the Xavier NX sample, since the pinned repo publishes no Nano FPS."""
import os
import re
import subprocess

from bench import csv_rows

from .common import DATA, FAIL, PASS, SKIP, off_jetson, outcome


def jetson_benchmarks_command(repo, model_dir, python="python3"):
    """The README's Nano command at the pinned commit, plus --jetson_clocks (its DVFS path for the
    Nano writes registers that do not exist there)."""
    return [python, os.path.join(repo, "benchmark.py"), "--all",
            "--csv_file_path", os.path.join(repo, "benchmark_csv", "tx2-nano-benchmarks.csv"),
            "--model_dir", model_dir, "--jetson_devkit", "nano", "--gpu_freq", "921600000",
            "--power_mode", "0", "--precision", "fp16", "--jetson_clocks"]


def parse_jetson_benchmarks(text):
    """{model: FPS} from its per-model report ("Model Name: X \\nFPS:Y"), else from the final
    pandas table (index, model, FPS)."""
    blocks = re.findall(r"Model Name: (\S+)\s*\n\s*FPS:\s*([\d.]+)", text)
    if blocks:
        return {m: float(f) for m, f in blocks}
    table = text.split("Model Name", 1)[-1] if "Model Name" in text else ""
    return {m: float(f) for m, f in re.findall(r"^\s*\d+\s+(\S+)\s+([\d.]+)\s*$", table, re.M)}


def jetson_benchmarks_table(measured, ref_dir=DATA):
    """Rows of model, measured FPS, precision used, and the NX sample FPS for scale. The pinned
    repo publishes no Nano FPS, so nothing here is a Nano pass mark."""
    def rows(name):
        return {r["ModelName"]: r for r in csv_rows(os.path.join(ref_dir, name))}
    nano, nx = rows("jetson_benchmarks_nano.csv"), rows("jetson_benchmarks_xavier_nx.csv")
    return [[m, measured.get(m), nano[m]["Precision"], "n/a", nx.get(m, {}).get("SampleOutputFPS")]
            for m in nano]


def check_jetson_benchmarks(ctx):
    res = outcome("jetson_benchmarks", "jetson_benchmarks")
    pin = ctx.expected["pins"]["jetson_benchmarks"]
    if not ctx.on_jetson:
        return off_jetson(res, "it builds TensorRT engines with trtexec")
    repo = ctx.jetson_benchmarks
    if not repo:
        return res(SKIP, "opt-in: it takes about 2 hours",
                   "clone NVIDIA-AI-IOT/jetson_benchmarks at {}, download its models into <clone>/models, "
                   "then: sudo invoke sanity --jetson-benchmarks <clone>".format(pin))
    rc, head = ctx.run(["git", "-C", repo, "rev-parse", "HEAD"])
    if rc != 0 or head.strip() != pin:
        return res(FAIL, "{} is at {}, not the pinned {}".format(
            repo, head.strip()[:12] or "?", pin[:12]), "git -C {} checkout {}".format(repo, pin))
    proc = subprocess.run(jetson_benchmarks_command(repo, os.path.join(repo, "models")), cwd=repo, input="\n",
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          universal_newlines=True)  # noqa: UP021 (3.6)
    measured = parse_jetson_benchmarks(proc.stdout)
    table = jetson_benchmarks_table(measured)
    failed = [row[0] for row in table if not row[1]]
    status = FAIL if failed or proc.returncode else PASS
    reason = "{}/{} models ran (exit {}); no Nano FPS is published in the pinned repo: see the table".format(
        len(table) - len(failed), len(table), proc.returncode)
    hint = "failed: {} (see {}/models/*.txt)".format(", ".join(failed), repo) if failed else ""
    return res(status, reason, hint, {"table": table})


CHECKS = [check_jetson_benchmarks]
