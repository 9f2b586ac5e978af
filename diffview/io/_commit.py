"""
Staged files: written whole under a temporary name, then committed.

A writer of many small files stages each file whole under a temporary name
(`stage_file`); `commit_staged` syncs the files of one unit (a pair's
difference and area) and renames them onto their names, all or none;
`diffview.io.GroupCommit` (``_group``) commits many units in batches.
`discard_staged` removes a unit that will not be committed.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import NamedTuple

from diffview.errors import InputError
from diffview.io.paths import (
    _PENDING,
    _open_temp,
    _output_error,
    _output_target,
    _temp_guard,
    _write_all,
    sync_folder_soon,
)

__all__ = [
    "Outcome",
    "commit_staged",
    "discard_staged",
    "stage_file",
]


class Outcome:
    """
    The outcome of a unit handed to a `diffview.io.GroupCommit` (a minimal future).

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
