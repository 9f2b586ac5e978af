"""
mViewer's three-colour pictures (``-red``, ``-green``, ``-blue``, ``-t``).

Each channel is stretched on its own (`diffview.render.channel_values`) and
the three combined (`diffview.render.compose_rgb`); without ``-green`` (and
without ``-gray``) the green channel is black, as mViewer's red/blue
pictures. The overlays are burned on top in mViewer's order. The three
images must be on one pixel grid (``docs/montage-semantics.md`` §8.12).
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

_GRID_KEYS = ("CRVAL1", "CRVAL2", "CDELT1", "CDELT2", "CROTA2", "CD1_1", "CD1_2",
              "CD2_1", "CD2_2")


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
        if data.shape != rdata.shape or any(header.get(k) != rheader.get(k)
                                            for k in ("CRPIX1", "CRPIX2")):
            raise InputError("three-colour images on different pixel grids are not "
                             "implemented by diffview's mViewer")
    return data, header


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
        A missing channel or file, images on different grids.

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
    loaded, ref, info, values = {}, None, {}, []
    for name, ch in channels:
        if ch.file not in loaded:
            loaded[ch.file] = _load(name, ch, ref)
        data, header = loaded[ch.file]
        ref = ref or (data, header)
        st = _stretch(ch, data, cmd.saturate)
        for k, v in st.info().items():
            info[(name[0] if "data" in k else name) + k[4:]] = v
        o = orientation(ref[1], noflip=cmd.noflip)
        v = channel_values(data, st, cmd.saturate)
        if name == "green" and green_off:
            v = np.where(np.isfinite(data), 0.0, float(cmd.saturate))
        values.append(o.apply(v))
    rgb = np.ascontiguousarray(compose_rgb(*values, cmd.truecolor))
    header = ref[1]
    for ov in layer_overlays(cmd, header, rgb.shape[:2], montage_offsets):
        burn_overlay(rgb, ov, densify=not montage_offsets)
    bunit = str(loaded[cmd.blue.file][1].get("BUNIT", ""))
    return {"type": "color", "nx": int(rgb.shape[1]), "ny": int(rgb.shape[0]), **info,
            "flipX": int(o.flip_x), "flipY": int(o.flip_y), "colortable": 0,
            "bunit": bunit, "message": "", "rgb": rgb, "table": None}
