"""Helpers of the Ansible tier: run ansible-playbook, build the stand-in wheels and the wheelhouse."""
import hashlib
import os
import re
import shutil
import subprocess
import sys

import yaml

from tests.conftest import ROOT
from tests.wheel import write_wheel as write_zip

ANSIBLE_DIR = os.path.join(ROOT, "ansible")
BIN = os.path.dirname(sys.executable)
CACHE = os.path.join(ROOT, ".cache", "ansible-wheelhouse")
# Tiny wheels standing in for NVIDIA's/Baidu's aarch64 builds on the x86_64 simulated Nano (named as
# ansible/tests/simnano/vars.yml says). onnxruntime-gpu's has no module: `import onnxruntime` fails.
STANDINS = {"torch": ("1.10.0", "torch"), "torchvision": ("0.11.1", "torchvision"),
            "paddlepaddle-gpu": ("2.5.2", "paddle"), "onnxruntime-gpu": ("1.11.0", None)}
# Real wheels from PyPI for the sim's Python 3.11: every package the Nano's venvs install by name
# (the same requirement files, requirements/<l4t>/targets.yml), at the sim Python's versions.
REQ_DIR = os.path.join(ROOT, "requirements", "l4t-r32.7")
SIM_TARGETS = ("torch-venv", "paddle-venv")
SIM_CONSTRAINTS = os.path.join(ANSIBLE_DIR, "tests", "simnano", "sim.constraints.txt")
RECAP = re.compile(r"^(\S+)\s+: ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)", re.M)


def tool(name):
    return os.path.join(BIN, name)


def playbook(args, extra_env=None, timeout=600):
    """ansible-playbook from ansible/ (its ansible.cfg); returns (returncode, output)."""
    env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(ANSIBLE_DIR, "ansible.cfg"),
               ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0", PATH=BIN + os.pathsep + os.environ["PATH"])
    env.update(extra_env or {})
    proc = subprocess.run([tool("ansible-playbook")] + list(args), cwd=ANSIBLE_DIR, env=env,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=timeout)
    return proc.returncode, proc.stdout


def recap(output):
    """{host: {'ok': n, 'changed': n, 'unreachable': n, 'failed': n}} from a PLAY RECAP."""
    return {m[0]: dict(zip(("ok", "changed", "unreachable", "failed"), map(int, m[1:])))
            for m in RECAP.findall(output)}


def recap_text(output):
    """The PLAY RECAP, preceded by the tasks that reported changed (what broke idempotence)."""
    task, changed = None, []
    for line in output.splitlines():
        if line.startswith(("TASK [", "RUNNING HANDLER [")):
            task = line.rstrip("* ")
        elif line.startswith("changed:") and task:
            changed.append("{} -> {}".format(task, line))
    return "\n".join(changed + [output[output.rfind("PLAY RECAP"):]])


def write_wheel(folder, dist, version, package):
    """A minimal pure-Python wheel whose package only knows its version (and that it is a stand-in)."""
    name = dist.replace("-", "_")
    files = {} if package is None else {
        "{}/__init__.py".format(package):
            "__version__ = {!r}\nSTANDIN = True  # nano-ocr-kit test stand-in\n".format(version)
            + ("class cuda:  # no GPU on a test host\n    is_available = staticmethod(lambda: False)\n"
               if package == "torch" else ""),
    }
    files.update({
        "{}-{}.dist-info/METADATA".format(name, version):
            "Metadata-Version: 2.1\nName: {}\nVersion: {}\n".format(dist, version),
        "{}-{}.dist-info/WHEEL".format(name, version):
            "Wheel-Version: 1.0\nGenerator: nano-ocr-kit-tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    })
    path = os.path.join(folder, "{}-{}-py3-none-any.whl".format(name, version))
    write_zip(path, files, "{}-{}.dist-info".format(name, version))
    return path


def pip(*args):
    subprocess.run([sys.executable, "-m", "pip"] + list(args), check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)


def sim_requirement_files():
    """(files, --no-deps files) the sim's venvs install by name: NVIDIA's/Baidu's come as stand-ins."""
    with open(os.path.join(REQ_DIR, "targets.yml")) as f:
        targets = yaml.safe_load(f)["targets"]
    names = sorted({n for t in SIM_TARGETS for n in targets[t]["install"]})
    by_file = [n for n in names if "@" in open(os.path.join(REQ_DIR, n)).read()]
    return ([n for n in names if ".nodeps." not in n and n not in by_file],
            [n for n in names if ".nodeps." in n])


def wheelhouse(folder):
    """Stand-ins + PyPI wheels (cached under .cache/) + a wheel of this checkout; returns the kit wheel."""
    files, nodeps = sim_requirement_files()
    text = "".join(open(p).read() for p in [os.path.join(REQ_DIR, n) for n in files + nodeps] + [SIM_CONSTRAINTS])
    stamp = os.path.join(CACHE, ".complete-" + hashlib.sha256(text.encode()).hexdigest()[:12])
    if not os.path.exists(stamp):  # changed requirement files download again
        os.makedirs(CACHE, exist_ok=True)
        pins = os.path.join(CACHE, "sim-pins.txt")  # the sim constraints' versions (no ${VAR} lines)
        with open(pins, "w") as f:
            f.writelines(line for line in open(SIM_CONSTRAINTS) if line.strip() and not line.startswith("#")
                         and "@" not in line)
        for names, extra in ((files, []), (nodeps, ["--no-deps"])):
            req = [a for n in names for a in ("-r", os.path.join(REQ_DIR, n))]
            pip("download", "--quiet", "--only-binary=:all:", "-c", pins, "-d", CACHE, *(extra + req))
        open(stamp, "w").close()
    os.makedirs(folder, exist_ok=True)
    for name in os.listdir(CACHE):
        if name.endswith(".whl"):
            shutil.copy(os.path.join(CACHE, name), folder)
    for dist, (version, package) in STANDINS.items():
        write_wheel(folder, dist, version, package)
    return kit_wheel(folder)


def kit_wheel(folder):
    """A wheel of this checkout in `folder`, as the kit role builds it for a Nano: pure (the
    compiled decoder's C source inside, built on the Nano by ocr.build_ext), reproducible."""
    build = os.path.join(folder, ".kit")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", build, ROOT],
                   check=True, env=dict(os.environ, SOURCE_DATE_EPOCH="315532800", KIT_PURE_WHEEL="1"),
                   stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    kit = [n for n in os.listdir(build) if n.startswith("nano_ocr_kit-")][0]
    shutil.move(os.path.join(build, kit), os.path.join(folder, kit))
    shutil.rmtree(build)
    return os.path.join(folder, kit)
