"""
Overlap search at survey scale: candidates from a grid, tests on arrays.

mOverlaps compares every pair of images (``docs/montage-semantics.md`` §5.4).
Here the same two steps run without an n x n array: the bounding-circle test
(centres no further apart than the sum of the radii) only on the pairs a
grid of cubes over the centres' unit vectors puts near each other, then
mOverlaps' quick test (a corner inside the other footprint, or two edges
crossing as great-circle arcs) on arrays of candidate pairs, a chunk at a
time. Unit vectors make RA
0/360 and the poles ordinary points.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "unit_vectors",
    "footprint_radii",
    "edge_normals",
    "candidate_pairs",
    "quick_overlaps",
]

#: Candidate pairs tested per chunk (a few tens of MB of temporaries).
_CHUNK = 32768


def unit_vectors(ra, dec) -> np.ndarray:
    """
    Return the unit vectors of sky positions.

    Parameters
    ----------
    ra, dec : array_like
        Degrees, any (same) shape.

    Returns
    -------
    numpy.ndarray
        Shape ``ra.shape + (3,)``.

    Examples
    --------
    >>> unit_vectors([90.0], [0.0]).round(12).tolist()
    [[0.0, 1.0, 0.0]]
    """
    ra, dec = np.radians(ra), np.radians(dec)
    return np.stack(
        [np.cos(dec) * np.cos(ra), np.cos(dec) * np.sin(ra), np.sin(dec)], axis=-1
    )


def _dot(a, b):
    """Row-wise dot product over the last axis, summed in x, y, z order."""
    return a[..., 0] * b[..., 0] + a[..., 1] * b[..., 1] + a[..., 2] * b[..., 2]


def footprint_radii(vectors, centers) -> np.ndarray:
    """
    Largest centre-to-corner angle of each footprint, radians.

    Parameters
    ----------
    vectors : numpy.ndarray
        ``(n, 4, 3)`` corner unit vectors.
    centers : numpy.ndarray
        ``(n, 3)`` centre unit vectors.

    Returns
    -------
    numpy.ndarray
        ``(n,)``; NaN where a corner or the centre is not finite.

    Examples
    --------
    >>> v = unit_vectors([[1.0, -1.0, -1.0, 1.0]], [[-1.0, -1.0, 1.0, 1.0]])
    >>> c = unit_vectors([0.0], [0.0])
    >>> np.degrees(footprint_radii(v, c)).round(4).tolist()
    [1.4141]
    """
    dots = np.clip(_dot(vectors, centers[:, None, :]), -1, 1)
    return np.arccos(dots).max(axis=1)


def edge_normals(vectors, centers) -> np.ndarray:
    """
    Edge normals ``c_i x c_{i+1}`` of each footprint, centre on the inside.

    Parameters
    ----------
    vectors : numpy.ndarray
        ``(n, 4, 3)`` corner unit vectors, in polygon order.
    centers : numpy.ndarray
        ``(n, 3)`` centre unit vectors.

    Returns
    -------
    numpy.ndarray
        ``(n, 4, 3)``: a unit vector ``v`` is inside footprint ``i`` when
        ``normals[i] @ v >= 0`` for all four edges.

    Examples
    --------
    >>> v = unit_vectors([[1.0, -1.0, -1.0, 1.0]], [[-1.0, -1.0, 1.0, 1.0]])
    >>> n = edge_normals(v, unit_vectors([0.0], [0.0]))
    >>> bool(np.all(n[0] @ unit_vectors(0.0, 0.0) > 0))
    True
    """
    n = np.cross(vectors, np.roll(vectors, -1, axis=1))
    sign = np.sign(_dot(n, centers[:, None, :]))
    sign[sign == 0] = 1
    return n * sign[..., None]


def _chord(angle):
    """Chord length of an angle (radians), 2 for half a turn and more."""
    return 2 * np.sin(np.minimum(angle, np.pi) / 2)


def candidate_pairs(centers, radii) -> tuple[np.ndarray, np.ndarray]:
    """
    Pairs whose centres are no further apart than the sum of their radii.

    Images are grouped by radius (powers of two). Each group looks for its
    partners among the images of its own and the smaller groups, in a grid
    of cubes over the unit vectors as wide as the group's largest reach, so
    every pair is found once, from its larger member, and one very large
    image does not widen the search of the others. No n x n array is made.

    Parameters
    ----------
    centers : numpy.ndarray
        ``(n, 3)`` centre unit vectors.
    radii : numpy.ndarray
        ``(n,)`` radii, radians. Images with a non-finite centre or radius
        take part in no pair.

    Returns
    -------
    tuple of numpy.ndarray
        ``(k, l)`` row indices, ``k < l``, sorted by ``k`` then ``l``.

    Examples
    --------
    >>> c = unit_vectors([0.0, 0.15, 359.9, 10.0], [0.0, 0.0, 0.0, 0.0])
    >>> k, l = candidate_pairs(c, np.radians([0.1, 0.1, 0.1, 0.1]))
    >>> list(zip(k.tolist(), l.tolist()))
    [(0, 1), (0, 2)]
    """
    ok = np.flatnonzero(np.isfinite(radii) & np.isfinite(centers).all(axis=1))
    c, r = centers[ok], radii[ok]
    level = np.floor(np.log2(np.maximum(r, 1e-12)))
    ks, ms = [np.zeros(0, np.int64)], [np.zeros(0, np.int64)]
    for lev in np.unique(level):
        queries = np.flatnonzero(level == lev)
        pool = np.flatnonzero(level <= lev)
        for k, m in _grid_join(c, queries, pool, _chord(2 * r[queries].max())):
            keep = (level[m] < lev) | (m > k)
            k, m = k[keep], m[keep]
            keep = np.arccos(np.clip(_dot(c[k], c[m]), -1, 1)) <= r[k] + r[m]
            ks.append(ok[k[keep]])
            ms.append(ok[m[keep]])
    k, m = np.concatenate(ks), np.concatenate(ms)
    k, m = np.minimum(k, m), np.maximum(k, m)
    order = np.lexsort((m, k))
    return k[order], m[order]


def _grid_join(points, queries, pool, reach):
    """
    Yield ``(k, m)`` chunks: m in ``pool`` in the 27 cubes around query k.

    The cubes are at least ``reach`` wide, so every pool point within
    ``reach`` (chord) of a query is yielded, with others nearby.
    """
    size = max(float(reach) * (1 + 1e-9), 1e-5)
    side = int(2 / size) + 4  # cells per axis, with a margin on both sides

    def keys(cells):
        return cells[..., 0] + side * (cells[..., 1] + side * cells[..., 2])

    cells = np.floor((points + 1) / size).astype(np.int64) + 1
    order = pool[np.argsort(keys(cells[pool]), kind="stable")]
    sorted_keys = keys(cells[order])
    steps = np.array(np.meshgrid(*[[-1, 0, 1]] * 3)).reshape(3, -1).T
    for s in range(0, len(queries), 4096):
        q = queries[s : s + 4096]
        near = keys(cells[q][:, None, :] + steps[None]).ravel()
        lo = np.searchsorted(sorted_keys, near, side="left")
        count = np.searchsorted(sorted_keys, near, side="right") - lo
        start = np.repeat(lo - np.cumsum(count) + count, count)
        yield (np.repeat(np.repeat(q, len(steps)), count),
               order[start + np.arange(int(count.sum()))])


def _corner_inside(vk, nm) -> np.ndarray:
    """Tell per pair whether a corner of k is inside (or on) m.

    ``vk``, ``nm``: (x, y, z) tuples of ``(P, 4)`` arrays.
    """
    dots = _dot3([c[:, :, None] for c in vk], [c[:, None, :] for c in nm])
    return np.any(np.all(dots >= 0, axis=2), axis=1)  # (P, corner, edge)


def _cross(a, b):
    """Cross product of vectors given as (x, y, z) tuples of arrays."""
    return (a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2],
            a[0] * b[1] - a[1] * b[0])


def _dot3(a, b):
    return a[0] * b[0] + a[1] * b[1] + a[2] * b[2]


def _edges_cross(vk, vm) -> np.ndarray:
    """Tell per pair whether two edges cross or touch as great-circle arcs.

    ``vk``, ``vm``: (x, y, z) tuples of ``(P, 4)`` corner arrays.
    """

    def parts(v, axis):  # (x, y, z) of the edges' start and end corners
        return (tuple(np.expand_dims(c, axis) for c in v),
                tuple(np.expand_dims(np.roll(c, -1, axis=1), axis) for c in v))

    a1, a2 = parts(vk, 2)  # (P, 4, 1): edge i of k
    b1, b2 = parts(vm, 1)  # (P, 1, 4): edge j of m
    na, nb = _cross(a1, a2), _cross(b1, b2)
    p = _cross(na, nb)  # a point where the two great circles meet
    norm = np.sqrt(_dot3(p, p))
    with np.errstate(invalid="ignore", divide="ignore"):
        p = tuple(c / norm for c in p)
    # p is on both arcs, or its antipode -p is (signs flip exactly)
    d = (_dot3(_cross(a1, p), na), _dot3(_cross(p, a2), na),
         _dot3(_cross(b1, p), nb), _dot3(_cross(p, b2), nb))
    on = (d[0] >= 0) & (d[1] >= 0) & (d[2] >= 0) & (d[3] >= 0)
    on |= (d[0] <= 0) & (d[1] <= 0) & (d[2] <= 0) & (d[3] <= 0)
    # same great circle: left to the corner tests
    return np.any(on & (norm >= 1e-15), axis=(1, 2))


def quick_overlaps(vectors, normals, k, m) -> np.ndarray:
    """
    Run mOverlaps' quick test on arrays of pairs.

    A pair overlaps when a corner of either footprint is inside or on the
    other (all four ``normal . corner >= 0``), or when two of their edges
    cross or touch as great-circle arcs (``docs/montage-semantics.md``
    §5.4).

    Parameters
    ----------
    vectors : numpy.ndarray
        ``(n, 4, 3)`` corner unit vectors.
    normals : numpy.ndarray
        ``(n, 4, 3)`` inward edge normals (`edge_normals`).
    k, m : numpy.ndarray
        Row indices of the pairs to test.

    Returns
    -------
    numpy.ndarray
        One bool per pair.

    Examples
    --------
    >>> ra = np.array([[1.0, -1.0, -1.0, 1.0]])
    >>> dec = np.array([[-1.0, -1.0, 1.0, 1.0]])
    >>> v = unit_vectors(np.vstack([ra, ra + 1.5, ra + 3]), np.vstack([dec] * 3))
    >>> n = edge_normals(v, unit_vectors([0.0, 1.5, 3.0], [0.0] * 3))
    >>> quick_overlaps(v, n, np.array([0, 0]), np.array([1, 2])).tolist()
    [True, False]
    """
    vc = [np.ascontiguousarray(vectors[..., i]) for i in range(3)]
    nc = [np.ascontiguousarray(normals[..., i]) for i in range(3)]
    out = np.zeros(len(k), bool)
    for s in range(0, len(k), _CHUNK):
        kk, mm = k[s : s + _CHUNK], m[s : s + _CHUNK]
        vk, vm = [c[kk] for c in vc], [c[mm] for c in vc]
        hit = _corner_inside(vk, [c[mm] for c in nc])
        hit |= _corner_inside(vm, [c[kk] for c in nc])
        rest = np.flatnonzero(~hit)
        if len(rest):
            hit[rest] = _edges_cross([c[rest] for c in vk], [c[rest] for c in vm])
        out[s : s + _CHUNK] = hit
    return out
