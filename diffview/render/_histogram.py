"""
mViewer's histogram of an image (``mViewer_getRange``).

199999 bins over the finite pixels, from which percentiles, the median and a
sigma (half the 16-84 % spread) are read (``docs/montage-semantics.md`` §8.4, §8.5).

The expensive work is done per histogram bin, whatever the image size;
each pixel is binned once, and its bin can be kept for the grey levels.
"""

from __future__ import annotations

import math
import weakref
from dataclasses import dataclass, field

import numpy as np

from diffview.errors import InputError

from ._gauss import snpinv
from ._range import RangeSpec

__all__ = ["NBIN", "MontageHistogram", "histogram"]

#: mViewer's number of histogram bins (``NBIN - 1`` in the C code).
NBIN = 199999


def _finite_values(data) -> np.ndarray:
    """Return the finite values of ``data``, flat."""
    a = np.asarray(data, dtype=float)
    if a.ndim != 1 or not np.isfinite(a).all():
        a = a[np.isfinite(a)]
    return a


@dataclass
class MontageHistogram:
    """
    The histogram of an image, as mViewer's ``mViewer_getRange``.

    Built by `histogram`.

    Parameters
    ----------
    rmin, rmax : float
        Histogram range: the data extremes, with Montage's seeds (``rmin <=
        1e10`` and ``rmax >= -1e10``).
    npix : int
        Number of finite pixels.
    chist : ndarray
        Cumulative counts, ``nbin + 1`` values from 0.
    delta : float
        Bin width.
    datamin, datamax : float
        The true data extremes.
    nbin : int
        Number of bins.

    Examples
    --------
    >>> h = histogram(np.arange(101.0))
    >>> h.npix, float(h.level(100)), round(float(h.median), 3)
    (101, 100.0, 49.0)
    """

    rmin: float
    rmax: float
    npix: int
    chist: np.ndarray
    delta: float
    datamin: float
    datamax: float
    nbin: int = NBIN
    _gauss: np.ndarray | None = field(default=None, repr=False)
    _source: object = field(default=None, repr=False)
    _bins: np.ndarray | None = field(default=None, repr=False, compare=False)
    _no_inf: bool = field(default=False, repr=False, compare=False)

    def describes(self, data) -> bool:
        """
        Whether this histogram was built from this very array.

        Parameters
        ----------
        data : object
            An array.

        Returns
        -------
        bool
            True for the array itself (not a copy or a view).

        Examples
        --------
        >>> img = np.arange(6.0)
        >>> histogram(img).describes(img), histogram(img).describes(img.copy())
        (True, False)
        """
        src = self._source() if self._source is not None else None
        return src is not None and src is data

    def drop_bins(self) -> None:
        """
        Forget the pixels' bins kept by ``histogram(..., bins_out=...)``.

        Called before their memory is reused; grey levels are then worked
        out by binning the pixels anew.

        Examples
        --------
        >>> img = np.arange(6.0).reshape(2, 3)
        >>> h = histogram(img, bins_out=np.empty(6, np.int32))
        >>> h.drop_bins()
        >>> h._bins is None
        True
        """
        self._bins = None

    @property
    def constant(self) -> bool:
        """bool: True when all finite pixels have one value (no usable histogram)."""
        return self.rmax == self.rmin

    def level(self, percentile: float) -> float:
        """
        Return the data value at a percentile (``mViewer_percentileLevel``).

        Parameters
        ----------
        percentile : float
            0..100.

        Returns
        -------
        float
            Interpolated within the bin the percentile falls in.

        Examples
        --------
        >>> float(histogram(np.arange(101.0)).level(25.0))
        24.0
        """
        if percentile <= 0:
            return self.rmin
        if percentile >= 100:
            return self.rmax
        percent = 0.01 * percentile
        count = int(self.npix * percent)
        c = self.chist
        i = int(np.searchsorted(c[1:], count, side="left")) + 1
        i = min(i, self.nbin)
        lo = c[i - 1] / self.npix
        hi = c[i] / self.npix
        fraction = (percent - lo) / (hi - lo) if hi != lo else 0.0
        return self.rmin + (i - 1 + fraction) * self.delta

    def percentile(self, value: float) -> float:
        """
        Percentile of a data value (``mViewer_valuePercentile``).

        Parameters
        ----------
        value : float
            A data value.

        Returns
        -------
        float
            0..100, interpolated within the value's bin.

        Examples
        --------
        >>> h = histogram(np.arange(101.0))
        >>> h.percentile(-5.0), h.percentile(200.0)
        (0.0, 100.0)
        """
        if value <= self.rmin:
            return 0.0
        if value >= self.rmax:
            return 100.0
        ival = (value - self.rmin) / self.delta
        i = int(ival)
        fraction = ival - i
        i = min(i, self.nbin - 1)
        lo = self.chist[i] / self.npix
        hi = self.chist[i + 1] / self.npix
        return 100.0 * (lo * (1.0 - fraction) + hi * fraction)

    @property
    def median(self) -> float:
        """float: the median, ``level(50)``."""
        return self.level(50.0)

    @property
    def sigma(self) -> float:
        """float: mViewer's sigma, ``(level(84) - level(16)) / 2``."""
        return (self.level(84.0) - self.level(16.0)) / 2.0

    def resolve(self, spec: RangeSpec) -> float:
        """
        Return the data value of a parsed range string.

        Parameters
        ----------
        spec : RangeSpec
            From `parse_range`.

        Returns
        -------
        float

        Examples
        --------
        >>> from diffview.render import parse_range
        >>> float(histogram(np.arange(101.0)).resolve(parse_range("max-1")))
        99.0
        """
        if spec.kind == "percentile":
            return self.level(spec.value) + spec.extra
        if spec.kind == "sigma":
            return self.median + spec.value * self.sigma + spec.extra
        return spec.value + spec.extra

    def datalev(self) -> np.ndarray:
        """
        Lower edge of each bin.

        Returns
        -------
        ndarray
            ``rmin + delta * i`` for ``i`` in ``0..nbin-1``.
        """
        return self.rmin + self.delta * np.arange(self.nbin, dtype=float)

    def gausslev(self) -> np.ndarray:
        """
        Return the normal level of each bin's upper cumulative fraction.

        Returns
        -------
        ndarray
            ``snpinv(chist[1:] / npix)``, ``nbin`` values (cached).
        """
        if self._gauss is None:
            # snpinv only once per distinct cumulative count (empty bins
            # repeat it): same values, far fewer evaluations
            c = self.chist[1:]
            start = np.flatnonzero(np.r_[True, c[1:] != c[:-1]])
            g = snpinv(c[start] / self.npix)
            self._gauss = np.repeat(g, np.diff(np.r_[start, c.size]))
        return self._gauss


