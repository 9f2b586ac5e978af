"""
Old import paths and names of diffview 0.1, kept for one release with a warning.

diffview 0.2 moved its flat modules into subpackages by layer. ``import
diffview.pipeline`` (and the other 0.1 module paths) still works: a finder
installed by ``diffview/__init__.py`` answers those names with a small module
that forwards every attribute to its new home and warns with a
`DeprecationWarning` naming the new one. Names that were renamed
(`RENAMED`) forward too.
"""

from __future__ import annotations

import importlib
import importlib.machinery
import sys
import types
import warnings

__all__ = ["MOVED", "RENAMED", "install", "forward"]

#: Old module path -> new module path (diffview 0.1 -> 0.2).
MOVED = {
    "diffview.engine": "diffview.core",
    "diffview.fit": "diffview.core",
    "diffview.quality": "diffview.core",
    "diffview.bgmodel": "diffview.core.background",
    "diffview.outlines": "diffview.geometry",
    "diffview.imgtbl": "diffview.io",
    "diffview.pipeline": "diffview.run",
    "diffview.fitexec": "diffview.run",
    "diffview.api": "diffview.run",
    "diffview.mosaic": "diffview.run",
    "diffview.stretch": "diffview.render",
    "diffview.colortables": "diffview.render",
    "diffview.mpl": "diffview.render.mpl",
    "diffview.datasets": "diffview.sample",
    "diffview.demo": "diffview.sample",
}

#: (old module, old name) -> (new module, new name) for names that changed.
RENAMED = {
    ("diffview", "diffexec"): ("diffview.run", "compute_differences"),
    ("diffview", "fitexec"): ("diffview.run", "fit_planes"),
    ("diffview", "difffitexec"): ("diffview.run", "differences_and_fits"),
    ("diffview", "bgexec"): ("diffview.run", "apply_corrections"),
    ("diffview.pipeline", "diffexec"): ("diffview.run", "compute_differences"),
    ("diffview.pipeline", "DiffExecResult"): ("diffview.run", "DifferencesResult"),
    ("diffview.fitexec", "fitexec"): ("diffview.run", "fit_planes"),
    ("diffview.fitexec", "difffitexec"): ("diffview.run", "differences_and_fits"),
    ("diffview.fitexec", "bgexec"): ("diffview.run", "apply_corrections"),
    ("diffview.fitexec", "FitExecResult"): ("diffview.run", "FitPlanesResult"),
    ("diffview.fitexec", "BgExecResult"): ("diffview.run", "CorrectionsResult"),
    ("diffview.engine", "difference"): ("diffview.core", "difference_on_grid"),
    ("diffview.bgmodel", "MODES"): ("diffview.core.background", "SOLVER_MODES"),
    ("diffview.stretch", "MODES"): ("diffview.render", "STRETCH_MODES"),
    ("diffview.io", "image_geometry"): ("diffview.io", "read_image_grid"),
    ("diffview.widgets", "Stretch"): ("diffview.widgets", "DisplaySettings"),
}


def forward(old_module: str, name: str):
    """
    Look up a 0.1 name of ``old_module``, warning where it has moved.

    Parameters
    ----------
    old_module : str
        The module path the name was looked up on (``"diffview.fitexec"``).
    name : str
        The attribute asked for.

    Returns
    -------
    object
        The object now at the new path.

    Raises
    ------
    AttributeError
        When ``name`` was never a 0.1 name of ``old_module``.

    Examples
    --------
    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     f = forward("diffview.fitexec", "fitexec")
    >>> f.__name__, "diffview.run.fit_planes" in str(caught[0].message)
    ('fit_planes', True)
    """
    if (old_module, name) in RENAMED:
        new_module, new_name = RENAMED[old_module, name]
    elif old_module in MOVED:
        new_module, new_name = MOVED[old_module], name
    else:
        raise AttributeError(f"module {old_module!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(new_module), new_name)
    warnings.warn(
        f"{old_module}.{name} is deprecated since diffview 0.2 and goes in 0.3: "
        f"use {new_module}.{new_name}",
        DeprecationWarning,
        stacklevel=3,
    )
    return value


class _Forward(types.ModuleType):
    """A 0.1 module path: attributes come from the new module, with a warning."""

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        return forward(self.__name__, name)

    def __dir__(self):
        return dir(importlib.import_module(self.__dict__["_new_path"]))


# The import protocol's loader and finder, without subclassing importlib.abc's
# ABCs: importing importlib.abc costs ~25 ms, on every ``import diffview``.
class _Loader:
    def create_module(self, spec):
        module = _Forward(spec.name)
        module.__dict__["_new_path"] = MOVED[spec.name]
        return module

    def exec_module(self, module):
        pass


class _Finder:
    def find_spec(self, fullname, path=None, target=None):
        if fullname not in MOVED:
            return None
        return importlib.machinery.ModuleSpec(fullname, _Loader())


def install() -> None:
    """Answer the 0.1 module paths (idempotent)."""
    if not any(isinstance(f, _Finder) for f in sys.meta_path):
        sys.meta_path.append(_Finder())
