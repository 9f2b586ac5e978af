"""Every loop over pairs counts a bad pair, says which and why, and goes on.

One hostile work folder serves every loop: a corrupt projected image
(tile 0), a missing area file (tile 2's), an image that is blank everywhere
(tile 5, so its overlaps are NaN only) and a pair whose box is empty (3 - 5,
side by side with a gap). Pairs 3 - 4, 1 - 4 and 1 - 3 are good.
"""

from __future__ import annotations

import errno

import numpy as np
import pytest
from astropy.io import fits
from work_folders import make_work

import diffview.run.workspace as workspace_module
from diffview import io
from diffview.errors import OutputError
from diffview.geometry.overlaps import diff_name
from diffview.models import Correction, Overlap
from diffview.run import (
    apply_corrections,
    compute_differences,
    differences_and_fits,
    fit_planes,
    load_workspace,
)
from diffview.run import differences as diffview_differences
from diffview.widgets import explore

CORRUPT = "tile_0.fits missing or invalid FITS"
NO_AREA = "tile_2_area.fits missing or invalid FITS"
BLANK = "All pixels are blank."
EMPTY_BOX = "Images don't overlap"
EXPECTED = {
    (0, 1): CORRUPT,
    (0, 3): CORRUPT,
    (0, 4): CORRUPT,
    (1, 2): NO_AREA,
    (2, 5): NO_AREA,
    (2, 4): NO_AREA,
    (4, 5): BLANK,
    (1, 5): BLANK,
    (3, 5): EMPTY_BOX,
}
GOOD = {(3, 4), (1, 4), (1, 3)}


def make_hostile(root, *, mosaic=True):
    root = make_work(root, mosaic=mosaic)
    proj = root / "projected"
    (proj / "tile_0.fits").write_bytes(b"SIMPLE  = garbage" + b" " * 2863)
    (proj / "tile_2_area.fits").unlink()
    with fits.open(proj / "tile_5.fits", mode="update") as hdul:
        hdul[0].data[:] = np.nan
    pairs = io.read_diffs_table(root / "diffs.tbl")
    pairs.append(Overlap(3, 5, "tile_3.fits", "tile_5.fits", diff_name(3, 5)))
    io.write_diffs_table(pairs, root / "diffs.tbl")
    return root


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    return make_hostile(tmp_path_factory.mktemp("hostile") / "work")


def _inputs(work):
    """Projected images, overlap table and template of a work folder."""
    return work / "projected", work / "diffs.tbl", work / "template.hdr"


def _by_pair(failures):
    return {(ov.cntr1, ov.cntr2): msg for ov, msg in failures}


def _check(failures):
    assert set(failures) == set(EXPECTED)
    for key, msg in failures.items():
        assert EXPECTED[key] in msg, (key, msg)


def test_differences_loop(hostile, tmp_path):
    r = compute_differences(
        *_inputs(hostile),
        tmp_path,
        quiet=True,
    )
    assert (r.count, r.failed) == (12, 9)
    _check(_by_pair(r.failures))
    assert {tuple(int(n) for n in k[5:18].split(".")) for k in r.stats} == GOOD
    assert len(list(tmp_path.glob("*_area.fits"))) == 3


def test_differences_and_fits_loop(hostile, tmp_path):
    r = differences_and_fits(
        *_inputs(hostile),
        tmp_path,
        None,
        quiet=True,
    )
    assert (r.count, r.failed, r.diff_failed, r.fit_failed) == (12, 9, 9, 0)
    _check(_by_pair(r.failures))
    assert {(f.plus, f.minus) for f in r.fits} == GOOD


def test_fits_loop(hostile, tmp_path):
    compute_differences(
        *_inputs(hostile),
        tmp_path,
        quiet=True,
    )
    # hostile difference files: a cube, an empty file, NaN only
    fits.PrimaryHDU(np.ones((2, 3, 4))).writeto(
        tmp_path / diff_name(3, 4), overwrite=True
    )
    (tmp_path / diff_name(1, 4)).write_bytes(b"")
    hdr = fits.Header({"CRPIX1": 1.0, "CRPIX2": 1.0})
    fits.PrimaryHDU(np.full((5, 5), np.nan), hdr).writeto(tmp_path / diff_name(0, 1))
    r = fit_planes(hostile / "diffs.tbl", None, tmp_path, quiet=True)
    assert (r.count, r.failed, r.missing, r.fit_failed) == (12, 11, 8, 3)
    failures = _by_pair(r.failures)
    assert "missing or invalid FITS" in failures[(3, 4)]
    assert "missing or invalid FITS" in failures[(1, 4)]
    assert "Singular Matrix" in failures[(0, 1)]
    assert failures[(4, 5)].endswith("file not found")
    assert [(f.plus, f.minus) for f in r.fits] == [(1, 3)]


