"""
FITS images: whole images, boxes of them and their pixel grids.

Images are opened memory-mapped and only the requested section is read
(`read_image_box`), so a pair never costs more memory than its overlap.
Pixels come back as float64 the way CFITSIO reads them for Montage: integer
images scaled by BSCALE/BZERO in double precision, their BLANK pixels NaN.
Plain 2-D primary images (float, as Montage and diffview write, or integer)
take a faster path without astropy objects where it pays:
`read_image_grid`, `read_box` and `BoxReader`.
"""

from __future__ import annotations

import contextlib
import mmap
import os
import warnings
from collections import OrderedDict
from pathlib import Path

import numpy as np

from diffview.errors import InputError
from diffview.io._plain import (
    _PLAIN,
    _plain_layout,
    _pread,
    _scaling,
    _sized_layout,
    _to_float,
)
from diffview.io.paths import atomic_path
from diffview.lazy import module

#: astropy loads only where a file is not plain (`diffview.io._plain`) or a
#: Header is asked for: ~0.3 s of a command's fresh process.
fits = module("astropy.io.fits")

__all__ = [
    "read_image",
    "read_image_box",
    "read_image_grid",
    "write_image",
    "read_box",
    "BoxReader",
]



def _open(path, hdu: int):
    try:
        with warnings.catch_warnings():  # a truncated file is reported below
            warnings.simplefilter("ignore", _astropy_warning())
            # raw pixels: scaled here in float64 as CFITSIO does (astropy
            # would scale to float32 and refuses to map scaled data)
            hdul = fits.open(
                path, memmap=True, lazy_load_hdus=True, do_not_scale_image_data=True
            )
    except FileNotFoundError:
        raise InputError(f"Image {path} not found") from None
    except (OSError, ValueError, TypeError) as exc:
        raise InputError(f"Image {path} is not a valid FITS file ({exc})") from None
    try:
        h = hdul[hdu]
        if h.header.get("NAXIS", 0) < 2:
            raise InputError(f"Image {path} HDU {hdu} has no 2-D image")
    except IndexError:
        hdul.close()
        raise InputError(f"Image {path} has no HDU {hdu}") from None
    except Exception:
        hdul.close()
        raise
    return hdul, h


def read_image(path, hdu: int = 0) -> tuple[np.ndarray, fits.Header]:
    """
    Read a whole 2-D image as float64, with its header.

    Parameters
    ----------
    path : str or path-like
        The FITS file.
    hdu : int
        The HDU to read (0: primary). A cube gives its first plane.

    Returns
    -------
    data : numpy.ndarray
        float64 pixels, shape ``(NAXIS2, NAXIS1)``.
    header : astropy.io.fits.Header
        A copy of the HDU's header.

    Raises
    ------
    InputError
        Missing file, not FITS, no such HDU, no 2-D image in it, or
        truncated pixels.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "a.fits"
    >>> write_image(np.arange(6.0).reshape(2, 3), fits.Header(), p)
    >>> read_image(p)[0].shape
    (2, 3)
    """
    hdul, h = _open(path, hdu)
    with hdul:
        ny, nx = int(h.header["NAXIS2"]), int(h.header["NAXIS1"])
        return _section(h, path, (0, ny), (0, nx)), h.header.copy()


def _section(h, path, rows, cols) -> np.ndarray:
    hdr = h.header
    scaling = _scaling(
        {k: str(hdr[k]).encode() for k in ("BITPIX", "BSCALE", "BZERO", "BLANK")
         if k in hdr}
    )
    if scaling is None:
        raise InputError(f"Image {path}: invalid BSCALE, BZERO or BLANK card")
    try:
        extra = (0,) * (hdr["NAXIS"] - 2)
        data = h.section[(*extra, slice(*rows), slice(*cols))]
    except Exception as exc:  # noqa: BLE001 - truncated files raise several kinds
        raise InputError(f"Image {path}: cannot read pixels ({exc})") from None
    return _to_float(np.asarray(data), scaling)


