"""
What the runs over pairs share: paths, reading a pair's boxes, chunked runs.

`compute_differences` and `differences_and_fits` both difference pairs of
projected image files named in an overlap table; the checks of their output
folder and of the names in the table, the reading of each pair's overlap box
and the chunked execution live here.
"""

from __future__ import annotations

import os
import sys
import warnings
from pathlib import Path

import numpy as np

from diffview import io
from diffview.core import check_items, difference_in_box, overlap_box, template_offset
from diffview.errors import DiffviewError, InputError, PairError
from diffview.io.paths import area_name, is_inside, montage_file_path, split_fits_name
from diffview.models import Difference, Overlap
from diffview.run._batches import executor_workers, split_by_cost
from diffview.run._parallel import pool_workers, run_tasks

__all__ = ["check_output_dir", "resolve_inside"]


def check_output_dir(path) -> Path:
    """
    Check an output folder as mDiffExec does.

    Parameters
    ----------
    path : str or path-like
        The folder.

    Returns
    -------
    pathlib.Path
        ``path``, when it is an existing folder.

    Raises
    ------
    diffview.InputError
        ``Cannot access X`` or ``X is not a directory``.

    Examples
    --------
    >>> check_output_dir("/nonexistent/diffs")
    Traceback (most recent call last):
    ...
    diffview.errors.InputError: Cannot access /nonexistent/diffs
    """
    if not isinstance(path, (str, os.PathLike)):
        raise InputError(f"output folder: expected a folder name, got {path!r}")
    p = Path(path)
    if not p.exists():
        raise InputError(f"Cannot access {path}")
    if not p.is_dir():
        raise InputError(f"{path} is not a directory")
    return p


def resolve_inside(folder, name: str, what: str) -> str:
    """
    Montage's path join, refusing names that point outside ``folder``.

    The test is on the names (``..``, absolute paths), not on where symbolic
    links inside the folder lead: a folder of links is a user's choice.

    Parameters
    ----------
    folder : str
        The folder the table's names are relative to.
    name : str
        A file name from a table.
    what : str
        What the file is, for the message (``"image"``, ``"difference"``).

    Returns
    -------
    str
        The joined path.

    Raises
    ------
    diffview.PairError
        The name is empty or leads outside ``folder``.

    Examples
    --------
    >>> resolve_inside("proj", "a.fits", "image")
    'proj/a.fits'
    >>> resolve_inside("proj", "../etc/x.fits", "image")
    Traceback (most recent call last):
    ...
    diffview.errors.PairError: image ../etc/x.fits is outside proj
    """
    path = montage_file_path(folder, name)
    if not name or not is_inside(os.path.abspath(path), os.path.abspath(folder or ".")):
        raise PairError(f"{what} {name or '(empty name)'} is outside {folder}")
    return path


def _failure_text(exc: BaseException) -> str:
    """
    Describe a failed pair as the loops record it.

    A `DiffviewError` says what is wrong in its own words; anything else
    (a bug, an odd file) is named by its type, so that it can be reported.

    Examples
    --------
    >>> _failure_text(PairError("Images don't overlap"))
    "Images don't overlap"
    >>> _failure_text(ValueError("operands could not be broadcast"))
    'ValueError: operands could not be broadcast'
    """
    if isinstance(exc, DiffviewError):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"


def _overlaps(table) -> list[Overlap]:
    """Read an overlap table's rows (a list of `Overlap` is taken as it is)."""
    if isinstance(table, (list, tuple)):
        return check_items(table, Overlap, "overlap table")
    if table is None or not isinstance(table, (str, os.PathLike)):
        raise InputError(
            "overlap table: expected a diffs.tbl file name or a list of Overlap, "
            f"got {type(table).__name__}"
        )
    return io.read_diffs_table(table)


def _flux_name(name: str) -> str:
    return split_fits_name(name) + ".fits"


def _template_geometry(template):
    """``(shape, crpix)`` of a template header."""
    return (
        (int(template["NAXIS2"]), int(template["NAXIS1"])),
        (float(template["CRPIX1"]), float(template["CRPIX2"])),
    )


def _is_header(obj) -> bool:
    """Tell whether ``obj`` is an astropy header (without importing astropy)."""
    fits = sys.modules.get("astropy.io.fits")
    return fits is not None and isinstance(obj, fits.Header)


def _template_grid(template) -> io.TemplateGrid:
    """
    Get the pixel grid and cards of a template: a ``.hdr`` file, header or grid.

    A file is read with `diffview.io.read_template_grid` (no astropy for a
    template of plain cards); anything but a header or a grid is taken for
    a file name, so that a bad one fails as `diffview.io.read_template` does.
    """
    if isinstance(template, io.TemplateGrid):
        return template
    if _is_header(template):
        images = [card.image for card in template.cards]
        return io.TemplateGrid(*_template_geometry(template), images)
    return io.read_template_grid(template)


