"""
`view`: an image file or array rendered the mViewer way.

With footprint outlines of an image table, highlighted rows and an overlap
box.

One output pixel per input pixel by default (as mViewer); ``max_size``
makes a NaN-aware block-averaged picture of a big image. The picture is
oriented as mViewer writes PNGs (`diffview.geometry.orientation`: north up,
east left for standard images; row 0 at the top).
"""

from __future__ import annotations

import math
import os
import time
from dataclasses import dataclass, field
from functools import partial

import numpy as np
from astropy.io import fits

from diffview.core import block_average
from diffview.errors import InputError
from diffview.geometry import Orientation, box_outline, orientation

from ._picture import OverlayPlans, draw_picture
from ._png import _write_file
from ._raster import Overlay, _as_overlays
from ._tables import table_outlines, table_outlines_key
from .stretch import Stretch, compute_stretch, symmetric_interval

__all__ = ["ViewResult", "load_image", "view", "render_png"]


@dataclass
class ViewResult:
    """
    What `view` / `render_png` produced.

    Parameters
    ----------
    rgb : ndarray, shape (ny, nx, 3)
        The ``uint8`` picture, row 0 at the top.
    stretch : Stretch
        The stretch used.
    orient : Orientation
        The picture's orientation.
    out : str, optional
        The PNG file written, if any.
    seconds : float
        Time taken.
    info : dict
        mViewer-style information (``nx``, ``ny``, ``flipX``, ``flipY``,
        ``colortable``, ``factor`` and `Stretch.info`'s keys).

    Examples
    --------
    >>> r = view(np.arange(12.0).reshape(3, 4), vmin="min", vmax="max", mode="linear")
    >>> r.rgb.shape, r.message
    ((3, 4, 3), '')
    """

    rgb: np.ndarray
    stretch: Stretch
    orient: Orientation
    out: str | None = None
    seconds: float = 0.0
    info: dict = field(default_factory=dict)

    @property
    def message(self) -> str:
        """
        Why the picture is uniform, if it is.

        Returns
        -------
        str
            `Stretch.message`: empty unless the picture is uniform.
        """
        return self.stretch.message


# --------------------------------------------------------------------------
# input


def load_image(image, hdu: int = 0) -> tuple[np.ndarray, fits.Header | None]:
    """
    Read an image as a float64 array in FITS row order, with its header.

    Plain float FITS images are read by `diffview.io`'s fast reader, others
    through astropy; integer images with ``BLANK`` get NaN there.

    Parameters
    ----------
    image : str, path-like, array_like or (array, Header)
        A FITS file, a 2-d array or an array with its header.
    hdu : int
        The HDU of a FITS file (higher axes: their first plane).

    Returns
    -------
    data : ndarray
        2-d ``float64``.
    header : astropy.io.fits.Header or None
        None for a plain array.

    Raises
    ------
    InputError
        Missing file, no such HDU, no 2-d image, invalid FITS.

    Examples
    --------
    >>> load_image([[1, 2], [3, 4]])[0].dtype
    dtype('float64')
    """
    if isinstance(image, (str, os.PathLike)):
        path = str(image)
        if hdu == 0:
            plain = _load_plain(path)
            if plain is not None:
                return plain
        from diffview.io import read_image

        # float64 with BSCALE/BZERO applied and BLANK pixels NaN, as CFITSIO
        # reads them for mViewer
        return read_image(path, hdu)
    if (isinstance(image, tuple) and len(image) == 2
            and isinstance(image[1], fits.Header)):
        return np.asarray(image[0], dtype=float), image[1]
    a = np.asarray(image, dtype=float)
    if a.ndim != 2:
        raise InputError(f"expected a 2-D image, got shape {a.shape}")
    return a, None


def _load_plain(path: str):
    """
    Load a plain float FITS image as `load_image`, with `diffview.io`'s fast reader.

    No astropy HDU machinery; None for anything other than such an image.
    """
    from diffview.io import read_plain_header_image

    return read_plain_header_image(path)


def render_png(fits_path_or_array, out_png, **kw) -> ViewResult:
    """
    Render a FITS file (or array) to a PNG file.

    Parameters
    ----------
    fits_path_or_array : str, path-like, array_like or (array, Header)
        The image, as `view`'s ``image``.
    out_png : str or path-like
        The PNG file.
    **kw
        `view`'s keywords.

    Returns
    -------
    ViewResult

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "x.png"
    >>> r = render_png(np.arange(12.0).reshape(3, 4), p, mode="linear")
    >>> r.out == str(p), r.rgb.shape
    (True, (3, 4, 3))
    """
    return view(fits_path_or_array, out_png, **kw)


