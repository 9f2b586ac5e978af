"""Pixel parity with MontagePy's mViewer for overlays: outlines at the picture's
edges, grids, marks, catalogs, three-colour pictures, histogram files."""

from functools import partial

import numpy as np
import pytest
from astropy.io import fits
from astropy.table import Table
from astropy.wcs import WCS

from conftest import MP as montage
from conftest import tan_header as shared_tan_header
from diffview.montage import mViewer

PIL = pytest.importorskip("PIL.Image")
pytest.importorskip("importlib_resources")

pytestmark = pytest.mark.montage

tan_header = partial(shared_tan_header, crval=(275.196, -16.171))
NX, NY = 200, 120


def read_png(path) -> np.ndarray:
    with PIL.open(path) as im:
        return np.asarray(im.convert("RGB")).astype(int)


def _edge_boxes(seed: int) -> list:
    """Image corners (1-based pixels) with one side along the picture's first or
    last row, corners just on or off the picture."""
    rng = np.random.default_rng(seed)
    boxes = []
    for k in range(12):
        x0, w, h = rng.uniform(5, 150), rng.uniform(3, 45), rng.uniform(2, 40)
        jit = partial(rng.uniform, -0.04, 0.04)
        if k % 2:
            yb = rng.uniform(0.45, 0.55)
            boxes.append([(x0, yb + jit()), (x0 + w, yb + jit()),
                          (x0 + w + rng.uniform(-1, 1), yb + h),
                          (x0 + rng.uniform(-1, 1), yb + h)])
        else:
            yt = rng.uniform(NY + 0.45, NY + 0.55)
            boxes.append([(x0, yt - h), (x0 + w, yt - h + rng.uniform(-1, 1)),
                          (x0 + w + rng.uniform(-0.5, 0.5), yt + jit()),
                          (x0, yt + jit())])
    return boxes


def _write_images_table(path, header, boxes):
    w = WCS(header)
    cols = {}
    for k in range(4):
        ra, dec = w.all_pix2world([b[k][0] for b in boxes], [b[k][1] for b in boxes], 1)
        cols[f"ra{k + 1}"], cols[f"dec{k + 1}"] = ra, dec
    order = [f"{c}{k}" for k in range(1, 5) for c in ("ra", "dec")]
    Table({"cntr": np.arange(len(boxes)), **{c: cols[c] for c in order}}).write(
        path, format="ascii.ipac", overwrite=True)


@pytest.fixture(scope="module")
def field(tmp_path_factory):
    d = tmp_path_factory.mktemp("overlays")
    rng = np.random.default_rng(16)
    h = tan_header(NX, NY, 100.5, 60.5)
    sky = rng.normal(10.0, 1.0, (NY, NX))
    sky[40:50, 60:75] += 40.0
    fits.writeto(d / "mosaic.fits", sky, h)
    _write_images_table(d / "pimages.tbl", h, _edge_boxes(2))
    _write_images_table(d / "dimages.tbl", h, _edge_boxes(3))
    return d


def both(d, cmd):
    """Run MontagePy and diffview on one command; return their pictures."""
    cmd = cmd.replace("@", str(d) + "/")
    rm = montage.mViewer(cmd, str(d / "m.png"), mode=2)
    rd = mViewer(cmd, str(d / "d.png"), mode=2)
    assert rm["status"] == "0", rm
    assert rd["status"] == "0", rd
    return read_png(d / "m.png"), read_png(d / "d.png")


def test_outlines_through_the_last_rows_identical(field):
    """The issue's command: two outline tables whose sides run along the first
    and last rows, with corners just off the picture. mViewer draws each side
    as its own curve; joining the sides across a dropped corner (diffview
    before) moved 1-2 levels in the last two rows."""
    cmd = ("-ct 1 -color yellow -imginfo @pimages.tbl -color black "
           "-imginfo @dimages.tbl -gray @mosaic.fits min max gaussian-log")
    am, ad = both(field, cmd)
    plain, _ = both(field, "-ct 1 -gray @mosaic.fits min max gaussian-log")
    drawn = (am != plain).any(-1)
    assert drawn[-2:].sum() > 50 and drawn[:2].sum() > 50
    assert (am == ad).all()
    am, ad = both(field, "-ct 1 -color yellow -imginfo @pimages.tbl "
                         "-gray @mosaic.fits min max gaussian-log")
    assert (am == ad).all()
