"""File-level fits and corrections: fit_planes, differences_and_fits and
apply_corrections, the MontagePy-compatible functions and the CLI, against
MontagePy on the same files."""

import shutil

import numpy as np
import pytest
from astropy.io import ascii, fits
from mosaic_fields import make_mosaic, read_corr_tbl, read_fits_tbl, run_montage

from conftest import MP
from diffview import io
from diffview.cli import main
from diffview.montage import (
    mBackground,
    mBgExec,
    mBgModel,
    mDiffFitExec,
    mFitExec,
    mFitplane,
)
from diffview.run import differences_and_fits, fit_planes, read_difference_file

INTS = ("xmin", "xmax", "ymin", "ymax")
BOX = ("boxx", "boxy", "boxwidth", "boxheight", "boxang")


@pytest.fixture(scope="module")
def mosaic(tmp_path_factory):
    root = tmp_path_factory.mktemp("fitexec")
    make_mosaic(root, ntx=3, nty=3)
    run_montage(root, modes=(1,))
    return root


def assert_same_fits(mine, ref):
    assert [(f.plus, f.minus) for f in mine] == [(f.plus, f.minus) for f in ref]
    for m, r in zip(mine, ref, strict=True):
        for k in ("a", "b", "c"):
            assert getattr(m, k) == pytest.approx(getattr(r, k), rel=1e-5, abs=1e-6), k
        assert m.npixel == r.npixel
        assert [int(getattr(m, k)) for k in INTS] == [getattr(r, k) for k in INTS]
        assert [round(getattr(m, k), 1) for k in BOX] == pytest.approx(
            [getattr(r, k) for k in BOX], abs=1e-9
        )
        assert m.rms == pytest.approx(r.rms, rel=1e-5)


@pytest.mark.montage
def test_read_difference_file_matches_astropy(mosaic):
    name = sorted((mosaic / "diffs").glob("diff.*[0-9].fits"))[0]
    data, crpix = read_difference_file(name)
    hdr = fits.getheader(name)
    assert np.array_equal(data, fits.getdata(name), equal_nan=True)
    assert crpix == (hdr["CRPIX1"], hdr["CRPIX2"])


@pytest.mark.montage
def test_fit_planes_parity_with_mfitexec(mosaic, tmp_path):
    out = tmp_path / "fits.tbl"
    r = fit_planes(mosaic / "diffs.tbl", out, mosaic / "diffs", workers=1, quiet=True)
    assert (r.count, r.failed, r.missing) == (
        len(io.read_diffs_table(mosaic / "diffs.tbl")),
        0,
        0,
    )
    ref = read_fits_tbl(mosaic / "fits.tbl")
    assert_same_fits(io.read_fits_table(out), ref)
    assert_same_fits(r.fits, ref)


@pytest.mark.montage
def test_fit_planes_counts_missing_broken_and_singular(mosaic, tmp_path):
    diffdir = tmp_path / "d"
    shutil.copytree(mosaic / "diffs", diffdir)
    overlaps = io.read_diffs_table(mosaic / "diffs.tbl")
    (diffdir / overlaps[0].diff).unlink()
    (diffdir / overlaps[1].diff).write_text("not a FITS file")
    with fits.open(diffdir / overlaps[2].diff, mode="update") as hdul:
        line = np.full(hdul[0].data.shape, np.nan)
        line[0, :] = 1.0
        hdul[0].data = line
    r = fit_planes(overlaps, tmp_path / "fits.tbl", diffdir, workers=2, quiet=True)
    assert (r.count, r.missing, r.fit_failed, r.failed) == (len(overlaps), 1, 2, 3)
    assert any("Singular Matrix" in msg for _, msg in r.failures)
    assert len(io.read_fits_table(tmp_path / "fits.tbl")) == len(overlaps) - 3


@pytest.mark.montage
def test_differences_and_fits_parity_with_mdifffitexec(mosaic, tmp_path):
    ref_exec = MP.mDiffFitExec

    (tmp_path / "m").mkdir()
    (tmp_path / "k").mkdir()
    ref = ref_exec(
        str(mosaic / "proj"),
        str(mosaic / "diffs.tbl"),
        str(mosaic / "template.hdr"),
        str(tmp_path / "m"),
        str(tmp_path / "ref.tbl"),
        False,
        False,
        False,
        "",
        0,
    )
    r = differences_and_fits(
        mosaic / "proj",
        mosaic / "diffs.tbl",
        mosaic / "template.hdr",
        tmp_path / "k",
        tmp_path / "fits.tbl",
        workers=1,
        quiet=True,
    )
    assert (r.count, r.diff_failed, r.fit_failed) == (
        ref["count"],
        ref["diff_failed"],
        ref["fit_failed"],
    )
    assert_same_fits(r.fits, read_fits_tbl(tmp_path / "ref.tbl"))
    assert list((tmp_path / "k").iterdir()) == []
    r2 = differences_and_fits(
        mosaic / "proj",
        mosaic / "diffs.tbl",
        mosaic / "template.hdr",
        tmp_path / "k",
        None,
        keep_all=True,
        workers=2,
        quiet=True,
    )
    assert len(list((tmp_path / "k").glob("*_area.fits"))) == len(r2.fits)


