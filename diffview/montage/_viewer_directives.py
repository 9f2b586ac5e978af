"""
mViewer's overlay and colour directives beyond ``-gray`` and ``-imginfo``.

``-grid``, ``-symbol``, ``-scalecol``, ``-mark``, ``-catalog``, ``-csys``,
``-red``/``-green``/``-blue`` and ``-t``, read with mViewer's grammar
(``docs/montage-semantics.md`` §8.3, §8.10): sticky ``-color``,
``-linewidth``, ``-alpha``, ``-csys`` and ``-symbol`` apply to the layers
after them. `extra_directive` is called by `diffview.montage.parse_command`
for the directives it does not read itself.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from diffview.errors import InputError
from diffview.geometry import SYMBOL_SHAPES

__all__ = ["Channel", "Grid", "Mark", "Text", "Catalog", "extra_directive",
           "parse_symbol", "parse_size", "sticky_defaults", "csys_name"]

_UNITS = {"s": "arcsec", "m": "arcmin", "d": "deg", "p": "pixels"}
_NUMBER = re.compile(r"\s*[-+]?(\d+\.?\d*([eE][-+]?\d+)?|\.\d+([eE][-+]?\d+)?)$")


class Channel(NamedTuple):
    """One image of a three-colour picture (``-red``/``-green``/``-blue``)."""

    file: str
    vmin: str = "min"
    vmax: str = "max"
    mode: str = "linear"
    beta: str = "2s"
    hist: str | None = None


class Grid(NamedTuple):
    """A coordinate grid (``-grid``): frame, colour, width, opacity, label scale."""

    csys: str
    color: str
    width: float
    alpha: float
    fontscale: float = 1.0


class Mark(NamedTuple):
    """A marker (``-mark``): position, symbol and style."""

    lon: float
    lat: float
    inpix: bool
    color: str
    width: float
    alpha: float
    symbol: tuple
    size: float
    units: str
    csys: str


class Text(NamedTuple):
    """A text label (``-label``): position, text and style (sticky ``-fontscale``)."""

    lon: float
    lat: float
    inpix: bool
    text: str
    color: str
    alpha: float
    fontscale: float = 1.0


class Catalog(NamedTuple):
    """A catalog overlay (``-catalog``); ``table`` first, as ``-imginfo``'s tuples."""

    table: str
    color: str
    width: float
    alpha: float
    symbol: tuple
    size: float
    units: str
    scale_col: str
    scale_val: float
    scale_type: str
    csys: str
    size_col: str = ""
    shape_col: str = ""
    color_col: str = ""


def sticky_defaults() -> dict:
    """
    Return mViewer's initial sticky symbol, scaling and frame settings.

    Returns
    -------
    dict
        ``symbol`` (vertices, vertices drawn, kind, rotation), ``size``,
        ``units``, ``scale_col``, ``scale_val``, ``scale_type``, ``csys``,
        ``size_col``, ``shape_col``, ``color_col``.

    Examples
    --------
    >>> sticky_defaults()["symbol"], sticky_defaults()["size"]
    ((3, 0, 0, 0.0), 0.5)
    """
    return {"symbol": (3, 0, 0, 0.0), "size": 0.5, "units": "fractional",
            "scale_col": "", "scale_val": 1.0, "scale_type": "flux",
            "csys": "equatorial", "size_col": "", "shape_col": "",
            "color_col": ""}


def _c_number(text: str):
    """Read a number written in full (C's ``strtod`` consuming it all), else None."""
    return float(text) if _NUMBER.match(text) else None


def parse_size(text: str):
    """
    Read a symbol size: a number with an optional unit letter.

    Parameters
    ----------
    text : str
        ``2.5`` (fraction of the character height), ``20s``, ``1m``,
        ``0.1d`` or ``10p``.

    Returns
    -------
    (float, str)
        Size and units (``fractional``, ``arcsec``, ``arcmin``, ``deg``,
        ``pixels``).

    Raises
    ------
    InputError
        ``Invalid symbol size``.

    Examples
    --------
    >>> parse_size("20s"), parse_size("1.5")
    ((20.0, 'arcsec'), (1.5, 'fractional'))
    """
    units = _UNITS.get(text[-1:], "fractional")
    value = _c_number(text[:-1] if units != "fractional" else text)
    if value is None:
        raise InputError("Invalid symbol size")
    return value, units


def _named_shape(token: str):
    t = token.lower()
    for name, shape in SYMBOL_SHAPES.items():
        n = 2 if name == "el" else 3
        if len(t) >= n and t[:n] == name[:n]:
            return shape
    return None


