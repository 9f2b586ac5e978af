"""
Matplotlib forms of mViewer's pictures.

A `Normalize` giving mViewer's grey levels, the colour tables as colormaps,
and outline artists.

``imshow(data, norm=MViewerNorm(data, "-2s", "max", "gaussian-log"),
cmap="montage_ct1", origin="lower")`` shows exactly the grey levels of
``mViewer -ct 1 -gray diff.fits -2s max gaussian-log`` (any Axes, WCSAxes
included); `draw_outlines` overlays `diffview.geometry` outlines.
"""

from __future__ import annotations

import numpy as np
from matplotlib import colormaps
from matplotlib.collections import LineCollection
from matplotlib.colors import Colormap, ListedColormap, Normalize

from diffview.geometry.outlines import Orientation
from diffview.render.colortables import NTABLES, TABLE_NAMES, color_rgb, color_table
from diffview.render.stretch import Stretch, compute_stretch, symmetric_interval

__all__ = ["MViewerNorm", "montage_cmap", "register_colormaps", "draw_outlines",
           "show"]


class MViewerNorm(Normalize):
    """
    mViewer's stretch as a matplotlib norm.

    ``norm(x)`` is ``(grey + 0.5) / 256`` where ``grey`` is mViewer's grey
    level (0..255), so any 256-entry colormap (``montage_ct*``) picks exactly
    mViewer's colour; blank pixels (NaN/inf) are masked (the colormap's
    "bad" colour, black for ``montage_ct*``, as mViewer).

    Parameters
    ----------
    data : array_like
        The image the histogram and range strings are resolved on.
    vmin, vmax : str or float
        mViewer range strings (``'-2s'``, ``'99.5%'``, ``'max'``, values).
    mode : str
        ``linear``, ``log``, ``loglog``, ``gaussian``, ``gaussian-log``,
        ``asinh`` (mViewer's tokens accepted).
    symmetric : bool or str
        Use a range symmetric about zero instead (for differences); True
        means ``'99.5%'`` of ``|data|``, a string is the limit
        (`diffview.render.symmetric_interval`).
    beta : str or float
        asinh softening (mViewer's default ``'2s'``).
    stretch : Stretch, optional
        Use an already computed stretch.

    Attributes
    ----------
    stretch : diffview.render.Stretch
        The resolved stretch (``vmin``/``vmax`` also set on the norm).

    Examples
    --------
    >>> img = np.arange(12.0).reshape(3, 4)
    >>> n = MViewerNorm(img, "min", "max", "linear")
    >>> n.grey(img)[0].tolist(), (n.vmin, n.vmax)
    ([0, 23, 46, 70], (0.0, 11.0))
    >>> float(n(11.0))
    0.998046875
    """

    def __init__(self, data, vmin="-2s", vmax="max", mode="gaussian-log",
                 symmetric=False, *, beta="2s", stretch: Stretch | None = None):
        a = np.asarray(data, dtype=float)
        if stretch is None:
            if symmetric:
                limit = "99.5%" if symmetric is True else symmetric
                vmin, vmax = symmetric_interval(a, limit)
            stretch = compute_stretch(a, vmin, vmax, mode, beta=beta)
        self.stretch = stretch
        super().__init__(vmin=stretch.vmin, vmax=stretch.vmax, clip=False)

    def grey(self, value) -> np.ndarray:
        """
        Return the grey levels of data values, as mViewer's.

        Parameters
        ----------
        value : array_like
            Data values.

        Returns
        -------
        ndarray
            ``uint8`` levels 0..255 (blank values: the stretch's
            ``saturate``).
        """
        return self.stretch.grey(value)

    def __call__(self, value, clip=None):
        """
        Normalise data values: ``(grey + 0.5) / 256``.

        Parameters
        ----------
        value : array_like or masked array
            Data values.
        clip : bool, optional
            Ignored (levels are always within 0..255).

        Returns
        -------
        numpy.ma.MaskedArray or scalar
            Blank (NaN, infinite or masked) values masked.
        """
        x = np.ma.getdata(value)
        scalar = np.ndim(x) == 0
        x = np.asarray(x, dtype=float)
        idx = self.stretch.index(x)
        out = (idx.astype(float) + 0.5) / 256.0
        mask = ~np.isfinite(x) | np.ma.getmaskarray(value)
        res = np.ma.masked_array(out, mask=mask)
        return res[()] if scalar else res

    def _levels(self) -> np.ndarray:
        """Return a data value for each grey level (for `inverse`, colorbars)."""
        s = self.stretch
        g = np.arange(256, dtype=float)
        if s.thresholds is not None:
            t = np.asarray(s.thresholds, float)
            return np.where(np.isfinite(t), t, s.vmax)
        if s.mode == "asinh" and s.beta:
            t = np.sinh(g / 255.0 * s.beta) / s.beta
        else:
            t = g / 255.0
            for k in range(s.logpower):
                t = (np.exp(t) - 1.0) / 9.0
                if k % 16 == 15 and not t[1:].any():  # all levels reached 0
                    break
        return s.vmin + t * (s.vmax - s.vmin)

    def inverse(self, value):
        """
        Approximate data value of a normalised value.

        Parameters
        ----------
        value : array_like
            Normalised values, 0..1.

        Returns
        -------
        ndarray
            Data values, piecewise linear through one data value per grey
            level.
        """
        v = np.asarray(value, dtype=float) * 256.0 - 0.5
        lev = np.maximum.accumulate(self._levels())
        return np.interp(v, np.arange(256.0), lev)

    def autoscale(self, A):
        """
        Do nothing: the range comes from mViewer's range strings.

        Parameters
        ----------
        A : array_like
            Ignored.
        """

    def autoscale_None(self, A):
        """
        Do nothing: the range comes from mViewer's range strings.

        Parameters
        ----------
        A : array_like
            Ignored.
        """

    def scaled(self):
        """
        Tell matplotlib the range is set.

        Returns
        -------
        bool
            Always True.
        """
        return True


