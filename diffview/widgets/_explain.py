"""
What a flag or a re-solve changed, said in place.

After a flag the dashboard says how many pairs the next solve leaves out;
after a re-solve (not the background job's first corrections) it says
which images' corrections moved and by how much (the largest change of the
correction plane over each image, in the images' unit), and the rms of the
kept pairs' residual levels before and after. The images that moved are
outlined on the mosaic (`ChangeExplainer.moved`), which a checkbox hides.
"""

from __future__ import annotations

import html

import ipywidgets as W
import numpy as np

from diffview.core import residual_levels
from diffview.render.mpl import draw_outlines
from diffview.run import as_fits_list

__all__ = [
    "correction_shifts",
    "residual_rms",
    "moved_images",
    "explain_html",
    "ChangeExplainer",
]

_SHOWN = 5  # images named one by one
_MOVED_COLOR = "magenta"


def correction_shifts(geometry, old, new) -> np.ndarray:
    """
    Largest change of each image's correction over the image.

    The correction is a plane ``a x + b y + c`` in the image's plane
    coordinates (``x = i - CRPIX1``, 0-based column ``i``;
    ``docs/montage-semantics.md`` §1.1), so the change is largest at a
    corner of the image.

    Parameters
    ----------
    geometry : diffview.core.ImageGeometry
        Image ids, sizes and reference pixels.
    old, new : list of Correction
        Corrections before and after (an image without one: no correction).

    Returns
    -------
    numpy.ndarray
        ``max |Δ(a x + b y + c)|`` over each image's pixels, in table order.

    Examples
    --------
    >>> from diffview.core import ImageGeometry
    >>> from diffview.models import Correction
    >>> g = ImageGeometry(np.array([0, 1]), np.array([11, 5]), np.array([5, 5]),
    ...                   np.ones(2), np.ones(2), np.zeros(2, bool))
    >>> correction_shifts(g, [Correction(0, 0, 0, 1.0)],
    ...                   [Correction(0, 0.5, 0, 1.0), Correction(1, 0, 0, -2)])
    array([4.5, 2. ])
    """
    row = {int(c): k for k, c in enumerate(np.asarray(geometry.cntr).tolist())}
    delta = np.zeros((len(row), 3))
    for sign, corrections in ((-1.0, old), (1.0, new)):
        for c in corrections:
            k = row.get(int(c.id))
            if k is not None:
                delta[k] += sign * np.array([c.a, c.b, c.c], float)
    x0 = -np.asarray(geometry.crpix1, float)
    y0 = -np.asarray(geometry.crpix2, float)
    x1 = x0 + np.maximum(np.asarray(geometry.naxis1, float) - 1, 0)
    y1 = y0 + np.maximum(np.asarray(geometry.naxis2, float) - 1, 0)
    corners = [(x0, y0), (x1, y0), (x0, y1), (x1, y1)]
    a, b, c = delta.T
    return np.max([np.abs(a * x + b * y + c) for x, y in corners], axis=0)


def residual_rms(fits, corrections, kept: np.ndarray) -> float:
    """
    Rms of the kept pairs' fitted levels after subtracting the corrections.

    Parameters
    ----------
    fits : list of PlaneFit
        The overlap fits.
    corrections : list of Correction
        In the fits' plane coordinates.
    kept : numpy.ndarray of bool
        The pairs counted, one per fit.

    Returns
    -------
    float
        NaN when no pair is kept.

    Examples
    --------
    >>> from diffview.models import Correction, PlaneFit
    >>> f = PlaneFit(0, 1, 0., 0., 3.0, 1., 1., 0, 9, 0, 7, 4.5, 3.5, 80, 0.1,
    ...              4.5, 3.5, 9., 7., 0.)
    >>> residual_rms([f], [Correction(0, 0, 0, 1.0)], np.array([True]))
    2.0
    """
    if not kept.any():
        return float("nan")
    level = residual_levels(fits, corrections)[kept]
    return float(np.sqrt(np.mean(level**2)))


