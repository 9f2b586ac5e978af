"""
mViewer's three-colour pictures (``-red``, ``-green``, ``-blue``, ``-t``).

Each channel is stretched on its own (`diffview.render.channel_values`) and
the three combined (`diffview.render.compose_rgb`); without ``-green`` (and
without ``-gray``) the green channel is black, as mViewer's red/blue
pictures. The overlays are burned on top in mViewer's order. The three
images must share a projection (CRVAL, CDELT, rotation) but may differ in size
and reference pixel: as mViewer, the picture is the union of the grids aligned
by CRPIX, each channel blank where it does not reach
(``docs/montage-semantics.md`` §8.12).
"""

from __future__ import annotations

import os

import numpy as np

from diffview.errors import InputError
from diffview.geometry import orientation
from diffview.render import (
    burn_overlay,
    channel_values,
    compose_rgb,
    compute_stretch,
    load_image,
)

from ._viewer_hist import stretch_from_histfile
from ._viewer_layers import layer_overlays

__all__ = ["color_picture"]

#: What MontagePy 2.3.0's mViewer compares between channels: scale and rotation
#: (not CRVAL, not the projection type: such channels are aligned by CRPIX).
_GRID_KEYS = ("CDELT1", "CDELT2", "CROTA2", "CD1_1", "CD1_2", "CD2_1", "CD2_2")


def _channels(cmd):
    """Return the (name, Channel) to draw, with mViewer's checks and its black green."""
    for name in ("red", "blue") + (("green",) if cmd.gray else ()):
        if getattr(cmd, name) is None:
            raise InputError(f"No input '{name}' FITS file name given")
    green = cmd.green if cmd.green is not None else cmd.red
    return [("red", cmd.red), ("green", green), ("blue", cmd.blue)], cmd.green is None


def _load(name, ch, ref):
    if not os.path.exists(ch.file):
        raise InputError(f"File {ch.file} not found.")
    data, header = load_image(ch.file)
    if ref is not None:
        rdata, rheader = ref
        if any(header.get(k) != rheader.get(k) for k in _GRID_KEYS):
            raise InputError(f"Red and {name} FITS images don't have matching "
                             "projections (use -nowcs flag if you still want to "
                             "proceed).")
    return data, header


def _union(grids):
    """
    Return mViewer's union of channel grids aligned by their reference pixels.

    ``grids`` holds each channel's (ny, nx, crpix1, crpix2); the result is the
    union's (ny, nx) and each channel's (x, y) offset in it, as
    mViewer's doubles (fractional CRPIX differences give fractional offsets).
    """
    xmin = min(-g[2] for g in grids)
    ymin = min(-g[3] for g in grids)
    xmax = max(-g[2] + g[1] for g in grids)
    ymax = max(-g[3] + g[0] for g in grids)
    offsets = [(-g[2] - xmin, -g[3] - ymin) for g in grids]
    return (int(ymax - ymin), int(xmax - xmin)), offsets


def _place(data, offset, shape):
    """
    Put a channel on the union grid as mViewer reads it, NaN where it is absent.

    Columns are ``int(i - xoff)`` (C truncation: a column up to one pixel left
    of the image still reads its first column); rows need ``j - yoff >= 0``.
    """
    ny, nx = shape
    h, w = data.shape
    xoff, yoff = offset
    ipix = np.trunc(np.arange(nx) - xoff).astype(int)
    okx = (ipix >= 0) & (ipix < w)
    t = np.arange(ny) - yoff
    oky = (t >= 0) & (t < h)
    jpix = (np.trunc(t[oky] + 1.0) - 1.0).astype(int)
    out = np.full(shape, np.nan)
    out[np.ix_(oky, okx)] = data[np.ix_(jpix, ipix[okx])]
    return out


def _overlay_frame(header, shape, noflip):
    """
    Return the overlays' header and the picture's orientation, as mViewer draws.

    mViewer projects the overlays with the last channel read (blue) onto the
    union picture: rows flipped by the picture's height, and unflipped rows
    counted down from the blue image's own height.
    """
    h = header.copy()
    ny = int(h.get("NAXIS2", shape[0]))
    h["NAXIS1"], h["NAXIS2"] = shape[1], shape[0]
    o = orientation(h, noflip=noflip)
    if not o.flip_y and "CRPIX2" in h:
        h["CRPIX2"] = float(h["CRPIX2"]) + shape[0] - ny
    return h, o


def _stretch(ch, data, saturate):
    if ch.hist:
        return stretch_from_histfile(ch.hist, saturate=saturate)
    return compute_stretch(data, ch.vmin, ch.vmax, ch.mode, beta=ch.beta,
                           saturate=saturate)


def color_picture(cmd, montage_offsets: bool = True) -> dict:
    """
    Draw a command's three-colour picture and its overlays.

    Parameters
    ----------
    cmd : ViewerCommand
        The command, with ``red`` and ``blue`` (and ``green``) channels.
    montage_offsets : bool
        As `diffview.montage.run_command`.

    Returns
    -------
    dict
        `diffview.montage.run_command`'s information, ``type`` ``color``,
        with ``red*``, ``green*``, ``blue*`` and ``rdatamin``... values.

    Raises
    ------
    InputError
        A missing channel or file, images on different projections.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from astropy.io import fits
    >>> from diffview.montage import parse_command
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> fits.writeto(d / "a.fits", np.arange(12.0).reshape(3, 4))
    >>> c = parse_command(f"-red {d}/a.fits min max -blue {d}/a.fits 0 22")
    >>> r = color_picture(c)
    >>> r["type"], r["rgb"][0, 3].tolist(), r["bluemaxval"]
    ('color', [185, 0, 92], 22.0)
    """
    channels, green_off = _channels(cmd)
    loaded, ref = {}, None
    for name, ch in channels:
        if ch.file not in loaded:
            loaded[ch.file] = _load(name, ch, ref)
        ref = ref or loaded[ch.file]
    grids = [loaded[ch.file][0].shape + tuple(float(loaded[ch.file][1].get(k, 0.0))
                                              for k in ("CRPIX1", "CRPIX2"))
             for _, ch in channels]
    shape, offsets = _union(grids)
    header, o = _overlay_frame(loaded[cmd.blue.file][1], shape, cmd.noflip)
    info, values = {}, []
    for (name, ch), off in zip(channels, offsets, strict=True):
        data = loaded[ch.file][0]
        st = _stretch(ch, data, cmd.saturate)
        for k, v in st.info().items():
            info[(name[0] if "data" in k else name) + k[4:]] = v
        data = _place(data, off, shape)
        v = channel_values(data, st, cmd.saturate)
        if name == "green" and green_off:
            v = np.where(np.isfinite(data), 0.0, float(cmd.saturate))
        values.append(o.apply(v))
    rgb = np.ascontiguousarray(compose_rgb(*values, cmd.truecolor))
    for ov in layer_overlays(cmd, header, rgb.shape[:2], montage_offsets,
                             draw_header=loaded[cmd.blue.file][1]):
        burn_overlay(rgb, ov, densify=not montage_offsets)
    bunit = str(loaded[cmd.blue.file][1].get("BUNIT", ""))
    return {"type": "color", "nx": int(rgb.shape[1]), "ny": int(rgb.shape[0]), **info,
            "flipX": int(o.flip_x), "flipY": int(o.flip_y), "colortable": 0,
            "bunit": bunit, "message": "", "rgb": rgb, "table": None}
