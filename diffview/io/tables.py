"""
Montage's run tables: ``diffs.tbl``, ``fits.tbl`` and ``corrections.tbl``.

Each is written in the fixed-width layout of the Montage program that makes
it (mOverlaps, mFitExec, mBgModel; ``docs/montage-semantics.md`` §4.4, §5.5,
§6.1) and read back with `read_table`'s rules, into diffview's record types.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

from diffview.io.ipac import _write_text, read_table, require_columns
from diffview.models import Correction, Overlap, PlaneFit

__all__ = [
    "read_diffs_table",
    "write_diffs_table",
    "read_fits_table",
    "write_fits_table",
    "read_corrections_table",
    "write_corrections_table",
]


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
        The folder of ``path`` does not exist.

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

    Parameters
    ----------
    corrections : iterable of Correction
        One plane per image.
    path : str or path-like
        The file written, atomically.

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
    head = "|   id   |      a       |      b       |      c       |"
    _write_text(path, "\n".join([head, *rows]) + "\n")


def read_corrections_table(path) -> list[Correction]:
    r"""
    Read a ``corrections.tbl`` (mBgModel output) into `Correction` objects.

    Parameters
    ----------
    path : str or path-like
        The table file.

    Returns
    -------
    list of Correction
        One per record, in file order.

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
    """
    table = read_table(path)
    require_columns(table, ["id", "a", "b", "c"], path)
    return [
        Correction(int(r["id"]), float(r["a"]), float(r["b"]), float(r["c"]))
        for r in table
    ]
