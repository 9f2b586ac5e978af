"""
MontagePy-compatible mOverlaps, mDiff and mDiffExec (see `diffview.montage`).

Montage's behaviour is described in ``docs/montage-semantics.md`` §2, §3 and
§5; the places where diffview departs from it are listed in §9.2.
"""

from __future__ import annotations

from diffview import io
from diffview.errors import DiffviewError, InputError
from diffview.run import (
    check_output_dir,
    compute_difference,
    compute_differences,
    write_difference,
)

from ._contract import dropin, error_dict

__all__ = ["mOverlaps", "mDiff", "mDiffExec"]

_CORNERS = {f"{c}{k}" for k in range(1, 5) for c in ("ra", "dec")}


def _overlap_mode(table, quickmode: bool) -> str:
    # Montage forces quick mode whenever the table carries corners.
    if not hasattr(table, "colnames"):  # the quick test's columns alone
        return "quick"
    has_corners = (_CORNERS | {"ra", "dec"}) <= set(table.colnames)
    return "quick" if quickmode or has_corners else "exact"


@dropin
def mOverlaps(tblfile, difftbl, quickmode=False, debug=0):
    """
    List overlapping image pairs and write ``diffs.tbl`` (MontagePy's mOverlaps).

    Parameters
    ----------
    tblfile : str
        Image table (``images.tbl``, as mImgtbl writes it).
    difftbl : str
        Output overlap table, in mOverlaps' layout
        (``docs/montage-semantics.md`` §5.5).
    quickmode : bool
        Great-circle quick test. As in Montage it is used anyway whenever the
        table has the corner columns ``ra1..dec4``; otherwise ``False`` runs
        the exact border walk, which (unlike Montage) also lists an image
        lying inside an earlier one (§5.4).
    debug : int
        Ignored.

    Returns
    -------
    dict
        On success ``{'status': '0', 'count': N}`` with ``count`` the number
        of pairs written; on error ``{'status': '1', 'msg': b'...'}``.

    Examples
    --------
    >>> mOverlaps("missing.tbl", "diffs.tbl")["msg"]
    b'Invalid image metadata file: missing.tbl'

    On the sample field:

    >>> import os, tempfile
    >>> from diffview.sample import write_sample
    >>> s = write_sample(tempfile.mkdtemp(), "small")
    >>> out = os.path.join(s.root, "pairs.tbl")
    >>> mOverlaps(str(s.images_tbl), out) == {"status": "0", "count": len(s.overlaps)}
    True
    """
    from diffview.geometry import FOOTPRINT_COLUMNS, find_overlaps

    try:  # a table with corners: only the columns of the quick test
        table = io.read_table_columns(tblfile, FOOTPRINT_COLUMNS, optional=True)
        if not (_CORNERS | {"ra", "dec"}) <= set(table):
            table = io.read_table(tblfile)
    except InputError:
        return error_dict(f"Invalid image metadata file: {tblfile}")
    try:
        overlaps = find_overlaps(table, mode=_overlap_mode(table, quickmode))
        io.write_diffs_table(overlaps, difftbl)
    except (DiffviewError, ValueError, KeyError) as exc:
        return error_dict(exc)
    except OSError as exc:
        return error_dict(f"Failed to open output {difftbl}: {exc.strerror or exc}")
    return {"status": "0", "count": len(overlaps)}


