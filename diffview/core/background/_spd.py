"""Factorise symmetric positive definite sums of sparse matrices quickly.

The background model's matrices (normal equations, plus the prior's
diagonal blocks) couple each image only to the images it overlaps. Ordered
by reverse Cuthill-McKee, a field of tiles is a band about as wide as the
field's short side, and LAPACK's banded Cholesky factorises it 2-4x faster
than SuperLU's sparse LU with a symmetric ordering (on one BLAS thread:
400 tiles, 1,200 unknowns: 1.7 ms against 3.4 ms; 1,500 tiles: 16 ms
against 28 ms). The
evidence search factorises the same pattern over a hundred times with
different strengths, so the ordering and the band's layout are found once
(`SpdSum`) and each factorisation only fills the band. A pattern whose band
would be too wide (a graph far from a sheet of tiles) keeps the sparse LU.
"""

from __future__ import annotations

import copy

import numpy as np

__all__ = ["SpdSum"]

#: Band Cholesky only when ``n * (bandwidth + 1) ** 2`` stays below this
#: (about 20 ms on one core), else the sparse LU.
_BAND_FLOPS = 3e8

_blas = None  # threadpoolctl's controller, made at the first band factor


def _one_blas_thread():
    """
    Hold BLAS to one thread (a context manager).

    OpenBLAS splits a band this narrow over its threads for no gain on an
    idle machine, and on a busy one (the dashboard's kernel computing
    differences meanwhile, two cores) its threads wait for each other: the
    median factorisation took 6 ms instead of 1.8 ms at 400 tiles.
    """
    global _blas
    if _blas is None:
        from threadpoolctl import ThreadpoolController

        _blas = ThreadpoolController()
    return _blas.limit(limits=1, user_api="blas")


class _BandFactor:
    """A banded Cholesky factor in reverse Cuthill-McKee order."""

    def __init__(self, factor: np.ndarray, perm: np.ndarray):
        self.factor, self.perm = factor, perm

    def solve(self, rhs: np.ndarray) -> np.ndarray:
        from scipy.linalg import cho_solve_banded

        out = np.empty_like(rhs, dtype=float)
        out[self.perm] = cho_solve_banded(
            (self.factor, True), rhs[self.perm], check_finite=False
        )
        return out

    @property
    def logdet(self) -> float:
        return 2.0 * float(np.sum(np.log(self.factor[0])))


class _LuFactor:
    """SuperLU's factor of a symmetric positive definite matrix."""

    def __init__(self, lu):
        self.lu = lu

    def solve(self, rhs: np.ndarray) -> np.ndarray:
        return self.lu.solve(rhs)

    @property
    def logdet(self) -> float:
        return float(np.sum(np.log(np.abs(self.lu.U.diagonal()))))


def _symmetric_lu(matrix):
    """Sparse LU of a symmetric positive definite matrix (symmetric ordering)."""
    from scipy.sparse.linalg import splu

    return splu(
        matrix.tocsc(),
        permc_spec="MMD_AT_PLUS_A",
        diag_pivot_thresh=0.0,
        options={"SymmetricMode": True},
    )


class SpdSum:
    """
    Factorise ``terms[0] + sum(c_i * terms[i + 1])`` for many coefficients.

    The terms are symmetric sparse matrices of one shape; every sum asked
    for must be positive definite. The union of their patterns is ordered
    once; each `factor` adds the terms' values and factorises the band (or,
    for a wide band, calls the sparse LU).

    Parameters
    ----------
    terms : sequence of scipy.sparse matrices
        The fixed term first, then those scaled by `factor`'s coefficients.
    """

    def __init__(self, terms):
        from scipy import sparse
        from scipy.sparse.csgraph import reverse_cuthill_mckee

        csr = _canonical(terms)
        n = self.n = csr[0].shape[0]
        pattern = None
        for t in csr:  # ones: no entry cancels; the sum is sorted, no duplicates
            ones = sparse.csr_matrix((np.ones(t.nnz), t.indices, t.indptr), t.shape)
            pattern = ones if pattern is None else pattern + ones
        pattern.data[:] = 1.0
        self.rows = np.repeat(np.arange(n), np.diff(pattern.indptr))
        self.cols = pattern.indices.astype(np.int64)
        union = self.rows * n + self.cols
        self.data = np.zeros((len(csr), len(union)))
        self.where, self.patterns = [], [(t.indptr, t.indices) for t in csr]
        for k, t in enumerate(csr):
            keys = np.repeat(np.arange(n), np.diff(t.indptr)) * n + t.indices
            self.where.append(np.searchsorted(union, keys))
            self.data[k, self.where[-1]] = t.data
        perm = reverse_cuthill_mckee(pattern, symmetric_mode=True)
        inv = np.empty(n, np.int64)
        inv[perm] = np.arange(n)
        r, c = inv[self.rows], inv[self.cols]
        self.lower = r >= c
        width = int(np.max(r - c, initial=0))
        self.banded = n * (width + 1) ** 2 <= _BAND_FLOPS
        self.perm, self.width = perm, width
        self.flat = ((r - c) * n + c)[self.lower]

    def refill(self, terms) -> SpdSum:
        """
        Make the same sum of new terms with the same patterns (new values).

        The ordering and the band's layout are kept: only the values are
        placed. Terms of another pattern get a `SpdSum` of their own.

        Parameters
        ----------
        terms : sequence of scipy.sparse matrices
            As many as this sum's, in the same order.

        Returns
        -------
        SpdSum
        """
        csr = _canonical(terms)
        same = len(csr) == len(self.patterns) and all(
            np.array_equal(t.indptr, ptr) and np.array_equal(t.indices, ind)
            for t, (ptr, ind) in zip(csr, self.patterns, strict=False)
        )
        if not same:
            return SpdSum(terms)
        new = copy.copy(self)
        new.data = np.zeros_like(self.data)
        for k, t in enumerate(csr):
            new.data[k, self.where[k]] = t.data
        return new

    def factor(self, coefficients=()):
        """
        Factorise the sum with these coefficients.

        Parameters
        ----------
        coefficients : sequence of float
            One per term after the first.

        Returns
        -------
        object
            With ``solve(rhs)`` and ``logdet`` (log of the determinant).
        """
        data = self.data[0].copy()
        for value, term in zip(coefficients, self.data[1:], strict=True):
            data += value * term
        if self.banded:
            from scipy.linalg import LinAlgError, cholesky_banded

            band = np.zeros((self.width + 1, self.n))
            band.flat[self.flat] = data[self.lower]
            try:
                with _one_blas_thread():
                    factor = cholesky_banded(band, lower=True, check_finite=False)
                return _BandFactor(factor, self.perm)
            except LinAlgError:  # not numerically definite: LU copes
                pass
        return _LuFactor(_symmetric_lu(self.matrix(data)))

    def matrix(self, data: np.ndarray):
        """Build the sparse (CSC) matrix with these values on the union pattern."""
        from scipy import sparse

        return sparse.csc_matrix((data, (self.rows, self.cols)), shape=(self.n,) * 2)


def _canonical(terms) -> list:
    """Convert the terms to CSR with sorted indices and no duplicates."""
    from scipy import sparse

    csr = [sparse.csr_matrix(t) for t in terms]
    for t in csr:
        t.sum_duplicates()
    return csr
