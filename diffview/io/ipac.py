"""
IPAC tables as Montage reads and writes them.

Tables are read the way Montage's ``mtbl`` library reads them (columns end at
the ``|`` of the name line, values are the characters between two bars, an
optional type line) and written in the fixed-width layouts Montage's programs
write (``docs/montage-semantics.md`` §7.1, §7.2; departures §9.2), so that files go
back and forth between diffview and MontagePy.

Deliberate differences from Montage: a blank line inside a table is skipped,
where Montage reads it as a record of zeros (an image ``cntr = 0`` with no file
name, or a fit of image 0 against image 0). A value that runs into a ``|``
position is cut there, as Montage cuts it; when that (or anything else) leaves
text in a numeric column, diffview raises `InputError` naming the file, the
line and, for a cut value, the misalignment, where Montage's ``atoi`` would read
0. A blank value in a numeric column reads as in Montage: 0 in an int column
(NaN in a float one). A file over 1 GiB or a line over 1 MiB (a "table" that
never ends: a FIFO, a device) is an `InputError` too.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from diffview.errors import InputError
from diffview.io._ipac_read import (
    PlainTable,
    _column,
    _records,
    _table_head,
    parse_plain_table,
)
from diffview.io.paths import write_file

if TYPE_CHECKING:  # astropy.table loads with the first parsed table
    from astropy.table import Table

__all__ = [
    "read_table",
    "read_plain_table",
    "read_table_columns",
    "parse_table",
    "require_columns",
    "format_table",
    "write_table",
]

#: Reading stops with an error past these sizes (a FIFO that never ends,
#: a device file): no table is that large, and memory is bounded.
_MAX_TABLE_BYTES = 1 << 30
_MAX_LINE_BYTES = 1 << 20

# --------------------------------------------------------------------------
# Reading IPAC tables
# --------------------------------------------------------------------------


def parse_table(text: str, source: str = "<string>") -> Table:
    r"""
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
        One column per header field; ``\key = value`` lines go to
        ``table.meta["keywords"]``.

    Raises
    ------
    InputError
        No header line, a repeated column name, or a numeric column holding
        text; the message names ``source`` and the line.

    Examples
    --------
    >>> t = parse_table("|cntr|  fname |\n|int |  char  |\n    3   a.fits\n")
    >>> t["cntr"][0], str(t["fname"][0])
    (np.int64(3), 'a.fits')
    """
    plain = parse_plain_table(text, source)
    from astropy.table import Table

    table = Table(list(plain.columns.values()), names=plain.colnames)
    table.meta.update(plain.meta)
    return table


def read_table(path: str | os.PathLike) -> Table:
    r"""
    Read an IPAC table file (``images.tbl``, ``diffs.tbl``, ``fits.tbl`` ...).

    Parameters
    ----------
    path : str or path-like
        The table file.

    Returns
    -------
    astropy.table.Table
        As `parse_table`: one column per header field, ``\key = value``
        lines in ``table.meta["keywords"]``.

    Raises
    ------
    InputError
        Missing or unreadable file, or not an IPAC table.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "t.tbl"
    >>> _ = p.write_text("| id |  a   |\n    1   2.5\n")
    >>> read_table(p)["a"][0]
    np.float64(2.5)
    """
    return parse_table(_table_text(path), str(path))


def read_plain_table(path: str | os.PathLike) -> PlainTable:
    r"""
    Read an IPAC table file into numpy columns, without astropy.

    The same rules, values and errors as `read_table`, in a `PlainTable`
    (``colnames``, ``meta``, ``len`` and a numpy array per column name)
    instead of an ``astropy.table.Table``: for readers of Montage's run
    tables (``diffs.tbl``, ``fits.tbl``, ``images.tbl``) in a fresh process.

    Parameters
    ----------
    path : str or path-like
        The table file.

    Returns
    -------
    PlainTable
        One column per header field, ``\key = value`` lines in
        ``meta["keywords"]``, record line numbers in ``meta["lines"]``.

    Raises
    ------
    InputError
        Missing or unreadable file, or not an IPAC table.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "t.tbl"
    >>> _ = p.write_text("| id |  a   |\n    1   2.5\n")
    >>> t = read_plain_table(p)
    >>> t.colnames, t["a"].tolist(), t.meta["lines"]
    (['id', 'a'], [2.5], [2])
    """
    return parse_plain_table(_table_text(path), str(path))


def _table_text(path) -> str:
    """Read a table file's text; InputError when it is missing or unreadable."""
    try:
        raw = _read_bounded(path, "table", _MAX_TABLE_BYTES)
    except FileNotFoundError:
        raise InputError(f"Table {path} not found") from None
    except OSError as exc:
        raise InputError(f"Cannot read table {path}: {exc.strerror or exc}") from None
    return raw.decode("utf-8", errors="replace")


