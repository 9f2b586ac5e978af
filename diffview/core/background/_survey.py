"""The direct solve at survey scale: the same estimator, linear-time algebra.

`solve_direct` on more than `_LARGE` images solves the same equations as on
a small field, with three changes to how:

* the normal equations are re-assembled for new robust weights from a
  sparsity pattern worked out once, per pair of images, and a sparse map from
  the fits' weights to the matrix entries (`_Normal`: one sparse product per
  assembly); the prior is added into the diagonal blocks in place;
* every solve is conjugate gradients preconditioned by a multilevel
  V-cycle (`_multilevel`), warm-started from the previous robust pass and,
  inside the reweighting, stopped at a residual of `_LOOSE` of the
  right-hand side, so that passes whose weights barely moved take one to
  three iterations; one hierarchy serves all the passes, its finest level
  refreshed with each pass's matrix (rebuilt only if convergence slows to a
  third of a fresh one's). Its cost grows linearly with the images where a
  factorisation grows faster. The plane common to each group of images is
  fixed by holding one image at zero and then moving the group's
  corrections to sum to zero, which is the constrained answer of the exact
  solve;
* the prior's strengths are estimated by maximising the evidence of the
  fits of one connected patch of `_PATCH` images around the field's centre
  (the same model, on fewer fits: the strengths are three numbers shared by
  the whole field, which a patch of this size pins down; each evaluation is
  a sparse factorisation of the patch), then carried to the whole field as
  absolute prior precisions.
"""

from __future__ import annotations

import numpy as np

from ._evidence import (
    _Evidence,
    _maximise_evidence,
    _merged_forms,
    _reduction,
)
from ._linear import _irls, _robust, _tukey_weights
from ._multilevel import _block_entries, _Solver

__all__: list[str] = []

_LARGE = 1500  # images above which solve_direct takes this path
_PATCH = 800  # images of the patch the prior's strengths are estimated on
_LOOSE = 1e-6  # residual (of the right-hand side) of the robust passes' solves
_SETTLE = 1e-3  # robust passes end when no fit's weight moves more than this


def _positions(f: dict, pidx, midx, nimg: int) -> np.ndarray:
    """Each image's position: the mean centre of its fits' boxes."""
    both = np.concatenate([pidx, midx])
    count = np.maximum(np.bincount(both, minlength=nimg), 1)
    return np.column_stack(
        [
            np.bincount(both, weights=np.tile(f[k], 2), minlength=nimg) / count
            for k in ("boxx", "boxy")
        ]
    )


class _Normal:
    """Normal equations of the fits, re-assembled quickly for new weights.

    The sparsity pattern is worked out once, per pair of images (a dense
    ``p x p`` block each), and so is a sparse map from the fits' weight
    entries to the matrix entries: assembling for new weights is then two
    sparse products.
    """

    def __init__(self, pidx, midx, nimg: int, p: int, target, scale):
        from scipy import sparse

        nfit, self.size = len(pidx), nimg * p
        # blocks: (image, image) pairs, in row-major order
        brow = np.concatenate([pidx, midx, pidx, midx])
        bcol = np.concatenate([pidx, midx, midx, pidx])
        blocks, bslot = np.unique(brow * nimg + bcol, return_inverse=True)
        brow_u = blocks // nimg
        per_row = np.bincount(brow_u, minlength=nimg)
        row_start = np.concatenate([[0], np.cumsum(per_row)])
        # scalar CSR: block row i holds rows i p + a, each p * per_row[i] long
        length = np.repeat(p * per_row, p)
        self.indptr = np.concatenate([[0], np.cumsum(length)])
        rank = np.arange(len(blocks)) - row_start[brow_u]  # block's place in row
        a, b = np.meshgrid(np.arange(p), np.arange(p), indexing="ij")
        # entry (a, b) of every block: its position in the CSR data
        first = self.indptr[brow_u * p][:, None, None]
        slots = first + a[None] * (p * per_row[brow_u])[:, None, None]
        slots = slots + rank[:, None, None] * p + b[None]
        self.indices = np.empty(slots.size, np.int64)  # slots: a permutation
        self.indices[slots.ravel()] = ((blocks % nimg)[:, None, None] * p + b).ravel()
        # map (one column per entry (a, b) of each fit's weight): the entries
        # of the four blocks it adds to, with their signs
        entry = slots[bslot].reshape(4, nfit * p * p).T
        self.gather = sparse.csc_matrix(
            (
                np.tile([1.0, 1.0, -1.0, -1.0], nfit * p * p),
                entry.ravel(),
                np.arange(nfit * p * p + 1) * 4,
            ),
            shape=(slots.size, nfit * p * p),
        )
        dof = np.concatenate([pidx, midx])[:, None] * p + np.arange(p)
        self.rgather = sparse.csr_matrix(
            (
                np.repeat([1.0, -1.0], nfit * p),
                (dof.ravel(), np.tile(np.arange(nfit * p), 2)),
            ),
            shape=(self.size, nfit * p),
        )
        self.ts = target / scale[None, :]
        self.scale2 = np.outer(scale, scale)[None]

    def assemble(self, W):
        """Matrix (CSR) and right-hand side in scaled unknowns."""
        from scipy import sparse

        Ws = W * self.scale2
        data = self.gather @ Ws.ravel()
        rhs = self.rgather @ np.einsum("kij,kj->ki", Ws, self.ts).ravel()
        shape = (self.size, self.size)
        return sparse.csr_matrix((data, self.indices, self.indptr), shape=shape), rhs


