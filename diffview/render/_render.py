"""
FITS -> RGB / PNG rendering with mViewer's stretches, colour tables,
orientation and anti-aliased outline overlays.

One output pixel per input pixel by default (as mViewer); `preview` and
`block_average` make NaN-aware reduced pictures of big images. The picture is
oriented as mViewer writes PNGs (`diffview.outlines.orientation`: north up,
east left for standard images; row 0 at the top).

Overlays are burned the way mViewer draws them (``montage-semantics.md``
§8.8): 1-pixel lines with its two-pixel anti-aliasing (weights ``1 - frac``
and ``frac``), thicker lines by area coverage, one overlay at a time blended
as ``w * colour + (1 - w) * pixel`` with truncation to 8 bits.
"""

from __future__ import annotations

import contextlib
import hashlib
import math
import os
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np
from astropy.io import fits

from diffview.core.blocks import block_average
from diffview.errors import InputError
from diffview.geometry.outlines import (
    Orientation,
    box_outline,
    image_outlines,
    orientation,
)
from diffview.geometry.outlines import _cache_key as _outline_key
from diffview.io.paths import atomic_path
from diffview.render.colortables import color_table, overlay_rgb255
from diffview.render.stretch import Stretch, compute_stretch, histogram

__all__ = [
    "Overlay",
    "ViewResult",
    "load_image",
    "render_rgb",
    "burn_overlay",
    "write_png",
    "render_png",
    "view",
    "release_buffers",
    "retain_heap",
]


@dataclass
class Overlay:
    """
    Lines to burn into a picture: displayed 0-based (x, y) polylines, one
    colour (mViewer name, ``rrggbb`` or 0..1 tuple), a line width in pixels
    and an opacity.

    Examples
    --------
    >>> Overlay([np.array([[0.0, 0.0], [3.0, 0.0]])], "red").linewidth
    1.0
    """

    lines: list
    color: object = "yellow"
    linewidth: float = 1.0
    alpha: float = 1.0
    #: What the lines are known to be made from (hashable), for the pixel
    #: coverage cache; None: they are identified by their values (hashed).
    _source: object = field(default=None, repr=False, compare=False)


@dataclass
class ViewResult:
    """What `view` / `render_png` produced: the RGB picture, the stretch,
    the orientation and mViewer-style information.

    Examples
    --------
    >>> r = view(np.arange(12.0).reshape(3, 4), vmin="min", vmax="max", mode="linear")
    >>> r.rgb.shape, r.message
    ((3, 4, 3), '')
    """

    rgb: np.ndarray
    stretch: Stretch
    orient: Orientation
    out: str | None = None
    seconds: float = 0.0
    info: dict = field(default_factory=dict)

    @property
    def message(self) -> str:
        """Why the picture is uniform, if it is (else empty)."""
        return self.stretch.message


# --------------------------------------------------------------------------
# input


def load_image(image, hdu: int = 0) -> tuple[np.ndarray, fits.Header | None]:
    """
    An image as a float64 array (FITS row order) and its header (None for a
    plain array). Integer images with ``BLANK`` get NaN there.

    Examples
    --------
    >>> load_image([[1, 2], [3, 4]])[0].dtype
    dtype('float64')
    """
    if isinstance(image, (str, os.PathLike)):
        path = str(image)
        if hdu == 0:
            plain = _load_plain(path)
            if plain is not None:
                return plain
        try:
            with fits.open(path, memmap=False) as hdul:
                h = hdul[hdu]
                if h.data is None or h.data.ndim < 2:
                    raise InputError(f"Image {path} HDU {hdu} has no 2-D image")
                raw = h.data
                while raw.ndim > 2:
                    raw = raw[0]
                data = np.array(raw, dtype=float)
                blank = h.header.get("BLANK")
                if blank is not None and raw.dtype.kind in "iu" and "BSCALE" not in \
                        h.header:
                    data[raw == blank] = np.nan
                return data, h.header.copy()
        except FileNotFoundError:
            raise InputError(f"Image {path} not found") from None
        except IndexError:
            raise InputError(f"Image {path} has no HDU {hdu}") from None
        except InputError:
            raise
        except (OSError, ValueError) as exc:     # astropy: truncated data
            raise InputError(f"Image {path} is not a valid FITS file ({exc})") from None
    if (isinstance(image, tuple) and len(image) == 2
            and isinstance(image[1], fits.Header)):
        return np.asarray(image[0], dtype=float), image[1]
    a = np.asarray(image, dtype=float)
    if a.ndim != 2:
        raise InputError(f"expected a 2-D image, got shape {a.shape}")
    return a, None


def _load_plain(path: str):
    """`load_image` of a plain float FITS image through `diffview.io`'s fast
    reader (no astropy HDU machinery); None for anything else."""
    from diffview.io import read_plain_header_image

    return read_plain_header_image(path)


# --------------------------------------------------------------------------
# line drawing


def _aa_writes(x1, y1, x2, y2, with_order: bool = True):
    """mViewer_smooth_line for many segments at once, in mViewer's drawing
    frame. Returns (i, j, brightness, order) of every setPixel call (i, j
    integers as float; NaN or out-of-range for writes that do not land;
    order None unless ``with_order``).

    Each segment is drawn along its running axis (x when it is more
    horizontal than vertical, else y): two pixels across the line at each
    end (the far end of a "vertical" segment only when it is short, as
    mViewer), and for short segments up to four steps in between."""
    x1, y1, x2, y2 = (np.asarray(v, float) for v in (x1, y1, x2, y2))
    hor = np.abs(x2 - x1) > np.abs(y2 - y1)
    a1, b1 = np.where(hor, x1, y1), np.where(hor, y1, x1)
    a2, b2 = np.where(hor, x2, y2), np.where(hor, y2, x2)
    sw = a1 > a2                                 # draw with increasing a
    a1, a2, b1, b2 = (np.where(sw, a2, a1), np.where(sw, a1, a2),
                      np.where(sw, b2, b1), np.where(sw, b1, b2))
    n = hor.size
    i, j, w = (np.empty(4 * n) for _ in range(3))
    with np.errstate(invalid="ignore", divide="ignore"):
        grad = (b2 - b1) / (a2 - a1)
        ae1, ae2 = np.floor(a1 + 0.5), np.floor(a2 + 0.5)
        be1, be2 = b1 + grad * (ae1 - a1), b2 + grad * (ae2 - a2)
        ib1, ib2 = np.floor(be1), np.floor(be2)
        short = (np.abs(ae2 - ae1) < 5) & (np.abs(ib2 - ib1) < 5)
        ver = ~hor
        # four writes per segment, one block each: at each end the pixel
        # below/left of the line and the one above/right of it
        for k, (ae, be, ib) in enumerate(((ae1, be1, ib1), (ae2, be2, ib2))):
            lo, hi = slice(2 * k * n, (2 * k + 1) * n), slice((2 * k + 1) * n,
                                                                (2 * k + 2) * n)
            i[lo], j[lo] = np.where(hor, ae, ib), np.where(hor, ib, ae)
            np.add(i[lo], ver, out=i[hi])
            np.add(j[lo], hor, out=j[hi])
            np.subtract(be, ib, out=w[hi])
            np.subtract(1.0, w[hi], out=w[lo])
        skip = ver & ~short                      # mViewer draws no far end
        np.copyto(i[2 * n:3 * n], np.nan, where=skip)
        np.copyto(i[3 * n:], np.nan, where=skip)
        order = None
        if with_order:
            order = np.empty(4 * n)
            seg64 = np.arange(n) * 64.0
            for k in range(4):
                np.add(seg64, k, out=order[k * n:(k + 1) * n])
        steps = list(_aa_steps(ae1, ae2, be1 + grad, grad, short, hor, with_order))
    if not steps:
        return i, j, w, order
    i, j, w = (np.concatenate([a] + [st[k] for st in steps])
               for k, a in enumerate((i, j, w)))
    if with_order:
        order = np.concatenate([order] + [st[3] for st in steps])
    return i, j, w, order


