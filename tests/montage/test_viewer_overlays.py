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


@pytest.fixture(scope="module")
def colors(field):
    """Three images on the mosaic's grid, a source catalog and histogram files."""
    rng = np.random.default_rng(161)
    h = fits.getheader(field / "mosaic.fits")
    sky = fits.getdata(field / "mosaic.fits")
    for k, name in enumerate("rgb"):
        img = sky * (1 + 0.3 * k) + rng.normal(0, 0.5, sky.shape)
        img[5 + k:9 + k, 20:30] = np.nan
        fits.writeto(field / f"{name}.fits", img, h)
    w = WCS(h)
    x, y = rng.uniform(-5, NX + 5, 40), rng.uniform(-5, NY + 5, 40)
    ra, dec = w.all_pix2world(x, y, 1)
    Table({"ra": ra, "dec": dec, "flux": rng.uniform(0.5, 20, 40),
           "mag": rng.uniform(10, 15, 40)}).write(field / "cat.tbl",
                                                   format="ascii.ipac")
    from MontagePy import _wrappers

    for name, img, lo, hi, mode in [("gl", "mosaic", "-1s", "max", "gaussian-log"),
                                    ("g", "mosaic", "-2s", "3s", "gaussian"),
                                    ("lin", "mosaic", "1%", "99%", "linear"),
                                    ("r", "r", "1%", "99%", "gaussian")]:
        r = _wrappers.mHistogram(str(field / f"{img}.fits"),
                                 str(field / f"{name}.hist"), lo, hi, mode)
        assert r["status"] == "0", r
    return field


MARKS = [
    "-color red -mark 275.196 -16.171",
    "-symbol 20s box -color green -mark 275.196 -16.171",
    "-symbol 1m starred 5 36 -color cyan -mark 275.2 -16.17",
    "-symbol 40p compass -color ff8000 -mark 100p 60p",
    "-symbol 0.02d skeletal 6 -mark 275.18 -16.16 -symbol 15p el -mark 275.19 -16.18",
    "-symbol 2 triangle -mark 275.21 -16.17 -symbol 12p plus -mark 275.185 -16.175",
    "-symbol 9p diamond -linewidth 1 -color blue -mark 275.205 -16.165 "
    "-symbol 7p hexagon -alpha 0.5 -mark 275.19 -16.163",
]


@pytest.mark.parametrize("marks", MARKS)
def test_marks_identical(colors, marks):
    """Symbols are great-circle arcs between vertices computed as mViewer's
    (positions in degrees, pixels, sizes in arcsec/arcmin/deg/pixels/character
    heights): identical pictures."""
    am, ad = both(colors, f"{marks} -ct 0 -gray @mosaic.fits min max")
    plain, _ = both(colors, "-ct 0 -gray @mosaic.fits min max")
    assert (am != plain).any(-1).sum() > 3
    assert (am == ad).all()


CATALOGS = [
    "-color red -catalog @cat.tbl",
    "-symbol 3p starred 5 -scalecol mag 12 mag -color cyan -catalog @cat.tbl",
    "-symbol 10s box -color blue -catalog @cat.tbl flux 5 log",
    "-symbol 8p box -color yellow -catalog @cat.tbl flux 4 flux",
]


@pytest.mark.parametrize("cat", CATALOGS)
def test_catalogs_identical(colors, cat):
    """Catalog symbols scaled by a flux, magnitude or log-flux column, sources
    off the picture included: identical pictures.

    (mViewer skips the token after ``-catalog table column value`` when no
    scaling type follows, so these commands give the type or end the
    catalog's arguments with a third word; diffview reads the type only when
    it is there, ``docs/montage-semantics.md`` §9.2.)"""
    am, ad = both(colors, f"{cat} -ct 0 -gray @mosaic.fits min max")
    assert (am == ad).all()


def test_catalog_circles_within_rounding(colors):
    """Circles are 128 arcs of about a pixel: where two writes of nearly equal
    brightness meet, the last bits of the projection pick the brighter one, so
    a few pixels differ by a level or two (§9.2); the rest is identical."""
    am, ad = both(colors, "-symbol 8p circle -color yellow -catalog @cat.tbl flux 4 "
                          "flux -ct 0 -gray @mosaic.fits min max")
    plain, _ = both(colors, "-ct 0 -gray @mosaic.fits min max")
    drawn = (am != plain).any(-1)
    differ = (am != ad).any(-1)
    assert drawn.sum() > 1000
    assert differ.sum() <= 0.02 * drawn.sum()
    assert np.abs(am - ad).max() <= 2


