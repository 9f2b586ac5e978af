"""
Group commits: many small files synced together, then renamed.

A writer of many small files (two per pair for the differences) stages each
file whole under a temporary name (`stage_file`) and hands the files of one
unit (a pair's difference and area) to a `GroupCommit`. Background threads
sync each file to disk (``fsync``) and, once every file of the unit is
synced, rename them onto their names; the folder is synced after. Syncs
issued together are merged by the file system's journal into a few disk
flushes (on ext4 here 200 files: 0.7 s one after another, 0.05 s from four
threads at once), and the work goes on while the disk flushes.

The guarantees are `atomic_path`'s: nothing appears under a final name
before it is complete and synced; a unit whose sync fails leaves none of
its files and reports an `OutputError` naming the file; an interrupted
group (Ctrl-C, SIGTERM) removes every temporary file not yet renamed and
does not wait for the disk. A run that is stopped loses only what was not
yet renamed, which a rerun redoes.
"""

from __future__ import annotations

import os
import queue
import threading
from pathlib import Path
from typing import NamedTuple

from diffview.errors import InputError, OutputError
from diffview.io.paths import (
    _PENDING,
    _open_temp,
    _output_error,
    _output_target,
    _temp_guard,
    _write_all,
    sync_folder_soon,
    sync_pending_folders,
)

__all__ = [
    "GroupCommit",
    "Outcome",
    "commit_staged",
    "discard_staged",
    "stage_file",
]


class Outcome:
    """
    The outcome of a unit handed to a `GroupCommit` (a minimal future).

    Examples
    --------
    >>> done = Outcome()
    >>> done.set(None); done.done(), done.exception()
    (True, None)
    """

    __slots__ = ("_event", "_error")

    def __init__(self):
        self._event = threading.Event()
        self._error: BaseException | None = None

    def set(self, error: BaseException | None) -> None:
        """
        Record the unit's end: None when committed, else what failed.

        Parameters
        ----------
        error : BaseException or None
            Why the unit left nothing.
        """
        self._error = error
        self._event.set()

    def done(self) -> bool:
        """
        Tell whether the unit has ended.

        Returns
        -------
        bool
            True once committed or failed.
        """
        return self._event.is_set()

    def exception(self) -> BaseException | None:
        """
        Wait for the unit's end; what failed, or None.

        Returns
        -------
        BaseException or None
            An `OutputError` naming the file whose sync or rename failed.
        """
        self._event.wait()
        return self._error

    def result(self) -> None:
        """
        Wait for the unit's end; raise what failed.

        Raises
        ------
        diffview.errors.OutputError
            The unit's sync or rename failed.
        """
        if self.exception() is not None:
            raise self._error


class StagedFile(NamedTuple):
    """A complete temporary file, open, not yet synced nor renamed."""

    tmp: str
    target: Path
    name: str
    fd: int


def stage_file(path, parts) -> StagedFile:
    """
    Write ``parts`` whole to a new temporary file beside ``path``.

    Nothing is synced or renamed: `commit_staged` or a `GroupCommit` does
    that; `discard_staged` removes the file. Outputs are checked as
    `atomic_path` checks them (FIFOs, devices, folders and links out of the
    folder are refused).

    Parameters
    ----------
    path : str or path-like
        The file that the staged file becomes.
    parts : iterable of bytes-like
        Its content, in order.

    Returns
    -------
    StagedFile
        ``(tmp, target, name, fd)``: the temporary file, the file it will be
        renamed onto (``path``, or where a link at ``path`` leads), ``path``
        as named in errors, and the open descriptor.

    Raises
    ------
    InputError
        The folder of ``path`` does not exist.
    diffview.errors.OutputError
        A full disk, an I/O error, or ``path`` is not a regular file.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "x.bin"
    >>> f = stage_file(out, [b"ab", b"c"])
    >>> out.exists(), pathlib.Path(f.tmp).read_bytes()
    (False, b'abc')
    >>> commit_staged([f]); out.read_bytes()
    b'abc'
    """
    path = Path(path)
    if not path.parent.is_dir():
        raise InputError(f"Cannot write {path}: folder {path.parent} does not exist")
    target = _output_target(path)
    fd, tmp = _open_temp(target, path)
    with _temp_guard(tmp, path, fd):
        for part in parts:
            _write_all(fd, part)
    return StagedFile(tmp, target, str(path), fd)


def discard_staged(files) -> None:
    """
    Close and remove staged files (a unit that will not be committed).

    Parameters
    ----------
    files : iterable of StagedFile
        What `stage_file` returned.

    Examples
    --------
    >>> import tempfile, pathlib, os
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> discard_staged([stage_file(d / "x.bin", [b"a"])]); os.listdir(d)
    []
    """
    for f in files:
        for undo in (os.close, os.unlink):
            try:
                undo(f.fd if undo is os.close else f.tmp)
            except OSError:
                pass
        _PENDING.discard(f.tmp)


def _sync(files) -> None:
    """Sync every file of a unit; on failure remove them all, name the file."""
    for f in files:
        try:
            os.fsync(f.fd)
        except OSError as exc:
            discard_staged(files)
            raise _output_error(f.name, exc) from exc


