"""Sparse symmetric solves at survey scale: a multilevel preconditioner for CG.

The normal equations of the background model couple each image's plane to
its neighbours' (a graph Laplacian with a 3x3 block per image), so plain
conjugate gradients need a number of iterations growing with the width of
the field, and a sparse factorisation grows faster than the number of
images. Smoothed aggregation (images grouped into cells of about nine
neighbours, each group sharing one plane: the mode the differences cannot
see) gives a V-cycle whose cost is linear in the images and whose
convergence barely depends on their number.
"""

from __future__ import annotations

import math

import numpy as np

from ._spd import _symmetric_lu

__all__: list[str] = []

_COARSE = 1500  # unknowns at and below which a level is factorised
_PER_AGGREGATE = 9.0  # images per aggregate (geometric cells)
_SWEEPS = 2  # Jacobi sweeps before and after each coarse correction


def _block_diagonal(blocks: np.ndarray):
    """Block-diagonal sparse (CSR) matrix of ``(n, p, p)`` blocks."""
    from scipy import sparse

    n, p, _ = blocks.shape
    indices = (np.arange(n)[:, None, None] * p + np.zeros((p, 1), int)) + np.arange(p)
    indptr = np.arange(n * p + 1) * p
    return sparse.csr_matrix(
        (np.array(blocks, float).ravel(), indices.ravel(), indptr), shape=(n * p, n * p)
    )


