"""
MontagePy-compatible plane fits: mFitplane, mFitExec and mDiffFitExec.

Re-exported by `diffview.montage`. Montage's behaviour is described in
``docs/montage-semantics.md`` §4; the places where diffview departs from it
are listed in §9.2.
"""

from __future__ import annotations

import os

from diffview import io
from diffview.core import fit_plane
from diffview.errors import DiffviewError, InputError, PairError
from diffview.run import (
    check_output_dir,
    differences_and_fits,
    fit_planes,
    read_difference_file,
)

from ._contract import dropin, error_dict

__all__ = ["mFitplane", "mFitExec", "mDiffFitExec"]

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


def _check_writable(path) -> None:
    folder = os.path.dirname(os.path.abspath(str(path)))
    if not os.path.isdir(folder) or not os.access(folder, os.W_OK):
        raise InputError(f"Can't open output file {path}.")


def _debug_print(debug, failures) -> None:
    if debug:
        for _, msg in failures:
            print(msg)


@dropin
def mFitplane(input_file, nofit=False, levelOnly=False, border=0, debug=0):
    """
    Fit a plane to one difference image (MontagePy's mFitplane).

    Twenty clipping iterations in Montage's plane coordinates, then the
    bounding box mBgModel uses (``docs/montage-semantics.md`` §4.1).

    Parameters
    ----------
    input_file : str
        Difference FITS file (no area file is used).
    nofit : bool
        Only the pixel ranges, centre and bounding box; a = b = c = rms = 0.
    levelOnly : bool
        Fit the level only (``a = b = 0``).
    border : int
        Rows/columns left out of the fit on each side (not out of the box).
    debug : int
        Ignored.

    Returns
    -------
    dict
        On success ``status`` ``'0'``, ``msg`` (Montage's ``a=..., b=...,
        ...`` line, bytes) and the 18 fit values ``a``, ``b``, ``c``,
        ``crpix1``, ``crpix2``, ``xmin``, ``xmax``, ``ymin``, ``ymax``,
        ``xcenter``, ``ycenter``, ``npixel``, ``rms``, ``boxx``, ``boxy``,
        ``boxwidth``, ``boxheight``, ``boxang``. On error
        ``{'status': '1', 'msg': b'...'}``.

    Notes
    -----
    A perfect plane is recovered exactly and a collinear pixel set is always
    ``Singular Matrix-2`` (see `diffview.core.fit_plane`).

    Examples
    --------
    >>> mFitplane("/nonexistent.fits")["msg"]
    b'Image file /nonexistent.fits missing or invalid FITS'

    The plane ``0.1 i + 0.2 j + 3`` (0-based ``i``, ``j``) is
    ``0.1 x + 0.2 y + 4.05`` in Montage's coordinates ``x = i - CRPIX1``,
    ``y = j - CRPIX2``:

    >>> import os, tempfile
    >>> import numpy as np
    >>> from astropy.io import fits
    >>> j, i = np.mgrid[0:6, 0:14]
    >>> hdu = fits.PrimaryHDU(0.1 * i + 0.2 * j + 3.0)
    >>> hdu.header["CRPIX1"], hdu.header["CRPIX2"] = 5.5, 2.5
    >>> path = os.path.join(tempfile.mkdtemp(), "diff.fits")
    >>> hdu.writeto(path)
    >>> r = mFitplane(path)
    >>> [round(r[k], 6) for k in ("a", "b", "c")], r["npixel"]
    ([0.1, 0.2, 4.05], 84.0)
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
        return error_dict(exc)
    values = {k: getattr(fit, k) for k in _FIT_KEYS}
    values["npixel"] = float(values["npixel"])
    msg = ", ".join(f"{k}={v:g}" for k, v in values.items())
    return {"status": "0", "msg": msg.encode(), **values}


@dropin
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
    executor : concurrent.futures.Executor, optional
        diffview extra (keyword-only): where the fits run.
    workers : int, optional
        diffview extra: local processes when no executor is given (default
        all cores).
    quiet : bool
        diffview extra: no progress bar (the default).

    Returns
    -------
    dict
        On success ``status`` ``'0'``, ``count`` (table rows), ``failed``
        (fits that failed), ``warning`` (always 0) and ``missing``
        (differences not found); on error ``{'status': '1', 'msg': b'...'}``.

    Notes
    -----
    ``fits.tbl`` keeps more digits than Montage's ``%16.5e`` in a layout
    Montage's reader still accepts (``docs/montage-semantics.md`` §4.4).

    Examples
    --------
    >>> mFitExec("/nonexistent/diffs.tbl", "/nonexistent/fits.tbl")["status"]
    '1'

    >>> import tempfile
    >>> from diffview.sample import write_sample
    >>> from diffview.montage import mDiffExec
    >>> s = write_sample(tempfile.mkdtemp(), "small")
    >>> _ = mDiffExec(str(s.proj_dir), str(s.diffs_tbl), str(s.template),
    ...               str(s.diff_dir), quiet=True)
    >>> r = mFitExec(str(s.diffs_tbl), str(s.fits_tbl), str(s.diff_dir))
    >>> r == {"status": "0", "count": len(s.overlaps), "failed": 0,
    ...       "warning": 0, "missing": 0}
    True
    """
    try:
        _check_writable(fitfile)
        table = io.read_plain_table(tblfile)
        io.require_columns(table, ["cntr1", "cntr2", "diff"], tblfile)
        result = fit_planes(
            io.overlaps_from_table(table, tblfile),  # the file is parsed once
            fitfile,
            diffdir,
            level_only=bool(levelOnly),
            executor=executor,
            workers=workers,
            quiet=quiet,
        )
    except DiffviewError as exc:
        return error_dict(exc)
    except OSError as exc:
        return error_dict(f"Can't open output file. {exc}")
    _debug_print(debug, result.failures)
    return {
        "status": "0",
        "count": result.count,
        "failed": result.fit_failed,
        "warning": 0,
        "missing": result.missing,
    }


