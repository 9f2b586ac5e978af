"""Footprint outlines (mViewer -imginfo geometry) and display orientation."""

import numpy as np
import pytest
from astropy.table import Table
from astropy.wcs import WCS

from conftest import tan_header
from diffview.geometry import (
    CORNER_COLUMNS,
    Orientation,
    box_outline,
    footprint_outline,
    great_circle_points,
    image_outlines,
    orientation,
)

SCALE = 1.0 / 3600.0




# images as (column offset, row offset, nx, ny) inside a 200 x 120 display
BOXES = [(0, 0, 80, 60), (50, 30, 60, 70), (100, 5, 90, 50), (20, 70, 100, 40)]


@pytest.fixture(scope="module")
def display():
    return tan_header(200, 120, 100.5, 60.5)


@pytest.fixture(scope="module")
def tables(display):
    rows, wrows = [], []
    for k, (io, jo, nx, ny) in enumerate(BOXES):
        h = tan_header(nx, ny, 100.5 - io, 60.5 - jo)
        w = WCS(h)
        px = np.array([[0.5, 0.5], [nx + 0.5, 0.5], [nx + 0.5, ny + 0.5],
                       [0.5, ny + 0.5]])
        ra, dec = w.all_pix2world(px[:, 0], px[:, 1], 1)
        row = {"cntr": k}
        for i in range(4):
            row[f"ra{i + 1}"], row[f"dec{i + 1}"] = ra[i], dec[i]
        rows.append(row)
        wrows.append({"cntr": k, "ctype1": "RA---TAN", "ctype2": "DEC--TAN",
                      "naxis1": nx, "naxis2": ny, "crval1": 275.1, "crval2": -16.2,
                      "crpix1": 100.5 - io, "crpix2": 60.5 - jo, "cdelt1": -SCALE,
                      "cdelt2": SCALE, "crota2": 0.0, "equinox": 2000.0})
    return Table(rows=rows), Table(rows=wrows)


def test_orientation_rules():
    assert orientation(tan_header(4, 3, 1, 1)) == (False, True, 4, 3)
    assert orientation(tan_header(4, 3, 1, 1, cdelt1=SCALE)) == (True, True, 4, 3)
    assert orientation(tan_header(4, 3, 1, 1, cdelt2=-SCALE)) == (False, False, 4, 3)
    assert orientation(tan_header(4, 3, 1, 1, crota2=180.0)) == (True, False, 4, 3)
    assert orientation(tan_header(4, 3, 1, 1), noflip=True) == (False, False, 4, 3)
    h = tan_header(4, 3, 1, 1)
    for k in ("CDELT1", "CDELT2", "CROTA2"):
        del h[k]
    h["CD1_1"], h["CD1_2"], h["CD2_1"], h["CD2_2"] = -SCALE, 0.0, 0.0, SCALE
    assert orientation(h) == (False, True, 4, 3)


def test_orientation_apply_and_round_trip():
    o = Orientation(True, True, 4, 3)
    a = np.arange(12).reshape(3, 4)
    assert o.apply(a)[0, 0] == 11
    x, y = o.to_display(0.0, 0.0)
    assert (float(x), float(y)) == (3.0, 2.0)
    assert tuple(map(float, o.to_fits(x, y))) == (0.0, 0.0)


def test_great_circle_sampling_includes_end():
    lon, lat = great_circle_points(0.0, 10.0, 0.0, 11.0, 0.3)
    assert lat[0] == pytest.approx(10.0) and lat[-1] == pytest.approx(11.0)
    assert np.allclose(np.diff(lat)[:-1], 0.3)
    assert np.allclose(lon, 0.0)
    lon, lat = great_circle_points(0.0, 0.0, 0.0, 0.01, 1.0)   # shorter than a step
    assert lon.size == 2


def test_outlines_on_pixel_edges(display, tables):
    corners_tbl, _ = tables
    lines = image_outlines(corners_tbl, display)
    assert len(lines) == len(BOXES)
    for (io, jo, nx, ny), p in zip(BOXES, lines, strict=True):
        x0, x1 = io - 0.5, io + nx - 0.5
        # display rows are flipped (CDELT2 > 0): FITS row j -> 119 - j
        y_top, y_bot = 119 - (jo + ny - 0.5), 119 - (jo - 0.5)
        assert p[:, 0].min() == pytest.approx(x0, abs=0.02)
        assert p[:, 0].max() == pytest.approx(x1, abs=0.02)
        assert p[:, 1].min() == pytest.approx(y_top, abs=0.02)
        assert p[:, 1].max() == pytest.approx(y_bot, abs=0.02)
        # closed polygon, sampled every half pixel (the last step of a side
        # takes the remainder: under two steps, as mViewer)
        assert np.allclose(p[0], p[-1], atol=1e-6)
        step = np.hypot(*np.diff(p, axis=0).T)
        assert np.median(step) == pytest.approx(0.5, abs=1e-3)
        assert step.max() < 1.0 + 1e-3


