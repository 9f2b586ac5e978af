"""
Montage's files: IPAC tables, ``.hdr`` templates and projected images.

Tables are read the way Montage's ``mtbl`` library reads them (columns end at
the ``|`` of the name line, values are the characters between two bars, an
optional type line) and written in the fixed-width layouts Montage's programs
write (``montage-semantics.md`` §4.4, §5.5, §6.1, §7), so that files go back
and forth between diffview and MontagePy.

One deliberate difference from Montage: a blank line inside a table is skipped,
where Montage reads it as a record of zeros (an image ``cntr = 0`` with no file
name, or a fit of image 0 against image 0).

Images are opened memory-mapped and only the requested section is read
(`read_image_box`), so a pair never costs more memory than its overlap.
"""

from __future__ import annotations

import contextlib
import functools
import math
import os
import warnings
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
from astropy.io import fits
from astropy.table import Table
from astropy.utils.exceptions import AstropyUserWarning

from diffview.errors import InputError
from diffview.io.paths import atomic_path
from diffview.models import Correction, Overlap, PlaneFit

__all__ = [
    "read_table",
    "read_table_columns",
    "parse_table",
    "require_columns",
    "format_table",
    "write_table",
    "read_diffs_table",
    "write_diffs_table",
    "read_fits_table",
    "write_fits_table",
    "read_corrections_table",
    "write_corrections_table",
    "read_template",
    "parse_template",
    "write_template",
    "read_image",
    "read_image_box",
    "read_box",
    "BoxReader",
    "read_plain_image",
    "read_plain_header_image",
    "read_plain_header",
    "image_geometry",
    "write_image",
    "write_plain_image",
    "card_image",
]

_TYPES = {
    "i": int,
    "int": int,
    "integer": int,
    "long": int,
    "d": float,
    "double": float,
    "r": float,
    "real": float,
    "f": float,
    "float": float,
    "c": str,
    "char": str,
    "s": str,
    "date": str,
}


# --------------------------------------------------------------------------
# Reading IPAC tables
# --------------------------------------------------------------------------


def _bar_columns(line: str) -> tuple[list[str], list[int]]:
    """Names and bar positions of a ``|`` header line (Montage's rules)."""
    bars = [k for k, ch in enumerate(line) if ch == "|"]
    if line.startswith("|"):
        bars = bars[1:]
        start = 0
    else:
        start = -1
    names, ends, prev = [], [], start
    for b in bars:
        names.append(line[prev + 1 : b].strip())
        ends.append(b)
        prev = b
    return names, ends


def _fields(line: str, ends: list[int]) -> list[str]:
    out, prev = [], -1
    for e in ends:
        out.append(line[prev + 1 : e].strip() if prev + 1 < len(line) else "")
        prev = e
    return out


def _convert(values: list[str], kind, name: str, where: str):
    """Column values as int, float or str: the type line's, else inferred."""
    if kind is str:
        return np.array(values, dtype=str) if values else np.array([], dtype=str)
    if kind is None:
        for kind in (int, float, str):
            try:
                return _convert(values, kind, name, where)
            except InputError:
                continue
    if kind is int and all(v == "" for v in values) and values:
        kind = float
    try:
        if kind is int:
            return np.array([int(v) if v != "" else 0 for v in values], dtype=np.int64)
        return np.array(
            [float(v) if v != "" else math.nan for v in values], dtype=float
        )
    except ValueError:
        if kind is float:
            raise InputError(
                f"{where}: column {name!r} holds a value that is not a number"
            ) from None
        try:  # an int column written with a decimal point
            return _convert(values, float, name, where)
        except InputError:
            raise InputError(
                f"{where}: column {name!r} holds a value that is not a number"
            ) from None


