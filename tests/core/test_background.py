"""Background model: Montage's iterative solve (parity with MontagePy), the direct
solve, exclusions, locks, corrections and truth recovery on synthetic mosaics."""

from dataclasses import replace

import numpy as np
import pytest
from astropy.io import ascii
from astropy.table import Table
from mosaic_fields import (
    as_dict,
    make_mosaic,
    read_corr_tbl,
    read_fits_tbl,
    run_montage,
    truth_rms,
)
from survey_fields import make_survey, rms_per_image

from diffview.core.background import (
    DirectSolution,
    ImageGeometry,
    correct_image,
    image_geometry,
    niteration_schedule,
    predicted_residuals,
    residual_levels,
    solve_direct,
    solve_montage,
)
from diffview.core.background import _evidence as bg_evidence
from diffview.core.background import montage as bg_montage
from diffview.errors import InputError
from diffview.models import Correction, PlaneFit


@pytest.fixture(params=["numpy", "compiled"])
def iterations(request, monkeypatch):
    """Run mBgModel's iterations in numpy or in the compiled loop (both must pass)."""
    compiled = request.param == "compiled"
    monkeypatch.setattr(bg_montage, "use_compiled", lambda seconds, group: compiled)
    return request.param


@pytest.fixture(scope="module")
def mosaic(tmp_path_factory):
    root = tmp_path_factory.mktemp("mosaic")
    truth = make_mosaic(root)
    run_montage(root, modes=(0, 1))
    images = ascii.read(str(root / "images.tbl"), format="ipac")
    return {
        "root": root,
        "truth": truth,
        "images": images,
        "geo": image_geometry(images),
        "fits": read_fits_tbl(root / "fits.tbl"),
    }


# ---------------------------------------------------------------- small exact cases


def geo_table(n, locked=None):
    t = Table(
        {
            "cntr": list(range(n)),
            "fname": [f"i{k}" for k in range(n)],
            "ns": [10] * n,
            "nl": [8] * n,
            "crpix1": [1.0] * n,
            "crpix2": [1.0] * n,
        }
    )
    if locked is not None:
        t["locked"] = locked
    return t


def level_fit(plus, minus, c, npixel=80, rms=0.1):
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
        7,
        4.5,
        3.5,
        npixel,
        rms,
        4.5,
        3.5,
        9.0,
        7.0,
        0.0,
    )


def test_schedules_follow_montage_rules():
    assert niteration_schedule(1, 5).tolist() == [0] * 5
    assert niteration_schedule(0, 6).tolist() == [0, 0, 0, 2, 2, 2]
    assert niteration_schedule(3, 5).tolist() == [0, 0, 0, 1, 1]
    assert niteration_schedule(2, 20).tolist() == [0, 0, 1, 1] * 5
    assert len(niteration_schedule(0, 0)) == 10000
    assert (niteration_schedule(0, 0) == 0).sum() == 2500


def test_two_images_split_the_offset(iterations):
    corrs = solve_montage(image_geometry(geo_table(2)), [level_fit(0, 1, 2.0)], mode=1)
    assert [(c.id, round(c.c, 5)) for c in corrs] == [(0, 1.0), (1, -1.0)]
    direct = solve_direct(image_geometry(geo_table(2)), [level_fit(0, 1, 2.0)])
    assert [c.c for c in direct] == pytest.approx([1.0, -1.0])


def test_locked_image_stays_put_and_lock_is_by_cntr_value(iterations):
    t = geo_table(2, locked=[0, 1])
    t["cntr"] = [5, 9]  # non-contiguous: Montage would index row 9
    fits_ = [level_fit(5, 9, 2.0)]
    corrs = {c.id: c.c for c in solve_montage(image_geometry(t), fits_, mode=1)}
    assert corrs[9] == 0.0 and corrs[5] == pytest.approx(2.0, abs=1e-4)
    direct = {c.id: c.c for c in solve_direct(image_geometry(t), fits_)}
    assert direct == pytest.approx({5: 2.0, 9: 0.0})


