"""A flag or a re-solve explained in place: what moved, by how much, the rms."""

from __future__ import annotations

import numpy as np
import pytest

from diffview.core import ImageGeometry
from diffview.models import Correction
from diffview.sample import write_sample
from diffview.widgets import Dashboard
from diffview.widgets._explain import correction_shifts, moved_images


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    return write_sample(tmp_path_factory.mktemp("explain"), "small")


def _brute_shifts(geometry, old, new):
    """max |Δ plane| over every pixel of every image."""
    planes = {}
    for sign, cs in ((-1, old), (1, new)):
        for c in cs:
            p = planes.setdefault(c.id, np.zeros(3))
            p += sign * np.array([c.a, c.b, c.c])
    out = []
    for k, cntr in enumerate(geometry.cntr.tolist()):
        a, b, c = planes.get(cntr, np.zeros(3))
        i, j = np.meshgrid(np.arange(geometry.naxis1[k]), np.arange(geometry.naxis2[k]))
        x, y = i - geometry.crpix1[k], j - geometry.crpix2[k]
        out.append(np.abs(a * x + b * y + c).max())
    return np.array(out)


def test_correction_shifts_are_the_largest_change_over_each_image():
    rng = np.random.default_rng(2)
    n = 5
    g = ImageGeometry(
        np.arange(10, 10 + n),
        rng.integers(5, 40, n),
        rng.integers(5, 40, n),
        rng.uniform(-20, 20, n),
        rng.uniform(-20, 20, n),
        np.zeros(n, bool),
    )
    old = [Correction(10 + k, *rng.normal(0, 0.01, 2), rng.normal()) for k in range(n)]
    new = [
        Correction(10 + k, *rng.normal(0, 0.01, 2), rng.normal()) for k in range(1, n)
    ]
    got = correction_shifts(g, old, new)  # image 10: no new correction
    np.testing.assert_allclose(got, _brute_shifts(g, old, new), rtol=1e-12)


def test_flag_then_resolve_says_what_changed(sample):
    dash = Dashboard(sample)
    try:
        ex = dash.explorer
        assert dash.explain.text.value == ""
        old = list(ex.corrections)
        dash.flag_pair()
        text = dash.explain.text.value
        assert "1 pair left out of the next solve" in text and "re-solve" in text
        dash.flag_image("minus")
        excluded = sum(ex._flagged_key(f.plus, f.minus) for f in ex.ws.fits.values())
        assert f"{excluded} pairs left out" in dash.explain.text.value
        dash.resolve_button.click()
        assert dash.error_text == ""
        text = dash.explain.text.value
        assert "re-solve (direct)" in text and f"{excluded} pairs left out" in text
        # the rms of the kept pairs' levels, before and after
        table = ex.residual_table()
        kept = ~np.asarray(table["flagged"], bool)
        before = np.sqrt(np.mean(np.asarray(table["before"])[kept] ** 2))
        after = np.sqrt(np.mean(np.asarray(table["after"])[kept] ** 2))
        assert f"{before:.4g} → {after:.4g}" in text
        # the images that moved, largest first, with their shift
        shifts = _brute_shifts(ex.ws.geometry, old, ex.corrections)
        np.testing.assert_allclose(dash.explain.shifts, shifts, rtol=1e-9)
        names = list(ex.ws.images["fname"])
        top = int(np.argmax(shifts))
        assert f"<b>{names[top]}</b> {shifts[top]:.4g}" in text
        moved = moved_images(shifts)
        assert f"{moved.sum()} of {len(shifts)} images moved" in text
        # their outlines on the mosaic, which a checkbox hides
        segs = dash.explain.moved.get_segments()
        outlines = ex.outlines_by_image()
        want = [r for k in np.flatnonzero(moved) for r in outlines[k]]
        assert len(segs) == len(want) > 0
        assert dash.explain.moved.get_visible()
        dash.explain.highlight.value = False
        assert not dash.explain.moved.get_visible()
        # a second re-solve with nothing new: nothing moved
        dash.resolve_button.click()
        assert "no image's correction moved" in dash.explain.text.value
    finally:
        dash.close()


def test_corrections_from_the_background_job_are_not_a_change(sample):
    dash = Dashboard(sample)
    try:
        ex = dash.explorer
        # the job's first corrections, arriving from none (solver unset)
        ex.corrections = [Correction(c.id, 0.0, 0.0, c.c + 5) for c in ex.corrections]
        ex.notify({"corrections", "ranking"})
        assert dash.explain.text.value == ""
        assert dash.explain.moved.get_segments() == []
        # a re-solve then compares with those, not with the first ones
        seen = list(ex.corrections)
        dash.resolve()
        want = _brute_shifts(ex.ws.geometry, seen, ex.corrections)
        np.testing.assert_allclose(dash.explain.shifts, want, rtol=1e-9)
    finally:
        dash.close()


def _magenta(canvas) -> int:
    rgb = np.asarray(canvas.buffer_rgba())[..., :3].astype(int)
    return int(np.sum((rgb[..., 0] > 200) & (rgb[..., 1] < 60) & (rgb[..., 2] > 200)))


def test_moved_outlines_are_blitted_over_the_mosaic(sample):
    """A re-solve outlines the moved images without re-rendering the mosaic."""
    dash = Dashboard(sample)
    try:
        canvas = dash.mosaic.fig.canvas
        canvas.draw()  # the picture kept (no event loop: drawn at once)
        full, before = canvas.full_draws, np.asarray(canvas.buffer_rgba()).copy()
        assert _magenta(canvas) == 0
        dash.flag_image("minus")
        dash.resolve_button.click()
        assert dash.explain.moved.get_segments()
        assert canvas.full_draws == full  # blitted, not re-rendered
        assert _magenta(canvas) > 100  # the dashed outlines are on the canvas
        dash.explain.highlight.value = False
        assert canvas.full_draws == full
        np.testing.assert_array_equal(np.asarray(canvas.buffer_rgba()), before)
        # a full draw (a zoom, an export) keeps them on top
        dash.explain.highlight.value = True
        canvas.draw()
        assert canvas.full_draws == full + 1 and _magenta(canvas) > 100
    finally:
        dash.close()
