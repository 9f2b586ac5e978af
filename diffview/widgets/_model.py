"""
The values the dashboard's state is made of: pure Python, no widgets.

`PairView` (the arrays of one pair on the difference's grid, read by
`read_pair_view`), the ranking measures and the readout and fit texts. The
controller (`Explorer`) holds these; the views draw them.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass

import numpy as np

from diffview import io
from diffview.core import fit_residual, template_offset
from diffview.errors import DiffviewError, PairError
from diffview.render import STRETCH_MODES as MODES
from diffview.run import Workspace, read_difference_file

__all__ = [
    "MEASURES",
    "STRETCH_MODES",
    "PANELS",
    "CHANGES",
    "PairView",
    "read_pair_view",
    "partial_pixels",
    "plane_level",
    "format_readout",
    "describe_fit",
]

#: Ranking measures: name -> label (worst first when sorted descending).
MEASURES = {
    "score": "quality score",
    "rms": "fit rms",
    "offset": "offset |c|",
    "slope": "slope |(a, b)|",
    "npixel": "pixel count",
    "residual": "residual after correction",
    "failed": "failed",
}
#: mViewer stretch modes offered by the dashboard.
STRETCH_MODES = MODES
#: The four pair panels, left to right.
PANELS = ("plus", "minus", "difference", "residual")
#: What an action can change, as the views are told (`Explorer.subscribe`):
#: ``workspace`` (loaded: everything is new), ``ranking`` (measure, order,
#: labels), ``selection``, ``display`` (the display settings), ``flags``
#: and ``corrections`` (a re-solve of the background model).
CHANGES = frozenset(
    {"workspace", "ranking", "selection", "display", "flags", "corrections"}
)


@dataclass(frozen=True, eq=False)
class PairView:
    """
    The arrays of one pair, all on the difference's grid.

    Parameters
    ----------
    index : int
        Position in the overlap table.
    plus, minus, difference, residual : numpy.ndarray
        The two images over the difference box, the difference, and the
        difference minus its fitted plane (NaN where blank).
    clipped : numpy.ndarray of bool
        Pixels the fit clipped.
    bounds : tuple
        ``((j0, j1), (i0, i1))`` of the arrays in template pixels.
    fit : PlaneFit or None
        The pair's plane fit.
    error : str
        Why the pair has no difference (empty when it has one).
    partial : numpy.ndarray of bool, optional
        The difference's partly covered pixels (`partial_pixels`); None:
        none known.

    Examples
    --------
    >>> blank = np.full((2, 3), np.nan)
    >>> v = PairView(0, blank, blank, blank, blank, blank > 0, ((5, 7), (1, 4)),
    ...              None, "no overlap")
    >>> v.panel("difference").shape, v.level
    ((2, 3), nan)
    """

    index: int
    plus: np.ndarray
    minus: np.ndarray
    difference: np.ndarray
    residual: np.ndarray
    clipped: np.ndarray
    bounds: tuple
    fit: object
    error: str = ""
    partial: np.ndarray | None = None

    def panel(self, name: str) -> np.ndarray:
        """
        Return the array shown in a panel.

        Parameters
        ----------
        name : str
            One of `PANELS`.

        Returns
        -------
        numpy.ndarray
        """
        return getattr(self, name)

    def range_data(self, name: str, partial: bool = False) -> np.ndarray:
        """
        Return the pixels a panel's display range is computed from.

        Parameters
        ----------
        name : str
            ``'difference'`` or ``'residual'`` (any other panel is returned
            whole).
        partial : bool
            Keep the partly covered pixels.

        Returns
        -------
        numpy.ndarray
            The panel's array, its partly covered pixels NaN unless
            ``partial``.
        """
        data = self.panel(name)
        if partial or self.partial is None or name not in ("difference", "residual"):
            return data
        return np.where(self.partial, np.nan, data)

    @property
    def level(self) -> float:
        """The fitted plane at the centre of its box (NaN without a fit)."""
        return math.nan if self.fit is None else plane_level(self.fit)


def plane_level(fit) -> float:
    """
    Evaluate a plane fit at the centre of its box.

    Parameters
    ----------
    fit : PlaneFit
        A fit (``a``, ``b``, ``c``, ``boxx``, ``boxy``).

    Returns
    -------
    float
        ``a * boxx + b * boxy + c``.

    Examples
    --------
    >>> from diffview.models import PlaneFit
    >>> f = PlaneFit(0, 1, 1e-3, 0., 2.5, 1., 1., 0, 9, 0, 7, 4.5, 3.5, 80,
    ...              0.1, 4.5, 3.5, 9., 7., 0.)
    >>> round(plane_level(f), 6)
    2.5045
    """
    return fit.a * fit.boxx + fit.b * fit.boxy + fit.c


def partial_pixels(
    difference: np.ndarray, area: np.ndarray | None = None, full: float = 0.99
) -> np.ndarray:
    """
    Find a difference's partly covered pixels (its 1-pixel frame).

    Along an overlap's edge the two images cover a pixel in part and with
    different areas, so Montage's area-weighted difference (exact, and kept
    in the files) reads values far from the interior's there.

    Parameters
    ----------
    difference : numpy.ndarray
        The difference (NaN blank).
    area : numpy.ndarray, optional
        Its area image (``a1 + a2``, e.g. steradians); without one the
        valid pixels next to a blank pixel or the array's edge are partial.
    full : float
        A pixel whose area is below ``full`` times the largest area is
        partial.

    Returns
    -------
    numpy.ndarray of bool
        True at valid pixels partly covered.

    Examples
    --------
    >>> d = np.ones((4, 5))
    >>> area = np.full((4, 5), 2.0)
    >>> area[0] = 1.3
    >>> int(partial_pixels(d, area).sum()), int(partial_pixels(d).sum())
    (5, 14)
    """
    valid = np.isfinite(difference)
    if area is not None and area.shape == difference.shape:
        a = np.where(valid & np.isfinite(area), area, 0.0)
        top = float(a.max()) if a.size else 0.0
        if top > 0:
            return valid & (a < full * top)
    inner = np.zeros_like(valid)
    inner[1:-1, 1:-1] = (
        valid[1:-1, 1:-1]
        & valid[:-2, 1:-1]
        & valid[2:, 1:-1]
        & valid[1:-1, :-2]
        & valid[1:-1, 2:]
    )
    return valid & ~inner


def _read_area(path) -> np.ndarray | None:
    area = io.area_name(str(path))
    if not os.path.exists(area):
        return None
    try:
        plain = io.read_plain_image(area)  # no astropy objects: ~1 ms a file
        return plain[0] if plain is not None else io.read_image(area)[0]
    except DiffviewError:
        return None


def _image_box(ws: Workspace, cntr: int, name: str, bounds) -> np.ndarray:
    (j0, j1), (i0, i1) = bounds
    if ws.image_offset(cntr) is None:
        raise PairError(f"image {cntr} ({name}) is not in the image table")
    path = ws.image_path(name)
    # placed by the file's CRPIX, as mDiff placed it: images.tbl's, printed
    # to 4 decimals, can truncate to the next pixel (67.6118 vs 67.61179...)
    ioff, joff = template_offset(ws.template_crpix, io.read_image_grid(path)[1])
    local = ((j0 - joff, j1 - joff), (i0 - ioff, i1 - ioff))
    return io.read_box(path, local)


def _blank_view(ws: Workspace, index: int, error: str) -> PairView:
    box = ws.boxes[index] or ((0, 1), (0, 1))
    shape = (box[0][1] - box[0][0], box[1][1] - box[1][0])
    blank = np.full(shape, np.nan)
    return PairView(
        index, blank, blank, blank, blank, np.zeros(shape, bool), box, None, error
    )


def read_pair_view(ws: Workspace, index: int) -> PairView:
    """
    Read the arrays of one pair of a workspace.

    Parameters
    ----------
    ws : Workspace
        The loaded work folder.
    index : int
        Position of the pair in the overlap table.

    Returns
    -------
    PairView
        The difference file, the two projected images over its box and the
        residual of the pair's fit; blank arrays over the overlap box (and
        the reason in ``error``) when the pair has no difference file, or
        its files cannot be read or are named outside the work folder.

    Examples
    --------
    >>> import tempfile
    >>> from diffview.run import load_workspace
    >>> from diffview.sample import write_sample
    >>> ws = load_workspace(write_sample(tempfile.mkdtemp(), "small"))
    >>> v = read_pair_view(ws, 0)
    >>> v.plus.shape == v.minus.shape == v.difference.shape == v.residual.shape
    True
    """
    ov = ws.overlaps[index]
    key = (ov.cntr1, ov.cntr2)
    try:
        path = ws.diff_path(ov)
        if not os.path.exists(path):
            return _blank_view(ws, index, ws.failures.get(key, f"{path}: not found"))
        return _pair_arrays(ws, index, path)
    except DiffviewError as exc:  # a refused name, a bad file: shown blank
        return _blank_view(ws, index, ws.failures.get(key) or str(exc))


def _pair_arrays(ws: Workspace, index: int, path: str) -> PairView:
    ov = ws.overlaps[index]
    key = (ov.cntr1, ov.cntr2)
    fit = ws.fits.get(key)
    diff, crpix = read_difference_file(path)
    # a difference's CRPIX is the template's minus whole pixels: rounded, as
    # truncation reads 152.6118 - 67.6118 as 84 (84.99999999999999)
    ioff, joff = (round(t - c) for t, c in zip(ws.template_crpix, crpix, strict=True))
    ny, nx = diff.shape
    bounds = ((joff, joff + ny), (ioff, ioff + nx))
    plus = _image_box(ws, ov.cntr1, ov.plus, bounds)
    minus = _image_box(ws, ov.cntr2, ov.minus, bounds)
    if fit is not None:
        res = fit_residual((diff, crpix), fit)
        residual, clipped = res.residual, res.clipped
    else:
        residual, clipped = np.full(diff.shape, np.nan), np.zeros(diff.shape, bool)
    return PairView(
        index,
        plus,
        minus,
        diff,
        residual,
        clipped,
        bounds,
        fit,
        ws.failures.get(key, ""),
        partial_pixels(diff, _read_area(path)),
    )


def format_readout(
    panel: str, x: float, y: float, ra: float, dec: float, value: float
) -> str:
    """
    Format the pixel readout line.

    Parameters
    ----------
    panel : str
        Panel name.
    x, y : float
        0-based template pixel (column, row).
    ra, dec : float
        Sky position, degrees.
    value : float
        Pixel value (NaN for blank).

    Returns
    -------
    str

    Examples
    --------
    >>> format_readout("difference", 12, 7, 275.1, -16.2, 0.25)
    'difference  x=12 y=7  RA=275.100000 Dec=-16.200000  value=0.25'
    >>> format_readout("plus", 1, 2, 10.0, 20.0, float("nan"))
    'plus  x=1 y=2  RA=10.000000 Dec=20.000000  value=blank'
    """
    text = "blank" if not np.isfinite(value) else f"{value:.6g}"
    return f"{panel}  x={int(x)} y={int(y)}  RA={ra:.6f} Dec={dec:.6f}  value={text}"


def describe_fit(fit) -> str:
    """
    One line describing a plane fit.

    Parameters
    ----------
    fit : PlaneFit or None
        The fit (None: the pair has none).

    Returns
    -------
    str

    Examples
    --------
    >>> from diffview.models import PlaneFit
    >>> f = PlaneFit(0, 1, 1e-3, 0., 2.5, 1., 1., 0, 9, 0, 7, 4.5, 3.5, 80,
    ...              0.1, 4.5, 3.5, 9., 7., 0.)
    >>> describe_fit(f)
    'a=0.001 b=0 c=2.5 rms=0.1 npixel=80'
    >>> describe_fit(None)
    'no fit'
    """
    if fit is None:
        return "no fit"
    return (
        f"a={fit.a:.4g} b={fit.b:.4g} c={fit.c:.4g} rms={fit.rms:.4g} "
        f"npixel={fit.npixel}"
    )