def _geometry(reader: io.BoxReader, path: str, label: str):
    try:
        return reader.grid(path)
    except DiffviewError as exc:
        raise PairError(f"{label} {path} missing or invalid FITS") from exc


def _read_box(reader: io.BoxReader, path, box, offset, label):
    (j0, j1), (i0, i1) = box
    local = ((j0 - offset[1], j1 - offset[1]), (i0 - offset[0], i1 - offset[0]))
    try:
        return reader.read(path, local)
    except DiffviewError as exc:
        raise PairError(f"{label} {path} missing or invalid FITS") from exc


def _full_edges(full_edges, montage_edges):
    """
    Resolve ``full_edges`` and the deprecated ``montage_edges`` keyword.

    ``montage_edges`` (diffview 0.2, where full edges were the default) works
    for one release with a `DeprecationWarning`: ``montage_edges=True`` is
    the default now and ``montage_edges=False`` is ``full_edges=True``.
    """
    if montage_edges is None:
        return bool(full_edges)
    warnings.warn(
        "montage_edges is deprecated: Montage's boxes are the default now; "
        "pass full_edges=True to difference the last template column and row",
        DeprecationWarning,
        stacklevel=3,
    )
    return not montage_edges


def _difference_files(
    reader: io.BoxReader,
    plus,
    minus,
    tshape,
    tcrpix,
    *,
    no_areas=False,
    factor=1.0,
    full_edges=False,
    ids=(None, None),
) -> Difference:
    """
    Difference two projected image files.

    Only the overlap box of each image and area file is read, through
    ``reader``.
    """
    names = [str(plus), str(minus)]
    geo = []
    for name in names:
        if not no_areas:
            _geometry(reader, area_name(name), "Area file")
        geo.append(_geometry(reader, _flux_name(name), "Image file"))
    (shape1, crpix1), (shape2, crpix2) = geo
    off1, off2 = template_offset(tcrpix, crpix1), template_offset(tcrpix, crpix2)
    box = overlap_box(tshape, off1, shape1, off2, shape2, full_edges=full_edges)
    if box is None:
        raise PairError("Images don't overlap")
    boxes = []
    for name, off in zip(names, (off1, off2), strict=True):
        data = _read_box(reader, _flux_name(name), box, off, "Image file")
        area = None
        if not no_areas:
            area = _read_box(reader, area_name(name), box, off, "Area file")
        boxes.append((data, np.ones(data.shape) if area is None else area))
    (v1, a1), (v2, a2) = boxes
    return difference_in_box(
        v1, a1, v2, a2, box, tcrpix, no_areas=no_areas, factor=factor, ids=ids
    )


def _task_difference(reader: io.BoxReader, task, ctx) -> Difference:
    """
    Difference a pair task ``(overlap, plus, minus, out)``.

    The run's template geometry and options are in ``ctx`` (the workers of
    `compute_differences` and `differences_and_fits`).
    """
    ov, plus, minus, _ = task
    return _difference_files(
        reader,
        plus,
        minus,
        ctx["shape"],
        ctx["crpix"],
        ids=(ov.cntr1, ov.cntr2),
        **ctx["opts"],
    )


def _remembered(costs, seen: list):
    """Yield ``costs``, keeping what was yielded in ``seen``."""
    for cost in costs:
        seen.append(cost)
        yield cost


def _batches(tasks, costs, executor, workers) -> tuple[list, int | None]:
    """
    Decide a run's workers (`pool_workers`) and batch its tasks by cost.

    One estimate for both decisions: ``costs`` (seconds of each task in this
    process) is read lazily, as far as `pool_workers` needs, and to the end
    only for a pool or an executor, whose tasks are batched by it. A pool
    of workers the caller asked for gets about four batches per worker,
    however small the run.
    """
    asked = workers is not None and executor is None
    costs = iter(costs)
    seen: list = []
    workers = pool_workers(workers, executor, _remembered(costs, seen))
    if executor is None and workers == 1:
        return ([list(tasks)] if len(tasks) else []), workers
    seen.extend(costs)
    spread = executor_workers(executor, workers)
    # asked-for workers all get work, however small the run
    return split_by_cost(tasks, seen, spread, least=0.0 if asked else None), workers


def _run_chunked(
    func, tasks, *, costs, executor, workers, quiet, desc, context=None
) -> list:
    """
    Run ``func`` on contiguous batches of ``tasks``; the results in task order.

    ``costs`` are the estimated seconds of each task (`_batches`);
    ``context``, if given, is passed beside each batch. The progress bar
    counts tasks (pairs) as each batch ends.
    """
    chunks, workers = _batches(tasks, costs, executor, workers)
    args = chunks if context is None else [(c, context) for c in chunks]
    out: list = []
    for part in run_tasks(
        func,
        args,
        executor=executor,
        workers=workers,
        quiet=quiet,
        desc=desc,
        sizes=[len(c) for c in chunks],
    ):
        out.extend(part)
    return out
