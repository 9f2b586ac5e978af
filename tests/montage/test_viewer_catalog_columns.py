"""Catalog column directives (``-sizecol``, ``-shapecol``, ``-colorcol``) vs MontagePy.

mViewer reads ``-sizecol`` per row only to decide whether a symbol is drawn:
the radius stays the catalog's (§8.10), so a catalog whose sticky size is
``none`` draws the rows with a positive size, at the smallest symbol size.
``-shapecol`` gives each row its own ``-symbol`` shape words, ``-colorcol``
its own colour (symbols of different colours compared where they do not
overlap: see docs/montage-semantics.md §9).
"""

import numpy as np
import pytest
from astropy.io import fits
from astropy.table import Table
from astropy.wcs import WCS

from conftest import MP as montage
from conftest import tan_header
from diffview.montage import mViewer, parse_command

PIL = pytest.importorskip("PIL.Image")


def read_png(path) -> np.ndarray:
    with PIL.open(path) as im:
        return np.asarray(im.convert("RGB")).astype(int)


@pytest.fixture(scope="module")
def field(tmp_path_factory):
    d = tmp_path_factory.mktemp("catcols")
    rng = np.random.default_rng(17)
    h = tan_header(80, 40, 40.5, 20.5, crval=(275.196, -16.171))
    fits.writeto(d / "img.fits", rng.normal(10.0, 1.0, (40, 80)), h)
    x, y = np.array([6.0, 19, 32, 45, 58, 71]), rng.uniform(3, 37, 6)
    ra, dec = WCS(h).all_pix2world(x, y, 1)
    t = Table({"ra": ra, "dec": dec,
               "sz": ["20s", "3p", "bad", "0", "-2m", "1_0"],
               "shp": ["box", "starred 5 36", "bogus", "skeletal 4", "el", "3"],
               "col": ["green", "ff00ff", "bogus", "#0000ff", "FF8000", "cyan"]})
    t.write(d / "cat.tbl", format="ascii.ipac")
    return d


@pytest.mark.montage
@pytest.mark.parametrize("symbol", ["-symbol 8p circle", "-symbol none",
                                    "-symbol 2m box", "-symbol none -sizecol none"])
def test_sizecol_identical(field, symbol):
    pytest.importorskip("importlib_resources")
    cmd = (f"-color red {symbol.replace('-sizecol none', '')} -sizecol sz "
           f"{'-sizecol none' if 'sizecol none' in symbol else ''} "
           f"-catalog {field}/cat.tbl -gray {field}/img.fits min max")
    rm = montage.mViewer(cmd, str(field / "m.png"), mode=2)
    rd = mViewer(cmd, str(field / "d.png"), mode=2)
    assert rm["status"] == rd["status"] == "0", (rm, rd)
    m, d = read_png(field / "m.png"), read_png(field / "d.png")
    assert (m == d).all(), np.argwhere((m != d).any(-1))[:5].tolist()


@pytest.mark.montage
@pytest.mark.parametrize("symbol", ["-symbol 8p circle", "-symbol 6p",
                                    "-symbol 2m compass", "-symbol 1m box -sizecol sz"])
def test_shapecol_identical(field, symbol):
    """Named shapes, kinds with vertices and rotation, unreadable and kind-only
    values (the catalog's vertex count)."""
    pytest.importorskip("importlib_resources")
    cmd = (f"-color red {symbol} -shapecol shp -catalog {field}/cat.tbl "
           f"-gray {field}/img.fits min max")
    rm = montage.mViewer(cmd, str(field / "m.png"), mode=2)
    rd = mViewer(cmd, str(field / "d.png"), mode=2)
    assert rm["status"] == rd["status"] == "0", (rm, rd)
    m, d = read_png(field / "m.png"), read_png(field / "d.png")
    assert (m == d).all(), np.argwhere((m != d).any(-1))[:5].tolist()


@pytest.mark.montage
@pytest.mark.parametrize("symbol", ["-symbol 4p circle", "-symbol 3p -shapecol shp",
                                    "-symbol 4p box -alpha 0.5",
                                    "-symbol 4p circle -colorcol none"])
def test_colorcol_identical(field, symbol):
    """Names, hex with and without ``#``, an unknown name; ``none`` ends it."""
    pytest.importorskip("importlib_resources")
    cmd = (f"-color red -colorcol col {symbol} -catalog {field}/cat.tbl "
           f"-gray {field}/img.fits min max")
    rm = montage.mViewer(cmd, str(field / "m.png"), mode=2)
    rd = mViewer(cmd, str(field / "d.png"), mode=2)
    assert rm["status"] == rd["status"] == "0", (rm, rd)
    m, d = read_png(field / "m.png"), read_png(field / "d.png")
    assert (m == d).all(), np.argwhere((m != d).any(-1))[:5].tolist()
    if "none" not in symbol:
        assert (m[..., 1] > 250).any() and (m[..., 2] > 250).any()


@pytest.mark.montage
@pytest.mark.parametrize("kind, what", [("size", "symbol size"),
                                        ("shape", "symbol shape"), ("color", "color")])
def test_missing_column_as_montage(field, kind, what):
    pytest.importorskip("importlib_resources")
    cmd = (f"-{kind}col nosuch -catalog {field}/cat.tbl "
           f"-gray {field}/img.fits min max")
    rm = montage.mViewer(cmd, str(field / "m.png"), mode=2)
    rd = mViewer(cmd, str(field / "d.png"), mode=2)
    assert rd == {"status": "1", "msg": (f"Cannot find {what} column [nosuch] in "
                                         f"table [{field}/cat.tbl]").encode()}
    assert rm["msg"] == rd["msg"]


def test_columns_are_sticky_until_none():
    c = parse_command("-sizecol sz -catalog a.tbl -shapecol sh -catalog b.tbl "
                      "-sizecol none -catalog c.tbl -shapecol none -catalog d.tbl "
                      "-colorcol cc -catalog e.tbl -gray x.fits min max")
    assert [o.color_col for o in c.overlays] == ["", "", "", "", "cc"]
    assert [o.size_col for o in c.overlays] == ["sz", "sz", "", "", ""]
    assert [o.shape_col for o in c.overlays] == ["", "sh", "sh", "", ""]
