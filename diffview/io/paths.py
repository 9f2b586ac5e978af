"""Montage's file-name rules and atomic writes."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

__all__ = ["montage_file_path", "split_fits_name", "area_name", "atomic_path"]


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


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike):
    """
    Yield a temporary path beside ``path``; rename it onto ``path`` on success.

    An interrupted or failed write never leaves a truncated file at ``path``,
    and an existing good file is only ever replaced by a complete one. The
    file gets the usual permissions (``0o666`` less the umask).

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
    FileNotFoundError
        The folder of ``path`` does not exist.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "x.txt"
    >>> with atomic_path(out) as tmp:
    ...     _ = pathlib.Path(tmp).write_text("done")
    >>> out.read_text()
    'done'
    """
    path = Path(path)
    fd, tmp = tempfile.mkstemp(
        prefix="." + path.name + ".", suffix=".part", dir=path.parent
    )
    os.close(fd)
    try:
        yield tmp
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp's 0600 is not what users expect
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