def test_marks_catalogs_outlines_in_mviewer_order(colors):
    """mViewer draws grids, then outlines and catalogs in command order, then
    marks, whatever the command's order."""
    cmd = ("-symbol 30p box -color black -mark 275.196 -16.171 -color yellow "
           "-catalog @cat.tbl -color red -imginfo @pimages.tbl "
           "-ct 1 -gray @mosaic.fits min max gaussian-log")
    am, ad = both(colors, cmd)
    assert (am == ad).all()


COLORS = [
    "-red @r.fits min max -green @g.fits -1s 99% gaussian "
    "-blue @b.fits 1% max asinh 2s",
    "-red @r.fits 1% 99% log -blue @b.fits min max loglog",
    "-t 2 -red @r.fits 1% 99% -green @g.fits 1% 99% gaussian-log "
    "-blue @b.fits min max",
    "-saturate 128 -red @r.fits -2s max gl -green @g.fits min max "
    "-blue @b.fits min max -symbol 10p box -color white -mark 275.196 -16.171",
]


@pytest.mark.parametrize("cmd", COLORS)
def test_three_colour_identical(colors, cmd):
    """Each channel with its own stretch, values truncated (not rounded as in
    grey), red/blue pictures with a black green, true colour, blank pixels,
    overlays: identical pictures and the same returned statistics."""
    cmd = cmd.replace("@", str(colors) + "/")
    rm = montage.mViewer(cmd, str(colors / "m.png"), mode=2)
    rd = mViewer(cmd, str(colors / "d.png"), mode=2)
    assert rm["status"] == rd["status"] == "0", (rm, rd)
    assert rd["type"] == rm["type"] == b"color"
    assert (read_png(colors / "m.png") == read_png(colors / "d.png")).all()
    for k in ("redminval", "redmaxval", "greenmaxval", "blueminval", "bluemaxpercent",
              "rdatamax", "bdatamin"):
        assert rd[k] == pytest.approx(rm[k], rel=1e-12, abs=1e-12), k


@pytest.mark.parametrize("cmd", [
    "-ct 0 -gray @mosaic.fits -histfile @gl.hist",
    "-ct 2 -gray @mosaic.fits -histfile @g.hist",
    "-ct 1 -gray @mosaic.fits -histfile @lin.hist",
    "-red @r.fits -histfile @r.hist -green @g.fits min max -blue @b.fits -histfile "
    "@lin.hist",
])
def test_histfile_identical(colors, cmd):
    """Stretches read from mHistogram's files (printed to 6-7 digits, so not
    the stretch computed from the image): identical pictures and returned
    values (percentiles from the file's cumulative counts)."""
    am, ad = both(colors, cmd)
    assert (am == ad).all()
    full = cmd.replace("@", str(colors) + "/")
    rm = montage.mViewer(full, str(colors / "m.png"), mode=2)
    rd = mViewer(full, str(colors / "d.png"), mode=2)
    for k, v in rm.items():
        if isinstance(v, float):
            assert rd[k] == pytest.approx(v, rel=1e-12, abs=1e-12), k
    direct, _ = both(colors, "-ct 0 -gray @mosaic.fits -1s max gaussian-log")
    if "gl.hist" in cmd:
        assert (am != direct).any()


def _grid_zones(colors, cmd, am, ad, plain):
    """Where either draws grid labels: the pixels its labels change (text and
    the lines blanked under it; against 1-point labels), dilated. Fonts differ
    (§9.2)."""
    from scipy.ndimage import binary_dilation

    sm, sd = both(colors, "-fontscale 0.01 " + cmd)
    labels = (am != sm).any(-1) | (ad != sd).any(-1)
    m, d = (am != plain).any(-1), (ad != plain).any(-1)
    return m, d, binary_dilation(labels, np.ones((5, 5), bool))


def test_equatorial_grid_lines_match(colors):
    """Grid lines (spacing, positions, ends, anti-aliasing) are mViewer's.
    Outside the label zones the pictures agree, but for pixels where a line
    passes exactly through a pixel centre or edge (a line at CRVAL): there the
    last bit of the projection (WCSLIB's against Montage's wcstools) decides a
    level."""
    cmd = "-color red -grid eq -ct 0 -gray @mosaic.fits min max"
    am, ad = both(colors, cmd)
    plain, _ = both(colors, "-ct 0 -gray @mosaic.fits min max")
    m, d, zones = _grid_zones(colors, cmd, am, ad, plain)
    compared = (m | d) & ~zones
    assert compared.sum() > 1000 and zones.mean() < 0.5
    differ = (am != ad).any(-1) & ~zones
    assert differ.sum() <= 0.005 * compared.sum()
    assert np.abs(am - ad)[~zones].max() <= 1