def parse_symbol(words, npnt: int = 3):
    """
    Read a symbol shape as mViewer's ``-symbol`` does (after the size).

    Parameters
    ----------
    words : sequence of str
        A name (``circle``, ``box``, ``triangle``, ``diamond``, ``pentagon``,
        ``hexagon``, ``septagon``, ``octagon``, ``plus``, ``el``,
        ``compass``), or a kind (number, ``polygon``, ``starred``,
        ``skeletal``) followed by an optional vertex count and rotation.
    npnt : int
        Vertices kept when only a kind is given.

    Returns
    -------
    (tuple, int)
        ``(vertices, vertices drawn, kind, rotation)`` and the number of
        words used.

    Raises
    ------
    InputError
        mViewer's messages for a bad kind, vertex count or angle.

    Examples
    --------
    >>> parse_symbol(["starred", "5", "36"])
    ((5, 0, 1, 36.0), 3)
    >>> parse_symbol(["circle"])
    ((128, 0, 0, 0.0), 1)
    """
    shape = _named_shape(words[0])
    if shape is not None:
        return shape, 1
    w = words[0]
    if re.fullmatch(r"[-+]?\d+", w.strip()):
        kind = int(w)
    elif w[:1].lower() == "p":
        kind = 0
    elif w[:2].lower() == "st":
        kind = 1
    elif w[:2].lower() == "sk":
        kind = 2
    else:
        raise InputError("Invalid symbol type")
    used, rot = 1, 0.0
    if len(words) > 1 and not words[1].startswith("-"):
        if not re.fullmatch(r"\s*[-+]?\d+", words[1]) or int(words[1]) < 3:
            raise InputError("Invalid vertex count for symbol "
                             "(must be an integer >= 3)")
        npnt, used = int(words[1]), 2
        if len(words) > 2 and not words[2].startswith("-"):
            rot = _c_number(words[2])
            if rot is None:
                raise InputError("Invalid rotation angle for symbol (must be number)")
            used = 3
    return (npnt, 0, kind, rot), used


def csys_name(words) -> tuple[str, int]:
    """
    Read mViewer's coordinate system arguments (``eq``/``ga``/``ec`` [epoch]).

    Parameters
    ----------
    words : sequence of str
        The system, then maybe an epoch (a word starting with J or B).

    Returns
    -------
    (str, int)
        ``equatorial``, ``galactic`` or ``ecliptic`` (J2000) and the number
        of words used.

    Raises
    ------
    InputError
        Besselian epochs (not implemented) or no system given.

    Examples
    --------
    >>> csys_name(["ga"]), csys_name(["eq", "J2000"])
    (('galactic', 1), ('equatorial', 2))
    """
    if not words:
        raise InputError("Too few arguments following coordinate system flag")
    used = 1
    if len(words) > 1 and words[1][:1] in "jJbB" and words[1]:
        if words[1][:1] in "bB" or words[1][1:] not in ("2000", "2000.", "2000.0"):
            raise InputError(f"coordinate epoch {words[1]} is not implemented by "
                             "diffview's mViewer (J2000 only)")
        used = 2
    w = words[0].lower()
    return ("ecliptic" if w.startswith("ec") else "galactic" if w.startswith("ga")
            else "equatorial"), used


def _symbol_directive(tokens, i, st):
    if i + 1 >= len(tokens):
        raise InputError("Too few arguments following -symbol flag")
    npnt = st["symbol"][0]
    st["size"], st["symbol"] = 0.0, (npnt, 0, 0, 0.0)
    if tokens[i + 1] == "none":
        return i + 2
    st["size"], st["units"] = parse_size(tokens[i + 1])
    i += 2
    if i < len(tokens) and not tokens[i].startswith("-"):
        st["symbol"], used = parse_symbol(tokens[i:], npnt)
        i += used
    return i


def _scale_args(tokens, i, st, into: dict):
    """Read the optional ``column [value [type]]`` after -scalecol/-catalog."""
    def word(k):
        return k < len(tokens) and not tokens[k].startswith("-")

    if word(i):
        into["scale_col"] = tokens[i]
        i += 1
        if word(i):
            into["scale_val"] = _atof(tokens[i])
            i += 1
            if word(i):
                t = tokens[i].lower()
                into["scale_type"] = ("mag" if t.startswith("mag") else "log"
                                      if t.startswith("log") else "flux")
                i += 1
    return i


def _atof(text: str) -> float:
    """C's ``atof``: the longest leading number, else 0."""
    m = re.match(r"\s*[-+]?(\d+\.?\d*([eE][-+]?\d+)?|\.\d+([eE][-+]?\d+)?)", text)
    return float(m.group(0)) if m else 0.0


