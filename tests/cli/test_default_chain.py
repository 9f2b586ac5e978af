"""The command line with no options against MontagePy's chain, step by step.

``diffview imgtbl``, ``overlaps``, ``diffexec``, ``fitexec``, ``bgmodel`` and
``bgexec`` with only their required arguments are run on a projected folder
beside what Montage's commands do with theirs (MontagePy called with the
command-line defaults: no corners, quick overlaps, mode 0), on a seeded
synthetic field and on real CFHT and DSS frames projected by MontagePy's
mProjExec. Nothing of ``docs/montage-semantics.md`` §9.2 is excluded: the
tables must print the same values, the differences be the same pixels, the
corrections agree within 1e-3 DN.
"""

import os
from pathlib import Path

import numpy as np
import pytest
from astropy.io import fits
from mosaic_fields import make_mosaic

from conftest import MP
from diffview import io
from diffview.cli import main

pytestmark = pytest.mark.montage

_HERE = Path(__file__).resolve().parents[2]
REAL = next(
    (
        d / "shared" / "data" / "real"
        for d in (_HERE.parent, _HERE.parent.parent)  # main checkout or worktree
        if (d / "shared" / "data" / "real").is_dir()
    ),
    _HERE / "missing",
)
CFHT = REAL / "cfht_a370" / "a370II.fits"
DSS = [REAL / "dss_midas" / f"dss_test{k}.fits" for k in (1, 2)]


def _cfht_tiles(raw):
    """Five overlapping 260 x 260 tiles cut from the CFHT frame (its CD matrix
    turned by 66 degrees, with skew), each with a seeded plane added."""
    with fits.open(CFHT) as hdul:
        frame, header = hdul[0].data.astype(np.float32), hdul[0].header.copy()
    for key in ("BSCALE", "BZERO", "BLANK"):
        header.remove(key, ignore_missing=True)
    header["BITPIX"] = -32
    rng = np.random.default_rng(16)
    y, x = np.mgrid[0:260, 0:260] - 130.0
    for k, (j0, i0) in enumerate(
        [(600, 700), (600, 900), (800, 700), (800, 900), (700, 800)]
    ):
        h = header.copy()
        h["CRPIX1"], h["CRPIX2"] = header["CRPIX1"] - i0, header["CRPIX2"] - j0
        a, b, c = rng.normal(0, 0.02), rng.normal(0, 0.02), rng.normal(0, 20)
        data = frame[j0 : j0 + 260, i0 : i0 + 260] + a * x + b * y + c
        fits.PrimaryHDU(data.astype(np.float32), h).writeto(raw / f"tile{k}.fits")


def _project(root, raw):
    """MontagePy's mImgtbl, mMakeHdr and mProjExec: the projected folder."""
    tbl, hdr = str(root / "raw.tbl"), str(root / "template.hdr")
    for res in (MP.mImgtbl(str(raw), tbl), MP.mMakeHdr(tbl, hdr)):
        assert res["status"] == "0", res
    (root / "proj").mkdir()
    res = MP.mProjExec(str(raw), tbl, hdr, str(root / "proj"))
    assert res["status"] == "0" and res["failed"] == 0, res


def _montage_chain(r):
    """Montage's commands with their defaults, through MontagePy."""
    for d in ("mdiffs", "mcorr"):
        os.mkdir(f"{r}/{d}")
    steps = [
        MP.mImgtbl(
            f"{r}/proj",
            f"{r}/m_images.tbl",
            False,
            False,
            True,
            False,
            False,
            False,
            False,
            "",
            "",
            0,
        ),
        MP.mOverlaps(f"{r}/m_images.tbl", f"{r}/m_diffs.tbl", True, 0),
        MP.mDiffExec(
            f"{r}/proj",
            f"{r}/m_diffs.tbl",
            f"{r}/template.hdr",
            f"{r}/mdiffs",
            False,
            0,
        ),
        MP.mFitExec(f"{r}/m_diffs.tbl", f"{r}/m_fits.tbl", f"{r}/mdiffs", False, 0),
        MP.mBgModel(f"{r}/m_images.tbl", f"{r}/m_fits.tbl", f"{r}/m_corr.tbl"),
        MP.mBgExec(f"{r}/proj", f"{r}/m_images.tbl", f"{r}/m_corr.tbl", f"{r}/mcorr"),
    ]
    for res in steps:
        assert res["status"] == "0" and res.get("failed", 0) == 0, res