class _Plain:
    """Weighted least squares, the common plane fixed as the exact solve does.

    Locked images stay at zero; in a group of connected images without one,
    the corrections sum to zero.
    """

    def __init__(self, normal: _Normal, pidx, midx, lockmask, pos, scale):
        from scipy import sparse
        from scipy.sparse.csgraph import connected_components

        nimg, p = len(lockmask), len(scale)
        adj = sparse.coo_matrix((np.ones(len(pidx)), (pidx, midx)), shape=(nimg, nimg))
        ncomp, label = connected_components(adj, directed=False)
        floating = np.bincount(label, weights=lockmask, minlength=ncomp) == 0
        free = ~lockmask
        self.keep = (np.flatnonzero(free)[:, None] * p + np.arange(p)).ravel()
        self.solver = _Solver(pos[free], scale, label[free], floating)
        self.normal, self.scale, self.nimg = normal, scale, nimg

    def solve(self, W, reduce: float = 0.0) -> np.ndarray:
        """Corrections for the fits weighted by ``W`` (see `_Solver.solve`)."""
        matrix, rhs = self.normal.assemble(W)
        a, b = matrix, rhs
        if len(self.keep) < len(rhs):
            a, b = matrix[self.keep][:, self.keep], rhs[self.keep]
        u = np.zeros(self.nimg * len(self.scale))
        u[self.keep] = self.solver.solve(a, b, reduce)
        return u.reshape(self.nimg, -1) * self.scale[None, :]


class _Prior:
    """Posterior mean for given absolute prior strengths.

    `_Evidence.solve` at survey scale.
    """

    def __init__(self, normal: _Normal, lockmask, forms, pos, scale):
        p = len(scale)
        self.red, nred, self.T = _reduction(lockmask, p)
        self.locked = bool(lockmask.any())
        self.blocks = [m for m, _ in _merged_forms(forms, self.red, nred)]
        self.entries = None
        self.pos = (
            np.column_stack(
                [
                    np.bincount(self.red, weights=pos[:, k], minlength=nred)
                    for k in (0, 1)
                ]
            )
            / np.bincount(self.red, minlength=nred)[:, None]
        )
        self.normal, self.scale = normal, scale
        self.solver = _Solver(self.pos, scale)

    def solve(self, W, strengths, reduce: float = 0.0) -> np.ndarray:
        """Corrections for the fits weighted by ``W`` (see `_Solver.solve`)."""
        matrix, rhs = self.normal.assemble(W)
        if self.locked:
            matrix, rhs = (self.T.T @ matrix @ self.T).tocsr(), self.T.T @ rhs
        p = len(self.scale)
        v = self.solver.solve(self._add(matrix, strengths), rhs, reduce)
        v = v.reshape(-1, p)
        u = v[self.red]
        if self.locked:
            u = u - v[-1]
        return u * self.scale[None, :]

    def _add(self, matrix, strengths):
        """``matrix`` plus the prior, added into its diagonal blocks in place.

        Every image has fits, so its whole diagonal block is in the pattern
        (the pattern's entries are found once).
        """
        matrix.sum_duplicates()
        if self.entries is None or not (
            np.array_equal(matrix.indptr, self.entries[0])
            and np.array_equal(matrix.indices, self.entries[1])
        ):
            at, block, a, b = _block_entries(matrix, len(self.scale))
            values = [m[block, a, b] for m in self.blocks]
            self.entries = (matrix.indptr.copy(), matrix.indices.copy(), at, values)
        at, values = self.entries[2:]
        for value, add in zip(strengths, values, strict=True):
            matrix.data[at] += value * add
        return matrix