def _aa_steps(ae1, ae2, bf, grad, short, hor, with_order: bool):
    """The in-between steps of short segments (`_aa_writes`): at running
    positions ``ae1 + k`` (k = 1..4, before ``ae2``), two pixels across."""
    for k in range(1, 5):
        m = np.flatnonzero(short & (ae1 + k < ae2))
        if not m.size:
            break
        b = bf[m] + (k - 1) * grad[m]
        fb = np.floor(b)
        fr = b - fb
        a, h, s = ae1[m] + k, hor[m], m * 64.0
        yield (np.concatenate([np.where(h, a, fb), np.where(h, a, fb + 1)]),
               np.concatenate([np.where(h, fb, a), np.where(h, fb + 1, a)]),
               np.concatenate([1 - fr, fr]),
               np.concatenate([s + 2 + 2 * k, s + 3 + 2 * k]) if with_order else None)


def _thick_writes(x1, y1, x2, y2, width):
    """Area coverage (3x3 sub-samples) of capsules of ``width`` around each
    segment, as mViewer's thick lines."""
    x1, y1, x2, y2 = (np.asarray(v, float) for v in (x1, y1, x2, y2))
    r = width / 2.0
    k = int(math.ceil(r)) + 2
    offs = np.arange(-k, k + 2)
    sub = (np.arange(3) + 0.5) / 3.0 - 0.5
    out_i, out_j, out_b = [], [], []
    for start in range(0, x1.size, 4096):
        sl = slice(start, start + 4096)
        ax, ay, bx, by = x1[sl], y1[sl], x2[sl], y2[sl]
        ci, cj = np.floor(np.minimum(ax, bx)), np.floor(np.minimum(ay, by))
        pi = ci[:, None, None] + offs[None, :, None]
        pj = cj[:, None, None] + offs[None, None, :]
        px = pi[..., None, None] + sub[None, None, None, :, None]
        py = pj[..., None, None] + sub[None, None, None, None, :]
        dx = (bx - ax)[:, None, None, None, None]
        dy = (by - ay)[:, None, None, None, None]
        L2 = dx * dx + dy * dy
        with np.errstate(invalid="ignore", divide="ignore"):
            t = ((px - ax[:, None, None, None, None]) * dx
                 + (py - ay[:, None, None, None, None]) * dy) / np.where(L2 > 0, L2, 1)
        t = np.clip(np.where(L2 > 0, t, 0.0), 0, 1)
        qx = ax[:, None, None, None, None] + t * dx - px
        qy = ay[:, None, None, None, None] + t * dy - py
        cov = ((qx * qx + qy * qy) <= r * r).sum(axis=(3, 4)) / 9.0
        m = cov > 0
        out_i.append(np.broadcast_to(pi, cov.shape)[m])
        out_j.append(np.broadcast_to(pj, cov.shape)[m])
        out_b.append(cov[m])
    if not out_i:
        return np.empty(0), np.empty(0), np.empty(0)
    return np.concatenate(out_i), np.concatenate(out_j), np.concatenate(out_b)


def _densify(p: np.ndarray, longest: float = 4.0, step: float = 0.5) -> np.ndarray:
    """Split segments longer than ``longest`` pixels into ``step`` pieces
    (mViewer's drawer only draws the end points of long segments)."""
    d = np.hypot(*np.diff(p, axis=0).T)
    if not (d >= longest).any():
        return p
    parts = [p[:1]]
    for k in range(len(d)):
        n = int(np.ceil(d[k] / step)) if d[k] >= longest else 1
        t = np.arange(1, n + 1)[:, None] / n
        parts.append(p[k] + t * (p[k + 1] - p[k]))
    return np.concatenate(parts)


def _segments(lines, ny, densify=True):
    """Display polylines -> segment end points in mViewer's drawing frame
    (column i, j counted from the bottom row)."""
    xs1, ys1, xs2, ys2 = [], [], [], []
    for line in lines:
        p = np.asarray(line, float)
        if p.ndim != 2 or p.shape[0] < 2:
            continue
        if densify:
            p = _densify(p)
        j = (ny - 1) - p[:, 1]
        xs1.append(p[:-1, 0])
        ys1.append(j[:-1])
        xs2.append(p[1:, 0])
        ys2.append(j[1:])
    if not xs1:
        return None
    return (np.concatenate(xs1), np.concatenate(ys1), np.concatenate(xs2),
            np.concatenate(ys2))


def burn_overlay(rgb: np.ndarray, overlay: Overlay, *, densify: bool = True
                 ) -> np.ndarray:
    """
    Burn one overlay into an RGB picture in place (and return it), with
    mViewer's anti-aliasing and blending.

    Segments of 4 pixels or more are first cut into half-pixel steps
    (``densify``; mViewer itself draws only the ends of such segments).

    Examples
    --------
    >>> img = np.zeros((5, 6, 3), np.uint8)
    >>> line = np.column_stack([np.linspace(0, 5, 11), np.full(11, 2.0)])
    >>> _ = burn_overlay(img, Overlay([line], "green"))
    >>> img[:, 3, 1].tolist()
    [0, 0, 255, 0, 0]
    """
    ny, nx = rgb.shape[:2]
    _blend_rows(rgb, _burn_plan(overlay, ny, nx, densify), 0, ny)
    return rgb


class _Plan(NamedTuple):
    """What burning an overlay does to a picture (`_burn_plan`)."""

    hit: np.ndarray       # flat indices of the pixels changed (increasing)
    painted: np.ndarray   # (N, 3) w * colour
    kept: np.ndarray      # (N, 1) 1 - w
    color: np.ndarray     # (3,) the overlay's colour


def _burn_plan(overlay: Overlay, ny: int, nx: int, densify: bool) -> _Plan:
    """What burning an overlay does to a ``ny x nx`` picture (`_Plan`): the
    blend's terms that do not depend on the picture are worked out here
    (on the pool, while the picture's colours are looked up)."""
    col = overlay_rgb255(overlay.color)
    hit, weight = _coverage(overlay.lines, ny, nx, float(overlay.linewidth),
                            densify, bool(col.sum() == 0), overlay._source)
    w = weight * min(1.0, max(0.0, float(overlay.alpha)))
    drawn = w > 0
    w = w[drawn][:, None]
    return _Plan(hit[drawn], w * col[None, :], 1.0 - w, col)