def test_rejection_of_small_and_nonfinite_fits_unless_useall(iterations):
    geo = image_geometry(geo_table(3))  # mean area 80: limit 0.08 pixel
    fits_ = [
        level_fit(0, 1, 2.0),
        level_fit(1, 2, 4.0, rms=float("nan")),
        level_fit(0, 2, 9.0, npixel=0),
    ]
    kept = as_dict(solve_montage(geo, fits_, mode=1))
    assert kept[2] == (0.0, 0.0, 0.0)
    assert kept[0][2] == pytest.approx(1.0, abs=1e-4)
    allfits = as_dict(solve_montage(geo, fits_, mode=1, useall=True))
    assert allfits[2][2] != 0.0


@pytest.mark.montage
def test_exclusions_equal_dropping_the_fit(mosaic):
    fits_ = mosaic["fits"]
    bad = fits_[3]
    pair = [(bad.minus, bad.plus)]
    rest = [f for f in fits_ if f is not bad]
    for solve in (solve_montage, solve_direct):
        a = as_dict(solve(mosaic["geo"], fits_, exclude_pairs=pair))
        b = as_dict(solve(mosaic["geo"], rest))
        assert a == b
    gone = as_dict(solve_direct(mosaic["geo"], fits_, exclude_images=[bad.plus]))
    assert bad.plus not in gone and len(gone) == len(mosaic["images"]) - 1


def test_correct_image_and_predicted_residuals():
    out = correct_image(
        np.full((2, 3), 5.0),
        (2.0, 1.0),
        Correction(0, 1.0, 0.5, 1.0),
        area=np.array([[1, 1, 0], [1, 1, 1]]),
    )
    assert out[0, :2].tolist() == [6.5, 5.5] and np.isnan(out[0, 2])
    f = PlaneFit(
        0, 1, 0.1, 0.2, 3.0, 1, 1, 0, 9, 0, 7, 4.5, 3.5, 80, 0.1, 4.5, 3.5, 9, 7, 0
    )
    r = predicted_residuals(
        [f], [Correction(0, 0.1, 0.0, 2.0), Correction(1, 0.0, -0.2, 0.0)]
    )
    assert (r[0].a, r[0].b, r[0].c) == pytest.approx((0.0, 0.0, 1.0))


def test_residual_levels_are_the_predicted_residuals_levels():
    rng = np.random.default_rng(5)
    fits_ = _random_fits(rng, n=30)
    # image 3 uncorrected, image 7 twice (the last counts, as in a dict)
    corr = [Correction(i, *rng.normal(size=3)) for i in range(31) if i != 3]
    corr.append(Correction(7, 0.0, 0.0, 9.0))
    want = [r.a * r.boxx + r.b * r.boxy + r.c for r in predicted_residuals(fits_, corr)]
    np.testing.assert_allclose(residual_levels(fits_, corr), want, rtol=1e-12)
    raw = [f.a * f.boxx + f.b * f.boxy + f.c for f in fits_]
    np.testing.assert_allclose(residual_levels(fits_, []), raw, rtol=1e-12)
    assert residual_levels([], corr).shape == (0,)


def _random_fits(rng, n=12):
    """Fits between neighbouring images of a row, with slopes, rotated boxes,
    rejected fits (NaN rms, too few pixels) and an image with no fit."""
    fits_ = []
    for k in range(n - 2):  # image n - 1 has no fit
        for m in (k + 1, k + 2):
            if m >= n - 1:
                continue
            a, b, c = rng.normal(0, [1e-3, 1e-3, 3.0])
            rms = float("nan") if rng.random() < 0.1 else 0.5
            npixel = 0 if rng.random() < 0.1 else int(rng.integers(100, 4000))
            fits_.append(PlaneFit(
                k, m, a, b, c, 1.0, 1.0, 0, 60, 0, 40, 30.0, 20.0, npixel, rms,
                rng.uniform(-50, 50), rng.uniform(-50, 50), rng.uniform(5, 60),
                rng.uniform(5, 60), rng.uniform(-90, 90)))
    return fits_