def _read_bounded(path, what: str, limit: int) -> bytes:
    """
    Read a file of text lines, at most ``limit`` bytes and `_MAX_LINE_BYTES` a line.

    Reads in chunks, so a FIFO or device that never ends fails with an
    `InputError` instead of filling memory; OSError passes through.
    """
    chunks, total, carry, newlines = [], 0, 0, 0
    path = os.fspath(path)  # an int would be read (and closed) as a descriptor
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            total += len(chunk)
            if total > limit:
                raise InputError(
                    f"{path}: larger than {limit} bytes; not a {what} "
                    "(or a file that never ends)"
                )
            parts = chunk.split(b"\n")
            lengths = [carry + len(parts[0])] + [len(p) for p in parts[1:]]
            for i, n in enumerate(lengths):
                if n > _MAX_LINE_BYTES:
                    raise InputError(
                        f"{path}: line {newlines + i + 1} is longer than "
                        f"{_MAX_LINE_BYTES} bytes; not a {what}"
                    )
            carry, newlines = lengths[-1], newlines + len(parts) - 1
            chunks.append(chunk)
    return b"".join(chunks)


def read_table_columns(
    path: str | os.PathLike, names: Iterable[str], *, optional: bool = False
) -> dict[str, np.ndarray]:
    r"""
    Read only some columns of an IPAC table file, as plain arrays.

    The same rules and values as `read_table` (Montage's ``mtbl``: columns
    end at the ``|`` of the name line, types from the type line, ``\``
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
    >>> _ = p.write_text("| id |  a   | f  |\n| int|double|char|\n    1   2.5   x\n")
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
        values = [ln[start : ends[c]].strip() for _, ln in records]
        out[name] = _column(values, kinds[c], name, source, (records, ends))
    return out


def require_columns(table: Table, columns: Iterable[str], path) -> None:
    """
    Raise a clear error when ``table`` lacks any of ``columns``.

    Parameters
    ----------
    table : astropy.table.Table
        The table read.
    columns : iterable of str
        The column names needed.
    path : str or path-like
        The table's file, named in the error message.

    Raises
    ------
    InputError
        Naming every missing column.

    Examples
    --------
    >>> from astropy.table import Table
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
    type_names: dict | None = None,
) -> str:
    r"""
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
        ``\key = value`` lines written first.
    types : bool
        Write the type line (``int``, ``double``, ``char``).
    type_names : dict, optional
        Type per column name, for columns whose values are text but whose
        type line says otherwise (mImgtbl's cube columns); others follow
        the values' type.

    Returns
    -------
    str
        The table's text, ending with a newline.

    Raises
    ------
    InputError
        A value (a file name) holds a line break, which would break the table.

    Examples
    --------
    >>> format_table({"id": [1, 22], "c": [0.5, -1.0]}, {"c": "%6.2f"}).splitlines()
    ['| id|     c|', '|int|double|', '   1   0.50 ', '  22  -1.00 ']
    """
    formats = formats or {}
    names = list(table.colnames if hasattr(table, "colnames") else table.keys())
    columns = {n: list(table[n]) for n in names}
    nrows = len(columns[names[0]]) if names else 0
    cells = {n: [_format_value(v, formats.get(n)) for v in columns[n]] for n in names}
    for n in names:
        _refuse_line_breaks(cells[n], n)
    tnames = {n: _type_name(table[n]) for n in names} | dict(type_names or {})
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
    table,
    path,
    formats: dict | None = None,
    *,
    keywords=None,
    types: bool = True,
    type_names: dict | None = None,
) -> None:
    r"""
    Write a table with `format_table`, atomically.

    Parameters
    ----------
    table : astropy.table.Table or dict of sequences
        Columns in output order.
    path : str or path-like
        The file written (replaced only by a complete one).
    formats : dict, optional
        printf-style format per column name, as in `format_table`.
    keywords : dict, optional
        ``\key = value`` lines written first.
    types : bool
        Write the type line.
    type_names : dict, optional
        Type per column name, as in `format_table`.

    Raises
    ------
    InputError
        The folder of ``path`` does not exist, or a value holds a line break.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "t.tbl"
    >>> write_table({"id": [1], "c": [0.5]}, p)
    >>> read_table(p)["c"][0]
    np.float64(0.5)
    """
    text = format_table(
        table, formats, keywords=keywords, types=types, type_names=type_names
    )
    _write_text(path, text)


def _refuse_line_breaks(values, column: str) -> None:
    """Raise when a value to be written in a table holds a line break."""
    values = [str(v) for v in values]
    joined = "".join(values)
    if "\n" not in joined and "\r" not in joined:
        return
    for v in values:
        if "\n" in v or "\r" in v:
            raise InputError(
                f"{v!r}: a line break in a table value (column {column!r}) would "
                "break the table; rename the file"
            )


def _write_text(path, text: str) -> None:
    path = Path(path)
    if not path.parent.is_dir():
        raise InputError(f"Cannot write {path}: folder {path.parent} does not exist")
    write_file(path, text.encode())
