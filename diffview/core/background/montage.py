"""
Montage's iterative background solve (mBgModel).

Each iteration moves every image half-way to the least-squares answer of its
neighbours' fits, with Montage's fitting modes, rejection rules, float32
solves and locked images (``docs/montage-semantics.md`` §6.1); see
`solve_montage`. The iterations run in numpy (``_iterate``) for a few
hundred images or fewer, unless the compiled loop pays for its loading
(`diffview.core.use_compiled`).
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from diffview.core._loader import kernels, use_compiled
from diffview.errors import InputError
from diffview.models import Correction, PlaneFit

from ._fits import AREA_LIMIT, _box_moments, _fit_arrays, _select
from ._images import ImageGeometry
from ._iterate import numpy_bg_iterate, numpy_extra_seconds

__all__ = ["SOLVER_MODES", "niteration_schedule", "solve_montage"]

#: mBgModel's fitting modes: name -> Montage's mode number (the ``mode`` of
#: `solve_montage` and `niteration_schedule`).
SOLVER_MODES = {"all": 0, "level": 1, "flip": 2, "toggle": 3}
_LEVEL, _SLOPE, _BOTH = 0, 1, 2

#: Most iterations run: Montage's default is 10^4; 10^11 (``-i 1e11``) would
#: take hours and, as a schedule, 745 GiB, so it is refused.
_MAX_ITERATIONS = 10**7


def niteration_schedule(mode: int, niteration: int) -> np.ndarray:
    """
    Fit type of every iteration of mBgModel: 0 level, 1 slope, 2 both.

    Parameters
    ----------
    mode : int
        0 ALL (level for ``maxlevel`` iterations, then both), 1 LEVEL_ONLY,
        2 FLIP (blocks of ``ntoggle`` level then slope), 3 TOGGLE (level for
        the first half, then slope).
    niteration : int
        Number of iterations; 0 means 10000, a negative number none (as in
        Montage).

    Returns
    -------
    numpy.ndarray of int

    Raises
    ------
    InputError
        An unknown mode, or more than 10^7 iterations.

    Examples
    --------
    >>> niteration_schedule(3, 6).tolist()
    [0, 0, 0, 1, 1, 1]
    >>> niteration_schedule(0, 4).tolist()
    [0, 0, 2, 2]
    """
    n = 10000 if niteration == 0 else max(int(niteration), 0)
    if n > _MAX_ITERATIONS:
        raise InputError(
            f"{niteration} iterations: at most {_MAX_ITERATIONS} (Montage's "
            "default is 10000)"
        )
    it = np.arange(n)
    if mode == 1:
        return np.zeros(n, int)
    if mode == 0:
        maxlevel = 2500 if n >= 5000 else int(n / 2.0)
        return np.where(it < maxlevel, _LEVEL, _BOTH)
    if mode in (2, 3):
        ntoggle = 1000 if n >= 10000 else int(n / 10.0)
        if mode == 3:
            ntoggle = int((n + 1.0) / 2.0)
        ntoggle = max(ntoggle, 1)
        return np.where((it // ntoggle) % 2 == 1, _SLOPE, _LEVEL)
    raise InputError(f"Invalid background model mode {mode}: use 0, 1, 2 or 3")


def _float32_solve(mat: np.ndarray, rhs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Batched solve on float32-rounded inputs, result rounded to float32.

    Returns the solutions and a mask of singular systems (zero increment).
    """
    m32 = mat.astype(np.float32).astype(float)
    r32 = rhs.astype(np.float32).astype(float)
    det = np.linalg.det(m32)
    singular = ~np.isfinite(det) | (
        np.abs(det) <= 1e-30 * np.abs(m32).max(axis=(1, 2)) ** mat.shape[1]
    )
    safe = m32.copy()
    safe[singular] = np.eye(mat.shape[1])
    sol = np.linalg.solve(safe, r32[..., None])[..., 0]
    sol[singular] = 0.0
    return sol.astype(np.float32).astype(float), singular


def _corr_order(plus: np.ndarray) -> np.ndarray:
    """Correction ids in order of first appearance as ``plus`` (Montage's)."""
    _, first = np.unique(plus, return_index=True)
    return plus[np.sort(first)]


def _neighbour_sums(mom: dict, pidx: np.ndarray, ncorr: int, use: np.ndarray):
    """Each image's sums of the box moments of its used fits."""
    w = use.astype(float)
    return {
        k: np.bincount(pidx, weights=v * w, minlength=ncorr) for k, v in mom.items()
    }


def _inverse(mat: np.ndarray) -> np.ndarray:
    eye = np.broadcast_to(np.eye(mat.shape[1]), mat.shape)
    sol = np.stack(
        [_float32_solve(mat, eye[:, :, k])[0] for k in range(mat.shape[1])], axis=2
    )
    _, singular = _float32_solve(mat, eye[:, :, 0])
    sol[singular] = 0.0
    return sol


