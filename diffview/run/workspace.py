"""
The dashboard's data: find a Montage work folder, complete what is missing.

`find_work` locates the files of a work folder (projected images, image
table, overlap table, template, differences, optional fits and mosaic);
`load_workspace` reads them, computes missing differences and plane fits
and builds a block-averaged preview of the mosaic (`Preview`), reporting
progress through a callback. Nothing here imports matplotlib or ipywidgets.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from astropy.io import fits as afits
from astropy.wcs import WCS

from diffview import io
from diffview.core import fit_plane, template_offset
from diffview.core.background import ImageGeometry, image_geometry, solve_direct
from diffview.errors import PairError
from diffview.geometry.overlaps import find_overlaps
from diffview.models import Overlap, PlaneFit
from diffview.run._differences import compute_difference, write_difference
from diffview.run._folder import WorkFolder, find_work
from diffview.run._pairs import _failure_text, resolve_inside
from diffview.run._pairtable import FitMap, PairBoxes, PairList
from diffview.run._preview import (
    PREVIEW_SIZE,
    Preview,
    _images_preview,
    _mosaic_preview,
)
from diffview.run.fits import read_difference_file

# WorkFolder, find_work and Preview live in private modules (`_folder`,
# `_preview`) and are also importable from here.
__all__ = [
    "Workspace",
    "load_workspace",
    "open_workspace",
    "make_preview",
    "as_fits_list",
    "WorkFolder",
    "find_work",
    "Preview",
]

Progress = Callable[[str, int, int], None]

# --------------------------------------------------------------------------
# Loaded data
# --------------------------------------------------------------------------


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
    overlaps : PairList
        The overlap table as columns (a sequence of `Overlap`).
    boxes : PairBoxes
        Each overlap's box ``((j0, j1), (i0, i1))`` in template pixels, or
        None.
    fits : FitMap or dict
        ``(plus, minus) -> PlaneFit`` for the pairs that have one.
    failures : dict
        ``(plus, minus) -> message`` for pairs without a difference or fit
        (a name in the overlap table leading outside its folder, a missing
        or bad file, no overlap, no valid pixel, a failed fit).
    problems : list of str
        What went wrong outside the pairs (images left out of the preview).
    corrections : list of Correction
        Corrections solved (or read) from all the fits.
    strengths : tuple of float
        The log prior strengths of the direct solve that gave
        ``corrections`` (solved here, or kept in the corrections table's
        header); empty when unknown.
    preview : Preview or None

    Examples
    --------
    >>> import os, tempfile
    >>> from diffview.sample import write_sample
    >>> ws = load_workspace(write_sample(tempfile.mkdtemp(), "small"))
    >>> ws.template_shape == ws.preview.array.shape
    True
    >>> ov = ws.overlaps[0]
    >>> os.path.exists(ws.image_path(ov.plus)), os.path.exists(ws.diff_path(ov))
    (True, True)
    >>> (j0, j1), (i0, i1) = ws.boxes[0]
    >>> ioff, joff = ws.image_offset(ov.cntr1)
    >>> rows, cols = ws.image_shape(ov.cntr1)
    >>> ioff <= i0 < i1 <= ioff + cols, joff <= j0 < j1 <= joff + rows
    (True, True)
    >>> ws.image_offset(-1) is None, ws.image_shape(-1) is None
    (True, True)
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
    problems: list = field(default_factory=list)
    corrections: list = field(default_factory=list)
    strengths: tuple = ()
    preview: Preview | None = None

    @property
    def template_shape(self) -> tuple[int, int]:
        """``(NAXIS2, NAXIS1)`` of the template (tuple of int)."""
        return int(self.template["NAXIS2"]), int(self.template["NAXIS1"])

    @property
    def template_crpix(self) -> tuple[float, float]:
        """``(CRPIX1, CRPIX2)`` of the template (tuple of float)."""
        return float(self.template["CRPIX1"]), float(self.template["CRPIX2"])

    def image_path(self, name: str) -> str:
        """
        Full path of a projected image named in the tables.

        Parameters
        ----------
        name : str
            ``fname`` of the image table or ``plus``/``minus`` of an overlap.

        Returns
        -------
        str
            The name joined to ``proj_dir`` with Montage's rules.

        Raises
        ------
        diffview.PairError
            The name is absolute or leads outside ``proj_dir`` (``../``):
            the dashboard never reads or writes outside the work folder.
        """
        return resolve_inside(str(self.folder.proj_dir), name, "image")

    def diff_path(self, ov: Overlap) -> str:
        """
        Full path of the difference file of an overlap.

        Parameters
        ----------
        ov : Overlap
            The pair.

        Returns
        -------
        str
            ``ov.diff`` joined to ``diff_dir`` with Montage's rules.

        Raises
        ------
        diffview.PairError
            The name is absolute or leads outside ``diff_dir``.
        """
        return resolve_inside(str(self.folder.diff_dir), ov.diff, "difference")

    def image_offset(self, cntr: int) -> tuple[int, int] | None:
        """
        Where an image sits in the template grid.

        Parameters
        ----------
        cntr : int
            The image's ``cntr``.

        Returns
        -------
        tuple of int or None
            ``(ioff, joff)``: template column and row of its first pixel;
            None for an unknown ``cntr``.
        """
        k = np.flatnonzero(self.geometry.cntr == cntr)
        if len(k) == 0:
            return None
        g = self.geometry
        return template_offset(self.template_crpix, (g.crpix1[k[0]], g.crpix2[k[0]]))

    def image_shape(self, cntr: int) -> tuple[int, int] | None:
        """
        Size of an image.

        Parameters
        ----------
        cntr : int
            The image's ``cntr``.

        Returns
        -------
        tuple of int or None
            ``(rows, columns)``; None for an unknown ``cntr``.
        """
        k = np.flatnonzero(self.geometry.cntr == cntr)
        if len(k) == 0:
            return None
        return int(self.geometry.naxis2[k[0]]), int(self.geometry.naxis1[k[0]])


def _noop(stage: str, done: int, total: int) -> None:
    return None


def _read_overlaps(folder: WorkFolder, images) -> PairList:
    if folder.diffs_tbl is not None and Path(folder.diffs_tbl).exists():
        return PairList.read(folder.diffs_tbl)
    return PairList.from_overlaps(find_overlaps(images))


def _pair_paths(ws: Workspace, ov: Overlap) -> tuple[str, str, str]:
    """Plus, minus and difference paths of a pair (PairError outside)."""
    return ws.image_path(ov.plus), ws.image_path(ov.minus), ws.diff_path(ov)


def _missing_diffs(ws: Workspace) -> list:
    """``(overlap, paths)`` of the pairs to difference; refused names fail."""
    todo = []
    for ov in ws.overlaps:
        try:
            paths = _pair_paths(ws, ov)
        except PairError as exc:
            ws.failures[(ov.cntr1, ov.cntr2)] = str(exc)
            continue
        if not os.path.exists(paths[2]):
            todo.append((ov, paths))
    return todo


def _compute_missing_diffs(ws: Workspace, progress: Progress) -> None:
    missing = _missing_diffs(ws)
    if missing:
        Path(ws.folder.diff_dir).mkdir(parents=True, exist_ok=True)
    for k, (ov, (plus, minus, out)) in enumerate(missing):
        progress("differences", k, len(missing))
        try:
            diff = compute_difference(
                plus, minus, ws.template, ids=(ov.cntr1, ov.cntr2)
            )
            # a copy: difference_header shares the template's Card objects
            write_difference(diff, out, ws.template.copy())
        except Exception as exc:  # one bad pair (or full disk) is counted
            ws.failures[(ov.cntr1, ov.cntr2)] = _failure_text(exc)
    progress("differences", len(missing), len(missing))


def _read_fits(ws: Workspace, fits_in) -> None:
    ws.fits = FitMap()
    if fits_in is None and ws.folder.fits_tbl is not None:
        if Path(ws.folder.fits_tbl).exists():
            ws.fits = FitMap.read(ws.folder.fits_tbl)
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
        except Exception as exc:  # a bad difference file is counted
            ws.failures[(ov.cntr1, ov.cntr2)] = _failure_text(exc)
    progress("fits", len(todo), len(todo))


def _read_corrections(ws: Workspace, corrections) -> tuple[list, tuple]:
    """Return the corrections given, read or solved, and their prior strengths."""
    if corrections is not None:
        return list(corrections), ()
    path = ws.folder.corrections_tbl
    if path is not None and Path(path).exists():
        return io.read_corrections_table(path, strengths=True)
    solution = solve_direct(ws.geometry, list(ws.fits.values()), full_output=True)
    return solution.corrections, solution.strengths


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
    (`compute_difference`); a pair that cannot be differenced or fitted is
    recorded in ``failures`` and the others go on. Nothing is read or
    written outside the work folder's ``proj_dir`` and ``diff_dir``: a name
    in the overlap table that is absolute or holds ``../`` fails its pair.
    Pairs without a fit are fitted
    in memory (`diffview.core.fit_plane`); corrections are read from
    ``corrections.tbl`` or solved (`diffview.core.solve_direct`); the
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
    >>> from diffview.sample import write_sample
    >>> s = write_sample(tempfile.mkdtemp(), "small", quiet=True)
    >>> ws = load_workspace(s)
    >>> len(ws.fits) + len(ws.failures) == len(ws.overlaps)
    True
    """
    progress = progress or _noop
    ws = open_workspace(work, fits=fits)
    _compute_missing_diffs(ws, progress)
    _fit_missing(ws, progress)
    ws.corrections, ws.strengths = _read_corrections(ws, corrections)
    ws.preview = make_preview(ws, preview_size, progress)
    return ws


