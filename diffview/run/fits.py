"""
File-level plane fitting and background correction over a whole mosaic.

`fitexec` fits stored differences (mFitExec), `difffitexec` differences and
fits every pair in one pass without keeping the difference files unless asked
(mDiffFitExec), `bgexec` subtracts corrections from projected images (mBgExec).
Loops run on `diffview._parallel.run_tasks` (process pool, any executor,
progress bar); one bad pair is counted, never fatal; tables and images are
written atomically.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field

import numpy as np
from astropy.io import fits as afits

from diffview import io
from diffview.core.background import correct_image
from diffview.core.fit import fit_plane
from diffview.errors import PairError
from diffview.io.paths import area_name, atomic_path, montage_file_path, split_fits_name
from diffview.models import Correction, Overlap
from diffview.run._parallel import run_tasks, split_chunks

__all__ = [
    "FitExecResult",
    "BgExecResult",
    "read_difference_file",
    "fitexec",
    "difffitexec",
    "bgexec",
    "correct_file",
]


@dataclass
class FitExecResult:
    """
    Outcome of `fitexec` or `difffitexec`.

    Attributes
    ----------
    count : int
        Pairs attempted.
    failed : int
        Pairs with no fit (difference or fit failure, missing file).
    diff_failed : int
        Pairs whose difference failed (`difffitexec` only).
    fit_failed : int
        Pairs whose difference worked but whose fit failed.
    missing : int
        Stored differences not found (`fitexec` only).
    warning : int
        Always 0, as in Montage.
    fits : list of PlaneFit
        The fits written to the table, in table order.
    failures : list of tuple
        ``(Overlap, message)`` per failed pair.
    seconds : float
        Wall-clock time.
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


@dataclass
class BgExecResult:
    """
    Outcome of `bgexec`: ``count``, ``nocorrection``, ``failed``, failures, time.
    """

    count: int = 0
    nocorrection: int = 0
    failed: int = 0
    failures: list = field(default_factory=list)
    seconds: float = 0.0


def read_difference_file(path) -> tuple[np.ndarray, tuple[float, float]]:
    """
    Pixels and ``(CRPIX1, CRPIX2)`` of a difference FITS file.

    Plain float images (what mDiff and diffview write) are read directly;
    anything else goes through astropy.

    Raises
    ------
    diffview.PairError
        ``Image file X missing or invalid FITS`` (mFitplane's message).

    Examples
    --------
    >>> read_difference_file("/nonexistent.fits")
    Traceback (most recent call last):
    ...
    diffview.errors.PairError: Image file /nonexistent.fits missing or invalid FITS
    """
    try:
        fast = io.read_plain_image(path)
        if fast is not None:
            return fast
        with afits.open(path, memmap=False, lazy_load_hdus=True) as hdul:
            hdr = hdul[0].header
            data = np.asarray(hdul[0].data, dtype=float)
            crpix = (float(hdr["CRPIX1"]), float(hdr["CRPIX2"]))
    except (OSError, KeyError, ValueError, TypeError, IndexError) as exc:
        raise PairError(f"Image file {path} missing or invalid FITS") from exc
    if data.ndim != 2:
        raise PairError(f"Image file {path} missing or invalid FITS")
    return data, crpix


def _overlaps(table) -> list[Overlap]:
    if isinstance(table, (list, tuple)):
        return list(table)
    return io.read_diffs_table(table)


#: Below these many bytes of input a process pool costs more than it saves
#: (its start-up is 20-100 ms; one core fits ~50 MB of differences a second,
#: or differences and fits ~120 MB of images). On a shared 2-core machine a
#: pool on the m17 sample (3 MB of differences) was 20% faster or 50% slower
#: depending on the other load, so small runs stay in this process.
SERIAL_BYTES_FITS = 16 * 2**20
SERIAL_BYTES_DIFFFIT = 32 * 2**20


def _auto_workers(workers, executor, paths, limit: int):
    """``workers``, or 1 when none was asked for and the input is small."""
    if workers is not None or executor is not None:
        return workers
    total = 0
    for p in paths:
        try:
            total += os.path.getsize(p)
        except OSError:
            continue
        if total >= limit:
            return None
    return 1


def _run_chunked(func, tasks, *, executor, workers, quiet, desc, context=None) -> list:
    """Run ``func`` on contiguous chunks of ``tasks`` (with ``context``, if
    given, beside each chunk); the results in task order."""
    chunks = split_chunks(tasks, workers, executor)
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


def _fit_chunk(tasks):
    return [_fit_task(t) for t in tasks]


def _fit_task(task):
    ov, path, level_only = task
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


def _collect(result: FitExecResult, overlaps, outcomes) -> None:
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


