"""
MontagePy-compatible ``mViewer``, built on `diffview.render`.

Grayscale, pseudo-colour and three-colour pictures with image outlines,
coordinate grids, catalogs and marks. The command grammar is mViewer's
(``docs/montage-semantics.md`` §8.3), processed left to right with sticky
``-color``, ``-linewidth``, ``-alpha``, ``-csys`` and ``-symbol``. Read here:
``-gray|-grey file min max [stretch [beta]]`` (or ``file -histfile hist``),
``-ct N``, ``-color``, ``-linewidth``, ``-alpha``, ``-imginfo table``,
``-noflip``, ``-saturate v``, ``-out|-png|-jpeg file``, ``-fontscale``,
``-nowcs`` and ``-debug`` (accepted); `extra_directive` reads ``-grid``,
``-symbol``, ``-scalecol``, ``-mark``, ``-catalog``, ``-csys``,
``-red``/``-green``/``-blue`` and ``-t``. Grids come with their labels
(`diffview.geometry.grid_labels`, sized by the sticky ``-fontscale``), and
``-label x y text`` is written where mViewer places it (fonts differ);
drawings and colour/size/shape/label columns are reported as not implemented.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from functools import partial

from diffview.errors import DiffviewError, InputError
from diffview.geometry import orientation
from diffview.io import atomic_path, read_plain_header, write_file
from diffview.render import (
    color_table,
    compute_stretch,
    draw_picture,
    load_image,
)

from ._contract import dropin
from ._viewer_color import color_picture
from ._viewer_directives import Channel, extra_directive, sticky_defaults
from ._viewer_hist import stretch_from_histfile
from ._viewer_json import parse_json
from ._viewer_layers import has_layers, overlay_job
from ._words import (
    BAD_ALPHA,
    BAD_WIDTH,
    DEFAULT_COLOR,
    USAGE,
    saturation,
    split_command,
)

__all__ = ["ViewerCommand", "parse_command", "parse_json", "run_command", "mViewer"]

_UNSUPPORTED = {"-draw", "-labelcol",
                "-histfile", "-truecolor", "-tzero", "-imgalpha", "-brightness",
                "-contrast", "-file"}


@dataclass
class ViewerCommand:
    """
    A parsed mViewer command (only what diffview implements).

    Parameters
    ----------
    gray : str or None
        The image file (``-gray``/``-grey``).
    vmin, vmax : str
        Display range strings (`diffview.render.parse_range`).
    mode : str
        Stretch name (`diffview.render.parse_mode`).
    beta : str
        The ``asinh`` stretch's parameter, as a range string.
    ct : int
        Colour table 0..12 (``-ct``).
    overlays : list of tuple
        ``(table, color, width, alpha)`` of each ``-imginfo``, with the
        ``-color``, ``-linewidth`` and ``-alpha`` in force where it appears.
    out : str or None
        Output file (``-out``, ``-png``, ``-jpeg``).
    out_fmt : str
        ``'png'`` or ``'jpeg'``.
    noflip : bool
        Keep FITS row order (``-noflip``).
    saturate : int
        Grey level of blank pixels (``-saturate``).

    Examples
    --------
    >>> c = parse_command("-ct 1 -gray diff.fits -2s max gaussian-log -out d.png")
    >>> c.gray, c.vmin, c.vmax, c.mode, c.ct, c.out
    ('diff.fits', '-2s', 'max', 'gaussian-log', 1, 'd.png')
    """

    gray: str | None = None
    vmin: str = "min"
    vmax: str = "max"
    mode: str = "linear"
    beta: str = "2s"
    ct: int = 0
    overlays: list = field(default_factory=list)   # (table, color, width, alpha)
    out: str | None = None
    out_fmt: str = "png"
    noflip: bool = False
    saturate: int = 0
    gray_hist: str | None = None
    red: Channel | None = None
    green: Channel | None = None
    blue: Channel | None = None
    truecolor: float = 0.0
    grids: list = field(default_factory=list)
    marks: list = field(default_factory=list)
    labels: list = field(default_factory=list)     # -label: Text
    sticky: dict = field(default_factory=sticky_defaults, repr=False)


class _CmdError(DiffviewError):
    pass


def _stretch_token(tokens, i, cmd: ViewerCommand) -> int:
    """Consume mViewer's optional stretch token(s) after ``max``; return how many."""
    if i >= len(tokens):
        return 0
    t = tokens[i]
    if t.startswith("g"):
        cmd.mode = "gaussian-log" if len(t) > 1 and t[-1] in "gl" else "gaussian"
        return 1
    if t.startswith("a"):
        cmd.mode = "asinh"
        if i + 1 < len(tokens):
            cmd.beta = tokens[i + 1]
        return 2
    if t.startswith("lin"):
        cmd.mode = "linear"
        return 1
    if t == "log":
        cmd.mode = "log"
        return 1
    if t == "loglog":
        cmd.mode = "loglog"
        return 1
    if t.isascii() and t.isdigit():
        cmd.mode = t
        return 1
    return 0


