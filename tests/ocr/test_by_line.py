"""Reading crops line by line (ocr/engines/by_line.py): the named splitters, one read call over
every line of every crop, and each crop's reads given back in order."""
import numpy as np
import pytest

from ocr import layout, lines
from ocr.engines import by_line
from tests.helpers import render_code


@pytest.fixture(scope="module")
def two_lines():
    return render_code(["MFG 2024", "LOT 250508"])


def test_profile_cuts_bands_of_the_crop_and_sturdy_gives_each_line_its_image(two_lines):
    gray = two_lines if two_lines.ndim == 2 else two_lines.mean(axis=2).astype(np.uint8)
    profile = by_line.bands(two_lines, "profile")
    assert [(y0, y1) for _, y0, y1 in profile] == layout.split_lines(gray)
    assert all(image is two_lines for image, _, _ in profile)
    sturdy = by_line.bands(two_lines, "sturdy")
    assert [image.shape for image, _, _ in sturdy] == [part.shape for part in lines.split(two_lines)]
    assert all(y0 == 0 and y1 == image.shape[0] for image, y0, y1 in sturdy)
    assert len(profile) == len(sturdy) == 2


def test_line_images_follow_the_options(two_lines):
    assert len(by_line.line_images(two_lines, {"split_lines": True, "splitter": "profile"})) == 2
    assert by_line.line_images(two_lines, {"split_lines": False, "splitter": "profile"})[0] is two_lines
    with pytest.raises(ValueError, match="unknown splitter 'guess'"):
        by_line.line_images(two_lines, {"split_lines": True, "splitter": "guess"})


def test_all_lines_are_read_in_one_call_and_regrouped_per_crop():
    calls = []

    def read(items):
        calls.append(list(items))
        return [item.upper() for item in items]

    crops = ["ab", "", "cde"]  # a crop is split into its characters here; the empty one has none
    per_crop = by_line.read_by_lines(crops, list, read)
    assert calls == [list("abcde")]
    assert per_crop == [["A", "B"], [], ["C", "D", "E"]]
    assert by_line.read_by_lines([""], list, read) == [[]] and len(calls) == 1  # nothing to read: no call


def test_a_crops_prediction_joins_the_lines_that_read_something():
    pred = by_line.lines_prediction([("LOT 4711 ", 0.9), ("  ", 0.1), ("EXP", 0.7)])
    assert (pred.text, pred.lines, pred.confidence) == ("LOT 4711 EXP", ["LOT 4711", "EXP"], 0.7)
    empty = by_line.lines_prediction([("", 0.5)])
    assert (empty.text, empty.lines, empty.confidence) == ("", [], 0.0)
