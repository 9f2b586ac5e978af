"""
Where the files of a Montage work folder are: `find_work`.

A work folder holds an image table, a template, the projected images and
optionally the overlap, fit and correction tables, the differences and the
mosaic; `find_work` finds them by Montage's usual names.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from diffview.errors import InputError

__all__ = ["WorkFolder", "find_work"]

# Montage's tutorials name the raw table images.tbl and the projected one
# pimages.tbl: when both are there, the projected one is the one to open.
_IMAGE_TABLES = ("pimages.tbl", "images.tbl", "proj.tbl", "projected.tbl")
_DIFF_TABLES = ("diffs.tbl",)
_FIT_TABLES = ("fits.tbl",)
_CORRECTION_TABLES = ("corrections.tbl",)
_TEMPLATES = ("template.hdr", "region.hdr", "mosaic.hdr")
_PROJ_DIRS = ("projected", "proj", "pimages", "projdir")
_DIFF_DIRS = ("diffs", "diff", "diffdir")
_MOSAICS = ("mosaic.fits",)


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
    root : Path or None
        The work folder itself (default: the image table's folder); the
        dashboard's exports go below it.

    Examples
    --------
    >>> from pathlib import Path
    >>> f = WorkFolder(Path("p"), Path("images.tbl"), Path("t.hdr"), Path("d"))
    >>> f.fits_tbl is None, f.top
    (True, PosixPath('.'))
    """

    proj_dir: Path
    images_tbl: Path
    template: Path
    diff_dir: Path
    diffs_tbl: Path | None = None
    fits_tbl: Path | None = None
    corrections_tbl: Path | None = None
    mosaic: Path | None = None
    root: Path | None = None

    @property
    def top(self) -> Path:
        """The work folder: ``root``, or the image table's folder."""
        return self.root if self.root is not None else Path(self.images_tbl).parent


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
        root=get("root"),
    )


def find_work(work) -> WorkFolder:
    """
    Locate the files of a Montage work folder.

    Parameters
    ----------
    work : str, path-like, WorkFolder or object
        A folder holding ``pimages.tbl`` or ``images.tbl`` (the image table
        of the projected images; ``pimages.tbl`` first), a ``.hdr``
        template, the projected images (in ``projected/`` or next to the
        table), optional ``diffs.tbl``, ``fits.tbl``, ``corrections.tbl``,
        ``mosaic.fits`` and ``diffs/``; or any object with attributes
        ``proj_dir images_tbl template diff_dir`` (and optionally
        ``diffs_tbl fits_tbl corrections_tbl mosaic``), such as the result of
        `diffview.sample.write_sample`.

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
        root=root,
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