def montage_cmap(ct: int = 0, *, saturate: int = 0) -> Colormap:
    """
    Return mViewer colour table ``ct`` as a 256-colour matplotlib colormap.

    Parameters
    ----------
    ct : int
        Colour table 0..12.
    saturate : int
        Grey level of the "bad" colour (mViewer's blank pixels).

    Returns
    -------
    matplotlib.colors.ListedColormap
        Named ``montage_ct<N>`` (the name it is registered under).

    Examples
    --------
    >>> c = montage_cmap(4)
    >>> c.name, c.N, c(0.5 / 256, bytes=True)[:3]
    ('montage_ct4', 256, (np.uint8(0), np.uint8(0), np.uint8(0)))
    """
    table = color_table(ct)
    g = int(saturate) / 255.0
    cmap = ListedColormap(table / 255.0, name=f"montage_ct{int(ct)}")
    return cmap.with_extremes(bad=(g, g, g, 1.0))


def register_colormaps() -> list[str]:
    """
    Register ``montage_ct0`` .. ``montage_ct12`` with matplotlib (idempotent).

    Returns
    -------
    list of str
        The colormaps' names.

    Examples
    --------
    >>> "montage_ct1" in register_colormaps()
    True
    """
    names = []
    for ct in range(NTABLES):
        name = f"montage_ct{ct}"
        if name not in colormaps:
            colormaps.register(montage_cmap(ct), name=name)
        names.append(name)
    return names


register_colormaps()

#: Description of each registered colormap.
CMAP_NAMES = {f"montage_ct{k}": v for k, v in TABLE_NAMES.items()}


def draw_outlines(ax, outlines, color="yellow", linewidth=1.0, *,
                  orient: Orientation | None = None, **kw) -> LineCollection:
    """
    Add outlines to an Axes as one LineCollection.

    The outlines are those of `diffview.geometry.image_outlines` or
    `diffview.render.table_outlines`.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
        Axes showing the displayed picture (``imshow(rgb)``, row 0 at top).
    outlines : sequence of (N, 2) arrays
        Displayed 0-based (x, y) polylines.
    color : str or tuple
        mViewer colour name, ``rrggbb``, or a matplotlib colour tuple.
    linewidth : float
        Line width in points.
    orient : Orientation, optional
        When the Axes shows the image in FITS order (``imshow(data,
        origin='lower')``, WCSAxes), give the image's orientation so the
        outlines are converted back to FITS pixel coordinates.
    **kw
        Passed to `LineCollection`.

    Returns
    -------
    matplotlib.collections.LineCollection
        The artist added.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import matplotlib.pyplot as plt
    >>> fig, ax = plt.subplots()
    >>> lc = draw_outlines(ax, [np.array([[0, 0], [5, 0], [5, 5.0]])], "red")
    >>> len(lc.get_segments()), float(lc.get_linewidth()[0])
    (1, 1.0)
    >>> plt.close(fig)
    """
    segs = []
    for p in outlines:
        p = np.asarray(p, dtype=float)
        if orient is not None:
            x, y = orient.to_fits(p[:, 0], p[:, 1])
            p = np.column_stack([x, y])
        segs.append(p)
    rgb = color_rgb(color) if isinstance(color, str) and not color.startswith(
        ("C", "tab:")) and _is_montage_name(color) else color
    lc = LineCollection(segs, colors=[rgb], linewidths=linewidth, **kw)
    ax.add_collection(lc)
    return lc


def _is_montage_name(color: str) -> bool:
    import re

    s = color.strip().lower()
    return (s in {"black", "white", "red", "green", "blue", "magenta", "cyan",
                  "orange", "yellow", "gray", "grey"}
            or re.fullmatch(r"#?[0-9a-f]{6}", s) is not None)


def show(ax, image, *, vmin="-2s", vmax="max", mode="gaussian-log", ct=0,
         header=None, symmetric=False, **kw):
    """
    Show an image in FITS order with mViewer's stretch and colour table.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
        Where to draw (``imshow`` with ``origin='lower'``).
    image : array_like
        The image, FITS row order.
    vmin, vmax : str or float
        mViewer range strings.
    mode : str
        Stretch.
    ct : int
        Colour table 0..12.
    header : astropy.io.fits.Header, optional
        Not used (accepted so that `view`-style calls work).
    symmetric : bool or str
        As `MViewerNorm`.
    **kw
        Passed to ``imshow``.

    Returns
    -------
    matplotlib.image.AxesImage
        Its ``norm`` is the `MViewerNorm`.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import matplotlib.pyplot as plt
    >>> fig, ax = plt.subplots()
    >>> im = show(ax, np.arange(12.0).reshape(3, 4), vmin="min", vmax="max",
    ...           mode="linear", ct=1)
    >>> im.get_cmap().name, type(im.norm).__name__
    ('montage_ct1', 'MViewerNorm')
    >>> plt.close(fig)
    """
    a = np.asarray(image, dtype=float)
    norm = MViewerNorm(a, vmin, vmax, mode, symmetric=symmetric)
    kw.setdefault("origin", "lower")
    kw.setdefault("interpolation", "nearest")
    return ax.imshow(a, norm=norm, cmap=colormaps[f"montage_ct{int(ct)}"], **kw)
