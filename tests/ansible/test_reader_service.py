"""deploy-reader.yml on the simulated Nanos (started by .ci/services.d/20-simnano.sh; see
test_simnano.py): the reader_service role installs its own venv offline from a wheelhouse built
here (the kit's wheel from this checkout, its dependencies, ONNX Runtime and pip's OpenCV for the
sim's Python 3.11), writes the job and token, and starts the systemd unit. Proven: deployed and
active, POST /read on a default-set crop returns its text, restarted by systemd after a SIGKILL,
a second run changed=0. The role needs nothing from setup-nano.yml."""
import hashlib
import json
import os
import subprocess
import sys
import time

import pytest

from tests.ansible.helpers import ROOT, kit_wheel, playbook, recap, recap_text
from tests.conftest import require_tier

pytestmark = pytest.mark.ansible
KEY = os.environ.get("SIMNANO_KEY", "/tmp/kit-ci/simnano/id_ed25519")
HOSTS_FILE = os.environ.get("SIMNANO_HOSTS", "/tmp/kit-ci/simnano/hosts")
WHEELS = os.path.join(ROOT, ".cache", "reader-wheelhouse")
DOWNLOAD = ["numpy==1.26.4", "pillow", "pyyaml", "tabulate", "tqdm", "rapidfuzz>=3", "invoke>=2,<3",
            "opencv-python-headless", "onnxruntime"]
SSH = ["ssh", "-q", "-i", KEY, "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=no",
       "-o", "UserKnownHostsFile=/dev/null", "-o", "ConnectTimeout=5"]


def api_port(host):
    return 18000 + int(host[2]) % 1000  # simnano1 (ssh 2231) -> 18231


def on(host, command, stdin=None):
    """Run a shell command on a simulated Nano -> (returncode, output)."""
    _, addr, port = host
    proc = subprocess.run(SSH + ["-p", port, "jetson@" + addr, command], input=stdin, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, timeout=120)
    return proc.returncode, proc.stdout.decode("utf-8", "replace")


@pytest.fixture(scope="module")
def deployed(tmp_path_factory):
    hosts = [line.split() for line in open(HOSTS_FILE) if line.strip()] if os.path.isfile(HOSTS_FILE) else []
    require_tier("simnano", hosts and all(on(h, "true")[0] == 0 for h in hosts),
                 "no simulated Nano answers over ssh (.ci/services.d/20-simnano.sh start)")
    tmp = tmp_path_factory.mktemp("reader")
    stamp = os.path.join(WHEELS, ".complete-" + hashlib.sha256(repr(DOWNLOAD).encode()).hexdigest()[:12])
    if not os.path.exists(stamp):
        subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--only-binary=:all:", "-d", WHEELS]
                       + DOWNLOAD, check=True)
        open(stamp, "w").close()
    wheels = tmp / "wheels"
    subprocess.run(["cp", "-r", WHEELS, str(wheels)], check=True)
    os.unlink(str(wheels / os.path.basename(stamp)))
    kit_wheel(str(wheels))
    # the simulated Nanos share the host's network: a port each
    inventory = {"nanos": {"hosts": {name: {"ansible_host": addr, "ansible_port": int(port),
                                            "reader_service_port": api_port(host)}
                                     for host in hosts for name, addr, port in [host]},
                           "vars": {"ansible_user": "jetson", "ansible_ssh_private_key_file": KEY,
                                    "ansible_ssh_common_args": "-o StrictHostKeyChecking=no "
                                                               "-o UserKnownHostsFile=/dev/null"}}}
    (tmp / "inventory.json").write_text(json.dumps(inventory))
    # the sim's venv-torch is a stand-in without OpenCV: a venv of the service's own, offline
    extra = {"reader_service_install": True, "reader_service_venv": "/opt/nano-ocr-kit/venv-reader",
             "reader_service_wheelhouse": str(wheels), "reader_service_token": "sim-token-12345",
             "reader_service_job": {"engine": "codereader", "gpu_twin": False},
             "reader_service_build_packages": ["gcc", "libpython3-dev"]}  # bookworm's, preinstalled in the sim
    args = ["-i", str(tmp / "inventory.json"), "-e", json.dumps(extra), "deploy-reader.yml"]
    runs = [playbook(args) for _ in range(2)]
    return {"hosts": hosts, "runs": runs}


def test_deployed_twice_the_second_run_changes_nothing(deployed):
    (rc1, out1), (rc2, out2) = deployed["runs"]
    assert rc1 == 0, out1[-6000:]
    assert all(r["changed"] > 0 for r in recap(out1).values()), recap_text(out1)
    assert rc2 == 0, out2[-6000:]
    assert all(r["changed"] == 0 and r["failed"] == 0 for r in recap(out2).values()), recap_text(out2)


READ = """
import json, sys, urllib.request
req = urllib.request.Request("http://127.0.0.1:PORT/read?item=one", sys.stdin.buffer.read(),
                             {"Authorization": "Bearer sim-token-12345"})
print(json.dumps(json.load(urllib.request.urlopen(req, timeout=60))))
"""
HEALTH = "python3 -c 'import urllib.request; print(urllib.request.urlopen(\"http://127.0.0.1:PORT/health\").read())'"


def test_active_reads_a_crop_and_comes_back_after_a_kill(deployed):
    manifest = [json.loads(line) for line in open(os.path.join(ROOT, "ocr", "data", "default", "manifest.jsonl"))]
    sample = manifest[0]
    with open(os.path.join(ROOT, "ocr", "data", "default", sample["image"]), "rb") as f:
        crop = f.read()
    for host in deployed["hosts"]:
        assert on(host, "systemctl is-active nano-ocr-reader")[1].strip() == "active"
        unit = on(host, "systemctl cat nano-ocr-reader")[1]
        for line in ("Restart=on-failure", "SupplementaryGroups=video", "Environment=OPENBLAS_CORETYPE=ARMV8",
                     "StandardOutput=journal"):
            assert line in unit, unit
        rc, out = on(host, "python3 -c '{}'".format(READ.replace("PORT", str(api_port(host))).replace("'", '"')), crop)
        assert rc == 0, out
        assert json.loads(out)["verdicts"][0]["text"] == sample["text"], out
        pid = on(host, "systemctl show -p MainPID --value nano-ocr-reader")[1].strip()
        assert on(host, "sudo kill -9 " + pid)[0] == 0
        deadline = time.time() + 120  # systemd restarts it after RestartSec; the limit only ends a broken test
        while time.time() < deadline:
            new = on(host, "systemctl show -p MainPID --value nano-ocr-reader")[1].strip()
            if new not in ("0", pid) and on(host, HEALTH.replace("PORT", str(api_port(host))))[0] == 0:
                break
            time.sleep(1)
        else:
            raise AssertionError(on(host, "systemctl status nano-ocr-reader; journalctl -u nano-ocr-reader -n 30")[1])
        restarts = on(host, "systemctl show -p NRestarts --value nano-ocr-reader")[1].strip()
        assert int(restarts) >= 1


def test_the_services_own_venv_decodes_compiled(deployed):
    """The kit's wheel is pure; the role built ocr/_decode.c in the service's venv."""
    for host in deployed["hosts"]:
        rc, out = on(host, "/opt/nano-ocr-kit/venv-reader/bin/python -c "
                           "'from ocr import compiled; print(compiled.module() is not None)'")
        assert rc == 0 and out.strip() == "True", out
