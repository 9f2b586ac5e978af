"""
Three-colour pictures as mViewer draws them (``-red``, ``-green``, ``-blue``).

Each channel has its own stretch; its value is mViewer's colour-mode value
(``docs/montage-semantics.md`` §8.12): the gaussian modes give the level,
the power and asinh modes ``255 t`` *without* the grey mode's rounding, and
the byte written is that value truncated. With ``-t`` (true colour) the three
values are scaled together to keep their ratios.
"""

from __future__ import annotations

import numpy as np

from .stretch import Stretch

__all__ = ["channel_values", "compose_rgb"]


def channel_values(data, stretch: Stretch, saturate: float = 0.0) -> np.ndarray:
    """
    Return one channel's values as mViewer's colour mode computes them.

    Parameters
    ----------
    data : array_like
        The channel's image.
    stretch : Stretch
        Its stretch (`compute_stretch`).
    saturate : float
        Value of blank pixels (``-saturate``).

    Returns
    -------
    ndarray
        ``float64`` values, >= 0 (power stretches may exceed 255).

    Examples
    --------
    >>> from diffview.render import compute_stretch
    >>> a = np.array([0.0, 1.0, 2.0, np.nan])
    >>> channel_values(a, compute_stretch(a, "min", "max", "linear")).tolist()
    [0.0, 127.5, 255.0, 0.0]
    """
    x = np.asarray(data, float)
    blank = ~np.isfinite(x)
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        if stretch.thresholds is not None:
            v = stretch.index(np.where(blank, 0.0, x)).astype(float)
        elif stretch.mode == "asinh":
            t = (x - stretch.vmin) / (stretch.vmax - stretch.vmin)
            v = np.where(t < 0.0, 0.0, 255.0 * np.arcsinh(stretch.beta * t)
                         / stretch.beta)
            v = np.clip(v, 0.0, 255.0)
        else:
            t = np.minimum(np.maximum(x, stretch.vmin), stretch.vmax)
            t = (t - stretch.vmin) / (stretch.vmax - stretch.vmin)
            for _ in range(stretch.logpower):
                t = np.log(9.0 * t + 1.0)
            v = np.maximum(255.0 * t, 0.0)
    return np.where(blank, float(saturate), v)


def compose_rgb(red, green, blue, truecolor: float = 0.0) -> np.ndarray:
    """
    Combine three channels' values into an RGB picture, as mViewer.

    Parameters
    ----------
    red, green, blue : ndarray
        `channel_values` of each channel (same shape), displayed orientation.
    truecolor : float
        mViewer's ``-t`` power (1..4) keeping the colours' ratios; 0: each
        channel clipped at 255 on its own.

    Returns
    -------
    ndarray, shape (ny, nx, 3)
        ``uint8`` picture (values truncated).

    Examples
    --------
    >>> one = np.array([[300.0, 10.5]])
    >>> compose_rgb(one, one / 2, one * 0, 0.0)[0].tolist()
    [[255, 150, 0], [10, 5, 0]]
    """
    v = np.stack([red, green, blue], axis=-1).astype(float)
    if truecolor > 0.0:
        top = v.max(axis=-1, keepdims=True)
        with np.errstate(invalid="ignore", divide="ignore"):
            scaled = np.power(v / top, truecolor)
        hot = (v >= 255.0).any(axis=-1, keepdims=True)
        v = np.where(hot, scaled * 255.0, np.where(top > 0.0, scaled * top, v))
    else:
        v = np.minimum(v, 255.0)
    return v.astype(np.uint8)
