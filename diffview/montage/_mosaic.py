"""
MontagePy-compatible mMakeHdr, mProject, mProjectQL, mProjExec and mAdd.

Re-exported by `diffview.montage`. What diffview keeps of Montage's
behaviour is in ``docs/montage-semantics.md`` §11, the departures in §9.2:
the template is Montage's to the digit, the coadd is Montage's arithmetic,
the reprojection is ``reproject``'s (flux-conserving overlap, or
interpolation for mProjectQL).
"""

from __future__ import annotations

import os
import time

from diffview import io
from diffview.errors import DiffviewError
from diffview.run import add_images, bounding_header, project_image, project_images

from ._contract import dropin, error_dict
from ._fit import _check_writable

__all__ = ["mMakeHdr", "mProject", "mProjectQL", "mProjExec", "mAdd"]


def _unsupported(**options) -> dict | None:
    """Return an error dict naming the first option diffview lacks, or None."""
    for name, (value, default) in options.items():
        if value != default:
            return error_dict(f"{name} is not supported by diffview")
    return None


@dropin
def mMakeHdr(
    tblfile,
    template,
    csys="EQUJ",
    equinox=2000.0,
    pixelScale=0.0,
    northAligned=0,
    pad=0.0,
    isPercentage=False,
    maxPixel=0,
    debug=0,
):
    """
    Write the header template bounding every image of a table (mMakeHdr).

    Parameters
    ----------
    tblfile : str
        Image table (corner columns or WCS columns).
    template : str
        Output ``.hdr`` file.
    csys : str
        Output coordinate system (``EQUJ``, ``Galactic``, ...).
    equinox : float
        Output equinox.
    pixelScale : float
        Degrees per pixel; 0 takes the finest of the table.
    northAligned : int
        A north-up box instead of the box of least area.
    pad : float
        Pixels added on each side (percent with ``isPercentage``).
    isPercentage : bool
        ``pad`` is a percentage of the larger side.
    maxPixel : int
        If above 0, the longer side's pixel count (sets the pixel size).
    debug : int
        Ignored.

    Returns
    -------
    dict
        ``status`` ``'0'``, ``count``, ``ncube``, ``naxis1``, ``naxis2``,
        ``clon``, ``clat``, ``lonsize``, ``latsize``, ``posang``, ``lon1``
        .. ``lat4``; or ``{'status': '1', 'msg': b'...'}``.

    Notes
    -----
    The template text is Montage's, digit for digit
    (``docs/montage-semantics.md`` §11.1); a table of tables is not read.

    Examples
    --------
    >>> mMakeHdr("/nonexistent.tbl", "/tmp/x.hdr")["msg"]
    b'Invalid table file: /nonexistent.tbl'

    >>> import os, tempfile
    >>> from diffview.sample import write_sample
    >>> s = write_sample(tempfile.mkdtemp(), "small")
    >>> r = mMakeHdr(str(s.raw_images_tbl), os.path.join(s.root, "m.hdr"))
    >>> r["status"], r["count"], r["naxis1"] > 100
    ('0', 6, True)
    """
    try:
        try:
            images = io.read_table(tblfile)
        except DiffviewError:
            return error_dict(f"Invalid table file: {tblfile}")
        _check_writable(template)
        b = bounding_header(
            images,
            system=csys,
            equinox=float(equinox),
            pixel_scale=float(pixelScale),
            north_aligned=bool(northAligned),
            pad=float(pad),
            percent=bool(isPercentage),
            max_pixel=int(maxPixel),
        )
        io.write_file(template, b.text.encode())
    except DiffviewError as exc:
        return error_dict(exc)
    except OSError as exc:
        return error_dict(f"Can't open output header file. ({exc})")
    return {"status": "0", **b.info}


def _project(input_file, output_file, template_file, hdu, **options) -> dict:
    start = time.time()
    try:
        template = io.read_template(template_file)
        _check_writable(output_file)
        ok = project_image(input_file, output_file, template, hdu=int(hdu), **options)
    except DiffviewError as exc:
        return error_dict(exc)
    except OSError as exc:
        return error_dict(f"{input_file}: {exc}")
    if not ok:
        return error_dict("No overlap")
    return {"status": "0", "time": float(round(time.time() - start))}


