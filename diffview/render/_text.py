"""
Text in pictures, placed as mViewer places its labels.

A label is written with FreeType (matplotlib's bundled ``ft2font`` and its
DejaVu Sans; mViewer's own font differs) at ``size`` points and 100 dpi,
centred on a point of a curve and turned along the curve's direction there,
its baseline ``0.4 * size`` pixels below the curve (``mViewer_labeledCurve``).
The pixels of the rectangle around the text are *locked*: the lines drawn in
the same overlay leave them alone (``docs/montage-semantics.md`` §8.10).
"""

from __future__ import annotations

import math
from functools import lru_cache
from typing import NamedTuple

import numpy as np

__all__ = ["Label", "label_coverage"]


class Label(NamedTuple):
    """
    A text label: what it says, its centre, direction and size.

    Parameters
    ----------
    text : str
        The text.
    x, y : float
        Displayed 0-based centre (column from the left, row from the top).
    angle : float
        Direction of the baseline, degrees counter-clockwise from the x axis.
    size : int
        Font size in points (at 100 dpi, as mViewer).

    Examples
    --------
    >>> Label("+30d", 10.0, 5.0, 0.0, 9).size
    9
    """

    text: str
    x: float
    y: float
    angle: float = 0.0
    size: int = 9


@lru_cache(maxsize=256)
def _glyphs(text: str, size: int):
    """Grey image of ``text`` (0..1), its baseline row and its advance width."""
    import matplotlib
    from matplotlib.ft2font import FT2Font

    font = FT2Font(f"{matplotlib.get_data_path()}/fonts/ttf/DejaVuSans.ttf")
    font.set_size(float(size), 100.0)
    font.set_text(text, 0.0)
    font.draw_glyphs_to_bitmap(antialiased=True)
    img = np.asarray(font.get_image(), dtype=np.float32) / 255.0
    img.setflags(write=False)
    width = font.get_width_height()[0] / 64.0
    return img, img.shape[0] - font.get_descent() / 64.0, width


def _one_label(lab: Label, ny: int, nx: int, weight: np.ndarray, lock: np.ndarray):
    img, base, width = _glyphs(lab.text, int(lab.size))
    a = math.radians(lab.angle)
    eu = np.array([math.cos(a), math.sin(a)])        # along the baseline (y up)
    ev = np.array([-math.sin(a), math.cos(a)])       # up the glyphs
    shift = 0.4 * lab.size * np.array([math.sin(a), -math.cos(a)])
    pen = np.array([lab.x, -lab.y]) - 0.5 * width * eu + shift
    # whole pixels, as mViewer's pen: upright glyphs land on pixel centres
    pen = np.array([math.floor(pen[0]) + 0.5,
                    math.floor(pen[1] + base - 0.5 + 0.5) - base + 0.5])
    h, w = img.shape
    corners = [pen + u * eu + v * ev for u in (-1.0, w + 1.0)
               for v in (base - h - 1.0, base + 1.0)]
    xs = [c[0] for c in corners]
    ys = [-c[1] for c in corners]
    c0, c1 = max(0, math.floor(min(xs))), min(nx - 1, math.ceil(max(xs)))
    r0, r1 = max(0, math.floor(min(ys))), min(ny - 1, math.ceil(max(ys)))
    if c0 > c1 or r0 > r1:
        return
    cc, rr = np.meshgrid(np.arange(c0, c1 + 1, dtype=float),
                         np.arange(r0, r1 + 1, dtype=float))
    dx, dy = cc - pen[0], -rr - pen[1]
    u = dx * eu[0] + dy * eu[1]
    v = dx * ev[0] + dy * ev[1]
    inside = (u >= 0.0) & (u <= w + 1.0) & (v >= base - h - 1.0) & (v <= base + 1.0)
    lock[r0:r1 + 1, c0:c1 + 1] |= inside
    weight[r0:r1 + 1, c0:c1 + 1] = np.maximum(weight[r0:r1 + 1, c0:c1 + 1],
                                              _bilinear(img, u - 0.5, base - v - 0.5))


def _bilinear(img: np.ndarray, col: np.ndarray, row: np.ndarray) -> np.ndarray:
    """Sample ``img`` at fractional (col, row), zero outside."""
    pad = np.pad(img, 1)
    c, r = col + 1.0, row + 1.0
    c0, r0 = np.floor(c).astype(int), np.floor(r).astype(int)
    fc, fr = c - c0, r - r0
    ok = (c0 >= 0) & (r0 >= 0) & (c0 < pad.shape[1] - 1) & (r0 < pad.shape[0] - 1)
    c0, r0 = np.where(ok, c0, 0), np.where(ok, r0, 0)
    out = (pad[r0, c0] * (1 - fc) * (1 - fr) + pad[r0, c0 + 1] * fc * (1 - fr)
           + pad[r0 + 1, c0] * (1 - fc) * fr + pad[r0 + 1, c0 + 1] * fc * fr)
    return np.where(ok, out, 0.0)


def label_coverage(labels, ny: int, nx: int):
    """
    Rasterise labels: their grey coverage and the pixels they lock.

    Parameters
    ----------
    labels : iterable of Label
        The labels.
    ny, nx : int
        The picture's shape.

    Returns
    -------
    weight : ndarray of float32, shape (ny, nx)
        The text's coverage, 0..1.
    lock : ndarray of bool, shape (ny, nx)
        The rectangles around the labels, where lines are not drawn.

    Examples
    --------
    >>> w, lock = label_coverage([Label("+30d", 20.0, 10.0, 0.0, 9)], 20, 40)
    >>> bool(w.max() > 0.9), bool(lock[10, 20]), bool(lock[0, 0])
    (True, True, False)
    """
    weight = np.zeros((ny, nx), np.float32)
    lock = np.zeros((ny, nx), bool)
    for lab in labels:
        if lab.text:
            _one_label(lab, ny, nx, weight, lock)
    return weight, lock