def view(image, out_png=None, *, vmin="-2s", vmax="max", mode="gaussian-log",
         ct: int = 0, imginfo=None, rows=None, color="yellow", linewidth=1.0,
         highlight=None, highlight_color="black", box=None, box_color="red",
         outlines=(), max_size: int | None = None, saturate: int = 0,
         noflip: bool = False, hdu: int = 0, symmetric=None) -> ViewResult:
    """
    Render an image the mViewer way, with optional footprint outlines.

    The Python form of ``mViewer -color yellow -imginfo images.tbl -ct 1 -gray
    mosaic.fits min max gaussian-log -out out.png``:
    ``view("mosaic.fits", "out.png", vmin="min", vmax="max", ct=1,
    imginfo="images.tbl", color="yellow")``.

    Parameters
    ----------
    image : path, array or (array, header)
        The picture's data.
    out_png : path, optional
        Write the PNG there.
    vmin, vmax, mode, ct, saturate, noflip
        As `render_rgb`.
    imginfo : path or Table, optional
        Image table whose footprints are outlined in ``color``.
    rows : sequence of int, optional
        Only these rows of ``imginfo`` (default all).
    highlight : sequence of int, optional
        Rows of ``imginfo`` drawn again on top in ``highlight_color`` (the
        pair under study).
    box : ((jmin, jmax), (imin, imax)), optional
        An overlap box in the image's pixels, drawn in ``box_color``.
    outlines : sequence of Overlay
        Further overlays.
    linewidth : float
        Line width of the outlines.
    max_size : int, optional
        Block-average the image first so its larger side is at most this
        (outlines are scaled to match).
    hdu : int
        FITS HDU to read.
    symmetric : str, optional
        Use a range symmetric about zero (`symmetric_interval`
        with this limit, e.g. ``'99.5%'``) instead of vmin/vmax.

    Returns
    -------
    ViewResult
        The picture, its stretch, orientation and information.

    Raises
    ------
    InputError
        Missing or unreadable file, no finite pixel, bad range/stretch.

    Examples
    --------
    >>> r = view(np.full((4, 4), 3.0))
    >>> int(r.rgb.max()), r.message.startswith("Image is constant")
    (0, True)
    """
    t0 = time.perf_counter()
    data, header = load_image(image, hdu)
    factor = 1
    if max_size is not None:
        factor = max(1, math.ceil(max(data.shape) / max(1, int(max_size))))
        if factor > 1:
            data = block_average(data, factor)
    if symmetric is not None:
        vmin, vmax = symmetric_interval(data, symmetric)
    if header is not None:
        orient = orientation(header, noflip=noflip)
        orient = Orientation(orient.flip_x, orient.flip_y, data.shape[1], data.shape[0])
    else:
        orient = Orientation(False, not noflip, data.shape[1], data.shape[0])
    if (imginfo is not None or box is not None) and header is None:
        raise InputError("outlines need the image's WCS: give a FITS file or "
                         "(array, header)")
    pending = None
    if imginfo is not None or box is not None or outlines:
        full = orientation(header, noflip=noflip) if header is not None else None
        pending = OverlayPlans(
            partial(_view_overlays, imginfo, rows, highlight, box, header, full, factor,
                    (color, highlight_color, box_color, linewidth), outlines),
            data.shape)
    rgb, png, st = draw_picture(
        data, lambda h: compute_stretch(data, vmin, vmax, mode, saturate=saturate,
                                        hist=h),
        orient, pending, ct=ct, saturate=saturate, png=out_png is not None)
    out = _write_file(png, out_png) if out_png is not None else None
    info = {"nx": rgb.shape[1], "ny": rgb.shape[0], "flipX": int(orient.flip_x),
            "flipY": int(orient.flip_y), "colortable": int(ct), "factor": factor,
            **st.info()}
    return ViewResult(rgb, st, orient, out, time.perf_counter() - t0, info)


def _view_overlays(imginfo, rows, highlight, box, header, full, factor, styles,
                   outlines) -> list[Overlay]:
    """
    Make `view`'s overlays.

    The table's outlines, the highlighted rows, the overlap box (all
    rescaled to a block-averaged picture) and the rest.
    """
    color, highlight_color, box_color, linewidth = styles
    overlays = []
    if imginfo is not None:
        overlays.append(_table_overlay(imginfo, header, rows, full, factor, color,
                                       linewidth))
        if highlight is not None:
            overlays.append(_table_overlay(imginfo, header, list(highlight), full,
                                           factor, highlight_color, linewidth))
    if box is not None:
        b = box_outline(box, header=header)
        overlays.append(Overlay(_rescale([b], full, factor), box_color, linewidth))
    return overlays + _as_overlays(outlines)


def _table_overlay(table, header, rows, full: Orientation, factor: int, color,
                   linewidth) -> Overlay:
    """
    Make `view`'s outlines of rows of an image table.

    They are known by what they are made of when the table is a file (their
    pixels are then found again without hashing their points).
    """
    made_of = table_outlines_key(table, header, rows, True)
    lines = _rescale(table_outlines(table, header, rows=rows), full, factor)
    source = None if made_of is None else ("view", made_of, tuple(full), factor)
    return Overlay(lines, color, linewidth, source=source)


def _rescale(lines, full: Orientation, factor: int):
    """Map displayed coordinates of the full image to those of its block average."""
    if factor == 1:
        return lines
    # the block average keeps FITS order; go back to FITS, scale, re-orient
    out = []
    my, mx = -(-full.ny // factor), -(-full.nx // factor)
    small = Orientation(full.flip_x, full.flip_y, mx, my)
    for p in lines:
        x0, y0 = full.to_fits(p[:, 0], p[:, 1])
        xs, ys = (x0 + 0.5) / factor - 0.5, (y0 + 0.5) / factor - 0.5
        out.append(np.column_stack(small.to_display(xs, ys)))
    return out