@dropin
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
    levelOnly : bool
        Fit levels only.
    noAreas : bool
        Ignore area files.
    archive : str
        Not supported (Montage downloads inputs from S3); must be empty.
    debug : int
        Nonzero prints one line per failure.
    executor : concurrent.futures.Executor, optional
        diffview extra (keyword-only): where the pairs run.
    workers : int, optional
        diffview extra: local processes when no executor is given.
    quiet : bool
        diffview extra: no progress bar (the default).

    Returns
    -------
    dict
        On success ``status`` ``'0'``, ``count`` (pairs), ``diff_failed``
        (pairs whose difference failed), ``fit_failed`` (pairs whose
        difference worked but whose fit failed) and ``warning`` (always 0);
        on error ``{'status': '1', 'msg': b'...'}``.

    Notes
    -----
    Differences are never written unless ``keepAll`` (Montage writes and then
    deletes them). As in Montage, the last template column and row are not
    differenced (``docs/montage-semantics.md`` §3.3, §4.3).

    Examples
    --------
    >>> mDiffFitExec(".", "d.tbl", "t.hdr", "/nonexistent", "f.tbl")["msg"]
    b'Cannot access /nonexistent'

    >>> import tempfile
    >>> from diffview.sample import write_sample
    >>> s = write_sample(tempfile.mkdtemp(), "small")
    >>> r = mDiffFitExec(str(s.proj_dir), str(s.diffs_tbl), str(s.template),
    ...                  str(s.diff_dir), str(s.fits_tbl))
    >>> r["status"], r["count"] == len(s.overlaps), r["diff_failed"], r["fit_failed"]
    ('0', True, 0, 0)
    """
    if archive:
        return error_dict("archive (S3) input is not supported by diffview")
    try:
        check_output_dir(diffdir)
        _check_writable(fitfile)
        table = io.read_plain_table(tblfile)
        io.require_columns(table, ["cntr1", "cntr2", "plus", "minus", "diff"], tblfile)
        result = differences_and_fits(
            path,
            io.overlaps_from_table(table, tblfile),  # the file is parsed once
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
        return error_dict(exc)
    _debug_print(debug, result.failures)
    return {
        "status": "0",
        "count": result.count,
        "diff_failed": result.diff_failed,
        "fit_failed": result.fit_failed,
        "warning": 0,
    }
