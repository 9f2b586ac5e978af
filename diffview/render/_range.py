"""
mViewer's display range strings and stretch names, read as mViewer reads them.

As in ``docs/montage-semantics.md`` §8.4: ``-2s``, ``99.5%``, ``min``,
``med+3``, ``1e-3`` (`parse_range`) and ``gaussian-log``, ``glog``, ``3``
(`parse_mode`).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np

from diffview.errors import InputError

__all__ = ["RangeError", "RangeSpec", "STRETCH_MODES", "c_atof", "parse_range",
           "parse_mode"]

#: Canonical stretch names.
STRETCH_MODES = ("linear", "log", "loglog", "gaussian", "gaussian-log", "asinh")


class RangeError(InputError):
    """
    A display range string (min, max or asinh beta) cannot be read.

    The message quotes the string and lists the accepted forms.

    Examples
    --------
    >>> issubclass(RangeError, InputError)
    True
    """


_ACCEPTED = ("accepted: a number (1e-3), N% (0..100), Ns (median + N sigma), "
             "min, max or med, each optionally followed by +v or -v")

# The prefix that C's strtod() would consume (sign already removed by caller).
_NUMBER = re.compile(
    r"[+-]?(?:(?P<hex>0x(?:[0-9a-f]+\.?[0-9a-f]*|\.[0-9a-f]+)(?:p[+-]?\d+)?)"
    r"|(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?|inf(?:inity)?|nan)",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class RangeSpec:
    """
    A parsed range string (`parse_range`).

    Its data value (`MontageHistogram.resolve`) is ``f(value) + extra``,
    ``f`` the identity, a percentile level or ``median + value * sigma``.

    Parameters
    ----------
    kind : str
        ``'value'``, ``'percentile'`` or ``'sigma'``.
    value : float
        The number (data value, percentile or sigmas).
    extra : float
        The ``+v``/``-v`` term added to the level.
    text : str
        The string parsed.

    Examples
    --------
    >>> parse_range("-2s")
    RangeSpec(kind='sigma', value=-2.0, extra=0.0, text='-2s')
    """

    kind: str
    value: float
    extra: float
    text: str


def _strtod(text: str, pos: int):
    """C ``strtod`` on ``text[pos:]``: (value, end) or (None, pos)."""
    while pos < len(text) and text[pos].isspace():
        pos += 1
    m = _NUMBER.match(text, pos)
    if not m:
        return None, pos
    if m.group("hex"):
        sign = -1.0 if m.group(0)[0] == "-" else 1.0
        try:
            return sign * float.fromhex(m.group("hex")), m.end()
        except OverflowError:
            return sign * math.inf, m.end()
    return float(m.group(0)), m.end()


def c_atof(text) -> float:
    """
    Read a number as C's ``atof`` does: the longest leading number, else 0.

    Parameters
    ----------
    text : str
        The text (leading blanks skipped; decimal, hexadecimal, ``inf`` and
        ``nan`` as C reads them).

    Returns
    -------
    float
        The number, or 0.0 when the text does not start with one.

    Examples
    --------
    >>> c_atof("12.7x"), c_atof("x"), c_atof(" 0x10"), c_atof("1e999")
    (12.7, 0.0, 16.0, inf)
    """
    value, _ = _strtod(str(text), 0)
    return 0.0 if value is None else value


def parse_range(text, kind: str = "display min") -> RangeSpec:
    """
    Parse an mViewer range string exactly as ``mViewer_parseRange`` does.

    Parameters
    ----------
    text : str or float
        ``'-2s'``, ``'99.5%'``, ``'min'``, ``'max'``, ``'med+3'``, ``'1e-3'``...
        A number is taken as a plain data value.
    kind : str
        Used in error messages (``'display min'``, ``'display max'``,
        ``'beta value'``).

    Returns
    -------
    RangeSpec

    Raises
    ------
    RangeError
        For anything else; the message quotes the string and says what is
        accepted.

    Notes
    -----
    Montage quirks kept: a sign before a keyword is ignored (``-max`` is
    ``max``); ``N%`` must be within 0..100; numbers are read as C's
    ``strtod`` reads them (``0x10``, ``inf``). ``nan`` is refused (MontagePy
    2.3.0 crashes on it).

    Examples
    --------
    >>> parse_range("99.5%").kind, parse_range("med+3").extra
    ('percentile', 3.0)
    >>> parse_range(2.5)
    RangeSpec(kind='value', value=2.5, extra=0.0, text='2.5')
    >>> try:
    ...     parse_range("x")
    ... except RangeError as exc:
    ...     print(exc)
    'x' is not a valid display min (accepted: ...)
    """
    if isinstance(text, (int, float, np.integer, np.floating)) and not isinstance(
            text, bool):
        return RangeSpec("value", float(text), 0.0, repr(float(text)))
    s = str(text)
    hint = f" ({_ACCEPTED})"
    pos = 0
    sign = 1.0
    while pos < len(s) and s[pos].isspace():
        pos += 1
    if pos < len(s) and s[pos] in "+-":
        sign = -1.0 if s[pos] == "-" else 1.0
        pos += 1
    while pos < len(s) and s[pos].isspace():
        pos += 1
    val, end = _strtod(s, pos)
    if val is not None and math.isnan(val):
        raise RangeError(f"{kind} '{s}' is not a number (NaN){hint}")
    if val is not None and not math.isfinite(val) and "n" not in s[pos:end].lower():
        raise RangeError(f"leading numeric term in {kind} '{s}' cannot be "
                         f"converted to a finite floating point number{hint}")
    if val is None:
        word = s[pos:pos + 3]
        levels = {"min": 0.0, "max": 100.0, "med": 50.0}
        if word not in levels:
            raise RangeError(f"'{s}' is not a valid {kind}{hint}")
        rkind, value = "percentile", levels[word]
        pos += 3
    else:
        value = val * sign
        pos = end
        while pos < len(s) and s[pos].isspace():
            pos += 1
        ch = s[pos] if pos < len(s) else ""
        if ch == "%":
            if value < 0.0:
                raise RangeError(f"'{s}': negative percentile {kind}{hint}")
            if value > 100.0:
                raise RangeError(f"'{s}': percentile {kind} larger than 100{hint}")
            rkind = "percentile"
            pos += 1
        elif ch in ("s", "S"):
            rkind = "sigma"
            pos += 1
        elif ch in ("+", "-", ""):
            rkind = "value"
        else:
            raise RangeError(f"'{s}' is not a valid {kind}{hint}")
    extra = 0.0
    while pos < len(s) and s[pos].isspace():
        pos += 1
    if pos < len(s) and s[pos] in "+-":
        esign = -1.0 if s[pos] == "-" else 1.0
        pos += 1
        ev, end = _strtod(s, pos)
        if ev is None:
            raise RangeError(f"{kind} '{s}' contains trailing junk{hint}")
        if math.isnan(ev):
            raise RangeError(f"{kind} '{s}' is not a number (NaN){hint}")
        extra = ev * esign
        pos = end
    while pos < len(s) and s[pos].isspace():
        pos += 1
    if pos != len(s):
        raise RangeError(f"{kind} '{s}' contains trailing junk{hint}")
    return RangeSpec(rkind, float(value), float(extra), s)


def parse_mode(mode) -> tuple[str, int]:
    """
    Canonical stretch name and number of log passes for a mode token.

    Accepts mViewer's tokens (``lin...``, ``log``, ``loglog``, an integer N
    of log passes, any ``g...`` word: ``gaussian``; a ``g...`` word longer
    than one letter ending in ``g`` or ``l``: ``gaussian-log``; ``a...``:
    ``asinh``) and the names ``power`` (linear, as mHistogram) and
    ``gaussianlog``.

    Parameters
    ----------
    mode : str or int
        The token (or number of log passes).

    Returns
    -------
    name : str
        One of `STRETCH_MODES`.
    logpower : int
        Number of ``ln(9t+1)`` passes (``log``: 1, ``loglog``: 2, N).

    Raises
    ------
    InputError
        An unknown token or a negative number of passes.

    Examples
    --------
    >>> parse_mode("gaussian-log"), parse_mode("glog"), parse_mode("g")
    (('gaussian-log', 0), ('gaussian-log', 0), ('gaussian', 0))
    >>> parse_mode("loglog"), parse_mode(3), parse_mode("lin")
    (('loglog', 2), ('log', 3), ('linear', 0))
    """
    if isinstance(mode, (int, np.integer)) and not isinstance(mode, bool):
        n = int(mode)
        if n < 0:
            raise InputError(f"stretch '{mode}': the number of log passes must be >= 0")
        return ("linear", 0) if n == 0 else ("log", n) if n != 2 else ("loglog", 2)
    m = str(mode).strip()
    low = m.lower()
    if low.startswith("g"):
        if len(low) > 1 and low[-1] in "gl":
            return "gaussian-log", 0
        return "gaussian", 0
    if low.startswith("a"):
        return "asinh", 0
    if low.startswith("lin") or low == "power":
        return "linear", 0
    if low == "log":
        return "log", 1
    if low == "loglog":
        return "loglog", 2
    if re.fullmatch(r"[0-9]+", low):
        # beyond a few hundred passes every level is 0 or 255 (see
        # `Stretch`), so a longer number is read as 10**18
        return parse_mode(int(low) if len(low) < 19 else 10**18)
    raise InputError(
        f"stretch '{m}' is not known: use linear, log, loglog, an integer number "
        "of log passes, gaussian, gaussian-log or asinh (mViewer has no sqrt or "
        "power stretch)")
