"""
Mosaic templates: ``.hdr`` files of FITS header cards, one a line.

`read_template` gives an astropy header; `read_template_grid` gives what a
difference run needs (the mosaic's pixel grid and its card images) and
reads templates of plain cards, the usual kind, without astropy.
"""

from __future__ import annotations

import math
import re
from typing import TYPE_CHECKING, NamedTuple

from diffview.errors import InputError
from diffview.io.ipac import _read_bounded, _write_text

if TYPE_CHECKING:
    from astropy.io import fits

#: A template is a few dozen cards; reading stops with an error past this size
#: (a FIFO or device that never ends).
_MAX_TEMPLATE_BYTES = 16 << 20

__all__ = [
    "read_template",
    "parse_template",
    "write_template",
    "read_template_grid",
    "TemplateGrid",
]

_REQUIRED = (
    "BITPIX",
    "NAXIS",
    "NAXIS1",
    "NAXIS2",
    "CTYPE1",
    "CTYPE2",
    "CRPIX1",
    "CRPIX2",
    "CRVAL1",
    "CRVAL2",
)


def _check_template(header, source: str) -> None:
    missing = [k for k in _REQUIRED if k not in header]
    if missing:
        raise InputError(f"Template {source}: missing {' '.join(missing)}")
    has_cdelt = "CDELT1" in header and "CDELT2" in header
    has_cd = any(k in header for k in ("CD1_1", "CD1_2", "CD2_1", "CD2_2", "PC1_1"))
    if not (has_cdelt or has_cd):
        raise InputError(f"Template {source}: needs CDELT1/CDELT2 or a CD matrix")
    try:
        naxis = int(header["NAXIS"])
        n1, n2 = int(header["NAXIS1"]), int(header["NAXIS2"])
        crpix = float(header["CRPIX1"]), float(header["CRPIX2"])
    except (TypeError, ValueError, OverflowError):
        raise InputError(
            f"Template {source}: NAXIS/CRPIX values are not numbers"
        ) from None
    if not all(math.isfinite(v) for v in crpix):
        raise InputError(
            f"Template {source}: CRPIX1/CRPIX2 must be finite numbers, "
            f"not {crpix[0]} {crpix[1]}"
        )
    if naxis < 2 or n1 < 1 or n2 < 1:
        raise InputError(
            f"Template {source}: needs NAXIS >= 2 and positive NAXIS1/NAXIS2"
        )
    c1, c2 = str(header["CTYPE1"]), str(header["CTYPE2"])
    if len(c1) < 8 or len(c2) < 8 or c1[4:].strip("-") != c2[4:].strip("-"):
        raise InputError(
            f"Template {source}: CTYPE1 {c1!r} and CTYPE2 {c2!r} do not "
            "name one projection"
        )


#: Montage (through CFITSIO) writes every byte of a card that is not
#: printable ASCII as a space; line breaks stay.
_TO_SPACE = bytes(
    b if 32 <= b <= 126 or b in (10, 13) else 32 for b in range(256)
)


def _printable_lines(text, source: str) -> list[str]:
    """
    Lines of a template as Montage reads them: at most 80 bytes each.

    Bytes that are not printable ASCII (accented letters of a COMMENT card in
    UTF-8 or Latin-1, tabs, control characters) become spaces, as in the
    headers Montage writes from such a template; the length is counted in
    bytes, as Montage's ``montage_checkHdr`` counts it.
    """
    raw = text if isinstance(text, bytes) else text.encode("utf-8", "surrogatepass")
    lines = raw.split(b"\n")
    for n, line in enumerate(lines, start=1):
        if len(line.rstrip(b"\r")) > 80:
            raise InputError(
                f"Template {source}: line {n} is longer than 80 characters "
                "(FITS header lines cannot be longer)"
            )
    return [ln.translate(_TO_SPACE).decode("ascii").rstrip("\r") for ln in lines]


