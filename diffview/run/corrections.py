"""
Background corrections applied to projected image files (mBackground, mBgExec).

`correct_file` subtracts one correction plane from one image (and copies its
area file); `apply_corrections` does it for every image of an image table,
on `run_tasks`, writing each output atomically; a bad image is counted,
never fatal.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field

import numpy as np
from astropy.io import fits as afits

from diffview import io
from diffview.core import check_items
from diffview.core.background import correct_image
from diffview.errors import DiffviewError, PairError
from diffview.io.paths import area_name, atomic_path
from diffview.models import Correction
from diffview.run._pairs import _failure_text, check_output_dir
from diffview.run._parallel import _file_seconds, pool_workers, run_tasks

__all__ = ["CorrectionsResult", "correct_file", "apply_corrections"]

# Time one process spends per byte read (images and their area files): one
# core reads, corrects and writes ~128 MiB of input a second, so a pool
# starts above 32 MiB of input (`POOL_SECONDS`).
_SECONDS_PER_BYTE = 1.0 / (128 * 2**20)


@dataclass
class CorrectionsResult:
    """
    Outcome of `apply_corrections`.

    Parameters
    ----------
    count : int
        Images in the table.
    nocorrection : int
        Images without a correction (copied unchanged, as float64).
    failed : int
        Images that could not be corrected.
    failures : list of tuple
        ``(image path, message)`` per failed image.
    seconds : float
        Wall-clock time.

    Examples
    --------
    >>> CorrectionsResult(count=4, nocorrection=1).failed
    0
    """

    count: int = 0
    nocorrection: int = 0
    failed: int = 0
    failures: list = field(default_factory=list)
    seconds: float = 0.0


def correct_file(in_path, out_path, correction, *, no_areas: bool = False) -> None:
    """
    Subtract a correction plane from a projected image file (mBackground).

    Writes ``out_path`` (float64, the input header) and, unless ``no_areas``,
    copies the area file next to it; blank pixels (NaN or area <= 0) become
    NaN with area 0. Both files are written atomically.

    Parameters
    ----------
    in_path : str or path-like
        Projected image ``X.fits`` (its area is ``X_area.fits``).
    out_path : str or path-like
        Corrected image to write.
    correction : Correction
        Plane ``a x + b y + c`` with ``x = i - CRPIX1``, ``y = j - CRPIX2``
        (0-based pixel indices, the image's own CRPIX).
    no_areas : bool
        Do not read or write area files.

    Returns
    -------
    None

    Raises
    ------
    diffview.PairError
        The input or its area file is missing or not FITS, or their sizes
        differ.

    Examples
    --------
    With CRPIX 0, 0 (so ``x = i``, ``y = j``), pixel ``(j, i)`` of a flat 5
    becomes ``5 - (i + 10 j + 2)``:

    >>> import tempfile, os
    >>> d = tempfile.mkdtemp()
    >>> hdr = afits.Header({"CRPIX1": 0.0, "CRPIX2": 0.0})
    >>> afits.PrimaryHDU(np.full((2, 3), 5.0), hdr).writeto(os.path.join(d, "a.fits"))
    >>> correct_file(os.path.join(d, "a.fits"), os.path.join(d, "b.fits"),
    ...              Correction(0, 1.0, 10.0, 2.0), no_areas=True)
    >>> afits.getdata(os.path.join(d, "b.fits")).tolist()
    [[3.0, 2.0, 1.0], [-7.0, -8.0, -9.0]]
    """
    in_path, out_path = str(in_path), str(out_path)
    data, header = _read_image(in_path, "Image file")
    area = None if no_areas else _read_image(area_name(in_path), "Area file")[0]
    if area is not None and area.shape != data.shape:
        sizes = ["x".join(map(str, a.shape)) for a in (area, data)]
        raise PairError(
            f"Area file {area_name(in_path)} has {sizes[0]} pixels, its image "
            f"{sizes[1]}"
        )
    crpix = (float(header.get("CRPIX1", 0.0)), float(header.get("CRPIX2", 0.0)))
    out = correct_image(data, crpix, correction, area)
    header = header.copy()
    header["BITPIX"] = -64
    # the values written are the scaled ones (Montage keeps BSCALE/BZERO and
    # stores the inverse-scaled doubles: the same values when read)
    for key in ("BSCALE", "BZERO", "BLANK"):
        header.remove(key, ignore_missing=True, remove_all=True)
    _write(out, header, out_path)
    if area is not None:
        _write(np.where(np.isnan(out), 0.0, area), header, area_name(out_path))


def _read_image(path, label):
    """Pixels (float64, BSCALE/BZERO applied, BLANK as NaN) and header."""
    try:
        plain = io.read_plain_header_image(path)
        return plain if plain is not None else io.read_image(path)
    except DiffviewError as exc:
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
    except Exception as exc:  # one bad image (or a full disk) is counted
        return f"{src}: {_failure_text(exc)}"


def _task_inputs(tasks):
    for src, _, _, no_areas in tasks:
        yield src
        if not no_areas:
            yield area_name(src)


def apply_corrections(
    path,
    images_table,
    corrections,
    corrdir,
    *,
    no_areas: bool = False,
    executor=None,
    workers=None,
    quiet: bool = False,
) -> CorrectionsResult:
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
        As for `compute_differences`; with neither ``executor`` nor
        ``workers``, `pool_workers` keeps runs over less than 32 MiB of
        images and area files in this process.

    Returns
    -------
    CorrectionsResult
        ``count``, ``nocorrection``, ``failed`` and one message per failure.

    Raises
    ------
    diffview.InputError
        Unusable output folder, table or columns.

    Examples
    --------
    A correction of level 1 for image 0 only:

    >>> import os, tempfile
    >>> from diffview.io import read_image, read_table
    >>> from diffview.sample import write_sample
    >>> s = write_sample(tempfile.mkdtemp(), "small", quiet=True)
    >>> out = os.path.join(s.root, "corrected")
    >>> os.mkdir(out)
    >>> first = read_table(s.images_tbl)[0]
    >>> r = apply_corrections(s.proj_dir, s.images_tbl,
    ...                       [Correction(int(first["cntr"]), 0.0, 0.0, 1.0)],
    ...                       out, quiet=True)
    >>> r.count == len(read_table(s.images_tbl)), r.nocorrection == r.count - 1
    (True, True)
    >>> before = read_image(s.proj_dir / str(first["fname"]))[0]
    >>> after = read_image(os.path.join(out, str(first["fname"])))[0]
    >>> change = (before - after)[np.isfinite(after)]
    >>> change.size > 0, bool(np.allclose(change, 1.0, rtol=1e-12))
    (True, True)
    >>> apply_corrections(".", "images.tbl", [], "/nonexistent")
    Traceback (most recent call last):
    ...
    diffview.errors.InputError: Cannot access /nonexistent
    """
    start = time.perf_counter()
    check_output_dir(corrdir)
    corrs = (
        check_items(corrections, Correction, "corrections")
        if isinstance(corrections, (list, tuple))
        else io.read_corrections_table(corrections)
    )
    table = io.read_table(images_table)
    io.require_columns(table, ["cntr", "fname"], images_table)
    by_id = {c.id: c for c in corrs}
    result = CorrectionsResult(count=len(table))
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
    costs = _file_seconds(_task_inputs(tasks), _SECONDS_PER_BYTE)
    workers = pool_workers(workers, executor, costs)
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
