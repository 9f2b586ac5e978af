"""
Reprojection of raw images onto a mosaic template, as mProject/mProjExec.

`project_image` reprojects one image with ``reproject`` (``exact``:
flux-conserving spherical-polygon overlap, like mProject; ``nearest`` or
``bicubic`` interpolation, like mProjectQL), then keeps the smallest box of
the template holding every covered pixel, so that the output's CRPIX differs
from the template's by whole pixels. Next to it goes ``X_area.fits``, the
covered solid angle of each pixel in steradians. `project_images` runs it
over an image table with Montage's output names (``hdu<N>_<name>.fits``).
See ``docs/montage-semantics.md`` §11.2-11.3.
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
from diffview.run._parallel import _file_seconds, pool_workers, run_tasks

__all__ = [
    "PROJECT_METHODS",
    "ProjectResult",
    "pixel_solid_angle",
    "project_image",
    "project_images",
    "projected_name",
]

#: Reprojection methods: mProject's flux-conserving overlap, mProjectQL's
#: nearest neighbour and (for its Lanczos) bicubic interpolation.
PROJECT_METHODS = ("exact", "nearest", "bicubic")


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
    h["BITPIX"] = -64
    h["NAXIS1"], h["NAXIS2"] = i1 - i0, j1 - j0
    h["CRPIX1"] = template["CRPIX1"] - i0
    h["CRPIX2"] = template["CRPIX2"] - j0
    return h


def _reproject(data, wcs_in, out_h, shape, method):
    from reproject import reproject_exact, reproject_interp

    wcs_out = WCS(out_h, naxis=2)
    bad = ~np.isfinite(data)
    src = np.where(bad, 0.0, data) if bad.any() else data
    if method == "exact":
        flux, frac = reproject_exact((src, wcs_in), wcs_out, shape_out=shape)
        if bad.any():  # blank input pixels give no area (mProject skips them)
            good, _ = reproject_exact(((~bad).astype(float), wcs_in), wcs_out, shape)
            with np.errstate(invalid="ignore", divide="ignore"):
                flux = flux / good
            frac = frac * np.nan_to_num(good)
        return flux, frac
    order = "nearest-neighbor" if method == "nearest" else "bicubic"
    flux, frac = reproject_interp((data, wcs_in), wcs_out, shape_out=shape, order=order)
    return flux, np.where(np.isfinite(flux), frac, 0.0)


def _shrink(good):
    """Return the box of the ``good`` pixels, or None if there are none."""
    rows = np.flatnonzero(good.any(axis=1))
    cols = np.flatnonzero(good.any(axis=0))
    if rows.size == 0:
        return None
    return (int(rows[0]), int(rows[-1]) + 1), (int(cols[0]), int(cols[-1]) + 1)


def project_image(
    in_path,
    out_path,
    template: fits.Header,
    *,
    hdu: int = 0,
    method: str = "exact",
    full_region: bool = False,
    flux_scale: float = 1.0,
    energy_mode: bool = False,
    areas: bool = True,
) -> bool:
    """
    Reproject one image onto the template; write it and its area (mProject).

    The output is the smallest box of the template that holds every pixel
    the image covers (all of the template with ``full_region``), NaN
    outside the footprint, with ``X_area.fits`` holding the covered solid
    angle of every pixel (steradians), as Montage's mProject.

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
    method : {"exact", "nearest", "bicubic"}
        Flux-conserving overlap (mProject) or interpolation (mProjectQL).
    full_region : bool
        Keep the whole template instead of shrink-wrapping.
    flux_scale : float
        Factor applied to every output pixel.
    energy_mode : bool
        Pixel values are energies, not surface brightness: scale by the
        ratio of output to input pixel areas.
    areas : bool
        Write the area file (steradians; with interpolation, as mProjectQL,
        1 where a value was interpolated and NaN elsewhere).

    Returns
    -------
    bool
        False when the image does not fall on the template (nothing written).

    Raises
    ------
    InputError
        Unreadable image or unknown method.

    Examples
    --------
    See `project_images`.
    """
    if method not in PROJECT_METHODS:
        raise InputError(f"unknown reprojection method {method!r}")
    data, header = io.read_image(in_path, hdu)
    wcs_in = WCS(header, naxis=2)
    if not wcs_in.has_celestial:
        raise InputError(f"{in_path}: no celestial WCS")
    tshape = (int(template["NAXIS2"]), int(template["NAXIS1"]))
    box = _box_in_template(wcs_in, data.shape, WCS(template, naxis=2), tshape)
    if full_region:
        box = ((0, tshape[0]), (0, tshape[1]))
    if box is None:
        return False
    out_h = _cut_header(template, box)
    shape = (out_h["NAXIS2"], out_h["NAXIS1"])
    flux, frac = _reproject(data, wcs_in, out_h, shape, method)
    good = np.isfinite(flux) & (frac > 0)
    pix = pixel_solid_angle(out_h)
    scale = flux_scale * (pix / pixel_solid_angle(header) if energy_mode else 1.0)
    flux = np.where(good, flux * scale, np.nan)
    if method == "exact":
        area = np.where(good, frac, 0.0) * pix
    else:  # mProjectQL's area image: 1 where a value was interpolated, else NaN
        area = np.where(good, 1.0, np.nan)
    inner = _shrink(np.ones(shape, bool) if full_region else good)
    if inner is None:
        return False
    (j0, j1), (i0, i1) = inner
    out_h = _cut_header(out_h, inner)
    io.write_image(flux[j0:j1, i0:i1], out_h, out_path)
    if areas:
        io.write_image(area[j0:j1, i0:i1], out_h, io.area_name(str(out_path)))
    return True


# Time one process spends per byte of raw image: reproject_exact handles
# ~1 MiB of input a second on one core, so a pool starts above 0.25 MiB
# (`POOL_SECONDS`).
_PROJECT_SECONDS_PER_BYTE = 1.0 / 2**20


def _project_task(task):
    in_path, out_path, template, hdu, options = task
    try:
        ok = project_image(in_path, out_path, template, hdu=hdu, **options)
        return ok, None
    except (InputError, OSError, ValueError) as exc:
        return None, f"{in_path}: {exc}"


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
    nooverlap : int
        How many of ``failed`` missed the template (Montage's ``nooverlap``).

    Examples
    --------
    >>> ProjectResult(1, [], ["hdu0_a.fits"]).files
    ['hdu0_a.fits']
    """

    count: int
    failed: list
    files: list
    nooverlap: int = 0