def parse_template(text: str | bytes, source: str = "<string>") -> fits.Header:
    """
    Parse the text of a ``.hdr`` template (one card a line) and validate it.

    The checks are those of Montage's ``montage_checkHdr``: cards of at most
    80 bytes, ``BITPIX``, ``NAXIS`` >= 2, ``NAXIS1/2``, ``CTYPE1/2`` of one
    projection, ``CRPIX1/2``, ``CRVAL1/2`` and ``CDELT1/2`` or a CD matrix.
    Blank lines are skipped and reading stops at ``END``.

    Parameters
    ----------
    text : str or bytes
        The template's text (or a file's bytes). Characters that are not
        printable ASCII (an accented name in a ``COMMENT`` card) read as
        spaces, one per byte of their UTF-8 form, as Montage reads them.
    source : str
        Name used in error messages.

    Returns
    -------
    astropy.io.fits.Header
        The cards, validated.

    Raises
    ------
    InputError
        The problem, naming ``source``.

    Examples
    --------
    >>> text = '''SIMPLE  = T
    ... BITPIX  = -64
    ... NAXIS   = 2
    ... NAXIS1  = 30
    ... NAXIS2  = 20
    ... CTYPE1  = 'RA---TAN'
    ... CTYPE2  = 'DEC--TAN'
    ... CRVAL1  = 275.0
    ... CRVAL2  = -16.0
    ... CRPIX1  = 15.5
    ... CRPIX2  = 10.5
    ... CDELT1  = -0.001
    ... CDELT2  = 0.001
    ... END'''
    >>> parse_template(text)["NAXIS1"]
    30
    >>> str(parse_template(text.replace("END", "COMMENT Genève"))["COMMENT"][0])
    'Gen  ve'
    """
    from astropy.io import fits

    cards = []
    for n, line in enumerate(_printable_lines(text, source), start=1):
        if not line.strip():
            continue
        if line.strip() == "END":
            break
        try:
            cards.append(fits.Card.fromstring(line.ljust(80)))
        except Exception:  # noqa: BLE001 - astropy raises several kinds
            raise InputError(
                f"Template {source}: line {n} is not a FITS card: {line!r}"
            ) from None
    try:
        header = fits.Header(cards)
        header.tostring()  # forces astropy to parse (and verify) every value
    except Exception as exc:  # noqa: BLE001
        raise InputError(f"Template {source}: invalid header card ({exc})") from None
    _check_template(header, source)
    return header


def read_template(path) -> fits.Header:
    """
    Read and validate a ``.hdr`` template file.

    Parameters
    ----------
    path : str or path-like
        The template file.

    Returns
    -------
    astropy.io.fits.Header
        The cards, validated as by `parse_template`.

    Raises
    ------
    InputError
        Missing file, a real FITS file (Montage refuses those too), a line
        longer than 80 characters, missing keywords, a non-finite CRPIX, or a
        file over 16 MiB (a file that never ends).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from astropy.io import fits
    >>> h = fits.Header({"SIMPLE": True, "BITPIX": -64, "NAXIS": 2, "NAXIS1": 30,
    ...     "NAXIS2": 20, "CTYPE1": "RA---TAN", "CTYPE2": "DEC--TAN", "CRVAL1": 275.0,
    ...     "CRVAL2": -16.0, "CRPIX1": 15.5, "CRPIX2": 10.5, "CDELT1": -0.001,
    ...     "CDELT2": 0.001})
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "t.hdr"
    >>> write_template(h, p)
    >>> read_template(p)["CRPIX1"]
    15.5
    """
    return parse_template(_template_bytes(path), str(path))


def _template_bytes(path) -> bytes:
    """Read the bytes of a template file; InputError if it cannot be one."""
    try:
        raw = _read_bounded(path, "template", _MAX_TEMPLATE_BYTES)
    except FileNotFoundError:
        raise InputError(f"Template {path} not found") from None
    except OSError as exc:
        raise InputError(
            f"Cannot read template {path}: {exc.strerror or exc}"
        ) from None
    if raw.startswith(b"SIMPLE  =") and b"\n" not in raw[:2880]:
        raise InputError(
            f"Template {path} is a FITS file; a template is a text file "
            "of header cards, one per line (mMakeHdr, mGetHdr)"
        )
    return raw


def write_template(header: fits.Header, path) -> None:
    """
    Write a header as a ``.hdr`` template: one card a line, then ``END``.

    Trailing spaces of each card are dropped; the header is not validated.

    Parameters
    ----------
    header : astropy.io.fits.Header
        The cards to write.
    path : str or path-like
        The file written, atomically.

    Raises
    ------
    InputError
        The folder of ``path`` does not exist.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from astropy.io import fits
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "t.hdr"
    >>> write_template(fits.Header({"NAXIS": 2, "CTYPE1": "RA---TAN"}), p)
    >>> print(p.read_text(), end="")
    NAXIS   =                    2
    CTYPE1  = 'RA---TAN'
    END
    """
    lines = [card.image.rstrip() for card in header.cards if card.keyword != "END"]
    _write_text(path, "\n".join(lines) + "\nEND\n")


