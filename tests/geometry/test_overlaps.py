"""Overlap finding: hand-checked layouts and pair-for-pair parity with mOverlaps."""

import numpy as np
import pytest
from astropy.io import fits
from astropy.wcs import WCS

from conftest import MP, montage_imgtbl
from diffview import io
from diffview.core import overlap_box, template_offset
from diffview.geometry.overlaps import (
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
