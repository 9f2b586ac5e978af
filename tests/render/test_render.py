"""Rendering: reduction, orientation, overlays, PNG, view(), matplotlib norm, CLI."""

import argparse
from functools import partial

import numpy as np
import pytest
from astropy.io import fits
from astropy.table import Table
from astropy.wcs import WCS

from conftest import tan_header as shared_tan_header
from diffview.core.blocks import block_average, preview
from diffview.errors import InputError
from diffview.geometry import Orientation, image_outlines
from diffview.render import (
    Overlay,
    burn_overlay,
    color_table,
    compute_stretch,
    load_image,
    render_png,
    render_rgb,
    view,
    write_png,
)

PIL = pytest.importorskip("PIL.Image")
SCALE = 1.0 / 3600.0


tan_header = partial(shared_tan_header, equinox=None)


@pytest.fixture(scope="module")
def field(tmp_path_factory):
    d = tmp_path_factory.mktemp("render")
    rng = np.random.default_rng(11)
    img = rng.normal(0.0, 1.0, (90, 120))
    img[20:25, 30:35] += 40.0
    img[:, :3] = np.nan
    h = tan_header(120, 90, 60.5, 45.5)
    fits.writeto(d / "diff.fits", img, h)
    rows = []
    for k, (io, jo, nx, ny) in enumerate([(0, 0, 50, 40), (40, 30, 60, 50)]):
        w = WCS(tan_header(nx, ny, 60.5 - io, 45.5 - jo))
        px = np.array([[0.5, 0.5], [nx + 0.5, 0.5], [nx + 0.5, ny + 0.5],
                       [0.5, ny + 0.5]])
        ra, dec = w.all_pix2world(px[:, 0], px[:, 1], 1)
        row = {"cntr": k}
        for i in range(4):
            row[f"ra{i + 1}"], row[f"dec{i + 1}"] = ra[i], dec[i]
        rows.append(row)
    table = Table(rows=rows)
    return {"dir": d, "img": img, "header": h, "path": d / "diff.fits",
            "table": table}


# ---------------------------------------------------------------- reduction

def test_block_average_nan_aware():
    a = np.array([[1.0, 3.0, np.nan, np.nan, 5.0],
                  [np.nan, 2.0, np.nan, np.nan, 7.0]])
    b = block_average(a, 2)
    assert b.shape == (1, 3)
    assert b[0, 0] == 2.0 and np.isnan(b[0, 1]) and b[0, 2] == 6.0
    assert np.array_equal(block_average(a, 1), a, equal_nan=True)
    with pytest.raises(InputError):
        block_average(a, 0)


def test_preview_size():
    a = np.ones((1000, 2500))
    p = preview(a, 512)
    assert max(p.shape) <= 512 and p.shape == (200, 500)
    assert preview(np.ones((10, 10)), 512).shape == (10, 10)


# ---------------------------------------------------------------- rendering

def test_render_orientation_follows_cdelt(field):
    img, h = field["img"], field["header"]
    rgb = render_rgb(img, vmin="min", vmax="max", mode="linear", header=h)
    g = compute_stretch(img, "min", "max", "linear").grey(img)
    assert (rgb[:, :, 0] == g[::-1]).all()            # CDELT2 > 0: north up
    h2 = h.copy()
    h2["CDELT1"] = SCALE
    rgb2 = render_rgb(img, vmin="min", vmax="max", mode="linear", header=h2)
    assert (rgb2[:, :, 0] == g[::-1, ::-1]).all()     # CDELT1 > 0: east left
    rgb3 = render_rgb(img, vmin="min", vmax="max", mode="linear", header=h,
                      noflip=True)
    assert (rgb3[:, :, 0] == g).all()


def test_render_colour_table_and_blank_level(field):
    img = field["img"]
    rgb = render_rgb(img, mode="gaussian-log", ct=4, saturate=77)
    g = compute_stretch(img, "-2s", "max", "gaussian-log").grey(img)[::-1]
    blank = ~np.isfinite(img[::-1])
    assert (rgb[~blank] == color_table(4)[g[~blank]]).all()
    assert (rgb[blank] == 77).all()


def test_render_rejects_colour_mode(field):
    with pytest.raises(InputError, match="-gray"):
        render_rgb(field["img"], gray=False)


def test_burn_overlay_antialiased_halves():
    rgb = np.zeros((6, 8, 3), np.uint8)
    x = np.linspace(0.0, 7.0, 15)
    burn_overlay(rgb, Overlay([np.column_stack([x, np.full_like(x, 2.5)])], "green"))
    # a line between rows 2 and 3: about half intensity on both
    col = rgb[:, 4, 1]
    assert col[2] in (127, 128) and col[3] in (127, 128)
    assert col[[0, 1, 4, 5]].sum() == 0 and rgb[:, :, [0, 2]].sum() == 0


