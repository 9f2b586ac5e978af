"""Plane fits: exact small cases, Montage's quirks, parity with MontagePy mFitplane."""

import numpy as np
import pytest
from astropy.io import fits

from conftest import MP
from diffview import Difference
from diffview.core import _fitplane, _loader, fit
from diffview.core._loader import kernels
from diffview.core.fit import bounding_box, fit_plane, fit_residual
from diffview.errors import PairError

FIELDS = [
    "a",
    "b",
    "c",
    "crpix1",
    "crpix2",
    "xmin",
    "xmax",
    "ymin",
    "ymax",
    "xcenter",
    "ycenter",
    "npixel",
    "rms",
    "boxx",
    "boxy",
    "boxwidth",
    "boxheight",
    "boxang",
]


@pytest.fixture(params=["numpy", "compiled"])
def loops(request, monkeypatch):
    """Run the test's fits in numpy or in the compiled loops (both must pass)."""
    compiled = request.param == "compiled"
    monkeypatch.setattr(fit, "use_compiled", lambda seconds: compiled)
    return request.param


def plane(shape, a, b, c, crpix):
    j, i = np.mgrid[0 : shape[0], 0 : shape[1]]
    return a * (i - crpix[0]) + b * (j - crpix[1]) + c


def test_perfect_plane_is_recovered_exactly(loops):
    z = plane((5, 7), 0.1, 0.2, 4.05, (5.5, 2.5))
    f = fit_plane((z, (5.5, 2.5)))
    assert (f.a, f.b, f.c) == pytest.approx((0.1, 0.2, 4.05), abs=1e-12)
    assert f.npixel == 35 and f.rms < 1e-12
    assert (f.xmin, f.xmax, f.ymin, f.ymax) == (-5.5, 0.5, -2.5, 1.5)
    assert (f.xcenter, f.ycenter) == pytest.approx((-2.5, -0.5))


def test_montage_plane_frame_uses_zero_based_index_minus_crpix():
    # data 0.1 i + 0.2 j + 3 with CRPIX (5.5, 2.5): c = 3 + 0.55 + 0.5 = 4.05
    j, i = np.mgrid[0:6, 0:9]
    f = fit_plane((0.1 * i + 0.2 * j + 3.0, (5.5, 2.5)))
    assert f.c == pytest.approx(4.05, abs=1e-12)


def test_one_outlier_is_clipped_and_npixel_drops_by_one(loops):
    z = plane((7, 12), 0.3, -0.1, 2.0, (2.0, 3.0))
    z[3, 5] += 40.0
    f = fit_plane((z, (2.0, 3.0)))
    assert f.npixel == 7 * 12 - 1
    assert (f.a, f.b, f.c) == pytest.approx((0.3, -0.1, 2.0), abs=1e-10)
    r = fit_residual((z, (2.0, 3.0)), f)
    assert np.argwhere(r.clipped).tolist() == [[3, 5]]
    assert r.residual[3, 5] == pytest.approx(40.0)


def test_noisy_outlier_clipping_counts_from_the_rms_pass(rng):
    z = plane((7, 12), 0.0, 0.0, 1.0, (1.0, 1.0)) + rng.normal(0, 0.01, (7, 12))
    base = fit_plane((z, (1.0, 1.0)))
    z[2, 2] = 100.0
    f = fit_plane((z, (1.0, 1.0)))
    assert f.npixel <= base.npixel and f.c == pytest.approx(1.0, abs=0.01)


def test_all_pixels_on_one_line_is_singular(loops):
    z = np.full((5, 7), np.nan)
    z[2, :] = np.arange(7.0)
    with pytest.raises(PairError, match="Singular Matrix"):
        fit_plane((z, (1.0, 1.0)))
    diag = np.full((6, 6), np.nan)
    diag[np.arange(6), np.arange(6)] = 1.0
    with pytest.raises(PairError, match="Singular Matrix"):
        fit_plane((diag, (1.0, 1.0)))


def test_no_valid_pixels_is_singular_and_level_only_gives_nan():
    z = np.full((5, 7), np.nan)
    with pytest.raises(PairError, match="Singular Matrix"):
        fit_plane((z, (1.0, 1.0)))
    f = fit_plane((z, (1.0, 1.0)), level_only=True)
    assert np.isnan(f.c) and f.npixel == 0