#: Pixels per block in `_bin_blocks`: small enough for its buffers to stay
#: in the cache, large enough for each numpy call to be worth releasing the
#: interpreter lock (the outlines are drawn in another thread meanwhile).
_CHUNK = 1 << 17


def _bin_blocks(a: np.ndarray, rmin: float, diff: float, nbin: int, *,
                out: np.ndarray | None = None, finite_or_nan: bool = False):
    """
    Yield each pixel's histogram bin ``floor(nbin (x - rmin) / diff)``, by blocks.

    The same operations as Montage, block by block: ``(start, bins)`` for
    `_CHUNK` pixels at a time from flat position ``start``.

    Bins are ``0..nbin`` for finite pixels (``nbin`` only for ``rmax``
    itself, Montage's bin ``nbin - 1``) and ``nbin + 1`` for blank ones.
    ``bins`` is a slice of ``out`` (a flat ``int32`` array with a bin for
    every pixel, filled as the blocks go) when given, else one ``intp``
    buffer overwritten by the next block. ``finite_or_nan`` says no pixel is
    infinite (NaN may be), which saves two passes. Nothing image-sized is
    made here: fresh memory costs more than the arithmetic.
    """
    flat = a.reshape(-1)
    n = min(_CHUNK, flat.size)
    buf = np.empty(n)
    scratch = np.empty(n, dtype=np.intp) if out is None else None
    for start in range(0, flat.size, _CHUNK):
        x = flat[start:start + _CHUNK]
        k = scratch[:x.size] if out is None else out[start:start + x.size]
        _bin_block(x, rmin, diff, nbin, buf[:x.size], k, finite_or_nan)
        yield start, k


def _bin_block(x, rmin: float, diff: float, nbin: int, t, k,
               finite_or_nan: bool) -> None:
    """`_bin_blocks` of one block ``x`` into ``k`` (``t``: float scratch).

    Finite pixels are ``>= rmin``, so their ``t`` is never negative and the
    integer cast (truncation) is the floor; ``fmin`` sends NaN (and +inf)
    to the blank bin before the cast.
    """
    with np.errstate(invalid="ignore"):
        if diff > 0:
            np.subtract(x, rmin, out=t)
            t *= nbin
            t /= diff
            if finite_or_nan:
                np.fmin(t, nbin + 1, out=t)
                np.copyto(k, t, casting="unsafe")
                return
            np.floor(t, out=t)
            np.copyto(k, t, casting="unsafe")    # blank pixels: set below
        else:
            k[:] = 0
        b = np.isfinite(x)
        if not b.all():
            np.copyto(k, nbin + 1, where=~b)


