"""Quality verdicts: each test on hand-made fits; thin strips flagged on a mosaic."""

import os
from dataclasses import replace

import numpy as np
import pytest
from astropy.io import ascii
from mosaic_fields import make_mosaic, read_fits_tbl, run_montage

from diffview.core.background import image_geometry, solve_direct
from diffview.core.quality import Thresholds, assess_fits, plane_error
from diffview.models import PlaneFit


def fit(plus, minus, *, c=1.0, w=99.0, h=49.0, npixel=5000, rms=1.0, x=0.0, y=0.0):
    return PlaneFit(
        plus,
        minus,
        0.0,
        0.0,
        c,
        1.0,
        1.0,
        0,
        9,
        0,
        9,
        x,
        y,
        npixel,
        rms,
        x,
        y,
        w,
        h,
        0.0,
    )


def test_each_test_flags_its_own_problem():
    fits_ = [
        fit(0, 1),
        fit(1, 2),
        fit(2, 3),
        fit(3, 4, rms=9.0),
        fit(4, 5, npixel=20),
        fit(5, 6, w=99.0, h=1.0, npixel=200),
        fit(6, 7, w=400.0, h=4.0),
    ]
    q = assess_fits(fits_)
    assert [x.reasons for x in q] == [
        (),
        (),
        (),
        ("noisy",),
        ("few pixels",),
        ("thin strip",),
        ("thin strip",),
    ]
    assert [x.ok for x in q] == [True, True, True, False, False, False, False]
    assert all(x.score > 1 for x in q[3:]) and all(x.score <= 1 for x in q[:3])
    assert q[3].noise_ratio == pytest.approx(9.0)


def test_disagreement_with_the_solution_is_flagged():
    # a loop of four images; one fit contradicts the other three
    fits_ = [
        fit(0, 1, c=1.0),
        fit(1, 2, c=1.0),
        fit(2, 3, c=1.0),
        fit(3, 0, c=-3.0),
        fit(0, 2, c=2.0),
        fit(1, 3, c=2.0),
        fit(0, 3, c=13.0),
    ]
    corr = solve_direct(None, fits_, robust=True)
    q = assess_fits(fits_, corrections=corr)
    assert [x.reasons for x in q][-1] == ("disagrees",)
    assert all(x.ok for x in q[:-1])
    assert abs(q[-1].residual) > 5


def test_plane_error_grows_away_from_a_thin_box():
    thin = fit(0, 1, w=99.0, h=1.0, npixel=200, x=50.0, y=0.0)
    e = plane_error(thin, np.array([[50.0, 0.0], [50.0, 100.0], [150.0, 0.0]]))
    assert e[0] < 0.1 and e[1] > 50 * e[0] and e[2] < e[1]


def test_thresholds_are_configurable():
    q = assess_fits(
        [fit(0, 1), fit(1, 2, rms=2.0)],
        noise=1.0,
        thresholds=Thresholds(noise_ratio=1.5),
    )
    assert q[1].reasons == ("noisy",)


@pytest.mark.montage
def test_thin_strip_overlaps_are_flagged_on_a_mosaic(tmp_path):
    # columns of tiles overlap by 2 pixels: their fits are thin strips whose
    # slope across the strip is noise, badly wrong over the images
    truth = make_mosaic(
        tmp_path, ntx=4, nty=3, tile=(60, 80), step=(40, 78), noise=0.5, seed=5
    )
    run_montage(tmp_path, modes=())
    images = ascii.read(str(tmp_path / "images.tbl"), format="ipac")
    geo = image_geometry(images)
    fits_ = read_fits_tbl(tmp_path / "fits.tbl")
    base = {int(r["cntr"]): os.path.basename(str(r["fname"]))[:-5] for r in images}
    q = assess_fits(
        fits_, images=geo, corrections=solve_direct(geo, fits_, robust=True)
    )
    err = []
    for f in fits_:
        t = np.subtract(truth[base[f.plus]], truth[base[f.minus]])
        e = np.array([f.a, f.b, f.c]) - t
        corners = []
        for cid in (f.plus, f.minus):
            k = int(np.flatnonzero(geo.cntr == cid)[0])
            x0, y0 = -geo.crpix1[k], -geo.crpix2[k]
            corners += [
                (x0, y0),
                (x0 + geo.naxis1[k] - 1, y0 + geo.naxis2[k] - 1),
                (x0, y0 + geo.naxis2[k] - 1),
                (x0 + geo.naxis1[k] - 1, y0),
            ]
        err.append(np.abs(np.array(corners) @ e[:2] + e[2]).max())
    err = np.array(err)
    flagged = np.array([not x.ok for x in q])
    assert flagged.any() and not flagged.all()
    # every fit off by more than 10x the median over the images is flagged
    assert flagged[err > 10 * np.median(err)].all()
    assert np.median(err[~flagged]) < np.median(err[flagged])
    strips = np.array([min(f.boxwidth, f.boxheight) < 3 for f in fits_])
    assert flagged[strips].all()


