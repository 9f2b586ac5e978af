"""
Image outlines in the template grid, at once for every image.

A projected image (mProjExec's output) shares the template's projection,
scale and rotation: its pixels are template pixels shifted by a whole
number, so its outline is its pixel rectangle (`image_rectangles`), with no
sampling of great circles; `on_template_grid` tells which images those are.
"""

from __future__ import annotations

import numpy as np

__all__ = ["image_rectangles", "on_template_grid"]


def image_rectangles(ws) -> np.ndarray:
    """
    Each image's pixel rectangle in template pixels.

    Parameters
    ----------
    ws : Workspace
        Its ``geometry`` and template CRPIX.

    Returns
    -------
    numpy.ndarray
        ``(n, 5, 2)``: x, y of each rectangle's corners, first repeated
        last, pixel edges at half pixels (as `diffview.geometry.box_outline`).

    Examples
    --------
    >>> import tempfile
    >>> from diffview.run import open_workspace
    >>> from diffview.sample import write_sample
    >>> ws = open_workspace(write_sample(tempfile.mkdtemp(), "small", quiet=True))
    >>> r = image_rectangles(ws)
    >>> ioff, joff = ws.image_offset(int(ws.geometry.cntr[0]))
    >>> r.shape[1:], r[0, 0].tolist() == [ioff - 0.5, joff - 0.5]
    ((5, 2), True)
    """
    g, (c1, c2) = ws.geometry, ws.template_crpix
    x0 = np.trunc(c1 - np.asarray(g.crpix1, float)) - 0.5
    y0 = np.trunc(c2 - np.asarray(g.crpix2, float)) - 0.5
    x1, y1 = x0 + np.asarray(g.naxis1), y0 + np.asarray(g.naxis2)
    xs = np.stack([x0, x1, x1, x0, x0], 1)
    ys = np.stack([y0, y0, y1, y1, y0], 1)
    return np.stack([xs, ys], axis=2)


def on_template_grid(images, template) -> np.ndarray:
    """
    Tell which images share the template's projection, scale and rotation.

    Such an image's pixels are template pixels shifted by a whole number
    (mProjExec's output), so its outline is its pixel rectangle.

    Parameters
    ----------
    images : astropy.table.Table
        The image table (``ctype``, ``crval``, ``cdelt``, ``crota2``).
    template : astropy.io.fits.Header
        The template.

    Returns
    -------
    numpy.ndarray of bool
        One per image; all False when the table lacks those columns.
    """
    n = len(images)
    try:
        same = np.ones(n, bool)
        for k in ("ctype1", "ctype2"):
            names = np.char.strip(np.asarray(images[k], str))
            same &= names == str(template[k.upper()])
        for k in ("crval1", "crval2", "cdelt1", "cdelt2"):
            want = float(template[k.upper()])
            got = np.asarray(images[k], float)
            same &= np.abs(got - want) <= 1e-9 * max(abs(want), 1.0)
        rot = float(template.get("CROTA2", 0.0))
        if "crota2" in images.colnames:
            same &= np.abs(np.asarray(images["crota2"], float) - rot) <= 1e-9
        elif rot:
            same[:] = False
        return same & ("PC1_2" not in template) & ("CD1_1" not in template)
    except (KeyError, ValueError, TypeError):
        return np.zeros(n, bool)
