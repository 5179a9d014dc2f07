"""codereader-trt as far as a machine without TensorRT or a GPU can test it: its reason to be
unavailable, the optimisation profile derived from the codereader's width policy, the TensorRT 8.2
build calls and the engine-cache keys, the precision guard's wiring, and reads that go through
exactly the codereader's decoding.

TensorRT cannot exist here, so two stand-ins replace it, and only it: a fake `tensorrt` module
with TensorRT 8.2's builder API that records the calls ocr/accel/trt.py makes, and a fake engine
whose "serialised engine" is a JSON note of what was built and whose inference runs that ONNX
file on ONNX Runtime. Everything else (line splitting, batching, the cache folders, decoding,
the guard) is the real code. The real TensorRT path runs in test_on_a_gpu (marker `device`).
"""
import importlib.machinery
import json
import os
import sys
import types

import numpy as np
import pytest

from ocr import dataset, synth
from ocr.accel import cache, guard, trt
from ocr.engines import codereader, codereader_trt, registry
from ocr.engines.base import EngineUnavailable, sha256_file
from ocr.engines.ppocr import OnnxRunner, batched_rec

MODEL = os.path.join(codereader.model_dir(), codereader.MODEL_NAME)
NANO_GPU = "NVIDIA Tegra X1 (Jetson Nano)"


def test_registered_and_unavailable_here_with_one_line_reason():
    ok, why = registry.availability("codereader-trt")
    if ok:
        pytest.skip("TensorRT and CUDA are here: test_on_a_gpu runs instead")
    assert "\n" not in why and len(why) < 200
    assert "CUDA" in why or "TensorRT" in why


def _fake_module(name, **attrs):
    module = types.ModuleType(name)
    module.__spec__ = importlib.machinery.ModuleSpec(name, None)  # find_spec() sees it installed
    module.__dict__.update(attrs)
    return module


def test_availability_loads_no_weights(monkeypatch, tmp_path):
    """With TensorRT and CUDA present (stand-ins) it is available, having read no model file."""
    import torch
    monkeypatch.setitem(sys.modules, "tensorrt", _fake_module("tensorrt", __version__="8.2.1.8"))
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    for name in ("metadata", "input_names"):
        monkeypatch.setattr(codereader_trt.onnx_proto, name, pytest.fail)
    monkeypatch.setattr(trt, "ArrayRunner", pytest.fail)
    assert registry.availability("codereader-trt") == (True, "")
    (tmp_path / "SHA256SUMS").write_text("")  # a verifiable folder that lacks the model
    monkeypatch.setenv("KIT_MODELS_CODEREADER", str(tmp_path))
    ok, why = registry.availability("codereader-trt")
    assert not ok and why.startswith("model missing: ")


# --- the optimisation profile --------------------------------------------------------------------------
def test_profile_for_the_default_options():
    assert codereader_trt.profiles("x", 48, 8, 640) == {
        "x": ((1, 3, 48, 32), (1, 3, 48, 320), (8, 3, 48, 640))}
    # A max_width off the 32 grid: rec_batch pads the widest line up to it, so must the profile.
    assert codereader_trt.profiles("x", 48, 4, 650)["x"][2] == (4, 3, 48, 672)
    assert codereader_trt.profiles("x", 48, 1, 200)["x"][1] == (1, 3, 48, 224)  # opt within range
    with pytest.raises(ValueError):
        codereader_trt.profiles("x", 48, 8, 0)


@pytest.mark.parametrize("batch,max_width", [(8, 640), (3, 650), (1, 100)])
def test_profile_covers_every_batch_the_codereader_feeds(batch, max_width):
    """The real batching (ppocr.batched_rec, as CodeReader.line_probs calls it) on lines from a
    sliver to far wider than max_width, in every batch size up to `batch`."""
    lo, _, hi = codereader_trt.profiles("x", 48, batch, max_width)["x"]
    rng = np.random.RandomState(0)
    lines = [np.zeros((int(h), int(w), 3), np.uint8)
             for h, w in zip(rng.randint(8, 90, 60), rng.randint(1, 4000, 60))]
    sliver, wide = np.zeros((48, 1, 3), np.uint8), np.zeros((10, 5000, 3), np.uint8)
    shapes = []
    for group in [lines[:n] for n in range(1, len(lines) + 1, 7)] + [[sliver], [wide] * 9]:
        batched_rec(lambda x: shapes.append(x.shape) or np.zeros((len(x), 1, 1)), group, batch, 48, max_width)
    assert all(all(a <= s <= b for a, s, b in zip(lo, shape, hi)) for shape in shapes)
    assert tuple(lo) in shapes and tuple(hi) in shapes  # both ends are reached, none is wasted


