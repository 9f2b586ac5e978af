"""RA/Dec tick labels of the pair panels against astropy's world coordinates."""

from __future__ import annotations

import numpy as np
import pytest
from astropy import units as u
from astropy.coordinates import Angle
from astropy.io import fits
from astropy.wcs import WCS

from diffview.widgets._wcsaxes import SkyTicks, sky_ticks

CFHT = "/work/shared/data/real/cfht_a370/a370II.fits"


def _tan(seed: int) -> WCS:
    """A TAN WCS with a random rotation, skew and pixel scale."""
    rng = np.random.default_rng(seed)
    w = WCS(naxis=2)
    w.wcs.ctype = ["RA---TAN", "DEC--TAN"]
    w.wcs.crval = [rng.uniform(0, 360), rng.uniform(-80, 80)]
    w.wcs.crpix = rng.uniform(-200, 400, 2)
    scale = rng.uniform(0.2, 2.0) / 3600
    theta = rng.uniform(0, 2 * np.pi)
    rot = np.array([[np.cos(theta), -np.sin(theta)], [np.sin(theta), np.cos(theta)]])
    skew = np.array([[1.0, rng.uniform(-0.1, 0.1)], [0.0, rng.uniform(0.9, 1.1)]])
    w.wcs.cd = scale * np.diag([-1.0, 1.0]) @ rot @ skew
    return w


def _astropy_label(value: float, coord: str, label: str) -> str:
    """astropy's sexagesimal text of ``value`` with as many fields as ``label``."""
    fields = 1 + (label[-1] in "m's\"") + (label[-1] in 's"')
    precision = len(label.split(".")[1].rstrip('s"')) if "." in label else 0
    unit = u.hour if coord == "ra" else u.deg
    angle = Angle(value, u.deg)
    angle = angle.wrap_at(360 * u.deg) if coord == "ra" else angle
    text = angle.to_string(
        unit=unit,
        sep=coord[0] == "r" and "hms" or "dms",
        precision=precision,
        pad=True,
        fields=fields,
        alwayssign=coord == "dec",
    )
    if coord == "dec":
        text = text.replace("d", "°").replace("m", "'").replace("s", '"')
    return text


def _check(w: WCS, xlim, ylim) -> int:
    ticks = sky_ticks(w, xlim, ylim)
    n = 0
    for edge, fixed in (("x", min(ylim)), ("y", min(xlim))):
        coord, found = ticks[edge]
        for pixel, value, label in found:
            px, py = (pixel, fixed) if edge == "x" else (fixed, pixel)
            ra, dec = (float(v) for v in w.pixel_to_world_values(px, py))
            if coord == "ra":
                err = abs((ra - value + 180) % 360 - 180) * np.cos(np.radians(dec))
                world = ra
            else:
                err, world = abs(dec - value), dec
            assert err * 3600 < 0.1, (edge, coord, label, err * 3600)
            # the label (abbreviated after the first) is astropy's text's end
            assert _astropy_label(world, coord, label).endswith(label), label
            n += 1
    return n


@pytest.mark.parametrize("seed", range(8))
def test_tick_labels_are_the_world_coordinates_at_their_pixels(seed):
    w = _tan(seed)
    n = 0
    for xlim, ylim in [((-0.5, 199.5), (-0.5, 199.5)), ((40, 47), (10, 300))]:
        n += _check(w, xlim, ylim)
    assert n >= 4  # ticks were found on both edges of at least one view


def test_tick_labels_on_the_cfht_frame_skewed_cd():
    w = WCS(fits.getheader(CFHT)).celestial
    assert abs(w.wcs.cd[0, 1]) > abs(w.wcs.cd[0, 0])  # rotated about 66 degrees
    assert _check(w, (-0.5, 1908.5), (-0.5, 1796.5)) >= 4
    assert _check(w, (100, 300), (500, 700)) >= 3


def test_ra_ticks_across_zero_hours():
    w = WCS(naxis=2)
    w.wcs.ctype = ["RA---TAN", "DEC--TAN"]
    w.wcs.crval, w.wcs.crpix = [0.0, 30.0], [100.0, 100.0]
    w.wcs.cdelt = [-2 / 3600, 2 / 3600]
    coord, found = sky_ticks(w, (-0.5, 199.5), (-0.5, 199.5))["x"]
    labels = [label for _, _, label in found]
    assert (
        coord == "ra"
        and labels[0].startswith("00h00m")
        and labels[-1].startswith("23h59m")
    )
    _check(w, (-0.5, 199.5), (-0.5, 199.5))


def test_zoom_relabels_and_a_redraw_does_not_recompute():
    from matplotlib.figure import Figure

    w = _tan(3)
    fig = Figure(figsize=(2.5, 2.5))
    ax = fig.add_axes((0.17, 0.1, 0.8, 0.8))
    ax.set_xlim(-0.5, 199.5)
    ax.set_ylim(-0.5, 199.5)
    ticks = SkyTicks(ax, w)
    from diffview.widgets._wcsaxes import _SkyFormatter, _SkyLocator

    ax.xaxis.set_major_locator(_SkyLocator(ticks, "x"))
    ax.xaxis.set_major_formatter(_SkyFormatter(ticks, "x"))
    fig.canvas.draw()
    before = [t.get_text() for t in ax.get_xticklabels()]
    fig.canvas.draw()  # a blink frame: same limits
    assert ticks.computed == 1
    ax.set_xlim(80, 90)  # the toolbar's zoom
    fig.canvas.draw()
    after = [t.get_text() for t in ax.get_xticklabels()]
    assert ticks.computed == 2 and after != before and all(after)
    expect = sky_ticks(w, (80, 90), (-0.5, 199.5), nticks=(len(after), 3))["x"][1]
    assert after == [label for _, _, label in expect][: len(after)]


def test_a_short_edge_gets_labels_without_hours_or_degrees():
    w = _tan(5)
    view = ((-0.5, 199.5), (-0.5, 199.5))
    whole = sky_ticks(w, *view, nticks=1)
    short = sky_ticks(w, *view, nticks=1, short=(True, True))
    for edge in "xy":
        (p, v, label), (q, u_, cut) = whole[edge][1][0], short[edge][1][0]
        assert (p, v) == (q, u_) and label.endswith(cut)
        assert cut[:3] == label[3:6] if whole[edge][0] == "ra" else cut in label
        assert "h" not in cut and "°" not in cut
