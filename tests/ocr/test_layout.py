"""Line splitting by projection profile, and reading order."""
import cv2
import numpy as np

from ocr import layout


def _text_image(lines, h_line=30, w=220, light=False):
    img = np.full((h_line * len(lines) + 10, w), 235, np.uint8)
    for i, text in enumerate(lines):
        cv2.putText(img, text, (6, 5 + h_line * i + 22), cv2.FONT_HERSHEY_SIMPLEX, 0.75, 20, 2)
    return 255 - img if light else img


def test_single_line_stays_whole():
    img = _text_image(["EXP 2025.05.02"])
    assert layout.split_lines(img) == [(0, img.shape[0])]


def test_three_lines_split_in_order():
    for light in (False, True):
        img = _text_image(["PRO:08/2022", "L2215029520", "H02:05"], light=light)
        bands = layout.split_lines(img)
        assert len(bands) == 3
        assert all(a[1] <= b[1] and a[0] < b[0] for a, b in zip(bands, bands[1:]))


def test_reading_order_groups_lines_left_to_right():
    pieces = [(100, 40, 160, 60, "B2", 0.9), (0, 0, 50, 20, "A1", 0.9), (0, 42, 80, 61, "B1", 0.8),
              (60, 2, 120, 19, "A2", 0.7)]
    lines = layout.reading_order(pieces)
    assert [[p[4] for p in line] for line in lines] == [["A1", "A2"], ["B1", "B2"]]
    assert layout.join_pieces(lines) == "A1 A2 B1 B2"
    assert layout.join_pieces(lines, line_join="") == "A1 A2B1 B2"