@dropin
def mProject(
    input_file,
    output_file,
    template_file,
    hdu=0,
    weight_file="",
    fixedWeight=1.0,
    threshold=0.0,
    borderstr="",
    drizzle=1.0,
    fluxScale=1.0,
    energyMode=False,
    expand=False,
    fullRegion=False,
    debug=0,
):
    """
    Reproject one image onto a template, with its area image (mProject).

    Parameters
    ----------
    input_file : str
        FITS file to reproject.
    output_file : str
        Reprojected FITS file; the area goes to ``<base>_area.fits``.
    template_file : str
        ``.hdr`` template.
    hdu : int
        HDU of the input.
    weight_file, fixedWeight, threshold, borderstr, drizzle, expand
        Not supported: anything but the default returns an error.
    fluxScale : float
        Factor applied to every pixel.
    energyMode : bool
        Values are energies, not surface brightness.
    fullRegion : bool
        Keep the whole template instead of shrink-wrapping.
    debug : int
        Ignored.

    Returns
    -------
    dict
        ``{'status': '0', 'time': seconds}`` or ``{'status': '1', 'msg':
        b'...'}``.

    Notes
    -----
    ``reproject.reproject_exact`` computes the same spherical-polygon
    overlaps; values differ from Montage's by about 1e-7 of the signal
    inside the image and on the template's edge rows
    (``docs/montage-semantics.md`` §11.2, §9.2).

    Examples
    --------
    >>> mProject("/nonexistent.fits", "/tmp/p.fits", "/nonexistent.hdr")["status"]
    '1'
    """
    bad = _unsupported(
        weight_file=(weight_file, ""),
        fixedWeight=(fixedWeight, 1.0),
        threshold=(threshold, 0.0),
        borderstr=(borderstr, ""),
        drizzle=(drizzle, 1.0),
        expand=(expand, False),
    )
    return bad or _project(
        input_file,
        output_file,
        template_file,
        hdu,
        flux_scale=float(fluxScale),
        energy_mode=bool(energyMode),
        full_region=bool(fullRegion),
    )


@dropin
def mProjectQL(
    input_file,
    output_file,
    template_file,
    hdu=0,
    interp=0,
    weight_file="",
    fixedWeight=1.0,
    threshold=0.0,
    borderstr="",
    fluxScale=1.0,
    expand=False,
    fullRegion=False,
    noAreas=True,
    debug=0,
):
    """
    Reproject one image by interpolation (mProjectQL).

    Parameters
    ----------
    input_file : str
        FITS file to reproject.
    output_file : str
        Reprojected FITS file.
    template_file : str
        ``.hdr`` template.
    hdu : int
        HDU of the input.
    interp : int
        0: nearest neighbour; 1: Montage's Lanczos, here bicubic.
    weight_file, fixedWeight, threshold, borderstr, expand
        Not supported: anything but the default returns an error.
    fluxScale : float
        Factor applied to every pixel.
    fullRegion : bool
        Keep the whole template instead of shrink-wrapping.
    noAreas : bool
        Write no area image (MontagePy's default).
    debug : int
        Ignored.

    Returns
    -------
    dict
        ``{'status': '0', 'time': seconds}`` or ``{'status': '1', 'msg':
        b'...'}``.

    Notes
    -----
    ``interp=0`` gives Montage's pixels and area image exactly. Lanczos is
    not in ``reproject``; ``interp=1`` uses its bicubic spline, where
    MontagePy 2.3.0's Lanczos writes values near 1e284 at image edges and an
    all-NaN area (``docs/montage-semantics.md`` §11.2, §9.2).

    Examples
    --------
    >>> mProjectQL("/nonexistent.fits", "/tmp/q.fits", "/nonexistent.hdr")["status"]
    '1'
    """
    bad = _unsupported(
        weight_file=(weight_file, ""),
        fixedWeight=(fixedWeight, 1.0),
        threshold=(threshold, 0.0),
        borderstr=(borderstr, ""),
        expand=(expand, False),
    )
    return bad or _project(
        input_file,
        output_file,
        template_file,
        hdu,
        method="bicubic" if int(interp) == 1 else "nearest",
        flux_scale=float(fluxScale),
        full_region=bool(fullRegion),
        areas=not noAreas,
    )


