"""Integer and BSCALE/BZERO-scaled images against MontagePy (CFITSIO reads them).

Montage reads every image as float64 with ``raw * BSCALE + BZERO`` applied
and BLANK pixels as NaN; diffview must accept the same files and give the
same differences, planes, corrected images and pictures, and the same
results as on the float64 images of the same values.
"""

from pathlib import Path

import numpy as np
import pytest
from astropy.io import fits

from conftest import MP, make_template, write_hdr
from diffview.io import read_fits_table
from diffview.montage import mBackground, mDiffExec, mDiffFitExec, mFitExec, mViewer

PIL = pytest.importorskip("PIL.Image")

pytestmark = pytest.mark.montage

REAL = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "real"
CFHT = REAL / "cfht_a370" / "a370II.fits"

BITPIX = {"|u1": 8, ">i2": 16, ">i4": 32, ">i8": 64}

# (name, on-disk dtype, BSCALE, BZERO, BLANK)
KINDS = [
    ("uint16", ">i2", 1.0, 32768.0, None),
    ("int16-scaled-blank", ">i2", 0.1, -5.3, -32768),
    ("int16-blank", ">i2", 1.0, 0.0, -32768),
    ("int32", ">i4", 1.0, 0.0, None),
    ("uint8-blank", "|u1", 1.0, 0.0, 0),
]
# tiles on a 40 x 60 template: column offset, row offset, rows, columns
TILES = {"a": (0, 0, 25, 35), "b": (20, 10, 30, 40), "c": (10, 15, 25, 30)}


def write_raw(path, raw, header, scale=1.0, zero=0.0, blank=None):
    """Write integer ``raw`` as it is on disk, with the scaling cards."""
    hdr = fits.Header()
    hdr["SIMPLE"] = True
    hdr["BITPIX"] = BITPIX[raw.dtype.str]
    hdr["NAXIS"] = 2
    hdr["NAXIS1"], hdr["NAXIS2"] = raw.shape[1], raw.shape[0]
    for card in header.cards:
        if card.keyword not in ("SIMPLE", "BITPIX", "NAXIS", "NAXIS1", "NAXIS2"):
            hdr.append(card)
    if scale != 1.0:
        hdr["BSCALE"] = scale
    if zero != 0.0:
        hdr["BZERO"] = zero
    if blank is not None:
        hdr["BLANK"] = blank
    data = raw.tobytes()
    Path(path).write_bytes(
        hdr.tostring().encode() + data + b"\0" * (-len(data) % 2880)
    )


def physical(raw, scale, zero, blank):
    out = raw.astype(np.float64) * scale + zero
    if blank is not None:
        out[raw == blank] = np.nan
    return out


def _tables(folder):
    """images.tbl and diffs.tbl of a folder, by MontagePy."""
    r = MP.mImgtbl(str(folder), str(folder / "images.tbl"))
    assert r["status"] == "0" and r["count"] == len(TILES), r
    r = MP.mOverlaps(str(folder / "images.tbl"), str(folder / "diffs.tbl"))
    assert r["status"] == "0" and r["count"] == 3, r


