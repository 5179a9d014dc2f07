"""The docker tasks against a real engine (dockerd started by .ci/services.d/10-dockerd.sh, with a
debootstrapped Debian imported under the l4t base tags): the GPU images build in test mode on that
stand-in, the cpu image builds for real with its ONNX Runtime engines, and `invoke bench` runs in it.
Skips on a machine without an engine; fails under CI (KIT_CI=1)."""
import io
import json
import os
import subprocess
import sys
import tarfile

import pytest

from bench import versions
from images import config, containers
from tests.conftest import ROOT, require_tier
from tests.helpers import write_manifest

pytestmark = pytest.mark.containers
TABLE = versions.load_table()
KEY = TABLE["default_l4t"]
CROPS = [("lot", ["LOT 24A117"]), ("exp", ["EXP 2025.05.02"]), ("code", ["B7 40917"])]


def build_log(image):
    with open(os.path.join(containers.LOG_DIR, image + ".log")) as f:
        return f.read()


@pytest.fixture(scope="module")
def engine():
    try:
        return containers.connect()
    except config.DockerProblem as exc:
        require_tier("containers", False, str(exc))


@pytest.fixture(scope="module")
def cpu_image(engine):
    # ONNX Runtime engines only: torch and Paddle would take most of CI's time for no new coverage.
    assert containers.build_cli("cpu", extras="onnx,cv") == 0, build_log("cpu")[-3000:]
    return config.tag("cpu", KEY)


def test_stand_in_bases_are_tagged(engine):
    for base in TABLE["l4t"][KEY]["base_images"].values():
        assert engine.images.get(base).attrs["Comment"].startswith("kit-ci stand-in")


@pytest.mark.parametrize("image, engine_name", [("easyocr", "easyocr-rec"), ("paddle", "paddleocr-rec")])
def test_gpu_image_builds_and_tests_in_test_mode(engine, capsys, image, engine_name):
    assert containers.build_cli(image, test_mode=True) == 0, build_log(image)[-3000:]
    log = build_log(image)
    assert "Successfully tagged " + config.tag(image, KEY) in log
    # install.sh says what test mode skipped, unless dockerd reused that layer from an earlier build
    # (its data root outlives a run on the same machine); the test-mode label below holds either way.
    assert "KIT_TEST_MODE=1: SKIPPED" in log or "Using cache" in log
    labels = engine.images.get(config.tag(image, KEY)).labels
    assert labels["kit.test-mode"] == "1" and labels["kit.git-commit"] == config.git_commit()
    capsys.readouterr()
    assert containers.test_cli(image) == 0
    out = capsys.readouterr().out
    assert "KIT_TEST_MODE=1: SKIPPED the {} call".format(engine_name) in out
    assert "[{}] test.py passed".format(image) in out


def test_easyocr_models_are_staged_from_the_pinned_package(engine):
    # Runs after the build above (same module, file order); reads the staged files in the image.
    out = engine.containers.run(config.tag("easyocr", KEY), ["sh", "-c", "ls $KIT_MODELS_EASYOCR"],
                                remove=True).decode()
    assert {"craft_mlt_25k.pth", "english_g2.pth"} <= set(out.split())


@pytest.mark.parametrize("image", ["cpu", "easyocr", "paddle"])
def test_each_image_decodes_with_the_compiled_decoder(engine, cpu_image, image):
    # Runs after the builds above; the kit in the image (WORKDIR /opt/kit) imports the module its
    # build compiled, not a copy of the host's (.dockerignore keeps that out).
    probe = "from ocr import compiled; m = compiled.module(); assert m is not None, 'pure Python'; print(m.__file__)"
    out = engine.containers.run(config.tag(image, KEY), ["python", "-c", probe], remove=True).decode()
    assert out.strip().startswith("/opt/kit/ocr/_decode"), out


def test_cpu_image_reads_a_crop(cpu_image, capsys):
    assert containers.test_cli("cpu") == 0
    out = capsys.readouterr().out
    assert "== test: ppocr-onnx-rec" in out and "[cpu] test.py passed" in out


def test_bench_in_cpu_image_leaves_results_on_the_host(cpu_image, tmp_path, capsys):
    data = write_manifest(str(tmp_path / "data"), CROPS)
    results = tmp_path / "results"
    args = ["--engine", "ppocr-onnx-rec", "--limit", "3", "--warmup", "1"]
    assert containers.bench_cli("cpu", args, data=data, out=str(results)) == 0
    found = containers.new_results(str(results))
    assert [os.path.basename(p) for p in found] == ["ppocr-onnx-rec.json"], capsys.readouterr().out
    with open(found[0]) as f:
        result = json.load(f)
    assert result["status"] == "ok" and result["engine"]["name"] == "ppocr-onnx-rec"
    assert len(result["samples"]) == 3
    assert os.stat(found[0]).st_uid == os.getuid()   # chowned back from the container's root
    assert "[cpu] result: {}".format(found[0]) in capsys.readouterr().out