def _blend_rows(rgb: np.ndarray, plan: _Plan, r0: int, r1: int) -> None:
    """Blend a `_burn_plan` into rows ``r0:r1`` of a contiguous picture:
    ``w * colour + (1 - w) * pixel``, truncated to 8 bits."""
    nx = rgb.shape[1]
    lo, hi = np.searchsorted(plan.hit, (r0 * nx, r1 * nx))
    if hi > lo:
        flat = rgb.reshape(-1, 3)
        h = plan.hit[lo:hi]
        new = plan.kept[lo:hi] * flat.take(h, axis=0)
        new += plan.painted[lo:hi]
        np.put(flat.view(_RGB).reshape(-1), h,
               new.astype(np.uint8).view(_RGB).reshape(-1))


#: Pixel coverage of the last few overlays, keyed by a digest of their lines
#: (the same outlines are usually burned into picture after picture).
_COVERAGE: OrderedDict = OrderedDict()
_COVERAGE_SIZE = 8


def _lines_digest(lines) -> bytes:
    """A digest of polylines: their shapes and float64 values."""
    d = hashlib.sha256()
    for line in lines:
        p = np.ascontiguousarray(line, dtype=float)
        d.update(str(p.shape).encode())
        d.update(memoryview(p.reshape(-1)).cast("B"))   # no copy
    return d.digest()


def _coverage(lines, ny: int, nx: int, width: float, densify: bool, black: bool,
              source=None):
    """Flat indices of the pixels an overlay leaves drawn (increasing) and the
    brightness mViewer's drawer leaves there, cached
    per (lines, picture shape, width, densify, black). The lines are
    identified by ``source`` (what they are made from, `Overlay`) when
    given, else by a digest of their values."""
    ident = ("source", source) if source is not None else _lines_digest(lines)
    key = (ident, ny, nx, width, densify, black)
    cached = _COVERAGE.get(key)
    if cached is not None:
        with contextlib.suppress(KeyError):      # evicted meanwhile by a thread
            _COVERAGE.move_to_end(key)
        return cached
    cached = _compute_coverage(lines, ny, nx, width, densify, black)
    for a in cached:
        a.setflags(write=False)
    _COVERAGE[key] = cached
    while len(_COVERAGE) > _COVERAGE_SIZE:
        _COVERAGE.popitem(last=False)
    return cached


#: Segments drawn at a time by `_compute_coverage`: the writes of each chunk
#: are folded into the picture's weights before the next chunk is drawn, so
#: the temporaries stay bounded. Large enough that each numpy call works on
#: tens of thousands of values: the outlines are drawn on the pool while the
#: main thread builds the histogram, and calls on fewer values cost more in
#: handing the interpreter lock over than they gain in parallel.
_SEGMENT_CHUNK = 65536


#: Picture-sized scratch arrays kept between pictures, by role (see
#: `release_buffers`): each is all zeros (all -1 for ``since``) while it is
#: in the arena, except ``bins`` (histogram bins, no fill). Fresh memory
#: costs ~3 us a 4 kB page here, so the coverage weights of a 1.2-megapixel
#: picture (9.5 MB) cost ~5 ms of page faults each time they are allocated
#: anew; kept, only the pixels drawn are reset.
_ARENA: dict = {}
_ARENA_LOCK = threading.Lock()


def _borrow(role: str, n: int, dtype, fill) -> np.ndarray:
    """The arena's array for ``role`` (at least ``n`` items, all ``fill``;
    any values when ``fill`` is None), taken out of the arena so no other
    thread can use it meanwhile; a new one when the arena has none large
    enough. Give it back clean with `_give_back`."""
    with _ARENA_LOCK:
        arr = _ARENA.pop(role, None)
    if arr is None or arr.size < n or arr.dtype != dtype:
        arr = (np.empty(n, dtype) if fill is None else np.zeros(n, dtype) if fill == 0
               else np.full(n, fill, dtype))
    return arr


def _give_back(role: str, arr: np.ndarray) -> None:
    """Put a borrowed array back (every item must be its fill again); the
    larger one is kept when another thread gave one back meanwhile."""
    with _ARENA_LOCK:
        kept = _ARENA.get(role)
        if kept is None or kept.size < arr.size:
            _ARENA[role] = arr


def release_buffers() -> int:
    """
    Free the scratch arrays kept between pictures; returns the bytes freed.

    A picture needs picture-sized scratch arrays: every pixel's histogram
    bin (4 bytes a pixel) and, for outlines, the coverage weights (8 bytes
    a pixel; 9 more for black lines: the pixels drawn and their drawing
    order). They are kept for the next picture, which then skips the page
    faults of fresh memory; the memory kept is bounded by the largest
    picture drawn (about 14 MB for the 1.2-megapixel m17 mosaic with
    outlines, 25 MB once a black outline was drawn on it). The next picture
    allocates them again.

    Examples
    --------
    >>> img = np.zeros((40, 50, 3), np.uint8)
    >>> _ = burn_overlay(img, Overlay([np.array([[1.0, 1.0], [30.0, 20.0]])]))
    >>> release_buffers() > 0
    True
    >>> release_buffers()
    0
    """
    with _ARENA_LOCK:
        freed = sum(a.nbytes for a in _ARENA.values())
        _ARENA.clear()
    return freed


def retain_heap(mmap_threshold: int = 32 << 20, trim_threshold: int = 64 << 20
                ) -> bool:
    """
    Ask the C library's allocator (glibc) to keep freed memory for the next
    picture: a process-wide setting, for processes that render picture
    after picture (notebooks, widgets, benchmarks).

    By default glibc gives the top of its heap back to the system once more
    than about twice the largest recently freed block is free there, and a
    picture's temporaries (image, RGB, levels, outlines: ~23 MB for the m17
    mosaic) are often just above that: the next picture then page-faults
    the same memory in again (~4,000 faults, ~10 ms here, with no
    transparent huge pages). With this, blocks up to ``mmap_threshold``
    bytes come from the heap and up to ``trim_threshold`` free bytes stay
    in it. The process may keep that much more memory; the setting lasts
    until the process ends (or another call).

    Parameters
    ----------
    mmap_threshold, trim_threshold : int
        glibc's ``M_MMAP_THRESHOLD`` and ``M_TRIM_THRESHOLD`` (bytes).

    Returns
    -------
    bool
        True when applied; False where the C library is not glibc.

    Examples
    --------
    >>> isinstance(retain_heap(), bool)
    True
    """
    import ctypes
    import ctypes.util

    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    m_trim_threshold, m_mmap_threshold = -1, -3
    return bool(mallopt(m_mmap_threshold, int(mmap_threshold))
                and mallopt(m_trim_threshold, int(trim_threshold)))