def test_too_few_pixels_unless_level_only():
    with pytest.raises(PairError, match="Too few pixels to fit"):
        fit_plane((np.ones((1, 7)), (1.0, 1.0)))
    assert fit_plane((np.full((1, 7), 3.0), (1.0, 1.0)), level_only=True).c == 3.0


def test_level_only_is_the_clipped_mean(rng):
    z = rng.normal(5.0, 0.1, (5, 7))
    f = fit_plane((z, (1.0, 1.0)), level_only=True)
    assert f.a == 0.0 and f.b == 0.0
    assert abs(f.c - z.mean()) < 0.1


def test_border_leaves_edges_out_of_the_fit_not_the_box():
    z = plane((8, 11), 0.2, 0.0, 1.0, (1.0, 1.0))
    z[0, :] = 1000.0  # only in the border
    f = fit_plane((z, (1.0, 1.0)), border=1)
    assert f.a == pytest.approx(0.2) and f.npixel == 6 * 9
    assert (f.boxwidth, f.boxheight) == (10.0, 7.0) or (f.boxwidth, f.boxheight) == (
        7.0,
        10.0,
    )


def test_nofit_gives_ranges_and_box_only():
    f = fit_plane((plane((5, 7), 1.0, 1.0, 1.0, (1.0, 1.0)), (1.0, 1.0)), nofit=True)
    assert (f.a, f.b, f.c, f.rms) == (0.0, 0.0, 0.0, 0.0)
    assert (f.xmin, f.xmax, f.npixel) == (-1.0, 5.0, 35)


def test_difference_input_carries_ids():
    z = plane((5, 7), 0.0, 0.0, 2.0, (3.0, 2.0))
    d = Difference(
        z, np.full(z.shape, 2.0), (3.0, 2.0), ((0, 5), (0, 7)), plus=4, minus=9
    )
    f = fit_plane(d)
    assert (f.plus, f.minus, f.c) == (4, 9, pytest.approx(2.0))


def test_bounding_box_of_a_full_rectangle_and_a_rotated_strip():
    assert bounding_box(np.ones((14, 6), bool), (1.0, 1.0)) == (
        1.5,
        5.5,
        13.0,
        5.0,
        90.0,
    )
    strip = np.zeros((20, 20), bool)
    for k in range(18):
        strip[k, k : k + 3] = True
    bx, by, w, h, ang = bounding_box(strip, (1.0, 1.0))
    assert ang % 180 == pytest.approx(45.0) and min(w, h) < 3 < max(w, h)


def _montage_fit(tmp_path, z, crpix, level_only=False):
    mFitplane = MP.mFitplane

    hdr = fits.Header()
    hdr["CRPIX1"], hdr["CRPIX2"] = crpix
    path = str(tmp_path / "d.fits")
    fits.PrimaryHDU(z, hdr).writeto(path, overwrite=True)
    return mFitplane(path, False, level_only, 0, 0)


def _random_diff(rng, k):
    ny, nx = rng.integers(4, 70, 2)
    j, i = np.mgrid[0:ny, 0:nx]
    z = 0.01 * i - 0.02 * j + 3 + rng.normal(0, 1, (ny, nx))
    z[rng.random((ny, nx)) < 0.05] = 100.0
    z[(i + 0.7 * j) > rng.integers(2, nx + ny)] = np.nan
    if k % 3 == 0:
        z[:, :2] = np.nan
    crpix = (float(rng.integers(-60, 60)) + 0.5 * (k % 2), float(rng.integers(-60, 60)))
    return z, crpix


@pytest.mark.montage
def test_parity_with_mfitplane_on_random_footprints(tmp_path, rng, loops):
    compared = 0
    for k in range(40):
        z, crpix = _random_diff(rng, k)
        ref = _montage_fit(tmp_path, z, crpix, level_only=k % 5 == 0)
        if ref["status"] != "0":
            with pytest.raises(PairError, match="Singular Matrix"):
                fit_plane((z, crpix), level_only=k % 5 == 0)
            continue
        f = fit_plane((z, crpix), level_only=k % 5 == 0)
        for name in FIELDS:
            assert getattr(f, name) == pytest.approx(ref[name], rel=1e-9, abs=1e-9), (
                name
            )
        compared += 1
    assert compared >= 30


