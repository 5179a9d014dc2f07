"""Fast tier: the system roles against localhost, everything under a temp prefix, stand-in
nvpmodel/jetson_clocks from ansible/tests/simnano/files; plus the bad-input cases."""
import hashlib
import json
import os
import shutil
import sys
from pathlib import Path

import pytest

from tests.ansible.helpers import ANSIBLE_DIR, playbook, recap, recap_text

pytestmark = pytest.mark.ansible
FILES = os.path.join(ANSIBLE_DIR, "tests", "simnano", "files")


@pytest.fixture
def nano(tmp_path):
    """A fake Nano root under tmp_path; returns (root, run) where run(*args) runs setup-nano.yml."""
    root = tmp_path / "nano"
    for sub in ("etc", "bin", "state", "var", "systemd"):
        (root / sub).mkdir(parents=True)
    shutil.copy(os.path.join(FILES, "nv_tegra_release"), str(root / "etc"))
    shutil.copy(os.path.join(FILES, "device-tree-model"), str(root / "etc"))
    for stub in ("nvpmodel", "jetson_clocks"):
        shutil.copy(os.path.join(FILES, stub), str(root / "bin"))
    extra = {
        "nano_hosts": "all", "ansible_become": False, "ansible_python_interpreter": sys.executable,
        "nano_test_mode": True,
        "jetson_facts_release_file": root / "etc" / "nv_tegra_release",
        "jetson_facts_model_file": root / "etc" / "device-tree-model",
        "swap_file_path": root / "var" / "swapfile", "swap_file_size_mb": 8,
        "swap_fstab_path": root / "etc" / "fstab", "swap_sysctl_file": root / "etc" / "90-swap.conf",
        "power_nvpmodel_bin": root / "bin" / "nvpmodel", "power_jetson_clocks_bin": root / "bin" / "jetson_clocks",
        "power_unit_dir": root / "systemd", "power_manage_services": False,
    }

    def run(*args, tags="swap,power"):
        base = ["-i", "localhost,", "-c", "local", "setup-nano.yml", "--tags", tags]
        return playbook(base + ["-e", json.dumps({k: str(v) if isinstance(v, Path) else v
                                                  for k, v in extra.items()})] + list(args),
                        extra_env={"SIMNANO_STATE": str(root / "state")})
    return root, run


def test_twice_second_run_changes_nothing(nano):
    root, run = nano
    rc, out = run()
    assert rc == 0, out
    rc, out = run()
    assert rc == 0, out
    assert recap(out)["localhost"]["changed"] == 0, recap_text(out)
    assert (root / "var" / "swapfile").stat().st_size == 8 * 1048576
    assert "{} none swap sw 0 0".format(root / "var" / "swapfile") in (root / "etc" / "fstab").read_text()
    calls = (root / "state" / "calls.log").read_text().splitlines()
    assert calls.count("nvpmodel -m 0") == 1, calls
    assert "ExecStart={} --fan".format(root / "bin" / "jetson_clocks") in \
        (root / "systemd" / "nano-ocr-kit-clocks.service").read_text()


def test_wrong_l4t_stops_before_any_change(nano):
    root, run = nano
    (root / "etc" / "nv_tegra_release").write_text(
        "# R35 (release), REVISION: 3.1, GCID: 32827747, BOARD: t186ref, EABI: aarch64, DATE: Sun Mar 19 2023\n")
    rc, out = run()
    assert rc != 0
    assert "runs L4T 35.3.1" in out and "supports L4T 32.7.x" in out
    assert not (root / "var" / "swapfile").exists() and not (root / "state" / "calls.log").exists()


def test_board_without_jetpack_stops_before_any_change(nano):
    """A bare BSP flash has /etc/nv_tegra_release but no nvidia-jetpack (no CUDA/TensorRT); this
    host has neither the meta-package nor the stack's packages, as such a board."""
    root, run = nano
    rc, out = run("-e", "jetson_facts_require_jetpack=true")
    assert rc != 0 and "not JetPack's nvidia-jetpack package" in out and "bare BSP" in out, out
    assert "python3-libnvinfer" in out
    assert not (root / "var" / "swapfile").exists() and not (root / "state" / "calls.log").exists()


