"""The prior on the corrections and the evidence that sets its strengths."""

from __future__ import annotations

import math

import numpy as np

from ._images import ImageGeometry
from ._linear import (
    _assemble,
    _huber_weights,
    _irls,
    _robust_plain,
    _tukey_weights,
)
from ._multilevel import _block_diagonal
from ._spd import SpdSum

__all__: list[str] = []


def _prior_forms(images: ImageGeometry, ids: np.ndarray, scale: np.ndarray, p: int):
    """Quadratic forms (scaled unknowns) of each image's level and slope energy.

    ``level`` is the plane's value at the image centre; the slope energy is
    the mean square of the plane minus that level over the image's pixels.
    Returns ``None`` when an image's size or reference pixel is unknown.
    """
    geo = {int(c): k for k, c in enumerate(images.cntr)}
    rows = [geo.get(int(i)) for i in ids]
    if any(k is None or images.naxis1[k] <= 0 or images.naxis2[k] <= 0 for k in rows):
        return None
    nx, ny = images.naxis1[rows].astype(float), images.naxis2[rows].astype(float)
    if p == 1:
        return np.ones((len(ids), 1, 1)), None
    xc, yc = (nx - 1) / 2 - images.crpix1[rows], (ny - 1) / 2 - images.crpix2[rows]
    v = np.column_stack([xc, yc, np.ones_like(xc)]) * scale[None, :]
    level = v[:, :, None] * v[:, None, :]
    slope = np.zeros((len(ids), 3, 3))
    slope[:, 0, 0] = (nx * nx - 1) / 12.0 * scale[0] ** 2
    slope[:, 1, 1] = (ny * ny - 1) / 12.0 * scale[1] ** 2
    return level, slope


def _cycle_rank(pidx, midx, nimg) -> int:
    """Independent loops of the overlap graph (fits beyond a spanning forest)."""
    from scipy import sparse
    from scipy.sparse.csgraph import connected_components

    adj = sparse.coo_matrix((np.ones(len(pidx)), (pidx, midx)), shape=(nimg, nimg))
    ncomp, _ = connected_components(adj, directed=False)
    return len(pidx) - nimg + ncomp


def _reduction(lockmask: np.ndarray, p: int):
    """Map the images to the prior solve's blocks of unknowns.

    Each free image has its own block; all locked images share one (they all
    stay at zero, so they share one background). Returns each image's block,
    the number of blocks and the sparse map from blocks to images' unknowns.
    """
    from scipy import sparse

    nimg = len(lockmask)
    nfree = int((~lockmask).sum())
    nred = nfree + (1 if lockmask.any() else 0)
    red = np.full(nimg, nfree)  # locked images share the last block
    red[~lockmask] = np.arange(nfree)
    rows = np.arange(nimg * p)
    cols = (red[:, None] * p + np.arange(p)).ravel()
    T = sparse.csc_matrix((np.ones(nimg * p), (rows, cols)), shape=(nimg * p, nred * p))
    return red, nred, T


def _merged_forms(forms, red: np.ndarray, nred: int):
    """Sum each prior form over the images of every block.

    Returns ``(merged forms, parameter count)`` pairs (level: one parameter
    per block, slope: two).
    """
    out = []
    for blocks, count in zip(forms, (nred, 2 * nred), strict=False):
        if blocks is None:
            continue
        merged = np.zeros((nred,) + blocks.shape[1:])
        np.add.at(merged, red, blocks)
        out.append((merged, count))
    return out


class _Evidence:
    """Profiled log evidence of the fits under independent random planes.

    Model: every image's background plane ``v_i`` has a level ~ N(0,
    s_level^2) and a slope part of rms ~ N(0, s_slope^2) over the image;
    every fit is ``v_plus - v_minus`` plus noise of covariance
    ``W_k^-1 / beta``. The corrections are ``v_i`` minus the background of the
    locked images (which all share one, since they all stay at zero), or
    ``v_i`` itself when nothing is locked. With ``lam = (prior precision) /
    beta`` the noise precision ``beta`` has a closed-form optimum, leaving
    ``log lam`` (one or two numbers) to optimise.
    """

    def __init__(self, pidx, midx, W, target, nimg, scale, lockmask, forms, like=None):
        normal, rhs = _assemble(pidx, midx, W, target, nimg, scale)
        p = W.shape[1]
        if like is None:  # what does not depend on the weights
            red, nred, T = _reduction(lockmask, p)
            self._merged = [
                (merged, count, _block_diagonal(merged))
                for merged, count in _merged_forms(forms, red, nred)
            ]
        else:
            red, T, self._merged = like.red, like.T, like._merged
        self.red, self.T, self.locked = red, T, bool(lockmask.any())
        if self.locked:  # else T is the identity
            normal, rhs = T.T @ normal.tocsc() @ T, T.T @ rhs
        self.normal, self.rhs = normal.tocsc(), rhs
        self.Ws = W * np.outer(scale, scale)[None]
        self.ts = target / scale[None, :]
        self.pidx, self.midx, self.nimg, self.p = pidx, midx, nimg, p
        self.nobs = p * len(pidx)
        self.forms, self.counts, self.P, self.norms = [], [], [], []
        self._sum, self._like = None, like
        for merged, count, mat in self._merged:
            # dimensionless strengths: each form normalised to the data's scale
            norm = self.normal.diagonal().sum() / max(mat.diagonal().sum(), 1e-300)
            self.forms.append(merged * norm)
            self.P.append(mat * norm)
            self.counts.append(count)
            self.norms.append(norm)

    def solve(self, loglam):
        """Corrections (scaled units), the factorisation, the strengths, ``v``.

        The factorisation has ``solve(rhs)`` and ``logdet``; the sum's
        pattern is ordered at the first call (`SpdSum`).
        """
        lam = np.exp(loglam)
        if self._sum is None:
            terms = [self.normal, *self.P]
            like = self._like._sum if self._like is not None else None
            self._sum = SpdSum(terms) if like is None else like.refill(terms)
        factor = self._sum.factor(lam)
        v = factor.solve(self.rhs).reshape(-1, self.p)
        u = v[self.red]
        if self.locked:
            u = u - v[-1]
        return u, factor, lam, v

    def __call__(self, loglam) -> float:
        u, factor, lam, v = self.solve(loglam)
        g = u[self.pidx] - u[self.midx] - self.ts
        energy = float(np.einsum("ki,kij,kj->", g, self.Ws, g))
        for value, blocks in zip(lam, self.forms, strict=True):
            energy += value * float(np.einsum("ni,nij,nj->", v, blocks, v))
        logdet = factor.logdet
        counts = np.asarray(self.counts, float)
        return (
            self.nobs * math.log(max(energy, 1e-300))
            - float(np.dot(counts, loglam))
            + logdet
        )


