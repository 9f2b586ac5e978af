"""
The error contract of the drop-ins: MontagePy's dict, never an exception.

Every ``diffview.montage.m*`` function is wrapped by `dropin`: a bad input
that its own checks did not turn into Montage's message (a path of the wrong
type, a number that is text, bytes that are not text) still comes back as
``{'status': '1', 'msg': b'...'}``. Ctrl-C and bugs outside these kinds
(``AssertionError``, ``RuntimeError``) still raise.
"""

from __future__ import annotations

import functools

from diffview.errors import DiffviewError

__all__ = ["dropin", "error_dict"]

#: What a bad argument or file raises below the drop-ins.
_BAD_INPUT = (DiffviewError, OSError, ValueError, TypeError, ArithmeticError,
              LookupError, MemoryError, RecursionError)


def error_dict(msg) -> dict:
    """
    Return MontagePy's answer to a failure: status ``'1'`` and ``msg`` bytes.

    Parameters
    ----------
    msg : str or Exception
        What went wrong, in Montage's words where Montage has some.

    Returns
    -------
    dict
        ``{'status': '1', 'msg': b'...'}``.

    Examples
    --------
    >>> error_dict("Invalid table file: d.tbl")
    {'status': '1', 'msg': b'Invalid table file: d.tbl'}
    """
    return {"status": "1", "msg": str(msg).encode()}


def dropin(func):
    """
    Return ``func`` answering MontagePy's error dict for bad input.

    Parameters
    ----------
    func : callable
        A drop-in returning MontagePy's dict.

    Returns
    -------
    callable
        The same function (name, signature, docstring), which returns
        ``{'status': '1', 'msg': b'<name>: ...'}`` where ``func`` would raise
        one of the errors bad input raises.

    Examples
    --------
    >>> @dropin
    ... def mHalf(x):
    ...     return {"status": "0", "half": float(x) / 2}
    >>> mHalf("4"), mHalf(None)["status"]
    ({'status': '0', 'half': 2.0}, '1')
    >>> mHalf("x")["msg"]
    b"mHalf: could not convert string to float: 'x'"
    """

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except _BAD_INPUT as exc:
            text = " ".join(str(exc).split()) or type(exc).__name__
            if not isinstance(exc, DiffviewError):
                text = f"{func.__name__}: {text}"
            return {"status": "1", "msg": text.encode("utf-8", "replace")}

    return wrapper