def _compute_coverage(lines, ny, nx, width, densify, black):
    """`_coverage` without the cache (pixels left with brightness 0 are not
    listed). The picture-sized weights come from the arena (`_borrow`) and
    only their drawn pixels are reset afterwards."""
    seg = _segments(lines, ny, densify)
    if seg is None:
        return np.empty(0, np.intp), np.empty(0)
    if width == 1.0 and not black:
        plain = _plain_coverage(seg, ny, nx)
        if plain is not None:
            return plain
    n = ny * nx + 1                          # last slot: writes off the picture
    weight = _borrow("weight", n, np.float64, 0.0)
    touched = _borrow("touched", n, np.bool_, False)
    since = _borrow("since", n, np.float64, -1.0) if black else None
    hit, w = _fold_segments(seg, weight[:n], touched[:n],
                            None if since is None else since[:n], ny, nx, width, black)
    # given back only when clean (after an error they are dropped)
    _give_back("weight", weight)
    _give_back("touched", touched)
    if since is not None:
        _give_back("since", since)
    return hit, w


#: Margins of the canvas of `_plain_coverage` below and above the picture's
#: columns and rows: writes off the picture are clamped into them (and
#: dropped with them), so no write needs a bounds check.
_PAD_LO, _PAD_HI = 2, 3


def _plain_coverage(seg, ny: int, nx: int):
    """`_compute_coverage` of 1-pixel lines that are not black, when every
    write has a brightness above 0: the drawing order then does not matter
    (each pixel keeps its brightest write), so the writes are folded with
    one ``maximum`` per kind, on a canvas with margins (`_PAD_LO`,
    `_PAD_HI`) instead of checked one by one. None (and the canvas left
    clean) when some write has brightness <= 0: that write resets its pixel,
    an order-dependent rule left to `_fold_segments`."""
    wide = nx + _PAD_LO + _PAD_HI
    canvas = _borrow("weight", wide * (ny + _PAD_LO + _PAD_HI), np.float64, 0.0)
    flat = canvas[:wide * (ny + _PAD_LO + _PAD_HI)]
    # brightness > 0 (or NaN) as integers: same order, a faster maximum
    bits = flat.view(np.int64)
    inside = _inside(seg, ny, nx)
    ordered = True
    for c0 in range(0, seg[0].size, _SEGMENT_CHUNK):
        part = (s[c0:c0 + _SEGMENT_CHUNK] for s in seg)
        writes = _plain_writes(*part, ny, nx, clamp=not inside)
        if any((b <= 0).any() for _, b in writes):
            ordered = False
            break
        for lin, b in writes:                    # 1-d: ufunc.at's fast path
            np.maximum.at(bits, lin.reshape(-1), b.reshape(-1).view(np.int64))
    every = np.flatnonzero(bits != 0)            # NaN too (margin cells)
    w = flat[every]
    flat[every] = 0.0
    _give_back("weight", canvas)
    if not ordered:
        return None
    row, col = np.divmod(every, wide)
    row -= _PAD_HI                               # displayed row, column
    col -= _PAD_LO
    keep = (row >= 0) & (row < ny) & (col >= 0) & (col < nx) & (w > 0)
    return (row * nx + col)[keep], w[keep]


def _inside(seg, ny: int, nx: int) -> bool:
    """True when every segment end is finite and within a pixel of the
    picture: every write of a segment of non-zero length then lands on the
    canvas without clamping (the ends move by at most half a pixel along
    the line and one across)."""
    x1, y1, x2, y2 = seg
    with np.errstate(invalid="ignore"):
        return bool(min(x1.min(), x2.min()) >= -1.0 and max(x1.max(), x2.max()) <= nx
                    and min(y1.min(), y2.min()) >= -1.0
                    and max(y1.max(), y2.max()) <= ny)


def _plain_writes(x1, y1, x2, y2, ny: int, nx: int, clamp: bool = True) -> list:
    """The writes of `_aa_writes` (same arithmetic, same values) as
    ``(canvas index, brightness)`` array pairs for `_plain_coverage`: the
    two ends of each segment, both pixels across the line, without
    swapping the ends (the swap only names the far end, which mViewer
    skips on long steep segments), then the in-between steps of short ones.
    Pixels off the picture are clamped into the canvas's margins (no need
    when ``clamp`` is False: all ends within a pixel of the picture)."""
    wide = nx + _PAD_LO + _PAD_HI
    ends_x, ends_y = np.stack([x1, x2]), np.stack([y1, y2])     # (2, n)
    dx, dy = x2 - x1, y2 - y1
    hor = np.abs(dx) > np.abs(dy)
    a, b = np.where(hor, ends_x, ends_y), np.where(hor, ends_y, ends_x)
    with np.errstate(invalid="ignore", divide="ignore"):
        # (b2 - b1) / (a2 - a1) of the swapped ends is the same number
        grad = np.where(hor, dy, dx) / np.where(hor, dx, dy)
        clamp = clamp or bool(np.isnan(grad).any())     # a zero-length segment
        ae = np.floor(a + 0.5)
        be = b + grad * (ae - a)
    ib = np.floor(be)
    frac = be - ib
    short = (np.abs(ae[1] - ae[0]) < 5) & (np.abs(ib[1] - ib[0]) < 5)
    lin = _canvas_index(np.where(hor, ae, ib), np.where(hor, ib, ae), ny, nx, clamp)
    far = ~hor & ~short                          # mViewer draws no far end
    swap = a[0] > a[1]
    lin[0, far & swap] = 0                       # a margin cell
    lin[1, far & ~swap] = 0
    out = [(lin, 1.0 - frac), (lin + np.where(hor, -wide, 1), frac)]
    m = np.flatnonzero(short & (np.abs(ae[1] - ae[0]) >= 2))
    if m.size:
        lo = np.where(swap[m], 1, 0)
        ae1, ae2 = ae[lo, m], ae[1 - lo, m]
        bf = be[lo, m] + grad[m]
        for i, j, bb, _ in _aa_steps(ae1, ae2, bf, grad[m], np.ones(m.size, bool),
                                      hor[m], False):
            out.append((_canvas_index(i, j, ny, nx, clamp), bb))
    return out


def _canvas_index(i, j, ny: int, nx: int, clamp: bool = True) -> np.ndarray:
    """Canvas index (`_plain_coverage`) of drawing-frame pixels (i, j from
    the bottom row), clamped into the margins when off the picture (NaN:
    into the low margin); the pixel above or right of one is then still
    on the canvas. Without ``clamp`` the pixels must be within two pixels
    of the picture."""
    wide = nx + _PAD_LO + _PAD_HI
    if clamp:
        i = np.fmin(np.fmax(i, -_PAD_LO), nx + _PAD_HI - 2)
        j = np.fmin(np.fmax(j, -_PAD_LO), ny + _PAD_HI - 2)
    # displayed row (ny - 1 - j) + _PAD_HI, column i + _PAD_LO
    lin = (ny - 1 + _PAD_HI) * wide + _PAD_LO - j * wide
    lin += i
    return lin.astype(np.intp)


def _fold_segments(seg, weight, touched, since, ny, nx, width, black):
    """Draw segments chunk by chunk into clean ``weight`` / ``touched`` /
    ``since`` arrays (``since`` None unless ``black``); returns the drawn
    pixels and their weights, and leaves the arrays clean again."""
    size = ny * nx
    count = 0
    for c0 in range(0, seg[0].size, _SEGMENT_CHUNK):
        part = [s[c0:c0 + _SEGMENT_CHUNK] for s in seg]
        if width == 1.0:
            i, j, b, order = _aa_writes(*part, with_order=black)
            if not black and (b <= 0).any():     # resets need the order
                i, j, b, order = _aa_writes(*part)
            if order is not None:
                order += c0 * 64.0           # `_aa_writes` numbers from 0
        else:
            i, j, b = _thick_writes(*part, width)
            order = np.arange(count, count + i.size, dtype=float)
            count += i.size
        lin = _flat_index(i, j, ny, nx)
        touched[lin] = True
        since = _fold_writes(weight, since, lin, b, order, black)
    every = np.flatnonzero(touched[:size + 1])
    w = weight[every]
    weight[every] = 0.0
    touched[every] = False
    if since is not None:
        since[every] = -1.0
    drawn = (w > 0) & (every < size)
    return every[drawn], w[drawn]


def _flat_index(i, j, ny: int, nx: int) -> np.ndarray:
    """Flat picture index of drawing-frame pixels (i, j from the bottom row);
    ``ny * nx`` for writes off the picture (or NaN)."""
    with np.errstate(invalid="ignore"):
        ok = (i >= 0) & (i < nx) & (j >= 0) & (j < ny)      # False at NaN
        lin = (ny - 1) - j
        lin *= nx
        lin += i
    return np.where(ok, lin, ny * nx).astype(np.intp)


def _fold_writes(weight, since, lin, b, order, black: bool):
    """Fold a chunk of writes (in drawing order, after all earlier chunks)
    into the weights, by mViewer's rules: a black line's write replaces the
    pixel; otherwise a zero-brightness write resets it and the brightest
    later write stays. ``since`` is the order of each pixel's last write
    (black) or last zero write (None until needed); returns it."""
    if black:
        if since is None:
            since = np.full(weight.size, -1.0)
        np.maximum.at(since, lin, order)
        keep = order == since[lin]
        weight[lin[keep]] = b[keep]
        return since
    zb = b <= 0
    if zb.any():
        if since is None:
            since = np.full(weight.size, -1.0)
        np.maximum.at(since, lin[zb], order[zb])
        weight[lin[zb]] = 0.0                # earlier chunks' writes are reset
        pos = ~zb & (order > since[lin])
        lin, b = lin[pos], b[pos]
    with np.errstate(invalid="ignore"):      # NaN: off the picture
        np.maximum.at(weight, lin, b)
    return since


# --------------------------------------------------------------------------
# rendering


def _as_overlays(outlines) -> list[Overlay]:
    out = []
    for item in outlines or ():
        if isinstance(item, Overlay):
            out.append(item)
        elif isinstance(item, dict):
            out.append(Overlay(**item))
        elif isinstance(item, np.ndarray) and item.ndim == 2:
            out.append(Overlay([item]))
        else:
            out.append(Overlay(list(item)))
    return out


def render_rgb(data, *, vmin="-2s", vmax="max", mode="gaussian-log", ct: int = 0,
               gray: bool = True, outlines=(), header=None, orient=None,
               saturate: int = 0, stretch: Stretch | None = None,
               noflip: bool = False, densify: bool = True) -> np.ndarray:
    """
    Render an image as mViewer does: ``(ny, nx, 3) uint8``, displayed
    orientation (row 0 at the top).

    Parameters
    ----------
    data : array_like
        The image in FITS row order (row 0 = first FITS row).
    vmin, vmax, mode
        Range strings and stretch (`diffview.stretch.compute_stretch`).
    ct : int
        Colour table 0..12 (`diffview.colortables.color_table`).
    gray : bool
        Grayscale/pseudo-colour picture (the only mode implemented; kept for
        mViewer's ``-gray``).
    outlines : sequence
        `Overlay` objects, or (N, 2) arrays / lists of them (yellow, 1 px),
        in displayed 0-based (x, y).
    header : astropy.io.fits.Header, optional
        Gives the orientation (CDELT signs); without it the picture is
        flipped vertically (north up for the usual CDELT2 > 0).
    orient : Orientation, optional
        Explicit orientation (overrides ``header``).
    saturate : int
        Grey level of blank pixels (written as that grey, not through the
        colour table, as MontagePy does).
    stretch : Stretch, optional
        A precomputed stretch (then vmin/vmax/mode are ignored).
    noflip : bool
        mViewer's ``-noflip``.
    densify : bool
        See `burn_overlay`.

    Examples
    --------
    >>> img = np.array([[0.0, 1.0], [2.0, 3.0]])
    >>> render_rgb(img, vmin="min", vmax="max", mode="linear")[:, :, 0].tolist()
    [[170, 255], [0, 85]]
    """
    if not gray:
        raise InputError("only grayscale / pseudo-colour pictures are implemented "
                         "(-gray); -red/-green/-blue are not")
    a = np.asarray(data, dtype=float)
    if stretch is None:
        stretch = compute_stretch(a, vmin, vmax, mode, saturate=saturate)
    if orient is None:
        if header is not None:
            orient = orientation(header, noflip=noflip)
        else:
            orient = Orientation(False, not noflip, a.shape[1], a.shape[0])
    plans = _burn_plans(_as_overlays(outlines), a.shape[0], a.shape[1], densify)
    return _render(a, stretch, orient, plans, ct, saturate)[0]


def _burn_plans(overlays, ny: int, nx: int, densify: bool) -> list:
    """`_burn_plan` of each overlay, in order."""
    return [_burn_plan(ov, ny, nx, densify) for ov in overlays]


def _render(a, stretch: Stretch, orient: Orientation, plans, ct: int,
            saturate: int, png: bool = False):
    """`render_rgb` of resolved arguments (overlays as `_burn_plans`, or a
    `_Job` drawing them), in blocks of rows; with ``png`` each finished block
    is deflated by the pool while the next one is drawn. While a `_Job` is
    still drawing the overlays, the colours of the next blocks are looked up
    meanwhile. Returns (rgb, PNG bytes or None).

    The PNG is 8-bit grey when the colour table, the blank grey and every
    overlay colour are grey (the picture then is), else RGB."""
    ny, nx = a.shape
    table = np.empty((257, 3), dtype=np.uint8)
    table[:256] = color_table(ct)
    table[256] = int(saturate)
    buf = np.empty(ny * nx * 3 + 1, dtype=np.uint8)     # a spare byte: _put_rgb
    rgb = buf[:-1].reshape(ny, nx, 3)
    blocks = _row_blocks(ny, _PngStream.rows_per_block(ny, nx * 3) if png else ny)
    filled = 0
    if isinstance(plans, _Job):
        while filled < len(blocks) and not plans.done():
            _fill_rows(buf, a, stretch, orient, table, *blocks[filled])
            filled += 1
        plans = plans.result()
    stream = None
    if png:
        grey = _grey_rows(table) and all(_grey_rows(p.color) for p in plans)
        stream = (_PngStream(rgb[..., 0], 1) if grey
                  else _PngStream(rgb.reshape(ny, -1), 3))
    for k, (r0, r1) in enumerate(blocks):
        if k >= filled:
            _fill_rows(buf, a, stretch, orient, table, r0, r1)
        for plan in plans:
            _blend_rows(rgb, plan, r0, r1)
        if stream is not None:
            stream.add(r0, r1)
    return rgb, (stream.png() if stream is not None else None)