@pytest.mark.montage
def test_montage_api_chain_and_mbgexec_parity(mosaic, tmp_path):
    ref_bgexec = MP.mBgExec

    fits_tbl, corr = str(tmp_path / "fits.tbl"), str(tmp_path / "corr.tbl")
    r = mFitExec(str(mosaic / "diffs.tbl"), fits_tbl, str(mosaic / "diffs"), False, 0)
    assert r["status"] == "0" and r["failed"] == 0 and r["missing"] == 0
    m = mBgModel(str(mosaic / "images.tbl"), fits_tbl, corr, "", True, False, 10000, 0)
    assert m == {"status": "0"}  # MontagePy 2.3.0 returns nothing else
    ref = read_corr_tbl(mosaic / "corr1.tbl")
    for cid, vals in read_corr_tbl(corr).items():
        assert vals == pytest.approx(ref[cid], abs=1e-3)
    for d in ("mine", "ref"):
        (tmp_path / d).mkdir()
    b = mBgExec(
        str(mosaic / "proj"),
        str(mosaic / "images.tbl"),
        corr,
        str(tmp_path / "mine"),
        False,
        0,
    )
    assert b == {"status": "0", "count": 9, "nocorrection": 0, "failed": 0}
    ref_bgexec(
        str(mosaic / "proj"),
        str(mosaic / "images.tbl"),
        corr,
        str(tmp_path / "ref"),
        False,
        0,
    )
    for f in sorted((tmp_path / "ref").glob("*.fits")):
        np.testing.assert_allclose(
            fits.getdata(tmp_path / "mine" / f.name),
            fits.getdata(f),
            rtol=1e-12,
            equal_nan=True,
        )


@pytest.mark.montage
def test_montage_reads_corrections_carrying_prior_strengths(mosaic, tmp_path):
    """The strengths keyword diffview writes is skipped by Montage's reader."""
    corrections = io.read_corrections_table(mosaic / "corr1.tbl")
    out = {}
    for name, strengths in (("plain", ()), ("kept", (-13.7, -11.1))):
        io.write_corrections_table(corrections, tmp_path / f"{name}.tbl", strengths)
        (tmp_path / name).mkdir()
        r = MP.mBgExec(
            str(mosaic / "proj"), str(mosaic / "images.tbl"),
            str(tmp_path / f"{name}.tbl"), str(tmp_path / name), False, 0,
        )
        assert r["status"] == "0" and r["count"] == 9 and r["nocorrection"] == 0
        out[name] = sorted((tmp_path / name).glob("*.fits"))
    assert io.read_corrections_table(tmp_path / "kept.tbl", strengths=True)[1] == (
        -13.7, -11.1
    )
    assert len(out["kept"]) == len(out["plain"]) == 18  # images and areas
    for a, b in zip(out["plain"], out["kept"], strict=True):
        np.testing.assert_array_equal(fits.getdata(a), fits.getdata(b))


def test_montage_api_errors_are_dicts(tmp_path):
    assert mFitplane(str(tmp_path / "none.fits"))["status"] == "1"
    assert (
        mFitExec(str(tmp_path / "none.tbl"), str(tmp_path / "f.tbl"))["status"] == "1"
    )
    assert (
        mDiffFitExec(
            ".", "d.tbl", "t.hdr", str(tmp_path / "no"), str(tmp_path / "f.tbl")
        )["msg"]
        == f"Cannot access {tmp_path}/no".encode()
    )
    assert mBgModel(str(tmp_path / "i.tbl"), "f.tbl", str(tmp_path / "c.tbl"))[
        "msg"
    ] == (f"Invalid image metadata file: {tmp_path}/i.tbl".encode())
    assert (
        mBackground(str(tmp_path / "x.fits"), str(tmp_path / "y.fits"), 0, 0, 1)[
            "status"
        ]
        == "1"
    )
    assert mBgExec(".", "i.tbl", "c.tbl", str(tmp_path / "no"))["status"] == "1"


@pytest.mark.montage
def test_mfitplane_returns_montage_fields(mosaic):
    ref_fit = MP.mFitplane

    name = str(sorted((mosaic / "diffs").glob("diff.*[0-9].fits"))[0])
    mine, ref = mFitplane(name, False, False, 0, 0), ref_fit(name, False, False, 0, 0)
    assert mine["status"] == "0" and mine["msg"].startswith(b"a=")
    for key in ("a", "b", "c", "npixel", "rms", "boxwidth", "boxang"):
        assert mine[key] == pytest.approx(ref[key], rel=1e-9, abs=1e-12)


