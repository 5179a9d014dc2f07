"""images/ without an engine: the arguments the tasks pass (the nvidia runtime on a
Jetson, which cannot run here), the one-line messages, the versions lookup and the build context."""
import io
import os
import tarfile

import docker.errors
import pytest
from invoke import MockContext

import tasks
from bench import versions
from images import config, containers
from tests.conftest import ROOT

TABLE = versions.load_table()
KEY = TABLE["default_l4t"]


class FakeImage(object):
    def __init__(self, labels):
        self.labels, self.attrs = labels, {"Size": 0}


class FakeImages(object):
    def __init__(self, present):
        self.present = present

    def get(self, name):
        if self.present is None:   # a daemon that has every image, unlabelled
            return FakeImage({})
        if name not in self.present:
            raise docker.errors.ImageNotFound(name)
        return FakeImage(self.present[name])


class FakeClient(object):
    """Answers like a daemon: its runtimes, default runtime and local images."""

    def __init__(self, runtimes=("runc",), default="runc", images=None):
        self.runtimes, self.default = runtimes, default
        self.images = FakeImages(images)

    def info(self):
        return {"Runtimes": {r: {"path": r} for r in self.runtimes}, "DefaultRuntime": self.default}


def one_line_error(capsys):
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    return err


# --- the nvidia runtime: argument checks stand in for the GPU run --------------------------------
@pytest.mark.parametrize("image", ["easyocr", "paddle"])
def test_gpu_images_run_with_the_nvidia_runtime_on_a_jetson(image):
    client = FakeClient(("runc", "nvidia"), images={"kit-x": {"kit.git-commit": "abc"}})
    opts = containers.run_options(client, image, "kit-x", jetson=True)
    assert opts["runtime"] == "nvidia" and opts["detach"] is True
    assert opts["environment"]["KIT_IMAGE"] == "kit-x" and opts["environment"]["KIT_GIT_COMMIT"] == "abc"


def test_cpu_image_needs_no_runtime_even_on_a_jetson():
    assert "runtime" not in containers.run_options(FakeClient(), "cpu", "kit-cpu", jetson=True)


def test_jetson_without_nvidia_runtime_says_what_to_install():
    with pytest.raises(config.DockerProblem, match="install nvidia-container-runtime"):
        containers.run_options(FakeClient(), "easyocr", "kit-easyocr", jetson=True)


def test_gpu_image_elsewhere_runs_only_when_built_in_test_mode():
    client = FakeClient(images={"kit-t": {"kit.test-mode": "1"}, "kit-r": {"kit.test-mode": "0"}})
    assert "runtime" not in containers.run_options(client, "paddle", "kit-t", jetson=False)
    with pytest.raises(config.DockerProblem, match="needs a Jetson"):
        containers.run_options(client, "paddle", "kit-r", jetson=False)


def test_build_on_a_jetson_needs_nvidia_as_default_runtime():
    with pytest.raises(config.DockerProblem, match='"default-runtime": "nvidia"'):
        containers.check_build_runtime(FakeClient(("runc", "nvidia"), default="runc"))
    containers.check_build_runtime(FakeClient(("runc", "nvidia"), default="nvidia"))


def test_build_task_on_a_jetson_without_runtime_fails_in_one_line(monkeypatch, capsys):
    monkeypatch.setattr(containers, "on_jetson", lambda: True)
    monkeypatch.setattr(containers, "connect", lambda: FakeClient())
    assert containers.build_cli("easyocr") == 1
    assert "nvidia-container-runtime" in one_line_error(capsys)