class TemplateGrid(NamedTuple):
    """
    What a difference run needs of a template: its pixel grid and cards.

    Parameters
    ----------
    shape : tuple of int
        ``(NAXIS2, NAXIS1)``.
    crpix : tuple of float
        ``(CRPIX1, CRPIX2)``.
    cards : list of str
        Every card image (80 characters), as ``astropy.io.fits.Card.image``
        gives it, ``END`` excluded.

    Examples
    --------
    >>> TemplateGrid((2, 3), (1.0, 1.0), []).shape
    (2, 3)
    """

    shape: tuple[int, int]
    crpix: tuple[float, float]
    cards: list[str]


#: A card astropy keeps as it is: a keyword of upper-case letters, digits,
#: ``-`` and ``_`` in columns 1-8, ``= `` in 9-10, then a string, a logical,
#: an integer or a float (``E`` exponent) and an optional comment.
_KEYWORD = re.compile(r"[A-Z0-9_-]{1,8} *")
_VALUE = re.compile(
    r" *(?:'(?P<str>(?:[ -&(-~]|'')*)'|(?P<bool>[TF])|(?P<int>[+-]?[0-9]+)"
    r"|(?P<float>[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:E[+-]?[0-9]+)?))"
    r" *(?:/[ -~]*)?"
)
_COMMENTARY = ("COMMENT ", "HISTORY ", "        ")
#: Keywords astropy reads its own way.
_SPECIAL = {"END", "CONTINUE", "HIERARCH"}


def _plain_card(card: str):
    """``(keyword, value)`` of an 80-character card astropy keeps as it is.

    ``()`` for a commentary card, None for any other card (astropy reads it).

    Examples
    --------
    >>> _plain_card("CTYPE1  = 'RA---TAN'  / axis".ljust(80))
    ('CTYPE1', 'RA---TAN')
    >>> _plain_card("COMMENT made by hand".ljust(80)), _plain_card("x = 1".ljust(80))
    ((), None)
    """
    if card[:8] in _COMMENTARY:
        return ()
    m = _VALUE.fullmatch(card[10:].rstrip())
    if m is None or card[8:10] != "= " or not _KEYWORD.fullmatch(card[:8]):
        return None
    key = card[:8].rstrip()
    if key in _SPECIAL:
        return None
    if m["str"] is not None:
        text = m["str"].replace("''", "'").rstrip()
        return None if text.endswith("&") else (key, text)  # & continues a string
    if m["bool"] is not None:
        return key, m["bool"] == "T"
    return key, int(m["int"]) if m["int"] is not None else float(m["float"])


def _plain_template(raw: bytes, source: str) -> TemplateGrid | None:
    """Read a template of plain cards (`_plain_card`) without astropy, else None."""
    values: dict = {}
    cards = []
    for line in _printable_lines(raw, source):
        if not line.strip():
            continue
        if line.strip() == "END":
            break
        card = line.ljust(80)
        parsed = _plain_card(card)
        if parsed is None:
            return None
        if parsed:
            values.setdefault(*parsed)
        cards.append(card)
    _check_template(values, source)
    return _grid(values, cards)


def _grid(header, cards: list[str]) -> TemplateGrid:
    return TemplateGrid(
        (int(header["NAXIS2"]), int(header["NAXIS1"])),
        (float(header["CRPIX1"]), float(header["CRPIX2"])),
        cards,
    )


def read_template_grid(path) -> TemplateGrid:
    r"""
    Read and validate a template for a difference run, without astropy.

    The checks and the cards are those of `read_template`. A template whose
    cards are all plain (a keyword, then a number, a logical or a string,
    and a comment; or a ``COMMENT``/``HISTORY`` card), as Montage's and
    diffview's are, is read here; any other goes through astropy.

    Parameters
    ----------
    path : str or path-like
        The template file.

    Returns
    -------
    TemplateGrid
        ``(shape, crpix, cards)``.

    Raises
    ------
    InputError
        As `read_template`.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "t.hdr"
    >>> _ = p.write_text("\n".join([
    ...     "SIMPLE  = T", "BITPIX  = -64", "NAXIS   = 2", "NAXIS1  = 30",
    ...     "NAXIS2  = 20", "CTYPE1  = 'RA---TAN'", "CTYPE2  = 'DEC--TAN'",
    ...     "CRVAL1  = 275.0", "CRVAL2  = -16.0", "CRPIX1  = 15.5",
    ...     "CRPIX2  = 10.5", "CDELT1  = -0.001", "CDELT2  = 0.001", "END"]))
    >>> g = read_template_grid(p)
    >>> g.shape, g.crpix, g.cards[5].rstrip()
    ((20, 30), (15.5, 10.5), "CTYPE1  = 'RA---TAN'")
    """
    raw = _template_bytes(path)
    grid = _plain_template(raw, str(path))
    if grid is None:
        header = parse_template(raw, str(path))
        grid = _grid(header, [card.image for card in header.cards])
    return grid