def fitexec(
    diffs_table,
    fits_table,
    diffdir,
    *,
    level_only: bool = False,
    executor=None,
    workers=None,
    quiet: bool = False,
) -> FitExecResult:
    """
    Fit a plane to every stored difference of a ``diffs.tbl`` (mFitExec).

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
        As for `diffview.pipeline.diffexec`, except that ``workers=None``
        runs in this process when the differences total less than
        `SERIAL_BYTES_FITS` (a pool would cost more than it saves).

    Returns
    -------
    FitExecResult
        ``count``, ``failed``, ``missing``, ``warning`` and the fits.

    Raises
    ------
    diffview.InputError
        Unreadable table or missing columns.

    Examples
    --------
    >>> import tempfile
    >>> from diffview.datasets import write_sample
    >>> from diffview.pipeline import diffexec
    >>> s = write_sample(tempfile.mkdtemp(), "small", quiet=True)
    >>> _ = diffexec(s.proj_dir, s.diffs_tbl, s.template, s.diff_dir, quiet=True)
    >>> r = fitexec(s.diffs_tbl, None, s.diff_dir, quiet=True, workers=1)
    >>> r.count == len(s.overlaps), len(r.fits) + r.failed == r.count
    (True, True)
    """
    start = time.perf_counter()
    overlaps = _overlaps(diffs_table)
    tasks = [
        (ov, montage_file_path(str(diffdir), ov.diff), level_only) for ov in overlaps
    ]
    result = FitExecResult(count=len(overlaps))
    workers = _auto_workers(workers, executor, (t[1] for t in tasks), SERIAL_BYTES_FITS)
    outcomes = _run_chunked(
        _fit_chunk, tasks, executor=executor, workers=workers, quiet=quiet, desc="fits"
    )
    _collect(result, overlaps, outcomes)
    if fits_table is not None:
        io.write_fits_table(result.fits, fits_table)
    result.seconds = time.perf_counter() - start
    return result


def _difffit_chunk(chunk):
    tasks, context = chunk
    with io.BoxReader() as reader:  # neighbouring pairs share images
        return [_difffit_one(t, context, reader) for t in tasks]


def _difffit_one(task, ctx, reader):
    from diffview.run.differences import _task_difference, write_difference

    ov, plus, minus, out = task
    try:
        # only the overlap box of each image is read, as diffexec does: less
        # to read than whole images and no fresh image-sized memory per run
        diff = _task_difference(reader, task, ctx)
    except PairError as exc:
        return None, "diff", f"{plus} - {minus}: {exc}"
    except Exception as exc:  # counted, never fatal
        return None, "diff", f"{plus} - {minus}: {type(exc).__name__}: {exc}"
    try:
        if ctx["keep_all"]:
            write_difference(diff, out, ctx["template"])
        return (
            fit_plane(diff, level_only=ctx["level_only"], ids=(ov.cntr1, ov.cntr2)),
            None,
            None,
        )
    except (PairError, OSError) as exc:
        return None, "fit", f"{out}: {exc}"
    except Exception as exc:  # counted, never fatal
        return None, "fit", f"{out}: {type(exc).__name__}: {exc}"


def _difffit_name(name: str) -> str:
    """mDiffFitExec appends an ``s`` to names not ending in ``s``."""
    return name if name.endswith("s") else name + "s"


