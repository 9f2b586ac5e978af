"""NaN-aware block averages: reduced pictures of big images."""

from __future__ import annotations

import math

import numpy as np

from diffview.errors import InputError

__all__ = ["block_average", "preview"]


def block_average(data, factor: int) -> np.ndarray:
    """
    NaN-aware mean over ``factor x factor`` blocks.

    Partial blocks at the right and bottom edges are included; a block with
    no finite pixel is NaN.

    Parameters
    ----------
    data : array_like
        2-d image.
    factor : int
        Block side in pixels, >= 1 (1 returns a float copy).

    Returns
    -------
    numpy.ndarray
        float64, shape ``(ceil(rows / factor), ceil(columns / factor))``.

    Raises
    ------
    diffview.InputError
        ``factor`` below 1.

    Examples
    --------
    >>> a = np.array([[1.0, 3.0, 5.0], [np.nan, 2.0, 7.0]])
    >>> block_average(a, 2).tolist()
    [[2.0, 6.0]]
    """
    a = np.asarray(data, dtype=float)
    f = int(factor)
    if f < 1:
        raise InputError(f"block factor must be >= 1 (got {factor})")
    if f == 1:
        return a.copy()
    ny, nx = a.shape
    my, mx = -(-ny // f), -(-nx // f)
    pad = np.full((my * f, mx * f), np.nan)
    pad[:ny, :nx] = a
    blocks = pad.reshape(my, f, mx, f)
    ok = np.isfinite(blocks)
    s = np.where(ok, blocks, 0.0).sum(axis=(1, 3))
    n = ok.sum(axis=(1, 3))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(n > 0, s / np.maximum(n, 1), np.nan)


def preview(data, max_size: int = 1024) -> np.ndarray:
    """
    Reduce an image so that both sides are at most ``max_size`` pixels.

    Uses the smallest integer block factor that fits (NaN-aware
    `block_average`); small images are returned as float arrays unchanged.

    Parameters
    ----------
    data : array_like
        2-d image.
    max_size : int
        Largest side of the result, pixels.

    Returns
    -------
    numpy.ndarray
        float64 image.

    Examples
    --------
    >>> preview(np.ones((10, 30)), 8).shape
    (3, 8)
    """
    a = np.asarray(data, dtype=float)
    f = max(1, math.ceil(max(a.shape) / max(1, int(max_size))))
    return a if f == 1 else block_average(a, f)