def histogram(data, *, nbin: int = NBIN, bins_out: np.ndarray | None = None
              ) -> MontageHistogram:
    """
    Build mViewer's histogram of the finite pixels of ``data``.

    Parameters
    ----------
    data : array_like
        The image (any shape); NaN and infinities are blank.
    nbin : int
        Number of bins (mViewer's 200000, less one).
    bins_out : ndarray, optional
        A flat ``int32`` array of at least ``data.size`` items: every
        pixel's bin is kept there, and the grey levels of this very array
        (`Stretch.levels`) are then looked up from it instead of binning
        the pixels again, until `MontageHistogram.drop_bins`. The caller
        owns the memory (see `diffview.render`, which keeps one between
        pictures).

    Returns
    -------
    MontageHistogram

    Raises
    ------
    InputError
        ``Image contains no non-blank pixels.`` when nothing is finite.

    Examples
    --------
    >>> h = histogram([1.0, 2.0, np.nan, 3.0])
    >>> h.npix, h.rmin, h.rmax, int(h.chist[-1])
    (3, 1.0, 3.0, 3)
    """
    a = np.asarray(data, dtype=float)
    dmin, dmax, no_inf = _finite_extremes(a)
    rmin = min(1.0e10, dmin)
    rmax = max(-1.0e10, dmax)
    diff = rmax - rmin
    out = None
    if bins_out is not None:
        if bins_out.dtype != np.int32 or bins_out.size < a.size:
            raise ValueError("bins_out must be an int32 array with a slot per pixel")
        out = bins_out.reshape(-1)[:a.size]
    hist = np.zeros(nbin + 2, dtype=np.int64)
    for _, k in _bin_blocks(a, rmin, diff, nbin, out=out, finite_or_nan=no_inf):
        np.add.at(hist, k, 1)
    hist[nbin - 1] += hist[nbin]             # rmax itself: Montage's last bin
    npix = int(a.size - hist[nbin + 1])
    chist = np.zeros(nbin + 1, dtype=float)
    # integer running sum (exact, ~5x faster than summing into floats)
    np.copyto(chist[1:], np.cumsum(hist[:nbin]))
    h = MontageHistogram(rmin, rmax, npix, chist, diff / nbin, dmin, dmax, nbin)
    h._no_inf = no_inf
    try:
        h._source = weakref.ref(data) if a is data else None
    except TypeError:
        h._source = None
    if out is not None and h._source is not None:
        h._bins = out.reshape(a.shape)
    return h


def _finite_extremes(a: np.ndarray) -> tuple[float, float, bool]:
    """
    Return the smallest and largest finite pixel, and whether none is infinite.

    ``InputError`` when no pixel is finite.
    """
    # fmin/fmax skip NaN without a mask; an infinity needs the masked reduction
    dmin = float(np.fmin.reduce(a, axis=None)) if a.size else math.nan
    dmax = float(np.fmax.reduce(a, axis=None)) if a.size else math.nan
    if math.isfinite(dmin) and math.isfinite(dmax):
        return dmin, dmax, True
    finite = np.isfinite(a)
    if not finite.any():
        raise InputError("Image contains no non-blank pixels.")
    dmin = float(np.min(a, where=finite, initial=np.inf))
    dmax = float(np.max(a, where=finite, initial=-np.inf))
    return dmin, dmax, False


def _lut_levels(lut, h: MontageHistogram, a, run, mark, dtype, rows=None
                ) -> np.ndarray:
    """
    Compute the levels of the pixels of the histogram's image ``a`` from their bins.

    Only rows ``rows[0]:rows[1]`` when given. The bins (`Stretch._bin_lut`) are
    kept by the histogram or worked out again; pixels of marked bins are placed
    among the thresholds ``run``.
    """
    part = slice(None) if rows is None else slice(*rows)
    a = a[part]
    out = np.empty(a.shape, dtype=lut.dtype)
    flat = out.reshape(-1)
    if h._bins is not None:
        lut.take(h._bins[part].reshape(-1), out=flat, mode="clip")
    else:
        for start, k in _bin_blocks(a, h.rmin, h.rmax - h.rmin, h.nbin,
                                    finite_or_nan=h._no_inf):
            lut.take(k, out=flat[start:start + k.size], mode="clip")
    fix = np.flatnonzero(flat == mark)
    if fix.size:
        vals = a.reshape(-1)[fix]
        flat[fix] = np.minimum(np.searchsorted(run, vals, side="left"), 255)
    return out if out.dtype == dtype else out.astype(dtype)
