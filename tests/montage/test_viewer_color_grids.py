"""Three-colour pictures whose channels lie on different pixel grids (issue #16).

mViewer draws the union of the channel grids aligned by CRPIX, each channel blank
where it does not reach, and projects the overlays with the blue image's header;
diffview's PNG must be MontagePy's, pixel for pixel.
"""

from functools import partial

import numpy as np
import pytest
from astropy.io import fits

from conftest import MP as montage
from conftest import tan_header as shared_tan_header
from diffview.montage import mViewer

PIL = pytest.importorskip("PIL.Image")
pytest.importorskip("importlib_resources")

pytestmark = pytest.mark.montage

tan_header = partial(shared_tan_header, crval=(275.196, -16.171))

#: name: (ny, nx, crpix1, crpix2) -- whole and fractional CRPIX offsets.
GRIDS = {"a": (3, 4, 2, 2), "b": (5, 6, 5, 2), "c": (30, 40, 20.5, 15.5),
         "e": (25, 33, 14.25, 10.75), "f": (36, 28, 3.5, 30.5),
         "g": (20, 20, 10, 10), "h": (20, 20, 12.5, 7.5)}


def read_png(path) -> np.ndarray:
    with PIL.open(path) as im:
        return np.asarray(im.convert("RGB")).astype(int)


@pytest.fixture(scope="module")
def grids(tmp_path_factory):
    """Seeded images on the GRIDS, one with blank pixels, and their images table."""
    d = tmp_path_factory.mktemp("colorgrids")
    rng = np.random.default_rng(16)
    for name, (ny, nx, c1, c2) in GRIDS.items():
        a = rng.normal(10.0, 3.0, (ny, nx))
        if name == "c":
            a[1:3, 2:4] = np.nan
        fits.writeto(d / f"{name}.fits", a, tan_header(nx, ny, c1, c2))
    r = montage.mImgtbl(str(d), str(d / "img.tbl"), showCorners=True)
    assert r["status"] == "0", r
    return d


def both(d, cmd):
    """Run MontagePy and diffview on one command; return their results and pictures."""
    cmd = cmd.replace("@", str(d) + "/")
    rm = montage.mViewer(cmd, str(d / "m.png"), mode=2)
    rd = mViewer(cmd, str(d / "d.png"), mode=2)
    return rm, rd


CASES = [
    "-red @a.fits min max -blue @b.fits min max",
    "-red @a.fits min max -green @b.fits min max -blue @a.fits min max",
    "-red @c.fits min max -green @e.fits 1% 99% -blue @f.fits min max gaussian",
    "-red @c.fits min max -blue @e.fits min max",
    "-noflip -red @c.fits min max -green @e.fits min max -blue @f.fits min max",
    "-red @g.fits min max -green @h.fits min max -blue @g.fits min max",
    "-t 2 -red @h.fits min max -green @g.fits min max -blue @c.fits -1s 3s",
    "-saturate 100 -red @c.fits min max -blue @e.fits min max",
    "-color red -imginfo @img.tbl -red @c.fits min max -green @e.fits min max "
    "-blue @f.fits min max",
    "-color yellow -imginfo @img.tbl -red @c.fits min max -blue @g.fits min max",
    "-noflip -color yellow -imginfo @img.tbl "
    "-red @c.fits min max -blue @g.fits min max",
    "-noflip -color yellow -imginfo @img.tbl "
    "-red @h.fits min max -blue @c.fits min max",
    "-color red -mark 275.196 -16.171 -symbol 3p circle -color green "
    "-mark 275.1965 -16.1715 -red @e.fits min max -blue @f.fits min max",
    "-noflip -symbol 5p circle -color red -mark 275.196 -16.171 "
    "-red @c.fits min max -blue @g.fits min max",
]


@pytest.mark.parametrize("cmd", CASES)
def test_union_pictures_identical(grids, cmd):
    """Different sizes, whole and fractional CRPIX offsets, a missing green,
    blank pixels, -t, -saturate, -noflip, -imginfo outlines and marks."""
    rm, rd = both(grids, cmd)
    assert rm["status"] == "0", rm
    assert rd["status"] == "0", rd
    assert (rd["nx"], rd["ny"]) == (rm["nx"], rm["ny"])
    m, d = read_png(grids / "m.png"), read_png(grids / "d.png")
    assert m.shape == d.shape
    assert (m == d).all(), np.argwhere((m != d).any(-1))[:5].tolist()


def test_union_size_as_montage(grids):
    """The issue's case: 3x4 at CRPIX (2, 2) and 5x6 at (5, 2) make a 7 x 5 picture."""
    rm, rd = both(grids, "-red @a.fits min max -blue @b.fits min max")
    assert (rm["nx"], rm["ny"]) == (7, 5)
    assert (rd["nx"], rd["ny"]) == (7, 5)


@pytest.mark.parametrize("change, colour", [({"CDELT1": -2.0 / 3600.0}, "blue"),
                                            ({"CROTA2": 1.0}, "green")])
def test_other_projection_refused_as_montage(grids, change, colour):
    h = tan_header(20, 20, 10, 10)
    h.update(change)
    fits.writeto(grids / "x.fits", np.ones((20, 20)), h, overwrite=True)
    cmd = ("-red @g.fits min max -blue @x.fits min max" if colour == "blue" else
           "-red @g.fits min max -green @x.fits min max -blue @g.fits min max")
    rm, rd = both(grids, cmd)
    assert rm["status"] == rd["status"] == "1"
    assert rd["msg"] == (f"Red and {colour} FITS images don't have matching "
                         "projections (use -nowcs flag if you still want to "
                         "proceed).").encode()
    assert rm["msg"].startswith(rd["msg"])


@pytest.mark.parametrize("change, layers", [
    ({"CTYPE1": "RA---SIN", "CTYPE2": "DEC--SIN"}, ""),
    ({"CRVAL1": 275.2, "CRVAL2": -16.17},
     "-color red -imginfo @img.tbl -mark 275.196 -16.171 "),
])
def test_other_projection_type_or_centre_accepted_as_montage(grids, change, layers):
    """MontagePy compares CDELT and rotation only: a SIN blue, or one about
    another CRVAL, is aligned by CRPIX (and the overlays use its header; the
    exact outlines are ported for TAN pictures only, §9)."""
    h = tan_header(20, 20, 6, 9)
    h.update(change)
    fits.writeto(grids / "s.fits", np.arange(400.0).reshape(20, 20), h, overwrite=True)
    rm, rd = both(grids, layers + "-red @c.fits min max -blue @s.fits min max")
    assert rm["status"] == rd["status"] == "0", (rm, rd)
    assert (read_png(grids / "m.png") == read_png(grids / "d.png")).all()
