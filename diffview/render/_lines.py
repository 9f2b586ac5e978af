"""
mViewer's line drawing as pixel weights.

Which pixels a set of polylines leaves drawn, and how bright.

One-pixel lines follow ``mViewer_smooth_line`` write for write (two pixels
across the line, weights ``1 - frac`` and ``frac``; ``docs/montage-semantics.md``
§8.8), thicker lines are drawn by area coverage. The writes are folded into
one weight per pixel by mViewer's rules (the brightest write stays; a
zero-brightness write resets its pixel; a black line's last write wins).
"""

from __future__ import annotations

import math

import numpy as np

from diffview.errors import InputError

from ._arena import _borrow, _give_back

#: Thick lines: at most this many candidate pixels in all (memory of the
#: result) and per batch of segments (memory of the temporaries).
_MAX_THICK_CELLS = 50_000_000
_THICK_BATCH_CELLS = 1 << 18

__all__: list[str] = []


def _aa_writes(x1, y1, x2, y2, with_order: bool = True):
    """
    Run mViewer_smooth_line for many segments at once, in mViewer's drawing frame.

    Returns (i, j, brightness, order) of every setPixel call (i, j
    integers as float; NaN or out-of-range for writes that do not land;
    order None unless ``with_order``).

    Each segment is drawn along its running axis (x when it is more
    horizontal than vertical, else y): two pixels across the line at each
    end (the far end of a "vertical" segment only when it is short, as
    mViewer), and for short segments up to four steps in between.
    """
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
    """
    Yield the in-between steps of short segments (`_aa_writes`).

    At running positions ``ae1 + k`` (k = 1..4, before ``ae2``), two pixels
    across.
    """
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
    """
    Compute the area coverage of thick lines, as mViewer's.

    3x3 sub-samples of capsules of ``width`` around each segment.
    """
    x1, y1, x2, y2 = (np.asarray(v, float) for v in (x1, y1, x2, y2))
    r = width / 2.0
    k = int(math.ceil(r)) + 2
    if x1.size * (2 * k + 2) ** 2 > _MAX_THICK_CELLS:
        raise InputError(
            f"line width {width:g} is too large to draw {x1.size} outline "
            f"segments (at most {_MAX_THICK_CELLS} pixels in all)")
    offs = np.arange(-k, k + 2)
    sub = (np.arange(3) + 0.5) / 3.0 - 0.5
    out_i, out_j, out_b = [], [], []
    batch = max(1, min(4096, _THICK_BATCH_CELLS // (2 * k + 2) ** 2))
    for start in range(0, x1.size, batch):
        sl = slice(start, start + batch)
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
    """
    Split segments longer than ``longest`` pixels into ``step`` pieces.

    mViewer's drawer only draws the end points of long segments.
    """
    d = np.hypot(*np.diff(p, axis=0).T)
    if not (d >= longest).any():
        return p
    parts = [p[:1]]
    for k in range(len(d)):
        n = int(np.ceil(d[k] / step)) if d[k] >= longest else 1
        t = np.arange(1, n + 1)[:, None] / n
        parts.append(p[k] + t * (p[k + 1] - p[k]))
    return np.concatenate(parts)


def _segments(lines, ny, densify=True, flip=True):
    """
    Turn polylines into segment end points in mViewer's drawing frame.

    Column i, row j counted from the bottom row: displayed (x, y) are turned
    (``flip``); lines given in the drawing frame (``flip=False``) are taken
    as they are.
    """
    xs1, ys1, xs2, ys2 = [], [], [], []
    for line in lines:
        p = np.asarray(line, float)
        if p.ndim != 2 or p.shape[0] < 2:
            continue
        if densify:
            p = _densify(p)
        j = (ny - 1) - p[:, 1] if flip else p[:, 1]
        xs1.append(p[:-1, 0])
        ys1.append(j[:-1])
        xs2.append(p[1:, 0])
        ys2.append(j[1:])
    if not xs1:
        return None
    return (np.concatenate(xs1), np.concatenate(ys1), np.concatenate(xs2),
            np.concatenate(ys2))

#: Segments drawn at a time by `_compute_coverage`: the writes of each chunk
#: are folded into the picture's weights before the next chunk is drawn, so
#: the temporaries stay bounded. Large enough that each numpy call works on
#: tens of thousands of values: the outlines are drawn on the pool while the
#: main thread builds the histogram, and calls on fewer values cost more in
#: handing the interpreter lock over than they gain in parallel.
_SEGMENT_CHUNK = 65536

#: Bits of a write's drawing order in its combined key (`_keys`); above them,
#: mViewer's truncated brightness of the write.
_ORDER_BITS = 40


def _keys(b, order, mag: int) -> np.ndarray:
    """
    Rank writes as mViewer's ``setPixel`` keeps them.

    A write replaces a pixel's unless ``int(mag * weight) > int(mag *
    brightness)`` (``mag``: the sum of the colour's three 0..255 channels):
    of a pixel's writes the last one of the highest truncated brightness stays
    (for black, whose ``mag`` is 0, the last one). The key is that truncated
    brightness above the write's drawing order.
    """
    with np.errstate(invalid="ignore"):
        k = (mag * np.nan_to_num(b, nan=0.0)).astype(np.int64)
    k <<= _ORDER_BITS
    k |= np.asarray(order, np.int64)
    return k


def _compute_coverage(lines, ny, nx, width, densify, mag, flip=True):
    """
    Compute `_coverage` without the cache.

    ``mag`` is the colour's magnitude (`_keys`; 0 for black). Pixels left
    with brightness 0 are not listed. The picture-sized arrays come from the
    arena (`_borrow`) and only their drawn pixels are reset afterwards.
    """
    seg = _segments(lines, ny, densify, flip)
    if seg is None:
        return np.empty(0, np.intp), np.empty(0)
    if width == 1.0:
        plain = _plain_coverage(seg, ny, nx, int(mag))
        if plain is not None:
            return plain
    n = ny * nx + 1                          # last slot: writes off the picture
    weight = _borrow("weight", n, np.float64, 0.0)
    touched = _borrow("touched", n, np.bool_, False)
    best = _borrow("best", n, np.int64, -1)
    hit, w = _fold_segments(seg, weight[:n], touched[:n], best[:n], ny, nx, width,
                            int(mag))
    # given back only when clean (after an error they are dropped)
    _give_back("weight", weight)
    _give_back("touched", touched)
    _give_back("best", best)
    return hit, w


#: Margins of the canvas of `_plain_coverage` below and above the picture's
#: columns and rows: writes off the picture are clamped into them (and
#: dropped with them), so no write needs a bounds check.
_PAD_LO, _PAD_HI = 2, 3


def _plain_coverage(seg, ny: int, nx: int, mag: int):
    """
    Compute `_compute_coverage` of 1-pixel lines, if possible.

    When every write has a brightness above 0 (no write resets its pixel),
    each pixel keeps its best write by `_keys`, folded with one ``maximum``
    per kind of write on a canvas with margins (`_PAD_LO`, `_PAD_HI`)
    instead of checked one by one. None (and the canvas left clean) when some
    write has brightness <= 0: that write resets its pixel, an order-dependent
    rule left to `_fold_segments`.
    """
    wide = nx + _PAD_LO + _PAD_HI
    size = wide * (ny + _PAD_LO + _PAD_HI)
    keep_best = _borrow("best", size, np.int64, -1)
    best = keep_best[:size]
    canvas = _borrow("weight", size, np.float64, 0.0)
    flat = canvas[:size]
    inside = _inside(seg, ny, nx)
    ordered = True
    for c0 in range(0, seg[0].size, _SEGMENT_CHUNK):
        part = (s[c0:c0 + _SEGMENT_CHUNK] for s in seg)
        writes = _plain_writes(*part, ny, nx, clamp=not inside, first=c0)
        if any((b <= 0).any() for _, b, _ in writes):
            ordered = False
            break
        keys = [_keys(b.reshape(-1), o.reshape(-1), mag) for _, b, o in writes]
        for (lin, _, _), k in zip(writes, keys, strict=True):   # 1-d: fast path
            np.maximum.at(best, lin.reshape(-1), k)
        for (lin, b, _), k in zip(writes, keys, strict=True):
            lin = lin.reshape(-1)
            won = best[lin] == k
            flat[lin[won]] = b.reshape(-1)[won]
    every = np.flatnonzero(best != -1)
    w = flat[every]
    flat[every] = 0.0
    best[every] = -1
    _give_back("weight", canvas)
    _give_back("best", keep_best)
    if not ordered:
        return None
    row, col = np.divmod(every, wide)
    row -= _PAD_HI                               # displayed row, column
    col -= _PAD_LO
    keep = (row >= 0) & (row < ny) & (col >= 0) & (col < nx) & (w > 0)
    return (row * nx + col)[keep], w[keep]


def _inside(seg, ny: int, nx: int) -> bool:
    """
    Tell whether every segment end is finite and within a pixel of the picture.

    Every write of a segment of non-zero length then lands on the
    canvas without clamping (the ends move by at most half a pixel along
    the line and one across).
    """
    x1, y1, x2, y2 = seg
    with np.errstate(invalid="ignore"):
        return bool(min(x1.min(), x2.min()) >= -1.0 and max(x1.max(), x2.max()) <= nx
                    and min(y1.min(), y2.min()) >= -1.0
                    and max(y1.max(), y2.max()) <= ny)


def _plain_writes(x1, y1, x2, y2, ny: int, nx: int, clamp: bool = True,
                  first: int = 0) -> list:
    """
    Compute the writes of `_aa_writes` as canvas index, brightness and order.

    The same arithmetic and values, as ``(canvas index, brightness, order)``
    array triples for `_plain_coverage`: the two ends of each segment, both
    pixels across the line, without swapping the ends (the swap only names
    the end drawn first, and the far end mViewer skips on long steep
    segments), then the in-between steps of short ones. Orders are
    `_aa_writes`' (segments numbered from ``first``). Pixels off the picture
    are clamped into the canvas's margins (no need when ``clamp`` is False:
    all ends within a pixel of the picture).
    """
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
    seg64 = (np.arange(first, first + x1.size, dtype=np.int64) * 64)
    o = np.stack([seg64 + np.where(swap, 2, 0), seg64 + np.where(swap, 0, 2)])
    out = [(lin, 1.0 - frac, o), (lin + np.where(hor, -wide, 1), frac, o + 1)]
    m = np.flatnonzero(short & (np.abs(ae[1] - ae[0]) >= 2))
    if m.size:
        lo = np.where(swap[m], 1, 0)
        ae1, ae2 = ae[lo, m], ae[1 - lo, m]
        bf = be[lo, m] + grad[m]
        for i, j, bb, oo in _aa_steps(ae1, ae2, bf, grad[m], np.ones(m.size, bool),
                                       hor[m], True):
            # `_aa_steps` numbers the segments of ``m`` 0, 1, ...
            idx = oo.astype(np.int64) >> 6
            out.append((_canvas_index(i, j, ny, nx, clamp), bb,
                        (m[idx] + first) * 64 + (oo.astype(np.int64) & 63)))
    return out


def _canvas_index(i, j, ny: int, nx: int, clamp: bool = True) -> np.ndarray:
    """
    Return the canvas index (`_plain_coverage`) of drawing-frame pixels.

    Pixels are i, j from the bottom row, clamped into the margins when off the
    picture (NaN: into the low margin); the pixel above or right of one is then
    still on the canvas. Without ``clamp`` the pixels must be within two pixels
    of the picture.
    """
    wide = nx + _PAD_LO + _PAD_HI
    if clamp:
        i = np.fmin(np.fmax(i, -_PAD_LO), nx + _PAD_HI - 2)
        j = np.fmin(np.fmax(j, -_PAD_LO), ny + _PAD_HI - 2)
    # displayed row (ny - 1 - j) + _PAD_HI, column i + _PAD_LO
    lin = (ny - 1 + _PAD_HI) * wide + _PAD_LO - j * wide
    lin += i
    return lin.astype(np.intp)


def _fold_segments(seg, weight, touched, best, ny, nx, width, mag: int):
    """
    Draw segments chunk by chunk into clean arrays; return the drawn pixels.

    The arrays are ``weight`` / ``touched`` / ``best`` (the best `_keys` so
    far, -1 for none); ``mag`` as `_keys`. Returns the drawn pixels and their
    weights, and leaves the arrays clean again.
    """
    size = ny * nx
    count = 0
    since = None
    for c0 in range(0, seg[0].size, _SEGMENT_CHUNK):
        part = [s[c0:c0 + _SEGMENT_CHUNK] for s in seg]
        if width == 1.0:
            i, j, b, order = _aa_writes(*part)
            order = order.astype(np.int64) + c0 * 64   # `_aa_writes` numbers from 0
        else:
            i, j, b = _thick_writes(*part, width)
            order = np.arange(count, count + i.size, dtype=np.int64)
            count += i.size
        lin = _flat_index(i, j, ny, nx)
        touched[lin] = True
        since = _fold_writes(weight, best, since, lin, b, order, mag)
    every = np.flatnonzero(touched[:size + 1])
    w = weight[every]
    weight[every] = 0.0
    touched[every] = False
    best[every] = -1
    drawn = (w > 0) & (every < size)
    return every[drawn], w[drawn]


def _flat_index(i, j, ny: int, nx: int) -> np.ndarray:
    """
    Return the flat picture index of drawing-frame pixels (i, j from the bottom row).

    ``ny * nx`` for writes off the picture (or NaN).
    """
    with np.errstate(invalid="ignore"):
        ok = (i >= 0) & (i < nx) & (j >= 0) & (j < ny)      # False at NaN
        lin = (ny - 1) - j
        lin *= nx
        lin += i
    return np.where(ok, lin, ny * nx).astype(np.intp)


def _fold_writes(weight, best, since, lin, b, order, mag: int):
    """
    Fold a chunk of writes into the weights, by mViewer's rules.

    The writes are in drawing order, after all earlier chunks. A
    zero-brightness write resets its pixel; of the later ones the best by
    `_keys` stays. ``since`` is the order of each pixel's last zero write
    (None until needed); returns it.
    """
    zb = b <= 0
    if zb.any():
        if since is None:
            since = np.full(weight.size, -1, np.int64)
        np.maximum.at(since, lin[zb], order[zb])
        weight[lin[zb]] = 0.0                # earlier chunks' writes are reset
        best[lin[zb]] = -1
        pos = ~zb & (order > since[lin])
        lin, b, order = lin[pos], b[pos], order[pos]
    keys = _keys(b, order, mag)
    np.maximum.at(best, lin, keys)
    won = best[lin] == keys
    weight[lin[won]] = b[won]
    return since
