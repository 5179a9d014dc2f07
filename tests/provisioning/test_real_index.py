"""Real-index tier: each Nano venv and image resolves, from the files its installers read, against
the real package index for the Nano's Python on aarch64 (tests/provisioning/realindex.py); and
the tier catches the defects a real board hit (issue 16), each reintroduced in a temp copy.
Needs the index: skips locally without it, fails under CI (KIT_CI=1)."""
import re
import shutil

import pytest

from tests.conftest import require_tier
from tests.provisioning import realindex

pytestmark = pytest.mark.realindex
REQ_DIR, ROW = realindex.requirements_dir()
TARGETS = sorted(realindex.load(REQ_DIR)["targets"])


@pytest.fixture(scope="module")
def online():
    require_tier("realindex", realindex.index_reachable(), "the package index {} does not answer".format(
        realindex.INDEX))


@pytest.fixture(scope="module")
def resolver(online, tmp_path_factory):
    return realindex.Resolver(work=str(tmp_path_factory.mktemp("realindex")))


@pytest.mark.parametrize("target", TARGETS)
def test_target_resolves_as_the_nano_needs(resolver, target):
    problems = resolver.problems(target)
    assert not problems, "\n".join(problems)


def _with_defect(tmp_path, edits):
    """A copy of the requirements folder with {file: (pattern, replacement)} applied; its Resolver."""
    folder = tmp_path / "req"
    shutil.copytree(REQ_DIR, str(folder))
    for name, (pattern, repl) in edits.items():
        path = folder / name
        text, n = re.subn(pattern, repl, path.read_text(), flags=re.M)
        assert n, (name, pattern)  # the defect must really be in the copy
        path.write_text(text)
    return realindex.Resolver(str(folder), ROW, work=str(tmp_path / "work"))


def test_catches_torch_by_name_from_an_index(online, tmp_path):
    """Defect 1: `torch==1.10.0` (+ torchvision) by name picks PyPI's CPU-only manylinux2014 wheels."""
    resolver = _with_defect(tmp_path, {
        "nvidia-torch.txt": (r"^torch @ .*$", "torch==1.10.0"),
        "nvidia-torchvision.txt": (r"^torchvision @ .*$", "torchvision==0.11.1"),
        "torch-venv.constraints.txt": (r"^torch @ .*\ntorchvision @ .*$", "torch==1.10.0\ntorchvision==0.11.1")})
    problems = "\n".join(resolver.problems("torch-venv"))
    assert "torch would come from the index" in problems and "manylinux2014_aarch64" in problems, problems
    assert "torchvision would come from the index" in problems, problems


def test_catches_a_venv_without_wheel_and_packaging(online, tmp_path):
    """Defect 2: no `wheel` (torchvision's bdist_wheel) and no `packaging` (torch2trt's setup.py)."""
    resolver = _with_defect(tmp_path, {"py36-build.txt": (r"^(wheel|packaging)\n", "")})
    problems = "\n".join(resolver._builds("torch-venv"))
    assert "build of torchvision" in problems and "needs wheel" in problems, problems
    assert "build of torch2trt" in problems and "packaging" in problems, problems


def test_catches_numpy_1_19_4_against_rapidocr_paddle(online, tmp_path):
    """Defect 3: numpy==1.19.4 in the paddle venv; every rapidocr-paddle asks for numpy>=1.19.5."""
    resolver = _with_defect(tmp_path, {"py37.lock.txt": (r"^numpy==.*$", "numpy==1.19.4")})
    problems = "\n".join(resolver.problems("paddle-venv"))
    assert re.search(r"rapidocr-paddle .*requires numpy.*>=1\.19\.5.*has 1\.19\.4", problems), problems


def test_catches_numpy_1_19_4_where_rapidocr_paddle_resolves_with_deps(online, tmp_path):
    """The same conflict as pip itself reports it, were rapidocr-paddle installed with its deps."""
    resolver = _with_defect(tmp_path, {"py37.lock.txt": (r"^numpy==.*$", "numpy==1.19.4"),
                                       "kit-py37.txt": (r"^invoke$", "invoke\nrapidocr-paddle")})
    problems = "\n".join(resolver.problems("paddle-venv"))
    assert "do not resolve" in problems and "rapidocr-paddle" in problems and "numpy" in problems, problems


def test_catches_a_package_that_would_compile_unplanned(online, tmp_path):
    """scikit-image has no cp36 aarch64 wheel (a multi-hour build on the Nano) and no planned build."""
    resolver = _with_defect(tmp_path, {"easyocr.txt": (r"^scipy$", "scipy\nscikit-image==0.17.2"),
                                       "py36.lock.txt": (r"^scipy==", "scikit-image==0.17.2\nscipy==")})
    problems = "\n".join(resolver.problems("torch-venv"))
    assert "do not resolve" in problems and "scikit-image" in problems, problems


def test_catches_an_unpinned_package(online, tmp_path):
    resolver = _with_defect(tmp_path, {"py36.lock.txt": (r"^tabulate==.*\n", "")})
    problems = "\n".join(resolver.problems("torch-venv"))
    assert "tabulate" in problems and "not pinned" in problems, problems


def test_catches_a_kit_requirement_the_venv_lacks(online, tmp_path):
    resolver = _with_defect(tmp_path, {"kit-py36.txt": (r"^invoke .*\n", "")})
    problems = "\n".join(resolver.problems("torch-venv"))
    assert "the kit needs invoke" in problems, problems


def test_marker_environment_is_the_nanos():
    """pip evaluates markers against the interpreter running it; the tier gives it the Nano's."""
    from packaging.markers import Marker
    env = realindex.marker_env("3.6.9")
    assert Marker("python_version < '3.7' and platform_machine == 'aarch64'").evaluate(env)
    assert not Marker("python_version >= '3.7'").evaluate(env)