def _channel(tokens, i, name):
    if i + 3 >= len(tokens):
        raise InputError(f"Too few arguments following {name} flag")
    if tokens[i + 2] == "-histfile":
        return Channel(tokens[i + 1], hist=tokens[i + 3]), i + 4
    from ._viewer import ViewerCommand, _stretch_token

    c = ViewerCommand()
    j = i + 4 + _stretch_token(tokens, i + 4, c)
    return Channel(tokens[i + 1], tokens[i + 2], tokens[i + 3], c.mode, c.beta), j


def extra_directive(tokens, i, cmd, color, width, alpha):
    """
    Read one of mViewer's overlay or colour directives.

    Parameters
    ----------
    tokens : list of str
        The command's words.
    i : int
        Position of the directive.
    cmd : ViewerCommand
        The command being read (changed in place; its ``sticky`` settings
        too).
    color, width, alpha
        The sticky ``-color``, ``-linewidth`` and ``-alpha``.

    Returns
    -------
    int or None
        Position after the directive's arguments; None when ``tokens[i]``
        is none of these directives.

    Raises
    ------
    InputError
        Missing or bad arguments, with mViewer's wording.

    Examples
    --------
    >>> from diffview.montage import parse_command
    >>> c = parse_command("-symbol 20s box -color red -mark 10 20 -gray a.fits min max")
    >>> c.marks[0].symbol, c.marks[0].size, c.marks[0].units, c.marks[0].color
    ((4, 0, 0, 45.0), 20.0, 'arcsec', 'red')
    """
    t, st = tokens[i], cmd.sticky
    if t == "-symbol":
        return _symbol_directive(tokens, i, st)
    if t == "-scalecol":
        if i + 1 < len(tokens) and tokens[i + 1] == "none":
            st["scale_col"] = ""
            return i + 2
        st.update(scale_val=1.0, scale_type="flux")
        return _scale_args(tokens, i + 1, st, st)
    if t in ("-sizecol", "-shapecol", "-colorcol"):
        if i + 1 >= len(tokens):
            raise InputError("No color column given." if t == "-colorcol" else
                             f"No symbol {t[1:-3]} column given.")
        st[t[1:-3] + "_col"] = "" if tokens[i + 1] == "none" else tokens[i + 1]
        return i + 2
    if t == "-csys":
        st["csys"], used = csys_name(tokens[i + 1:])
        return i + 1 + used
    if t == "-grid":
        csys, used = csys_name(tokens[i + 1:])
        cmd.grids.append(Grid(csys, color, width, alpha,
                              cmd.sticky.get("fontscale", 1.0)))
        return i + 1 + used
    if t == "-mark":
        if i + 2 >= len(tokens):
            raise InputError("Too few arguments following -mark flag")
        a, b = tokens[i + 1], tokens[i + 2]
        cmd.marks.append(Mark(_atof(a), _atof(b), "p" in a or "p" in b, color, width,
                              alpha, st["symbol"], st["size"], st["units"], st["csys"]))
        return i + 3
    if t == "-label":
        if i + 3 >= len(tokens):
            raise InputError("Too few arguments following -label flag")
        a, b = tokens[i + 1], tokens[i + 2]
        cmd.labels.append(Text(_atof(a), _atof(b), "p" in a or "p" in b, tokens[i + 3],
                               color, alpha, st.get("fontscale", 1.0)))
        return i + 4
    if t == "-catalog":
        if i + 1 >= len(tokens):
            raise InputError("Too few arguments following -catalog flag")
        sc = {k: st[k] for k in ("scale_col", "scale_val", "scale_type")}
        j = _scale_args(tokens, i + 2, st, sc)
        cmd.overlays.append(Catalog(tokens[i + 1], color, width, alpha, st["symbol"],
                                    st["size"], st["units"], sc["scale_col"],
                                    sc["scale_val"], sc["scale_type"], st["csys"],
                                    st["size_col"], st["shape_col"],
                                    st["color_col"]))
        return j
    if t in ("-red", "-green", "-blue"):
        ch, j = _channel(tokens, i, t)
        setattr(cmd, t[1:], ch)
        return j
    if t == "-t":
        v = _c_number(tokens[i + 1]) if i + 1 < len(tokens) else None
        if v is None or not 1.0 <= v <= 4.0:
            raise InputError("Color enhancement parameter must be a number between "
                             "1. and 4.")
        cmd.truecolor = v
        return i + 2
    return None
