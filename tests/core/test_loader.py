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