@pytest.mark.parametrize("csys", ["eq", "ga", "ec"])
def test_grids_within_a_pixel(colors, csys):
    """With labels shrunk to a pixel (``-fontscale 0.01``), every grid pixel
    mViewer draws is within a pixel of one diffview draws; the extra pixels
    are the few locked around the 1-point labels (fonts differ). Galactic and
    ecliptic lines go through astropy's frame conversions, 0.02-0.4 arcsec
    from Montage's own (§9.2)."""
    from scipy.ndimage import distance_transform_cdt

    cmd = f"-fontscale 0.01 -color red -grid {csys} -ct 0 -gray @mosaic.fits min max"
    am, ad = both(colors, cmd)
    plain, _ = both(colors, "-ct 0 -gray @mosaic.fits min max")
    m, d = (am != plain).any(-1), (ad != plain).any(-1)
    assert m.sum() > 1000
    near_m = distance_transform_cdt(~m, metric="chessboard")
    near_d = distance_transform_cdt(~d, metric="chessboard")
    assert (m & (near_d > 1)).sum() <= 2
    assert (d & (near_m > 1)).sum() <= 0.03 * d.sum()


def test_json_overlays_identical(colors, tmp_path):
    """MontagePy's JSON form (mode 1 string, mode 0 file) with image outlines,
    a catalog, a mark and a hidden grid: identical pictures. (mViewer's JSON
    reader strips a size's unit letter only when the sticky units are not
    fractional, so ``"sym_size": "4p"`` fails there; diffview reads it.)"""
    import json

    spec = {"gray_file": {"fits_file": str(colors / "mosaic.fits"),
                          "stretch_min": "min", "stretch_max": "max",
                          "stretch_mode": "gaussian-log", "color_table": 1},
            "overlays": [
                {"type": "imginfo", "data_file": str(colors / "pimages.tbl"),
                 "color": "yellow"},
                {"type": "catalog", "data_file": str(colors / "cat.tbl"),
                 "symbol": "triangle", "sym_size": "1.5", "color": "red"},
                {"type": "mark", "lon": "275.196", "lat": "-16.171",
                 "symbol": "box", "sym_size": "3", "color": "green"},
                {"type": "grid", "coord_sys": "eq", "color": "blue",
                 "visible": "false"}]}
    text = json.dumps(spec)
    rm = montage.mViewer(text, str(tmp_path / "m.png"), mode=1)
    rd = mViewer(text, str(tmp_path / "d.png"), mode=1)
    assert rm["status"] == rd["status"] == "0", (rm, rd)
    am = read_png(tmp_path / "m.png")
    assert (am == read_png(tmp_path / "d.png")).all()
    (tmp_path / "v.json").write_text(text)
    rd = mViewer(str(tmp_path / "v.json"), str(tmp_path / "f.png"))
    assert rd["status"] == "0" and (read_png(tmp_path / "f.png") == am).all()


@pytest.mark.parametrize("lo, hi, kind", [("-1s", "max", "gaussian-log"),
                                          ("-2s", "3s", "gaussian"),
                                          ("1%", "99%", "linear"),
                                          ("1%", "99%", "asinh")])
def test_mhistogram_file_identical(colors, tmp_path, lo, hi, kind):
    """diffview's mHistogram writes Montage's file byte for byte and returns
    its values; mViewer reads it as its own. (MontagePy.main.mHistogram
    passes its arguments in the wrong order, so MontagePy's is called
    through MontagePy._wrappers.)"""
    from MontagePy import _wrappers

    from diffview.montage import mHistogram

    img = str(colors / "mosaic.fits")
    beta = "2s" if kind == "asinh" else ""
    rm = _wrappers.mHistogram(img, str(tmp_path / "m.hist"), lo, hi, kind,
                              betaString=beta)
    rd = mHistogram(img, str(tmp_path / "d.hist"), lo, hi, kind, betaString=beta)
    assert rm.keys() == rd.keys()
    for k, v in rm.items():
        assert rd[k] == (v if isinstance(v, str) else pytest.approx(v, rel=1e-12)), k
    assert (tmp_path / "m.hist").read_bytes() == (tmp_path / "d.hist").read_bytes()
    if kind != "asinh":     # mViewer reads no beta from the file: it crashes
        am, ad = both(colors, f"-ct 1 -gray @mosaic.fits -histfile {tmp_path}/d.hist")
        assert (am == ad).all()
    else:                   # and without beta, Montage's error
        bad = mHistogram(img, str(tmp_path / "e.hist"), lo, hi, kind)
        assert bad == {"status": "1", "msg": b"'' is not a valid beta value"}
