"""Small shared helpers: errors, Montage file-name rules and atomic writes."""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
import threading
from pathlib import Path

__all__ = [
    "kernels",
    "DiffviewError",
    "InputError",
    "PairError",
    "montage_file_path",
    "split_fits_name",
    "area_name",
    "atomic_path",
]


class DiffviewError(Exception):
    """Base class of every error diffview raises on purpose (bad input, bad files)."""


class InputError(DiffviewError, ValueError):
    """A file, table, template or folder given by the user cannot be used.

    The message names the file and the problem; the CLI prints it on one line.
    """


class PairError(DiffviewError):
    """One pair (or one fit) failed; loops count it in ``failed`` and go on."""


#: Seconds of loading after which `kernels` says that it is compiling.
COMPILE_NOTICE_AFTER = 2.0


def kernels():
    """
    The compiled loops, `diffview._kernels`, imported on first use.

    Importing numba costs ~0.3 s, which ``import diffview`` should not pay.
    The first use after installing compiles the loops (~10 s, once; later
    processes load them from numba's cache); if loading takes longer than
    `COMPILE_NOTICE_AFTER` seconds, one line on stderr says why.
    """
    module = sys.modules.get(f"{__package__}._kernels")
    if module is not None:
        return module
    notice = threading.Timer(COMPILE_NOTICE_AFTER, _compile_notice)
    notice.daemon = True
    notice.start()
    try:
        from . import _kernels
    finally:
        notice.cancel()
    return _kernels


def _compile_notice() -> None:
    print(
        "diffview: compiling its pixel loops (numba), once after installing; "
        "this takes about 10 s",
        file=sys.stderr,
        flush=True,
    )


def montage_file_path(directory: str | os.PathLike | None, name: str) -> str:
    """
    Join a folder and a file name the way Montage's ``montage_filePath`` does.

    An absolute ``name`` is returned unchanged, a leading ``./`` is dropped,
    otherwise ``directory/name``.

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

    Examples
    --------
    >>> split_fits_name("dir/a.fits"), split_fits_name("a.fit")
    ('dir/a', 'a.fit')
    """
    name = str(name)
    return name[:-5] if name.endswith(".fits") else name


def area_name(name: str) -> str:
    """
    The area companion of a flux file: ``X.fits`` -> ``X_area.fits``.

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
    and an existing good file is only ever replaced by a complete one.

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
    fd, tmp = tempfile.mkstemp(prefix="." + path.name + ".", suffix=".part",
                               dir=path.parent)
    os.close(fd)
    try:
        yield tmp
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp's 0600 is not what users expect
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