def parse_command(cmdstr) -> ViewerCommand:
    """
    Parse an mViewer command string (or token list).

    Parameters
    ----------
    cmdstr : str or sequence of str
        The command, split into words as mViewer splits it (blanks separate
        words; ``"..."`` makes one word, quotes removed; single quotes and
        backslashes are plain characters; `split_command`), or its words.

    Returns
    -------
    ViewerCommand
        The directives, processed left to right (sticky ``-color``,
        ``-linewidth`` and ``-alpha``).

    Raises
    ------
    InputError
        Invalid or unimplemented directives, with mViewer's wording; a
        command string of fewer than two words (mViewer's usage message);
        an ``-alpha`` outside 0..1, a ``-linewidth`` of 0 or less.

    Notes
    -----
    ``-saturate`` is read with C's ``atof`` (text reads as 0) and clamped to
    0..255, as mViewer does; ``-linewidth`` and ``-alpha`` must be numbers.

    Examples
    --------
    >>> c = parse_command("-color yellow -imginfo i.tbl -gray m.fits min max gl")
    >>> c.overlays, c.mode
    ([('i.tbl', 'yellow', 1.0, 1.0)], 'gaussian-log')
    >>> c = parse_command('-gray "my file.fits" +1 +max -saturate 300')
    >>> c.gray, c.vmin, c.vmax, c.saturate
    ('my file.fits', '+1', '+max', 255)
    """
    if isinstance(cmdstr, str):
        tokens = split_command(cmdstr)
        if len(tokens) < 2:
            raise InputError(USAGE)
    else:
        tokens = [str(t) for t in cmdstr]
    cmd = ViewerCommand()
    color, width, alpha = DEFAULT_COLOR, 1.0, 1.0
    i = 0

    def need(n, name):
        if i + n >= len(tokens):
            raise InputError(f"Too few arguments following {name} flag")

    def number(name, what):
        """Read the flag's one numeric argument (mViewer's message when it is not)."""
        need(1, name)
        try:
            return float(tokens[i + 1])
        except ValueError:
            raise InputError(f"Invalid {what} '{tokens[i + 1]}'") from None

    while i < len(tokens):
        t = tokens[i]
        if t in ("-gray", "-grey"):
            need(3, t)
            if tokens[i + 2] == "-histfile":
                cmd.gray, cmd.gray_hist = tokens[i + 1], tokens[i + 3]
                i += 4
                continue
            cmd.gray, cmd.vmin, cmd.vmax = tokens[i + 1], tokens[i + 2], tokens[i + 3]
            cmd.mode = "linear"
            i += 4
            i += _stretch_token(tokens, i, cmd)
            continue
        if t == "-ct":
            need(1, t)
            try:
                ct = int(tokens[i + 1])
            except ValueError:
                ct = -1
            if not 0 <= ct <= 12:
                raise InputError("Color table index must be a number between 0 and 12")
            cmd.ct = ct
            i += 2
            continue
        if t == "-color":
            need(1, t)
            color = tokens[i + 1]
            i += 2
            continue
        if t == "-linewidth":
            width = number(t, "line width")
            if width <= 0.0:
                raise InputError(BAD_WIDTH)
            i += 2
            continue
        if t == "-alpha":
            alpha = number(t, "alpha")
            if not 0.0 <= alpha <= 1.0:
                raise InputError(BAD_ALPHA)
            i += 2
            continue
        if t == "-imginfo":
            need(1, t)
            if cmd.sticky["csys"] != "equatorial":
                raise InputError("-imginfo after -csys other than equatorial is not "
                                 "implemented by diffview's mViewer")
            cmd.overlays.append((tokens[i + 1], color, width, alpha))
            i += 2
            continue
        if t in ("-out", "-png", "-jpeg"):
            need(1, t)
            cmd.out = tokens[i + 1]
            cmd.out_fmt = "jpeg" if t == "-jpeg" else "png"
            i += 2
            continue
        if t == "-saturate":
            need(1, t)
            cmd.saturate = saturation(tokens[i + 1])
            i += 2
            continue
        if t == "-noflip":
            cmd.noflip = True
            i += 1
            continue
        if t in ("-nowcs", "-debug"):
            i += 1
            continue
        if t == "-fontscale":      # sticky label size (grid labels)
            cmd.sticky["fontscale"] = number(t, "font scale")
            i += 2
            continue
        j = extra_directive(tokens, i, cmd, color, width, alpha)
        if j is not None:
            i = j
            continue
        if t in _UNSUPPORTED:
            raise InputError(f"mViewer directive {t} is not implemented by diffview "
                             "(implemented: -gray/-grey, -red/-green/-blue, -t, -ct, "
                             "-color, -linewidth, -alpha, -imginfo, -grid, -symbol, "
                             "-scalecol, -sizecol, -shapecol, -colorcol, -mark, "
                             "-catalog, -label, -csys, -noflip, "
                             "-saturate, -out/-png/-jpeg)")
        raise InputError(f"Invalid 'directive': {t} (probably a misplaced argument)")
    return cmd


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
    >>> import numpy as np
    >>> from astropy.io import fits
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> fits.writeto(d / "a.fits", np.arange(12.0).reshape(3, 4))
    >>> r = run_command(parse_command(f"-gray {d}/a.fits min max -out {d}/a.png"))
    >>> r["nx"], r["ny"], r["graymaxval"]
    (4, 3, 11.0)
    """
    out = out_file or cmd.out
    fmt = (out_fmt or cmd.out_fmt or "png").lower()
    if out and fmt not in ("png", "jpeg", "jpg"):
        raise InputError(f"output format '{fmt}' is not implemented (png, jpeg)")
    for table, *_ in cmd.overlays:
        if not os.path.exists(str(table)):
            raise InputError(f"Invalid table file [{table}].")
    if cmd.red or cmd.green or cmd.blue:
        info = color_picture(cmd, montage_offsets)
        _write_picture(info["rgb"], None, out, fmt)
        return info
    if not cmd.gray:
        raise InputError("Grayscale/pseudocolor mode but no gray image given")
    if not os.path.exists(cmd.gray):
        raise InputError(f"File {cmd.gray} not found.")
    # the overlays are drawn while the pixels are read, when the header
    # can be read first (a plain float image)
    drawn = has_layers(cmd)
    early = read_plain_header(cmd.gray) if drawn else None
    shape = None if early is None else (int(early["NAXIS2"]), int(early["NAXIS1"]))
    pending = (overlay_job(cmd, early, shape, montage_offsets) if early is not None
               else None)
    data, header = load_image(cmd.gray)
    o = orientation(header, noflip=cmd.noflip)
    if drawn and shape != data.shape:
        pending = overlay_job(cmd, header, data.shape, montage_offsets)
    rgb, png, st = draw_picture(data, partial(_gray_stretch, cmd, data), o, pending,
                                ct=cmd.ct, saturate=cmd.saturate,
                                png=bool(out) and fmt == "png")
    _write_picture(rgb, png, out, fmt)
    bunit = str(header.get("BUNIT", "")) if header is not None else ""
    info = {"type": "grayscale", "nx": int(rgb.shape[1]), "ny": int(rgb.shape[0]),
            **st.info(), "flipX": int(o.flip_x), "flipY": int(o.flip_y),
            "colortable": int(cmd.ct), "bunit": bunit, "message": st.message,
            "rgb": rgb, "table": color_table(cmd.ct)}
    return info


def _gray_stretch(cmd: ViewerCommand, data, hist):
    """Return the gray image's stretch: from its histogram file, or computed."""
    if cmd.gray_hist:
        return stretch_from_histfile(cmd.gray_hist, saturate=cmd.saturate)
    return compute_stretch(data, cmd.vmin, cmd.vmax, cmd.mode, beta=cmd.beta,
                           saturate=cmd.saturate, hist=hist)


