"""Pixel rules of the difference engine on tiny, hand-built, non-square cases."""

import numpy as np
import pytest

from diffview.core import (
    AREA_TOLERANCE,
    difference_arrays,
    difference_on_grid,
    overlap_box,
)
from diffview.errors import PairError


def ones(shape=(3, 5)):
    return np.ones(shape)


# ---------------------------------------------------------------- values


def test_unequal_areas_use_the_area_weighted_formula():
    v, a, keep = difference_arrays([[3.0]], [[0.3]], [[1.0]], [[1.0]])
    assert v[0, 0] == pytest.approx(2 * (3 * 0.3 - 1 * 1) / 1.3, rel=1e-15)
    assert v[0, 0] == pytest.approx(-0.153846, abs=1e-6)
    assert a[0, 0] == pytest.approx(1.3)
    assert keep.all()


def test_equal_areas_give_plain_difference_and_summed_area():
    v1 = np.arange(15.0).reshape(3, 5)
    v, a, keep = difference_arrays(v1, 2 * ones(), ones(), 2 * ones())
    np.testing.assert_array_equal(v, v1 - 1)
    np.testing.assert_array_equal(a, 4.0)


def test_factor_scales_the_minus_image_and_zero_means_one():
    v, _, _ = difference_arrays(5 * ones(), ones(), 2 * ones(), ones(), factor=2)
    np.testing.assert_array_equal(v, 1.0)
    v0, _, _ = difference_arrays(5 * ones(), ones(), 2 * ones(), ones(), factor=0)
    np.testing.assert_array_equal(v0, 3.0)


def test_nan_and_inf_pixels_and_nonpositive_areas_are_blank():
    v1, v2 = ones(), ones()
    v1[0, 0], v1[0, 1], v2[1, 1] = np.nan, np.inf, -np.inf
    a1 = ones()
    a1[2, 4] = 0.0
    a2 = ones()
    a2[2, 3] = -1.0
    v, a, keep = difference_arrays(v1, a1, v2, a2)
    blank = [(0, 0), (0, 1), (1, 1), (2, 4), (2, 3)]
    for j, i in blank:
        assert np.isnan(v[j, i]) and a[j, i] == 0 and not keep[j, i]
    assert keep.sum() == 15 - len(blank)


# ---------------------------------------------------------- area filter


def test_area_filter_drops_pixels_off_by_more_than_a_third():
    a1 = ones((2, 7))
    a1[0, 0] = 0.2   # A = 1.2, mean(a1) ~ 0.886 + mean(a2) 1 -> |A-1.886|/1.886 = 0.36
    a1[1, 6] = 0.5   # A = 1.5 -> 0.2 off: kept
    v, a, keep = difference_arrays(ones((2, 7)), a1, ones((2, 7)), ones((2, 7)))
    amax = a1.mean() + 1.0
    assert abs(1.2 - amax) / amax > AREA_TOLERANCE
    assert abs(1.5 - amax) / amax <= AREA_TOLERANCE
    assert not keep[0, 0] and keep[1, 6]
    assert keep.sum() == 13


def test_area_mean_of_image_one_uses_all_its_valid_pixels():
    # Image 2 is blank where image 1 has small areas; those pixels still
    # lower mean(a1) (Montage's definition), which keeps the last pixel.
    a1 = np.array([[0.1, 0.1, 0.1, 1.0]])
    v2 = np.array([[np.nan, np.nan, np.nan, 1.0]])
    _, _, keep = difference_arrays(np.ones((1, 4)), a1, v2, np.ones((1, 4)))
    # amax = 0.325 + 1 = 1.325; A = 2 -> 0.51 off: dropped.
    assert keep.tolist() == [[False, False, False, False]]
    a1b = np.array([[1.0, 1.0, 1.0, 1.0]])
    _, _, keep_b = difference_arrays(np.ones((1, 4)), a1b, v2, np.ones((1, 4)))
    assert keep_b.tolist() == [[False, False, False, True]]


def test_nan_area_disables_the_filter_like_montage():
    a1 = ones((2, 4))
    a1[0, 0] = np.nan
    a1[1, 3] = 0.05          # would be dropped by the filter
    _, a, keep = difference_arrays(ones((2, 4)), a1, ones((2, 4)), ones((2, 4)))
    assert not keep[0, 0] and a[0, 0] == 0   # the NaN-area pixel itself
    assert keep[1, 3]                          # filter off for the pair


# ---------------------------------------------------------- geometry


def test_crop_and_crpix_follow_the_valid_pixels():
    d1 = np.full((6, 8), 5.0)
    d1[:2, :] = np.nan          # first two rows blank in image 1
    d2 = np.full((6, 8), 1.0)
    d = difference_on_grid((d1, (11.0, 4.0)), (d2, (8.0, 4.0)), (10, 20), (15.0, 7.0))
    # offsets: image 1 at (4, 3), image 2 at (7, 3) -> box cols 7..12, rows 3..9
    assert d.bounds == ((5, 9), (7, 12))
    assert d.shape == (4, 5)
    assert d.crpix == (15.0 - 7, 7.0 - 5)
    np.testing.assert_array_equal(d.array, 4.0)
    np.testing.assert_array_equal(d.area, 2.0)


