"""Reprojection (mProject, mProjExec): conservation by hand, MontagePy's files."""

import os

import numpy as np
import pytest
from astropy.io import fits
from astropy.table import Table

from conftest import MP, montage_imgtbl, tan_header
from diffview import io
from diffview.run import pixel_solid_angle, project_image, project_images

pytestmark = pytest.mark.filterwarnings("ignore::astropy.wcs.FITSFixedWarning")


@pytest.fixture
def field(tmp_path):
    """A 40x30 raw image at 0.9 arcsec, rotated 20 degrees, on a 1 arcsec grid."""
    raw = tan_header(40, 30, 20.5, 15.5, -0.9 / 3600, 0.9 / 3600, crota2=20.0)
    data = np.full((30, 40), 7.0)
    data[10, 12] = np.nan
    io.write_image(data, raw, tmp_path / "raw.fits")
    tmpl = tan_header(80, 70, 40.3, 35.5, crval=(275.1002, -16.2))
    tmpl["BITPIX"] = -64
    return tmp_path, raw, tmpl


def test_flux_and_area_are_conserved_and_crpix_moves_by_whole_pixels(field):
    root, raw, tmpl = field
    assert project_image(root / "raw.fits", root / "p.fits", tmpl)
    data, h = io.read_image(root / "p.fits")
    area, _ = io.read_image(root / "p_area.fits")
    covered = area > 0
    # a flat image stays flat wherever a pixel is covered
    np.testing.assert_allclose(data[covered], 7.0, rtol=1e-9)
    assert np.isnan(data[~covered]).all()
    # the covered solid angle is the image's, less the blank pixel
    raw_pixel = pixel_solid_angle(raw)
    assert area.sum() == pytest.approx(raw_pixel * (40 * 30 - 1), rel=1e-6)
    # shrink-wrapped: every edge row and column holds a covered pixel
    assert covered[0].any() and covered[-1].any()
    assert covered[:, 0].any() and covered[:, -1].any()
    for k in (1, 2):
        offset = tmpl[f"CRPIX{k}"] - h[f"CRPIX{k}"]
        assert offset == round(offset)
    assert h["BITPIX"] == -64 and h["CTYPE1"] == "RA---TAN"


def test_interpolation_and_options(field):
    root, raw, tmpl = field
    assert project_image(
        root / "raw.fits", root / "q.fits", tmpl, method="nearest", areas=False
    )
    q, _ = io.read_image(root / "q.fits")
    assert not (root / "q_area.fits").exists()
    assert set(np.unique(q[np.isfinite(q)])) == {7.0}
    project_image(root / "raw.fits", root / "f.fits", tmpl, full_region=True,
                  flux_scale=2.0)  # fmt: skip
    f, _ = io.read_image(root / "f.fits")
    assert f.shape == (70, 80)
    assert np.nanmax(f) == pytest.approx(14.0)


def test_images_off_the_template_are_counted_not_fatal(field, tmp_path):
    root, raw, tmpl = field
    far = raw.copy()
    far["CRVAL1"] = 100.0
    io.write_image(np.ones((30, 40)), far, root / "far.fits")
    (root / "bad.fits").write_text("not FITS")
    tbl = Table({"fname": ["raw.fits", "far.fits", "bad.fits"], "hdu": [0, 0, 0]})
    r = project_images(tbl, root, tmpl, root / "proj", quiet=True, workers=1)
    assert r.files == ["hdu0_raw.fits"]
    assert r.nooverlap == 1 and len(r.failed) == 2
    assert "bad.fits" in r.failed[1]
    assert not (root / "proj" / "hdu0_far.fits").exists()


@pytest.fixture(scope="module")
def both(small_sample, tmp_path_factory):
    """MontagePy's and diffview's mProjExec of the small sample's raw images."""
    root = tmp_path_factory.mktemp("proj")
    for d in ("m", "d"):
        (root / d).mkdir()
    montage_imgtbl(small_sample.raw_dir, root / "raw.tbl")
    assert MP.mMakeHdr(str(root / "raw.tbl"), str(root / "t.hdr"))["status"] == "0"
    ref = MP.mProjExec(
        str(small_sample.raw_dir), str(root / "raw.tbl"), str(root / "t.hdr"),
        projdir=str(root / "m"),
    )  # fmt: skip
    assert ref == {"status": "0", "count": 6, "failed": 0, "nooverlap": 0}
    r = project_images(
        root / "raw.tbl", small_sample.raw_dir, root / "t.hdr", root / "d", quiet=True
    )
    assert r.count == 6 and r.failed == []
    return root


@pytest.mark.montage
def test_same_files_shapes_and_crpix_as_montage(both):
    names = sorted(os.listdir(both / "m"))
    assert names == sorted(os.listdir(both / "d"))
    assert len(names) == 12
    for name in names:
        hm = fits.getheader(both / "m" / name)
        hd = fits.getheader(both / "d" / name)
        for key in ("NAXIS1", "NAXIS2", "CRPIX1", "CRPIX2", "CRVAL1", "CDELT1"):
            assert hm[key] == hd[key], (name, key)


@pytest.mark.montage
def test_pixels_agree_with_montage_inside_the_template(both):
    """Excluded (``docs/montage-semantics.md`` §9.2): the template's outermost
    rows and columns, where Montage's edge pixel holds the coverage of the
    row outside the template."""
    template = io.read_template(both / "t.hdr")
    for name in sorted(os.listdir(both / "m")):
        a, h = fits.getdata(both / "m" / name, header=True)
        b = fits.getdata(both / "d" / name)
        np.testing.assert_array_equal(np.isnan(a), np.isnan(b))
        j0 = int(template["CRPIX2"] - h["CRPIX2"])
        i0 = int(template["CRPIX1"] - h["CRPIX1"])
        rows = np.arange(a.shape[0]) + j0
        cols = np.arange(a.shape[1]) + i0
        inside = np.outer(
            (rows > 0) & (rows < template["NAXIS2"] - 1),
            (cols > 0) & (cols < template["NAXIS1"] - 1),
        )
        ok = inside & np.isfinite(a)
        scale = 1.0 if "_area" not in name else pixel_solid_angle(template)
        rms = np.sqrt(np.mean(((a - b)[ok] / scale) ** 2))
        # DN (median signal ~400) or pixel fractions: measured 3e-8 .. 5e-6
        assert rms < 1e-4, (name, rms)
