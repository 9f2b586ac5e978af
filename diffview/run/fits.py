"""
File-level plane fitting over a whole mosaic.

`fit_planes` fits stored differences (Montage's mFitExec);
`differences_and_fits` differences and fits every pair in one pass without
keeping the difference files unless asked (mDiffFitExec). Pairs run in
contiguous chunks on `run_tasks` (process pool, any executor, progress bar);
one bad pair is counted, never fatal; tables are written atomically.

A run estimates its work from the sizes of its files, once, for two
decisions: whether its fits pay for loading the compiled loops
(`diffview.core.plan_compiled`; a small run fits in numpy and never imports
numba) and whether a pool of workers pays (`pool_workers`). astropy is
imported only for what needs it (a template header, a non-plain FITS file).
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field

import numpy as np

from diffview import io
from diffview.core import FIT_SECONDS_PER_PIXEL, plan_compiled
from diffview.core.fit import fit_plane
from diffview.errors import DiffviewError, PairError
from diffview.io.paths import montage_file_path
from diffview.run._differences import _pair_pixels, _write_later, template_cards
from diffview.run._pairs import (
    _flux_name,
    _full_edges,
    _overlaps,
    _run_chunked,
    _task_difference,
    _template_grid,
    check_output_dir,
    resolve_inside,
)
from diffview.run._parallel import _file_seconds

__all__ = [
    "FitPlanesResult",
    "read_difference_file",
    "fit_planes",
    "differences_and_fits",
]


@dataclass
class FitPlanesResult:
    """
    Outcome of `fit_planes` or `differences_and_fits`.

    Parameters
    ----------
    count : int
        Pairs attempted.
    failed : int
        Pairs with no fit (difference or fit failure, missing file).
    diff_failed : int
        Pairs whose difference failed (`differences_and_fits` only).
    fit_failed : int
        Pairs whose difference worked but whose fit failed.
    missing : int
        Stored differences not found (`fit_planes` only).
    warning : int
        Always 0, as in Montage.
    fits : list of PlaneFit
        The fits written to the table, in table order.
    failures : list of tuple
        ``(Overlap, message)`` per failed pair.
    seconds : float
        Wall-clock time.

    Examples
    --------
    >>> r = FitPlanesResult(count=2)
    >>> r.failed, r.fits
    (0, [])
    """

    count: int = 0
    failed: int = 0
    diff_failed: int = 0
    fit_failed: int = 0
    missing: int = 0
    warning: int = 0
    fits: list = field(default_factory=list)
    failures: list = field(default_factory=list)
    seconds: float = 0.0


def read_difference_file(path) -> tuple[np.ndarray, tuple[float, float]]:
    """
    Pixels and ``(CRPIX1, CRPIX2)`` of a difference FITS file.

    Plain float images (what mDiff and diffview write) are read directly;
    anything else goes through astropy.

    Parameters
    ----------
    path : str or path-like
        The difference file.

    Returns
    -------
    array : numpy.ndarray
        The pixels, float64.
    crpix : tuple of float
        ``(CRPIX1, CRPIX2)`` of the file.

    Raises
    ------
    diffview.PairError
        ``Image file X missing or invalid FITS`` (mFitplane's message).

    Examples
    --------
    >>> import os, tempfile
    >>> from astropy.io import fits as afits
    >>> name = os.path.join(tempfile.mkdtemp(), "d.fits")
    >>> afits.PrimaryHDU(np.arange(6.0).reshape(2, 3),
    ...                  afits.Header({"CRPIX1": 4.0, "CRPIX2": -1.0})).writeto(name)
    >>> data, crpix = read_difference_file(name)
    >>> data.tolist(), crpix
    ([[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]], (4.0, -1.0))
    >>> read_difference_file("/nonexistent.fits")
    Traceback (most recent call last):
    ...
    diffview.errors.PairError: Image file /nonexistent.fits missing or invalid FITS
    """
    try:
        fast = io.read_plain_image(path)
        if fast is not None:
            return fast
        # BSCALE/BZERO applied, BLANK as NaN (as mFitplane reads it)
        data, hdr = io.read_image(path)
        crpix = (float(hdr["CRPIX1"]), float(hdr["CRPIX2"]))
    except (DiffviewError, KeyError, ValueError, TypeError) as exc:
        raise PairError(f"Image file {path} missing or invalid FITS") from exc
    if data.ndim != 2:
        raise PairError(f"Image file {path} missing or invalid FITS")
    return data, crpix


# Time one process spends per byte of input: one core fits ~32 MiB of
# differences a second in numpy, ~128 MiB in the compiled loops, or
# differences and fits ~64 MiB of images. With `POOL_SECONDS` (0.25 s),
# `pool_workers` starts a pool above 8 MiB, 32 MiB and 16 MiB. Powers of
# two, so the byte thresholds are exact.
_FIT_SECONDS_PER_BYTE = 1.0 / (32 * 2**20)
_FIT_COMPILED_SECONDS_PER_BYTE = 1.0 / (128 * 2**20)
_DIFFFIT_SECONDS_PER_BYTE = 1.0 / (64 * 2**20)

#: Bytes of a difference file per pixel (float64 images, as Montage's mDiff
#: and diffview write them).
_BYTES_PER_PIXEL = 8


def _plan_fits(nbytes: float) -> bool:
    """Load the compiled loops when fitting ``nbytes`` of differences pays.

    Returns whether they are loaded (`diffview.core.plan_compiled`).
    """
    return plan_compiled(nbytes / _BYTES_PER_PIXEL * FIT_SECONDS_PER_PIXEL)


def _plan_difffits(tasks, context) -> bool:
    """Load the compiled loops when fitting the pairs' overlap boxes pays.

    The boxes' pixels come from the images' headers (`_pair_pixels`): one
    process loads the loops for the whole job, not every worker of a pool
    once its own share of fits has cost as much in numpy.
    """
    pixels = sum(_pair_pixels(tasks, context))
    return plan_compiled(pixels * FIT_SECONDS_PER_PIXEL)


def _fit_chunk(tasks):
    _plan_fits(sum(t[3] for t in tasks))  # in a worker: its own share
    return [_fit_task(t) for t in tasks]


def _fit_task(task):
    ov, path, level_only, _ = task
    if not os.path.isfile(path):
        return None, "missing", f"{path}: file not found"
    try:
        array, crpix = read_difference_file(path)
        return (
            fit_plane((array, crpix), level_only=level_only, ids=(ov.cntr1, ov.cntr2)),
            None,
            None,
        )
    except PairError as exc:
        return None, "fit", f"{path}: {exc}"
    except Exception as exc:  # one bad file never stops the run; it is counted
        return None, "fit", f"{path}: {type(exc).__name__}: {exc}"


def _collect(result: FitPlanesResult, overlaps, outcomes) -> None:
    for ov, (fit, kind, msg) in zip(overlaps, outcomes, strict=True):
        if fit is not None:
            result.fits.append(fit)
            continue
        result.failures.append((ov, msg))
        if kind == "missing":
            result.missing += 1
        elif kind == "diff":
            result.diff_failed += 1
        else:
            result.fit_failed += 1
    result.failed = len(result.failures)


def fit_planes(
    diffs_table,
    fits_table,
    diffdir,
    *,
    level_only: bool = False,
    executor=None,
    workers=None,
    quiet: bool = False,
) -> FitPlanesResult:
    """
    Fit a plane to every stored difference of an overlap table (mFitExec).

    Parameters
    ----------
    diffs_table : str, path-like or list of Overlap
        Overlap table with ``cntr1 cntr2 diff`` columns.
    fits_table : str or path-like or None
        Output ``fits.tbl`` (Montage's layout, more digits); None writes
        nothing.
    diffdir : str or path-like
        Folder of the differences (joined with Montage's rules).
    level_only : bool
        Fit levels only (``-l``).
    executor, workers, quiet
        As for `compute_differences`; with neither ``executor`` nor
        ``workers``, `pool_workers` keeps runs of less than 8 MiB of
        differences in this process (32 MiB once they run in the compiled
        loops).

    Returns
    -------
    FitPlanesResult
        ``count``, ``failed``, ``missing``, ``warning`` and the fits.

    Raises
    ------
    diffview.InputError
        Unreadable table or missing columns.

    Examples
    --------
    >>> import tempfile
    >>> from diffview.run import compute_differences
    >>> from diffview.sample import write_sample
    >>> s = write_sample(tempfile.mkdtemp(), "small", quiet=True)
    >>> _ = compute_differences(s.proj_dir, s.diffs_tbl, s.template, s.diff_dir,
    ...                         quiet=True)
    >>> r = fit_planes(s.diffs_tbl, None, s.diff_dir, quiet=True)
    >>> r.count == len(s.overlaps) == len(r.fits), r.failed
    (True, 0)
    >>> [(f.plus, f.minus) for f in r.fits] == [
    ...     (o.cntr1, o.cntr2) for o in s.overlaps]
    True
    """
    start = time.perf_counter()
    overlaps = _overlaps(diffs_table)
    paths = [montage_file_path(str(diffdir), ov.diff) for ov in overlaps]
    sizes = list(_file_seconds(paths, 1.0))  # bytes (0: missing)
    tasks = [
        (ov, path, level_only, size)
        for ov, path, size in zip(overlaps, paths, sizes, strict=True)
    ]
    # before any pool starts, so that forked workers inherit the loops
    compiled = executor is None and _plan_fits(sum(sizes))
    per_byte = _FIT_COMPILED_SECONDS_PER_BYTE if compiled else _FIT_SECONDS_PER_BYTE
    result = FitPlanesResult(count=len(overlaps))
    outcomes = _run_chunked(
        _fit_chunk,
        tasks,
        costs=[size * per_byte for size in sizes],
        executor=executor,
        workers=workers,
        quiet=quiet,
        desc="fits",
    )
    _collect(result, overlaps, outcomes)
    if fits_table is not None:
        io.write_fits_table(result.fits, fits_table)
    result.seconds = time.perf_counter() - start
    return result


def _difffit_chunk(chunk):
    tasks, context = chunk
    # neighbouring pairs share images; kept differences are synced together
    with io.BoxReader() as reader, io.GroupCommit() as group:
        done = [_difffit_one(t, context, reader, group) for t in tasks]
    return [_kept(t, d) for t, d in zip(tasks, done, strict=True)]


def _difffit_one(task, ctx, reader, group):
    """Difference and fit one pair; ``(fit, failed step, message, future)``.

    The future (None unless the difference is kept) tells whether its files
    were committed.
    """
    ov, plus, minus, out = task
    try:
        # only the overlap box of each image is read, as compute_differences
        # does: less to read than whole images, no image-sized memory per pair
        diff = _task_difference(reader, task, ctx)
    except PairError as exc:
        return None, "diff", f"{plus} - {minus}: {exc}", None
    except Exception as exc:  # counted, never fatal
        return None, "diff", f"{plus} - {minus}: {type(exc).__name__}: {exc}", None
    try:
        kept = None
        if ctx["keep_all"]:
            kept = _write_later(diff, out, ctx["cards"], group)
        fit = fit_plane(diff, level_only=ctx["level_only"], ids=(ov.cntr1, ov.cntr2))
        return fit, None, None, kept
    except (PairError, OSError) as exc:
        return None, "fit", f"{out}: {exc}", None
    except Exception as exc:  # counted, never fatal
        return None, "fit", f"{out}: {type(exc).__name__}: {exc}", None


def _kept(task, outcome):
    """Return a pair's outcome once its kept difference is committed (or failed)."""
    fit, step, msg, future = outcome
    failed = future.exception() if future is not None else None
    if failed is None:
        return fit, step, msg
    return None, "fit", f"{task[3]}: {failed}"


def _shared_image_seconds(tasks):
    """
    Estimated seconds of each pair task: its images' bytes, shared out.

    Every image's `_DIFFFIT_SECONDS_PER_BYTE` cost is split evenly between
    the pairs that read it, so that the costs add up to the images' (the
    rule `pool_workers` applies) and each pair's reflects what it reads.
    """
    names = [(_flux_name(t[1]), _flux_name(t[2])) for t in tasks]
    shares: dict = {}
    for pair in names:
        for name in pair:
            shares[name] = shares.get(name, 0) + 1
    seconds: dict = {}
    for pair in names:
        for name in pair:
            if name not in seconds:
                (cost,) = _file_seconds([name], _DIFFFIT_SECONDS_PER_BYTE)
                seconds[name] = cost / shares[name]
        yield seconds[pair[0]] + seconds[pair[1]]


def _difffit_name(name: str) -> str:
    """Append an ``s`` to names not ending in ``s``, as mDiffFitExec does."""
    return name if name.endswith("s") else name + "s"


def differences_and_fits(
    path,
    diffs_table,
    template,
    diffdir,
    fits_table,
    *,
    keep_all: bool = False,
    level_only: bool = False,
    no_areas: bool = False,
    full_edges: bool = False,
    executor=None,
    workers=None,
    quiet: bool = False,
    montage_edges=None,
) -> FitPlanesResult:
    """
    Difference and fit every pair in one pass (mDiffFitExec).

    Each difference is computed in memory (as `compute_difference` does) and
    fitted; it is written to ``diffdir`` (with its area file, named as
    mDiffFitExec names it: with an ``s`` appended) only when ``keep_all``.
    Pairs run in contiguous chunks; each pair reads only its overlap box of
    each image and area file.

    Parameters
    ----------
    path : str or path-like
        Folder of the projected images.
    diffs_table : str, path-like or list of Overlap
        Overlap table (``cntr1 cntr2 plus minus diff``).
    template : str or astropy.io.fits.Header
        Mosaic template.
    diffdir : str or path-like
        Existing folder for kept differences.
    fits_table : str, path-like or None
        Output ``fits.tbl``; None writes nothing.
    keep_all : bool
        Keep the difference files (``-k``).
    level_only, no_areas : bool
        ``-l`` and ``-n``.
    full_edges : bool
        Also difference (and fit) the last template column and row, which
        Montage's mDiffFitExec never does (default: Montage's boxes; see
        `diffview.core.overlap_box`).
    executor, workers, quiet
        As for `compute_differences`; with neither ``executor`` nor
        ``workers``, `pool_workers` keeps runs over less than 16 MiB of
        images in this process.
    montage_edges : bool, optional
        Deprecated: ``montage_edges=False`` is ``full_edges=True``.

    Returns
    -------
    FitPlanesResult
        ``count``, ``diff_failed``, ``fit_failed`` (fits that failed on a good
        difference, as Montage counts them), ``warning`` and the fits.

    Raises
    ------
    diffview.InputError
        Unreadable table, missing columns, bad template or output folder.

    Examples
    --------
    The fits are those of the stored differences, without storing them:

    >>> import tempfile
    >>> from diffview.run import compute_differences, fit_planes
    >>> from diffview.sample import write_sample
    >>> s = write_sample(tempfile.mkdtemp(), "small", quiet=True)
    >>> r = differences_and_fits(s.proj_dir, s.diffs_tbl, s.template,
    ...                          s.diff_dir, None, quiet=True)
    >>> r.count == len(r.fits) == len(s.overlaps), list(s.diff_dir.iterdir())
    (True, [])
    >>> _ = compute_differences(s.proj_dir, s.diffs_tbl, s.template, s.diff_dir,
    ...                         quiet=True)
    >>> stored = fit_planes(s.diffs_tbl, None, s.diff_dir, quiet=True)
    >>> bool(np.allclose([(f.a, f.b, f.c) for f in r.fits],
    ...                  [(f.a, f.b, f.c) for f in stored.fits], rtol=1e-12))
    True
    """
    start = time.perf_counter()
    grid = _template_grid(template)
    check_output_dir(diffdir)
    overlaps = _overlaps(diffs_table)
    opts = {"no_areas": no_areas,
            "full_edges": _full_edges(full_edges, montage_edges)}
    result = FitPlanesResult(count=len(overlaps))
    tasks, order = [], []
    for ov in overlaps:
        try:
            plus = resolve_inside(str(path), ov.plus, "image")
            minus = resolve_inside(str(path), ov.minus, "image")
            out = resolve_inside(str(diffdir), _difffit_name(ov.diff), "difference")
        except PairError as exc:
            result.failures.append((ov, f"{ov.plus} - {ov.minus}: {exc}"))
            result.diff_failed += 1
            continue
        tasks.append((ov, plus, minus, out))
        order.append(ov)
    context = {
        "shape": grid.shape,
        "crpix": grid.crpix,
        "cards": template_cards(grid),  # a few kB a task, not a Header
        "opts": opts,
        "keep_all": keep_all,
        "level_only": level_only,
    }
    if executor is None:  # before any pool, so that forked workers inherit them
        _plan_difffits(tasks, context)
    outcomes = _run_chunked(
        _difffit_chunk,
        tasks,
        costs=_shared_image_seconds(tasks),
        executor=executor,
        workers=workers,
        quiet=quiet,
        desc="differences+fits",
        context=context,
    )
    _collect(result, order, outcomes)
    if fits_table is not None:
        io.write_fits_table(result.fits, fits_table)
    result.seconds = time.perf_counter() - start
    return result
