"""Seeded survey-scale tables for the background solvers: no pixels, no files.

``make_survey`` lays two staggered layers of square tiles on a jittered grid,
every tile overlapping its neighbours along edges and at corners (about six
fits per image), injects a background plane into each image and makes each
fit the difference of the two planes plus fit noise (about 0.3 DN over its
box), with a fraction of wild fits. ``rms_per_image`` measures corrections
against the injected planes. Shared by ``tests/core/test_background.py`` and
``tests/benchmarks/bench_solve.py``.
"""

import numpy as np

TILE = 1000  # pixels on a side
STEP = 900  # grid spacing: 100-pixel edge overlaps, 100 x 100 corners


def _layout(nimages: int, rng: np.random.Generator):
    """Lower-left pixel corners of the tiles: two layers, the second shifted
    by half a step, each a near-square jittered grid; and each tile's
    (layer, column, row)."""
    per_layer = nimages // 2
    ncol = int(np.ceil(np.sqrt(per_layer)))
    nrow = int(np.ceil(per_layer / ncol))
    cells = []
    for layer in (0, 1):
        col, row = np.meshgrid(np.arange(ncol), np.arange(nrow))
        keep = np.arange(col.size) < (per_layer if layer == 0 else nimages - per_layer)
        cells.append(
            np.column_stack(
                [np.full(keep.sum(), layer), col.ravel()[keep], row.ravel()[keep]]
            )
        )
    cells = np.vstack(cells)
    shift = cells[:, 0] * STEP / 2
    x0 = cells[:, 1] * STEP + shift + rng.normal(0, 15, len(cells))
    y0 = cells[:, 2] * STEP + shift + rng.normal(0, 15, len(cells))
    return np.column_stack([x0, y0]), cells


def _pairs(cells: np.ndarray) -> np.ndarray:
    """Candidate overlapping pairs (i < j): grid neighbours in each layer and
    the four nearest tiles of the other layer."""
    index = {tuple(c): k for k, c in enumerate(cells.tolist())}
    out = []
    for k, (layer, col, row) in enumerate(cells.tolist()):
        near = [(layer, col + 1, row), (layer, col, row + 1), (layer, col + 1, row + 1)]
        near.append((layer, col - 1, row + 1))
        if layer == 0:
            near += [(1, col - dc, row - dr) for dc in (0, 1) for dr in (0, 1)]
        for cell in near:
            other = index.get(cell)
            if other is not None:
                out.append((k, other))
    return np.array(out)


def make_survey(nimages: int, seed: int = 0, wild: float = 0.005):
    """A seeded survey table: ``(ImageGeometry, list of PlaneFit, truth)``.

    ``truth`` is an ``(nimages, 3)`` array of the injected planes ``a, b, c``
    in Montage's plane coordinates (one frame for all images: the projection's
    reference pixel is the origin, so ``x = i - CRPIX1`` is global).
    """
    from diffview.core import ImageGeometry
    from diffview.models import PlaneFit

    rng = np.random.default_rng(seed)
    corner, cells = _layout(nimages, rng)
    n = len(corner)
    origin = corner.mean(axis=0)
    crpix = origin[None, :] - corner  # x = i - crpix1 = global - origin
    slope = rng.normal(0, 0.004, (n, 2))  # about 1.2 DN rms over a tile per axis
    level = rng.normal(0, 5.0, n)  # at the tile centre
    centre = corner - origin[None, :] + (TILE - 1) / 2
    truth = np.column_stack([slope, level - np.sum(slope * centre, axis=1)])
    pairs = _pairs(cells)
    lo = np.maximum(corner[pairs[:, 0]], corner[pairs[:, 1]])
    hi = np.minimum(corner[pairs[:, 0]], corner[pairs[:, 1]]) + TILE
    size = np.floor(hi - lo)
    ok = np.all(size >= 2, axis=1)
    pairs, lo, size = pairs[ok], lo[ok], size[ok]
    box = lo - origin[None, :] + (size - 1) / 2
    diff = truth[pairs[:, 0]] - truth[pairs[:, 1]]
    # fit noise: level error at the box centre, slope errors giving the same
    # error at the box edges (so thin strips cannot pin their cross slope)
    err_level = rng.normal(0, 0.3, len(pairs))
    err_slope = rng.normal(0, 0.3, (len(pairs), 2)) / (size / 2)
    bad = rng.random(len(pairs)) < wild
    err_level[bad] += rng.normal(0, 100.0, bad.sum())
    a = diff[:, 0] + err_slope[:, 0]
    b = diff[:, 1] + err_slope[:, 1]
    c = diff[:, 2] + err_level - np.sum(err_slope * box, axis=1)
    rms = np.abs(rng.normal(1.0, 0.1, len(pairs)))
    half = (size - 1) / 2
    columns = [pairs[:, 0], pairs[:, 1], a, b, c, origin[0] - lo[:, 0]]
    columns += [origin[1] - lo[:, 1], box[:, 0] - half[:, 0], box[:, 0] + half[:, 0]]
    columns += [box[:, 1] - half[:, 1], box[:, 1] + half[:, 1], box[:, 0], box[:, 1]]
    columns += [size[:, 0] * size[:, 1], rms, box[:, 0], box[:, 1], size[:, 0]]
    columns += [size[:, 1], np.zeros(len(pairs))]
    fits = [
        PlaneFit(int(r[0]), int(r[1]), *r[2:13], int(r[13]), *r[14:])
        for r in np.column_stack(columns).tolist()
    ]
    tile = np.full(n, TILE)
    lock = np.zeros(n, bool)
    geo = ImageGeometry(np.arange(n), tile, tile, crpix[:, 0], crpix[:, 1], lock)
    return geo, fits, truth


def rms_per_image(corrections, truth: np.ndarray, geo) -> np.ndarray:
    """Each image's rms (over its pixels) of correction minus truth, after the
    least-squares plane common to all images is removed; NaN for images
    without a correction. Exact pixel sums, no sampling."""
    err = np.full((len(truth), 3), np.nan)
    for c in corrections:
        err[c.id] = (c.a, c.b, c.c)
    err -= truth
    have = np.isfinite(err[:, 0])
    nx, ny = geo.naxis1.astype(float), geo.naxis2.astype(float)
    mx, my = (nx - 1) / 2 - geo.crpix1, (ny - 1) / 2 - geo.crpix2
    vx, vy = (nx * nx - 1) / 12, (ny * ny - 1) / 12
    # per-image second moments of (x, y, 1) over its pixels
    mom = np.zeros((len(truth), 3, 3))
    mom[:, 0, 0], mom[:, 1, 1] = vx + mx * mx, vy + my * my
    mom[:, 0, 1] = mom[:, 1, 0] = mx * my
    mom[:, 0, 2] = mom[:, 2, 0] = mx
    mom[:, 1, 2] = mom[:, 2, 1] = my
    mom[:, 2, 2] = 1.0
    weight = (nx * ny)[have, None, None]
    common = np.linalg.solve(
        np.sum(mom[have] * weight, axis=0),
        np.einsum("nij,nj->i", mom[have] * weight, err[have]),
    )
    e = err - common[None, :]
    out = np.sqrt(np.maximum(np.einsum("ni,nij,nj->n", e, mom, e), 0.0))
    out[~have] = np.nan
    return out