def projected_name(fname: str, hdu: int = 0, prefix: str | None = None) -> str:
    """
    Name the projected file of a raw image as mProjExec does.

    Parameters
    ----------
    fname : str
        The raw image's ``fname`` (a path; an ``[ext]`` suffix is dropped).
    hdu : int
        Its HDU.
    prefix : str, optional
        Replaces ``hdu<N>_``.

    Returns
    -------
    str
        ``hdu<N>_<base name>`` with a ``.fits`` ending.

    Examples
    --------
    >>> projected_name("raw/a.fits", 1)
    'hdu1_a.fits'
    """
    base = os.path.basename(io.split_fits_name(str(fname)))
    if not base.endswith(".fits"):
        base = os.path.splitext(base)[0] + ".fits"
    return (f"hdu{hdu}_" if prefix is None else prefix) + base


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
    method: str = "exact",
    restart: int = 0,
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
    method : {"exact", "nearest", "bicubic"}
        As in `project_image`.
    restart : int
        Skip the table's first ``restart`` rows (mProjExec's restart).

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
    >>> r.count == len(s.truth), r.failed, r.files[0]
    (True, [], 'hdu0_tile_000.fits')
    """
    if isinstance(images, (str, os.PathLike)):
        images = io.read_table(images)
    io.require_columns(images, ["fname"], "image table")
    if not isinstance(template, fits.Header):
        template = io.read_template(template)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    tasks, names = [], []
    for row in images[int(restart) :]:
        hdu = int(row["hdu"]) if "hdu" in images.colnames else 0
        name = projected_name(str(row["fname"]), hdu, prefix)
        path = io.montage_file_path(str(raw_dir), str(row["fname"]))
        tasks.append((path, str(out_dir / name), template, hdu, {"method": method}))
        names.append(name)
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
    missed = sum(1 for ok, _ in results if ok is False)
    return ProjectResult(len(files), failed, files, missed)
