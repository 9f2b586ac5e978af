"""Overlap finding: hand-checked layouts and pair-for-pair parity with mOverlaps."""

import numpy as np
import pytest
from astropy.io import fits
from astropy.wcs import WCS

from conftest import MP, montage_imgtbl
from diffview import io
from diffview.core import overlap_box, template_offset
from diffview.geometry.overlaps import (
    FOOTPRINT_COLUMNS,
    diff_name,
    find_overlaps,
    footprint_from_wcs,
    footprints_from_table,
)
from diffview.io.imgtbl import make_image_table, write_images_table


def tan_header(ra, dec, shape, *, rot=0.0, scale=1 / 3600, cd=False):
    h = fits.Header()
    h["NAXIS"] = 2
    h["NAXIS1"], h["NAXIS2"] = shape[1], shape[0]
    h["CTYPE1"], h["CTYPE2"] = "RA---TAN", "DEC--TAN"
    h["CRVAL1"], h["CRVAL2"] = ra, dec
    h["CRPIX1"], h["CRPIX2"] = (shape[1] + 1) / 2, (shape[0] + 1) / 2
    if cd:
        c, s = np.cos(np.radians(rot)), np.sin(np.radians(rot))
        h["CD1_1"], h["CD1_2"] = -scale * c, -scale * s
        h["CD2_1"], h["CD2_2"] = -scale * s, scale * c
    else:
        h["CDELT1"], h["CDELT2"] = -scale, scale
        h["CROTA2"] = rot
    h["EQUINOX"] = 2000.0
    return h


def write_field(folder, specs):
    folder.mkdir(exist_ok=True)
    for k, (ra, dec, shape, rot, cd) in enumerate(specs):
        hdr = tan_header(ra, dec, shape, rot=rot, cd=cd)
        fits.PrimaryHDU(np.zeros(shape, np.float32), hdr).writeto(
            folder / f"t{k:02d}.fits"
        )


def random_specs(seed, n=24):
    rng = np.random.default_rng(seed)
    specs = []
    for _ in range(n):
        ra = 275.2 + rng.uniform(-0.12, 0.12)
        dec = -16.17 + rng.uniform(-0.12, 0.12)
        shape = (int(rng.integers(60, 200)), int(rng.integers(40, 160)))
        specs.append((ra, dec, shape, float(rng.uniform(-3, 3)), bool(rng.integers(2))))
    return specs


def montage_pairs(tbl, out, quick):
    res = MP.mOverlaps(str(tbl), str(out), quick, 0)
    assert res["status"] == "0", res
    return [
        (o.cntr1, o.cntr2, o.plus, o.minus, o.diff) for o in io.read_diffs_table(out)
    ]


def ours(overlaps):
    return [(o.cntr1, o.cntr2, o.plus, o.minus, o.diff) for o in overlaps]


# ------------------------------------------------------------ pixel grid


def test_template_offset_and_box():
    assert template_offset((10.0, 10.0), (12.5, 7.5)) == (-2, 2)
    # Montage's box leaves out the template's last row (docs §3.3) ...
    assert overlap_box((5, 9), (-2, 2), (4, 6), (3, 0), (5, 6)) == ((2, 4), (3, 4))
    # ... which full_edges keeps
    box = overlap_box((5, 9), (-2, 2), (4, 6), (3, 0), (5, 6), full_edges=True)
    assert box == ((2, 5), (3, 4))


def test_diff_name_widens_past_six_digits():
    assert diff_name(1234567, 2) == "diff.1234567.000002.fits"


# ------------------------------------------------------------ sky tests


def test_chain_of_tiles_from_wcs():
    fps = [
        footprint_from_wcs(
            WCS(tan_header(275 + 0.02 * k, -16, (50, 80))),
            (50, 80),
            cntr=k,
            fname=f"t{k}.fits",
        )
        for k in range(4)
    ]
    # tiles 80" wide, 72" apart: neighbours overlap, next-neighbours do not
    assert [(o.cntr1, o.cntr2) for o in find_overlaps(fps)] == [(0, 1), (1, 2), (2, 3)]
    assert ours(find_overlaps(fps, mode="exact")) == ours(find_overlaps(fps))


