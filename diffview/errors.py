"""
The exceptions diffview raises on purpose.

Every error that a user mistake or a bad file causes is a `DiffviewError`;
`InputError` (also a `ValueError`) names the file or argument and the problem,
`PairError` is one pair's failure, which loops count and go past.

Examples
--------
>>> from diffview.errors import DiffviewError, InputError
>>> issubclass(InputError, (DiffviewError, ValueError))
True
"""

from __future__ import annotations

__all__ = ["DiffviewError", "InputError", "PairError"]


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
