"""mViewer's outline arithmetic (WCSTools, operation for operation): what it
ports, where it declines, and that it lands where the true outlines are."""

import math

import numpy as np
import pytest
from astropy.io import fits
from astropy.table import Table

from diffview.geometry import _wcstools as W
from diffview.geometry import image_outlines, mviewer_outlines


def _header(**extra) -> fits.Header:
    h = fits.Header({"NAXIS": 2, "NAXIS1": 80, "NAXIS2": 60, "CTYPE1": "RA---TAN",
                     "CTYPE2": "DEC--TAN", "CRVAL1": 150.123456789,
                     "CRVAL2": 2.3456789012, "CRPIX1": 40.5, "CRPIX2": 30.0,
                     "CDELT1": -2e-4, "CDELT2": 2e-4, "CROTA2": 12.5})
    h.update(extra)
    return h


def _columns(h, tiles, *, printed="%.7f") -> dict:
    cols = {"ctype1": ["RA---TAN"] * len(tiles), "ctype2": ["DEC--TAN"] * len(tiles),
            "naxis1": [t[2] for t in tiles], "naxis2": [t[3] for t in tiles],
            "crpix1": [h["CRPIX1"] - t[0] for t in tiles],
            "crpix2": [h["CRPIX2"] - t[1] for t in tiles]}
    for k in ("crval1", "crval2", "cdelt1", "cdelt2", "crota2"):
        cols[k] = [float(printed % h[k.upper()])] * len(tiles)
    return cols


TILES = [(3, 4, 30, 20), (40, 30, 45, 40), (-5, 10, 20, 20)]


def test_sides_lie_on_the_true_outlines():
    """The drawing frame is the true 0-based position in mViewer's 1-based
    pixels (x + 1, y counted from the bottom), up to WCSTools' rounding."""
    h = _header(CRVAL1=150.123457, CRVAL2=2.345679)   # printed as they are
    sides = mviewer_outlines(_columns(h, TILES), h)
    true = image_outlines(Table(_columns(h, TILES)), h, split="sides")
    assert len(sides) == len(true) == 9          # the sides on the picture
    for s, t in zip(sides, true, strict=True):
        xt, yt = t[:, 0] + 1.0, h["NAXIS2"] - t[:, 1]
        assert abs(len(s) - len(t)) <= 1         # a point on the picture's edge
        for k in (0, -1):
            if len(s) == len(t) or k == 0:
                assert abs(s[k, 0] - xt[k]) < 1e-6 and abs(s[k, 1] - yt[k]) < 1e-6


def test_table_rows_go_through_mviewers_printed_header():
    """mViewer prints a row's CRVAL with ``%11.6f`` before reading it back:
    tables 4e-7 degree apart that print alike draw the same outlines; 1e-6
    degree moves every corner by ~5e-3 pixel."""
    h = _header()
    base = mviewer_outlines(_columns(h, TILES), h)
    for delta, moved in ((4e-7, False), (1e-6, True)):
        cols = _columns(h, TILES)
        cols["crval1"] = [float("%.7f" % (v + delta)) for v in cols["crval1"]]
        got = mviewer_outlines(cols, h)
        if moved:
            shift = max(np.abs(a - b).max() for a, b in zip(got, base, strict=True)
                        if len(a) == len(b))      # not a side cut by the edge
            assert 2e-3 < shift < 8e-3
        else:
            assert all(np.array_equal(a, b) for a, b in zip(got, base, strict=True))


def test_corner_columns_are_taken_as_they_are():
    h = _header()
    ra = [150.13, 150.12, 150.12, 150.13]
    dec = [2.34, 2.34, 2.35, 2.35]
    cols = {}
    for k in range(4):
        cols[f"ra{k + 1}"], cols[f"dec{k + 1}"] = [ra[k], np.nan], [dec[k], 2.3]
    sides = mviewer_outlines(cols, h)
    assert len(sides) == 4                       # the row with a blank: skipped


@pytest.mark.parametrize("extra", [
    {"CTYPE1": "RA---SIN", "CTYPE2": "DEC--SIN"},
    {"CTYPE1": "GLON-TAN", "CTYPE2": "GLAT-TAN"},
    {"EQUINOX": 1950.0},
    {"RADESYS": "ICRS"},
    {"PC1_1": 1.0},
    {"LONPOLE": 170.0},
    {"CDELT1": 2e-4},                            # mirrored (WCSTools' imflip)
])
def test_other_pictures_are_left_to_image_outlines(extra):
    h = _header(**extra)
    assert mviewer_outlines(_columns(_header(), TILES), h) is None


