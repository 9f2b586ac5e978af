"""MontagePy-compatible plane fits, background model and corrections.

Re-exported by `diffview.montage`.
"""

from __future__ import annotations

import os

from diffview import io
from diffview.core.background import image_geometry, solve_montage
from diffview.core.fit import fit_plane
from diffview.errors import DiffviewError, InputError, PairError
from diffview.models import Correction
from diffview.run.fits import (
    bgexec,
    correct_file,
    difffitexec,
    fitexec,
    read_difference_file,
)

__all__ = [
    "mFitplane",
    "mFitExec",
    "mDiffFitExec",
    "mBgModel",
    "mBackground",
    "mBgExec",
]

_FIT_KEYS = (
    "a",
    "b",
    "c",
    "crpix1",
    "crpix2",
    "xmin",
    "xmax",
    "ymin",
    "ymax",
    "xcenter",
    "ycenter",
    "npixel",
    "rms",
    "boxx",
    "boxy",
    "boxwidth",
    "boxheight",
    "boxang",
)


def _error(msg) -> dict:
    return {"status": "1", "msg": str(msg).encode()}


def _check_writable(path) -> None:
    folder = os.path.dirname(os.path.abspath(str(path)))
    if not os.path.isdir(folder) or not os.access(folder, os.W_OK):
        raise InputError(f"Can't open output file {path}.")


def _debug_print(debug, failures) -> None:
    if debug:
        for _, msg in failures:
            print(msg)


def mFitplane(input_file, nofit=False, levelOnly=False, border=0, debug=0):
    """
    Fit a plane to one difference image (MontagePy's mFitplane).

    Parameters
    ----------
    input_file : str
        Difference FITS file (no area file is used).
    nofit : bool
        Only the pixel ranges, centre and bounding box; a = b = c = rms = 0.
    levelOnly : bool
        Fit the level only.
    border : int
        Rows/columns left out of the fit on each side.
    debug : int
        Ignored.

    Returns
    -------
    dict
        ``status`` '0', ``msg`` (Montage's ``a=..., b=..., ...`` line) and the
        18 fit values, or ``{'status': '1', 'msg': b'...'}``.

    Notes
    -----
    A perfect plane is recovered exactly and a collinear pixel set is always
    ``Singular Matrix-2`` (see `diffview.fit.fit_plane`).

    Examples
    --------
    >>> mFitplane("/nonexistent.fits")["msg"]
    b'Image file /nonexistent.fits missing or invalid FITS'
    """
    try:
        if int(border) < 0:
            raise PairError("Invalid border value")
        array, crpix = read_difference_file(input_file)
        fit = fit_plane(
            (array, crpix),
            level_only=bool(levelOnly),
            border=int(border),
            nofit=bool(nofit),
        )
    except DiffviewError as exc:
        return _error(exc)
    values = {k: getattr(fit, k) for k in _FIT_KEYS}
    values["npixel"] = float(values["npixel"])
    msg = ", ".join(f"{k}={v:g}" for k, v in values.items())
    return {"status": "0", "msg": msg.encode(), **values}


def mFitExec(
    tblfile,
    fitfile,
    diffdir="./",
    levelOnly=False,
    debug=0,
    *,
    executor=None,
    workers=None,
    quiet=True,
):
    """
    Fit every difference listed in an overlap table (MontagePy's mFitExec).

    Parameters
    ----------
    tblfile : str
        Overlap table with ``cntr1 cntr2 diff``.
    fitfile : str
        Output ``fits.tbl``.
    diffdir : str
        Folder of the differences.
    levelOnly : bool
        Fit levels only.
    debug : int
        Nonzero prints one line per failure.
    executor, workers, quiet
        diffview extras (keyword-only); fits run on all cores by default.

    Returns
    -------
    dict
        ``{'status': '0', 'count', 'failed', 'warning', 'missing'}`` or an error.

    Notes
    -----
    ``fits.tbl`` keeps more digits than Montage's ``%16.5e`` in a layout
    Montage's reader still accepts.

    Examples
    --------
    >>> mFitExec("/nonexistent/diffs.tbl", "/nonexistent/fits.tbl")["status"]
    '1'
    """
    try:
        _check_writable(fitfile)
        table = io.read_table(tblfile)
        io.require_columns(table, ["cntr1", "cntr2", "diff"], tblfile)
        result = fitexec(
            tblfile,
            fitfile,
            diffdir,
            level_only=bool(levelOnly),
            executor=executor,
            workers=workers,
            quiet=quiet,
        )
    except DiffviewError as exc:
        return _error(exc)
    except OSError as exc:
        return _error(f"Can't open output file. {exc}")
    _debug_print(debug, result.failures)
    return {
        "status": "0",
        "count": result.count,
        "failed": result.fit_failed,
        "warning": 0,
        "missing": result.missing,
    }