def parse_table(text: str, source: str = "<string>") -> Table:
    """
    Parse the text of an IPAC table as Montage's ``mtbl`` library does.

    Parameters
    ----------
    text : str
        The table's text.
    source : str
        Name used in error messages.

    Returns
    -------
    astropy.table.Table
        One column per header field; ``\\key = value`` lines go to
        ``table.meta["keywords"]``.

    Raises
    ------
    InputError
        No header line, or a numeric column holding text.

    Examples
    --------
    >>> t = parse_table("|cntr|  fname |\\n|int |  char  |\\n    3   a.fits\\n")
    >>> t["cntr"][0], str(t["fname"][0])
    (np.int64(3), 'a.fits')
    """
    lines = [ln.rstrip("\r") for ln in text.split("\n")]
    keywords, names, ends, kinds, k = _table_head(lines, source)
    rows = [_fields(ln, ends) for ln in _records(lines, k)]
    cols = [
        _convert([r[c] for r in rows], kinds[c], names[c], source)
        for c in range(len(names))
    ]
    table = Table(cols, names=names)
    table.meta["keywords"] = keywords
    return table


def _table_head(lines: list[str], source: str):
    """An IPAC table's header: (keywords, column names, bar positions,
    column types from the type line or None, index of the first line after
    the header lines)."""
    keywords, k = {}, 0
    while k < len(lines) and (lines[k].startswith("\\") or not lines[k].strip()):
        head = lines[k][1:]
        if "=" in head:
            key, _, value = head.partition("=")
            keywords[key.strip()] = value.strip().strip("'\"")
        k += 1
    if k == len(lines) or not lines[k].startswith("|") and "|" not in lines[k]:
        raise InputError(f"{source}: not an IPAC table (no '|' column header line)")
    names, ends = _bar_columns(lines[k])
    if not names or any(not n for n in names):
        raise InputError(f"{source}: invalid column header line {lines[k]!r}")
    k += 1
    extra = []
    while k < len(lines) and lines[k].startswith("|"):
        extra.append(_fields(" " + lines[k][1:], ends))
        k += 1
    kinds = (
        [_TYPES.get(t.lower()) if t else None for t in extra[0]]
        if extra
        else [None] * len(names)
    )
    return keywords, names, ends, kinds, k


def _records(lines: list[str], k: int) -> list[str]:
    """The record lines of a table from line ``k``: blank, ``\\`` comment
    and ``|`` lines skipped."""
    return [
        ln
        for ln in lines[k:]
        if ln.strip() and not ln.startswith("\\") and not ln.startswith("|")
    ]


def read_table(path: str | os.PathLike) -> Table:
    """
    Read an IPAC table file (``images.tbl``, ``diffs.tbl``, ``fits.tbl`` ...).

    Parameters
    ----------
    path : str or path-like
        The table file.

    Returns
    -------
    astropy.table.Table

    Raises
    ------
    InputError
        Missing or unreadable file, or not an IPAC table.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "t.tbl"
    >>> _ = p.write_text("| id |  a   |\\n    1   2.5\\n")
    >>> read_table(p)["a"][0]
    np.float64(2.5)
    """
    return parse_table(_table_text(path), str(path))


def _table_text(path) -> str:
    """A table file's text; InputError when it is missing or unreadable."""
    try:
        return Path(path).read_text(errors="replace")
    except FileNotFoundError:
        raise InputError(f"Table {path} not found") from None
    except OSError as exc:
        raise InputError(f"Cannot read table {path}: {exc.strerror or exc}") from None