@pytest.mark.parametrize("mode", [0, 1, 2, 3])
def test_numpy_iterations_are_the_compiled_loop(monkeypatch, mode):
    """The same corrections to rounding (far below what corrections.tbl prints),
    with locked images, rejected fits and an image without fits."""
    rng = np.random.default_rng(mode)
    n = 12
    geo = ImageGeometry(np.arange(n), np.full(n, 60), np.full(n, 40),
                        np.ones(n), np.ones(n), np.arange(n) == 4)
    fits_ = _random_fits(rng, n)
    got = {}
    for compiled in (False, True):
        monkeypatch.setattr(bg_montage, "use_compiled", lambda s, g, c=compiled: c)
        got[compiled] = as_dict(solve_montage(geo, fits_, mode=mode, niteration=3000))
    assert sorted(got[False]) == sorted(got[True]) and len(got[True]) == n - 1
    assert got[True][4] == (0.0, 0.0, 0.0)  # locked
    for cid, vals in got[True].items():
        assert got[False][cid] == pytest.approx(vals, rel=1e-6, abs=1e-9), cid


def test_small_solves_stay_in_numpy_and_large_ones_are_compiled(monkeypatch):
    from diffview.core import _loader
    from diffview.core.background._iterate import MAX_IMAGES, numpy_bg_iterate

    monkeypatch.setattr(_loader, "_loaded", lambda: False)
    monkeypatch.setattr(_loader, "_numpy_spent", [0.0])
    assert bg_montage._iterate(10000, 40, 300) is numpy_bg_iterate
    assert bg_montage._iterate(10000, 300, 3000) is not numpy_bg_iterate
    # past MAX_IMAGES the dense matrix would be too big, however few iterations
    assert bg_montage._iterate(1, MAX_IMAGES + 1, 10) is not numpy_bg_iterate


# ---------------------------------------------------------------- parity and truth


@pytest.mark.montage
@pytest.mark.parametrize("mode", [0, 1])
def test_parity_with_mbgmodel(mosaic, mode, iterations):
    ref = read_corr_tbl(mosaic["root"] / f"corr{mode}.tbl")
    mine = as_dict(solve_montage(mosaic["geo"], mosaic["fits"], mode=mode))
    assert sorted(mine) == sorted(ref)
    for cid, vals in ref.items():
        assert mine[cid] == pytest.approx(vals, abs=1e-3)


@pytest.mark.montage
def test_truth_montage_compatible_matches_montagepy(mosaic):
    ref = truth_rms(
        read_corr_tbl(mosaic["root"] / "corr0.tbl"), mosaic["truth"], mosaic["images"]
    )
    compat = truth_rms(
        as_dict(solve_montage(mosaic["geo"], mosaic["fits"])),
        mosaic["truth"],
        mosaic["images"],
    )
    assert ref < 0.5  # planes of ~5 DN recovered to a fraction of a DN
    assert compat <= ref * 1.01


@pytest.mark.montage
def test_plain_direct_solve_is_the_point_montage_converges_to(mosaic):
    plain = solve_direct(mosaic["geo"], mosaic["fits"], regularize=None, robust=False)
    direct = as_dict(plain)
    long = as_dict(solve_montage(mosaic["geo"], mosaic["fits"], niteration=60000))
    t, imgs = mosaic["truth"], mosaic["images"]
    assert truth_rms(direct, t, imgs) == pytest.approx(
        truth_rms(long, t, imgs), rel=1e-3
    )