# --- the build: TensorRT 8.2's Python API, stood in for ------------------------------------------------
class FakeTrt82(types.ModuleType):
    """TensorRT 8.2's builder API (JetPack 4.6) as far as trt.build_from_onnx uses it: no
    set_memory_pool_limit yet (8.4), a max_workspace_size attribute instead. Records every call."""

    __version__ = "8.2.1.8"

    def __init__(self):
        super().__init__("tensorrt")
        self.__spec__ = importlib.machinery.ModuleSpec("tensorrt", None)
        self.calls = []
        fake = self

        class Logger:
            WARNING = 2

            def __init__(self, level):
                pass

        class Parser:
            num_errors = 0

            def __init__(self, network, logger):
                pass

            def parse(self, data):
                fake.calls.append(("parse", len(data)))
                return True

        class Profile:
            def set_shape(self, name, lo, opt, hi):
                fake.calls.append(("set_shape", name, lo, opt, hi))

        class Config:
            max_workspace_size = 0

            def set_flag(self, flag):
                fake.calls.append(("set_flag", flag))

            def add_optimization_profile(self, profile):
                fake.calls.append(("add_optimization_profile",))

        class Builder:
            def __init__(self, logger):
                pass

            def create_network(self, flags):
                fake.calls.append(("create_network", flags))
                return "network"

            def create_builder_config(self):
                fake.config = Config()
                return fake.config

            def create_optimization_profile(self):
                return Profile()

            def build_serialized_network(self, network, config):
                fake.calls.append(("build_serialized_network", config.max_workspace_size))
                return b"plan"

        self.Logger, self.Builder, self.OnnxParser = Logger, Builder, Parser
        self.NetworkDefinitionCreationFlag = types.SimpleNamespace(EXPLICIT_BATCH=0)
        self.BuilderFlag = types.SimpleNamespace(FP16="FP16", INT8="INT8")


@pytest.fixture
def nano(monkeypatch, tmp_path):
    """The engine cache in tmp_path, TensorRT 8.2 (stand-in) importable, the Nano's GPU name."""
    monkeypatch.setenv("KIT_ACCEL_CACHE", str(tmp_path))
    fake = FakeTrt82()
    monkeypatch.setitem(sys.modules, "tensorrt", fake)
    monkeypatch.setattr(cache, "gpu_name", lambda device=0: NANO_GPU)
    return fake


def _key_files(root):
    found = []
    for folder, _, files in os.walk(str(root)):
        if "key.json" in files:
            with open(os.path.join(folder, "key.json")) as f:
                found.append((folder, json.load(f)))
    return found


def test_fp16_build_through_the_kits_builder(nano, tmp_path):
    profile = codereader_trt.profiles("x", 48, 8, 640)
    path = trt.cached_engine(MODEL, "fp16", profile)
    assert nano.calls == [("create_network", 1), ("parse", os.path.getsize(MODEL)), ("set_flag", "FP16"),
                          ("set_shape", "x", (1, 3, 48, 32), (1, 3, 48, 320), (8, 3, 48, 640)),
                          ("add_optimization_profile",), ("build_serialized_network", trt.WORKSPACE)]
    assert open(path, "rb").read() == b"plan"
    [(folder, key)] = _key_files(tmp_path)
    assert os.path.dirname(path) == folder
    assert key == {"model_sha256": codereader.expected_sha256(), "tensorrt": "8.2.1.8", "gpu": NANO_GPU,
                   "precision": "fp16", "shapes": {"x": [[1, 3, 48, 32], [1, 3, 48, 320], [8, 3, 48, 640]]}}
    # The second start loads what the first built.
    assert trt.cached_engine(MODEL, "fp16", profile) == path and len(nano.calls) == 6
    # FP32 (the guard's twin): no FP16 flag, its own folder.
    nano.calls[:] = []
    assert trt.cached_engine(MODEL, "fp32", profile) != path
    assert not [c for c in nano.calls if c[0] == "set_flag"] and len(_key_files(tmp_path)) == 2


# --- reading: TensorRT inference stood in for by ONNX Runtime on the same file ---------------------------
class OrtStandIn:
    """Stands in for trt.TrtModule (TensorRT is absent here): the "engine" file is the fake
    builder's note of what it built; inference runs that ONNX on ONNX Runtime, refusing, as
    TensorRT would, a shape outside the profile."""

    garble_fp16 = False

    def __init__(self, engine_path):
        with open(engine_path) as f:
            self.built = json.load(f)
        self.runner = OnnxRunner(self.built["onnx"], 1)

    def numpy(self, x):
        (lo, _, hi), = self.built["profiles"].values()
        if not all(a <= s <= b for a, s, b in zip(lo, x.shape, hi)):
            raise ValueError("shape {} outside the engine's profile {} .. {}".format(x.shape, lo, hi))
        probs = self.runner(x)
        if self.garble_fp16 and self.built["precision"] == "fp16":
            probs = probs[:, ::-1]  # a broken FP16 engine: steps come out reversed
        return probs


