"""
Sexagesimal text of sky coordinates, in plain Python.

Right ascension as ``hh:mm:ss.ss`` or ``12h34m56.78s``, declination as
``+dd:mm:ss.s`` or ``+41°16'30.5"``, rounded without ever showing 60
seconds; the tick labels of the pair panels
(`diffview.widgets._wcsaxes`) and the pixel readout
(`diffview.widgets._readout`) use them: nothing is imported on the hover
path.
"""

from __future__ import annotations

import math

__all__ = ["format_hms", "format_dms", "tick_label"]


def _sexagesimal(value: float, digits: int) -> tuple[int, int, float]:
    """Split a non-negative value into whole units, minutes and seconds, rounded."""
    scale = 10**digits
    total = round(value * 3600 * scale)
    whole, rest = divmod(total, 3600 * scale)
    minutes, seconds = divmod(rest, 60 * scale)
    return int(whole), int(minutes), seconds / scale


def format_hms(ra: float, digits: int = 2, sep: str = ":") -> str:
    """
    Format a right ascension (degrees) as hours, minutes and seconds.

    Parameters
    ----------
    ra : float
        Degrees (any value: taken modulo 360).
    digits : int
        Decimals of the seconds.
    sep : str
        ``':'`` (``hh:mm:ss.ss``) or ``'hms'`` (``12h34m56.78s``).

    Returns
    -------
    str
        Rounded, never ``60`` seconds or ``24`` hours.

    Examples
    --------
    >>> format_hms(188.7365)
    '12:34:56.76'
    >>> format_hms(359.99999999), format_hms(15.0, 1, "hms")
    ('00:00:00.00', '01h00m00.0s')
    """
    h, m, s = _sexagesimal((float(ra) % 360.0) / 15.0, digits)
    h %= 24
    width = digits + 3 if digits else 2
    sec = f"{s:0{width}.{digits}f}"
    if sep == "hms":
        return f"{h:02d}h{m:02d}m{sec}s"
    return f"{h:02d}{sep}{m:02d}{sep}{sec}"


def format_dms(dec: float, digits: int = 1, sep: str = ":") -> str:
    r"""
    Format a declination (degrees) as signed degrees, arcminutes, arcseconds.

    Parameters
    ----------
    dec : float
        Degrees.
    digits : int
        Decimals of the arcseconds.
    sep : str
        ``':'`` (``+dd:mm:ss.s``) or ``'dms'`` (``+41°16'30.5"``).

    Returns
    -------
    str

    Examples
    --------
    >>> format_dms(41.275139)
    '+41:16:30.5'
    >>> format_dms(-0.5, 0, "dms")
    '-00°30\'00"'
    """
    sign = "-" if dec < 0 else "+"
    d, m, s = _sexagesimal(abs(float(dec)), digits)
    width = digits + 3 if digits else 2
    sec = f"{s:0{width}.{digits}f}"
    if sep == "dms":
        return f"{sign}{d:02d}°{m:02d}'{sec}\""
    return f"{sign}{d:02d}{sep}{m:02d}{sep}{sec}"


def tick_label(value: float, coord: str, step: float) -> str:
    r"""
    Label a tick of RA or Dec as precisely as its spacing needs.

    Parameters
    ----------
    value : float
        Degrees.
    coord : {'ra', 'dec'}
        Which coordinate.
    step : float
        The tick spacing, seconds of time (RA) or arcseconds (Dec).

    Returns
    -------
    str
        ``12h34m``, ``12h34m50s``, ``12h34m50.5s``; ``+41°``, ``+41°16'``,
        ``+41°16'30"``.

    Examples
    --------
    >>> tick_label(188.75, "ra", 60), tick_label(188.7375, "ra", 15)
    ('12h35m', '12h34m57s')
    >>> tick_label(-41.5, "dec", 1800), tick_label(41.2751389, "dec", 0.5)
    ("-41°30'", '+41°16\'30.5"')
    """
    return "".join(_label_parts(value, coord, step))


def _label_parts(value: float, coord: str, step: float) -> list[str]:
    digits = max(0, math.ceil(-math.log10(step) - 1e-9)) if step < 1 else 0
    if coord == "ra":
        text = format_hms(value, digits, "hms")
        parts = [text[:3], text[3:6], text[6:]]
    else:
        text = format_dms(value, digits, "dms")
        cut = text.index("°") + 1
        parts = [text[:cut], text[cut : cut + 3], text[cut + 3 :]]
    keep = 1 if step % 3600 == 0 else 2 if step % 60 == 0 else 3
    return parts[:keep]


def _abbreviated(parts: list[list[str]]) -> list[str]:
    """Each label without the leading fields it shares with the one before."""
    out, last = [], None
    for p in parts:
        k = 0
        while last is not None and k < len(p) - 1 and p[k] == last[k]:
            k += 1
        out.append("".join(p[k:]))
        last = p
    return out
