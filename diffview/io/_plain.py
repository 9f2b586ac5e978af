"""
The fast path for plain images: 2-D primary images, float or integer.

A plain image is a primary HDU of any ``BITPIX`` (8, 16, 32, 64, -32, -64),
2-D (or ``NAXIS3 = 1``). Its header is scanned once (cached by path, size
and modification time) for the few cards that fix the pixels' place and
value, and the pixels are then read with one call and no astropy objects.
They are returned as float64 the way CFITSIO reads them for Montage:
``value = raw * BSCALE + BZERO`` in double precision, and integer pixels
equal to ``BLANK`` become NaN. Unscaled float images (what Montage and
diffview write) skip the scaling. Anything else returns None here and goes
through astropy in `diffview.io.images`. Writing is in `_plainwrite`.

Reading pixels imports no astropy (0.2 s of a fresh process): only the
functions that return an ``astropy.io.fits.Header`` import it, when called.
"""

from __future__ import annotations

import functools
import os
from typing import TYPE_CHECKING

import numpy as np

from diffview.io._plainwrite import card_image, write_plain_image  # noqa: F401 - doctests

if TYPE_CHECKING:  # astropy loads with the first header parsed
    from astropy.io import fits

__all__ = [
    "read_plain_image",
    "read_plain_header_image",
    "read_plain_header",
]

_LAYOUT_KEYS = {
    "SIMPLE",
    "BITPIX",
    "NAXIS",
    "NAXIS1",
    "NAXIS2",
    "NAXIS3",
    "CRPIX1",
    "CRPIX2",
    "BSCALE",
    "BZERO",
    "BLANK",
}
#: On-disk dtype of each BITPIX the fast path reads.
_PLAIN = {
    b"-64": ">f8",
    b"-32": ">f4",
    b"8": "u1",
    b"16": ">i2",
    b"32": ">i4",
    b"64": ">i8",
}


def _plain_layout(path) -> tuple[dict, int] | None:
    """Primary-header cards and data offset of a plain image, else None.

    Plain means: primary HDU, any BITPIX, valid BSCALE/BZERO/BLANK if any,
    2-D (or NAXIS3 = 1). The cards are raw bytes, plus ``"_scaling"``: their
    parsed `_scaling`. Anything else goes through astropy. Results are cached
    by (path, size, modification time), so pairs sharing an image scan its
    header once.
    """
    layout, _ = _sized_layout(path)
    return layout


def _sized_layout(path) -> tuple[tuple[dict, int] | None, int]:
    """`_plain_layout` and the file's size (-1 if it cannot be read)."""
    try:
        st = os.stat(path)
    except OSError:
        return None, -1
    return _cached_layout(os.fspath(path), st.st_size, st.st_mtime_ns), st.st_size


@functools.lru_cache(maxsize=4096)
def _cached_layout(path: str, size: int, mtime: int) -> tuple[dict, int] | None:
    cards: dict = {}
    try:
        with open(path, "rb") as fh:
            for nblock in range(1, 100000):
                block = fh.read(2880)
                if len(block) < 2880:
                    return None
                for k in range(0, 2880, 80):
                    key = block[k : k + 8].rstrip()
                    if key == b"END":
                        if not _is_plain(cards):
                            return None
                        cards["_scaling"] = _scaling(cards)  # parsed once
                        return cards, nblock * 2880
                    name = key.decode("ascii", "replace")
                    if name in _LAYOUT_KEYS and block[k + 8 : k + 10] == b"= ":
                        cards[name] = block[k + 10 : k + 80].split(b"/")[0].strip()
    except OSError:
        return None
    return None


def _is_plain(cards: dict) -> bool:
    try:
        return (
            cards.get("SIMPLE") == b"T"
            and cards.get("BITPIX") in _PLAIN
            and (
                cards.get("NAXIS") == b"2"
                or (cards.get("NAXIS") == b"3" and int(cards.get("NAXIS3")) == 1)
            )
            and "NAXIS1" in cards
            and "NAXIS2" in cards
            and _scaling(cards) is not None
        )
    except (TypeError, ValueError):
        return False


def _scaling(cards: dict) -> tuple[float, float, int | None] | None:
    """``(BSCALE, BZERO, BLANK)`` of a header's cards; None if one is invalid.

    BLANK counts for integer images only (None otherwise), as in CFITSIO.
    """
    try:
        scale = float(cards.get("BSCALE", b"1") or 1)
        zero = float(cards.get("BZERO", b"0") or 0)
        blank = cards.get("BLANK")
        if blank is not None:
            blank = None if cards.get("BITPIX", b"").startswith(b"-") else int(blank)
    except (TypeError, ValueError):
        return None
    return scale, zero, blank


def _to_float(raw: np.ndarray, scaling: tuple) -> np.ndarray:
    """Pixels read as ``raw`` (on-disk dtype) in float64, as CFITSIO gives them.

    ``scaling`` is ``(BSCALE, BZERO, BLANK or None)`` (see `_scaling`):

    ``raw * BSCALE + BZERO`` in double precision (skipped when the scaling
    is the identity), then NaN where an integer pixel equals ``BLANK``.
    Always a new array.
    """
    scale, zero, blank = scaling
    out = raw.astype(np.float64)
    if scale != 1.0:
        out *= scale
    if zero != 0.0:
        out += zero
    if blank is not None:
        out[raw == blank] = np.nan
    return out


