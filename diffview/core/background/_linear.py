"""Weighted least squares on the overlap fits, and its robust reweighting."""

from __future__ import annotations

import numpy as np

__all__: list[str] = []


def _fit_weights(f: dict, mom: dict, level_only: bool) -> np.ndarray:
    """Per-fit 3x3 (or 1x1) weight matrices: box moments / rms^2."""
    if level_only:
        return (mom["n"] / f["rms"] ** 2)[:, None, None]
    m = np.stack(
        [
            [mom["xx"], mom["xy"], mom["x"]],
            [mom["xy"], mom["yy"], mom["y"]],
            [mom["x"], mom["y"], mom["n"]],
        ]
    ).transpose(2, 0, 1)
    return m / (f["rms"] ** 2)[:, None, None]


def _level_target(f: dict) -> np.ndarray:
    return (f["a"] * f["boxx"] + f["b"] * f["boxy"] + f["c"])[:, None]


def _assemble(pidx, midx, W, target, nimg, scale):
    """Assemble the normal equations of sum_k (g_k - f_k)^T W_k (g_k - f_k).

    ``g = u_p - u_m``: the difference of the two images' corrections.
    """
    from scipy import sparse

    p = W.shape[1]
    Ws = W * np.outer(scale, scale)[None]
    ts = target / scale[None, :]
    Wt = np.einsum("kij,kj->ki", Ws, ts)
    ii, jj = np.meshgrid(np.arange(p), np.arange(p), indexing="ij")
    rows, cols, vals = [], [], []
    for a_idx, b_idx, sign in (
        (pidx, pidx, 1),
        (midx, midx, 1),
        (pidx, midx, -1),
        (midx, pidx, -1),
    ):
        rows.append((a_idx[:, None, None] * p + ii[None]).ravel())
        cols.append((b_idx[:, None, None] * p + jj[None]).ravel())
        vals.append((sign * Ws).ravel())
    normal = sparse.csr_matrix(
        (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
        shape=(nimg * p, nimg * p),
    )
    rhs = np.zeros(nimg * p)
    for idx, sign in ((pidx, 1.0), (midx, -1.0)):
        np.add.at(
            rhs, (idx[:, None] * p + np.arange(p)[None]).ravel(), (sign * Wt).ravel()
        )
    return normal, rhs


def _gauge(pidx, midx, nimg, p, locked):
    """Constraint rows: locked images fixed, else per-group sums zero."""
    from scipy import sparse
    from scipy.sparse.csgraph import connected_components

    adj = sparse.coo_matrix((np.ones(len(pidx)), (pidx, midx)), shape=(nimg, nimg))
    ncomp, label = connected_components(adj, directed=False)
    rows, cols = [], []
    r = 0
    for comp in range(ncomp):
        members = np.flatnonzero(label == comp)
        fixed = members[locked[members]]
        groups = [[m] for m in fixed] if len(fixed) else [list(members)]
        for group in groups:
            for q in range(p):
                rows += [r] * len(group)
                cols += [g * p + q for g in group]
                r += 1
    return sparse.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(r, nimg * p))


def _solve_once(pidx, midx, W, target, nimg, scale, locked, cache=None):
    """Solve least squares under the gauge of `_gauge`.

    Locked images stay at zero; else each connected group's corrections sum
    to zero. ``cache``: a dict kept across solves of the same fits with
    other weights (see `_pinned_solve`).
    """
    from scipy import sparse
    from scipy.sparse.linalg import spsolve

    normal, rhs = _assemble(pidx, midx, W, target, nimg, scale)
    p = W.shape[1]
    pinned = _pinned_solve(normal, rhs, pidx, midx, nimg, p, locked, cache)
    if pinned is not None:
        return pinned.reshape(nimg, p) * scale[None, :]
    G = _gauge(pidx, midx, nimg, p, locked)
    kkt = sparse.bmat([[normal, G.T], [G, None]], format="csc")
    sol = spsolve(kkt, np.concatenate([rhs, np.zeros(G.shape[0])]))
    return sol[: nimg * p].reshape(nimg, -1) * scale[None, :]


