"""The coadd (mAdd): known answers by hand, and MontagePy's pixels."""

import numpy as np
import pytest
from astropy.io import fits
from astropy.table import Table

from conftest import MP, make_template, montage_imgtbl, write_projected
from diffview.errors import InputError
from diffview.run import add_images, coadd


@pytest.fixture
def three(tmp_path):
    """Three 4x4 images on a 6x6 template, overlapping in the middle."""
    tmpl = make_template((6, 6), (3.5, 3.5))
    proj = tmp_path / "proj"
    proj.mkdir()
    area = np.full((4, 4), 1e-11)
    values = {"a": 10.0, "b": 20.0, "c": 60.0}
    # a at (0,0), b at (1,1), c at (2,2): pixel (2..3, 2..3) has all three
    for k, (name, v) in enumerate(values.items()):
        data = np.full((4, 4), v)
        a = area * (k + 1)
        if name == "b":
            data[1, 1] = np.nan  # mosaic pixel (2, 2): only a and c
        write_projected(proj, name, data, a, (3.5 - k, 3.5 - k), tmpl)
    names = [f"{n}.fits" for n in values]
    table = Table({"cntr": [0, 1, 2], "fname": names})
    return tmp_path, proj, tmpl, table


def test_mean_is_area_weighted_and_skips_blank_pixels(three):
    root, proj, tmpl, table = three
    r = add_images(table, proj, tmpl, root / "m.fits")
    assert r.mosaic.shape == (6, 6)
    # (3, 3): a (w 1), b (w 2), c (w 3)
    assert r.mosaic[3, 3] == pytest.approx((10 + 2 * 20 + 3 * 60) / 6)
    assert r.area[3, 3] == pytest.approx(6e-11)
    # (2, 2): b is NaN there
    assert r.mosaic[2, 2] == pytest.approx((10 + 3 * 60) / 4)
    assert r.mosaic[0, 0] == 10.0 and r.mosaic[5, 5] == 60.0
    assert np.isnan(r.mosaic[0, 5]) and r.area[0, 5] == 0.0
    on_disk = fits.getdata(root / "m.fits")
    np.testing.assert_array_equal(on_disk, r.mosaic)
    np.testing.assert_array_equal(fits.getdata(root / "m_area.fits"), r.area)


def test_no_areas_gives_the_plain_mean_and_the_count_as_area(three):
    root, proj, tmpl, table = three
    r = add_images(table, proj, tmpl, have_areas=False)
    assert r.mosaic[3, 3] == pytest.approx(30.0)
    assert r.area[3, 3] == 3.0 and r.area[2, 2] == 2.0


def test_median_uses_pixels_covering_half_a_pixel_and_the_lower_of_two(three):
    """Nominal pixel 2.35e-11 sr: a (1e-11) is left out, b (2e-11), c (3e-11) kept."""
    root, proj, tmpl, table = three
    r = add_images(table, proj, tmpl, mode="median")
    assert r.mosaic[3, 3] == 20.0  # b and c: Montage keeps the lower value
    assert r.area[3, 3] == pytest.approx(5e-11)
    assert r.mosaic[2, 2] == 60.0 and r.mosaic[1, 1] == 20.0
    assert np.isnan(r.mosaic[0, 0]) and r.area[0, 0] == 0.0
    flat = add_images(table, proj, tmpl, mode="median", have_areas=False)
    assert flat.mosaic[3, 3] == 20.0 and flat.mosaic[2, 2] == 10.0


def test_count_counts_positive_values(three):
    root, proj, tmpl, table = three
    r = add_images(table, proj, tmpl, mode="count")
    assert r.mosaic[3, 3] == 3.0 and r.mosaic[2, 2] == 2.0 and r.mosaic[0, 0] == 1.0
    assert r.area[3, 3] == 1.0 and np.isnan(r.mosaic[0, 5])


def test_corrections_and_coadd_agree(three):
    root, proj, tmpl, table = three
    m = coadd(table, proj, tmpl, corrections={2: (0.0, 0.0, 60.0)})
    assert m[5, 5] == 0.0
    assert m[3, 3] == pytest.approx((10 + 2 * 20) / 6)


def test_images_off_the_template_grid_are_refused(three):
    root, proj, tmpl, table = three
    bad = tmpl.copy()
    bad["CRVAL1"] += 1e-6
    with pytest.raises(InputError, match="CRVAL1 does not match template"):
        add_images(table, proj, bad)
    with pytest.raises(InputError, match="unknown coadd mode"):
        add_images(table, proj, tmpl, mode="sum")
    table["fname"][0] = "x.fits"
    with pytest.raises(InputError, match="x.fits missing or invalid FITS"):
        add_images(table, proj, tmpl)


@pytest.fixture(scope="module")
def montage_projected(small_sample, tmp_path_factory):
    """The small sample's raw images projected by MontagePy onto its mMakeHdr frame."""
    root = tmp_path_factory.mktemp("mproj")
    (root / "proj").mkdir()
    montage_imgtbl(small_sample.raw_dir, root / "raw.tbl")
    assert MP.mMakeHdr(str(root / "raw.tbl"), str(root / "t.hdr"))["status"] == "0"
    r = MP.mProjExec(
        str(small_sample.raw_dir),
        str(root / "raw.tbl"),
        str(root / "t.hdr"),
        projdir=str(root / "proj"),
    )
    assert r["status"] == "0" and r["failed"] == 0, r
    montage_imgtbl(root / "proj", root / "p.tbl")
    return root


@pytest.mark.montage
@pytest.mark.parametrize(
    ("coadd_mode", "have_areas", "shrink"),
    [(0, False, False), (0, True, False), (1, True, False), (1, False, False),
     (2, True, False), (0, True, True)],
)  # fmt: skip
def test_pixels_are_montages(montage_projected, coadd_mode, have_areas, shrink):
    root = montage_projected
    ref = MP.mAdd(
        str(root / "proj"), str(root / "p.tbl"), str(root / "t.hdr"),
        str(root / "m.fits"), shrink=shrink, haveAreas=have_areas, coadd=coadd_mode,
    )  # fmt: skip
    assert ref["status"] == "0", ref
    r = add_images(
        root / "p.tbl", root / "proj", root / "t.hdr", root / "d.fits",
        mode=("mean", "median", "count")[coadd_mode], have_areas=have_areas,
        shrink=shrink,
    )  # fmt: skip
    for ours, theirs in (("d.fits", "m.fits"), ("d_area.fits", "m_area.fits")):
        a, ha = fits.getdata(root / theirs, header=True)
        b, hb = fits.getdata(root / ours, header=True)
        assert a.shape == b.shape == r.mosaic.shape
        for key in ("NAXIS1", "NAXIS2", "CRPIX1", "CRPIX2", "CRVAL1", "CROTA2"):
            assert ha[key] == hb[key], key
        np.testing.assert_array_equal(np.isnan(a), np.isnan(b))
        np.testing.assert_allclose(b, a, rtol=1e-12, atol=0)
