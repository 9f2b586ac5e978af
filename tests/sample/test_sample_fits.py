"""Fits, background model and quality on the built-in sample data, against MontagePy
and against the injected planes.

Layouts: the ``small`` and ``m17`` presets, and ``dense``: small tiles whose scans
are covered twice (tiles two apart in a scan touch in 0-3 pixel strips, whose fits
are off by up to hundreds of DN while the median fit is good to ~0.1 DN).
"""

from types import SimpleNamespace

import numpy as np
import pytest

from conftest import MP
from diffview import io
from diffview.cli import main
from diffview.core.background import (
    image_geometry,
    recovery_error,
    solve_direct,
    solve_montage,
)
from diffview.core.quality import assess_fits
from diffview.run import compute_differences, differences_and_fits, fit_planes
from diffview.sample import datasets

#: A denser field than the presets: scans covered twice (step = half a tile).
DENSE = dict(
    ncols=2, nrows=8, tile=(96, 64), step=(47, 52), stars=200, blobs=4, noise=2.0
)
INTS = ("xmin", "xmax", "ymin", "ymax")
BOX = ("boxx", "boxy", "boxwidth", "boxheight", "boxang")


def build(root, preset, *, seed=0, layout=None):
    """Sample, stored differences and diffview's fits; ``layout`` adds a preset."""
    with pytest.MonkeyPatch.context() as mp:
        if layout is not None:
            mp.setitem(datasets.PRESETS, preset, layout)
        sample = datasets.write_sample(root, preset, seed=seed, workers=1)
    compute_differences(
        sample.proj_dir,
        sample.diffs_tbl,
        sample.template,
        sample.diff_dir,
        quiet=True,
        workers=1,
    )
    result = fit_planes(
        sample.diffs_tbl, sample.fits_tbl, sample.diff_dir, quiet=True, workers=1
    )
    images = io.read_table(sample.images_tbl)
    return SimpleNamespace(
        sample=sample,
        fits=result.fits,
        failures=result.failures,
        geo=image_geometry(images),
        ref=None,
    )


def montage_ref(data):
    """MontagePy's mFitExec + mBgModel on the same differences (cached)."""
    if data.ref is None:
        mBgModel, mFitExec = MP.mBgModel, MP.mFitExec

        s = data.sample
        fits_tbl, corr_tbl = s.root / "mfits.tbl", s.root / "mcorr.tbl"
        out = mFitExec(str(s.diffs_tbl), str(fits_tbl), str(s.diff_dir), False, 0)
        assert out["status"] == "0", out
        out = mBgModel(
            str(s.images_tbl), str(fits_tbl), str(corr_tbl), "", False, False, 10000, 0
        )
        assert out["status"] == "0", out
        data.ref = SimpleNamespace(
            fits=io.read_fits_table(fits_tbl),
            corrections=io.read_corrections_table(corr_tbl),
        )
    return data.ref


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    return build(tmp_path_factory.mktemp("small"), "small")


@pytest.fixture(scope="module")
def m17(tmp_path_factory):
    return build(tmp_path_factory.mktemp("m17"), "m17")


@pytest.fixture(scope="module")
def dense(tmp_path_factory):
    return build(tmp_path_factory.mktemp("dense"), "dense", layout=DENSE)


@pytest.fixture
def data(request):
    return request.getfixturevalue(request.param)


def as_dict(corrs):
    return {c.id: (c.a, c.b, c.c) for c in corrs}


def box(f, *, canonical=False):
    """The rotated box to Montage's 0.1 pixel; ``canonical``: 0 <= angle < 90."""
    x, y, w, h, ang = (round(getattr(f, k), 1) for k in BOX)
    if canonical:
        ang %= 180.0
        if ang >= 90.0:
            ang, w, h = ang - 90.0, h, w
    return [x, y, w, h, ang]


def same_fit(m, r, *, canonical_box=False):
    for k in ("a", "b", "c"):
        assert getattr(m, k) == pytest.approx(getattr(r, k), rel=1e-5, abs=1e-6), k
    assert m.npixel == r.npixel
    assert [int(getattr(m, k)) for k in INTS] == [getattr(r, k) for k in INTS]
    assert box(m, canonical=canonical_box) == pytest.approx(
        box(r, canonical=canonical_box), abs=1e-9
    )
    assert (m.xcenter, m.ycenter) == pytest.approx((r.xcenter, r.ycenter), abs=0.0051)
    assert m.rms == pytest.approx(r.rms, rel=1e-5)


def read_own(data):
    """diffview's fits as read back from its fits.tbl (what mBgModel users read)."""
    return io.read_fits_table(data.sample.fits_tbl)


def level_errors(data):
    """|fit - injected difference| at each fit's box centre, DN."""
    t = data.sample.truth
    out = []
    for f in data.fits:
        a, b, c = np.subtract((f.a, f.b, f.c), np.subtract(t[f.plus], t[f.minus]))
        out.append(abs(a * f.boxx + b * f.boxy + c))
    return np.array(out)


# ------------------------------------------------------------------ fit parity


@pytest.mark.montage
@pytest.mark.parametrize("data", ["small", "m17"], indirect=True)
def test_fits_match_mfitexec(data):
    ref = montage_ref(data).fits
    assert [(f.plus, f.minus) for f in data.fits] == [(f.plus, f.minus) for f in ref]
    assert not data.failures
    for m, r in zip(data.fits, ref, strict=True):
        same_fit(m, r)


@pytest.mark.montage
def test_dense_fits_match_except_where_montage_fits_a_line(dense):
    # Montage's Gauss-Jordan only fails on an exact zero pivot: pixels on one
    # row give it a meaningless plane; diffview reports "Singular Matrix-2".
    ref = {(f.plus, f.minus): f for f in montage_ref(dense).fits}
    mine = {(f.plus, f.minus): f for f in dense.fits}
    assert set(mine) <= set(ref)
    for key in set(ref) - set(mine):
        r = ref[key]
        assert r.xmin == r.xmax or r.ymin == r.ymax
    failed = {(ov.plus, ov.minus): msg for ov, msg in dense.failures}
    for key in set(ref) - set(mine):
        assert "Singular Matrix-2" in failed[key]
    for key, m in mine.items():
        same_fit(m, ref[key])


@pytest.mark.montage
def test_one_pass_matches_mdifffitexec_and_stored_fits(small, tmp_path):
    mDiffFitExec = MP.mDiffFitExec

    s = small.sample
    (tmp_path / "m").mkdir()
    (tmp_path / "k").mkdir()
    out = mDiffFitExec(
        str(s.proj_dir),
        str(s.diffs_tbl),
        str(s.template),
        str(tmp_path / "m"),
        str(tmp_path / "ref.tbl"),
        False,
        False,
        False,
        "",
        0,
    )
    assert out["status"] == "0"
    r = differences_and_fits(
        s.proj_dir,
        s.diffs_tbl,
        s.template,
        tmp_path / "k",
        tmp_path / "fits.tbl",
        workers=1,
        quiet=True,
    )
    assert (r.count, r.diff_failed, r.fit_failed) == (
        out["count"],
        out["diff_failed"],
        out["fit_failed"],
    )
    ref = io.read_fits_table(tmp_path / "ref.tbl")
    for m, f, rr in zip(r.fits, small.fits, ref, strict=True):
        # MontagePy's mDiffFitExec and mFitExec break the tie between two
        # edges of a rectangular hull differently (13 x 60 at -90 degrees vs
        # 60 x 13 at 0 for the same pixels); diffview always answers as mFitExec
        same_fit(m, rr, canonical_box=True)
        assert m.npixel == f.npixel
        assert (m.a, m.b, m.c) == pytest.approx((f.a, f.b, f.c), rel=1e-12, abs=1e-14)


# ------------------------------------------------------- background model parity


@pytest.mark.montage
@pytest.mark.parametrize("data", ["small", "m17", "dense"], indirect=True)
def test_montage_compatible_solve_matches_mbgmodel(data, request):
    ref = montage_ref(data)
    expected = as_dict(ref.corrections)
    # MontagePy's fits.tbl, and diffview's as written (boxes to 0.1 pixel, as
    # Montage writes them: on the dense layout's one-pixel strips, whose planes
    # tilt by DN per pixel, that rounding alone moves corrections by ~1e-2)
    tables = [ref.fits]
    if request.node.callspec.id != "dense":
        tables.append(read_own(data))
    for fits in tables:
        mine = as_dict(solve_montage(data.geo, fits))
        assert sorted(mine) == sorted(expected)
        for cid, vals in expected.items():
            assert mine[cid] == pytest.approx(vals, abs=1e-3), cid


# ------------------------------------------------------------ truth recovery

#: direct solve rms / MontagePy's rms at most (measured: small 0.30, m17 0.63,
#: dense 0.04).
DIRECT_VS_MONTAGEPY = {"small": 0.5, "m17": 0.8, "dense": 0.2}


@pytest.mark.montage
@pytest.mark.parametrize("data", ["small", "m17", "dense"], indirect=True)
def test_recovered_corrections_against_injected_planes(data, request):
    truth = data.sample.truth
    ref = recovery_error(montage_ref(data).corrections, truth, data.geo)
    compat = recovery_error(solve_montage(data.geo, data.fits), truth, data.geo)
    direct = recovery_error(solve_direct(data.geo, data.fits), truth, data.geo)
    # planes of ~8 DN (MontagePy gets small/m17 to ~0.3 DN, dense to ~2.7 DN)
    assert ref < 3.0
    # dense: fits of one-pixel strips from unrounded boxes (see above) move
    # the answer by ~2 % either way (1.023 with mProjExec-like shrink-wrapped
    # projections, measured)
    assert compat <= ref * (1.03 if request.node.callspec.id == "dense" else 1.01)
    assert direct <= compat
    assert direct <= DIRECT_VS_MONTAGEPY[request.node.callspec.id] * ref


def test_plain_direct_solve_fits_the_noise_of_thin_strips(m17):
    # why the default has a prior: the plain least-squares answer (where
    # Montage's iteration converges) is further from the truth than the
    # unfinished iteration, the prior's answer much closer.
    truth, geo, fits = m17.sample.truth, m17.geo, m17.fits
    plain = solve_direct(geo, fits, regularize=None, robust=False)
    err = {
        "plain": recovery_error(plain, truth, geo),
        "montage": recovery_error(solve_montage(geo, fits), truth, geo),
        "direct": recovery_error(solve_direct(geo, fits), truth, geo),
    }
    assert err["direct"] < err["montage"] < err["plain"]
    assert err["direct"] < 0.3


# ------------------------------------------------------------------- quality


def test_quality_flags_the_thin_strips_that_are_off(dense):
    err = level_errors(dense)
    corrections = solve_direct(dense.geo, dense.fits)
    verdicts = assess_fits(dense.fits, images=dense.geo, corrections=corrections)
    flagged = np.array([not q.ok for q in verdicts])
    assert np.median(err) < 0.15
    assert (err > 1.0).sum() >= 3 and err.max() > 10.0
    assert flagged[err > 1.0].all()
    assert err[~flagged].max() < 0.5
    assert flagged.sum() <= 2 * (err > 1.0).sum()
    thin = [q for q in verdicts if "thin strip" in q.reasons]
    assert thin and all(not q.ok for q in thin)


def test_quality_has_nothing_to_flag_on_m17(m17):
    err = level_errors(m17)
    verdicts = assess_fits(
        m17.fits, images=m17.geo, corrections=solve_direct(m17.geo, m17.fits)
    )
    assert err.max() < 0.5 and np.median(err) < 0.1
    assert sum(not q.ok for q in verdicts) <= 2


