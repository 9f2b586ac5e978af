"""
The work folder of `make_mosaic` and what its run reports.

`MosaicFolder` names the files (`LAYOUT`), `StageResult` and `MosaicResult`
count what each stage did; all are exported from `diffview.run.chain`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["LAYOUT", "MosaicFolder", "StageResult", "MosaicResult"]


#: ``MosaicFolder`` attribute -> (path in the work folder, what it holds).
LAYOUT = {
    "raw_images_tbl": ("rimages.tbl", "Image table of the raw images (mImgtbl)."),
    "template": ("template.hdr", "The mosaic template (mMakeHdr)."),
    "proj_dir": ("projected", "Projected images and their areas (mProjExec)."),
    "images_tbl": ("images.tbl", "Image table of the projected images."),
    "diffs_tbl": ("diffs.tbl", "Overlapping pairs (mOverlaps)."),
    "diff_dir": ("diffs", "Differences and their areas (mDiffExec)."),
    "fits_tbl": ("fits.tbl", "Plane fits of the differences (mFitExec)."),
    "corrections_tbl": ("corrections.tbl", "Background corrections (mBgModel)."),
    "corr_dir": ("corrected", "Corrected images and their areas (mBgExec)."),
    "mosaic": ("mosaic.fits", "The mosaic (mAdd; its area is mosaic_area.fits)."),
}


@dataclass(frozen=True)
class MosaicFolder:
    """
    Where `make_mosaic` reads and writes: Montage's tutorial layout.

    The attributes of `LAYOUT` (paths in ``root``) have the names
    `diffview.run.find_work` and `diffview.sample.Sample` use, so
    ``explore(folder)`` opens it.

    Parameters
    ----------
    root : pathlib.Path
        The work folder.
    raw_dir : pathlib.Path
        The raw images (read only).

    Examples
    --------
    >>> f = MosaicFolder(Path("work"), Path("raw"))
    >>> f.images_tbl.as_posix(), f.corr_dir.as_posix(), f.mosaic.name
    ('work/images.tbl', 'work/corrected', 'mosaic.fits')
    """

    root: Path
    raw_dir: Path


def _layout_property(rel: str, doc: str) -> property:
    return property(lambda self: self.root / rel, doc=doc)


for _name, (_rel, _doc) in LAYOUT.items():
    setattr(MosaicFolder, _name, _layout_property(_rel, _doc))


@dataclass
class StageResult:
    """
    What one stage of `make_mosaic` did.

    Parameters
    ----------
    name : str
        The stage (see `STAGES`).
    done : int
        Files or rows made in this run (0 for a skipped table stage).
    kept : int
        Files or tables already up to date, not redone.
    failures : list of str
        One message per bad file or pair, counted and skipped.
    seconds : float
        Wall-clock time.

    Examples
    --------
    >>> StageResult("project", done=3, kept=1).failed
    0
    """

    name: str
    done: int = 0
    kept: int = 0
    failures: list = field(default_factory=list)
    seconds: float = 0.0

    @property
    def failed(self) -> int:
        """Bad files or pairs (int)."""
        return len(self.failures)


@dataclass
class MosaicResult:
    """
    Outcome of `make_mosaic`.

    Parameters
    ----------
    folder : MosaicFolder
        Where everything is.
    stages : list of StageResult
        One per stage, in `STAGES` order.

    Examples
    --------
    >>> r = MosaicResult(MosaicFolder(Path("w"), Path("r")),
    ...                  [StageResult("imgtbl", failures=["a.fits: bad FITS"])])
    >>> r.failures, r.stage("imgtbl").done
    (['a.fits: bad FITS'], 0)
    """

    folder: MosaicFolder
    stages: list = field(default_factory=list)

    @property
    def failures(self) -> list:
        """Every stage's messages, in order (list of str)."""
        return [msg for s in self.stages for msg in s.failures]

    def stage(self, name: str) -> StageResult:
        """
        Return the result of one stage.

        Parameters
        ----------
        name : str
            A name of `STAGES`.

        Returns
        -------
        StageResult
        """
        return next(s for s in self.stages if s.name == name)