def solve_montage(
    images: ImageGeometry,
    fits: list[PlaneFit],
    *,
    mode: int = 0,
    useall: bool = False,
    niteration: int = 10000,
    exclude_pairs: Iterable = (),
    exclude_images: Iterable = (),
) -> list[Correction]:
    """
    Background corrections as Montage's mBgModel computes them.

    Parameters
    ----------
    images : ImageGeometry
        From `image_geometry` (ids, sizes for the rejection rule, locks).
    fits : list of PlaneFit
        The overlap fits (``fits.tbl``).
    mode : int
        0 ALL, 1 LEVEL_ONLY, 2 FLIP, 3 TOGGLE (see `niteration_schedule`).
        MontagePy's default is 0, the mBgModel command line's is 3.
    useall : bool
        Keep every fit; otherwise fits with a non-finite rms or fewer pixels
        than 0.001 x the mean image area are dropped (Montage HEAD's rules).
    niteration : int
        Iterations (0 means 10000).
    exclude_pairs : iterable of (int, int)
        Pairs (either order) whose fits are left out.
    exclude_images : iterable of int
        Images whose fits are all left out (they get no correction).

    Returns
    -------
    list of Correction
        One per image that appears in a (kept) fit, sorted by id; images
        whose every fit was rejected get 0, 0, 0, as in Montage.

    Notes
    -----
    Montage looks an image's ``locked`` flag up by using its ``cntr`` as a row
    index into ``images.tbl``; diffview looks it up by ``cntr`` value. The two
    agree whenever ``cntr`` equals the row number (always true for
    mImgtbl's tables); with non-contiguous ``cntr`` diffview is right and
    Montage reads the wrong row or past the end. The 3x3 and 2x2 systems are
    solved from float32-rounded sums and the increments rounded to float32,
    as Montage's float solver does (agreement ~1e-6 relative).

    Examples
    --------
    Two 10 x 8 images whose difference is the level 2: each moves half-way.

    >>> from diffview.core.background import ImageGeometry
    >>> images = ImageGeometry(np.array([0, 1]), np.array([10, 10]),
    ...                        np.array([8, 8]), np.ones(2), np.ones(2),
    ...                        np.zeros(2, bool))
    >>> f = PlaneFit(0, 1, 0., 0., 2.0, 1., 1., 0, 9, 0, 7, 4.5, 3.5, 80, 0.1,
    ...              4.5, 3.5, 9., 7., 0.)
    >>> [round(c.c, 3) for c in solve_montage(images, [f], mode=1)]
    [1.0, -1.0]
    """
    fits = _select(fits, exclude_pairs, exclude_images, images, need_geometry=True)
    schedule = niteration_schedule(mode, niteration)
    if not fits:
        return []
    f = _fit_arrays(fits)
    mom = _box_moments(f)
    ids = _corr_order(f["plus"])
    pidx = np.searchsorted(np.sort(ids), f["plus"])
    order = np.argsort(ids)
    ids_sorted = ids[order]
    midx = np.searchsorted(ids_sorted, f["minus"])
    has_minus = (midx < len(ids_sorted)) & (
        ids_sorted[np.minimum(midx, len(ids) - 1)] == f["minus"]
    )
    midx = np.where(has_minus, midx, 0)
    use = np.ones(len(f["plus"]), bool)
    if not useall:
        use = (f["rms"] < 1e99) & ~(f["npixel"] < AREA_LIMIT * images.mean_area)
    ncorr = len(ids)
    S = _neighbour_sums(mom, pidx, ncorr, use)
    inv2 = _inverse(
        np.stack([[S["xx"], S["xy"]], [S["xy"], S["yy"]]]).transpose(2, 0, 1)
    )
    inv3 = _inverse(
        np.stack(
            [
                [S["xx"], S["xy"], S["x"]],
                [S["xy"], S["yy"], S["y"]],
                [S["x"], S["y"], S["n"]],
            ]
        ).transpose(2, 0, 1)
    )
    locked = _locked_by_id(images, ids_sorted)
    corr = np.zeros((ncorr, 3))
    _iterate(len(schedule), ncorr, len(pidx))(
        schedule.astype(np.int64),
        f["a"].copy(),
        f["b"].copy(),
        f["c"].copy(),
        np.stack([mom[k] for k in ("n", "x", "y", "xx", "xy", "yy")]),
        use.astype(float),
        pidx.astype(np.int64),
        midx.astype(np.int64),
        has_minus,
        S["n"],
        inv2,
        inv3,
        locked,
        corr,
    )
    return [Correction(int(i), *map(float, corr[k])) for k, i in enumerate(ids_sorted)]


def _iterate(niteration: int, nimage: int, nfit: int):
    """Choose mBgModel's iterations: the compiled loop when it pays, else numpy's."""
    extra = numpy_extra_seconds(niteration, nimage, nfit)
    if use_compiled(extra, "background"):
        return kernels("background").bg_iterate
    return numpy_bg_iterate


def _locked_by_id(images: ImageGeometry, ids_sorted: np.ndarray) -> np.ndarray:
    lock = dict(zip(images.cntr.tolist(), images.locked.tolist(), strict=True))
    return np.array([bool(lock.get(int(i), False)) for i in ids_sorted], bool)
