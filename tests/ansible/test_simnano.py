"""Simulated-Nano tier: setup-nano.yml over ssh on 127.0.0.1 into podman containers running
systemd (started by .ci/services.d/20-simnano.sh), twice, then verify.yml and bench-fleet.yml."""
import json
import os
import subprocess

import pytest

from tests.ansible.helpers import BIN, ROOT, playbook, recap, recap_text, wheelhouse
from tests.conftest import require_tier

pytestmark = pytest.mark.ansible
VARS = "@tests/simnano/vars.yml"


def _hosts():
    path = os.environ.get("SIMNANO_HOSTS", "/tmp/kit-ci/simnano/hosts")
    if not os.path.isfile(path):
        return []
    return [line.split() for line in open(path) if line.strip()]


@pytest.fixture(scope="module")
def sim(tmp_path_factory):
    hosts = _hosts()
    key = os.environ.get("SIMNANO_KEY", "/tmp/kit-ci/simnano/id_ed25519")
    reachable = bool(hosts) and all(subprocess.run(
        ["ssh", "-n", "-q", "-i", key, "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=no",
         "-o", "UserKnownHostsFile=/dev/null", "-o", "ConnectTimeout=5", "-p", port, "jetson@" + addr, "true"]
    ).returncode == 0 for _, addr, port in hosts)
    require_tier("simnano", reachable, "no simulated Nano answers over ssh (.ci/services.d/20-simnano.sh start)")
    tmp = tmp_path_factory.mktemp("simnano")
    inventory = tmp / "inventory.yml"
    lines = ["nanos:", "  hosts:"]
    for name, addr, port in hosts:
        lines += ["    {}:".format(name), "      ansible_host: {}".format(addr), "      ansible_port: {}".format(port)]
    lines += ["  vars:", "    ansible_user: jetson", "    ansible_ssh_private_key_file: " + key,
              "    ansible_ssh_common_args: -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null"]
    inventory.write_text("\n".join(lines) + "\n")
    wheels = tmp / "wheelhouse"
    kit = wheelhouse(str(wheels))
    args = ["-i", str(inventory), "-e", VARS, "-e", "python_envs_wheelhouse=" + str(wheels), "-e", "kit_wheel=" + kit]
    runs = [playbook(args + ["setup-nano.yml"]) for _ in range(2)]
    return {"args": args, "runs": runs, "hosts": [h[0] for h in hosts], "tmp": tmp}


def test_first_run_provisions(sim):
    rc, out = sim["runs"][0]
    assert rc == 0, out[-6000:]
    print(out[out.rfind("PLAY RECAP"):])
    assert all(r["changed"] > 0 for r in recap(out).values()), recap_text(out)


def test_second_run_changes_nothing(sim):
    rc, out = sim["runs"][1]
    assert rc == 0, out[-6000:]
    print(recap_text(out))
    summary = recap(out)
    assert sorted(summary) == sorted(sim["hosts"])
    assert all(r["changed"] == 0 and r["failed"] == 0 for r in summary.values()), recap_text(out)


def test_verify(sim):
    rc, out = playbook(sim["args"] + ["tests/verify.yml"])
    assert rc == 0, out[-6000:]


def test_fleet_bench_fetches_one_folder_per_host_and_merges(sim):
    """Runs the real `invoke bench` on each simulated Nano (kit installed by the playbook) on a
    3-crop synthetic set made here; its engines are unavailable there (no onnxruntime/CUDA), so each
    host writes 'unavailable' result JSONs: enough to prove run -> fetch -> `invoke report`. `--all`,
    the playbook's default: an engine named with --engine that cannot run makes the bench exit 1."""
    tmp = sim["tmp"]
    subprocess.run([os.path.join(BIN, "invoke"), "--search-root", ROOT, "dataset.synth", "-n", "3",
                    "--out", str(tmp / "ds")], check=True, stdout=subprocess.DEVNULL)
    venv = "/opt/nano-ocr-kit/venv-paddle"  # the sim's torch venv has no cv2 (placeholder only)
    fleet = {"fleet_dataset": str(tmp / "ds"), "fleet_results_dir": str(tmp / "fleet"),
             "fleet_bench_args": "--all --limit 3 --warmup 1 --batch 0 --no-telemetry",
             "fleet_remote_invoke": venv + "/bin/invoke --search-root /opt/nano-ocr-kit/kit"}
    rc, out = playbook(sim["args"] + ["bench-fleet.yml", "-e", json.dumps(fleet)])
    assert rc == 0, out[-6000:]
    for host in sim["hosts"]:
        assert (tmp / "fleet" / host / "ppocr-onnx-rec.json").is_file(), os.listdir(str(tmp / "fleet"))
    table = (tmp / "fleet" / "report" / "table.md").read_text()
    assert all(host in table for host in sim["hosts"]), table
