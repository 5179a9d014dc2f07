"""Tasks of the Jetson Nano OCR kit (`invoke --list`).

Thin by design: every task parses its arguments and calls into `ocr/` (the library), `bench/`
(measuring and reporting) or `images/` (the container images). Runs on Python 3.6 (the Nano's system Python).
"""
import sys

from invoke import Collection, Exit, Task, task


class _Task(Task):
    """invoke makes the '-' of a dashed name the short flag when its first letters are taken
    (`--=STRING` in the help, and `--` would then mean that option): never pick it."""

    def arg_opts(self, name, default, taken_names):
        return super(_Task, self).arg_opts(name, default, set(taken_names) | {"-"})


def _fail_on(code):
    if code:
        raise Exit(code=code)


# --- datasets -------------------------------------------------------------------------------
@task(positional=["path"], help={"path": "a JSONL manifest, or a folder holding manifest.jsonl / labels.jsonl; "
                                         "'default' = the embedded synthetic set; synth:PRESET:SEED[:N] a generated "
                                         "one",
            "show_problems": "how many problems to list (default 50)",
            "allow_outside_images": "accept image paths that leave the manifest's folder (absolute or ../)"})
def dataset_check(c, path, show_problems=50, allow_outside_images=False):
    """Load a dataset manifest and print a summary: count, charset, lengths, problems."""
    from ocr import dataset
    _fail_on(dataset.check_cli(None if path == "default" else path, show_problems=int(show_problems),
                               allow_outside=allow_outside_images))


@task(help={"n": "how many crops (default 300)", "seed": "random seed (default 0)",
            "out": "output folder; gets manifest.jsonl + images/ (required)",
            "split": "label written into each sample's tags (default 'synth', or the preset's name)",
            "preset": "what the set draws from: default, doubled (doubled characters), failures (binarised "
                      "dense inkjet, every date separator, look-alike lots); ocr/synth/presets.py"})
def dataset_synth(c, out, n=300, seed=0, split="", preset="default"):
    """Generate N synthetic product-code crops deterministically from SEED (and PRESET) into OUT."""
    from ocr import synth
    _fail_on(synth.write_cli(out, n=int(n), seed=int(seed), split=split or None, preset=preset))


# --- benchmark ------------------------------------------------------------------------------
@task(klass=_Task, iterable=["engine", "option"], help={
    "all": "every registered engine (those unavailable here are listed under the table with why; exit 0)",
    "engine": "an engine name; repeat for several (see `invoke engines`); one that cannot run here exits 1",
    "data": "dataset manifest or folder (default: embedded synthetic set), or synth:PRESET:SEED[:N], a set the "
            "generator makes once into KIT_SYNTH_CACHE (e.g. synth:doubled:2001)",
    "warmup": "warm-up inferences before timing (default 30, the paper's)",
    "batch": "batch size of the throughput pass (default 8; 0: skip it)",
    "limit": "use only the first N samples (default 0: all)",
    "out": "results folder (default results/); each run gets a fresh results/<run-id>/",
    "interpreters": "YAML file mapping engine -> python (default bench/interpreters.yml if present)",
    "option": "engine option KEY=VALUE, repeatable, e.g. threads=2 or easyocr.pre=gray+clahe",
    "telemetry": "sample power/clocks/temperatures during the run (default on)",
    "sample_timeout": "seconds a worker may take per sample before it is ended (default 300; 0: no limit)",
    "load_timeout": "seconds for loading and warming up an engine, e.g. a TensorRT build (default 3600; 0: no limit)",
    "allow_outside_images": "read manifest image paths that leave its folder (absolute or ../)",
    "trust_models": "use a KIT_MODELS_* folder that has no SHA256SUMS (its model is not verified)",
})
def bench(c, all=False, engine=None, data=None, warmup=None, batch=None, limit=None, out="results",
          interpreters=None, option=None, telemetry=True, sample_timeout=None, load_timeout=None,
          allow_outside_images=False, trust_models=False):
    """Run OCR engines on a dataset (paper method) and print the comparison table."""
    from bench import cli
    # counts arrive as text and are checked by the bench (one line, not a traceback, when bad)
    _fail_on(cli.bench(all_engines=all, engines=engine or [], data=data, warmup=warmup, batch=batch,
                       limit=limit, out=out, interpreters=interpreters, options=option or [],
                       telemetry=telemetry, argv=sys.argv, sample_timeout=sample_timeout,
                       load_timeout=load_timeout, allow_outside_images=allow_outside_images,
                       trust_models=trust_models))


@task(help={"results": "result JSON files or folders (space-separated in one string)",
            "out": "folder for table.md, table.csv and report.html (default results/report)"})
def report(c, results, out="results/report"):
    """Compare result JSON files, grouped by dataset: terminal table, CSV, Markdown, HTML page with plots."""
    from bench import report as rep
    _fail_on(rep.report_cli(results.split(), out))


@task
def engines(c):
    """List every engine name, what it needs, and whether it is available here."""
    from ocr.engines import registry
    registry.print_engines()


