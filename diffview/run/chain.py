"""
Raw images to a background-matched mosaic in one call, resumable: `make_mosaic`.

`make_mosaic` runs Montage's whole chain on a folder of raw images, with
diffview's functions, into a work folder laid out as `MosaicFolder` says
(``rimages.tbl``, ``template.hdr``, ``projected/``, ``images.tbl``,
``diffs.tbl``, ``diffs/``, ``fits.tbl``, ``corrections.tbl``, ``corrected/``,
``mosaic.fits``): the raw image table (mImgtbl), the template (mMakeHdr),
reprojection (mProjExec), the projected image table (mImgtbl), overlaps
(mOverlaps), differences (mDiffExec), plane fits (mFitExec), the background
model (mBgModel), corrected images (mBgExec) and the coadd (mAdd).

Like ``make``, a stage whose outputs exist and are newer than its inputs is
skipped, and the file stages (projection, differences, corrections) redo only
the files that are missing or older than their inputs, so a rerun after an
interruption picks up where it stopped. Every file is written atomically.
A bad raw file or pair is counted with a message, never fatal.
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from diffview import io
from diffview.core import image_geometry, solve_montage
from diffview.errors import InputError
from diffview.geometry import find_overlaps

from ._chain_folder import LAYOUT, MosaicFolder, MosaicResult, StageResult
from ._differences import compute_differences
from .add import add_images
from .corrections import apply_corrections
from .fits import fit_planes
from .header import bounding_header
from .project import project_images, projected_name

# the folder and result classes live in ``_chain_folder`` (exported here)
__all__ = [
    "MosaicFolder",
    "StageResult",
    "MosaicResult",
    "make_mosaic",
    "STAGES",
    "LAYOUT",
]

#: The stages of `make_mosaic`, in order, with the Montage program each replaces.
STAGES = (
    ("imgtbl", "mImgtbl"),
    ("template", "mMakeHdr"),
    ("project", "mProjExec"),
    ("overlaps", "mOverlaps"),
    ("differences", "mDiffExec"),
    ("fits", "mFitExec"),
    ("bgmodel", "mBgModel"),
    ("corrections", "mBgExec"),
    ("coadd", "mAdd"),
)


# --------------------------------------------------------------------------
# Freshness: make's rule on modification times
# --------------------------------------------------------------------------


def _mtime(path) -> int | None:
    try:
        return os.stat(path).st_mtime_ns
    except OSError:
        return None


def _fresh(outputs, inputs) -> bool:
    """Every output exists and none is older than an existing input."""
    out = [_mtime(p) for p in outputs]
    if any(t is None for t in out):
        return False
    newest = max((t for t in map(_mtime, inputs) if t is not None), default=0)
    return min(out) >= newest


def _raw_inputs(raw_dir: Path) -> list:
    return [raw_dir, *(e.path for e in os.scandir(raw_dir) if e.is_file())]


def _pair(path) -> list:
    return [path, io.area_name(str(path))]


# --------------------------------------------------------------------------
# The stages
# --------------------------------------------------------------------------


@dataclass
class _Run:
    folder: MosaicFolder
    template: object
    workers: int | None
    executor: object
    quiet: bool
    log: Callable[[str], None]
    header: object = None  # the template, once known

    def opts(self) -> dict:
        return {"workers": self.workers, "executor": self.executor, "quiet": self.quiet}


def _imgtbl(run: _Run, st: StageResult) -> None:
    f = run.folder
    if _fresh([f.raw_images_tbl], _raw_inputs(f.raw_dir)):
        st.kept = 1
        return
    r = io.make_image_table(f.raw_dir, absolute=False)
    st.failures += [f"{f.raw_dir / n}: not a readable FITS file" for n in r.badfits]
    st.failures += [f"{f.raw_dir / n}: no usable celestial WCS" for n in r.badwcs]
    if len(r.table) == 0:
        raise InputError(f"{f.raw_dir}: no FITS image with a celestial WCS")
    io.write_images_table(r.table, f.raw_images_tbl)
    st.done = len(r.table)


def _template(run: _Run, st: StageResult) -> None:
    f = run.folder
    if run.template is not None:
        given = run.template
        if not hasattr(given, "tostring"):
            given = io.read_template(given)
        have = io.read_template(f.template) if f.template.exists() else None
        if have is None or have.tostring() != given.tostring():
            io.write_template(given, f.template)
            st.done = 1
        else:
            st.kept = 1
    elif _fresh([f.template], [f.raw_images_tbl]):
        st.kept = 1
    else:
        made = bounding_header(io.read_table(f.raw_images_tbl))
        io.write_file(f.template, made.text.encode())
        st.done = 1
    run.header = io.read_template(f.template)


def _projected_name(row, colnames) -> str:
    hdu = int(row["hdu"]) if "hdu" in colnames else 0
    return projected_name(str(row["fname"]), hdu)


def _project(run: _Run, st: StageResult) -> None:
    f = run.folder
    raw = io.read_table(f.raw_images_tbl)
    names = [_projected_name(row, raw.colnames) for row in raw]
    todo = [
        k
        for k, row in enumerate(raw)
        if not _fresh(
            _pair(f.proj_dir / names[k]), [f.raw_dir / str(row["fname"]), f.template]
        )
    ]
    st.kept = len(raw) - len(todo)
    if todo:
        r = project_images(raw[todo], f.raw_dir, run.header, f.proj_dir, **run.opts())
        st.done, st.failures = r.count, list(r.failed)
    # a raw image that failed again changes nothing downstream
    if st.done or not _fresh([f.images_tbl], [f.raw_images_tbl, f.proj_dir]):
        _projected_table(f, names)


def _projected_table(f: MosaicFolder, names) -> None:
    # the projected images of the raw table's rows only (not stale leftovers)
    ok = {n for n in names if all(os.path.exists(p) for p in _pair(f.proj_dir / n))}
    table = io.make_image_table(f.proj_dir, absolute=False).table
    keep = [str(n) in ok for n in table["fname"]]
    if not any(keep):
        raise InputError(f"{f.raw_dir}: no image could be projected on the template")
    io.write_images_table(table[keep], f.images_tbl)


def _overlaps(run: _Run, st: StageResult) -> None:
    f = run.folder
    if _fresh([f.diffs_tbl], [f.images_tbl]):
        st.kept = 1
        return
    overlaps = find_overlaps(io.read_table(f.images_tbl))
    io.write_diffs_table(overlaps, f.diffs_tbl)
    st.done = len(overlaps)


def _diff_file(f: MosaicFolder, ov) -> str:
    return io.montage_file_path(str(f.diff_dir), ov.diff)


def _differences(run: _Run, st: StageResult) -> None:
    f = run.folder
    overlaps = io.read_diffs_table(f.diffs_tbl)
    proj = str(f.proj_dir)
    todo = [
        ov
        for ov in overlaps
        if not _fresh(
            _pair(_diff_file(f, ov)),
            [io.montage_file_path(proj, ov.plus), io.montage_file_path(proj, ov.minus)],
        )
    ]
    st.kept = len(overlaps) - len(todo)
    if todo:
        f.diff_dir.mkdir(exist_ok=True)
        r = compute_differences(f.proj_dir, todo, run.header, f.diff_dir, **run.opts())
        st.done = r.count - r.failed
        st.failures = [msg for _, msg in r.failures]


def _fits(run: _Run, st: StageResult) -> None:
    f = run.folder
    if _fresh([f.fits_tbl], [f.diffs_tbl, f.diff_dir]):
        st.kept = 1
        return
    overlaps = [
        ov
        for ov in io.read_diffs_table(f.diffs_tbl)
        if os.path.exists(_diff_file(f, ov))
    ]
    f.diff_dir.mkdir(exist_ok=True)
    r = fit_planes(overlaps, f.fits_tbl, f.diff_dir, **run.opts())
    st.done = len(r.fits)
    st.failures = [msg for _, msg in r.failures]


def _bgmodel(run: _Run, st: StageResult) -> None:
    f = run.folder
    if _fresh([f.corrections_tbl], [f.fits_tbl, f.images_tbl]):
        st.kept = 1
        return
    images = image_geometry(io.read_table(f.images_tbl), name=str(f.images_tbl))
    # MontagePy's mBgModel defaults: mode 0, Montage's rejection rules
    corrections = solve_montage(images, io.read_fits_table(f.fits_tbl))
    io.write_corrections_table(corrections, f.corrections_tbl)
    st.done = len(corrections)


def _corrections(run: _Run, st: StageResult) -> None:
    f = run.folder
    table = io.read_table(f.images_tbl)
    todo = [
        k
        for k, row in enumerate(table)
        if not _fresh(
            _pair(f.corr_dir / os.path.basename(str(row["fname"]))),
            [f.corrections_tbl, f.proj_dir / str(row["fname"])],
        )
    ]
    st.kept = len(table) - len(todo)
    if not todo:
        return
    f.corr_dir.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="diffview-") as tmp:
        subset = Path(tmp) / "todo.tbl"
        io.write_images_table(table[todo], subset)
        r = apply_corrections(
            f.proj_dir, subset, f.corrections_tbl, f.corr_dir, **run.opts()
        )
    st.done = r.count - r.failed
    st.failures = [f"{path}: {msg}" for path, msg in r.failures]


def _coadd(run: _Run, st: StageResult) -> None:
    f = run.folder
    if _fresh([f.mosaic], [f.images_tbl, f.corrections_tbl, f.corr_dir, f.template]):
        st.kept = 1
        return
    table = io.read_table(f.images_tbl)
    keep = [
        all(os.path.exists(p) for p in _pair(f.corr_dir / os.path.basename(str(n))))
        for n in table["fname"]
    ]
    add_images(table[keep], f.corr_dir, run.header, out=f.mosaic)
    st.done = int(sum(keep))


_STEPS = {
    "imgtbl": _imgtbl,
    "template": _template,
    "project": _project,
    "overlaps": _overlaps,
    "differences": _differences,
    "fits": _fits,
    "bgmodel": _bgmodel,
    "corrections": _corrections,
    "coadd": _coadd,
}


def _summary(k: int, st: StageResult) -> str:
    if st.done == 0 and st.kept and not st.failures:
        what = "up to date"
    else:
        what = f"{st.done} done, {st.kept} up to date, {st.failed} failed"
    return f"[{k}/{len(STAGES)}] {st.name}: {what} ({st.seconds:.1f} s)"


def _check_folders(raw_dir: Path, root: Path) -> None:
    if not raw_dir.is_dir():
        raise InputError(f"{raw_dir}: raw image folder not found")
    if root.exists() and not root.is_dir():
        raise InputError(f"{root}: exists and is not a folder")
    if root.resolve() == raw_dir.resolve():
        raise InputError(
            f"{root}: the work folder must not be the raw folder (its outputs would "
            "be read as raw images on the next run)"
        )


def make_mosaic(
    raw_dir,
    work_dir,
    *,
    template=None,
    workers: int | None = None,
    executor=None,
    quiet: bool = False,
    log: Callable[[str], None] | None = None,
) -> MosaicResult:
    """
    Make a background-matched mosaic from a folder of raw images, resumably.

    Runs the stages of `STAGES` (Montage's mImgtbl, mMakeHdr, mProjExec,
    mImgtbl, mOverlaps, mDiffExec, mFitExec, mBgModel, mBgExec, mAdd) into
    ``work_dir``; see `MosaicFolder` for the files. A stage or file that is
    up to date (newer than its inputs) is kept, so a rerun only does what is
    missing or stale. Each stage uses Montage's defaults (mBgModel's are
    MontagePy's: mode 0).

    Parameters
    ----------
    raw_dir : str or path-like
        Folder of raw FITS images with celestial WCS (not modified; files
        that are not FITS or have no WCS are counted and skipped).
    work_dir : str or path-like
        The work folder (created if missing; must not be ``raw_dir``).
    template : str, path-like or astropy.io.fits.Header, optional
        The mosaic's frame (a ``.hdr`` file or a header), written to
        ``template.hdr``; default: mMakeHdr's box of least area around the
        raw images (`bounding_header`).
    workers, executor, quiet
        As for `compute_differences`: processes or an executor for the file
        stages; ``quiet`` also silences the stage lines.
    log : callable, optional
        Receives one line per stage and per bad file (default: ``print``,
        unless ``quiet``).

    Returns
    -------
    MosaicResult
        Each stage's counts and messages, and the folder.

    Raises
    ------
    diffview.InputError
        Missing raw folder, no usable raw image, or an unusable work folder.

    Examples
    --------
    >>> import tempfile
    >>> from diffview.sample import write_sample
    >>> s = write_sample(tempfile.mkdtemp(), "small")
    >>> r = make_mosaic(s.raw_dir, s.root / "work", quiet=True)
    >>> r.folder.mosaic.exists(), r.stage("project").done == len(s.truth)
    (True, True)
    >>> again = make_mosaic(s.raw_dir, s.root / "work", quiet=True)
    >>> sum(st.done for st in again.stages)
    0
    """
    raw_dir, root = Path(raw_dir), Path(work_dir)
    _check_folders(raw_dir, root)
    if log is None:
        log = (lambda line: None) if quiet else (lambda line: print(line, flush=True))
    root.mkdir(parents=True, exist_ok=True)
    run = _Run(MosaicFolder(root, raw_dir), template, workers, executor, quiet, log)
    result = MosaicResult(run.folder)
    for k, (name, _) in enumerate(STAGES, start=1):
        st = StageResult(name)
        start = time.perf_counter()
        _STEPS[name](run, st)
        st.seconds = time.perf_counter() - start
        result.stages.append(st)
        log(_summary(k, st))
        for msg in st.failures:
            log(f"  {msg}")
    return result
