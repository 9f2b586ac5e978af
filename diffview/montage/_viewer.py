"""
MontagePy-compatible ``mViewer``, built on `diffview.render`.

Grayscale and pseudo-colour pictures with ``-imginfo`` outlines. The command
grammar is mViewer's (``docs/montage-semantics.md`` §8.3), processed left to
right with sticky ``-color``, ``-linewidth`` and ``-alpha``. What is
implemented: ``-gray|-grey file min max [stretch [beta]]``, ``-ct N``,
``-color``, ``-linewidth``, ``-alpha``, ``-imginfo table``, ``-csys``
(equatorial only), ``-noflip``, ``-saturate v``, ``-out|-png|-jpeg file``,
``-nowcs`` and ``-debug`` (accepted). Other directives (three-colour images,
grids, catalogs, marks, labels, drawings, histogram files) are reported as not
implemented.
"""

from __future__ import annotations

import os
from functools import partial

import numpy as np

from diffview.errors import DiffviewError, InputError
from diffview.geometry import orientation
from diffview.io import atomic_path, read_plain_header, write_file
from diffview.render import (
    Overlay,
    OverlayPlans,
    color_table,
    compute_stretch,
    draw_picture,
    load_image,
    table_outlines,
    table_outlines_key,
)

from ._command import ViewerCommand, parse_command, parse_json
from ._contract import dropin

__all__ = ["run_command", "mViewer"]


def _montage_shift(lines, flip_y: bool):
    """
    Shift outlines as mViewer's drawing does.

    It draws 1-based WCS pixels with a 0-based line drawer: one column right,
    and one row up when the picture is flipped.
    """
    dy = -1.0 if flip_y else 0.0
    return [p + np.array([1.0, dy]) for p in lines]


def _overlays(specs, header, o, montage_offsets: bool) -> list[Overlay]:
    """Make the `-imginfo` overlays of a command on the image of ``header``."""
    overlays = []
    for table, color, width, alpha in specs:
        # the outlines are known by the table file and the header (so their
        # pixels are found again without hashing 10^5 points)
        made_of = table_outlines_key(table, header, None, False)
        lines = table_outlines(table, header, split=False)
        if montage_offsets:
            lines = _montage_shift(lines, o.flip_y)
        source = None if made_of is None else ("imginfo", made_of, tuple(o),
                                               montage_offsets)
        overlays.append(Overlay(lines, color, width, alpha, source))
    return overlays


def _overlay_job(cmd: ViewerCommand, header, shape, montage_offsets: bool
                 ) -> OverlayPlans:
    """
    Start drawing a command's overlays on a picture of ``shape`` with ``header``.

    They are drawn on the render pool (mViewer draws its outlines unsmoothed:
    ``densify`` only for true positions).
    """
    o = orientation(header, noflip=cmd.noflip)
    # mViewer draws nothing for a width that is NaN or past a C int (1e11)
    specs = [spec for spec in cmd.overlays if spec[2] < 2.0**31]
    return OverlayPlans(partial(_overlays, specs, header, o, montage_offsets),
                        shape, densify=not montage_offsets)


def run_command(cmd: ViewerCommand, out_file=None, out_fmt=None, *,
                montage_offsets: bool = True) -> dict:
    """
    Execute a parsed command and return mViewer's information.

    Parameters
    ----------
    cmd : ViewerCommand
        The command (`parse_command`, `parse_json`).
    out_file : str or path-like, optional
        Output picture; overrides ``cmd.out``. No file is written when
        neither is given.
    out_fmt : str, optional
        ``'png'`` or ``'jpeg'`` (``'jpg'``); overrides ``cmd.out_fmt``.
    montage_offsets : bool
        Reproduce mViewer's one-pixel outline shift
        (`diffview.geometry.outlines` Notes); False for true positions.

    Returns
    -------
    dict
        ``type``, ``nx``, ``ny``, the stretch's ``gray*`` values
        (`diffview.render.Stretch.info`), ``flipX``, ``flipY``,
        ``colortable``, ``bunit``, plus ``message`` (the stretch's note),
        ``rgb`` (the picture) and ``table`` (the colour table).

    Raises
    ------
    InputError
        Missing image or table file, unknown output format, or an image
        that cannot be shown.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from astropy.io import fits
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> fits.writeto(d / "a.fits", np.arange(12.0).reshape(3, 4))
    >>> r = run_command(parse_command(f"-gray {d}/a.fits min max -out {d}/a.png"))
    >>> r["nx"], r["ny"], r["graymaxval"]
    (4, 3, 11.0)
    """
    if not cmd.gray:
        raise InputError("Grayscale/pseudocolor mode but no gray image given")
    if not os.path.exists(cmd.gray):
        raise InputError(f"File {cmd.gray} not found.")
    for table, *_ in cmd.overlays:
        if not os.path.exists(str(table)):
            raise InputError(f"Invalid table file [{table}].")
    out = out_file or cmd.out
    fmt = (out_fmt or cmd.out_fmt or "png").lower()
    if out and fmt not in ("png", "jpeg", "jpg"):
        raise InputError(f"output format '{fmt}' is not implemented (png, jpeg)")
    # the outlines are drawn while the pixels are read, when the header
    # can be read first (a plain float image)
    early = read_plain_header(cmd.gray) if cmd.overlays else None
    shape = None if early is None else (int(early["NAXIS2"]), int(early["NAXIS1"]))
    pending = (_overlay_job(cmd, early, shape, montage_offsets) if early is not None
               else None)
    data, header = load_image(cmd.gray)
    o = orientation(header, noflip=cmd.noflip)
    if cmd.overlays and shape != data.shape:
        pending = _overlay_job(cmd, header, data.shape, montage_offsets)
    rgb, png, st = draw_picture(
        data, lambda h: compute_stretch(data, cmd.vmin, cmd.vmax, cmd.mode,
                                        beta=cmd.beta, saturate=cmd.saturate, hist=h),
        o, pending, ct=cmd.ct, saturate=cmd.saturate, png=bool(out) and fmt == "png")
    if png is not None:
        write_file(out, png)
    elif out:
        from PIL import Image

        with atomic_path(out) as tmp:
            Image.fromarray(rgb, "RGB").save(tmp, format="JPEG", quality=85)
    bunit = str(header.get("BUNIT", "")) if header is not None else ""
    info = {"type": "grayscale", "nx": int(rgb.shape[1]), "ny": int(rgb.shape[0]),
            **st.info(), "flipX": int(o.flip_x), "flipY": int(o.flip_y),
            "colortable": int(cmd.ct), "bunit": bunit, "message": st.message,
            "rgb": rgb, "table": color_table(cmd.ct)}
    return info


