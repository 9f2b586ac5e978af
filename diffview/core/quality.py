"""
A verdict per overlap: which plane fits can be trusted.

A fit is suspicious when its difference is noisier than the others, rests on
few pixels, comes from a thin strip, has to be extrapolated far over the two
images, or disagrees with the corrections solved from all the other fits.
`assess_fits` measures each of these in numbers an astronomer can read (DN,
pixels, ratios), flags the fits that fail any test and gives a ``score`` the
dashboard ranks by (larger is worse; > 1 means flagged).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from diffview.core.background import ImageGeometry, residual_levels
from diffview.core.background._fits import AREA_LIMIT
from diffview.models import Correction, PlaneFit

__all__ = ["FitQuality", "Thresholds", "assess_fits", "plane_error"]


@dataclass(frozen=True)
class Thresholds:
    """
    Limits of `assess_fits`; a fit beyond any of them is flagged.

    Attributes
    ----------
    noise_ratio : float
        Largest ``rms / expected noise``.
    min_pixels : int
        Fewest pixels (Montage's own limit, 0.001 x mean image area, also
        applies when images are given).
    min_width : float
        Narrowest box side, pixels (thin strips).
    max_aspect : float
        Largest box length / width.
    extrapolation : float
        Largest standard error of the plane over the two images, in units of
        the median of that error over all fits.
    residual : float
        Largest disagreement with the solved corrections, in sigmas: the
        robust spread of all the fits' disagreements combined with the fit's
        own level error ``rms / sqrt(npixel)``.

    Examples
    --------
    >>> Thresholds(min_width=1.0).min_width
    1.0
    """

    noise_ratio: float = 3.0
    min_pixels: int = 50
    min_width: float = 3.0
    max_aspect: float = 60.0
    extrapolation: float = 8.0
    residual: float = 5.0


@dataclass(frozen=True)
class FitQuality:
    """
    The verdict on one overlap fit.

    Attributes
    ----------
    plus, minus : int
        The pair.
    ok : bool
        No test failed.
    score : float
        Worst test value divided by its limit (> 1 means flagged).
    reasons : tuple of str
        Failed tests: ``'noisy'``, ``'few pixels'``, ``'thin strip'``,
        ``'extrapolates'``, ``'disagrees'``.
    noise_ratio : float
        ``rms`` / expected noise.
    npixel : int
        Pixels of the fit.
    aspect : float
        Box length / width.
    extrapolation : float
        Standard error of the fitted plane (DN) at the worst corner of the two
        images (NaN without image geometry).
    residual : float
        Fit minus solved corrections, mean over the box (DN; NaN without
        corrections).

    Examples
    --------
    >>> f = PlaneFit(0, 1, 0., 0., 1., 1., 1., 0, 99, 0, 49, 50., 25., 5000,
    ...              1.0, 49.5, 24.5, 99., 49., 0.)
    >>> q = assess_fits([f])[0]
    >>> q.ok, q.reasons, q.npixel
    (True, (), 5000)
    """

    plus: int
    minus: int
    ok: bool
    score: float
    reasons: tuple
    noise_ratio: float
    npixel: int
    aspect: float
    extrapolation: float
    residual: float


def _box_moments(ang_deg, width, height, boxx, boxy, npixel) -> np.ndarray:
    """``(n, 3, 3)``: sum of [x, y, 1][x, y, 1]^T over each fit's box.

    ``npixel`` pixels spread uniformly over the box, rotated by ``ang_deg``.
    """
    ang = np.radians(np.asarray(ang_deg, float))
    c, s = np.cos(ang), np.sin(ang)
    a = np.asarray(width, float) ** 2 / 12.0
    b = np.asarray(height, float) ** 2 / 12.0
    x, y = np.asarray(boxx, float), np.asarray(boxy, float)
    m = np.empty((len(ang), 3, 3))
    m[:, 0, 0] = c * c * a + s * s * b + x * x
    m[:, 1, 1] = s * s * a + c * c * b + y * y
    m[:, 0, 1] = m[:, 1, 0] = c * s * (a - b) + x * y
    m[:, 0, 2] = m[:, 2, 0] = x
    m[:, 1, 2] = m[:, 2, 1] = y
    m[:, 2, 2] = 1.0
    n = np.maximum(np.trunc(np.nan_to_num(np.asarray(npixel, float))), 1.0)
    return m * n[:, None, None]


def _covariances(fits) -> np.ndarray:
    """``(n, 3, 3)``: each fit's plane covariance ``rms^2 M^-1``."""
    cols = np.array(
        [
            (f.boxang, f.boxwidth, f.boxheight, f.boxx, f.boxy, f.npixel, f.rms)
            for f in fits
        ],
        float,
    ).reshape(-1, 7)
    m = _box_moments(*cols[:, :6].T)
    return np.linalg.pinv(m) * (cols[:, 6] ** 2)[:, None, None]


