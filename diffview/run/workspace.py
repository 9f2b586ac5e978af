"""
The dashboard's data: find a Montage work folder, complete what is missing.

`find_work` locates the files of a work folder (projected images, image
table, overlap table, template, differences, optional fits and mosaic);
`load_workspace` reads them, computes missing differences and plane fits with
the engine and builds a block-averaged preview of the mosaic, reporting
progress through a callback. Nothing here imports matplotlib or ipywidgets.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from astropy.io import fits as afits
from astropy.wcs import WCS

from diffview import io
from diffview.core.background import ImageGeometry, image_geometry, solve_direct
from diffview.core.blocks import block_average
from diffview.core.fit import fit_plane
from diffview.errors import DiffviewError, InputError, PairError
from diffview.geometry.overlaps import find_overlaps, overlap_box, template_offset
from diffview.io.paths import montage_file_path
from diffview.models import Correction, Overlap, PlaneFit
from diffview.run.differences import compute_difference, write_difference
from diffview.run.fits import read_difference_file

__all__ = ["WorkFolder", "Workspace", "Preview", "find_work", "load_workspace"]

Progress = Callable[[str, int, int], None]

_IMAGE_TABLES = ("images.tbl", "pimages.tbl", "proj.tbl", "projected.tbl")
_DIFF_TABLES = ("diffs.tbl",)
_FIT_TABLES = ("fits.tbl",)
_CORRECTION_TABLES = ("corrections.tbl",)
_TEMPLATES = ("template.hdr", "region.hdr", "mosaic.hdr")
_PROJ_DIRS = ("projected", "proj", "pimages", "projdir")
_DIFF_DIRS = ("diffs", "diff", "diffdir")
_MOSAICS = ("mosaic.fits",)
#: Longest side of the mosaic preview, in pixels.
PREVIEW_SIZE = 800


@dataclass
class WorkFolder:
    """
    Where the files of a Montage work folder are.

    Attributes
    ----------
    proj_dir : Path
        Folder of the projected images (and their ``_area`` files).
    images_tbl : Path
        Image table of the projected images.
    template : Path
        The mosaic template ``.hdr``.
    diff_dir : Path
        Folder of the differences (created when differences are computed).
    diffs_tbl, fits_tbl, corrections_tbl, mosaic : Path or None
        Optional files; missing ones are computed in memory.

    Examples
    --------
    >>> from pathlib import Path
    >>> f = WorkFolder(Path("p"), Path("images.tbl"), Path("t.hdr"), Path("d"))
    >>> f.fits_tbl is None
    True
    """

    proj_dir: Path
    images_tbl: Path
    template: Path
    diff_dir: Path
    diffs_tbl: Path | None = None
    fits_tbl: Path | None = None
    corrections_tbl: Path | None = None
    mosaic: Path | None = None


def _first(root: Path, names) -> Path | None:
    for name in names:
        if (root / name).exists():
            return root / name
    return None


def _find_template(root: Path) -> Path | None:
    found = _first(root, _TEMPLATES)
    if found is None:
        hdrs = sorted(root.glob("*.hdr"))
        found = hdrs[0] if hdrs else None
    return found


def _from_attributes(obj) -> WorkFolder:
    def get(name):
        value = getattr(obj, name, None)
        return None if value is None else Path(value)

    return WorkFolder(
        proj_dir=get("proj_dir"),
        images_tbl=get("images_tbl"),
        template=get("template"),
        diff_dir=get("diff_dir"),
        diffs_tbl=get("diffs_tbl"),
        fits_tbl=get("fits_tbl"),
        corrections_tbl=get("corrections_tbl"),
        mosaic=get("mosaic"),
    )


def find_work(work) -> WorkFolder:
    """
    Locate the files of a Montage work folder.

    Parameters
    ----------
    work : str, path-like, WorkFolder or object
        A folder holding ``images.tbl`` (or ``pimages.tbl``), a ``.hdr``
        template, the projected images (in ``projected/`` or next to the
        table), optional ``diffs.tbl``, ``fits.tbl``, ``corrections.tbl``,
        ``mosaic.fits`` and ``diffs/``; or any object with attributes
        ``proj_dir images_tbl template diff_dir`` (and optionally
        ``diffs_tbl fits_tbl corrections_tbl mosaic``), such as the result of
        `diffview.datasets.write_sample`.

    Returns
    -------
    WorkFolder

    Raises
    ------
    diffview.InputError
        The folder or one of its required files is missing.

    Examples
    --------
    >>> find_work("/nonexistent")
    Traceback (most recent call last):
    ...
    diffview.errors.InputError: /nonexistent: work folder not found
    """
    if isinstance(work, WorkFolder):
        return work
    if not isinstance(work, (str, os.PathLike)):
        return _check(_from_attributes(work), "work object")
    root = Path(work)
    if not root.is_dir():
        raise InputError(f"{root}: work folder not found")
    images = _first(root, _IMAGE_TABLES)
    proj = _first(root, _PROJ_DIRS) or root
    folder = WorkFolder(
        proj_dir=proj,
        images_tbl=images,
        template=_find_template(root),
        diff_dir=_first(root, _DIFF_DIRS) or root / "diffs",
        diffs_tbl=_first(root, _DIFF_TABLES),
        fits_tbl=_first(root, _FIT_TABLES),
        corrections_tbl=_first(root, _CORRECTION_TABLES),
        mosaic=_first(root, _MOSAICS),
    )
    return _check(folder, str(root))


def _check(folder: WorkFolder, where: str) -> WorkFolder:
    what = {
        "proj_dir": "projected image folder",
        "images_tbl": "image table",
        "template": "template (.hdr)",
        "diff_dir": "difference folder",
    }
    for name, label in what.items():
        if getattr(folder, name) is None:
            raise InputError(f"{where}: no {label} found")
    if not folder.images_tbl.exists():
        raise InputError(f"{folder.images_tbl}: image table not found")
    if not folder.template.exists():
        raise InputError(f"{folder.template}: template not found")
    return folder


# --------------------------------------------------------------------------
# Loaded data
# --------------------------------------------------------------------------


@dataclass
class Preview:
    """
    A block-averaged picture of the mosaic in template pixels.

    Attributes
    ----------
    array : numpy.ndarray
        The preview (rows, columns), NaN where blank.
    factor : int
        Template pixels per preview pixel along each axis.
    extent : tuple of float
        ``(left, right, bottom, top)`` in 0-based template pixel coordinates
        (pixel centres at integers), for ``imshow(origin="lower")``.
    source : str or None
        The mosaic file, when the preview was made from one (`region` reads
        zoomed-in parts of it).
    offset : tuple of int
        ``(ioff, joff)`` of the mosaic's first pixel in the template.

    Examples
    --------
    >>> Preview(np.zeros((2, 3)), 4, (-0.5, 11.5, -0.5, 7.5)).factor
    4
    """

    array: np.ndarray
    factor: int
    extent: tuple
    source: str | None = None
    offset: tuple = (0, 0)

    def region(self, limits, max_pixels: int = PREVIEW_SIZE):
        """
        The part of the mosaic inside ``limits``, finer than the preview.

        Parameters
        ----------
        limits : tuple of float
            ``(left, right, bottom, top)`` in template pixel coordinates.
        max_pixels : int
            Longest side of the returned array.

        Returns
        -------
        tuple or None
            ``(array, extent)`` read from the mosaic file and block-averaged
            to at most ``max_pixels``; None when the preview is as fine (or
            there is no mosaic file).
        """
        if self.source is None:
            return None
        hdr = afits.getheader(self.source)
        ny, nx = int(hdr["NAXIS2"]), int(hdr["NAXIS1"])
        ioff, joff = self.offset
        x0, x1 = sorted(limits[:2])
        y0, y1 = sorted(limits[2:])
        c0 = int(np.clip(np.floor(x0 + 0.5) - ioff, 0, nx - 1))
        c1 = int(np.clip(np.ceil(x1 + 0.5) - ioff, c0 + 1, nx))
        r0 = int(np.clip(np.floor(y0 + 0.5) - joff, 0, ny - 1))
        r1 = int(np.clip(np.ceil(y1 + 0.5) - joff, r0 + 1, ny))
        factor = preview_factor((r1 - r0, c1 - c0), max_pixels)
        if factor >= self.factor:
            return None
        data = io.read_image_box(self.source, ((r0, r1), (c0, c1)))[0]
        small = block_average(data, factor)
        h, w = small.shape
        left, bottom = ioff + c0 - 0.5, joff + r0 - 0.5
        return small, (left, left + w * factor, bottom, bottom + h * factor)


@dataclass
class Workspace:
    """
    Everything the dashboard shows, read or computed once.

    Attributes
    ----------
    folder : WorkFolder
    template : astropy.io.fits.Header
    wcs : astropy.wcs.WCS
        Celestial WCS of the template.
    images : astropy.table.Table
        The image table.
    geometry : ImageGeometry
        Ids, sizes and reference pixels of the images.
    overlaps : list of Overlap
    boxes : list of tuple or None
        Each overlap's box ``((j0, j1), (i0, i1))`` in template pixels.
    fits : dict
        ``(plus, minus) -> PlaneFit`` for the pairs that have one.
    failures : dict
        ``(plus, minus) -> message`` for pairs without a difference or fit.
    corrections : list of Correction
        Corrections solved (or read) from all the fits.
    preview : Preview or None

    Examples
    --------
    >>> import tempfile
    >>> from diffview.datasets import write_sample
    >>> ws = load_workspace(write_sample(tempfile.mkdtemp(), "small"))
    >>> ws.template_shape == ws.preview.array.shape
    True
    """

    folder: WorkFolder
    template: afits.Header
    wcs: WCS
    images: object
    geometry: ImageGeometry
    overlaps: list
    boxes: list
    fits: dict = field(default_factory=dict)
    failures: dict = field(default_factory=dict)
    corrections: list = field(default_factory=list)
    preview: Preview | None = None

    @property
    def template_shape(self) -> tuple[int, int]:
        """``(NAXIS2, NAXIS1)`` of the template."""
        return int(self.template["NAXIS2"]), int(self.template["NAXIS1"])

    @property
    def template_crpix(self) -> tuple[float, float]:
        """``(CRPIX1, CRPIX2)`` of the template."""
        return float(self.template["CRPIX1"]), float(self.template["CRPIX2"])

    def image_path(self, name: str) -> str:
        """Full path of a projected image named in the tables."""
        return montage_file_path(str(self.folder.proj_dir), name)

    def diff_path(self, ov: Overlap) -> str:
        """Full path of the difference file of an overlap."""
        return montage_file_path(str(self.folder.diff_dir), ov.diff)

    def image_offset(self, cntr: int) -> tuple[int, int] | None:
        """``(ioff, joff)`` of an image in the template grid, or None."""
        k = np.flatnonzero(self.geometry.cntr == cntr)
        if len(k) == 0:
            return None
        g = self.geometry
        return template_offset(self.template_crpix, (g.crpix1[k[0]], g.crpix2[k[0]]))

    def image_shape(self, cntr: int) -> tuple[int, int] | None:
        """``(rows, columns)`` of an image, or None."""
        k = np.flatnonzero(self.geometry.cntr == cntr)
        if len(k) == 0:
            return None
        return int(self.geometry.naxis2[k[0]]), int(self.geometry.naxis1[k[0]])


def _noop(stage: str, done: int, total: int) -> None:
    return None


def _overlap_boxes(ws: Workspace) -> list:
    boxes = []
    for ov in ws.overlaps:
        geo = [(ws.image_offset(c), ws.image_shape(c)) for c in (ov.cntr1, ov.cntr2)]
        if any(o is None or s is None for o, s in geo):
            boxes.append(None)
            continue
        (o1, s1), (o2, s2) = geo
        boxes.append(overlap_box(ws.template_shape, o1, s1, o2, s2))
    return boxes


def _read_overlaps(folder: WorkFolder, images) -> list[Overlap]:
    if folder.diffs_tbl is not None and Path(folder.diffs_tbl).exists():
        return io.read_diffs_table(folder.diffs_tbl)
    return find_overlaps(images)


def _compute_missing_diffs(ws: Workspace, progress: Progress) -> None:
    missing = [ov for ov in ws.overlaps if not os.path.exists(ws.diff_path(ov))]
    if missing:
        Path(ws.folder.diff_dir).mkdir(parents=True, exist_ok=True)
    for k, ov in enumerate(missing):
        progress("differences", k, len(missing))
        try:
            diff = compute_difference(
                ws.image_path(ov.plus),
                ws.image_path(ov.minus),
                ws.template,
                ids=(ov.cntr1, ov.cntr2),
            )
            # a copy: difference_header shares the template's Card objects
            write_difference(diff, ws.diff_path(ov), ws.template.copy())
        except PairError as exc:
            ws.failures[(ov.cntr1, ov.cntr2)] = str(exc)
    progress("differences", len(missing), len(missing))


def _read_fits(ws: Workspace, fits_in) -> None:
    if fits_in is None and ws.folder.fits_tbl is not None:
        if Path(ws.folder.fits_tbl).exists():
            fits_in = io.read_fits_table(ws.folder.fits_tbl)
    for f in fits_in or ():
        ws.fits[(f.plus, f.minus)] = f


def _fit_missing(ws: Workspace, progress: Progress) -> None:
    todo = [
        ov
        for ov in ws.overlaps
        if (ov.cntr1, ov.cntr2) not in ws.fits
        and (ov.cntr1, ov.cntr2) not in ws.failures
    ]
    for k, ov in enumerate(todo):
        progress("fits", k, len(todo))
        try:
            array, crpix = read_difference_file(ws.diff_path(ov))
            ws.fits[(ov.cntr1, ov.cntr2)] = fit_plane(
                (array, crpix), ids=(ov.cntr1, ov.cntr2)
            )
        except DiffviewError as exc:
            ws.failures[(ov.cntr1, ov.cntr2)] = str(exc)
    progress("fits", len(todo), len(todo))


def _read_corrections(ws: Workspace, corrections) -> list[Correction]:
    if corrections is not None:
        return list(corrections)
    path = ws.folder.corrections_tbl
    if path is not None and Path(path).exists():
        return io.read_corrections_table(path)
    fits = list(ws.fits.values())
    return solve_direct(ws.geometry, fits) if fits else []


def preview_factor(shape, size: int = PREVIEW_SIZE) -> int:
    """
    Block-averaging factor that brings ``shape`` down to ``size`` pixels.

    Examples
    --------
    >>> preview_factor((5000, 4000), 800)
    7
    >>> preview_factor((300, 200), 800)
    1
    """
    return max(1, math.ceil(max(shape) / size))


def _mosaic_preview(ws: Workspace, size: int) -> Preview:
    hdr = afits.getheader(ws.folder.mosaic)
    shape = (int(hdr["NAXIS2"]), int(hdr["NAXIS1"]))
    factor = preview_factor(shape, size)
    small = _strip_average(ws.folder.mosaic, shape, factor)
    ioff, joff = template_offset(
        ws.template_crpix, (float(hdr["CRPIX1"]), float(hdr["CRPIX2"]))
    )
    prev = _preview(small, factor, ioff, joff)
    prev.source, prev.offset = str(ws.folder.mosaic), (ioff, joff)
    return prev


def _strip_average(path, shape, factor: int) -> np.ndarray:
    """Block-average an image read in strips of rows (bounded memory)."""
    rows = factor * max(1, 2_000_000 // max(shape[1] * factor, 1))
    parts = []
    for j0 in range(0, shape[0], rows):
        box = ((j0, min(j0 + rows, shape[0])), (0, shape[1]))
        parts.append(block_average(io.read_image_box(path, box)[0], factor))
    return np.vstack(parts)


def _preview(small: np.ndarray, factor: int, ioff: int, joff: int) -> Preview:
    ny, nx = small.shape
    left = ioff - 0.5
    bottom = joff - 0.5
    extent = (left, left + nx * factor, bottom, bottom + ny * factor)
    return Preview(small, factor, extent)


def _images_preview(ws: Workspace, size: int, progress: Progress) -> Preview:
    """Average of the projected images, block by block (no mosaic file)."""
    factor = preview_factor(ws.template_shape, size)
    ny = -(-ws.template_shape[0] // factor)
    nx = -(-ws.template_shape[1] // factor)
    total = np.zeros((ny, nx))
    count = np.zeros((ny, nx))
    names = list(ws.images["fname"])
    for k, (cntr, name) in enumerate(zip(ws.geometry.cntr, names, strict=True)):
        progress("preview", k, len(names))
        off = ws.image_offset(int(cntr))
        try:
            data, _ = io.read_image(ws.image_path(str(name)))
        except DiffviewError:
            continue
        _accumulate(total, count, data, off, factor)
    progress("preview", len(names), len(names))
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(count > 0, total / np.maximum(count, 1), np.nan)
    return _preview(mean, factor, 0, 0)


def _accumulate(total, count, data, off, factor) -> None:
    ioff, joff = off
    # first template pixel inside the image on a block boundary
    i0 = -(-max(ioff, 0) // factor) * factor
    j0 = -(-max(joff, 0) // factor) * factor
    sub = np.asarray(data[j0 - joff :, i0 - ioff :], dtype=float)
    if sub.size == 0:
        return
    small = block_average(sub, factor)
    bj, bi = j0 // factor, i0 // factor
    h = min(small.shape[0], total.shape[0] - bj)
    w = min(small.shape[1], total.shape[1] - bi)
    if h <= 0 or w <= 0:
        return
    block = small[:h, :w]
    ok = np.isfinite(block)
    total[bj : bj + h, bi : bi + w][ok] += block[ok]
    count[bj : bj + h, bi : bi + w][ok] += 1


def load_workspace(
    work,
    *,
    fits=None,
    corrections=None,
    progress: Progress | None = None,
    preview_size: int = PREVIEW_SIZE,
) -> Workspace:
    """
    Read a work folder and compute what the dashboard needs but is missing.

    Missing difference files are computed and written to ``diff_dir``
    (`diffview.pipeline.compute_difference`); pairs without a fit are fitted
    in memory (`diffview.fit.fit_plane`); corrections are read from
    ``corrections.tbl`` or solved (`diffview.bgmodel.solve_direct`); the
    mosaic (or, without one, the average of the projected images) is
    block-averaged to ``preview_size`` pixels.

    Parameters
    ----------
    work : str, path-like or object
        See `find_work`.
    fits : list of PlaneFit, optional
        Fits already in memory (instead of ``fits.tbl``).
    corrections : list of Correction, optional
        Corrections already in memory.
    progress : callable, optional
        ``progress(stage, done, total)`` with stage ``'differences'``,
        ``'fits'`` or ``'preview'``.
    preview_size : int
        Longest side of the preview.

    Returns
    -------
    Workspace

    Examples
    --------
    >>> import tempfile
    >>> from diffview.datasets import write_sample
    >>> s = write_sample(tempfile.mkdtemp(), "small", quiet=True)
    >>> ws = load_workspace(s)
    >>> len(ws.fits) + len(ws.failures) == len(ws.overlaps)
    True
    """
    progress = progress or _noop
    folder = find_work(work)
    template = io.read_template(folder.template)
    images = io.read_table(folder.images_tbl)
    ws = Workspace(
        folder=folder,
        template=template,
        wcs=WCS(template).celestial,
        images=images,
        geometry=image_geometry(images, name=str(folder.images_tbl)),
        overlaps=_read_overlaps(folder, images),
        boxes=[],
    )
    ws.boxes = _overlap_boxes(ws)
    _read_fits(ws, fits)
    _compute_missing_diffs(ws, progress)
    _fit_missing(ws, progress)
    ws.corrections = _read_corrections(ws, corrections)
    if folder.mosaic is not None and Path(folder.mosaic).exists():
        progress("preview", 0, 1)
        ws.preview = _mosaic_preview(ws, preview_size)
        progress("preview", 1, 1)
    else:
        ws.preview = _images_preview(ws, preview_size, progress)
    return ws


def as_fits_list(ws: Workspace) -> list[PlaneFit]:
    """
    The fits of a workspace in overlap-table order.

    Examples
    --------
    >>> import tempfile
    >>> from diffview.datasets import write_sample
    >>> ws = load_workspace(write_sample(tempfile.mkdtemp(), "small"))
    >>> len(as_fits_list(ws)) == len(ws.fits)
    True
    """
    out = []
    for ov in ws.overlaps:
        f = ws.fits.get((ov.cntr1, ov.cntr2))
        if f is not None:
            out.append(f)
    return out
