"""Pixel parity with MontagePy's mViewer for ``-imginfo`` outlines of projected
tiles: sides on pixel edges, corners on pixel corners, sides along the
picture's first and last rows and columns (the 2MASS case of issue #16), tables
with WCS columns only (Montage's ``mImgtbl`` default) or with corners, a turned
mosaic, several colours and an opacity."""

import numpy as np
import pytest
from astropy.io import fits
from astropy.table import Table
from astropy.wcs import WCS
from test_viewer_overlays import both

from conftest import tan_header

PIL = pytest.importorskip("PIL.Image")
pytest.importorskip("importlib_resources")

pytestmark = pytest.mark.montage

NX, NY = 96, 64
#: CRVAL with more digits than a Montage table prints (%.7f) or mViewer's
#: header for a table row (%11.6f): the tiles' corners move by ~1e-3 pixel.
CRVAL = (275.196123456, -16.171234567)


def _tiles(seed: int) -> list:
    """(i0, j0, w, h) of tiles on the picture's pixel grid (0-based offsets):
    each touches or crosses an edge of the picture, some its last rows."""
    rng = np.random.default_rng(seed)
    out = [(0, 0, 40, 30), (NX - 40, NY - 30, 40, 30),   # picture corners
           (20, NY - 25, 30, 25), (50, NY - 20, 30, 26)]  # last rows, beyond
    for _ in range(6):
        w, h = (int(v) for v in rng.integers(8, 45, 2))
        i0 = int(rng.integers(-10, NX - w + 10))
        j0 = int(rng.choice([0, NY - h, int(rng.integers(-5, NY - h + 5))]))
        out.append((i0, j0, w, h))
    return out


def _write_table(path, header, tiles, corners: bool):
    """An images.tbl of the tiles, as mImgtbl writes it (WCS columns, Montage's
    printed digits), with or without the corner columns."""
    rows = []
    for i0, j0, w, h in tiles:
        rows.append({"naxis1": w, "naxis2": h, "crpix1": header["CRPIX1"] - i0,
                     "crpix2": header["CRPIX2"] - j0})
    t = Table(rows)
    t.add_column(np.arange(len(rows)), name="cntr", index=0)
    t["ctype1"], t["ctype2"] = "RA---TAN", "DEC--TAN"
    t["crval1"], t["crval2"] = header["CRVAL1"], header["CRVAL2"]
    t["cdelt1"], t["cdelt2"] = header["CDELT1"], header["CDELT2"]
    t["crota2"], t["equinox"] = header["CROTA2"], 2000.0
    for c, f in (("crval1", ".7f"), ("crval2", ".7f"), ("crpix1", ".5f"),
                 ("crpix2", ".5f"), ("cdelt1", ".10e"), ("cdelt2", ".10e"),
                 ("crota2", ".7f"), ("equinox", ".2f")):
        t[c].format = f
    if corners:
        w = WCS(header)
        edges = [(0, 0), (1, 0), (1, 1), (0, 1)]
        for k, (a, b) in enumerate(edges, start=1):
            x = [i0 + 0.5 + a * wd for i0, _, wd, _ in tiles]
            y = [j0 + 0.5 + b * ht for _, j0, _, ht in tiles]
            t[f"ra{k}"], t[f"dec{k}"] = w.all_pix2world(x, y, 1)
    t.write(path, format="ascii.ipac", overwrite=True)


def _field(d, crota2: float):
    h = tan_header(NX, NY, 48.5, 32.0, crota2=crota2, crval=CRVAL)
    rng = np.random.default_rng(4)
    sky = rng.normal(100.0, 5.0, (NY, NX))
    sky[20:30, 40:60] += 300.0
    fits.writeto(d / "mosaic.fits", sky, h)
    _write_table(d / "pimages.tbl", h, _tiles(1), corners=False)
    _write_table(d / "dimages.tbl", h, _tiles(2), corners=False)
    _write_table(d / "cimages.tbl", h, _tiles(3), corners=True)
    return d


@pytest.fixture(scope="module", params=[0.0, 23.8055149])
def field(request, tmp_path_factory):
    """A mosaic (upright, or turned as the CFHT frame) and three tables."""
    return _field(tmp_path_factory.mktemp("tiles"), request.param)


GRAY = "-gray @mosaic.fits min max gaussian-log"


def test_seed_command_on_tiles_identical(field):
    """The seed's command: projected tiles in yellow, differences in black,
    sides on pixel edges and along the first and last rows and columns."""
    am, ad = both(field, f"-ct 1 -color yellow -imginfo @pimages.tbl -color black "
                         f"-imginfo @dimages.tbl {GRAY}")
    plain, _ = both(field, f"-ct 1 {GRAY}")
    drawn = (am != plain).any(-1)
    assert drawn[:2].sum() > 20 and drawn[-2:].sum() > 20      # last rows drawn
    assert drawn[:, -1].sum() > 10 or drawn[:, 0].sum() > 10
    assert (am == ad).all(), int((am != ad).any(-1).sum())


@pytest.mark.parametrize("layer", [
    "-color yellow -imginfo @cimages.tbl",                 # corner columns
    "-color orange -imginfo @pimages.tbl",                 # 154 of 155: C int
    "-color gray -alpha 0.6 -imginfo @dimages.tbl",
    "-color 30a0ff -imginfo @pimages.tbl -color white -imginfo @cimages.tbl",
])
def test_outline_colours_and_tables_identical(field, layer):
    am, ad = both(field, f"-ct 0 {layer} {GRAY}")
    assert (am == ad).all(), int((am != ad).any(-1).sum())


def test_noflip_outlines_identical(field):
    am, ad = both(field, f"-noflip -color yellow -imginfo @pimages.tbl {GRAY}")
    assert (am == ad).all(), int((am != ad).any(-1).sum())


def test_tiles_far_off_the_picture_draw_nothing(tmp_path):
    d = _field(tmp_path, 0.0)
    _write_table(d / "far.tbl", fits.getheader(d / "mosaic.fits"),
                 [(NX + 20, 0, 10, 10), (-40, -40, 10, 10)], corners=False)
    am, ad = both(d, f"-color yellow -imginfo @far.tbl {GRAY}")
    plain, _ = both(d, GRAY)
    assert (am == plain).all() and (ad == plain).all()