def test_burn_overlay_black_replaces_and_alpha():
    rgb = np.full((5, 6, 3), 200, np.uint8)
    x = np.linspace(0.0, 5.0, 11)
    line = np.column_stack([x, np.full_like(x, 2.0)])
    burn_overlay(rgb, Overlay([line], "black"))
    assert (rgb[2, :, :] == 0).all() and (rgb[1] == 200).all()
    rgb = np.full((5, 6, 3), 200, np.uint8)
    burn_overlay(rgb, Overlay([line], "white", alpha=0.5))
    assert (rgb[2, :, 0] == 227).all()            # 0.5*255 + 0.5*200 truncated


def test_burn_overlay_cached_coverage_is_the_computed_one():
    from diffview.render._lines import _compute_coverage
    from diffview.render._raster import _coverage

    rng = np.random.default_rng(3)
    lines = [rng.uniform(-2, 30, (40, 2)), rng.uniform(0, 25, (7, 2))]
    for mag in (510, 0):                    # yellow, black
        hit, w = _compute_coverage(lines, 24, 28, 1.0, True, mag)
        a = _coverage(lines, 24, 28, 1.0, True, mag)
        b = _coverage([p.copy() for p in lines], 24, 28, 1.0, True, mag)
        assert b is a and np.array_equal(a[0], hit) and np.array_equal(a[1], w)
    # other lines, or another shape: not the cached entry
    moved = [lines[0] + 0.25, lines[1]]
    assert not np.array_equal(_coverage(moved, 24, 28, 1.0, True, 510)[1],
                              _coverage(lines, 24, 28, 1.0, True, 510)[1])
    assert _coverage(lines, 24, 29, 1.0, True, 510)[0].max() < 24 * 29
    base = rng.integers(0, 256, (24, 28, 3)).astype(np.uint8)
    one, two = base.copy(), base.copy()
    burn_overlay(one, Overlay(lines, "cyan", alpha=0.7))
    burn_overlay(two, Overlay(lines, "cyan", alpha=0.7))
    assert np.array_equal(one, two) and not np.array_equal(one, base)


def test_coverage_scratch_arrays_are_reused_clean_and_released():
    from diffview.render import _arena, _lines, release_buffers
    from diffview.render._lines import _compute_coverage

    rng = np.random.default_rng(5)
    lines = [rng.uniform(-2, 30, (60, 2)), rng.uniform(0, 25, (9, 2))]
    release_buffers()
    fresh = [_compute_coverage(lines, 24, 28, 1.0, True, m) for m in (510, 0)]
    fresh.append(_compute_coverage([np.array([[0.0, 2.0], [6.0, 2.0]])], 24, 28,
                                   1.0, False, 510))      # brightness 0: ordered
    kept = dict(_arena._ARENA)
    assert set(kept) == {"weight", "touched", "best"}
    # one canvas for both paths: the picture with the plain path's margins
    pad = _lines._PAD_LO + _lines._PAD_HI
    assert kept["weight"].size == kept["best"].size == (24 + pad) * (28 + pad)
    # kept clean: all zeros (best: all -1), and used again as they are
    assert not kept["weight"].any() and not kept["touched"].any()
    assert (kept["best"] == -1).all()
    again = [_compute_coverage(lines, 24, 28, 1.0, True, m) for m in (510, 0)]
    again.append(_compute_coverage([np.array([[0.0, 2.0], [6.0, 2.0]])], 24, 28,
                                   1.0, False, 510))
    for (h1, w1), (h2, w2) in zip(fresh, again, strict=True):
        assert np.array_equal(h1, h2) and np.array_equal(w1, w2)
    assert all(_arena._ARENA[k] is kept[k] for k in kept)
    # a smaller picture uses the larger arrays; results as from fresh ones
    small = _compute_coverage(lines, 12, 14, 1.0, True, 510)
    assert _arena._ARENA["weight"] is kept["weight"]
    assert release_buffers() == sum(a.nbytes for a in kept.values())
    assert _arena._ARENA == {} and release_buffers() == 0
    ref = _compute_coverage(lines, 12, 14, 1.0, True, 510)
    assert np.array_equal(small[0], ref[0]) and np.array_equal(small[1], ref[1])


def _ordered_coverage(lines, ny, nx, densify=True, mag=510):
    """Coverage by the general, order-keeping fold (no fast path)."""
    from diffview.render._lines import _fold_segments, _segments

    n = ny * nx + 1
    return _fold_segments(_segments(lines, ny, densify), np.zeros(n),
                          np.zeros(n, bool), np.full(n, -1, np.int64), ny, nx, 1.0,
                          mag)