def _image_corners(images: ImageGeometry, cntr: np.ndarray) -> np.ndarray:
    """``(n, 4, 2)`` plane corners of the images ``cntr`` (NaN: no image)."""
    ids = np.asarray(images.cntr)
    if len(ids) == 0:
        return np.full((len(cntr), 4, 2), np.nan)
    order = np.argsort(ids, kind="stable")  # first of equal ids first
    k = order[np.minimum(np.searchsorted(ids[order], cntr), len(ids) - 1)]
    ok = (ids[k] == cntr) & (np.asarray(images.naxis1)[k] != 0)
    x0, y0 = -np.asarray(images.crpix1, float)[k], -np.asarray(images.crpix2, float)[k]
    x1 = x0 + np.asarray(images.naxis1, float)[k] - 1
    y1 = y0 + np.asarray(images.naxis2, float)[k] - 1
    out = np.stack(
        [np.stack(v, axis=-1) for v in ((x0, y0), (x1, y0), (x0, y1), (x1, y1))],
        axis=1,
    )
    out[~ok] = np.nan
    return out


def plane_error(fit: PlaneFit, points: np.ndarray) -> np.ndarray:
    """
    Compute the standard error (DN) of a fitted plane at ``points``.

    Uses the fit's covariance ``rms^2 M^-1`` with ``M`` the moments of its
    box (``npixel`` pixels spread uniformly over the rotated box).

    Parameters
    ----------
    fit : PlaneFit
        The fit, with its ``rms``, ``npixel`` and rotated box.
    points : numpy.ndarray
        ``(n, 2)`` plane coordinates ``x, y`` (``x = i - CRPIX1``,
        ``y = j - CRPIX2``, 0-based ``i``, ``j``, the fit's CRPIX).

    Returns
    -------
    numpy.ndarray
        ``(n,)`` standard errors in DN.

    Examples
    --------
    >>> f = PlaneFit(0, 1, 0., 0., 1., 1., 1., 0, 99, 0, 1, 50., .5, 200, 1.0,
    ...              49.5, 0.5, 99., 1., 0.)
    >>> e = plane_error(f, np.array([[49.5, 0.5], [49.5, 100.5]]))
    >>> bool(e[1] > 50 * e[0])
    True
    """
    cov = _covariances([fit])[0]
    p = np.column_stack([points, np.ones(len(points))])
    return np.sqrt(np.maximum(np.einsum("ki,ij,kj->k", p, cov, p), 0.0))


def _extrapolations(fits, images: ImageGeometry | None) -> np.ndarray:
    """Each fit's `plane_error` at the worst corner of its two images."""
    if images is None or not fits:
        return np.full(len(fits), math.nan)
    pairs = np.array([(f.plus, f.minus) for f in fits]).reshape(-1, 2)
    corners = np.concatenate(
        [_image_corners(images, pairs[:, 0]), _image_corners(images, pairs[:, 1])],
        axis=1,
    )  # (n, 8, 2)
    p = np.concatenate([corners, np.ones(corners.shape[:2] + (1,))], axis=2)
    err = np.sqrt(
        np.maximum(np.einsum("nki,nij,nkj->nk", p, _covariances(fits), p), 0.0)
    )
    there = ~np.isnan(corners[:, :, 0])
    worst = np.where(there, err, -np.inf).max(axis=1)
    return np.where(there.any(axis=1), worst, math.nan)


def _robust_sigma(values: np.ndarray) -> float:
    v = values[np.isfinite(values)]
    if len(v) == 0:
        return math.nan
    return float(1.4826 * np.median(np.abs(v - np.median(v))))