@pytest.mark.montage
def test_parity_boxes_of_rectangles(tmp_path, loops):
    for shape, crpix in (
        ((14, 6), (1.0, 1.0)),
        ((6, 14), (3.0, 2.0)),
        ((3, 40), (0.5, 7.0)),
    ):
        z = np.random.default_rng(1).normal(0, 1, shape)
        ref = _montage_fit(tmp_path, z, crpix)
        f = fit_plane((z, crpix))
        got = (f.boxx, f.boxy, f.boxwidth, f.boxheight, f.boxang)
        assert got == pytest.approx(tuple(ref[k] for k in FIELDS[-5:]))


def _montage_loop(z, crpix, level_only=False):
    """mFitplane's 20 iterations written out plainly in numpy (no early stop)."""
    jj, ii = np.nonzero(np.isfinite(z))
    x, y, v = ii - crpix[0], jj - crpix[1], z[jj, ii]
    rms, keep, (a, b, c) = 0.0, np.ones(len(v), bool), (0.0, 0.0, 0.0)
    for it in range(20):
        if it > 0 and rms > 0:
            keep = np.abs(v - (a * x + b * y + c)) <= 2 * rms
        if level_only:
            a, b, c = 0.0, 0.0, v[keep].mean()
        else:
            m = np.column_stack([x[keep], y[keep], np.ones(keep.sum())])
            a, b, c = np.linalg.lstsq(m, v[keep], rcond=None)[0]
        dz = np.abs(v - (a * x + b * y + c))
        counted = dz <= 2 * rms if (it > 0 and rms > 0) else np.ones(len(v), bool)
        rms = float(np.sqrt(np.mean(dz[counted] ** 2)))
    return a, b, c, rms, int(counted.sum()), keep, (jj, ii)


@pytest.mark.montage
def test_large_difference_matches_mfitplane(tmp_path, rng, loops):
    j, i = np.mgrid[0:150, 0:230]
    z = 0.01 * i - 0.02 * j + 300 + rng.normal(0, 1, i.shape) + 2 * np.sin(i / 25.0)
    z[rng.random(i.shape) < 0.03] = 150.0
    z[(i + 0.5 * j) > 250] = np.nan
    crpix = (-40.0, 310.5)
    ref = _montage_fit(tmp_path, z, crpix)
    got = fit_plane((z, crpix))
    for name in FIELDS:
        assert getattr(got, name) == pytest.approx(ref[name], rel=1e-9, abs=1e-9), name


@pytest.mark.montage
def test_heavy_tails_match_mfitplane_and_the_plain_loop(tmp_path, rng, loops):
    """Clipped sets that keep moving for many iterations: the early stop at a
    repeated state gives Montage's 20-iteration numbers, and the residual's
    clipped mask is the complement of the last fit set."""
    for k in range(6):
        j, i = np.mgrid[0:40, 0 : 60 + 10 * k]
        # heavy tails (faint stars) keep the clipped set moving for many iterations
        z = 0.02 * i - 0.01 * j + 5 + rng.standard_t(3, i.shape)
        z[(i - 2 * j) > 30] = np.nan
        crpix = (-12.5 + k, 7.0)
        level_only = k == 5
        ref = _montage_fit(tmp_path, z, crpix, level_only=level_only)
        got = fit_plane((z, crpix), level_only=level_only)
        for name in FIELDS:
            assert getattr(got, name) == pytest.approx(
                ref[name], rel=1e-9, abs=1e-9
            ), name
        a, b, c, rms, npix, keep, (jj, ii) = _montage_loop(z, crpix, level_only)
        assert got.npixel == npix
        assert (got.a, got.b, got.c, got.rms) == pytest.approx(
            (a, b, c, rms), rel=1e-9, abs=1e-12
        )
        clipped = fit_residual((z, crpix), got, level_only=level_only).clipped
        assert np.array_equal(clipped[jj, ii], ~keep)
        assert not clipped[~np.isfinite(z)].any()