def _fill_rows(buf, a, stretch: Stretch, orient: Orientation, table, r0: int,
               r1: int) -> None:
    """Displayed rows ``r0:r1`` of the picture without overlays, in ``buf``
    (the picture's bytes and a spare one): levels (256 for blank pixels)
    looked up in the colour table plus a blank entry (blank pixels are
    written as grey `saturate`, not through the table).

    (Looking up each histogram bin's colour word instead of its level was
    tried: its 800 kB table costs more in cache misses than the second
    lookup it saves.)"""
    ny = a.shape[0]
    rows = (ny - r1, ny - r0) if orient.flip_y else (r0, r1)
    idx = orient.apply(stretch.levels(a, blank=256, rows=rows))
    _put_rgb(buf, r0 * a.shape[1], table, idx)


def _put_rgb(buf: np.ndarray, start: int, table: np.ndarray, idx: np.ndarray
             ) -> None:
    """Pixels ``start...`` of the RGB bytes ``buf`` = ``table[idx]`` (``idx``
    1-d, or 2-d rows of the picture; any strides).

    Each table row is taken as a 4-byte word (R, G, B, 0) written 3 bytes
    after the last one (`_word_view`), twice as fast as a 3-byte item.
    Where numpy does not write them in order (checked once,
    `_words_in_order`) the items are taken 3 bytes at a time."""
    if not _words_in_order():
        rows = buf[3 * start:3 * (start + idx.size)].view(_RGB).reshape(idx.shape)
        table.view(_RGB).reshape(-1).take(idx, out=rows, mode="clip")
        return
    out = _word_view(buf, start, idx.shape)
    _table_words(table).take(idx, out=out, mode="clip")


def _table_words(table: np.ndarray) -> np.ndarray:
    """The rows of an (n, 3) ``uint8`` colour table as 4-byte words
    (R, G, B, 0), one ``uint32`` each (same bytes on any byte order)."""
    words = np.zeros((len(table), 4), dtype=np.uint8)
    words[:, :3] = table
    return words.view(np.uint32).reshape(-1)


def _word_view(buf: np.ndarray, start: int, shape) -> np.ndarray:
    """``uint32`` words at pixels ``start...`` of the RGB bytes ``buf``, one
    per pixel, 3 bytes apart (rows of ``shape[-1]`` pixels).

    Written in increasing order, each word's fourth byte is overwritten by
    the next pixel's red; the last one lands on the byte after the pixels
    (the next pixel, drawn later, or ``buf``'s spare byte, which must
    exist)."""
    strides = (3 * shape[-1], 3)[-len(shape):]
    return np.ndarray(shape, dtype=np.uint32, buffer=buf, offset=3 * start,
                      strides=strides)


_IN_ORDER: list = []


def _words_in_order() -> bool:
    """True when numpy's ``take`` into 3-byte-strided words writes them in
    increasing order (`_put_rgb`), tried once on a small picture drawn as
    pictures are: rows of levels taken upside down."""
    if not _IN_ORDER:
        rng = np.random.default_rng(1)
        table = rng.integers(0, 256, (257, 3), dtype=np.uint8)
        idx = rng.integers(0, 257, (70, 1000)).astype(np.uint16)[::-1]
        buf = np.zeros(3 * idx.size + 1, dtype=np.uint8)
        _table_words(table).take(idx, out=_word_view(buf, 0, idx.shape))
        _IN_ORDER.append(bool(np.array_equal(buf[:-1].reshape(idx.shape + (3,)),
                                             table[idx])))
    return _IN_ORDER[0]


_RGB = np.dtype((np.void, 3))


def _row_blocks(ny: int, step: int):
    """(r0, r1) row ranges of at most ``step`` rows covering ``0..ny``."""
    step = max(1, int(step))
    return [(r0, min(ny, r0 + step)) for r0 in range(0, ny, step)]


def _grey_rows(rgb: np.ndarray) -> bool:
    """True when the three channels of every row of a (..., 3) array agree."""
    return bool((rgb[..., 0] == rgb[..., 1]).all()
                and (rgb[..., 1] == rgb[..., 2]).all())


_POOL = None


def _pool():
    """A lazily started two-thread pool kept for the whole process (starting
    threads for every picture cost more than the parallel work saved): it
    deflates PNG blocks and draws outlines while the histogram is built."""
    global _POOL
    if _POOL is None:
        from concurrent.futures import ThreadPoolExecutor

        _POOL = ThreadPoolExecutor(max_workers=2, thread_name_prefix="diffview-render")
    return _POOL


def _forget_pool():
    """A forked child has none of its parent's threads: start a new pool."""
    global _POOL
    _POOL = None


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_pool)


class _Job:
    """``fn(*args)``, started on the process's pool when ``background``
    (else run by `result`). `result` waits for it, or runs it in the calling
    thread when the pool has not started it yet, so nothing ever waits on a
    pool that is busy elsewhere; errors are raised by `result`."""

    def __init__(self, fn, *args, background: bool = True):
        self.fn, self.args = fn, args
        self.future = _pool().submit(fn, *args) if background else None

    def done(self) -> bool:
        """True when `result` would not wait for the pool."""
        return self.future is None or self.future.done()

    def result(self):
        if self.future is None or self.future.cancel():
            return self.fn(*self.args)
        return self.future.result()


class _PictureBins:
    """Context for one picture's `histogram` with every pixel's bin kept
    (``bins_out``) in the arena's ``bins`` array, so the grey levels are one
    table lookup instead of binning the pixels again; the histogram forgets
    the bins before the array goes back to the arena."""

    def __init__(self, data: np.ndarray):
        self.data, self.buf, self.hist = data, None, None

    def __enter__(self):
        return self

    def histogram(self):
        self.buf = _borrow("bins", self.data.size, np.int32, None)
        self.hist = histogram(self.data, bins_out=self.buf)
        return self.hist

    def __exit__(self, *exc):
        if self.hist is not None:
            self.hist.drop_bins()
        if self.buf is not None:
            _give_back("bins", self.buf)


def _picture(data, stretch_of, orient: Orientation, pending: _Job | None, ct: int,
             saturate: int, png: bool):
    """Draw ``data``: its histogram, the stretch ``stretch_of(histogram)``,
    then `_render` with the overlays' burn plans from ``pending`` (a `_Job`
    started before, so the outlines are drawn while the histogram is built
    and the picture's colours are looked up; its errors come first, as when
    the outlines were drawn first). Returns (rgb, PNG bytes or None,
    stretch)."""
    with _PictureBins(data) as bins:
        try:
            st = stretch_of(bins.histogram())
        except BaseException:
            if pending is not None:
                pending.result()
            raise
        rgb, payload = _render(data, st, orient, [] if pending is None else pending,
                               ct, saturate, png=png)
    return rgb, payload, st


