"""
Sky coordinates on the pair panels: RA and Dec tick labels from the template WCS.

The four pair panels are drawn in template pixels (each difference is a
sub-box of the template grid, ``docs/montage-semantics.md`` §2), so the
template's celestial WCS gives the sky position of every point of every
panel; the panels share their limits, so one set of ticks (on the plus
panel, which carries the tick labels) serves all four.

Like astropy's WCSAxes, a tick sits where a round value of RA or Dec
crosses the frame's edge: the bottom edge is labelled with the coordinate
that changes most along it (RA when north is up), the left edge with the
other one. This works for rotated and skewed CD matrices (the ticks are not
evenly spaced then) at the cost of a few WCS evaluations per change of the
view, not a curved grid: the ticks are computed in the axes' locator, at
draw time, once per view limits (a blink frame or a hover costs a cache
look-up), so zoom and pan relabel the panels on their own draw.

The labels are formatted by `diffview.widgets._sexagesimal` (plain Python,
shared with the pixel readout).
"""

from __future__ import annotations

import math

import numpy as np
from matplotlib.ticker import Formatter, Locator, MaxNLocator, ScalarFormatter

from diffview.widgets._sexagesimal import _abbreviated, _label_parts

__all__ = [
    "RA_STEPS",
    "DEC_STEPS",
    "SkyTicks",
    "SkyAxes",
    "install_sky_ticks",
    "sky_ticks",
]

_STEPS = (0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300)
_STEPS += (600, 900, 1800, 3600, 7200)
#: Tick spacings of RA, seconds of time.
RA_STEPS = _STEPS + (10800, 21600)
#: Tick spacings of Dec, arcseconds.
DEC_STEPS = _STEPS + (18000, 36000, 108000)
_SAMPLES = 41  # WCS evaluations along an edge, before refining the crossings
_REFINE = 2  # regula falsi steps refining each crossing
_FULL_LABEL, _SHORT_LABEL = 60, 38  # display pixels of a tick label, full and short


def _world(wcs, x, y) -> tuple[np.ndarray, np.ndarray]:
    ra, dec = wcs.pixel_to_world_values(np.asarray(x, float), np.asarray(y, float))
    return np.asarray(ra, float), np.asarray(dec, float)


def _along(wcs, edge: str, fixed: float, s, ra0: float):
    """RA (unwrapped near ``ra0``) and Dec at positions ``s`` along an edge."""
    s = np.asarray(s, float)
    other = np.full_like(s, fixed)
    ra, dec = _world(wcs, s, other) if edge == "x" else _world(wcs, other, s)
    return ra0 + (ra - ra0 + 180.0) % 360.0 - 180.0, dec


def _crossings(wcs, edge, fixed, s, values, ra0, k, targets):
    """Positions along an edge where coordinate ``k`` equals each target."""
    pos, hit = [], []
    for t in targets:
        d = values - t
        where = np.flatnonzero((d[:-1] == 0) | (np.sign(d[:-1]) * np.sign(d[1:]) < 0))
        for w in where:
            pos.append((s[w], s[w + 1], d[w], d[w + 1]))
            hit.append(t)
    if not pos:
        return np.empty(0), np.empty(0)
    a, b, fa, fb = (np.array(c, float) for c in zip(*pos, strict=True))
    hit = np.array(hit)
    for _ in range(_REFINE):  # regula falsi, keeping the bracket
        denom = np.where(fb != fa, fb - fa, 1.0)
        m = np.clip(a - fa * (b - a) / denom, np.minimum(a, b), np.maximum(a, b))
        fm = _along(wcs, edge, fixed, m, ra0)[k] - hit
        left = np.sign(fm) == np.sign(fa)
        a, fa = np.where(left, m, a), np.where(left, fm, fa)
        b, fb = np.where(left, b, m), np.where(left, fb, fm)
    best = np.where(np.abs(fa) < np.abs(fb), a, b)
    return best, hit


def _step(lo: float, hi: float, nticks: int, steps) -> float:
    """
    Pick the finest step with 1 to ``nticks`` multiples in ``[lo, hi]``.

    Else (too many with one step, none with the next) the coarsest step
    with a multiple there; the caller keeps the middle ``nticks``.
    """
    fallback = steps[0]
    for step in steps:
        count = math.floor(hi / step + 1e-9) - math.ceil(lo / step - 1e-9) + 1
        if 1 <= count <= nticks:
            return step
        if count >= 1:
            fallback = step
    return fallback


def _sample(wcs, edge, fixed, lo, hi):
    """Positions along an edge, RA (unwrapped near its middle) and Dec there."""
    s = np.linspace(lo, hi, _SAMPLES)
    ra, dec = _along(wcs, edge, fixed, s, 0.0)
    ra0 = float(ra[_SAMPLES // 2])
    return s, ra0 + (ra - ra0 + 180.0) % 360.0 - 180.0, dec, ra0


def _edge_ticks(wcs, edge, fixed, sample, coord, nticks, short=False):
    if nticks < 1:
        return []
    s, ra, dec, ra0 = sample
    k = 0 if coord == "ra" else 1
    values = ra if k == 0 else dec
    finite = np.isfinite(values)
    if finite.sum() < 2:
        return []
    unit = 240.0 if coord == "ra" else 3600.0  # seconds of time or arcsec per degree
    lo_v, hi_v = float(np.nanmin(values)) * unit, float(np.nanmax(values)) * unit
    step = _step(lo_v, hi_v, nticks, RA_STEPS if k == 0 else DEC_STEPS)
    first = math.ceil(lo_v / step - 1e-9)
    last = math.floor(hi_v / step + 1e-9)
    targets = [n * step / unit for n in range(first, last + 1)]
    extra = len(targets) - nticks
    targets = targets[extra // 2 : extra // 2 + nticks] if extra > 0 else targets
    pos, hit = _crossings(wcs, edge, fixed, s, values, ra0, k, targets)
    ticks = sorted(zip(pos.tolist(), hit.tolist(), strict=True))
    parts = [_label_parts(v, coord, step) for _, v in ticks]
    if short:  # no room for a whole label: hours or degrees left out
        parts = [p[1:] if len(p) > 1 else p for p in parts]
    labels = _abbreviated(parts)
    return [
        (p, v % 360.0 if k == 0 else v, label)
        for (p, v), label in zip(ticks, labels, strict=True)
    ]


def _change(sample) -> tuple[float, float]:
    """Angular change (degrees) of RA (times cos Dec) and of Dec along an edge."""
    _, ra, dec, _ = sample
    cosd = math.cos(math.radians(float(np.nanmean(dec))))
    return float(np.nanmax(ra) - np.nanmin(ra)) * cosd, float(
        np.nanmax(dec) - np.nanmin(dec)
    )


def sky_ticks(wcs, xlim, ylim, nticks=3, short=(False, False)) -> dict:
    r"""
    Find the RA and Dec ticks on the bottom and left edges of a view.

    Parameters
    ----------
    wcs : astropy.wcs.WCS
        Celestial WCS of the pixel grid (0-based pixel centres).
    xlim, ylim : tuple of float
        The view's limits, pixels.
    nticks : int or (int, int)
        Most ticks per edge (bottom, left).
    short : (bool, bool)
        Leave the hours or degrees out of the labels of an edge (bottom,
        left) too short for a whole one.

    Returns
    -------
    dict
        ``'x'`` (bottom edge) and ``'y'`` (left edge) -> ``(coord, ticks)``:
        ``coord`` is ``'ra'`` or ``'dec'``, ``ticks`` a list of ``(pixel,
        value, label)``, the value in degrees at that pixel of the edge.

    Examples
    --------
    >>> from astropy.wcs import WCS
    >>> w = WCS(naxis=2)
    >>> w.wcs.ctype = ["RA---TAN", "DEC--TAN"]
    >>> w.wcs.crval, w.wcs.crpix = [150.0, 2.0], [50.0, 50.0]
    >>> w.wcs.cdelt = [-1 / 3600, 1 / 3600]
    >>> t = sky_ticks(w, (-0.5, 99.5), (-0.5, 99.5))
    >>> t["x"][0], [label for _, _, label in t["x"][1]]
    ('ra', ['10h00m02s', '00s', '09h59m58s'])
    >>> t["y"][0], [label for _, _, label in t["y"][1]]
    ('dec', ['+01°59\'30"', '+02°00\'00"', '30"'])
    """
    (x0, x1), (y0, y1) = sorted(xlim), sorted(ylim)
    nx, ny = (nticks, nticks) if isinstance(nticks, int) else nticks
    below = _sample(wcs, "x", y0, x0, x1)
    dra, ddec = _change(below)
    bottom = "ra" if dra >= ddec else "dec"
    left = "dec" if bottom == "ra" else "ra"
    beside = _sample(wcs, "y", x0, y0, y1)
    return {
        "x": (bottom, _edge_ticks(wcs, "x", y0, below, bottom, nx, short[0])),
        "y": (left, _edge_ticks(wcs, "y", x0, beside, left, ny, short[1])),
    }


class SkyTicks:
    """
    The sky ticks of one Axes, computed once per view limits.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
        Drawn in pixels of ``wcs``.
    wcs : astropy.wcs.WCS
        Celestial WCS.
    nticks : int
        Most ticks per edge; fewer on a small Axes (room for the labels).

    Attributes
    ----------
    computed : int
        How many times the ticks were computed (a blink or a hover adds
        none).

    Examples
    --------
    >>> from astropy.wcs import WCS
    >>> from matplotlib.figure import Figure
    >>> w = WCS(naxis=2)
    >>> w.wcs.ctype = ["RA---TAN", "DEC--TAN"]
    >>> w.wcs.crval, w.wcs.cdelt = [10.0, 0.0], [-1 / 3600, 1 / 3600]
    >>> ax = Figure().add_subplot()
    >>> ax.set_xlim(0, 100); ax.set_ylim(0, 100)
    (0.0, 100.0)
    (0.0, 100.0)
    >>> ticks = SkyTicks(ax, w)
    >>> ticks.current()["x"][0], ticks.computed
    ('ra', 1)
    >>> _ = ticks.current(); ticks.computed
    1
    """

    def __init__(self, ax, wcs, nticks: int = 3):
        self.ax, self.wcs, self.nticks = ax, wcs, nticks
        self.computed = 0
        self._key = None
        self._ticks: dict = {}

    def current(self) -> dict:
        """`sky_ticks` of the Axes' current limits (cached)."""
        box = self.ax.bbox
        key = (
            self.ax.get_xlim(),
            self.ax.get_ylim(),
            round(box.width),
            round(box.height),
        )
        if key != self._key:
            self._key = key
            self.computed += 1
            nx, sx = _room(key[2], self.nticks, keep=True)
            ny, sy = _room(key[3], self.nticks)
            try:
                self._ticks = sky_ticks(
                    self.wcs, *key[:2], nticks=(nx, ny), short=(sx, sy)
                )
            except Exception:  # noqa: BLE001 - a draw must not fail: no ticks
                self._ticks = {"x": ("", []), "y": ("", [])}
        return self._ticks


def _room(pixels: float, most: int, keep: bool = False) -> tuple[int, bool]:
    """
    Count the tick labels that fit along an edge: a whole one, then short ones.

    An edge shorter than a whole label gets one short label (no hours or
    degrees), an edge shorter than that none (the bottom edge keeps its
    short label: it spills into the empty figure beside a narrow box).
    """
    if pixels >= _FULL_LABEL:
        return int(max(1, min(most, 1 + (pixels - _FULL_LABEL) // _SHORT_LABEL))), False
    return (1, True) if keep or pixels >= _SHORT_LABEL else (0, False)


class _PixelLocator(MaxNLocator):
    """At most three whole-pixel ticks."""

    def __init__(self):
        super().__init__(3, integer=True)

    def state(self) -> tuple:
        """Say what its ticks depend on besides the Axes (`figure_state`)."""
        return ("pixel", 3)


class _PixelFormatter(ScalarFormatter):
    def state(self) -> tuple:
        """Say what its labels depend on besides the Axes (`figure_state`)."""
        return ("pixel",)


class _OnSkyTicks:
    """A ticker reading one edge of a `SkyTicks`."""

    def __init__(self, ticks: SkyTicks, edge: str):
        self.ticks, self.edge = ticks, edge

    def state(self) -> tuple:
        """Say what its output depends on besides the Axes (`figure_state`)."""
        return self.edge, id(self.ticks.wcs), self.ticks.nticks


class _SkyLocator(_OnSkyTicks, Locator):
    def __call__(self):
        return [p for p, _, _ in self.ticks.current()[self.edge][1]]

    def tick_values(self, vmin, vmax):
        return self()


class _SkyFormatter(_OnSkyTicks, Formatter):
    def __call__(self, x, pos=None):
        for p, _, label in self.ticks.current()[self.edge][1]:
            if abs(p - x) < 1e-6:
                return label
        return ""


class SkyAxes:
    """
    RA/Dec tick labels on the pair panels (an `Explorer` view).

    Installs `SkyTicks` on the plus panel (the one with tick labels; the
    others share its ticker) when a work folder is loaded whose template
    has a celestial WCS; without one, the panels keep their pixel ticks.

    Parameters
    ----------
    panels : PairPanels
        Its ``axes['plus']`` carries the labels.

    Attributes
    ----------
    ticks : SkyTicks or None
        None while the panels show pixel ticks.

    Examples
    --------
    >>> import tempfile
    >>> from diffview.sample import write_sample
    >>> from diffview.widgets import Dashboard
    >>> dash = Dashboard(write_sample(tempfile.mkdtemp(), "small"))
    >>> dash.pairs.figs["plus"].canvas.draw()
    >>> ax = dash.pairs.axes["plus"]
    >>> [t.get_text()[-1] for t in ax.get_xticklabels()][:1]
    ['s']
    >>> dash.close()
    """

    def __init__(self, panels):
        self.panels = panels
        self.ticks: SkyTicks | None = None
        self._wcs = None

    def render(self, explorer, changes) -> None:
        """
        Install the template's sky ticks on a new work folder.

        Parameters
        ----------
        explorer : Explorer
            ``explorer.ws.wcs`` is the template's celestial WCS.
        changes : frozenset of str
            What changed (`CHANGES`); only ``workspace`` matters.
        """
        if "workspace" in changes:
            self.install(getattr(explorer.ws, "wcs", None))

    def install(self, wcs) -> None:
        """
        Label the panels with the sky coordinates of a WCS (None: pixels).

        Parameters
        ----------
        wcs : astropy.wcs.WCS or None
            Celestial WCS of the template; pixel ticks when None or not
            celestial.
        """
        if wcs is self._wcs and (self.ticks is not None or wcs is None):
            return
        self._wcs = wcs
        celestial = wcs is not None and getattr(wcs, "has_celestial", False)
        self.ticks = self.panels.label_sky(wcs.celestial if celestial else None)


def install_sky_ticks(ax, wcs) -> SkyTicks | None:
    """
    Label an Axes with RA/Dec ticks of a celestial WCS, or pixel ticks.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
        Drawn in pixels of ``wcs``.
    wcs : astropy.wcs.WCS or None
        Celestial WCS (used as it is: two Axes given one WCS object say
        they show the same ticks); None for pixel ticks.

    Returns
    -------
    SkyTicks or None
        The ticks installed, None for pixel ticks.

    Examples
    --------
    >>> from matplotlib.figure import Figure
    >>> install_sky_ticks(Figure().add_subplot(), None) is None
    True
    """
    ticks = None if wcs is None else SkyTicks(ax, wcs)
    for edge, axis in (("x", ax.xaxis), ("y", ax.yaxis)):
        if ticks is None:
            axis.set_major_locator(_PixelLocator())
            axis.set_major_formatter(_PixelFormatter())
        else:
            axis.set_major_locator(_SkyLocator(ticks, edge))
            axis.set_major_formatter(_SkyFormatter(ticks, edge))
    # vertical Dec labels on the left, as WCSAxes draws them; every tick
    # made so far (later ones copy the first), not only those in view
    ax.tick_params(axis="y", labelrotation=0 if ticks is None else 90)
    align = "center_baseline" if ticks is None else "center"
    for tick in ax.yaxis.majorTicks:
        tick.label1.set_verticalalignment(align)
    return ticks
