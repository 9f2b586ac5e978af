"""
Run independent tasks on an executor with an optional progress bar.

Every run of `diffview.run` (differences, plane fits, differences and fits,
corrections, projections) decides here, with `pool_workers`, whether a
process pool pays for itself, and runs its tasks with `run_tasks`.

Interrupts: workers ignore SIGINT (a terminal's Ctrl-C reaches the whole
process group; the parent alone decides) and turn SIGTERM into a clean stop
of their task (temporary files removed), then exit. When the parent is
interrupted it cancels what is pending and terminates its workers; when the
parent dies, even by SIGKILL, Linux sends each worker SIGTERM
(``PR_SET_PDEATHSIG``) and other systems' workers notice within
`_WATCH_SECONDS` with a watchdog thread polling ``os.getppid()``.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # concurrent.futures is imported only for a pool or an executor
    from concurrent.futures import Executor, ProcessPoolExecutor

from diffview.run._heap import hold_freed_memory, keep_heap

__all__ = [
    "POOL_SECONDS",
    "pool_workers",
    "run_tasks",
    "default_workers",
]

#: A run estimated to take less than this many seconds in this process stays
#: in this process. Workers are forked (they inherit what is imported and
#: loaded) and start in 20-30 ms, but on two cores a run gains at most half
#: its time, less whatever else the machine runs: measured as whole
#: processes on a 2-core machine, a pool of two saved 0.13-0.19 s of
#: 0.4 s runs and nothing on a 0.17 s one.
POOL_SECONDS = 0.25

#: Seconds a run goes without a progress bar: a shorter run never shows one
#: (nor imports tqdm, ~0.1 s of a fresh process).
_BAR_DELAY = 0.5

#: How often a worker without ``PR_SET_PDEATHSIG`` checks that its parent lives.
_WATCH_SECONDS = 0.5

#: Seconds a terminated worker gets to unwind its task before it is killed.
_STOP_SECONDS = 1.0

_PR_SET_PDEATHSIG = 1
_in_task = False


class _Stop(BaseException):
    """Raised in a worker's task by SIGTERM: unwinds it (temporaries removed)."""


def _on_sigterm(signum, frame):
    if _in_task:
        raise _Stop
    _exit_stopped()


def _exit_stopped() -> None:
    """End a stopped worker, removing any temporary file it was writing."""
    from diffview.io import remove_temporaries

    remove_temporaries()
    os._exit(128 + signal.SIGTERM)


def _watch_parent(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(_WATCH_SECONDS)
    os.kill(os.getpid(), signal.SIGTERM)


_STOP_SIGNALS = {signal.SIGINT, signal.SIGTERM}


def _init_worker(parent: int) -> None:
    """Set up a pool worker's signals, its end with the parent's, its heap."""
    hold_freed_memory()  # the worker lives for one run
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, _on_sigterm)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, _STOP_SIGNALS)  # see run_tasks
    armed = False
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            import ctypes

            libc = ctypes.CDLL(None, use_errno=True)
            armed = libc.prctl(_PR_SET_PDEATHSIG, int(signal.SIGTERM), 0, 0, 0) == 0
    if not armed:
        threading.Thread(target=_watch_parent, args=(parent,), daemon=True).start()
    if os.getppid() != parent:  # the parent died before the signal was armed
        os._exit(128 + signal.SIGTERM)


def _call(func: Callable, task):
    """Run one task in a worker; SIGTERM stops it cleanly and ends the worker."""
    global _in_task
    _in_task = True
    try:
        return func(task)
    except _Stop:
        _exit_stopped()
    finally:
        _in_task = False
        _sync_written_folders()


def _sync_written_folders() -> None:
    """Make this process's renames durable (the folders' deferred syncs)."""
    from diffview.io import sync_pending_folders

    sync_pending_folders()


def _process_pool(workers: int) -> ProcessPoolExecutor:
    """Start a pool of worker processes (concurrent.futures loads only here)."""
    return _pool_type()(
        max_workers=workers, initializer=_init_worker, initargs=(os.getpid(),)
    )


def __getattr__(name: str):
    """``ProcessPoolExecutor``, imported with the first pool (PEP 562).

    Importing it loads multiprocessing (~0.1 s), which a run in this
    process never uses.
    """
    if name == "ProcessPoolExecutor":
        from concurrent.futures import ProcessPoolExecutor

        return ProcessPoolExecutor
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _pool_type():
    """Return the process pool class (`__getattr__`'s, or a test's stand-in)."""
    return sys.modules[__name__].ProcessPoolExecutor


def _on_executor(func: Callable, task: _Sealed):
    """
    Run one task (sealed, `_Sealed`) on an executor's worker, as `_call` does.

    glibc's reuse of freed memory is kept for the task where the worker was
    started without it (`keep_heap`: dask's workers), and the folders it
    wrote are synced before its result goes back: a worker that is killed
    when the cluster closes runs no exit handlers.
    """
    try:
        return keep_heap(func, task.value)
    finally:
        _sync_written_folders()