# ----------------------------------------------------------------- end to end


def test_cli_bgmodel_and_bgexec_on_the_sample(small, tmp_path, capsys):
    s = small.sample
    corr = tmp_path / "corr.tbl"
    # no options: mode 0, as MontagePy's mBgModel; -t: mode 3 (toggle)
    for flags, mode in (([], 0), (["-t"], 3)):
        argv = ["bgmodel", *flags, str(s.images_tbl), str(s.fits_tbl), str(corr)]
        assert main(argv) == 0
        montage = as_dict(io.read_corrections_table(corr))
        expected = as_dict(solve_montage(small.geo, read_own(small), mode=mode))
        for cid, vals in expected.items():
            assert montage[cid] == pytest.approx(vals, abs=2e-5)
    direct_tbl = tmp_path / "direct.tbl"
    args = ["bgmodel", "--direct", str(s.images_tbl), str(s.fits_tbl)]
    assert main([*args, str(direct_tbl)]) == 0
    read, strengths = io.read_corrections_table(direct_tbl, strengths=True)
    direct = as_dict(read)
    solution = solve_direct(small.geo, read_own(small), full_output=True)
    for cid, vals in as_dict(solution.corrections).items():
        assert direct[cid] == pytest.approx(vals, abs=1e-5)
    # the prior strengths kept for the dashboard's first re-solve
    assert strengths == pytest.approx(solution.strengths, abs=1e-12)
    assert len(strengths) == 2
    assert recovery_error(direct, s.truth, small.geo) < 0.15
    out = tmp_path / "corrected"
    out.mkdir()
    argv = ["bgexec", "-p", str(s.proj_dir), str(s.images_tbl), str(direct_tbl)]
    assert main([*argv, str(out), "--quiet"]) == 0
    assert 'stat="OK"' in capsys.readouterr().out
    images = io.read_table(s.images_tbl)
    for row in images:
        before, hdr = io.read_image(s.proj_dir / str(row["fname"]))
        after, _ = io.read_image(out / str(row["fname"]))
        a, b, c = direct[int(row["cntr"])]
        j, i = np.mgrid[0 : before.shape[0], 0 : before.shape[1]]
        plane = a * (i - hdr["CRPIX1"]) + b * (j - hdr["CRPIX2"]) + c
        ok = np.isfinite(after)
        assert ok.sum() > 0.9 * before.size
        np.testing.assert_allclose(after[ok], (before - plane)[ok], atol=1e-3)


@pytest.mark.montage
def test_montage_api_bgmodel_and_bgexec_on_the_sample(small, tmp_path):
    ref_bgexec = MP.mBgExec

    from diffview.montage import mBgExec, mBgModel

    s = small.sample
    ref = montage_ref(small)
    out = mBgModel(str(s.images_tbl), str(s.fits_tbl), str(tmp_path / "c.tbl"))
    assert out == {"status": "0"}  # as MontagePy 2.3.0
    mine = as_dict(io.read_corrections_table(tmp_path / "c.tbl"))
    for cid, vals in as_dict(ref.corrections).items():
        assert mine[cid] == pytest.approx(vals, abs=1e-3)
    for name, fn in (("m", ref_bgexec), ("d", mBgExec)):
        (tmp_path / name).mkdir()
        res = fn(
            str(s.proj_dir),
            str(s.images_tbl),
            str(tmp_path / "c.tbl"),
            str(tmp_path / name),
        )
        assert res["status"] == "0", res
    for row in io.read_table(s.images_tbl):
        a, _ = io.read_image(tmp_path / "m" / str(row["fname"]))
        b, _ = io.read_image(tmp_path / "d" / str(row["fname"]))
        np.testing.assert_allclose(b, a, atol=1e-4, equal_nan=True)
