"""The package's layers: imports point one way, private names stay home.

The rules (README "Architecture"): `core` imports nothing of diffview but
`errors` and `models`; `geometry` and `io` at most `core`; `run` and `render`
those three, not each other; `montage`, `cli`, `sample` and `widgets` sit on
top. A subpackage's private modules and names are used only inside it.
"""

import ast
import pathlib
import subprocess
import sys

import pytest

PKG = pathlib.Path(__file__).resolve().parents[1] / "diffview"

#: subpackage -> the subpackages it may import from (besides itself).
BELOW = {
    "errors": set(),
    "models": set(),
    "deprecations": set(),
    "lazy": set(),
    "core": {"errors", "models"},
    "geometry": {"errors", "models", "core"},
    "io": {"errors", "models", "core"},
    "run": {"errors", "models", "core", "geometry", "io"},
    "render": {"errors", "models", "core", "geometry", "io"},
    "montage": {"errors", "models", "core", "geometry", "io", "run", "render"},
    "sample": {"errors", "models", "core", "geometry", "io", "run", "render"},
    "widgets": {"errors", "models", "core", "geometry", "io", "run", "render",
                "sample"},
    "cli": {"errors", "models", "core", "geometry", "io", "run", "render",
            "montage", "sample"},
}


def _modules():
    for path in sorted(PKG.rglob("*.py")):
        rel = path.relative_to(PKG).with_suffix("")
        parts = rel.parts
        name = "diffview." + ".".join(p for p in parts if p != "__init__")
        yield path, name.rstrip("."), parts[0]


def _imports(path, name):
    """(imported module, imported names) for every diffview import in a file."""
    tree = ast.parse(path.read_text())
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            if mod == "diffview" or mod.startswith("diffview."):
                yield mod, [a.name for a in node.names]
        elif isinstance(node, ast.Import):
            for a in node.names:
                if a.name.startswith("diffview"):
                    yield a.name, []


def _layer(module):
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "diffview"


@pytest.mark.parametrize("path,name,top", list(_modules()), ids=lambda v: str(v))
def test_imports_point_down_and_private_names_stay_home(path, name, top):
    top = top.removesuffix(".py")
    if name == "diffview" or top == "__main__":
        return
    allowed = BELOW[top] | {top, "deprecations", "lazy"}
    for mod, names in _imports(path, name):
        layer = _layer(mod)
        if layer == "diffview":  # `from diffview import x`: x is the layer
            for n in names:
                ok = n in allowed or n.startswith("__")
                assert ok, f"{name} imports diffview.{n}"
            continue
        assert layer in allowed, f"{name} ({top}) imports {mod} ({layer})"
        if layer != top:
            private = [p for p in mod.split(".") if p.startswith("_")]
            assert not private, f"{name} imports private module {mod}"
            bad = [n for n in names if n.startswith("_")]
            assert not bad, f"{name} imports private names {bad} from {mod}"


def test_modules_are_small_and_the_top_level_is_short():
    sizes = {p: len(p.read_text().splitlines()) for p in PKG.rglob("*.py")}
    big = {str(p.relative_to(PKG)): n for p, n in sizes.items() if n > 600}
    assert not big, big
    top_modules = [p for p in PKG.glob("*.py")]
    subpackages = [p for p in PKG.iterdir() if (p / "__init__.py").exists()]
    assert len(top_modules) <= 8, top_modules
    assert len(subpackages) >= 5, subpackages


def test_every_public_name_is_defined_once():
    seen = {}
    for path, name, _ in _modules():
        tree = ast.parse(path.read_text())
        for node in tree.body:
            if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
                if not node.name.startswith("_"):
                    seen.setdefault(node.name, []).append(name)
    twice = {k: v for k, v in seen.items() if len(v) > 1}
    assert not twice, twice


def test_every_module_lists_its_public_names():
    missing = [name for path, name, _ in _modules()
               if path.name not in ("__main__.py",)
               and "__all__" not in path.read_text()]
    assert not missing, missing


def _loaded_after(code):
    out = subprocess.run(
        [sys.executable, "-c", code + "\nimport sys; print(' '.join(sys.modules))"],
        check=True, capture_output=True, text=True)
    return set(out.stdout.split())


