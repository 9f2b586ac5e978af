"""Loading the compiled pixel loops (numba) on first use."""

from __future__ import annotations

import sys
import threading

__all__ = ["kernels", "COMPILE_NOTICE_AFTER"]


#: Seconds of loading after which `kernels` says that it is compiling.
COMPILE_NOTICE_AFTER = 2.0


def kernels():
    """
    Return the compiled pixel loops (numba), importing them on first use.

    Importing numba costs ~0.3 s, which ``import diffview`` should not pay.
    The first use after installing compiles the loops (~10 s, once; later
    processes load them from numba's cache); if loading takes longer than
    `COMPILE_NOTICE_AFTER` seconds, one line on stderr says why.

    Returns
    -------
    module
        The loops: ``mdiff`` (mDiff's pixel rule), ``clip_fit``
        (mFitplane's clipped fit), ``row_end_points`` and ``hull_box``
        (its bounding box), ``bg_iterate`` (mBgModel's iterations), and the
        status codes ``STATUS_OK``, ``STATUS_SINGULAR``.

    Examples
    --------
    >>> k = kernels()
    >>> k is kernels(), k.STATUS_SINGULAR
    (True, 2)
    """
    module = sys.modules.get("diffview.core._kernels")
    if module is not None and not getattr(module.__spec__, "_initializing", False):
        return module
    # another thread may be importing it (the threads of a dask worker): the
    # import statement waits for it, where sys.modules holds it half-made
    notice = threading.Timer(COMPILE_NOTICE_AFTER, _compile_notice)
    notice.daemon = True
    notice.start()
    try:
        from diffview.core import _kernels
    finally:
        notice.cancel()
    return _kernels


def _compile_notice() -> None:
    print(
        "diffview: compiling its pixel loops (numba), once after installing; "
        "this takes about 10 s",
        file=sys.stderr,
        flush=True,
    )
