"""
mViewer's JSON form (MontagePy ``mViewer(..., mode=0|1)``).

The keys MontagePy reads: ``gray_file`` or ``red_file``/``green_file``/
``blue_file`` (``fits_file``, ``stretch_min``, ``stretch_max``,
``stretch_mode``, ``stretch_beta``, ``color_table``), top-level ``color``,
``line_width``, ``alpha``, ``symbol``, ``coord_sys``, ``color_table``,
``true_color``, ``noflip``, and ``overlays`` of type ``imginfo``, ``grid``,
``catalog`` and ``mark`` (``docs/montage-semantics.md`` §8.2).
"""

from __future__ import annotations

import json

from diffview.errors import InputError
from diffview.render import c_atof

from ._viewer_directives import (
    Catalog,
    Channel,
    Grid,
    Mark,
    Text,
    csys_name,
    parse_size,
    parse_symbol,
)
from ._words import BAD_ALPHA, BAD_WIDTH, DEFAULT_COLOR

__all__ = ["parse_json"]


def _text(value, key: str) -> str:
    """Read a JSON string or number as the text mViewer would read."""
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise InputError(f"JSON: '{key}' must be a string or a number, not "
                         f"{json.dumps(value)[:40]}")
    return value if isinstance(value, str) else repr(value)


def _number(value, key: str) -> float:
    """Read a JSON number (or numeric string), naming the key when it is not one."""
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise InputError(f"JSON: '{key}' must be a number, not "
                         f"{json.dumps(value)[:40]}")
    try:
        return float(value)
    except ValueError:
        raise InputError(f"JSON: '{key}' must be a number, not {value!r:.40}") from None


def _integer(value, key: str) -> int:
    v = _number(value, key)
    if not v.is_integer():
        raise InputError(f"JSON: '{key}' must be an integer, not {value!r:.40}")
    return int(v)


def _flag(value, key: str) -> bool:
    """Read a JSON true/false (or 0/1, "true"/"false")."""
    if isinstance(value, bool) or value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.lower() in ("true", "false", "0", "1"):
        return value.lower() in ("true", "1")
    raise InputError(f"JSON: '{key}' must be true or false, not {value!r:.40}")


def _width(value) -> float:
    width = _number(value, "line_width")
    if not width > 0.0:
        raise InputError(BAD_WIDTH)
    return width


def _alpha(value) -> float:
    alpha = _number(value, "alpha")
    if not 0.0 <= alpha <= 1.0:
        raise InputError(BAD_ALPHA)
    return alpha


def _stretch(spec: dict, name: str):
    """Read a ``*_file`` object as a `Channel`."""
    from ._viewer import ViewerCommand, _stretch_token

    if not isinstance(spec, dict):
        raise InputError(f"JSON: '{name}_file' must be an object, not "
                         f"{type(spec).__name__}")
    if "fits_file" not in spec:
        raise InputError(f"{name.capitalize()} file has no 'fits_file' attribute.")
    c = ViewerCommand()
    mode = _text(spec.get("stretch_mode", "linear"), "stretch_mode")
    beta = _text(spec.get("stretch_beta", "2s"), "stretch_beta")
    if not (mode and _stretch_token([mode, beta], 0, c)):
        c.mode = "linear"
    return Channel(_text(spec["fits_file"], "fits_file"),
                   _text(spec.get("stretch_min", "min"), "stretch_min"),
                   _text(spec.get("stretch_max", "max"), "stretch_max"), c.mode, c.beta)


def _symbol(ov: dict, st: dict):
    """Read the symbol, size and units of a mark or catalog overlay."""
    symbol = st["symbol"]
    if "symbol" in ov:
        words = str(ov["symbol"]).split()
        if not words:
            raise InputError("Invalid symbol attribute")
        symbol, _ = parse_symbol(words, symbol[0])
    size, units = st["size"], st["units"]
    if "sym_size" in ov:
        size, units = parse_size(str(ov["sym_size"]))
    return symbol, size, units


def _layer(ov: dict, k: int, cmd, st: dict, style):
    """Add one overlay object to the command."""
    kind = ov.get("type")
    if kind is None:
        raise InputError(f"Overlay {k} has no 'type' attribute.")
    color = _text(ov.get("color", style[0]), "color")
    width = _width(ov.get("line_width", style[1]))
    alpha = _alpha(ov.get("alpha", style[2]))
    csys = (csys_name(str(ov["coord_sys"]).split())[0] if "coord_sys" in ov
            else st["csys"])
    if kind == "grid":
        if "coord_sys" not in ov:
            raise InputError(f"Overlay {k} has no 'coord_sys' attribute.")
        cmd.grids.append(Grid(csys, color, width, alpha))
    elif kind in ("imginfo", "catalog"):
        if "data_file" not in ov:
            raise InputError(f"Overlay {k} has no 'data_file' attribute.")
        if kind == "imginfo":
            cmd.overlays.append((_text(ov["data_file"], "data_file"), color, width,
                                 alpha))
            return
        dtype = str(ov.get("data_type", "flux")).lower()
        cmd.overlays.append(Catalog(
            str(ov["data_file"]), color, width, alpha, *_symbol(ov, st),
            str(ov.get("data_column", "")), float(ov.get("data_ref", 1.0)),
            "mag" if dtype.startswith("mag") else "log" if dtype.startswith("log")
            else "flux", csys))
    elif kind == "mark":
        for key in ("lon", "lat"):
            if key not in ov:
                raise InputError(f"Overlay {k} has no '{key}' attribute.")
        lon, lat = str(ov["lon"]), str(ov["lat"])
        cmd.marks.append(Mark(float(lon.rstrip("p")), float(lat.rstrip("p")),
                              "p" in lon or "p" in lat, color, width, alpha,
                              *_symbol(ov, st), csys))
    elif kind == "label":
        cmd.labels.append(_label(ov, k, color, alpha, st))
    else:
        raise InputError(f"overlay type '{kind}' is not implemented by diffview's "
                         "mViewer (imginfo, grid, catalog, mark, label)")


