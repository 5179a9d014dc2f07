"""The kit's container images on the Docker SDK: build, test and bench (`invoke docker.*`).

What each image is comes from images.config (docker/<image>/config.yml and versions.yml); this
module talks to the daemon. Problems a user can fix (no daemon, no permission, a missing base
image, no nvidia runtime on a Jetson) end in one line saying what to do.
Python 3.6-compatible: this runs on the Nano's system Python.
"""
import io
import os
import re
import sys
import tarfile
import time

from bench import versions
from bench.versions import on_jetson
from ocr import DATA, ROOT

from .config import DockerProblem, build_args, load, pick_images, tag

LOG_DIR = os.path.join(ROOT, "build", "docker")
# Files of the checkout an image build sees (the context is made here, so .venv never travels).
CONTEXT = ("pyproject.toml", "README.md", "tasks.py", "versions.yml", "requirements", "ocr", "bench", "images",
           "patches",
           "docker/lib.sh", "docker/image_tools.py")
ANSI = re.compile(r"\x1b\[[0-9;]*m")  # docker colours a step's stderr
WORKDIR = "/opt/kit"   # where the Dockerfiles put the kit; test.py and the dataset mount live below


# --- the engine --------------------------------------------------------------------------------
def connect():
    """A docker client that answers, or a DockerProblem saying how to get one."""
    try:
        import docker
    except ImportError:
        raise DockerProblem("the docker Python package is missing: pip install docker") from None
    where = os.environ.get("DOCKER_HOST", "unix:///var/run/docker.sock")
    try:
        client = docker.from_env(version="auto")
        client.ping()
    except Exception as exc:  # the SDK wraps socket errors in several types; classify by text
        text = str(exc)
        if "Permission denied" in text or "PermissionError" in text:
            raise DockerProblem("permission denied on {}: add yourself to the docker group (sudo "
                                "usermod -aG docker $USER, then log in again) or use sudo".format(where)) from None
        raise DockerProblem("cannot reach the Docker daemon at {}: start it (sudo systemctl start "
                            "docker) or point DOCKER_HOST at a running one".format(where)) from None
    return client


def require_image(client, name, hint):
    import docker.errors
    try:
        return client.images.get(name)
    except docker.errors.ImageNotFound:
        raise DockerProblem("image {} is not here: {}".format(name, hint)) from None


def require_nvidia_runtime(client):
    if "nvidia" not in (client.info().get("Runtimes") or {}):
        raise DockerProblem("Docker has no nvidia runtime: install nvidia-container-runtime "
                            "(JetPack's nvidia-docker2) and restart docker")


def check_build_runtime(client):
    # torch2trt and Paddle's smoke test need CUDA during `docker build`, which only the default
    # runtime gets (jetson-containers asks the same).
    require_nvidia_runtime(client)
    if client.info().get("DefaultRuntime") != "nvidia":
        raise DockerProblem('set "default-runtime": "nvidia" in /etc/docker/daemon.json and restart '
                            "docker (GPU steps run during the build)")


# --- build -------------------------------------------------------------------------------------
def context_tar(image):
    """The build context: the kit's own files and this image's folder, nothing else."""
    buf = io.BytesIO()
    skip = re.compile(r"(__pycache__|\.pyc$|\.egg-info)")
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for rel in CONTEXT + (os.path.join("docker", image),):
            if os.path.exists(os.path.join(ROOT, rel)):
                tar.add(os.path.join(ROOT, rel), arcname=rel,
                        filter=lambda ti: None if skip.search(ti.name) else ti)
    buf.seek(0)
    return buf


def build_one(client, image, key, args, pull=False, out=None):
    """Build one image, streaming its log with step progress; returns the tag."""
    out = out or sys.stdout
    name = tag(image, key)
    base = args["BASE_IMAGE"]
    if pull:
        _pull(client, base)
    require_image(client, base, "run `docker pull {}` (on a Jetson: `docker login nvcr.io` first if "
                                "asked), or `invoke docker.build --pull`".format(base))
    if not os.path.isdir(LOG_DIR):
        os.makedirs(LOG_DIR)
    log_path = os.path.join(LOG_DIR, "{}.log".format(image))
    started = time.time()
    error = None
    pending = ""   # the stream splits lines across chunks
    with open(log_path, "w") as log:
        stream = client.api.build(fileobj=context_tar(image), custom_context=True, tag=name,
                                  dockerfile="docker/{}/Dockerfile".format(image), buildargs=args,
                                  pull=False, rm=True, forcerm=True, decode=True)
        for chunk in stream:
            if chunk.get("error"):
                error = chunk["error"].strip()
                log.write("ERROR: {}\n".format(error))
                continue
            text = ANSI.sub("", chunk.get("stream") or "")
            log.write(text)
            lines = (pending + text).split("\n")
            pending = lines.pop()
            for line in lines:
                _progress(image, line, out)
    if error:
        raise DockerProblem("{} failed after {:.0f} s: {} (full log: {})".format(
            name, time.time() - started, error.splitlines()[-1], os.path.relpath(log_path)))
    size = client.images.get(name).attrs.get("Size", 0) / 1e6
    out.write("[{}] built {} ({:.0f} MB) in {:.0f} s; log: {}\n".format(
        image, name, size, time.time() - started, os.path.relpath(log_path)))
    return name


def _progress(image, line, out):
    """`[cpu 12/15] RUN ...` for each step, the step's own output indented, docker's chatter dropped."""
    step = re.match(r"Step (\d+/\d+) : (.*)", line)
    if step:
        out.write("[{} {}] {}\n".format(image, step.group(1), step.group(2)[:100]))
    elif line.strip() and not line.startswith((" ---> ", "Removing intermediate")):
        out.write("    " + line[:200] + "\n")
    out.flush()


