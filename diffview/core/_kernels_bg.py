"""Compiled loop of Montage's iterative background solve (mBgModel)."""

from __future__ import annotations

import numba
import numpy as np

from ._jit import _B1, _F1, _F2, _JIT

__all__ = ["bg_iterate"]


@numba.njit(**_JIT)
def _f32(v):
    """Round to float32 and back, as Montage's float variables do."""
    return float(np.float32(v))


@numba.njit(**_JIT)
def _bg_increments(fittype, sums, n, inv2, inv3, locked, inc):
    """Compute one iteration's per-image increments (mBgModel's float solves).

    The increments are halved; zero for images without fits and for locked
    images.
    """
    for k in range(len(n)):
        sz, sxz, syz = sums[k, 0], sums[k, 1], sums[k, 2]
        inc[k, 0] = inc[k, 1] = inc[k, 2] = 0.0
        if n[k] == 0.0 or locked[k]:
            continue
        if fittype == 0:
            inc[k, 2] = _f32(sz / n[k])
        elif fittype == 1:
            r0, r1 = _f32(sxz), _f32(syz)
            for i in range(2):
                inc[k, i] = _f32(inv2[k, i, 0] * r0 + inv2[k, i, 1] * r1)
        else:
            r0, r1, r2 = _f32(sxz), _f32(syz), _f32(sz)
            for i in range(3):
                inc[k, i] = _f32(
                    inv3[k, i, 0] * r0 + inv3[k, i, 1] * r1 + inv3[k, i, 2] * r2
                )
        for i in range(3):
            inc[k, i] /= 2.0


@numba.njit(
    [
        (
            numba.int64[:],
            _F1,
            _F1,
            _F1,
            _F2,
            _F1,
            numba.int64[:],
            numba.int64[:],
            _B1,
            _F1,
            numba.float64[:, :, :],
            numba.float64[:, :, :],
            _B1,
            _F2,
        )
    ],
    **_JIT,
)
def bg_iterate(
    schedule, A, B, C, mom, w, pidx, midx, has_minus, n, inv2, inv3, locked, corr
):
    """
    Run mBgModel's iterations.

    Each image moves by half the plane that best fits its neighbours'
    differences, and the differences follow.

    Parameters
    ----------
    schedule : int64 array
        Fit type of each iteration: 0 level, 1 slope, 2 both.
    A, B, C : float64 arrays
        Planes of the fits (each fit and its mirror), updated in place.
    mom : (6, nfit) float64 array
        Box moments ``n, x, y, xx, xy, yy`` of each fit.
    w : float64 array
        1 for the fits used, 0 for the rejected ones.
    pidx, midx : int64 arrays
        Correction index of each fit's plus and minus image.
    has_minus : bool array
        Whether the minus image has a correction.
    n : float64 array
        Summed box areas of each image's used fits.
    inv2, inv3 : float64 arrays
        Per-image inverses of the slope and full normal matrices.
    locked : bool array
        Images that never move.
    corr : (nimage, 3) float64 array
        Receives the summed corrections ``a, b, c``.
    """
    nimg = len(n)
    sums = np.zeros((nimg, 3))
    inc = np.zeros((nimg, 3))
    mn, mx, my, mxx, mxy, myy = mom[0], mom[1], mom[2], mom[3], mom[4], mom[5]
    for fittype in schedule:
        sums[:] = 0.0
        for f in range(len(A)):
            a, b, c, p = A[f], B[f], C[f], pidx[f]
            sums[p, 0] += (a * mx[f] + b * my[f] + c * mn[f]) * w[f]
            sums[p, 1] += (a * mxx[f] + b * mxy[f] + c * mx[f]) * w[f]
            sums[p, 2] += (a * mxy[f] + b * myy[f] + c * my[f]) * w[f]
        _bg_increments(fittype, sums, n, inv2, inv3, locked, inc)
        for k in range(nimg):
            for i in range(3):
                corr[k, i] += inc[k, i]
        for f in range(len(A)):
            p = pidx[f]
            da, db, dc = 0.0, 0.0, 0.0
            if has_minus[f]:
                m = midx[f]
                da, db, dc = inc[m, 0], inc[m, 1], inc[m, 2]
            A[f] = (A[f] - inc[p, 0]) + da
            B[f] = (B[f] - inc[p, 1]) + db
            C[f] = (C[f] - inc[p, 2]) + dc
