"""mViewer's overlay and colour directives: grammar, sticky settings, errors
(no MontagePy needed)."""

import numpy as np
import pytest
from astropy.io import fits

from diffview.montage import mViewer, parse_command, parse_json


@pytest.fixture(scope="module")
def img(tmp_path_factory):
    d = tmp_path_factory.mktemp("directives")
    h = fits.Header({"CTYPE1": "RA---TAN", "CTYPE2": "DEC--TAN", "CRVAL1": 10.0,
                     "CRVAL2": 0.0, "CRPIX1": 25.5, "CRPIX2": 20.5,
                     "CDELT1": -0.001, "CDELT2": 0.001})
    fits.writeto(d / "a.fits", np.random.default_rng(0).normal(size=(40, 50)), h)
    tiny = h.copy()
    tiny.update(CRVAL2=89.99999, CDELT1=-1e-9, CDELT2=1e-9)
    fits.writeto(d / "tiny.fits", np.arange(2000.0).reshape(40, 50), tiny)
    (d / "bad.tbl").write_bytes(b"garbage\n\x00\x01")
    (d / "nocol.tbl").write_text("|x|y|\n|double|double|\n 1 2\n")
    return d


def test_sticky_symbol_colour_and_frame():
    c = parse_command("-symbol 20s box -color red -mark 10 20 -csys ga -symbol 3p "
                      "-color blue -mark 1p 2 -catalog c.tbl mag 12 mag -grid ec "
                      "-gray a.fits 0 1")
    m0, m1 = c.marks
    assert (m0.symbol, m0.size, m0.units, m0.color, m0.csys) == (
        (4, 0, 0, 45.0), 20.0, "arcsec", "red", "equatorial")
    # -symbol keeps the vertex count, resets kind and rotation
    assert (m1.symbol, m1.size, m1.units, m1.inpix, m1.csys) == (
        (4, 0, 0, 0.0), 3.0, "pixels", True, "galactic")
    cat = c.overlays[0]
    assert (cat.scale_col, cat.scale_val, cat.scale_type, cat.color) == (
        "mag", 12.0, "mag", "blue")
    assert c.grids[0].csys == "ecliptic"


def test_channels_and_histfiles():
    c = parse_command("-t 2 -red r.fits 1% 99% gl -green g.fits -histfile g.hist "
                      "-blue b.fits min max asinh 3s -gray x.fits -histfile x.hist")
    assert c.red.mode == "gaussian-log" and c.green.hist == "g.hist"
    assert (c.blue.mode, c.blue.beta, c.truecolor) == ("asinh", "3s", 2.0)
    assert (c.gray, c.gray_hist) == ("x.fits", "x.hist")


def test_json_layers():
    c = parse_json('{"gray_file": {"fits_file": "a.fits"}, "color": "red", '
                   '"overlays": [{"type": "mark", "lon": "10p", "lat": "5", '
                   '"symbol": "starred 5",'
                   ' "sym_size": "2"}, {"type": "catalog", "data_file": "c.tbl",'
                   ' "data_column": "m", "data_type": "mag", "data_ref": "12"}]}')
    assert c.marks[0].inpix and c.marks[0].symbol == (5, 0, 1, 0.0)
    assert c.marks[0].color == "red"
    assert (c.overlays[0].scale_type, c.overlays[0].scale_val) == ("mag", 12.0)


@pytest.mark.parametrize("cmd, msg", [
    ("-grid", "Parameters: [-d] [-nowcs]"),  # MontagePy: usage, < 2 words
    ("-mark 1", "Too few arguments following -mark flag"),
    ("-symbol abc -gray @a.fits 0 1", "Invalid symbol size"),
    ("-symbol 5 foo -gray @a.fits 0 1", "Invalid symbol type"),
    ("-symbol 10p starred 2 -mark 10 0 -gray @a.fits 0 1",
     "Invalid vertex count for symbol (must be an integer >= 3)"),
    ("-catalog @missing.tbl -gray @a.fits 0 1", "Invalid table file [@missing.tbl]."),
    ("-catalog @bad.tbl -gray @a.fits 0 1", "Invalid table file [@bad.tbl]."),
    ("-catalog @nocol.tbl -gray @a.fits 0 1",
     "Cannot find 'ra' and 'dec (or 'lon','lat') in table [@nocol.tbl]"),
    ("-red @a.fits", "Too few arguments following -red flag"),
    ("-red @a.fits 0 1 -green @a.fits 0 1", "No input 'blue' FITS file name given"),
    ("-t 9 -red @a.fits 0 1", "Color enhancement parameter must be a number between "
                             "1. and 4."),
    ("-grid ga -gray @tiny.fits 0 1", "is too fine to draw"),
    ("-grid eq B1950 -gray @a.fits 0 1", "(J2000 only)"),
    ("-gray @a.fits -histfile @nothere.hist", "Cannot open histogram file."),
    ("-gray @a.fits -histfile @bad.tbl", "not a histogram file"),
    ("-draw @a.fits -gray @a.fits 0 1", "not implemented"),
    ("-gray @a.fits 0 1 -label 1 2", "Too few arguments following -label flag"),
])
def test_errors_are_messages(img, cmd, msg):
    """Bad directives, files and values give mViewer's status 1 and a message,
    never a traceback."""
    r = mViewer(cmd.replace("@", f"{img}/"), str(img / "o.png"), mode=2)
    assert r["status"] == "1"
    assert msg.replace("@", f"{img}/") in r["msg"].decode()


@pytest.mark.parametrize("cmd", [
    "-symbol 180d circle -mark 10 0", "-symbol 0d circle -mark 10 0",
    "-symbol 1e300d box -mark 10 89.999", "-mark 10p 10p", "-grid eq", "-grid ga",
])
def test_odd_sizes_draw(img, cmd):
    """Degenerate symbols (zero, half-sky or absurd radii) draw what they can."""
    r = mViewer(f"{cmd} -gray {img}/a.fits 0 1", str(img / "o.png"), mode=2)
    assert r["status"] == "0", r


@pytest.mark.parametrize("text", [
    '[1]', '{"gray_file": 3}',
    '{"gray_file": {"fits_file": "a.fits"}, "overlays": [1]}',
    '{"gray_file": {"fits_file": "a.fits"}, "line_width": "x"}',
    '{"gray_file": {"fits_file": "a.fits"}, "overlays": [{"type": "grid"}]}',
])
def test_json_errors_are_messages(text):
    r = mViewer(text, "o.png", mode=1)
    assert r["status"] == "1" and r["msg"]
