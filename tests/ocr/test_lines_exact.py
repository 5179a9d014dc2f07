"""The splitter's fast paths (ocr/lines.py) against the frozen pre-change splitter
(tests/ocr/reference.py) on synthetic edge cases: tiny, blank and speck-only crops, one line,
tilted lines, even and odd widths (shears whose column shifts hit exact halves), light-on-dark
ink, masks big enough for the column-run profiles and the counted percentile. The same line
images bit for bit; the parts (ink thresholds, percentile ranks, sheared profiles, busy row,
valley cuts, row runs) on purpose-built inputs that reach their rarely taken branches.
test_replay.py checks the same on every crop of the default set and realdev."""
import cv2
import numpy as np
import pytest

from ocr import layout, lines
from tests.ocr import reference


def _print(h, w, rows, tilt=0.0, ink=40, paper=215, scale=0.8, thick=2):
    """A crop of text lines at the given baselines, sheared by `tilt` rows per column."""
    img = np.full((h, w), paper, np.uint8)
    for k, y in enumerate(rows):
        cv2.putText(img, "LOT 4839 EXP 05/26 "[k % 3:] * 6, (4, y), cv2.FONT_HERSHEY_SIMPLEX, scale, ink, thick,
                    cv2.LINE_AA)
    if tilt:
        m = np.float32([[1, 0, 0], [tilt, 1, -tilt * w / 2.0]])
        img = cv2.warpAffine(img, m, (w, h), borderMode=cv2.BORDER_REPLICATE, flags=cv2.INTER_LINEAR)
    noise = np.random.default_rng(h * w).integers(-6, 7, img.shape)
    return np.clip(img.astype(np.int16) + noise, 0, 255).astype(np.uint8)


def _specks(h, w):
    img = np.full((h, w), 200, np.uint8)
    img[::7, ::9] = 20  # single dark pixels: ink, but none survives the 2x2 opening
    return img


CASES = {
    "too short": _print(11, 80, [9]),
    "tiny": _print(12, 30, [10], scale=0.3, thick=1),
    "taller than wide": _print(60, 64, [20, 50]),
    "blank": np.full((40, 160), 128, np.uint8),
    "specks only": _specks(40, 200),
    "one line, even width": _print(36, 300, [26]),
    "one line, odd width": _print(36, 301, [26]),
    "two lines, even width": _print(70, 300, [28, 60]),
    "two lines, odd width": _print(71, 301, [28, 60]),
    "three tilted lines, even width": _print(120, 420, [34, 72, 110], tilt=0.07, scale=1.2, thick=3),
    "three tilted lines, odd width": _print(121, 421, [34, 72, 110], tilt=-0.1, scale=1.2, thick=3),
    "lines touching": _print(64, 260, [28, 50], scale=0.9),
    "light on dark": _print(70, 300, [28, 60], ink=230, paper=30),
    "colour": cv2.cvtColor(_print(70, 301, [28, 60]), cv2.COLOR_GRAY2BGR),
    "big and tilted": _print(270, 1400, [75, 160, 245], tilt=0.05, scale=2.6, thick=6),
}


@pytest.fixture(scope="module")
def old_and_new():
    """{case: (frozen split, shipped split)}."""
    new = {name: lines.split(img) for name, img in CASES.items()}
    with pytest.MonkeyPatch.context() as mp:
        reference.old_paths(mp)
        old = {name: lines.split(img) for name, img in CASES.items()}
    return {name: (old[name], new[name]) for name in CASES}


@pytest.mark.parametrize("name", sorted(CASES))
def test_the_same_line_images_as_the_frozen_splitter(name, old_and_new):
    old, new = old_and_new[name]
    assert [p.shape for p in old] == [p.shape for p in new]
    assert all(np.array_equal(a, b) for a, b in zip(old, new))


def test_the_cases_reach_the_fast_paths(old_and_new):
    counts = [len(old_and_new[name][1]) for name in ("one line, odd width", "two lines, odd width",
                                                      "three tilted lines, even width", "big and tilted")]
    assert counts == [1, 2, 3, 3]  # single and multi-line crops
    for name in ("two lines, odd width", "three tilted lines, even width", "three tilted lines, odd width",
                 "big and tilted"):
        parts, tilted = old_and_new[name][1], "tilted" in name
        assert all(np.shares_memory(p, CASES[name]) != tilted for p in parts)  # cut straightened or as it was
    big = CASES["big and tilted"]
    assert big.size >= lines.COUNT_FROM_PIXELS  # its percentile is counted, not read off a histogram
    levels = lines._ink_levels(big)
    assert cv2.countNonZero(lines._at_least(levels, lines._ink_from(levels)[0])) >= lines.RUNS_FROM_INK
    for w, sheared in ((300, [0.03, 0.06, 0.09]), (301, [0.12])):  # columns whose shift is a half
        shift = lines.SHEARS[:, None] * (np.arange(w) - w / 2.0)[None, :]
        half = np.abs(shift - np.floor(shift) - 0.5) <= 1e-9
        assert sorted({round(abs(s), 2) for s in lines.SHEARS[half.any(axis=1)]}) == sheared


@pytest.mark.parametrize("name", sorted(CASES))
def test_the_ink_map_and_masks_are_bit_identical(name):
    img = CASES[name]
    gray = img if img.ndim == 2 else cv2.cvtColor(img, cv2.COLOR_BGR2GRAY)
    old, levels = reference.ink_map(gray), lines._ink_levels(gray)
    assert np.array_equal(old, lines.ink_map(gray)) and old.dtype == lines.ink_map(gray).dtype
    for level, value in zip(lines._ink_from(levels), (lines.MASK_INK, lines.STROKE_INK)):
        assert np.array_equal(lines._at_least(levels, level), (old > value).astype(np.uint8))


