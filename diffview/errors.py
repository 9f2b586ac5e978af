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
    """Base class of every error diffview raises on purpose (bad input, bad files)."""


class InputError(DiffviewError, ValueError):
    """A file, table, template or folder given by the user cannot be used.

    The message names the file and the problem; the CLI prints it on one line.
    """


class PairError(DiffviewError):
    """One pair (or one fit) failed; loops count it in ``failed`` and go on."""
