"""Static checks of the Ansible tree: syntax, ansible-lint (offline), the pins the roles read."""
import os
import subprocess

import pytest
import yaml

from tests.ansible.helpers import ANSIBLE_DIR, ROOT, playbook, tool

pytestmark = pytest.mark.ansible
PLAYBOOKS = ["setup-nano.yml", "bench-fleet.yml", "deploy-reader.yml"]
ROLES = ["jetson_facts", "swap", "power", "opencv_cuda", "python_envs", "easyocr", "paddleocr",
         "torch2trt", "jetson_stats", "kit", "images"]


@pytest.mark.parametrize("name", PLAYBOOKS)
def test_syntax_check(name):
    rc, out = playbook(["-i", "inventory.example.yml", "--syntax-check", name])
    assert rc == 0, out


def test_ansible_lint_offline():
    proc = subprocess.run([tool("ansible-lint"), "--offline", "--nocolor", "-q"] + PLAYBOOKS + ["roles"],
                          cwd=ANSIBLE_DIR, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                          env=dict(os.environ, ANSIBLE_CONFIG=os.path.join(ANSIBLE_DIR, "ansible.cfg")))
    assert proc.returncode == 0, proc.stdout


def test_every_role_has_its_files_and_tag():
    setup = yaml.safe_load(open(os.path.join(ANSIBLE_DIR, "setup-nano.yml")))[0]
    tagged = {r["role"]: r["tags"] for r in setup["roles"]}
    for role in ROLES:
        for part in ("defaults/main.yml", "tasks/main.yml", "handlers/main.yml", "meta/main.yml", "README.md"):
            assert os.path.isfile(os.path.join(ANSIBLE_DIR, "roles", role, part)), (role, part)
        assert tagged[role] == (["always"] if role == "jetson_facts" else [role])


def test_versions_table_pins_what_the_roles_read():
    row = yaml.safe_load(open(os.path.join(ROOT, "versions.yml")))["l4t"]["32.7"]
    assert row["pins"]["jetson_stats"] == "4.3.1" and row["pins"]["torch2trt"] in ("v0.4.0", "v0.5.0")
    for wheel in row["wheels"].values():
        # A sum is either measured (64 hex digits) or null; the roles refuse null unless allowed.
        assert wheel["sha256"] is None or len(wheel["sha256"]) == 64
        assert wheel["url"].endswith(".whl") and wheel["file"].endswith("linux_aarch64.whl")


def test_nano_venvs_get_the_kits_requirements_for_their_python():
    defaults = yaml.safe_load(open(os.path.join(ANSIBLE_DIR, "roles", "kit", "defaults", "main.yml")))
    assert {v["name"]: v["requirements"] for v in defaults["kit_venvs"]} == {"torch": "kit-py36.txt",
                                                                               "paddle": "kit-py37.txt"}
    # ONNX Runtime goes into the venv that runs the "*" engines (codereader, ppocr-onnx-*).
    assert defaults["kit_interpreters"]["*"] == "torch"
    assert defaults["kit_onnxruntime_requirements"] == "nvidia-onnxruntime.txt"