def _diffview_chain(r):
    """diffview's commands with no options (``-p`` as Montage needs it too)."""
    for d in ("ddiffs", "dcorr"):
        os.mkdir(f"{r}/{d}")
    argvs = [
        ["imgtbl", f"{r}/proj", f"{r}/d_images.tbl"],
        ["overlaps", f"{r}/d_images.tbl", f"{r}/d_diffs.tbl"],
        [
            "diffexec",
            "-p",
            f"{r}/proj",
            "--quiet",
            f"{r}/d_diffs.tbl",
            f"{r}/template.hdr",
            f"{r}/ddiffs",
        ],
        ["fitexec", "--quiet", f"{r}/d_diffs.tbl", f"{r}/d_fits.tbl", f"{r}/ddiffs"],
        ["bgmodel", f"{r}/d_images.tbl", f"{r}/d_fits.tbl", f"{r}/d_corr.tbl"],
        [
            "bgexec",
            "-p",
            f"{r}/proj",
            "--quiet",
            f"{r}/d_images.tbl",
            f"{r}/d_corr.tbl",
            f"{r}/dcorr",
        ],
    ]
    for argv in argvs:
        assert main(argv) == 0, argv


@pytest.fixture(scope="module", params=["synthetic", "cfht", "dss"])
def chains(request, tmp_path_factory):
    """A projected folder and both chains run on it."""
    root = tmp_path_factory.mktemp(request.param)
    if request.param == "synthetic":
        make_mosaic(root, ntx=4, nty=3, twice=True, seed=16)  # proj/ and template
        os.rmdir(root / "diffs")
    else:
        if not CFHT.exists():
            pytest.skip("shared real data not present")
        raw = root / "raw"
        raw.mkdir()
        if request.param == "cfht":
            _cfht_tiles(raw)
        else:
            for path in DSS:
                (raw / path.name).symlink_to(path)
        _project(root, raw)
    _montage_chain(root)
    _diffview_chain(root)
    return root


def _records(path):
    """The data lines of a table, split into their printed values."""
    lines = Path(path).read_text().splitlines()
    return [line.split() for line in lines if not line.startswith(("|", "\\"))]


def test_tables_print_montages_values(chains):
    for name in ("images", "diffs"):
        mine, theirs = (
            _records(chains / f"d_{name}.tbl"),
            _records(chains / f"m_{name}.tbl"),
        )
        assert mine == theirs and len(theirs) >= 1, name
    mine = io.read_fits_table(chains / "d_fits.tbl")
    theirs = io.read_fits_table(chains / "m_fits.tbl")
    assert [(f.plus, f.minus, f.npixel) for f in mine] == [
        (f.plus, f.minus, f.npixel) for f in theirs
    ]
    for f, g in zip(mine, theirs, strict=True):
        assert (f.a, f.b, f.c) == pytest.approx((g.a, g.b, g.c), rel=1e-5, abs=1e-9)


def _last_row_or_column_reached(root):
    """Whether some image reaches the template's last column or row."""
    tmpl = io.read_template(root / "template.hdr")
    for r in io.read_table(root / "m_images.tbl"):
        i1 = tmpl["CRPIX1"] - r["crpix1"] + r["naxis1"]
        j1 = tmpl["CRPIX2"] - r["crpix2"] + r["naxis2"]
        if round(i1) >= tmpl["NAXIS1"] or round(j1) >= tmpl["NAXIS2"]:
            return True
    return False


def _same_images(mine, theirs, atol):
    names = sorted(os.listdir(theirs))
    assert sorted(os.listdir(mine)) == names and names
    worst = 0.0
    for name in names:
        a, b = fits.getdata(mine / name), fits.getdata(theirs / name)
        assert a.shape == b.shape, name
        np.testing.assert_array_equal(np.isnan(a), np.isnan(b), name)
        np.testing.assert_allclose(
            a, b, rtol=0, atol=atol, equal_nan=True, err_msg=name
        )
        worst = max(worst, float(np.nanmax(np.abs(a - b), initial=0.0)))
    return worst