def _pinned_solve(normal, rhs, pidx, midx, nimg, p, locked, cache=None):
    """
    Solve for the gauge-fixed answer through a positive definite system.

    The normal equations fix each connected group's corrections only up to
    one plane added to all of them (the right-hand side lies in the range
    of the normal matrix). Pinning one image per group (its locked image,
    else its first) at zero makes the matrix positive definite, so it is
    factorised by Cholesky (`SpdSum`: banded in reverse Cuthill-McKee
    order), about 10x faster than the indefinite saddle-point system of the
    constraints (400 tiles, 1,203 unknowns: 2 ms against 19 ms); a group
    without a locked image is then shifted to sum to zero. Returns None
    when a group holds two locked images (least squares under both
    constraints: the saddle point).

    ``cache`` (a dict, for the robust passes over the same fits) keeps the
    groups and the factorisation's ordering between calls.
    """
    from scipy import sparse
    from scipy.sparse.csgraph import connected_components

    from ._spd import SpdSum

    cache = {} if cache is None else cache
    if "label" not in cache:
        adj = sparse.coo_matrix(
            (np.ones(len(pidx)), (pidx, midx)), shape=(nimg, nimg)
        )
        cache["ncomp"], cache["label"] = connected_components(adj, directed=False)
    ncomp, label = cache["ncomp"], cache["label"]
    nlocked = np.bincount(label[locked], minlength=ncomp)
    if np.any(nlocked > 1):
        return None
    first = np.full(ncomp, nimg)
    np.minimum.at(first, label, np.arange(nimg))
    ref = first.copy()
    ref[label[locked]] = np.flatnonzero(locked)
    diag = normal.diagonal()
    pin = np.zeros(nimg * p)
    pin[(ref[:, None] * p + np.arange(p)).ravel()] = diag.mean() if diag.any() else 1.0
    terms = [normal, sparse.diags(pin)]
    known = cache.get("sum")
    cache["sum"] = SpdSum(terms) if known is None else known.refill(terms)
    x = cache["sum"].factor([1.0]).solve(rhs)
    x = x.reshape(nimg, p)
    free = nlocked == 0  # groups whose corrections sum to zero
    sums = np.zeros((ncomp, p))
    np.add.at(sums, label, x)
    mean = sums / np.bincount(label, minlength=ncomp)[:, None]
    x -= np.where(free[label][:, None], mean[label], 0.0)
    return x.ravel()


def _chi(pidx, midx, W, target, u) -> np.ndarray:
    """Normalised misfit of every fit: sqrt((g - f)^T W (g - f))."""
    g = u[pidx] - u[midx] - target
    return np.sqrt(np.maximum(np.einsum("ki,kij,kj->k", g, W, g), 0.0))


def _huber_weights(pidx, midx, W, target, u, k=1.5):
    chi = _chi(pidx, midx, W, target, u)
    sigma = 1.4826 * np.median(chi) if len(chi) else 0.0
    if sigma <= 0:
        return np.ones(len(chi))
    return np.where(chi <= k * sigma, 1.0, k * sigma / np.maximum(chi, 1e-300))


def _tukey_weights(pidx, midx, W, target, u, c=4.685, floor=1e-6):
    """Tukey's biweight: fits beyond c robust sigmas keep a negligible weight.

    A rejected fit keeps ``floor / r^2`` (``r`` = misfit in units of
    ``c sigma``), so it pulls no harder than a ``sqrt(floor) c``-sigma fit,
    however wild, but an image left with only rejected fits still has an
    answer.
    """
    chi = _chi(pidx, midx, W, target, u)
    sigma = 1.4826 * np.median(chi) if len(chi) else 0.0
    if sigma <= 0:
        return np.ones(len(chi))
    r = chi / (c * sigma)
    return np.maximum(
        np.where(r < 1.0, (1.0 - r * r) ** 2, 0.0), floor / np.maximum(r * r, 1.0)
    )


def _irls(solve, weights, u, passes, settle=0.0):
    """Reweight and re-solve until the solution settles (at most ``passes``).

    ``solve(w)`` returns the solution in the caller's units, ``weights(u)``
    the weights for a solution. With ``settle`` > 0 the iteration also stops
    when no weight moves by more than ``settle`` (for solves that are only
    approximate, whose solutions never repeat exactly). Returns the solution
    and the last weights.
    """
    w = None
    for _ in range(passes):
        w_new = weights(u)
        if settle and w is not None and np.max(np.abs(w_new - w)) <= settle:
            break
        w = w_new
        u_new = solve(w)
        done = np.allclose(u_new, u, rtol=1e-6, atol=1e-9)
        u = u_new
        if done:
            break
    return u, w


def _robust(solve, pidx, midx, W, target, passes, settle=0.0):
    """Huber from the least-squares start, then Tukey (redescending).

    ``solve(Ww)`` returns the least-squares solution (caller's units) for
    the fits weighted by ``Ww``. Huber converges from any start; the
    biweight then removes what Huber only bounds: a few fits off by hundreds
    of DN still pull a Huber solution by a fraction of a DN each. Returns
    the solution and the fits' robust weights (``settle``: see `_irls`).
    """
    u = solve(W)
    w = np.ones(len(pidx))
    if passes:
        for weights in (_huber_weights, _tukey_weights):
            u, w = _irls(
                lambda w: solve(W * w[:, None, None]),
                lambda v, f=weights: f(pidx, midx, W, target, v),
                u,
                passes,
                settle,
            )
    return u, w


def _robust_plain(pidx, midx, W, target, nimg, scale, lockmask, passes):
    """`_robust` on the exact (small-problem) least-squares solve."""
    cache: dict = {}  # the groups and the ordering, for every pass

    def solve(Ww):
        return _solve_once(pidx, midx, Ww, target, nimg, scale, lockmask, cache)

    return _robust(solve, pidx, midx, W, target, passes)


def _solve_plain(pidx, midx, W, target, nimg, scale, lockmask, nrobust):
    """Weighted least squares (the point mBgModel converges to), optionally robust."""
    return _robust_plain(pidx, midx, W, target, nimg, scale, lockmask, nrobust)[0]