@pytest.mark.parametrize("module", [
    "diffview", "diffview.core", "diffview.geometry", "diffview.io", "diffview.run",
    "diffview.render", "diffview.montage", "diffview.cli", "diffview.sample"])
def test_below_the_widgets_no_ui_library_is_loaded(module):
    loaded = _loaded_after(f"import {module}")
    assert not {"matplotlib", "ipywidgets", "ipympl"} & loaded


@pytest.mark.parametrize("code", [
    "import diffview",
    "import diffview.montage",
    "import diffview.cli; diffview.cli.build_parser()",
    # python -m diffview --help, its text swallowed
    "import contextlib, io, runpy, sys; sys.argv = ['diffview', '--help']\n"
    "with contextlib.redirect_stdout(io.StringIO()), contextlib.suppress(SystemExit):\n"
    "    runpy.run_module('diffview', run_name='__main__')",
])
def test_help_and_the_montage_names_start_without_the_numerics(code):
    """``diffview --help`` and ``import diffview.montage`` load no numerics:
    each Montage step is a fresh process (tests/benchmarks/bench_startup.py)."""
    loaded = _loaded_after(code)
    heavy = {"numpy", "astropy", "numba", "matplotlib", "scipy"} & loaded
    assert not heavy, heavy


@pytest.mark.parametrize("package", ["diffview.montage", "diffview.io",
                                     "diffview.run", "diffview.geometry"])
def test_lazy_packages_list_every_name_once(package):
    import importlib

    mod = importlib.import_module(package)
    old = {"overlap_box", "template_offset"}  # geometry's 0.1 names, now core's
    assert set(mod._LAZY) - old == set(mod.__all__), package
    assert len(mod.__all__) == len(set(mod.__all__))
    assert set(mod.__all__) <= set(dir(mod))


def test_the_first_montage_name_loads_only_what_it_needs():
    loaded = _loaded_after("from diffview.montage import mDiffExec")
    assert not {"astropy.coordinates", "astropy.wcs", "matplotlib", "numba",
                "diffview.render", "diffview.geometry.outlines"} & loaded


def test_core_loads_no_file_or_plotting_library():
    loaded = _loaded_after("import diffview.core")
    assert not {"astropy.io.fits", "matplotlib", "ipywidgets"} & loaded
    assert not any(m.startswith("diffview.io") for m in loaded)


def test_import_does_not_load_the_compiler():
    """numba (~0.5 s with its loops) loads when the work pays for it, not with
    ``import diffview``, the CLI's start-up or a small fit."""
    code = (
        "import sys, diffview, diffview.cli, diffview.core\n"
        "assert 'numba' not in sys.modules\n"
        "import numpy as np\n"
        "diffview.core.fit_plane((np.arange(12.0).reshape(3, 4), (1.0, 1.0)))\n"
        "assert 'numba' not in sys.modules  # a small fit runs in numpy\n"
        "big = np.random.default_rng(0).normal(size=(2000, 2000))\n"
        "diffview.core.fit_plane((big, (1.0, 1.0)))\n"
        "assert 'numba' in sys.modules  # a big one pays for the loops\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_a_slow_first_load_of_the_compiled_loops_says_why():
    code = (
        "import diffview.core._loader as u\n"
        "u.COMPILE_NOTICE_AFTER = 0.0  # any load counts as slow\n"
        "u.kernels()\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], check=True, capture_output=True, text=True
    )
    assert "diffview: compiling its pixel loops (numba)" in out.stderr


def test_old_module_paths_warn_and_forward():
    code = (
        "import warnings\n"
        "warnings.simplefilter('error')\n"
        "from diffview.core import fit_plane\n"
        "try:\n"
        "    from diffview.fit import fit_plane as old\n"
        "except DeprecationWarning as w:\n"
        "    assert 'diffview.core.fit_plane' in str(w), w\n"
        "else:\n"
        "    raise SystemExit('no warning')\n"
        "warnings.simplefilter('ignore')\n"
        "from diffview.fit import fit_plane as old\n"
        "assert old is fit_plane\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
