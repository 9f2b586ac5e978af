"""
Group commits: many small files put on disk together, then renamed.

A writer of many small files (two per pair for the differences) stages each
file whole under a temporary name (`stage_file`) and hands the files of one
unit (a pair's difference and area) to a `GroupCommit`. It gathers units
into batches; a background thread puts each batch's files on disk with one
``syncfs`` of their file system (``_syncfs``; an ``fsync`` per
file where ``syncfs`` is unavailable or fails), then renames every unit
whose files are all on disk. The work goes on while the disk flushes. A
``syncfs`` costs about what one ``fsync`` does, so a 2,200-pair run makes
~35 flushes instead of 4,400.

What is flushed when: a batch closes at `GroupCommit`'s ``batch`` units,
when its first unit has waited ``seconds``, and at the end of the block;
its flush writes every dirty file of that file system (other programs'
too; on NFS or Lustre, this client's dirty pages of that mount). Folders
are synced (the renames made durable) by the next flush, at most a second
after a rename (`diffview.io.sync_pending_folders`), and at the end.

The guarantees are `atomic_path`'s: nothing appears under a final name
before it is complete and on disk; a replaced file is replaced only by a
complete one; a unit whose sync fails leaves none of its files and reports
an `OutputError` naming the file; an interrupted group (Ctrl-C, SIGTERM)
removes every temporary file not yet renamed and does not wait for the
disk. A run that is stopped loses only what was not yet renamed (at most
three batches per process), which a rerun redoes.
"""

from __future__ import annotations

import threading
import time

from diffview.errors import OutputError
from diffview.io._commit import (
    Outcome,
    StagedFile,
    _rename,
    commit_staged,
    discard_staged,
)
from diffview.io._syncfs import flush_files
from diffview.io.paths import _output_error, sync_folder_soon, sync_pending_folders

__all__ = ["GroupCommit"]


#: A batch may fill up to this many times ``batch`` units while the one
#: before is being committed (a slow flush does not stop the work at once).
_ROOM = 2