def _maximise_evidence(evidence: _Evidence, start=None, step=2.0) -> np.ndarray:
    """Find the log strengths maximising the evidence.

    Nelder-Mead from ``start`` with a first simplex ``step`` wide; a bounded
    search when there is one strength.
    """
    from scipy import optimize

    n = len(evidence.P)
    x0 = np.full(n, -5.0) if start is None else np.asarray(start, float)
    bounds = [(-30.0, 30.0)] * n
    if n == 1:
        res = optimize.minimize_scalar(
            lambda x: evidence(np.array([x])),
            bounds=bounds[0],
            method="bounded",
            options={"xatol": 1e-2},
        )
        return np.array([res.x])
    simplex = np.vstack([x0, x0 + step * np.eye(n)])
    res = optimize.minimize(
        evidence,
        x0,
        method="Nelder-Mead",
        bounds=bounds,
        options={
            "initial_simplex": np.clip(simplex, -30.0, 30.0),
            "xatol": 1e-2,  # 1% in the strengths: far below what matters
            "fatol": 1e-3,
            "maxfev": 800,
        },
    )
    return res.x


def _solve_prior(
    pidx, midx, W, target, nimg, scale, lockmask, forms, nrobust, start=None
):
    """Posterior mean under the evidence-optimised prior, optionally robust.

    Robust: weights from the robust plain solve (the evidence of fits with
    outliers would be dominated by them), prior strengths estimated with
    them, the weights refined with the strengths held fixed, and the
    strengths estimated once more with the final weights (from the first
    estimate, with a smaller simplex, as the survey solve does).

    ``start``: ``(u, loglam)`` of an earlier solve of nearly the same fits
    (the dashboard's re-solve after a flag). Its strengths stand in for the
    first estimate, and the robust weights come from Huber's then Tukey's
    reweighting under the prior, started from its answer (Huber's optimum
    is unique, so a start that fits some fits badly cannot lead the
    biweight astray); the reweighting and the last estimate then start
    next to where they end. Returns the corrections (caller's units) and
    the log strengths.
    """
    base = None  # the first evidence: its pattern, ordering and prior blocks

    def evidence(w):
        nonlocal base
        ev = _Evidence(
            pidx, midx, W * w[:, None, None], target, nimg, scale, lockmask, forms,
            base,
        )
        base = base or ev
        return ev

    def under_prior(w):  # the answer for these weights, the strengths held
        return evidence(w).solve(loglam)[0] * scale[None, :]

    if start is None:
        _, w = _robust_plain(pidx, midx, W, target, nimg, scale, lockmask, nrobust)
        ev = evidence(w)
        loglam = _maximise_evidence(ev)
        u = ev.solve(loglam)[0] * scale[None, :]
        if not nrobust:
            return u, loglam
    else:
        u, loglam = start
        w = np.ones(len(pidx))
        if nrobust:  # Huber first (to 1e-3 in the weights): one optimum
            u, w = _irls(
                under_prior,
                lambda v: _huber_weights(pidx, midx, W, target, v),
                u,
                nrobust,
                1e-3,
            )
    if nrobust:
        u, w = _irls(
            under_prior,
            lambda v: _tukey_weights(pidx, midx, W, target, v),
            u,
            nrobust,
        )
    ev = evidence(w)
    # the final weights move the optimum little: a smaller first simplex,
    # smaller still from an earlier answer's strengths
    loglam = _maximise_evidence(ev, loglam, 0.5 if start is None else 0.1)
    return ev.solve(loglam)[0] * scale[None, :], loglam