@dropin
def mProjExec(
    path,
    tblfile,
    template,
    projdir="./",
    quickMode=False,
    exact=False,
    wholeImages=False,
    energyMode=False,
    drizzle=0.0,
    border="",
    scaleCol="",
    weightCol="",
    restart=0,
    stats="",
    debug=0,
    *,
    executor=None,
    workers=None,
    quiet=True,
):
    """
    Reproject every image of a table (mProjExec).

    Parameters
    ----------
    path : str
        Folder of the raw images.
    tblfile : str
        Their image table.
    template : str
        ``.hdr`` template.
    projdir : str
        Output folder (must exist): ``hdu<N>_<name>.fits`` and
        ``hdu<N>_<name>_area.fits`` per image.
    quickMode : bool
        Interpolate (mProjectQL, nearest neighbour) instead of the exact
        overlap.
    exact : bool
        No-op: diffview always uses the exact overlap (mProject).
    wholeImages, energyMode, drizzle, border, scaleCol, weightCol, stats
        Not supported: anything but the default returns an error.
    restart : int
        First table row to project.
    debug : int
        Nonzero prints every failed image.
    executor, workers, quiet
        diffview extras: where the images run, and the progress bar.

    Returns
    -------
    dict
        ``status`` ``'0'``, ``count``, ``failed``, ``nooverlap``; or
        ``{'status': '1', 'msg': b'...'}``.

    Notes
    -----
    Montage picks mProjectPP for TAN images; diffview always computes the
    exact overlap (``docs/montage-semantics.md`` §11.3).

    Examples
    --------
    >>> mProjExec("raw", "/nonexistent.tbl", "t.hdr", "/nonexistent")["msg"]
    b'Output directory (/nonexistent) does not exist'
    """
    bad = _unsupported(
        wholeImages=(wholeImages, False),
        energyMode=(energyMode, False),
        drizzle=(drizzle, 0.0),
        border=(border, ""),
        scaleCol=(scaleCol, ""),
        weightCol=(weightCol, ""),
        stats=(stats, ""),
    )
    if bad:
        return bad
    if not os.path.isdir(projdir):
        return error_dict(f"Output directory ({projdir}) does not exist")
    try:
        try:
            images = io.read_table(tblfile)
        except DiffviewError:
            return error_dict(f"Invalid image metadata file: {tblfile}")
        r = project_images(
            images,
            path,
            io.read_template(template),
            projdir,
            method="nearest" if quickMode else "exact",
            restart=int(restart),
            executor=executor,
            workers=workers,
            quiet=quiet,
        )
    except DiffviewError as exc:
        return error_dict(exc)
    for msg in r.failed if debug else ():
        print(msg)
    return {
        "status": "0",
        "count": r.count + len(r.failed),
        "failed": len(r.failed) - r.nooverlap,
        "nooverlap": r.nooverlap,
    }


@dropin
def mAdd(
    path,
    tblfile,
    template_file,
    outfile,
    shrink=False,
    haveAreas=False,
    coadd=0,
    debug=0,
):
    """
    Coadd projected images into a mosaic (mAdd).

    Parameters
    ----------
    path : str
        Folder of the projected images.
    tblfile : str
        Their image table.
    template_file : str
        ``.hdr`` template.
    outfile : str
        Mosaic file; its area goes to ``<base>_area.fits``.
    shrink : bool
        Cut the mosaic to the images' span.
    haveAreas : bool
        Weight by the ``_area.fits`` files (MontagePy's default is False;
        Montage's command line uses them).
    coadd : int
        0 mean, 1 median, 2 count.
    debug : int
        Ignored.

    Returns
    -------
    dict
        ``{'status': '0', 'time': seconds}`` or ``{'status': '1', 'msg':
        b'...'}``.

    Notes
    -----
    Montage's arithmetic: whole-pixel offsets, area-weighted mean, median of
    the values covering half a nominal pixel (``docs/montage-semantics.md``
    §11.4). Montage's SUM mode (3) is not in MontagePy 2.3.0's help and not
    here.

    Examples
    --------
    >>> mAdd("proj", "/nonexistent.tbl", "/nonexistent.hdr", "/tmp/m.fits")["msg"]
    b'Template file not found.'

    >>> import os, tempfile
    >>> from diffview.sample import write_sample
    >>> s = write_sample(tempfile.mkdtemp(), "small")
    >>> out = os.path.join(s.root, "m.fits")
    >>> mAdd(str(s.proj_dir), str(s.images_tbl), str(s.template), out)["status"]
    '0'
    """
    start = time.time()
    if not os.path.isfile(template_file):
        return error_dict("Template file not found.")
    if int(coadd) not in (0, 1, 2):
        return error_dict(f"Invalid coadd mode {coadd} (0 mean, 1 median, 2 count)")
    try:
        try:
            images = io.read_table(tblfile)
        except DiffviewError:
            return error_dict(f"Invalid image metadata file: {tblfile}")
        _check_writable(outfile)
        add_images(
            images,
            path,
            io.read_template(template_file),
            outfile,
            mode=("mean", "median", "count")[int(coadd)],
            have_areas=bool(haveAreas),
            shrink=bool(shrink),
        )
    except DiffviewError as exc:
        return error_dict(exc)
    except OSError as exc:
        return error_dict(f"{outfile}: {exc}")
    return {"status": "0", "time": float(round(time.time() - start))}