def read_table_columns(
    path: str | os.PathLike, names: Iterable[str], *, optional: bool = False
) -> dict[str, np.ndarray]:
    """
    Read only some columns of an IPAC table file, as plain arrays.

    The same rules and values as `read_table` (Montage's ``mtbl``: columns
    end at the ``|`` of the name line, types from the type line, ``\\``
    and blank lines skipped), without building an astropy Table or
    converting the other columns: several times faster on an
    ``images.tbl`` of a few dozen rows.

    Parameters
    ----------
    path : str or path-like
        The table file.
    names : iterable of str
        The columns wanted.
    optional : bool
        Leave missing columns out of the result instead of raising.

    Returns
    -------
    dict of str to ndarray
        Each column found: ``int64`` or ``float64`` for numbers (empty
        values 0 or NaN), ``str`` for characters.

    Raises
    ------
    InputError
        Missing or unreadable file, not an IPAC table, a numeric column
        holding text, or (unless ``optional``) a missing column.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "t.tbl"
    >>> _ = p.write_text("| id |  a   | f  |\\n| int|double|char|\\n    1   2.5   x\\n")
    >>> cols = read_table_columns(p, ["a", "id"])
    >>> cols["a"].tolist(), cols["id"].dtype
    ([2.5], dtype('int64'))
    >>> read_table_columns(p, ["ra1"], optional=True)
    {}
    """
    source = str(path)
    lines = [ln.rstrip("\r") for ln in _table_text(path).split("\n")]
    _, cols, ends, kinds, k = _table_head(lines, source)
    wanted = list(names)
    missing = [n for n in wanted if n not in cols]
    if missing and not optional:
        raise InputError(f"{source}: need columns: {' '.join(missing)}")
    records = _records(lines, k)
    out = {}
    for name in wanted:
        if name in missing:
            continue
        c = cols.index(name)
        start = ends[c - 1] + 1 if c else 0
        values = [ln[start : ends[c]].strip() for ln in records]
        out[name] = _convert(values, kinds[c], name, source)
    return out


def require_columns(table: Table, columns: Iterable[str], path) -> None:
    """
    Raise a clear error when ``table`` lacks any of ``columns``.

    Examples
    --------
    >>> require_columns(Table({"cntr": [1]}), ["cntr", "fname"], "images.tbl")
    Traceback (most recent call last):
    ...
    diffview.errors.InputError: images.tbl: need columns: fname
    """
    missing = [c for c in columns if c not in table.colnames]
    if missing:
        raise InputError(f"{path}: need columns: {' '.join(missing)}")


# --------------------------------------------------------------------------
# Writing IPAC tables
# --------------------------------------------------------------------------


def _type_name(values) -> str:
    kind = np.asarray(values).dtype.kind
    return {"i": "int", "u": "int", "f": "double", "b": "int"}.get(kind, "char")


def _format_value(value, fmt: str | None) -> str:
    if fmt is None:
        if isinstance(value, (float, np.floating)):
            return repr(float(value))
        return str(value)
    return fmt % value


def format_table(
    table,
    formats: dict | None = None,
    *,
    keywords: dict | None = None,
    types: bool = True,
) -> str:
    """
    Text of a fixed-width IPAC table in Montage's layout.

    Values are right-aligned so each ends just before the next bar, every line
    is padded to the same length, header lines end with ``|`` and data lines
    with a space (mImgtbl's layout, readable by Montage and by astropy).

    Parameters
    ----------
    table : astropy.table.Table or dict of sequences
        Columns in output order.
    formats : dict, optional
        printf-style format per column name (``"%13.7f"``); others use
        ``str``/``repr``.
    keywords : dict, optional
        ``\\key = value`` lines written first.
    types : bool
        Write the type line (``int``, ``double``, ``char``).

    Returns
    -------
    str

    Examples
    --------
    >>> format_table({"id": [1, 22], "c": [0.5, -1.0]}, {"c": "%6.2f"}).splitlines()
    ['| id|     c|', '|int|double|', '   1   0.50 ', '  22  -1.00 ']
    """
    formats = formats or {}
    names = list(table.colnames if isinstance(table, Table) else table.keys())
    columns = {n: list(table[n]) for n in names}
    nrows = len(columns[names[0]]) if names else 0
    cells = {n: [_format_value(v, formats.get(n)) for v in columns[n]] for n in names}
    tnames = {n: _type_name(table[n]) for n in names}
    widths = {
        n: max([len(n), len(tnames[n]) if types else 0] + [len(c) for c in cells[n]])
        for n in names
    }
    head = "|" + "|".join(n.rjust(widths[n]) for n in names) + "|"
    lines = [f"\\{k} = {v}" for k, v in (keywords or {}).items()] + [head]
    if types:
        lines.append("|" + "|".join(tnames[n].rjust(widths[n]) for n in names) + "|")
    for r in range(nrows):
        lines.append(" " + " ".join(cells[n][r].rjust(widths[n]) for n in names) + " ")
    return "\n".join(lines) + "\n"