def test_corrections_loop(hostile, tmp_path):
    # before: an area file of the wrong size stopped the whole run with
    # "ValueError: operands could not be broadcast together"
    fits.PrimaryHDU(np.ones((3, 3))).writeto(tmp_path / "tile_4_area.fits")
    proj = tmp_path / "proj"
    proj.mkdir()
    for f in (hostile / "projected").iterdir():
        (proj / f.name).write_bytes(f.read_bytes())
    (proj / "tile_4_area.fits").write_bytes(
        (tmp_path / "tile_4_area.fits").read_bytes()
    )
    out = tmp_path / "corrected"
    out.mkdir()
    r = apply_corrections(
        proj, hostile / "images.tbl", [Correction(1, 0.0, 0.0, 2.0)], out, quiet=True
    )
    assert (r.count, r.failed, r.nocorrection) == (6, 3, 5)
    failures = dict(r.failures)
    assert CORRUPT in failures[str(proj / "tile_0.fits")]
    assert NO_AREA in failures[str(proj / "tile_2.fits")]
    assert (
        "tile_4_area.fits has 3x3 pixels, its image 40x50"
        in failures[str(proj / "tile_4.fits")]
    )
    # the good images are written, tile 1 corrected by its level of 2
    assert sorted(p.name for p in out.glob("tile_?.fits")) == [
        "tile_1.fits",
        "tile_3.fits",
        "tile_5.fits",
    ]
    before = io.read_image(proj / "tile_1.fits")[0]
    after = io.read_image(out / "tile_1.fits")[0]
    np.testing.assert_allclose((before - after)[np.isfinite(after)], 2.0)


def test_dashboard_compute_what_is_missing_loop(hostile, tmp_path, monkeypatch):
    # before: only PairError was counted; a full disk (OutputError) or any
    # other error while writing one difference stopped the whole load
    work = make_hostile(tmp_path / "work", mosaic=False)
    real = workspace_module.write_difference

    def full_disk(diff, out, template):
        if diff_name(1, 3) in str(out):
            raise OutputError(errno.ENOSPC, "no space left on device", str(out))
        return real(diff, out, template)

    monkeypatch.setattr(workspace_module, "write_difference", full_disk)
    ws = load_workspace(work)
    expected = dict(EXPECTED)
    expected[(1, 3)] = "no space left on device"
    assert set(ws.failures) == set(expected)
    for key, msg in ws.failures.items():
        assert expected[key] in msg, (key, msg)
    assert set(ws.fits) == GOOD - {(1, 3)}
    # the preview (no mosaic.fits) leaves the corrupt image out and says so
    assert len(ws.problems) == 1
    assert ws.problems[0].startswith("image tile_0.fits left out of the preview: ")
    assert np.isfinite(ws.preview.array).any()


def test_dashboard_reports_which_pairs_failed_and_why(hostile):
    d = explore(hostile, background=False)
    try:
        assert d.error_text == ""
        text = d.message_text
        assert text.startswith("9 of 12 pairs failed (rank by 'failed' to list them): ")
        assert "0 - 1: Image file" in text and "and 4 more" in text
        ex = d.explorer
        assert {ex.key(k) for k in ex.ranking("failed")[:9]} == set(EXPECTED)
        blank = ex.overlaps.index(
            next(o for o in ex.overlaps if (o.cntr1, o.cntr2) == (4, 5))
        )
        d.select(blank)
        assert d.error_text == ""
        assert BLANK in d.selected.value
    finally:
        d.close()


def test_in_memory_differences_loop():
    from astropy.wcs import WCS

    def grid(crpix1):
        w = WCS(naxis=2)
        w.wcs.ctype = ["RA---TAN", "DEC--TAN"]
        w.wcs.cdelt = [-1e-3, 1e-3]
        w.wcs.crpix = [crpix1, 1]
        return w

    images = [
        (np.full((4, 5), 3.0), grid(1)),
        (np.ones((4, 5)), grid(-2)),  # overlaps image 0 by two columns
        (np.full((4, 5), np.nan), grid(-2)),  # blank where it overlaps
        (np.ones((4, 5)), grid(-20)),  # far to the right: empty box
    ]
    pairs = [
        Overlap(a, b, f"image{a}", f"image{b}", "d")
        for a, b in [(0, 3), (0, 2), (0, 1)]
    ]
    ok, failed = diffview_differences(images, pairs)
    assert failed == {(0, 3): EMPTY_BOX, (0, 2): BLANK}
    assert list(ok) == [(0, 1)] and float(ok[(0, 1)].array.mean()) == 2.0
