"""
The dashboard's re-solve of the background model: inline, or in the background.

`Resolving` is the re-solve half of `Explorer`. A small re-solve (fewer
fits than `RESOLVE_APART`) runs at once, in the caller's thread, as it
always did. A big one (a survey's tens of thousands of fits take seconds to a
minute) is a `ResolveJob`: a thread that copies the fits and solves them in a
worker process of its own (`diffview.run.solve_apart`), so the kernel stays
free and the user browses meanwhile; when done, the job applies the new
corrections, quality and ranking under the explorer's lock and tells the
views and the ``on_solved`` callbacks. A newer re-solve, `cancel_resolve`
(the dashboard closed) or a kernel interrupt stops the worker; a stopped
job changes nothing. Pure Python: neither matplotlib nor ipywidgets.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from diffview.core import DirectSolution, load_solver
from diffview.run import check_solver, solve_and_assess, solve_apart
from diffview.widgets._table import _locked

__all__ = ["Resolving", "ResolveJob", "RESOLVE_APART"]

#: Fits from which a re-solve runs in the background (a worker process).
RESOLVE_APART = 5_000

_FINISHED = ("done", "cancelled", "failed")

_LOADING = False  # the solver's libraries are being (or were) imported


class ResolveJob:
    """
    One re-solve of the background model, in a thread and a worker process.

    Parameters
    ----------
    explorer : Explorer
        Whose flags are left out and whose state gets the result.
    method : {'direct', 'montage'}
        The solver.
    on_update : callable, optional
        ``on_update(job)`` from the job's thread when its stage changes.

    Attributes
    ----------
    method : str
    stage : str
        ``waiting``, ``solving``, ``applying``, then ``done``,
        ``cancelled`` or ``failed``.
    why : str
        Why it was cancelled or failed.
    error : Exception or None
        What made it fail.
    old, new : list of Correction or None
        The corrections before and after (``new`` once done).
    pairs : int
        Fits solved.

    Examples
    --------
    >>> import tempfile
    >>> from diffview.sample import write_sample
    >>> from diffview.widgets import Explorer
    >>> ex = Explorer(write_sample(tempfile.mkdtemp(), "small"))
    >>> ex.flag_image(4)
    >>> job = ResolveJob(ex, "direct").run()
    >>> job.stage, ex.corrections is job.new, ex.solver
    ('done', True, 'direct')
    """

    def __init__(self, explorer, method: str, on_update: Callable | None = None):
        self.explorer, self.method, self.on_update = explorer, method, on_update
        self.stage, self.why, self.error = "waiting", "", None
        self.old = self.new = None
        self.pairs = len(explorer.ws.fits)
        self.started = time.monotonic()
        self.ended: float | None = None
        self._cancel = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def finished(self) -> bool:
        """The job is done, cancelled or failed."""
        return self.stage in _FINISHED

    @property
    def elapsed(self) -> float:
        """Seconds since the job was made (until it finished)."""
        return (self.ended or time.monotonic()) - self.started

    def text(self) -> str:
        """
        Say where the job is, e.g. ``re-solving 148444 fits (direct): 12 s``.

        Returns
        -------
        str
        """
        t = f"{self.elapsed:.0f} s"
        if self.stage == "done":
            return f"re-solved {self.pairs} fits ({self.method}) in {t}"
        if self.stage in ("cancelled", "failed"):
            return f"re-solve {self.stage} after {t}: {self.why}"
        what = "applying" if self.stage == "applying" else "re-solving"
        return f"{what} {self.pairs} fits ({self.method}): {t}"

    def start(self) -> ResolveJob:
        """
        Run the job in a daemon thread.

        Returns
        -------
        ResolveJob
            This job.
        """
        self._thread = threading.Thread(
            target=self.run, name="diffview-resolve", daemon=True
        )
        self._thread.start()
        return self

    def cancel(self, why: str = "stopped") -> None:
        """
        Stop the job: its worker ends, the explorer keeps its state.

        Parameters
        ----------
        why : str
            Shown in `text`.
        """
        if not self.finished:
            self.why = why
        self._cancel.set()

    @property
    def cancelled(self) -> bool:
        """`cancel` was called."""
        return self._cancel.is_set()

    def wait(self, timeout: float | None = None) -> bool:
        """
        Wait for the job to end; an interrupt (Ctrl-C) cancels it.

        Parameters
        ----------
        timeout : float, optional
            Seconds at most.

        Returns
        -------
        bool
            The job has ended.
        """
        try:
            if self._thread is not None:
                self._thread.join(timeout)
        except KeyboardInterrupt:
            self.cancel("interrupted")
            raise
        return self.finished

    def run(self) -> ResolveJob:
        """
        Solve and apply in this thread (`start` runs it in its own).

        Returns
        -------
        ResolveJob
            This job, finished.
        """
        ex = self.explorer
        try:
            with ex.lock:
                excluded = (list(ex.flagged_pairs), list(ex.flagged_images))
            self._set("solving")
            result = solve_apart(
                ex.ws,
                self._cancel,
                self.method,
                *excluded,
                lock=ex.lock,
                start=ex.direct_solution,
                full_output=True,
            )
            if result is not None:
                self._set("applying")
                with ex.lock:
                    if not self.cancelled and ex.resolve_job in (self, None):
                        ex._apply_solve(self, *result)
                        self.stage = "done"
        except KeyboardInterrupt:  # the worker got the kernel's interrupt
            self.cancel("interrupted")
        except Exception as exc:  # noqa: BLE001 - shown by the dashboard
            self.error, self.why = exc, str(exc) or type(exc).__name__
            self.stage = "failed"
        if self.stage != "done" and self.stage != "failed":
            self.why = self.why or "stopped"
            self.stage = "cancelled"
        self.ended = time.monotonic()
        self._tell()
        return self

    def _set(self, stage: str) -> None:
        self.stage = stage
        self._tell()

    def _tell(self) -> None:
        if self.on_update is not None:
            self.on_update(self)


class Resolving:
    """
    The re-solve actions of `Explorer` (mixin).

    Uses the explorer's ``lock``, ``ws``, flags, ``corrections``,
    ``notify``, ``_assess`` and ``_rank``.

    Attributes
    ----------
    resolve_job : ResolveJob or None
        The last re-solve run in the background.
    direct_solution : diffview.core.DirectSolution or None
        Where the next re-solve starts from (`diffview.core.solve_direct`'s
        ``start``, a third of a fresh solve's time): the last direct
        re-solve's answer, else the work folder's corrections with the
        prior strengths the direct solve that made them recorded
        (`Workspace.strengths`); None: a fresh solve.
    """

    resolve_job: ResolveJob | None = None
    direct_solution = None

    def _solve_soon(self) -> None:
        """
        Load the solver's libraries meanwhile: a re-solve is likely (a flag).

        Once per process, in a daemon thread, so the first re-solve does not
        wait for scipy's first import.
        """
        global _LOADING
        if not _LOADING:
            _LOADING = True
            threading.Thread(
                target=load_solver, name="diffview-load-solver", daemon=True
            ).start()

    def _take_start(self) -> None:
        """Start the next re-solve from the workspace's corrections, if known."""
        ws = self.ws
        if ws.strengths and ws.corrections:
            self.direct_solution = DirectSolution(list(ws.corrections), ws.strengths)

    def on_solved(self, callback: Callable) -> None:
        """
        Call ``callback(explorer, old, new)`` after every re-solve is applied.

        Parameters
        ----------
        callback : callable
            Gets this explorer and the corrections before and after (lists
            of `Correction`), once the views have been told.
        """
        if not hasattr(self, "_solved"):
            self._solved = []
        self._solved.append(callback)

    @_locked
    def resolve(self, method: str = "direct") -> list:
        """
        Solve the background model again without the flagged pairs and images.

        In this thread, whatever the size (`start_resolve` chooses); a
        re-solve running in the background is cancelled.

        Parameters
        ----------
        method : {'direct', 'montage'}
            `diffview.core.solve_direct` or `diffview.core.solve_montage`.

        Returns
        -------
        list of Correction
            The new corrections (also ``corrections``); the quality measures
            and the ranking follow them.
        """
        job = ResolveJob(self, method)
        result = solve_and_assess(
            self.ws,
            method,
            list(self.flagged_pairs),
            list(self.flagged_images),
            start=self.direct_solution,
            full_output=True,
        )
        self.cancel_resolve("replaced by a newer re-solve")
        self._apply_solve(job, *result)
        return self.corrections

    def start_resolve(
        self, method: str = "direct", on_update: Callable | None = None
    ) -> ResolveJob:
        """
        Re-solve: at once when small, else in the background (`ResolveJob`).

        A re-solve still running is cancelled first (the newer one wins).

        Parameters
        ----------
        method : {'direct', 'montage'}
            The solver.
        on_update : callable, optional
            ``on_update(job)`` when a background job's stage changes.

        Returns
        -------
        ResolveJob
            Finished (``done``) when it ran at once; else running.

        Raises
        ------
        diffview.InputError
            An unknown method.

        Examples
        --------
        >>> import tempfile
        >>> from diffview.sample import write_sample
        >>> from diffview.widgets import Explorer
        >>> ex = Explorer(write_sample(tempfile.mkdtemp(), "small"))
        >>> ex.start_resolve("montage").stage  # 11 fits: at once
        'done'
        """
        check_solver(method)
        if len(self.ws.fits) < RESOLVE_APART:
            self.resolve(method)
            return self._last_solve
        with self.lock:
            self.cancel_resolve("replaced by a newer re-solve")
            self.resolve_job = ResolveJob(self, method, on_update)
        return self.resolve_job.start()

    def cancel_resolve(self, why: str = "stopped") -> None:
        """
        Stop the re-solve running in the background, if any.

        Parameters
        ----------
        why : str
            Shown in its text.
        """
        job = self.resolve_job
        if job is not None and not job.finished:
            job.cancel(why)

    def _apply_solve(self, job: ResolveJob, corrections, quality, solution) -> None:
        """Take a solve's result (under the lock): state, views, callbacks."""
        if solution is not None:
            self.direct_solution = solution
        job.old, job.new = self.corrections, corrections
        job.stage, job.ended = "done", time.monotonic()
        self._last_solve = job
        self.corrections = corrections
        self.solver = job.method
        self._assess({(q.plus, q.minus): q for q in quality})
        self._rank()
        self.notify({"corrections", "ranking"})
        for callback in getattr(self, "_solved", ()):
            callback(self, job.old, job.new)
