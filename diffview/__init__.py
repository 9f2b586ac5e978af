"""
diffview: Montage-compatible overlap differences, plane fits and background
models for mosaics, and Jupyter widgets to inspect them.

The top level holds the everyday calls; the modules hold the rest:
`diffview.montage` (MontagePy's names and dicts), `diffview.io` (Montage's
files), `diffview.api` (arrays + WCS), `diffview.datasets` (sample data),
`diffview.render`/`diffview.mpl` (mViewer's pictures) and `diffview.widgets`
(the dashboard, imported on its own since it needs ipywidgets).

Examples
--------
>>> import tempfile, diffview
>>> s = diffview.write_sample(tempfile.mkdtemp(), "small")
>>> r = diffview.diffexec(s.proj_dir, s.diffs_tbl, s.template, s.diff_dir, quiet=True)
>>> (r.count, r.failed) == (len(s.overlaps), 0)
True
"""

from ._util import DiffviewError, InputError, PairError
from .api import difference, differences
from .bgmodel import solve_direct, solve_montage
from .datasets import write_sample
from .fit import fit_plane
from .fitexec import bgexec, difffitexec, fitexec
from .geometry import find_overlaps
from .models import Correction, Difference, Overlap, PlaneFit
from .pipeline import diffexec

__version__ = "0.1.0"

__all__ = [
    "Correction",
    "Difference",
    "Overlap",
    "PlaneFit",
    "DiffviewError",
    "InputError",
    "PairError",
    "find_overlaps",
    "difference",
    "differences",
    "diffexec",
    "fit_plane",
    "fitexec",
    "difffitexec",
    "solve_montage",
    "solve_direct",
    "bgexec",
    "write_sample",
    "__version__",
]
