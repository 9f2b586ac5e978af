"""
mViewer's command grammar: its command strings, token lists and JSON.

Command strings are split as mViewer splits them, not as a shell does (see
`parse_command`); directives are read left to right with sticky ``-color``,
``-linewidth`` and ``-alpha`` (``docs/montage-semantics.md`` §8.3). Numbers
are read as mViewer reads them: ``-saturate`` with C's ``atof`` and clamped
to a grey level, ``-alpha`` within 0..1; JSON values of the wrong type are an
`InputError` naming the key.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field

from diffview.errors import InputError
from diffview.render import c_atof

__all__ = ["ViewerCommand", "parse_command", "parse_json"]

_UNSUPPORTED = {"-red", "-green", "-blue", "-grid", "-catalog", "-mark", "-label",
                "-draw", "-symbol", "-colorcol", "-scalecol", "-sizecol",
                "-shapecol", "-labelcol", "-histfile", "-t", "-truecolor",
                "-tzero", "-imgalpha", "-brightness", "-contrast", "-fontscale",
                "-file"}

#: mViewer's answer to a command of fewer than two words.
_USAGE = ("Parameters: [-d] [-nowcs] [-noflip] [-ct color-table] "
          "-gray in.fits minrange maxrange [logpower/gaussian] -out out.png")

_SPACE = " \t\n\r"

#: mViewer's message for a line width of 0 or less (its wording).
_BAD_WIDTH = "Line width parameter must a number greater than zero."


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


def _split_command(text: str) -> list[str]:
    """
    Split a command string into words as mViewer does.

    Words are separated by blanks (space, tab, line breaks). A word that
    starts with ``"`` runs to the next ``"`` (blanks included, quotes
    removed; to the end of the string when there is none) and what follows
    that quote up to the next blank is dropped. Quotes inside a word,
    single quotes and backslashes are ordinary characters. A NUL ends the
    string, as in C.
    """
    s = text.split("\0", 1)[0]
    words, i, n = [], 0, len(s)
    while i < n:
        if s[i] in _SPACE:
            i += 1
            continue
        if s[i] == '"':
            j = s.find('"', i + 1)
            j = n if j < 0 else j
            words.append(s[i + 1 : j])
        else:
            j = i
        while j < n and s[j] not in _SPACE:
            j += 1
        if s[i] != '"':
            words.append(s[i:j])
        i = j
    return words


def _saturation(token: str) -> int:
    """Read ``-saturate`` as mViewer does: C's ``atof``, clamped to 0..255."""
    v = c_atof(token)
    return 0 if math.isnan(v) else int(min(max(v, 0.0), 255.0))