def write_table(
    table, path, formats: dict | None = None, *, keywords=None, types: bool = True
) -> None:
    """
    Write a table with `format_table`, atomically.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "t.tbl"
    >>> write_table({"id": [1], "c": [0.5]}, p)
    >>> read_table(p)["c"][0]
    np.float64(0.5)
    """
    _write_text(path, format_table(table, formats, keywords=keywords, types=types))


def _write_text(path, text: str) -> None:
    path = Path(path)
    if not path.parent.is_dir():
        raise InputError(f"Cannot write {path}: folder {path.parent} does not exist")
    with atomic_path(path) as tmp:
        Path(tmp).write_text(text)


# --------------------------------------------------------------------------
# diffs.tbl, fits.tbl, corrections.tbl
# --------------------------------------------------------------------------


def write_diffs_table(overlaps: Sequence[Overlap], path) -> None:
    """
    Write ``diffs.tbl`` exactly as Montage's mOverlaps does.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "diffs.tbl"
    >>> write_diffs_table([Overlap(0, 1, "a.fits", "b.fits",
    ...                            "diff.000000.000001.fits")], p)
    >>> read_diffs_table(p)[0].diff
    'diff.000000.000001.fits'
    """
    w = max([len(o.plus) for o in overlaps] + [len(o.minus) for o in overlaps] + [4])
    head = (
        "| cntr1 | cntr2 |"
        + "plus".rjust(w)
        + " |"
        + "minus".rjust(w)
        + " |"
        + "         diff             |"
    )
    types = (
        "| int   | int   |"
        + "char".rjust(w)
        + " |"
        + "char".rjust(w)
        + " |"
        + "         char             |"
    )
    rows = [
        f"{o.cntr1:8d}{o.cntr2:8d} {o.plus:>{w}s}  {o.minus:>{w}s}  {o.diff}"
        for o in overlaps
    ]
    _write_text(path, "\n".join([head, types, *rows]) + "\n")


def read_diffs_table(path) -> list[Overlap]:
    """
    Read a ``diffs.tbl`` (mOverlaps' output) into `Overlap` objects.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "d.tbl"
    >>> write_diffs_table([Overlap(2, 5, "x.fits", "y.fits", "d.fits")], p)
    >>> read_diffs_table(p)
    [Overlap(cntr1=2, cntr2=5, plus='x.fits', minus='y.fits', diff='d.fits')]
    """
    table = read_table(path)
    require_columns(table, ["cntr1", "cntr2", "plus", "minus", "diff"], path)
    return [
        Overlap(
            int(r["cntr1"]),
            int(r["cntr2"]),
            str(r["plus"]),
            str(r["minus"]),
            str(r["diff"]),
        )
        for r in table
    ]


_FIT_WIDTHS = (
    9,
    9,
    16,
    16,
    16,
    14,
    14,
    10,
    10,
    10,
    10,
    13,
    13,
    13,
    16,
    16,
    16,
    16,
    16,
    16,
)
_FIT_FORMATS = (
    "%9d",
    "%9d",
    "%16.9e",
    "%16.9e",
    "%16.9e",
    "%14.2f",
    "%14.2f",
    "%10d",
    "%10d",
    "%10d",
    "%10d",
    "%13.2f",
    "%13.2f",
    "%13.0f",
    "%16.9e",
    "%16.1f",
    "%16.1f",
    "%16.1f",
    "%16.1f",
    "%16.1f",
)