def read_image_box(path, box, hdu: int = 0) -> tuple[np.ndarray, fits.Header]:
    """
    Read only a box of an image, memory-mapped: ``((j0, j1), (i0, i1))``.

    Rows ``j0 .. j1-1`` and columns ``i0 .. i1-1`` (0-based, maximum
    exclusive) of the image; the box must lie inside it.

    Parameters
    ----------
    path : str or path-like
        The FITS file.
    box : tuple of two (int, int)
        ``((j0, j1), (i0, i1))``: the rows, then the columns.
    hdu : int
        The HDU to read (0: primary).

    Returns
    -------
    data : numpy.ndarray
        float64 copy of the box.
    header : astropy.io.fits.Header
        The image's full header.

    Raises
    ------
    InputError
        As `read_image`, or a box not inside the image.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "a.fits"
    >>> write_image(np.arange(12.0).reshape(3, 4), fits.Header(), p)
    >>> read_image_box(p, ((1, 3), (2, 4)))[0]
    array([[ 6.,  7.],
           [10., 11.]])
    """
    (j0, j1), (i0, i1) = box
    hdul, h = _open(path, hdu)
    with hdul:
        ny, nx = int(h.header["NAXIS2"]), int(h.header["NAXIS1"])
        if not (0 <= j0 <= j1 <= ny and 0 <= i0 <= i1 <= nx):
            raise InputError(f"Image {path}: box {box} is outside its {ny}x{nx} pixels")
        return _section(h, path, (j0, j1), (i0, i1)), h.header.copy()


def write_image(data: np.ndarray, header: fits.Header, path) -> None:
    """
    Write an image atomically (a temporary name, then rename).

    Parameters
    ----------
    data : numpy.ndarray
        The pixels; their dtype sets ``BITPIX``.
    header : astropy.io.fits.Header
        Cards written with the pixels (``SIMPLE``, ``BITPIX`` and ``NAXIS*``
        follow ``data``; astropy fixes what it can of the rest).
    path : str or path-like
        The FITS file written.

    Raises
    ------
    InputError
        The folder of ``path`` does not exist.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "a.fits"
    >>> write_image(np.ones((2, 3)), fits.Header({"OBJECT": "M17"}), p)
    >>> fits.getheader(p)["BITPIX"], fits.getheader(p)["OBJECT"]
    (-64, 'M17')
    """
    hdu = fits.PrimaryHDU(np.asarray(data), header=header)
    path = Path(path)
    if not path.parent.is_dir():
        raise InputError(f"Cannot write {path}: folder {path.parent} does not exist")
    with atomic_path(path) as tmp:
        hdu.writeto(tmp, overwrite=True, output_verify="silentfix")


def read_image_grid(path) -> tuple[tuple[int, int], tuple[float, float]]:
    """
    Read the pixel grid of an image: its shape and reference pixel.

    Only the header is read (for plain images only the few cards
    that matter, cached per file).

    Parameters
    ----------
    path : str or path-like
        The FITS file (primary HDU).

    Returns
    -------
    shape : tuple of int
        ``(NAXIS2, NAXIS1)``.
    crpix : tuple of float
        ``(CRPIX1, CRPIX2)``.

    Raises
    ------
    InputError
        Missing file, not FITS, or no CRPIX/NAXIS cards.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "a.fits"
    >>> write_image(np.zeros((2, 3)), fits.Header({"CRPIX1": 1.5, "CRPIX2": 4.0}), p)
    >>> read_image_grid(p)
    ((2, 3), (1.5, 4.0))
    """
    layout = _plain_layout(path)
    try:
        if layout is not None and "CRPIX1" in layout[0] and "CRPIX2" in layout[0]:
            c = layout[0]
            return (
                (int(c["NAXIS2"]), int(c["NAXIS1"])),
                (float(c["CRPIX1"]), float(c["CRPIX2"])),
            )
        hdul, h = _open(path, 0)
        with hdul:
            hdr = h.header
            return (
                (int(hdr["NAXIS2"]), int(hdr["NAXIS1"])),
                (float(hdr["CRPIX1"]), float(hdr["CRPIX2"])),
            )
    except (KeyError, ValueError, TypeError):
        raise InputError(f"Image {path} has no NAXIS/CRPIX cards") from None


