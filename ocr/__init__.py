"""The OCR library of the Jetson Nano OCR kit: datasets, preprocessing, engines, post-processing,
metrics. Python 3.6-compatible (the Nano's system Python)."""
import os

__version__ = "0.1.0"
# The folder holding ocr/ and bench/: the checkout (versions.yml, docker/, tests/ beside them), or
# site-packages when the kit is installed from its wheel. Defined here only; everyone imports it.
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# The library's shipped data (models table, formats, the default set, the code reader's model).
DATA = os.path.join(ROOT, "ocr", "data")


def user_cache(env, name):
    """A cache folder outside the checkout: $env if set, else ~/.cache/nano-ocr-kit/<name>."""
    return os.environ.get(env) or os.path.join(os.path.expanduser("~"), ".cache", "nano-ocr-kit", name)