@pytest.mark.montage
def test_cli_fitexec_bgmodel_bgexec(mosaic, tmp_path, capsys):
    fits_tbl, corr = tmp_path / "fits.tbl", tmp_path / "corr.tbl"
    assert (
        main(
            [
                "fitexec",
                "--quiet",
                "--workers",
                "1",
                str(mosaic / "diffs.tbl"),
                str(fits_tbl),
                str(mosaic / "diffs"),
            ]
        )
        == 0
    )
    assert "count=" in capsys.readouterr().out
    assert (
        main(
            [
                "bgmodel",
                "--direct",
                "--exclude-pair",
                "0,1",
                str(mosaic / "images.tbl"),
                str(fits_tbl),
                str(corr),
            ]
        )
        == 0
    )
    assert len(ascii.read(str(corr), format="ipac")) == 9
    (tmp_path / "c").mkdir()
    assert (
        main(
            [
                "bgexec",
                "-p",
                str(mosaic / "proj"),
                "--quiet",
                str(mosaic / "images.tbl"),
                str(corr),
                str(tmp_path / "c"),
            ]
        )
        == 0
    )
    assert len(list((tmp_path / "c").glob("*_area.fits"))) == 9
    assert (
        main(
            [
                "bgmodel",
                "--exclude-pair",
                "x",
                str(mosaic / "images.tbl"),
                str(fits_tbl),
                str(corr),
            ]
        )
        == 1
    )
    assert "--exclude-pair" in capsys.readouterr().err


@pytest.mark.montage
def test_differences_and_fits_counts_missing_images_and_appends_s(mosaic, tmp_path):
    proj = tmp_path / "proj"
    shutil.copytree(mosaic / "proj", proj)
    overlaps = [
        ov.__class__(
            ov.cntr1,
            ov.cntr2,
            ov.plus.split("/")[-1],
            ov.minus.split("/")[-1],
            ov.diff[:-1],
        )
        for ov in io.read_diffs_table(mosaic / "diffs.tbl")
    ]
    victim = overlaps[0].plus
    (proj / victim).unlink()
    (tmp_path / "k").mkdir()
    r = differences_and_fits(
        proj,
        overlaps,
        mosaic / "template.hdr",
        tmp_path / "k",
        None,
        keep_all=True,
        workers=1,
        quiet=True,
    )
    touching = sum(victim in (ov.plus, ov.minus) for ov in overlaps)
    assert (r.count, r.diff_failed, r.fit_failed) == (len(overlaps), touching, 0)
    assert all("Image file" in msg and victim in msg for _, msg in r.failures)
    kept = sorted(p.name for p in (tmp_path / "k").glob("diff.*[0-9].fits"))
    assert len(kept) == len(overlaps) - touching and all(
        n.endswith(".fits") for n in kept
    )


def test_apply_corrections_subtracts_each_plane_and_counts(small_sample, tmp_path):
    from diffview.models import Correction
    from diffview.run import apply_corrections

    s = small_sample
    table = io.read_table(s.images_tbl)
    names = [str(r["fname"]) for r in table]
    ids = [int(r["cntr"]) for r in table]
    corrs = [
        Correction(ids[0], 1e-3, -2e-3, 5.0),
        Correction(ids[1], 0.0, 0.0, -1.5),
    ]
    proj = tmp_path / "proj"
    shutil.copytree(s.proj_dir, proj)
    (proj / names[-1]).unlink()  # a missing image is counted, not fatal
    out = tmp_path / "corrected"
    out.mkdir()
    r = apply_corrections(proj, s.images_tbl, corrs, out, quiet=True)
    assert (r.count, r.nocorrection, r.failed) == (len(names), len(names) - 2, 1)
    (where, msg), = r.failures
    assert where.endswith(names[-1]) and "missing or invalid FITS" in msg
    planes = [(c.a, c.b, c.c) for c in corrs] + [(0.0, 0.0, 0.0)]
    for name, (a, b, c) in zip(names[:3], planes, strict=True):
        data, hdr = io.read_image(proj / name)
        area, _ = io.read_image(proj / name.replace(".fits", "_area.fits"))
        y, x = np.mgrid[: data.shape[0], : data.shape[1]]
        plane = a * (x - hdr["CRPIX1"]) + b * (y - hdr["CRPIX2"]) + c
        good = np.isfinite(data) & (area > 0)
        expected = np.where(good, data - plane, np.nan)
        got = fits.getdata(out / name)
        assert got.dtype.itemsize == 8 and np.isfinite(got).sum() == good.sum() > 0
        np.testing.assert_allclose(got, expected, rtol=1e-12, atol=0, equal_nan=True)
        got_area = fits.getdata(out / name.replace(".fits", "_area.fits"))
        np.testing.assert_array_equal(got_area, np.where(good, area, 0.0))
    assert not (out / names[-1]).exists()
