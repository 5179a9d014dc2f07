"""The presence trigger: one read per passing item, re-armed by the gap between items; an item
that never covers the region is reported; slow light changes do not count as items."""
import numpy as np

from ocr.reader.trigger import FIRE, PASSED, PresenceTrigger

W = 80


def _region(left, right, level=60, item=200):
    """A 40 x W region of belt (grey `level`) with an item (grey `item`) over columns left..right."""
    img = np.full((40, W), level, np.uint8)
    img[:, max(0, left):max(0, min(W, right))] = item
    return img


def _run(trigger, frames):
    return [(i, e) for i, e in enumerate(trigger.update(f) for f in frames) if e]


def _pass(width, start, speed=4):
    """Frames of one item `width` wide moving right from x = start until it has left."""
    return [_region(x, x + width) for x in range(start, W + 1, speed)]


def test_one_read_per_item_even_when_items_follow_closely():
    t = PresenceTrigger()
    frames = [_region(0, 0)] * 3
    for x in range(-300, W + 1, 4):  # two items 120 wide, 30 px apart: the region never empties
        img = _region(x + 150, x + 270)
        img[:, max(0, x):max(0, min(W, x + 120))] = 200
        frames.append(img)
    events = _run(t, frames)
    assert [e for _, e in events] == [FIRE, FIRE] and t.items == 2


def test_an_item_too_small_to_cover_the_region_is_reported_not_lost():
    t = PresenceTrigger()
    events = _run(t, [_region(0, 0)] + _pass(40, -40))
    assert [e for _, e in events] == [PASSED] and t.items == 1


def test_slow_light_changes_are_not_items():
    t = PresenceTrigger()
    frames = [_region(0, 0, level=60 + k // 2) for k in range(200)]  # +100 grey levels, slowly
    assert _run(t, frames) == [] and t.items == 0


def test_settings_are_checked():
    import pytest
    with pytest.raises(ValueError, match="unknown trigger setting"):
        PresenceTrigger(speed=3)