def mDiffFitExec(
    path,
    tblfile,
    template,
    diffdir,
    fitfile,
    keepAll=False,
    levelOnly=False,
    noAreas=False,
    archive="",
    debug=0,
    *,
    executor=None,
    workers=None,
    quiet=True,
):
    """
    Difference and fit every overlap in one pass (MontagePy's mDiffFitExec).

    Parameters
    ----------
    path : str
        Folder of the projected images.
    tblfile : str
        Overlap table (``cntr1 cntr2 plus minus diff``).
    template : str
        Template ``.hdr``.
    diffdir : str
        Folder for kept differences (must exist).
    fitfile : str
        Output ``fits.tbl``.
    keepAll : bool
        Keep the difference files (otherwise nothing but the table is written).
    levelOnly, noAreas : bool
        As for mFitExec / mDiff.
    archive : str
        Not supported (Montage downloads inputs from S3); must be empty.
    debug : int
        Nonzero prints one line per failure.

    Returns
    -------
    dict
        ``{'status': '0', 'count', 'diff_failed', 'fit_failed', 'warning'}``.

    Notes
    -----
    Differences are never written unless ``keepAll`` (Montage writes and then
    deletes them). Like mDiff here, the last template column and row are
    differenced.

    Examples
    --------
    >>> mDiffFitExec(".", "d.tbl", "t.hdr", "/nonexistent", "f.tbl")["msg"]
    b'Cannot access /nonexistent'
    """
    if archive:
        return _error("archive (S3) input is not supported by diffview")
    try:
        from diffview.run.differences import check_output_dir

        check_output_dir(diffdir)
        _check_writable(fitfile)
        table = io.read_table(tblfile)
        io.require_columns(table, ["cntr1", "cntr2", "plus", "minus", "diff"], tblfile)
        result = difffitexec(
            path,
            tblfile,
            template,
            diffdir,
            fitfile,
            keep_all=bool(keepAll),
            level_only=bool(levelOnly),
            no_areas=bool(noAreas),
            executor=executor,
            workers=workers,
            quiet=quiet,
        )
    except DiffviewError as exc:
        return _error(exc)
    _debug_print(debug, result.failures)
    return {
        "status": "0",
        "count": result.count,
        "diff_failed": result.diff_failed,
        "fit_failed": result.fit_failed,
        "warning": 0,
    }


def mBgModel(
    input_file,
    fit_file,
    corr_file,
    gap_dir="",
    noslope=False,
    useall=False,
    niteration=10000,
    debug=0,
    *,
    mode=None,
):
    """
    Solve for one background plane per image (MontagePy's mBgModel).

    Parameters
    ----------
    input_file : str
        ``images.tbl``.
    fit_file : str
        ``fits.tbl``.
    corr_file : str
        Output ``corrections.tbl``.
    gap_dir : str
        HiPS gap folder: not supported, must be empty.
    noslope : bool
        MontagePy passes this straight through as the mode: False is mode 0
        (level, then level+slope), True mode 1 (level only).
    useall : bool
        Keep the fits Montage would reject.
    niteration : int
        Iterations (0 means 10000).
    debug : int
        Ignored.
    mode : int, optional
        diffview extra: any of Montage's modes 0-3 (overrides ``noslope``).

    Returns
    -------
    dict
        ``{'status': '0'}`` (all MontagePy 2.3.0 returns on success) or an
        error.

    Notes
    -----
    ``locked`` flags are looked up by ``cntr`` value, not by using ``cntr`` as
    a row index (identical for mImgtbl tables). See
    `diffview.bgmodel.solve_montage`.

    Examples
    --------
    >>> mBgModel("/nonexistent/images.tbl", "fits.tbl", "/tmp/c.tbl")["msg"]
    b'Invalid image metadata file: /nonexistent/images.tbl'
    """
    if gap_dir:
        return _error("gap_dir (HiPS gaps) is not supported by diffview")
    mode = int(bool(noslope)) if mode is None else int(mode)
    try:
        _check_writable(corr_file)
        try:
            images = io.read_table(input_file)
        except InputError:
            raise InputError(f"Invalid image metadata file: {input_file}") from None
        geo = image_geometry(images, name=input_file, need_geometry=mode != 1)
        try:
            fits = io.read_fits_table(fit_file)
        except InputError as exc:
            raise InputError(
                f"Invalid background fit parameters file: {fit_file} ({exc})"
            ) from None
        corrs = solve_montage(
            geo, fits, mode=mode, useall=bool(useall), niteration=int(niteration)
        )
        io.write_corrections_table(corrs, corr_file)
    except DiffviewError as exc:
        return _error(exc)
    except OSError as exc:
        return _error(f"Failed to open output {corr_file}: {exc}")
    return {"status": "0"}


def mBackground(input_file, output_file, A, B, C, noAreas=False, debug=0):
    """
    Subtract a plane from one projected image (MontagePy's mBackground).

    Examples
    --------
    >>> mBackground("/nonexistent.fits", "/tmp/o.fits", 0, 0, 1)["status"]
    '1'
    """
    try:
        correct_file(
            input_file,
            output_file,
            Correction(0, float(A), float(B), float(C)),
            no_areas=bool(noAreas),
        )
    except DiffviewError as exc:
        return _error(exc)
    except OSError as exc:
        return _error(exc)
    return {"status": "0"}


def mBgExec(
    path,
    tblfile,
    fitfile,
    corrdir,
    noAreas=False,
    debug=0,
    *,
    executor=None,
    workers=None,
    quiet=True,
):
    """
    Apply ``corrections.tbl`` to every image of ``images.tbl`` (MontagePy's mBgExec).

    Returns
    -------
    dict
        ``{'status': '0', 'count', 'nocorrection', 'failed'}`` or an error.

    Examples
    --------
    >>> mBgExec(".", "images.tbl", "corr.tbl", "/nonexistent")["msg"]
    b'Cannot access /nonexistent'
    """
    try:
        result = bgexec(
            path,
            tblfile,
            fitfile,
            corrdir,
            no_areas=bool(noAreas),
            executor=executor,
            workers=workers,
            quiet=quiet,
        )
    except DiffviewError as exc:
        return _error(exc)
    _debug_print(debug, result.failures)
    return {
        "status": "0",
        "count": result.count,
        "nocorrection": result.nocorrection,
        "failed": result.failed,
    }
