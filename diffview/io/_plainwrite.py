"""
Writing plain float64 FITS images without astropy: many small ones cheaply.

A difference run writes two small images a pair (the difference and its
area) with the template's cards; `write_plain_image` writes one image
atomically, `stage_plain_images` stages several whole (a pair) for a
`GroupCommit` that syncs and renames them together. Neither imports
astropy: the header is the caller's 80-character card images, plus the
geometry cards written here (`card_image`).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from diffview.io._commit import StagedFile, commit_staged, discard_staged, stage_file

__all__ = ["card_image", "write_plain_image", "stage_plain_images"]


def card_image(key: str, value) -> str:
    """
    Format an 80-character FITS card image for an int, float or bool value.

    Much cheaper than ``astropy.io.fits.Card(...).image`` when writing many
    small files. Floats are written with ``repr`` (all digits), upper case.

    Parameters
    ----------
    key : str
        The keyword, at most 8 characters.
    value : bool, int or float
        The value.

    Returns
    -------
    str
        The card, 80 characters, without a comment.

    Examples
    --------
    >>> card_image("CRPIX1", 289.2434).rstrip()
    'CRPIX1  =             289.2434'
    >>> card_image("SIMPLE", True).rstrip(), card_image("NAXIS", 2).rstrip()
    ('SIMPLE  =                    T', 'NAXIS   =                    2')
    """
    if isinstance(value, bool):
        text = "T" if value else "F"
    elif isinstance(value, (int, np.integer)):
        text = str(int(value))
    else:
        text = repr(float(value)).upper()
        if "." not in text and "E" not in text and "N" not in text:
            text += ".0"
    return f"{key:<8}= {text:>20}".ljust(80)


def _image_bytes(array: np.ndarray, cards: Sequence[str]) -> tuple:
    """Return the header, data and padding blocks of a float64 image with ``cards``.

    The data is a byte view of the big-endian pixels (one conversion, no
    further copy: a 2k x 2k difference is 32 MB).
    """
    ny, nx = array.shape
    head = [
        card_image("SIMPLE", True),
        card_image("BITPIX", -64),
        card_image("NAXIS", 2),
        card_image("NAXIS1", nx),
        card_image("NAXIS2", ny),
        *cards,
        "END".ljust(80),
    ]
    text = "".join(head)
    text += " " * (-len(text) % 2880)
    data = np.ascontiguousarray(array, dtype=">f8").reshape(-1).view(np.uint8)
    return text.encode("ascii"), data, b"\0" * (-data.size % 2880)


def _write_blocks(path, header: bytes, data, pad: bytes) -> StagedFile:
    """Stage one image file (one write per part, each looped until complete)."""
    return stage_file(path, (header, data, pad))


def stage_plain_images(images) -> list[StagedFile]:
    """
    Stage float64 images whole under temporary names, all or none.

    The files are complete but neither synced nor renamed: pass them to
    `diffview.io.commit_staged` (now) or to a `diffview.io.GroupCommit`
    (in the background, with other units). If one cannot be staged, those
    already staged are removed.

    Parameters
    ----------
    images : iterable of (path, numpy.ndarray, sequence of str)
        Each file's name, its 2-D pixels (written as big-endian float64)
        and its header cards (80 characters each, without ``SIMPLE``,
        ``BITPIX``, ``NAXIS*`` or ``END``).

    Returns
    -------
    list
        The staged files, in order.

    Raises
    ------
    InputError
        The folder of a path does not exist.
    diffview.errors.OutputError
        A full disk, an I/O error, or a path that is not a regular file.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from diffview.io import commit_staged
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> staged = stage_plain_images([(d / "a.fits", np.ones((2, 3)), []),
    ...                              (d / "b.fits", np.zeros((1, 1)), [])])
    >>> commit_staged(staged); sorted(p.name for p in d.iterdir())
    ['a.fits', 'b.fits']
    >>> (d / "b.fits").stat().st_size
    5760
    """
    staged: list[StagedFile] = []
    try:
        for path, array, cards in images:
            staged.append(_write_blocks(path, *_image_bytes(array, cards)))
    except BaseException:
        discard_staged(staged)
        raise
    return staged


def write_plain_image(path, array: np.ndarray, cards: Sequence[str]) -> None:
    """
    Write a float64 image with the given header card images, atomically.

    A fast writer for many small files: ``cards`` are 80-character card
    images (``fits.Card.image``, `card_image`) without ``SIMPLE``,
    ``BITPIX``, ``NAXIS*`` or ``END``, which are written here from
    ``array``. The file is written under a temporary name beside ``path``,
    synced and renamed onto it, so an interrupted or failed write leaves no
    partial file (symbolic links, FIFOs and devices are handled as
    `diffview.io.atomic_path` does).

    Parameters
    ----------
    path : str or path-like
        The FITS file written.
    array : numpy.ndarray
        2-D pixels, written as big-endian float64 (``BITPIX = -64``).
    cards : sequence of str
        The other header cards, 80 characters each.

    Raises
    ------
    InputError
        The folder of ``path`` does not exist.
    diffview.errors.OutputError
        The disk is full, an I/O error, or ``path`` is not a regular file;
        the message is ``"<path>: <problem>"``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "d.fits"
    >>> write_plain_image(p, np.ones((2, 3)), [card_image("CRPIX1", 2.0)])
    >>> raw = p.read_bytes()
    >>> raw[400:430].decode(), len(raw)
    ('CRPIX1  =                  2.0', 5760)
    """
    commit_staged(stage_plain_images([(path, array, cards)]))
