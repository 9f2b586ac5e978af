"""
mViewer's ``-histfile``: a stretch read from an ``mHistogram`` file.

mViewer reads the file line by line as ``mViewer_readHist`` does
(``docs/montage-semantics.md`` §8.13): the stretch type, the display range
and the image statistics as printed (six significant digits), and the 256
gaussian thresholds as printed (seven digits). Power stretches from a file
are linear (mViewer reads no log power from it), and so are asinh ones
(mViewer reads no beta either and divides by zero).
"""

from __future__ import annotations

from functools import partial

import numpy as np

from diffview.errors import InputError
from diffview.render import Stretch

__all__ = ["stretch_from_histfile"]

_MODES = {1: "gaussian", 2: "gaussian-log"}

#: Line of the first histogram bin, counted from the ``Type`` line.
_BINS = 273


def _fields(line: str, n: int) -> list:
    """Read the numbers after a line's label (``sscanf``), None where absent."""
    words = line.split()[1:1 + n]
    out = []
    for w in words:
        try:
            out.append(float(w))
        except ValueError:
            break
    return out + [None] * (n - len(out))


def _value_percent(body, rmin, rmax, delta, npix, value) -> float:
    """
    Return the percentile of a data value, from the file's cumulative counts.

    As ``mViewer_valuePercentile``: linear between the counts below the
    value's bin and below the next.
    """
    if None in (rmin, rmax, delta) or not npix:
        return np.nan
    if value <= rmin:
        return 0.0
    if value >= rmax:
        return 100.0
    ival = (value - rmin) / delta
    i = int(ival)
    frac = ival - i
    lo, hi = (_fields(body[_BINS + k], 3)[2] for k in (i, i + 1))
    if lo is None or hi is None:
        return np.nan
    return 100.0 * (lo / npix * (1.0 - frac) + hi / npix * frac)


def stretch_from_histfile(path, *, saturate: int = 0) -> Stretch:
    r"""
    Read a histogram file (``mHistogram``'s) as mViewer's ``-histfile`` does.

    Parameters
    ----------
    path : str or path-like
        The file.
    saturate : int
        Grey level of blank pixels.

    Returns
    -------
    Stretch
        The stretch mViewer draws with: gaussian modes use the file's
        thresholds, every other type is linear between the file's printed
        limits.

    Raises
    ------
    InputError
        ``Cannot open histogram file.`` or a file not in the format.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "h.hist"
    >>> _ = p.write_text("# c\nType 0 (linear)\n\nRanges (min max)\nValue 1 5\n"
    ...                  "P\nS\nMin/Max 1 5\nMedian/Sigma 3 1\n\nrmin 1\nrmax 5\n"
    ...                  "delta 2e-05\nnpix 10\n")
    >>> s = stretch_from_histfile(p)
    >>> s.mode, s.vmin, s.vmax
    ('linear', 1.0, 5.0)
    """
    try:
        with open(path) as fh:
            lines = fh.read().split("\n")
    except OSError:
        raise InputError("Cannot open histogram file.") from None
    k = 0
    while k < len(lines) and lines[k].startswith("#"):
        k += 1
    body = lines[k:] + [""] * 300
    try:
        kind = int(body[0].split()[1])
    except (IndexError, ValueError):
        raise InputError(f"{path}: not a histogram file") from None
    vmin, vmax = _fields(body[3], 2)
    dmin, dmax = _fields(body[6], 2)
    median, sigma = _fields(body[7], 2)
    npix = _fields(body[12], 1)[0]
    if vmin is None or vmax is None:
        raise InputError(f"{path}: not a histogram file")
    mode = _MODES.get(kind, "linear")
    thresholds = None
    if kind in _MODES:
        vals = [_fields(body[15 + j], 1)[0] for j in range(256)]
        thresholds = np.array([np.nan if v is None else v for v in vals], float)
    rmin, rmax, delta = (_fields(body[k], 1)[0] for k in (9, 10, 11))
    percent = partial(_value_percent, body, rmin, rmax, delta, npix)
    return Stretch(vmin=vmin, vmax=vmax, mode=mode, thresholds=thresholds,
                   saturate=int(saturate), datamin=dmin, datamax=dmax,
                   median=median, sigma=sigma, npix=int(npix or 0),
                   minpercent=percent(vmin), maxpercent=percent(vmax),
                   minsigma=(vmin - median) / sigma if sigma else np.nan,
                   maxsigma=(vmax - median) / sigma if sigma else np.nan)
