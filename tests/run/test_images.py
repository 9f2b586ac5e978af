"""The Python-object API: differences of arrays against a hand-computed truth,
and the same differences as the file pipeline on the sample."""

import numpy as np
import pytest
from astropy.io import fits
from astropy.wcs import WCS

from diffview import io
from diffview.errors import InputError
from diffview.models import Overlap
from diffview.run import (
    as_projected,
    common_grid,
    compute_difference,
    difference,
    differences,
    image_overlaps,
)


def load(sample, name):
    data, hdr = io.read_image(sample.proj_dir / name)
    area, _ = io.read_image(sample.proj_dir / name.replace(".fits", "_area.fits"))
    return data, area, WCS(hdr)


def tan(crpix1):
    """A TAN WCS on one grid: only CRPIX1 moves (whole columns)."""
    w = WCS(naxis=2)
    w.wcs.ctype = ["RA---TAN", "DEC--TAN"]
    w.wcs.cdelt = [-1e-3, 1e-3]
    w.wcs.crval = [10.0, 20.0]
    w.wcs.crpix = [crpix1, 1.0]
    return w


@pytest.fixture
def seeded():
    """Three 4 x 5 images on one grid: columns 0-4, 3-7 and 8-12 of the
    template, so 0 and 1 share columns 3-4 and 1 and 2 only touch. Image 0 has
    a NaN and image 1 a zero area inside the shared columns."""
    rng = np.random.default_rng(7)
    v = [rng.normal(10.0, 3.0, size=(4, 5)) for _ in range(3)]
    a = [rng.uniform(0.9, 1.1, size=(4, 5)) for _ in range(3)]
    v[0][1, 4] = np.nan
    a[1][2, 0] = 0.0
    return v, a, [(v[k], a[k], tan(c)) for k, c in enumerate((1.0, -2.0, -7.0))]


def truth_01(v, a, *, factor=1.0, no_areas=False):
    """mDiff's value and area of images 0 and 1 over template columns 3-4."""
    v1, v2 = v[0][:, 3:5], v[1][:, 0:2]
    a1, a2 = a[0][:, 3:5], a[1][:, 0:2]
    if no_areas:
        a1, a2 = np.ones(a1.shape), np.ones(a2.shape)
    blank = ~np.isfinite(v1) | ~np.isfinite(v2) | (a1 <= 0) | (a2 <= 0)
    with np.errstate(invalid="ignore"):
        value = 2 * (v1 * a1 - factor * v2 * a2) / (a1 + a2)
    return np.where(blank, np.nan, value), np.where(blank, 0.0, a1 + a2)


def test_difference_of_arrays_is_the_hand_computed_mdiff(seeded):
    v, a, images = seeded
    # every pixel of the overlap: the grid ends at the images' last row
    d = difference(images[0], images[1], full_edges=True)
    value, area = truth_01(v, a)
    assert d.bounds == ((0, 4), (3, 5))
    assert d.crpix == (-2.0, 1.0)  # template CRPIX (1, 1) moved by the crop
    np.testing.assert_array_equal(np.isnan(d.array), np.isnan(value))
    assert np.isnan(d.array[1, 1]) and np.isnan(d.array[2, 0])
    np.testing.assert_allclose(d.array, value, rtol=1e-13, equal_nan=True)
    np.testing.assert_allclose(d.area, area, rtol=1e-15)
    # mDiff's pixel range: v * a over either image's valid pixels in the box
    boxes = ((v[0][:, 3:5], a[0][:, 3:5]), (v[1][:, 0:2], a[1][:, 0:2]))
    valid = np.concatenate(
        [(vv * aa)[np.isfinite(vv) & (aa > 0)] for vv, aa in boxes]
    )
    assert d.stats["min_pixel"] == pytest.approx(valid.min(), rel=1e-13)
    assert d.stats["max_pixel"] == pytest.approx(valid.max(), rel=1e-13)
    assert d.stats["min_diff"] == pytest.approx(np.nanmin(np.abs(value)), rel=1e-13)
    assert d.stats["max_diff"] == pytest.approx(np.nanmax(np.abs(value)), rel=1e-13)


def test_difference_options_factor_no_areas_and_full_edges(seeded):
    v, a, images = seeded
    scaled = difference(images[0], images[1], factor=2.0, full_edges=True)
    np.testing.assert_allclose(
        scaled.array, truth_01(v, a, factor=2.0)[0], rtol=1e-13, equal_nan=True
    )
    # without areas, the zero area of image 1 no longer blanks its pixel
    plain = difference(images[0], images[1], no_areas=True, full_edges=True)
    value, area = truth_01(v, a, no_areas=True)
    np.testing.assert_allclose(plain.array, v[0][:, 3:5] - v[1][:, 0:2],
                               rtol=1e-13, equal_nan=True)
    np.testing.assert_allclose(plain.array, value, rtol=1e-13, equal_nan=True)
    np.testing.assert_array_equal(plain.area, area)
    assert np.isfinite(plain.array[2, 0]) and np.isnan(plain.array[1, 1])
    # by default Montage's box drops the grid's last row (the grid is 4 x 8)
    edges = difference(images[0], images[1])
    assert edges.bounds == ((0, 3), (3, 5))
    np.testing.assert_allclose(edges.array, truth_01(v, a)[0][:3], rtol=1e-13,
                               equal_nan=True)
    full = difference(images[0], images[1], full_edges=True)
    assert full.bounds == ((0, 4), (3, 5))
    np.testing.assert_allclose(full.array, truth_01(v, a)[0], rtol=1e-13,
                               equal_nan=True)
    with pytest.warns(DeprecationWarning, match="montage_edges"):
        old = difference(images[0], images[1], montage_edges=False)
    assert old.bounds == full.bounds


