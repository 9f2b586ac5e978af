"""Montage's mosaic header (mMakeHdr): `bounding_header` against MontagePy."""

import shutil

import numpy as np
import pytest
from astropy.io import fits
from astropy.table import Table

from conftest import MP, montage_imgtbl
from diffview import io
from diffview.errors import InputError
from diffview.run import bounding_header, format_bounding_header

REAL = "/work/shared/data/real"


def _one_image_table(crota2=0.0, nx=100, ny=50):
    return Table(
        {
            "ctype1": ["RA---TAN"],
            "ctype2": ["DEC--TAN"],
            "naxis1": [nx],
            "naxis2": [ny],
            "crval1": [10.0],
            "crval2": [20.0],
            "crpix1": [(nx + 1) / 2],
            "crpix2": [(ny + 1) / 2],
            "cdelt1": [-0.001],
            "cdelt2": [0.001],
            "crota2": [crota2],
        }
    )


def test_one_north_up_image_gives_its_own_frame():
    b = bounding_header(_one_image_table())
    h = fits.Header.fromstring(b.text, sep="\n")
    # mMakeHdr adds 2 pixels when the rounded size is short (NAXIS2 by a
    # comparison with the longitude size, as Montage does)
    assert (h["NAXIS1"], h["NAXIS2"]) == (101, 51)
    assert (h["CRPIX1"], h["CRPIX2"]) == (51.0, 26.0)
    assert h["CRVAL1"] == pytest.approx(10.0, abs=1e-9)
    assert h["CRVAL2"] == pytest.approx(20.0, abs=1e-9)
    assert h["CROTA2"] == 360.0  # Montage's (0, 360] range
    assert h["CDELT1"] == -0.001 and h["CDELT2"] == 0.001


def test_a_rotated_image_gets_a_box_turned_with_it():
    b = bounding_header(_one_image_table(crota2=30.0, nx=200, ny=60))
    assert b.info["posang"] == pytest.approx(30.0, abs=1e-6)
    assert (b.info["naxis1"], b.info["naxis2"]) == (201, 61)  # as MontagePy
    north = bounding_header(
        _one_image_table(crota2=30.0, nx=200, ny=60), north_aligned=True
    )
    assert north.info["posang"] == 0.0
    assert (north.info["naxis1"], north.info["naxis2"]) == (205, 153)


def test_pixel_scale_pad_and_text_format():
    b = bounding_header(_one_image_table(), pixel_scale=0.002, pad=3)
    assert (b.info["naxis1"], b.info["naxis2"]) == (55, 32)  # as MontagePy
    text = format_bounding_header(
        (5, 6), ("RA---TAN", "DEC--TAN"), 2000.0, (1.5, -2.25), (3.0, 3.5), 1e-4, 1.0
    )
    assert text.splitlines()[8:] == [
        "CRVAL1  =    1.500000000",
        "CRVAL2  =   -2.250000000",
        "CRPIX1  =         3.0000",
        "CRPIX2  =         3.5000",
        "CDELT1  =   -0.000100000",
        "CDELT2  =    0.000100000",
        "CROTA2  =    1.000000000",
        "END",
    ]


@pytest.mark.parametrize(
    ("table", "kwargs", "message"),
    [
        (_one_image_table(), {"system": "polar"}, "Invalid system string"),
        (_one_image_table()[:0], {}, "Error computing boundaries"),
        (Table({"x": [1.0]}), {}, "Need columns"),
    ],
)
def test_bad_input_raises_input_error(table, kwargs, message):
    with pytest.raises(InputError, match=message):
        bounding_header(table, **kwargs)


OPTIONS = [
    {},
    {"northAligned": 1},
    {"pad": 10},
    {"pad": 5, "isPercentage": True},
    {"pixelScale": 0.001},
    {"maxPixel": 500},
]
_NAMES = {
    "northAligned": "north_aligned",
    "pad": "pad",
    "isPercentage": "percent",
    "pixelScale": "pixel_scale",
    "maxPixel": "max_pixel",
}


def _same_as_montage(tbl, tmp_path, options):
    hdr = tmp_path / "m.hdr"
    ref = MP.mMakeHdr(str(tbl), str(hdr), **options)
    assert ref["status"] == "0", ref
    ours = bounding_header(
        io.read_table(tbl), **{_NAMES[k]: v for k, v in options.items()}
    )
    assert ours.text == hdr.read_text()
    for key, value in ref.items():
        if key != "status":
            assert ours.info[key] == pytest.approx(value, abs=1e-7), key


@pytest.mark.montage
@pytest.mark.parametrize("options", OPTIONS)
def test_header_text_is_montages_on_the_sample(small_sample, tmp_path, options):
    tbl = tmp_path / "raw.tbl"
    montage_imgtbl(small_sample.raw_dir, tbl)
    _same_as_montage(tbl, tmp_path, options)


@pytest.mark.montage
@pytest.mark.parametrize("corners", [True, False])
@pytest.mark.parametrize("options", OPTIONS[:3])
def test_header_text_is_montages_on_real_frames(tmp_path, options, corners):
    """CFHT (CD matrix rotated by 66 degrees) and two DSS plates, from the
    corner columns or from the WCS columns of MontagePy's own table."""
    raw = tmp_path / "raw"
    raw.mkdir()
    shutil.copy(f"{REAL}/cfht_a370/a370II.fits", raw)
    for k in (1, 2):
        shutil.copy(f"{REAL}/dss_midas/dss_test{k}.fits", raw)
    tbl = tmp_path / "raw.tbl"
    montage_imgtbl(raw, tbl, corners=corners)
    _same_as_montage(tbl, tmp_path, options)


@pytest.mark.montage
def test_galactic_output_agrees_to_half_an_arcsecond(small_sample, tmp_path):
    """Montage converts with its own FK5-to-galactic constants, diffview with
    astropy's (``docs/montage-semantics.md`` §9.2): centres agree to 0.5 arcsec."""
    tbl = tmp_path / "raw.tbl"
    montage_imgtbl(small_sample.raw_dir, tbl)
    ref = MP.mMakeHdr(str(tbl), str(tmp_path / "g.hdr"), csys="GAL")
    ours = bounding_header(io.read_table(tbl), system="galactic")
    assert ours.text.splitlines()[5:7] == [
        "CTYPE1  = 'GLON-TAN'",
        "CTYPE2  = 'GLAT-TAN'",
    ]
    assert (ours.info["naxis1"], ours.info["naxis2"]) == (ref["naxis1"], ref["naxis2"])
    assert (
        np.hypot(ours.info["clon"] - ref["clon"], ours.info["clat"] - ref["clat"])
        < 0.5 / 3600
    )
