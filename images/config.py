"""Each image's facts, kept beside its Dockerfile in docker/<image>/config.yml (as jetson-containers
keeps a config per package), and the build arguments made from them and versions.yml: base tags,
pins, wheel URLs and sums reach a Dockerfile only as build args, so nothing is typed twice.
"""
import os

import yaml

from bench import versions
from ocr import ROOT

DOCKER_DIR = os.path.join(ROOT, "docker")
# config.yml's keys: `base` (a key of versions.yml's base_images), `gpu` (runs with the nvidia
# runtime on a Jetson), `extras` (the kit's extras it installs), `build_args` (dotted paths of
# versions.yml entries; arg name = path upper-cased, dots as underscores).
KEYS = ("base", "gpu", "extras", "build_args")
# Build args that are switches, not versions: defaults here, set by task options.
SWITCHES = {"KIT_TEST_MODE": "0", "KIT_ALLOW_UNPINNED": "0", "KIT_EXTRAS": None,
            "KIT_GIT_COMMIT": "unknown"}


class DockerProblem(Exception):
    """Something the user must fix; the message is one line saying what to do."""


def names():
    """The images: every docker/<image>/ with a config.yml."""
    if not os.path.isdir(DOCKER_DIR):
        return []
    return sorted(d for d in os.listdir(DOCKER_DIR) if os.path.isfile(os.path.join(DOCKER_DIR, d, "config.yml")))


def load(image):
    """docker/<image>/config.yml, checked: a missing or extra key is one line naming the file."""
    path = os.path.join(DOCKER_DIR, image, "config.yml")
    with open(path) as f:
        spec = yaml.safe_load(f) or {}
    if not isinstance(spec, dict) or set(spec) != set(KEYS):
        raise DockerProblem("{}: want exactly the keys {}".format(os.path.relpath(path, ROOT), ", ".join(KEYS)))
    return spec


def pick_images(image=None, all_images=False):
    found = names()
    if not found:
        raise DockerProblem("no docker/<image>/config.yml under {}: image builds run from the kit's "
                            "checkout".format(ROOT))
    if all_images:
        return found
    if image in found:
        return [image]
    raise DockerProblem("pick an image with --image ({}) or --all".format(", ".join(found)))


def arg_name(path):
    return path.replace(".", "_").upper()


def build_args(image, table, key, test_mode=False, allow_unpinned=False, extras=None):
    """Every build arg of an image's Dockerfile, from its config, the table and the switches."""
    spec = load(image)
    entry = table["l4t"][key]
    args = {"BASE_IMAGE": versions.lookup(entry, "base_images." + spec["base"])}
    for path in spec["build_args"]:
        args[arg_name(path)] = versions.lookup(entry, path)
    args.update({"KIT_TEST_MODE": "1" if test_mode else "0",
                 "KIT_ALLOW_UNPINNED": "1" if allow_unpinned else "0",
                 "KIT_EXTRAS": spec["extras"] if extras is None else extras,
                 "KIT_GIT_COMMIT": git_commit()})
    return args


def git_commit():
    """The checkout's commit (+"-dirty"), labelled on the image so results made in it can name it."""
    from bench.results import git_describe
    state = git_describe()
    if not state["commit"]:
        return "unknown"
    return state["commit"] + ("-dirty" if state["dirty"] else "")


def kit_version():
    from ocr import __version__
    return __version__


def tag(image, key):
    return "kit-{}:{}-r{}".format(image, kit_version(), key)
