"""
The compiled pixel loops (numba): loading them, and when they pay.

Every loop has a numpy twin with the same results (``_mdiff``,
``_fitplane``, ``background._iterate``). The compiled loops are faster per
pixel, but a fresh process pays `LOAD_SECONDS` to import numba and load them
from its cache. One rule decides for every caller (`use_compiled`): the
loops are used once they are loaded, or as soon as the work in numpy would
cost more than loading them (what numpy would spend beyond the loops,
summed over the process's calls so far). A job that knows its size (a run
over a table of pairs) asks once with its whole estimate, so that a large
job loads the loops at its start and a small one never does
(`plan_compiled`).
"""

from __future__ import annotations

import contextlib
import gc
import importlib
import os
import sys
import threading

__all__ = [
    "BLAS_PROBE",
    "kernels",
    "COMPILE_NOTICE_AFTER",
    "LOAD_SECONDS",
    "use_compiled",
    "plan_compiled",
]


#: Seconds of loading after which `kernels` says that it is compiling.
COMPILE_NOTICE_AFTER = 2.0

#: Seconds a fresh process spends importing numba and loading compiled
#: loops from numba's cache (0.4-0.7 s of CPU on a 2-core machine; numba
#: itself imports scipy, unless `BLAS_PROBE` says not to).
LOAD_SECONDS = 0.5

#: Environment variable: ``0`` loads the loops without numba's probe for a
#: BLAS. numba imports ``scipy.linalg`` (0.15 s, 0.26 s of CPU here) to find
#: one for ``np.dot`` and its kind, which diffview's loops never call. The
#: ``diffview`` command sets it for its own process and workers; a Python
#: session (a notebook, ``diffview.montage``) keeps the probe, so that the
#: user's own numba functions keep their BLAS.
BLAS_PROBE = "DIFFVIEW_NUMBA_BLAS"

#: What `BLAS_PROBE` ``0`` hides while numba loads, and the numba module
#: that looks for it once per process: scipy (its BLAS probe) and cffi
#: (numba's support of cffi functions, whose ``cffi.FFI()`` imports a C
#: parser: 15-20 ms warm). diffview's loops use neither.
_HIDDEN = {"scipy": "numba.np.arraymath", "cffi": "numba.core.typing.cffi_utils"}

#: The modules of compiled loops, by group: plane fits (and the way to every
#: loop, `kernels`' default), mDiff's pixel rule, mBgModel's iterations.
_GROUPS = {
    "pixels": "diffview.core._kernels",
    "diff": "diffview.core._kernels_diff",
    "background": "diffview.core._kernels_bg",
}

#: Seconds this process has spent in numpy beyond what the loops would have.
_numpy_spent = [0.0]


def kernels(group: str = "pixels"):
    """
    Return compiled loops (numba), importing them on first use.

    Importing numba costs ~0.3 s, which ``import diffview`` should not pay;
    each group of loops loads on its own, so that a command loads only the
    loops it runs. The first use after installing compiles the loops (a few
    seconds, once; later processes load them from numba's cache); if
    loading takes longer than `COMPILE_NOTICE_AFTER` seconds, one line on
    stderr says why.

    Parameters
    ----------
    group : {"pixels", "diff", "background"}
        ``"pixels"``: ``clip_fit`` (mFitplane's clipped fit),
        ``row_end_points`` (the row scan of its bounding box), the status
        codes ``STATUS_OK``, ``STATUS_SINGULAR``, and ``mdiff`` and
        ``bg_iterate``, which load their groups on first access.
        ``"diff"``: ``mdiff`` (mDiff's pixel rule) alone. ``"background"``:
        ``bg_iterate`` (mBgModel's iterations) alone.

    Returns
    -------
    module
        The loops.

    Examples
    --------
    >>> k = kernels()
    >>> k is kernels(), k.STATUS_SINGULAR
    (True, 2)
    """
    name = _GROUPS[group]
    module = sys.modules.get(name)
    if module is not None and not getattr(module.__spec__, "_initializing", False):
        return module
    # another thread may be importing it (the threads of a dask worker): the
    # import statement waits for it, where sys.modules holds it half-made
    notice = threading.Timer(COMPILE_NOTICE_AFTER, _compile_notice)
    notice.daemon = True
    notice.start()
    try:
        with _without_unused_numba_probes(), _cyclic_gc_paused():
            return importlib.import_module(name)
    finally:
        notice.cancel()


