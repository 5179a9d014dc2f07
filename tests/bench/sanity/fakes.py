"""A fake Nano's Context for the checks' tests (the platform tree and commands of test_jetson)."""
from bench.sanity import common
from tests.bench.test_jetson import CLOCKS_LOCKED, NVPMODEL_Q, fake_nano, runner

NANO_OK = {"nvpmodel_mode": {"name": "MAXN", "id": 0}, "jetson_clocks": True, "throttled": False,
           "throttle_reasons": []}


def nano_context(tmp_path, clocks=CLOCKS_LOCKED, nvpmodel=NVPMODEL_Q, swap=True, **options):
    fake_nano(tmp_path)
    if not swap:
        (tmp_path / "proc" / "swaps").write_text("Filename\tType\tSize\tUsed\tPriority\n")
    run = runner({"nvpmodel": (0, nvpmodel), "jetson_clocks": (0, clocks)})
    return common.Context(root=str(tmp_path), run=run, **options)


def statuses(results):
    return {r.name: r.status for r in results}