class GroupCommit:
    """
    Commit units of staged files in batches, from a background thread.

    ``submit`` adds a unit (a pair's files) to the batch being filled and
    returns a future. A thread takes the batch once it holds ``batch`` units,
    once its first unit has waited ``seconds``, or when the block ends; it
    puts all the batch's files on disk at once (`flush_files`: one
    ``syncfs`` per file system, else an ``fsync`` per file) and renames each
    unit whose files are all on disk. Their folders are synced at most once
    a second and at the end of the block (`diffview.io.sync_pending_folders`;
    the next batch's ``syncfs`` makes the renames durable too). Meanwhile
    the next batch fills; ``submit`` waits once it holds twice ``batch``
    units, which bounds the open files and what an interrupt loses: leaving
    the ``with`` block by an exception (Ctrl-C, a worker's SIGTERM) removes
    every file not yet renamed (at most three batches) and returns without
    waiting for the disk. Leaving it normally waits for every unit.

    Parameters
    ----------
    batch : int
        Most units in one batch (one flush).
    seconds : float
        Longest a unit waits in a batch that is filling.
    background : bool
        False commits each unit in ``submit`` (`commit_staged`: an
        ``fsync`` per file).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from diffview.io._commit import stage_file
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> with GroupCommit() as group:
    ...     futures = [group.submit([stage_file(d / f"{k}.bin", [b"x"])])
    ...                for k in range(3)]
    >>> [f.exception() for f in futures], sorted(p.name for p in d.iterdir())
    ([None, None, None], ['0.bin', '1.bin', '2.bin'])
    """

    def __init__(self, batch: int = 64, seconds: float = 0.5, background=True):
        self._batch = max(1, int(batch))
        self._seconds = float(seconds)
        self._background = bool(background)
        self._cond = threading.Condition()  # the filling batch and flags
        self._renaming = threading.Lock()  # the batch being committed
        self._filling: list[tuple[list[StagedFile], Outcome]] = []
        self._since = 0.0
        self._committing: list[tuple[list[StagedFile], Outcome]] = []
        self._futures: list[Outcome] = []
        self._thread: threading.Thread | None = None
        self._closing = False
        self._aborted = False

    def submit(self, files) -> Outcome:
        """
        Commit one unit of staged files in the background.

        Parameters
        ----------
        files : sequence of StagedFile
            The unit: all of its files are renamed, or none.

        Returns
        -------
        Outcome
            A future: its ``exception()`` waits and is None, or an
            `OutputError` naming the file whose sync or rename failed (the
            unit left nothing).

        Examples
        --------
        >>> import tempfile, pathlib
        >>> from diffview.io._commit import stage_file
        >>> d = pathlib.Path(tempfile.mkdtemp())
        >>> with GroupCommit(background=False) as group:
        ...     group.submit([stage_file(d / "a.bin", [b"x"])]).result()
        """
        files = list(files)
        future = Outcome()
        if not self._background:
            try:
                commit_staged(files)
                future.set(None)
            except OutputError as exc:
                future.set(exc)
            return future
        added = False
        try:
            with self._cond:
                while len(self._filling) >= _ROOM * self._batch and not self._aborted:
                    self._cond.wait()  # the disk is behind
                if self._aborted:
                    raise _stopped(files)
                if not self._filling:
                    self._since = time.monotonic()
                self._filling.append((files, future))
                added = True
                self._cond.notify_all()
        except BaseException:  # Ctrl-C while waiting for room
            if not added:
                discard_staged(files)
            raise
        self._futures.append(future)
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._work, name="diffview-commit", daemon=True
            )
            self._thread.start()
        return future

    def _work(self) -> None:
        while (batch := self._take()) is not None:
            try:
                self._commit(batch)
            except BaseException as exc:  # a bug: never lost, never hangs
                for _, future in batch:
                    if not future.done():
                        future.set(exc)

    def _take(self):
        """Wait for a batch that is full, old enough or last; None to stop."""
        with self._cond:
            while not self._aborted:
                n = len(self._filling)
                left = self._since + self._seconds - time.monotonic()
                if n and (n >= self._batch or self._closing or left <= 0):
                    batch, self._filling = self._filling, []
                    with self._renaming:  # never out of an abort's sight
                        self._committing = batch
                    self._cond.notify_all()
                    return batch
                if self._closing:
                    return None
                self._cond.wait(left if n else None)
        return None

    def _commit(self, batch) -> None:
        """Flush a batch's files, rename its good units, sync their folders."""
        files = [f for unit, _ in batch for f in unit]
        errors = flush_files([f.fd for f in files])
        failed = {id(files[k]): exc for k, exc in errors.items()}
        ends, folders = [], set()
        with self._renaming:  # renames never race an abort's removals
            if self._aborted:
                return  # the abort removed the batch and ended its futures
            for unit, future in batch:
                bad = [(f, failed[id(f)]) for f in unit if id(f) in failed]
                if bad:
                    discard_staged(unit)
                    ends.append((future, _output_error(bad[0][0].name, bad[0][1])))
                    continue
                try:
                    folders |= _rename(unit)
                    ends.append((future, None))
                except OutputError as exc:
                    ends.append((future, exc))
            self._committing = []
        for folder in folders:  # made durable by the next flush, or soon
            sync_folder_soon(folder)
        for future, error in ends:
            future.set(error)

    def wait(self) -> None:
        """
        Commit every unit submitted so far now, and wait until each is done.

        Examples
        --------
        >>> GroupCommit().wait()
        """
        thread = self._thread
        if thread is not None:
            with self._cond:
                self._closing = True
                self._cond.notify_all()
        for future in self._futures:
            future.exception()  # waits; failures stay in the futures
        self._futures.clear()
        if thread is not None:
            thread.join()
            self._thread, self._closing = None, False

    def abort(self) -> int:
        """
        Remove every unit not yet renamed and stop, without waiting.

        Returns
        -------
        int
            Units removed.

        Examples
        --------
        >>> GroupCommit().abort()
        0
        """
        with self._cond:
            self._aborted = True
            units, self._filling = self._filling, []
            self._cond.notify_all()
            with self._renaming:
                units += self._committing
                self._committing = []
        for files, future in units:
            discard_staged(files)
            future.set(_stopped(files))
        return len(units)

    def __enter__(self) -> GroupCommit:
        return self

    def __exit__(self, kind, exc, tb) -> None:
        if kind is not None:
            self.abort()
            return
        try:
            self.wait()
        except BaseException:  # stopped while waiting for the disk
            self.abort()
            raise
        sync_pending_folders()


def _stopped(files) -> OutputError:
    """Make the error of a unit removed by a stop (never renamed)."""
    name = files[0].name if files else None
    return OutputError(None, "not written: the run was stopped", name)
