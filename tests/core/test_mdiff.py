"""mDiff's pixel rule: the numpy version and the compiled loop give the same bits."""

import subprocess
import sys

import numpy as np
import pytest

from diffview.core import AREA_TOLERANCE, _loader, difference
from diffview.core._kernels import mdiff as loop_mdiff
from diffview.core._mdiff import numpy_mdiff


def _hostile_boxes(rng):
    """Two boxes with NaN, +-inf, zero and negative values and areas."""
    ny, nx = rng.integers(1, 40, 2)
    v1 = rng.normal(size=(ny, nx)) * 10 ** rng.uniform(-3, 3)
    v2 = rng.normal(size=(ny, nx))
    a1, a2 = rng.uniform(0, 1.2, (ny, nx)), rng.uniform(0, 1.2, (ny, nx))
    for arr in (v1, v2, a1, a2):
        bad = rng.random((ny, nx)) < rng.uniform(0, 0.3)
        arr[bad] = rng.choice([np.nan, np.inf, -np.inf, 0.0, -1.0], bad.sum())
    return v1, a1, v2, a2, float(rng.choice([1.0, 0.5, 2.0]))


def _run(rule, v1, a1, v2, a2, factor):
    value, area = np.empty(v1.shape), np.empty(v1.shape)
    out = rule(v1, a1, v2, a2, factor, AREA_TOLERANCE, value, area)
    return value, area, np.array(out, float)


@pytest.mark.parametrize("seed", range(6))
def test_numpy_rule_is_bit_identical_to_the_compiled_loop(seed):
    rng = np.random.default_rng(seed)
    for _ in range(300):
        boxes = _hostile_boxes(rng)
        got, want = _run(numpy_mdiff, *boxes), _run(loop_mdiff, *boxes)
        for g, w in zip(got, want, strict=True):
            assert np.array_equal(g, w, equal_nan=True)


def test_a_process_switches_to_the_loop_after_its_numpy_budget(monkeypatch):
    # the shared rule (core._loader.use_compiled): numpy until what numpy
    # spent beyond the loop would reach the cost of loading it; here 100 pixels
    monkeypatch.setattr(_loader, "_numpy_spent", [0.0])
    budget = 100 * difference.DIFF_SECONDS_PER_PIXEL
    monkeypatch.setattr(_loader, "LOAD_SECONDS", budget)
    for name in _loader._GROUPS.values():  # a fresh process: no loops loaded
        monkeypatch.delitem(sys.modules, name, raising=False)
    assert difference._pixel_rule(40) is numpy_mdiff
    assert difference._pixel_rule(40) is numpy_mdiff  # 80 spent
    rule = difference._pixel_rule(40)  # 120 would pass the budget: the loop
    assert rule is not numpy_mdiff and rule is _loader.kernels().mdiff
    assert difference._pixel_rule(10**9) is rule  # loaded: the loop from now on


def test_a_small_mdiffexec_in_a_fresh_process_skips_numba(small_sample, tmp_path):
    code = (
        "import sys; from diffview.montage import mDiffExec; "
        f"r = mDiffExec({str(small_sample.proj_dir)!r}, "
        f"{str(small_sample.root / 'diffs.tbl')!r}, {str(small_sample.template)!r}, "
        f"{str(tmp_path)!r}); "
        "print(r['status'], r['count'], 'numba' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=300, check=True).stdout.split()
    assert out == ["0", "9", "False"]
