"""
diffview: Montage-compatible overlap differences, plane fits and background
models for mosaics, and Jupyter widgets to inspect them.

The top level holds the everyday calls, loaded on first use so that
``import diffview`` stays cheap. The layers, bottom to top:

- `diffview.core`: numbers only (differences, plane fits, background solvers,
  quality measures);
- `diffview.geometry`: footprints, overlaps, outlines;
- `diffview.io`: Montage's tables, templates and FITS files;
- `diffview.run`: many pairs over work folders, in parallel, resumable;
- `diffview.render`: mViewer's stretches, colour tables and pictures;
- `diffview.montage` (MontagePy's names), `diffview.cli`, `diffview.sample`
  and `diffview.widgets` (the dashboard) on top.

Examples
--------
>>> import tempfile, diffview
>>> s = diffview.write_sample(tempfile.mkdtemp(), "small")
>>> r = diffview.diffexec(s.proj_dir, s.diffs_tbl, s.template, s.diff_dir, quiet=True)
>>> (r.count, r.failed) == (len(s.overlaps), 0)
True
"""

from __future__ import annotations

import importlib

from diffview import _compat
from diffview.errors import DiffviewError, InputError, PairError
from diffview.models import Correction, Difference, Overlap, PlaneFit

__version__ = "0.2.0.dev0"

#: Top-level name -> the module that defines it (imported on first use).
_LAZY = {
    "find_overlaps": "diffview.geometry",
    "difference": "diffview.run",
    "differences": "diffview.run",
    "diffexec": "diffview.run",
    "fitexec": "diffview.run",
    "difffitexec": "diffview.run",
    "bgexec": "diffview.run",
    "fit_plane": "diffview.core",
    "solve_montage": "diffview.core",
    "solve_direct": "diffview.core",
    "write_sample": "diffview.sample",
    "explore": "diffview.widgets",
}

__all__ = [
    "Correction",
    "Difference",
    "Overlap",
    "PlaneFit",
    "DiffviewError",
    "InputError",
    "PairError",
    *_LAZY,
    "__version__",
]

_compat.install()


def __getattr__(name: str):
    try:
        module = _LAZY[name]
    except KeyError:
        raise AttributeError(f"module 'diffview' has no attribute {name!r}") from None
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(_LAZY))
