"""
Names of a package resolved on first use (PEP 562).

Each subpackage lists, for every public name, the module that defines it;
`attach` makes the package's ``__getattr__`` and ``__dir__`` from that table,
so that importing the package loads none of its modules and ``from
diffview.run import compute_differences`` loads only the modules that name
needs (the idea of scientific-python's ``lazy_loader.attach``).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable, Mapping

__all__ = ["attach", "module"]


def attach(
    package: str,
    lazy: Mapping[str, str],
    names: Iterable[str],
    fallback: Callable[[str, str], object] | None = None,
):
    """
    Make a package's ``__getattr__`` and ``__dir__`` from a table of names.

    Parameters
    ----------
    package : str
        The package's ``__name__``.
    lazy : mapping of str to str
        Public name -> the module that defines it, relative (``".fits"``) to
        ``package`` or absolute.
    names : iterable of str
        The package's ``__all__``, listed by ``__dir__``.
    fallback : callable, optional
        ``fallback(package, name)`` for a name not in ``lazy`` (e.g.
        `diffview.deprecations.forward` for renamed 0.1 names); without it
        such a name raises `AttributeError`.

    Returns
    -------
    getattr, dir : callable
        The module-level ``__getattr__`` and ``__dir__`` to bind. A name, once
        looked up, is stored in the package, so later look-ups are plain.

    Examples
    --------
    >>> import sys, types
    >>> pkg = types.ModuleType("demo_pkg")
    >>> sys.modules["demo_pkg"] = pkg
    >>> pkg.__getattr__, pkg.__dir__ = attach("demo_pkg", {"sqrt": "math"}, ["sqrt"])
    >>> pkg.sqrt(9.0), "sqrt" in dir(pkg)
    (3.0, True)
    """
    table = dict(lazy)
    public = list(names)

    def __getattr__(name: str):
        try:
            module = table[name]
        except KeyError:
            if fallback is not None:
                return fallback(package, name)
            raise AttributeError(
                f"module {package!r} has no attribute {name!r}"
            ) from None
        value = getattr(importlib.import_module(module, package), name)
        setattr(importlib.import_module(package), name, value)
        return value

    def __dir__():
        return sorted(set(vars(importlib.import_module(package))) | set(public))

    return __getattr__, __dir__


class _Module:
    """A module imported on its first attribute access (see `module`)."""

    def __init__(self, name: str):
        self._name = name

    def __getattr__(self, attr: str):
        return getattr(importlib.import_module(self._name), attr)

    def __repr__(self) -> str:
        return f"<module {self._name!r}, imported on first use>"


def module(name: str):
    """
    Return a stand-in for a module that imports it on first attribute use.

    For a module used by a few functions of a module that is imported on
    every command's path: ``fits = module("astropy.io.fits")`` costs
    nothing until ``fits.open(...)`` runs (astropy.io.fits: ~0.2 s of a
    fresh process).

    Parameters
    ----------
    name : str
        The module's absolute name.

    Returns
    -------
    object
        Its attributes are the module's.

    Examples
    --------
    >>> json = module("json")
    >>> json.dumps([1])
    '[1]'
    """
    return _Module(name)
