"""
The render pool: a process-wide pair of threads (`_Job`).

They deflate PNG blocks and draw outlines while the main thread builds the
histogram.
"""

from __future__ import annotations

import os

__all__: list[str] = []

_POOL = None


def _pool():
    """
    Return the process's two-thread pool, started on first use.

    It is kept for the whole process (starting threads for every picture
    cost more than the parallel work saved): it deflates PNG blocks and
    draws outlines while the histogram is built.
    """
    global _POOL
    if _POOL is None:
        from concurrent.futures import ThreadPoolExecutor

        _POOL = ThreadPoolExecutor(max_workers=2, thread_name_prefix="diffview-render")
    return _POOL


def _forget_pool():
    """Forget the pool in a forked child, which has none of its parent's threads."""
    global _POOL
    _POOL = None


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_pool)


class _Job:
    """
    ``fn(*args)``, started on the process's pool when ``background``.

    Otherwise it is run by `result`. `result` waits for it, or runs it in the calling
    thread when the pool has not started it yet, so nothing ever waits on a
    pool that is busy elsewhere; errors are raised by `result`.
    """

    def __init__(self, fn, *args, background: bool = True):
        self.fn, self.args = fn, args
        self.future = _pool().submit(fn, *args) if background else None

    def done(self) -> bool:
        """Tell whether `result` would not wait for the pool."""
        return self.future is None or self.future.done()

    def result(self):
        """``fn(*args)``'s value (run here if the pool has not started it)."""
        if self.future is None or self.future.cancel():
            return self.fn(*self.args)
        return self.future.result()


def _row_blocks(ny: int, step: int):
    """(r0, r1) row ranges of at most ``step`` rows covering ``0..ny``."""
    step = max(1, int(step))
    return [(r0, min(ny, r0 + step)) for r0 in range(0, ny, step)]
