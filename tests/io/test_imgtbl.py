"""Image tables against MontagePy's mImgtbl, the sample data and its injected truth."""

import json
import math

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


def by_name(table):
    return table[np.argsort(np.asarray(table["fname"], dtype=str))]


def assert_tables_agree(ours, theirs):
    ours, theirs = by_name(ours), by_name(theirs)
    assert list(ours["fname"]) == list(theirs["fname"])
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
