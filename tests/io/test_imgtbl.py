"""Image tables against MontagePy's mImgtbl, the sample data and its injected truth."""

import json
import math
import os
from pathlib import Path

import numpy as np
import pytest
from astropy.io import fits

from conftest import MP, montage_imgtbl
from diffview import io
from diffview.errors import InputError
from diffview.io.imgtbl import make_image_table, write_images_table
from diffview.montage import mImgtbl
from diffview.run.mosaic import coadd, make_template
from diffview.sample.datasets import sample_headers, write_sample

NUMERIC = [
    "ra",
    "dec",
    "naxis1",
    "naxis2",
    "crpix1",
    "crpix2",
    "crval1",
    "crval2",
    "cdelt1",
    "cdelt2",
    "crota2",
    "equinox",
    "size",
    "hdu",
    *[f"{c}{k}" for k in range(1, 5) for c in ("ra", "dec")],
]


CUBE = ["naxis", "naxis3", "crval3", "cdelt3", "crpix3"]
CUBE += ["naxis4", "crval4", "cdelt4", "crpix4"]


def assert_tables_agree(ours, theirs):
    """Same rows in the same order, every column (cube columns included)."""
    assert ours.colnames == theirs.colnames
    assert list(ours["fname"]) == list(theirs["fname"])
    assert list(ours["cntr"]) == list(theirs["cntr"])
    for col in NUMERIC:
        tol = 1e-5 if col.startswith("crpix") else 1e-7  # %15.5f vs %13.7f columns
        np.testing.assert_allclose(
            np.asarray(ours[col], float),
            np.asarray(theirs[col], float),
            rtol=0,
            atol=tol,
            err_msg=col,
        )
    for col in ("ctype1", "ctype2", "cra", "cdec"):
        assert list(ours[col]) == list(theirs[col]), col
    for col in CUBE:
        if col in theirs.colnames:
            np.testing.assert_array_equal(ours[col], theirs[col], err_msg=col)


def records(path):
    """The data lines of a table, split into their printed values."""
    return [line.split() for line in open(path).read().splitlines()[3:]]


@pytest.mark.montage
@pytest.mark.parametrize("folder", ["raw_dir", "proj_dir"])
def test_image_table_matches_mimgtbl(small_sample, tmp_path, folder):
    d = getattr(small_sample, folder)
    ref = tmp_path / "m.tbl"
    res = montage_imgtbl(str(d), str(ref))
    ours = tmp_path / "o.tbl"
    mine = mImgtbl(str(d), str(ours))
    assert (mine["status"], mine["count"], mine["badfits"]) == (
        res["status"],
        res["count"],
        res["badfits"],
    )
    assert_tables_agree(io.read_table(ours), io.read_table(ref))
    # Montage reads our table: the same overlaps as from its own
    for name in ("m", "o"):
        MP.mOverlaps(
            str(tmp_path / f"{name}.tbl"), str(tmp_path / f"{name}_d.tbl"), True, 0
        )
    pairs = [
        {
            frozenset((o.plus, o.minus))
            for o in io.read_diffs_table(tmp_path / f"{n}_d.tbl")
        }
        for n in ("m", "o")
    ]
    assert pairs[0] == pairs[1] and len(pairs[0]) > 0


@pytest.mark.montage
def test_cd_matrix_and_flipped_images_match_mimgtbl(tmp_path):
    d = tmp_path / "imgs"
    d.mkdir()
    for k, (rot, flip) in enumerate([(12.0, False), (-30.0, True), (100.0, False)]):
        h = fits.Header()
        h["CTYPE1"], h["CTYPE2"] = "RA---TAN", "DEC--TAN"
        h["CRVAL1"], h["CRVAL2"] = 10.0 + k * 0.01, 41.0
        h["CRPIX1"], h["CRPIX2"] = 20.5, 10.5
        s = 1 / 3600
        c, sn = math.cos(math.radians(rot)), math.sin(math.radians(rot))
        sx = s if flip else -s
        h["CD1_1"], h["CD1_2"], h["CD2_1"], h["CD2_2"] = sx * c, -s * sn, sx * sn, s * c
        fits.PrimaryHDU(np.zeros((21, 40), np.float32), h).writeto(d / f"i{k}.fits")
    ref = tmp_path / "m.tbl"
    montage_imgtbl(str(d), str(ref))
    write_images_table(make_image_table(d).table, tmp_path / "o.tbl")
    assert_tables_agree(io.read_table(tmp_path / "o.tbl"), io.read_table(ref))


