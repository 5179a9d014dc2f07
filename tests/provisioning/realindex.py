"""The real-index tier's engine: resolves each target of requirements/<l4t>/targets.yml (a Nano venv
or an image) from the very files its installers read, with pip's resolver against the real package
index for the Nano's Python on aarch64, and lists what a real board would hit.

pip resolves for another platform with --python-version/--platform/--abi (+ --only-binary=:all:,
which makes "no wheel for the target" a resolution failure) but evaluates environment markers
against the interpreter running it; `_PIP` runs pip with the target's marker environment instead,
so `dataclasses; python_version < "3.7"` or the kit's `rapidfuzz<2; python_version < '3.7'` count.

Packages that must come from NVIDIA/Baidu or a local build (`vendor:`) resolve from stand-in wheels
named like the real files, with the requirements listed in targets.yml; the base image's packages
(`preinstalled:`) likewise. Run alone: python -m tests.provisioning.realindex [TARGET...]
"""
import json
import os
import subprocess
import sys
import tempfile
import urllib.request

import yaml
from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from bench import versions
from ocr import ROOT
from tests.wheel import write_wheel

INDEX = "https://pypi.org/simple/"
# Runs pip's CLI with the marker environment given as JSON in argv[1] (see the module docstring).
_PIP = """
import json, sys
import pip._vendor.packaging.markers as markers
env = json.loads(sys.argv[1])
markers.default_environment = lambda: dict(env)
from pip._internal.cli.main import main
sys.exit(main(sys.argv[2:]))
"""


def requirements_dir(l4t=None):
    table = versions.load_table()
    row = table["l4t"][l4t or table["default_l4t"]]
    return os.path.join(ROOT, row["requirements"]), row


def load(req_dir):
    with open(os.path.join(req_dir, "targets.yml")) as f:
        return yaml.safe_load(f)


def marker_env(python):
    """The marker environment of the Nano's interpreter `python` (e.g. "3.6.9")."""
    return {"implementation_name": "cpython", "implementation_version": python, "os_name": "posix",
            "platform_machine": "aarch64", "platform_release": "4.9.337-tegra", "platform_system": "Linux",
            "platform_version": "#1 SMP PREEMPT", "python_full_version": python,
            "platform_python_implementation": "CPython", "python_version": ".".join(python.split(".")[:2]),
            "sys_platform": "linux"}


def index_reachable(timeout=10):
    try:
        urllib.request.urlopen(INDEX + "pip/", timeout=timeout).close()
        return True
    except OSError:
        return False


def _dotted(row, path):
    for key in path.split("."):
        row = row[key]
    return row


def write_standin(folder, name, version, filename, requires=()):
    """A wheel with the real file's name (so its tags) whose METADATA declares `requires`."""
    dist = filename.split("-")[0]
    info = "{}-{}.dist-info".format(dist, version)
    files = {
        info + "/METADATA": "Metadata-Version: 2.1\nName: {}\nVersion: {}\n{}".format(
            name, version, "".join("Requires-Dist: {}\n".format(r) for r in requires)),
        info + "/WHEEL": "Wheel-Version: 1.0\nGenerator: nano-ocr-kit-tests\nRoot-Is-Purelib: false\nTag: {}\n"
        .format("-".join(filename[:-4].split("-")[-3:])),
    }
    return write_wheel(os.path.join(folder, filename), files, info)


def _pins(path, seen=None):
    """{name: version} of the `name==version` lines of a constraints file and the files it -c's."""
    seen = seen if seen is not None else set()
    pins = {}
    if path in seen:
        return pins
    seen.add(path)
    for line in open(path):
        line = line.split("#", 1)[0].strip()
        if line.startswith(("-c ", "-r ")):
            pins.update(_pins(os.path.join(os.path.dirname(path), line[3:].strip()), seen))
        elif line and "@" not in line:
            req = Requirement(line)
            spec = list(req.specifier)
            if len(spec) == 1 and spec[0].operator == "==":
                pins[canonicalize_name(req.name)] = spec[0].version
    return pins


class Resolution(object):
    def __init__(self, target, ok, installs, log):
        self.target, self.ok, self.installs, self.log = target, ok, installs, log

    def names(self):
        return {canonicalize_name(i["metadata"]["name"]): i for i in self.installs}