def _fit_row(f: PlaneFit) -> str:
    values = [getattr(f, n) for n in PlaneFit.columns()]
    for k in (7, 8, 9, 10):  # Montage truncates the pixel ranges toward zero
        values[k] = int(values[k]) if math.isfinite(values[k]) else 0
    return (
        " "
        + " ".join(fmt % v for fmt, v in zip(_FIT_FORMATS, values, strict=True))
        + " "
    )


def write_fits_table(fits_: Sequence[PlaneFit], path) -> None:
    """
    Write ``fits.tbl`` in mFitExec's layout (a, b, c and rms with 10 digits).

    Montage writes ``%16.5e`` (6 significant digits); the same field width
    holds 10, so mBgModel reads diffview's table unchanged, more precisely.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "fits.tbl"
    >>> f = PlaneFit(0, 1, 1e-3, -2e-3, 2.5, 1.0, 1.0, 0, 3, 0, 2, 1.5, 1.0, 12,
    ...              0.1, 1.5, 1.0, 3.0, 2.0, 0.0)
    >>> write_fits_table([f], p)
    >>> read_fits_table(p)[0].c
    2.5
    """
    head = (
        "|"
        + "|".join(
            n.rjust(w) for n, w in zip(PlaneFit.columns(), _FIT_WIDTHS, strict=True)
        )
        + "|"
    )
    _write_text(path, "\n".join([head, *(_fit_row(f) for f in fits_)]) + "\n")


def read_fits_table(path) -> list[PlaneFit]:
    """
    Read a ``fits.tbl`` (mFitExec/mDiffFitExec output) into `PlaneFit` objects.

    Examples
    --------
    See `write_fits_table`.
    """
    table = read_table(path)
    cols = PlaneFit.columns()
    require_columns(table, cols[:5], path)
    out = []
    for r in table:
        vals = {c: (r[c] if c in table.colnames else math.nan) for c in cols}
        vals["plus"], vals["minus"] = int(vals["plus"]), int(vals["minus"])
        npix = vals["npixel"]
        vals["npixel"] = int(npix) if math.isfinite(npix) else 0
        out.append(
            PlaneFit(
                **{
                    c: (v if c in ("plus", "minus", "npixel") else float(v))
                    for c, v in vals.items()
                }
            )
        )
    return out


def write_corrections_table(corrections: Iterable[Correction], path) -> None:
    """
    Write ``corrections.tbl`` in mBgModel's layout, sorted by id.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "corrections.tbl"
    >>> write_corrections_table([Correction(1, 0.0, 0.0, -3.25)], p)
    >>> read_corrections_table(p)
    [Correction(id=1, a=0.0, b=0.0, c=-3.25)]
    """
    rows = [
        f" {c.id:8d}  {c.a:13.5e}  {c.b:13.5e}  {c.c:13.5e}"
        for c in sorted(corrections, key=lambda c: c.id)
    ]
    head = "|   id   |      a       |      b       |      c       |"
    _write_text(path, "\n".join([head, *rows]) + "\n")


def read_corrections_table(path) -> list[Correction]:
    """
    Read a ``corrections.tbl`` (mBgModel output) into `Correction` objects.

    Examples
    --------
    See `write_corrections_table`.
    """
    table = read_table(path)
    require_columns(table, ["id", "a", "b", "c"], path)
    return [
        Correction(int(r["id"]), float(r["a"]), float(r["b"]), float(r["c"]))
        for r in table
    ]


# --------------------------------------------------------------------------
# Templates
# --------------------------------------------------------------------------

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


def _check_template(header: fits.Header, source: str) -> None:
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
        float(header["CRPIX1"]), float(header["CRPIX2"])
    except (TypeError, ValueError):
        raise InputError(
            f"Template {source}: NAXIS/CRPIX values are not numbers"
        ) from None
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


