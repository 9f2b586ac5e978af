"""Fit bookkeeping shared by the solvers: selection, rejection limit, box moments."""

from __future__ import annotations

import math

import numpy as np

from diffview.core.checks import check_items
from diffview.errors import InputError
from diffview.models import PlaneFit

from ._images import ImageGeometry

__all__ = ["AREA_LIMIT"]

#: Montage's rejection threshold: fits on fewer pixels than this fraction of
#: the mean image area are not used.
AREA_LIMIT = 0.001


def _excluded(fit: PlaneFit, pairs: set, images: set) -> bool:
    return (
        {fit.plus, fit.minus} & images
        or (fit.plus, fit.minus) in pairs
        or (fit.minus, fit.plus) in pairs
    )


def _select(fits, exclude_pairs, exclude_images, geometry=None, *,
            need_geometry=False) -> list[PlaneFit]:
    """Check a solver's arguments (`InputError`) and select the fits it uses."""
    if not isinstance(geometry, ImageGeometry) and (
        need_geometry or geometry is not None
    ):
        raise InputError(
            f"images: expected an ImageGeometry (diffview.core.image_geometry of "
            f"images.tbl){'' if need_geometry else ' or None'}, got "
            f"{type(geometry).__name__}"
        )
    fits = check_items(fits, PlaneFit, "fits")
    try:
        pairs = {(int(a), int(b)) for a, b in exclude_pairs}
        images = {int(i) for i in exclude_images}
    except (TypeError, ValueError) as exc:
        raise InputError(
            "exclude_pairs must hold (plus, minus) pairs of image ids and "
            f"exclude_images image ids ({exc})"
        ) from None
    return [f for f in fits if not _excluded(f, pairs, images)]


def _rms_value(rms: float) -> float:
    return 1e99 if not math.isfinite(rms) else float(rms)


def _box_moments(fits_arr: dict) -> dict:
    """Integrals of 1, x, y, x^2, xy, y^2 over each rotated box (mBgModel)."""
    dtr = math.atan(1.0) / 45.0
    ang = fits_arr["boxang"] * dtr
    c, s = np.cos(ang), np.sin(ang)
    x0 = fits_arr["boxx"] * c + fits_arr["boxy"] * s
    y0 = -fits_arr["boxx"] * s + fits_arr["boxy"] * c
    xmin, xmax = x0 - fits_arr["boxwidth"] / 2.0, x0 + fits_arr["boxwidth"] / 2.0
    ymin, ymax = y0 - fits_arr["boxheight"] / 2.0, y0 + fits_arr["boxheight"] / 2.0
    theta = (ang / dtr) * dtr
    st, ct = np.sin(theta), np.cos(theta)
    dx, dy = xmax - xmin, ymax - ymin
    x2, y2 = (xmax * xmax - xmin * xmin) / 2.0, (ymax * ymax - ymin * ymin) / 2.0
    x3 = (xmax * xmax * xmax - xmin * xmin * xmin) / 3.0
    y3 = (ymax * ymax * ymax - ymin * ymin * ymin) / 3.0
    return {
        "n": dx * dy,
        "x": dy * x2 * ct - dx * y2 * st,
        "y": dy * x2 * st + dx * y2 * ct,
        "xx": dy * x3 * ct * ct - 2.0 * x2 * y2 * ct * st + dx * y3 * st * st,
        "yy": dy * x3 * st * st + 2.0 * x2 * y2 * st * ct + dx * y3 * ct * ct,
        "xy": dy * x3 * ct * st + x2 * y2 * (ct * ct - st * st) - dx * y3 * st * ct,
    }


_FIELDS = (
    "a",
    "b",
    "c",
    "npixel",
    "rms",
    "boxx",
    "boxy",
    "boxwidth",
    "boxheight",
    "boxang",
)


def _fit_arrays(fits: list[PlaneFit], mirror: bool = True) -> dict:
    """Fits as arrays, each followed by its mirror (minus, plus, -a, -b, -c)."""
    from operator import attrgetter

    get = attrgetter("plus", "minus", *_FIELDS)
    table = np.array([get(f) for f in fits], float).reshape(len(fits), -1).T
    cols = dict(zip(("plus", "minus") + _FIELDS, table, strict=True))
    cols["plus"], cols["minus"] = cols["plus"].astype(int), cols["minus"].astype(int)
    cols["npixel"] = np.trunc(cols["npixel"]).astype(int)
    cols["rms"] = np.where(np.isfinite(cols["rms"]), cols["rms"], 1e99)
    if not mirror:
        return cols
    swap = {"plus": "minus", "minus": "plus"}
    out = {}
    for name, col in cols.items():
        other = cols[swap[name]] if name in swap else col
        if name in ("a", "b", "c"):
            other = -col
        out[name] = np.column_stack([col, other]).ravel()
    return out
