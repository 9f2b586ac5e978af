"""
The normal-distribution stretches' arithmetic, as mViewer's.

Its inverse normal CDF (`snpinv`, Blair, Edwards & Johnson 1976, ported term
by term) and the 256 data thresholds of ``gaussian`` / ``gaussian-log``.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from ._histogram import MontageHistogram

__all__ = ["snpinv"]


_A = (0.1400216916161353e+03, -0.7204275515686407e+03, 0.1296708621660511e+04,
      -0.9697932901514031e+03, 0.2762427049269425e+03, -0.2012940180552054e+02)
_B = (0.1291046303114685e+03, -0.7312308064260973e+03, 0.1494970492915789e+04,
      -0.1337793793683419e+04, 0.5033747142783567e+03, -0.6220205554529216e+02)
_A1 = (-0.1690478046781745e+00, 0.3524374318100228e+01, -0.2698143370550352e+02,
       0.9340783041018743e+02, -0.1455364428646732e+03, 0.8805852004723659e+02,
       -0.1349018591231947e+02)
_B1 = (-0.1203221171313429e+00, 0.2684812231556632e+01, -0.2242485268704865e+02,
       0.8723495028643494e+02, -0.1604352408444319e+03, 0.1259117982101525e+03,
       -0.3184861786248824e+02)
_A2 = (0.3100808562552958e-04, 0.4097487603011940e-02, 0.1214902662897276e+00,
       0.1109167694639028e+01, 0.3228379855663924e+01, 0.2881691815651599e+01,
       0.2047972087262996e+01, 0.8545922081972148e+00, 0.3551095884622383e-02)
_B2 = (0.3100809298564522e-04, 0.4097528678663915e-02, 0.1215907800748757e+00,
       0.1118627167631696e+01, 0.3432363984305290e+01, 0.4140284677116202e+01,
       0.4119797271272204e+01, 0.2162961962641435e+01)
_A3 = (0.3205405422062050e-08, 0.1899479322632128e-05, 0.2814223189858532e-03,
       0.1370504879067817e-01, 0.2268143542005976e+00, 0.1098421959892340e+01,
       0.6791143397056208e+00, -0.8343341891677210e+00, 0.3421951267240343e+00)
_B3 = (0.3205405053282398e-08, 0.1899480592260143e-05, 0.2814349691098940e-03,
       0.1371092249602266e-01, 0.2275172815174473e+00, 0.1125348514036959e+01)


def _horner(coef, v, monic=False):
    """``((c[n]*v + c[n-1])*v + ... )*v + c[0]``; monic adds a leading ``v``."""
    if monic:
        acc = v + coef[-1]
    else:
        acc = coef[-1] * v + coef[-2]
        coef = coef[:-1]
    for c in reversed(coef[:-1]):
        acc = acc * v + c
    return acc


def _erfinv(p):
    """
    Compute mViewer_erfinv, vectorised.

    The same operations in the same order (including its swapped tail
    branches, §9.3).
    """
    p = np.asarray(p, dtype=float)
    q = 1.0 - p
    out = np.empty_like(p)
    bad = (p < 0.0) | (q < 0.0)
    one = ~bad & (q == 0.0)
    r1 = ~bad & ~one & (p <= 0.75)
    r2 = ~bad & ~one & ~r1 & (p <= 0.9375)
    rt = ~bad & ~one & ~r1 & ~r2
    out[bad] = -1.0e99
    out[one] = 1.0e99
    if r1.any():
        x = p[r1]
        v = x * x - 0.5625
        out[r1] = (x * _horner(_A, v)) / _horner(_B, v, monic=True)
    if r2.any():
        x = p[r2]
        v = x * x - 0.87890625
        out[r2] = (x * _horner(_A1, v)) / _horner(_B1, v, monic=True)
    if rt.any():
        v1 = np.log(q[rt])
        v = 1.0 / np.sqrt(-v1)
        low = v1 < -0.2302585092994046e+03
        res = np.empty_like(v)
        if low.any():
            w = v[low]
            res[low] = _horner(_A2, w) / (w * _horner(_B2, w, monic=True))
        hi = ~low
        if hi.any():
            w = v[hi]
            res[hi] = _horner(_A3, w) / (w * _horner(_B3, w, monic=True))
        out[rt] = res
    return out


_SQRT2 = math.sqrt(2.0)


def snpinv(p):
    """
    Compute mViewer's inverse standard normal CDF (``mViewer_snpinv``), vectorised.

    Within about 1e-4 of ``scipy.special.ndtri`` (Montage's erf⁻¹ has its
    tail branches swapped); kept as is because the grey levels depend on it.

    Parameters
    ----------
    p : array_like
        Probabilities, 0..1.

    Returns
    -------
    ndarray
        The normal quantiles (``±1e99`` at and beyond the ends).

    Examples
    --------
    >>> round(float(snpinv(0.975)), 3), round(float(snpinv(0.16)), 3)
    (1.96, -0.994)
    """
    p = np.asarray(p, dtype=float)
    upper = p > 0.5
    out = np.where(upper, _SQRT2 * _erfinv(np.where(upper, 2.0 * p - 1.0, 0.0)),
                   -_SQRT2 * _erfinv(np.where(upper, 0.0, 1.0 - 2.0 * p)))
    return out

def _first_ge(levels: np.ndarray, values: np.ndarray) -> np.ndarray:
    """
    Return the index of the first entry of ``levels`` that is ``>= value``.

    Or ``len(levels)``; exactly as a linear scan, even if ``levels`` is not
    sorted or holds NaN (never ``>=``).
    """
    with np.errstate(invalid="ignore"):
        ordered = bool((levels[1:] >= levels[:-1]).all())   # False at any NaN
    if ordered and not (levels.size and np.isnan(levels[0])):
        run = levels                  # already its own running maximum
    else:
        lev = np.where(np.isnan(levels), -np.inf, levels)
        run = np.maximum.accumulate(lev)
    return np.searchsorted(run, values, side="left")


def _cpow10(x: float) -> float:
    """C's ``pow(10, x)`` (inf on overflow)."""
    try:
        return math.pow(10.0, x)
    except OverflowError:
        return math.inf