def _rename(files) -> set[Path]:
    """Rename a synced unit onto its names; remove what is left on failure.

    Returns the folders whose entries changed (to be synced).
    """
    folders = set()
    for k, f in enumerate(files):
        try:
            os.close(f.fd)
            os.replace(f.tmp, f.target)
        except OSError as exc:
            discard_staged(files[k + 1 :])
            try:
                os.unlink(f.tmp)
            except OSError:
                pass
            _PENDING.discard(f.tmp)
            raise _output_error(f.name, exc) from exc
        _PENDING.discard(f.tmp)
        folders.add(f.target.parent)
    return folders


def commit_staged(files) -> None:
    """
    Sync the staged files of one unit, then rename them onto their names.

    Every file is synced before any is renamed, so a unit whose sync fails
    leaves none of its files (and no temporary file) behind. The folder's
    sync follows (`diffview.io.sync_pending_folders`).

    Parameters
    ----------
    files : sequence of StagedFile
        What `stage_file` returned, for one unit.

    Raises
    ------
    diffview.errors.OutputError
        A sync or a rename failed; it names the file.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> commit_staged([stage_file(d / n, [b"x"]) for n in ("a", "b")])
    >>> sorted(p.name for p in d.iterdir())
    ['a', 'b']
    """
    files = list(files)
    try:
        _sync(files)
    except BaseException:
        discard_staged(files)  # an interrupt too: nothing half-committed
        raise
    for folder in _rename(files):
        sync_folder_soon(folder)


class GroupCommit:
    """
    Commit units of staged files from background threads (a group commit).

    ``submit`` returns at once with a future; threads sync the unit's files
    and rename them (`commit_staged`); the syncs of units in flight
    together are merged by the file system. At most ``depth`` units are in
    flight (``submit`` waits for room), which bounds the open files and
    what an interrupt loses. Leaving the ``with`` block normally waits for
    every unit and syncs the folders; leaving it by an exception (Ctrl-C,
    a worker's SIGTERM) removes every file not yet renamed and returns
    without waiting for the disk. The threads are daemons fed by a queue,
    so that a stop never waits for them nor for a lock they hold.

    Parameters
    ----------
    threads : int
        Threads issuing syncs at once; 0 commits each unit in ``submit``.
    depth : int
        Most units in flight.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> with GroupCommit() as group:
    ...     futures = [group.submit([stage_file(d / f"{k}.bin", [b"x"])])
    ...                for k in range(3)]
    >>> [f.exception() for f in futures], sorted(p.name for p in d.iterdir())
    ([None, None, None], ['0.bin', '1.bin', '2.bin'])
    """

    def __init__(self, threads: int = 8, depth: int = 64):
        self._threads = max(0, int(threads))
        self._slots = threading.BoundedSemaphore(max(1, int(depth)))
        self._lock = threading.Lock()
        self._live: dict[int, list[StagedFile]] = {}
        self._futures: list[Outcome] = []
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._started = 0
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
        >>> d = pathlib.Path(tempfile.mkdtemp())
        >>> with GroupCommit(threads=0) as group:
        ...     group.submit([stage_file(d / "a.bin", [b"x"])]).result()
        """
        files = list(files)
        future = Outcome()
        if self._threads == 0:
            try:
                commit_staged(files)
                future.set(None)
            except OutputError as exc:
                future.set(exc)
            return future
        try:
            self._slots.acquire()
        except BaseException:  # Ctrl-C while waiting for room
            discard_staged(files)
            raise
        key = id(future)
        with self._lock:
            self._live[key] = files
        self._futures.append(future)
        self._queue.put((key, files, future))
        if self._started < self._threads:
            self._started += 1
            threading.Thread(
                target=self._work, name="diffview-commit", daemon=True
            ).start()
        return future

    def _work(self) -> None:
        while (item := self._queue.get()) is not None:
            self._commit(*item)

    def _commit(self, key: int, files, future: Outcome) -> None:
        try:
            self._sync_and_rename(key, files)
            future.set(None)
        except BaseException as exc:  # a failed unit, or a bug: never lost
            future.set(exc)
        finally:
            self._slots.release()

    def _sync_and_rename(self, key: int, files) -> None:
        if self._aborted:
            return None  # the abort removed the unit
        try:
            for f in files:
                os.fsync(f.fd)
        except BaseException as exc:  # the unit is removed, whatever failed
            with self._lock:
                mine = self._live.pop(key, None) is not None
            if mine:
                discard_staged(files)
            if isinstance(exc, OSError):
                raise _output_error(f.name, exc) from exc
            raise
        with self._lock:  # renames never race an abort's removals
            if self._live.pop(key, None) is None:
                return None
            folders = _rename(files)
        for folder in folders:
            sync_folder_soon(folder)
        return None

    def wait(self) -> None:
        """
        Wait until every unit submitted so far is committed or failed.

        Examples
        --------
        >>> GroupCommit().wait()
        """
        for future in self._futures:
            future.exception()  # waits; failures stay in the futures
        self._futures.clear()

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
        with self._lock:
            self._aborted = True
            units = list(self._live.values())
            self._live.clear()
        for files in units:
            discard_staged(files)
        self._stop_threads()
        return len(units)

    def _stop_threads(self) -> None:
        for _ in range(self._started):
            self._queue.put(None)
        self._started = 0

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
        self._stop_threads()
        sync_pending_folders()
