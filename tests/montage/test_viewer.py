"""Pixel parity with MontagePy's mViewer (same inputs, mode=2 command strings)."""

from functools import partial

import numpy as np
import pytest
from astropy.io import fits

from conftest import MP as montage
from conftest import tan_header as shared_tan_header
from diffview.montage._viewer import mViewer
from diffview.render import color_table, table_outlines

PIL = pytest.importorskip("PIL.Image")
pytest.importorskip("importlib_resources")

pytestmark = pytest.mark.montage

SCALE = 1.0 / 3600.0


tan_header = partial(shared_tan_header, crval=(275.196, -16.171))


def read_png(path) -> np.ndarray:
    with PIL.open(path) as im:
        return np.asarray(im.convert("RGB")).astype(int)


@pytest.fixture(scope="module")
def work(tmp_path_factory):
    d = tmp_path_factory.mktemp("viewer")
    rng = np.random.default_rng(2024)
    # a difference-like image: zero-mean noise, residual sources of both
    # signs, a blank border and a blank strip
    diff = rng.normal(0.0, 1.0, (150, 210)) + rng.exponential(0.3, (150, 210))
    diff[40:48, 60:70] += 30.0
    diff[100:104, 150:190] -= 15.0
    diff[:, :6] = np.nan
    diff[70:73, 20:120] = np.nan
    fits.writeto(d / "diff.fits", diff, tan_header(210, 150, 105.5, 75.5))
    fits.writeto(d / "flipped.fits", diff,
                 tan_header(210, 150, 105.5, 75.5, cdelt1=SCALE, cdelt2=-SCALE))
    fits.writeto(d / "const.fits", np.full((20, 30), 3.25),
                 tan_header(30, 20, 15.5, 10.5))
    ramp = np.tile(np.arange(256.0), (3, 1))
    fits.writeto(d / "ramp.fits", ramp, tan_header(256, 3, 128.5, 2.0))
    # a mosaic and its projected images on the same grid
    proj = d / "proj"
    proj.mkdir()
    boxes = [(0, 0, 80, 60), (50, 30, 60, 70), (100, 5, 90, 50), (20, 70, 100, 40)]
    for k, (io, jo, nx, ny) in enumerate(boxes):
        fits.writeto(proj / f"im{k}.fits", rng.normal(10, 1, (ny, nx)),
                     tan_header(nx, ny, 150.5 - io, 100.5 - jo))
    mos = rng.normal(10.0, 1.0, (120, 200))
    mos[30:40, 100:110] += 30.0
    mos[:3, :5] = np.nan
    fits.writeto(d / "mosaic.fits", mos, tan_header(200, 120, 150.5, 100.5))
    r = montage.mImgtbl(str(proj), str(d / "images.tbl"), showCorners=True)
    assert r["status"] == "0", r
    r = montage.mImgtbl(str(proj), str(d / "images_wcs.tbl"), showCorners=False)
    assert r["status"] == "0", r
    return d


def both(work, cmd):
    """Run MontagePy and diffview on one command; return (rm, rd, am, ad)."""
    cmd = cmd.replace("@", str(work) + "/")
    rm = montage.mViewer(cmd, str(work / "m.png"), mode=2)
    rd = mViewer(cmd, str(work / "d.png"), mode=2)
    assert rm["status"] == "0", rm
    assert rd["status"] == "0", rd
    return rm, rd, read_png(work / "m.png"), read_png(work / "d.png")


RANGES = [
    "-2s max gaussian-log", "-1s 99.5% gaussian", "1% 99% log", "-1s 5s",
    "min max loglog", "min max gaussian-log", "-0.5 max gaussian-log",
    "med+0.1 99.9% linear", "2% 98% 3", "-2s max asinh 1s", "20% 80% gl",
    "min max", "-3s 3s lin", "min max gaussian", "0.5% 99.5% gaussian-log",
]


@pytest.mark.parametrize("ranges", RANGES)
def test_grey_levels_identical(work, ranges):
    rm, rd, am, ad = both(work, f"-ct 1 -gray @diff.fits {ranges}")
    assert am.shape == ad.shape
    assert (am == ad).all(), f"{(am != ad).any(-1).sum()} pixels differ"
    for key in ("nx", "ny", "flipX", "flipY", "colortable"):
        assert rd[key] == rm[key]
    for key in ("grayminval", "graymaxval", "grayminpercent", "graymaxpercent",
                "grayminsigma", "graymaxsigma", "graydatamin", "graydatamax"):
        assert rd[key] == pytest.approx(rm[key], rel=1e-12, abs=1e-12), key
    assert rd["type"] == rm["type"] == b"grayscale"
    assert set(rd) == set(rm)