def read_box(path, box) -> np.ndarray:
    """
    Read the pixels of a box of an image: `read_image_box` without header.

    Plain images are read directly (no astropy objects): a few rows
    with one read, larger boxes through a memory map, so a small box of a big
    image costs only its own pages. For many boxes use a `BoxReader`.

    Parameters
    ----------
    path : str or path-like
        The FITS file (primary HDU).
    box : tuple of two (int, int)
        ``((j0, j1), (i0, i1))``: rows, then columns, 0-based, maximum
        exclusive.

    Returns
    -------
    numpy.ndarray
        float64 pixels of the box.

    Raises
    ------
    InputError
        Missing, unreadable or truncated file, or a box not inside the image.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "a.fits"
    >>> write_image(np.arange(12.0).reshape(3, 4), fits.Header(), p)
    >>> read_box(p, ((0, 1), (1, 3)))
    array([[1., 2.]])
    """
    with BoxReader(keep=1) as reader:
        return reader.read(path, box)


class BoxReader:
    """
    Read boxes of many images, keeping the most recent files open.

    Each plain image's header is scanned and the file opened once per
    reader (up to ``keep`` stay open), and mapped into memory at its first
    box; every box is then one copy out of the map, in float64. Other FITS
    files go through astropy each time. Use one
    reader per worker (it is not thread-safe) and close it, or use it as a
    context manager.

    Parameters
    ----------
    keep : int
        Files kept open at most.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "a.fits"
    >>> write_image(np.arange(12.0).reshape(3, 4), fits.Header({"CRPIX1": 2.0,
    ...             "CRPIX2": 1.0}), p)
    >>> with BoxReader() as r:
    ...     r.grid(p), r.read(p, ((1, 3), (0, 2))).tolist()
    (((3, 4), (2.0, 1.0)), [[4.0, 5.0], [8.0, 9.0]])
    """

    def __init__(self, keep: int = 32):
        self.keep = max(1, int(keep))
        self._files: OrderedDict = OrderedDict()

    def _entry(self, path):
        """``[fd, layout, size, pixels, map]`` of a plain image (opened once).

        None for other files. ``pixels`` and ``map`` are None until the first
        box is read (`_pixels`), and ``fd`` is None after: the map has it.
        """
        key = os.fspath(path)
        entry = self._files.get(key)
        if entry is not None:
            self._files.move_to_end(key)
            return entry
        layout, size = _sized_layout(key)
        if layout is None:
            return None
        try:
            fd = os.open(key, os.O_RDONLY | getattr(os, "O_BINARY", 0))
        except OSError:
            return None
        if len(self._files) >= self.keep:
            _release(self._files.popitem(last=False)[1])
        self._files[key] = entry = [fd, layout, size, None, None]
        return entry

    @staticmethod
    def _pixels(entry, path, dtype, ny: int, nx: int) -> np.ndarray | None:
        """
        Return the on-disk pixels of an entry: an array over a map of its file.

        Mapped once, when its first box is read: every box is then a slice
        copied out of the page cache and converted at once (where a read
        copies the rows, and converting them copies again). The size is
        checked before every box, so that a file cut short meanwhile is an
        error, not a read past its end. None where the file cannot be
        mapped (a file system without maps, such as some FUSE mounts): its
        boxes are then read (`_read_rows`). ``dtype``, ``ny`` and ``nx``:
        the image's type on disk and its rows and columns.
        """
        fd, (_, offset), _, pixels, whole = entry
        if pixels is False:
            return None
        if whole is None:
            try:
                whole = mmap.mmap(fd, 0, access=mmap.ACCESS_READ)  # keeps a copy of fd
            except (OSError, ValueError):  # no maps here, or emptied meanwhile
                entry[3] = False
                return None
            os.close(fd)
            entry[0], entry[4] = None, whole
        if whole.size() < offset + ny * nx * dtype.itemsize:  # the file's size now
            raise InputError(f"Image {path}: cannot read pixels (file changed)")
        if pixels is None:
            pixels = np.frombuffer(whole, dtype, count=ny * nx, offset=offset)
            entry[3] = pixels = pixels.reshape(ny, nx)
        return pixels

    def grid(self, path) -> tuple[tuple[int, int], tuple[float, float]]:
        """
        Read the pixel grid of an image, as `read_image_grid`.

        Parameters
        ----------
        path : str or path-like
            The FITS file.

        Returns
        -------
        tuple
            ``((NAXIS2, NAXIS1), (CRPIX1, CRPIX2))``.

        Raises
        ------
        InputError
            Missing file, not FITS, or no CRPIX/NAXIS cards.

        Examples
        --------
        See `BoxReader`.
        """
        entry = self._entry(path)
        if entry is None or not {"CRPIX1", "CRPIX2"} <= entry[1][0].keys():
            return read_image_grid(path)
        c = entry[1][0]
        try:
            return (
                (int(c["NAXIS2"]), int(c["NAXIS1"])),
                (float(c["CRPIX1"]), float(c["CRPIX2"])),
            )
        except ValueError:
            raise InputError(f"Image {path} has no NAXIS/CRPIX cards") from None

    def read(self, path, box) -> np.ndarray:
        """
        Read the pixels of a box of an image, as `read_box`.

        Parameters
        ----------
        path : str or path-like
            The FITS file (primary HDU).
        box : tuple of two (int, int)
            ``((j0, j1), (i0, i1))``: rows, then columns.

        Returns
        -------
        numpy.ndarray
            float64 pixels of the box.

        Raises
        ------
        InputError
            Missing, unreadable, truncated or changed file, or a box not
            inside the image.

        Examples
        --------
        See `BoxReader`.
        """
        entry = self._entry(path)
        if entry is None:
            return read_image_box(path, box)[0]
        _, (cards, offset), size, _, _ = entry
        ny, nx = int(cards["NAXIS2"]), int(cards["NAXIS1"])
        (j0, j1), (i0, i1) = box
        if not (0 <= j0 <= j1 <= ny and 0 <= i0 <= i1 <= nx):
            raise InputError(f"Image {path}: box {box} is outside its {ny}x{nx} pixels")
        dtype = np.dtype(_PLAIN[cards["BITPIX"]])
        if size < offset + ny * nx * dtype.itemsize:
            raise InputError(f"Image {path}: cannot read pixels (file is truncated)")
        if j1 == j0 or i1 == i0:
            return np.empty((j1 - j0, i1 - i0))
        pixels = self._pixels(entry, path, dtype, ny, nx)
        if pixels is None:
            pixels = _read_rows(entry[0], path, offset + j0 * nx * dtype.itemsize,
                                dtype, j1 - j0, nx)
            j0, j1 = 0, j1 - j0
        return _to_float(pixels[j0:j1, i0:i1], cards["_scaling"])

    def close(self) -> None:
        """
        Close every file still open (the reader stays usable).

        Examples
        --------
        >>> r = BoxReader()
        >>> r.close()
        """
        while self._files:
            _release(self._files.popitem()[1])

    def __enter__(self) -> BoxReader:
        """Return the reader itself, closed at the end of the block."""
        return self

    def __exit__(self, *exc) -> None:
        """Close the files."""
        self.close()

    def __del__(self):
        """Close the files, if still open."""
        with contextlib.suppress(Exception):
            self.close()


def _read_rows(fd: int, path, start: int, dtype, nrows: int, nx: int) -> np.ndarray:
    """Read ``nrows`` whole rows of pixels from ``start`` (a file without maps)."""
    nbytes = nrows * nx * dtype.itemsize
    data = _pread(fd, nbytes, start)
    if len(data) != nbytes:
        raise InputError(f"Image {path}: cannot read pixels (file changed)")
    return np.frombuffer(data, dtype=dtype).reshape(nrows, nx)


def _release(entry: list) -> None:
    """Close a `BoxReader` entry's file: its descriptor, or its map."""
    if entry[0] is not None:
        os.close(entry[0])
    entry[3] = None  # the pixels' view first: the map closes with the last reference
    whole, entry[4] = entry[4], None
    if whole is not None:
        with contextlib.suppress(BufferError):  # a box still viewed (a traceback's)
            whole.close()  # else it closes when that view goes


def _astropy_warning() -> type:
    """Return astropy's user warning class (imported with astropy, when needed)."""
    from astropy.utils.exceptions import AstropyUserWarning

    return AstropyUserWarning