def parse_command(cmdstr) -> ViewerCommand:
    """
    Parse an mViewer command string (or token list).

    Parameters
    ----------
    cmdstr : str or sequence of str
        The command, split into words as mViewer splits it (blanks separate
        words; ``"..."`` makes one word, quotes removed; single quotes and
        backslashes are plain characters), or its words.

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
        an ``-alpha`` outside 0..1.

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
        tokens = _split_command(cmdstr)
        if len(tokens) < 2:
            raise InputError(_USAGE)
    else:
        tokens = [str(t) for t in cmdstr]
    cmd = ViewerCommand()
    color, width, alpha = "gray", 1.0, 1.0
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
                raise InputError("-histfile is not implemented by diffview's mViewer")
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
                raise InputError(_BAD_WIDTH)
            i += 2
            continue
        if t == "-alpha":
            alpha = number(t, "alpha")
            if not 0.0 <= alpha <= 1.0:
                raise InputError("Opacity (alpha) must a number between zero and one.")
            i += 2
            continue
        if t == "-imginfo":
            need(1, t)
            cmd.overlays.append((tokens[i + 1], color, width, alpha))
            i += 2
            continue
        if t == "-csys":
            need(1, t)
            if not tokens[i + 1].lower().startswith("eq"):
                raise InputError("-csys other than equatorial is not implemented by "
                                 "diffview's mViewer")
            i += 2
            if i < len(tokens) and tokens[i][:1] in ("J", "j", "B", "b"):
                i += 1
            continue
        if t in ("-out", "-png", "-jpeg"):
            need(1, t)
            cmd.out = tokens[i + 1]
            cmd.out_fmt = "jpeg" if t == "-jpeg" else "png"
            i += 2
            continue
        if t == "-saturate":
            need(1, t)
            cmd.saturate = _saturation(tokens[i + 1])
            i += 2
            continue
        if t == "-noflip":
            cmd.noflip = True
            i += 1
            continue
        if t in ("-nowcs", "-debug"):
            i += 1
            continue
        if t in _UNSUPPORTED:
            raise InputError(f"mViewer directive {t} is not implemented by diffview "
                             "(implemented: -gray/-grey, -ct, -color, -linewidth, "
                             "-alpha, -imginfo, -csys eq, -noflip, -saturate, "
                             "-out/-png/-jpeg)")
        raise InputError(f"Invalid 'directive': {t} (probably a misplaced argument)")
    return cmd


def parse_json(text: str) -> ViewerCommand:
    """
    Parse mViewer's JSON form (``gray_file`` and ``imginfo`` overlays).

    Parameters
    ----------
    text : str
        The JSON text: a ``gray_file`` (or ``grey_file``) object with
        ``fits_file``, ``stretch_min``, ``stretch_max``, ``stretch_mode``,
        ``stretch_beta`` and ``color_table``; optional ``color``,
        ``line_width``, ``noflip`` and ``overlays`` of type ``imginfo``.

    Returns
    -------
    ViewerCommand
        The command.

    Raises
    ------
    InputError
        Invalid JSON, no gray image, overlays other than ``imginfo``, or a
        value of the wrong type (an object where a file name is expected, a
        colour table that is not an integer 0..12), naming the key.

    Examples
    --------
    >>> c = parse_json('{"gray_file": {"fits_file": "a.fits", "stretch_min": "-1s",'
    ...                ' "stretch_max": "max", "stretch_mode": "gaussian-log",'
    ...                ' "color_table": 2}}')
    >>> c.gray, c.mode, c.ct
    ('a.fits', 'gaussian-log', 2)
    """
    try:
        d = json.loads(text)
    except (ValueError, TypeError, RecursionError) as exc:  # also: not text
        raise InputError(f"Invalid JSON ({exc})") from None
    d = _json_object(d, "JSON")
    cmd = ViewerCommand()
    g = d.get("gray_file") or d.get("grey_file")
    if not g:
        raise InputError("Grayscale/pseudocolor mode but no gray image given")
    g = _json_object(g, "gray_file")
    cmd.gray = _json_text(g.get("fits_file", ""), "fits_file")
    cmd.ct = _json_int(g.get("color_table", 0), "color_table")
    if not 0 <= cmd.ct <= 12:
        raise InputError("Color table index must be a number between 0 and 12")
    cmd.vmin = _json_text(g.get("stretch_min", "min"), "stretch_min")
    cmd.vmax = _json_text(g.get("stretch_max", "max"), "stretch_max")
    mode = _json_text(g.get("stretch_mode", "linear"), "stretch_mode")
    beta = _json_text(g.get("stretch_beta", "2s"), "stretch_beta")
    if mode and not _stretch_token([mode, beta], 0, cmd):
        cmd.mode = "linear"
    color = _json_text(d.get("color", "gray"), "color")
    width = _json_number(d.get("line_width", 1.0), "line_width")
    overlays = d.get("overlays", [])
    if not isinstance(overlays, list):
        raise InputError("JSON: 'overlays' must be a list of objects")
    for ov in overlays:
        ov = _json_object(ov, "overlay")
        if ov.get("type") != "imginfo":
            raise InputError(f"overlay type '{ov.get('type')}' is not implemented by "
                             "diffview's mViewer (only imginfo)")
        alpha = _json_number(ov.get("alpha", 1.0), "alpha")
        if not 0.0 <= alpha <= 1.0:
            raise InputError("Opacity (alpha) must a number between zero and one.")
        line_width = _json_number(ov.get("line_width", width), "line_width")
        if line_width <= 0.0:
            raise InputError(_BAD_WIDTH)
        cmd.overlays.append((_json_text(ov.get("data_file", ""), "data_file"),
                             _json_text(ov.get("color", color), "color"),
                             line_width, alpha))
    cmd.noflip = _json_flag(d.get("noflip", False), "noflip")
    return cmd


def _json_object(value, what: str) -> dict:
    if not isinstance(value, dict):
        raise InputError(f"JSON: '{what}' must be an object, not "
                         f"{type(value).__name__}")
    return value


def _json_text(value, key: str) -> str:
    """Return a JSON string or number as the text mViewer would read."""
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise InputError(f"JSON: '{key}' must be a string or a number, not "
                         f"{json.dumps(value)[:40]}")
    return value if isinstance(value, str) else repr(value)


def _json_number(value, key: str) -> float:
    text = _json_text(value, key)
    try:
        return float(text)
    except ValueError:
        raise InputError(f"JSON: '{key}' must be a number, not {text[:40]!r}") from None


def _json_int(value, key: str) -> int:
    v = _json_number(value, key)
    if not v.is_integer():
        raise InputError(f"JSON: '{key}' must be an integer, not {value!r}")
    return int(v)


def _json_flag(value, key: str) -> bool:
    if isinstance(value, bool) or value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.lower() in ("true", "false", "0", "1"):
        return value.lower() in ("true", "1")
    raise InputError(f"JSON: '{key}' must be true or false, not {value!r}")
