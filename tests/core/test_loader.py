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


# numba loads in the main thread while another thread imports scipy
WITHOUT_SCIPY = """
import sys, threading
from diffview.core._loader import kernels
seen = []
def other():
    import scipy.linalg  # never refused: only numba's own import skips scipy
    seen.append(scipy.linalg.__name__)
t = threading.Thread(target=other)
t.start()
k = kernels()
t.join()
import numpy as np
out = k.clip_fit(np.arange(35.0).reshape(5, 7), 1.0, 1.0, 0, False, 20, 1e-10,
                 np.zeros(0, bool))
import scipy.linalg.cython_blas  # later imports work as usual
left = [f for f in sys.meta_path if type(f).__name__ == "_NoScipy"]
print(seen == ["scipy.linalg"], round(out[1], 9), left == [])
"""


def test_numba_loads_without_scipy_and_other_threads_still_import_it():
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    out = subprocess.run(
        [sys.executable, "-c", WITHOUT_SCIPY], env=env, capture_output=True,
        text=True, timeout=300, check=True,
    ).stdout.split()
    assert out == ["True", "1.0", "True"]  # a = 1 per column; no finder left
