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

__all__ = ["Label", "label_coverage", "label_width"]


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


def _font(size: int):
    import matplotlib
    from matplotlib.ft2font import FT2Font

    font = FT2Font(f"{matplotlib.get_data_path()}/fonts/ttf/DejaVuSans.ttf")
    font.set_size(float(size), 100.0)
    return font


@lru_cache(maxsize=256)
def _glyph_boxes(text: str, size: int) -> np.ndarray:
    """Each glyph's pen offset along the baseline and ink box (x0, y0, x1, y1), y up."""
    from matplotlib import ft2font

    font = _font(size)
    mode = getattr(getattr(ft2font, "Kerning", None), "DEFAULT", 0)
    out, pen, prev = [], 0.0, None
    for ch in text:
        idx = font.get_char_index(ord(ch))
        if prev is not None and idx:
            pen += font.get_kerning(prev, idx, mode) / 64.0
        g = font.load_char(ord(ch))
        x0, y0, x1, y1 = (v / 64.0 for v in g.bbox)
        out.append((pen, x0, y0, x1, y1))
        pen += g.horiAdvance / 64.0
        prev = idx
    return np.array(out, float).reshape(-1, 5)


@lru_cache(maxsize=256)
def _glyphs(text: str, size: int):
    """Grey image of ``text`` (0..1), its baseline row and its advance width."""
    font = _font(size)
    font.set_text(text, 0.0)
    font.draw_glyphs_to_bitmap(antialiased=True)
    img = np.asarray(font.get_image(), dtype=np.float32) / 255.0
    img.setflags(write=False)
    width = font.get_width_height()[0] / 64.0
    return img, img.shape[0] - font.get_descent() / 64.0, width


def label_width(text: str, size: int) -> float:
    """
    Measure a label's advance width, as written by `label_coverage`.

    Parameters
    ----------
    text : str
        The text.
    size : int
        Font size in points (100 dpi).

    Returns
    -------
    float
        Pixels from the first glyph's pen position to the last one's advance.

    Examples
    --------
    >>> label_width("M17", 14) > label_width("M17", 8) > 0
    True
    """
    return _glyphs(text, int(size))[2]


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
    box = _lock_box(_glyph_corners(lab, pen, eu, ev))
    xs = [c[0] for c in box] + [pen[0] + img.shape[1] * eu[0]]
    ys = [-c[1] for c in box] + [-pen[1] - img.shape[1] * eu[1]]
    c0, c1 = max(0, math.floor(min(xs))), min(nx - 1, math.ceil(max(xs)))
    r0, r1 = max(0, math.floor(min(ys))), min(ny - 1, math.ceil(max(ys)))
    if c0 > c1 or r0 > r1:
        return
    cc, rr = np.meshgrid(np.arange(c0, c1 + 1, dtype=float),
                         np.arange(r0, r1 + 1, dtype=float))
    dx, dy = cc - pen[0], -rr - pen[1]
    u = dx * eu[0] + dy * eu[1]
    v = dx * ev[0] + dy * ev[1]
    lock[r0:r1 + 1, c0:c1 + 1] |= _inside(box, cc, -rr)
    weight[r0:r1 + 1, c0:c1 + 1] = np.maximum(weight[r0:r1 + 1, c0:c1 + 1],
                                              _bilinear(img, u - 0.5, base - v - 0.5))


def _glyph_corners(lab: Label, pen, eu, ev) -> np.ndarray:
    """
    List the corners mViewer gathers around its glyphs.

    Each glyph's turned bitmap box: whole pixels, one more to the right and
    below; y up.
    """
    out = []
    for off, x0, y0, x1, y1 in _glyph_boxes(lab.text, int(lab.size)):
        p = pen + off * eu
        pts = np.array([p + x * eu + y * ev for x in (x0, x1) for y in (y0, y1)])
        gx0, gy0 = np.floor(pts.min(0))
        gx1, gy1 = np.ceil(pts.max(0))
        out += [(gx0, gy1), (gx1 + 1, gy1), (gx1 + 1, gy0 - 1), (gx0, gy0 - 1)]
    return np.array(out, float)


def _hull(pts: np.ndarray) -> np.ndarray:
    """Convex hull, counter-clockwise (monotone chain)."""
    pts = sorted(set(map(tuple, pts)))
    if len(pts) < 3:
        return np.array(pts, float)

    def half(seq):
        h = []
        for p in seq:
            while len(h) >= 2 and ((h[-1][0] - h[-2][0]) * (p[1] - h[-2][1])
                                   - (h[-1][1] - h[-2][1]) * (p[0] - h[-2][0])) <= 0:
                h.pop()
            h.append(p)
        return h[:-1]

    return np.array(half(pts) + half(pts[::-1]), float)


def _lock_box(pts: np.ndarray) -> np.ndarray:
    """Find the least-area box around points: 4 corners (``mViewer_boundingbox``)."""
    hull = _hull(pts)
    best = None
    for k in range(len(hull)):
        d = hull[(k + 1) % len(hull)] - hull[k]
        n = math.hypot(*d)
        if n == 0.0:
            continue
        e = d / n
        f = np.array([-e[1], e[0]])
        a, b = hull @ e, hull @ f
        area = (a.max() - a.min()) * (b.max() - b.min())
        if best is None or area < best[0]:
            best = (area, e, f, a.min(), a.max(), b.min(), b.max())
    _, e, f, a0, a1, b0, b1 = best
    ends = ((a0, b0), (a1, b0), (a1, b1), (a0, b1))
    return np.array([a * e + b * f for a, b in ends])


def _inside(box: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Points strictly inside a rectangle given by its corners in order."""
    ok = np.ones(x.shape, bool)
    centre = box.mean(0)
    for k in range(4):
        p, q = box[k], box[(k + 1) % 4]
        a, b = q[1] - p[1], p[0] - q[0]
        c = -(a * p[0] + b * p[1])
        ok &= (a * centre[0] + b * centre[1] + c) * (a * x + b * y + c) > 0.0
    return ok


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