REAL = Path(__file__).resolve().parents[2]
CFHT = next(
    (
        d / "shared" / "data" / "real" / "cfht_a370" / "a370II.fits"
        for d in (REAL.parent, REAL.parent.parent)  # main checkout or worktree
        if (d / "shared" / "data" / "real").is_dir()
    ),
    REAL / "missing",
)


def wcs_header(rot=0.0, skew=0.0, flip=False, crval=(10.0, 41.0), cdelt=None):
    """A 40 x 21 TAN header: a CD matrix turned by ``rot`` whose y axis turns by
    ``skew`` more, or (``cdelt`` given) CDELT with CROTA2 = ``rot``."""
    h = fits.Header()
    h["NAXIS"], h["NAXIS1"], h["NAXIS2"] = 2, 40, 21
    h["CTYPE1"], h["CTYPE2"] = "RA---TAN", "DEC--TAN"
    h["CRVAL1"], h["CRVAL2"] = crval
    h["CRPIX1"], h["CRPIX2"] = 20.5, 10.5
    if cdelt is not None:
        h["CDELT1"], h["CDELT2"], h["CROTA2"] = *cdelt, rot
        return h
    s, a, b = 1 / 3600, math.radians(rot), math.radians(rot + skew)
    sx = s if flip else -s
    h["CD1_1"], h["CD2_1"] = sx * math.cos(a), sx * math.sin(a)
    h["CD1_2"], h["CD2_2"] = -s * math.sin(b), s * math.cos(b)
    return h


def write_in_order(folder, named_headers):
    """Write images in the given order, one per (name, header)."""
    folder.mkdir(exist_ok=True)
    for name, h in named_headers:
        shape = [h[f"NAXIS{k}"] for k in range(h["NAXIS"], 0, -1)]
        fits.PrimaryHDU(np.zeros(shape, np.float32), h).writeto(folder / name)


def assert_same_as_mimgtbl(folder, tmp_path, corners=True):
    """MontagePy's and diffview's mImgtbl print the same values, row by row."""
    ref, ours = tmp_path / "m.tbl", tmp_path / "o.tbl"
    res = montage_imgtbl(str(folder), str(ref), corners=corners)
    mine = mImgtbl(str(folder), str(ours), showCorners=corners)
    assert (mine["count"], mine["badfits"], mine["badwcs"]) == (
        res["count"],
        res["badfits"],
        res["badwcs"],
    )
    assert records(ours) == records(ref)
    assert_tables_agree(io.read_table(ours), io.read_table(ref))
    return io.read_table(ours)


@pytest.mark.montage
def test_rows_come_in_directory_order_as_mimgtbl(tmp_path):
    """A folder whose directory order is not its name order: the same rows in
    the same order (so the same cntr); sort=True gives name order."""
    d = tmp_path / "imgs"
    names = [f"f{k:02d}.fits" for k in range(12)]
    rng = np.random.default_rng(5)
    for n in range(12, 64):  # enough files for hashed order to differ
        order = [names[k] for k in rng.permutation(len(names))]
        write_in_order(
            d,
            [(m, wcs_header(crval=(10 + int(m[1:3]) * 0.002, 41))) for m in order],
        )
        listed = [e.name for e in os.scandir(d)]
        if listed != sorted(listed):
            break
        for p in d.iterdir():
            p.unlink()
        names.append(f"f{n:02d}.fits")
    else:
        pytest.skip("this file system lists files in name order")
    table = assert_same_as_mimgtbl(d, tmp_path)
    assert [os.path.basename(f) for f in table["fname"]] == listed
    by_name = make_image_table(d, sort=True).table
    assert list(by_name["fname"]) == sorted(table["fname"])
    assert list(by_name["cntr"]) == list(range(len(listed)))