@pytest.mark.montage
def test_direct_solve_beats_mbgmodel_when_iterations_do_not_converge(tmp_path):
    # 80 tiles, low noise: 10000 of Montage's half-steps leave long-wavelength
    # errors; one sparse solve has none.
    truth = make_mosaic(tmp_path, ntx=10, nty=8, noise=0.1, seed=3)
    run_montage(tmp_path)
    images = ascii.read(str(tmp_path / "images.tbl"), format="ipac")
    geo, fits_ = image_geometry(images), read_fits_tbl(tmp_path / "fits.tbl")
    ref = truth_rms(read_corr_tbl(tmp_path / "corr0.tbl"), truth, images)
    direct = truth_rms(as_dict(solve_direct(geo, fits_)), truth, images)
    plain = solve_direct(geo, fits_, regularize=None, robust=False)
    assert direct < 0.7 * ref and truth_rms(as_dict(plain), truth, images) < 0.7 * ref


# ------------------------------------------------- direct solve: prior, robustness


def test_prior_needs_loops_else_the_plain_solve():
    # a chain of fits (no loop) says nothing about the fit noise: plain answer
    geo = image_geometry(geo_table(3))
    fits_ = [level_fit(0, 1, 2.0), level_fit(1, 2, -1.0)]
    auto = as_dict(solve_direct(geo, fits_, robust=False))
    plain = as_dict(solve_direct(geo, fits_, regularize=None, robust=False))
    assert auto == plain
    assert plain[0][2] - plain[1][2] == pytest.approx(2.0)
    with pytest.raises(InputError, match="regularize"):
        solve_direct(geo, fits_, regularize=0.5)


@pytest.mark.montage
def test_prior_keeps_locked_images_at_zero(mosaic):
    locked = image_geometry(mosaic["images"], locked=[3])
    corrs = as_dict(solve_direct(locked, mosaic["fits"]))
    assert corrs[3] == (0.0, 0.0, 0.0)
    free = as_dict(solve_direct(mosaic["geo"], mosaic["fits"]))
    t, imgs = mosaic["truth"], mosaic["images"]
    assert truth_rms(corrs, t, imgs) == pytest.approx(truth_rms(free, t, imgs), abs=0.1)


@pytest.mark.montage
def test_prior_is_weak_where_the_fits_are_strong(mosaic):
    # 12 tiles, 1 DN noise, planes of 5 DN: the estimated level spread is
    # large, so level-only corrections barely move from least squares
    geo, fits_ = mosaic["geo"], mosaic["fits"]
    auto = as_dict(solve_direct(geo, fits_, level_only=True, robust=False))
    plain = solve_direct(geo, fits_, level_only=True, robust=False, regularize=None)
    for c in plain:
        assert auto[c.id][2] == pytest.approx(c.c, abs=0.05)


@pytest.mark.montage
def test_robust_solve_ignores_a_wild_fit(mosaic):
    geo, fits_ = mosaic["geo"], list(mosaic["fits"])
    clean = as_dict(solve_direct(geo, fits_))
    bad = fits_[5]
    fits_[5] = replace(bad, c=bad.c + 300.0, a=bad.a + 1.0)
    robust = as_dict(solve_direct(geo, fits_))
    plain = as_dict(solve_direct(geo, fits_, robust=False, regularize=None))
    t, imgs = mosaic["truth"], mosaic["images"]
    assert truth_rms(robust, t, imgs) == pytest.approx(
        truth_rms(clean, t, imgs), abs=0.02
    )
    assert truth_rms(plain, t, imgs) > 10 * truth_rms(robust, t, imgs)


# ------------------------------------------- direct solve at survey scale


@pytest.fixture
def survey_path(monkeypatch):
    """Send every solve through the survey-scale path (multilevel CG with at
    least two levels, prior strengths from a patch of ``patch`` images)."""
    from diffview.core.background import _multilevel, _survey

    def use(patch=10**6):
        monkeypatch.setattr(_survey, "_LARGE", 0)
        monkeypatch.setattr(_survey, "_PATCH", patch)
        monkeypatch.setattr(_multilevel, "_COARSE", 30)

    return use


def plane_rms(corrs, truth, geo):
    return np.nanmax(rms_per_image(corrs, truth, geo))


def as_array(corrs):
    return np.array([(c.a, c.b, c.c) for c in corrs])