def _pull(client, ref):
    import docker.errors
    try:
        client.images.pull(ref)
    except docker.errors.APIError as exc:
        raise DockerProblem("cannot pull {}: {} (log in with `docker login nvcr.io`, or load the "
                            "image with `docker load`)".format(ref, exc.explanation or exc)) from None


# --- run: test and bench -----------------------------------------------------------------------
def run_options(client, image, name, jetson=None):
    """Keyword arguments for containers.run: the nvidia runtime for GPU images on a Jetson."""
    jetson = on_jetson() if jetson is None else jetson
    # KIT_IMAGE / KIT_GIT_COMMIT let a result file name the image and the kit commit it ran (the
    # image has no .git).
    env = {"PYTHONUNBUFFERED": "1", "KIT_IMAGE": name,
           "KIT_GIT_COMMIT": _label(client, name, "kit.git-commit") or "unknown"}
    opts = {"detach": True, "environment": env}
    if load(image)["gpu"]:
        if jetson:
            require_nvidia_runtime(client)
            opts["runtime"] = "nvidia"
        elif _label(client, name, "kit.test-mode") != "1":
            raise DockerProblem("{} needs a Jetson (--runtime nvidia); on this machine use the cpu "
                                "image".format(name))
    return opts


def _label(client, name, key):
    return (client.images.get(name).labels or {}).get(key)


def run_in(client, name, command, opts, out=None):
    """Run a command in a fresh container, stream its output, remove it; returns the exit code."""
    out = out or sys.stdout
    box = client.containers.run(name, command, **opts)
    try:
        for chunk in box.logs(stream=True, follow=True):
            out.write(chunk.decode("utf-8", "replace"))
            out.flush()
        return box.wait().get("StatusCode", 1)
    finally:
        box.remove(force=True)


def built_image(client, image, key):
    name = tag(image, key)
    require_image(client, name, "run `invoke docker.build --image {}`".format(image))
    return name


def test_one(client, image, key, out=None):
    out = out or sys.stdout
    name = built_image(client, image, key)
    code = run_in(client, name, ["python", "{}/docker/{}/test.py".format(WORKDIR, image)],
                  run_options(client, image, name), out)
    out.write("[{}] test.py {} (exit {})\n".format(image, "passed" if code == 0 else "FAILED", code))
    return code


def bench_command(bench_args, data_arg):
    """`invoke bench` inside the container, results chowned back to the caller (it runs as root
    so that the GPU devices of the nvidia runtime stay reachable)."""
    owner = "{}:{}".format(os.getuid(), os.getgid())
    script = 'invoke bench "$@"; rc=$?; chown -R {} /results; exit $rc'.format(owner)
    return ["sh", "-c", script, "invoke-bench", "--data", data_arg, "--out", "/results"] + bench_args


def dataset_mount(data):
    """(host folder, path inside) for --data: a folder, or a manifest file inside its folder."""
    data = os.path.abspath(data or os.path.join(DATA, "default"))
    if os.path.isdir(data):
        return data, "/data"
    if os.path.isfile(data):
        return os.path.dirname(data), "/data/" + os.path.basename(data)
    raise DockerProblem("dataset {} does not exist".format(data))


def bench_one(client, image, key, bench_args, data=None, out_dir="results", out=None):
    out = out or sys.stdout
    name = built_image(client, image, key)
    host_data, data_arg = dataset_mount(data)
    out_dir = os.path.abspath(out_dir)
    if not os.path.isdir(out_dir):
        os.makedirs(out_dir)
    before = set(os.listdir(out_dir))
    opts = run_options(client, image, name)
    opts["volumes"] = {host_data: {"bind": "/data", "mode": "ro"},
                       out_dir: {"bind": "/results", "mode": "rw"}}
    code = run_in(client, name, bench_command(bench_args, data_arg), opts, out)
    for path in new_results(out_dir, before):
        out.write("[{}] result: {}\n".format(image, path))
    return code


def new_results(out_dir, before=()):
    """Result JSON files under entries of OUT_DIR that were not in BEFORE (a run folder or a file)."""
    found = []
    for new in sorted(set(os.listdir(out_dir)) - set(before)):
        for folder, _, files in os.walk(os.path.join(out_dir, new)):
            found += [os.path.join(folder, f) for f in sorted(files) if f.endswith(".json")]
        if new.endswith(".json"):
            found.append(os.path.join(out_dir, new))
    return found


# --- entry points for tasks.py: exit codes, one-line errors ------------------------------------
def _cli(body):
    try:
        return body()
    except (DockerProblem, versions.TableProblem) as exc:
        sys.stderr.write("docker: {}\n".format(exc))
        return 1


def build_cli(image=None, all_images=False, test_mode=False, allow_unpinned=False, extras=None,
              pull=False, l4t=None):
    def body():
        images = pick_images(image, all_images)
        table = versions.load_table()
        key = versions.l4t_key(table, l4t)
        client = connect()
        if on_jetson() and any(load(i)["gpu"] for i in images) and not test_mode:
            check_build_runtime(client)
        for one in images:
            build_one(client, one, key, build_args(one, table, key, test_mode, allow_unpinned, extras),
                      pull=pull)
        return 0
    return _cli(body)


def test_cli(image=None, all_images=False, l4t=None):
    def body():
        images = pick_images(image, all_images)
        key = versions.l4t_key(versions.load_table(), l4t)
        client = connect()
        return max(test_one(client, one, key) for one in images)
    return _cli(body)


def bench_cli(image, bench_args, data=None, out="results", l4t=None):
    def body():
        one = pick_images(image)[0]
        key = versions.l4t_key(versions.load_table(), l4t)
        client = connect()
        return bench_one(client, one, key, bench_args, data, out)
    return _cli(body)
