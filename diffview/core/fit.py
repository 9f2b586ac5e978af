"""
Plane fits of differences, exactly as Montage's mFitplane computes them.

Arrays in, `~diffview.PlaneFit` out. The clipping loop and the bounding
box run in numpy (``_fitplane``) until a process has done enough fitting for
the compiled loops (`diffview.core.kernels`) to pay for their loading, and
in the loops after (`diffview.core.use_compiled`); both give the same fits
to rounding. No file is read here (`diffview.run.fit_planes`
does the files); Montage's algorithm is in ``docs/montage-semantics.md``
§4.1. Coordinates are Montage's plane coordinates ``x = i - CRPIX1``,
``y = j - CRPIX2`` with 0-based ``i``, ``j`` and the
1-based CRPIX of the difference.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from diffview.core._fitplane import (
    STATUS_SINGULAR,
    numpy_clip_fit,
    numpy_hull_box,
    numpy_row_end_points,
)
from diffview.core._loader import kernels, use_compiled
from diffview.core.checks import image_array, pixel_pair
from diffview.errors import InputError, PairError
from diffview.models import Difference, PlaneFit

__all__ = ["fit_plane", "fit_residual", "bounding_box", "FitResidual", "NITERATION"]

#: Montage's fixed number of clipping iterations.
NITERATION = 20

#: Seconds per pixel of a difference that the numpy fit spends beyond the
#: compiled loop (about 0.25 against 0.02 microseconds a pixel, clipping
#: iterations, bounding box and all, on a 2-core machine).
FIT_SECONDS_PER_PIXEL = 200e-9


def _loops(pixels: int):
    """``(clip_fit, row_end_points, hull_box)`` for a difference of ``pixels``.

    ``hull_box`` is always numpy's (a handful of points).

    The compiled loops when they pay (`use_compiled`), numpy's otherwise.
    """
    if use_compiled(pixels * FIT_SECONDS_PER_PIXEL):
        k = kernels()
        # the hull of the few row end points is cheap in numpy (and costly
        # to compile)
        return k.clip_fit, k.row_end_points, numpy_hull_box
    return numpy_clip_fit, numpy_row_end_points, numpy_hull_box


def _as_array_crpix(diff):
    """``(array, crpix, ids)`` of a `Difference` or ``(array, crpix)``, checked."""
    if isinstance(diff, Difference):
        array, crpix, ids = diff.array, diff.crpix, (diff.plus, diff.minus)
    elif isinstance(diff, (tuple, list)) and len(diff) == 2:
        (array, crpix), ids = diff, (0, 0)
    else:
        raise InputError(
            "difference: expected a Difference or (array, (crpix1, crpix2)), got "
            + ("None" if diff is None else f"a {type(diff).__name__}")
        )
    return image_array(array, "difference"), pixel_pair(crpix), ids


# --------------------------------------------------------------------------
# Bounding box (lib/src/pixbounds/pixbounds.c)
# --------------------------------------------------------------------------


def bounding_box(valid: np.ndarray, crpix) -> tuple[float, float, float, float, float]:
    """
    Montage's rotated bounding box of the valid pixels of a difference.

    Each row with at least two valid pixels contributes its two end points;
    the box is the minimum-area rectangle aligned with an edge of their convex
    hull, measured between pixel centres (mFitplane's ``pixbounds``). With one
    or two points it is the axis-aligned box of the points +-0.5.

    Parameters
    ----------
    valid : numpy.ndarray of bool
        Valid-pixel mask, (rows, columns).
    crpix : tuple of float
        ``(CRPIX1, CRPIX2)`` of the difference.

    Returns
    -------
    tuple of float
        ``(boxx, boxy, boxwidth, boxheight, boxang)`` before mFitplane's final
        zero-size fix-up (see `fit_plane`); ``boxang`` in degrees.

    Examples
    --------
    >>> bounding_box(np.ones((14, 6), bool), (1.0, 1.0))
    (1.5, 5.5, 13.0, 5.0, 90.0)
    """
    return _bounding_box(valid, crpix, _loops(np.size(valid)))


def _bounding_box(valid, crpix, loops):
    """`bounding_box` with the given loops (`_loops`)."""
    _, row_end_points, hull_box = loops
    valid = np.require(valid, bool, ["W"])  # the kernels take writable arrays
    x, y = row_end_points(valid, float(crpix[0]), float(crpix[1]))
    if len(x) >= 3:
        ok, *box = hull_box(x, y)
        if ok:
            return tuple(box)
    if len(x) == 0:
        return 0.0, 0.0, 0.0, 0.0, 0.0
    width = (x.max() + 0.5) - (x.min() - 0.5)
    height = (y.max() + 0.5) - (y.min() - 0.5)
    return float(x.mean()), float(y.mean()), float(width), float(height), 0.0


# --------------------------------------------------------------------------
# The fit (MontageLib/Fitplane/montageFitplane.c)
# --------------------------------------------------------------------------

#: Residuals below this fraction of max|z| count as exact (rounding level).
EXACT = 1e-10


def _clip_fit(array, crpix, border, level_only, keep=None, niter=NITERATION,
              loops=None):
    """Run the clipping loop (``loops``, else `_loops`' choice).

    ``keep`` (flat bool) receives the last fit set. Returns the loop's
    tuple without its status.
    """
    clip_fit = (loops or _loops(np.size(array)))[0]
    out = clip_fit(
        np.require(array, np.float64, ["W"]),  # the kernel takes writable arrays
        float(crpix[0]),
        float(crpix[1]),
        int(border),
        bool(level_only),
        int(niter),
        EXACT,
        np.zeros(0, bool) if keep is None else keep,
    )
    if out[0] == STATUS_SINGULAR:
        raise PairError("Singular Matrix-2")
    return out[1:]


def fit_plane(
    diff, *, level_only: bool = False, border: int = 0, nofit: bool = False, ids=None
) -> PlaneFit:
    """
    Fit a plane ``a x + b y + c`` to a difference, as Montage's mFitplane does.

    Iteration 0 fits every valid pixel; each of the next 19 refits the pixels
    within ``2 rms`` of the previous plane (no clipping while rms is 0). The
    solve is Montage's Gauss-Jordan on the 3x3 normal equations.

    Parameters
    ----------
    diff : Difference or tuple
        A `~diffview.Difference`, or ``(array, (crpix1, crpix2))``; NaN and
        +-inf are blank.
    level_only : bool
        Fit only ``c`` (the mean), ``a = b = 0`` (mFitplane ``-l``).
    border : int
        Leave this many rows and columns on each side out of the fit (not out
        of the bounding box).
    nofit : bool
        Compute only the pixel ranges, centre and bounding box; ``a = b = c =
        rms = 0``.
    ids : tuple of int, optional
        ``(plus, minus)`` stored in the result; taken from a `Difference`
        when not given.

    Returns
    -------
    PlaneFit
        Every column of Montage's ``fits.tbl``. ``npixel`` is the count of the
        last rms pass (Montage's quirk), ``xmin``..``ymax`` and
        ``xcenter``/``ycenter`` describe the pixels of the last fit.

    Raises
    ------
    diffview.InputError
        ``diff`` is not a `Difference` or a 2-D array of numbers with two
        finite CRPIX values.
    diffview.PairError
        ``Too few pixels to fit`` (an axis shorter than 2, full fit),
        ``Singular Matrix-1``/``Singular Matrix-2`` (no pixels, or all valid
        pixels on one line).

    Notes
    -----
    Two deviations from Montage, both for degenerate input:

    * Montage clips at ``2 rms`` unless rms is exactly 0, so on a perfect
      plane (rms at the rounding level, ~1e-16) it keeps a random handful of
      pixels and can return a wrong plane, ``npixel = 0`` and ``rms = nan``.
      diffview never clips below ``1e-10 max|z|``: a perfect plane is
      recovered exactly with every pixel counted, and an outlier on a
      perfect plane stays clipped.
    * Montage reports a collinear pixel set (all valid pixels on one line) as
      singular only when its Gauss-Jordan meets an exact zero pivot; diffview
      always raises ``Singular Matrix-2`` instead of returning a meaningless
      plane.

    Iterations stop early once the fit state repeats exactly, which gives the
    same numbers as running all 20.

    Examples
    --------
    >>> j, i = np.mgrid[0:5, 0:7]
    >>> f = fit_plane((0.1 * i + 0.2 * j + 3.0, (5.5, 2.5)))
    >>> round(f.a, 6), round(f.b, 6), round(f.c, 6), f.npixel
    (0.1, 0.2, 4.05, 35)
    """
    array, crpix, known = _as_array_crpix(diff)
    ids = known if ids is None else ids
    ny, nx = array.shape
    if not level_only and (nx < 2 or ny < 2):
        raise PairError("Too few pixels to fit")
    loops = _loops(array.size)
    box = _bounding_box(np.isfinite(array), crpix, loops)
    if nofit:
        _, _, _, _, npix, *ranges = _clip_fit(array, crpix, border, False, niter=0,
                                              loops=loops)
        return _make_fit(ids, (0.0, 0.0, 0.0), crpix, ranges, npix, 0.0, box)
    a, b, c, rms, npix, *ranges = _clip_fit(array, crpix, border, level_only,
                                            loops=loops)
    return _make_fit(ids, (a, b, c), crpix, ranges, npix, rms, box)


def _make_fit(ids, plane, crpix, ranges, npix, rms, box) -> PlaneFit:
    """Build a `PlaneFit` from the kernel's outputs and the bounding box.

    Applies mFitplane's fix-up of a zero-size box.
    """
    *ranges, xcen, ycen = (float(v) for v in ranges)
    boxx, boxy, width, height, ang = box
    if width == 0.0:
        boxx, width, ang = ranges[0], 1.0, 0.0
    if height == 0.0:
        boxy, height, ang = ranges[2], 1.0, 0.0
    plus, minus = (-1 if v is None else int(v) for v in ids)
    return PlaneFit(
        plus,
        minus,
        float(plane[0]),
        float(plane[1]),
        float(plane[2]),
        float(crpix[0]),
        float(crpix[1]),
        *ranges,
        xcen,
        ycen,
        int(npix),
        float(rms),
        float(boxx),
        float(boxy),
        float(width),
        float(height),
        float(ang),
    )


@dataclass(frozen=True, eq=False)
class FitResidual:
    """
    What is left of a difference after its plane, for display.

    Attributes
    ----------
    residual : numpy.ndarray
        ``difference - (a x + b y + c)``, NaN where the difference is blank.
    clipped : numpy.ndarray of bool
        Valid pixels the last iteration left out of the fit (beyond
        ``2 rms`` of the previous plane, or in the ``border``).
    plane : numpy.ndarray
        The fitted plane evaluated on the difference's pixel grid.

    Examples
    --------
    >>> r = fit_residual((np.ones((3, 4)), (1.0, 1.0)))
    >>> float(np.abs(r.residual).max()), int(r.clipped.sum()), r.plane.shape
    (0.0, 0, (3, 4))
    """

    residual: np.ndarray
    clipped: np.ndarray
    plane: np.ndarray


def fit_residual(
    diff, fit: PlaneFit | None = None, *, level_only: bool = False, border: int = 0
) -> FitResidual:
    """
    Residual image of a plane fit and the mask of the pixels it clipped.

    Parameters
    ----------
    diff : Difference or tuple
        As for `fit_plane`.
    fit : PlaneFit, optional
        A fit of ``diff``; computed with `fit_plane` when not given.
    level_only, border : optional
        Options of the fit, used to rebuild its clipping mask.

    Returns
    -------
    FitResidual

    Examples
    --------
    >>> z = np.zeros((5, 7)); z[2, 3] = 50.0
    >>> r = fit_residual((z, (1.0, 1.0)))
    >>> int(r.clipped.sum()), bool(r.clipped[2, 3])
    (1, True)
    """
    array, crpix, _ = _as_array_crpix(diff)
    if fit is None:
        fit = fit_plane((array, crpix), level_only=level_only, border=border)
    ny, nx = array.shape
    jj, ii = np.mgrid[0:ny, 0:nx]
    plane = fit.a * (ii - crpix[0]) + fit.b * (jj - crpix[1]) + fit.c
    valid = np.isfinite(array)
    residual = np.where(valid, array - plane, np.nan)
    keep = np.zeros(array.size, bool)
    _clip_fit(array, crpix, border, level_only, keep)
    return FitResidual(residual, valid & ~keep.reshape(array.shape), plane)
