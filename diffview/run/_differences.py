"""
File-level differencing: Montage work folders in, difference files out.

This is the layer that reads images (only the overlap box of each, memory
mapped), calls the pure-numpy `diffview.core`, writes results atomically and
runs all pairs on an executor. `diffview.montage` wraps it with MontagePy's
names and return values (mDiff, mDiffExec).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from diffview import io
from diffview.core import overlap_box, template_offset
from diffview.errors import DiffviewError, OutputError, PairError
from diffview.io.paths import split_fits_name
from diffview.models import Difference, Overlap
from diffview.run._pairs import (
    _difference_files,
    _flux_name,
    _full_edges,
    _overlaps,
    _run_chunked,
    _task_difference,
    _template_grid,
    check_output_dir,
    resolve_inside,
)

__all__ = [
    "compute_difference",
    "write_difference",
    "difference_header",
    "template_cards",
    "difference_cards",
    "compute_differences",
    "DifferencesResult",
]


# --------------------------------------------------------------------------
# One pair
# --------------------------------------------------------------------------


def compute_difference(
    plus,
    minus,
    template,
    *,
    no_areas=False,
    factor=1.0,
    full_edges=False,
    ids=(None, None),
    montage_edges=None,
) -> Difference:
    """
    Difference of two projected image files (Montage's mDiff, nothing written).

    Only the overlap box of each image and area file is read, memory-mapped.

    Parameters
    ----------
    plus, minus : str or path-like
        Projected images ``X.fits``; their areas are ``X_area.fits``.
    template : str, path-like, astropy.io.fits.Header or diffview.io.TemplateGrid
        The mosaic template (a ``.hdr`` file name, a header or a grid).
    no_areas : bool
        Ignore the area files (Montage's ``-n``).
    factor : float
        Scale applied to ``minus`` (mDiff's ``-z``).
    full_edges : bool
        Also difference the last template column and row, which Montage's
        mDiff never does (default: Montage's box; see
        `diffview.core.overlap_box` for when full edges help).
    ids : tuple
        ``(cntr1, cntr2)`` stored in the result.
    montage_edges : bool, optional
        Deprecated: ``montage_edges=False`` is ``full_edges=True``.

    Returns
    -------
    Difference
        The cropped difference, its area, CRPIX, box and mDiff's statistics.

    Raises
    ------
    diffview.PairError
        With mDiff's messages: ``Area file X_area.fits missing or invalid
        FITS``, ``Image file X.fits missing or invalid FITS``, ``Images don't
        overlap``, ``All pixels are blank.``.

    Examples
    --------
    Image ``a`` covers template columns 0-2 and ``b`` (CRPIX1 two pixels
    less) columns 2-4: they overlap on column 2, where 5 - 2 = 3.

    >>> import os, tempfile
    >>> import numpy as np
    >>> from astropy.io import fits
    >>> work = tempfile.mkdtemp()
    >>> for name, value, crpix1 in (("a", 5.0, 1.0), ("b", 2.0, -1.0)):
    ...     h = fits.Header({"CRPIX1": crpix1, "CRPIX2": 1.0})
    ...     fits.PrimaryHDU(np.full((2, 3), value), h).writeto(
    ...         os.path.join(work, name + ".fits"))
    >>> t = fits.Header({"NAXIS": 2, "NAXIS1": 6, "NAXIS2": 3, "CRPIX1": 1.0,
    ...                  "CRPIX2": 1.0})
    >>> d = compute_difference(os.path.join(work, "a.fits"),
    ...                        os.path.join(work, "b.fits"), t, no_areas=True)
    >>> d.bounds, d.array.tolist(), d.crpix
    (((0, 2), (2, 3)), [[3.0], [3.0]], (-1.0, 1.0))
    """
    grid = _template_grid(template)
    with io.BoxReader(keep=4) as reader:
        return _difference_files(
            reader,
            plus,
            minus,
            grid.shape,
            grid.crpix,
            no_areas=no_areas,
            factor=factor,
            full_edges=_full_edges(full_edges, montage_edges),
            ids=ids,
        )


def difference_header(diff: Difference, template):
    """
    FITS header of a difference: every template card, then the crop geometry.

    Parameters
    ----------
    diff : Difference
        The difference (its shape and CRPIX are used).
    template : astropy.io.fits.Header or diffview.io.TemplateGrid
        The mosaic template.

    Returns
    -------
    astropy.io.fits.Header
        ``SIMPLE``, ``BITPIX = -64``, ``NAXIS*`` of the crop, then the
        template's other cards with the crop's ``CRPIX1``/``CRPIX2``.

    Examples
    --------
    >>> import numpy as np
    >>> from astropy.io import fits
    >>> from diffview.models import Difference
    >>> t = fits.Header({"NAXIS": 2, "NAXIS1": 10, "NAXIS2": 8, "CRPIX1": 5.0,
    ...                  "CRPIX2": 4.0})
    >>> d = Difference(np.zeros((2, 3)), np.ones((2, 3)), (2.0, 1.0),
    ...                ((3, 5), (3, 6)))
    >>> h = difference_header(d, t)
    >>> h["NAXIS1"], h["NAXIS2"], h["CRPIX1"], h["BITPIX"]
    (3, 2, 2.0, -64)
    """
    from astropy.io import fits

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


def template_cards(template) -> list[str]:
    """
    Select the template's card images that a difference header copies.

    Parameters
    ----------
    template : astropy.io.fits.Header or diffview.io.TemplateGrid
        The mosaic template.

    Returns
    -------
    list of str
        80-character card images of every card but the geometry ones
        (``SIMPLE``, ``BITPIX``, ``NAXIS*``, ``EXTEND``, ``END``).

    Examples
    --------
    >>> from astropy.io import fits
    >>> t = fits.Header({"NAXIS": 2, "NAXIS1": 10, "CRPIX1": 5.0})
    >>> [c.split("=")[0].strip() for c in template_cards(t)]
    ['CRPIX1']
    """
    if isinstance(template, io.TemplateGrid):
        return [c for c in template.cards if c[:8].rstrip() not in _GEOMETRY_KEYS]
    return [card.image for card in template.cards if card.keyword not in _GEOMETRY_KEYS]


def difference_cards(diff: Difference, cards: list[str]) -> list[str]:
    """
    Card images of a difference: the template's, with the crop's CRPIX.

    CRPIX is written with 15 significant digits, as cfitsio writes doubles
    (``%.15G``), so the cards read back identical to Montage's.

    Parameters
    ----------
    diff : Difference
        The difference (its CRPIX is used).
    cards : list of str
        The template's card images (`template_cards`).

    Returns
    -------
    list of str
        ``cards`` with CRPIX1/CRPIX2 replaced (or appended when missing).

    Examples
    --------
    >>> import numpy as np
    >>> from diffview.models import Difference
    >>> d = Difference(np.zeros((2, 3)), np.ones((2, 3)), (2.0, 1.0),
    ...                ((3, 5), (3, 6)))
    >>> difference_cards(d, [io.card_image("CRPIX1", 5.0)])[0].split("/")[0].strip()
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
    header, a `diffview.io.TemplateGrid`, or its `template_cards` computed
    once for many pairs). They are written whole under temporary names,
    synced and renamed, both or neither, so an interrupted run leaves no
    partial file and no difference without its area.

    Parameters
    ----------
    diff : Difference
        The difference to write.
    out : str or path-like
        Name of the difference file.
    template : astropy.io.fits.Header, diffview.io.TemplateGrid or list of str
        The template, or its `template_cards`.

    Returns
    -------
    tuple of str
        The two file names written.

    Examples
    --------
    >>> import tempfile, os
    >>> import numpy as np
    >>> from astropy.io import fits
    >>> from diffview.models import Difference
    >>> t = fits.Header({"NAXIS": 2, "NAXIS1": 4, "NAXIS2": 2, "CRPIX1": 1.0,
    ...                  "CRPIX2": 1.0})
    >>> d = Difference(np.zeros((2, 4)), np.full((2, 4), 2.0), (1.0, 1.0),
    ...                ((0, 2), (0, 4)))
    >>> flux, area = write_difference(d, os.path.join(tempfile.mkdtemp(), "d"), t)
    >>> os.path.basename(flux), os.path.basename(area)
    ('d.fits', 'd_area.fits')
    """
    names, staged = _stage_difference(diff, out, template)
    io.commit_staged(staged)
    return names


def _stage_difference(diff: Difference, out, template):
    """Stage a difference's two files (not committed); their names and files."""
    base = split_fits_name(str(out))
    cards = template if isinstance(template, list) else template_cards(template)
    cards = difference_cards(diff, cards)
    names = (base + ".fits", base + "_area.fits")
    staged = io.stage_plain_images(
        zip(names, (diff.array, diff.area), (cards, cards), strict=True)
    )
    return names, staged


def _write_later(diff: Difference, out, cards, group):
    """Stage a pair's two files and hand them to ``group``; its future."""
    return group.submit(_stage_difference(diff, out, cards)[1])


# --------------------------------------------------------------------------
# All pairs
# --------------------------------------------------------------------------


@dataclass
class DifferencesResult:
    """
    Outcome of a `compute_differences` run.

    Parameters
    ----------
    count : int
        Pairs attempted.
    failed : int
        Pairs that produced no difference.
    failures : list of tuple
        ``(Overlap, message)`` for every failed pair; the message names files.
    output_error : str
        The first failure to write a pair's files (a full disk, no
        permission, an I/O error), as in ``failures``; '' when none. Such a
        failure is the machine's, not the pair's: every later pair may meet
        it too, so the command line says it even without ``-d``.
    stats : dict
        ``{diff name: mDiff statistics}`` of the written differences.
    seconds : float
        Wall-clock time of the run.

    Examples
    --------
    >>> r = DifferencesResult(count=3, failed=1)
    >>> r.as_montage()
    {'status': '0', 'count': 3, 'failed': 1}
    """

    count: int = 0
    failed: int = 0
    failures: list = field(default_factory=list)
    output_error: str = ""
    stats: dict = field(default_factory=dict)
    seconds: float = 0.0

    def as_montage(self) -> dict:
        """
        Return the dict MontagePy's mDiffExec returns.

        Returns
        -------
        dict
            ``{"status": "0", "count": ..., "failed": ...}``.

        Examples
        --------
        >>> DifferencesResult(count=5).as_montage()["count"]
        5
        """
        return {"status": "0", "count": self.count, "failed": self.failed}


def _diff_task(task, ctx, reader, group):
    """Difference one pair and hand its files to ``group``.

    Returns ``(ok, message, stats, future, written)``; the future (None for
    a failed pair) tells whether the files were committed; ``written`` is
    False when writing them failed (`OutputError`).
    """
    _, plus, minus, out = task
    try:
        diff = _task_difference(reader, task, ctx)
        future = _write_later(diff, out, ctx["cards"], group)
        return True, "", diff.stats, future, True
    except OutputError as exc:  # full disk, no permission, I/O error
        return False, f"{plus} - {minus}: {exc}", None, None, False
    except PairError as exc:
        return False, f"{plus} - {minus}: {exc}", None, None, True
    except Exception as exc:  # one bad pair never stops the run; it is counted
        msg = f"{plus} - {minus}: {type(exc).__name__}: {exc}"
        return False, msg, None, None, True


def _committed(task, outcome):
    """Return a pair's outcome once its files are committed (or failed to be).

    ``(ok, message, stats, written)``, as `_diff_task` without the future.
    """
    ok, msg, stats, future, written = outcome
    failed = future.exception() if future is not None else None
    if failed is None:
        return ok, msg, stats, written
    _, plus, minus, _ = task
    if isinstance(failed, DiffviewError):
        written = not isinstance(failed, OutputError)
        return False, f"{plus} - {minus}: {failed}", None, written
    return False, f"{plus} - {minus}: {type(failed).__name__}: {failed}", None, True


def _diff_chunk(chunk):
    tasks, ctx = chunk
    # neighbouring pairs share images; the pairs' files are synced together
    with io.BoxReader() as reader, io.GroupCommit() as group:
        done = [_diff_task(t, ctx, reader, group) for t in tasks]
    return [_committed(t, d) for t, d in zip(tasks, done, strict=True)]


def _pair_task(ov: Overlap, path, diffdir):
    try:
        plus = resolve_inside(path, ov.plus, "image")
        minus = resolve_inside(path, ov.minus, "image")
        out = resolve_inside(diffdir, ov.diff, "difference")
    except PairError as exc:
        return None, f"{ov.plus} - {ov.minus}: {exc}"
    return (ov, plus, minus, out), None


# measured on 2 cores: ~0.5 ms per m17 pair; 5e-8 s per pixel of a 2k x 2k
# overlap, nearly all of it reading the boxes and writing the two files
_SECONDS_PER_PAIR = 5e-4  # opening, writing and bookkeeping of one pair
_SECONDS_PER_PIXEL = 5e-8  # I/O and arithmetic per overlap pixel


def _pair_pixels(tasks, ctx):
    """Pixels of each pair's overlap box, from the headers (0: unreadable)."""
    geo = {}
    for _, plus, minus, _ in tasks:
        try:
            for n in (plus, minus):
                if n not in geo:
                    geo[n] = io.read_image_grid(_flux_name(n))
        except DiffviewError:
            yield 0  # counted as a failure later
            continue
        (s1, c1), (s2, c2) = geo[plus], geo[minus]
        box = overlap_box(
            ctx["shape"],
            template_offset(ctx["crpix"], c1),
            s1,
            template_offset(ctx["crpix"], c2),
            s2,
        )
        yield (box[0][1] - box[0][0]) * (box[1][1] - box[1][0]) if box else 0


def _pair_seconds(tasks, ctx):
    """Estimated seconds of each pair in one process, from the headers."""
    for n in _pair_pixels(tasks, ctx):
        yield _SECONDS_PER_PAIR + n * _SECONDS_PER_PIXEL


def compute_differences(
    path,
    diffs_table,
    template,
    diffdir,
    *,
    no_areas=False,
    full_edges=False,
    executor=None,
    workers=None,
    quiet=False,
    montage_edges=None,
) -> DifferencesResult:
    """
    Difference every pair of an overlap table into files (Montage's mDiffExec).

    Parameters
    ----------
    path : str or path-like
        Folder of the projected images (mDiffExec's ``-p``).
    diffs_table : str, path-like or list of Overlap
        The overlap table written by mOverlaps (or `find_overlaps` output).
    template : str, path-like, astropy.io.fits.Header or diffview.io.TemplateGrid
        The mosaic template ``.hdr`` (read without astropy when its cards
        are plain, `diffview.io.read_template_grid`).
    diffdir : str or path-like
        Existing output folder.
    no_areas : bool
        Ignore area files (``-n``).
    full_edges : bool
        Also difference the last template column and row, which Montage's
        mDiffExec never does (default: Montage's boxes; see
        `diffview.core.overlap_box` for when full edges help).
    executor : concurrent.futures.Executor, optional
        Where pairs run, e.g. ``client.get_executor()`` of a dask cluster.
    workers : int, optional
        Local processes when no executor is given. Default: all cores, or
        this process alone when the run is too small for a pool to pay
        (`pool_workers`, with the time estimated from the overlap sizes).
    quiet : bool
        No progress bar.
    montage_edges : bool, optional
        Deprecated: ``montage_edges=False`` is ``full_edges=True``.

    Returns
    -------
    DifferencesResult
        ``count``, ``failed`` and one message per failed pair.

    Raises
    ------
    diffview.InputError
        Unreadable table, missing columns, bad template or output folder.

    Examples
    --------
    >>> import tempfile
    >>> from diffview.sample import write_sample
    >>> s = write_sample(tempfile.mkdtemp(), "small", quiet=True)
    >>> r = compute_differences(s.proj_dir, s.diffs_tbl, s.template, s.diff_dir,
    ...                         quiet=True)
    >>> r.count == len(s.overlaps), r.failed
    (True, 0)
    >>> len(list(s.diff_dir.glob("*_area.fits"))) == r.count == len(r.stats)
    True
    """
    start = time.perf_counter()
    full_edges = _full_edges(full_edges, montage_edges)
    grid = _template_grid(template)
    check_output_dir(diffdir)
    overlaps = _overlaps(diffs_table)
    ctx = {
        "shape": grid.shape,
        "crpix": grid.crpix,
        "cards": template_cards(grid),
        "opts": {"no_areas": no_areas, "full_edges": full_edges},
    }
    result = DifferencesResult(count=len(overlaps))
    tasks = []
    for ov in overlaps:
        task, err = _pair_task(ov, str(path), str(diffdir))
        if err:
            result.failures.append((ov, err))
        else:
            tasks.append(task)
    done = _run_chunked(
        _diff_chunk,
        tasks,
        costs=_pair_seconds(tasks, ctx),
        executor=executor,
        workers=workers,
        quiet=quiet,
        desc="differences",
        context=ctx,
    )
    for task, (ok, msg, stats, written) in zip(tasks, done, strict=True):
        if ok:
            result.stats[task[0].diff] = stats
        else:
            result.failures.append((task[0], msg))
            if not written and not result.output_error:
                result.output_error = msg
    result.failed = len(result.failures)
    result.seconds = time.perf_counter() - start
    return result
