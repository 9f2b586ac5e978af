"""
The overlap-inspection dashboard (ipywidgets + ipympl).

``explore("work/M17")`` opens it on a Montage work folder: a ranked table of
overlap pairs, the selected pair as linked plus | minus | difference |
residual panels with mViewer stretches, a histogram with the fitted level, the
mosaic with every outline, flags, a re-solve of the background model and the
export of Montage-readable tables. The logic lives in the pure-Python
`Explorer`; the widgets only draw what it answers.
"""

from diffview.run.workspace import (
    Preview,
    WorkFolder,
    Workspace,
    find_work,
    load_workspace,
)
from diffview.widgets._dashboard import Dashboard, explore
from diffview.widgets._state import (
    MEASURES,
    Explorer,
    PairView,
    Stretch,
    describe_fit,
    format_readout,
)

__all__ = [
    "explore",
    "Dashboard",
    "Explorer",
    "PairView",
    "Stretch",
    "MEASURES",
    "Workspace",
    "WorkFolder",
    "Preview",
    "find_work",
    "load_workspace",
    "format_readout",
    "describe_fit",
]
