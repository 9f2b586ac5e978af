"""Loading the compiled loops: `diffview.core._loader.kernels`."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# four threads ask for the loops at once in a fresh process, as the threads
# of a dask worker do with their first pairs
RACE = """
import threading
from diffview.core._loader import kernels
errors = []
def use():
    try:
        kernels().row_end_points
    except AttributeError as exc:
        errors.append(exc)
threads = [threading.Thread(target=use) for _ in range(4)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(len(errors))
"""


def test_threads_loading_at_once_all_get_the_whole_module():
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    out = subprocess.run(
        [sys.executable, "-c", RACE], env=env, capture_output=True, text=True,
        timeout=120, check=True,
    )
    assert out.stdout.strip() == "0"


# every group of loops compiled (a fresh cache) and run without numba's BLAS
# probe, then a small difference-fit-model chain; prints what it wrote
NO_PROBE = """
import json, sys, tempfile
from pathlib import Path
from diffview.core import kernels
for group in ("pixels", "diff", "background"):
    kernels(group)
loaded_scipy = "scipy" in sys.modules
import numba.np.arraymath
blas = numba.np.arraymath._HAVE_BLAS
from numba.core.typing import cffi_utils
cffi_support = cffi_utils.SUPPORTED
import importlib.util
has_cffi = importlib.util.find_spec("cffi") is not None  # found again after
import scipy.linalg  # imports as usual once the loops are loaded
from diffview.montage import mBgModel, mDiffFitExec
from diffview.sample import write_sample
w = Path(tempfile.mkdtemp()) / "w"
write_sample(w, "small")
(w / "d").mkdir()
r1 = mDiffFitExec(str(w / "projected"), str(w / "diffs.tbl"), str(w / "template.hdr"),
                  str(w / "d"), str(w / "fits.tbl"))
r2 = mBgModel(str(w / "images.tbl"), str(w / "fits.tbl"), str(w / "corr.tbl"))
print(json.dumps({"status": [r1["status"], r2["status"]], "scipy": loaded_scipy,
                  "blas": blas, "cffi": [cffi_support, has_cffi],
                  "fits": (w / "fits.tbl").read_text(),
                  "corrections": (w / "corr.tbl").read_text()}))
"""


def _chain(tmp_path, **extra):
    import json

    from diffview.core import BLAS_PROBE

    env = {k: v for k, v in os.environ.items() if k != BLAS_PROBE}
    env.update(PYTHONPATH=str(ROOT), **extra)
    out = subprocess.run(
        [sys.executable, "-c", NO_PROBE], env=env, capture_output=True, text=True,
        timeout=600, check=True, cwd=tmp_path,
    )
    return json.loads(out.stdout)


def test_loops_compile_and_agree_without_numbas_blas_probe(tmp_path):
    from diffview.core import BLAS_PROBE

    without = _chain(tmp_path, **{BLAS_PROBE: "0",
                                  "NUMBA_CACHE_DIR": str(tmp_path / "cache")})
    usual = _chain(tmp_path)  # a Python session: numba probes for its BLAS
    assert without["status"] == usual["status"] == ["0", "0"]
    # the probe was skipped: scipy not imported while numba set up, no BLAS
    assert (without["scipy"], without["blas"]) == (False, False)
    assert (usual["scipy"], usual["blas"]) == (True, True)
    # nor numba's cffi support, which builds a C parser (cffi installed or not)
    assert without["cffi"][0] is False
    assert usual["cffi"][0] is usual["cffi"][1]
    # the same loops, the same files, to the last digit
    assert without["fits"] == usual["fits"]
    assert without["corrections"] == usual["corrections"]
    assert len(usual["fits"].splitlines()) > 5  # a header and the pairs


# the loops loaded in a fresh process, counting the garbage collections
# that start meanwhile; then whether the collector is on again
GC_WHILE_LOADING = """
import gc, sys
from diffview.core import kernels
starts = []
gc.callbacks.append(lambda phase, info: starts.append(1) if phase == "start" else None)
if sys.argv[1] == "off":
    gc.disable()
kernels()
print(len(starts) <= 1, gc.isenabled())
"""


def test_no_garbage_collection_while_the_loops_load():
    env = dict(os.environ, PYTHONPATH=str(ROOT))

    def load(how):
        out = subprocess.run([sys.executable, "-c", GC_WHILE_LOADING, how], env=env,
                             capture_output=True, text=True, timeout=300, check=True)
        return out.stdout.split()

    # numba's ~100,000 objects would start some 220 collections, two of
    # them full; one young one may start as the collector comes back on
    assert load("on") == ["True", "True"]
    # a collector the caller had turned off stays off
    assert load("off") == ["True", "False"]