def test_differences_are_montages_pixels_edges_included(chains):
    if chains.name.startswith(("cfht", "dss")):
        assert _last_row_or_column_reached(chains)  # mDiff's edge rule applies
    assert _same_images(chains / "ddiffs", chains / "mdiffs", atol=0.0) == 0.0


def test_corrections_are_montagepys_within_1e_3_dn(chains):
    images = {int(r["cntr"]): r for r in io.read_table(chains / "m_images.tbl")}
    theirs = {c.id: c for c in io.read_corrections_table(chains / "m_corr.tbl")}
    mine = {c.id: c for c in io.read_corrections_table(chains / "d_corr.tbl")}
    assert sorted(mine) == sorted(theirs) and len(theirs) > 1
    for cid, g in theirs.items():
        r, f = images[cid], mine[cid]
        y, x = np.mgrid[0 : int(r["naxis2"]) : 8, 0 : int(r["naxis1"]) : 8]
        x, y = x - r["crpix1"], y - r["crpix2"]
        diff = (f.a - g.a) * x + (f.b - g.b) * y + (f.c - g.c)
        assert np.abs(diff).max() < 1e-3, cid
    _same_images(chains / "dcorr", chains / "mcorr", atol=1e-3)


def _png_pixels(path):
    from PIL import Image

    with Image.open(path) as im:
        return np.asarray(im.convert("RGB"))


def _both_viewers(cmd, out_dir, name):
    """The same mViewer command through MontagePy and diffview: both pictures."""
    from diffview.montage import mViewer

    theirs, mine = out_dir / f"m_{name}.png", out_dir / f"d_{name}.png"
    res = MP.mViewer(f"{cmd} -out {theirs}", str(theirs), mode=2)
    assert res["status"] == "0", res
    res = mViewer(f"{cmd} -out {mine}", str(mine), mode=2)
    assert res["status"] == "0", res
    return _png_pixels(mine), _png_pixels(theirs)


def test_the_seed_mviewer_commands_give_montagepys_pictures(chains):
    """Issue #16 item 4: the difference pictures and the corrected mosaic
    outlined by the projected (yellow) and the difference (black) images are
    MontagePy's pixels, on the synthetic tiles (outlines on pixel edges and
    corners), the skewed CFHT tiles (outlines along the last column) and the
    DSS pair."""
    r = chains
    pytest.importorskip("importlib_resources")  # MontagePy's mViewer needs it
    shots = r / "shots"
    shots.mkdir(exist_ok=True)
    diffs = sorted(p for p in (r / "mdiffs").glob("diff.*.fits")
                   if not p.name.endswith("_area.fits"))
    assert diffs
    for path in diffs[:6]:
        mine, theirs = _both_viewers(
            f"-ct 1 -gray {path} -2s max gaussian-log", shots, path.stem)
        assert np.array_equal(mine, theirs), path.name
    # the corrected mosaic, outlined by the projected and the difference images
    for res in (MP.mImgtbl(f"{r}/mcorr", f"{r}/c_images.tbl"),
                MP.mImgtbl(f"{r}/mdiffs", f"{r}/dimages.tbl"),
                MP.mAdd(f"{r}/mcorr", f"{r}/c_images.tbl", f"{r}/template.hdr",
                        f"{r}/mosaic.fits")):
        assert res["status"] == "0", res
    res = MP.mViewer(f"-ct 1 -gray {r}/mosaic.fits min max gaussian-log -out "
                     f"{shots}/m_base.png", str(shots / "m_base.png"), mode=2)
    assert res["status"] == "0", res
    mine, theirs = _both_viewers(
        f"-ct 1 -color yellow -imginfo {r}/m_images.tbl -color black "
        f"-imginfo {r}/dimages.tbl -gray {r}/mosaic.fits min max gaussian-log",
        shots, "mosaic")
    assert mine.shape == theirs.shape
    moved = (mine != theirs).any(-1)
    assert not moved.any(), (
        f"mosaic outlines: {int(moved.sum())} pixels differ, by up to "
        f"{int(np.abs(mine.astype(int) - theirs).max())} levels")
    assert (mine != _png_pixels(shots / "m_base.png")).any()   # outlines drawn