def _write_picture(rgb, png, out, fmt) -> None:
    """Write the picture: PNG bytes already made, or encode it."""
    if not out:
        return
    if png is not None:
        write_file(out, png)
        return
    from PIL import Image

    with atomic_path(out) as tmp:
        if fmt == "png":
            Image.fromarray(rgb, "RGB").save(tmp, format="PNG")
        else:
            Image.fromarray(rgb, "RGB").save(tmp, format="JPEG", quality=85)


_LIMIT_KEYS = ("minval", "minpercent", "minsigma", "maxval", "maxpercent", "maxsigma")
_GRAY_KEYS = [f"gray{k}" for k in _LIMIT_KEYS]
_COLOR_KEYS = [f"{c}{k}" for c in ("blue", "green", "red") for k in _LIMIT_KEYS]

#: mViewer's own JSON buffer is 800 kB; a longer file is an error.
_MAX_JSON = 1 << 24
_DATA_KEYS = ["graydatamin", "graydatamax", "bdatamin", "bdatamax", "gdatamin",
              "gdatamax", "rdatamin", "rdatamax"]


@dropin
def mViewer(cmdstr, outFile, mode=0, outFmt="png", fontFile="", debug=0):
    """
    Drop-in for ``MontagePy.main.mViewer``.

    Grayscale and three-colour pictures with image outlines, coordinate
    grids, catalogs and marks.

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
        Accepted for compatibility (grid labels are written in matplotlib's
        DejaVu Sans, whatever the font file).

    Returns
    -------
    dict
        MontagePy's keys: ``status`` ``'0'``, ``type`` (``b'grayscale'`` or
        ``b'color'``), ``nx``,
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
    >>> import numpy as np
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
    r = {"status": "0", "type": info["type"].encode(), "nx": info["nx"],
         "ny": info["ny"]}
    for k in _GRAY_KEYS + _COLOR_KEYS + _DATA_KEYS:
        r[k] = float(info.get(k, 0.0))
    r.update({"flipX": info["flipX"], "flipY": info["flipY"],
              "colortable": info["colortable"], "bunit": info["bunit"].encode()})
    return r