@pytest.mark.montage
@pytest.mark.parametrize("seed", [1, 2])
def test_quick_mode_matches_montage_pair_for_pair(tmp_path, seed):
    write_field(tmp_path / "raw", random_specs(seed))
    tbl = tmp_path / "images.tbl"
    res = montage_imgtbl(str(tmp_path / "raw"), str(tbl))
    assert res["status"] == "0"
    expected = montage_pairs(tbl, tmp_path / "m.tbl", True)
    assert len(expected) > 10
    assert ours(find_overlaps(io.read_table(tbl))) == expected


@pytest.mark.montage
def test_exact_mode_matches_montage_without_corners(tmp_path):
    write_field(tmp_path / "raw", random_specs(3, n=16))
    tbl = tmp_path / "images.tbl"
    montage_imgtbl(str(tmp_path / "raw"), str(tbl), corners=False)
    table = io.read_table(tbl)
    assert "ra1" not in table.colnames
    expected = montage_pairs(tbl, tmp_path / "m.tbl", False)
    assert ours(find_overlaps(table, mode="exact")) == expected


@pytest.mark.montage
def test_exact_mode_lists_an_image_inside_an_earlier_one(tmp_path):
    # Montage's exact mode only walks the first image's border and misses this.
    write_field(
        tmp_path / "raw",
        [
            (275.2, -16.17, (200, 200), 0.0, False),
            (275.2, -16.17, (20, 20), 0.0, False),
        ],
    )
    tbl = tmp_path / "images.tbl"
    # diffview's table (sorted by name, no corners), read by Montage's mOverlaps;
    # mImgtbl lists files in directory order, which may put the small one first
    raw = make_image_table(tmp_path / "raw", corners=False, sort=True)
    write_images_table(raw.table, tbl)
    assert montage_pairs(tbl, tmp_path / "m.tbl", False) == []
    pairs = find_overlaps(io.read_table(tbl), mode="exact")
    assert [(o.cntr1, o.cntr2) for o in pairs] == [(0, 1)]
    assert len(montage_pairs(tbl, tmp_path / "q.tbl", True)) == 1
    assert len(find_overlaps(io.read_table(tbl))) == 1


@pytest.mark.montage
def test_footprints_from_corner_and_wcs_columns_agree(tmp_path):
    write_field(tmp_path / "raw", random_specs(4, n=5))
    tbl = tmp_path / "images.tbl"
    montage_imgtbl(str(tmp_path / "raw"), str(tbl))
    table = io.read_table(tbl)
    from_corners = footprints_from_table(table)
    wcs_only = table.copy()
    wcs_only.remove_columns([f"{c}{k}" for k in range(1, 5) for c in ("ra", "dec")])
    from_wcs = footprints_from_table(wcs_only)
    for a, b in zip(from_corners, from_wcs, strict=True):
        # same polygon up to the starting corner and winding
        dist = np.abs(a.corners[:, None, :] - b.corners[None, :, :]).max(axis=2)
        assert np.all(dist.min(axis=1) < 1e-6)
        assert np.all(dist.min(axis=0) < 1e-6)


# ------------------------------------------------------------ survey scale
# Projected tiles of one TAN template (tests/benchmarks/fields.py): their edges
# are great circles, so the overlapping pairs are exactly the intersecting
# pixel rectangles (layout_pairs), in mOverlaps' order.

REGIONS = {
    "plain": (150.0, 2.0),
    "ra-wrap": (0.0, 30.0),
    "north-pole": (0.0, 89.7),
    "south-pole": (180.0, -89.9),
}


def layout_table(path, lay):
    from benchmarks.fields import write_images_tbl

    write_images_tbl(lay, path, [f"f{k:04d}.fits" for k in range(len(lay))])
    return path


def pair_list(overlaps):
    return [(o.cntr1, o.cntr2) for o in overlaps]