@pytest.mark.montage
def test_sub_folders_are_searched_where_listed(tmp_path):
    d = tmp_path / "tree"
    write_in_order(d, [("b.fits", wcs_header()), ("a.FITS", wcs_header(rot=3))])
    write_in_order(d / "sub", [("c.fit", wcs_header(rot=5))])
    write_in_order(d / "sub" / "deeper", [("e.fits", wcs_header(rot=9))])
    (d / "x.fts").write_bytes((d / "b.fits").read_bytes())  # not a Montage name
    (d / "n_area.fits").write_bytes((d / "b.fits").read_bytes())
    ref, ours = tmp_path / "m.tbl", tmp_path / "o.tbl"
    args = (False, True, False, True, False, False, "", "", 0)
    assert MP.mImgtbl(str(d), str(ref), True, *args)["status"] == "0"
    assert mImgtbl(str(d), str(ours), True)["count"] == 4
    assert records(ours) == records(ref)


@pytest.mark.montage
def test_cube_columns_match_mimgtbl(tmp_path):
    """A 3-D and a 4-D cube and a two-image file whose second HDU takes the
    first HDU's cube keyword: Montage's nine cube columns, value for value."""
    d = tmp_path / "cubes"
    c3 = wcs_header(rot=20)
    c3.update(NAXIS=3, NAXIS3=3, CTYPE3="VELO-LSR", CRVAL3=1.5e3, CDELT3=-2.5)
    c3["CRPIX3"] = 1.0
    c4 = wcs_header(rot=-20)
    c4.update(NAXIS=4, NAXIS3=2, NAXIS4=1, CTYPE3="FREQ", CRVAL3=1.420405752e9)
    c4.update(CDELT3=1e5, CRPIX3=2.0, CTYPE4="STOKES", CRVAL4=1.0, CDELT4=1.0)
    c4["CRPIX4"] = 1.0
    write_in_order(d, [("cube3.fits", c3), ("cube4.fits", c4)])
    h0 = wcs_header(rot=5)
    h0["CRVAL3"] = 7.25
    fits.HDUList(
        [
            fits.PrimaryHDU(np.zeros((21, 40), np.float32), h0),
            fits.ImageHDU(np.zeros((21, 40), np.float32), wcs_header(rot=6)),
        ]
    ).writeto(d / "two.fits")
    table = assert_same_as_mimgtbl(d, tmp_path)
    rows = {(os.path.basename(r["fname"]), int(r["hdu"])): r for r in table}
    assert rows["cube3.fits", 0]["crval3"] == 1500.0
    assert rows["cube4.fits", 0]["naxis4"] == 1
    assert rows["two.fits", 1]["crval3"] == 7.25
    # haveCubes=False (the command line's -C): no cube columns
    mImgtbl(str(d), str(tmp_path / "c.tbl"), haveCubes=False)
    assert not set(CUBE) & set(io.read_table(tmp_path / "c.tbl").colnames)


SKEWED = [
    dict(rot=30, skew=3),  # a 3 degree skew: off by 0.83 degrees before
    dict(rot=-140, skew=-3, flip=True),
    dict(rot=66, skew=0.1, crval=(39.97, -1.58)),  # like the CFHT frame
    dict(rot=200, skew=3, crval=(359.999, 89.5)),  # near the pole, RA wraps
    dict(rot=12),
    dict(rot=-30, flip=True),
    dict(rot=100),
    dict(rot=-60, cdelt=(1 / 3600, 1 / 3600)),  # both positive: Montage turns it
    dict(rot=150, cdelt=(1 / 3600, 1 / 3600)),
    dict(rot=-60, cdelt=(-1 / 3600, 1 / 3600)),
]


@pytest.mark.montage
def test_skewed_rotated_and_flipped_matrices_match_mimgtbl(tmp_path):
    d = tmp_path / "skewed"
    write_in_order(
        d, [(f"i{k:02d}.fits", wcs_header(**c)) for k, c in enumerate(SKEWED)]
    )
    table = assert_same_as_mimgtbl(d, tmp_path)
    first = table[[os.path.basename(f) == "i00.fits" for f in table["fname"]]]
    assert first["crota2"][0] == pytest.approx(32.1656, abs=1e-4)


@pytest.mark.montage
@pytest.mark.skipif(not CFHT.exists(), reason="shared real data not present")
def test_real_cfht_frame_matches_mimgtbl(tmp_path):
    """The CFHT frame's CD matrix has a 0.1 degree skew: Montage's crota2
    113.8493146, where the matrix's y column alone says 113.93."""
    d = tmp_path / "cfht"
    d.mkdir()
    (d / "a370II.fits").symlink_to(CFHT)
    table = assert_same_as_mimgtbl(d, tmp_path)
    assert table["crota2"][0] == pytest.approx(113.8493146, abs=1e-7)


