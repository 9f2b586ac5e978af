"""
MontagePy-compatible mBgModel, mBackground and mBgExec.

Re-exported by `diffview.montage`. Montage's behaviour is described in
``docs/montage-semantics.md`` §6; the places where diffview departs from it
are listed in §9.2.
"""

from __future__ import annotations

from diffview import io
from diffview.core import image_geometry, solve_montage
from diffview.errors import DiffviewError, InputError
from diffview.models import Correction
from diffview.run import apply_corrections, correct_file

from ._contract import dropin, error_dict
from ._fit import _check_writable, _debug_print

__all__ = ["mBgModel", "mBackground", "mBgExec"]


@dropin
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
        ``{'status': '0'}`` on success (all MontagePy 2.3.0 returns), or
        ``{'status': '1', 'msg': b'...'}``.

    Notes
    -----
    Montage's iteration, modes and rejection rules are described in
    ``docs/montage-semantics.md`` §6.1. ``locked`` flags are looked up by
    ``cntr`` value, not by using ``cntr`` as a row index (identical for
    mImgtbl tables). See `diffview.core.solve_montage`.

    Examples
    --------
    >>> mBgModel("/nonexistent/images.tbl", "fits.tbl", "/tmp/c.tbl")["msg"]
    b'Invalid image metadata file: /nonexistent/images.tbl'

    >>> import tempfile
    >>> from diffview import io
    >>> from diffview.sample import write_sample
    >>> from diffview.montage import mDiffFitExec
    >>> s = write_sample(tempfile.mkdtemp(), "small")
    >>> _ = mDiffFitExec(str(s.proj_dir), str(s.diffs_tbl), str(s.template),
    ...                  str(s.diff_dir), str(s.fits_tbl))
    >>> mBgModel(str(s.images_tbl), str(s.fits_tbl), str(s.corrections_tbl))
    {'status': '0'}
    >>> len(io.read_corrections_table(s.corrections_tbl)) == len(s.truth)
    True
    """
    if gap_dir:
        return error_dict("gap_dir (HiPS gaps) is not supported by diffview")
    mode = int(bool(noslope)) if mode is None else int(mode)
    try:
        _check_writable(corr_file)
        try:
            images = io.read_plain_table(input_file)
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
        return error_dict(exc)
    except OSError as exc:
        return error_dict(f"Failed to open output {corr_file}: {exc}")
    return {"status": "0"}


@dropin
def mBackground(input_file, output_file, A, B, C, noAreas=False, debug=0):
    """
    Subtract a plane from one projected image (MontagePy's mBackground).

    Each valid pixel becomes ``v - (A x + B y + C)`` with ``x = i - CRPIX1``,
    ``y = j - CRPIX2`` (0-based ``i``, ``j``, the image's own CRPIX); blank
    pixels become NaN (``docs/montage-semantics.md`` §6.3).

    Parameters
    ----------
    input_file : str
        Projected image; its area file is ``<base>_area.fits``.
    output_file : str
        Corrected image (float64); the area file is copied next to it.
    A, B, C : float
        The plane to subtract (a row of ``corrections.tbl``).
    noAreas : bool
        Neither read nor write area files.
    debug : int
        Ignored.

    Returns
    -------
    dict
        ``{'status': '0'}`` on success, or ``{'status': '1', 'msg': b'...'}``.

    Examples
    --------
    >>> mBackground("/nonexistent.fits", "/tmp/o.fits", 0, 0, 1)["status"]
    '1'

    >>> import os, tempfile
    >>> import numpy as np
    >>> from astropy.io import fits
    >>> folder = tempfile.mkdtemp()
    >>> hdu = fits.PrimaryHDU(np.full((3, 4), 5.0))
    >>> hdu.header["CRPIX1"], hdu.header["CRPIX2"] = 1.0, 1.0
    >>> hdu.writeto(os.path.join(folder, "a.fits"))
    >>> out = os.path.join(folder, "a_corr.fits")
    >>> mBackground(os.path.join(folder, "a.fits"), out, 1, 0, 2, noAreas=True)
    {'status': '0'}
    >>> fits.getdata(out)[0].tolist()
    [4.0, 3.0, 2.0, 1.0]
    """
    try:
        correct_file(
            input_file,
            output_file,
            Correction(0, float(A), float(B), float(C)),
            no_areas=bool(noAreas),
        )
    except DiffviewError as exc:
        return error_dict(exc)
    except OSError as exc:
        return error_dict(exc)
    return {"status": "0"}


@dropin
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

    Parameters
    ----------
    path : str
        Folder of the projected images.
    tblfile : str
        Image table (``cntr``, ``fname``).
    fitfile : str
        Corrections table from mBgModel (``id a b c``), despite the name.
    corrdir : str
        Existing output folder; outputs keep the images' base names.
    noAreas : bool
        Neither read nor write area files.
    debug : int
        Nonzero prints one line per failure.
    executor : concurrent.futures.Executor, optional
        diffview extra (keyword-only): where the images run.
    workers : int, optional
        diffview extra: local processes when no executor is given.
    quiet : bool
        diffview extra: no progress bar (the default).

    Returns
    -------
    dict
        On success ``status`` ``'0'``, ``count`` (images), ``nocorrection``
        (images without a correction row, copied unchanged) and ``failed``;
        on error ``{'status': '1', 'msg': b'...'}``.

    Notes
    -----
    See ``docs/montage-semantics.md`` §6.2.

    Examples
    --------
    >>> mBgExec(".", "images.tbl", "corr.tbl", "/nonexistent")["msg"]
    b'Cannot access /nonexistent'

    >>> import os, tempfile
    >>> from diffview.sample import write_sample
    >>> from diffview.montage import mDiffFitExec
    >>> s = write_sample(tempfile.mkdtemp(), "small")
    >>> _ = mDiffFitExec(str(s.proj_dir), str(s.diffs_tbl), str(s.template),
    ...                  str(s.diff_dir), str(s.fits_tbl))
    >>> _ = mBgModel(str(s.images_tbl), str(s.fits_tbl), str(s.corrections_tbl))
    >>> corrdir = os.path.join(s.root, "corrected")
    >>> os.mkdir(corrdir)
    >>> r = mBgExec(str(s.proj_dir), str(s.images_tbl), str(s.corrections_tbl),
    ...             corrdir)
    >>> r == {"status": "0", "count": len(s.truth), "nocorrection": 0, "failed": 0}
    True
    """
    try:
        result = apply_corrections(
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
        return error_dict(exc)
    _debug_print(debug, result.failures)
    return {
        "status": "0",
        "count": result.count,
        "nocorrection": result.nocorrection,
        "failed": result.failed,
    }
