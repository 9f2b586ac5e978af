"""
Opening the dashboard on raw images: the work folder is built first.

``explore("raw/")`` on a folder of raw FITS images (no image table) runs
`diffview.run.make_mosaic` into a work folder beside it (``raw-work/``, or
the one asked for): the image table, the template, reprojection, overlaps,
differences, fits, the background model and the mosaic, with a progress
line per stage. A rerun finds the work folder up to date and only opens it.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path

from diffview.errors import InputError
from diffview.run import STAGES, find_work, make_mosaic

__all__ = ["is_raw_folder", "default_work_dir", "build_work"]

_FITS = (".fits", ".fit", ".fts", ".fits.gz", ".fit.gz", ".fits.fz")
_STAGE_LINE = re.compile(r"^\[(\d+)/(\d+)\] (\w+)")


def is_raw_folder(work) -> bool:
    """
    Tell a folder of raw images (FITS files, no image table) from a work folder.

    Parameters
    ----------
    work : object
        What was given to `explore`.

    Returns
    -------
    bool
        True for a folder path that `diffview.run.find_work` does not accept
        and that holds at least one FITS file.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> raw = Path(tempfile.mkdtemp())
    >>> is_raw_folder(raw)
    False
    >>> _ = (raw / "a.fits").write_bytes(b"")
    >>> is_raw_folder(raw), is_raw_folder(str(raw)), is_raw_folder(object())
    (True, True, False)
    """
    if not isinstance(work, (str, os.PathLike)) or not Path(work).is_dir():
        return False
    try:
        find_work(work)
        return False
    except InputError:
        pass
    with os.scandir(work) as entries:
        return any(e.is_file() and e.name.lower().endswith(_FITS) for e in entries)


def default_work_dir(raw_dir) -> Path:
    """
    Return where a raw folder's work folder goes: beside it, ``<name>-work``.

    Parameters
    ----------
    raw_dir : str or path-like
        The raw images' folder.

    Returns
    -------
    pathlib.Path

    Examples
    --------
    >>> default_work_dir("/data/m101/raw").as_posix()
    '/data/m101/raw-work'
    """
    raw = Path(raw_dir).resolve()
    return raw.parent / f"{raw.name}-work"


def build_work(
    raw_dir,
    work_dir=None,
    progress: Callable[[str, int, int], None] | None = None,
) -> tuple[Path, str]:
    """
    Build (or bring up to date) the work folder of a folder of raw images.

    Parameters
    ----------
    raw_dir : str or path-like
        Raw FITS images with a celestial WCS (read only).
    work_dir : str or path-like, optional
        The work folder (default `default_work_dir`).
    progress : callable, optional
        ``progress(stage, done, total)`` after each stage of
        `diffview.run.STAGES`, stage ``'building the work folder: <name>'``.

    Returns
    -------
    work_dir : pathlib.Path
        The work folder, ready for `diffview.run.load_workspace`.
    note : str
        What was done and what failed (bad files are counted, not fatal).

    Raises
    ------
    diffview.InputError
        No usable raw image, or an unusable work folder.

    Examples
    --------
    >>> import tempfile
    >>> from diffview.sample import write_sample
    >>> s = write_sample(tempfile.mkdtemp(), "small")
    >>> seen = []
    >>> work, note = build_work(s.raw_dir, progress=lambda *a: seen.append(a))
    >>> (work / "images.tbl").exists(), seen[-1][1:], "built" in note
    (True, (9, 9), True)
    """
    raw = Path(raw_dir)
    work = Path(work_dir) if work_dir is not None else default_work_dir(raw)
    report = progress or (lambda stage, done, total: None)
    report("building the work folder", 0, len(STAGES))

    def log(line: str) -> None:
        m = _STAGE_LINE.match(line)
        if m:
            k, total, name = int(m[1]), int(m[2]), m[3]
            report(f"building the work folder: {name}", k, total)

    result = make_mosaic(raw, work, quiet=True, log=log)
    done = sum(st.done for st in result.stages)
    what = "built" if done else "opened (up to date)"
    note = f"work folder {what}: {work} (from the raw images in {raw})"
    failures = result.failures
    if failures:
        shown = "; ".join(failures[:3])
        more = f"; and {len(failures) - 3} more" if len(failures) > 3 else ""
        note += f"\n{len(failures)} raw files or pairs failed: {shown}{more}"
    return work, note
