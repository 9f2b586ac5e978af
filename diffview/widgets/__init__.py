"""
The overlap-inspection dashboard (ipywidgets + ipympl).

``explore("work/M17")`` opens it on a Montage work folder: a ranked table of
overlap pairs, the selected pair as linked plus | minus | difference |
residual panels with mViewer stretches, a histogram with the fitted level, the
mosaic with every outline, flags, a re-solve of the background model and the
export of Montage-readable tables.

One state object, the pure-Python `Explorer`, holds what the user chose and
answers what is drawn: a user action calls one of its actions, which tells
the views (`Explorer.subscribe`) what changed, and the views read the state
back. The work-folder loader (`load_workspace`, `Workspace`, ...) is
`diffview.run`'s, re-exported here for convenience.
"""

from diffview.run import Preview, WorkFolder, Workspace, find_work, load_workspace
from diffview.widgets._controller import Explorer
from diffview.widgets._dashboard import Dashboard, explore
from diffview.widgets._model import (
    CHANGES,
    MEASURES,
    STRETCH_MODES,
    PairView,
    describe_fit,
    format_readout,
    read_pair_view,
)
from diffview.widgets._settings import DisplaySettings

__all__ = [
    "explore",
    "Dashboard",
    "Explorer",
    "PairView",
    "DisplaySettings",
    "MEASURES",
    "STRETCH_MODES",
    "CHANGES",
    "read_pair_view",
    "Workspace",
    "WorkFolder",
    "Preview",
    "find_work",
    "load_workspace",
    "format_readout",
    "describe_fit",
]


def __getattr__(name):
    # 0.1 names that were renamed in 0.2 (diffview.deprecations.RENAMED)
    from diffview.deprecations import forward

    return forward(__name__, name)
