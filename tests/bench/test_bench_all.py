"""The main job, `invoke bench --all`, end to end through invoke on the embedded default set
(a few crops, one warm-up inference: the full run is the README's main command)."""
import glob
import json
import os
import subprocess
import sys

import pytest

from ocr.engines import registry
from tests.conftest import ROOT


def _has_cuda():
    try:
        import torch
        return torch.cuda.is_available()
    except ImportError:
        return False


@pytest.mark.slow
def test_invoke_bench_all_on_default_set(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "invoke", "bench", "--all", "--limit", "3", "--warmup", "1",
                           "--batch", "2", "--out", str(tmp_path)], cwd=ROOT, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, universal_newlines=True, timeout=1200)
    assert proc.returncode == 0, proc.stdout[-3000:]
    docs = [json.load(open(f)) for f in glob.glob(str(tmp_path / "*" / "*.json"))]
    by_name = {d["engine"]["name"]: d for d in docs}
    assert sorted(by_name) == registry.names()  # every registered engine has a row
    for name in ("easyocr", "easyocr-rec", "paddleocr", "paddleocr-rec", "ppocr-onnx", "ppocr-onnx-rec",
                 "ppocr-onnx-rec-fp16"):
        assert by_name[name]["status"] == "ok", (name, by_name[name].get("reason"))
        assert by_name[name]["summary"]["samples"] == 3
    gpu = _has_cuda()
    for name, d in by_name.items():
        if not gpu and (name.endswith("-cuda") or name.endswith("-trt")):
            # never a silent CPU fallback presented as a GPU/TensorRT row
            assert d["status"] == "unavailable", (name, d["status"])
    for d in docs:
        if d["status"] == "unavailable":
            assert d["reason"] and "\n" not in d["reason"]
            assert "unavailable: " in proc.stdout
    assert "| engine" in proc.stdout and "Reference: the paper" in proc.stdout
    assert os.path.isdir(str(tmp_path))
