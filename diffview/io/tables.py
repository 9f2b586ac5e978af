"""
Montage's run tables: ``diffs.tbl``, ``fits.tbl`` and ``corrections.tbl``.

Each is written in the fixed-width layout of the Montage program that makes
it (mOverlaps, mFitExec, mBgModel; ``docs/montage-semantics.md`` §4.4, §5.5,
§6.1) and read back with `read_table`'s rules, into diffview's record types
(through `read_plain_table`: no astropy).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

from diffview.errors import InputError
from diffview.io.ipac import (
    _refuse_line_breaks,
    _write_text,
    read_plain_table,
    require_columns,
)
from diffview.models import Correction, Overlap, PlaneFit

__all__ = [
    "read_diffs_table",
    "overlaps_from_table",
    "write_diffs_table",
    "read_fits_table",
    "write_fits_table",
    "read_corrections_table",
    "write_corrections_table",
    "STRENGTHS_KEYWORD",
]


def _ints(table, column: str, path) -> list[int]:
    """
    Return a column as ints, as Montage's ``atoi`` reads it (blank 0, ``2.7`` 2).

    Text raises `InputError` naming the file and the line.
    """
    values = table[column]
    if getattr(values, "dtype", None) is not None and values.dtype.kind in "iu":
        return [int(v) for v in values.tolist()]  # ints already: nothing to check
    lines = table.meta.get("lines") or [None] * len(table)
    out = []
    for value, n in zip(values, lines, strict=True):
        try:
            number = float(value) if str(value).strip() else 0.0
        except ValueError:
            number = None
        if number is None or math.isinf(number):
            raise InputError(
                f"{path}: line {n}: column {column!r} holds {str(value)!r}, "
                "not an integer"
            )
        out.append(0 if math.isnan(number) else int(number))
    return out


def write_diffs_table(overlaps: Sequence[Overlap], path) -> None:
    """
    Write ``diffs.tbl`` exactly as Montage's mOverlaps does.

    Parameters
    ----------
    overlaps : sequence of Overlap
        The pairs, in table order.
    path : str or path-like
        The file written, atomically.

    Raises
    ------
    InputError
        The folder of ``path`` does not exist, or a file name holds a line
        break (it would break the table).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "diffs.tbl"
    >>> write_diffs_table([Overlap(0, 1, "a.fits", "b.fits",
    ...                            "diff.000000.000001.fits")], p)
    >>> read_diffs_table(p)[0].diff
    'diff.000000.000001.fits'
    """
    for column in ("plus", "minus", "diff"):
        _refuse_line_breaks([getattr(o, column) for o in overlaps], column)
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

    Parameters
    ----------
    path : str or path-like
        The table file.

    Returns
    -------
    list of Overlap
        One per record, in file order.

    Raises
    ------
    InputError
        Missing or unreadable file, not an IPAC table, or a missing column
        (``cntr1 cntr2 plus minus diff``).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "d.tbl"
    >>> write_diffs_table([Overlap(2, 5, "x.fits", "y.fits", "d.fits")], p)
    >>> read_diffs_table(p)
    [Overlap(cntr1=2, cntr2=5, plus='x.fits', minus='y.fits', diff='d.fits')]
    """
    return overlaps_from_table(read_plain_table(path), path)


def overlaps_from_table(table, path) -> list[Overlap]:
    """
    Make `Overlap` objects of a ``diffs.tbl`` already read.

    The table is `read_table`'s or `read_plain_table`'s, for a caller that
    has checked it itself (a drop-in giving Montage's messages), so that the
    file is not read twice.

    Parameters
    ----------
    table : astropy.table.Table or PlainTable
        The table, as `read_table` or `read_plain_table` returns it.
    path : str or path-like
        Its file, for messages.

    Returns
    -------
    list of Overlap
        One per record, in file order.

    Raises
    ------
    InputError
        A missing column (``cntr1 cntr2 plus minus diff``), or text in a
        ``cntr`` column (naming the line).

    Examples
    --------
    >>> from astropy.table import Table
    >>> t = Table({"cntr1": [2], "cntr2": [5], "plus": ["x.fits"],
    ...            "minus": ["y.fits"], "diff": ["d.fits"]})
    >>> overlaps_from_table(t, "d.tbl")
    [Overlap(cntr1=2, cntr2=5, plus='x.fits', minus='y.fits', diff='d.fits')]
    """
    require_columns(table, ["cntr1", "cntr2", "plus", "minus", "diff"], path)
    cntr1, cntr2 = _ints(table, "cntr1", path), _ints(table, "cntr2", path)
    names = [_texts(table[c]) for c in ("plus", "minus", "diff")]
    return [
        Overlap(c1, c2, plus, minus, diff)
        for c1, c2, plus, minus, diff in zip(cntr1, cntr2, *names, strict=True)
    ]