def parse_template(text: str, source: str = "<string>") -> fits.Header:
    """
    Parse the text of a ``.hdr`` template (one card a line) and validate it.

    The checks are those of Montage's ``montage_checkHdr``: cards of at most
    80 characters, ``BITPIX``, ``NAXIS`` >= 2, ``NAXIS1/2``, ``CTYPE1/2`` of one
    projection, ``CRPIX1/2``, ``CRVAL1/2`` and ``CDELT1/2`` or a CD matrix.

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
    """
    cards = []
    for n, line in enumerate(text.split("\n"), start=1):
        line = line.rstrip("\r")
        if len(line) > 80:
            raise InputError(
                f"Template {source}: line {n} is longer than 80 characters "
                "(FITS header lines cannot be longer)"
            )
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

    Raises
    ------
    InputError
        Missing file, a real FITS file (Montage refuses those too), a line
        longer than 80 characters or missing keywords.

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
    try:
        raw = Path(path).read_bytes()
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
    return parse_template(raw.decode("ascii", errors="replace"), str(path))


def write_template(header: fits.Header, path) -> None:
    """
    Write a header as a ``.hdr`` template: one card a line, then ``END``.

    Examples
    --------
    See `read_template`.
    """
    lines = [card.image.rstrip() for card in header.cards if card.keyword != "END"]
    _write_text(path, "\n".join(lines) + "\nEND\n")


# --------------------------------------------------------------------------
# Images
# --------------------------------------------------------------------------


def _open(path, hdu: int):
    try:
        with warnings.catch_warnings():  # a truncated file is reported below
            warnings.simplefilter("ignore", AstropyUserWarning)
            hdul = fits.open(path, memmap=True, lazy_load_hdus=True)
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
    try:
        extra = (0,) * (h.header["NAXIS"] - 2)
        data = h.section[(*extra, slice(*rows), slice(*cols))]
    except Exception as exc:  # noqa: BLE001 - truncated files raise several kinds
        raise InputError(f"Image {path}: cannot read pixels ({exc})") from None
    return np.asarray(data, dtype=np.float64)


def read_image_box(path, box, hdu: int = 0) -> tuple[np.ndarray, fits.Header]:
    """
    Read only a box of an image, memory-mapped: ``((j0, j1), (i0, i1))``.

    Rows ``j0 .. j1-1`` and columns ``i0 .. i1-1`` (0-based, maximum
    exclusive) of the image; the box must lie inside it.

    Returns
    -------
    data : numpy.ndarray
        float64 copy of the box.
    header : astropy.io.fits.Header
        The image's full header.

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
    Write a float image atomically (a temporary name, then rename).

    Examples
    --------
    See `read_image`.
    """
    hdu = fits.PrimaryHDU(np.asarray(data), header=header)
    path = Path(path)
    if not path.parent.is_dir():
        raise InputError(f"Cannot write {path}: folder {path.parent} does not exist")
    with atomic_path(path) as tmp:
        hdu.writeto(tmp, overwrite=True, output_verify="silentfix")


# --------------------------------------------------------------------------
# Fast paths for plain float images (what Montage and diffview write)
# --------------------------------------------------------------------------

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
}
_PLAIN = {b"-64": ">f8", b"-32": ">f4"}


def _plain_layout(path) -> tuple[dict, int] | None:
    """Primary-header cards and data offset of a plain float image, else None.

    Plain means: primary HDU, BITPIX -32/-64, no BSCALE/BZERO scaling, 2-D
    (or NAXIS3 = 1). Anything else goes through astropy. Results are cached
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
                        return (cards, nblock * 2880) if _is_plain(cards) else None
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
            and float(cards.get("BSCALE", b"1") or 1) == 1.0
            and float(cards.get("BZERO", b"0") or 0) == 0.0
            and "NAXIS1" in cards
            and "NAXIS2" in cards
        )
    except (TypeError, ValueError):
        return False


def image_geometry(path) -> tuple[tuple[int, int], tuple[float, float]]:
    """
    ``((NAXIS2, NAXIS1), (CRPIX1, CRPIX2))`` of an image, reading the header only.

    Raises
    ------
    InputError
        Missing file, not FITS, or no CRPIX/NAXIS cards.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "a.fits"
    >>> write_image(np.zeros((2, 3)), fits.Header({"CRPIX1": 1.5, "CRPIX2": 4.0}), p)
    >>> image_geometry(p)
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


