"""Using solved corrections: corrected images, predicted residuals, recovery error."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np

from diffview.models import Correction, PlaneFit

from ._images import ImageGeometry

__all__ = [
    "correct_image",
    "predicted_residuals",
    "residual_levels",
    "recovery_error",
]


def correct_image(
    array: np.ndarray,
    crpix,
    correction: Correction | tuple,
    area: np.ndarray | None = None,
) -> np.ndarray:
    """
    Subtract a correction plane from an image (mBackground's pixel rule).

    Parameters
    ----------
    array : numpy.ndarray
        The projected image.
    crpix : tuple of float
        Its ``(CRPIX1, CRPIX2)``.
    correction : Correction or tuple
        ``(a, b, c)`` to subtract, in plane coordinates.
    area : numpy.ndarray, optional
        Its area; pixels with area <= 0 become NaN.

    Returns
    -------
    numpy.ndarray
        float64; ``v - (a x + b y + c)``, NaN where blank.

    Examples
    --------
    >>> correct_image(np.full((2, 3), 5.0), (1.0, 1.0), (0.0, 1.0, 2.0)).tolist()
    [[4.0, 4.0, 4.0], [3.0, 3.0, 3.0]]
    """
    a, b, c = (
        (correction.a, correction.b, correction.c)
        if isinstance(correction, Correction)
        else correction
    )
    data = np.asarray(array, dtype=float)
    ny, nx = data.shape
    x = np.arange(nx) - float(crpix[0])
    y = np.arange(ny) - float(crpix[1])
    out = data - (a * x[None, :] + (b * y[:, None] + c))
    blank = ~np.isfinite(data)
    if area is not None:
        blank |= ~(np.asarray(area) > 0)
    out[blank] = np.nan
    return out


def predicted_residuals(
    fits: list[PlaneFit], corrections: list[Correction]
) -> list[PlaneFit]:
    """
    Each overlap's fitted plane after correcting both images, without new diffs.

    The fit of ``plus - minus`` minus the two corrections: ``f - (P_plus -
    P_minus)``. Images without a correction count as uncorrected.

    Parameters
    ----------
    fits : list of PlaneFit
        The overlap fits.
    corrections : list of Correction
        Corrections to subtract from the images, in the fits' plane
        coordinates.

    Returns
    -------
    list of PlaneFit
        Copies of ``fits`` with ``a``, ``b``, ``c`` replaced by the residual
        plane (other columns unchanged).

    Examples
    --------
    >>> f = PlaneFit(0, 1, 0., 0., 2.0, 1., 1., 0, 9, 0, 7, 4.5, 3.5, 80, 0.1,
    ...              4.5, 3.5, 9., 7., 0.)
    >>> corr = [Correction(0, 0, 0, 1.0), Correction(1, 0, 0, -1.0)]
    >>> r = predicted_residuals([f], corr)
    >>> r[0].c
    0.0
    """
    corr = {c.id: (c.a, c.b, c.c) for c in corrections}
    out = []
    for f in fits:
        pa, pb, pc = corr.get(f.plus, (0.0, 0.0, 0.0))
        ma, mb, mc = corr.get(f.minus, (0.0, 0.0, 0.0))
        out.append(replace(f, a=f.a - (pa - ma), b=f.b - (pb - mb), c=f.c - (pc - mc)))
    return out


def residual_levels(fits: list[PlaneFit], corrections: list[Correction]) -> np.ndarray:
    """
    Each overlap's level at its box centre after correcting both images.

    The level of `predicted_residuals`' planes (``a * boxx + b * boxy +
    c``), for every fit at once: 2,184 fits in 2 ms instead of 30.

    Parameters
    ----------
    fits : list of PlaneFit
        The overlap fits.
    corrections : list of Correction
        Corrections to subtract (none: the fits' own levels). Images
        without one count as uncorrected.

    Returns
    -------
    numpy.ndarray
        One level per fit, in the order of ``fits``.

    Examples
    --------
    >>> f = PlaneFit(0, 1, 0., 0., 2.0, 1., 1., 0, 9, 0, 7, 4.5, 3.5, 80, 0.1,
    ...              4.5, 3.5, 9., 7., 0.)
    >>> residual_levels([f], [Correction(0, 0.5, 0, 1.0)])
    array([-1.25])
    """
    names = ("plus", "minus", "a", "b", "c", "boxx", "boxy")
    cols = np.array([[getattr(f, n) for n in names] for f in fits], float)
    plus, minus, a, b, c, x, y = cols.reshape(-1, len(names)).T
    level = a * x + b * y + c
    if not len(corrections):
        return level
    ids = np.array([k.id for k in corrections], float)
    coef = np.array([[k.a, k.b, k.c] for k in corrections], float)
    order = np.argsort(ids, kind="stable")
    ids, coef = ids[order], coef[order]

    def plane(which):
        at = np.maximum(np.searchsorted(ids, which, side="right") - 1, 0)  # last
        p = np.where((ids[at] == which)[:, None], coef[at], 0.0)
        return p[:, 0] * x + p[:, 1] * y + p[:, 2]

    return level - (plane(plus) - plane(minus))


def recovery_error(
    corrections, truth: dict, images: ImageGeometry, *, step: int = 4
) -> float:
    """
    How far corrections are from known injected planes, in DN.

    The rms over every image's pixels (sampled every ``step`` pixels) of
    ``correction - truth``, after removing the single plane common to all
    images that no difference-based method can determine.

    Parameters
    ----------
    corrections : list of Correction or dict
        Solved corrections, or ``{id: (a, b, c)}``.
    truth : dict
        ``{id: (a, b, c)}`` injected planes, Montage's plane coordinates.
    images : ImageGeometry
        Image sizes and reference pixels.
    step : int
        Sampling step in pixels.

    Returns
    -------
    float

    Examples
    --------
    >>> from astropy.table import Table
    >>> t = Table({"cntr": [0, 1], "ns": [10, 10], "nl": [8, 8],
    ...            "crpix1": [1., -9.], "crpix2": [1., 1.]})
    >>> truth = {0: (0.0, 0.0, 1.0), 1: (0.0, 0.0, -1.0)}
    >>> shifted = {0: (0.0, 0.0, 3.0), 1: (0.0, 0.0, 1.0)}
    >>> from diffview.core.background import image_geometry
    >>> round(recovery_error(shifted, truth, image_geometry(t)), 12)
    0.0
    """
    if not isinstance(corrections, dict):
        corrections = {c.id: (c.a, c.b, c.c) for c in corrections}
    xs, ys, es = [], [], []
    for k, cid in enumerate(images.cntr.tolist()):
        if cid not in corrections or cid not in truth:
            continue
        a, b, c = np.subtract(corrections[cid], truth[cid])
        jj, ii = np.mgrid[0 : images.naxis2[k] : step, 0 : images.naxis1[k] : step]
        x, y = ii - images.crpix1[k], jj - images.crpix2[k]
        xs.append(x.ravel())
        ys.append(y.ravel())
        es.append((a * x + b * y + c).ravel())
    if not es:
        return math.nan
    x, y, e = map(np.concatenate, (xs, ys, es))
    m = np.column_stack([x, y, np.ones_like(x)])
    g, *_ = np.linalg.lstsq(m, e, rcond=None)
    return float(np.sqrt(np.mean((e - m @ g) ** 2)))