def assess_fits(
    fits: list[PlaneFit],
    *,
    images: ImageGeometry | None = None,
    corrections: list[Correction] | None = None,
    noise: float | None = None,
    thresholds: Thresholds = Thresholds(),
) -> list[FitQuality]:
    """
    Judge every overlap fit; flag the ones not to trust.

    Parameters
    ----------
    fits : list of PlaneFit
        The overlap fits.
    images : ImageGeometry, optional
        Image sizes and reference pixels: enables the extrapolation test and
        Montage's pixel-count limit.
    corrections : list of Correction, optional
        Solved corrections: enables the disagreement test (each fit against
        the solution of all fits).
    noise : float, optional
        Expected rms of a difference (DN); default the median fit rms.
    thresholds : Thresholds
        Limits of the tests.

    Returns
    -------
    list of FitQuality
        In the order of ``fits``.

    Examples
    --------
    >>> good = PlaneFit(0, 1, 0., 0., 1., 1., 1., 0, 99, 0, 49, 50., 25., 5000,
    ...                 1.0, 49.5, 24.5, 99., 49., 0.)
    >>> thin = PlaneFit(1, 2, 0., 0., 1., 1., 1., 0, 99, 0, 1, 50., .5, 200,
    ...                 1.0, 49.5, 0.5, 99., 1., 0.)
    >>> [q.reasons for q in assess_fits([good, good, thin])]
    [(), (), ('thin strip',)]
    """
    cols = _verdict_columns(fits)
    rms = cols["rms"]
    if noise is None:
        finite = rms[np.isfinite(rms)]
        noise = float(np.median(finite)) if len(finite) else 1.0
    extrap = _extrapolations(fits, images)
    extrap_ref = float(np.nanmedian(extrap)) if np.isfinite(extrap).any() else math.nan
    resid = np.full(len(fits), math.nan)
    if corrections is not None and len(fits):
        resid = residual_levels(fits, corrections)
    sigma_r = _robust_sigma(resid)
    min_pix = thresholds.min_pixels
    if images is not None:
        min_pix = max(min_pix, AREA_LIMIT * images.mean_area)
    return _verdicts(
        cols, noise, extrap, extrap_ref, resid, sigma_r, min_pix, thresholds
    )


_VERDICT_COLUMNS = ("plus", "minus", "rms", "npixel", "boxwidth", "boxheight")


def _verdict_columns(fits) -> dict:
    """Gather the fits' columns the verdicts read, as float arrays."""
    rows = [[getattr(f, n) for n in _VERDICT_COLUMNS] for f in fits]
    table = np.array(rows, float).reshape(-1, len(_VERDICT_COLUMNS))
    return {n: table[:, k] for k, n in enumerate(_VERDICT_COLUMNS)}


def _ratios(value, limit) -> np.ndarray:
    """``value / limit`` where ``limit`` is non-zero and ``value`` finite, else 0."""
    value = np.asarray(value, float)
    limit = np.broadcast_to(np.asarray(limit, float), value.shape)
    ok = (limit != 0) & np.isfinite(value)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(ok, value / np.where(ok, limit, 1.0), 0.0)


def _verdicts(cols, noise, extrap, extrap_ref, resid, sigma_r, min_pix, t) -> list:
    """Every fit's `FitQuality`, its tests computed for all fits at once."""
    rms, npix = cols["rms"], np.trunc(cols["npixel"])
    width = np.minimum(cols["boxwidth"], cols["boxheight"])
    aspect = np.maximum(cols["boxwidth"], cols["boxheight"]) / np.maximum(width, 1e-300)
    with np.errstate(divide="ignore", invalid="ignore"):
        noise_ratio = rms / noise if noise > 0 else np.full(len(rms), math.inf)
        own = np.where(np.isfinite(rms), rms / np.sqrt(np.maximum(npix, 1)), 0.0)
    spread = np.hypot(sigma_r if math.isfinite(sigma_r) else 0.0, own)
    tests = {
        "noisy": _ratios(
            np.where(np.isfinite(rms), noise_ratio, math.inf), t.noise_ratio
        ),
        "few pixels": _ratios(np.full(len(rms), min_pix), np.maximum(npix, 1e-300)),
        "thin strip": _first_max(
            _ratios(np.full(len(rms), t.min_width), np.maximum(width, 1e-300)),
            _ratios(aspect, t.max_aspect),
        ),
        "extrapolates": _ratios(extrap, t.extrapolation * extrap_ref),
        "disagrees": _ratios(np.abs(resid), t.residual * spread),
    }
    score = _first_max(*tests.values())
    failed = np.column_stack([v > 1.0 for v in tests.values()])
    names = tuple(tests)
    reasons = [()] * len(rms)
    for k in np.flatnonzero(failed.any(axis=1)).tolist():
        reasons[k] = tuple(names[j] for j in np.flatnonzero(failed[k]).tolist())
    return [
        FitQuality(int(p), int(m), not why, sc, why, nr, int(n), asp, ex, rs)
        for p, m, why, sc, nr, n, asp, ex, rs in zip(
            cols["plus"].tolist(), cols["minus"].tolist(), reasons,
            score.tolist(), noise_ratio.tolist(), npix.tolist(), aspect.tolist(),
            np.asarray(extrap, float).tolist(), np.asarray(resid, float).tolist(),
            strict=True,
        )
    ]


def _first_max(first, *rest) -> np.ndarray:
    """Python's ``max`` of each row's values in order (a NaN never replaces)."""
    out = np.array(first, float)
    for values in rest:
        out = np.where(values > out, values, out)
    return out
