"""Montage's file-name rules and atomic writes."""

from __future__ import annotations

import atexit
import contextlib
import errno
import itertools
import os
import stat
import time
from pathlib import Path

from diffview.errors import OutputError

__all__ = [
    "remove_temporaries",
    "montage_file_path",
    "split_fits_name",
    "area_name",
    "atomic_path",
    "write_file",
    "is_inside",
    "sync_folder_soon",
    "sync_pending_folders",
]


def montage_file_path(directory: str | os.PathLike | None, name: str) -> str:
    """
    Join a folder and a file name the way Montage's ``montage_filePath`` does.

    An absolute ``name`` is returned unchanged, a leading ``./`` is dropped,
    otherwise ``directory/name``.

    Parameters
    ----------
    directory : str or path-like or None
        The folder; None or ``""`` mean the current folder.
    name : str
        A file name from a table.

    Returns
    -------
    str
        The path, as Montage forms it (no normalisation).

    Examples
    --------
    >>> montage_file_path("proj", "./a.fits")
    'proj/a.fits'
    >>> montage_file_path("proj", "/data/a.fits")
    '/data/a.fits'
    """
    name = str(name)
    if os.path.isabs(name):
        return name
    while name.startswith("./"):
        name = name[2:]
    directory = "." if directory in (None, "") else str(directory)
    return directory + ("" if directory.endswith("/") else "/") + name


def split_fits_name(name: str) -> str:
    """
    Strip a trailing ``.fits`` from a name, as Montage does to get the base.

    Parameters
    ----------
    name : str
        A file name.

    Returns
    -------
    str
        ``name`` without its ``.fits`` (other endings are kept).

    Examples
    --------
    >>> split_fits_name("dir/a.fits"), split_fits_name("a.fit")
    ('dir/a', 'a.fit')
    """
    name = str(name)
    return name[:-5] if name.endswith(".fits") else name


def area_name(name: str) -> str:
    """
    Name the area companion of a flux file: ``X.fits`` -> ``X_area.fits``.

    Parameters
    ----------
    name : str
        The flux file's name.

    Returns
    -------
    str
        The area file's name.

    Examples
    --------
    >>> area_name("p/hdu0_a.fits"), area_name("foo")
    ('p/hdu0_a_area.fits', 'foo_area.fits')
    """
    return split_fits_name(name) + "_area.fits"


def _problem(exc: OSError) -> str:
    """``"no space left on device"`` from ``OSError(ENOSPC)``."""
    text = exc.strerror or str(exc) or type(exc).__name__
    return text[:1].lower() + text[1:]


def _output_error(path, exc: OSError) -> OutputError:
    """
    Make the `OutputError` of a failed write: ``"<path>: <problem>"``.

    Parameters
    ----------
    path : str or path-like
        The output file the user asked for.
    exc : OSError
        What the operating system said.

    Returns
    -------
    diffview.errors.OutputError
        An `OSError` with ``exc``'s errno, raised ``from exc`` by callers.

    Examples
    --------
    >>> import errno
    >>> exc = OSError(errno.ENOSPC, "No space left on device")
    >>> print(_output_error("d.fits", exc))
    d.fits: no space left on device
    """
    if isinstance(exc, OutputError):
        return exc
    if exc.errno is None and "space on disk" in str(exc):  # astropy's own check
        return OutputError(errno.ENOSPC, "no space left on device", str(path))
    return OutputError(exc.errno, _problem(exc), str(path))


_KINDS = (
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISDIR, "a folder"),
)


def is_inside(where: str, folder: str) -> bool:
    """
    Tell whether an absolute path is ``folder`` itself or below it.

    The test is on the names (no symbolic link is followed): both paths
    should be absolute and normalised (``os.path.abspath``).

    Parameters
    ----------
    where, folder : str
        The path, and the folder it should be in.

    Returns
    -------
    bool
        True for ``folder`` and anything below it.

    Examples
    --------
    >>> is_inside("/data/proj/a.fits", "/data/proj")
    True
    >>> is_inside("/data/projx/a.fits", "/data/proj")
    False
    """
    return where == folder or where.startswith(folder.rstrip(os.sep) + os.sep)