@pytest.mark.parametrize("ranges", ["-2s max gaussian-log", "1% 99% log"])
def test_orientation_identical(work, ranges):
    rm, rd, am, ad = both(work, f"-ct 0 -gray @flipped.fits {ranges}")
    assert (rd["flipX"], rd["flipY"]) == (rm["flipX"], rm["flipY"]) == (1, 0)
    assert (am == ad).all()


@pytest.mark.parametrize("cmd", [
    "-saturate 100 -ct 4 -gray @diff.fits -2s max gaussian-log",
    "-noflip -ct 2 -gray @diff.fits 1% 99%",
    "-ct 3 -grey @diff.fits -1s 3s loglog",
])
def test_saturate_noflip_grey_identical(work, cmd):
    rm, rd, am, ad = both(work, cmd)
    assert (am == ad).all()
    assert (rd["flipX"], rd["flipY"]) == (rm["flipX"], rm["flipY"])


@pytest.mark.parametrize("ct", range(13))
def test_colour_tables_identical(work, ct):
    rm, rd, am, ad = both(work, f"-ct {ct} -gray @ramp.fits 0 255 linear")
    assert (am == ad).all()
    assert (ad[0] == color_table(ct)).all()


def test_mosaic_gaussian_log_identical(work):
    rm, rd, am, ad = both(work, "-ct 1 -gray @mosaic.fits min max gaussian-log")
    assert (am == ad).all()


@pytest.mark.parametrize("color", ["yellow", "green", "black", "ff8040"])
def test_imginfo_outlines_match(work, color):
    cmd = f"-color {color} -imginfo @images.tbl -ct 0 -gray @mosaic.fits -2s max gl"
    rm, rd, am, ad = both(work, cmd)
    base = montage.mViewer(f"-ct 0 -gray {work}/mosaic.fits -2s max gl",
                           str(work / "b.png"), mode=2)
    assert base["status"] == "0"
    plain = read_png(work / "b.png")
    drawn_m = (am != plain).any(-1)
    drawn_d = (ad != plain).any(-1)
    assert drawn_m.sum() > 1000
    # thin lines are drawn exactly as mViewer does (blend rounding: <= 1 level)
    assert (drawn_m == drawn_d).mean() > 0.999
    assert np.abs(am - ad).max() <= 1
    # and the true outlines are within one pixel of every pixel mViewer drew
    from scipy.ndimage import distance_transform_cdt

    data = fits.getdata(work / "mosaic.fits")
    header = fits.getheader(work / "mosaic.fits")
    from diffview.render import Overlay, burn_overlay

    canvas = np.zeros(data.shape + (3,), np.uint8)
    burn_overlay(canvas, Overlay(table_outlines(work / "images.tbl", header), "white"))
    dist = distance_transform_cdt(~canvas.any(-1), metric="chessboard")
    assert dist[drawn_m].max() <= 1


def test_imginfo_wcs_columns_table(work):
    """Without corners mViewer rebuilds each WCS from printed values (CDELT
    to 9 decimals), so the anti-aliasing weights differ slightly: same
    pixels within one pixel."""
    from scipy.ndimage import distance_transform_cdt

    cmd = "-color red -imginfo @images_wcs.tbl -ct 0 -gray @mosaic.fits min max"
    rm, rd, am, ad = both(work, cmd)
    base = montage.mViewer(f"-ct 0 -gray {work}/mosaic.fits min max",
                           str(work / "b.png"), mode=2)
    assert base["status"] == "0"
    plain = read_png(work / "b.png")
    drawn_m = (am != plain).any(-1)
    drawn_d = (ad != plain).any(-1)
    assert drawn_m.sum() > 1000
    assert (drawn_m == drawn_d).mean() > 0.999
    assert distance_transform_cdt(~drawn_d, metric="chessboard")[drawn_m].max() <= 1
    assert distance_transform_cdt(~drawn_m, metric="chessboard")[drawn_d].max() <= 1


def test_thick_lines_within_one_pixel(work):
    cmd = ("-color ffa080 -linewidth 3 -imginfo @images.tbl -ct 0 "
           "-gray @mosaic.fits min max")
    rm, rd, am, ad = both(work, cmd)
    from scipy.ndimage import distance_transform_cdt

    base = montage.mViewer(f"-ct 0 -gray {work}/mosaic.fits min max",
                           str(work / "b.png"), mode=2)
    assert base["status"] == "0"
    plain = read_png(work / "b.png")
    drawn_m = (am != plain).any(-1)
    drawn_d = (ad != plain).any(-1)
    dist = distance_transform_cdt(~drawn_d, metric="chessboard")
    assert dist[drawn_m].max() <= 1


