"""
diffview: Montage-compatible overlap differences, plane fits and backgrounds.

It computes the overlap differences, plane fits and background models of
mosaics, and has Jupyter widgets to inspect them.

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
>>> r = diffview.compute_differences(s.proj_dir, s.diffs_tbl, s.template,
...                                  s.diff_dir, quiet=True)
>>> (r.count, r.failed) == (len(s.overlaps), 0)
True
>>> f = diffview.fit_planes(s.diffs_tbl, s.fits_tbl, s.diff_dir, quiet=True)
>>> f.count == r.count
True
"""

from __future__ import annotations

import importlib

from diffview import deprecations
from diffview.errors import DiffviewError, InputError, PairError
from diffview.models import Correction, Difference, Overlap, PlaneFit

__version__ = "0.2.0.dev0"

#: Top-level name -> the module that defines it (imported on first use).
_LAZY = {
    "find_overlaps": "diffview.geometry",
    "difference": "diffview.run",
    "differences": "diffview.run",
    "compute_differences": "diffview.run",
    "fit_planes": "diffview.run",
    "differences_and_fits": "diffview.run",
    "apply_corrections": "diffview.run",
    "make_mosaic": "diffview.run",
    "fit_plane": "diffview.core",
    "solve_montage": "diffview.core",
    "solve_direct": "diffview.core",
    "write_sample": "diffview.sample",
    "explore": "diffview.widgets",
}

_SUBPACKAGES = ("core", "geometry", "io", "run", "render", "montage", "cli", "sample",
                "widgets")

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

deprecations.install()


def __getattr__(name: str):
    if name in _SUBPACKAGES:
        return importlib.import_module(f"diffview.{name}")
    try:
        module = _LAZY[name]
    except KeyError:
        return deprecations.forward("diffview", name)
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(_LAZY) | set(_SUBPACKAGES))
