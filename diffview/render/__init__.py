"""Pictures: mViewer's stretches and colour tables, rasterised outlines, PNG.

`diffview.render.mpl` (matplotlib norms, colour maps and artists) is imported
on its own, so that `import diffview.render` does not load matplotlib.
"""

from ._render import (
    Overlay,
    ViewResult,
    burn_overlay,
    load_image,
    release_buffers,
    render_png,
    render_rgb,
    retain_heap,
    view,
    write_png,
)
from .colortables import NTABLES, TABLE_NAMES, color_rgb, color_table, overlay_rgb255
from .stretch import (
    MODES,
    NBIN,
    MontageHistogram,
    RangeError,
    RangeSpec,
    Stretch,
    compute_stretch,
    grey_levels,
    histogram,
    parse_mode,
    parse_range,
    snpinv,
    symmetric_interval,
)

__all__ = [
    "RangeError",
    "RangeSpec",
    "MODES",
    "NBIN",
    "parse_range",
    "parse_mode",
    "MontageHistogram",
    "histogram",
    "Stretch",
    "compute_stretch",
    "grey_levels",
    "symmetric_interval",
    "snpinv",
    "NTABLES",
    "TABLE_NAMES",
    "color_table",
    "color_rgb",
    "overlay_rgb255",
    "Overlay",
    "ViewResult",
    "load_image",
    "render_rgb",
    "burn_overlay",
    "write_png",
    "render_png",
    "view",
    "release_buffers",
    "retain_heap",
]