def test_constant_image_black_with_message(work):
    """MontagePy 2.3.0 aborts the process on a constant image (its histogram
    bin index is computed from 0/0); diffview renders it black, as the C code
    intends (range v..v+1), and says why."""
    r = mViewer(f"-gray {work}/const.fits min max linear", str(work / "c.png"),
                mode=2)
    assert r["status"] == "0"
    assert (r["grayminval"], r["graymaxval"]) == (3.25, 4.25)
    assert (read_png(work / "c.png") == 0).all()
    from diffview.render import view

    v = view(work / "const.fits", vmin="min", vmax="max", mode="gaussian-log")
    assert v.message.startswith("Image is constant (3.25)")
    assert (v.rgb == 0).all()


@pytest.mark.parametrize("cmd", [
    "-ct 1 -gray @diff.fits x max gaussian-log",
    "-ct 1 -gray @diff.fits -2s 101% gaussian-log",
    "-ct 13 -gray @diff.fits -2s max",
    "-ct 1 -gray @diff.fits -2s max sqrt",
    "-ct 1 -gray @nothere.fits -2s max",
])
def test_error_messages_match(work, cmd):
    """MontagePy's error paths free its buffers twice after an earlier
    successful call (the process aborts), so it runs in a fresh process."""
    import ast
    import subprocess
    import sys

    cmd = cmd.replace("@", str(work) + "/")
    code = ("import MontagePy.main as m, sys\n"
            "print(repr(m.mViewer(sys.argv[1], sys.argv[2], mode=2)))")
    out = subprocess.run([sys.executable, "-c", code, cmd, str(work / "e.png")],
                         capture_output=True, text=True, check=True).stdout
    rm = ast.literal_eval(out.strip().splitlines()[-1])
    rd = mViewer(cmd, str(work / "e.png"), mode=2)
    assert rm["status"] == rd["status"] == "1"
    assert rd["msg"] == rm["msg"]


def test_all_nan_image_clear_error(tmp_path):
    """MontagePy 2.3.0 crashes here (double free): diffview reports it."""
    fits.writeto(tmp_path / "nan.fits", np.full((5, 6), np.nan),
                 tan_header(6, 5, 3.0, 3.0))
    r = mViewer(f"-gray {tmp_path}/nan.fits -2s max gaussian-log",
                str(tmp_path / "n.png"), mode=2)
    assert r == {"status": "1", "msg": b"Image contains no non-blank pixels."}


def _parity(root, cmd, outline_tolerance=False):
    rm = montage.mViewer(cmd, str(root / "m.png"), mode=2)
    rd = mViewer(cmd, str(root / "d.png"), mode=2)
    assert rm["status"] == rd["status"] == "0", (cmd, rm, rd)
    am, ad = read_png(root / "m.png"), read_png(root / "d.png")
    if outline_tolerance:
        assert np.abs(am - ad).max() <= 1, cmd
    else:
        assert (am == ad).all(), cmd


def test_sample_differences_and_mosaic(small_sample, tmp_path):
    """Every difference of the small sample and its mosaic, seven stretches."""
    from diffview.run import compute_differences

    diffdir = tmp_path / "diffs"
    diffdir.mkdir()
    compute_differences(small_sample.proj_dir, small_sample.diffs_tbl,
                        small_sample.template, diffdir, quiet=True, workers=1)
    diffs = sorted(p for p in diffdir.glob("diff.*.fits")
                   if not p.name.endswith("_area.fits"))
    assert len(diffs) >= 3
    ranges = ["-2s max gaussian-log", "-1s 99% gaussian", "min max gaussian-log",
              "-3s 3s gl", "1% 99% log", "min max loglog", "-2s 2s linear"]
    for p in diffs:
        for r in ranges:
            _parity(tmp_path, f"-ct 1 -gray {p} {r}")
    for r in ranges:
        _parity(tmp_path, f"-ct 1 -gray {small_sample.mosaic} {r}")
    _parity(tmp_path, f"-color yellow -imginfo {small_sample.images_tbl} -ct 1 "
                      f"-gray {small_sample.mosaic} min max gaussian-log", True)


def test_m17_mosaic_with_outlines(m17_sample, tmp_path):
    """The issue's picture: all images outlined in yellow, the mosaic in
    gaussian-log, identical to MontagePy."""
    cmd = (f"-color yellow -imginfo {m17_sample.images_tbl} -ct 1 -gray "
           f"{m17_sample.mosaic} min max gaussian-log")
    _parity(tmp_path, cmd, outline_tolerance=True)