def _block_entries(matrix, p: int):
    """Where the ``p x p`` diagonal blocks of a canonical CSR matrix sit.

    Returns the positions in ``matrix.data`` of their entries and, for each,
    its block, row and column in the block.
    """
    rows = np.repeat(np.arange(matrix.shape[0]), np.diff(matrix.indptr))
    at = np.flatnonzero(rows // p == matrix.indices // p)
    return at, rows[at] // p, rows[at] % p, matrix.indices[at] % p


def _inverse_diagonal_blocks(matrix, p: int, entries=None):
    """Invert the ``p x p`` diagonal blocks, as a sparse block-diagonal matrix.

    ``entries`` is `_block_entries` of the matrix's pattern, if known.
    """
    matrix = matrix.tocsr()
    matrix.sum_duplicates()
    at, block, a, b = _block_entries(matrix, p) if entries is None else entries
    blocks = np.zeros((matrix.shape[0] // p, p, p))
    blocks[block, a, b] = matrix.data[at]
    try:
        inverse = np.linalg.inv(blocks)
    except np.linalg.LinAlgError:
        inverse = np.linalg.pinv(blocks)
    return _block_diagonal(inverse)


def _dot(a: np.ndarray, b: np.ndarray) -> float:
    """Dot product without BLAS.

    OpenBLAS threads its dot and nrm2, which then take milliseconds per call
    on a loaded machine.
    """
    return float(np.einsum("i,i->", a, b))


def _norm(x: np.ndarray) -> float:
    return math.sqrt(_dot(x, x))


def _spectral_radius(op, n: int, steps: int = 12) -> float:
    """Power-iteration estimate of the largest eigenvalue of ``op`` (x 1.05)."""
    x = np.cos(np.arange(n) * 0.7071) + 1.0  # fixed start: deterministic
    x /= _norm(x)
    rho = 1.0
    for _ in range(steps):
        y = op @ x
        rho = _norm(y)
        x = y / max(rho, 1e-300)
    return 1.05 * rho


def _aggregates(pos: np.ndarray, label: np.ndarray) -> np.ndarray:
    """Give every node an aggregate: a square cell of about nine nodes.

    Aggregates never mix two groups (``label``) of connected nodes.
    """
    lo = pos.min(axis=0)
    span = np.maximum(pos.max(axis=0) - lo, 1e-9)
    side = max(
        float(np.sqrt(_PER_AGGREGATE * span[0] * span[1] / len(pos))),
        float(span.max()) * _PER_AGGREGATE / len(pos),
    )
    for _ in range(30):
        cell = np.floor((pos - lo) / side).astype(np.int64)
        ny = int(cell[:, 1].max()) + 1
        key = (label * (int(cell[:, 0].max()) + 1) + cell[:, 0]) * ny + cell[:, 1]
        _, agg = np.unique(key, return_inverse=True)
        if agg.max() + 1 <= len(pos) / 3:
            break
        side *= 1.5
    return agg.ravel()


def _tentative(agg: np.ndarray, m: int, p: int, modes: np.ndarray):
    """Tentative prolongator of smoothed aggregation.

    The near-null ``modes`` (``n p x k``) on each aggregate, orthonormalised
    (QR).

    Returns the prolongator (``n p x m k``), the coarse modes (``m k x k``)
    and a vector that is 1 on coarse unknowns an aggregate too small for all
    modes leaves unused (to keep the coarse matrix invertible), else 0.
    """
    from scipy import sparse

    k = modes.shape[1]
    order = np.argsort(agg, kind="stable")
    sizes = np.bincount(agg, minlength=m)
    start = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    rows, cols, vals = [], [], []
    coarse = np.zeros((m, k, k))
    for size in np.unique(sizes):
        groups = np.flatnonzero(sizes == size)
        nodes = order[start[groups][:, None] + np.arange(size)]  # (g, size)
        dofs = (nodes[:, :, None] * p + np.arange(p)).reshape(len(groups), -1)
        q, r = np.linalg.qr(modes[dofs])  # (g, size p, j), (g, j, k)
        j = q.shape[2]
        keep = (
            np.abs(np.diagonal(r, axis1=1, axis2=2))
            > 1e-10 * np.maximum(np.abs(r).max(axis=(1, 2)), 1e-300)[:, None]
        )
        q = q * keep[:, None, :]
        coarse[groups, :j] = r * keep[:, :, None]
        rows.append(np.repeat(dofs, j, axis=1).ravel())
        cols.append(np.tile(groups[:, None] * k + np.arange(j), (1, size * p)).ravel())
        vals.append(q.reshape(len(groups), -1).ravel())
    p0 = sparse.csr_matrix(
        (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
        shape=(len(agg) * p, m * k),
    )
    used = np.abs(np.diagonal(coarse, axis1=1, axis2=2)) > 0
    return p0, coarse.reshape(m * k, k), (~used).ravel().astype(float)


def _plane_modes(pos: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """Near-null modes of the plane unknowns (scaled by ``scale``).

    The three common planes (the exact null space) and the tangent planes,
    at every image's position, of the quadratics ``x^2``, ``xy``, ``y^2``:
    smooth fields the differences measure only weakly.
    """
    n = len(pos)
    if len(scale) == 1:
        return np.ones((n, 1))
    x, y = (pos / max(float(np.abs(pos).max()), 1.0)).T
    length = 1.0 / max(float(np.abs(pos).max()), 1.0)
    out = np.zeros((n, 3, 6))
    out[:, :, :3] = np.eye(3) / scale[None, :, None]
    # tangent plane of Q at (x, y): a = Qx, b = Qy, c = Q - Qx x - Qy y
    # (a, b per pixel: the quadratics are in units of the largest |pos|)
    out[:, 0, 3], out[:, 2, 3] = 2 * x * length, -(x * x)
    out[:, 0, 4], out[:, 1, 4], out[:, 2, 4] = y * length, x * length, -x * y
    out[:, 1, 5], out[:, 2, 5] = 2 * y * length, -(y * y)
    out[:, :2, 3:] /= scale[None, :2, None]
    return out.reshape(n * 3, 6)


class _Multilevel:
    """Smoothed-aggregation V-cycle for a symmetric matrix, ``p`` unknowns a node.

    The matrix is positive definite, or singular only by a constant plane on
    each floating group of nodes.

    ``pos`` gives each node's position (the aggregation is geometric),
    ``label`` its group of connected nodes and ``floating`` which groups are
    singular. Aggregates keep the groups apart, so the constant planes stay
    the null space of every level; the coarsest level is factorised with a
    negligible shift on the floating groups.
    """

    def __init__(self, matrix, pos, p: int, label, floating, coarse=None, modes=None):
        from scipy import sparse

        self.levels, self.p, self.entries = [], p, None
        matrix = matrix.tocsr()
        coarse = _COARSE if coarse is None else coarse
        modes = np.tile(np.eye(p), (len(pos), 1)) if modes is None else modes
        while matrix.shape[0] > coarse and len(self.levels) < 12:
            n = matrix.shape[0] // p
            agg = _aggregates(pos, label)
            m = int(agg.max()) + 1
            if m > 0.8 * n:  # groups too small to coarsen: factorise here
                break
            dinv = _inverse_diagonal_blocks(matrix, p)
            da = (dinv @ matrix).tocsr()
            omega = 4.0 / 3.0 / _spectral_radius(da, n * p)
            p0, modes, dummy = _tentative(agg, m, p, modes)
            prolong = (p0 - omega * (da @ p0)).tocsr()
            restrict = prolong.T.tocsr()
            self.levels.append((matrix, dinv, omega, prolong, restrict))
            matrix = (restrict @ matrix @ prolong).tocsr()
            matrix = ((matrix + matrix.T) * 0.5 + sparse.diags(dummy)).tocsr()
            p = modes.shape[1]
            count = np.bincount(agg, minlength=m)[:, None]
            pos = np.column_stack(
                [np.bincount(agg, weights=pos[:, k], minlength=m) for k in (0, 1)]
            ) / np.maximum(count, 1)
            first = np.zeros(m, int)
            first[agg[::-1]] = np.arange(n)[::-1]
            label = label[first]
        shift = np.repeat(floating[label], p) * matrix.diagonal() * 1e-10
        self.coarse = _symmetric_lu(matrix + sparse.diags(shift))

    def refresh(self, matrix) -> bool:
        """Smooth with ``matrix`` on the finest level, keeping the coarse ones.

        For a matrix with the same pattern and new fit weights: reweighting
        changes the solution locally, which the smoother handles, far more
        than the smooth modes the coarse levels correct. Returns False (and
        changes nothing) when there is no coarse level.
        """
        if not self.levels:
            return False
        matrix = matrix.tocsr()
        matrix.sum_duplicates()
        old, _, omega, prolong, restrict = self.levels[0]
        if self.entries is None or not (
            np.array_equal(matrix.indptr, old.indptr)
            and np.array_equal(matrix.indices, old.indices)
        ):
            self.entries = _block_entries(matrix, self.p)
        dinv = _inverse_diagonal_blocks(matrix, self.p, self.entries)
        self.levels[0] = (matrix, dinv, omega, prolong, restrict)
        return True

    def _smooth(self, level, x, b):
        matrix, dinv, omega, _, _ = level
        return x + omega * (dinv @ (b - matrix @ x))

    def cycle(self, b: np.ndarray, k: int = 0) -> np.ndarray:
        """One V-cycle from zero for the right-hand side ``b`` (level ``k``)."""
        if k == len(self.levels):
            return self.coarse.solve(np.ascontiguousarray(b))
        level = self.levels[k]
        matrix, dinv, omega, prolong, restrict = level
        x = omega * (dinv @ b)
        for _ in range(_SWEEPS - 1):
            x = self._smooth(level, x, b)
        x = x + prolong @ self.cycle(restrict @ (b - matrix @ x), k + 1)
        for _ in range(_SWEEPS):
            x = self._smooth(level, x, b)
        return x


def _pcg(matrix, rhs, cycle, project, x0, reduce=0.0, slow=1.0, maxiter=300):
    """Preconditioned conjugate gradients in the range of ``project``.

    Stops when the residual is ``max(1e-11, reduce)`` of the right-hand
    side (a warm start ``x0`` close to the answer needs few iterations), or,
    after five iterations, when the residual shrinks by less than ``slow``
    per iteration on average (a preconditioner gone stale). Returns the last
    iterate, whether it converged, and the mean residual reduction per
    iteration.
    """
    rhs = project(rhs)
    x = project(np.array(x0, float))
    r = rhs - matrix @ x
    first = max(_norm(r), 1e-300)
    bound = max(max(1e-11, reduce) * _norm(rhs), 1e-300)
    z = project(cycle(r))
    d, rz = z.copy(), _dot(r, z)
    rate = 0.0
    for it in range(maxiter):
        norm = _norm(r)
        rate = (norm / first) ** (1.0 / it) if it else 0.0
        if norm <= bound:
            return x, True, rate
        if it >= 5 and rate > slow:
            return x, False, rate
        q = matrix @ d
        step = rz / _dot(d, q)
        x += step * d
        r -= step * q
        z = project(cycle(r))
        rz, rz_old = _dot(r, z), rz
        d = z + (rz / rz_old) * d
    return x, _norm(r) <= bound, rate


class _Solver:
    """Solve a run of systems with the same unknowns (robust reweighting).

    Multilevel CG warm-started from the last answer, re-using the multilevel
    hierarchy until CG takes a few times as many iterations as with a fresh
    one.

    ``label`` (each node's group of connected nodes) and ``floating`` (the
    groups whose matrix is singular by a common plane) describe the null
    space; the answer's component along it is zero (each floating group's
    unknowns sum to zero). Without them the matrix must be positive definite.
    """

    def __init__(self, pos: np.ndarray, scale, label=None, floating=None):
        if label is None:
            label, floating = np.zeros(len(pos), int), np.zeros(1, bool)
        self.pos, self.p, self.label, self.floating = pos, len(scale), label, floating
        self.modes = _plane_modes(pos, np.asarray(scale, float))
        self.pre, self.slow, self.last = None, 1.0, None
        grouped = floating[label]
        self.members, self.group = np.flatnonzero(grouped), label[grouped]
        self.count = np.maximum(np.bincount(self.group, minlength=len(floating)), 1)

    def project(self, x: np.ndarray) -> np.ndarray:
        """``x`` less its component along the null space."""
        if not len(self.members):
            return x
        x = x.reshape(-1, self.p).copy()
        for q in range(self.p):
            total = np.bincount(
                self.group, weights=x[self.members, q], minlength=len(self.count)
            )
            x[self.members, q] -= (total / self.count)[self.group]
        return x.ravel()

    def solve(self, matrix, rhs: np.ndarray, reduce: float = 0.0) -> np.ndarray:
        """Solve ``matrix x = rhs``, from the last answer.

        With ``reduce`` > 0, stop at a residual of ``reduce`` of the
        right-hand side: enough inside an iteration whose systems change from
        pass to pass, and few iterations once they stop changing.
        """
        x = np.zeros_like(rhs) if self.last is None else self.last
        done = False
        if self.pre is not None and self.pre.refresh(matrix):
            # coarse levels of an earlier matrix converge slower than fresh
            # ones; they are rebuilt (about the cost of 20-50 iterations) once
            # the rate per iteration is that of 3x the iterations
            x, done, _ = _pcg(
                matrix, rhs, self.pre.cycle, self.project, x, reduce, self.slow
            )
        if not done:
            args = (self.pos, self.p, self.label, self.floating)
            self.pre = _Multilevel(matrix, *args, modes=self.modes)
            x, done, rate = _pcg(matrix, rhs, self.pre.cycle, self.project, x, reduce)
            self.slow = min(max(rate, 0.05) ** (1.0 / 3.0), 0.9)
        if not done:  # not seen: factorise the whole system instead
            self.pre = _Multilevel(matrix, *args, coarse=math.inf)
            x = _pcg(matrix, rhs, self.pre.cycle, self.project, x)[0]
        self.last = x
        return x
