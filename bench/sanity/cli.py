"""`invoke sanity` / `python -m bench.sanity`: the groups in order, the run, the exit code."""
import argparse
import json
import sys

from . import jetson_benchmarks, platform, reads, stack, throughput
from .common import FAIL, Context
from .report import print_result, summary

CHECKS = [
    ("platform", platform.CHECKS),
    ("stack", stack.CHECKS),
    ("ocr", reads.CHECKS),
    ("throughput", throughput.CHECKS),
    ("jetson_benchmarks", jetson_benchmarks.CHECKS),
]
GROUPS = [group for group, _ in CHECKS]


def run_checks(ctx, groups=None, out=sys.stdout):
    results = []
    for group, checks in CHECKS:
        for check in checks if not groups or group in groups else []:
            produced = check(ctx)
            for result in produced if isinstance(produced, list) else [produced]:
                print_result(result, out)
                results.append(result)
    return results


def sanity_cli(only=None, models=None, iterations=None, warmup=None, paddle_python=None,
               jetson_benchmarks=None, engines=None, out_json=None, stream=sys.stdout):
    """Run the checks, print each result and the summary; 1 when anything failed, else 0."""
    groups = [g.strip() for g in only.split(",")] if only else None
    unknown = sorted(set(groups or []) - set(GROUPS))
    if unknown:
        stream.write("unknown group(s) {}; valid: {}\n".format(", ".join(unknown), ", ".join(GROUPS)))
        return 2
    ctx = Context(models=models, iterations=iterations, warmup=warmup, paddle_python=paddle_python,
                  jetson_benchmarks=jetson_benchmarks, engines=engines)
    results = run_checks(ctx, groups, stream)
    stream.write(summary(results, ctx.state))
    if out_json:
        with open(out_json, "w") as f:
            json.dump({"platform": ctx.state, "results": [r.to_dict() for r in results]}, f, indent=1)
    return 1 if any(r.status == FAIL for r in results) else 0


def split_list(text):
    """'a, b' -> ['a', 'b']; empty -> None (the default applies)."""
    return [x.strip() for x in text.split(",") if x.strip()] if text else None


def main(argv=None):
    p = argparse.ArgumentParser(description="Is this device set up right, and as fast as a reference Jetson Nano?")
    p.add_argument("--only", help="comma-separated groups: " + ", ".join(GROUPS))
    p.add_argument("--models", help="comma-separated torchvision models")
    p.add_argument("--iterations", type=int)
    p.add_argument("--warmup", type=int)
    p.add_argument("--paddle-python")
    p.add_argument("--jetson-benchmarks")
    p.add_argument("--engines", help="comma-separated engine names")
    p.add_argument("--json")
    a = p.parse_args(argv)
    return sanity_cli(a.only, split_list(a.models), a.iterations, a.warmup, a.paddle_python,
                      a.jetson_benchmarks, split_list(a.engines), a.json)

