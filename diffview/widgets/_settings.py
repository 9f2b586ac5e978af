"""
What the user asked the pictures to look like, checked before it is used.

`DisplaySettings` holds the stretch mode, the display range strings, the
colour table and the partial-pixel choice; `checked_settings` refuses what
mViewer would not draw (an unknown mode or colour table, ``nan``/``inf``
ranges) and `check_ranges` ranges that resolve to no picture on a pair, so
the dashboard can say what is wrong and keep its last good picture.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from diffview.errors import InputError
from diffview.render import STRETCH_MODES, TABLE_NAMES, parse_range

__all__ = ["DisplaySettings", "checked_settings", "check_ranges"]


@dataclass(frozen=True)
class DisplaySettings:
    """
    How the pair panels are drawn, in mViewer's vocabulary.

    Parameters
    ----------
    mode : str
        Stretch mode, one of `STRETCH_MODES`.
    vmin, vmax : str
        mViewer range strings (``'-2s'``, ``'99.5%'``, ``'max'``, values).
    ct : int
        mViewer colour table (0..12).
    partial : bool
        Let the partly covered pixels along a difference's edge (see
        `partial_pixels`) set the display ranges of the difference and
        residual panels and the histogram's; by default they are drawn but
        left out of the ranges, which the interior sets.

    Examples
    --------
    >>> DisplaySettings()
    DisplaySettings(mode='gaussian-log', vmin='-2s', vmax='max', ct=1, partial=False)
    >>> DisplaySettings(vmin="min").vmin
    'min'
    """

    mode: str = "gaussian-log"
    vmin: str = "-2s"
    vmax: str = "max"
    ct: int = 1
    partial: bool = False


def checked_settings(new: DisplaySettings) -> DisplaySettings:
    """
    Check the mode, colour table and range strings of display settings.

    Parameters
    ----------
    new : DisplaySettings
        Settings typed or chosen by the user.

    Returns
    -------
    DisplaySettings
        The same, ``ct`` an int and ``partial`` a bool.

    Raises
    ------
    diffview.InputError
        An unknown mode or colour table, an invalid or infinite range.

    Examples
    --------
    >>> checked_settings(DisplaySettings(vmin="inf"))
    Traceback (most recent call last):
    ...
    diffview.errors.InputError: display min 'inf' is not a finite number
    >>> checked_settings(DisplaySettings(ct=13))
    Traceback (most recent call last):
    ...
    diffview.errors.InputError: colour table 13 is not one of mViewer's tables 0..12
    """
    if new.mode not in STRETCH_MODES:
        raise InputError(
            f"unknown stretch mode {new.mode!r}; use one of " + ", ".join(STRETCH_MODES)
        )
    ct = new.ct
    if (
        isinstance(ct, bool)
        or not isinstance(ct, (int, np.integer))
        or (int(ct) not in TABLE_NAMES)
    ):
        raise InputError(
            f"colour table {ct!r} is not one of mViewer's tables "
            f"{min(TABLE_NAMES)}..{max(TABLE_NAMES)}"
        )
    for kind, text in (("display min", new.vmin), ("display max", new.vmax)):
        spec = parse_range(text, kind)
        if not (math.isfinite(spec.value) and math.isfinite(spec.extra)):
            raise InputError(f"{kind} {text!r} is not a finite number")
    return replace(new, ct=int(ct), partial=bool(new.partial))


def check_ranges(resolved: dict, settings: DisplaySettings) -> None:
    """
    Refuse display ranges that are not finite, or run backwards everywhere.

    One pair of range strings serves every panel; a typed value range (say
    ``0 .. 1.5``) may run backwards on the images and still suit the
    difference, so only a range backwards on every panel is refused.

    Parameters
    ----------
    resolved : dict
        ``panel -> diffview.render.Stretch`` (or None: a panel without data).
    settings : DisplaySettings
        The settings they were resolved from.

    Raises
    ------
    diffview.InputError
        A ``vmin`` or ``vmax`` that is not finite, or ``vmin > vmax`` on
        every panel with data.

    Examples
    --------
    >>> from diffview.render import compute_stretch
    >>> s = compute_stretch(np.arange(10.0), "max", "min", "linear")
    >>> check_ranges({"difference": s}, DisplaySettings(vmin="max", vmax="min"))
    Traceback (most recent call last):
    ...
    diffview.errors.InputError: display min 'max' (9) is above display max 'min' (0) ...
    """
    shown = {p: s for p, s in resolved.items() if s is not None}
    for panel, s in shown.items():
        if not (math.isfinite(s.vmin) and math.isfinite(s.vmax)):
            raise InputError(
                f"display range {settings.vmin!r} .. {settings.vmax!r} is not "
                f"finite on the {panel} panel ({s.vmin:.6g} .. {s.vmax:.6g})"
            )
    if shown and all(s.vmin > s.vmax for s in shown.values()):
        panel = "difference" if "difference" in shown else next(iter(shown))
        s = shown[panel]
        raise InputError(
            f"display min {settings.vmin!r} ({s.vmin:.6g}) is above display max "
            f"{settings.vmax!r} ({s.vmax:.6g}) on the {panel} panel"
        )