def read_plain_image(path) -> tuple[np.ndarray, tuple[float, float]] | None:
    """
    A whole plain float image (as Montage and diffview write) and its CRPIX.

    Reads the pixels with one call and no astropy objects; returns None for
    anything that is not a plain 2-D float image with CRPIX cards, so that
    the caller can fall back on `read_image`.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "a.fits"
    >>> write_image(np.ones((2, 3)), fits.Header({"CRPIX1": 1.5, "CRPIX2": 4.0}), p)
    >>> data, crpix = read_plain_image(p)
    >>> data.shape, crpix
    ((2, 3), (1.5, 4.0))
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
    A whole plain float image (see `read_plain_image`) with its full header.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "a.fits"
    >>> write_image(np.ones((2, 3)), fits.Header({"OBJECT": "M17"}), p)
    >>> data, header = read_plain_header_image(p)
    >>> data.shape, header["OBJECT"]
    ((2, 3), 'M17')
    """
    layout = _plain_layout(path)
    return None if layout is None else _read_plain(path, layout, header=True)


def read_plain_header(path) -> fits.Header | None:
    """
    The header of a plain float image (see `read_plain_image`) without its
    pixels; None for anything else (or an unreadable file).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "a.fits"
    >>> write_image(np.ones((2, 3)), fits.Header({"OBJECT": "M17"}), p)
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
    """A FITS header from its raw blocks."""
    return fits.Header.fromstring(head.decode("ascii", "replace"))


def _read_plain(path, layout, *, header: bool):
    """Pixels (float64) and, if asked, the header of a plain image; None if short.

    Doubles are read straight into the result and byte-swapped in place (no
    second array); floats are read, then widened.
    """
    cards, offset = layout
    ny, nx = int(cards["NAXIS2"]), int(cards["NAXIS1"])
    disk = np.dtype(_PLAIN[cards["BITPIX"]])
    double = disk.itemsize == 8
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
        buf = buf.astype(np.float64)
    hdr = _header_of(head) if header else None
    return buf, hdr


def read_box(path, box) -> np.ndarray:
    """
    The pixels of a box of an image as float64: `read_image_box` without header.

    Plain float images are read directly (no astropy objects): a few rows
    with one read, larger boxes through a memory map, so a small box of a big
    image costs only its own pages. For many boxes use a `BoxReader`.

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


def _pread(fd: int, nbytes: int, offset: int) -> bytes:
    if hasattr(os, "pread"):
        return os.pread(fd, nbytes, offset)
    os.lseek(fd, offset, os.SEEK_SET)  # pragma: no cover - Windows
    return os.read(fd, nbytes)  # pragma: no cover