class _Sealed:
    """
    A task's argument as one object that an executor does not look into.

    dask walks a task's arguments, every tuple and dataclass of them, for
    keys of other tasks (~0.2 s for the 2,184 pairs of the 400-tile field);
    a batch of pairs holds none.

    Examples
    --------
    >>> import pickle
    >>> pickle.loads(pickle.dumps(_Sealed([1, 2]))).value
    [1, 2]
    """

    __slots__ = ("value",)

    def __init__(self, value):
        self.value = value


def _submit_options(executor) -> dict:
    """
    Keywords for ``executor.submit`` beyond the task: ``pure=False`` for dask.

    A dask client's executor (``Client.get_executor()``) names each task by
    hashing its arguments (``pure=True``, dask's default): on the 400-tile
    field's 2,184 pairs, in 8 batches, that took the client ~0.5 s while the
    workers waited, and a task submitted again with the same arguments
    would reuse the earlier result instead of writing its files. Other
    executors get no keyword (it would be passed to the task).

    Examples
    --------
    >>> from concurrent.futures import ThreadPoolExecutor
    >>> _submit_options(ThreadPoolExecutor(1))
    {}
    """
    dask = sys.modules.get("distributed.cfexecutor")
    if dask is not None and isinstance(executor, dask.ClientExecutor):
        return {"pure": False}
    return {}


def _stop_pool(pool: ProcessPoolExecutor) -> None:
    """Cancel what is pending and end the workers now (SIGTERM, then SIGKILL)."""
    procs = list((getattr(pool, "_processes", None) or {}).values())
    manager = getattr(pool, "_executor_manager_thread", None)
    pool.shutdown(wait=False, cancel_futures=True)
    for proc in procs:
        with contextlib.suppress(Exception):
            proc.terminate()
    deadline = time.monotonic() + _STOP_SECONDS
    for proc in procs:
        with contextlib.suppress(Exception):
            proc.join(max(0.0, deadline - time.monotonic()))
            if proc.is_alive():
                proc.kill()
                proc.join(0.5)
    if manager is not None:  # it reaps the workers too: let it finish
        manager.join(max(0.2, deadline - time.monotonic()))


def pool_workers(workers, executor, costs: Iterable[float]) -> int | None:
    """
    Choose a run's ``workers``: as asked, or 1 when a pool would not pay.

    One rule for every run: with no ``workers`` and no ``executor`` given,
    the estimated seconds of each task in this process are summed, and the
    run stays in this process (1 worker) unless the total exceeds
    `POOL_SECONDS`. ``costs`` is consumed lazily and only until the total
    exceeds it, so estimates that read headers stop early on big runs.

    Parameters
    ----------
    workers : int or None
        What the caller asked for; returned unchanged unless None.
    executor : concurrent.futures.Executor or None
        When given, ``workers`` is returned unchanged (the executor decides).
    costs : iterable of float
        Estimated seconds of each task run in this process.

    Returns
    -------
    int or None
        ``workers`` when given (or with an executor), else 1 for a small run
        and None (all cores) for a big one.

    Examples
    --------
    >>> pool_workers(None, None, [0.1, 0.1])
    1
    >>> pool_workers(None, None, [0.2, 0.2]) is None
    True
    >>> pool_workers(3, None, [10.0])
    3
    """
    if workers is not None or executor is not None:
        return workers
    total = 0.0
    for cost in costs:
        total += cost
        if total > POOL_SECONDS:
            return None
    return 1


def _file_seconds(paths: Iterable, seconds_per_byte: float) -> Iterator[float]:
    """
    Estimated seconds of tasks that each read the given files.

    Parameters
    ----------
    paths : iterable of str or path-like
        One file per task (missing files cost nothing: they fail fast).
    seconds_per_byte : float
        Time one process spends per byte of input.

    Yields
    ------
    float
        ``size * seconds_per_byte`` for each file, lazily.

    Examples
    --------
    >>> list(_file_seconds(["/nonexistent"], 1e-8))
    [0.0]
    """
    for path in paths:
        try:
            yield os.path.getsize(path) * seconds_per_byte
        except OSError:
            yield 0.0


def default_workers() -> int:
    """
    Count the worker processes used when none is given: all usable cores.

    Returns
    -------
    int
        The cores this process may run on (at least 1).

    Examples
    --------
    >>> default_workers() >= 1
    True
    """
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def _progress(total: int, desc: str, quiet: bool, unit: str = "pair"):
    """
    Make a progress bar counting units of work (pairs, images), or None.

    ``tqdm.auto`` draws a widget in notebooks and text on a terminal, once
    the run has lasted `_BAR_DELAY` seconds (`_DelayedBar`); into a file or
    a pipe (a log, a batch job) no bar is drawn, as tqdm itself does with
    ``disable=None``, and tqdm is not imported. The rate
    (pairs/s) and the time left are averages over the whole run
    (``smoothing=0``): with tasks of many pairs finishing in bursts, a
    moving average would swing with every burst.
    """
    if quiet or not _shows_progress():
        return None
    return _DelayedBar(total=total, desc=desc, unit=unit)


