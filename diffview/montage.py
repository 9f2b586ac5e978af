"""
Drop-in replacements for MontagePy's functions.

``from diffview.montage import mDiffExec`` replaces
``from MontagePy.main import mDiffExec`` in an existing script: same names,
arguments, defaults and returned dicts (``status`` is the string ``'0'`` or
``'1'``, ``msg`` is bytes). Where Montage has a bug, diffview fixes it; each
function's Notes name the difference.
"""

from ._montage_diff import mDiff, mDiffExec, mOverlaps
from ._montage_fit import (
    mBackground,
    mBgExec,
    mBgModel,
    mDiffFitExec,
    mFitExec,
    mFitplane,
)
from ._montage_imgtbl import mImgtbl
from ._montage_viewer import mViewer

__all__ = [
    "mImgtbl",
    "mOverlaps",
    "mDiff",
    "mDiffExec",
    "mFitplane",
    "mFitExec",
    "mDiffFitExec",
    "mBgModel",
    "mBackground",
    "mBgExec",
    "mViewer",
]