@pytest.mark.parametrize("region", REGIONS)
def test_survey_tiles_give_the_true_pairs_across_ra_zero_and_poles(tmp_path, region):
    from benchmarks.fields import layout_pairs, staggered_layout

    lay = staggered_layout(300, center=REGIONS[region], shuffle=True, seed=2)
    table = io.read_table(layout_table(tmp_path / "images.tbl", lay))
    if region == "ra-wrap":
        ra = np.asarray(table["ra1"])
        assert ra.max() > 359.5 and ra.min() < 0.5
    if "pole" in region:  # the pole is inside the region
        assert np.ptp(np.asarray(table["ra"])) > 300
    truth = [tuple(p) for p in layout_pairs(lay).tolist()]
    assert len(truth) > 1300
    assert pair_list(find_overlaps(table)) == truth
    # the columns alone (what the CLI and mOverlaps read) give the same
    cols = io.read_table_columns(
        tmp_path / "images.tbl", FOOTPRINT_COLUMNS, optional=True
    )
    assert pair_list(find_overlaps(cols)) == truth


@pytest.mark.montage
@pytest.mark.parametrize("region", REGIONS)
def test_survey_table_is_montages_byte_for_byte(tmp_path, region):
    from benchmarks.fields import staggered_layout

    from diffview.montage import mOverlaps

    lay = staggered_layout(400, center=REGIONS[region], shuffle=True, seed=3)
    tbl = layout_table(tmp_path / "images.tbl", lay)
    assert MP.mOverlaps(str(tbl), str(tmp_path / "m.tbl"), False, 0)["status"] == "0"
    res = mOverlaps(str(tbl), str(tmp_path / "d.tbl"))
    assert res["count"] > 1800
    assert (tmp_path / "d.tbl").read_text() == (tmp_path / "m.tbl").read_text()


def edge_overlap(lay, k, m):
    """Overlap of two tiles' pixel-edge rectangles (width, height)."""
    w = min(lay.i0[k] + lay.naxis1[k], lay.i0[m] + lay.naxis1[m]) - max(
        lay.i0[k], lay.i0[m]
    )
    h = min(lay.j0[k] + lay.naxis2[k], lay.j0[m] + lay.naxis2[m]) - max(
        lay.j0[k], lay.j0[m]
    )
    return w, h


@pytest.mark.montage
def test_tiles_that_only_touch_are_the_only_differences_from_montage(tmp_path):
    # Scans that abut exactly: neighbours across scans share an edge, a
    # zero-area overlap decided by rounding (old diffview and Montage already
    # differed on some); every pair with area is listed by both.
    from benchmarks.fields import staggered_layout

    lay = staggered_layout(300, step=(200, 200), tile=(1.5, 1.0), jitter=0, seed=4)
    tbl = layout_table(tmp_path / "images.tbl", lay)
    MP.mOverlaps(str(tbl), str(tmp_path / "m.tbl"), False, 0)
    montage = set(pair_list(io.read_diffs_table(tmp_path / "m.tbl")))
    ours = set(pair_list(find_overlaps(io.read_table(tbl))))
    sizes = {p: edge_overlap(lay, *p) for p in ours | montage}
    with_area = {p for p, (w, h) in sizes.items() if w > 0 and h > 0}
    assert len(with_area) > 250
    assert with_area <= ours and with_area <= montage
    assert all(min(sizes[p]) == 0 for p in ours ^ montage)


def test_a_large_image_among_small_ones_is_paired_with_all_it_touches(tmp_path):
    from benchmarks.fields import layout_pairs, staggered_layout

    lay = staggered_layout(200, shuffle=True, seed=5)
    big = int(np.argmin(np.abs(lay.i0 - lay.i0.mean())))
    lay.naxis1[big] = lay.naxis2[big] = 1500  # 5 x 5 tiles, radius 3.5 x theirs
    table = io.read_table(layout_table(tmp_path / "images.tbl", lay))
    pairs = pair_list(find_overlaps(table))
    assert pairs == [tuple(p) for p in layout_pairs(lay).tolist()]
    assert sum(big in p for p in pairs) > 25


def test_blank_rows_take_part_in_no_pair(tmp_path):
    from benchmarks.fields import staggered_layout

    lay = staggered_layout(4, step=(50, 60), jitter=0)
    table = io.read_table(layout_table(tmp_path / "images.tbl", lay))
    assert len(find_overlaps(table)) == 6
    table["ra2"][1] = np.nan
    table["dec"][2] = np.nan
    assert pair_list(find_overlaps(table)) == [(0, 3)]