def test_read_only_and_strided_inputs_give_the_same_fit():
    j, i = np.mgrid[0:9, 0:12]
    z = 0.3 * i - 0.1 * j + 2.0 + np.sin(i * j)
    ref = fit_plane((z, (3.0, 4.0)))
    frozen = z.copy()
    frozen.flags.writeable = False
    wide = np.zeros((9, 24))
    wide[:, ::2] = z
    for arr in (frozen, wide[:, ::2], np.asfortranarray(z), z.astype(np.float32)):
        got = fit_plane((arr, (3.0, 4.0)))
        tol = 1e-6 if arr.dtype == np.float32 else 1e-12
        assert (got.a, got.b, got.c) == pytest.approx((ref.a, ref.b, ref.c), rel=tol)
        assert got.npixel == ref.npixel and got.boxwidth == ref.boxwidth


# ------------------------------------------------ numpy and the compiled loops


def _hostile_difference(rng, k):
    """A difference with NaN, +-inf, outliers, empty rows, odd shapes."""
    ny, nx = rng.integers(1, 50, 2)
    j, i = np.mgrid[0:ny, 0:nx]
    z = 0.03 * i - 0.02 * j + rng.normal(0, 1, (ny, nx)) * 10 ** rng.uniform(-3, 3)
    bad = rng.random((ny, nx)) < rng.uniform(0, 0.6)
    z[bad] = rng.choice([np.nan, np.inf, -np.inf, 1e6, -3e4], bad.sum())
    if k % 4 == 0:
        z[rng.integers(0, ny)] = np.nan  # an empty row
    if k % 7 == 0:
        z[:] = 2.5  # a perfect (flat) plane
    crpix = (float(rng.uniform(-80, 80)), float(rng.uniform(-80, 80)))
    return z, crpix


@pytest.mark.parametrize("seed", range(4))
def test_numpy_fit_is_the_compiled_fit(seed):
    """Same status, counts, ranges, centres and box (bit for bit), same
    plane and rms to rounding, same last fit set, on hostile differences."""
    rng = np.random.default_rng(seed)
    k_loops = kernels()
    for k in range(150):
        z, (c1, c2) = _hostile_difference(rng, k)
        border, level = int(k % 5 == 0), bool(k % 3 == 0)
        niter = 0 if k % 11 == 0 else 20
        keeps = np.zeros(z.size, bool), np.zeros(z.size, bool)
        got = _fitplane.numpy_clip_fit(z, c1, c2, border, level, niter, 1e-10, keeps[0])
        want = k_loops.clip_fit(z, c1, c2, border, level, niter, 1e-10, keeps[1])
        assert got[0] == want[0] and got[5] == want[5], k
        assert got[6:] == pytest.approx(want[6:], nan_ok=True, rel=0, abs=0), k
        # rounding: relative to the numbers, and to the largest pixel summed
        zmax = float(np.abs(z[np.isfinite(z)]).max(initial=1.0))
        assert got[1:5] == pytest.approx(
            want[1:5], rel=1e-9, abs=1e-12 * zmax, nan_ok=True
        ), k
        assert np.array_equal(*keeps), k
        valid = np.isfinite(z)
        x, y = _fitplane.numpy_row_end_points(valid, c1, c2)
        wx, wy = k_loops.row_end_points(valid, c1, c2)
        assert np.array_equal(x, wx) and np.array_equal(y, wy)


def test_a_small_fit_stays_in_numpy_and_a_big_one_is_compiled(monkeypatch):
    # a fresh process: nothing loaded, nothing spent in numpy yet
    monkeypatch.setattr(_loader, "_loaded", lambda: False)
    monkeypatch.setattr(_loader, "_numpy_spent", [0.0])
    assert fit._loops(12)[0] is _fitplane.numpy_clip_fit
    assert _loader._numpy_spent[0] == pytest.approx(12 * fit.FIT_SECONDS_PER_PIXEL)
    big = int(_loader.LOAD_SECONDS / fit.FIT_SECONDS_PER_PIXEL) + 1
    assert fit._loops(big) == (
        kernels().clip_fit, kernels().row_end_points, _fitplane.numpy_hull_box
    )
