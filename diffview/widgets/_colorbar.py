"""
The difference's colour bar as HTML: a strip of 256 colours and tick labels.

The colour bar changes with every pair (its range) and with the stretch
(where the colours change along it). Drawn by matplotlib it was a canvas
frame of its own per pair: about 6 ms of the kernel's text layout and a PNG,
then a decode and ipympl's re-encoding in the browser, shipped before the
panels. As HTML it is one small widget update: a 256 x 1 PNG of the colours
(stretched to the bar's width by the browser) and the tick labels placed in
percent of the width.

The strip shows the colour of each value along a linear data axis from the
display range's low to its high end, so a non-linear stretch shows as where
the colours change, as the matplotlib bar did.
"""

from __future__ import annotations

import html
import math
from base64 import b64encode

import numpy as np
from matplotlib.ticker import MaxNLocator

from diffview.render import png_bytes

__all__ = ["colorbar_ticks", "colorbar_html", "strip_png"]

#: Colours along the strip.
STRIP = 256


def colorbar_ticks(lo: float, hi: float, n: int = 5) -> list[tuple[float, str, float]]:
    """
    Choose round tick values inside a range, with labels and positions.

    Parameters
    ----------
    lo, hi : float
        The range (``hi > lo``).
    n : int
        At most about this many ticks (matplotlib's `MaxNLocator`).

    Returns
    -------
    list of (float, str, float)
        Value, label and position (0 at ``lo``, 1 at ``hi``) of each tick;
        labels show as many decimals as the step needs.

    Examples
    --------
    >>> [label for _, label, _ in colorbar_ticks(-12.24, -2.08)]
    ['-10.0', '-7.5', '-5.0', '-2.5']
    >>> [label for _, label, _ in colorbar_ticks(-12.6, 196.3)]
    ['0', '50', '100', '150']
    >>> colorbar_ticks(0.0, 1e-4, 2)[1]
    (5e-05, '5e-05', 0.5)
    """
    values = [v for v in MaxNLocator(n).tick_values(lo, hi) if lo <= v <= hi]
    if len(values) < 2:
        values = [lo, hi]
    step = abs(values[1] - values[0]) or abs(hi - lo) or 1.0
    magnitude = max(abs(lo), abs(hi))
    if 1e-3 <= magnitude < 1e6 and step >= 1e-4:
        decimals = max(0, -math.floor(math.log10(step)))
        while decimals < 12 and abs(round(step, decimals) - step) > 1e-9 * step:
            decimals += 1  # 2.5: one decimal, 0.0015: four
        labels = [f"{v:.{decimals}f}" for v in values]
    else:
        labels = [f"{v:.3g}" for v in values]
    labels = [t.lstrip("-") if float(t) == 0 else t for t in labels]  # no "-0"
    return [
        (float(v), t, float((v - lo) / (hi - lo)))
        for v, t in zip(values, labels, strict=True)
    ]


def strip_png(norm, cmap, lo: float, hi: float) -> bytes:
    """
    Encode the colours of a range of values as a `STRIP` x 1 PNG.

    Parameters
    ----------
    norm : matplotlib.colors.Normalize
        The difference's norm.
    cmap : matplotlib.colors.Colormap
        Its colour table.
    lo, hi : float
        The values at the strip's ends (the display range).

    Returns
    -------
    bytes
        The PNG.

    Examples
    --------
    >>> from matplotlib.colors import Normalize
    >>> from matplotlib import colormaps
    >>> strip_png(Normalize(0, 1), colormaps["gray"], 0.0, 1.0)[1:4]
    b'PNG'
    """
    values = np.linspace(lo, hi, STRIP)
    rgba = (np.asarray(cmap(norm(values))) * 255 + 0.5).astype(np.uint8)
    return png_bytes(rgba[None, :, :])


def colorbar_html(norm, cmap, span, width: int, label: str = "") -> str:
    """
    Write the colour bar: the colour strip, tick marks and labels, a label.

    Parameters
    ----------
    norm : matplotlib.colors.Normalize
        The difference's norm.
    cmap : matplotlib.colors.Colormap
        Its colour table.
    span : (float, float)
        The values at the bar's ends (the display range; ``hi > lo``).
    width : int
        Width of the strip, CSS pixels.
    label : str
        The text under it (unit, stretch, range); escaped here.

    Returns
    -------
    str
        The HTML (classes ``dv-cbar``, ``dv-cbar-strip``, ``dv-cbar-tick``
        and ``dv-colorbar-label``).

    Examples
    --------
    >>> from matplotlib.colors import Normalize
    >>> from matplotlib import colormaps
    >>> text = colorbar_html(Normalize(-1, 1), colormaps["gray"], (-1, 1), 200, "a < b")
    >>> text.count("dv-cbar-tick"), "a &lt; b" in text
    (5, True)
    """
    lo, hi = (float(v) for v in span)
    src = "data:image/png;base64," + b64encode(strip_png(norm, cmap, lo, hi)).decode()
    ticks = "".join(
        f"<span class='dv-cbar-tick' style='position:absolute;top:12px;"
        f"left:{100 * x:.3f}%;transform:translateX(-50%);text-align:center;"
        f"line-height:1'>|<br>{html.escape(text)}</span>"
        for _, text, x in (colorbar_ticks(lo, hi) if hi > lo else [])
    )
    return (
        f"<div class='dv-cbar' style='position:relative;width:{int(width)}px;"
        f"height:34px;margin:0 auto;font-size:10px;color:#333'>"
        f"<img class='dv-cbar-strip' src='{src}' alt='colours of the display range' "
        f"style='position:absolute;left:0;top:0;width:100%;height:12px;"
        f"border:1px solid #888;box-sizing:border-box'>{ticks}</div>"
        f"<div class='dv-colorbar-label' style='font-size:11px;text-align:right'>"
        f"{html.escape(label)}</div>"
    )
