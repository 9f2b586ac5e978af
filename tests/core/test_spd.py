"""The background model's positive definite factorisations (`_spd`)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import sparse

from diffview.core.background import _spd


def _tiles(k: int, seed: int = 0):
    """A k x k field's normal matrix (3x3 blocks, 8 neighbours), shuffled."""
    rng = np.random.default_rng(seed)
    idx = rng.permutation(k * k).reshape(k, k)
    pairs = []
    for dx, dy in ((0, 1), (1, 0), (1, 1), (1, -1)):
        for i in range(k):
            for j in range(k):
                if 0 <= i + dx < k and 0 <= j + dy < k:
                    pairs.append((idx[i, j], idx[i + dx, j + dy]))
    p = np.array(pairs)
    n = k * k
    adj = sparse.coo_matrix((np.ones(len(p)), (p[:, 0], p[:, 1])), shape=(n, n))
    adj = adj + adj.T
    lap = sparse.diags(np.asarray(adj.sum(1)).ravel()) - adj
    b = rng.normal(size=(3, 3))
    normal = sparse.kron(lap, b @ b.T + np.eye(3)).tocsr()
    blocks = rng.normal(size=(n, 3, 3))
    prior = sparse.block_diag(list(blocks @ blocks.transpose(0, 2, 1))).tocsr()
    return normal, prior, rng.normal(size=3 * n)


@pytest.mark.parametrize("band_flops", [_spd._BAND_FLOPS, 0.0])
def test_sum_solves_and_logdet_match_dense(monkeypatch, band_flops):
    monkeypatch.setattr(_spd, "_BAND_FLOPS", band_flops)
    normal, prior, rhs = _tiles(7)
    sums = _spd.SpdSum([normal, prior, sparse.eye(normal.shape[0])])
    assert sums.banded == (band_flops > 0)
    for coeffs in ([1e-3, 1e-6], [10.0, 0.5]):
        dense = (normal + coeffs[0] * prior + coeffs[1] * sparse.eye(147)).toarray()
        factor = sums.factor(coeffs)
        expected = np.linalg.solve(dense, rhs)
        np.testing.assert_allclose(factor.solve(rhs), expected, rtol=1e-9, atol=1e-9)
        assert factor.logdet == pytest.approx(np.linalg.slogdet(dense)[1], rel=1e-11)


def test_band_is_narrow_for_a_field_of_tiles():
    """Reverse Cuthill-McKee undoes a shuffled numbering: a band of a few rows."""
    normal, prior, _ = _tiles(12, seed=3)
    sums = _spd.SpdSum([normal, prior])
    assert sums.banded
    assert sums.width < 3 * 3 * 12  # shuffled, the band would span the whole matrix
    assert sums.width >= 3 * 12


def test_terms_that_cancel_keep_their_entries():
    """An entry summing to zero in one term mix is still in the pattern."""
    a = sparse.csr_matrix(np.array([[2.0, -1.0], [-1.0, 2.0]]))
    b = sparse.csr_matrix(np.array([[0.0, 1.0], [1.0, 0.0]]))
    sums = _spd.SpdSum([a, b])
    for c in (1.0, 0.5):
        dense = (a + c * b).toarray()
        x = sums.factor([c]).solve(np.array([1.0, 2.0]))
        np.testing.assert_allclose(x, np.linalg.solve(dense, [1.0, 2.0]))


def test_not_definite_in_floating_point_falls_back_to_lu():
    """A sum rounding to indefinite, refused by the band Cholesky, is solved."""
    a = sparse.csr_matrix(np.array([[1.0, 1.0, 0.0], [1.0, 1.0, 0.0], [0.0, 0.0, 1.0]]))
    b = sparse.csr_matrix(np.diag([0.0, -1e-12, 0.0]))
    factor = _spd.SpdSum([a, b]).factor([1.0])
    assert isinstance(factor, _spd._LuFactor)
    dense = (a + b).toarray()
    rhs = np.array([1.0, 2.0, 3.0])
    np.testing.assert_allclose(dense @ factor.solve(rhs), rhs, atol=1e-3)


def test_one_matrix_and_a_refill():
    """One term; then new values on the same pattern reuse the ordering."""
    normal, prior, rhs = _tiles(5)
    first = _spd.SpdSum([normal + prior])
    again = first.refill([2.0 * normal + prior])
    assert again.perm is first.perm and again.flat is first.flat
    for sums, m in ((first, normal + prior), (again, 2.0 * normal + prior)):
        np.testing.assert_allclose(
            sums.factor().solve(rhs), np.linalg.solve(m.toarray(), rhs), rtol=1e-9
        )
    diagonal = sparse.eye(normal.shape[0], format="csr") * 3.0
    other = first.refill([diagonal])  # another pattern: ordered afresh
    assert other.width == 0 and other.perm is not first.perm
    np.testing.assert_allclose(other.factor().solve(rhs), rhs / 3.0)
