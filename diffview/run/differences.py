"""
File-level differencing: Montage work folders in, difference files out.

This is the layer that reads images (only the overlap box of each, memory
mapped), calls the pure-numpy `diffview.engine`, writes results atomically and
runs all pairs on an executor. `diffview.montage` wraps it with MontagePy's
names and return values.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from astropy.io import fits

from diffview import io
from diffview.core.difference import difference_in_box
from diffview.errors import DiffviewError, InputError, PairError
from diffview.geometry.overlaps import overlap_box, template_offset
from diffview.io.paths import area_name, montage_file_path, split_fits_name
from diffview.models import Difference, Overlap
from diffview.run._parallel import run_tasks, split_chunks

__all__ = [
    "compute_difference",
    "write_difference",
    "difference_header",
    "diffexec",
    "DiffExecResult",
    "check_output_dir",
    "resolve_inside",
]


# --------------------------------------------------------------------------
# One pair
# --------------------------------------------------------------------------


def _geometry(reader: io.BoxReader, path: str, label: str):
    try:
        return reader.geometry(path)
    except DiffviewError as exc:
        raise PairError(f"{label} {path} missing or invalid FITS") from exc


def _read_box(reader: io.BoxReader, path, box, offset, label):
    (j0, j1), (i0, i1) = box
    local = ((j0 - offset[1], j1 - offset[1]), (i0 - offset[0], i1 - offset[0]))
    try:
        return reader.read(path, local)
    except DiffviewError as exc:
        raise PairError(f"{label} {path} missing or invalid FITS") from exc


def _flux_name(name: str) -> str:
    return split_fits_name(name) + ".fits"


def _template_geometry(template):
    return (
        (int(template["NAXIS2"]), int(template["NAXIS1"])),
        (float(template["CRPIX1"]), float(template["CRPIX2"])),
    )


def compute_difference(
    plus,
    minus,
    template,
    *,
    no_areas=False,
    factor=1.0,
    montage_edges=False,
    ids=(None, None),
) -> Difference:
    """
    Difference of two projected image files (Montage's mDiff, nothing written).

    Only the overlap box of each image and area file is read, memory-mapped.

    Parameters
    ----------
    plus, minus : str or path-like
        Projected images ``X.fits``; their areas are ``X_area.fits``.
    template : astropy.io.fits.Header or str
        The mosaic template (a header, or a ``.hdr`` file name).
    no_areas : bool
        Ignore the area files (Montage's ``-n``).
    factor : float
        Scale applied to ``minus`` (mDiff's ``-z``).
    montage_edges : bool
        Reproduce Montage's exclusion of the last template column and row.
    ids : tuple
        ``(cntr1, cntr2)`` stored in the result.

    Returns
    -------
    Difference

    Raises
    ------
    diffview.PairError
        With mDiff's messages: ``Area file X_area.fits missing or invalid
        FITS``, ``Image file X.fits missing or invalid FITS``, ``Images don't
        overlap``, ``All pixels are blank.``.

    Examples
    --------
    >>> import tempfile
    >>> from diffview.datasets import write_sample
    >>> s = write_sample(tempfile.mkdtemp(), "small", quiet=True)
    >>> d = compute_difference(s.proj_dir / s.overlaps[0].plus,
    ...                        s.proj_dir / s.overlaps[0].minus, str(s.template))
    >>> d.array.dtype
    dtype('float64')
    """
    if not isinstance(template, fits.Header):
        template = io.read_template(template)
    tshape, tcrpix = _template_geometry(template)
    with io.BoxReader(keep=4) as reader:
        return _difference_files(
            reader,
            plus,
            minus,
            tshape,
            tcrpix,
            no_areas=no_areas,
            factor=factor,
            montage_edges=montage_edges,
            ids=ids,
        )


def _difference_files(
    reader: io.BoxReader,
    plus,
    minus,
    tshape,
    tcrpix,
    *,
    no_areas=False,
    factor=1.0,
    montage_edges=False,
    ids=(None, None),
) -> Difference:
    names = [str(plus), str(minus)]
    geo = []
    for name in names:
        if not no_areas:
            _geometry(reader, area_name(name), "Area file")
        geo.append(_geometry(reader, _flux_name(name), "Image file"))
    (shape1, crpix1), (shape2, crpix2) = geo
    off1, off2 = template_offset(tcrpix, crpix1), template_offset(tcrpix, crpix2)
    box = overlap_box(tshape, off1, shape1, off2, shape2, montage_edges=montage_edges)
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


def difference_header(diff: Difference, template: fits.Header) -> fits.Header:
    """
    FITS header of a difference: every template card, then the crop geometry.

    Examples
    --------
    >>> t = fits.Header({"NAXIS": 2, "NAXIS1": 10, "NAXIS2": 8, "CRPIX1": 5.0,
    ...                  "CRPIX2": 4.0})
    >>> d = Difference(np.zeros((2, 3)), np.ones((2, 3)), (2.0, 1.0),
    ...                ((3, 5), (3, 6)))
    >>> h = difference_header(d, t)
    >>> h["NAXIS1"], h["NAXIS2"], h["CRPIX1"], h["BITPIX"]
    (3, 2, 2.0, -64)
    """
    hdr = fits.Header()
    hdr["SIMPLE"] = True
    hdr["BITPIX"] = -64
    hdr["NAXIS"] = 2
    hdr["NAXIS1"] = diff.shape[1]
    hdr["NAXIS2"] = diff.shape[0]
    for image in difference_cards(diff, template_cards(template)):
        hdr.append(fits.Card.fromstring(image), end=True)
    return hdr


_GEOMETRY_KEYS = ("SIMPLE", "BITPIX", "NAXIS", "NAXIS1", "NAXIS2", "END", "EXTEND")


def template_cards(template: fits.Header) -> list[str]:
    """
    The template's card images that a difference header copies.

    Examples
    --------
    >>> t = fits.Header({"NAXIS": 2, "NAXIS1": 10, "CRPIX1": 5.0})
    >>> [c.split("=")[0].strip() for c in template_cards(t)]
    ['CRPIX1']
    """
    return [card.image for card in template.cards if card.keyword not in _GEOMETRY_KEYS]


def difference_cards(diff: Difference, cards: list[str]) -> list[str]:
    """
    Card images of a difference: the template's, with the crop's CRPIX.

    CRPIX is written with 15 significant digits, as cfitsio writes doubles
    (``%.15G``), so the cards read back identical to Montage's.

    Examples
    --------
    >>> d = Difference(np.zeros((2, 3)), np.ones((2, 3)), (2.0, 1.0),
    ...                ((3, 5), (3, 6)))
    >>> difference_cards(d, [fits.Card("CRPIX1", 5.0).image])[0].split("/")[0].strip()
    'CRPIX1  =                  2.0'
    """
    crpix = {
        "CRPIX1": float(f"{diff.crpix[0]:.15g}"),
        "CRPIX2": float(f"{diff.crpix[1]:.15g}"),
    }
    out = []
    for image in cards:
        key = image[:8].rstrip()
        out.append(io.card_image(key, crpix.pop(key)) if key in crpix else image)
    out.extend(io.card_image(k, v) for k, v in crpix.items())
    return out


def write_difference(diff: Difference, out, template) -> tuple[str, str]:
    """
    Write ``out`` (``.fits`` appended if missing) and its ``_area.fits``.

    Both files are float64 with the template's cards (``template`` is a
    header, or its `template_cards` computed once for many pairs); each is
    written under a temporary name and renamed, so an interrupted run leaves
    no partial file.

    Returns
    -------
    tuple of str
        The two file names written.

    Examples
    --------
    >>> import tempfile, os
    >>> t = fits.Header({"NAXIS": 2, "NAXIS1": 4, "NAXIS2": 2, "CRPIX1": 1.0,
    ...                  "CRPIX2": 1.0})
    >>> d = Difference(np.zeros((2, 4)), np.full((2, 4), 2.0), (1.0, 1.0),
    ...                ((0, 2), (0, 4)))
    >>> flux, area = write_difference(d, os.path.join(tempfile.mkdtemp(), "d"), t)
    >>> os.path.basename(flux), os.path.basename(area)
    ('d.fits', 'd_area.fits')
    """
    base = split_fits_name(str(out))
    cards = template if isinstance(template, list) else template_cards(template)
    cards = difference_cards(diff, cards)
    names = (base + ".fits", base + "_area.fits")
    for name, array in zip(names, (diff.array, diff.area), strict=True):
        io.write_plain_image(name, array, cards)
    return names


# --------------------------------------------------------------------------
# All pairs
# --------------------------------------------------------------------------


@dataclass
class DiffExecResult:
    """
    Outcome of a `diffexec` run.

    Attributes
    ----------
    count : int
        Pairs attempted.
    failed : int
        Pairs that produced no difference.
    failures : list of tuple
        ``(Overlap, message)`` for every failed pair; the message names files.
    stats : dict
        ``{diff name: mDiff statistics}`` of the written differences.
    seconds : float
        Wall-clock time of the run.
    """

    count: int = 0
    failed: int = 0
    failures: list = field(default_factory=list)
    stats: dict = field(default_factory=dict)
    seconds: float = 0.0

    def as_montage(self) -> dict:
        """The dict MontagePy's mDiffExec returns."""
        return {"status": "0", "count": self.count, "failed": self.failed}


def check_output_dir(path) -> Path:
    """
    Check an output folder as mDiffExec does; raise `InputError` if unusable.

    Examples
    --------
    >>> check_output_dir("/nonexistent/diffs")
    Traceback (most recent call last):
    ...
    diffview.errors.InputError: Cannot access /nonexistent/diffs
    """
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
    root = os.path.abspath(folder or ".")
    where = os.path.abspath(path)
    if not name or not (
        where == root or where.startswith(root.rstrip(os.sep) + os.sep)
    ):
        raise PairError(f"{what} {name or '(empty name)'} is outside {folder}")
    return path


def _task_difference(reader: io.BoxReader, task, ctx) -> Difference:
    """The difference of a pair task ``(overlap, plus, minus, out)`` with
    the run's template geometry and options in ``ctx`` (diffexec's and
    difffitexec's workers)."""
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


def _diff_task(task, ctx, reader):
    _, plus, minus, out = task
    try:
        diff = _task_difference(reader, task, ctx)
        write_difference(diff, out, ctx["cards"])
        return True, "", diff.stats
    except PairError as exc:
        return False, f"{plus} - {minus}: {exc}", None
    except Exception as exc:  # one bad pair never stops the run; it is counted
        return False, f"{plus} - {minus}: {type(exc).__name__}: {exc}", None


def _diff_chunk(chunk):
    tasks, ctx = chunk
    with io.BoxReader() as reader:  # neighbouring pairs share images
        return [_diff_task(t, ctx, reader) for t in tasks]


def _pair_task(ov: Overlap, path, diffdir):
    try:
        plus = resolve_inside(path, ov.plus, "image")
        minus = resolve_inside(path, ov.minus, "image")
        out = resolve_inside(diffdir, ov.diff, "difference")
    except PairError as exc:
        return None, f"{ov.plus} - {ov.minus}: {exc}"
    return (ov, plus, minus, out), None


#: Below this estimated single-process time (seconds) a run stays in this
#: process: starting a pool of workers costs more than it saves.
POOL_THRESHOLD = 0.5
# measured on 2 cores: ~0.5 ms per m17 pair; 5e-8 s per pixel of a 2k x 2k
# overlap, nearly all of it reading the boxes and writing the two files
_SECONDS_PER_PAIR = 5e-4  # opening, writing and bookkeeping of one pair
_SECONDS_PER_PIXEL = 5e-8  # I/O and arithmetic per overlap pixel


def _worth_a_pool(tasks, ctx) -> bool:
    """Whether the run is big enough for a process pool (headers only)."""
    pixels, geo = 0, {}
    if len(tasks) * _SECONDS_PER_PAIR > POOL_THRESHOLD:
        return True
    for _, plus, minus, _ in tasks:
        try:
            for n in (plus, minus):
                if n not in geo:
                    geo[n] = io.image_geometry(_flux_name(n))
        except DiffviewError:
            continue  # counted as a failure later
        (s1, c1), (s2, c2) = geo[plus], geo[minus]
        box = overlap_box(
            ctx["shape"],
            template_offset(ctx["crpix"], c1),
            s1,
            template_offset(ctx["crpix"], c2),
            s2,
        )
        if box:
            pixels += (box[0][1] - box[0][0]) * (box[1][1] - box[1][0])
    estimate = len(tasks) * _SECONDS_PER_PAIR + pixels * _SECONDS_PER_PIXEL
    return estimate > POOL_THRESHOLD


def diffexec(
    path,
    diffs_table,
    template,
    diffdir,
    *,
    no_areas=False,
    montage_edges=False,
    executor=None,
    workers=None,
    quiet=False,
) -> DiffExecResult:
    """
    Difference every pair of a ``diffs.tbl`` (Montage's mDiffExec).

    Parameters
    ----------
    path : str or path-like
        Folder of the projected images (mDiffExec's ``-p``).
    diffs_table : str, path-like or list of Overlap
        The overlap table written by mOverlaps (or `find_overlaps` output).
    template : str or astropy.io.fits.Header
        The mosaic template ``.hdr``.
    diffdir : str or path-like
        Existing output folder.
    no_areas : bool
        Ignore area files (``-n``).
    montage_edges : bool
        Reproduce Montage's exclusion of the last template column and row.
    executor : concurrent.futures.Executor, optional
        Where pairs run, e.g. ``client.get_executor()`` of a dask cluster.
    workers : int, optional
        Local processes when no executor is given. Default: all cores, or
        this process alone when the run is too small for a pool to pay
        (estimated under `POOL_THRESHOLD` seconds from the overlap sizes).
    quiet : bool
        No progress bar.

    Returns
    -------
    DiffExecResult
        ``count``, ``failed`` and one message per failed pair.

    Raises
    ------
    diffview.InputError
        Unreadable table, missing columns, bad template or output folder.

    Examples
    --------
    >>> import tempfile
    >>> from diffview.datasets import write_sample
    >>> s = write_sample(tempfile.mkdtemp(), "small", quiet=True)
    >>> r = diffexec(s.proj_dir, s.diffs_tbl, s.template, s.diff_dir, quiet=True)
    >>> r.count == len(s.overlaps), r.failed >= 0
    (True, True)
    """
    start = time.perf_counter()
    if not isinstance(template, fits.Header):
        template = io.read_template(template)
    check_output_dir(diffdir)
    overlaps = (
        list(diffs_table)
        if isinstance(diffs_table, (list, tuple))
        else io.read_diffs_table(diffs_table)
    )
    shape, crpix = _template_geometry(template)
    ctx = {
        "shape": shape,
        "crpix": crpix,
        "cards": template_cards(template),
        "opts": {"no_areas": no_areas, "montage_edges": montage_edges},
    }
    result = DiffExecResult(count=len(overlaps))
    tasks = []
    for ov in overlaps:
        task, err = _pair_task(ov, str(path), str(diffdir))
        if err:
            result.failures.append((ov, err))
        else:
            tasks.append(task)
    if workers is None and executor is None and not _worth_a_pool(tasks, ctx):
        workers = 1
    chunks = split_chunks(tasks, workers, executor)
    outcomes = run_tasks(
        _diff_chunk,
        [(c, ctx) for c in chunks],
        executor=executor,
        workers=workers,
        quiet=quiet,
        desc="differences",
        sizes=[len(c) for c in chunks],
    )
    done = [o for part in outcomes for o in part]
    for task, (ok, msg, stats) in zip(tasks, done, strict=True):
        if ok:
            result.stats[task[0].diff] = stats
        else:
            result.failures.append((task[0], msg))
    result.failed = len(result.failures)
    result.seconds = time.perf_counter() - start
    return result
