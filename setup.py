"""Builds the compiled decoder (ocr/_decode.c) with the kit when a compiler is there; optional: an
install without one runs the same decoding in pure Python (ocr/compiled.py). Metadata lives in
pyproject.toml. KIT_PURE_WHEEL=1 leaves it out: the wheel for a Nano is pure (any Python, the C
source inside) and the `kit` role compiles it there (python -m ocr.build_ext)."""
import importlib.util
import os

from setuptools import Extension, setup

_spec = importlib.util.spec_from_file_location("_kit_build_ext", os.path.join("ocr", "build_ext.py"))
_flags = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_flags)

ext_modules = [] if os.environ.get("KIT_PURE_WHEEL") else [
    Extension("ocr._decode", ["ocr/_decode.c"], extra_compile_args=_flags.CFLAGS, optional=True)]
setup(ext_modules=ext_modules)