def test_missing_base_image_is_one_line(engine, tmp_path, monkeypatch, capsys):
    with open(versions.VERSIONS) as f:
        text = f.read()
    base = TABLE["l4t"][KEY]["base_images"]["cpu"]
    table = tmp_path / "versions.yml"
    table.write_text(text.replace(base, "kit-ci/absent:none"))
    monkeypatch.setattr(versions, "VERSIONS", str(table))
    assert containers.build_cli("cpu") == 1
    err = capsys.readouterr().err
    assert err == ("docker: image kit-ci/absent:none is not here: run `docker pull kit-ci/absent:none` "
                   "(on a Jetson: `docker login nvcr.io` first if asked), or `invoke docker.build --pull`\n")


def test_build_failure_names_its_log(engine, capsys, monkeypatch):
    # A step that fails, streamed by the real engine: the task ends in one line naming the log.
    dockerfile = "ARG BASE_IMAGE\nFROM ${BASE_IMAGE}\nRUN echo about to fail && exit 3\n".encode()
    context = io.BytesIO()
    with tarfile.open(fileobj=context, mode="w") as tar:
        info = tarfile.TarInfo("docker/cpu/Dockerfile")
        info.size = len(dockerfile)
        tar.addfile(info, io.BytesIO(dockerfile))
    context.seek(0)
    monkeypatch.setattr(containers, "context_tar", lambda image: context)
    assert containers.build_cli("cpu") == 1
    captured = capsys.readouterr()
    assert "[cpu 3/3] RUN echo about to fail && exit 3\n    about to fail\n" in captured.out
    assert captured.err.startswith("docker: {} failed after".format(config.tag("cpu", KEY)))
    assert "returned a non-zero code: 3 (full log: build/docker/cpu.log)" in captured.err


def test_invoke_task_from_the_shell(cpu_image):
    # The same path a user takes: `invoke docker.test --image cpu`, one exit code.
    invoke = os.path.join(os.path.dirname(sys.executable), "invoke")
    proc = subprocess.run([invoke, "docker.test", "--image", "cpu"], cwd=ROOT, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, universal_newlines=True)
    assert proc.returncode == 0 and "[cpu] test.py passed" in proc.stdout, proc.stdout


SERVE_JOB = "gpu_twin: false\nserve: {bind: 127.0.0.1, port: 8080, token: container-token-1}\n"
POST_READ = """
import json, sys, urllib.request
image = open("/opt/kit/ocr/data/default/images/000001.png", "rb").read()
req = urllib.request.Request("http://127.0.0.1:8080/read", image, {"Authorization": "Bearer container-token-1"})
print(json.dumps(json.load(urllib.request.urlopen(req, timeout=120))))
"""
HEALTH = "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8080/health', timeout=5)"


def test_the_reader_service_answers_post_read_inside_the_cpu_image(cpu_image, tmp_path):
    """`invoke serve`'s module (python -m bench.serve JOB, as the systemd unit runs it) in the cpu
    image, the job bind-mounted; POST /read of a default-set crop from inside the container."""
    import time
    (tmp_path / "job.yml").write_text(SERVE_JOB)
    client = containers.connect()
    box = client.containers.run(cpu_image, ["python", "-m", "bench.serve", "/job/job.yml"], detach=True,
                                volumes={str(tmp_path): {"bind": "/job", "mode": "ro"}})
    try:
        deadline = time.time() + 300  # the engine loads first; the limit only ends a broken test
        while box.exec_run(["python", "-c", HEALTH]).exit_code != 0:
            box.reload()
            assert box.status == "running" and time.time() < deadline, box.logs().decode()[-3000:]
            time.sleep(1)
        result = box.exec_run(["python", "-c", POST_READ])
        assert result.exit_code == 0, result.output.decode()
        [verdict] = json.loads(result.output.decode())["verdicts"]
        assert verdict["text"] == "26-11-2024" and verdict["origin"] == "upload"  # manifest's first crop
    finally:
        box.remove(force=True)


def test_the_nanos_images_role_builds_from_its_copy_of_the_checkout(engine, tmp_path):
    # ansible/roles/images as setup-nano.yml runs it, against this engine: it packs the checkout's
    # paths, unpacks them and runs `invoke docker.build` there; a second run changes nothing.
    from tests.ansible.helpers import BIN, playbook, recap
    src = tmp_path / "src"
    play = tmp_path / "images.yml"
    play.write_text(json.dumps([{"hosts": "localhost", "connection": "local", "gather_facts": False, "roles": [{
        "role": os.path.join(ROOT, "ansible", "roles", "images"),
        "vars": {"images_enabled": True, "images_src": ROOT, "images_dir": str(src),
                 "images_invoke": os.path.join(BIN, "invoke"),
                 "images_command": "invoke docker.build --image paddle --test-mode",
                 "images_tags": ["{{ tag }}"], "images_pack": str(tmp_path / "kit-src.tar.gz")}}]}]))
    code, out = playbook([str(play), "-e", "tag=kit-ci/not-built-yet:0"], timeout=1800)
    assert code == 0, out[-3000:]
    with open(str(src / "build" / "docker" / "paddle.log")) as f:   # the copy's own build, not this checkout's
        assert "Successfully tagged " + config.tag("paddle", KEY) in f.read()
    code, out = playbook([str(play), "-e", "tag=" + config.tag("paddle", KEY)])
    assert code == 0 and recap(out)["localhost"]["changed"] == 0, out[-3000:]
