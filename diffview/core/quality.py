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

from diffview.core.background import ImageGeometry, predicted_residuals
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


def _box_pixel_moments(f: PlaneFit) -> np.ndarray:
    """Mean of [x, y, 1][x, y, 1]^T over the fit's box, times npixel."""
    ang = math.radians(f.boxang)
    c, s = math.cos(ang), math.sin(ang)
    rot = np.array([[c, -s], [s, c]])
    cov_local = np.diag([f.boxwidth**2 / 12.0, f.boxheight**2 / 12.0])
    cov = rot @ cov_local @ rot.T
    mean = np.array([f.boxx, f.boxy])
    m = np.empty((3, 3))
    m[:2, :2] = cov + np.outer(mean, mean)
    m[:2, 2] = m[2, :2] = mean
    m[2, 2] = 1.0
    return m * max(int(f.npixel), 1)


def _corners(images: ImageGeometry, cntr: int) -> np.ndarray | None:
    k = np.flatnonzero(images.cntr == cntr)
    if len(k) == 0 or images.naxis1[k[0]] == 0:
        return None
    k = k[0]
    x0, y0 = -images.crpix1[k], -images.crpix2[k]
    x1, y1 = x0 + images.naxis1[k] - 1, y0 + images.naxis2[k] - 1
    return np.array([[x0, y0], [x1, y0], [x0, y1], [x1, y1]])


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
    m = _box_pixel_moments(fit)
    cov = np.linalg.pinv(m) * fit.rms**2
    p = np.column_stack([points, np.ones(len(points))])
    return np.sqrt(np.maximum(np.einsum("ki,ij,kj->k", p, cov, p), 0.0))


def _extrapolation(fit: PlaneFit, images: ImageGeometry | None) -> float:
    if images is None:
        return math.nan
    pts = [
        c
        for c in (_corners(images, fit.plus), _corners(images, fit.minus))
        if c is not None
    ]
    if not pts:
        return math.nan
    return float(plane_error(fit, np.vstack(pts)).max())


def _robust_sigma(values: np.ndarray) -> float:
    v = values[np.isfinite(values)]
    if len(v) == 0:
        return math.nan
    return float(1.4826 * np.median(np.abs(v - np.median(v))))


def _ratio(value, limit) -> float:
    return value / limit if limit and np.isfinite(value) else 0.0


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
    rms = np.array([f.rms for f in fits], float)
    if noise is None:
        finite = rms[np.isfinite(rms)]
        noise = float(np.median(finite)) if len(finite) else 1.0
    extrap = np.array([_extrapolation(f, images) for f in fits], float)
    extrap_ref = float(np.nanmedian(extrap)) if np.isfinite(extrap).any() else math.nan
    resid = np.full(len(fits), math.nan)
    if corrections is not None:
        for k, r in enumerate(predicted_residuals(fits, corrections)):
            resid[k] = r.a * r.boxx + r.b * r.boxy + r.c
    sigma_r = _robust_sigma(resid)
    min_pix = thresholds.min_pixels
    if images is not None:
        min_pix = max(min_pix, AREA_LIMIT * images.mean_area)
    return [
        _verdict(
            f, noise, extrap[k], extrap_ref, resid[k], sigma_r, min_pix, thresholds
        )
        for k, f in enumerate(fits)
    ]


def _disagreement_sigma(f: PlaneFit, sigma_r: float) -> float:
    """Spread of the disagreements combined with this fit's own level error."""
    own = f.rms / math.sqrt(max(int(f.npixel), 1)) if math.isfinite(f.rms) else 0.0
    return math.hypot(sigma_r if math.isfinite(sigma_r) else 0.0, own)


def _verdict(f, noise, extrap, extrap_ref, resid, sigma_r, min_pix, t) -> FitQuality:
    width = min(f.boxwidth, f.boxheight)
    aspect = max(f.boxwidth, f.boxheight) / max(width, 1e-300)
    noise_ratio = f.rms / noise if noise > 0 else math.inf
    tests = {
        "noisy": _ratio(
            noise_ratio if math.isfinite(f.rms) else math.inf, t.noise_ratio
        ),
        "few pixels": _ratio(min_pix, max(int(f.npixel), 1e-300)),
        "thin strip": max(
            _ratio(t.min_width, max(width, 1e-300)), _ratio(aspect, t.max_aspect)
        ),
        "extrapolates": _ratio(extrap, t.extrapolation * extrap_ref),
        "disagrees": _ratio(abs(resid), t.residual * _disagreement_sigma(f, sigma_r)),
    }
    reasons = tuple(k for k, v in tests.items() if v > 1.0)
    score = max(tests.values())
    return FitQuality(
        int(f.plus),
        int(f.minus),
        not reasons,
        float(score),
        reasons,
        float(noise_ratio),
        int(f.npixel),
        float(aspect),
        float(extrap),
        float(resid),
    )
