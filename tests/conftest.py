"""Shared test helpers.

Tiers that need a service (a container engine, the simulated Nano) skip on a developer machine
without it, but FAIL under CI (KIT_CI=1), where .ci/run must have started them: a green CI must
never hide a tier that silently did not run.
"""
import os
import sys

import pytest

_CHECKOUT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # importable before `ocr` is
if _CHECKOUT not in sys.path:
    sys.path.insert(0, _CHECKOUT)

from ocr import ROOT  # noqa: E402  (the one definition; tests import it from here or from ocr)

SHARED = os.path.join(os.path.dirname(ROOT), "shared")
REALDEV = os.path.join(SHARED, "realdev", "labels.jsonl")


def require_tier(name, ok, why=""):
    """Skip (dev machine) or fail (CI) when a tier's prerequisite is missing."""
    if ok:
        return
    msg = "tier '{}' unavailable: {}".format(name, why)
    if os.environ.get("KIT_CI"):
        pytest.fail(msg + " (CI must provide it: see .ci/services.d)")
    pytest.skip(msg)


@pytest.fixture
def realdev_manifest():
    if not os.path.isfile(REALDEV):
        pytest.skip("../shared/realdev not present")
    return REALDEV
