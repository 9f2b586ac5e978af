"""
mViewer's display ranges and stretches, reproduced grey level for grey level.

``mViewer -gray diff.fits -2s max gaussian-log`` maps every pixel to one of 256
grey levels through three steps, all reproduced here exactly
(``montage-semantics.md`` §8.4-8.6):

1. a 199999-bin histogram of the finite pixels, from which percentiles,
   the median and a sigma (half the 16-84 % spread) are read
   (`MontageHistogram`);
2. the range strings (``-2s``, ``99.5%``, ``min``, ``med+3``, ``1e-3``) resolved
   to data values (`parse_range`, `compute_stretch`);
3. the stretch: linear / ``log`` / ``loglog`` / N log passes (``t <- ln(9t+1)``,
   natural log as in Montage), ``asinh``, or the histogram equalisation to a
   normal distribution (``gaussian``, ``gaussian-log``) expressed as 256 data
   thresholds (`Stretch.grey`).

Speed comes from doing the expensive work per histogram bin (199999 bins,
whatever the image size) and only a threshold search per pixel.

Blank pixels (NaN, +-inf) never enter the histogram; `Stretch.grey` gives
them the ``saturate`` level (mViewer's ``-saturate``, default 0) and
`Stretch.blank` returns their mask.

Two inputs mViewer handles badly are made explicit:

* an image without a single finite pixel raises `InputError`
  (``Image contains no non-blank pixels.``; MontagePy 2.3.0 crashes);
* a constant image (or a range that collapses) gives a `Stretch` whose
  ``message`` says why every pixel gets the same level (mViewer silently
  renders it black).
"""

from __future__ import annotations

import math
import re
import weakref
from dataclasses import dataclass, field

import numpy as np

from diffview.errors import InputError

__all__ = [
    "RangeError",
    "RangeSpec",
    "MODES",
    "NBIN",
    "parse_range",
    "parse_mode",
    "MontageHistogram",
    "histogram",
    "Stretch",
    "compute_stretch",
    "grey_levels",
    "symmetric_interval",
    "snpinv",
]

#: mViewer's number of histogram bins (``NBIN - 1`` in the C code).
NBIN = 199999

#: Canonical stretch names.
MODES = ("linear", "log", "loglog", "gaussian", "gaussian-log", "asinh")


class RangeError(InputError):
    """A display range string (min, max or asinh beta) cannot be read.

    The message quotes the string and lists the accepted forms.
    """


_ACCEPTED = ("accepted: a number (1e-3), N% (0..100), Ns (median + N sigma), "
             "min, max or med, each optionally followed by +v or -v")