def test_wcs_columns_give_same_outlines(display, tables):
    corners_tbl, wcs_tbl = tables
    a = image_outlines(corners_tbl, display)
    b = image_outlines(wcs_tbl, display)
    for p, q in zip(a, b, strict=True):
        assert p.shape == q.shape and np.allclose(p, q, atol=1e-6)


def test_table_files_give_the_tables_outlines(tmp_path, display, tables):
    # corners read as bare columns; a file without them goes through its
    # WCS columns
    from diffview.io import write_table
    from diffview.render import table_outlines

    for k, table in enumerate(tables):
        path = tmp_path / f"images{k}.tbl"
        write_table(table, path)
        ref = image_outlines(table, display)
        got = table_outlines(str(path), display)
        assert len(got) == len(ref) == len(BOXES)
        for p, q in zip(got, ref, strict=True):
            assert p.shape == q.shape and np.allclose(p, q, atol=1e-9)


def test_geometry_takes_tables_already_read(display, tables):
    """`image_outlines` reads no file: a mapping of the corner columns gives
    the Table's outlines; a path is refused with a pointer to the reader."""
    corners_tbl, _ = tables
    cols = {c: np.asarray(corners_tbl[c]) for c in CORNER_COLUMNS}
    for p, q in zip(image_outlines(cols, display), image_outlines(corners_tbl, display),
                    strict=True):
        assert np.array_equal(p, q)
    with pytest.raises(TypeError, match="table_outlines"):
        image_outlines("images.tbl", display)


def test_rows_selection_and_wcs_object(display, tables):
    corners_tbl, _ = tables
    sel = image_outlines(corners_tbl, display, rows=[2])
    full = image_outlines(corners_tbl, display)
    assert len(sel) == 1 and np.allclose(sel[0], full[2])
    w = WCS(display)
    w.pixel_shape = (200, 120)
    assert np.allclose(image_outlines(corners_tbl, w, rows=[0])[0], full[0])


def test_outline_leaving_the_image_is_split(tables):
    corners_tbl, _ = tables
    small = tan_header(60, 50, 100.5 - 40, 60.5 - 20)   # shows columns 40..99
    lines = image_outlines(corners_tbl, small, rows=[0])
    xs = np.concatenate([p[:, 0] for p in lines])
    assert xs.min() >= -0.5 and xs.max() <= 59.5
    joined = image_outlines(corners_tbl, small, rows=[0], split=False)
    assert len(joined) == 1


def test_footprint_outline_direct(display):
    w = WCS(display)
    px = np.array([[10.5, 10.5], [20.5, 10.5], [20.5, 30.5], [10.5, 30.5]])
    corners = np.column_stack(w.all_pix2world(px[:, 0], px[:, 1], 1))
    (run,) = footprint_outline(corners, display)
    assert run[:, 0].min() == pytest.approx(9.5, abs=0.02)
    assert run[:, 1].max() == pytest.approx(119 - 9.5, abs=0.02)


def test_box_outline():
    b = box_outline(((2, 5), (1, 4)))
    assert b.tolist() == [[0.5, 1.5], [3.5, 1.5], [3.5, 4.5], [0.5, 4.5], [0.5, 1.5]]
    d = box_outline(((2, 5), (1, 4)), header=tan_header(8, 10, 1, 1))
    assert d[:, 1].max() == 7.5 and d[:, 1].min() == 4.5
    assert np.allclose(box_outline(((2, 5), (1, 4)), shape=(10, 8)), d)


def test_outlines_of_a_table_file_are_cached_until_it_changes(tmp_path, display,
                                                              tables, monkeypatch):
    from diffview.io import write_table as write_images_table
    from diffview.render import _tables, table_outlines, table_outlines_key

    corners_tbl, _ = tables
    path = tmp_path / "images.tbl"
    write_images_table(corners_tbl, path)
    first = table_outlines(str(path), display)
    assert table_outlines_key(str(path), display) in _tables._CACHE

    def no_reading(path):
        raise AssertionError("the table file was read again")

    monkeypatch.setattr(_tables, "_read_corners", no_reading)
    again = table_outlines(str(path), display)
    monkeypatch.undo()
    ref = table_outlines(corners_tbl, display)       # in-memory: not cached
    assert table_outlines_key(corners_tbl, display) is None
    assert len(first) == len(again) == len(ref)
    for p, q, r in zip(first, again, ref, strict=True):
        assert np.array_equal(p, q) and np.allclose(p, r, atol=1e-9)
    again[0][:] = -1.0                               # callers get their own copies
    assert np.array_equal(table_outlines(str(path), display)[0], first[0])
    # another displayed header, or rows: separate entries
    assert len(table_outlines(str(path), display, rows=[1])) == 1
    # a rewritten table is read again
    write_images_table(corners_tbl[:2], path)
    assert len(table_outlines(str(path), display)) == 2