@pytest.fixture(scope="module", params=KINDS, ids=[k[0] for k in KINDS])
def field(request, tmp_path_factory):
    """Three overlapping tiles stored as one integer kind, and as float64."""
    name, dtype, scale, zero, blank = request.param
    root = tmp_path_factory.mktemp(name)
    tmpl = make_template((40, 60), (30.5, 20.5))
    hdr_file = write_hdr(tmpl, root / "template.hdr")
    rng = np.random.default_rng(7)
    ints, floats = root / "int", root / "float"
    ints.mkdir()
    floats.mkdir()
    info = np.iinfo(dtype)
    for tile, (ioff, joff, ny, nx) in TILES.items():
        hdr = tmpl.copy()
        hdr["NAXIS1"], hdr["NAXIS2"] = nx, ny
        hdr["CRPIX1"], hdr["CRPIX2"] = 30.5 - ioff, 20.5 - joff
        # a sky level, a slope per tile, noise: all inside the type's range
        y, x = np.mgrid[0:ny, 0:nx]
        level = info.min + 0.3 * (float(info.max) - info.min)
        span = 0.3 * (float(info.max) - info.min)
        raw = level + span * (0.01 * x + 0.02 * y) / 1.5
        raw += rng.normal(0, span / 50, (ny, nx))
        raw = np.clip(np.rint(raw), info.min, info.max).astype(dtype)
        if blank is not None:
            raw[2:4, 5:9] = blank
        area = rng.uniform(0.9, 1.1, (ny, nx))
        write_raw(ints / f"{tile}.fits", raw, hdr, scale, zero, blank)
        fits.PrimaryHDU(physical(raw, scale, zero, blank), hdr).writeto(
            floats / f"{tile}.fits"
        )
        for folder in (ints, floats):
            fits.PrimaryHDU(area, hdr).writeto(folder / f"{tile}_area.fits")
    _tables(ints)
    _tables(floats)
    return {"root": root, "ints": ints, "floats": floats, "hdr": hdr_file,
            "kind": request.param}


def _diff_files(folder, areas=True):
    return sorted(p.name for p in folder.glob("diff.*.fits")
                  if areas or not p.name.endswith("_area.fits"))


def _same_pixels(mine, theirs):
    a, b = fits.getdata(mine), fits.getdata(theirs)
    assert a.shape == b.shape, (mine, a.shape, b.shape)
    assert (np.isnan(a) == np.isnan(b)).all(), mine
    np.testing.assert_allclose(a, b, rtol=1e-12, atol=0, equal_nan=True)
    for key in ("CRPIX1", "CRPIX2"):  # Montage prints fewer digits
        assert fits.getheader(mine)[key] == pytest.approx(
            fits.getheader(theirs)[key], rel=1e-12, abs=1e-12)


def _same_planes(mine, theirs):
    """fits.tbl rows equal to the precision Montage prints (5 digits)."""
    a, b = read_fits_table(mine), read_fits_table(theirs)
    assert [(f.plus, f.minus) for f in a] == [(f.plus, f.minus) for f in b]
    for f, g in zip(a, b, strict=True):
        scale = max(abs(g.a), abs(g.b), abs(g.c), 1e-300)
        for key in ("a", "b", "c"):
            assert getattr(f, key) == pytest.approx(getattr(g, key), rel=1e-5,
                                                    abs=1e-5 * scale), (key, f, g)
        assert f.npixel == g.npixel
        assert f.rms == pytest.approx(g.rms, rel=1e-5)


def test_differences_and_fits_match_montagepy(field):
    ints, root, hdr = field["ints"], field["root"], field["hdr"]
    mdir, ddir = root / "m_diffs", root / "d_diffs"
    mdir.mkdir()
    ddir.mkdir()
    tbl = str(ints / "diffs.tbl")
    rm = MP.mDiffExec(str(ints), tbl, hdr, str(mdir))
    rd = mDiffExec(str(ints), tbl, hdr, str(ddir), workers=1, quiet=True)
    assert rm == {"status": "0", "count": 3, "failed": 0}, rm
    assert rd == rm
    names = _diff_files(mdir)
    assert names == _diff_files(ddir) and len(names) == 6  # with areas
    for name in names:
        _same_pixels(ddir / name, mdir / name)
    rm = MP.mFitExec(tbl, str(root / "m_fits.tbl"), str(mdir))
    rd = mFitExec(tbl, str(root / "d_fits.tbl"), str(ddir), workers=1)
    assert rm["status"] == rd["status"] == "0" and rd["count"] == 3, (rm, rd)
    _same_planes(root / "d_fits.tbl", root / "m_fits.tbl")
    # one pass (difference + fit) gives the same planes
    one = root / "d_one"
    one.mkdir()
    rd = mDiffFitExec(str(ints), tbl, hdr, str(one), str(root / "d_one.tbl"), workers=1)
    assert rd["status"] == "0" and rd["diff_failed"] == rd["fit_failed"] == 0, rd
    _same_planes(root / "d_one.tbl", root / "m_fits.tbl")