def make_preview(ws: Workspace, preview_size: int = PREVIEW_SIZE, progress=None):
    """
    Block-average the mosaic, or without one the projected images, to a preview.

    Parameters
    ----------
    ws : Workspace
        The work folder.
    preview_size : int
        Longest side of the preview.
    progress : callable, optional
        ``progress("preview", done, total)``.

    Returns
    -------
    Preview

    Examples
    --------
    >>> import tempfile
    >>> from diffview.sample import write_sample
    >>> ws = open_workspace(write_sample(tempfile.mkdtemp(), "small", quiet=True))
    >>> make_preview(ws).array.shape == ws.template_shape
    True
    """
    progress = progress or _noop
    mosaic = ws.folder.mosaic
    if mosaic is not None and Path(mosaic).exists():
        progress("preview", 0, 1)
        preview = _mosaic_preview(ws, preview_size)
        progress("preview", 1, 1)
        return preview
    return _images_preview(ws, preview_size, progress)


def open_workspace(work, *, fits=None, corrections=None) -> Workspace:
    """
    Read a work folder's tables, computing nothing: the dashboard's fast open.

    The overlap table is read as columns (`PairList`), the boxes computed at
    once (`PairBoxes`), ``fits.tbl`` kept as columns (`FitMap`) and
    ``corrections.tbl`` read if there is one; missing differences, fits,
    corrections and the preview are left for `CompletionJob` (or
    `load_workspace`, which calls this first).

    Parameters
    ----------
    work : str, path-like or object
        See `find_work`.
    fits : list of PlaneFit, optional
        Fits already in memory (instead of ``fits.tbl``).
    corrections : list of Correction, optional
        Corrections already in memory (else ``corrections.tbl`` when there
        is one, else none yet).

    Returns
    -------
    Workspace
        ``preview`` None; ``corrections`` as found.

    Examples
    --------
    >>> import tempfile
    >>> from diffview.sample import write_sample
    >>> s = write_sample(tempfile.mkdtemp(), "small", quiet=True)
    >>> ws = open_workspace(s)
    >>> len(ws.overlaps) == len(ws.boxes) == len(s.overlaps), ws.preview
    (True, None)
    """
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
    ws.boxes = PairBoxes.compute(
        ws.overlaps, ws.geometry, ws.template_shape, ws.template_crpix
    )
    _read_fits(ws, fits)
    if corrections is not None:
        ws.corrections = list(corrections)
    elif folder.corrections_tbl is not None and Path(folder.corrections_tbl).exists():
        read = io.read_corrections_table(folder.corrections_tbl, strengths=True)
        ws.corrections, ws.strengths = read
    return ws


def as_fits_list(ws: Workspace) -> list[PlaneFit]:
    """
    List the fits of a workspace in overlap-table order.

    Parameters
    ----------
    ws : Workspace
        A loaded workspace.

    Returns
    -------
    list of PlaneFit
        One per overlap that has a fit, in the order of ``ws.overlaps``.

    Examples
    --------
    >>> import tempfile
    >>> from diffview.sample import write_sample
    >>> ws = load_workspace(write_sample(tempfile.mkdtemp(), "small"))
    >>> len(as_fits_list(ws)) == len(ws.fits)
    True
    """
    bulk = getattr(ws.fits, "fits_for", None)
    keys = getattr(ws.overlaps, "keys", None)
    if bulk is not None and keys is not None:  # columns: one pass, not a lookup each
        return [f for f in bulk(keys) if f is not None]
    out = []
    for ov in ws.overlaps:
        f = ws.fits.get((ov.cntr1, ov.cntr2))
        if f is not None:
            out.append(f)
    return out