# --- one clear line instead of a traceback ------------------------------------------------------
def test_no_daemon(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("DOCKER_HOST", "unix://{}/absent.sock".format(tmp_path))
    assert containers.test_cli("cpu") == 1
    assert "cannot reach the Docker daemon" in one_line_error(capsys)


def test_no_permission(monkeypatch):
    def refuse(**kwargs):
        raise docker.errors.DockerException("Error while fetching server API version: ('Connection "
                                            "aborted.', PermissionError(13, 'Permission denied'))")
    monkeypatch.setattr(docker, "from_env", refuse)
    with pytest.raises(config.DockerProblem, match="usermod -aG docker"):
        containers.connect()


def test_missing_base_image(monkeypatch, capsys):
    monkeypatch.setattr(containers, "on_jetson", lambda: False)
    monkeypatch.setattr(containers, "connect", lambda: FakeClient(images={}))
    assert containers.build_cli("cpu") == 1
    base = TABLE["l4t"][KEY]["base_images"]["cpu"]
    assert "image {} is not here: run `docker pull {}`".format(base, base) in one_line_error(capsys)


def test_image_not_built_yet(monkeypatch, capsys):
    monkeypatch.setattr(containers, "connect", lambda: FakeClient(images={}))
    assert containers.bench_cli("cpu", ["--all"]) == 1
    assert "run `invoke docker.build --image cpu`" in one_line_error(capsys)


def test_no_image_named(capsys):
    assert containers.test_cli() == 1
    assert "pick an image with --image (cpu, easyocr, paddle) or --all" in one_line_error(capsys)


# --- tags and build args ------------------------------------------------------------------------
def test_tag_names_image_version_and_l4t():
    from ocr import __version__
    assert config.tag("cpu", "32.7") == "kit-cpu:{}-r32.7".format(__version__)


def test_null_sha256_reaches_the_build_as_empty():
    args = config.build_args("paddle", TABLE, KEY, test_mode=True, allow_unpinned=True)
    assert args["KIT_TEST_MODE"] == "1" and args["KIT_ALLOW_UNPINNED"] == "1"
    sha = TABLE["l4t"][KEY]["wheels"]["paddle_inference"]["sha256"]
    assert args["WHEELS_PADDLE_INFERENCE_SHA256"] == (sha or "")


# --- bench: mounts and command ---------------------------------------------------------------------
def test_bench_mounts_a_manifest_by_its_folder(tmp_path):
    manifest = tmp_path / "labels.jsonl"
    manifest.write_text("")
    assert containers.dataset_mount(str(manifest)) == (str(tmp_path), "/data/labels.jsonl")
    assert containers.dataset_mount(str(tmp_path)) == (str(tmp_path), "/data")
    with pytest.raises(config.DockerProblem, match="does not exist"):
        containers.dataset_mount(str(tmp_path / "absent"))


def test_bench_command_writes_to_the_mounted_results():
    cmd = containers.bench_command(["--engine", "ppocr-onnx-rec"], "/data")
    assert cmd[:2] == ["sh", "-c"] and "chown -R {}:{} /results".format(os.getuid(), os.getgid()) in cmd[2]
    assert cmd[4:] == ["--data", "/data", "--out", "/results", "--engine", "ppocr-onnx-rec"]


def test_context_holds_the_kit_and_one_image_only():
    with tarfile.open(fileobj=containers.context_tar("cpu")) as tar:
        names = tar.getnames()
    assert {"pyproject.toml", "tasks.py", "versions.yml", "docker/lib.sh", "docker/cpu/Dockerfile",
            "ocr/__init__.py", "images/containers.py"} <= set(names)
    assert not [n for n in names if n.startswith((".venv", "docker/easyocr")) or "__pycache__" in n]


# --- the tasks stay thin: they pass their options through ------------------------------------------
def test_tasks_pass_options_through(monkeypatch):
    calls = []
    monkeypatch.setattr(containers, "build_cli", lambda *a: calls.append(("build",) + a) or 0)
    monkeypatch.setattr(containers, "test_cli", lambda *a: calls.append(("test",) + a) or 0)
    monkeypatch.setattr(containers, "bench_cli", lambda *a: calls.append(("bench",) + a) or 0)
    c = MockContext()
    tasks.docker_build(c, image="paddle", test_mode=True, allow_unpinned=True, pull=True)
    tasks.docker_test(c, all=True)
    tasks.docker_bench(c, image="cpu", args="--engine ppocr-onnx-rec --limit 3", out="r")
    assert calls == [("build", "paddle", False, True, True, None, True, None),
                     ("test", None, True, None),
                     ("bench", "cpu", ["--engine", "ppocr-onnx-rec", "--limit", "3"], None, "r", None)]


def test_tasks_document_themselves():
    docker_ns = tasks.ns.collections["docker"]
    assert sorted(docker_ns.tasks) == ["bench", "build", "test"]
    for task in docker_ns.tasks.values():
        assert task.__doc__.strip().splitlines()[0]
        params = set(task.body.__code__.co_varnames[1:task.body.__code__.co_argcount])
        assert params <= set(task.help), (task.name, params - set(task.help))


def test_build_log_progress_lines():
    out = io.StringIO()
    for line in ["Step 12/15 : RUN docker/cpu/install.sh system", " ---> Running in 1f", "== kit-cpu: apt"]:
        containers._progress("cpu", line, out)
    assert out.getvalue() == "[cpu 12/15] RUN docker/cpu/install.sh system\n    == kit-cpu: apt\n"


def test_images_are_the_checkout_folders_with_a_config():
    assert config.DOCKER_DIR == os.path.join(ROOT, "docker")
    assert config.names() == ["cpu", "easyocr", "paddle"]
    assert config.load("paddle")["base"] == "base" and config.load("cpu")["gpu"] is False


def test_a_config_with_a_wrong_key_is_one_line(monkeypatch, tmp_path):
    (tmp_path / "odd").mkdir()
    (tmp_path / "odd" / "config.yml").write_text("base: cpu\ngpu: false\nextra: onnx\nbuild_args: []\n")
    monkeypatch.setattr(config, "DOCKER_DIR", str(tmp_path))
    with pytest.raises(config.DockerProblem, match="config.yml: want exactly the keys base, gpu, extras, build_args"):
        config.load("odd")


def test_without_a_checkout_the_build_says_where_to_run_it(monkeypatch, tmp_path, capsys):
    monkeypatch.setattr(config, "DOCKER_DIR", str(tmp_path / "site-packages" / "docker"))
    assert containers.build_cli("cpu") == 1
    assert "image builds run from the kit's checkout" in one_line_error(capsys)
