"""
mViewer's pseudo-colour tables (``-ct 0..12``) and overlay colours.

Each table is piecewise linear between control points with Montage's
*integer* slopes (the truncated quotient Δcolour/Δindex), values truncated to
0..255 and later segments overwriting shared end points
(``docs/montage-semantics.md`` §8.7). Table 11's first entry is black.
Overlay colours follow ``-color`` (§8.8): six hex digits with optional ``#``,
or one of mViewer's names; unknown words are gray, as in Montage.
"""

from __future__ import annotations

import re
from functools import cache

import numpy as np

from diffview.errors import InputError

__all__ = [
    "NTABLES",
    "TABLE_NAMES",
    "color_table",
    "color_rgb",
    "overlay_rgb255",
    "contrast_colors",
]

#: Number of colour tables (0..12).
NTABLES = 13

#: Short descriptions (Montage's documentation names).
TABLE_NAMES = {
    0: "grayscale", 1: "reverse grayscale", 2: "thermal (blue-red-yellow-white)",
    3: "spectrum", 4: "thermal", 5: "reverse thermal", 6: "log thermal",
    7: "velocity (red-blue)", 8: "red ramp", 9: "green ramp", 10: "blue ramp",
    11: "thermal (12 points, black start)", 12: "pastel",
}

_D0 = (0, 255)
_D16 = tuple(range(0, 256, 17))
_D13 = (0, 25, 40, 55, 70, 90, 110, 130, 150, 175, 200, 225, 255)
_D12A = (0, 23, 46, 70, 93, 116, 139, 162, 185, 209, 232, 255)
_D12B = (0, 20, 39, 59, 78, 98, 118, 137, 156, 177, 196, 255)

# (breakpoints, red, green, blue) control values, docs/montage-semantics.md §8.7
_TABLES = {
    0: (_D0, (0, 255), (0, 255), (0, 255)),
    1: (_D0, (255, 0), (255, 0), (255, 0)),
    2: (_D16,
        (0, 98, 180, 255, 246, 220, 181, 88, 0, 0, 0, 0, 0, 85, 170, 255),
        (0, 0, 0, 0, 88, 181, 220, 245, 255, 235, 180, 98, 0, 128, 192, 255),
        (0, 180, 98, 0, 0, 0, 0, 0, 0, 98, 180, 235, 255, 255, 255, 255)),
    3: (_D13,
        (0, 0, 0, 0, 0, 0, 0, 150, 225, 255, 255, 196, 255),
        (0, 0, 0, 125, 196, 226, 255, 255, 225, 150, 0, 0, 255),
        (0, 150, 255, 225, 196, 125, 0, 0, 0, 0, 0, 196, 255)),
    4: (_D16,
        (0, 0, 0, 0, 0, 0, 0, 20, 135, 210, 240, 255, 240, 255, 255, 255),
        (0, 0, 20, 63, 112, 162, 210, 255, 240, 205, 135, 20, 0, 85, 170, 255),
        (0, 95, 175, 250, 255, 175, 90, 30, 0, 0, 0, 0, 0, 85, 170, 255)),
    5: (_D16,
        (255, 255, 255, 240, 255, 240, 210, 135, 20, 0, 0, 0, 0, 0, 0, 0),
        (255, 170, 85, 0, 20, 135, 205, 240, 255, 210, 162, 112, 63, 20, 0, 0),
        (255, 170, 85, 0, 0, 0, 0, 0, 30, 90, 175, 255, 250, 175, 95, 0)),
    6: (_D16,
        (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 20, 210, 240, 240, 255),
        (0, 0, 0, 10, 20, 41, 63, 83, 112, 137, 162, 255, 205, 135, 0, 255),
        (0, 47, 95, 140, 175, 212, 250, 252, 255, 212, 175, 30, 0, 0, 0, 255)),
    7: (_D16,
        (255, 255, 255, 255, 255, 255, 255, 255, 224, 192, 160, 128, 96, 64, 32, 0),
        (0, 32, 64, 96, 128, 160, 192, 224, 224, 192, 160, 128, 96, 64, 32, 0),
        (0, 32, 64, 96, 128, 160, 192, 224, 255, 255, 255, 255, 255, 255, 255, 255)),
    8: (_D0, (0, 255), (0, 0), (0, 0)),
    9: (_D0, (0, 0), (0, 255), (0, 0)),
    10: (_D0, (0, 0), (0, 0), (0, 255)),
    11: (_D12A,
         (0, 0, 0, 20, 135, 210, 240, 255, 240, 255, 255, 255),
         (0, 85, 170, 255, 240, 205, 135, 20, 0, 85, 170, 255),
         (255, 175, 90, 30, 0, 0, 0, 0, 0, 85, 170, 255)),
    12: (_D12B,
         (255, 255, 191, 160, 128, 122, 255, 255, 255, 255, 200, 128),
         (255, 255, 204, 230, 255, 255, 255, 200, 145, 0, 0, 0),
         (255, 255, 255, 255, 255, 147, 0, 0, 0, 0, 0, 0)),
}


def _ctrunc_div(a: int, b: int) -> int:
    """C integer division (truncates toward zero)."""
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b > 0) else -q


@cache
def _build(ct: int) -> np.ndarray:
    dn, *channels = _TABLES[ct]
    table = np.zeros((256, 3), dtype=np.uint8)
    for c, ctrl in enumerate(channels):
        for j in range(1, len(dn)):
            slope = float(_ctrunc_div(ctrl[j] - ctrl[j - 1], dn[j] - dn[j - 1]))
            i = np.arange(dn[j - 1], dn[j] + 1)
            v = slope * (i - dn[j - 1]) + ctrl[j - 1]
            table[i, c] = np.clip(v, 0.0, 255.0).astype(np.int64)
    if ct == 11:
        table[0] = 0
    table.setflags(write=False)
    return table


