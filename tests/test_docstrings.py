"""Docstrings: ruff's pydocstyle rules (numpy convention) and numpydoc sections.

(a) ``ruff check --select D diffview`` reports nothing (configuration in
pyproject.toml); (b) every public function and class reachable from the
``__all__`` of diffview and its subpackages has a numpydoc docstring with
the sections its signature calls for, and an Examples section.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import diffview

PACKAGE_DIR = Path(diffview.__file__).resolve().parent
REPO_DIR = PACKAGE_DIR.parent

MODULES = (
    "diffview",
    "diffview.core",
    "diffview.core.background",
    "diffview.geometry",
    "diffview.io",
    "diffview.run",
    "diffview.render",
    "diffview.render.mpl",
    "diffview.montage",
    "diffview.cli",
    "diffview.sample",
    "diffview.widgets",
)

_SECTION = re.compile(r"^[ \t]*([A-Z][A-Za-z ]+)[ \t]*\n[ \t]*-{3,}[ \t]*$", re.M)


def test_ruff_pydocstyle_clean():
    pytest.importorskip("ruff")
    proc = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "--no-cache", "--select", "D",
         "--output-format", "concise", str(PACKAGE_DIR)],
        cwd=REPO_DIR, capture_output=True, text=True, check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def _sections(doc: str) -> set[str]:
    """Return the numpydoc section titles of a docstring."""
    return {m.group(1).strip() for m in _SECTION.finditer(inspect.cleandoc(doc))}


def _public_objects():
    """Yield (qualified name, object) of every public function and class."""
    seen = set()
    for modname in MODULES:
        module = importlib.import_module(modname)
        for name in module.__all__:
            if name.startswith("_"):
                continue
            obj = getattr(module, name)
            if not (inspect.isclass(obj) or inspect.isfunction(obj)):
                continue
            if not getattr(obj, "__module__", "").startswith("diffview"):
                continue
            if id(obj) in seen:
                continue
            seen.add(id(obj))
            yield f"{modname}.{name}", obj


PUBLIC = sorted(_public_objects(), key=lambda item: item[0])


def _takes_parameters(func) -> bool:
    """Return True when ``func`` takes parameters other than self/cls."""
    try:
        sig = inspect.signature(func)
    except (TypeError, ValueError):
        return False
    return any(p not in ("self", "cls") for p in sig.parameters)


def _function_node(func):
    """Return the ast node of a function's definition, or None."""
    try:
        source = textwrap.dedent(inspect.getsource(func))
    except (OSError, TypeError):
        return None
    tree = ast.parse(source)
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            return node
    return None


_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)


def _own_nodes(node):
    """Yield the nodes of a function body, not entering nested scopes."""
    stack = [child for child in node.body if not isinstance(child, _SCOPES)]
    while stack:
        child = stack.pop()
        yield child
        stack.extend(sub for sub in ast.iter_child_nodes(child)
                     if not isinstance(sub, _SCOPES))


def _returns_and_yields(func) -> tuple[bool, bool]:
    """Return whether ``func`` returns a value, and whether it yields."""
    node = _function_node(inspect.unwrap(func))
    if node is None:
        return False, False
    annotation = node.returns
    if isinstance(annotation, ast.Constant) and annotation.value in (None, "None"):
        return False, False
    returns = yields = False
    for child in _own_nodes(node):
        if isinstance(child, ast.Return) and child.value is not None and not (
            isinstance(child.value, ast.Constant) and child.value.value is None
        ):
            returns = True
        elif isinstance(child, (ast.Yield, ast.YieldFrom)):
            yields = True
    return returns, yields


def _init_takes_parameters(cls) -> bool:
    """Return True when constructing ``cls`` takes parameters."""
    for klass in cls.__mro__:
        if klass is object:
            return False
        for name in ("__init__", "__new__"):
            member = klass.__dict__.get(name)
            if member is None:
                continue
            if isinstance(member, staticmethod):
                member = member.__func__
            if not inspect.isfunction(member):
                return False  # a builtin's (exceptions: message arguments)
            return _takes_parameters(member)
    return False


def test_public_names_found():
    names = {name.rsplit(".", 1)[1] for name, _ in PUBLIC}
    assert {"fit_plane", "compute_differences", "InputError"} <= names
    assert len(PUBLIC) > 50


@pytest.mark.parametrize(("name", "obj"), PUBLIC, ids=[n for n, _ in PUBLIC])
def test_numpydoc_sections(name, obj):
    doc = inspect.getdoc(obj) if inspect.isfunction(obj) else obj.__doc__
    assert doc and doc.strip(), f"{name}: no docstring"
    sections = _sections(doc)
    missing = []
    if inspect.isclass(obj):
        if _init_takes_parameters(obj) and not sections & {"Parameters",
                                                           "Attributes"}:
            missing.append("Parameters or Attributes")
    else:
        if _takes_parameters(obj) and "Parameters" not in sections:
            missing.append("Parameters")
        returns, yields = _returns_and_yields(obj)
        if yields and "Yields" not in sections:
            missing.append("Yields")
        elif returns and not yields and "Returns" not in sections:
            missing.append("Returns")
    if "Examples" not in sections:
        missing.append("Examples")
    assert not missing, f"{name}: missing {', '.join(missing)}"
