"""
Outlines of image tables read from files (mViewer's ``-imginfo``).

They are cached by the table file's identity.

Projecting tens of thousands of great-circle points through the displayed
image's WCS costs more than the rest of an mViewer picture, and the same
table file is usually drawn over the same image again and again: the
outlines of the last few (table file, displayed header, rows, split)
requests are kept. The geometry is `diffview.geometry.image_outlines`'; the
table is read here through `diffview.io` (only its corner columns when it
has them).
"""

from __future__ import annotations

import contextlib
import os
from collections import OrderedDict

from astropy.io import fits

from diffview.geometry import CORNER_COLUMNS, image_outlines
from diffview.io import read_table, read_table_columns

__all__ = ["table_outlines", "table_outlines_key"]

#: Outlines of the last few table-file requests, by `table_outlines_key`.
_CACHE: OrderedDict = OrderedDict()
_CACHE_SIZE = 8


def table_outlines_key(table, header, rows=None, split=True):
    """
    Identify the outlines of rows of an image table file by what they are made of.

    A table file is identified by its path, size, modification time and
    inode; the displayed image by all its header cards.

    Parameters
    ----------
    table : str, path-like or astropy.table.Table
        The image table.
    header : astropy.io.fits.Header
        The displayed image's header.
    rows : sequence of int, optional
        Row positions outlined (default all).
    split : bool or "sides"
        As `diffview.geometry.image_outlines`.

    Returns
    -------
    tuple or None
        A hashable key; None when the outlines cannot be told apart by
        what they are made of (an in-memory table, a missing file, a
        header given as a WCS).

    Examples
    --------
    >>> from astropy.table import Table
    >>> table_outlines_key(Table({"ra1": [1.0]}), fits.Header()) is None
    True
    """
    if not isinstance(table, (str, os.PathLike)) or not isinstance(header, fits.Header):
        return None
    try:
        st = os.stat(table)
    except OSError:
        return None
    sel = None if rows is None else tuple(int(r) for r in rows)
    return (os.path.abspath(table), st.st_size, st.st_mtime_ns, st.st_ino,
            header.tostring(), sel, split if split == "sides" else bool(split))


def table_outlines(table, header, *, rows=None, split=True) -> list:
    """
    Outline an image table's images in a displayed image, as mViewer's ``-imginfo``.

    `diffview.geometry.image_outlines` of the table read from its file
    (only its ``ra1..dec4`` columns when it has them all); the outlines of
    the last few table files are kept, by `table_outlines_key`.

    Parameters
    ----------
    table : str, path-like or astropy.table.Table
        Image table (``images.tbl``) with corners ``ra1..dec4`` or WCS
        columns.
    header : astropy.io.fits.Header or astropy.wcs.WCS
        The displayed image (its header, or a WCS with ``pixel_shape``).
    rows : sequence of int, optional
        Row positions (0-based) to outline; default all.
    split : bool or "sides"
        See `diffview.geometry.footprint_outline`.

    Returns
    -------
    list of ndarray
        (N, 2) arrays of displayed 0-based (x, y), in row order (one per
        image unless an outline leaves the picture); the caller's own
        copies.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from astropy.table import Table
    >>> h = fits.Header({"NAXIS": 2, "NAXIS1": 20, "NAXIS2": 10,
    ...     "CTYPE1": "RA---TAN", "CTYPE2": "DEC--TAN", "CRVAL1": 10.0,
    ...     "CRVAL2": 0.0, "CRPIX1": 10.5, "CRPIX2": 5.5,
    ...     "CDELT1": -0.1, "CDELT2": 0.1})
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "images.tbl"
    >>> Table({"cntr": [0], "ra1": [10.5], "dec1": [-0.3], "ra2": [9.5],
    ...     "dec2": [-0.3], "ra3": [9.5], "dec3": [0.3], "ra4": [10.5],
    ...     "dec4": [0.3]}).write(p, format="ascii.ipac")
    >>> (run,) = table_outlines(p, h)
    >>> run.min(axis=0).round(2).tolist(), run.max(axis=0).round(2).tolist()
    ([4.5, 1.5], [14.5, 7.5])
    """
    key = table_outlines_key(table, header, rows, split)
    cached = _CACHE.get(key) if key is not None else None
    if cached is not None:
        with contextlib.suppress(KeyError):      # evicted meanwhile by a thread
            _CACHE.move_to_end(key)
        return [p.copy() for p in cached]
    if isinstance(table, (str, os.PathLike)):
        table = _read_corners(table)
    lines = image_outlines(table, header, rows=rows, split=split)
    if key is not None:
        _CACHE[key] = [p.copy() for p in lines]
        while len(_CACHE) > _CACHE_SIZE:
            _CACHE.popitem(last=False)
    return lines


def _read_corners(path):
    """
    Read an image table file as `image_outlines` takes it.

    Its corner columns (a dict) when it has all eight, read without an
    astropy Table, else the whole table.
    """
    cols = read_table_columns(path, list(CORNER_COLUMNS), optional=True)
    if len(cols) == len(CORNER_COLUMNS):
        return cols
    return read_table(path)
