"""
What a `CompletionJob` hands its workers, and how far it is: `JobProgress`.

`complete_chunk` differences (unless the file is there) and fits a chunk of
pairs in a worker; `init_job_worker` sets a pool worker up so that a kernel
interrupt (SIGINT to the kernel's process group) stops its chunk after the
current pair, and lowers its priority below the kernel's.
"""

from __future__ import annotations

import contextlib
import math
import os
import signal
from concurrent.futures import ProcessPoolExecutor, wait
from dataclasses import dataclass

import numpy as np

from diffview import io
from diffview.core import fit_plane
from diffview.errors import DiffviewError
from diffview.run import _parallel
from diffview.run._differences import write_difference
from diffview.run._pairs import _failure_text, _task_difference
from diffview.run._pairtable import pair_keys
from diffview.run.fits import _shared_image_seconds, read_difference_file

__all__ = [
    "JobProgress",
    "complete_chunk",
    "init_job_worker",
    "has_fit",
    "solve",
    "call_with",
    "run_apart",
    "pair_costs",
    "fits_in_order",
]

_interrupted = False  # set in a worker by SIGINT (a kernel interrupt)

_STAGES = {
    "pairs": "differences and fits",
    "preview": "mosaic preview",
    "corrections": "solving the background model",
    "done": "done",
    "cancelled": "cancelled",
    "failed": "failed",
}


@dataclass
class JobProgress:
    """
    Where a `CompletionJob` is: its stage, pairs done, rate and time left.

    Parameters
    ----------
    stage : str
        ``pairs``, ``preview``, ``corrections``, then ``done``,
        ``cancelled`` or ``failed``.
    done, total : int
        Pairs computed (or failed) and pairs to compute.
    failed : int
        Pairs that failed.
    seconds : float
        Time spent on the pairs so far.
    why : str
        Why the job was cancelled or failed.

    Examples
    --------
    >>> p = JobProgress("pairs", 50, 200, 2, 10.0)
    >>> p.rate, p.eta
    (5.0, 30.0)
    >>> p.text()
    'differences and fits 50/200 pairs, 5.0 pairs/s, 30 s left, 2 failed'
    """

    stage: str = "pairs"
    done: int = 0
    total: int = 0
    failed: int = 0
    seconds: float = 0.0
    why: str = ""

    @property
    def rate(self) -> float:
        """Pairs a second so far (NaN before the first)."""
        return self.done / self.seconds if self.done and self.seconds > 0 else math.nan

    @property
    def eta(self) -> float:
        """Seconds left for the pairs at the rate so far (NaN: unknown)."""
        rate = self.rate
        return (self.total - self.done) / rate if rate > 0 else math.nan

    @property
    def finished(self) -> bool:
        """The job has ended (done, cancelled or failed)."""
        return self.stage in ("done", "cancelled", "failed")

    def text(self) -> str:
        """
        One line for a progress label.

        Returns
        -------
        str
        """
        head = _STAGES.get(self.stage, self.stage)
        parts = [f"{head} {self.done}/{self.total} pairs"]
        if self.stage == "pairs" and math.isfinite(self.rate):
            parts.append(f"{self.rate:.1f} pairs/s")
            if math.isfinite(self.eta):
                parts.append(f"{self.eta:.0f} s left")
        if self.failed:
            parts.append(f"{self.failed} failed")
        if self.why:
            parts.append(self.why)
        return ", ".join(parts)


def _on_sigint(signum, frame) -> None:
    global _interrupted
    _interrupted = True


def init_job_worker(parent: int, nice: bool = True) -> None:
    """
    Set up a pool worker of a job: the run layer's set-up, SIGINT noted, nice.

    Parameters
    ----------
    parent : int
        The job's process id.
    nice : bool
        Lower the worker's priority (a user waiting for its result: False).
    """
    _parallel._init_worker(parent)
    signal.signal(signal.SIGINT, _on_sigint)
    with contextlib.suppress(OSError, AttributeError):
        if nice:
            os.nice(5)  # the kernel's own work (a user browsing) comes first


def _one_pair(task, ctx, reader):
    """Difference (unless on disk) and fit one pair: ``(index, fit, error)``."""
    k, ov, plus, minus, out = task
    ids = (ov.cntr1, ov.cntr2)
    try:
        if os.path.exists(out):
            return k, fit_plane(read_difference_file(out), ids=ids), ""
        diff = _task_difference(reader, (ov, plus, minus, out), ctx)
        write_difference(diff, out, ctx["cards"])
        # the CRPIX the file holds (15 digits), as a fit of the file would see
        crpix = tuple(float(f"{c:.15g}") for c in diff.crpix)
        return k, fit_plane((diff.array, crpix), ids=ids), ""
    except Exception as exc:  # one bad pair (or a full disk) is counted
        return k, None, _failure_text(exc)


