"""
The checks of the Python API's arguments, done once at the edge.

A wrong argument (None, a 1-D or 3-D array, text, a pair index outside the
image list, an object of the wrong kind) raises `diffview.InputError` naming
the argument and what is expected, before any arithmetic can fail deep
inside numpy or numba with a message nobody can act on.

Examples
--------
>>> import numpy as np
>>> image_array([[1, 2], [3, 4]], "plus").dtype
dtype('float64')
>>> check_index(-1, 3, "cntr1")
Traceback (most recent call last):
...
diffview.errors.InputError: cntr1 -1 is outside 0..2 (-1 is not the last one)
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from diffview.errors import InputError

__all__ = ["image_array", "pixel_pair", "check_index", "check_items"]


def _kind(obj) -> str:
    if isinstance(obj, np.ndarray):
        return f"an array of {obj.dtype} with shape {obj.shape}"
    return "None" if obj is None else _a(type(obj).__name__)


def _a(name: str) -> str:
    return f"{'an' if name[:1] in tuple('aeiou') else 'a'} {name}"


def image_array(obj, what: str = "image", *, ndim: int = 2) -> np.ndarray:
    """
    Check an image argument and return it as a float64 array.

    Parameters
    ----------
    obj : array_like
        Numbers (int, float or bool), ``ndim`` dimensions.
    what : str
        The argument's name, for the message.
    ndim : int
        Dimensions required.

    Returns
    -------
    numpy.ndarray
        ``obj`` as float64 (a view when it already is).

    Raises
    ------
    diffview.InputError
        None, text, objects, complex numbers or another number of dimensions.

    Examples
    --------
    >>> image_array(np.ones(3), "difference")
    Traceback (most recent call last):
    ...
    diffview.errors.InputError: difference: expected a 2-D array (rows, columns), ...
    >>> image_array(np.array([["a", "b"]]), "plus")
    Traceback (most recent call last):
    ...
    diffview.errors.InputError: plus: expected numbers, got an array of <U1 ...
    """
    if obj is None:
        raise InputError(f"{what}: expected a {ndim}-D array of numbers, got None")
    try:
        arr = np.asarray(obj)
    except (ValueError, TypeError) as exc:  # ragged nested lists
        raise InputError(
            f"{what}: not a rectangular array of numbers ({exc})"
        ) from None
    if arr.dtype.kind not in "biuf":
        raise InputError(f"{what}: expected numbers, got {_kind(arr)}")
    if arr.ndim != ndim:
        shape = "(rows, columns)" if ndim == 2 else f"of {ndim} dimensions"
        raise InputError(f"{what}: expected a {ndim}-D array {shape}, got {_kind(arr)}")
    return np.asarray(arr, dtype=np.float64)


def pixel_pair(obj, what: str = "crpix") -> tuple[float, float]:
    """
    Check a ``(CRPIX1, CRPIX2)``-like pair of finite numbers.

    Parameters
    ----------
    obj : sequence of two numbers
        The pair.
    what : str
        The argument's name, for the message.

    Returns
    -------
    tuple of float

    Raises
    ------
    diffview.InputError
        Not two finite numbers.

    Examples
    --------
    >>> pixel_pair((np.float32(1.5), 2))
    (1.5, 2.0)
    >>> pixel_pair(None)
    Traceback (most recent call last):
    ...
    diffview.errors.InputError: crpix: expected two finite numbers ..., got None
    """
    try:
        a, b = (float(v) for v in obj)
        ok = math.isfinite(a) and math.isfinite(b)
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise InputError(
            f"{what}: expected two finite numbers (CRPIX1, CRPIX2), got {obj!r}"
        )
    return a, b


def check_index(index, count: int, what: str = "index") -> int:
    """
    Check a position in a list of ``count`` items (no negative indexing).

    Parameters
    ----------
    index : int
        The position (a Python or numpy integer; not a bool or float).
    count : int
        Length of the list.
    what : str
        The argument's name, for the message.

    Returns
    -------
    int

    Raises
    ------
    diffview.InputError
        Not an integer, or outside ``0..count-1`` (``-1`` never means the
        last item).

    Examples
    --------
    >>> check_index(np.int64(2), 3)
    2
    >>> check_index(1.0, 3, "cntr2")
    Traceback (most recent call last):
    ...
    diffview.errors.InputError: cntr2 1.0 is not an integer
    """
    if isinstance(index, bool) or not isinstance(index, numbers.Integral):
        raise InputError(f"{what} {index!r} is not an integer")
    if not 0 <= index < count:
        if count == 0:
            raise InputError(f"{what} {index} does not exist: the list is empty")
        hint = " (-1 is not the last one)" if index < 0 else ""
        raise InputError(f"{what} {index} is outside 0..{count - 1}{hint}")
    return int(index)


def check_items(items, kind: type, what: str) -> list:
    """
    Check that an argument is a sequence of ``kind`` objects.

    Parameters
    ----------
    items : iterable
        The argument.
    kind : type
        The class every item must be an instance of.
    what : str
        The argument's name, for the message.

    Returns
    -------
    list

    Raises
    ------
    diffview.InputError
        ``items`` is None, a string, not iterable, or holds another kind.

    Examples
    --------
    >>> check_items([1, "a"], int, "ids")
    Traceback (most recent call last):
    ...
    diffview.errors.InputError: ids: item 1 is a str, expected int
    """
    if items is None or isinstance(items, (str, bytes)):
        raise InputError(
            f"{what}: expected a list of {kind.__name__}, got {_kind(items)}"
        )
    try:
        out = list(items)
    except TypeError:
        raise InputError(
            f"{what}: expected a list of {kind.__name__}, got {_kind(items)}"
        ) from None
    for k, item in enumerate(out):
        if not isinstance(item, kind):
            raise InputError(
                f"{what}: item {k} is {_a(type(item).__name__)}, "
                f"expected {kind.__name__}"
            )
    return out
