"""
Many coloured boxes drawn as one picture at the view's resolution.

A survey's 148,000 overlap boxes, coloured by a measure, cost Agg a second
or more per draw as polygons, and most are a few screen pixels. `BoxRaster`
is an image artist that paints the boxes into an RGBA array of the axes'
size in screen pixels, for the current view, when it is drawn and the view
or the colours changed since the last paint (a zoom repaints at the new
scale); where boxes overlap, the largest value shows.
"""

from __future__ import annotations

import numpy as np
from matplotlib.image import AxesImage

__all__ = ["BoxRaster", "paint_boxes"]


def paint_boxes(edges, order, view, shape) -> np.ndarray:
    """
    Paint boxes into a grid of pixels covering a view.

    Parameters
    ----------
    edges : numpy.ndarray
        ``(n, 4)``: ``x0, x1, y0, y1`` of each box, data units.
    order : numpy.ndarray of int
        Rank of each box (-1: not painted); where boxes overlap, the
        highest rank shows.
    view : tuple of float
        ``(x0, x1, y0, y1)`` of the view, increasing.
    shape : tuple of int
        ``(rows, columns)`` of the grid.

    Returns
    -------
    numpy.ndarray of int
        ``shape``: the rank shown in each pixel (-1: none). A box covers
        at least one pixel; rows go up (``origin='lower'``).

    Examples
    --------
    >>> edges = np.array([[0.0, 2, 0, 2], [1, 4, 1, 4]])
    >>> paint_boxes(edges, np.array([1, 0]), (0.0, 4, 0, 4), (4, 4))[::-1]
    array([[-1,  0,  0,  0],
           [-1,  0,  0,  0],
           [ 1,  1,  0,  0],
           [ 1,  1, -1, -1]])
    """
    rows, cols = shape
    grid = np.full(rows * cols, -1, np.int64)
    vx0, vx1, vy0, vy1 = view
    sx, sy = cols / (vx1 - vx0), rows / (vy1 - vy0)
    x0, x1, y0, y1 = np.asarray(edges, float).T
    c0 = np.floor((x0 - vx0) * sx + 1e-9)
    c1 = np.maximum(np.ceil((x1 - vx0) * sx - 1e-9), c0 + 1)
    r0 = np.floor((y0 - vy0) * sy + 1e-9)
    r1 = np.maximum(np.ceil((y1 - vy0) * sy - 1e-9), r0 + 1)
    c0, c1 = (
        np.clip(c0, 0, cols).astype(np.int64),
        np.clip(c1, 0, cols).astype(np.int64),
    )
    r0, r1 = (
        np.clip(r0, 0, rows).astype(np.int64),
        np.clip(r1, 0, rows).astype(np.int64),
    )
    (k,) = np.nonzero((c1 > c0) & (r1 > r0) & (np.asarray(order) >= 0))
    w, h = c1[k] - c0[k], r1[k] - r0[k]
    n = w * h
    box = np.repeat(np.arange(len(k)), n)
    local = np.arange(int(n.sum())) - np.repeat(np.cumsum(n) - n, n)
    col = c0[k][box] + local % w[box]
    row = r0[k][box] + local // w[box]
    np.maximum.at(grid, row * cols + col, np.asarray(order)[k][box])
    return grid.reshape(rows, cols)


class BoxRaster(AxesImage):
    """
    Coloured boxes, painted at the axes' pixel resolution when drawn.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
        Where it is drawn (added with ``ax.add_image``).
    **kwargs
        Passed to `matplotlib.image.AxesImage` (``zorder``...).

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> fig, ax = plt.subplots()
    >>> layer = BoxRaster(ax)
    >>> _ = ax.add_image(layer)
    >>> layer.set_boxes(np.array([[0.0, 10, 0, 10]]))
    >>> layer.set_colors(np.array([[1.0, 0, 0, 0.5]]), np.array([0.0]))
    >>> _ = ax.set_xlim(0, 20), ax.set_ylim(0, 20)
    >>> fig.canvas.draw()
    >>> rgba = layer.get_array()
    >>> rgba[0, 0].tolist(), rgba[-1, -1].tolist()
    ([1.0, 0.0, 0.0, 0.5], [0.0, 0.0, 0.0, 0.0])
    >>> plt.close(fig)
    """

    def __init__(self, ax, **kwargs):
        super().__init__(ax, origin="lower", interpolation="nearest", **kwargs)
        self._edges = np.zeros((0, 4))
        self._colors = np.zeros((0, 4))
        self._order = np.zeros(0, np.int64)
        self._painted = None
        self.set_data(np.zeros((1, 1, 4)))

    def set_boxes(self, edges) -> None:
        """
        Set the boxes.

        Parameters
        ----------
        edges : numpy.ndarray
            ``(n, 4)``: ``x0, x1, y0, y1`` of each box, data units.
        """
        self._edges = np.asarray(edges, float)
        self._painted, self.stale = None, True

    def set_colors(self, rgba, values) -> None:
        """
        Set the boxes' colours; the largest value shows where they overlap.

        Parameters
        ----------
        rgba : numpy.ndarray
            ``(n, 4)`` colour of each box.
        values : numpy.ndarray
            ``(n,)`` value of each box (NaN: not painted).
        """
        values = np.asarray(values, float)
        finite = np.isfinite(values)
        order = np.full(len(values), -1, np.int64)
        order[np.flatnonzero(finite)[np.argsort(values[finite], kind="stable")]] = (
            np.arange(int(finite.sum()))
        )
        self._order = order
        self._colors = np.asarray(rgba, float)[np.argsort(order)][
            len(order) - finite.sum() :
        ]
        self._painted, self.stale = None, True

    def get_extent(self):
        """Return the view: the picture is painted for it (`draw`)."""
        x0, x1 = sorted(self.axes.get_xlim())
        y0, y1 = sorted(self.axes.get_ylim())
        return x0, x1, y0, y1

    def draw(self, renderer) -> None:
        """Paint again if the view, the axes' size or the colours changed; draw."""
        if not self.get_visible() or len(self._order) != len(self._edges):
            self.stale = False
            return
        box = self.axes.bbox
        shape = (max(int(round(box.height)), 1), max(int(round(box.width)), 1))
        key = (self.get_extent(), shape)
        if key != self._painted:
            ranks = paint_boxes(self._edges, self._order, key[0], shape)
            rgba = np.zeros((*shape, 4))
            shown = ranks >= 0
            rgba[shown] = self._colors[ranks[shown]]
            self.set_data(rgba)
            self._painted = key
        super().draw(renderer)