@task(help={"only": "comma-separated groups: platform, stack, ocr, throughput, jetson_benchmarks (default all)",
            "models": "comma-separated torchvision reference models (default: 5 on a Jetson, 2 elsewhere)",
            "iterations": "timed inferences per model (default 50 on a Jetson, 10 elsewhere)",
            "warmup": "untimed inferences before timing (default 10 on a Jetson, 2 elsewhere)",
            "paddle_python": "interpreter of the Paddle venv (Python 3.7 on a Nano; default $KIT_PADDLE_PYTHON)",
            "jetson_benchmarks": "a clone of NVIDIA's jetson_benchmarks at the pinned commit: runs it (~2 h)",
            "engines": "comma-separated engine names for the OCR reads (default: every registered engine)",
            "out": "also write the platform state and every result to this JSON file"})
def sanity(c, only=None, models=None, iterations=0, warmup=-1, paddle_python=None, jetson_benchmarks=None,
           engines=None, out=None):
    """Is this device healthy? Platform, stack, one OCR read per engine, reference throughput (PASS/FAIL/SKIP)."""
    from bench.sanity import cli as checks
    _fail_on(checks.sanity_cli(only, checks.split_list(models), int(iterations) or None,
                               None if int(warmup) < 0 else int(warmup), paddle_python, jetson_benchmarks,
                               checks.split_list(engines), out))


# --- reading codes on a line (ocr/reader/) -----------------------------------------------------------
@task(positional=["source"], help={
    "source": "what to read, quoted; several separated by spaces: image files, folders, globs ('crops/*.png'), "
              "a video file, a camera (0, /dev/video0), csi://0 (Jetson CSI camera), rtsp:// or http:// URLs",
    "job": "job file (YAML; example: ocr/reader/example-job.yml); default: whole frame, codereader, no rule",
    "jsonl": "write one JSON line per item here (overrides the job's output.jsonl)",
    "csv": "write one CSV row per item here (overrides the job's output.csv)",
    "summary": "write the end summary as JSON here, atomically (overrides the job's output.summary)",
    "realtime": "read a video file at its frame rate, dropping frames the reader is too slow for, "
                "as a camera does (cameras and streams always are)",
    "limit": "stop after N items per source (0: all)",
    "quiet": "print only the summary, not a row per item"})
def read(c, source, job=None, jsonl=None, csv=None, summary=None, realtime=False, limit=0, quiet=False):
    """Read codes from images, video, a camera or a stream; one verified verdict (PASS/FAIL/REJECT) per item."""
    import shlex

    from ocr.reader import pipeline
    _fail_on(pipeline.read_cli(shlex.split(source), job, jsonl, csv, summary, realtime or None, int(limit), quiet))


@task(help={"out": "folder for conveyor.avi, truth.json and job.yml (default build/conveyor)",
            "items": "how many packages (default 40)", "seed": "random seed (default 0)",
            "speed": "belt speed in pixels per frame at 30 FPS (default 12)",
            "realtime": "play the video at 30 FPS, dropping frames as a camera would (default on)",
            "results": "results folder (default results/)",
            "service": "through `invoke serve` instead (the video as its camera, then frames of its items "
                       "POSTed to /read over HTTP); writes serve-ENGINE.json"})
def read_bench(c, out="build/conveyor", items=40, seed=0, speed=12, realtime=True, results="results", service=False):
    """Stream benchmark: a conveyor video through `read`; items read once / missed, verdicts vs truth, latency."""
    if service:
        from bench import serve as served
        return _fail_on(served.bench_cli(out, int(items), int(seed), int(speed), results, sys.argv))
    from bench import stream
    _fail_on(stream.stream_cli(out, int(items), int(seed), int(speed), realtime, results, sys.argv))


# --- containers (docker/<image>/; logic in images/) --------------------------------------
_IMAGE_HELP = {"image": "easyocr, paddle or cpu", "all": "every image",
               "l4t": "L4T release (default: this Jetson's, else versions.yml's default_l4t)"}


@task(help=dict(_IMAGE_HELP, **{
    "test_mode": "skip the NVIDIA-only steps, loudly (for a stand-in base without l4t content)",
    "extras": "the kit's extras to install (default: the image's own; cpu: onnx,cv,easyocr,paddle)",
    "allow_unpinned": "install wheels whose sha256 is still null in versions.yml",
    "pull": "pull the base image first (default: use the local one)"}))
def docker_build(c, image=None, all=False, test_mode=False, extras=None, allow_unpinned=False,
                 pull=False, l4t=None):
    """Build kit-<image>:<version>-r<L4T> with build args from versions.yml, streaming the log."""
    from images import containers
    _fail_on(containers.build_cli(image, all, test_mode, allow_unpinned, extras, pull, l4t))


@task(help=_IMAGE_HELP)
def docker_test(c, image=None, all=False, l4t=None):
    """Run each image's test.py (one real OCR call) in a fresh container."""
    from images import containers
    _fail_on(containers.test_cli(image, all, l4t))