def difffitexec(
    path,
    diffs_table,
    template,
    diffdir,
    fits_table,
    *,
    keep_all: bool = False,
    level_only: bool = False,
    no_areas: bool = False,
    montage_edges: bool = False,
    executor=None,
    workers=None,
    quiet: bool = False,
) -> FitExecResult:
    """
    Difference and fit every pair in one pass (mDiffFitExec).

    Each difference is computed in memory (as
    `diffview.pipeline.compute_difference` does) and fitted; it is
    written to ``diffdir`` (with its area file) only when ``keep_all``. Pairs
    run in contiguous chunks; each pair reads only its overlap box of each
    image and area file.

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
    level_only, no_areas, montage_edges : bool
        ``-l``, ``-n`` and Montage's last-column/row exclusion.
    executor, workers, quiet
        As for `diffview.pipeline.diffexec`, except that ``workers=None``
        runs in this process when the images total less than
        `SERIAL_BYTES_DIFFFIT`.

    Returns
    -------
    FitExecResult
        ``count``, ``diff_failed``, ``fit_failed`` (fits that failed on a good
        difference, as Montage counts them), ``warning`` and the fits.

    Examples
    --------
    >>> import tempfile
    >>> from diffview.datasets import write_sample
    >>> s = write_sample(tempfile.mkdtemp(), "small", quiet=True)
    >>> r = difffitexec(s.proj_dir, s.diffs_tbl, s.template, s.diff_dir, None,
    ...                 quiet=True, workers=1)
    >>> r.count == len(s.overlaps)
    True
    """
    from diffview.run.differences import check_output_dir, resolve_inside

    start = time.perf_counter()
    if not isinstance(template, afits.Header):
        template = io.read_template(template)
    check_output_dir(diffdir)
    overlaps = _overlaps(diffs_table)
    opts = {"no_areas": no_areas, "montage_edges": montage_edges}
    result = FitExecResult(count=len(overlaps))
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
        "shape": (int(template["NAXIS2"]), int(template["NAXIS1"])),
        "crpix": (float(template["CRPIX1"]), float(template["CRPIX2"])),
        "template": template,
        "opts": opts,
        "keep_all": keep_all,
        "level_only": level_only,
    }
    images = {name for t in tasks for name in (t[1], t[2])}
    workers = _auto_workers(
        workers,
        executor,
        (split_fits_name(name) + ".fits" for name in sorted(images)),
        SERIAL_BYTES_DIFFFIT,
    )
    outcomes = _run_chunked(
        _difffit_chunk,
        tasks,
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


def correct_file(in_path, out_path, correction, *, no_areas: bool = False) -> None:
    """
    Subtract a correction plane from a projected image file (mBackground).

    Writes ``out_path`` (float64, the input header) and, unless ``no_areas``,
    copies the area file next to it; blank pixels (NaN or area <= 0) become
    NaN with area 0. Both files are written atomically.

    Raises
    ------
    diffview.PairError
        The input or its area file is missing or not FITS.

    Examples
    --------
    >>> import tempfile, os
    >>> d = tempfile.mkdtemp()
    >>> hdr = afits.Header({"CRPIX1": 1.0, "CRPIX2": 1.0})
    >>> afits.PrimaryHDU(np.full((2, 3), 5.0), hdr).writeto(os.path.join(d, "a.fits"))
    >>> correct_file(os.path.join(d, "a.fits"), os.path.join(d, "b.fits"),
    ...              Correction(0, 0.0, 0.0, 2.0), no_areas=True)
    >>> afits.getdata(os.path.join(d, "b.fits")).tolist()
    [[3.0, 3.0, 3.0], [3.0, 3.0, 3.0]]
    """
    in_path, out_path = str(in_path), str(out_path)
    data, header = _read_image(in_path, "Image file")
    area = None if no_areas else _read_image(area_name(in_path), "Area file")[0]
    crpix = (float(header.get("CRPIX1", 0.0)), float(header.get("CRPIX2", 0.0)))
    out = correct_image(data, crpix, correction, area)
    header = header.copy()
    header["BITPIX"] = -64
    _write(out, header, out_path)
    if area is not None:
        _write(np.where(np.isnan(out), 0.0, area), header, area_name(out_path))


def _read_image(path, label):
    try:
        with afits.open(path, memmap=False) as hdul:
            return np.asarray(hdul[0].data, dtype=float), hdul[0].header.copy()
    except (OSError, ValueError, TypeError, IndexError) as exc:
        raise PairError(f"{label} {path} missing or invalid FITS") from exc


def _write(array, header, path) -> None:
    with atomic_path(path) as tmp:
        afits.PrimaryHDU(np.asarray(array, dtype=">f8"), header).writeto(
            tmp, overwrite=True, output_verify="silentfix"
        )


def _bg_task(task):
    src, dst, corr, no_areas = task
    try:
        correct_file(src, dst, corr, no_areas=no_areas)
        return None
    except (PairError, OSError) as exc:
        return f"{src}: {exc}"


def bgexec(
    path,
    images_table,
    corrections,
    corrdir,
    *,
    no_areas: bool = False,
    executor=None,
    workers=None,
    quiet: bool = False,
) -> BgExecResult:
    """
    Subtract each image's correction, writing corrected images (mBgExec).

    Parameters
    ----------
    path : str or path-like
        Folder of the projected images.
    images_table : str or path-like
        ``images.tbl`` (``cntr`` and ``fname`` columns).
    corrections : str, path-like or list of Correction
        ``corrections.tbl`` or solved corrections. An image without one is
        copied unchanged (as float64) and counted in ``nocorrection``.
    corrdir : str or path-like
        Existing output folder; outputs use the images' base names.
    no_areas : bool
        Do not read or write area files.
    executor, workers, quiet
        As for `fitexec`.

    Returns
    -------
    BgExecResult

    Raises
    ------
    diffview.InputError
        Unusable output folder, table or columns.

    Examples
    --------
    >>> bgexec(".", "images.tbl", [], "/nonexistent")
    Traceback (most recent call last):
    ...
    diffview.errors.InputError: Cannot access /nonexistent
    """
    from diffview.run.differences import check_output_dir

    start = time.perf_counter()
    check_output_dir(corrdir)
    table = io.read_table(images_table)
    io.require_columns(table, ["cntr", "fname"], images_table)
    corrs = (
        list(corrections)
        if isinstance(corrections, (list, tuple))
        else io.read_corrections_table(corrections)
    )
    by_id = {c.id: c for c in corrs}
    result = BgExecResult(count=len(table))
    tasks = []
    for row in table:
        name = os.path.basename(str(row["fname"]))
        corr = by_id.get(int(row["cntr"]))
        if corr is None:
            result.nocorrection += 1
            corr = Correction(int(row["cntr"]), 0.0, 0.0, 0.0)
        tasks.append(
            (
                os.path.join(str(path), name),
                os.path.join(str(corrdir), name),
                corr,
                no_areas,
            )
        )
    for task, err in zip(
        tasks,
        run_tasks(
            _bg_task,
            tasks,
            executor=executor,
            workers=workers,
            quiet=quiet,
            desc="corrections",
        ),
        strict=True,
    ):
        if err:
            result.failures.append((task[0], err))
    result.failed = len(result.failures)
    result.seconds = time.perf_counter() - start
    return result