def test_other_tables_are_left_to_image_outlines():
    h = _header()
    cols = _columns(h, TILES)
    cols["ctype1"] = ["RA---SIN"] * 3
    assert mviewer_outlines(cols, h) is None
    cols = _columns(h, TILES)
    cols["equinox"] = [1950.0] * 3
    assert mviewer_outlines(cols, h) is None
    cols = _columns(h, TILES)
    del cols["crota2"]                           # mViewer needs it
    assert mviewer_outlines(cols, h) is None


def test_cd_matrix_picture():
    """A CD matrix equal to the CDELT/CROTA2 form draws the same outlines
    (within rounding: WCSTools builds the matrix its own way)."""
    h = _header(CROTA2=0.0)
    cd = _header(CROTA2=0.0)
    for k in ("CDELT1", "CDELT2", "CROTA2"):
        del cd[k]
    cd["CD1_1"], cd["CD1_2"], cd["CD2_1"], cd["CD2_2"] = -2e-4, 0.0, 0.0, 2e-4
    a = mviewer_outlines(_columns(h, TILES), h)
    b = mviewer_outlines(_columns(h, TILES), cd)
    assert all(np.abs(x - y).max() < 1e-9 for x, y in zip(a, b, strict=True))


def test_wcstrig_is_exact_at_quarter_turns_and_libm_elsewhere():
    assert W._cosdeg(90.0) == 0.0 and W._sindeg(180.0) == 0.0
    assert W._sindeg(-270.0) == 1.0 and W._cosdeg(-180.0) == -1.0
    assert W._atan2deg(0.0, -1.0) == 180.0 and W._atan2deg(-2.0, 0.0) == -90.0
    assert W._acosdeg(1.0 + 1e-12) == 0.0 and W._asindeg(0.0) == 0.0
    rng = np.random.default_rng(7)
    v = rng.uniform(-1, 1, 300)
    assert np.array_equal(W._libm("asin")(v), [math.asin(t) for t in v])
    assert np.array_equal(W._libm("atan2")(v, v[::-1]),
                          [math.atan2(a, b) for a, b in zip(v, v[::-1], strict=True)])
    assert np.array_equal(W._libm("cos")(v * 9), [math.cos(t) for t in v * 9])


@pytest.mark.parametrize("name", ["sin", "cos", "asin", "acos"])
def test_the_element_by_element_trigonometry_is_cs(name):
    """What runs where numpy's vectorised functions differ from libm (AVX-512
    builds): math's values, NaN outside the domain (where math raises)."""
    v = np.array([-2.0, -1.0, -0.3, 0.0, 0.7, 1.0, 1.5, np.nan, np.inf, -np.inf])
    got = W._exact(name)(v)
    f = getattr(math, name)
    want = []
    for t in v:
        try:
            want.append(f(t))
        except ValueError:
            want.append(math.nan)
    assert np.array_equal(got, want, equal_nan=True)
    assert W._exact(name)(0.5) == f(0.5)


def test_the_element_by_element_atan2_is_cs():
    y = np.array([0.0, -0.0, 1.0, -1.0, np.inf, np.nan, 3.0])
    x = np.array([-1.0, -1.0, 0.0, 0.0, np.inf, 1.0, -2.0])
    want = [math.atan2(a, b) for a, b in zip(y, x, strict=True)]
    assert np.array_equal(W._exact("atan2")(y, x), want, equal_nan=True)


def test_matinv_is_wcslibs():
    m = [-1.7e-4, 3.1e-5, 2.9e-5, 1.8e-4]
    inv = W._matinv2(m)
    prod = np.array(m).reshape(2, 2) @ np.array(inv).reshape(2, 2)
    assert np.allclose(prod, np.eye(2), atol=1e-12)
    assert W._matinv2([0.0, 0.0, 1.0, 2.0]) is None


def test_compiled_loops_give_the_same_bits(monkeypatch):
    """Large tables run compiled loops (numba): the same arithmetic, the same
    points to the last bit, sides cut by the picture's edges included."""
    h = _header(CRPIX1=20.5)
    tiles = TILES + [(60, 50, 30, 25), (-20, -15, 40, 30)]
    ref = mviewer_outlines(_columns(h, tiles), h)
    monkeypatch.setattr(W, "JIT_POINTS", 0)
    got = mviewer_outlines(_columns(h, tiles), h)
    assert len(got) == len(ref) > 10
    assert all(np.array_equal(a, b) for a, b in zip(got, ref, strict=True))