def _output_target(path: str | os.PathLike) -> Path:
    """
    Find the regular file an output named ``path`` is written to.

    Outputs are only ever regular files, replaced whole. A symbolic link is
    written through: the file it leads to is replaced (atomically, beside
    itself) and the link is kept, as ``cp`` or a shell's ``>`` would do, but
    only when that file is inside the folder of ``path`` (or a subfolder):
    a write never lands outside the folder the user named. A FIFO, device,
    socket or folder is refused, never replaced: writing into a FIFO blocks
    until a reader comes and cannot be undone half-way, and replacing it or
    a device by a regular file would break the user's setup.

    Parameters
    ----------
    path : str or path-like
        The output file asked for.

    Returns
    -------
    pathlib.Path
        ``path``, or for a symbolic link the file it leads to.

    Raises
    ------
    diffview.errors.OutputError
        ``path`` is not a regular file (or a link to one inside its folder).

    Examples
    --------
    >>> import tempfile, pathlib, os
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> os.symlink("real.png", d / "link.png")
    >>> _output_target(d / "link.png") == d / "real.png"
    True
    >>> _output_target(d)
    Traceback (most recent call last):
    ...
    diffview.errors.OutputError: /...: is a folder, not a file; not written
    """
    path = Path(path)
    target = path
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return path
    except OSError as exc:
        raise _output_error(path, exc) from exc
    if stat.S_ISLNK(st.st_mode):
        folder = os.path.realpath(path.parent)
        target = Path(os.path.realpath(path))
        if not is_inside(str(target), folder):
            raise OutputError(
                None,
                f"is a symbolic link to {target}, outside {path.parent}; not "
                "followed (remove the link or write elsewhere)",
                str(path),
            )
        try:
            st = os.lstat(target)
        except FileNotFoundError:
            return target  # a dangling link: its target is created
        except OSError as exc:
            raise _output_error(path, exc) from exc
        if stat.S_ISLNK(st.st_mode):  # a loop realpath could not resolve
            raise OutputError(None, "is a symbolic link loop; not written", str(path))
    for test, kind in _KINDS:
        if test(st.st_mode):
            where = "" if target == path else f" (through the link, {target})"
            raise OutputError(
                None, f"is {kind}{where}, not a file; not written", str(path)
            )
    return target


def _open_temp(target: Path, name=None) -> tuple[int, str]:
    """
    Create a new temporary file beside ``target``; its descriptor and name.

    The name is ``.<name>.<pid>.<n>.part``; it is created exclusively (never
    through an existing file or link) with mode ``0o666`` less the umask.

    Parameters
    ----------
    target : pathlib.Path
        The file it will be renamed onto.
    name : str or path-like, optional
        The output named in error messages (default ``target``).

    Returns
    -------
    tuple of (int, str)
        The open descriptor (write only) and the temporary file's name.

    Raises
    ------
    diffview.errors.OutputError
        The file cannot be created (no folder, no space, no permission).

    Examples
    --------
    >>> import tempfile, pathlib, os
    >>> fd, tmp = _open_temp(pathlib.Path(tempfile.mkdtemp()) / "x.fits")
    >>> os.close(fd); os.path.basename(tmp).startswith(".x.fits."), tmp[-5:]
    (True, '.part')
    """
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    for _ in range(100):
        tmp = str(target.with_name(f".{target.name}.{os.getpid()}."
                                   f"{next(_COUNTER)}.part"))
        _PENDING.add(tmp)  # before it exists: remove_temporaries() may run any time
        try:
            return os.open(tmp, flags, 0o666), tmp
        except FileExistsError:  # a stale file of a killed process, same pid
            _PENDING.discard(tmp)
            continue
        except OSError as exc:
            _PENDING.discard(tmp)
            raise _output_error(name or target, exc) from exc
    raise OutputError(
        errno.EEXIST, "cannot create a temporary file", str(name or target)
    )


