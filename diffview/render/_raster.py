"""
Overlays burned into pictures the way mViewer draws them.

As in ``docs/montage-semantics.md`` §8.8: 1-pixel lines with its two-pixel
anti-aliasing (weights ``1 - frac`` and ``frac``), thicker lines by area
coverage, one overlay at a time blended as ``w * colour + (1 - w) * pixel``
with truncation to 8 bits.

The pixels an overlay covers are cached for the last few overlays (the same
outlines are usually burned into picture after picture), keyed by what the
lines are made of (`Overlay.source`) or else by a digest of their points.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections import OrderedDict
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from ._lines import _compute_coverage
from ._text import label_coverage
from .colortables import overlay_rgb255

__all__ = ["Overlay", "burn_overlay"]

#: One RGB pixel as a single numpy item (three bytes).
_RGB = np.dtype((np.void, 3))


@dataclass
class Overlay:
    """
    Lines to burn into a picture.

    Parameters
    ----------
    lines : list of ndarray
        Polylines, each an (N, 2) array of displayed 0-based (x, y): column
        from the left, row from the top, pixel centres on integers.
    color : str or tuple
        An mViewer colour name, ``'rrggbb'`` or an (r, g, b) tuple of 0..1
        values (`overlay_rgb255`).
    linewidth : float
        Line width in pixels (1: mViewer's anti-aliased lines).
    alpha : float
        Opacity, 0..1.
    labels : tuple of Label
        Text drawn first; the lines leave the rectangles around it alone
        (`label_coverage`).
    source : hashable, optional
        What the lines are known to be made of (for instance a
        `table_outlines_key` and the drawing's transformation): the pixels
        they cover are then cached under it. None: the lines are identified
        by their points (hashed).
    frame : str
        ``"display"``: ``lines`` are displayed (x, y) as above; ``"mviewer"``:
        they are in mViewer's drawing frame, as its line drawer receives them
        (column x, row y counted from the bottom row).

    Examples
    --------
    >>> Overlay([np.array([[0.0, 0.0], [3.0, 0.0]])], "red").linewidth
    1.0
    """

    lines: list
    color: object = "yellow"
    linewidth: float = 1.0
    alpha: float = 1.0
    source: object = None
    labels: tuple = ()
    frame: str = "display"


def burn_overlay(rgb: np.ndarray, overlay: Overlay, *, densify: bool = True
                 ) -> np.ndarray:
    """
    Burn one overlay into an RGB picture in place, as mViewer does.

    With mViewer's anti-aliasing and blending.

    Parameters
    ----------
    rgb : ndarray, shape (ny, nx, 3)
        A contiguous ``uint8`` picture (row 0 at the top), changed in place.
    overlay : Overlay
        The lines, their colour, width and opacity.
    densify : bool
        Cut segments of 4 pixels or more into half-pixel steps first
        (mViewer itself draws only the ends of such segments).

    Returns
    -------
    ndarray
        ``rgb``.

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
    """
    Plan what burning an overlay does to a ``ny x nx`` picture (`_Plan`).

    The blend's terms that do not depend on the picture are worked out here
    (on the pool, while the picture's colours are looked up).
    """
    col = overlay_rgb255(overlay.color)
    hit, weight = _coverage(overlay.lines, ny, nx, float(overlay.linewidth),
                            densify, int(col.sum()), overlay.source,
                            overlay.frame != "mviewer")
    if overlay.labels:
        hit, weight = _with_labels(overlay.labels, hit, weight, ny, nx)
    w = weight * min(1.0, max(0.0, float(overlay.alpha)))
    drawn = w > 0
    w = w[drawn][:, None]
    return _Plan(hit[drawn], w * col[None, :], 1.0 - w, col)


def _with_labels(labels, hit, weight, ny: int, nx: int):
    """Add labels' text to a coverage, lines cut where the labels lock pixels."""
    text, lock = label_coverage(labels, ny, nx)
    full = np.zeros(ny * nx, float)
    keep = ~lock.reshape(-1)[hit]
    full[hit[keep]] = weight[keep]
    full = np.maximum(full, text.reshape(-1))
    hit = np.flatnonzero(full)
    return hit, full[hit]


def _blend_rows(rgb: np.ndarray, plan: _Plan, r0: int, r1: int) -> None:
    """
    Blend a `_burn_plan` into rows ``r0:r1`` of a contiguous picture.

    ``w * colour + (1 - w) * pixel``, truncated to 8 bits.
    """
    nx = rgb.shape[1]
    lo, hi = np.searchsorted(plan.hit, (r0 * nx, r1 * nx))
    if hi > lo:
        flat = rgb.reshape(-1, 3)
        h = plan.hit[lo:hi]
        new = plan.kept[lo:hi] * flat.take(h, axis=0)
        new += plan.painted[lo:hi]
        np.put(flat.view(_RGB).reshape(-1), h,
               new.astype(np.uint8).view(_RGB).reshape(-1))


#: Pixel coverage of the last few overlays, keyed by their `Overlay.source`
#: or a digest of their lines (the same outlines are usually burned into
#: picture after picture).
_COVERAGE: OrderedDict = OrderedDict()
_COVERAGE_SIZE = 8


def _lines_digest(lines) -> bytes:
    """Digest polylines: their shapes and float64 values."""
    d = hashlib.sha256()
    for line in lines:
        p = np.ascontiguousarray(line, dtype=float)
        d.update(str(p.shape).encode())
        d.update(memoryview(p.reshape(-1)).cast("B"))   # no copy
    return d.digest()


def _coverage(lines, ny: int, nx: int, width: float, densify: bool, mag: int,
              source=None, flip: bool = True):
    """
    Return the pixels an overlay leaves drawn and their brightness, cached.

    Flat indices of the pixels (increasing) and the brightness mViewer's
    drawer leaves there, cached per (lines, picture shape, width, densify,
    colour magnitude ``mag``, frame: ``flip`` for displayed lines). The lines
    are
    identified by ``source`` (what they are made from, `Overlay.source`) when
    given, else by a digest of their values.
    """
    ident = ("source", source) if source is not None else _lines_digest(lines)
    key = (ident, ny, nx, width, densify, int(mag), bool(flip))
    cached = _COVERAGE.get(key)
    if cached is not None:
        with contextlib.suppress(KeyError):      # evicted meanwhile by a thread
            _COVERAGE.move_to_end(key)
        return cached
    cached = _compute_coverage(lines, ny, nx, width, densify, mag, flip)
    for a in cached:
        a.setflags(write=False)
    _COVERAGE[key] = cached
    while len(_COVERAGE) > _COVERAGE_SIZE:
        _COVERAGE.popitem(last=False)
    return cached


def _as_overlays(outlines) -> list[Overlay]:
    """
    Make `Overlay` objects from what `render_rgb` accepts as outlines.

    Overlays, dicts of their fields, (N, 2) arrays or lists of them.
    """
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


def _burn_plans(overlays, ny: int, nx: int, densify: bool) -> list:
    """`_burn_plan` of each overlay, in order."""
    return [_burn_plan(ov, ny, nx, densify) for ov in overlays]
