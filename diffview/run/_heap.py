"""
glibc's reuse of freed memory for tasks run in a worker someone else started.

dask's nanny starts its worker processes with ``MALLOC_TRIM_THRESHOLD_=65536``
(``distributed.nanny.pre-spawn-environ``). Like any explicit malloc setting,
that switches glibc's adaptive thresholds off: every free that leaves 64 KiB
at the top of the heap gives it back to the system, and every array over
128 KiB is mapped afresh, so each pair's arrays come back as new pages that
the kernel must zero on first touch. On the 400-tile field's 2,184 pairs the
one-pass fits then took 258,000 minor page faults and twice the CPU of the
local pool's workers (6,000 faults).

`keep_heap` runs one task with the thresholds glibc's adaptive rule reaches
for large arrays (arrays up to 32 MiB from the heap, 64 MiB of free top kept)
and, when the last such task of the process ends, gives the free memory back
(``malloc_trim``) and restores the thresholds the process was started with:
between tasks the worker holds no more than dask asked for. Processes
without the setting (any other executor's workers), and systems other than
Linux with glibc, run the task untouched.

The local pool's workers are diffview's own, and live for one run:
`hold_freed_memory` gives them those thresholds for their whole life.
glibc's adaptive rule alone does not reach them there: it raises the trim
threshold to twice the largest array freed so far, and a fit frees its
difference and five arrays of its valid pixels at once, three times that.
On the 2MASS-sized 400-tile field's 2,184 fits each worker then gave the
top of its heap back after every pair and had it zeroed again for the next:
2.8 million page faults, 5 s of kernel time, half of ``fitexec``'s wall
time; 45,000 faults with the thresholds held.
"""

from __future__ import annotations

import ctypes
import os
import sys
import threading
from collections.abc import Callable

__all__ = ["keep_heap", "hold_freed_memory"]

_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3

#: glibc's mmap threshold when none is set (``DEFAULT_MMAP_THRESHOLD_MIN``).
_DEFAULT_MMAP = 128 * 1024

#: The thresholds glibc's adaptive rule ends at for large arrays (its
#: largest mmap threshold on 64-bit systems, and twice it to trim).
_TASK_MMAP = 32 * 2**20
_TASK_TRIM = 2 * _TASK_MMAP

_lock = threading.Lock()
_running = 0


def _pinned_trim() -> int | None:
    """
    Return the trim threshold the process was started with, if it pins glibc's.

    Only ``MALLOC_TRIM_THRESHOLD_`` alone (dask's setting) is taken: a
    ``MALLOC_MMAP_THRESHOLD_`` beside it is someone's deliberate choice.

    Examples
    --------
    >>> import os
    >>> _pinned_trim() == (int(os.environ["MALLOC_TRIM_THRESHOLD_"])
    ...     if "MALLOC_TRIM_THRESHOLD_" in os.environ
    ...     and "MALLOC_MMAP_THRESHOLD_" not in os.environ else None)
    True
    """
    if "MALLOC_MMAP_THRESHOLD_" in os.environ:
        return None
    try:
        return int(os.environ["MALLOC_TRIM_THRESHOLD_"])
    except (KeyError, ValueError):
        return None


def _glibc():
    """Return glibc (``mallopt``, ``malloc_trim``), or None on other systems."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(None)
        return libc if libc.mallopt and libc.malloc_trim else None
    except (OSError, AttributeError):  # musl has no malloc_trim
        return None


def _set(libc, trim: int, mmap: int) -> None:
    libc.mallopt(_M_TRIM_THRESHOLD, ctypes.c_int(trim))
    libc.mallopt(_M_MMAP_THRESHOLD, ctypes.c_int(mmap))


def hold_freed_memory() -> bool:
    """
    Keep freed memory in this process for its next task (a pool worker's).

    Sets glibc's thresholds to the end of its adaptive rule for large
    arrays (``_TASK_MMAP``, ``_TASK_TRIM``) for good: arrays up to 32 MiB
    come from the heap, and up to 64 MiB of it stays when they are freed.
    For processes diffview starts for one run, which end with it. A process
    started with a ``MALLOC_TRIM_THRESHOLD_`` or ``MALLOC_MMAP_THRESHOLD_``
    of its own (`_startup_names`), and systems other than Linux with glibc,
    are left as they are.

    Returns
    -------
    bool
        Whether the thresholds were set.

    Examples
    --------
    >>> import os
    >>> held = hold_freed_memory()  # in this process: for the rest of the test run
    >>> held or any(k.startswith("MALLOC_") for k in os.environ) or _glibc() is None
    True
    """
    if {"MALLOC_TRIM_THRESHOLD_", "MALLOC_MMAP_THRESHOLD_"} & _startup_names():
        return False
    libc = _glibc()
    if libc is None:
        return False
    _set(libc, _TASK_TRIM, _TASK_MMAP)
    return True


def _startup_names() -> set:
    """
    Names in the environment this process (or the one it forked from) started with.

    That is the environment glibc read its malloc settings from. ``os.environ``
    may have more since: dask's ``LocalCluster`` sets
    ``MALLOC_TRIM_THRESHOLD_`` there for the workers it spawns, and a pool
    forked afterwards would find it, though its glibc never read it. Linux
    keeps the start's environment in ``/proc/self/environ``; elsewhere
    ``os.environ`` is taken.

    Examples
    --------
    >>> "PATH" in _startup_names()
    True
    """
    try:
        with open("/proc/self/environ", "rb") as fh:
            items = fh.read().split(b"\0")
    except OSError:
        return set(os.environ)
    return {item.split(b"=", 1)[0].decode("ascii", "replace") for item in items if item}


def keep_heap(func: Callable, task):
    """
    Run ``func(task)`` with glibc's usual reuse of freed memory.

    In a process started with ``MALLOC_TRIM_THRESHOLD_`` (a dask worker) the
    task runs with large malloc thresholds; when the last task running in
    the process ends, the free memory goes back to the system and the
    process's own thresholds return. Elsewhere it is ``func(task)``.

    Parameters
    ----------
    func : callable
        A picklable top-level function of one argument.
    task : object
        Its argument.

    Returns
    -------
    object
        ``func(task)``.

    Examples
    --------
    >>> keep_heap(abs, -3)
    3
    """
    trim = _pinned_trim()
    libc = _glibc() if trim is not None else None
    if libc is None:
        return func(task)
    global _running
    with _lock:
        if _running == 0:
            _set(libc, _TASK_TRIM, _TASK_MMAP)
        _running += 1
    try:
        return func(task)
    finally:
        with _lock:
            _running -= 1
            if _running == 0:
                libc.malloc_trim(ctypes.c_size_t(0))
                _set(libc, trim, _DEFAULT_MMAP)