_COUNTER = itertools.count()

#: Temporary files this process has created and not yet renamed or removed.
_PENDING: set[str] = set()


def remove_temporaries() -> int:
    """
    Remove every temporary file this process is still writing.

    A process that is being stopped (a pool worker on SIGTERM) calls this
    before it exits, so that no ``.part`` file outlives it, wherever the
    stop signal interrupted a write.

    Returns
    -------
    int
        How many temporary files were removed.

    Examples
    --------
    >>> import tempfile, pathlib, os
    >>> fd, tmp = _open_temp(pathlib.Path(tempfile.mkdtemp()) / "x.fits")
    >>> os.close(fd); remove_temporaries() >= 1, os.path.exists(tmp)
    (True, False)
    """
    removed = 0
    for tmp in list(_PENDING):
        try:
            os.unlink(tmp)
            removed += 1
        except OSError:
            pass
        _PENDING.discard(tmp)
    return removed


def _write_all(fd: int, data) -> None:
    """
    Write all of ``data`` to a descriptor, however few bytes each write takes.

    Parameters
    ----------
    fd : int
        An open descriptor.
    data : bytes-like
        What to write.

    Examples
    --------
    >>> r, w = os.pipe()
    >>> _write_all(w, b"abc"); os.close(w); os.read(r, 10)
    b'abc'
    """
    view = memoryview(data).cast("B")
    while view:
        n = os.write(fd, view)
        if n <= 0:  # pragma: no cover - POSIX write never returns 0 for n > 0
            raise OSError(errno.EIO, "write made no progress")
        view = view[n:]


@contextlib.contextmanager
def _temp_guard(tmp: str, name, fd: int | None = None):
    """
    Remove ``tmp`` (closing ``fd``) if the block fails; an OSError names ``name``.

    Every writer's failure path: no temporary file is left behind or left in
    the registry `remove_temporaries` empties, and a file-system error
    becomes an `OutputError` naming the output, not the temporary file.
    """
    try:
        yield
    except BaseException as exc:
        if fd is not None:
            os.close(fd)
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        _PENDING.discard(tmp)
        if isinstance(exc, OSError):
            raise _output_error(name, exc) from exc
        raise


def _commit_temp(tmp: str, target: Path, name=None, fd=None) -> None:
    """
    Make ``tmp`` durable and rename it onto ``target``; remove it on failure.

    The file is flushed to disk (``fsync``) before the rename, so a full
    disk or an I/O error is reported here and never leaves a truncated file
    under ``target``; the folder is synced after (`sync_folder_soon`), so
    the rename survives a crash.

    Parameters
    ----------
    tmp : str
        The complete temporary file.
    target : pathlib.Path
        The file it replaces.
    name : str or path-like, optional
        The output named in error messages (default ``target``).
    fd : int, optional
        ``tmp``'s open descriptor, synced and closed here.

    Raises
    ------
    diffview.errors.OutputError
        The sync or the rename failed; ``tmp`` is removed.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "x.txt"
    >>> fd, tmp = _open_temp(out)
    >>> _write_all(fd, b"ok"); _commit_temp(tmp, out, fd=fd); out.read_bytes()
    b'ok'
    """
    with _temp_guard(tmp, name or target):
        try:
            if fd is None:
                fd = os.open(tmp, os.O_RDONLY | getattr(os, "O_BINARY", 0))
            os.fsync(fd)
        finally:
            if fd is not None:
                os.close(fd)
        os.replace(tmp, target)
    _PENDING.discard(tmp)
    sync_folder_soon(target.parent)


#: Folders with renames not yet synced, and when each was last synced.
_UNSYNCED: set[Path] = set()
_SYNCED_AT: dict[Path, float] = {}