@pytest.mark.parametrize(
    ("kwargs", "tol"),
    [
        ({"regularize": None, "robust": False}, 1e-6),
        ({"robust": False}, 1e-6),
        ({"level_only": True, "robust": False, "regularize": None}, 1e-6),
        ({"locked": [3, 17], "regularize": None, "robust": False}, 1e-6),
        ({"locked": [3], "robust": False}, 1e-6),
        ({"regularize": None}, 1e-4),
        ({}, 5e-3),  # the second evidence search starts from the first
    ],
)
def test_survey_path_gives_the_exact_solve(survey_path, kwargs, tol):
    # 60 images with wild fits: the same corrections (DN over each image)
    # from the multilevel CG path as from the factorised one
    geo, fits_, truth = make_survey(60, seed=2, wild=0.02)
    exact = solve_direct(geo, fits_, **kwargs)
    survey_path()
    fast = solve_direct(geo, fits_, **kwargs)
    assert [c.id for c in fast] == [c.id for c in exact]
    assert plane_rms(fast, as_array(exact), geo) < tol
    if "locked" in kwargs:
        assert all(as_array(fast)[k].tolist() == [0, 0, 0] for k in kwargs["locked"])


def test_survey_path_splits_disconnected_groups_like_the_exact_solve(survey_path):
    # two fields with no overlap between them: each group's corrections sum
    # to zero, as in the exact solve
    geo, fits_, _ = make_survey(60, seed=3)
    half = [f for f in fits_ if (f.plus < 30) == (f.minus < 30)]
    exact = as_array(solve_direct(geo, half, regularize=None, robust=False))
    survey_path()
    fast = as_array(solve_direct(geo, half, regularize=None, robust=False))
    assert np.abs(fast - exact).max() < 1e-6
    assert np.abs(fast[:30].sum(axis=0)).max() < 1e-6


def test_prior_strengths_from_a_patch_recover_the_planes(survey_path):
    # the prior's strengths from 120 of 240 images: as close to the injected
    # planes as with the evidence of every fit, and closer than least squares
    geo, fits_, truth = make_survey(240, seed=4)
    exact = np.median(rms_per_image(solve_direct(geo, fits_), truth, geo))
    survey_path(patch=120)
    fast = np.median(rms_per_image(solve_direct(geo, fits_), truth, geo))
    plain = solve_direct(geo, fits_, regularize=None)
    assert fast < 0.5
    assert fast == pytest.approx(exact, abs=0.02)
    assert fast < 0.8 * np.median(rms_per_image(plain, truth, geo))


@pytest.fixture(scope="module")
def survey_2000():
    # above the 1500 images where solve_direct takes the survey path: three
    # multilevel levels, the prior's strengths from an 800-image patch
    return make_survey(2000, seed=5, wild=0.01)


def test_survey_path_at_scale_gives_the_exact_plain_solve(survey_2000, monkeypatch):
    # the sparse path (normal equations from a block pattern, multilevel CG)
    # against one factorised solve of the same equations
    from diffview.core.background import _survey

    geo, fits_, _ = survey_2000
    kwargs = {"regularize": None, "robust": False}
    fast = solve_direct(geo, fits_, **kwargs)
    monkeypatch.setattr(_survey, "_LARGE", 10**9)
    exact = solve_direct(geo, fits_, **kwargs)
    assert [c.id for c in fast] == [c.id for c in exact] == list(range(2000))
    assert plane_rms(fast, as_array(exact), geo) < 1e-6


def test_survey_defaults_at_scale_recover_the_planes(survey_2000, monkeypatch):
    # defaults (robust, prior): loose solves inside the reweighting, one
    # multilevel hierarchy refreshed for each new set of weights, give the
    # answer of solving every pass in full, within 0.5 DN of the injected
    # planes and closer to them than robust least squares
    from diffview.core.background import _survey

    geo, fits_, truth = survey_2000
    fast = solve_direct(geo, fits_)
    plain = solve_direct(geo, fits_, regularize=None)
    monkeypatch.setattr(_survey, "_LOOSE", 0.0)
    full = solve_direct(geo, fits_)
    assert plane_rms(fast, as_array(full), geo) < 2e-3
    rms = np.median(rms_per_image(fast, truth, geo))
    assert rms < 0.5
    assert rms < 0.8 * np.median(rms_per_image(plain, truth, geo))