def complete_chunk(arg):
    """
    Difference and fit a chunk of pairs (a task of a `CompletionJob`).

    Parameters
    ----------
    arg : tuple
        ``(tasks, context)``: tasks ``(index, overlap, plus, minus, out)``
        and the run's template geometry and cards.

    Returns
    -------
    tuple
        ``(results, interrupted)``: ``(index, fit or None, error)`` of the
        pairs done, and whether a SIGINT stopped the chunk early.
    """
    tasks, ctx = arg
    out = []
    with io.BoxReader() as reader:
        for task in tasks:
            if _interrupted:
                return out, True
            out.append(_one_pair(task, ctx, reader))
    return out, False


def has_fit(fits, keys: np.ndarray) -> np.ndarray:
    """
    Tell which pairs have a fit.

    Parameters
    ----------
    fits : FitMap or dict
        ``(plus, minus) -> PlaneFit``.
    keys : numpy.ndarray of int64
        The pairs (`pair_keys`).

    Returns
    -------
    numpy.ndarray of bool

    Examples
    --------
    >>> has_fit({(0, 1): None}, pair_keys([0, 1], [1, 2])).tolist()
    [True, False]
    """
    if hasattr(fits, "column"):
        return np.isfinite(fits.column("plus", keys))
    have = pair_keys(*zip(*fits, strict=True)) if len(fits) else np.array([], np.int64)
    return np.isin(keys, have)


def solve(geometry, fits):
    """
    Solve the corrections of a work folder as `load_workspace` does.

    Parameters
    ----------
    geometry : ImageGeometry
        The images.
    fits : list of PlaneFit
        Every fit.

    Returns
    -------
    DirectSolution
        `diffview.core.background.solve_direct`'s corrections and prior
        strengths.
    """
    from diffview.core.background import solve_direct

    return solve_direct(geometry, fits, full_output=True)


def call_with(arg):
    """
    Call ``func(*args)`` for ``arg = (func, args)`` (a pool task of one argument).

    Parameters
    ----------
    arg : tuple
        ``(func, args)``.

    Returns
    -------
    object
        What ``func`` returns.

    Examples
    --------
    >>> call_with((max, (2, 5)))
    5
    """
    func, args = arg
    return func(*args)


def run_apart(func, args: tuple, cancelled, nice: bool = True):
    """
    Run ``func(*args)`` in a worker process of its own; None if cancelled.

    A long solve in a process ends with the job that asked for it (a thread
    cannot be stopped) and leaves the kernel's interpreter free.

    Parameters
    ----------
    func : callable
        A picklable top-level function.
    args : tuple
        Its arguments.
    cancelled : threading.Event
        Set: the worker is stopped and None returned.
    nice : bool
        Run the worker at a lower priority than the kernel.

    Returns
    -------
    object or None
    """
    pool = ProcessPoolExecutor(
        max_workers=1, initializer=init_job_worker, initargs=(os.getpid(), nice)
    )
    mask = signal.pthread_sigmask(signal.SIG_BLOCK, _parallel._STOP_SIGNALS)
    try:
        fut = pool.submit(_parallel._call, call_with, (func, args))
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, mask)
    try:
        while not cancelled.is_set():
            if wait([fut], timeout=0.25)[0]:
                return fut.result()
        return None
    finally:
        _parallel._stop_pool(pool)


def pair_costs(ws, todo) -> list:
    """
    Estimate the seconds of each pair to do in one process (`pool_workers`).

    Parameters
    ----------
    ws : Workspace
        The work folder.
    todo : sequence of int
        Positions of the pairs in the overlap table.

    Returns
    -------
    list of float
        Each pair's share of its images' sizes, as `differences_and_fits`
        estimates it.
    """

    def tasks():
        for k in todo:
            ov = ws.overlaps[int(k)]
            try:
                yield (None, ws.image_path(ov.plus), ws.image_path(ov.minus))
            except DiffviewError:
                yield (None, "", "")

    return list(_shared_image_seconds(list(tasks())))


def fits_in_order(ws, computed) -> list:
    """
    List the fits as `load_workspace` does for its solve.

    Those the workspace came with first, then the job's in table order (not
    in the order the workers finished them), so that the solve does not
    depend on the workers.

    Parameters
    ----------
    ws : Workspace
        The work folder.
    computed : sequence of int
        Positions of the pairs the job computed, in table order.

    Returns
    -------
    list of PlaneFit
    """
    mine = [ws.overlaps[int(k)] for k in computed]
    mine = [(o.cntr1, o.cntr2) for o in mine]
    done = set(mine)
    given = [f for key, f in ws.fits.items() if key not in done]
    return given + [ws.fits[key] for key in mine if key in ws.fits]