def test_integer_files_give_the_float64_results(field):
    ints, floats = field["ints"], field["floats"]
    root, hdr = field["root"], field["hdr"]
    out = {}
    for folder in (ints, floats):
        diffs = root / f"same_{folder.name}"
        diffs.mkdir()
        r = mDiffFitExec(str(folder), str(folder / "diffs.tbl"), hdr, str(diffs),
                         str(root / f"same_{folder.name}.tbl"), keepAll=True, workers=1)
        assert r["status"] == "0" and r["diff_failed"] == 0, r
        out[folder.name] = diffs
    names = _diff_files(out["int"])
    assert names == _diff_files(out["float"]) and names
    for name in names:
        np.testing.assert_array_equal(fits.getdata(out["int"] / name),
                                      fits.getdata(out["float"] / name))
    assert (root / "same_int.tbl").read_text() == (root / "same_float.tbl").read_text()


@pytest.mark.filterwarnings("ignore:Invalid 'BLANK' keyword")  # Montage's -64 output
def test_background_correction_matches_mbackground(field):
    ints, root = field["ints"], field["root"]
    src = str(ints / "b.fits")
    rm = MP.mBackground(src, str(root / "m_bg.fits"), 0.25, -0.125, 3.0)
    rd = mBackground(src, str(root / "d_bg.fits"), 0.25, -0.125, 3.0)
    assert rm["status"] == rd["status"] == "0", (rm, rd)
    # Montage keeps BSCALE/BZERO on its -64 output (values stored
    # inverse-scaled); diffview writes the values: both read the same
    with fits.open(root / "m_bg.fits") as m, fits.open(root / "d_bg.fits") as d:
        theirs, mine = m[0].data.astype(np.float64), d[0].data
        assert d[0].header["BITPIX"] == -64 and "BLANK" not in d[0].header
        assert mine.dtype == np.dtype(">f8")
    assert (np.isnan(mine) == np.isnan(theirs)).all()
    np.testing.assert_allclose(mine, theirs, rtol=1e-12, equal_nan=True)
    # Montage's area file also keeps the image's BZERO (e.g. 32768): its
    # areas come back rounded near 1e-12; diffview copies them exactly
    np.testing.assert_allclose(fits.getdata(root / "d_bg_area.fits"),
                               fits.getdata(root / "m_bg_area.fits"), rtol=1e-11)
    area = fits.getdata(ints / "b_area.fits")
    np.testing.assert_array_equal(fits.getdata(root / "d_bg_area.fits"),
                                  np.where(np.isnan(mine), 0.0, area))


@pytest.mark.parametrize("kind", [KINDS[0], KINDS[1]], ids=["uint16", "scaled-blank"])
@pytest.mark.parametrize("ranges", ["-2s max gaussian-log", "min max linear",
                                    "1% 99% log"])
def test_view_of_scaled_image_matches_mviewer(tmp_path, kind, ranges):
    _, dtype, scale, zero, blank = kind
    rng = np.random.default_rng(11)
    raw = np.clip(rng.normal(2000, 300, (60, 80)), -30000, 30000).astype(dtype)
    raw[20:24, 30:60] += 9000
    if blank is not None:
        raw[:, :3] = blank
    hdr = make_template((60, 80), (40.5, 30.5))
    write_raw(tmp_path / "im.fits", raw, hdr, scale, zero, blank)
    cmd = f"-ct 1 -gray {tmp_path / 'im.fits'} {ranges}"
    rm = MP.mViewer(cmd, str(tmp_path / "m.png"), mode=2)
    rd = mViewer(cmd, str(tmp_path / "d.png"), mode=2)
    assert rm["status"] == rd["status"] == "0", (rm, rd)
    with PIL.open(tmp_path / "m.png") as m, PIL.open(tmp_path / "d.png") as d:
        am, ad = np.asarray(m.convert("RGB")), np.asarray(d.convert("RGB"))
    assert am.shape == ad.shape and (am == ad).all()