def test_non_integer_crpix_offsets_truncate_toward_zero():
    tmpl = ((8, 12), (6.0, 4.0))
    one = (np.ones((8, 12)), (6.0, 4.0))
    two = (np.full((3, 3), 0.5), (3.5, 1.5))   # offsets 2.5 -> 2, 2.5 -> 2
    d = difference_on_grid(one, two, *tmpl)
    assert d.bounds == ((2, 5), (2, 5))
    neg = (np.full((3, 3), 0.5), (8.5, 6.5))   # offsets -2.5 -> -2
    d2 = difference_on_grid(one, neg, *tmpl)
    assert d2.bounds == ((0, 1), (0, 1))


def test_one_pixel_overlap():
    d = difference_on_grid((np.full((3, 4), 2.0), (1.0, 1.0)),
                   (np.full((5, 2), 1.5), (-2.0, -1.0)), (9, 9), (1.0, 1.0))
    assert d.shape == (1, 1) and d.bounds == ((2, 3), (3, 4))
    assert d.array[0, 0] == 0.5 and d.crpix == (-2.0, -1.0)


def test_touching_images_do_not_overlap():
    with pytest.raises(PairError, match="Images don't overlap"):
        difference_on_grid((ones((3, 4)), (1.0, 1.0)), (ones((3, 4)), (-3.0, 1.0)),
                   (3, 10), (1.0, 1.0))


def test_all_blank_overlap_is_a_pair_error():
    nan = np.full((3, 4), np.nan)
    with pytest.raises(PairError, match="All pixels are blank."):
        difference_on_grid((nan, (1.0, 1.0)), (ones((3, 4)), (1.0, 1.0)), (3, 4),
                           (1.0, 1.0))


def test_last_template_column_and_row_are_differenced_only_with_full_edges():
    one = (ones((4, 6)), (1.0, 1.0))
    two = (ones((4, 6)) * 0.25, (1.0, 1.0))
    montage = difference_on_grid(one, two, (4, 6), (1.0, 1.0))
    assert montage.shape == (3, 5) and montage.crpix == (1.0, 1.0)
    fixed = difference_on_grid(one, two, (4, 6), (1.0, 1.0), full_edges=True)
    assert fixed.shape == (4, 6)
    # a pair overlapping only on the last column fails, as in Montage
    last = ((ones((4, 1)), (-4.0, 1.0)), (ones((4, 2)), (-3.0, 1.0)))
    with pytest.raises(PairError, match="overlap"):
        difference_on_grid(*last, (4, 6), (1.0, 1.0))
    assert difference_on_grid(*last, (4, 6), (1.0, 1.0), full_edges=True).shape == (
        4, 1)
    # diffview 0.2's keyword, for one release
    with pytest.warns(DeprecationWarning, match="montage_edges"):
        old = difference_on_grid(one, two, (4, 6), (1.0, 1.0), montage_edges=False)
    assert old.shape == (4, 6)
    with pytest.warns(DeprecationWarning, match="montage_edges"):
        assert overlap_box((4, 6), (0, 0), (4, 6), (0, 0), (4, 6),
                           montage_edges=True) == ((0, 3), (0, 5))


def test_no_areas_gives_v1_minus_v2_and_area_two():
    d = difference_on_grid((np.full((2, 3), 4.0), 0.5 * ones((2, 3)), (1.0, 1.0)),
                   (np.full((2, 3), 1.0), 3.0 * ones((2, 3)), (1.0, 1.0)),
                   (2, 3), (1.0, 1.0), no_areas=True)
    np.testing.assert_array_equal(d.array, 3.0)
    np.testing.assert_array_equal(d.area, 2.0)


def test_stats_report_absolute_diff_extremes():
    d = difference_on_grid((np.array([[1.0, 3.0, 0.0]]), (1.0, 1.0)),
                   (np.array([[1.5, 1.0, 0.0]]), (1.0, 1.0)), (2, 4), (1.0, 1.0))
    assert d.stats["min_diff"] == 0.0 and d.stats["max_diff"] == 2.0
    assert d.stats["min_pixel"] == 0.0 and d.stats["max_pixel"] == 3.0
    assert d.array.dtype == np.float64


def test_read_only_strided_and_float32_inputs_give_the_same_difference():
    rng = np.random.default_rng(3)
    v1, v2 = rng.normal(size=(5, 7)), rng.normal(size=(5, 7))
    a1, a2 = rng.uniform(0.8, 1.2, (5, 7)), rng.uniform(0.8, 1.2, (5, 7))
    ref, ref_area, _ = difference_arrays(v1, a1, v2, a2)
    frozen = v1.copy()
    frozen.flags.writeable = False
    wide = np.zeros((5, 14))
    wide[:, 1::2] = a2
    v, a, keep = difference_arrays(frozen, a1.T.copy().T, v2, wide[:, 1::2])
    np.testing.assert_array_equal(v, ref)
    np.testing.assert_array_equal(a, ref_area)
    assert keep.all() and frozen.flags.writeable is False
    v32, _, _ = difference_arrays(v1.astype(np.float32), a1, v2, a2)
    np.testing.assert_allclose(v32, ref, rtol=1e-6, atol=1e-6)
