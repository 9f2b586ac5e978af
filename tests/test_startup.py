"""A small job in a fresh process loads only what it needs.

Montage users run one command per step, each a new process: for a job of a
few hundred pairs, importing numba and loading its loops (0.5-1 s), astropy
(0.2 s), scipy or tqdm costs more than the work. The fits and the
background model of a small job run in numpy and read their tables and
plain FITS files without astropy (tests/benchmarks/bench_cold.py times them
against MontagePy).
"""

import subprocess
import sys
from pathlib import Path

import pytest

from diffview.io import write_fits_table
from diffview.run import compute_differences, fit_planes

ROOT = Path(__file__).resolve().parents[1]

#: What a small fitexec or bgmodel must not load.
HEAVY = ("numba", "llvmlite", "scipy", "astropy", "tqdm", "matplotlib")

RUN = """
import sys
from diffview.cli import main
status = main({argv!r})
print(status, " ".join(sorted(sys.modules)))
"""


def _loaded(argv: list[str]) -> tuple[int, set[str]]:
    out = subprocess.run(
        [sys.executable, "-c", RUN.format(argv=argv)],
        capture_output=True, text=True, timeout=300, check=True,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
    ).stdout.split("\n")[-2].split()
    return int(out[0]), set(out[1:])


def _heavy(modules: set[str]) -> set[str]:
    return {m for m in modules if m.split(".")[0] in HEAVY}


@pytest.fixture(scope="module")
def work(small_sample, tmp_path_factory):
    """The small sample's differences and fits table, made in this process."""
    root = tmp_path_factory.mktemp("startup")
    diffs = root / "diffs"
    diffs.mkdir()
    s = small_sample
    compute_differences(s.proj_dir, s.diffs_tbl, s.template, diffs, quiet=True)
    write_fits_table(fit_planes(s.diffs_tbl, None, diffs, quiet=True).fits,
                     root / "fits.tbl")
    return s, root


def test_a_small_fitexec_loads_no_compiler_astropy_scipy_or_tqdm(work):
    s, root = work
    status, modules = _loaded(
        ["fitexec", str(s.diffs_tbl), str(root / "f.tbl"), str(root / "diffs")]
    )
    assert status == 0 and (root / "f.tbl").stat().st_size > 0
    assert not _heavy(modules), _heavy(modules)
    assert "diffview.core._kernels" not in modules  # fits in numpy


def test_a_small_bgmodel_loads_no_compiler_astropy_scipy_or_tqdm(work):
    s, root = work
    out = root / "corrections.tbl"
    status, modules = _loaded(
        ["bgmodel", str(s.images_tbl), str(root / "fits.tbl"), str(out)]
    )
    assert status == 0 and out.stat().st_size > 0
    assert not _heavy(modules), _heavy(modules)
    assert "diffview.core._kernels_bg" not in modules  # iterations in numpy


def test_a_big_fitexec_loads_only_the_pixel_loops(work, monkeypatch):
    """With the loading made free, the same job plans the compiled loops at its
    start: those of the fits, not mDiff's or mBgModel's."""
    s, root = work
    code = (
        "import diffview.core._loader as u; u.LOAD_SECONDS = 0.0\n"
        + RUN.format(argv=["fitexec", str(s.diffs_tbl), str(root / "g.tbl"),
                           str(root / "diffs")])
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=300,
        check=True, env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
    ).stdout.split("\n")[-2].split()
    modules = set(out[1:])
    assert out[0] == "0" and "diffview.core._kernels" in modules
    assert not {"diffview.core._kernels_bg", "diffview.core._kernels_diff"} & modules
    assert not {m for m in modules if m.split(".")[0] in ("astropy", "tqdm")}


CALL = """
import sys
from diffview.montage import {func}
r = {call}
assert r["status"] == "0", r
print(" ".join(sorted(sys.modules)))
"""


def _loaded_by(func: str, call: str) -> set[str]:
    """The modules a fresh process holds after ``diffview.montage.func``'s call."""
    out = subprocess.run(
        [sys.executable, "-c", CALL.format(func=func, call=call)],
        capture_output=True, text=True, timeout=300, check=True,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
    ).stdout.split("\n")[-2].split()
    return set(out)


def test_a_first_mdiffexec_loads_no_astropy(small_sample, tmp_path):
    """tests/benchmarks/bench_first.py times it against MontagePy's."""
    s = small_sample
    call = (f"mDiffExec({str(s.proj_dir)!r}, {str(s.diffs_tbl)!r}, "
            f"{str(s.template)!r}, {str(tmp_path)!r})")
    modules = _loaded_by("mDiffExec", call)
    assert len(list(tmp_path.glob("diff.*_area.fits"))) == len(s.overlaps)
    assert not _heavy(modules), _heavy(modules)


def test_a_first_mviewer_with_outlines_loads_no_wcs_tables_or_random(small_sample,
                                                                     tmp_path):
    """Outlines of plain TAN tiles need neither astropy's WCS nor its tables."""
    root = small_sample.root
    cmd = (f"-ct 1 -color yellow -imginfo {root}/images.tbl -color black -imginfo "
           f"{root}/rimages.tbl -gray {root}/mosaic.fits min max gaussian-log")
    call = f"mViewer({cmd!r}, {str(tmp_path / 'out.png')!r}, mode=2)"
    modules = _loaded_by("mViewer", call)
    assert (tmp_path / "out.png").stat().st_size > 0
    assert not {"astropy.wcs", "astropy.table", "astropy.coordinates",
                "numpy.random", "numba", "matplotlib", "scipy"} & modules
