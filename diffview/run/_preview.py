"""
The dashboard's picture of the whole mosaic: a block-averaged preview.

`load_workspace` makes a `Preview` from the mosaic file, read in strips of
rows, or, without one, from the average of the projected images; `Preview`
reads finer parts of the mosaic file when the view zooms in.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from astropy.io import fits as afits

from diffview import io
from diffview.core import block_average, template_offset
from diffview.errors import DiffviewError

if TYPE_CHECKING:  # pragma: no cover
    from diffview.run.workspace import Progress, Workspace

__all__ = ["PREVIEW_SIZE", "Preview", "preview_factor"]

#: Longest side of the mosaic preview, in pixels.
PREVIEW_SIZE = 800


@dataclass
class Preview:
    """
    A block-averaged picture of the mosaic in template pixels.

    Attributes
    ----------
    array : numpy.ndarray
        The preview (rows, columns), NaN where blank.
    factor : int
        Template pixels per preview pixel along each axis.
    extent : tuple of float
        ``(left, right, bottom, top)`` in 0-based template pixel coordinates
        (pixel centres at integers), for ``imshow(origin="lower")``.
    source : str or None
        The mosaic file, when the preview was made from one (`region` reads
        zoomed-in parts of it).
    offset : tuple of int
        ``(ioff, joff)`` of the mosaic's first pixel in the template.

    Examples
    --------
    >>> Preview(np.zeros((2, 3)), 4, (-0.5, 11.5, -0.5, 7.5)).factor
    4
    """

    array: np.ndarray
    factor: int
    extent: tuple
    source: str | None = None
    offset: tuple = (0, 0)

    def region(self, limits, max_pixels: int = PREVIEW_SIZE):
        """
        Read the part of the mosaic inside ``limits``, finer than the preview.

        Parameters
        ----------
        limits : tuple of float
            ``(left, right, bottom, top)`` in template pixel coordinates.
        max_pixels : int
            Longest side of the returned array.

        Returns
        -------
        tuple or None
            ``(array, extent)`` read from the mosaic file and block-averaged
            to at most ``max_pixels``; None when the preview is as fine (or
            there is no mosaic file).

        Examples
        --------
        >>> Preview(np.zeros((2, 3)), 4, (-0.5, 11.5, -0.5, 7.5)).region(
        ...     (0, 5, 0, 5)) is None
        True
        """
        if self.source is None:
            return None
        hdr = afits.getheader(self.source)
        ny, nx = int(hdr["NAXIS2"]), int(hdr["NAXIS1"])
        ioff, joff = self.offset
        x0, x1 = sorted(limits[:2])
        y0, y1 = sorted(limits[2:])
        c0 = int(np.clip(np.floor(x0 + 0.5) - ioff, 0, nx - 1))
        c1 = int(np.clip(np.ceil(x1 + 0.5) - ioff, c0 + 1, nx))
        r0 = int(np.clip(np.floor(y0 + 0.5) - joff, 0, ny - 1))
        r1 = int(np.clip(np.ceil(y1 + 0.5) - joff, r0 + 1, ny))
        factor = preview_factor((r1 - r0, c1 - c0), max_pixels)
        if factor >= self.factor:
            return None
        data = io.read_image_box(self.source, ((r0, r1), (c0, c1)))[0]
        small = block_average(data, factor)
        h, w = small.shape
        left, bottom = ioff + c0 - 0.5, joff + r0 - 0.5
        return small, (left, left + w * factor, bottom, bottom + h * factor)


def preview_factor(shape, size: int = PREVIEW_SIZE) -> int:
    """
    Block-averaging factor that brings ``shape`` down to ``size`` pixels.

    Parameters
    ----------
    shape : tuple of int
        ``(rows, columns)`` of the image.
    size : int
        Longest side wanted.

    Returns
    -------
    int
        The smallest factor (at least 1) whose blocks fit ``size`` pixels.

    Examples
    --------
    >>> preview_factor((5000, 4000), 800)
    7
    >>> preview_factor((300, 200), 800)
    1
    """
    return max(1, math.ceil(max(shape) / size))


def _mosaic_preview(ws: Workspace, size: int) -> Preview:
    hdr = afits.getheader(ws.folder.mosaic)
    shape = (int(hdr["NAXIS2"]), int(hdr["NAXIS1"]))
    factor = preview_factor(shape, size)
    small = _strip_average(ws.folder.mosaic, shape, factor)
    ioff, joff = template_offset(
        ws.template_crpix, (float(hdr["CRPIX1"]), float(hdr["CRPIX2"]))
    )
    prev = _preview(small, factor, ioff, joff)
    prev.source, prev.offset = str(ws.folder.mosaic), (ioff, joff)
    return prev


def _strip_average(path, shape, factor: int) -> np.ndarray:
    """Block-average an image read in strips of rows (bounded memory)."""
    rows = factor * max(1, 2_000_000 // max(shape[1] * factor, 1))
    parts = []
    for j0 in range(0, shape[0], rows):
        box = ((j0, min(j0 + rows, shape[0])), (0, shape[1]))
        parts.append(block_average(io.read_image_box(path, box)[0], factor))
    return np.vstack(parts)


def _preview(small: np.ndarray, factor: int, ioff: int, joff: int) -> Preview:
    ny, nx = small.shape
    left = ioff - 0.5
    bottom = joff - 0.5
    extent = (left, left + nx * factor, bottom, bottom + ny * factor)
    return Preview(small, factor, extent)


def _images_preview(ws: Workspace, size: int, progress: Progress) -> Preview:
    """Average of the projected images, block by block (no mosaic file)."""
    factor = preview_factor(ws.template_shape, size)
    ny = -(-ws.template_shape[0] // factor)
    nx = -(-ws.template_shape[1] // factor)
    total = np.zeros((ny, nx))
    count = np.zeros((ny, nx))
    names = list(ws.images["fname"])
    for k, (cntr, name) in enumerate(zip(ws.geometry.cntr, names, strict=True)):
        progress("preview", k, len(names))
        off = ws.image_offset(int(cntr))
        try:
            data, _ = io.read_image(ws.image_path(str(name)))
            _accumulate(total, count, data, off, factor)
        except (DiffviewError, ValueError, IndexError) as exc:
            ws.problems.append(f"image {name} left out of the preview: {exc}")
    progress("preview", len(names), len(names))
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(count > 0, total / np.maximum(count, 1), np.nan)
    return _preview(mean, factor, 0, 0)


def _accumulate(total, count, data, off, factor) -> None:
    ioff, joff = off
    # first template pixel inside the image on a block boundary
    i0 = -(-max(ioff, 0) // factor) * factor
    j0 = -(-max(joff, 0) // factor) * factor
    sub = np.asarray(data[j0 - joff :, i0 - ioff :], dtype=float)
    if sub.size == 0:
        return
    small = block_average(sub, factor)
    bj, bi = j0 // factor, i0 // factor
    h = min(small.shape[0], total.shape[0] - bj)
    w = min(small.shape[1], total.shape[1] - bi)
    if h <= 0 or w <= 0:
        return
    block = small[:h, :w]
    ok = np.isfinite(block)
    total[bj : bj + h, bi : bi + w][ok] += block[ok]
    count[bj : bj + h, bi : bi + w][ok] += 1
