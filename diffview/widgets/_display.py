"""
What the dashboard's pictures are made of.

The cached colour tables, the mViewer norms, the block-averaged arrays
handed to ``imshow``, and the unit of their pixels (``BUNIT``).
"""

from __future__ import annotations

import functools
import math

import numpy as np
from matplotlib.colors import Normalize

from diffview.core import block_average
from diffview.render.mpl import MViewerNorm, montage_cmap
from diffview.widgets._settings import DisplaySettings

__all__ = ["PANEL_PIXELS", "make_norm", "display_array", "panel_units"]

#: Longest side of an array handed to imshow in the pair panels.
PANEL_PIXELS = 400

#: `diffview.render.mpl.montage_cmap`, each colour table built once.
_cmap = functools.lru_cache(maxsize=16)(montage_cmap)


def make_norm(data: np.ndarray, settings: DisplaySettings, resolved=None) -> Normalize:
    """
    Make the mViewer norm of an array under display settings.

    Parameters
    ----------
    data : numpy.ndarray
        The array shown.
    settings : DisplaySettings
        Mode and range strings.
    resolved : diffview.render.Stretch, optional
        The stretch already resolved on ``data`` with ``settings`` (as
        `Explorer.panel_stretch` answers); computed when not given.

    Returns
    -------
    matplotlib.colors.Normalize
        An `MViewerNorm`, or a plain 0..1 norm when ``data`` has no finite
        pixel.

    Examples
    --------
    >>> make_norm(np.full((2, 2), np.nan), DisplaySettings()).vmax
    1.0
    >>> n = make_norm(np.arange(12.0).reshape(3, 4), DisplaySettings("linear", "min"))
    >>> float(n.vmin), float(n.vmax)
    (0.0, 11.0)
    """
    if resolved is not None:
        return MViewerNorm(data, stretch=resolved)
    if not np.isfinite(data).any():
        return Normalize(0.0, 1.0)
    return MViewerNorm(data, settings.vmin, settings.vmax, settings.mode)


def display_array(array: np.ndarray, max_pixels: int = PANEL_PIXELS) -> np.ndarray:
    """
    Block-average an array so its longest side is at most ``max_pixels``.

    Parameters
    ----------
    array : numpy.ndarray
        A 2-d array (NaN blank).
    max_pixels : int
        Longest side wanted.

    Returns
    -------
    numpy.ndarray
        ``array`` itself when small enough, else its NaN-aware block average
        by the smallest integer factor that fits.

    Examples
    --------
    >>> display_array(np.ones((1000, 10)), 400).shape
    (334, 4)
    """
    factor = max(1, math.ceil(max(array.shape) / max_pixels))
    return array if factor == 1 else block_average(array, factor)


def panel_units(ws) -> str:
    """
    Read the pixel unit of a work folder's images (``BUNIT``; '' if none).

    The template's ``BUNIT`` when it has one, else the first projected
    image's.

    Parameters
    ----------
    ws : Workspace
        The template header (``template``) and the image table.

    Returns
    -------
    str
        E.g. ``'DN'``.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> panel_units(SimpleNamespace(template={"BUNIT": "MJy/sr"}))
    'MJy/sr'
    """
    units = str(ws.template.get("BUNIT", "") or "").strip()
    return units or _image_units(ws)


def _image_units(ws) -> str:
    from astropy.io import fits

    try:
        path = ws.image_path(str(ws.images["fname"][0]))
        return str(fits.getheader(path).get("BUNIT", "") or "").strip()
    except Exception:  # noqa: BLE001 - no unit is an answer, not an error
        return ""
