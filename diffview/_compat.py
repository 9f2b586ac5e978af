"""
Old import paths of diffview 0.1, kept for one release with a warning.

diffview 0.2 moved its flat modules into subpackages by layer. ``import
diffview.pipeline`` (and the other 0.1 module paths) still works: a finder
installed by ``diffview/__init__.py`` answers those names with a small module
that forwards every attribute to its new home and warns once per old path
with a `DeprecationWarning` naming the new one.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import sys
import types
import warnings

__all__ = ["MOVED", "install"]

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


class _Forward(types.ModuleType):
    """A 0.1 module path: attributes come from the new module, with a warning."""

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        new = self.__dict__["_new_path"]
        warnings.warn(
            f"{self.__name__} is deprecated since diffview 0.2 and goes in 0.3: "
            f"use {new}.{name}",
            DeprecationWarning,
            stacklevel=2,
        )
        return getattr(importlib.import_module(new), name)

    def __dir__(self):
        return dir(importlib.import_module(self.__dict__["_new_path"]))


class _Loader(importlib.abc.Loader):
    def create_module(self, spec):
        module = _Forward(spec.name)
        module.__dict__["_new_path"] = MOVED[spec.name]
        return module

    def exec_module(self, module):
        pass


class _Finder(importlib.abc.MetaPathFinder):
    def find_spec(self, fullname, path=None, target=None):
        if fullname not in MOVED:
            return None
        return importlib.machinery.ModuleSpec(fullname, _Loader())


def install() -> None:
    """Answer the 0.1 module paths (idempotent)."""
    if not any(isinstance(f, _Finder) for f in sys.meta_path):
        sys.meta_path.append(_Finder())