#: mViewer's own JSON buffer is 800 kB; a longer file is an error.
_MAX_JSON = 1 << 24

_COLOR_KEYS = [f"{c}{k}" for c in ("blue", "green", "red")
               for k in ("minval", "minpercent", "minsigma", "maxval", "maxpercent",
                         "maxsigma")]


@dropin
def mViewer(cmdstr, outFile, mode=0, outFmt="png", fontFile="", debug=0):
    """
    Drop-in for ``MontagePy.main.mViewer`` (grayscale pictures, ``-imginfo``).

    Parameters
    ----------
    cmdstr : str
        Command (``mode=2``), JSON string (``mode=1``) or JSON file path
        (``mode=0``, MontagePy's default).
    outFile : str
        Output picture (overrides ``-out`` in the command).
    mode : int
        0 JSON file, 1 JSON string, 2 command string.
    outFmt : str
        ``'png'`` or ``'jpeg'``.
    fontFile, debug
        Accepted for compatibility (no labels are drawn).

    Returns
    -------
    dict
        MontagePy's keys: ``status`` ``'0'``, ``type`` ``b'grayscale'``, ``nx``,
        ``ny``, ``gray*``/``red*``/``green*``/``blue*`` values, percentiles and
        sigmas, ``graydatamin/max``, ``flipX``, ``flipY``, ``colortable``,
        ``bunit``; or ``{'status': '1', 'msg': b'...'}``.

    Notes
    -----
    Grey levels, colour tables, orientation, ``-imginfo`` outlines (1-pixel
    lines) and the returned values are mViewer's exactly (thick lines: within
    one pixel). Differences, all where MontagePy 2.3.0 fails: an all-NaN
    image gives ``Image contains no non-blank pixels.`` (MontagePy crashes
    with a double free); a constant image renders black with range
    ``(v, v + 1)`` as the C code intends (MontagePy aborts the process; the
    reason is in `diffview.render.compute_stretch`'s ``message``); errors
    after an earlier successful call are returned normally (MontagePy's
    error path frees its buffers twice and aborts).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from astropy.io import fits
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> fits.writeto(d / "a.fits", np.arange(12.0).reshape(3, 4))
    >>> r = mViewer(f"-ct 1 -gray {d}/a.fits min max", str(d / "a.png"), mode=2)
    >>> r["status"], r["type"], r["nx"], r["flipY"]
    ('0', b'grayscale', 4, 1)
    >>> mViewer(f"-gray {d}/a.fits x max", str(d / "b.png"), mode=2)["msg"]
    b"'x' is not a valid display min"
    """
    try:
        if mode == 2:
            cmd = parse_command(cmdstr)
        elif mode == 1:
            cmd = parse_json(cmdstr)
        elif mode == 0:
            try:
                # an int would be read (and closed) as a file descriptor
                with open(os.fspath(cmdstr), encoding="utf-8",
                          errors="replace") as fh:
                    text = fh.read(_MAX_JSON + 1)
            except (OSError, TypeError):
                raise InputError(f"Cannot open JSON file {cmdstr}") from None
            if len(text) > _MAX_JSON:
                raise InputError(f"JSON file {cmdstr} is larger than {_MAX_JSON} "
                                 "characters (or never ends)")
            cmd = parse_json(text)
        else:
            raise InputError(f"Invalid mode {mode} (0 JSON file, 1 JSON, 2 command)")
        info = run_command(cmd, outFile or None, outFmt)
    except DiffviewError as exc:
        msg = str(exc).split(" (accepted:")[0]
        return {"status": "1", "msg": msg.encode()}
    r = {"status": "0", "type": b"grayscale", "nx": info["nx"], "ny": info["ny"]}
    for k in ("grayminval", "grayminpercent", "grayminsigma", "graymaxval",
              "graymaxpercent", "graymaxsigma"):
        r[k] = float(info[k])
    for k in _COLOR_KEYS:
        r[k] = 0.0
    r.update({"graydatamin": float(info["graydatamin"]),
              "graydatamax": float(info["graydatamax"]),
              "bdatamin": 0.0, "bdatamax": 0.0, "gdatamin": 0.0, "gdatamax": 0.0,
              "rdatamin": 0.0, "rdatamax": 0.0, "flipX": info["flipX"],
              "flipY": info["flipY"], "colortable": info["colortable"],
              "bunit": info["bunit"].encode()})
    return r