@dropin
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

    The output value is ``2 (v1 a1 - factor v2 a2) / (a1 + a2)`` with area
    ``a1 + a2``, over the overlap in the template grid, cropped to the valid
    pixels and written with its area file (``docs/montage-semantics.md`` §3).

    Parameters
    ----------
    input_file1 : str
        First projected image (``plus``); its area file is
        ``<base>_area.fits``.
    input_file2 : str
        Second projected image (``minus``).
    output_file : str
        Output difference; ``<base>_area.fits`` is written next to it.
    template_file : str
        Template ``.hdr`` of the mosaic.
    noAreas : bool
        Ignore area files: every area is 1 and the output area is 2.
    factor : float
        Scale of the second image (0 means 1, as in Montage).
    debug : int
        Ignored.

    Returns
    -------
    dict
        On success ``status`` ``'0'``, ``time`` (seconds), ``min_pixel`` and
        ``max_pixel`` (extremes of the area-weighted inputs), ``min_diff``
        and ``max_diff`` (extremes of ``|diff|``); on error
        ``{'status': '1', 'msg': b'...'}``.

    Notes
    -----
    The overlap box is Montage's: the last template column and row are not
    differenced (``docs/montage-semantics.md`` §3.3). One documented fix
    (§9.2): ``min_diff`` is the minimum of ``|diff|`` (Montage seeds it with
    a signed value, §3.6).

    Examples
    --------
    >>> mDiff("a.fits", "b.fits", "d.fits", "missing.hdr")["status"]
    '1'

    >>> import os, tempfile
    >>> from diffview.sample import write_sample
    >>> s = write_sample(tempfile.mkdtemp(), "small")
    >>> pair = s.overlaps[0]
    >>> r = mDiff(os.path.join(s.proj_dir, pair.plus),
    ...           os.path.join(s.proj_dir, pair.minus),
    ...           os.path.join(s.diff_dir, pair.diff), str(s.template))
    >>> r["status"], sorted(r)
    ('0', ['max_diff', 'max_pixel', 'min_diff', 'min_pixel', 'status', 'time'])
    """
    try:
        template = io.read_template_grid(template_file)
        diff = compute_difference(
            input_file1, input_file2, template, no_areas=bool(noAreas), factor=factor
        )
        write_difference(diff, output_file, template)
    except DiffviewError as exc:
        return error_dict(exc)
    except OSError as exc:
        return error_dict(exc)
    return {"status": "0", "time": 0.0, **diff.stats}


def _read_pairs(difffile):
    try:
        table = io.read_plain_table(difffile)
    except InputError:
        raise InputError(f"Invalid image difference list file: {difffile}") from None
    missing = [c for c in ("plus", "minus", "diff") if c not in table.colnames]
    if missing:
        raise InputError("Need columns: plus minus diff")
    return io.overlaps_from_table(table, difffile)


@dropin
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
        Folder of the projected images (names in the table are joined to it).
    difffile : str
        Overlap table from mOverlaps (columns ``plus``, ``minus``, ``diff``).
    template : str
        Template ``.hdr``.
    diffdir : str
        Existing output folder.
    noAreas : bool
        Ignore area files.
    debug : int
        With a nonzero value, print one line per failed pair.
    executor : concurrent.futures.Executor, optional
        diffview extra (keyword-only): where the pairs run.
    workers : int, optional
        diffview extra: local processes when no executor is given (default
        all cores).
    quiet : bool
        diffview extra: no progress bar.

    Returns
    -------
    dict
        On success ``{'status': '0', 'count': N, 'failed': M}``: pairs
        attempted and pairs that produced no difference. On error
        ``{'status': '1', 'msg': b'...'}``.

    Notes
    -----
    As in Montage, a bad template is not an error of the run: every pair fails
    and is counted (``docs/montage-semantics.md`` §2.1). Documented
    differences (§9.2): blank lines of the table are skipped (Montage counts
    each as a failed pair) and names pointing outside ``path`` or ``diffdir``
    fail. The boxes are Montage's: the last template column and row are not
    differenced (§3.3).

    Examples
    --------
    >>> mDiffExec(".", "diffs.tbl", "t.hdr", "/nonexistent")["msg"]
    b'Cannot access /nonexistent'

    >>> import tempfile
    >>> from diffview.sample import write_sample
    >>> s = write_sample(tempfile.mkdtemp(), "small")
    >>> r = mDiffExec(str(s.proj_dir), str(s.diffs_tbl), str(s.template),
    ...               str(s.diff_dir), quiet=True)
    >>> r == {"status": "0", "count": len(s.overlaps), "failed": 0}
    True
    """
    try:
        check_output_dir(diffdir)
        pairs = _read_pairs(difffile)
    except InputError as exc:
        return error_dict(exc)
    try:
        tmpl = io.read_template_grid(template)
    except InputError as exc:
        if debug:
            print(f"template {template}: {exc}")
        return {"status": "0", "count": len(pairs), "failed": len(pairs)}
    result = compute_differences(
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
