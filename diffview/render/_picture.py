"""
Pictures as mViewer draws them.

Grey levels through a colour table, blank pixels in their own grey, overlays
burned on top, oriented for display (row 0 at the top), optionally encoded as
PNG as the rows are drawn.

`draw_picture` is the fast path used by `view` and the MontagePy drop-in
``mViewer``: the histogram keeps every pixel's bin, so the grey levels are
one table lookup; overlays given as `OverlayPlans` are drawn by the render
pool meanwhile; the picture is made in blocks of rows, each block deflated
by the pool while the next one is drawn.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from diffview.errors import InputError
from diffview.geometry import Orientation, orientation

from ._arena import _borrow, _give_back
from ._histogram import histogram
from ._png import _PngStream
from ._pool import _Job, _row_blocks
from ._raster import _RGB, _as_overlays, _blend_rows, _burn_plans
from .colortables import color_table
from .stretch import Stretch, compute_stretch

__all__ = ["OverlayPlans", "Picture", "draw_picture", "render_rgb"]


def render_rgb(data, *, vmin="-2s", vmax="max", mode="gaussian-log", ct: int = 0,
               gray: bool = True, outlines=(), header=None, orient=None,
               saturate: int = 0, stretch: Stretch | None = None,
               noflip: bool = False, densify: bool = True) -> np.ndarray:
    """
    Render an image as mViewer does, as an RGB array.

    Parameters
    ----------
    data : array_like
        The image in FITS row order (row 0 = first FITS row).
    vmin, vmax : str or float
        Range strings (`compute_stretch`).
    mode : str or int
        Stretch (`compute_stretch`).
    ct : int
        Colour table 0..12 (`color_table`).
    gray : bool
        Grayscale/pseudo-colour picture (the only mode implemented; kept for
        mViewer's ``-gray``).
    outlines : sequence
        `Overlay` objects, or (N, 2) arrays / lists of them (yellow, 1 px),
        in displayed 0-based (x, y).
    header : astropy.io.fits.Header, optional
        Gives the orientation (CDELT signs); without it the picture is
        flipped vertically (north up for the usual CDELT2 > 0).
    orient : Orientation, optional
        Explicit orientation (overrides ``header``).
    saturate : int
        Grey level of blank pixels (written as that grey, not through the
        colour table, as MontagePy does).
    stretch : Stretch, optional
        A precomputed stretch (then vmin/vmax/mode are ignored).
    noflip : bool
        mViewer's ``-noflip``.
    densify : bool
        See `burn_overlay`.

    Returns
    -------
    ndarray, shape (ny, nx, 3)
        ``uint8`` picture in displayed orientation (row 0 at the top).

    Raises
    ------
    InputError
        ``gray=False``; no finite pixel; bad range or stretch.

    Examples
    --------
    >>> img = np.array([[0.0, 1.0], [2.0, 3.0]])
    >>> render_rgb(img, vmin="min", vmax="max", mode="linear")[:, :, 0].tolist()
    [[170, 255], [0, 85]]
    """
    if not gray:
        raise InputError("only grayscale / pseudo-colour pictures are implemented "
                         "(-gray); -red/-green/-blue are not")
    a = np.asarray(data, dtype=float)
    if stretch is None:
        stretch = compute_stretch(a, vmin, vmax, mode, saturate=saturate)
    if orient is None:
        if header is not None:
            orient = orientation(header, noflip=noflip)
        else:
            orient = Orientation(False, not noflip, a.shape[1], a.shape[0])
    plans = _burn_plans(_as_overlays(outlines), a.shape[0], a.shape[1], densify)
    return _render(a, stretch, orient, plans, ct, saturate)[0]


def _render(a, stretch: Stretch, orient: Orientation, plans, ct: int,
            saturate: int, png: bool = False):
    """
    Run `render_rgb` on resolved arguments; return (rgb, PNG bytes or None).

    Overlays come as `_burn_plans`, or a `OverlayPlans` drawing them. The
    picture is made in blocks of rows; with ``png`` each finished block is
    deflated by the pool while the next one is drawn. While the plans are
    still drawing the overlays, the colours of the next blocks are looked up
    meanwhile.

    The PNG is 8-bit grey when the colour table, the blank grey and every
    overlay colour are grey (the picture then is), else RGB.
    """
    ny, nx = a.shape
    table = np.empty((257, 3), dtype=np.uint8)
    table[:256] = color_table(ct)
    table[256] = int(saturate)
    buf = np.empty(ny * nx * 3 + 1, dtype=np.uint8)     # a spare byte: _put_rgb
    rgb = buf[:-1].reshape(ny, nx, 3)
    blocks = _row_blocks(ny, _PngStream.rows_per_block(ny, nx * 3) if png else ny)
    filled = 0
    if isinstance(plans, OverlayPlans):
        while filled < len(blocks) and not plans.done():
            _fill_rows(buf, a, stretch, orient, table, *blocks[filled])
            filled += 1
        plans = plans.result()
    stream = None
    if png:
        grey = _grey_rows(table) and all(_grey_rows(p.color) for p in plans)
        stream = (_PngStream(rgb[..., 0], 1) if grey
                  else _PngStream(rgb.reshape(ny, -1), 3))
    for k, (r0, r1) in enumerate(blocks):
        if k >= filled:
            _fill_rows(buf, a, stretch, orient, table, r0, r1)
        for plan in plans:
            _blend_rows(rgb, plan, r0, r1)
        if stream is not None:
            stream.add(r0, r1)
    return rgb, (stream.png() if stream is not None else None)


def _fill_rows(buf, a, stretch: Stretch, orient: Orientation, table, r0: int,
               r1: int) -> None:
    """
    Draw displayed rows ``r0:r1`` of the picture without overlays into ``buf``.

    ``buf`` holds the picture's bytes and a spare one. Levels (256 for blank pixels)
    looked up in the colour table plus a blank entry (blank pixels are
    written as grey `saturate`, not through the table; one lookup of a
    per-bin colour table instead would miss the cache more than the second
    lookup costs).
    """
    ny = a.shape[0]
    rows = (ny - r1, ny - r0) if orient.flip_y else (r0, r1)
    idx = orient.apply(stretch.levels(a, blank=256, rows=rows))
    _put_rgb(buf, r0 * a.shape[1], table, idx)


def _put_rgb(buf: np.ndarray, start: int, table: np.ndarray, idx: np.ndarray
             ) -> None:
    """
    Set pixels ``start...`` of the RGB bytes ``buf`` to ``table[idx]``.

    ``idx`` is 1-d, or 2-d rows of the picture; any strides.

    Each table row is taken as a 4-byte word (R, G, B, 0) written 3 bytes
    after the last one (`_word_view`), twice as fast as a 3-byte item.
    Where numpy does not write them in order (checked once,
    `_words_in_order`) the items are taken 3 bytes at a time.
    """
    if not _words_in_order():
        rows = buf[3 * start:3 * (start + idx.size)].view(_RGB).reshape(idx.shape)
        table.view(_RGB).reshape(-1).take(idx, out=rows, mode="clip")
        return
    out = _word_view(buf, start, idx.shape)
    _table_words(table).take(idx, out=out, mode="clip")


def _table_words(table: np.ndarray) -> np.ndarray:
    """
    Return the rows of an (n, 3) ``uint8`` colour table as 4-byte words.

    (R, G, B, 0), one ``uint32`` each (same bytes on any byte order).
    """
    words = np.zeros((len(table), 4), dtype=np.uint8)
    words[:, :3] = table
    return words.view(np.uint32).reshape(-1)


def _word_view(buf: np.ndarray, start: int, shape) -> np.ndarray:
    """
    View the RGB bytes ``buf`` as ``uint32`` words at pixels ``start...``.

    One word per pixel, 3 bytes apart (rows of ``shape[-1]`` pixels).

    Written in increasing order, each word's fourth byte is overwritten by
    the next pixel's red; the last one lands on the byte after the pixels
    (the next pixel, drawn later, or ``buf``'s spare byte, which must
    exist).
    """
    strides = (3 * shape[-1], 3)[-len(shape):]
    return np.ndarray(shape, dtype=np.uint32, buffer=buf, offset=3 * start,
                      strides=strides)


_IN_ORDER: list = []


def _words_in_order() -> bool:
    """
    Tell whether numpy's ``take`` into 3-byte-strided words writes them in order.

    In increasing order, as `_put_rgb` needs; tried once on a small picture
    drawn as pictures are: rows of levels taken upside down.
    """
    if not _IN_ORDER:
        # scrambled values (multiplicative hashing: numpy.random costs an import)
        k = np.arange(257 * 3 + 70 * 1000, dtype=np.uint64) * 2654435761 % 2**32
        table = (k[: 257 * 3] >> 24).astype(np.uint8).reshape(257, 3)
        idx = (k[257 * 3 :] % 257).astype(np.uint16).reshape(70, 1000)[::-1]
        buf = np.zeros(3 * idx.size + 1, dtype=np.uint8)
        _table_words(table).take(idx, out=_word_view(buf, 0, idx.shape))
        _IN_ORDER.append(bool(np.array_equal(buf[:-1].reshape(idx.shape + (3,)),
                                             table[idx])))
    return _IN_ORDER[0]



def _grey_rows(rgb: np.ndarray) -> bool:
    """Tell whether the three channels of every row of a (..., 3) array agree."""
    return bool((rgb[..., 0] == rgb[..., 1]).all()
                and (rgb[..., 1] == rgb[..., 2]).all())


class _PictureBins:
    """
    Context for one picture's `histogram`, with every pixel's bin kept.

    The bins (``bins_out``) are kept in the arena's ``bins`` array, so the
    grey levels are one
    table lookup instead of binning the pixels again; the histogram forgets
    the bins before the array goes back to the arena.
    """

    def __init__(self, data: np.ndarray):
        self.data, self.buf, self.hist = data, None, None

    def __enter__(self):
        return self

    def histogram(self):
        """Build the picture's histogram, its pixels' bins kept in the arena."""
        self.buf = _borrow("bins", self.data.size, np.int32, None)
        self.hist = histogram(self.data, bins_out=self.buf)
        return self.hist

    def __exit__(self, *exc):
        if self.hist is not None:
            self.hist.drop_bins()
        if self.buf is not None:
            _give_back("bins", self.buf)


class OverlayPlans:
    """
    Overlays made ready to burn into pictures of one shape.

    They are worked out on the render pool while the caller goes on (reads
    the image, builds its histogram, looks up its colours).

    Parameters
    ----------
    overlays : sequence or callable
        What `render_rgb` accepts as outlines (`Overlay` objects, (N, 2)
        arrays...), or a function of no arguments returning that, called
        on the pool (so outlines can be projected there too).
    shape : (ny, nx)
        The picture's shape.
    densify : bool
        See `burn_overlay`.
    background : bool
        Start on the render pool (default); False: work them out when
        `result` is first asked for.

    Examples
    --------
    >>> from diffview.render import Overlay, compute_stretch
    >>> img = np.arange(40.0).reshape(5, 8)
    >>> ring = np.array([[1.0, 1.0], [6.0, 1.0], [6.0, 4.0], [1.0, 1.0]])
    >>> plans = OverlayPlans([Overlay([ring], "red")], img.shape)
    >>> st = compute_stretch(img, "min", "max", "linear")
    >>> pic = draw_picture(img, st, Orientation(False, True, 8, 5), plans)
    >>> pic.rgb[1, 3].tolist()
    [255, 0, 0]
    """

    def __init__(self, overlays, shape, *, densify: bool = True,
                 background: bool = True):
        ny, nx = (int(v) for v in shape)
        self.shape = (ny, nx)
        self._job = _Job(_plan_overlays, overlays, ny, nx, bool(densify),
                         background=background)

    def done(self) -> bool:
        """
        Whether `result` would not wait for the pool.

        Returns
        -------
        bool
            True when the plans are ready or will be worked out by `result`.
        """
        return self._job.done()

    def result(self) -> list:
        """
        Return the burn plans, one per overlay (waiting for the pool if needed).

        Returns
        -------
        list
            The plans, in the overlays' order.

        Raises
        ------
        Exception
            Whatever making the overlays raised.
        """
        return self._job.result()


def _plan_overlays(overlays, ny: int, nx: int, densify: bool) -> list:
    """Do `OverlayPlans`' work: make the overlays (if a function), then their plans."""
    if callable(overlays):
        overlays = overlays()
    return _burn_plans(_as_overlays(overlays), ny, nx, densify)


class Picture(NamedTuple):
    """
    A picture drawn by `draw_picture`.

    Attributes
    ----------
    rgb : ndarray, shape (ny, nx, 3)
        ``uint8`` picture, row 0 at the top.
    png : bytes or None
        The PNG file's bytes, when asked for.
    stretch : Stretch
        The stretch used.

    Examples
    --------
    >>> from diffview.render import compute_stretch
    >>> img = np.array([[0.0, 1.0], [2.0, 3.0]])
    >>> st = compute_stretch(img, "min", "max", "linear")
    >>> rgb, png, used = draw_picture(img, st, Orientation(False, False, 2, 2))
    >>> rgb.shape, png is None, used is st
    ((2, 2, 3), True, True)
    """

    rgb: np.ndarray
    png: bytes | None
    stretch: Stretch


def draw_picture(data, stretch, orient: Orientation, overlays=None, *, ct: int = 0,
                 saturate: int = 0, png: bool = False) -> Picture:
    """
    Draw an image as mViewer does.

    Histogram, stretch, colours, overlays, and optionally the PNG file's bytes.

    The fast path of `view` and of the MontagePy drop-in ``mViewer``: the
    histogram keeps every pixel's bin (the grey levels are then one table
    lookup), overlays given as `OverlayPlans` are drawn by the render pool
    meanwhile, and with ``png`` each finished block of rows is deflated by
    the pool while the next one is drawn.

    Parameters
    ----------
    data : ndarray
        The image, 2-d ``float64`` in FITS row order.
    stretch : Stretch or callable
        The stretch, or a function taking the image's `MontageHistogram`
        and returning it (``lambda h: compute_stretch(data, ..., hist=h)``):
        the histogram then keeps every pixel's bin for the grey levels.
    orient : Orientation
        Display orientation (`diffview.geometry.orientation`); its size is
        the image's.
    overlays : OverlayPlans or sequence, optional
        Overlays burned on top, in order: plans started before (their
        errors are raised first, as if the outlines were drawn first), or
        what `render_rgb` accepts as outlines.
    ct : int
        Colour table 0..12 (`color_table`).
    saturate : int
        Grey level of blank pixels.
    png : bool
        Also encode the picture as PNG (8-bit grey when the colour table,
        the blank grey and every overlay colour are grey, else RGB).

    Returns
    -------
    Picture
        ``(rgb, png, stretch)``.

    Raises
    ------
    ValueError
        Overlay plans made for another shape.
    InputError
        No finite pixel; bad range or stretch.

    Examples
    --------
    >>> from diffview.render import compute_stretch
    >>> img = np.array([[0.0, 1.0], [2.0, 3.0]])
    >>> def stretch(h):
    ...     return compute_stretch(img, "min", "max", "linear", hist=h)
    >>> pic = draw_picture(img, stretch, Orientation(False, True, 2, 2))
    >>> pic.rgb[:, :, 0].tolist(), pic.png is None, pic.stretch.vmax
    ([[170, 255], [0, 85]], True, 3.0)
    """
    a = np.asarray(data, dtype=float)
    pending = overlays
    if overlays is not None and not isinstance(overlays, OverlayPlans):
        pending = (OverlayPlans(overlays, a.shape)
                   if callable(overlays) or len(overlays) else None)
    if pending is not None and pending.shape != a.shape:
        raise ValueError(f"overlay plans for a {pending.shape} picture, not "
                         f"{a.shape}")
    if isinstance(stretch, Stretch):
        rgb, payload = _render(a, stretch, orient, [] if pending is None else pending,
                               ct, saturate, png=png)
        return Picture(rgb, payload, stretch)
    with _PictureBins(a) as bins:
        try:
            st = stretch(bins.histogram())
        except BaseException:
            if pending is not None:
                pending.result()
            raise
        rgb, payload = _render(a, st, orient, [] if pending is None else pending,
                               ct, saturate, png=png)
    return Picture(rgb, payload, st)