class Resolver(object):
    """Resolves the targets of one requirements folder; stand-in wheels go to a temp folder."""

    def __init__(self, req_dir=None, row=None, work=None):
        default_dir, default_row = requirements_dir()
        self.dir = req_dir or default_dir
        self.row = row or default_row
        self.spec = load(self.dir)
        self.work = work or tempfile.mkdtemp(prefix="realindex-")
        self.env = self._standins()
        self._done = {}  # (target, upto, nodeps) -> Resolution: the index is asked once each

    def _standins(self):
        """Stand-in wheels of the vendor packages; returns their ${VAR} -> path environment."""
        env = {}
        folder = os.path.join(self.work, "vendor")
        os.makedirs(folder, exist_ok=True)
        for name, v in self.spec["vendor"].items():
            if v["file"].startswith("builds."):
                filename = self.spec["builds"][v["file"].split(".")[1]]["file"]
            else:
                filename = _dotted(self.row, v["file"])
            version = filename.split("-")[1]
            env[v["wheel"]] = write_standin(folder, name, version, filename, v.get("requires", ()))
        return env

    def _preinstalled(self, target):
        """Requirement lines for the base image's packages, as stand-in wheels (cp36 linux_aarch64)."""
        spec = self.spec["targets"][target]
        if not spec.get("preinstalled"):
            return []
        folder = os.path.join(self.work, "base-" + target)
        os.makedirs(folder, exist_ok=True)
        abi = "cp" + "".join(spec["python"].split(".")[:2])
        lines = []
        for line in open(os.path.join(self.dir, spec["preinstalled"])):
            line = line.split("#", 1)[0].strip()
            if not line:
                continue
            name, version = line.split("==")
            filename = "{}-{}-{}-{}m-linux_aarch64.whl".format(name.replace("-", "_"), version, abi, abi)
            vendor = self.spec["vendor"].get(canonicalize_name(name), {})
            path = write_standin(folder, name, version, filename, vendor.get("requires", ()))
            lines.append("{} @ file://{}".format(name, path))
        return lines

    def pip(self, python, args):
        """pip's resolver for `python` on the Nano (aarch64) against the real index only."""
        report = os.path.join(self.work, "report.json")
        if os.path.exists(report):
            os.remove(report)
        abi = "cp" + "".join(python.split(".")[:2]) + ("m" if python < "3.8" else "")
        cmd = [sys.executable, "-c", _PIP, json.dumps(marker_env(python)), "install", "--isolated",
               "--dry-run", "--target", os.path.join(self.work, "t"), "--report", report,
               "--index-url", INDEX, "--python-version", python, "--implementation", "cp", "--abi", abi,
               "--platform", "manylinux2014_aarch64", "--platform", "linux_aarch64",
               "--only-binary=:all:", "--disable-pip-version-check"] + list(args)
        env = {k: v for k, v in os.environ.items() if not k.startswith("PIP_")}
        env.update(self.env, PIP_CONFIG_FILE=os.devnull)
        proc = subprocess.run(cmd, cwd=self.dir, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              universal_newlines=True, timeout=240)
        installs = json.load(open(report))["install"] if proc.returncode == 0 else []
        return proc.returncode == 0, installs, proc.stdout

    def resolve(self, target, upto=None):
        """The target's install files (up to and including `upto`) together, with its constraints.
        --no-deps files are resolved on their own (below)."""
        if (target, upto, False) not in self._done:
            self._done[target, upto, False] = self._resolve(target, upto)
        return self._done[target, upto, False]

    def _resolve(self, target, upto):
        spec = self.spec["targets"][target]
        files = spec["install"][:spec["install"].index(upto) + 1] if upto else spec["install"]
        args = ["-c", spec["constraints"]]
        for f in files:
            if ".nodeps." not in f:
                args += ["-r", f]
        base = self._preinstalled(target)
        if base:
            extra = os.path.join(self.work, target + "-preinstalled.txt")
            with open(extra, "w") as out:
                out.write("\n".join(base) + "\n")
            args += ["-r", extra]
        ok, installs, log = self.pip(spec["python"], args)
        return Resolution(target, ok, installs, log)

    def resolve_nodeps(self, target):
        if (target, None, True) not in self._done:
            self._done[target, None, True] = self._resolve_nodeps(target)
        return self._done[target, None, True]

    def _resolve_nodeps(self, target):
        spec = self.spec["targets"][target]
        args = ["--no-deps", "-c", spec["constraints"]]
        nodeps = [f for f in spec["install"] if ".nodeps." in f]
        for f in nodeps:
            args += ["-r", f]
        if not nodeps:
            return Resolution(target, True, [], "")
        ok, installs, log = self.pip(spec["python"], args)
        return Resolution(target, ok, installs, log)

    # --- what a real board would hit ------------------------------------------------------------
    def problems(self, target):
        """One line per problem of `target` (empty: it resolves as the Nano needs)."""
        spec = self.spec["targets"][target]
        full, nodeps = self.resolve(target), self.resolve_nodeps(target)
        out = []
        for res, what in ((full, "its install files"), (nodeps, "its --no-deps files")):
            if not res.ok:
                out.append("{}: {} do not resolve for Python {} on aarch64 (conflicting constraints, or a "
                           "package without a wheel and no planned build in builds.yml):\n{}".format(
                               target, what, spec["python"], _tail(res.log)))
        if not full.ok:
            return out
        installs = dict(full.names(), **nodeps.names())
        pins = _pins(os.path.join(self.dir, spec["constraints"]))
        local = os.path.realpath(self.work)
        for name, item in sorted(installs.items()):
            url = item["download_info"]["url"]
            from_file = url.startswith("file://") and os.path.realpath(url[7:]).startswith(local)
            if name in self.spec["vendor"] and not from_file:
                out.append("{}: {} would come from the index ({}), not from NVIDIA/Baidu's file"
                           .format(target, name, url))
            elif not from_file and pins.get(name) != item["metadata"]["version"]:
                out.append("{}: {} {} is not pinned (==) in {} and its -c files".format(
                    target, name, item["metadata"]["version"], spec["constraints"]))
        out += self._nodeps_met(target, nodeps, installs)
        out += self._builds(target)
        out += self._kit_covered(target, installs)
        return out

    def _nodeps_met(self, target, nodeps, installs):
        """What `pip check` would say of the --no-deps packages, less the recorded substitutes."""
        env = dict(marker_env(self.spec["targets"][target]["python"]), extra="")
        substitutes = self.spec.get("substitutes", {}).get(target, {})
        out = []
        for name, item in sorted(nodeps.names().items()):
            for line in item["metadata"].get("requires_dist", []):
                req = Requirement(line)
                if req.marker and not req.marker.evaluate(env):
                    continue
                dep = canonicalize_name(req.name)
                got = installs.get(dep)
                if got and req.specifier.contains(got["metadata"]["version"], prereleases=True):
                    continue
                if not got and dep in substitutes:
                    continue
                out.append("{}: {} (installed --no-deps) requires {}, the target {}".format(
                    target, name, line, "has {}".format(got["metadata"]["version"]) if got
                    else "installs nothing for it and targets.yml records no substitute"))
        return out

    def _builds(self, target):
        out = []
        for name, build in self.spec["builds"].items():
            if target not in build["targets"]:
                continue
            before = self.resolve(target, upto=build["after"]) if build["after"] in \
                self.spec["targets"][target]["install"] else self.resolve(target)
            missing = sorted(set(map(canonicalize_name, build["needs"])) - set(before.names()))
            if missing:
                out.append("{}: the build of {} ({}) needs {} installed before it (after {})".format(
                    target, name, build["built_by"], ", ".join(missing), build["after"]))
        return out

    def _kit_covered(self, target, installs):
        """pyproject.toml's requirements (and the target's extra) met by what the target installs."""
        import tomllib
        project = tomllib.load(open(os.path.join(ROOT, "pyproject.toml"), "rb"))["project"]
        env = marker_env(self.spec["targets"][target]["python"])
        reqs = list(project["dependencies"])
        if "kit-py37.txt" in self.spec["targets"][target]["install"]:
            reqs += project["optional-dependencies"]["paddle"]
        out = []
        for line in reqs:
            req = Requirement(line)
            if req.marker and not Marker(str(req.marker)).evaluate(env):
                continue
            got = installs.get(canonicalize_name(req.name))
            if not got or not req.specifier.contains(got["metadata"]["version"], prereleases=True):
                out.append("{}: the kit needs {}, the target installs {}".format(
                    target, line, got["metadata"]["version"] if got else "nothing"))
        return out


def _tail(log, lines=30):
    return "\n".join("    " + line for line in log.strip().splitlines()[-lines:])


def main(argv):
    resolver = Resolver()
    failed = False
    for target in argv or sorted(resolver.spec["targets"]):
        problems = resolver.problems(target)
        print("{}: {}".format(target, "OK" if not problems else "{} problem(s)".format(len(problems))))
        for p in problems:
            print("  " + p)
        failed = failed or bool(problems)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
