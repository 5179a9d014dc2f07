"""Line splitting for the code reader: clear multi-line prints split into their lines, single
lines (dot-matrix included) stay whole, tilted prints are straightened first."""
import cv2
import numpy as np
import pytest

from ocr import lines, synth


def bgr(img):
    return np.ascontiguousarray(img[:, :, ::-1])


@pytest.mark.parametrize("style", ["solid", "dotmatrix", "thermal"])
def test_two_line_code_splits_in_two(style):
    _, img, _ = synth.make_sample(21, 4, style=style, lines=["EXP 05/2026", "LOT 483920"])
    parts = lines.split(bgr(img))
    assert len(parts) == 2
    assert all(p.shape[1] == img.shape[1] and p.shape[0] < img.shape[0] for p in parts)


@pytest.mark.parametrize("style", ["solid", "dotmatrix", "condensed"])
def test_single_line_stays_whole(style):
    _, img, _ = synth.make_sample(21, 5, style=style, lines=["BEST BEFORE 04/03/2023"])
    parts = lines.split(bgr(img))
    assert len(parts) == 1 and parts[0].shape == img.shape


def test_blank_and_tiny_crops_are_returned_whole():
    blank = np.full((40, 160, 3), 128, np.uint8)
    assert len(lines.split(blank)) == 1
    assert len(lines.split(np.zeros((8, 30), np.uint8))) == 1


def test_tilted_lines_are_found_after_straightening():
    h, w = 90, 300
    img = np.full((h, w), 235, np.uint8)
    for y0 in (15, 55):  # two bars of 'ink', tilted by ~5 degrees
        for x in range(20, 280):
            y = int(y0 + 0.09 * (x - w / 2.0))
            img[max(0, y):y + 16, x] = 30
    assert len(lines.split(img)) == 2
    assert lines.deskew_shear((img < 128).astype(np.uint8)) == pytest.approx(0.09, abs=0.035)


def test_light_on_dark_ink_is_detected():
    img = np.full((30, 100), 20, np.uint8)
    img[8:22, 10:90:6] = 230  # thin light strokes, like characters
    img[8:22, 11:90:6] = 230
    ink = lines.ink_map(img)
    assert ink[15, 10] > 0.5 and ink[15, 13] < 0.2 and ink[2, 50] < 0.2


def _thin_line(stroke_ink):
    """A small crop of box-like glyphs: heavy horizontal bars, 1-px vertical strokes a little
    lighter (a thin font): the speck filter erases the verticals, leaving only the bars."""
    img = np.full((36, 130), 205, np.uint8)
    for x in range(6, 120, 14):
        img[5:11, x:x + 9] = 60
        img[25:31, x:x + 9] = 60
        img[11:25, x] = img[11:25, x + 8] = stroke_ink
    return img


def test_thin_strokes_crossing_the_gap_keep_one_line():
    assert len(lines.split(_thin_line(110))) == 1
    # the same bars with nothing between them are two printed lines
    assert len(lines.split(_thin_line(205))) == 2


def test_lines_one_empty_row_apart_are_cut_at_the_valley():
    img = np.full((64, 220), 225, np.uint8)
    cv2.putText(img, "EXP 05/2026", (6, 28), cv2.FONT_HERSHEY_SIMPLEX, 0.85, 40, 2, cv2.LINE_AA)
    cv2.putText(img, "LOT 483920", (6, 48), cv2.FONT_HERSHEY_SIMPLEX, 0.85, 40, 2, cv2.LINE_AA)
    empty = [y for y in range(64) if not (img[y] < 128).any()]
    gap = [y for y in empty if 10 < y < 40]
    assert len(gap) == 1  # the lines are one empty row apart: no run of empty rows to find
    top, bottom = lines.split(img)
    start = [y for y in range(64) if np.array_equal(img[y:y + len(top)], top)][0]
    assert abs(start + len(top) - gap[0]) <= 1  # cut at the gap, give or take the profile's blur