@pytest.mark.skipif(not CFHT.exists(), reason="shared real data not present")
def test_real_cfht_int16_tiles_match_montagepy(tmp_path):
    """Two overlapping tiles cut from the CFHT int16 frame: one as it is, one
    with integer noise added, stored unsigned-like (int16 + BZERO) 100 DN
    brighter; the difference is -100 - noise, in Montage and in diffview."""
    with fits.open(CFHT) as hdul:
        frame, header = hdul[0].data.astype(np.int32), hdul[0].header.copy()
    assert header["BITPIX"] == 16 and "BZERO" not in header and "BLANK" not in header
    for key in ("BSCALE", "BZERO", "BLANK", "EXTEND"):
        header.remove(key, ignore_missing=True)
    hdr_file = write_hdr(header, tmp_path / "frame.hdr")
    proj = tmp_path / "proj"
    proj.mkdir()
    tiles = {"t1": ((600, 900), (800, 1100)), "t2": ((750, 1050), (950, 1250))}
    noise = np.random.default_rng(3).integers(-20, 21, (300, 300))
    for k, (name, ((j0, j1), (i0, i1))) in enumerate(tiles.items()):
        h = header.copy()
        h["CRPIX1"], h["CRPIX2"] = header["CRPIX1"] - i0, header["CRPIX2"] - j0
        cut = frame[j0:j1, i0:i1]
        if k == 0:
            write_raw(proj / f"{name}.fits", cut.astype(">i2"), h)
        else:  # unsigned-like: raw + 32868 = value + noise + 100
            write_raw(proj / f"{name}.fits", (cut + noise - 32768).astype(">i2"), h,
                      zero=32768.0 + 100.0)
    assert fits.getheader(proj / "t2.fits")["BZERO"] == 32868
    r = MP.mImgtbl(str(proj), str(tmp_path / "images.tbl"))
    assert r["status"] == "0" and r["count"] == 2, r
    r = MP.mOverlaps(str(tmp_path / "images.tbl"), str(tmp_path / "diffs.tbl"))
    assert r["status"] == "0" and r["count"] == 1, r
    tbl = str(tmp_path / "diffs.tbl")
    mdir, ddir = tmp_path / "m", tmp_path / "d"
    mdir.mkdir()
    ddir.mkdir()
    rm = MP.mDiffExec(str(proj), tbl, hdr_file, str(mdir), noAreas=True)
    rd = mDiffExec(str(proj), tbl, hdr_file, str(ddir), noAreas=True, workers=1)
    assert rm == rd == {"status": "0", "count": 1, "failed": 0}, (rm, rd)
    (name,) = _diff_files(mdir, areas=False)
    _same_pixels(ddir / name, mdir / name)
    diff = fits.getdata(ddir / name)
    assert diff.shape == (150, 150)  # rows 750-899, columns 950-1099
    np.testing.assert_array_equal(diff, -100.0 - noise[:150, :150])
    rm = MP.mFitExec(tbl, str(tmp_path / "m.tbl"), str(mdir))
    rd = mFitExec(tbl, str(tmp_path / "d.tbl"), str(ddir), workers=1)
    assert rm["status"] == rd["status"] == "0", (rm, rd)
    _same_planes(tmp_path / "d.tbl", tmp_path / "m.tbl")
    (fit,) = read_fits_table(tmp_path / "d.tbl")
    assert fit.c == pytest.approx(-100.0, abs=0.5)  # the noise has zero mean
    assert abs(fit.a) < 1e-2 and abs(fit.b) < 1e-2
    assert fit.rms == pytest.approx(np.std(noise[:150, :150]), rel=0.1)
