"""
The exceptions diffview raises on purpose.

Every error that a user mistake or a bad file causes is a `DiffviewError`;
`InputError` (also a `ValueError`) names the file or argument and the problem,
`PairError` is one pair's failure, which loops count and go past, and
`OutputError` (also an `OSError`) is an output file that could not be written.

Examples
--------
>>> from diffview.errors import DiffviewError, InputError
>>> issubclass(InputError, (DiffviewError, ValueError))
True
"""

from __future__ import annotations

__all__ = ["DiffviewError", "InputError", "PairError", "OutputError"]


class DiffviewError(Exception):
    """
    Base class of every error diffview raises on purpose (bad input, bad files).

    Examples
    --------
    >>> from diffview.errors import DiffviewError, PairError
    >>> try:
    ...     raise PairError("diff.000000.000001.fits: no overlap")
    ... except DiffviewError as err:
    ...     print(err)
    diff.000000.000001.fits: no overlap
    """


class InputError(DiffviewError, ValueError):
    """
    A file, table, template or folder given by the user cannot be used.

    The message names the file and the problem; the CLI prints it on one line.

    Examples
    --------
    >>> from diffview.errors import InputError
    >>> try:
    ...     raise InputError("images.tbl: no column 'cntr'")
    ... except ValueError as err:
    ...     print(err)
    images.tbl: no column 'cntr'
    """


class PairError(DiffviewError):
    """
    One pair (or one fit) failed; loops count it in ``failed`` and go on.

    Examples
    --------
    >>> from diffview.errors import DiffviewError, PairError
    >>> issubclass(PairError, DiffviewError), issubclass(PairError, ValueError)
    (True, False)
    """


class OutputError(DiffviewError, OSError):
    """
    An output file could not be written (full disk, I/O error, not a file).

    Built like an `OSError` (``errno, strerror, filename``); the message is
    ``"<path>: <problem>"``. Nothing is left under that name but what was
    there before, and no temporary file is left behind.

    Examples
    --------
    >>> import errno
    >>> from diffview.errors import OutputError
    >>> err = OutputError(errno.ENOSPC, "no space left on device", "d.fits")
    >>> print(err), isinstance(err, OSError), err.errno == errno.ENOSPC
    d.fits: no space left on device
    (None, True, True)
    """

    def __str__(self) -> str:
        """``"<path>: <problem>"`` (OSError's form when either is missing)."""
        if self.filename is not None and self.strerror is not None:
            return f"{self.filename}: {self.strerror}"
        return super().__str__()
