"""Static checks as tests: ruff over the tree; Python 3.6 compatibility of everything that runs on
the Nano (ocr/, bench/, images/, tasks.py) with vermin -t=3.6- and with the 3.6 grammar (vermin misses some
constructs, ast with feature_version=(3, 6) catches syntax it cannot type)."""
import ast
import glob
import os
import subprocess
import sys

import pytest

from tests.conftest import ROOT

NANO_CODE = ["ocr", "bench", "images", "tasks.py"]


def nano_files():
    files = []
    for entry in NANO_CODE:
        path = os.path.join(ROOT, entry)
        files += sorted(glob.glob(os.path.join(path, "**", "*.py"), recursive=True)) if os.path.isdir(path) else [path]
    return files


def _tool(name):
    exe = os.path.join(os.path.dirname(sys.executable), name)
    if not os.path.exists(exe):
        pytest.fail("{} is not installed in this venv (pip install -e .[dev])".format(name))
    return exe


def test_ruff_clean():
    proc = subprocess.run([_tool("ruff"), "check", "--no-cache", ROOT], stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, universal_newlines=True)
    assert proc.returncode == 0, proc.stdout


def test_vermin_python36():
    proc = subprocess.run([_tool("vermin"), "-t=3.6-", "--violations", "--no-tips", "--eval-annotations"]
                          + nano_files(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          universal_newlines=True, cwd=ROOT)
    assert proc.returncode == 0, proc.stdout


@pytest.mark.parametrize("path", nano_files(), ids=lambda p: os.path.relpath(p, ROOT))
def test_python36_grammar(path):
    with open(path, encoding="utf-8") as f:
        src = f.read()
    ast.parse(src, filename=path, feature_version=(3, 6))
    assert "from __future__ import annotations" not in src