def _rotated_cd(h, degrees):
    h = h.copy()
    for k in ("CDELT1", "CDELT2", "CROTA2"):
        del h[k]
    t = np.radians(degrees)
    h["CD1_1"], h["CD1_2"] = -SCALE * np.cos(t), SCALE * np.sin(t)
    h["CD2_1"], h["CD2_2"] = SCALE * np.sin(t), SCALE * np.cos(t)
    return h


def _with_pc(h):
    h = h.copy()
    del h["CROTA2"]
    h["PC1_1"], h["PC1_2"], h["PC2_1"], h["PC2_2"] = 0.9, 0.1, -0.1, 1.0
    return h


@pytest.mark.parametrize("make", [
    lambda h: h, lambda h: tan_header(200, 120, 100.5, 60.5, crota2=30.0),
    lambda h: tan_header(200, 120, 100.5, 60.5, cdelt1=SCALE),
    lambda h: _rotated_cd(h, 20.0), _with_pc])
def test_direct_gnomonic_projection_matches_astropy(monkeypatch, display, tables, make):
    import diffview.geometry.outlines as mod

    h = make(display)
    assert mod._plain_tan(WCS(h)) is not None
    fast = image_outlines(tables[0], h)
    monkeypatch.setattr(mod, "_plain_tan", lambda wcs: None)     # astropy's
    monkeypatch.setattr(mod, "_header_tan", lambda h: None)
    slow = image_outlines(tables[0], h)
    assert len(fast) == len(slow) >= 2
    for p, q in zip(fast, slow, strict=True):
        assert p.shape == q.shape and np.abs(p - q).max() < 1e-6


def test_direct_projection_only_for_plain_equatorial_tan(display):
    from diffview.geometry._tan import _plain_tan

    for key, value in (("CTYPE1", "RA---SIN"), ("CTYPE1", "RA---TAN-SIP"),
                       ("LONPOLE", 170.0), ("PV2_1", 0.1)):
        h = display.copy()
        h[key] = value
        if key == "CTYPE1":
            h["CTYPE2"] = value.replace("RA--", "DEC-")
        if value == "RA---TAN-SIP":
            h["A_ORDER"], h["B_ORDER"], h["A_2_0"], h["B_0_2"] = 2, 2, 1e-6, 1e-6
        assert _plain_tan(WCS(h)) is None, key


def test_header_tan_is_astropys_plain_tan_bit_for_bit(display):
    from diffview.geometry._tan import _header_tan, _plain_tan

    rng = np.random.default_rng(8)
    for _ in range(20):
        h = tan_header(int(rng.integers(50, 3000)), int(rng.integers(50, 3000)),
                       float(rng.uniform(-500, 500)), float(rng.uniform(-500, 500)),
                       cdelt1=float(rng.choice([-1, 1]) * rng.uniform(1e-5, 1e-2)))
        h["CDELT2"] = float(rng.uniform(1e-5, 1e-2))
        h["CRVAL1"] = float(rng.uniform(0, 360))
        h["CRVAL2"] = float(rng.uniform(-89, 89))
        mine, ref = _header_tan(h), _plain_tan(WCS(h, naxis=2))
        assert np.array_equal(mine[0], ref[0]) and np.array_equal(mine[1], ref[1])
    # anything more than CDELT (and CROTA2 = 0) is left to astropy's WCS
    for key, value in (("CROTA2", 10.0), ("PC1_2", 0.1), ("CD1_1", -SCALE),
                       ("LONPOLE", 180.0), ("PV2_1", 0.0), ("CUNIT1", "deg"),
                       ("CTYPE1", "RA---SIN"), ("CRVAL2", 90.0), ("A_ORDER", 2),
                       ("NAXIS", 3)):
        h = display.copy()
        h[key] = value
        assert _header_tan(h) is None, key
    assert _header_tan(display) is not None


def test_arc_points_are_mviewers_great_circle_points():
    from diffview.geometry.outlines import _arcs

    starts = np.array([[275.0, -16.0], [10.0, 89.9], [0.0, 0.0], [120.0, 45.0]])
    ends = np.array([[275.3, -15.8], [190.0, 89.9], [0.0, 0.0], [120.0, 45.0004]])
    step = 0.01
    (ca, sa, arc), basis = _arcs(starts[:, 0], starts[:, 1], ends[:, 0], ends[:, 1],
                                 step, np.zeros(4, bool))
    v = ca[:, None] * basis[arc, 0] + sa[:, None] * basis[arc, 1]
    lon = np.degrees(np.arctan2(v[:, 1], v[:, 0])) % 360
    lat = np.degrees(np.arcsin(v[:, 2]))
    for k, (s, e) in enumerate(zip(starts, ends, strict=True)):
        glon, glat = great_circle_points(*s, *e, step)
        assert (arc == k).sum() == glon.size
        dlon = (lon[arc == k] - glon % 360 + 180) % 360 - 180
        assert np.abs(dlon * np.cos(np.radians(glat))).max() < 1e-9
        assert np.abs(lat[arc == k] - glat).max() < 1e-9
