"""The versions table (versions.yml at the kit's root), keyed by L4T release: read by the Ansible
roles, the image builds (images/, as build args) and `invoke sanity` (the pins it checks).
Python 3.6-compatible: this runs on the Nano's system Python.
"""
import os
import sys

import yaml

from bench import jetson
from ocr import ROOT


def table_path(root=ROOT, prefix=sys.prefix):
    """The checkout's versions.yml, else the copy the wheel installed under <prefix>/share."""
    checkout = os.path.join(root, "versions.yml")
    installed = os.path.join(prefix, "share", "nano-ocr-kit", "versions.yml")
    return installed if not os.path.isfile(checkout) and os.path.isfile(installed) else checkout


VERSIONS = table_path()
TEGRA_RELEASE = "/etc/nv_tegra_release"


class TableProblem(Exception):
    """The table lacks what was asked of it; the message is one line saying what to add."""


def load_table(path=None):
    with open(path or VERSIONS) as f:
        return yaml.safe_load(f)


def l4t_key(table, release=None):
    """The table key for this machine: L4T_VERSION, else /etc/nv_tegra_release, else the default."""
    release = release or os.environ.get("L4T_VERSION") or _tegra_release()
    if not release:
        return table["default_l4t"]
    for key, entry in table["l4t"].items():
        if release == key or release in entry.get("l4t_releases", ()):
            return key
    raise TableProblem("L4T {} is not in versions.yml (known: {}); add it there or set "
                       "L4T_VERSION".format(release, ", ".join(sorted(table["l4t"]))))


def _tegra_release():
    return jetson.parse_nv_tegra_release(jetson.read_file(TEGRA_RELEASE))


def on_jetson():
    return os.path.exists(TEGRA_RELEASE)


def lookup(entry, path):
    """The value at a dotted path of one L4T entry ("pins.numpy"), as a string ("" for null)."""
    node = entry
    for part in path.split("."):
        if not isinstance(node, dict) or part not in node:
            raise TableProblem("versions.yml has no '{}' for this L4T release; add it".format(path))
        node = node[part]
    return "" if node is None else str(node)
