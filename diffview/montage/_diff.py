"""MontagePy-compatible mOverlaps, mDiff and mDiffExec (see `diffview.montage`)."""

from __future__ import annotations

from diffview import io
from diffview.errors import DiffviewError, InputError
from diffview.geometry.overlaps import find_overlaps
from diffview.run.differences import (
    check_output_dir,
    compute_difference,
    diffexec,
    write_difference,
)

__all__ = ["mOverlaps", "mDiff", "mDiffExec"]

_CORNERS = {f"{c}{k}" for k in range(1, 5) for c in ("ra", "dec")}


def _error(msg) -> dict:
    return {"status": "1", "msg": str(msg).encode()}


def _overlap_mode(table, quickmode: bool) -> str:
    # Montage forces quick mode whenever the table carries corners.
    has_corners = (_CORNERS | {"ra", "dec"}) <= set(table.colnames)
    return "quick" if quickmode or has_corners else "exact"


def mOverlaps(tblfile, difftbl, quickmode=False, debug=0):
    """
    List overlapping image pairs and write ``diffs.tbl`` (MontagePy's mOverlaps).

    Parameters
    ----------
    tblfile : str
        Image table (``images.tbl``).
    difftbl : str
        Output overlap table.
    quickmode : bool
        Great-circle quick test; as in Montage it is used anyway whenever
        the table has corner columns. Otherwise the exact border walk runs,
        which (unlike Montage) also finds an image lying inside an earlier one.
    debug : int
        Ignored.

    Returns
    -------
    dict
        ``{'status': '0', 'count': N}`` or ``{'status': '1', 'msg': b'...'}``.

    Examples
    --------
    >>> mOverlaps("missing.tbl", "diffs.tbl")["msg"]
    b'Invalid image metadata file: missing.tbl'
    """
    try:
        table = io.read_table(tblfile)
    except InputError:
        return _error(f"Invalid image metadata file: {tblfile}")
    try:
        overlaps = find_overlaps(table, mode=_overlap_mode(table, quickmode))
        io.write_diffs_table(overlaps, difftbl)
    except (DiffviewError, ValueError, KeyError) as exc:
        return _error(exc)
    except OSError as exc:
        return _error(f"Failed to open output {difftbl}: {exc.strerror or exc}")
    return {"status": "0", "count": len(overlaps)}


def mDiff(
    input_file1,
    input_file2,
    output_file,
    template_file,
    noAreas=False,
    factor=1.0,
    debug=0,
):
    """
    Difference two projected images (MontagePy's mDiff).

    The output value is ``2 (v1 a1 - f v2 a2) / (a1 + a2)``, cropped to the
    valid pixels, written with its area file.

    Notes
    -----
    Two documented fixes: the last template column and row are differenced
    (Montage never does), and ``min_diff`` is the minimum of ``|diff|`` (Montage
    seeds it with a signed value).

    Returns
    -------
    dict
        ``status``, ``time``, ``min_pixel``, ``max_pixel``, ``min_diff``,
        ``max_diff``, or ``{'status': '1', 'msg': b'...'}``.

    Examples
    --------
    >>> mDiff("a.fits", "b.fits", "d.fits", "missing.hdr")["status"]
    '1'
    """
    try:
        template = io.read_template(template_file)
        diff = compute_difference(
            input_file1, input_file2, template, no_areas=bool(noAreas), factor=factor
        )
        write_difference(diff, output_file, template)
    except DiffviewError as exc:
        return _error(exc)
    except OSError as exc:
        return _error(exc)
    return {"status": "0", "time": 0.0, **diff.stats}


def _read_pairs(difffile):
    try:
        table = io.read_table(difffile)
    except InputError:
        raise InputError(f"Invalid image difference list file: {difffile}") from None
    missing = [c for c in ("plus", "minus", "diff") if c not in table.colnames]
    if missing:
        raise InputError("Need columns: plus minus diff")
    return io.read_diffs_table(difffile)


def mDiffExec(
    path,
    difffile,
    template,
    diffdir="./",
    noAreas=False,
    debug=0,
    *,
    executor=None,
    workers=None,
    quiet=False,
):
    """
    Difference every pair of an overlap table (MontagePy's mDiffExec).

    Parameters
    ----------
    path : str
        Folder of the projected images.
    difffile : str
        Overlap table from mOverlaps.
    template : str
        Template ``.hdr``.
    diffdir : str
        Existing output folder.
    noAreas : bool
        Ignore area files.
    debug : int
        With a nonzero value, print one line per failed pair.
    executor, workers, quiet
        diffview extras (keyword-only): where the pairs run and whether a
        progress bar is shown. Pairs run on all cores by default.

    Returns
    -------
    dict
        ``{'status': '0', 'count': N, 'failed': M}`` or
        ``{'status': '1', 'msg': b'...'}``.

    Notes
    -----
    As in Montage, a bad template is not an error of the run: every pair fails
    and is counted. Documented differences: blank lines of the table are
    skipped (Montage counts each as a failed pair), names pointing outside
    ``path`` or ``diffdir`` fail, and the last template column and row are
    differenced.

    Examples
    --------
    >>> mDiffExec(".", "diffs.tbl", "t.hdr", "/nonexistent")["msg"]
    b'Cannot access /nonexistent'
    """
    try:
        check_output_dir(diffdir)
        pairs = _read_pairs(difffile)
    except InputError as exc:
        return _error(exc)
    try:
        tmpl = io.read_template(template)
    except InputError as exc:
        if debug:
            print(f"template {template}: {exc}")
        return {"status": "0", "count": len(pairs), "failed": len(pairs)}
    result = diffexec(
        path,
        pairs,
        tmpl,
        diffdir,
        no_areas=bool(noAreas),
        executor=executor,
        workers=workers,
        quiet=quiet,
    )
    if debug:
        for _, msg in result.failures:
            print(msg)
    return result.as_montage()