def _texts(column) -> list[str]:
    """Return a column's values as ``str`` (numbers as they print)."""
    return [str(v) for v in column]


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

    Parameters
    ----------
    fits_ : sequence of PlaneFit
        The fits, in table order.
    path : str or path-like
        The file written, atomically.

    Raises
    ------
    InputError
        The folder of ``path`` does not exist.

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
    r"""
    Read a ``fits.tbl`` (mFitExec/mDiffFitExec output) into `PlaneFit` objects.

    Columns after the first five may be missing: they read as NaN (and
    ``npixel`` as 0).

    Parameters
    ----------
    path : str or path-like
        The table file.

    Returns
    -------
    list of PlaneFit
        One per record, in file order.

    Raises
    ------
    InputError
        Missing or unreadable file, not an IPAC table, or a missing column
        among ``plus minus a b c``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "fits.tbl"
    >>> _ = p.write_text("| plus|minus| a | b |  c |\n     0     1   0   0  1.5\n")
    >>> f = read_fits_table(p)[0]
    >>> f.minus, f.c, f.npixel
    (1, 1.5, 0)
    """
    table = read_plain_table(path)
    cols = PlaneFit.columns()
    require_columns(table, cols[:5], path)
    ints = {
        c: _ints(table, c, path)
        for c in ("plus", "minus", "npixel")
        if c in table.colnames
    }
    _floats(table, [c for c in cols if c not in ints], path)
    values = {
        c: ints[c] if c in ints else _float_column(table, c) for c in cols
    }
    if "npixel" not in ints:
        values["npixel"] = [0] * len(table)
    return [PlaneFit(*row) for row in zip(*(values[c] for c in cols), strict=True)]


def _float_column(table, column: str) -> list[float]:
    """Return a float column's values (blank NaN), all NaN when it is missing.

    Text has been refused by `_floats`.
    """
    if column not in table.colnames:
        return [math.nan] * len(table)
    values = table[column]
    if values.dtype.kind in "iuf":
        return [float(v) for v in values.tolist()]
    return [_float(v) for v in values]


def _floats(table, columns, path) -> None:
    """Raise `InputError` (file and line) when a float column holds text."""
    lines = table.meta.get("lines") or [None] * len(table)
    for c in columns:
        if c in table.colnames and table[c].dtype.kind not in "iuf":
            for value, n in zip(table[c], lines, strict=True):
                try:
                    float(value) if str(value).strip() else None
                except ValueError:
                    raise InputError(
                        f"{path}: line {n}: column {c!r} holds {str(value)!r}, "
                        "not a number"
                    ) from None


#: The header keyword of ``corrections.tbl`` holding the log prior strengths
#: of the direct solve that wrote it (`diffview.core.DirectSolution`).
STRENGTHS_KEYWORD = "diffview_prior_strengths"


def write_corrections_table(
    corrections: Iterable[Correction], path, strengths: Sequence[float] = ()
) -> None:
    """
    Write ``corrections.tbl`` in mBgModel's layout, sorted by id.

    Parameters
    ----------
    corrections : iterable of Correction
        One plane per image.
    path : str or path-like
        The file written, atomically.
    strengths : sequence of float
        The log prior strengths of the direct solve that made them, kept as
        a header keyword (`STRENGTHS_KEYWORD`, which IPAC readers and
        Montage skip): the dashboard's first re-solve starts from them.

    Raises
    ------
    InputError
        The folder of ``path`` does not exist.

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
    head = ["|   id   |      a       |      b       |      c       |"]
    if len(strengths):
        values = " ".join(repr(float(v)) for v in strengths)
        head.insert(0, f"\\{STRENGTHS_KEYWORD} = {values}")
    _write_text(path, "\n".join([*head, *rows]) + "\n")


def read_corrections_table(path, strengths: bool = False):
    r"""
    Read a ``corrections.tbl`` (mBgModel output) into `Correction` objects.

    Parameters
    ----------
    path : str or path-like
        The table file.
    strengths : bool
        Also return the log prior strengths its header keeps (see
        `write_corrections_table`; empty when it has none, or none
        readable).

    Returns
    -------
    list of Correction
        One per record, in file order.
    tuple of float
        With ``strengths`` only.

    Raises
    ------
    InputError
        Missing or unreadable file, not an IPAC table, or a missing column
        among ``id a b c``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "corrections.tbl"
    >>> _ = p.write_text("|  id |   a |   b |     c |\n     4   0.0   0.0  -1.25\n")
    >>> read_corrections_table(p)
    [Correction(id=4, a=0.0, b=0.0, c=-1.25)]
    >>> write_corrections_table([Correction(1, 0.0, 0.0, 2.0)], p, (-13.5, -11.0))
    >>> read_corrections_table(p, strengths=True)
    ([Correction(id=1, a=0.0, b=0.0, c=2.0)], (-13.5, -11.0))
    """
    table = read_plain_table(path)
    require_columns(table, ["id", "a", "b", "c"], path)
    _floats(table, ["a", "b", "c"], path)
    ids = _ints(table, "id", path)
    planes = [_float_column(table, c) for c in "abc"]
    out = [Correction(i, *abc) for i, *abc in zip(ids, *planes, strict=True)]
    if not strengths:
        return out
    text = str(table.meta.get("keywords", {}).get(STRENGTHS_KEYWORD, ""))
    try:
        values = tuple(float(v) for v in text.split())
    except ValueError:  # not ours, or damaged: a fresh solve instead
        values = ()
    return out, values if all(map(math.isfinite, values)) else ()


def _float(value) -> float:
    """Return a table value as a float; blank is NaN (checked by `_floats`)."""
    return float(value) if str(value).strip() else math.nan