class ChangeExplainer:
    """
    A small panel saying what the last flag or re-solve changed.

    Parameters
    ----------
    mosaic : MosaicView, optional
        The outlines of the images whose corrections moved are drawn over
        it (an overlay, blitted: the mosaic is not re-rendered).
    units : callable, optional
        ``units(ws)`` -> the images' unit (e.g. ``'DN'``).

    Attributes
    ----------
    text : ipywidgets.HTML
        The explanation (CSS class ``dv-explain``).
    highlight : ipywidgets.Checkbox
        Show the moved images' outlines on the mosaic.
    moved : matplotlib.collections.LineCollection or None
        Those outlines.
    shifts : numpy.ndarray or None
        The last `correction_shifts`, by image row.
    widget : ipywidgets.VBox

    Examples
    --------
    >>> import tempfile
    >>> from diffview.sample import write_sample
    >>> from diffview.widgets import Explorer
    >>> ex = Explorer(write_sample(tempfile.mkdtemp(), "small"))
    >>> view = ChangeExplainer()
    >>> ex.subscribe(view.render)
    >>> ex.flag_pair(reason="stars")
    >>> "1 pair left out" in view.text.value
    True
    """

    def __init__(self, mosaic=None, units=None):
        self.text = W.HTML("")
        self.text.add_class("dv-explain")
        self.highlight = W.Checkbox(
            value=True, description="outline images that moved", indent=False
        )
        self.highlight.layout.display = "none"
        self.widget = W.VBox([self.text, self.highlight])
        self.moved = None
        self.mosaic = mosaic
        if mosaic is not None:
            self.moved = mosaic.add_overlay(
                draw_outlines(mosaic.ax, [], _MOVED_COLOR, 2.0, linestyles="--")
            )
        self._units = units or (lambda ws: "")
        self._seen = None  # corrections the last explanation started from
        self.shifts = None
        self.highlight.observe(self._on_highlight, names="value")

    def render(self, explorer, changes) -> None:
        """
        Explain a flag or new corrections (an `Explorer` view).

        Parameters
        ----------
        explorer : Explorer
            The state: ``flags()``, ``corrections``, ``solver``, ``ws``.
        changes : frozenset of str
            What changed (`CHANGES`).
        """
        if "workspace" in changes or self._seen is None:
            self._seen = explorer.corrections  # replaced, never changed in place
            if "workspace" in changes:
                return
        if "corrections" in changes and explorer.corrections is not self._seen:
            if explorer.solver is not None:  # the user's re-solve, not the job's
                self._explain_solve(explorer, self._seen)
            self._seen = explorer.corrections
        elif "flags" in changes:
            self.text.value = self._flag_html(explorer)

    def _excluded(self, explorer, fits) -> np.ndarray:
        flagged = [explorer._flagged_key(f.plus, f.minus) for f in fits]
        return np.array(flagged, bool).reshape(len(fits))

    def _flag_html(self, explorer) -> str:
        out = int(self._excluded(explorer, as_fits_list(explorer.ws)).sum())
        npair, nimg = len(explorer.flagged_pairs), len(explorer.flagged_images)
        return (
            f"<b>flags</b>: {out} pair{'s' * (out != 1)} left out of the next "
            f"solve ({npair} pair flag{'s' * (npair != 1)}, {nimg} image "
            f"flag{'s' * (nimg != 1)}); press <i>re-solve</i> to apply"
        )

    def _explain_solve(self, explorer, old) -> None:
        ws = explorer.ws
        fits = as_fits_list(ws)
        excluded = self._excluded(explorer, fits)
        kept = ~excluded
        before = residual_rms(fits, old, kept)
        after = residual_rms(fits, explorer.corrections, kept)
        self.shifts = correction_shifts(ws.geometry, old, explorer.corrections)
        names = np.asarray(ws.images["fname"], str)
        unit = self._units(ws)
        self.text.value = explain_html(
            self.shifts,
            names,
            int(excluded.sum()),
            (before, after),
            unit,
            explorer.solver,
        )
        self._outline_moved(explorer)

    def _outline_moved(self, explorer) -> None:
        if self.moved is None:
            return
        rows = np.flatnonzero(moved_images(self.shifts))
        by_image = explorer.outlines_by_image()
        segs = [np.asarray(r, float) for k in rows.tolist() for r in by_image[k]]
        self.moved.set_segments(segs)
        self.moved.set_visible(bool(self.highlight.value))
        self.highlight.layout.display = None if segs else "none"
        self.mosaic.refresh_overlays()

    def _on_highlight(self, change) -> None:
        if self.moved is not None:
            self.moved.set_visible(bool(change["new"]))
            self.mosaic.refresh_overlays()


def moved_images(shifts: np.ndarray, share: float = 0.01) -> np.ndarray:
    """
    Tell which images moved: by more than ``share`` of the largest change.

    Parameters
    ----------
    shifts : numpy.ndarray
        `correction_shifts`.
    share : float
        Changes smaller than this fraction of the largest are noise.

    Returns
    -------
    numpy.ndarray of bool

    Examples
    --------
    >>> moved_images(np.array([0.0, 1e-5, 2.0, 0.5])).tolist()
    [False, False, True, True]
    """
    top = float(np.max(shifts, initial=0.0))
    return (shifts > share * top) & (shifts > 1e-12)


def explain_html(shifts, names, excluded, rms, unit="", solver=None) -> str:
    """
    Say what a re-solve changed, as a few lines of HTML.

    Parameters
    ----------
    shifts : numpy.ndarray
        `correction_shifts`, by image row.
    names : sequence of str
        Image file names, by row.
    excluded : int
        Pairs left out of the solve.
    rms : (float, float)
        `residual_rms` of the kept pairs before and after.
    unit : str
        The images' unit.
    solver : str, optional
        The solver's name.

    Returns
    -------
    str

    Examples
    --------
    >>> text = explain_html(np.array([0.0, 2.5]), ["a.fits", "b.fits"], 3,
    ...                     (1.0, 0.25), "DN", "direct")
    >>> for line in text.split("<br>"):
    ...     print(line)  # doctest: +ELLIPSIS
    <b>re-solve (direct)</b>: 3 pairs left out; rms of the kept pairs' ... 0.25 DN
    1 of 2 images moved; largest |Δ| over the image: <b>b.fits</b> 2.5 DN
    """
    u = f" {html.escape(unit)}" if unit else ""
    head = f"re-solve ({html.escape(solver)})" if solver else "new corrections"
    lines = [
        f"<b>{head}</b>: {excluded} pair{'s' * (excluded != 1)} left out; rms of "
        f"the kept pairs' levels {rms[0]:.4g} → {rms[1]:.4g}{u}"
    ]
    moved = np.flatnonzero(moved_images(shifts))
    if not len(moved):
        lines.append("no image's correction moved")
    else:
        top = moved[np.argsort(-shifts[moved], kind="stable")][:_SHOWN]
        items = ", ".join(
            f"<b>{html.escape(str(names[k]))}</b> {shifts[k]:.4g}{u}"
            for k in top.tolist()
        )
        more = f" and {len(moved) - len(top)} more" if len(moved) > len(top) else ""
        lines.append(
            f"{len(moved)} of {len(shifts)} images moved; largest |Δ| over the "
            f"image: {items}{more}"
        )
    return "<br>".join(lines)