def test_too_little_disk_for_swap_stops_cleanly_and_rerun_recovers(nano):
    root, run = nano
    rc, out = run("-e", "swap_file_size_mb=100000000", tags="swap")
    assert rc != 0 and "Not enough disk for a 100000000 MB swapfile" in out, out
    assert not any(p.name.startswith("swapfile") for p in (root / "var").iterdir())
    rc, out = run(tags="swap")
    assert rc == 0 and (root / "var" / "swapfile").stat().st_size == 8 * 1048576, out


def _fetch(tmp_path, sha256, *more):
    src = tmp_path / "torch-1.10.0-cp36-cp36m-linux_aarch64.whl"
    if not src.exists():
        src.write_bytes(b"not really a wheel")
    dest = tmp_path / "wheels" / src.name
    dest.parent.mkdir(exist_ok=True)
    args = ["-i", "localhost,", "-c", "local", "tests/fetch-one.yml",
            "-e", "ansible_python_interpreter=" + sys.executable,
            "-e", "verified_download_url=file://{}".format(src), "-e", "verified_download_dest={}".format(dest)]
    if sha256:
        args += ["-e", "verified_download_sha256={}".format(sha256)]
    rc, out = playbook(args + list(more))
    return rc, out, src, dest


def test_wheel_with_wrong_sha256_fails_and_leaves_nothing(tmp_path):
    rc, out, src, dest = _fetch(tmp_path, "0" * 64)
    assert rc != 0 and "nothing was installed from it" in out and "did not match" in out, out
    assert not dest.exists()
    good = hashlib.sha256(src.read_bytes()).hexdigest()  # re-running with the right sum recovers
    rc, out, src, dest = _fetch(tmp_path, good)
    assert rc == 0 and dest.read_bytes() == src.read_bytes(), out


def test_unpinned_download_is_refused_unless_allowed(tmp_path):
    rc, out, src, dest = _fetch(tmp_path, None)
    assert rc != 0 and "no sha256 is pinned" in out and not dest.exists(), out
    rc, out, src, dest = _fetch(tmp_path, None, "-e", "nano_allow_unpinned_downloads=true")
    assert rc == 0 and dest.exists(), out


# OpenCV 4.x configure summaries (the lines the check reads): python3 built, or dropped for want of
# python3-numpy (then no numpy line and no python3 module).
SUMMARY = """--   OpenCV modules:
--     To be built:                 aruco bgsegm calib3d core cudaarithm dnn features2d {modules} video xphoto
--     Disabled:                    world
--   Python 3:
--     Interpreter:                 /usr/bin/python3.6 (ver 3.6.9)
--     Libraries:                   /usr/lib/aarch64-linux-gnu/libpython3.6m.so (ver 3.6.9)
{numpy}--     install path:                /usr/local/lib/python3.6/site-packages/cv2/python-3.6
"""
NUMPY = "--     numpy:                       /usr/lib/python3/dist-packages/numpy/core/include (ver 1.13.3)\n"


@pytest.mark.parametrize("modules,numpy,ok", [("photo python3 stitching", NUMPY, True),
                                              ("photo stitching", "", False)], ids=["python3", "no-numpy"])
def test_opencv_configure_summary_is_checked_before_the_build(tmp_path, modules, numpy, ok):
    build = tmp_path / "opencv" / "build"
    build.mkdir(parents=True)
    (build / "cmake.log").write_text(SUMMARY.format(modules=modules, numpy=numpy))
    rc, out = playbook(["-i", "localhost,", "-c", "local", "tests/opencv-summary.yml",
                        "-e", "ansible_python_interpreter=" + sys.executable,
                        "-e", "opencv_cuda_src_dir=" + str(tmp_path)])
    assert (rc == 0) == ok, out
    assert ok or "does not build the python3 module with numpy" in out, out
