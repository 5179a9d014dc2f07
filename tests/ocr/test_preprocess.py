"""Preprocessing steps and pipelines on real arrays."""
import numpy as np
import pytest

from ocr.preprocess import Pipeline, is_light_on_dark


def _crop(light_on_dark=False, h=40, w=160):
    img = np.full((h, w, 3), 220, np.uint8)
    img[12:28, 20:140] = 30  # a dark bar standing in for ink
    return 255 - img if light_on_dark else img


def test_gray_and_crop_to_box():
    out = Pipeline("gray")(_crop(), box=[10, 5, 110, 35])
    assert out.shape == (30, 100) and out.dtype == np.uint8


def test_resize_keeps_aspect_and_pad():
    out = Pipeline("gray+resize:48+pad:4")(_crop())
    assert out.shape == (48 + 8, 192 + 8)


def test_invert_only_light_on_dark():
    dark_text = Pipeline("gray")(_crop())
    light_text = Pipeline("gray")(_crop(light_on_dark=True))
    assert not is_light_on_dark(dark_text) and is_light_on_dark(light_text)
    assert np.array_equal(Pipeline("gray+invert")(_crop(light_on_dark=True)), dark_text)
    assert np.array_equal(Pipeline("gray+invert")(_crop()), dark_text)


def test_binarisation_is_binary():
    for spec in ("gray+otsu", "gray+clahe+adaptive:15"):
        out = Pipeline(spec)(_crop())
        assert set(np.unique(out)) <= {0, 255}


def test_clahe_on_colour_keeps_shape():
    assert Pipeline("clahe")(_crop()).shape == (40, 160, 3)


def test_none_is_identity_and_unknown_step_is_named():
    img = _crop()
    assert np.array_equal(Pipeline("none")(img), img)
    with pytest.raises(ValueError, match="unknown preprocessing step 'sharpen'"):
        Pipeline("gray+sharpen")
