"""
Drop-in replacements for MontagePy's functions.

``from diffview.montage import mDiffExec`` replaces
``from MontagePy.main import mDiffExec`` in an existing script: same names,
arguments, defaults and returned dicts (``status`` is the string ``'0'`` or
``'1'``, ``msg`` is bytes). Where Montage has a bug, diffview fixes it; each
function's Notes name the difference.
"""

from diffview.montage._diff import mDiff, mDiffExec, mOverlaps
from diffview.montage._fit import (
    mBackground,
    mBgExec,
    mBgModel,
    mDiffFitExec,
    mFitExec,
    mFitplane,
)
from diffview.montage._imgtbl import mImgtbl
from diffview.montage._viewer import mViewer

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