def _gauss_thresholds(h: MontageHistogram, lo: float, hi: float, log: bool):
    """Compute the 256 data thresholds of mViewer's gaussian(-log) stretch."""
    nb = h.nbin
    D = h.datalev()
    G = h.gausslev()
    # first i in 0..nb-2 with D[i] > lo (D is increasing when delta > 0)
    i = int(np.searchsorted(D[: nb - 1], lo, side="right")) if h.delta > 0 else nb - 1
    gmin = float(G[i]) if i < nb - 1 else 0.0
    i = int(np.searchsorted(D[: nb - 1], hi, side="right")) if h.delta > 0 else nb - 1
    gmax = float(G[i]) if i < nb - 1 else float(G[nb - 2])
    j = np.arange(256, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        if log:
            step = math.log10(gmax - gmin) / 255.0 if gmax - gmin > 0 else (
                -math.inf if gmax == gmin else math.nan)
            # C's pow (via math.pow), not numpy's vectorised power: the two
            # can differ by an ulp, and g_1 sits exactly on gmin's level
            g = gmax - np.array([_cpow10(step * (256.0 - jj)) for jj in j])
        else:
            step = (gmax - gmin) / 255.0
            g = gmin + step * j
        idx = _first_ge(G[1: nb - 1], g) + 1       # i in 1..nb-2, else nb-1
        glow, ghigh = G[idx - 1], G[idx]
        dlow, dhigh = D[idx - 1], D[idx]
        same = glow == ghigh
        t = np.where(same, dlow,
                     dlow + (g - glow) * (dhigh - dlow) / np.where(same, 1.0,
                                                                    ghigh - glow))
    return t, gmin, gmax