def _random_problem(rng, nimg, npairs, p=3):
    pidx = rng.integers(0, nimg, npairs)
    midx = (pidx + rng.integers(1, nimg, npairs)) % nimg
    A = rng.normal(size=(npairs, p, p))
    W = np.einsum("kij,klj->kil", A, A) + 0.1 * np.eye(p)
    return pidx, midx, W, rng.normal(size=(npairs, p)), np.array([1e-3, 1e-3, 1.0])


@pytest.mark.parametrize("seed", range(6))
def test_pinned_solve_equals_the_constrained_least_squares(seed):
    """The positive definite path gives the saddle-point (KKT) solve's answer:
    disconnected groups, an image in no pair, a group with a locked image."""
    from diffview.core.background import _linear

    rng = np.random.default_rng(seed)
    nimg = 12
    # two groups (images 0-5 and 6-10) and image 11 in no pair
    a = _random_problem(rng, 6, 14)
    b = _random_problem(rng, 5, 10)
    pidx = np.concatenate([a[0], b[0] + 6])
    midx = np.concatenate([a[1], b[1] + 6])
    W, target, scale = np.concatenate([a[2], b[2]]), np.concatenate([a[3], b[3]]), a[4]
    locked = np.zeros(nimg, bool)
    locked[7 + seed % 3] = seed % 2 == 1  # sometimes one locked image in group 2
    args = (pidx, midx, W, target, nimg, scale, locked)
    fast = _linear._solve_once(*args)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(_linear, "_pinned_solve", lambda *a: None)
        kkt = _linear._solve_once(*args)
    np.testing.assert_allclose(fast, kkt, rtol=1e-8, atol=1e-9 * np.abs(kkt).max())
    assert np.allclose(fast[11], 0.0)  # no pair: no correction
    assert np.allclose(fast[:6].sum(axis=0), 0.0, atol=1e-9)  # a free group sums to 0
    if locked.any():
        assert np.allclose(fast[locked], 0.0, atol=1e-12)
    else:
        assert np.allclose(fast[6:11].sum(axis=0), 0.0, atol=1e-9)


def test_two_locked_images_in_a_group_keep_the_constrained_solve():
    from diffview.core.background import _linear

    rng = np.random.default_rng(0)
    pidx, midx, W, target, scale = _random_problem(rng, 5, 10)
    locked = np.array([True, True, False, False, False])
    normal, rhs = _linear._assemble(pidx, midx, W, target, 5, scale)
    assert _linear._pinned_solve(normal, rhs, pidx, midx, 5, 3, locked) is None
    u = _linear._solve_once(pidx, midx, W, target, 5, scale, locked)
    assert np.allclose(u[:2], 0.0, atol=1e-12)


# ------------------------------------- warm start (the dashboard's re-solve)


def test_a_warm_start_gives_the_fresh_answer_without_the_plain_stage(monkeypatch):
    geo, fits_, truth = make_survey(60, seed=2, wild=0.02)
    first = solve_direct(geo, fits_, full_output=True)
    assert isinstance(first, DirectSolution) and len(first.strengths) == 2
    assert first.corrections == solve_direct(geo, fits_)
    drop = [(fits_[k].plus, fits_[k].minus) for k in (7, 30, 51)]
    fresh = solve_direct(geo, fits_, exclude_pairs=drop, full_output=True)
    calls = []
    real = bg_evidence._robust_plain
    monkeypatch.setattr(
        bg_evidence, "_robust_plain", lambda *a: calls.append(a) or real(*a)
    )
    warm = solve_direct(geo, fits_, exclude_pairs=drop, start=first, full_output=True)
    assert calls == []  # started from the answer, not from the plain solve
    # 2% wild fits: another path of reweighting, 0.01 DN against 0.3 DN errors
    assert plane_rms(warm.corrections, as_array(fresh.corrections), geo) < 0.02
    np.testing.assert_allclose(warm.strengths, fresh.strengths, atol=0.05)
    assert plane_rms(warm.corrections, truth, geo) == pytest.approx(
        plane_rms(fresh.corrections, truth, geo), abs=0.01
    )


