"""
mViewer's stretches, reproduced grey level for grey level.

``mViewer -gray diff.fits -2s max gaussian-log`` maps every pixel to one of
256 grey levels through three steps, all reproduced exactly
(``docs/montage-semantics.md`` §8.4-8.6):

1. a 199999-bin histogram of the finite pixels (`histogram`);
2. the range strings resolved to data values (`parse_range`,
   `compute_stretch`);
3. the stretch: linear / ``log`` / ``loglog`` / N log passes (``t <-
   ln(9t+1)``, natural log as in Montage), ``asinh``, or the histogram
   equalisation to a normal distribution (``gaussian``, ``gaussian-log``)
   expressed as 256 data thresholds (`Stretch.grey`).

Blank pixels (NaN, +-inf) never enter the histogram; `Stretch.grey` gives
them the ``saturate`` level (mViewer's ``-saturate``, default 0) and
`Stretch.blank` returns their mask.

Two inputs mViewer handles badly are made explicit: an image without a
single finite pixel raises `InputError` (``Image contains no non-blank
pixels.``); a constant image (or a range that collapses) gives a `Stretch`
whose ``message`` says why every pixel gets the same level.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from ._gauss import _first_ge, _gauss_thresholds
from ._histogram import MontageHistogram, _finite_values, _lut_levels, histogram
from ._range import parse_mode, parse_range

__all__ = ["Stretch", "compute_stretch", "grey_levels", "symmetric_interval"]


@dataclass
class Stretch:
    """
    A resolved mViewer stretch.

    Data range, mode and (for the gaussian modes) the 256 data thresholds.

    Attributes
    ----------
    vmin, vmax : float
        Display range in data units (mViewer's ``grayminval``/``graymaxval``).
    mode : str
        One of `STRETCH_MODES`.
    logpower : int
        Number of ``ln(9t+1)`` passes (power modes).
    beta : float
        asinh softening in data units (asinh only, else 0).
    thresholds : ndarray or None
        256 data thresholds (gaussian modes): level = first ``j`` with
        ``thresholds[j] >= x``, else 255.
    saturate : int
        Grey level of blank pixels (mViewer ``-saturate``, default 0).
    message : str
        Empty, or why the picture is uniform (constant image, empty range).

    Examples
    --------
    >>> s = compute_stretch(np.arange(10.0), "min", "max", "linear")
    >>> s.vmin, s.vmax, s.grey(np.array([0.0, 4.5, 9.0, np.nan])).tolist()
    (0.0, 9.0, [0, 128, 255, 0])
    """

    vmin: float
    vmax: float
    mode: str
    logpower: int = 0
    beta: float = 0.0
    thresholds: np.ndarray | None = None
    saturate: int = 0
    message: str = ""
    datamin: float = math.nan
    datamax: float = math.nan
    median: float = math.nan
    sigma: float = math.nan
    npix: int = 0
    minpercent: float = math.nan
    maxpercent: float = math.nan
    minsigma: float = math.nan
    maxsigma: float = math.nan
    gmin: float = math.nan
    gmax: float = math.nan
    _hist: MontageHistogram | None = field(default=None, repr=False)
    _luts: dict = field(default_factory=dict, repr=False, compare=False)

    @staticmethod
    def blank(data) -> np.ndarray:
        """
        Mask of blank pixels (NaN or infinite), as mViewer's ``mNaN``.

        Parameters
        ----------
        data : array_like
            The image.

        Returns
        -------
        ndarray of bool

        Examples
        --------
        >>> Stretch.blank([1.0, np.nan, np.inf]).tolist()
        [False, True, True]
        """
        return ~np.isfinite(np.asarray(data, dtype=float))

    def index(self, data) -> np.ndarray:
        """
        Grey level 0..255 of each pixel; blank pixels get ``saturate``.

        Parameters
        ----------
        data : array_like
            The image (any shape).

        Returns
        -------
        ndarray
            Integer levels, same shape.

        Examples
        --------
        >>> compute_stretch(np.arange(4.0), 0, 3, "linear").index([1.0]).tolist()
        [85]
        """
        if self._binned(data):
            dtype = np.uint8 if 0 <= self.saturate <= 255 else np.intp
            lut, run, mark = self._bin_lut(self.saturate, dtype)
            return _lut_levels(lut, self._hist, np.asarray(data), run, mark, dtype)
        x0 = np.asarray(data, dtype=float)
        x = x0.reshape(-1) if x0.ndim == 0 else x0
        return self._index(x, self.saturate).reshape(x0.shape)

    def _binned(self, data) -> bool:
        """
        Tell whether the levels of ``data`` can go by histogram bin.

        True when ``data`` is the very array the histogram was built from and
        the stretch has thresholds.
        """
        h = self._hist
        return (h is not None and self.thresholds is not None and h.delta > 0
                and h.describes(data))

    def levels(self, data, blank: int | None = None, rows=None) -> np.ndarray:
        """
        Grey levels 0..255 of each pixel as a small unsigned integer array.

        Parameters
        ----------
        data : array_like
            The image; when it is the very array the stretch's histogram
            was built from, the levels go by histogram bin.
        blank : int, optional
            Level of blank pixels (default ``saturate``); ``256`` marks them
            apart from every level, so that one 257-entry colour lookup
            gives them their own colour.
        rows : (int, int), optional
            Only the levels of rows ``start:stop`` of ``data`` (a picture
            drawn in blocks of rows).

        Returns
        -------
        ndarray
            ``uint8`` levels (``uint16`` when ``blank`` > 255).

        Examples
        --------
        >>> s = compute_stretch(np.arange(4.0), 0, 3, "linear")
        >>> s.levels([1.0, np.nan], blank=256).tolist()
        [85, 256]
        >>> s.levels(np.arange(4.0).reshape(2, 2), rows=(1, 2)).tolist()
        [[170, 255]]
        """
        blank = self.saturate if blank is None else int(blank)
        dtype = (np.uint8 if 0 <= blank <= 255 else np.uint16 if 0 <= blank < 65536
                 else np.intp)
        part = slice(None) if rows is None else slice(*rows)
        if self._binned(data):
            lut, run, mark = self._bin_lut(blank, dtype)
            return _lut_levels(lut, self._hist, np.asarray(data), run, mark,
                               dtype, rows)
        x0 = np.asarray(data, dtype=float)[part]
        x = x0.reshape(-1) if x0.ndim == 0 else x0
        out = self._index(x, blank)
        return out.astype(dtype).reshape(x0.shape)

    def _bin_lut(self, blank: int, dtype):
        """
        Return the per-bin level table of the histogram's own image.

        Cached per blank value: (lut, running thresholds, mark).

        A bin holding no threshold has one level for all its pixels; the
        few bins holding a threshold get ``mark``, and their pixels are
        compared with the thresholds directly. The thresholds' bins come
        from the very operations that binned the pixels (``floor(nbin (x -
        rmin) / diff)``), a monotone function: a pixel in a lower (higher)
        bin than a threshold is below (above) it, so only equal bins are
        ambiguous.
        """
        cached = self._luts.get(blank)
        if cached is not None:
            return cached
        h = self._hist
        lev = np.where(np.isnan(self.thresholds), -np.inf, self.thresholds)
        run = np.maximum.accumulate(lev)
        nb = h.nbin
        with np.errstate(invalid="ignore", over="ignore"):
            g = run - h.rmin
            g *= nb
            g /= h.rmax - h.rmin
            np.floor(g, out=g)
        g = np.clip(np.nan_to_num(g, nan=0.0, posinf=nb - 1, neginf=0.0), 0, nb - 1)
        tb = np.where(run == -np.inf, -1, np.where(run == np.inf, nb, g))
        tb = tb.astype(np.int64)
        # level of an unambiguous bin k = number of thresholds below it
        below = np.cumsum(np.bincount(tb + 1, minlength=nb + 2))[:nb]
        lut = np.empty(nb + 2, dtype=np.int32 if dtype == np.intp else np.uint16)
        lut[:nb] = np.minimum(below, 255)
        mark = 512 if blank != 512 else 513          # bins holding a threshold
        lut[tb[(tb >= 0) & (tb < nb)]] = mark
        lut[nb] = lut[nb - 1]                        # rmax itself (see histogram)
        lut[nb + 1] = blank                          # blank pixels
        self._luts[blank] = lut, run, mark
        return self._luts[blank]

    def _index(self, x: np.ndarray, blank: int) -> np.ndarray:
        if self.thresholds is not None:
            with np.errstate(invalid="ignore"):
                out = _first_ge(self.thresholds, x)
            np.minimum(out, 255, out=out)
        elif self.mode == "asinh":
            with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
                t = (x - self.vmin) / (self.vmax - self.vmin)
                v = np.where(t < 0.0, 0.0,
                             255.0 * np.arcsinh(self.beta * t) / self.beta)
                v = np.clip(v, 0.0, 255.0)
                out = (v + 0.5).astype(np.intp)
        else:
            with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
                t = np.maximum(x, self.vmin)
                t = np.minimum(t, self.vmax)
                t -= self.vmin
                t /= self.vmax - self.vmin
                _log_passes(t, self.logpower)
                t *= 255.0
                np.clip(t, 0.0, 255.0, out=t)
                t += 0.5
                out = t.astype(np.intp)
        bad = ~np.isfinite(x)
        if bad.any():
            out = np.where(bad, blank, out)
        return out

    def grey(self, data) -> np.ndarray:
        """
        Return the grey levels as mViewer's (blank pixels: ``saturate``).

        Parameters
        ----------
        data : array_like
            The image (any shape).

        Returns
        -------
        ndarray
            ``uint8`` levels, same shape.

        Examples
        --------
        >>> compute_stretch(np.arange(4.0), 0, 3, "log").grey([0.0, 1.0, 3.0]).tolist()
        [0, 255, 255]
        """
        return self.index(data).astype(np.uint8)

    def info(self) -> dict:
        """
        Report the stretch as mViewer does.

        Returns
        -------
        dict
            ``grayminval``, ``grayminpercent``, ``grayminsigma``, the same
            for ``graymax*``, and ``graydatamin``/``graydatamax``.

        Examples
        --------
        >>> sorted(compute_stretch(np.arange(5.0), "min", "max").info())[:3]
        ['graydatamax', 'graydatamin', 'graymaxpercent']
        """
        return {"grayminval": self.vmin, "grayminpercent": self.minpercent,
                "grayminsigma": self.minsigma, "graymaxval": self.vmax,
                "graymaxpercent": self.maxpercent, "graymaxsigma": self.maxsigma,
                "graydatamin": self.datamin, "graydatamax": self.datamax}


def compute_stretch(data, vmin="-2s", vmax="max", mode="gaussian-log", *,
                    beta="2s", saturate: int = 0,
                    hist: MontageHistogram | None = None) -> Stretch:
    """
    Resolve an mViewer stretch on an image.

    Parameters
    ----------
    data : array_like
        The image (any shape); NaN/inf are blank.
    vmin, vmax : str or float
        Range strings (see `parse_range`); numbers are data values.
    mode : str or int
        ``linear``, ``log``, ``loglog``, N (log passes), ``gaussian``,
        ``gaussian-log``, ``asinh`` (mViewer's tokens accepted, see
        `parse_mode`).
    beta : str or float
        asinh softening, a range string resolved like vmin/vmax (mViewer's
        default ``2s``).
    saturate : int
        Grey level for blank pixels.
    hist : MontageHistogram, optional
        A histogram already built for ``data`` (reused).

    Returns
    -------
    Stretch

    Raises
    ------
    InputError
        No finite pixel (``Image contains no non-blank pixels.``); bad mode.
    RangeError
        Bad range string.

    Notes
    -----
    Exactly mViewer's arithmetic (§8.4-8.6), including ``max = min + 1``
    when the range collapses, the natural logarithm of the ``log`` passes
    and its erf⁻¹. A constant image is not an error: every pixel gets one
    level (0: the black picture mViewer's C code intends; MontagePy 2.3.0
    aborts the process on such an image) and ``message`` says why. When
    ``gaussian-log``'s normal-space range is ≤ 1 the mapping is degenerate
    (``message`` says so).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> img = rng.normal(0, 1, (50, 50))
    >>> s = compute_stretch(img, "-2s", "max", "gaussian-log")
    >>> s.mode, s.thresholds.shape, float(round(s.minsigma, 6))
    ('gaussian-log', (256,), -2.0)
    >>> compute_stretch(np.full((3, 3), 7.0)).message[:22]
    'Image is constant (7):'
    """
    name, logpower = parse_mode(mode)
    smin = parse_range(vmin, "display min")
    smax = parse_range(vmax, "display max")
    sbeta = parse_range(beta, "beta value") if name == "asinh" else None
    h = hist if hist is not None else histogram(data)
    lo = h.resolve(smin)
    hi = h.resolve(smax)
    b = h.resolve(sbeta) if sbeta is not None else 0.0
    message = ""
    if lo == hi:
        hi = lo + 1.0
    med, sig = h.median, h.sigma
    with np.errstate(divide="ignore", invalid="ignore"):
        minsig = (lo - med) / sig if sig != 0 else math.copysign(math.inf, lo - med) \
            if lo != med else math.nan
        maxsig = (hi - med) / sig if sig != 0 else math.copysign(math.inf, hi - med) \
            if hi != med else math.nan
    st = Stretch(vmin=float(lo), vmax=float(hi), mode=name, logpower=logpower,
                 beta=float(b), saturate=int(saturate), _hist=h, datamin=h.datamin,
                 datamax=h.datamax, median=med, sigma=sig, npix=h.npix,
                 minpercent=h.percentile(lo), maxpercent=h.percentile(hi),
                 minsigma=minsig, maxsigma=maxsig)
    if h.constant:
        if name in ("gaussian", "gaussian-log"):
            st.thresholds = np.full(256, np.inf)
        level = int(st.index(np.array([h.datamin]))[0])
        st.message = (f"Image is constant ({h.datamin:g}): all {h.npix} non-blank "
                      "pixels have one value, so there is no contrast to stretch; "
                      f"every pixel gets grey level {level} (mViewer renders it "
                      "black).")
        return st
    if name in ("gaussian", "gaussian-log"):
        t, gmin, gmax = _gauss_thresholds(h, lo, hi, name == "gaussian-log")
        st.thresholds, st.gmin, st.gmax = t, gmin, gmax
        if name == "gaussian-log" and not gmax - gmin > 1.0:
            message = (f"gaussian-log range is degenerate: the display range "
                       f"[{lo:g}, {hi:g}] spans {gmax - gmin:.3g} normal units "
                       "(needs > 1); mViewer's mapping is reversed or flat here. "
                       "Widen the range or use 'gaussian'.")
    if name == "asinh" and b == 0:
        message = "asinh beta resolved to 0: mViewer divides by it (no picture)."
    if not message and hi < lo:
        message = f"display max ({hi:g}) is below display min ({lo:g})."
    st.message = message
    return st


def grey_levels(data, vmin="-2s", vmax="max", mode="gaussian-log", **kw) -> np.ndarray:
    """
    Return the grey levels of an image, as mViewer's.

    Parameters
    ----------
    data : array_like
        The image (any shape).
    vmin, vmax : str or float
        Range strings (`parse_range`).
    mode : str or int
        Stretch (`parse_mode`).
    **kw
        Further `compute_stretch` keywords (``beta``, ``saturate``).

    Returns
    -------
    ndarray
        ``uint8`` levels, same shape and row order as ``data``.

    Examples
    --------
    >>> grey_levels(np.arange(6.0).reshape(2, 3), "min", "max", "linear").tolist()
    [[0, 51, 102], [153, 204, 255]]
    """
    data = np.asarray(data, dtype=float)
    return compute_stretch(data, vmin, vmax, mode, **kw).grey(data)


def symmetric_interval(data, limit="99.5%", *, hist=None) -> tuple[float, float]:
    """
    Return a display range symmetric about zero, for difference images.

    Parameters
    ----------
    data : array_like
        The image.
    limit : str or float
        A range string resolved on ``|data|`` (``'99.5%'``: 99.5th
        percentile of the absolute values; ``'max'``), or ``'Ns'``: N times
        the sigma of ``data`` itself (16-84 % half width, as mViewer's); a
        number is used as is.
    hist : MontageHistogram, optional
        ``data``'s histogram, for ``'Ns'``.

    Returns
    -------
    (float, float)
        ``(-a, a)``; ``a`` is never 0 (``1.0`` for an all-zero image).

    Examples
    --------
    >>> symmetric_interval(np.array([-1.0, 0.5, 3.0]), "max")
    (-3.0, 3.0)
    >>> symmetric_interval(np.zeros(4), "max")
    (-1.0, 1.0)
    """
    spec = parse_range(limit, "symmetric limit")
    if spec.kind == "value":
        a = abs(spec.value + spec.extra)
    elif spec.kind == "sigma":
        h = hist if hist is not None else histogram(data)
        a = abs(spec.value * h.sigma + spec.extra)
    else:
        v = _finite_values(data)
        a = abs(histogram(np.abs(v)).resolve(spec)) if v.size else 0.0
    if not a > 0 or not math.isfinite(a):
        a = 1.0
    return (-float(a), float(a))


def _log_passes(t: np.ndarray, n: int) -> None:
    """
    Apply ``t <- ln(9 t + 1)`` ``n`` times in place, on ``t`` in 0..1.

    Each pass leaves 0 at 0 and raises every other level, and a level of 1
    or more stays at 1 or more, i.e. grey 255: the passes stop once no level
    is strictly between 0 and 1, which gives the grey levels of all ``n``
    passes in at most about 340 (from the smallest double), so an absurd
    count (``-gray f.fits min max 99999999999``) ends.
    """
    for k in range(n):
        t *= 9.0
        t += 1.0
        np.log(t, out=t)
        if k % 16 == 15 and not ((t > 0.0) & (t < 1.0)).any():
            break

