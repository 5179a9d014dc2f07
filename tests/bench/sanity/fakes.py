"""A fake Nano's Context for the checks' tests (the platform tree and commands of test_jetson)."""
from bench.sanity import common
from tests.bench.test_jetson import CLOCKS_LOCKED, NVPMODEL_Q, fake_nano, runner

NANO_OK = {"nvpmodel_mode": {"name": "MAXN", "id": 0}, "jetson_clocks": True, "throttled": False,
           "throttle_reasons": []}


def nano_context(tmp_path, clocks=CLOCKS_LOCKED, nvpmodel=NVPMODEL_Q, swap=True, disk_free_mb=16000, **options):
    """A Context over a fake Nano tree; its free disk is the fake board's (the tree sits on this
    machine's disk, whose free space is not the board's)."""
    fake_nano(tmp_path)
    if not swap:
        (tmp_path / "proc" / "swaps").write_text("Filename\tType\tSize\tUsed\tPriority\n")
    run = runner({"nvpmodel": (0, nvpmodel), "jetson_clocks": (0, clocks)})
    ctx = common.Context(root=str(tmp_path), run=run, **options)
    ctx.state["disk_free_mb"] = disk_free_mb
    return ctx


def statuses(results):
    return {r.name: r.status for r in results}