def test_a_warm_start_still_rejects_a_fit_gone_wild():
    geo, fits_, truth = make_survey(60, seed=4)
    start = solve_direct(geo, fits_, full_output=True)
    bad = fits_[12]
    fits_[12] = replace(bad, c=bad.c + 300.0, a=bad.a + 0.5)
    fresh = solve_direct(geo, fits_)
    warm = solve_direct(geo, fits_, start=start)
    plain = solve_direct(geo, fits_, robust=False, regularize=None)
    assert plane_rms(warm, as_array(fresh), geo) < 5e-3
    assert plane_rms(plain, truth, geo) > 10 * plane_rms(warm, truth, geo)


@pytest.mark.parametrize(
    ("kwargs", "nstrengths"),
    [({"level_only": True}, 1), ({"regularize": None}, 0), ({}, 2)],
)
def test_a_start_missing_an_image_is_a_fresh_solve(kwargs, nstrengths):
    geo, fits_, _ = make_survey(60, seed=2)
    without = solve_direct(geo, fits_, exclude_images=[5], full_output=True, **kwargs)
    assert len(without.strengths) == nstrengths
    fresh = solve_direct(geo, fits_, **kwargs)
    assert solve_direct(geo, fits_, start=without, **kwargs) == fresh


def test_no_fit_is_no_correction_in_either_form():
    geo, _, _ = make_survey(8, seed=1)
    assert solve_direct(geo, []) == []
    assert solve_direct(geo, [], full_output=True) == DirectSolution([], ())


def test_a_start_that_solved_the_same_inputs_is_the_answer():
    """Re-solving with nothing changed changes nothing (and costs nothing)."""
    geo, fits_, truth = make_survey(60, seed=2)
    first = solve_direct(geo, fits_, full_output=True)
    again = solve_direct(geo, fits_, start=first, full_output=True)
    assert again == first and again.corrections is not first.corrections
    # other options, another problem: solved, from that start
    other = solve_direct(geo, fits_, robust=False, start=first, full_output=True)
    fresh = solve_direct(geo, fits_, robust=False, full_output=True)
    assert other.problem == fresh.problem != first.problem
    np.testing.assert_allclose(other.strengths, fresh.strengths, atol=0.01)
    assert np.nanmean(rms_per_image(other.corrections, truth, geo)) == pytest.approx(
        np.nanmean(rms_per_image(fresh.corrections, truth, geo)), rel=0.01
    )


def test_a_start_far_from_the_answer_still_gives_it():
    """Huber's reweighting first: wherever the corrections start (tens to a
    thousand DN off), the biweight ends at the same answer."""
    geo, fits_, _ = make_survey(60, seed=2, wild=0.02)
    fresh = solve_direct(geo, fits_, full_output=True)
    answers = []
    for spread in (50.0, 1000.0):
        rng = np.random.default_rng(0)
        off = [replace(c, c=c.c + rng.normal(0, spread)) for c in fresh.corrections]
        start = DirectSolution(off, fresh.strengths)
        answers.append(solve_direct(geo, fits_, start=start))
        assert plane_rms(answers[-1], as_array(fresh.corrections), geo) < 0.02
    assert plane_rms(answers[0], as_array(answers[1]), geo) < 1e-3
    nan = [replace(off[0], c=float("nan")), *off[1:]]
    assert solve_direct(geo, fits_, start=DirectSolution(nan, fresh.strengths)) == (
        fresh.corrections
    )