def _label(ov: dict, k: int, color, alpha: float, st: dict) -> Text:
    """Read a ``label`` overlay (``lon``, ``lat``, ``text``, ``font_scale``)."""
    for key in ("lon", "lat", "text"):
        if key not in ov:
            raise InputError(f"Overlay {k} has no '{key}' attribute.")
    try:
        scale = float(ov.get("font_scale", st.get("fontscale", 1.0)))
    except (TypeError, ValueError):
        scale = 0.0
    if not scale > 0.0:
        raise InputError(f"Font scale (overlay {k}) parameter must a number greater "
                         "than zero.")
    lon, lat = str(ov["lon"]), str(ov["lat"])
    return Text(c_atof(lon), c_atof(lat), "p" in lon or "p" in lat, str(ov["text"]),
                color, alpha, scale)


def parse_json(text: str):
    """
    Parse mViewer's JSON form.

    Parameters
    ----------
    text : str
        The JSON text (see the module's description for the keys).

    Returns
    -------
    ViewerCommand
        The command.

    Raises
    ------
    InputError
        Invalid JSON, no image, an overlay without its required keys, or
        overlay types diffview does not draw (``label``).

    Examples
    --------
    >>> c = parse_json('{"gray_file": {"fits_file": "a.fits", "stretch_min": "-1s",'
    ...                ' "stretch_max": "max", "stretch_mode": "gaussian-log",'
    ...                ' "color_table": 2}}')
    >>> c.gray, c.mode, c.ct
    ('a.fits', 'gaussian-log', 2)
    >>> c = parse_json('{"gray_file": {"fits_file": "a.fits"}, "overlays": ['
    ...                '{"type": "grid", "coord_sys": "galactic", "color": "red"}]}')
    >>> c.grids[0].csys, c.grids[0].color
    ('galactic', 'red')
    """
    try:
        return _parse_json(text)
    except (TypeError, ValueError, AttributeError, KeyError, RecursionError) as exc:
        if isinstance(exc, InputError):
            raise
        raise InputError(f"Invalid JSON structure ({str(exc)[:200]}).") from None


def _parse_json(text: str):
    """Do `parse_json`'s work (wrong-typed values raise what Python raises)."""
    from ._viewer import ViewerCommand

    try:
        d = json.loads(text)
    except (ValueError, TypeError, RecursionError) as exc:  # also: not text
        raise InputError(f"Invalid JSON ({str(exc)[:200]})") from None
    if not isinstance(d, dict):
        raise InputError("Invalid JSON structure.")
    cmd = ViewerCommand()
    st = cmd.sticky
    if "coord_sys" in d:
        st["csys"] = csys_name(str(d["coord_sys"]).split())[0]
    if "symbol" in d:
        st["symbol"], _ = parse_symbol(str(d["symbol"]).split() or ["?"], 3)
    cmd.ct = _integer(d.get("color_table", 0), "color_table")
    cmd.truecolor = float(d.get("true_color", 0.0))
    g = d.get("gray_file") or d.get("grey_file")
    if g:
        ch = _stretch(g, "gray")
        cmd.gray, cmd.vmin, cmd.vmax, cmd.mode, cmd.beta = ch[:5]
        cmd.ct = _integer(g.get("color_table", cmd.ct), "color_table")
    for name in ("red", "green", "blue"):
        if d.get(f"{name}_file"):
            setattr(cmd, name, _stretch(d[f"{name}_file"], name))
    if not 0 <= cmd.ct <= 12:
        raise InputError("Color table index must be a number between 0 and 12")
    if not (g or cmd.red or cmd.green or cmd.blue):
        raise InputError("Grayscale/pseudocolor mode but no gray image given")
    color = _text(d["color"], "color") if "color" in d else DEFAULT_COLOR
    style = (color, _width(d.get("line_width", 1.0)),
             _alpha(d.get("alpha", 1.0)))
    overlays = d.get("overlays", [])
    if not isinstance(overlays, list):
        raise InputError("JSON: 'overlays' must be a list of objects")
    for k, ov in enumerate(overlays):
        if not isinstance(ov, dict):
            raise InputError(f"JSON: overlay {k} must be an object, not "
                             f"{type(ov).__name__}")
        if str(ov.get("visible", "true")).lower() in ("false", "no", "0"):
            continue
        _layer(ov, k, cmd, st, style)
    cmd.noflip = _flag(d.get("noflip", False), "noflip")
    return cmd