class BoxReader:
    """
    Reads boxes of many images, keeping the most recent files open.

    Each plain float image's header is scanned and the file opened once per
    reader (up to ``keep`` stay open); every box is then one positioned read
    of its rows. Other FITS files go through astropy each time. Use one
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
    ...     r.geometry(p), r.read(p, ((1, 3), (0, 2))).tolist()
    (((3, 4), (2.0, 1.0)), [[4.0, 5.0], [8.0, 9.0]])
    """

    def __init__(self, keep: int = 32):
        self.keep = max(1, int(keep))
        self._files: OrderedDict = OrderedDict()

    def _entry(self, path):
        """``(fd, layout, size)`` of a plain image (opened once), else None."""
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
            os.close(self._files.popitem(last=False)[1][0])
        self._files[key] = entry = (fd, layout, size)
        return entry

    def geometry(self, path) -> tuple[tuple[int, int], tuple[float, float]]:
        """``((NAXIS2, NAXIS1), (CRPIX1, CRPIX2))``, as `image_geometry`."""
        entry = self._entry(path)
        if entry is None or not {"CRPIX1", "CRPIX2"} <= entry[1][0].keys():
            return image_geometry(path)
        c = entry[1][0]
        try:
            return (
                (int(c["NAXIS2"]), int(c["NAXIS1"])),
                (float(c["CRPIX1"]), float(c["CRPIX2"])),
            )
        except ValueError:
            raise InputError(f"Image {path} has no NAXIS/CRPIX cards") from None

    def read(self, path, box) -> np.ndarray:
        """The pixels of ``box`` = ``((j0, j1), (i0, i1))`` as float64."""
        entry = self._entry(path)
        if entry is None:
            return read_image_box(path, box)[0]
        fd, (cards, offset), size = entry
        ny, nx = int(cards["NAXIS2"]), int(cards["NAXIS1"])
        (j0, j1), (i0, i1) = box
        if not (0 <= j0 <= j1 <= ny and 0 <= i0 <= i1 <= nx):
            raise InputError(f"Image {path}: box {box} is outside its {ny}x{nx} pixels")
        dtype = np.dtype(_PLAIN[cards["BITPIX"]])
        if size < offset + ny * nx * dtype.itemsize:
            raise InputError(f"Image {path}: cannot read pixels (file is truncated)")
        if j1 == j0 or i1 == i0:
            return np.empty((j1 - j0, i1 - i0))
        start = offset + j0 * nx * dtype.itemsize
        nbytes = (j1 - j0) * nx * dtype.itemsize
        if nbytes <= _READ_LIMIT:  # a few rows: one read is cheaper than a map
            data = _pread(fd, nbytes, start)
            if len(data) != nbytes:
                raise InputError(f"Image {path}: cannot read pixels (file changed)")
            rows = np.frombuffer(data, dtype=dtype).reshape(j1 - j0, nx)
            return rows[:, i0:i1].astype(np.float64)
        mm = np.memmap(path, dtype=dtype, mode="r", offset=start, shape=(j1 - j0, nx))
        try:
            return np.array(mm[:, i0:i1], dtype=np.float64)
        finally:
            del mm

    def close(self) -> None:
        """Close every file still open."""
        while self._files:
            os.close(self._files.popitem()[1][0])

    def __enter__(self) -> BoxReader:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __del__(self):
        with contextlib.suppress(Exception):
            self.close()


_READ_LIMIT = 4 << 20


def card_image(key: str, value) -> str:
    """
    An 80-character FITS card image for an int, float or bool value.

    Much cheaper than ``astropy.io.fits.Card(...).image`` when writing many
    small files.

    Examples
    --------
    >>> card_image("CRPIX1", 289.2434).rstrip()
    'CRPIX1  =             289.2434'
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


def write_plain_image(path, array: np.ndarray, cards: Sequence[str]) -> None:
    """
    Write a float64 image with the given header card images, atomically.

    A fast writer for many small files: ``cards`` are 80-character card
    images (``fits.Card.image``) without ``SIMPLE``, ``BITPIX``, ``NAXIS*``
    or ``END``, which are written here from ``array``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "d.fits"
    >>> write_plain_image(p, np.ones((2, 3)), [fits.Card("CRPIX1", 2.0).image])
    >>> fits.getheader(p)["CRPIX1"], fits.getdata(p).shape
    (2.0, (2, 3))
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
    data = np.ascontiguousarray(array, dtype=">f8").tobytes()
    data += b"\0" * (-len(data) % 2880)
    path = Path(path)
    # atomic_path's work, lighter, for many small files: a temporary name
    # beside the target (created with the user's umask), then a rename
    tmp = path.with_name(f".{path.name}.{os.getpid()}.part")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o666)
    except FileNotFoundError:
        if not path.parent.is_dir():
            raise InputError(
                f"Cannot write {path}: folder {path.parent} does not exist"
            ) from None
        raise
    try:
        with open(fd, "wb", buffering=0) as fh:
            _write_blocks(fh, text.encode("ascii"), data)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _write_blocks(fh, header: bytes, data: bytes) -> None:
    fh.write(header + data)