#: A folder is synced at most this often (seconds); renames in between are
#: synced by the next one, or at exit.
FOLDER_SYNC_SECONDS = 1.0


def sync_folder_soon(folder: Path) -> None:
    """
    Sync a folder's entries now, or within `FOLDER_SYNC_SECONDS`.

    A sync makes the renames in a folder durable. Writing a hundred small
    files into one folder, a sync after each rename would cost a disk flush
    each (3 ms here, as much as the work); syncing a folder at most once a
    second, and at exit, keeps the guarantee that matters (a file under its
    final name is complete, since every file is synced before its rename)
    and loses at most the last second's renames to a power cut, which a
    rerun redoes. `sync_pending_folders` syncs what is left.

    Parameters
    ----------
    folder : pathlib.Path
        The folder of a file just renamed.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> sync_folder_soon(pathlib.Path(tempfile.mkdtemp()))
    >>> sync_pending_folders()
    """
    now = time.monotonic()
    if now - _SYNCED_AT.get(folder, float("-inf")) >= FOLDER_SYNC_SECONDS:
        _SYNCED_AT[folder] = now
        _UNSYNCED.discard(folder)
        _sync_folder(folder)
    else:
        _UNSYNCED.add(folder)


def sync_pending_folders() -> None:
    """
    Sync every folder with renames not synced yet (at the end of a run, at exit).

    Examples
    --------
    >>> sync_pending_folders()
    """
    while True:
        try:
            folder = _UNSYNCED.pop()
        except KeyError:  # none left (another thread may have taken the last)
            return
        _SYNCED_AT[folder] = time.monotonic()
        _sync_folder(folder)


atexit.register(sync_pending_folders)


def _sync_folder(folder: Path) -> None:
    """Sync a folder's entries (the rename); best effort, never raises."""
    try:
        dfd = os.open(folder, os.O_RDONLY)
    except OSError:  # e.g. Windows, or a folder that cannot be opened
        return
    try:
        os.fsync(dfd)
    except OSError:  # some filesystems refuse fsync on a folder
        pass
    finally:
        os.close(dfd)


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike):
    """
    Yield a temporary path beside ``path``; rename it onto ``path`` on success.

    An interrupted or failed write never leaves a truncated file at ``path``
    and no temporary file behind; an existing good file is only ever
    replaced by a complete one, synced to disk before the rename. The file
    gets the usual permissions (``0o666`` less the umask). A symbolic link
    at ``path`` is written through to the file it leads to, when that file
    is in the same folder (or a subfolder), and kept; a link leading out of
    the folder, a FIFO, a device or a folder is refused, never replaced.

    Parameters
    ----------
    path : str or path-like
        The file to write; its folder must exist.

    Yields
    ------
    str
        The temporary path to write to, removed if the block raises.

    Raises
    ------
    diffview.errors.OutputError
        The folder does not exist, the disk is full, an I/O error, or
        ``path`` is not a regular file: the message is ``"<path>: <problem>"``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "x.txt"
    >>> with atomic_path(out) as tmp:
    ...     _ = pathlib.Path(tmp).write_text("done")
    >>> out.read_text()
    'done'
    """
    target = _output_target(path)
    fd, tmp = _open_temp(target, path)
    os.close(fd)
    with _temp_guard(tmp, path):
        yield tmp
    _commit_temp(tmp, target, path)


def write_file(path: str | os.PathLike, data) -> None:
    """
    Write bytes to ``path`` completely or not at all (see `atomic_path`).

    Parameters
    ----------
    path : str or path-like
        The file to write.
    data : bytes-like
        Its whole content.

    Raises
    ------
    diffview.errors.OutputError
        As `atomic_path`.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "x.bin"
    >>> write_file(out, b"abc"); out.read_bytes()
    b'abc'
    """
    target = _output_target(path)
    fd, tmp = _open_temp(target, path)
    with _temp_guard(tmp, path, fd):
        _write_all(fd, data)
    _commit_temp(tmp, target, path, fd=fd)