class _DelayedBar:
    """A progress bar that appears once its run has lasted `_BAR_DELAY` seconds.

    Counts like a ``tqdm`` bar (``update``, ``close``, ``n``, ``total``);
    the ``tqdm`` bar is made (and tqdm imported) at the first update after
    the delay, with the work done so far and the run's start time, so that
    its rate and time left are the whole run's.
    """

    smoothing = 0

    def __init__(self, total: int, desc: str, unit: str):
        self.total, self.desc, self.unit = total, desc, unit
        self.n = 0
        self.bar = None
        self._start = time.monotonic()

    def update(self, n: int = 1) -> None:
        self.n += n
        if self.bar is not None:
            self.bar.update(n)
        elif time.monotonic() - self._start >= _BAR_DELAY:
            self.bar = self._show()

    def _show(self):
        from tqdm.auto import tqdm

        bar = tqdm(total=self.total, desc=self.desc, unit=self.unit, leave=False,
                   smoothing=self.smoothing)
        bar.start_t -= time.monotonic() - self._start  # the run's start
        bar.update(self.n)
        return bar

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def _shows_progress() -> bool:
    """
    Tell whether a progress bar is seen: on a terminal or in a notebook.

    Examples
    --------
    >>> isinstance(_shows_progress(), bool)
    True
    """
    if "ipykernel" in sys.modules:  # a Jupyter kernel: tqdm.auto's widget
        return True
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):  # no stderr, or a closed one
        return False


def _ordered(futures, bar, sizes) -> Iterator:
    """
    Yield the futures' results in order; the bar counts tasks as they end.

    A task that ends before the ones submitted earlier is counted at once,
    so the bar and its rate follow the work done, not the order of results.
    """
    from concurrent.futures import FIRST_COMPLETED, wait

    pending = dict(zip(futures, sizes, strict=True))

    def count(done) -> None:
        for fut in done:
            size = pending.pop(fut, None)
            if bar is not None and size is not None:
                bar.update(size)

    for fut in futures:
        while not fut.done():
            count(wait(list(pending), return_when=FIRST_COMPLETED)[0])
        count([fut])
        yield fut.result()


def run_tasks(
    func: Callable,
    tasks: Sequence,
    *,
    executor: Executor | None = None,
    workers: int | None = None,
    quiet: bool = False,
    desc: str = "diffview",
    sizes: Sequence[int] | None = None,
    unit: str = "pair",
) -> Iterator:
    """
    Apply ``func`` to every task and yield the results in task order.

    Parameters
    ----------
    func : callable
        A picklable top-level function of one argument. It should catch the
        per-task errors it wants counted and return them as values.
    tasks : sequence
        Arguments, one per call; keep them small (paths, boxes), not arrays.
    executor : concurrent.futures.Executor, optional
        Any executor with ``submit`` (a ``ProcessPoolExecutor``, or
        ``dask.distributed.Client.get_executor()`` for a cluster). When given,
        ``workers`` is ignored and the executor is not shut down.
    workers : int, optional
        Size of the local process pool when no executor is given. ``None``
        means all cores; 1 runs in this process with no pool.
    quiet : bool
        Switch the progress bar off.
    desc : str
        Label of the progress bar.
    sizes : sequence of int, optional
        Units of work in each task (e.g. pairs in a chunk) for the progress
        bar; default one per task.
    unit : str
        Name of a unit of work on the progress bar.

    Yields
    ------
    object
        ``func(task)`` for every task, in the order of ``tasks``; results
        never depend on the number of workers.

    Examples
    --------
    >>> list(run_tasks(abs, [-1, 2, -3], workers=1, quiet=True))
    [1, 2, 3]
    """
    tasks = list(tasks)
    sizes = [1] * len(tasks) if sizes is None else list(sizes)
    bar = _progress(sum(sizes), desc, quiet, unit)
    try:
        if executor is not None:
            futures = []
            try:
                opts = _submit_options(executor)
                futures.extend(
                    executor.submit(_on_executor, func, _Sealed(t), **opts)
                    for t in tasks
                )
                yield from _ordered(futures, bar, sizes)
            except BaseException:
                for fut in futures:
                    fut.cancel()
                raise
            return
        nworkers = default_workers() if workers is None else max(1, int(workers))
        nworkers = min(nworkers, max(1, len(tasks)))
        if nworkers == 1:
            for task, size in zip(tasks, sizes, strict=True):
                result = func(task)
                if bar is not None:
                    bar.update(size)
                yield result
            return
        pool = _process_pool(nworkers)
        try:
            # Workers start (fork) inside submit: block the stop signals
            # meanwhile so that none arrives before a worker's handlers are
            # set; here they are only deferred, not lost.
            mask = signal.pthread_sigmask(signal.SIG_BLOCK, _STOP_SIGNALS)
            try:
                futures = [pool.submit(_call, func, t) for t in tasks]
            finally:
                signal.pthread_sigmask(signal.SIG_SETMASK, mask)
            yield from _ordered(futures, bar, sizes)
        except BaseException:
            _stop_pool(pool)
            raise
        pool.shutdown()
    finally:
        _sync_written_folders()
        if bar is not None:
            bar.close()
