"""bench.sanity.platform: PASS/FAIL/SKIP on a fake Nano tree and, for real, on this machine."""
import io

from bench.sanity import cli, common
from tests.bench.sanity.fakes import nano_context, statuses
from tests.bench.test_jetson import CLOCKS_DYNAMIC


def test_a_healthy_nano_passes_the_platform_group(tmp_path):
    ctx = nano_context(tmp_path)
    results = cli.run_checks(ctx, ["platform"], io.StringIO())
    assert statuses(results) == {"l4t": "PASS", "board": "PASS", "power_mode": "PASS", "jetson_clocks": "PASS",
                                 "swap": "PASS", "disk_free": "PASS", "thermal": "PASS"}


def test_a_misconfigured_nano_fails_with_fixes(tmp_path):
    ctx = nano_context(tmp_path, clocks=CLOCKS_DYNAMIC, nvpmodel="NV Power Mode: 5W\n1\n", swap=False,
                       disk_free_mb=900)
    out = io.StringIO()
    results = {r.name: r for r in cli.run_checks(ctx, ["platform"], out)}
    assert results["power_mode"].status == "FAIL" and "sudo nvpmodel -m 0" in results["power_mode"].hint
    assert results["jetson_clocks"].status == "FAIL"
    assert results["swap"].status == "FAIL" and results["swap"].reason == "0 MB of swap (need 4096 MB)"
    assert results["disk_free"].status == "FAIL" and "900 MB free" in results["disk_free"].reason
    assert "docker prune" in results["disk_free"].hint
    assert "FAIL  platform/power_mode: nvpmodel 5W (id 1), not MAXN\n      fix: sudo nvpmodel" in out.getvalue()


def test_platform_checks_here_skip_honestly(tmp_path):
    ctx = common.Context()
    results = {r.name: r for r in cli.run_checks(ctx, ["platform"], io.StringIO())}
    if not ctx.on_jetson:
        assert results["power_mode"].status == common.SKIP
        assert results["disk_free"].status in (common.PASS, common.FAIL)  # measured everywhere