def _patch(pidx, midx, nimg: int, pos: np.ndarray):
    """Pick the ``_PATCH`` images nearest (through overlaps) the field's centre.

    Returns them and a mask of the fits between two of them.
    """
    from scipy import sparse
    from scipy.sparse.csgraph import breadth_first_order

    adj = sparse.coo_matrix((np.ones(len(pidx)), (pidx, midx)), shape=(nimg, nimg))
    centre = np.median(pos, axis=0)
    start = int(np.argmin(np.sum((pos - centre) ** 2, axis=1)))
    order = breadth_first_order(adj.tocsr(), start, directed=False)[0]
    nodes = np.sort(order[:_PATCH])
    inside = np.zeros(nimg, bool)
    inside[nodes] = True
    return nodes, inside[pidx] & inside[midx]


def _patch_strengths(pidx, midx, W, target, scale, lockmask, forms, pos, start=None):
    """Maximum-evidence prior strengths on the patch: ``(log lam, absolute)``.

    From ``start`` (the strengths of the previous robust stage), the search
    begins with a smaller simplex.
    """
    nodes, sel = _patch(pidx, midx, len(lockmask), pos)
    ev = _Evidence(
        np.searchsorted(nodes, pidx[sel]),
        np.searchsorted(nodes, midx[sel]),
        W[sel],
        target[sel],
        len(nodes),
        scale,
        lockmask[nodes],
        tuple(None if b is None else b[nodes] for b in forms),
    )
    loglam = _maximise_evidence(ev, start, 2.0 if start is None else 0.5)
    return loglam, np.exp(loglam) * np.asarray(ev.norms)


def _solve_survey(f, pidx, midx, W, target, nimg, scale, lockmask, forms, nrobust):
    """`_solve_plain` (``forms`` None) or `_solve_prior` for a large field.

    Inside the robust iterations each solve only cuts the residual by
    `_LOOSE` from the last pass's answer; the answer returned is solved in
    full.
    """
    normal = _Normal(pidx, midx, nimg, W.shape[1], target, scale)
    pos = _positions(f, pidx, midx, nimg)
    plain = _Plain(normal, pidx, midx, lockmask, pos, scale)
    w = np.ones(len(pidx))
    if nrobust:
        w = _robust(
            lambda Ww: plain.solve(Ww, _LOOSE), pidx, midx, W, target, nrobust, _SETTLE
        )[1]
    if forms is None:
        return plain.solve(W * w[:, None, None])
    prior = _Prior(normal, lockmask, forms, pos, scale)
    args = (pidx, midx, W * w[:, None, None], target, scale, lockmask, forms, pos)
    loglam, strengths = _patch_strengths(*args)
    if nrobust:
        u = prior.solve(W * w[:, None, None], strengths, _LOOSE)
        w = _irls(
            lambda w: prior.solve(W * w[:, None, None], strengths, _LOOSE),
            lambda v: _tukey_weights(pidx, midx, W, target, v),
            u,
            nrobust,
            _SETTLE,
        )[1]
        args = (pidx, midx, W * w[:, None, None], target, scale, lockmask, forms, pos)
        strengths = _patch_strengths(*args, start=loglam)[1]
    return prior.solve(W * w[:, None, None], strengths)
