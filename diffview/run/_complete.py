"""
Compute what a work folder lacks in the background: `CompletionJob`.

The dashboard opens a work folder at once (`open_workspace`) and leaves the
missing differences and fits, the mosaic preview and the corrections to a
`CompletionJob`: a thread that feeds small chunks of pairs to a process pool
(or to any executor, or runs them itself when a pool would not pay,
`pool_workers`), applies each chunk's results to the workspace as they
arrive and tells a callback. A pair the user asks for goes first
(`CompletionJob.prioritise`); a pair that fails is counted in
``workspace.failures`` and the others go on. `CompletionJob.cancel` (the
dashboard closed) stops it within a chunk: pending chunks are dropped and
the pool's workers terminated. A kernel interrupt or Ctrl-C reaches the
pool's workers too (they share the kernel's process group): each stops after
its current pair and the job cancels itself.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from pathlib import Path

import numpy as np

from diffview.errors import PairError
from diffview.run import _parallel
from diffview.run._differences import template_cards
from diffview.run._jobparts import (
    JobProgress,
    complete_chunk,
    fits_in_order,
    has_fit,
    init_job_worker,
    pair_costs,
    run_apart,
    solve,
)
from diffview.run._pairs import _failure_text, _template_geometry
from diffview.run._pairtable import pair_keys
from diffview.run._preview import PREVIEW_SIZE

__all__ = ["CompletionJob", "JobProgress"]

#: Most pairs in one task: small, so that results arrive often, a pair the
#: user asks for waits for little, and a cancel loses little.
CHUNK = 16

#: Fits from which the corrections are solved in a process of their own.
SOLVE_APART = 20_000

_NOTHING, _WAITING, _SUBMITTED, _DONE = 0, 1, 2, 3


class CompletionJob:
    """
    Compute a workspace's missing differences, fits, preview and corrections.

    Parameters
    ----------
    ws : Workspace
        An opened work folder (`open_workspace`); its ``fits``,
        ``failures``, ``preview`` and ``corrections`` are filled in place.
    executor : concurrent.futures.Executor, optional
        Where chunks run (e.g. a dask client's executor); default: a
        process pool when `pool_workers` says it pays, else this job's
        thread.
    workers : int, optional
        Size of the process pool (1: in the job's thread).
    solve : bool
        Solve the corrections (`diffview.core.solve_direct`) once the fits
        are in, when the workspace has none.
    preview : bool
        Build the mosaic preview when the workspace has none.
    on_update : callable, optional
        ``on_update(job, indices)`` from the job's thread after each chunk's
        results are in the workspace (``indices``: an array of pair
        positions), and with ``indices`` None after each stage.
    chunk : int
        Most pairs in one task.
    preview_size : int
        Longest side of the preview.
    lock : threading.RLock, optional
        Held while results are written into the workspace (share the
        lock of whoever reads it from another thread).

    Attributes
    ----------
    progress : JobProgress
    lock : threading.RLock
        Held while results are written into the workspace.

    Examples
    --------
    >>> import tempfile
    >>> from diffview.run import open_workspace
    >>> from diffview.sample import write_sample
    >>> ws = open_workspace(write_sample(tempfile.mkdtemp(), "small", quiet=True))
    >>> job = CompletionJob(ws, workers=1)
    >>> job.status(0)
    'pending'
    >>> job.run().progress.stage, len(ws.fits) == len(ws.overlaps), job.status(0)
    ('done', True, 'ready')
    """

    def __init__(
        self,
        ws,
        *,
        executor=None,
        workers: int | None = None,
        solve: bool = True,
        preview: bool = True,
        on_update: Callable | None = None,
        chunk: int = CHUNK,
        preview_size: int = PREVIEW_SIZE,
        lock=None,
    ):
        self.ws = ws
        self.executor, self.workers = executor, workers
        self.solve = solve and not ws.corrections
        self.preview = preview and ws.preview is None
        self.preview_size = preview_size
        self.on_update = on_update
        self.chunk = max(1, int(chunk))
        self.lock = lock if lock is not None else threading.RLock()
        self._cancel = threading.Event()
        self._priority: deque = deque()
        self._thread: threading.Thread | None = None
        self.error: BaseException | None = None
        self._state = self._initial_state()
        self._todo = np.flatnonzero(self._state == _WAITING)
        self._cursor = 0
        self.progress = JobProgress(total=len(self._todo))
        self._ctx = None

    def _initial_state(self) -> np.ndarray:
        ws = self.ws
        keys = ws.overlaps.keys
        has = has_fit(ws.fits, keys)
        if ws.failures:
            failed = pair_keys(*zip(*ws.failures, strict=True))
            has |= np.isin(keys, failed)
        return np.where(has, _NOTHING, _WAITING).astype(np.int8)

    # ------------------------------------------------------------------
    # Control
    # ------------------------------------------------------------------

    def start(self) -> CompletionJob:
        """
        Run the job in a daemon thread.

        Returns
        -------
        CompletionJob
            This job.
        """
        self._thread = threading.Thread(
            target=self.run, name="diffview-completion", daemon=True
        )
        self._thread.start()
        return self

    def cancel(self, why: str = "") -> None:
        """
        Stop the job: no new chunk starts, pending ones are dropped.

        Parameters
        ----------
        why : str
            Shown in the progress text.
        """
        if not self.progress.finished and why:
            self.progress.why = why
        self._cancel.set()

    @property
    def cancelled(self) -> bool:
        """`cancel` was called (or a worker was interrupted)."""
        return self._cancel.is_set()

    def wait(self, timeout: float | None = None) -> bool:
        """
        Wait for the job's thread to end.

        Parameters
        ----------
        timeout : float, optional
            Seconds at most.

        Returns
        -------
        bool
            The job has ended.
        """
        if self._thread is not None:
            self._thread.join(timeout)
            return not self._thread.is_alive()
        return self.progress.finished

    def status(self, index: int) -> str:
        """
        Say where a pair is: ``ready``, ``failed``, ``pending`` or ``computing``.

        Parameters
        ----------
        index : int
            Position in the overlap table.

        Returns
        -------
        str
            ``pending`` (waiting its turn) and ``computing`` (in a running
            chunk) before its result; ``ready`` (a fit) or ``failed``.
        """
        state = int(self._state[index])
        if state == _WAITING:
            return "pending"
        if state == _SUBMITTED:
            return "computing"
        ov = self.ws.overlaps[index]
        return "ready" if (ov.cntr1, ov.cntr2) in self.ws.fits else "failed"

    def is_pending(self, index: int) -> bool:
        """
        Tell whether a pair has no result yet (``pending`` or ``computing``).

        Parameters
        ----------
        index : int
            Position in the overlap table.

        Returns
        -------
        bool
        """
        return int(self._state[index]) in (_WAITING, _SUBMITTED)

    def pending(self) -> np.ndarray:
        """
        Tell which pairs have no result yet.

        Returns
        -------
        numpy.ndarray of bool
            One per pair.
        """
        return (self._state == _WAITING) | (self._state == _SUBMITTED)

    def prioritise(self, index: int) -> str:
        """
        Compute a pair next, if it has no result yet.

        Parameters
        ----------
        index : int
            Position in the overlap table.

        Returns
        -------
        str
            Its `status`.
        """
        if self._state[index] == _WAITING:
            self._priority.append(int(index))
        return self.status(index)

    # ------------------------------------------------------------------
    # The job
    # ------------------------------------------------------------------

    def run(self) -> CompletionJob:
        """
        Run the job in this thread (`start` runs it in its own).

        Returns
        -------
        CompletionJob
            This job, finished (done, cancelled or failed).
        """
        mosaic = self.ws.folder.mosaic
        # a mosaic file's preview is quick: first; one of the images after
        quick = mosaic is not None and Path(mosaic).exists()
        stages = ["preview", "pairs", "corrections"]
        if not quick:
            stages[:2] = ["pairs", "preview"]
        try:
            for stage in stages:
                if self.cancelled:
                    break
                if stage == "pairs":
                    self._pairs()
                    continue
                try:
                    self._stage(stage)
                except Exception as exc:  # a bad mosaic file: said, the rest goes on
                    with self.lock:
                        self.ws.problems.append(f"{stage}: {_failure_text(exc)}")
            self.progress.stage = "cancelled" if self.cancelled else "done"
        except Exception as exc:  # noqa: BLE001 - reported, never lost in a thread
            self.error = exc
            self.progress.stage, self.progress.why = "failed", _failure_text(exc)
        self._tell(None)
        return self

    def _tell(self, indices) -> None:
        if self.on_update is not None:
            self.on_update(self, indices)

    def _stage(self, stage: str) -> None:
        ws = self.ws
        if stage == "preview" and self.preview:
            from diffview.run.workspace import make_preview

            self.progress.stage = stage
            self._tell(None)
            preview = make_preview(ws, self.preview_size)
            with self.lock:
                ws.preview = preview
        elif stage == "corrections" and self.solve and len(ws.fits):
            self.progress.stage = stage
            self._tell(None)
            fits = fits_in_order(self.ws, np.flatnonzero(self._state == _DONE))
            if len(fits) < SOLVE_APART or self.executor is not None:
                solution = solve(ws.geometry, fits)
            else:
                solution = run_apart(solve, (ws.geometry, fits), self._cancel)
            if solution is None:  # cancelled
                return
            with self.lock:
                ws.corrections, ws.strengths = solution.corrections, solution.strengths
        else:
            return
        self._tell(None)

    def _task(self, k: int):
        """Make the task of pair ``k``; a name outside the folder fails the pair."""
        ws = self.ws
        ov = ws.overlaps[k]
        try:
            return (
                k,
                ov,
                ws.image_path(ov.plus),
                ws.image_path(ov.minus),
                ws.diff_path(ov),
            )
        except PairError as exc:
            self._apply([(k, None, str(exc))])
            return None

    def _next_chunk(self) -> list | None:
        while self._priority:
            k = self._priority.popleft()
            if self._state[k] == _WAITING:
                self._state[k] = _SUBMITTED
                task = self._task(k)
                if task is not None:
                    return [task]
        chunk: list = []
        while self._cursor < len(self._todo) and len(chunk) < self._chunk_size:
            k = int(self._todo[self._cursor])
            self._cursor += 1
            if self._state[k] == _WAITING:
                self._state[k] = _SUBMITTED
                task = self._task(k)
                if task is not None:
                    chunk.append(task)
        return chunk or None

    def _apply(self, results) -> None:
        ws, failed = self.ws, 0
        with self.lock:
            for k, fit, error in results:
                key = (int(ws.overlaps.cntr1[k]), int(ws.overlaps.cntr2[k]))
                if fit is not None:
                    ws.fits[key] = fit
                else:
                    ws.failures[key] = error
                    failed += 1
                self._state[k] = _DONE
            self.progress.done += len(results)
            self.progress.failed += failed
        self._tell(np.array([r[0] for r in results], np.int64))

    def _pairs(self) -> None:
        self.progress.stage = "pairs"
        if not len(self._todo):
            return
        ws = self.ws
        Path(ws.folder.diff_dir).mkdir(parents=True, exist_ok=True)
        shape, crpix = _template_geometry(ws.template)
        self._ctx = {
            "shape": shape,
            "crpix": crpix,
            "cards": template_cards(ws.template),
            "opts": {"no_areas": False, "full_edges": False},
        }
        workers = _parallel.pool_workers(
            self.workers, self.executor, pair_costs(self.ws, self._todo)
        )
        spread = (
            1
            if workers == 1 and self.executor is None
            else (_parallel.default_workers() if workers is None else workers)
        )
        per_task = -(-len(self._todo) // (4 * spread))
        self._chunk_size = max(1, min(self.chunk, per_task))
        if self.executor is None:  # loaded once here (and forked to every worker)
            from diffview.core import kernels

            kernels()
        start = time.perf_counter()
        self._clock = lambda: time.perf_counter() - start
        if spread == 1 and self.executor is None:
            self._in_thread()
        else:
            self._on_pool(spread)
        self.progress.seconds = self._clock()

    def _in_thread(self) -> None:
        while not self.cancelled:
            chunk = self._next_chunk()
            if chunk is None:
                return
            results, _ = complete_chunk((chunk, self._ctx))
            self.progress.seconds = self._clock()
            self._apply(results)

    def _on_pool(self, workers: int) -> None:
        own = self.executor is None
        pool = self.executor or ProcessPoolExecutor(
            max_workers=workers,
            initializer=init_job_worker,
            initargs=(os.getpid(),),
        )
        inflight: dict = {}
        try:
            self._feed(pool, inflight, 2 * workers, own)
        finally:
            for fut in inflight:
                fut.cancel()
            if own and (self.cancelled or inflight):
                _parallel._stop_pool(pool)
            elif own:
                pool.shutdown()
            for chunk in inflight.values():
                self._requeue(chunk)

    def _requeue(self, chunk) -> None:
        """Pairs of a chunk left without a result wait again (computable later)."""
        for task in chunk:
            if self._state[task[0]] == _SUBMITTED:
                self._state[task[0]] = _WAITING

    def _submit(self, pool, chunk, own: bool):
        if not own:
            return pool.submit(complete_chunk, (chunk, self._ctx))
        # workers start (fork) in submit: stop signals wait until they are set
        mask = signal.pthread_sigmask(signal.SIG_BLOCK, _parallel._STOP_SIGNALS)
        try:
            return pool.submit(_parallel._call, complete_chunk, (chunk, self._ctx))
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, mask)

    def _feed(self, pool, inflight: dict, most: int, own: bool) -> None:
        while not self.cancelled:
            while len(inflight) < most:
                chunk = self._next_chunk()
                if chunk is None:
                    break
                inflight[self._submit(pool, chunk, own)] = chunk
            if not inflight:
                return
            done, _ = wait(list(inflight), timeout=0.25, return_when=FIRST_COMPLETED)
            for fut in done:
                chunk = inflight.pop(fut)
                try:
                    results, interrupted = fut.result()
                except Exception as exc:  # a lost worker: its pairs are counted
                    why = _failure_text(exc)
                    results, interrupted = [(t[0], None, why) for t in chunk], False
                self.progress.seconds = self._clock()
                self._apply(results)
                if interrupted:
                    self._requeue(chunk)
                    self.cancel("interrupted")