def _levels_hitting_a_threshold():
    """51 levels: numpy's index 0.99 * 50 = 49.5 falls halfway between ranks holding 19 and 21, so
    the percentile is 20, and levels 7 and 10 sit on MASK_INK and STROKE_INK (7 / 20, 10 / 20),
    where only the percentile's last bits decide."""
    return np.array([7] * 24 + [10] * 25 + [19, 21], np.uint8).reshape(1, 51)


def _level_cases():
    rng = np.random.default_rng(5)
    yield _levels_hitting_a_threshold()
    yield np.full((1, 1), 90, np.uint8)
    yield np.array([[3, 200]], np.uint8)
    yield np.zeros((20, 30), np.uint8)
    yield np.full((20, 30), 255, np.uint8)
    yield np.array([[0] * 99 + [10]], np.uint8)  # the percentile between 0 and 10
    yield np.array([[0] * 989 + [40] * 11], np.uint8)  # an even level at both ranks: 20 / 40 = STROKE_INK
    for n in (2, 3, 57, 100, 101, 4321, 25000):
        yield rng.integers(0, 256, (1, n)).astype(np.uint8)
        yield (rng.random((1, n)) ** 8 * 255).astype(np.uint8)  # mostly faint, a few strong


def _float_ink(levels):
    """ink_map's last step as the frozen splitter takes it, on given levels."""
    ink = levels.astype(np.float32)
    top = np.percentile(ink, 99) or 1.0
    return np.minimum(ink / top, 1)


def test_the_constructed_levels_are_decided_by_the_percentiles_last_bits():
    a, b, g = lines._ranks_99(_levels_hitting_a_threshold())
    top = a + (b - a) * g
    assert (a, b, top) == (19, 21, 20)
    low, high = lines._tables(top * (1 - 1e-6)), lines._tables(top * (1 + 1e-6))
    assert low[1] != high[1] and low[2] != high[2]  # numpy's own percentile decides


@pytest.mark.parametrize("levels", list(_level_cases()), ids=lambda lv: "n{}".format(lv.size))
def test_ink_thresholds_and_percentile_ranks_are_exact(levels):
    ink = _float_ink(levels)
    for level, value in zip(lines._ink_from(levels), (lines.MASK_INK, lines.STROKE_INK)):
        assert np.array_equal(lines._at_least(levels, level), (ink > value).astype(np.uint8))
    ranked = np.sort(levels.ravel())
    k = int(0.99 * (levels.size - 1))
    for by_counts in (False, True):
        a, b, _ = lines._ranks_99(levels, by_counts)
        assert (a, b) == (ranked[k], ranked[min(k + 1, levels.size - 1)])


@pytest.mark.parametrize("w", [1, 2, 3, 50, 51, 300, 301])
@pytest.mark.parametrize("h", [1, 6, 41])
def test_sheared_profiles_are_bit_identical_both_ways(h, w):
    rng = np.random.default_rng(h * 1000 + w)
    for density in (0.0, 0.05, 0.5, 1.0):
        mask = (rng.random((h, w)) < density).astype(np.uint8)
        ys, xs = np.nonzero(mask)
        for shears in (lines.SHEARS, np.array([0.25, -0.5, 0.1 / 3, 0.0])):  # 0.25, -0.5 hit halves
            old = reference._profiles_all(ys, xs, h, w, shears)
            for by_runs in (False, True):
                assert np.array_equal(old, lines._profiles(mask, shears, by_runs)), (density, by_runs)


def _profile_cases():
    rng = np.random.default_rng(11)
    yield np.zeros(30, np.float32)
    yield np.array([5, 1, 5, 5, 1, 5], np.float32)  # depth 1 / 5: float32(0.2), the limit itself
    yield np.array([0, 0, 4, 4, 0, 4, 4, 0, 0], np.float32)  # equal depths: the first is cut
    yield np.array([3, 3, 0.3, 3, 3, 0.45, 3, 3], np.float32)  # a row at VALLEY_INK of the busy one
    for n in (12, 40, 200):
        for _ in range(20):
            p = rng.integers(0, 9, n).astype(np.float32)
            yield cv2.blur(p.reshape(-1, 1), (1, 3)).ravel()


@pytest.mark.parametrize("profile", list(_profile_cases()))
def test_bands_busy_rows_and_valleys_are_exact(profile):
    h = len(profile)
    for least in (0.5, 1, 2.5):
        for most in (0.0, 0.5, 1.0, float(np.float32(0.45))):
            assert lines._cut_valleys(profile, 0, h, least, most) == reference._cut_valleys(profile, 0, h, least, most)
    for min_line in (1, 3):
        with pytest.MonkeyPatch.context() as mp:
            reference.old_paths(mp)  # its row runs and valley cuts too
            old = reference._bands(profile, h, 2, min_line)
        assert lines._bands(profile, h, 2, min_line) == old


def test_row_runs_are_the_same():
    rng = np.random.default_rng(3)
    for _ in range(300):
        rows = rng.random(rng.integers(0, 50)) < rng.random()
        for gap in (0, 1, 3):
            assert layout.row_runs(rows, gap) == reference.row_runs(rows, gap)
            assert layout.row_runs(rows.tolist(), gap) == reference.row_runs(rows, gap)


def test_a_non_8_bit_crop_is_refused_in_one_line():
    with pytest.raises(ValueError, match="needs an 8-bit image, got float32"):
        lines.split(np.zeros((40, 200), np.float32))