@contextlib.contextmanager
def _cyclic_gc_paused():
    """
    Pause the cyclic garbage collector while numba and the loops load.

    numba makes ~100,000 objects as it loads, none of them garbage, and
    so starts collection after collection, some of which walk everything
    loaded so far again (30-40 ms in all on this machine, a tenth of the
    load). Reference counting goes on as usual; the collector runs again
    afterwards, as before, unless it was off already.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


@contextlib.contextmanager
def _without_unused_numba_probes():
    """
    Hide scipy and cffi from numba while it loads, where `BLAS_PROBE` is ``0``.

    numba looks for a BLAS once per process, when it first sets up its
    array functions (``numba.np.arraymath``), by importing
    ``scipy.linalg.cython_blas``. With ``scipy`` missing from the import
    system for that moment, the probe fails at once and numba goes on
    without BLAS: ``np.dot`` and the like are then unavailable to this
    process's compiled functions, which diffview's loops do not use. In the
    same way numba goes on without its support of cffi functions, whose
    set-up imports cffi's C parser (15-20 ms). Once numba is set up, or once
    scipy or cffi is imported anyway, nothing is hidden; afterwards both
    import as usual.
    """
    if os.environ.get(BLAS_PROBE, "") != "0":
        yield
        return
    hidden = [
        name
        for name, user in _HIDDEN.items()
        if name not in sys.modules and user not in sys.modules
    ]
    for name in hidden:
        sys.modules[name] = None  # an import of it now raises ImportError
    try:
        yield
    finally:
        for name in hidden:
            if sys.modules.get(name, 0) is None:
                del sys.modules[name]


def _loaded() -> bool:
    """Tell whether compiled loops of any group are loaded.

    Once numba and one group are in, another group loads in a few
    hundredths of a second.
    """
    return any(name in sys.modules for name in _GROUPS.values())


def use_compiled(seconds: float, group: str = "pixels") -> bool:
    """
    Decide whether a piece of work runs in the compiled loops.

    The rule of every numpy/compiled choice: yes once compiled loops are
    loaded, or when the ``seconds`` numpy would spend beyond the loops on
    this work, added to what this process has so spent already, reach
    `LOAD_SECONDS`; otherwise numpy, and the seconds are counted. So a
    process never spends more than about `LOAD_SECONDS` in numpy beyond
    what loading the loops would have cost, and a short-lived one with
    little work never loads them.

    Parameters
    ----------
    seconds : float
        Estimated seconds numpy spends beyond the compiled loops on the work.
    group : {"pixels", "diff", "background"}
        The loops the work would run in (see `kernels`).

    Returns
    -------
    bool
        True: run it in ``kernels(group)`` (not loaded here); False: in numpy.

    Examples
    --------
    >>> use_compiled(2 * LOAD_SECONDS)  # more than loading the loops costs
    True
    """
    if _loaded() or _numpy_spent[0] + seconds >= LOAD_SECONDS:
        return True
    _numpy_spent[0] += seconds
    return False


def plan_compiled(seconds: float, group: str = "pixels") -> bool:
    """
    Load the compiled loops now if a whole job pays for them.

    For a job that knows its size: ``seconds`` is numpy's estimated extra
    time over all of it. When `use_compiled` would choose the loops for that
    much work, they are loaded here, before the job starts (before a pool of
    forked workers, which then inherit them), and every later call of the
    job runs compiled; otherwise nothing is counted, and the job's calls
    decide one by one.

    Parameters
    ----------
    seconds : float
        Estimated seconds numpy would spend beyond the compiled loops on the
        whole job.
    group : {"pixels", "diff", "background"}
        The loops the job runs in.

    Returns
    -------
    bool
        Whether the loops are loaded (now or before).

    Examples
    --------
    >>> plan_compiled(2 * LOAD_SECONDS)  # a big job: the loops are loaded
    True
    >>> "diffview.core._kernels" in sys.modules
    True
    """
    if _loaded() or _numpy_spent[0] + seconds >= LOAD_SECONDS:
        kernels(group)
        return True
    return False


def _compile_notice() -> None:
    print(
        "diffview: compiling its pixel loops (numba), once after installing; "
        "this takes a few seconds",
        file=sys.stderr,
        flush=True,
    )
