"""
Coadding projected images into a mosaic, as Montage's mAdd does.

Projected images share the template's pixel grid (their CRPIX differ from
the template's by whole pixels), so a coadd needs no resampling: every image
is placed at its integer offset and each mosaic pixel combines the images
that cover it (``docs/montage-semantics.md`` §11.4): the area-weighted mean,
the median of the images covering at least half a nominal pixel, or the
count of positive values. `add_images` writes the mosaic and its area file;
`coadd` returns the mean as an array (the sample generator's call).
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass

import numpy as np
from astropy.io import fits

from diffview import io
from diffview.errors import InputError

__all__ = ["AddResult", "add_images", "coadd", "mosaic_names", "COADD_MODES"]

#: mAdd's stacking modes by number (its ``-a mean|median|count`` names).
COADD_MODES = ("mean", "median", "count")

# Montage's MINCOVERAGE: a median uses pixels covering half a nominal pixel.
_MIN_COVERAGE = 0.5
# Rows combined at a time by the median (bounds the stack's memory).
_MEDIAN_ROWS = 64


@dataclass
class AddResult:
    """
    Outcome of `add_images`.

    Attributes
    ----------
    mosaic : numpy.ndarray
        The mosaic (NaN where nothing covers it).
    area : numpy.ndarray
        Its area image: summed areas (mean, median), the number of images
        without areas, 1 where covered in count mode.
    header : astropy.io.fits.Header
        The mosaic's header (the template's, with NAXIS/CRPIX of a shrunk
        mosaic).

    Examples
    --------
    >>> r = AddResult(np.zeros((1, 1)), np.ones((1, 1)), fits.Header())
    >>> r.mosaic.shape
    (1, 1)
    """

    mosaic: np.ndarray
    area: np.ndarray
    header: fits.Header


@dataclass
class _Input:
    path: str
    data: np.ndarray
    area: np.ndarray
    crpix: tuple


def _grid_check(h: fits.Header, template: fits.Header, name: str) -> None:
    for k in ("CTYPE1", "CTYPE2"):
        if str(h.get(k, "")).strip() != str(template[k]).strip():
            raise InputError(f"Image {name} header {k} does not match template")
    for k in ("CRVAL1", "CRVAL2"):
        if abs(float(h.get(k, math.nan)) - float(template[k])) > 1e-8 or not (
            math.isfinite(float(h.get(k, math.nan)))
        ):
            raise InputError(f"Image {name} header {k} does not match template")
    for k in ("CDELT1", "CDELT2"):
        a, b = h.get(k), template.get(k)
        if a is not None and b is not None and abs(float(a) - float(b)) > 1e-8:
            raise InputError(f"Image {name} header CD/{k} does not match template")


def _plane(data, h, plane):
    a, b, c = plane
    y, x = np.mgrid[0 : data.shape[0], 0 : data.shape[1]]
    return data - (a * (x - h["CRPIX1"]) + b * (y - h["CRPIX2"]) + c)


def _read_inputs(images, proj_dir, template, have_areas, corrections):
    io.require_columns(images, ["fname"], "image table")
    out = []
    for row in images:
        path = io.montage_file_path(str(proj_dir), str(row["fname"]))
        try:
            data, h = io.read_image(path)
        except (InputError, OSError):
            raise InputError(f"Image file {path} missing or invalid FITS") from None
        _grid_check(h, template, path)
        if have_areas:
            try:
                area, _ = io.read_image(io.area_name(path))
            except (InputError, OSError):
                raise InputError(
                    f"Area file {io.area_name(path)} missing or invalid FITS"
                ) from None
        else:
            area = np.ones_like(data)
        cntr = int(row["cntr"]) if "cntr" in images.colnames else None
        if corrections and cntr in corrections:
            data = _plane(data, h, corrections[cntr])
        out.append(_Input(path, data, area, (float(h["CRPIX1"]), float(h["CRPIX2"]))))
    if not out:
        raise InputError("the image table has no rows")
    return out


def _output_grid(inputs, template, shrink):
    nx, ny = int(template["NAXIS1"]), int(template["NAXIS2"])
    cx, cy = float(template["CRPIX1"]), float(template["CRPIX2"])
    if shrink:
        imax = max(p.crpix[0] for p in inputs)
        imin = min(p.crpix[0] - p.data.shape[1] + 1 for p in inputs)
        jmax = max(p.crpix[1] for p in inputs)
        jmin = min(p.crpix[1] - p.data.shape[0] + 1 for p in inputs)
        if imax - imin + 1 < nx:
            nx, cx = int(imax - imin + 1), imax
        if jmax - jmin + 1 < ny:
            ny, cy = int(jmax - jmin + 1), jmax
    return (ny, nx), (cx, cy)


def _offset(out_crpix, in_crpix):
    """Return the column offset of mAdd (rounded half up)."""
    if out_crpix > in_crpix:
        return math.floor(out_crpix - in_crpix + 0.5)
    return -math.floor(in_crpix - out_crpix + 0.5)


def _placements(inputs, shape, crpix):
    """Yield (input, output slices, input slices) of every overlapping input."""
    for p in inputs:
        i0 = _offset(crpix[0], p.crpix[0])
        j0 = int(crpix[1] - p.crpix[1] + 1) - 1  # C's double-to-int start line
        ny, nx = p.data.shape
        oi0, oi1 = max(i0, 0), min(i0 + nx, shape[1])
        oj0, oj1 = max(j0, 0), min(j0 + ny, shape[0])
        if oi1 <= oi0 or oj1 <= oj0:
            continue
        yield (
            p,
            (slice(oj0, oj1), slice(oi0, oi1)),
            (slice(oj0 - j0, oj1 - j0), slice(oi0 - i0, oi1 - i0)),
        )


def _valid(data, area):
    return np.isfinite(data) & (area > 0)


def _mean(inputs, shape, crpix, count_mode):
    num = np.zeros(shape)
    den = np.zeros(shape)
    n = np.zeros(shape, dtype=int)
    for p, out_s, in_s in _placements(inputs, shape, crpix):
        d, a = p.data[in_s], p.area[in_s]
        ok = _valid(d, a)
        n[out_s] += ok
        if count_mode:
            num[out_s] += ok & (d > 0)
        else:
            num[out_s] += np.where(ok, d * a, 0.0)
            den[out_s] += np.where(ok, a, 0.0)
    covered = n > 0
    if count_mode:
        return np.where(covered, num, np.nan), covered.astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        mosaic = np.where(covered, num / den, np.nan)
    return mosaic, np.where(covered, den, 0.0)


def _median_block(inputs, shape, crpix, rows, nominal):
    j0, j1 = rows
    stack, areas = [], []
    for p, out_s, in_s in _placements(inputs, shape, crpix):
        lo, hi = max(out_s[0].start, j0), min(out_s[0].stop, j1)
        if hi <= lo:
            continue
        d = np.full((j1 - j0, shape[1]), np.nan)
        a = np.zeros((j1 - j0, shape[1]))
        src = slice(
            in_s[0].start + lo - out_s[0].start, in_s[0].start + hi - out_s[0].start
        )
        dd, aa = p.data[src, in_s[1]], p.area[src, in_s[1]]
        keep = _valid(dd, aa) & (aa > _MIN_COVERAGE * nominal)
        d[lo - j0 : hi - j0, out_s[1]] = np.where(keep, dd, np.nan)
        a[lo - j0 : hi - j0, out_s[1]] = np.where(keep, aa, 0.0)
        stack.append(d)
        areas.append(a)
    if not stack:
        return np.full((j1 - j0, shape[1]), np.nan), np.zeros((j1 - j0, shape[1]))
    stack, areas = np.array(stack), np.array(areas)
    return _stack_median(stack), areas.sum(axis=0)


def _stack_median(stack):
    """Montage's median along axis 0, NaN ignored: two values give the lower."""
    n = np.isfinite(stack).sum(axis=0)
    ordered = np.sort(stack, axis=0)  # NaN sort last
    lo = np.take_along_axis(ordered, np.maximum(n - 1, 0)[None] // 2, 0)[0]
    hi = np.take_along_axis(ordered, n[None] // 2, 0)[0]
    med = np.where(n == 2, lo, (lo + hi) / 2)
    return np.where(n > 0, med, np.nan)


def _median(inputs, shape, crpix, nominal):
    mosaic, area = np.empty(shape), np.empty(shape)
    for j0 in range(0, shape[0], _MEDIAN_ROWS):
        j1 = min(j0 + _MEDIAN_ROWS, shape[0])
        mosaic[j0:j1], area[j0:j1] = _median_block(
            inputs, shape, crpix, (j0, j1), nominal
        )
    return mosaic, area


def _nominal_area(template: fits.Header) -> float:
    d1, d2 = float(template.get("CDELT1", 0)), float(template.get("CDELT2", 0))
    return abs(d1 * d2) * (math.pi / 180) ** 2


def _output_header(template, shape, crpix):
    h = template.copy()
    h["BITPIX"] = -64
    h["NAXIS1"], h["NAXIS2"] = shape[1], shape[0]
    h["CRPIX1"], h["CRPIX2"] = crpix
    return h


def mosaic_names(outfile) -> tuple[str, str]:
    """
    Name the outputs of mAdd: ``X.fits`` and ``X_area.fits`` for any FITS suffix.

    Parameters
    ----------
    outfile : str or path-like
        The mosaic name given to mAdd.

    Returns
    -------
    (str, str)
        The mosaic and its area file.

    Examples
    --------
    >>> mosaic_names("out/m.FIT")
    ('out/m.fits', 'out/m_area.fits')
    """
    base = str(outfile)
    for suffix in (".fits", ".FITS", ".fit", ".FIT"):
        if len(base) > len(suffix) and base.endswith(suffix):
            base = base[: -len(suffix)]
            break
    return base + ".fits", base + "_area.fits"


def add_images(
    images,
    proj_dir,
    template,
    out=None,
    *,
    mode: str = "mean",
    have_areas: bool = True,
    shrink: bool = False,
    corrections=None,
) -> AddResult:
    """
    Coadd projected images on the template's grid (mAdd).

    Parameters
    ----------
    images : astropy.table.Table or path
        Image table of the projected images (``fname``; ``cntr`` for
        ``corrections``), in the order Montage would read them.
    proj_dir : path
        Folder the ``fname`` values are relative to.
    template : astropy.io.fits.Header or path
        The mosaic template.
    out : path, optional
        Write the mosaic there and its area to ``<base>_area.fits``
        (``.fits``, ``.fit`` and their upper-case forms are replaced).
    mode : {"mean", "median", "count"}
        mAdd's stacking: area-weighted mean, median of the values covering
        half a nominal pixel (two values: the lower one), or the number of
        positive values.
    have_areas : bool
        Weight by the ``_area.fits`` files; without them every valid pixel
        has weight 1.
    shrink : bool
        Cut the mosaic to the images' span (mAdd's shrink, as Montage
        computes it from the images' CRPIX).
    corrections : dict, optional
        ``{cntr: (a, b, c)}`` planes subtracted first (Montage's frame).

    Returns
    -------
    AddResult

    Raises
    ------
    InputError
        Unknown mode, an unreadable image or area file, an image off the
        template's grid (CTYPE, CRVAL or CDELT differ).

    Notes
    -----
    Pixels are placed at whole-pixel offsets as mAdd does; nothing is
    resampled (``docs/montage-semantics.md`` §11.4).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from diffview.sample import write_sample
    >>> s = write_sample(pathlib.Path(tempfile.mkdtemp()), "small")
    >>> r = add_images(s.images_tbl, s.proj_dir, s.template, s.root / "m.fits")
    >>> h = io.read_template(s.template)
    >>> r.mosaic.shape == (h["NAXIS2"], h["NAXIS1"])
    True
    >>> sorted(p.name for p in s.root.glob("m*.fits"))
    ['m.fits', 'm_area.fits', 'mosaic.fits']
    """
    if mode not in COADD_MODES:
        raise InputError(f"unknown coadd mode {mode!r} (use mean, median or count)")
    if isinstance(images, (str, os.PathLike)):
        images = io.read_table(images)
    if not isinstance(template, fits.Header):
        template = io.read_template(template)
    inputs = _read_inputs(images, proj_dir, template, have_areas, corrections)
    shape, crpix = _output_grid(inputs, template, shrink)
    if mode == "median":
        mosaic, area = _median(inputs, shape, crpix, _nominal_area(template))
    else:
        mosaic, area = _mean(inputs, shape, crpix, mode == "count")
    header = _output_header(template, shape, crpix)
    if out is not None:
        data_path, area_path = mosaic_names(out)
        io.write_image(mosaic, header, data_path)
        io.write_image(area, header, area_path)
    return AddResult(mosaic, area, header)


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
        Write the mosaic there (FITS, template header); unlike `add_images`
        no area file is written.
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
    r = add_images(images, proj_dir, template, corrections=corrections)
    if out is not None:
        io.write_image(r.mosaic, r.header, out)
    return r.mosaic
