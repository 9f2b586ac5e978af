"""
The mosaic's frame, reprojection onto it and the coadd, around ``reproject``.

These are the steps before and after background matching (Montage's
``mMakeHdr``, ``mProjExec`` and ``mAdd``): `make_template` chooses a TAN frame
that covers every image, `project_images` writes Montage-style projected
files (``hdu0_X.fits`` + ``hdu0_X_area.fits``, each cut to the image's box in
the template so that CRPIX differs from the template's by whole pixels), and
`coadd` averages projected images weighted by their areas.
Reprojection uses ``reproject.reproject_exact`` (flux-conserving spherical
polygon overlap, like Montage's mProject) and coadding
``reproject.mosaicking.reproject_and_coadd``.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from astropy.io import fits
from astropy.wcs import WCS

from diffview import io
from diffview.errors import InputError
from diffview.geometry.overlaps import footprints_from_table
from diffview.io.paths import area_name, split_fits_name
from diffview.run._parallel import POOL_SECONDS, _file_seconds, pool_workers, run_tasks

__all__ = [
    "make_template",
    "project_image",
    "project_images",
    "ProjectResult",
    "coadd",
    "pixel_solid_angle",
]


def pixel_solid_angle(header: fits.Header) -> float:
    """
    Solid angle of one pixel at the reference point, in steradians.

    Parameters
    ----------
    header : astropy.io.fits.Header
        A celestial header (CDELT or CD matrix, degrees).

    Returns
    -------
    float
        ``|det(pixel scale matrix)|`` converted to steradians.

    Examples
    --------
    >>> h = fits.Header({"CDELT1": -1 / 3600, "CDELT2": 1 / 3600})
    >>> f"{pixel_solid_angle(h):.3e}"
    '2.350e-11'
    """
    w = WCS(header, naxis=2)
    scale = np.abs(np.linalg.det(w.pixel_scale_matrix))
    return float(scale * (math.pi / 180) ** 2)


def make_template(
    images,
    *,
    pixel_scale: float | None = None,
    margin: int = 2,
    projection: str = "TAN",
) -> fits.Header:
    """
    Make a north-up template covering every image of an image table (mMakeHdr).

    Parameters
    ----------
    images : astropy.table.Table
        Image table with corners (``ra1 .. dec4``) or WCS columns.
    pixel_scale : float, optional
        Degrees per pixel; default: the finest ``|cdelt|`` of the images
        (or of their CD matrices).
    margin : int
        Pixels added on every side.
    projection : str
        Three-letter projection code.

    Returns
    -------
    astropy.io.fits.Header
        ``SIMPLE``, ``BITPIX = -64``, ``NAXIS*``, ``CTYPE*``, ``CRVAL*``,
        ``CRPIX*`` (the centre), ``CDELT*``, ``CROTA2 = 0``, ``EQUINOX``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from diffview.sample import write_sample
    >>> from diffview.io import read_table
    >>> s = write_sample(pathlib.Path(tempfile.mkdtemp()), "small")
    >>> h = make_template(read_table(s.raw_images_tbl))
    >>> h["CTYPE1"], h["NAXIS1"] > 100
    ('RA---TAN', True)
    """
    fps = footprints_from_table(images)
    if not fps:
        raise InputError("make_template: the image table has no rows")
    corners = np.concatenate([fp.vectors for fp in fps])
    centre = corners.mean(axis=0)
    centre /= np.linalg.norm(centre)
    ra0 = math.degrees(math.atan2(centre[1], centre[0])) % 360
    dec0 = math.degrees(math.asin(centre[2]))
    if pixel_scale is None:
        pixel_scale = _finest_scale(images)
    w = WCS(naxis=2)
    w.wcs.ctype = [f"RA---{projection}", f"DEC--{projection}"]
    w.wcs.crval = [ra0, dec0]
    w.wcs.cdelt = [-pixel_scale, pixel_scale]
    w.wcs.crpix = [0.0, 0.0]
    ra = np.degrees(np.arctan2(corners[:, 1], corners[:, 0])) % 360
    dec = np.degrees(np.arcsin(np.clip(corners[:, 2], -1, 1)))
    x, y = w.wcs_world2pix(ra, dec, 1)
    nx = int(math.ceil(x.max() - x.min())) + 2 * margin
    ny = int(math.ceil(y.max() - y.min())) + 2 * margin
    crpix1 = -(x.min() - margin) + 0.5
    crpix2 = -(y.min() - margin) + 0.5
    h = fits.Header()
    h["SIMPLE"], h["BITPIX"], h["NAXIS"] = True, -64, 2
    h["NAXIS1"], h["NAXIS2"] = nx, ny
    h["CTYPE1"], h["CTYPE2"] = w.wcs.ctype[0], w.wcs.ctype[1]
    h["EQUINOX"] = 2000.0
    h["CRVAL1"], h["CRVAL2"] = round(ra0, 9), round(dec0, 9)
    h["CRPIX1"], h["CRPIX2"] = round(crpix1, 4), round(crpix2, 4)
    h["CDELT1"], h["CDELT2"] = -pixel_scale, pixel_scale
    h["CROTA2"] = 0.0
    return h


def _finest_scale(images) -> float:
    names = images.colnames
    if "cdelt1" in names and "cdelt2" in names:
        scales = np.minimum(np.abs(images["cdelt1"]), np.abs(images["cdelt2"]))
        return float(np.min(scales))
    raise InputError(
        "make_template: the image table has no cdelt1/cdelt2 columns; give pixel_scale"
    )


def _box_in_template(wcs_in: WCS, shape, twcs: WCS, tshape) -> tuple | None:
    ny, nx = shape
    i = np.concatenate(
        [
            np.linspace(0.5, nx + 0.5, 17),
            np.full(17, nx + 0.5),
            np.linspace(nx + 0.5, 0.5, 17),
            np.full(17, 0.5),
        ]
    )
    j = np.concatenate(
        [
            np.full(17, 0.5),
            np.linspace(0.5, ny + 0.5, 17),
            np.full(17, ny + 0.5),
            np.linspace(ny + 0.5, 0.5, 17),
        ]
    )
    sky = wcs_in.pixel_to_world(i - 1, j - 1)
    x, y = twcs.world_to_pixel(sky)  # 0-based template pixel centres
    if not (np.all(np.isfinite(x)) and np.all(np.isfinite(y))):
        return None
    i0 = max(int(math.floor(x.min() + 0.5)) - 1, 0)
    j0 = max(int(math.floor(y.min() + 0.5)) - 1, 0)
    i1 = min(int(math.ceil(x.max() + 0.5)) + 1, tshape[1])
    j1 = min(int(math.ceil(y.max() + 0.5)) + 1, tshape[0])
    if i1 <= i0 or j1 <= j0:
        return None
    return (j0, j1), (i0, i1)


def _cut_header(template: fits.Header, box) -> fits.Header:
    (j0, j1), (i0, i1) = box
    h = template.copy()
    h["NAXIS1"], h["NAXIS2"] = i1 - i0, j1 - j0
    h["CRPIX1"] = template["CRPIX1"] - i0
    h["CRPIX2"] = template["CRPIX2"] - j0
    return h


def project_image(in_path, out_path, template: fits.Header, *, hdu: int = 0) -> bool:
    """
    Reproject one image onto its box of the template; write it and its area.

    The output is cut to the image's bounding box in the template (plus one
    pixel), NaN outside the footprint, with ``X_area.fits`` holding the
    covered solid angle of every pixel (steradians), as Montage's mProject.

    Parameters
    ----------
    in_path : str or path-like
        The raw image.
    out_path : str or path-like
        The projected image to write (its area file goes next to it).
    template : astropy.io.fits.Header
        The mosaic template.
    hdu : int
        HDU of ``in_path`` to read.

    Returns
    -------
    bool
        False when the image does not fall on the template (nothing written).

    Examples
    --------
    See `project_images`.
    """
    from reproject import reproject_exact

    data, header = io.read_image(in_path, hdu)
    wcs_in = WCS(header, naxis=2)
    twcs = WCS(template, naxis=2)
    tshape = (int(template["NAXIS2"]), int(template["NAXIS1"]))
    box = _box_in_template(wcs_in, data.shape, twcs, tshape)
    if box is None:
        return False
    out_h = _cut_header(template, box)
    shape = (out_h["NAXIS2"], out_h["NAXIS1"])
    flux, frac = reproject_exact((data, wcs_in), WCS(out_h, naxis=2), shape_out=shape)
    good = np.isfinite(flux) & (frac > 1e-6)
    flux = np.where(good, flux, np.nan)
    area = np.where(good, frac, 0.0) * pixel_solid_angle(out_h)
    io.write_image(flux, out_h, out_path)
    io.write_image(area, out_h, area_name(str(out_path)))
    return True


# Time one process spends per byte of raw image: reproject_exact handles
# ~1 MB of input a second on one core, so a pool starts above 0.5 MiB.
_PROJECT_SECONDS_PER_BYTE = POOL_SECONDS / 2**19


def _project_task(task):
    in_path, out_path, template, hdu = task
    try:
        return project_image(in_path, out_path, template, hdu=hdu), None
    except InputError as exc:
        return False, str(exc)


@dataclass
class ProjectResult:
    """
    Outcome of `project_images`.

    Attributes
    ----------
    count : int
        Images projected.
    failed : list of str
        Messages of the images that could not be read or missed the template.
    files : list of str
        Projected file names (relative to the output folder).

    Examples
    --------
    >>> ProjectResult(1, [], ["hdu0_a.fits"]).files
    ['hdu0_a.fits']
    """

    count: int
    failed: list
    files: list


def project_images(
    images,
    raw_dir,
    template,
    out_dir,
    *,
    prefix: str | None = None,
    executor=None,
    workers: int | None = None,
    quiet: bool = False,
) -> ProjectResult:
    """
    Reproject every image of an image table onto the template (mProjExec).

    Parameters
    ----------
    images : astropy.table.Table or path
        Image table of the raw images (``fname``, ``hdu``).
    raw_dir : path
        Folder the ``fname`` values are relative to.
    template : astropy.io.fits.Header or path
        The mosaic template.
    out_dir : path
        Output folder (created if missing).
    prefix : str, optional
        Prepended to output names; default ``hdu<N>_`` as Montage's mProjExec.
    executor, workers, quiet
        As in `compute_differences`; with neither ``executor`` nor
        ``workers``, `pool_workers` keeps runs over less than 0.5 MiB of raw
        images in this process.

    Returns
    -------
    ProjectResult

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from diffview.sample import write_sample
    >>> from diffview.io import read_table, read_template
    >>> s = write_sample(pathlib.Path(tempfile.mkdtemp()), "small")
    >>> r = project_images(read_table(s.raw_images_tbl), s.raw_dir,
    ...                    read_template(s.template), s.root / "again", quiet=True)
    >>> r.count == len(s.truth), r.failed
    (True, [])
    """
    if isinstance(images, (str, os.PathLike)):
        images = io.read_table(images)
    io.require_columns(images, ["fname"], "image table")
    if not isinstance(template, fits.Header):
        template = io.read_template(template)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    tasks, names = [], []
    for row in images:
        fname = str(row["fname"])
        hdu = int(row["hdu"]) if "hdu" in images.colnames else 0
        out_name = (
            (f"hdu{hdu}_" if prefix is None else prefix)
            + os.path.basename(split_fits_name(fname))
            + ".fits"
        )
        tasks.append(
            (str(Path(raw_dir) / fname), str(out_dir / out_name), template, hdu)
        )
        names.append(out_name)
    costs = _file_seconds((t[0] for t in tasks), _PROJECT_SECONDS_PER_BYTE)
    workers = pool_workers(workers, executor, costs)
    results = list(
        run_tasks(
            _project_task,
            tasks,
            executor=executor,
            workers=workers,
            quiet=quiet,
            desc="project",
            unit="image",
        )
    )
    failed = [
        msg or f"{t[0]}: does not fall on the template"
        for t, (ok, msg) in zip(tasks, results, strict=True)
        if not ok
    ]
    files = [n for n, (ok, _) in zip(names, results, strict=True) if ok]
    return ProjectResult(len(files), failed, files)


def coadd(images, proj_dir, template, out=None, *, corrections=None) -> np.ndarray:
    """
    Area-weighted mean of projected images on the template grid (mAdd).

    Parameters
    ----------
    images : astropy.table.Table or path
        Image table of the projected images (``fname``, ``cntr``).
    proj_dir : path
        Folder holding them (and their ``_area`` files).
    template : astropy.io.fits.Header or path
        The mosaic template.
    out : path, optional
        Write the mosaic there (FITS, template header).
    corrections : dict, optional
        ``{cntr: (a, b, c)}`` planes to subtract first (Montage's frame), so
        that a background-matched mosaic needs no corrected files.

    Returns
    -------
    numpy.ndarray
        The mosaic, NaN where no image covers it.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from diffview.sample import write_sample
    >>> s = write_sample(pathlib.Path(tempfile.mkdtemp()), "small")
    >>> m = coadd(s.images_tbl, s.proj_dir, s.template)
    >>> m.shape == (fits.getval(s.mosaic, "NAXIS2"), fits.getval(s.mosaic, "NAXIS1"))
    True
    """
    from reproject import reproject_interp
    from reproject.mosaicking import reproject_and_coadd

    if isinstance(images, (str, os.PathLike)):
        images = io.read_table(images)
    if not isinstance(template, fits.Header):
        template = io.read_template(template)
    inputs, weights = [], []
    for row in images:
        path = str(Path(proj_dir) / str(row["fname"]))
        data, h = io.read_image(path)
        area, _ = io.read_image(area_name(path))
        cntr = int(row["cntr"]) if "cntr" in images.colnames else None
        if corrections and cntr in corrections:
            a, b, c = corrections[cntr]
            y, x = np.mgrid[0 : data.shape[0], 0 : data.shape[1]]
            data = data - (a * (x - h["CRPIX1"]) + b * (y - h["CRPIX2"]) + c)
        inputs.append((data, WCS(h, naxis=2)))
        weights.append(area)
    shape = (int(template["NAXIS2"]), int(template["NAXIS1"]))
    mosaic, cover = reproject_and_coadd(
        inputs,
        WCS(template, naxis=2),
        shape_out=shape,
        input_weights=weights,
        combine_function="mean",
        reproject_function=reproject_interp,
    )
    mosaic = np.where(cover > 0, mosaic, np.nan)
    if out is not None:
        io.write_image(mosaic, template, out)
    return mosaic
