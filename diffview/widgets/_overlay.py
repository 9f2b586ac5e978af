"""
Marker colours that stay visible under every colour table.

The pair panels mark two kinds of pixel over the pictures: the pixels the
fit rejected (drawn over the residual) and blank pixels (NaN, uncovered;
the colour map's "bad" colour). A fixed colour is lost in some tables (red
in the thermal and spectrum tables, black in every table that starts
black), so both follow the colour table: `diffview.render.contrast_colors`
picks the colours farthest from the table's.
"""

from __future__ import annotations

import functools

import numpy as np

from diffview.render import contrast_colors
from diffview.widgets._display import _cmap

__all__ = ["panel_cmap", "rejected_rgba", "marker_rgba"]


def rejected_rgba(ct: int) -> tuple[float, float, float, float]:
    """
    Return the colour of the rejected-pixel overlay under colour table ``ct``.

    Parameters
    ----------
    ct : int
        Colour table 0..12.

    Returns
    -------
    tuple of float
        Opaque (r, g, b, a) in 0..1.

    Examples
    --------
    >>> rejected_rgba(0)
    (0.0, 0.0, 1.0, 1.0)
    """
    return (*contrast_colors(ct)[0], 1.0)


@functools.lru_cache(maxsize=16)
def panel_cmap(ct: int):
    """
    Return colour table ``ct`` with blank pixels in a colour none of its own.

    Parameters
    ----------
    ct : int
        Colour table 0..12.

    Returns
    -------
    matplotlib.colors.ListedColormap
        mViewer's table (`diffview.render.mpl.montage_cmap`); NaN pixels
        drawn in the second of `diffview.render.contrast_colors`.

    Examples
    --------
    >>> panel_cmap(0).get_bad().tolist()
    [0.0, 1.0, 0.0, 1.0]
    """
    return _cmap(ct).with_extremes(bad=(*contrast_colors(ct)[1], 1.0))


def marker_rgba(mask: np.ndarray, rgba) -> np.ndarray:
    """
    Paint the True pixels of a mask in one colour, the others transparent.

    Parameters
    ----------
    mask : numpy.ndarray of bool
        The marked pixels.
    rgba : tuple of float
        Their colour.

    Returns
    -------
    numpy.ndarray
        ``mask.shape + (4,)`` float32, for ``imshow``.

    Examples
    --------
    >>> marker_rgba(np.array([[True, False]]), (0, 0, 1, 1))[0].tolist()
    [[0.0, 0.0, 1.0, 1.0], [0.0, 0.0, 0.0, 0.0]]
    """
    out = np.zeros(mask.shape + (4,), dtype=np.float32)
    out[mask] = rgba
    return out