def test_differences_pairs_indices_and_failures(seeded):
    v, a, images = seeded
    pairs = image_overlaps(images)
    assert [(o.cntr1, o.cntr2) for o in pairs] == [(0, 1), (1, 2)]
    assert common_grid([as_projected(im) for im in images]) == ((4, 13), (1.0, 1.0))
    got, failed = differences(images, pairs)
    assert list(got) == [(0, 1)]
    assert failed == {(1, 2): "Images don't overlap"}
    d = got[(0, 1)]
    assert (d.plus, d.minus) == (0, 1)
    # Montage's box: the grid's last row is left out
    assert d.bounds == ((0, 3), (3, 5))
    np.testing.assert_allclose(d.array, truth_01(v, a)[0][:3], rtol=1e-13,
                               equal_nan=True)
    full, _ = differences(images, pairs, full_edges=True)
    np.testing.assert_allclose(full[(0, 1)].array, truth_01(v, a)[0], rtol=1e-13,
                               equal_nan=True)
    # swapping the pair swaps the sign; the indices follow the overlap given
    back, _ = differences(images, [Overlap(1, 0, "image1", "image0", "d")])
    assert (back[(1, 0)].plus, back[(1, 0)].minus) == (1, 0)
    np.testing.assert_allclose(back[(1, 0)].array, -d.array, rtol=1e-13,
                               equal_nan=True)


def test_arrays_and_wcs_give_the_file_pipelines_differences(small_sample):
    s = small_sample
    names = [str(r["fname"]) for r in io.read_table(s.images_tbl)]
    images = [load(s, n) for n in names]
    pairs = image_overlaps(images)
    assert [(o.cntr1, o.cntr2) for o in pairs] == [
        (o.cntr1, o.cntr2) for o in s.overlaps
    ]
    got, failed = differences(images, pairs)
    assert len(got) == len(pairs) and failed == {}
    for ov in s.overlaps:
        d = got[(ov.cntr1, ov.cntr2)]
        ref = compute_difference(
            s.proj_dir / ov.plus, s.proj_dir / ov.minus, s.template
        )
        # the in-memory grid is the images' common grid: same pixels, same crop
        np.testing.assert_array_equal(d.array, ref.array)
        np.testing.assert_array_equal(d.area, ref.area)
        assert d.shape == ref.shape and (d.plus, d.minus) == (ov.cntr1, ov.cntr2)


def _cut(array, wcs, grid_crpix, bounds):
    """The part of an image's array inside ``bounds`` of the common grid."""
    off = np.round(np.subtract(grid_crpix, wcs.wcs.crpix)).astype(int)
    (j0, j1), (i0, i1) = bounds
    return array[j0 - off[1] : j1 - off[1], i0 - off[0] : i1 - off[0]]


def test_reproject_style_tuple_hdu_and_file_agree(small_sample):
    s = small_sample
    ov = s.overlaps[0]
    p, m = load(s, ov.plus), load(s, ov.minus)
    from_tuples = difference(p, m)
    from_files = difference(s.proj_dir / ov.plus, s.proj_dir / ov.minus)
    np.testing.assert_array_equal(from_tuples.array, from_files.array)
    assert from_tuples.bounds == from_files.bounds
    # a 0/1 footprint as the area: the difference is plus - minus where both
    # images cover the pixel
    fp, fm = (p[1] > 0) * 1.0, (m[1] > 0) * 1.0
    d = difference((p[0], fp, p[2]), (m[0], fm, m[2]))
    _, crpix = common_grid([as_projected(p), as_projected(m)])
    vp, vm = _cut(p[0], p[2], crpix, d.bounds), _cut(m[0], m[2], crpix, d.bounds)
    both = (_cut(fp, p[2], crpix, d.bounds) > 0) & (_cut(fm, m[2], crpix, d.bounds) > 0)
    expected = np.where(both & np.isfinite(vp) & np.isfinite(vm), vp - vm, np.nan)
    np.testing.assert_allclose(d.array, expected, rtol=1e-12, equal_nan=True)
    assert np.isfinite(d.array).sum() > 0
    # an HDU: its data, areas of 1 and the header's CRPIX
    hdu = fits.PrimaryHDU(p[0], p[2].to_header())
    im = as_projected(hdu)
    np.testing.assert_array_equal(im.data, p[0])
    assert (im.area == 1).all() and im.crpix == tuple(p[2].wcs.crpix)
    # a file name: its pixels and its area file
    im = as_projected(s.proj_dir / ov.plus)
    np.testing.assert_array_equal(im.data, p[0])
    np.testing.assert_array_equal(im.area, p[1])


def test_images_on_different_grids_are_refused(small_sample):
    p = load(small_sample, small_sample.overlaps[0].plus)
    w = p[2].deepcopy()
    w.wcs.cdelt = w.wcs.cdelt * 2
    with pytest.raises(InputError, match="one pixel grid"):
        difference(p, (p[0], p[1], w))
    w2 = p[2].deepcopy()
    w2.wcs.crpix = w2.wcs.crpix + 0.5
    with pytest.raises(InputError, match="non-integer CRPIX offsets"):
        difference(p, (p[0], p[1], w2))
    with pytest.raises(InputError, match="area shape"):
        as_projected((p[0], p[1][:-1], p[2]))