def test_bad_files_are_counted_not_fatal(tmp_path):
    (tmp_path / "bad.fits").write_text("not a FITS file")
    fits.PrimaryHDU(np.zeros((4, 4))).writeto(tmp_path / "nowcs.fits")
    fits.PrimaryHDU(np.zeros((4, 4))).writeto(tmp_path / "x_area.fits")
    r = make_image_table(tmp_path)
    assert (len(r.table), r.badfits, r.badwcs) == (0, ["bad.fits"], ["nowcs.fits[0]"])
    assert mImgtbl(str(tmp_path / "nothere"), str(tmp_path / "t.tbl")) == {
        "status": "1",
        "msg": f"Cannot access {tmp_path / 'nothere'}: not a folder".encode(),
    }
    with pytest.raises(InputError, match="not a folder"):
        make_image_table(tmp_path / "nothere")


# ------------------------------------------------------------------ sample


def test_sample_is_seeded_and_complete(small_sample, tmp_path):
    s = small_sample
    again = write_sample(tmp_path, "small", workers=1)
    a = fits.getdata(s.proj_dir / "hdu0_tile_003.fits")
    b = fits.getdata(again.proj_dir / "hdu0_tile_003.fits")
    np.testing.assert_array_equal(a, b)
    assert again.truth == s.truth and len(s.truth) == 6
    truth = json.loads((s.root / "truth.json").read_text())
    assert {int(k): tuple(v) for k, v in truth["planes"].items()} == s.truth
    for p in (s.raw_images_tbl, s.images_tbl, s.template, s.mosaic, s.diffs_tbl):
        assert p.exists(), p
    rots = [h["CROTA2"] for h in sample_headers("m17")]
    assert 0 < np.std(rots) < 0.4 and len(rots) == 42


def test_m17_has_the_tutorials_number_of_overlaps(m17_sample):
    n = len(m17_sample.overlaps)
    assert 100 <= n <= 130
    per_image = np.bincount(
        [c for o in m17_sample.overlaps for c in (o.cntr1, o.cntr2)]
    )
    assert per_image.min() >= 2 and per_image.max() >= 5


def test_injected_planes_are_in_the_projected_images(small_sample):
    """Each overlap's mean difference equals the difference of the injected planes."""
    from diffview.run import compute_difference

    s = small_sample
    tmpl = io.read_template(s.template)
    checked = 0
    for ov in s.overlaps:
        d = compute_difference(s.proj_dir / ov.plus, s.proj_dir / ov.minus, s.template)
        if d.footprint.sum() < 200:
            continue
        (j0, _), (i0, _) = d.bounds
        jj, ii = np.nonzero(np.isfinite(d.array))
        x = ii + i0 - tmpl["CRPIX1"] + 1  # template frame
        y = jj + j0 - tmpl["CRPIX2"] + 1
        a1, b1, c1 = s.truth[ov.cntr1]
        a2, b2, c2 = s.truth[ov.cntr2]
        want = (a1 - a2) * x + (b1 - b2) * y + (c1 - c2)
        resid = d.array[jj, ii] - want
        # the sky cancels; what is left is noise (2 DN per image) and stars'
        # slightly different resampling
        assert abs(np.median(resid)) < 0.3, ov
        checked += 1
    assert checked >= 4


def test_template_covers_every_image(small_sample):
    tmpl = io.read_template(small_sample.template)
    again = make_template(io.read_table(small_sample.raw_images_tbl))
    assert (again["NAXIS1"], again["NAXIS2"]) == (tmpl["NAXIS1"], tmpl["NAXIS2"])
    mosaic = fits.getdata(small_sample.mosaic)
    assert mosaic.shape == (tmpl["NAXIS2"], tmpl["NAXIS1"])
    assert np.isfinite(mosaic).mean() > 0.6
    m = coadd(
        small_sample.images_tbl,
        small_sample.proj_dir,
        tmpl,
        corrections=small_sample.truth,
    )
    # with the injected planes removed the mosaic has no seams: overlapping
    # images agree, so the coadd is smoother than the raw one
    assert np.nanstd(np.diff(m, axis=1)) < np.nanstd(np.diff(mosaic, axis=1))