def test_extrapolation_is_the_worst_corner_of_the_two_images():
    """The vectorised test equals plane_error at the images' corners, fit by
    fit: rotated boxes, repeated and missing images, an empty image, NaN rms."""
    from diffview.core.background import ImageGeometry

    rng = np.random.default_rng(3)
    n = 60
    geo = ImageGeometry(
        cntr=np.array([4, 0, 1, 2, 3, 4]),  # 4 twice: the first one counts
        naxis1=np.array([50, 100, 80, 0, 120, 70]),
        naxis2=np.array([40, 90, 60, 0, 110, 30]),
        crpix1=np.array([1.0, -20.5, 33.0, 0.0, 400.25, 9.0]),
        crpix2=np.array([2.0, 10.0, -7.5, 0.0, 12.0, 3.0]),
        locked=np.zeros(6, bool),
    )
    fits = []
    for k in range(n):
        plus, minus = rng.choice([0, 1, 2, 3, 4, 9], size=2, replace=False)
        f = fit(
            int(plus),
            int(minus),
            w=rng.uniform(1, 90),
            h=rng.uniform(1, 40),
            npixel=int(rng.integers(1, 5000)),
            rms=rng.uniform(0.1, 3),
            x=rng.uniform(-200, 200),
            y=rng.uniform(-200, 200),
        )
        angle = rng.uniform(-180, 180)
        fits.append(replace(f, boxang=angle) if k % 7 else replace(f, rms=np.nan))
    got = [q.extrapolation for q in assess_fits(fits, images=geo)]
    for f, g in zip(fits, got, strict=True):
        corners = []
        for cntr in (f.plus, f.minus):
            if cntr in (0, 1, 3, 4):  # 2 is empty, 9 absent
                k = int(np.flatnonzero(geo.cntr == cntr)[0])
                x0, y0 = -geo.crpix1[k], -geo.crpix2[k]
                x1, y1 = x0 + geo.naxis1[k] - 1, y0 + geo.naxis2[k] - 1
                corners += [(x0, y0), (x1, y0), (x0, y1), (x1, y1)]
        if not corners:
            assert np.isnan(g)
            continue
        want = plane_error(f, np.array(corners)).max()
        if np.isnan(want):
            assert np.isnan(g)
        else:
            assert g == pytest.approx(want, rel=1e-12)


def _one_verdict(f, noise, extrap, extrap_ref, resid, sigma_r, min_pix, t):
    """The verdict of one fit as assess_fits judged fits one by one (oracle)."""
    import math

    def ratio(value, limit):
        return value / limit if limit and np.isfinite(value) else 0.0

    width = min(f.boxwidth, f.boxheight)
    aspect = max(f.boxwidth, f.boxheight) / max(width, 1e-300)
    noise_ratio = f.rms / noise if noise > 0 else math.inf
    own = f.rms / math.sqrt(max(int(f.npixel), 1)) if math.isfinite(f.rms) else 0.0
    spread = math.hypot(sigma_r if math.isfinite(sigma_r) else 0.0, own)
    tests = {
        "noisy": ratio(
            noise_ratio if math.isfinite(f.rms) else math.inf, t.noise_ratio
        ),
        "few pixels": ratio(min_pix, max(int(f.npixel), 1e-300)),
        "thin strip": max(
            ratio(t.min_width, max(width, 1e-300)), ratio(aspect, t.max_aspect)
        ),
        "extrapolates": ratio(extrap, t.extrapolation * extrap_ref),
        "disagrees": ratio(abs(resid), t.residual * spread),
    }
    reasons = tuple(k for k, v in tests.items() if v > 1.0)
    return (not reasons, max(tests.values()), reasons, noise_ratio, aspect)


@pytest.mark.parametrize("noise", [None, 0.0])
def test_verdicts_at_once_are_the_verdicts_one_by_one(noise):
    """NaN rms, empty and thin boxes, with and without corrections."""
    from survey_fields import make_survey

    from diffview.core import quality

    geo, fits_, _ = make_survey(60, seed=3, wild=0.05)
    fits_ = list(fits_)
    for k in range(0, len(fits_), 7):
        fits_[k] = replace(fits_[k], rms=float("nan"))
    for k in range(3, len(fits_), 11):
        fits_[k] = replace(fits_[k], npixel=0)
    for k in range(5, len(fits_), 13):
        fits_[k] = replace(fits_[k], boxwidth=0.5)
    corr = solve_direct(geo, fits_)
    got = assess_fits(fits_, images=geo, corrections=corr, noise=noise)
    rms = np.array([f.rms for f in fits_])
    ref_noise = float(np.median(rms[np.isfinite(rms)])) if noise is None else noise
    extrap = quality._extrapolations(fits_, geo)
    resid = quality.residual_levels(fits_, corr)
    sigma = quality._robust_sigma(resid)
    min_pix = max(Thresholds().min_pixels, quality.AREA_LIMIT * geo.mean_area)
    nflagged = 0
    for k, (f, q) in enumerate(zip(fits_, got, strict=True)):
        want = _one_verdict(
            f, ref_noise, extrap[k], np.nanmedian(extrap), resid[k], sigma, min_pix,
            Thresholds(),
        )
        assert (q.ok, q.reasons) == (want[0], want[2]), k
        numbers = (q.score, q.noise_ratio, q.aspect)
        assert numbers == pytest.approx((want[1], *want[3:]), nan_ok=True), k
        nflagged += not q.ok
    assert 0 < nflagged < len(fits_)