@pytest.mark.parametrize("kind", ["inside", "near", "walk", "far", "nan"])
def test_plain_coverage_is_the_ordered_fold(kind):
    """The one-maximum fold gives exactly the weights of the write-by-write
    fold, for black, yellow and grey lines: lines in and out of the picture,
    steep and flat, long and short, NaN gaps; writes of brightness 0 hand
    the lines over to the ordered fold."""
    from diffview.render._arena import _ARENA
    from diffview.render._lines import _plain_coverage, _segments

    rng = np.random.default_rng(["inside", "near", "walk", "far", "nan"].index(kind))
    plain = fallback = 0
    for _ in range(150):
        ny, nx = (int(v) for v in rng.integers(3, 40, 2))
        lines = []
        for _ in range(int(rng.integers(1, 4))):
            m = int(rng.integers(2, 30))
            if kind == "inside":
                p = rng.uniform(-5, max(nx, ny) + 5, (m, 2))
            elif kind == "near":         # within a pixel: no clamping needed
                p = np.column_stack([rng.uniform(-1, nx, m), rng.uniform(-1, ny, m)])
                if m % 4 == 0:                       # a zero-length segment
                    p[m // 2] = p[m // 2 - 1]
            elif kind == "walk":
                p = np.cumsum(rng.normal(0, 0.4, (m, 2)), 0) + rng.uniform(0, 30, 2)
            elif kind == "far":
                p = rng.uniform(-1e3, 1e3, (m, 2))
            else:
                p = rng.uniform(-3, 40, (m, 2))
                p[rng.random(m) < 0.2] = np.nan
            lines.append(p)
        for densify, mag in ((True, 510), (False, (0, 381)[plain % 2])):
            got = _plain_coverage(_segments(lines, ny, densify), ny, nx, mag)
            if got is None:
                fallback += 1
                continue
            plain += 1
            ref = _ordered_coverage(lines, ny, nx, densify, mag)
            assert np.array_equal(got[0], ref[0]) and np.array_equal(got[1], ref[1])
    assert plain > 250
    # the canvas goes back to the arena clean
    assert not _ARENA["weight"].any()
    # a write of brightness 0 (a line through pixel centres): the ordered fold
    line = np.array([[0.0, 2.0], [6.0, 2.0]])
    assert _plain_coverage(_segments([line], 5, False), 5, 8, 510) is None
    assert not _ARENA["weight"].any()


def test_coverage_scratch_arrays_across_threads():
    from concurrent.futures import ThreadPoolExecutor

    from diffview.render._lines import _compute_coverage

    rng = np.random.default_rng(6)
    jobs = [([rng.uniform(-2, 60, (80, 2))], 510 * (k % 2)) for k in range(24)]
    ref = [_compute_coverage(lines, 50, 64, 1.0, True, mag) for lines, mag in jobs]
    with ThreadPoolExecutor(4) as pool:
        got = list(pool.map(lambda job: _compute_coverage(job[0], 50, 64, 1.0, True,
                                                          job[1]), jobs))
    for (h1, w1), (h2, w2) in zip(ref, got, strict=True):
        assert np.array_equal(h1, h2) and np.array_equal(w1, w2)


def test_retain_heap_applies_on_glibc():
    import platform

    from diffview.render import retain_heap

    assert retain_heap() is (platform.libc_ver()[0] == "glibc")


def test_thick_line_covers_width():
    rgb = np.zeros((20, 20, 3), np.uint8)
    x = np.linspace(2.0, 17.0, 31)
    burn_overlay(rgb, Overlay([np.column_stack([x, np.full_like(x, 10.0)])],
                              "white", linewidth=5))
    col = rgb[:, 10, 0]
    assert (col[8:13] == 255).all() and col[5] == 0 and col[15] == 0


@pytest.mark.parametrize("bitpix", [-32, -64])
def test_load_image_plain_reader_matches_astropy(tmp_path, bitpix):
    from diffview.render._view import _load_plain

    rng = np.random.default_rng(2)
    d = rng.normal(0, 1, (7, 5)).astype(np.float32 if bitpix == -32 else float)
    d[1, 2] = np.nan
    h = fits.Header({"CTYPE1": "RA---TAN", "CTYPE2": "DEC--TAN", "CDELT1": -1e-3,
                     "CDELT2": 1e-3, "CRPIX1": 3.0, "CRPIX2": 4.0, "BUNIT": "MJy/sr"})
    fits.writeto(tmp_path / "a.fits", d, h)
    data, header = load_image(tmp_path / "a.fits")
    assert _load_plain(str(tmp_path / "a.fits")) is not None
    with fits.open(tmp_path / "a.fits") as hdul:
        ref = hdul[0].data.astype(float)
        assert dict(header) == dict(hdul[0].header)
    assert data.dtype == np.float64 and data.flags.c_contiguous
    assert np.array_equal(data, ref, equal_nan=True)
    # integer images take the plain reader too, scaled as CFITSIO does
    fits.writeto(tmp_path / "i.fits", np.arange(6, dtype=np.uint16).reshape(2, 3))
    assert fits.getheader(tmp_path / "i.fits")["BZERO"] == 32768
    assert _load_plain(str(tmp_path / "i.fits")) is not None
    assert load_image(tmp_path / "i.fits")[0].tolist() == [[0, 1, 2], [3, 4, 5]]


def test_write_png_gray_and_rgb(tmp_path):
    g = np.zeros((3, 4, 3), np.uint8)
    write_png(g, tmp_path / "g.png")
    c = g.copy()
    c[0, 0] = (255, 0, 0)
    write_png(c, tmp_path / "c.png")
    with PIL.open(tmp_path / "g.png") as a, PIL.open(tmp_path / "c.png") as b:
        assert a.mode == "L" and b.mode == "RGB"
        assert np.asarray(b)[0, 0].tolist() == [255, 0, 0]


# ---------------------------------------------------------------- view()

def test_view_png_with_outlines_highlight_and_box(field, tmp_path):
    out = tmp_path / "v.png"
    r = view(field["path"], out, vmin="-2s", vmax="max", ct=1,
             imginfo=field["table"], color="yellow", highlight=[1],
             highlight_color="black", box=((30, 40), (40, 50)), box_color="red")
    assert r.out == str(out) and out.exists()
    with PIL.open(out) as im:
        png = np.asarray(im.convert("RGB"))
    assert (png == r.rgb).all()
    c = r.rgb.astype(int)
    # edges lie between pixels: two half-weight pixels, so compare channels
    yellow = (c[:, :, 0] - c[:, :, 2] > 60) & (c[:, :, 1] - c[:, :, 2] > 60)
    red = (c[:, :, 0] - c[:, :, 1] > 60) & (c[:, :, 0] - c[:, :, 2] > 60)
    assert yellow.sum() > 50 and red.sum() > 10
    assert r.info["flipY"] == 1 and r.info["nx"] == 120
    # the highlighted image's outline is black where it is drawn at full weight
    lines = image_outlines(field["table"], field["header"], rows=[1])
    p = np.round(lines[0]).astype(int)
    inside = (p[:, 0] > 0) & (p[:, 1] > 0) & (p[:, 0] < 119) & (p[:, 1] < 89)
    assert (r.rgb[p[inside, 1], p[inside, 0]] < 130).mean() > 0.9


def test_view_max_size_scales_outlines(field):
    r = view(field["path"], max_size=60, imginfo=field["table"])
    assert r.rgb.shape[:2] == (45, 60) and r.info["factor"] == 2
    r1 = view(field["path"], imginfo=field["table"], rows=[0])
    assert r1.rgb.shape[:2] == (90, 120)


def test_view_symmetric_range(field):
    r = view(field["img"], symmetric="3s", mode="linear")
    assert r.stretch.vmin == -r.stretch.vmax
    assert r.stretch.grey(np.array([0.0]))[0] == 128


def test_view_errors(field, tmp_path):
    with pytest.raises(InputError, match="not found"):
        view(tmp_path / "missing.fits")
    with pytest.raises(InputError, match="no non-blank pixels"):
        view(np.full((4, 4), np.nan))
    with pytest.raises(InputError, match="WCS"):
        view(field["img"], imginfo=field["table"])


def test_render_png_and_load_image(field, tmp_path):
    r = render_png(field["path"], tmp_path / "r.png", mode="gaussian", ct=2)
    assert (tmp_path / "r.png").exists() and r.stretch.mode == "gaussian"
    data, header = load_image(field["path"])
    assert header["NAXIS1"] == 120 and np.isnan(data[0, 0])
    fits.writeto(tmp_path / "i.fits", np.array([[1, -32768], [3, 4]], np.int16),
                 fits.Header({"BLANK": -32768}))
    d2, _ = load_image(tmp_path / "i.fits")
    assert np.isnan(d2[0, 1]) and d2[1, 1] == 4.0


def test_constant_image_result_explains(field):
    r = view(np.full((5, 5), 2.0), mode="gaussian-log")
    assert (r.rgb == 0).all()
    assert "constant" in r.message and "no contrast" in r.message


# ---------------------------------------------------------------- matplotlib

def test_mviewer_norm_equals_png_path(field):
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    from matplotlib import colormaps

    from diffview.render.mpl import MViewerNorm

    img, h = field["img"], field["header"]
    for mode, lo, hi in [("gaussian-log", "-2s", "max"), ("gaussian", "-1s", "99%"),
                         ("linear", "min", "max"), ("log", "1%", "99%"),
                         ("loglog", "min", "max"), ("asinh", "-2s", "max")]:
        norm = MViewerNorm(img, lo, hi, mode)
        for ct in (0, 1, 4):
            a = colormaps[f"montage_ct{ct}"](norm(img), bytes=True)[..., :3]
            b = render_rgb(img, vmin=lo, vmax=hi, mode=mode, ct=ct, header=h)
            assert (a[::-1] == b).all(), (mode, ct)


def test_mviewer_norm_grey_levels_by_hand():
    """mViewer's formulas worked out by hand on a ramp 0..20: linear
    ``int(255 t + 0.5)``, log ``int(255 ln(9 t + 1) + 0.5)`` clipped to 255,
    with ``t = x / 20``; blank pixels get level 0 and are masked."""
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    from diffview.render.mpl import MViewerNorm

    img = np.r_[np.arange(21.0), np.nan]
    linear = MViewerNorm(img, "min", "max", "linear")
    assert linear.grey(img[[0, 1, 2, 10, 19, 20, 21]]).tolist() == \
        [0, 13, 26, 128, 242, 255, 0]
    log = MViewerNorm(img, "min", "max", "log")
    assert log.grey(img[[0, 1, 2, 3, 4, 20]]).tolist() == [0, 95, 164, 218, 255, 255]
    # the normalised values pick level k of a 256-entry colormap
    assert float(linear(10.0)) == (128 + 0.5) / 256
    assert np.ma.getmaskarray(linear(img))[-1]
    # median -+ 1 sigma by mViewer's percentiles: P(p) counts int(21 p / 100)
    # pixels and interpolates in the next bin, so P(16) ~ 2, P(50) ~ 9,
    # P(84) ~ 16: the range is ~(2, 16), not the ramp's (3.2, 16.8)
    narrow = MViewerNorm(img, "-1s", "1s", "linear")
    assert (narrow.vmin, narrow.vmax) == pytest.approx((2.0, 16.0), rel=1e-4)
    assert narrow.grey(np.array([1.0, 12.5, 17.0])).tolist() == [0, 191, 255]


@pytest.mark.montage
@pytest.mark.parametrize("mode", ["gaussian-log", "gaussian", "linear", "log",
                                  "loglog"])
def test_mviewer_norm_grey_levels_are_montagepys(field, tmp_path, mode):
    """`MViewerNorm.grey` gives the grey levels MontagePy's mViewer writes
    for the same image, range and stretch (grey table, north up)."""
    montage = pytest.importorskip("MontagePy.main")
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    from diffview.render.mpl import MViewerNorm

    img = field["img"]
    r = montage.mViewer(f"-ct 0 -gray {field['path']} -1s 99% {mode}",
                        str(tmp_path / "m.png"), mode=2)
    assert r["status"] == "0", r
    with PIL.open(tmp_path / "m.png") as im:
        ref = np.asarray(im.convert("L"))[::-1]      # flipY: back to FITS rows
    grey = MViewerNorm(img, "-1s", "99%", mode).grey(img)
    finite = np.isfinite(img)
    assert np.array_equal(grey[finite], ref[finite])
    assert len(np.unique(grey[finite])) > 50


def test_mviewer_norm_imshow_and_inverse(field):
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from diffview.render.mpl import MViewerNorm, draw_outlines, montage_cmap, show

    img = field["img"]
    fig, ax = plt.subplots()
    im = show(ax, img, vmin="-2s", vmax="max", mode="gaussian-log", ct=1)
    fig.canvas.draw()
    assert isinstance(im.norm, MViewerNorm) and im.get_cmap().name == "montage_ct1"
    norm = MViewerNorm(img, "min", "max", "linear")
    v = norm.inverse(norm(np.array([0.0, 5.0])))
    assert np.allclose(v, [0.0, 5.0], atol=(norm.vmax - norm.vmin) / 255)
    sym = MViewerNorm(img, symmetric=True, mode="linear")
    assert sym.vmin == -sym.vmax
    lc = draw_outlines(ax, image_outlines(field["table"], field["header"]),
                       color="yellow", linewidth=2.0,
                       orient=Orientation(False, True, 120, 90))
    assert len(lc.get_segments()) == 2
    assert tuple(lc.get_colors()[0][:3]) == (1.0, 1.0, 0.0)
    assert montage_cmap(1)(0.5 / 256, bytes=True)[:3] == (255, 255, 255)
    plt.close(fig)


# ---------------------------------------------------------------- CLI

def _parser():
    from diffview.cli._view import register_view

    p = argparse.ArgumentParser(prog="diffview")
    register_view(p.add_subparsers(dest="command", required=True))
    return p


def test_cli_view_mviewer_grammar(field, tmp_path, capsys):
    from astropy.io import ascii as asc

    tbl = tmp_path / "images.tbl"
    t = field["table"]
    asc.write(t, tbl, format="ipac", overwrite=True)
    out = tmp_path / "cli.png"
    args = _parser().parse_args(
        ["view", "-color", "yellow", "-imginfo", str(tbl), "-ct", "1", "-gray",
         str(field["path"]), "-2s", "max", "gaussian-log", "-out", str(out)])
    assert args.func(args) == 0
    line = capsys.readouterr().out
    assert line.startswith('[struct stat="OK", module="mViewer"') and "flipY=1" in line
    ref = view(field["path"], vmin="-2s", vmax="max", ct=1)
    with PIL.open(out) as im:
        png = np.asarray(im.convert("RGB"))
    # same picture except the outline pixels
    same = (png == ref.rgb).all(-1)
    assert 0.8 < same.mean() < 1.0


def test_cli_view_errors_and_help(field, capsys):
    from diffview.errors import DiffviewError

    p = _parser()
    args = p.parse_args(["view", "-gray", str(field["path"]), "-2s", "max", "sqrt"])
    with pytest.raises(DiffviewError, match="Invalid 'directive': sqrt"):
        args.func(args)
    args = p.parse_args(["view", "-draw", "d.txt"])
    with pytest.raises(DiffviewError, match="not implemented"):
        args.func(args)
    args = p.parse_args(["view"])
    assert args.func(args) == 0 and "-imginfo" in capsys.readouterr().out


@pytest.mark.parametrize("nblock", [1, 2, 3, 7])
def test_png_up_filter_in_blocks_decodes_exactly(nblock):
    import io

    from PIL import Image

    from diffview.render._png import _png_bytes

    rng = np.random.default_rng(4)
    for img in (rng.integers(0, 256, (37, 23, 3)).astype(np.uint8),
                rng.integers(0, 256, (5, 9)).astype(np.uint8)):
        with Image.open(io.BytesIO(_png_bytes(img, nblock=nblock))) as im:
            assert np.array_equal(np.asarray(im), img)


@pytest.mark.parametrize(
    "shape", [(1, 1, 4), (37, 23, 4), (700, 520, 4), (5, 9), (8, 3, 3)]
)
def test_png_bytes_decodes_to_the_same_pixels_alpha_kept(shape):
    # (700, 520, 4) is over a megabyte: deflated in row blocks by the pool
    import io

    from PIL import Image

    from diffview.render import png_bytes

    img = np.random.default_rng(5).integers(0, 256, shape).astype(np.uint8)
    with Image.open(io.BytesIO(png_bytes(img))) as im:
        assert im.mode == {2: "L", 3: "RGB", 4: "RGBA"}[len(shape) if len(shape) == 2
                                                        else shape[2]]
        assert np.array_equal(np.asarray(im), img)


def test_png_bytes_takes_a_strided_view_and_refuses_non_pictures():
    import io

    from PIL import Image

    from diffview.render import png_bytes

    rgba = np.random.default_rng(6).integers(0, 256, (6, 10, 4)).astype(np.uint8)
    view = rgba[:, ::2]  # not contiguous
    with Image.open(io.BytesIO(png_bytes(view))) as im:
        assert np.array_equal(np.asarray(im), view)
    for bad in (np.zeros((4, 4), np.float32), np.zeros((4, 4, 2), np.uint8),
                np.zeros((0, 4, 4), np.uint8), np.zeros(5, np.uint8)):
        with pytest.raises(ValueError):
            png_bytes(bad)


def test_write_png_grey_test_sees_one_coloured_pixel_anywhere(tmp_path):
    from PIL import Image

    from diffview.render._png import _is_grey

    g = np.repeat(np.arange(200, dtype=np.uint8)[:, None, None], 3, axis=2)
    g = np.ascontiguousarray(np.broadcast_to(g, (200, 7, 3)))
    assert _is_grey(g)
    for row in (0, 63, 64, 199):
        c = g.copy()
        c[row, 6, 2] ^= 1
        assert not _is_grey(c)
        write_png(c, tmp_path / "c.png")
        with Image.open(tmp_path / "c.png") as im:
            assert im.mode == "RGB" and np.array_equal(np.asarray(im), c)


@pytest.mark.filterwarnings("ignore:File may have been truncated")
def test_load_image_truncated_plain_file_is_an_input_error(tmp_path):
    p = tmp_path / "t.fits"
    fits.writeto(p, np.ones((40, 30)))
    raw = p.read_bytes()
    p.write_bytes(raw[:2880 + 4000])                 # header + part of the data
    with pytest.raises(InputError, match="t.fits"):
        load_image(p)


@pytest.mark.skipif(not hasattr(__import__("os"), "fork"), reason="needs fork")
def test_png_pool_works_in_a_forked_child(tmp_path):
    import multiprocessing as mp

    from diffview.render._png import _png_bytes

    big = np.random.default_rng(1).integers(0, 256, (800, 600, 3)).astype(np.uint8)
    _png_bytes(big)                                  # parent starts its pool
    ctx = mp.get_context("fork")
    with ctx.Pool(1) as pool:
        res = pool.apply_async(_png_bytes, (big,))
        assert res.get(timeout=60) == _png_bytes(big)


@pytest.fixture
def small_blocks(monkeypatch):
    """PNG streaming on small pictures: many blocks through the pool."""
    from diffview.render import _png

    monkeypatch.setattr(_png, "_PARALLEL_BYTES", 1)
    monkeypatch.setattr(_png, "_BLOCK_BYTES", 500)


@pytest.mark.parametrize("deflater", ["zlib", "isal"])
@pytest.mark.parametrize("color, ct, mode", [("yellow", 1, "RGB"), ("gray", 0, "L"),
                                             ("yellow", 4, "RGB")])
def test_render_png_in_blocks_is_the_rgb_picture(small_blocks, monkeypatch, deflater,
                                                 color, ct, mode):
    import io

    from PIL import Image

    from diffview.render import _picture, _png, _raster

    mod = pytest.importorskip("isal.isal_zlib") if deflater == "isal" else \
        __import__("zlib")
    monkeypatch.setattr(_png, "_DEFLATER", mod)
    rng = np.random.default_rng(5)
    a = rng.normal(0.0, 1.0, (61, 47))
    a[3:7, 5:9] = np.nan
    st = compute_stretch(a, "-2s", "max", "gaussian-log")
    o = Orientation(False, True, 47, 61)
    ring = np.array([[2.0, 3.0], [40.0, 5.5], [38.0, 57.0], [4.0, 50.0], [2.0, 3.0]])
    plans = _raster._burn_plans([Overlay([ring], color)], 61, 47, True)
    rgb, png = _picture._render(a, st, o, plans, ct, 0, png=True)
    assert np.array_equal(rgb, render_rgb(a, stretch=st, orient=o, ct=ct,
                                          outlines=[Overlay([ring], color)]))
    with Image.open(io.BytesIO(png)) as im:
        assert im.mode == mode
        assert np.array_equal(np.asarray(im.convert("RGB")), rgb)


def test_adler32_of_blocks_combines_to_the_whole():
    import zlib

    from diffview.render._png import _adler32_combine

    data = np.random.default_rng(2).integers(0, 256, 300_000).astype(np.uint8).tobytes()
    for cut in (0, 1, 65520, 65521, 200_001, len(data)):
        a, b = data[:cut], data[cut:]
        assert _adler32_combine(zlib.adler32(a), zlib.adler32(b), len(b)) == \
            zlib.adler32(data)


@pytest.mark.parametrize("in_order", [True, False])
def test_colour_words_write_the_three_byte_pixels(monkeypatch, in_order):
    """`_put_rgb` (4-byte words 3 bytes apart, each one's spare byte
    overwritten by the next pixel) writes exactly the table's RGB rows,
    block by block, for flipped (non-contiguous) levels too, and leaves
    nothing past the picture but its spare byte; the 3-byte fallback gives
    the same picture."""
    from diffview.render import _picture as render

    assert render._words_in_order()          # numpy writes in order here
    monkeypatch.setattr(render, "_IN_ORDER", [in_order])
    rng = np.random.default_rng(8)
    table = rng.integers(0, 256, (257, 3)).astype(np.uint8)
    idx = rng.integers(0, 257, (37, 41)).astype(np.uint16)
    buf = np.full(37 * 41 * 3 + 2, 9, np.uint8)
    for r0 in range(0, 37, 10):
        rows = idx[r0:r0 + 10]
        render._put_rgb(buf, r0 * 41, table, rows)
    assert np.array_equal(buf[:-2].reshape(37, 41, 3), table[idx])
    assert buf[-1] == 9
    flipped = np.full(37 * 41 * 3 + 2, 9, np.uint8)
    render._put_rgb(flipped, 0, table, idx[::-1, ::-1])
    assert np.array_equal(flipped[:-2].reshape(37, 41, 3), table[idx[::-1, ::-1]])


def test_mviewer_outlines_same_from_early_header_or_full_load(field, tmp_path):
    """A plain float image's outlines are drawn from its header while its
    pixels are read; an image read through astropy (integers) draws them
    after: same picture, same outline pixels."""
    from astropy.io import ascii as asc

    from diffview.montage._viewer import parse_command, run_command

    tbl = tmp_path / "images.tbl"
    asc.write(field["table"], tbl, format="ipac", overwrite=True)
    ints = np.nan_to_num(np.round(field["img"] * 100), nan=0.0).astype(np.int16)
    fits.writeto(tmp_path / "i.fits", ints, field["header"])
    fits.writeto(tmp_path / "f.fits", ints.astype(np.float64), field["header"])
    got = {}
    for name in ("i", "f"):
        cmd = parse_command(f"-color yellow -imginfo {tbl} -ct 1 -gray "
                            f"{tmp_path}/{name}.fits min max gaussian-log")
        got[name] = run_command(cmd)["rgb"]
    plain = render_rgb(ints.astype(float), vmin="min", vmax="max", ct=1,
                       header=field["header"])
    drawn = (got["f"] != plain).any(-1)
    assert 200 < drawn.sum() < 0.2 * drawn.size
    assert np.array_equal(got["i"], got["f"])


def test_mviewer_outline_pixels_cached_by_table_file(field, tmp_path, monkeypatch):
    """mViewer's outline pixels are cached by what they are made of (table
    file, header, orientation), not by hashing their points; a changed
    table file draws its new outlines."""
    import os

    from astropy.io import ascii as asc

    from diffview.montage._viewer import parse_command, run_command
    from diffview.render import _raster

    tbl = tmp_path / "images.tbl"
    asc.write(field["table"], tbl, format="ipac", overwrite=True)
    cmd = parse_command(f"-color yellow -imginfo {tbl} -ct 1 -gray {field['path']} "
                        "min max gaussian-log")
    first = run_command(cmd)["rgb"]

    def no_hashing(lines):
        raise AssertionError("the outlines were hashed")

    monkeypatch.setattr(_raster, "_lines_digest", no_hashing)
    assert np.array_equal(run_command(cmd)["rgb"], first)
    asc.write(field["table"][:1], tbl, format="ipac", overwrite=True)
    st = os.stat(tbl)
    os.utime(tbl, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))
    fewer = run_command(cmd)["rgb"]
    assert not np.array_equal(fewer, first)
    plain = render_rgb(field["img"], vmin="min", vmax="max", ct=1,
                       header=field["header"])
    assert 0 < (fewer != plain).any(-1).sum() < (first != plain).any(-1).sum()