#: Raw bytes per deflate block: small enough for several blocks per picture
#: (the pool compresses finished rows while later ones are drawn), large
#: enough that the per-block cost and the lost history do not show.
_BLOCK_BYTES = 1 << 19

#: Pictures below this many raw bytes are deflated in one block, inline.
_PARALLEL_BYTES = 1 << 20


def _png_bytes(img: np.ndarray, nblock: int | None = None) -> bytes:
    """
    A PNG (8-bit gray or RGB, every row with the "up" filter) of a finished
    picture, deflated in row blocks (`_PngStream`).

    The "up" filter costs one subtraction and makes the fastest deflate
    level both quicker and about 15 % smaller on mViewer pictures.

    Examples
    --------
    >>> _png_bytes(np.zeros((2, 2), np.uint8))[:8]
    b'\\x89PNG\\r\\n\\x1a\\n'
    """
    ny = img.shape[0]
    rows = img.reshape(ny, -1)
    stream = _PngStream(rows, 1 if img.ndim == 2 else 3)
    step = stream.block_rows if nblock is None else -(-ny // max(1, int(nblock)))
    for r0, r1 in _row_blocks(ny, step):
        stream.add(r0, r1)
    return stream.png()


class _PngStream:
    """
    The PNG of a picture whose rows become final block by block.

    ``rows`` is the picture as (ny, bytes per row) ``uint8`` (a view of the
    RGB array, ``channels`` 3, or of one channel for a grey picture,
    ``channels`` 1). Each `add`-ed block is
    filtered ("up") and deflated with a sync flush, as one piece of a single
    zlib stream, by the process's pool (or inline for small pictures); its
    Adler-32 is computed with it and the pieces' checksums are combined.
    `png` waits for the pieces, doing itself any the pool has not started.
    """

    def __init__(self, rows: np.ndarray, channels: int):
        self.rows = rows
        self.channels = channels
        ny, nbytes = rows.shape
        self.parallel = ny * nbytes >= _PARALLEL_BYTES
        self.block_rows = self.rows_per_block(ny, nbytes)
        self.jobs = []

    @staticmethod
    def rows_per_block(ny: int, nbytes: int) -> int:
        """Rows per deflated block of a picture of ``ny`` rows of ``nbytes``
        (all rows in one block below `_PARALLEL_BYTES`)."""
        if ny * nbytes < _PARALLEL_BYTES:
            return ny
        return max(1, _BLOCK_BYTES // max(1, nbytes))

    def add(self, r0: int, r1: int) -> None:
        """Rows ``r0:r1`` (and all above) are final: deflate them."""
        self.jobs.append(_Job(_deflate_rows, self.rows, r0, r1,
                              r1 == self.rows.shape[0], background=self.parallel))

    def png(self) -> bytes:
        """The whole PNG file's bytes (all rows must have been added)."""
        import struct
        import zlib

        parts, adler = [], 1
        for job in self.jobs:
            body, a, n = job.result()
            parts.append(body)
            adler = _adler32_combine(adler, a, n)
        stream = b"\x78\x01" + b"".join(parts) + struct.pack(">I", adler)

        def chunk(tag: bytes, payload: bytes) -> bytes:
            crc = zlib.crc32(payload, zlib.crc32(tag)) & 0xFFFFFFFF
            return (struct.pack(">I", len(payload)) + tag + payload
                    + struct.pack(">I", crc))

        ny, nbytes = self.rows.shape
        colour = 0 if self.channels == 1 else 2
        ihdr = struct.pack(">IIBBBBB", nbytes // self.channels, ny, 8, colour, 0, 0, 0)
        return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", stream)
                + chunk(b"IEND", b""))


_DEFLATER = None


def _deflater():
    """The deflate implementation for PNGs: ISA-L's (the optional ``isal``
    package: at its level 1 about 3.5 times faster than zlib's level 1, for
    a few per cent more bytes) when it is installed, else the standard
    library's zlib. Both take the same calls and write standard deflate."""
    global _DEFLATER
    if _DEFLATER is None:
        try:
            from isal import isal_zlib as mod
        except ImportError:
            import zlib as mod
        _DEFLATER = mod
    return _DEFLATER


def _deflate_rows(rows: np.ndarray, r0: int, r1: int, last: bool):
    """Rows ``r0:r1`` with the "up" filter (the row above row 0 is zero),
    raw-deflated at the fastest level (sync flush, or the final block):
    (bytes, Adler-32 of the filtered bytes, their number)."""
    zlib = _deflater()
    raw = np.empty((r1 - r0, 1 + rows.shape[1]), dtype=np.uint8)
    raw[:, 0] = 2                                  # "up": byte - byte above
    if r0 == 0:
        raw[0, 1:] = rows[0]
        np.subtract(rows[1:r1], rows[:r1 - 1], out=raw[1:, 1:])
    else:
        np.subtract(rows[r0:r1], rows[r0 - 1:r1 - 1], out=raw[:, 1:])
    data = raw.reshape(-1)
    c = zlib.compressobj(1, zlib.DEFLATED, -15)
    body = c.compress(data) + c.flush(zlib.Z_FINISH if last else zlib.Z_SYNC_FLUSH)
    return body, zlib.adler32(data), data.size


def _adler32_combine(adler1: int, adler2: int, len2: int) -> int:
    """Adler-32 of two byte strings joined, from theirs (zlib's
    ``adler32_combine``).

    Examples
    --------
    >>> import zlib
    >>> a, b = b"mosaic", b"difference"
    >>> both = _adler32_combine(zlib.adler32(a), zlib.adler32(b), len(b))
    >>> both == zlib.adler32(a + b)
    True
    """
    base = 65521
    rem = len2 % base
    sum1 = adler1 & 0xFFFF
    sum2 = (rem * sum1) % base
    sum1 = (sum1 + (adler2 & 0xFFFF) + base - 1) % base
    sum2 = (sum2 + (adler1 >> 16) + (adler2 >> 16) + base - rem) % base
    return sum1 | (sum2 << 16)


def _is_grey(rgb: np.ndarray, rows: int = 64) -> bool:
    """True when all three channels are equal, checked in blocks of rows so
    that a coloured picture is usually told after its first block."""
    for start in range(0, rgb.shape[0], rows):
        block = rgb[start:start + rows]
        if not ((block[..., 0] == block[..., 1]).all()
                and (block[..., 1] == block[..., 2]).all()):
            return False
    return True


def write_png(rgb: np.ndarray, path) -> str:
    """
    Write an RGB picture as PNG (8-bit gray when all channels are equal,
    as mViewer's encoder chooses), atomically.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "x.png"
    >>> _ = write_png(np.zeros((2, 3, 3), np.uint8), p)
    >>> from PIL import Image
    >>> with Image.open(p) as im:
    ...     im.mode, im.size
    ('L', (3, 2))
    """
    rgb = np.ascontiguousarray(rgb, dtype=np.uint8)
    img = np.ascontiguousarray(rgb[..., 0]) if rgb.ndim == 3 and _is_grey(rgb) else rgb
    return _write_file(_png_bytes(img), path)


def _write_file(payload: bytes, path) -> str:
    """Write bytes to ``path`` atomically; returns the path as a string."""
    path = str(path)
    with atomic_path(path) as tmp, open(tmp, "wb") as fh:
        fh.write(payload)
    return path


def render_png(fits_path_or_array, out_png, **kw) -> ViewResult:
    """
    Render a FITS file (or array) to a PNG; keywords as `view`.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "x.png"
    >>> r = render_png(np.arange(12.0).reshape(3, 4), p, mode="linear")
    >>> r.out == str(p), r.rgb.shape
    (True, (3, 4, 3))
    """
    return view(fits_path_or_array, out_png, **kw)


def view(image, out_png=None, *, vmin="-2s", vmax="max", mode="gaussian-log",
         ct: int = 0, imginfo=None, rows=None, color="yellow", linewidth=1.0,
         highlight=None, highlight_color="black", box=None, box_color="red",
         outlines=(), max_size: int | None = None, saturate: int = 0,
         noflip: bool = False, hdu: int = 0, symmetric=None) -> ViewResult:
    """
    Render an image the mViewer way, with optional footprint outlines.

    The Python form of ``mViewer -color yellow -imginfo images.tbl -ct 1 -gray
    mosaic.fits min max gaussian-log -out out.png``:
    ``view("mosaic.fits", "out.png", vmin="min", vmax="max", ct=1,
    imginfo="images.tbl", color="yellow")``.

    Parameters
    ----------
    image : path, array or (array, header)
        The picture's data.
    out_png : path, optional
        Write the PNG there.
    vmin, vmax, mode, ct, saturate, noflip
        As `render_rgb`.
    imginfo : path or Table, optional
        Image table whose footprints are outlined in ``color``.
    rows : sequence of int, optional
        Only these rows of ``imginfo`` (default all).
    highlight : sequence of int, optional
        Rows of ``imginfo`` drawn again on top in ``highlight_color`` (the
        pair under study).
    box : ((jmin, jmax), (imin, imax)), optional
        An overlap box in the image's pixels, drawn in ``box_color``.
    outlines : sequence of Overlay
        Further overlays.
    linewidth : float
        Line width of the outlines.
    max_size : int, optional
        Block-average the image first so its larger side is at most this
        (outlines are scaled to match).
    hdu : int
        FITS HDU to read.
    symmetric : str, optional
        Use a range symmetric about zero (`diffview.stretch.symmetric_interval`
        with this limit, e.g. ``'99.5%'``) instead of vmin/vmax.

    Returns
    -------
    ViewResult

    Raises
    ------
    InputError
        Missing or unreadable file, no finite pixel, bad range/stretch.

    Examples
    --------
    >>> r = view(np.full((4, 4), 3.0))
    >>> int(r.rgb.max()), r.message.startswith("Image is constant")
    (0, True)
    """
    from diffview.render.stretch import symmetric_interval

    t0 = time.perf_counter()
    data, header = load_image(image, hdu)
    factor = 1
    if max_size is not None:
        factor = max(1, math.ceil(max(data.shape) / max(1, int(max_size))))
        if factor > 1:
            data = block_average(data, factor)
    if symmetric is not None:
        vmin, vmax = symmetric_interval(data, symmetric)
    if header is not None:
        orient = orientation(header, noflip=noflip)
        orient = Orientation(orient.flip_x, orient.flip_y, data.shape[1], data.shape[0])
    else:
        orient = Orientation(False, not noflip, data.shape[1], data.shape[0])
    if (imginfo is not None or box is not None) and header is None:
        raise InputError("outlines need the image's WCS: give a FITS file or "
                         "(array, header)")
    pending = None
    if imginfo is not None or box is not None or outlines:
        full = orientation(header, noflip=noflip) if header is not None else None
        pending = _Job(_view_plans, imginfo, rows, highlight, box, header, full, factor,
                       (color, highlight_color, box_color, linewidth), outlines,
                       data.shape)
    rgb, png, st = _picture(
        data, lambda h: compute_stretch(data, vmin, vmax, mode, saturate=saturate,
                                        hist=h),
        orient, pending, ct, saturate, png=out_png is not None)
    out = _write_file(png, out_png) if out_png is not None else None
    info = {"nx": rgb.shape[1], "ny": rgb.shape[0], "flipX": int(orient.flip_x),
            "flipY": int(orient.flip_y), "colortable": int(ct), "factor": factor,
            **st.info()}
    return ViewResult(rgb, st, orient, out, time.perf_counter() - t0, info)


def _view_plans(imginfo, rows, highlight, box, header, full, factor, styles,
                outlines, shape) -> list:
    """The burn plans of `view`'s overlays (`_view_overlays`) on a picture
    of ``shape``."""
    overlays = _view_overlays(imginfo, rows, highlight, box, header, full, factor,
                              styles, outlines)
    return _burn_plans(overlays, *shape, True)


def _view_overlays(imginfo, rows, highlight, box, header, full, factor, styles,
                   outlines) -> list[Overlay]:
    """`view`'s overlays: the table's outlines, the highlighted rows, the
    overlap box (all rescaled to a block-averaged picture) and the rest."""
    color, highlight_color, box_color, linewidth = styles
    overlays = []
    if imginfo is not None:
        overlays.append(_table_overlay(imginfo, header, rows, full, factor, color,
                                       linewidth))
        if highlight is not None:
            overlays.append(_table_overlay(imginfo, header, list(highlight), full,
                                           factor, highlight_color, linewidth))
    if box is not None:
        b = box_outline(box, header=header)
        overlays.append(Overlay(_rescale([b], full, factor), box_color, linewidth))
    return overlays + _as_overlays(outlines)


def _table_overlay(table, header, rows, full: Orientation, factor: int, color,
                   linewidth) -> Overlay:
    """`view`'s outlines of rows of an image table, known by what they are
    made of when the table is a file (their pixels are then found again
    without hashing their points)."""
    made_of = _outline_key(table, header, rows, True)
    lines = _rescale(image_outlines(table, header, rows=rows), full, factor)
    source = None if made_of is None else ("view", made_of, tuple(full), factor)
    return Overlay(lines, color, linewidth, _source=source)


def _rescale(lines, full: Orientation, factor: int):
    """Displayed coordinates of the full image -> of its block average."""
    if factor == 1:
        return lines
    # the block average keeps FITS order; go back to FITS, scale, re-orient
    out = []
    my, mx = -(-full.ny // factor), -(-full.nx // factor)
    small = Orientation(full.flip_x, full.flip_y, mx, my)
    for p in lines:
        x0, y0 = full.to_fits(p[:, 0], p[:, 1])
        xs, ys = (x0 + 0.5) / factor - 0.5, (y0 + 0.5) / factor - 0.5
        out.append(np.column_stack(small.to_display(xs, ys)))
    return out