@task(help={"image": _IMAGE_HELP["image"], "l4t": _IMAGE_HELP["l4t"],
            "args": "arguments for `invoke bench` in the container, quoted: \"--engine X --limit 3\"",
            "data": "dataset folder or manifest, mounted read-only (default: the embedded set)",
            "out": "host folder that receives the result JSON (default results/)"})
def docker_bench(c, image=None, args="--all", data=None, out="results", l4t=None):
    """Run `invoke bench` inside an image (nvidia runtime on a Jetson); results land in OUT."""
    import shlex

    from images import containers
    _fail_on(containers.bench_cli(image, shlex.split(args), data, out, l4t))


# --- acceleration (ocr/accel/) ------------------------------------------------------------------
@task(help={"out": "folder for the exported models and the equivalence report (default build/accel)",
            "data": "dataset manifest or folder for the check (default: the embedded set, else rendered crops)",
            "limit": "how many crops to compare (default 50)",
            "fp16": "also convert to FP16 and report its agreement (default on)"})
def accel_export(c, out="build/accel", data=None, limit=50, fp16=True):
    """Export EasyOCR's recogniser to ONNX and verify it against PyTorch (max diff, same texts)."""
    from ocr.accel import export
    _fail_on(export.export_cli(out, data, int(limit), fp16))


@task(iterable=["results"], help={
    "crop": "crop size HxW the shapes are derived from (default 36x158, the median real crop)",
    "results": "bench result JSON file or folder to show measured numbers beside (a codereader run's "
               "Stages give the CPU side); repeatable",
    "data": "dataset whose replayed split + decode gives the CPU side when no result has it (default set)"})
def accel_estimate(c, crop="36x158", results=None, data=None):
    """Roofline latency per crop on Nano, Xavier NX, Orin; expected per crop on a Nano, 30 FPS or not."""
    from bench import nano_estimate
    _fail_on(nano_estimate.estimate_cli(crop, results or [], data))


# --- quality gates ------------------------------------------------------------------------------
@task(help={"pytest_args": "extra arguments for pytest, e.g. '-m \"not slow\"' or '-x'"})
def test(c, pytest_args=""):
    """Run the test suite; lint (ruff, vermin -t=3.6-, ast 3.6) is part of it (tests/test_lint.py)."""
    c.run("{} -m pytest -ra {}".format(sys.executable, pytest_args))


@task(help={"seed": "random seed of weights order, data and batches (default 0)",
            "recipe": "named steps/lines/presets (train/codereader/__init__.py RECIPES): default (<= 1 h on 2 "
                      "cores, the committed weights) or release (~80 min, with the failure presets); the "
                      "options below override",
            "steps": "fine-tuning steps (default: the recipe's)",
            "lines": "synthetic training lines rendered and cached (default: the recipe's)",
            "resume": "continue from OUT/ckpt.pt and the cached features",
            "device": "cpu or cuda (default: cuda when torch sees a GPU)",
            "out": "run folder: cache/, ckpt.pt, train.jsonl, codereader.pt/.onnx (default runs/codereader)",
            "presets": "draw a share of the lines from the doubled/failures presets (train/codereader/data.py "
                       "PRESET_MIX), whatever the recipe says"})
def train(c, seed=0, recipe="default", steps=0, lines=0, resume=False, device="", out="runs/codereader",
          presets=False):
    """Train the codereader recogniser on synthetic codes (see DEVELOPERS.md and the model card)."""
    from train.codereader import recipe as named
    from train.codereader import train as trainer
    try:
        r = named(recipe, steps, lines, presets)
    except ValueError as exc:
        print("invoke train: {}".format(exc))
        _fail_on(2)
    trainer.train(out, steps=r["steps"], seed=int(seed), lines=r["lines"], resume=resume,
                  device=device or trainer.default_device(), log=lambda s: print(s, flush=True),
                  presets=r["presets"])


@task(help={"job": "job file with a serve: section (bind, port, token, source, log, reject; example: "
                   "ocr/reader/example-job.yml)",
            "source": "the line's source, overriding the job's serve.source (a camera, a stream, a video file)"})
def serve(c, job, source=None):
    """Run the reader beside a line: HTTP API (/read, /health, /metrics, live page), reject signal, JSONL log."""
    from bench import serve as service
    _fail_on(service.serve_cli(job, source))


dataset_ns = Collection("dataset")
dataset_ns.add_task(dataset_check, name="check")
dataset_ns.add_task(dataset_synth, name="synth")
accel_ns = Collection("accel")
accel_ns.add_task(accel_export, name="export")
accel_ns.add_task(accel_estimate, name="estimate")

ns = Collection(bench, report, engines, sanity, test, train, read, read_bench, serve)
ns.add_collection(dataset_ns)
ns.add_collection(accel_ns)
docker_ns = Collection("docker")
docker_ns.add_task(docker_build, name="build")
docker_ns.add_task(docker_test, name="test")
docker_ns.add_task(docker_bench, name="bench")
ns.add_collection(docker_ns)
