"""
Solve a workspace's background model again, without some pairs and images.

`solve_and_assess` is the dashboard's re-solve: the corrections without the
flagged pairs and images, and every fit's quality under them. On a survey
(tens of thousands of fits) it takes seconds to a minute, so `solve_apart`
runs it in a worker process of its own: the kernel stays free for the user
browsing meanwhile, and the worker is stopped at once by a cancel (a newer
re-solve, the dashboard closed) or by a kernel interrupt (SIGINT reaches the
worker, which shares the kernel's process group).
"""

from __future__ import annotations

import pickle
import signal
from types import SimpleNamespace

from diffview.errors import InputError
from diffview.run import _jobparts
from diffview.run.workspace import as_fits_list

__all__ = ["solve_and_assess", "solve_apart", "SOLVERS", "check_solver"]

#: The re-solve's methods: `diffview.core.solve_direct` and `solve_montage`.
SOLVERS = ("direct", "montage")


def check_solver(method: str) -> None:
    """
    Refuse a solver name that is not one of `SOLVERS`.

    Parameters
    ----------
    method : str
        The name asked for.

    Raises
    ------
    diffview.InputError
        An unknown method, named in the message.

    Examples
    --------
    >>> check_solver("direct")
    >>> check_solver("fast")
    Traceback (most recent call last):
    ...
    diffview.errors.InputError: unknown method 'fast'; use 'direct' or 'montage'
    """
    if method not in SOLVERS:
        raise InputError(f"unknown method {method!r}; use 'direct' or 'montage'")


def solve_and_assess(
    ws,
    method="direct",
    exclude_pairs=(),
    exclude_images=(),
    start=None,
    full_output=False,
):
    """
    Solve the corrections without some pairs and images; judge every fit.

    Parameters
    ----------
    ws : Workspace or object
        Its ``overlaps``, ``fits`` and ``geometry`` (a `Workspace`, or a
        snapshot of those three).
    method : {'direct', 'montage'}
        `diffview.core.solve_direct` or `diffview.core.solve_montage`.
    exclude_pairs : iterable of (int, int)
        ``(cntr1, cntr2)`` of the pairs left out.
    exclude_images : iterable of int
        Images whose pairs are all left out.
    start : diffview.core.DirectSolution, optional
        The last direct solve's answer, to start from (see
        `diffview.core.solve_direct`); ignored by ``'montage'``.
    full_output : bool
        Also return the direct solve's `~diffview.core.DirectSolution`
        (None for ``'montage'``), the next re-solve's ``start``.

    Returns
    -------
    corrections : list of Correction
        One per image.
    quality : list of FitQuality
        Every fit (overlap-table order) judged under those corrections.
    solution : DirectSolution or None
        With ``full_output`` only.

    Raises
    ------
    diffview.InputError
        An unknown method.

    Examples
    --------
    >>> import tempfile
    >>> from diffview.run import load_workspace
    >>> from diffview.sample import write_sample
    >>> ws = load_workspace(write_sample(tempfile.mkdtemp(), "small", quiet=True))
    >>> corr, qual = solve_and_assess(ws, "direct", exclude_images=[4])
    >>> 4 in [c.id for c in corr], len(qual) == len(ws.fits)
    (False, True)
    """
    from diffview.core import assess_fits, solve_direct, solve_montage

    check_solver(method)
    fits = as_fits_list(ws)
    excluded = {
        "exclude_pairs": list(exclude_pairs),
        "exclude_images": list(exclude_images),
    }
    solution = None
    if method == "direct":
        solution = solve_direct(
            ws.geometry, fits, start=start, full_output=True, **excluded
        )
        corrections = solution.corrections
    else:
        corrections = solve_montage(ws.geometry, fits, **excluded)
    quality = assess_fits(fits, images=ws.geometry, corrections=corrections or None)
    if full_output:
        return corrections, quality, solution
    return corrections, quality


def _solve_pickled(payload: bytes, method, *args):
    """In the worker: `solve_and_assess` on a snapshot; SIGINT stops it."""
    if _jobparts._interrupted:  # the interrupt came before this task
        raise KeyboardInterrupt
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        return solve_and_assess(pickle.loads(payload), method, *args)
    finally:
        signal.signal(signal.SIGINT, previous)


def solve_apart(
    ws,
    cancelled,
    method="direct",
    exclude_pairs=(),
    exclude_images=(),
    lock=None,
    start=None,
    full_output=False,
):
    """
    Run `solve_and_assess` in a worker process of its own; None if cancelled.

    The workspace's overlaps, fits and geometry are copied (under ``lock``,
    so a background job adding fits meanwhile cannot tear the copy), then
    solved in the worker. Blocking: call it from a thread.

    Parameters
    ----------
    ws : Workspace
        The work folder.
    cancelled : threading.Event
        Set: the worker is stopped (at once) and None returned.
    method, exclude_pairs, exclude_images
        As `solve_and_assess`.
    lock : threading.RLock, optional
        Held while the workspace is copied.
    start, full_output
        As `solve_and_assess`.

    Returns
    -------
    tuple or None
        What `solve_and_assess` returns; None if cancelled.

    Raises
    ------
    KeyboardInterrupt
        The worker was interrupted (a kernel interrupt, Ctrl-C).
    diffview.InputError
        An unknown method.

    Examples
    --------
    >>> import tempfile, threading
    >>> from diffview.run import load_workspace
    >>> from diffview.sample import write_sample
    >>> ws = load_workspace(write_sample(tempfile.mkdtemp(), "small", quiet=True))
    >>> corr, qual = solve_apart(ws, threading.Event(), exclude_images=[4])
    >>> corr == solve_and_assess(ws, exclude_images=[4])[0]
    True
    """
    check_solver(method)
    snapshot = SimpleNamespace(overlaps=ws.overlaps, fits=ws.fits, geometry=ws.geometry)
    if lock is None:
        payload = pickle.dumps(snapshot, pickle.HIGHEST_PROTOCOL)
    else:
        with lock:
            payload = pickle.dumps(snapshot, pickle.HIGHEST_PROTOCOL)
    args = (payload, method, list(exclude_pairs), list(exclude_images))
    args += (start, full_output)
    # not niced: the user waits for it, and the kernel has little to do
    return _jobparts.run_apart(_solve_pickled, args, cancelled, nice=False)