def color_table(ct: int = 0) -> np.ndarray:
    """
    Return colour table ``ct``, as mViewer's.

    Parameters
    ----------
    ct : int
        Table number, 0..12 (`TABLE_NAMES`).

    Returns
    -------
    ndarray, shape (256, 3)
        Read-only ``uint8`` RGB rows, one per grey level.

    Raises
    ------
    InputError
        ``ct`` is not a number 0..12.

    Examples
    --------
    >>> color_table(0)[[0, 128, 255], 0].tolist()
    [0, 128, 255]
    >>> color_table(1)[0].tolist(), color_table(1)[255].tolist()
    ([255, 255, 255], [0, 0, 0])
    >>> color_table(2)[1].tolist()   # slope 98//17 = 5, not 5.76
    [5, 0, 10]
    """
    try:
        ct = int(ct)
    except (TypeError, ValueError):
        raise InputError(f"colour table '{ct}' is not a number 0..12") from None
    if ct not in _TABLES:
        raise InputError(f"Color table index must be a number between 0 and 12 "
                         f"(got {ct})")
    return _build(ct)


#: mViewer's grey (``-color gray``, and any word it does not know): 128/255.
#: (Its overlay colour before any ``-color`` is 0.5 instead: 127 when drawn.)
_GREY = 128.0 / 255.0

_NAMES = {
    "black": (0.0, 0.0, 0.0), "white": (1.0, 1.0, 1.0), "red": (1.0, 0.0, 0.0),
    "green": (0.0, 1.0, 0.0), "blue": (0.0, 0.0, 1.0), "magenta": (1.0, 0.0, 1.0),
    "cyan": (0.0, 1.0, 1.0), "orange": (1.0, 155.0 / 255.0, 0.0),
    "yellow": (1.0, 1.0, 0.0), "gray": (_GREY, _GREY, _GREY),
    "grey": (_GREY, _GREY, _GREY),
}


def color_rgb(color) -> tuple[float, float, float]:
    """
    Read an overlay colour as mViewer reads ``-color``: (r, g, b) in 0..1.

    Parameters
    ----------
    color : str or tuple
        One of mViewer's names, ``rrggbb`` with optional ``#``, or an
        (r, g, b) tuple of floats 0..1. Unknown names are gray, as in
        Montage.

    Returns
    -------
    (float, float, float)
        Red, green, blue in 0..1.

    Examples
    --------
    >>> color_rgb("yellow"), color_rgb("#ff0000")
    ((1.0, 1.0, 0.0), (1.0, 0.0, 0.0))
    >>> color_rgb("nonsense") == color_rgb("gray") == (128 / 255,) * 3
    True
    """
    if not isinstance(color, str):
        r, g, b = (float(x) for x in color)
        return (r, g, b)
    s = color.strip()
    h = s[1:] if s.startswith("#") else s
    if re.fullmatch(r"[0-9a-fA-F]{6}", h):
        return tuple(int(h[k:k + 2], 16) / 255.0 for k in (0, 2, 4))
    return _NAMES.get(s.lower(), (_GREY, _GREY, _GREY))


def overlay_rgb255(color) -> np.ndarray:
    """
    Return the overlay colour as mViewer writes it into its overlay buffer.

    Parameters
    ----------
    color : str or tuple
        As `color_rgb`.

    Returns
    -------
    ndarray
        ``int(c * 255)`` per channel, three ``int64``.

    Examples
    --------
    >>> overlay_rgb255("gray").tolist(), overlay_rgb255((0.5, 0.5, 0.5)).tolist()
    ([128, 128, 128], [127, 127, 127])
    """
    return np.array([int(c * 255) for c in color_rgb(color)], dtype=np.int64)


#: Candidate marker colours: every channel at 0, 1/8, ... 1 (729 colours).
_LEVELS = np.linspace(0.0, 255.0, 9)


@cache
def _contrast(ct: int, count: int) -> tuple:
    cand = np.stack(np.meshgrid(_LEVELS, _LEVELS, _LEVELS, indexing="ij"), -1)
    cand = cand.reshape(-1, 3)
    taken = color_table(ct).astype(float)
    picked = []
    for _ in range(count):
        dist = np.sqrt(((cand[:, None, :] - taken[None]) ** 2).sum(-1)).min(1)
        best = cand[int(np.argmax(dist))]
        picked.append(tuple(float(v) / 255.0 for v in best))
        taken = np.vstack([taken, best])
    return tuple(picked)


def contrast_colors(ct: int = 0, count: int = 2) -> tuple:
    """
    Pick marker colours that stand out from every colour of a table.

    Each colour is the one farthest (RGB distance) from the table's 256
    colours and the colours picked before it, among the colours whose
    channels are multiples of 1/8: drawn over an image in that table (a
    pixel the fit rejected, a blank pixel), it is never mistaken for a
    value.

    Parameters
    ----------
    ct : int
        Colour table 0..12 (`TABLE_NAMES`).
    count : int
        How many colours.

    Returns
    -------
    tuple of (float, float, float)
        ``count`` (r, g, b) colours in 0..1.

    Raises
    ------
    InputError
        ``ct`` is not a number 0..12.

    Examples
    --------
    >>> contrast_colors(0)   # grey: blue, then green
    ((0.0, 0.0, 1.0), (0.0, 1.0, 0.0))
    >>> contrast_colors(8, 1)   # red ramp: light cyan
    ((0.5, 1.0, 1.0),)
    """
    color_table(ct)  # checks ct
    return _contrast(int(ct), int(count))
