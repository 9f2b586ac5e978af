"""Run independent tasks on an executor with an optional progress bar."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor

__all__ = ["run_tasks", "default_workers", "split_chunks", "chunked"]


def default_workers() -> int:
    """Number of worker processes used when none is given: all usable cores."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def _progress(total: int, desc: str, quiet: bool, unit: str = "pair"):
    if quiet:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, unit=unit, leave=False)


def _ordered(futures, bar, sizes) -> Iterator:
    for fut, size in zip(futures, sizes, strict=True):
        result = fut.result()
        if bar is not None:
            bar.update(size)
        yield result


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
            yield from _ordered([executor.submit(func, t) for t in tasks], bar, sizes)
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
        with ProcessPoolExecutor(max_workers=nworkers) as pool:
            yield from _ordered([pool.submit(func, t) for t in tasks], bar, sizes)
    finally:
        if bar is not None:
            bar.close()


def split_chunks(
    items: Sequence, workers: int | None, executor=None, per_worker: int = 4
) -> list[list]:
    """
    Contiguous chunks of ``items``, about ``per_worker`` per worker.

    Neighbouring pairs share images, so contiguous chunks let a worker reuse
    what it read; several chunks per worker keep the load balanced. One
    worker and no executor gives one chunk.

    Examples
    --------
    >>> [len(c) for c in split_chunks(list(range(10)), 2, per_worker=2)]
    [3, 3, 3, 1]
    """
    n = default_workers() if workers is None else max(1, int(workers))
    if executor is None and n == 1:
        return [list(items)] if len(items) else []
    size = max(1, -(-len(items) // (per_worker * n)))
    return [list(items[k : k + size]) for k in range(0, len(items), size)]


def chunked(items: Iterable, size: int) -> Iterator[list]:
    """Split ``items`` into lists of at most ``size`` elements."""
    chunk: list = []
    for item in items:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk
