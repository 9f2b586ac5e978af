"""
IPAC tables read into plain columns (numpy arrays), as Montage's ``mtbl`` does.

The rules of `diffview.io.ipac` (which see): columns end at the ``|`` of
the name line, values are the characters between two bars, an optional
type line; a blank value is 0 in an int column and NaN in a float one;
text in a numeric column is an `InputError` naming the file and the line.
`PlainTable` holds what `diffview.io.read_table` reads, without building an
``astropy.table.Table`` (whose import alone costs a fresh process ~0.1 s):
the commands that only read Montage's run tables use it.
"""

from __future__ import annotations

import math

import numpy as np

from diffview.errors import InputError

__all__ = ["PlainTable", "parse_plain_table"]

#: Columns that are integers in every Montage table that has them; without a
#: type line they must still hold integers.
_INT_COLUMNS = frozenset(
    {"cntr", "cntr1", "cntr2", "id", "naxis1", "naxis2", "hdu", "npixel"}
)

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
# Reading
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


def _not_number(values, kind, name, where, ctx) -> InputError:
    """Return the error for the first value of a column that is not a ``kind``."""
    records, ends = ctx if ctx is not None else ([], [])
    for n, v in enumerate(values):
        try:
            if v != "":
                float(v) if kind is float else int(float(v))
        except ValueError:
            if n >= len(records):
                break
            line_no, line = records[n]
            hint = next(
                (
                    f" (a value runs into the '|' at character {e + 1} of the "
                    "header line: misaligned columns)"
                    for e in ends
                    if e < len(line) and not line[e].isspace()
                ),
                "",
            )
            return InputError(
                f"{where}: line {line_no}: column {name!r} holds {v!r}, "
                f"not a number{hint}"
            )
    return InputError(f"{where}: column {name!r} holds a value that is not a number")


def _convert(values: list[str], kind, name: str, where: str, ctx=None):
    """Column values as int, float or str: the type line's, else inferred."""
    if kind is str:
        return np.array(values, dtype=str) if values else np.array([], dtype=str)
    if kind is None:
        for kind in (int, float, str):
            try:
                return _convert(values, kind, name, where, ctx)
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
    except (ValueError, OverflowError):
        if kind is float:
            raise _not_number(values, float, name, where, ctx) from None
        try:  # an int column written with a decimal point
            return _convert(values, float, name, where, ctx)
        except InputError:
            raise _not_number(values, float, name, where, ctx) from None


def _column(values, kind, name, where, ctx):
    """Return `_convert`'s column, with integers in Montage's integer columns."""
    col = _convert(values, kind, name, where, ctx)
    if name in _INT_COLUMNS and col.dtype.kind not in "iuf":
        raise _not_number(values, int, name, where, ctx)
    return col


def _table_head(lines: list[str], source: str):
    """
    Read an IPAC table's header.

    Returns (keywords, column names, bar positions, column types from the
    type line or None, index of the first line after the header lines).
    """
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
        raise InputError(
            f"{source}: line {k + 1}: invalid column header line {lines[k][:80]!r}"
        )
    if len(set(names)) < len(names):
        raise InputError(f"{source}: line {k + 1}: a column name is repeated")
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


def _records(lines: list[str], k: int) -> list[tuple[int, str]]:
    r"""
    Return the record lines of a table from line ``k``, with 1-based numbers.

    Blank, ``\`` comment and ``|`` lines are skipped.
    """
    return [
        (n, ln)
        for n, ln in enumerate(lines[k:], start=k + 1)
        if ln.strip() and not ln.startswith("\\") and not ln.startswith("|")
    ]


class PlainTable:
    r"""
    An IPAC table as named numpy columns, without astropy.

    What `parse_plain_table` and `diffview.io.read_plain_table` return: the
    columns `diffview.io.read_table` would hold, with the same values and
    types, and the parts of its ``meta`` diffview uses.

    Parameters
    ----------
    columns : dict of str to numpy.ndarray
        The columns, in table order, all of one length.
    keywords : dict
        The ``\key = value`` lines.
    lines : list of int
        The 1-based line number of every record (for messages).

    Attributes
    ----------
    colnames : list of str
        The column names, in order.
    meta : dict
        ``{"keywords": ..., "lines": ...}``, as on a table of `read_table`.

    Examples
    --------
    >>> t = PlainTable({"id": np.array([4, 7])}, {}, [2, 3])
    >>> len(t), t.colnames, t["id"].tolist()
    (2, ['id'], [4, 7])
    """

    def __init__(self, columns: dict, keywords: dict, lines: list[int]):
        self.columns = dict(columns)
        self.colnames = list(self.columns)
        self.meta = {"keywords": keywords, "lines": list(lines)}

    def __len__(self) -> int:
        return len(self.meta["lines"])

    def __getitem__(self, name: str) -> np.ndarray:
        return self.columns[name]

    def __repr__(self) -> str:
        return f"<PlainTable {len(self)} rows: {' '.join(self.colnames)}>"


def parse_plain_table(text: str, source: str = "<string>") -> PlainTable:
    r"""
    Parse the text of an IPAC table into a `PlainTable`.

    The same rules, values and errors as `diffview.io.parse_table`.

    Parameters
    ----------
    text : str
        The table's text.
    source : str
        Name used in error messages.

    Returns
    -------
    PlainTable
        One column per header field.

    Raises
    ------
    InputError
        No header line, a repeated column name, or a numeric column holding
        text; the message names ``source`` and the line.

    Examples
    --------
    >>> t = parse_plain_table("|cntr|  fname |\n|int |  char  |\n    3   a.fits\n")
    >>> t["cntr"].tolist(), t["fname"].tolist()
    ([3], ['a.fits'])
    """
    lines = [ln.rstrip("\r") for ln in text.split("\n")]
    keywords, names, ends, kinds, k = _table_head(lines, source)
    records = _records(lines, k)
    rows = [_fields(ln, ends) for _, ln in records]
    cols = {
        names[c]: _column(
            [r[c] for r in rows], kinds[c], names[c], source, (records, ends)
        )
        for c in range(len(names))
    }
    return PlainTable(cols, keywords, [n for n, _ in records])
