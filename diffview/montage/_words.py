"""
How mViewer reads its command string: words, and numbers read with C's ``atof``.

Command strings are split as mViewer splits them, not as a shell does
(`split_command`); ``-saturate`` is read with C's ``atof`` and clamped to a
grey level; mViewer's wording for a command too short and a bad line width.
"""

from __future__ import annotations

import math

from diffview.render import c_atof

__all__ = ["DEFAULT_COLOR", "split_command", "saturation", "USAGE", "BAD_WIDTH",
           "BAD_ALPHA"]

#: mViewer's overlay colour before any ``-color``: 0.5 in each channel (127
#: when drawn), where ``-color gray`` and unknown words give 128/255 (128).
DEFAULT_COLOR = (0.5, 0.5, 0.5)

#: mViewer's answer to a command of fewer than two words.
USAGE = ("Parameters: [-d] [-nowcs] [-noflip] [-t(rue-color) power] "
         "[-ct color-table] [-grid csys [epoch]] -gray in.fits minrange maxrange "
         "[logpower/gaussian] -red red.fits rminrange rmaxrange "
         "[rlogpower/gaussian] -green green.fits gminrange gmaxrange "
         "[glogpower/gaussian] -blue blue.fits bminrange bmaxrange "
         "[blogpower/gaussian] -out out.png")

#: mViewer's message for a line width of 0 or less (its wording).
BAD_WIDTH = "Line width parameter must a number greater than zero."

#: mViewer's message for an opacity outside 0..1 (its wording).
BAD_ALPHA = "Opacity (alpha) must a number between zero and one."

_SPACE = " \t\n\r"


def split_command(text: str) -> list[str]:
    """
    Split a command string into words as mViewer does.

    Words are separated by blanks (space, tab, line breaks). A word that
    starts with ``"`` runs to the next ``"`` (blanks included, quotes
    removed; to the end of the string when there is none) and what follows
    that quote up to the next blank is dropped. Quotes inside a word,
    single quotes and backslashes are ordinary characters. A NUL ends the
    string, as in C.

    Parameters
    ----------
    text : str
        The command string.

    Returns
    -------
    list of str
        Its words.

    Examples
    --------
    >>> split_command('-gray "my file.fits" -1s max gl')
    ['-gray', 'my file.fits', '-1s', 'max', 'gl']
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


def saturation(token: str) -> int:
    """
    Read ``-saturate`` as mViewer does: C's ``atof``, clamped to 0..255.

    Parameters
    ----------
    token : str
        The word after ``-saturate``.

    Returns
    -------
    int
        The grey level of blank pixels.

    Examples
    --------
    >>> saturation("300"), saturation("x"), saturation("-5"), saturation("12.7")
    (255, 0, 0, 12)
    """
    v = c_atof(token)
    return 0 if math.isnan(v) else int(min(max(v, 0.0), 255.0))
