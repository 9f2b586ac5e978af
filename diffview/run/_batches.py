"""
Cut a run's tasks into batches for a pool or a cluster.

`split_by_cost` batches contiguous pairs by their estimated cost (the same
estimates `pool_workers` decides on), so that every task of a process pool
or a dask cluster carries enough work for its overhead to stay small;
`executor_workers` counts the workers they are spread over.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator, Sequence

from diffview.run import _parallel

__all__ = [
    "TASK_SECONDS",
    "chunked",
    "executor_workers",
    "split_by_cost",
    "split_chunks",
]

#: Least estimated seconds of work in one task of a pool or a cluster: small
#: pairs are batched up to this, so that what every task costs besides its
#: work (a round trip to a dask scheduler takes 2-25 ms of a worker's time,
#: more under load) stays small. The estimates err low for differences,
#: which write two files a pair (real runs take 2-10 times longer), high for
#: one-pass fits; a higher floor would leave the workers of small runs idle.
TASK_SECONDS = 0.05

#: Most estimated seconds of work in one task, however few the workers: the
#: progress bar moves at least this often and a lost worker loses little.
_MOST_SECONDS = 5.0


def split_chunks(
    items: Sequence, workers: int | None, executor=None, per_worker: int = 4
) -> list[list]:
    """
    Contiguous chunks of ``items``, about ``per_worker`` per worker.

    Neighbouring pairs share images, so contiguous chunks let a worker reuse
    what it read; several chunks per worker keep the load balanced. One
    worker and no executor gives one chunk.

    Parameters
    ----------
    items : sequence
        The tasks, in order.
    workers : int or None
        Workers of the run (None: all cores).
    executor : concurrent.futures.Executor, optional
        With an executor, chunks are made even for ``workers=1``.
    per_worker : int
        Chunks per worker.

    Returns
    -------
    list of list
        The chunks, in order; empty for no items.

    Examples
    --------
    >>> [len(c) for c in split_chunks(list(range(10)), 2, per_worker=2)]
    [3, 3, 3, 1]
    """
    n = _parallel.default_workers() if workers is None else max(1, int(workers))
    if executor is None and n == 1:
        return [list(items)] if len(items) else []
    size = max(1, -(-len(items) // (per_worker * n)))
    return [list(items[k : k + size]) for k in range(0, len(items), size)]


def executor_workers(executor, workers: int | None = None) -> int:
    """
    Count the workers a run's tasks are spread over.

    Parameters
    ----------
    executor : concurrent.futures.Executor or None
        A process or thread pool (its ``max_workers``), the executor of a
        dask client (the threads of the cluster's workers now), or None.
    workers : int, optional
        The run's ``workers``: when given, the answer.

    Returns
    -------
    int
        ``workers``, else what the executor tells, else all local cores
        (`diffview.run.default_workers`; e.g. a dask cluster still starting
        its workers).

    Examples
    --------
    >>> from concurrent.futures import ThreadPoolExecutor
    >>> with ThreadPoolExecutor(3) as pool:
    ...     executor_workers(pool), executor_workers(pool, 5)
    (3, 5)
    """
    if workers is not None:
        return max(1, int(workers))
    count = getattr(executor, "_max_workers", None)
    client = getattr(executor, "_client", None)  # dask's ClientExecutor
    if not count and client is not None:
        with contextlib.suppress(Exception):
            count = sum(client.nthreads().values())
    return int(count) if count else _parallel.default_workers()


def split_by_cost(
    items: Sequence,
    costs: Sequence[float],
    workers: int,
    *,
    per_worker: int = 4,
    least: float | None = None,
) -> list[list]:
    """
    Contiguous batches of ``items`` of about equal estimated cost.

    The batches hold equal shares of the estimated total, each about
    ``1 / (per_worker * workers)`` of it, several per worker to balance the
    load, but at least ``least`` seconds (default `TASK_SECONDS`), so that
    small pairs travel many to a task and the per-task overhead of a pool or
    a cluster stays small, and at most 5 s, so that the progress bar moves.
    Contiguous batches let a worker reuse the images it read.

    Parameters
    ----------
    items : sequence
        The tasks, in order.
    costs : sequence of float
        Estimated seconds of each item in one process (as for
        `pool_workers`).
    workers : int
        Workers of the run (`executor_workers`).
    per_worker : int
        Batches per worker when the work is big enough.
    least : float, optional
        Least estimated seconds of a batch (about: batches share the total
        equally).

    Returns
    -------
    list of list
        The batches, in order; empty for no items.

    Examples
    --------
    >>> [len(b) for b in split_by_cost(range(10), [0.1] * 10, 1, least=0.3)]
    [3, 4, 3]
    >>> [len(b) for b in split_by_cost(range(8), [1.0] * 8, 2, per_worker=2)]
    [2, 2, 2, 2]
    """
    least = TASK_SECONDS if least is None else least
    items, costs = list(items), [float(c) for c in costs]
    if len(items) != len(costs):
        raise ValueError(f"{len(items)} items but {len(costs)} costs")
    total = sum(costs)
    slots = per_worker * max(1, workers)
    if total > 0:
        target = max(min(total / slots, _MOST_SECONDS), least)
        count = max(1, round(total / target)) if target > 0 else slots
    else:
        count = slots
    count = min(count, len(items))
    width = total / count if total > 0 else 0.0
    batches: list[list] = [[] for _ in range(count)]
    done = 0.0
    for k, (item, cost) in enumerate(zip(items, costs, strict=True)):
        # an item goes where the middle of its cost falls, so that batches
        # hold equal shares and none is a runt
        middle = (done + cost / 2) / width if width else k * count / len(items)
        batches[min(int(middle), count - 1)].append(item)
        done += cost
    return [b for b in batches if b]


def chunked(items: Iterable, size: int) -> Iterator[list]:
    """
    Split ``items`` into lists of at most ``size`` elements.

    Parameters
    ----------
    items : iterable
        Anything iterable (consumed once).
    size : int
        Longest list.

    Yields
    ------
    list
        Consecutive items; only the last list may be shorter.

    Examples
    --------
    >>> list(chunked(range(5), 2))
    [[0, 1], [2, 3], [4]]
    """
    chunk: list = []
    for item in items:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk
