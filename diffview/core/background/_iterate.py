"""
mBgModel's iterations in numpy (no compiled loop to load).

The compiled ``bg_iterate`` (``diffview.core._kernels_bg``) recomputes every
image's sums from every fit in each iteration. Those sums are linear in the
corrections: when image ``k`` moves by an increment, the sums of every image
change by a fixed matrix times it. Here that matrix is built once (dense,
``3 nimage x 3 nimage``), and each iteration is a handful of whole-array
calls on the images alone: the sums rounded to float32, the per-image
float32 solves of Montage, the halving, and one matrix-vector product that
moves the sums. It is fast while the images are few (the matrix grows with
their square); `diffview.core.background.montage` chooses between the two
(`_loader.use_compiled`). The corrections agree with the compiled loop's to
rounding (about 1e-8 relative: the sums are added in a different order
before Montage's float32 rounding), far below what ``corrections.tbl``
prints.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["numpy_bg_iterate", "numpy_extra_seconds", "MAX_IMAGES"]

#: Seconds of one numpy iteration besides its matrix product, of one entry
#: of that product, and of one fit in one iteration of the compiled loop
#: (measured on a 2-core machine; `numpy_extra_seconds`).
_ITERATION_SECONDS = 6e-6
_ENTRY_SECONDS = 1e-9
_COMPILED_FIT_SECONDS = 6e-9

#: Most images solved in numpy: the dense matrix holds ``(3 n)^2`` numbers
#: (18 MB for 500 images); more always go to the compiled loop.
MAX_IMAGES = 500


def numpy_extra_seconds(niteration: int, nimage: int, nfit: int) -> float:
    """
    Estimated seconds `numpy_bg_iterate` spends beyond the compiled loop.

    Parameters
    ----------
    niteration : int
        Iterations run.
    nimage : int
        Images with a correction.
    nfit : int
        Fits, each counted with its mirror.

    Returns
    -------
    float
        The estimate (for `diffview.core.use_compiled`); infinite above
        `MAX_IMAGES` images.

    Examples
    --------
    >>> round(numpy_extra_seconds(10000, 40, 200), 3)
    0.192
    >>> numpy_extra_seconds(1, 1000, 5000)
    inf
    """
    if nimage > MAX_IMAGES:
        return math.inf
    numpy = _ITERATION_SECONDS + _ENTRY_SECONDS * (3 * nimage) ** 2
    return niteration * max(0.0, numpy - _COMPILED_FIT_SECONDS * nfit)


def _sum_matrix(mom, w, pidx, midx, has_minus, nimg) -> np.ndarray:
    """How the sums move with the increments: ``K`` with ``ds = -K @ inc``.

    Sums are ``(Sxz, Syz, Sz)`` of each image, increments ``(a, b, c)``;
    both flattened image by image. A fit of image ``p`` against ``m`` adds
    its weighted box moments to ``K[p, p]`` and subtracts them from
    ``K[p, m]`` (when ``m`` has a correction).
    """
    mn, mx, my, mxx, mxy, myy = mom
    # rows: (Sxz, Syz, Sz); columns: (a, b, c), as bg_iterate's sums
    blocks = np.array([[mxx, mxy, mx], [mxy, myy, my], [mx, my, mn]]) * w
    i, j = np.indices((3, 3)).reshape(2, -1, 1)
    size = 3 * nimg
    diag = (3 * pidx + i) * size + 3 * pidx + j
    off = (3 * pidx + i) * size + 3 * midx + j
    weights = blocks.reshape(9, -1)
    flat = np.bincount(diag.ravel(), weights.ravel(), minlength=size * size)
    flat -= np.bincount(
        off[:, has_minus].ravel(), weights[:, has_minus].ravel(), minlength=size * size
    )
    return flat.reshape(size, size)


def _initial_sums(A, B, C, mom, w, pidx, nimg) -> np.ndarray:
    """``(Sxz, Syz, Sz)`` of every image, as bg_iterate's first iteration adds them."""
    mn, mx, my, mxx, mxy, myy = mom
    return np.stack(
        [
            np.bincount(pidx, (A * mxx + B * mxy + C * mx) * w, minlength=nimg),
            np.bincount(pidx, (A * mxy + B * myy + C * my) * w, minlength=nimg),
            np.bincount(pidx, (A * mx + B * my + C * mn) * w, minlength=nimg),
        ],
        axis=1,
    )


def _f32(values: np.ndarray) -> np.ndarray:
    """Round to float32 and back, as Montage's float variables do."""
    return values.astype(np.float32).astype(np.float64)


def numpy_bg_iterate(
    schedule, A, B, C, mom, w, pidx, midx, has_minus, n, inv2, inv3, locked, corr
):
    """
    Run mBgModel's iterations in numpy.

    The compiled ``bg_iterate`` of `diffview.core.kernels` with the same
    arguments; ``corr`` receives the summed corrections. ``A``, ``B``,
    ``C`` are read, not updated.

    Parameters
    ----------
    schedule : numpy.ndarray
        Fit type of each iteration: 0 level, 1 slope, 2 both.
    A, B, C : numpy.ndarray
        Planes of the fits (each fit and its mirror).
    mom : numpy.ndarray
        ``(6, nfit)`` box moments ``n, x, y, xx, xy, yy`` of each fit.
    w : numpy.ndarray
        1 for the fits used, 0 for the rejected ones.
    pidx, midx : numpy.ndarray
        Correction index of each fit's plus and minus image.
    has_minus : numpy.ndarray
        Whether the minus image has a correction.
    n : numpy.ndarray
        Summed box areas of each image's used fits.
    inv2, inv3 : numpy.ndarray
        Per-image inverses of the slope and full normal matrices.
    locked : numpy.ndarray
        Images that never move.
    corr : numpy.ndarray
        ``(nimage, 3)``: receives the summed corrections ``a, b, c``.

    Examples
    --------
    Two images, one fit of level 2 between them, 20 level iterations:

    >>> one = np.ones(2)
    >>> mom = np.array([one * 80, 0 * one, 0 * one, one, 0 * one, one])
    >>> corr = np.zeros((2, 3))
    >>> numpy_bg_iterate(np.zeros(20, np.int64), 0 * one, 0 * one,
    ...                  np.array([2.0, -2.0]), mom, one, np.array([0, 1]),
    ...                  np.array([1, 0]), np.ones(2, bool), mom[0],
    ...                  np.zeros((2, 2, 2)), np.zeros((2, 3, 3)),
    ...                  np.zeros(2, bool), corr)
    >>> corr[:, 2].round(6).tolist()
    [1.0, -1.0]
    """
    nimg = len(n)
    K = _sum_matrix(mom, w, pidx, midx, has_minus, nimg)
    level_k = np.ascontiguousarray(K[:, 2::3])  # columns of the c increments
    sums = _initial_sums(A, B, C, mom, w, pidx, nimg).ravel()
    # bg_iterate's increments are halved, and zero for images without fits
    # or locked (0 * inf would be NaN: n is replaced where it is 0)
    half = np.where((n == 0) | locked, 0.0, 0.5)
    area = np.where(n == 0, 1.0, n)
    level = np.empty(nimg, np.float32)
    for fittype in schedule.tolist():
        s = sums.reshape(nimg, 3)
        if fittype == 0:
            np.divide(s[:, 2], area, out=level, casting="unsafe")
            inc = level * half
            corr[:, 2] += inc
            sums -= level_k @ inc
            continue
        r = _f32(s)
        if fittype == 1:
            inc = np.zeros((nimg, 3))
            inc[:, :2] = np.matmul(inv2, r[:, :2, None])[..., 0]
        else:
            inc = np.matmul(inv3, r[:, :, None])[..., 0]
        inc = inc.astype(np.float32) * half[:, None]
        corr += inc
        sums -= K @ inc.ravel()