@pytest.fixture
def stand_in(nano, monkeypatch):
    pytest.importorskip("onnxruntime")
    builds = []

    def build(onnx_path, precision, profiles, **_):
        builds.append(precision)
        return json.dumps({"onnx": onnx_path, "precision": precision, "profiles": profiles}).encode()

    monkeypatch.setattr(trt, "build_from_onnx", build)
    monkeypatch.setattr(trt, "TrtModule", OrtStandIn)
    monkeypatch.setattr(OrtStandIn, "garble_fp16", False)
    return builds


@pytest.fixture(scope="module")
def crops():
    samples = list(dataset.load(None))[:12]
    out = [dataset.read_image(s.image) for s in samples]
    _, img, _ = synth.make_sample(11, 3, style="solid", lines=["EXP 05/2026", "LOT 483920"])
    return out + [np.ascontiguousarray(img[:, :, ::-1])]


def _reads(preds):
    out = []
    for p in preds:
        d = p.to_dict()
        del d["stages_ms"]  # timings differ
        out.append(d)
    return out


def test_reads_exactly_as_the_codereader(stand_in, crops):
    reference = registry.create("codereader", threads=1).load()
    engine = registry.create("codereader-trt", precision="fp32").load()
    assert stand_in == ["fp32"]
    assert _reads(engine.predict(crops)) == _reads(reference.predict(crops))
    assert engine.reject_below == reference.reject_below is not None
    info = engine.describe()
    assert info["models"]["rec"] == reference.describe()["models"]["rec"]
    assert info["device"] == "cuda" and info["precision"] == "fp32"
    assert info["shapes"] == codereader_trt.profiles("x", 48, 8, 640)
    assert list(engine.predict(crops[-1:])[0].stages_ms) == ["split", "network", "decode"]


def test_fp16_loads_after_the_guard_passed(stand_in, tmp_path):
    engine = registry.create("codereader-trt", calib_n=6).load()
    assert sorted(stand_in) == ["fp16", "fp32"]  # the FP32 twin was built to compare against
    assert engine.describe()["accuracy_flag"] == guard.OK
    assert engine.describe()["accuracy_guard"]["n"] == 6
    assert sorted(k["precision"] for _, k in _key_files(tmp_path)) == ["fp16", "fp32"]


def test_a_broken_fp16_engine_is_refused_or_marked(stand_in, monkeypatch):
    monkeypatch.setattr(OrtStandIn, "garble_fp16", True)
    with pytest.raises(EngineUnavailable, match="refused by the precision guard"):
        registry.create("codereader-trt", calib_n=6).load()
    allowed = registry.create("codereader-trt", calib_n=6, allow_degraded=True).load()
    assert allowed.describe()["accuracy_flag"] == guard.DEGRADED


def test_the_engine_is_built_from_the_verified_model_only(stand_in, tmp_path, monkeypatch):
    folder = tmp_path / "model"
    folder.mkdir()
    (folder / codereader.MODEL_NAME).write_bytes(open(MODEL, "rb").read())
    (folder / "SHA256SUMS").write_text("0" * 64 + "  " + codereader.MODEL_NAME + "\n")
    monkeypatch.setenv("KIT_MODELS_CODEREADER", str(folder))
    with pytest.raises(EngineUnavailable, match="expected 000000000000"):
        registry.create("codereader-trt", precision="fp32").load()
    assert stand_in == []


# --- the real thing ---------------------------------------------------------------------------------------
@pytest.mark.device
def test_on_a_gpu(tmp_path, monkeypatch, crops):
    ok, why = registry.availability("codereader-trt")
    if not ok:
        pytest.skip(why)
    monkeypatch.setenv("KIT_ACCEL_CACHE", str(tmp_path))
    engine = registry.create("codereader-trt", calib_n=20).load()  # FP16, guarded against FP32
    assert engine.describe()["accuracy_flag"] == guard.OK
    built = sorted(p.name for p in tmp_path.rglob("*.engine"))
    assert len(built) == 2  # fp16 + its fp32 twin
    reference = registry.create("codereader").load() if registry.availability("codereader")[0] else None
    preds = engine.predict(crops)
    if reference is not None:
        same = sum(a["text"] == b["text"] for a, b in zip(_reads(preds), _reads(reference.predict(crops))))
        assert same >= len(crops) - 1
    registry.create("codereader-trt", calib_n=20).load()  # the second start rebuilds nothing
    assert sorted(p.name for p in tmp_path.rglob("*.engine")) == built
    assert sha256_file(MODEL) == engine.describe()["models"]["rec"]["sha256"]
