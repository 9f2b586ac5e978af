"""The engine stays free of plotting and widget libraries."""

import subprocess
import sys

ENGINE = [
    "diffview",
    "diffview.models",
    "diffview.io",
    "diffview.geometry",
    "diffview.engine",
    "diffview.pipeline",
    "diffview.montage",
    "diffview.api",
    "diffview.imgtbl",
    "diffview.mosaic",
    "diffview.datasets",
    "diffview.fit",
    "diffview.fitexec",
    "diffview.bgmodel",
    "diffview.quality",
    "diffview.demo",
    "diffview.stretch",
    "diffview.colortables",
    "diffview.outlines",
    "diffview.render",
    "diffview.cli",
]


def test_engine_imports_no_ui_library():
    code = (
        "import importlib, sys\n"
        f"for m in {ENGINE!r}:\n"
        "    importlib.import_module(m)\n"
        "bad = {'matplotlib', 'ipywidgets', 'ipympl'} & set(sys.modules)\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_import_does_not_load_the_compiler():
    """numba (~0.3 s to import) loads with the first fit or difference, not
    with ``import diffview`` or the CLI's start-up."""
    code = (
        "import sys, diffview, diffview.cli, diffview.fit, diffview.engine\n"
        "assert 'numba' not in sys.modules\n"
        "import numpy as np\n"
        "diffview.fit.fit_plane((np.arange(12.0).reshape(3, 4), (1.0, 1.0)))\n"
        "assert 'numba' in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_a_slow_first_load_of_the_compiled_loops_says_why():
    code = (
        "import diffview._util as u\n"
        "u.COMPILE_NOTICE_AFTER = 0.0  # any load counts as slow\n"
        "u.kernels()\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], check=True, capture_output=True, text=True
    )
    assert "diffview: compiling its pixel loops (numba)" in out.stderr