def _is_float64(cards: dict) -> bool:
    """Tell whether the image is unscaled float64 (its bytes are its values)."""
    return cards["BITPIX"] == b"-64" and cards["_scaling"][:2] == (1.0, 0.0)


def read_plain_image(path) -> tuple[np.ndarray, tuple[float, float]] | None:
    """
    Read a whole plain image and its reference pixel, without astropy.

    Reads the pixels with one call; returns None for anything that is not a
    plain 2-D image with CRPIX cards (or an unreadable or truncated file),
    so that the caller can fall back on `read_image`. Integer images are
    scaled by BSCALE/BZERO and their BLANK pixels set to NaN, as CFITSIO
    does for Montage.

    Parameters
    ----------
    path : str or path-like
        The FITS file.

    Returns
    -------
    tuple of (numpy.ndarray, (float, float)) or None
        The pixels as float64 (scaled), shape ``(NAXIS2, NAXIS1)``, and
        ``(CRPIX1, CRPIX2)``; None when the fast path does not apply.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "a.fits"
    >>> cards = [card_image("CRPIX1", 1.5), card_image("CRPIX2", 4.0)]
    >>> write_plain_image(p, np.ones((2, 3)), cards)
    >>> data, crpix = read_plain_image(p)
    >>> data.shape, crpix
    ((2, 3), (1.5, 4.0))
    >>> from astropy.io import fits
    >>> q = pathlib.Path(tempfile.mkdtemp()) / "u16.fits"
    >>> fits.PrimaryHDU(np.array([[0, 65535]], dtype=np.uint16),
    ...                 fits.Header({"CRPIX1": 1.0, "CRPIX2": 1.0})).writeto(q)
    >>> read_plain_image(q)[0]
    array([[    0., 65535.]])
    >>> _ = p.write_bytes(b"not FITS")
    >>> read_plain_image(p) is None
    True
    """
    layout = _plain_layout(path)
    if layout is None or "CRPIX1" not in layout[0] or "CRPIX2" not in layout[0]:
        return None
    read = _read_plain(path, layout, header=False)
    if read is None:
        return None
    cards = layout[0]
    return read[0], (float(cards["CRPIX1"]), float(cards["CRPIX2"]))


def read_plain_header_image(path) -> tuple[np.ndarray, fits.Header] | None:
    """
    Read a whole plain image (see `read_plain_image`) and its header.

    Parameters
    ----------
    path : str or path-like
        The FITS file.

    Returns
    -------
    tuple of (numpy.ndarray, astropy.io.fits.Header) or None
        The pixels as float64 (scaled) and the full primary header, as on
        disk (BITPIX, BSCALE, BZERO and BLANK included); None when the file
        is not a plain image (or cannot be read whole).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from astropy.io import fits
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "a.fits"
    >>> write_plain_image(p, np.ones((2, 3)), [fits.Card("OBJECT", "M17").image])
    >>> data, header = read_plain_header_image(p)
    >>> data.shape, header["OBJECT"]
    ((2, 3), 'M17')
    """
    layout = _plain_layout(path)
    return None if layout is None else _read_plain(path, layout, header=True)


def read_plain_header(path) -> fits.Header | None:
    """
    Read the header of a plain image (see `read_plain_image`) only.

    Parameters
    ----------
    path : str or path-like
        The FITS file.

    Returns
    -------
    astropy.io.fits.Header or None
        The full primary header; None for anything but a plain image
        (or an unreadable file).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from astropy.io import fits
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "a.fits"
    >>> write_plain_image(p, np.ones((2, 3)), [fits.Card("OBJECT", "M17").image])
    >>> h = read_plain_header(p)
    >>> h["NAXIS1"], h["NAXIS2"], h["OBJECT"]
    (3, 2, 'M17')
    """
    layout = _plain_layout(path)
    if layout is None:
        return None
    try:
        with open(path, "rb") as fh:
            head = fh.read(layout[1])
    except OSError:
        return None
    return _header_of(head)


def _header_of(head: bytes) -> fits.Header:
    """Parse a FITS header from its raw blocks (imports astropy)."""
    from astropy.io import fits

    return fits.Header.fromstring(head.decode("ascii", "replace"))


def _read_plain(path, layout, *, header: bool):
    """Pixels (float64) and, if asked, the header of a plain image; None if short.

    Unscaled doubles are read straight into the result and byte-swapped in
    place (no second array); other types are read, then converted
    (`_to_float`).
    """
    cards, offset = layout
    ny, nx = int(cards["NAXIS2"]), int(cards["NAXIS1"])
    disk = np.dtype(_PLAIN[cards["BITPIX"]])
    double = _is_float64(cards)
    buf = np.empty((ny, nx), dtype=np.float64 if double else disk)
    try:
        with open(path, "rb") as fh:
            head = fh.read(offset) if header else fh.seek(offset)
            if fh.readinto(memoryview(buf.reshape(-1)).cast("B")) != buf.nbytes:
                return None
    except OSError:
        return None
    if double:
        if not disk.isnative:
            buf.byteswap(inplace=True)
    else:
        buf = _to_float(buf, cards["_scaling"])
    hdr = _header_of(head) if header else None
    return buf, hdr


def _pread(fd: int, nbytes: int, offset: int) -> bytes:
    if hasattr(os, "pread"):
        return os.pread(fd, nbytes, offset)
    os.lseek(fd, offset, os.SEEK_SET)  # pragma: no cover - Windows
    return os.read(fd, nbytes)  # pragma: no cover