# The prefix that C's strtod() would consume (sign already removed by caller).
_NUMBER = re.compile(
    r"[+-]?(?:(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|inf(?:inity)?|nan)",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class RangeSpec:
    """A parsed range string: ``kind`` is ``'value'``, ``'percentile'`` or
    ``'sigma'``; the resolved level is ``f(value) + extra``.

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
    return float(m.group(0)), m.end()


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
    ``max``); ``N%`` must be within 0..100.

    Examples
    --------
    >>> parse_range("99.5%").kind, parse_range("med+3").extra
    ('percentile', 3.0)
    >>> parse_range(2.5)
    RangeSpec(kind='value', value=2.5, extra=0.0, text='2.5')
    >>> parse_range("x")
    Traceback (most recent call last):
    ...
    diffview.stretch.RangeError: 'x' is not a valid display min (accepted: ...)
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
    if re.fullmatch(r"\d+", low):
        return parse_mode(int(low))
    raise InputError(
        f"stretch '{m}' is not known: use linear, log, loglog, an integer number "
        "of log passes, gaussian, gaussian-log or asinh (mViewer has no sqrt or "
        "power stretch)")


# --------------------------------------------------------------------------
# inverse normal (Blair, Edwards & Johnson 1976), ported term by term

_A = (0.1400216916161353e+03, -0.7204275515686407e+03, 0.1296708621660511e+04,
      -0.9697932901514031e+03, 0.2762427049269425e+03, -0.2012940180552054e+02)
_B = (0.1291046303114685e+03, -0.7312308064260973e+03, 0.1494970492915789e+04,
      -0.1337793793683419e+04, 0.5033747142783567e+03, -0.6220205554529216e+02)
_A1 = (-0.1690478046781745e+00, 0.3524374318100228e+01, -0.2698143370550352e+02,
       0.9340783041018743e+02, -0.1455364428646732e+03, 0.8805852004723659e+02,
       -0.1349018591231947e+02)
_B1 = (-0.1203221171313429e+00, 0.2684812231556632e+01, -0.2242485268704865e+02,
       0.8723495028643494e+02, -0.1604352408444319e+03, 0.1259117982101525e+03,
       -0.3184861786248824e+02)
_A2 = (0.3100808562552958e-04, 0.4097487603011940e-02, 0.1214902662897276e+00,
       0.1109167694639028e+01, 0.3228379855663924e+01, 0.2881691815651599e+01,
       0.2047972087262996e+01, 0.8545922081972148e+00, 0.3551095884622383e-02)
_B2 = (0.3100809298564522e-04, 0.4097528678663915e-02, 0.1215907800748757e+00,
       0.1118627167631696e+01, 0.3432363984305290e+01, 0.4140284677116202e+01,
       0.4119797271272204e+01, 0.2162961962641435e+01)
_A3 = (0.3205405422062050e-08, 0.1899479322632128e-05, 0.2814223189858532e-03,
       0.1370504879067817e-01, 0.2268143542005976e+00, 0.1098421959892340e+01,
       0.6791143397056208e+00, -0.8343341891677210e+00, 0.3421951267240343e+00)
_B3 = (0.3205405053282398e-08, 0.1899480592260143e-05, 0.2814349691098940e-03,
       0.1371092249602266e-01, 0.2275172815174473e+00, 0.1125348514036959e+01)


def _horner(coef, v, monic=False):
    """``((c[n]*v + c[n-1])*v + ... )*v + c[0]``; monic adds a leading ``v``."""
    if monic:
        acc = v + coef[-1]
    else:
        acc = coef[-1] * v + coef[-2]
        coef = coef[:-1]
    for c in reversed(coef[:-1]):
        acc = acc * v + c
    return acc


def _erfinv(p):
    """mViewer_erfinv, vectorised, same operations in the same order
    (including its swapped tail branches, §9.3)."""
    p = np.asarray(p, dtype=float)
    q = 1.0 - p
    out = np.empty_like(p)
    bad = (p < 0.0) | (q < 0.0)
    one = ~bad & (q == 0.0)
    r1 = ~bad & ~one & (p <= 0.75)
    r2 = ~bad & ~one & ~r1 & (p <= 0.9375)
    rt = ~bad & ~one & ~r1 & ~r2
    out[bad] = -1.0e99
    out[one] = 1.0e99
    if r1.any():
        x = p[r1]
        v = x * x - 0.5625
        out[r1] = (x * _horner(_A, v)) / _horner(_B, v, monic=True)
    if r2.any():
        x = p[r2]
        v = x * x - 0.87890625
        out[r2] = (x * _horner(_A1, v)) / _horner(_B1, v, monic=True)
    if rt.any():
        v1 = np.log(q[rt])
        v = 1.0 / np.sqrt(-v1)
        low = v1 < -0.2302585092994046e+03
        res = np.empty_like(v)
        if low.any():
            w = v[low]
            res[low] = _horner(_A2, w) / (w * _horner(_B2, w, monic=True))
        hi = ~low
        if hi.any():
            w = v[hi]
            res[hi] = _horner(_A3, w) / (w * _horner(_B3, w, monic=True))
        out[rt] = res
    return out


_SQRT2 = math.sqrt(2.0)


def snpinv(p):
    """
    mViewer's inverse standard normal CDF (``mViewer_snpinv``), vectorised.

    Within about 1e-4 of ``scipy.special.ndtri`` (Montage's erf⁻¹ has its
    tail branches swapped); kept as is because the grey levels depend on it.

    Examples
    --------
    >>> round(float(snpinv(0.975)), 3), round(float(snpinv(0.16)), 3)
    (1.96, -0.994)
    """
    p = np.asarray(p, dtype=float)
    upper = p > 0.5
    out = np.where(upper, _SQRT2 * _erfinv(np.where(upper, 2.0 * p - 1.0, 0.0)),
                   -_SQRT2 * _erfinv(np.where(upper, 0.0, 1.0 - 2.0 * p)))
    return out


# --------------------------------------------------------------------------
# histogram


def _finite_values(data) -> np.ndarray:
    a = np.asarray(data, dtype=float)
    if a.ndim != 1 or not np.isfinite(a).all():
        a = a[np.isfinite(a)]
    return a


@dataclass
class MontageHistogram:
    """
    mViewer's histogram of an image (``mViewer_getRange``).

    Attributes ``rmin``/``rmax`` (data extremes, with Montage's seeds
    ``rmin <= 1e10`` and ``rmax >= -1e10``), ``npix`` (finite pixels),
    ``chist`` (cumulative counts, ``nbin + 1`` values), ``delta`` (bin width),
    ``datamin``/``datamax`` (true extremes).

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
        """True when this histogram was built from this very array (its
        pixels' bins are then those `_bin_blocks` works out)."""
        src = self._source() if self._source is not None else None
        return src is not None and src is data

    def drop_bins(self) -> None:
        """Forget the pixels' bins kept by ``histogram(..., bins_out=...)``
        (before their memory is reused); levels are then binned anew.

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
        """True when all finite pixels have one value (no usable histogram)."""
        return self.rmax == self.rmin

    def level(self, percentile: float) -> float:
        """Data value at a percentile (``mViewer_percentileLevel``)."""
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
        """Percentile of a data value (``mViewer_valuePercentile``)."""
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
        """``P(50)``."""
        return self.level(50.0)

    @property
    def sigma(self) -> float:
        """``(P(84) - P(16)) / 2``."""
        return (self.level(84.0) - self.level(16.0)) / 2.0

    def resolve(self, spec: RangeSpec) -> float:
        """Data value of a parsed range string."""
        if spec.kind == "percentile":
            return self.level(spec.value) + spec.extra
        if spec.kind == "sigma":
            return self.median + spec.value * self.sigma + spec.extra
        return spec.value + spec.extra

    def datalev(self) -> np.ndarray:
        """Lower edge of each bin, ``rmin + delta*i``."""
        return self.rmin + self.delta * np.arange(self.nbin, dtype=float)

    def gausslev(self) -> np.ndarray:
        """Normal level of each bin's upper cumulative fraction."""
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
    """Each pixel's histogram bin ``floor(nbin (x - rmin) / diff)`` (the
    same operations as Montage), block by block: ``(start, bins)`` for
    `_CHUNK` pixels at a time from flat position ``start``.

    Bins are ``0..nbin`` for finite pixels (``nbin`` only for ``rmax``
    itself, Montage's bin ``nbin - 1``) and ``nbin + 1`` for blank ones.
    ``bins`` is a slice of ``out`` (a flat ``int32`` array with a bin for
    every pixel, filled as the blocks go) when given, else one ``intp``
    buffer overwritten by the next block. ``finite_or_nan`` says no pixel is
    infinite (NaN may be), which saves two passes. Nothing image-sized is
    made here: fresh memory costs more than the arithmetic."""
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
    to the blank bin before the cast."""
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
    """Smallest and largest finite pixel (``InputError`` when none is), and
    whether no pixel is infinite."""
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


# --------------------------------------------------------------------------
# stretch


def _first_ge(levels: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Index of the first entry of ``levels`` that is ``>= value`` (or
    ``len(levels)``), exactly as a linear scan, even if ``levels`` is not
    sorted or holds NaN (never ``>=``)."""
    with np.errstate(invalid="ignore"):
        ordered = bool((levels[1:] >= levels[:-1]).all())   # False at any NaN
    if ordered and not (levels.size and np.isnan(levels[0])):
        run = levels                  # already its own running maximum
    else:
        lev = np.where(np.isnan(levels), -np.inf, levels)
        run = np.maximum.accumulate(lev)
    return np.searchsorted(run, values, side="left")


def _cpow10(x: float) -> float:
    """C's ``pow(10, x)`` (inf on overflow)."""
    try:
        return math.pow(10.0, x)
    except OverflowError:
        return math.inf


def _gauss_thresholds(h: MontageHistogram, lo: float, hi: float, log: bool):
    """The 256 data thresholds of mViewer's gaussian(-log) stretch."""
    nb = h.nbin
    D = h.datalev()
    G = h.gausslev()
    # first i in 0..nb-2 with D[i] > lo (D is increasing when delta > 0)
    i = int(np.searchsorted(D[: nb - 1], lo, side="right")) if h.delta > 0 else nb - 1
    gmin = float(G[i]) if i < nb - 1 else 0.0
    i = int(np.searchsorted(D[: nb - 1], hi, side="right")) if h.delta > 0 else nb - 1
    gmax = float(G[i]) if i < nb - 1 else float(G[nb - 2])
    j = np.arange(256, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        if log:
            step = math.log10(gmax - gmin) / 255.0 if gmax - gmin > 0 else (
                -math.inf if gmax == gmin else math.nan)
            # C's pow (via math.pow), not numpy's vectorised power: the two
            # can differ by an ulp, and g_1 sits exactly on gmin's level
            g = gmax - np.array([_cpow10(step * (256.0 - jj)) for jj in j])
        else:
            step = (gmax - gmin) / 255.0
            g = gmin + step * j
        idx = _first_ge(G[1: nb - 1], g) + 1       # i in 1..nb-2, else nb-1
        glow, ghigh = G[idx - 1], G[idx]
        dlow, dhigh = D[idx - 1], D[idx]
        same = glow == ghigh
        t = np.where(same, dlow,
                     dlow + (g - glow) * (dhigh - dlow) / np.where(same, 1.0,
                                                                    ghigh - glow))
    return t, gmin, gmax


@dataclass
class Stretch:
    """
    A resolved mViewer stretch: data range, mode and (for the gaussian
    modes) the 256 data thresholds.

    Attributes
    ----------
    vmin, vmax : float
        Display range in data units (mViewer's ``grayminval``/``graymaxval``).
    mode : str
        One of `MODES`.
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
        """Mask of blank pixels (NaN or infinite), as mViewer's ``mNaN``.

        Examples
        --------
        >>> Stretch.blank([1.0, np.nan, np.inf]).tolist()
        [False, True, True]
        """
        return ~np.isfinite(np.asarray(data, dtype=float))

    def index(self, data) -> np.ndarray:
        """Grey level 0..255 of each pixel (``int`` array); blank pixels
        get ``saturate``.

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
        """True when ``data`` is the very array the histogram was built from
        (and the stretch has thresholds): levels then go by histogram bin."""
        h = self._hist
        return (h is not None and self.thresholds is not None and h.delta > 0
                and h.describes(data))

    def levels(self, data, blank: int | None = None, rows=None) -> np.ndarray:
        """Grey levels 0..255 of each pixel, as a small unsigned integer
        array (``uint8``, or ``uint16`` when ``blank`` > 255); blank pixels
        get ``blank`` (default ``saturate``).

        ``blank=256`` marks blank pixels apart from every level, so that one
        257-entry colour lookup gives them their own colour. ``rows`` (a
        ``(start, stop)`` pair) gives the levels of those rows of ``data``
        only (a picture drawn in blocks of rows).

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
        """The per-bin level table of the histogram's own image (cached per
        blank value): (lut, running thresholds, mark).

        A bin holding no threshold has one level for all its pixels; the
        few bins holding a threshold get ``mark``, and their pixels are
        compared with the thresholds directly. The thresholds' bins come
        from the very operations that binned the pixels (``floor(nbin (x -
        rmin) / diff)``), a monotone function: a pixel in a lower (higher)
        bin than a threshold is below (above) it, so only equal bins are
        ambiguous."""
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
                for _ in range(self.logpower):
                    t *= 9.0
                    t += 1.0
                    np.log(t, out=t)
                t *= 255.0
                np.clip(t, 0.0, 255.0, out=t)
                t += 0.5
                out = t.astype(np.intp)
        bad = ~np.isfinite(x)
        if bad.any():
            out = np.where(bad, blank, out)
        return out

    def grey(self, data) -> np.ndarray:
        """mViewer's grey levels as ``uint8`` (blank pixels: ``saturate``).

        Examples
        --------
        >>> compute_stretch(np.arange(4.0), 0, 3, "log").grey([0.0, 1.0, 3.0]).tolist()
        [0, 255, 255]
        """
        return self.index(data).astype(np.uint8)

    def info(self) -> dict:
        """The stretch as mViewer reports it (``graymin*``/``graymax*`` and
        ``graydatamin/max``).

        Examples
        --------
        >>> sorted(compute_stretch(np.arange(5.0), "min", "max").info())[:3]
        ['graydatamax', 'graydatamin', 'graymaxpercent']
        """
        return {"grayminval": self.vmin, "grayminpercent": self.minpercent,
                "grayminsigma": self.minsigma, "graymaxval": self.vmax,
                "graymaxpercent": self.maxpercent, "graymaxsigma": self.maxsigma,
                "graydatamin": self.datamin, "graydatamax": self.datamax}


def _lut_levels(lut, h: MontageHistogram, a, run, mark, dtype, rows=None
                ) -> np.ndarray:
    """Levels of the pixels of the histogram's image ``a`` (rows ``rows[0]:
    rows[1]`` only when given) from their bins (`Stretch._bin_lut`), kept
    by the histogram or worked out again; pixels of marked bins are placed
    among the thresholds ``run``."""
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
    mViewer's grey levels (``uint8``, same shape as ``data``, FITS row order).

    Examples
    --------
    >>> grey_levels(np.arange(6.0).reshape(2, 3), "min", "max", "linear").tolist()
    [[0, 51, 102], [153, 204, 255]]
    """
    data = np.asarray(data, dtype=float)
    return compute_stretch(data, vmin, vmax, mode, **kw).grey(data)


def symmetric_interval(data, limit="99.5%", *, hist=None) -> tuple[float, float]:
    """
    A display range symmetric about zero, for difference images.

    ``limit`` is a range string resolved on ``|data|`` (``'99.5%'``: 99.5th
    percentile of the absolute values; ``'max'``), or ``'Ns'``: N times the
    sigma of ``data`` itself (16-84 % half width, as mViewer's); a number is
    used as is. Returns ``(-a, a)``; ``a`` is never 0 (``1.0`` for an
    all-zero image).

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
