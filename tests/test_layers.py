"""Imports run one way: a lower layer never imports a higher one, so each can be read, tested and
shipped without what sits above it (the Nano's reader needs ocr/, never bench/).

Layers, lowest first: ocr.errors; the rest of ocr (models, formats, ctc, postprocess, layout,
lines, metrics, dataset, ...); ocr.accel; ocr.engines; ocr.reader (a line's use of the engines);
bench; images (the container images) and train. Every import counts, at
module level or inside a function, relative or absolute.
"""
import ast
import glob
import os

import pytest

from tests.conftest import ROOT

LAYERS = [("ocr.errors", 0), ("ocr", 1), ("ocr.accel", 2), ("ocr.engines", 3), ("ocr.reader", 4),
          ("bench", 5), ("images", 6), ("train", 6)]
CHECKED = ["ocr", "bench", "images", "train"]

# (file, imported module): known violations another branch removes. Keep this list empty.
ALLOWED = set()


def layer(module):
    """The layer of a kit module (the longest matching prefix), or None for anything else."""
    best = None
    for prefix, rank in LAYERS:
        if (module == prefix or module.startswith(prefix + ".")) and (best is None or len(prefix) > len(best[0])):
            best = (prefix, rank)
    return best[1] if best else None


def module_name(rel_path):
    parts = rel_path[:-3].split("/")
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_modules(source, rel_path):
    """Every kit module `source` (the file at rel_path) imports: relative imports resolved, and
    `from package import name` counted as package.name when that is a module of its own."""
    package = module_name(rel_path).split(".")
    if not rel_path.endswith("__init__.py"):
        package = package[:-1]
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package[:len(package) - node.level + 1] if node.level else []
            target = ".".join(base + (node.module.split(".") if node.module else []))
            for alias in node.names:
                sub = target + "." + alias.name
                is_module = os.path.exists(os.path.join(ROOT, *sub.split("."))) or \
                    os.path.exists(os.path.join(ROOT, *sub.split(".")) + ".py")
                found.add(sub if is_module else target)
    return {m for m in found if layer(m) is not None}


def upward_imports(source, rel_path):
    """[(file, imported module)] where the file imports a higher layer than its own."""
    own = layer(module_name(rel_path))
    return sorted((rel_path, m) for m in imported_modules(source, rel_path) if layer(m) > own)


def kit_files():
    for top in CHECKED:
        for path in sorted(glob.glob(os.path.join(ROOT, top, "**", "*.py"), recursive=True)):
            yield os.path.relpath(path, ROOT).replace(os.sep, "/")


def test_no_layer_imports_a_higher_one():
    found = []
    for rel in kit_files():
        with open(os.path.join(ROOT, rel), encoding="utf-8") as f:
            found += upward_imports(f.read(), rel)
    assert [v for v in found if v not in ALLOWED] == []


@pytest.mark.parametrize("rel_path,source,expected", [
    ("ocr/accel/trt.py", "from ..engines.base import EngineUnavailable", [("ocr/accel/trt.py", "ocr.engines.base")]),
    ("ocr/models.py", "def f():\n    from .engines import registry", [("ocr/models.py", "ocr.engines.registry")]),
    ("ocr/ctc.py", "from . import accel", [("ocr/ctc.py", "ocr.accel")]),
    ("ocr/layout.py", "import bench.results", [("ocr/layout.py", "bench.results")]),
    ("bench/runner.py", "from train.codereader import evaluate", [("bench/runner.py", "train.codereader.evaluate")]),
    ("ocr/errors.py", "from . import models", [("ocr/errors.py", "ocr.models")]),
    ("ocr/engines/ppocr.py", "from .. import ctc, layout\nfrom ..accel import cache\nimport numpy", []),
    ("ocr/accel/guard.py", "from .. import metrics\nfrom ..errors import EngineUnavailable", []),
    ("bench/worker.py", "from ocr.engines import registry", []),
])
def test_the_check_sees_upward_imports_in_every_form(rel_path, source, expected):
    assert upward_imports(source, rel_path) == expected