def test_view_outline_pixels_cached_by_table_file(field, tmp_path, monkeypatch):
    """`view`'s outlines of a table file (all rows, highlighted rows, on a
    block-averaged picture too) are found again without hashing their
    points, and give the same picture."""
    from astropy.io import ascii as asc

    from diffview.render import _raster

    tbl = tmp_path / "images.tbl"
    asc.write(field["table"], tbl, format="ipac", overwrite=True)
    kw = {"imginfo": str(tbl), "highlight": [1], "color": "yellow"}
    first = [view(field["path"], **kw).rgb, view(field["path"], max_size=50, **kw).rgb]

    def no_hashing(lines):
        raise AssertionError("the outlines were hashed")

    monkeypatch.setattr(_raster, "_lines_digest", no_hashing)
    again = [view(field["path"], **kw).rgb, view(field["path"], max_size=50, **kw).rgb]
    assert all(np.array_equal(a, b) for a, b in zip(first, again, strict=True))
    assert first[1].shape[:2] == (30, 40)           # 120 x 90 averaged by 3


def test_set_pixel_keeps_the_last_write_of_the_highest_truncated_brightness():
    """mViewer's setPixel: a write is refused only when the pixel's
    int(mag * weight) exceeds int(mag * brightness) (mag: the colour's channel
    sum); a zero write resets. So a later, slightly dimmer write that truncates
    alike replaces (yellow, mag 510), a dimmer one that does not is refused,
    and for black (mag 0) the last write stays."""
    from diffview.render._lines import _fold_writes

    def fold(bs, mag):
        weight, best = np.zeros(2), np.full(2, -1, np.int64)
        lin = np.zeros(len(bs), np.intp)
        _fold_writes(weight, best, None, lin, np.array(bs, float),
                     np.arange(len(bs), dtype=np.int64), mag)
        return weight[0]

    assert fold([0.5, 0.5009], 510) == 0.5009           # 255 == 255: replaced
    assert fold([0.5009, 0.5], 510) == 0.5              # same, the other way
    assert fold([0.5, 0.4985], 510) == 0.5              # 255 > 254: refused
    assert fold([0.3, 0.9, 0.2], 0) == 0.2              # black: the last
    assert fold([0.9, 0.0, 0.2], 510) == 0.2            # a zero write resets
    assert fold([0.9, 0.2, 0.0], 381) == 0.0
