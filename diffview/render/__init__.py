"""Pictures: mViewer's stretches and colour tables, rasterised outlines, PNG.

`view` renders an image file or array the mViewer way (with the outlines of
an image table); `draw_picture` is its fast path, with overlays worked out
on a background pool (`OverlayPlans`); `compute_stretch` resolves mViewer's
range strings and stretches grey level for grey level.

`diffview.render.mpl` (matplotlib norms, colour maps and artists) is imported
on its own, so that `import diffview.render` does not load matplotlib.
"""

from ._arena import release_buffers, retain_heap
from ._color import channel_values, compose_rgb
from ._gauss import snpinv
from ._histogram import NBIN, MontageHistogram, histogram
from ._picture import OverlayPlans, Picture, draw_picture, render_rgb
from ._png import png_bytes, write_png
from ._range import (
    STRETCH_MODES,
    RangeError,
    RangeSpec,
    c_atof,
    parse_mode,
    parse_range,
)
from ._raster import Overlay, burn_overlay
from ._tables import table_outlines, table_outlines_key
from ._text import Label, label_coverage, label_width
from ._view import ViewResult, load_image, render_png, view
from .colortables import (
    NTABLES,
    TABLE_NAMES,
    color_rgb,
    color_table,
    contrast_colors,
    overlay_rgb255,
)
from .stretch import Stretch, compute_stretch, grey_levels, symmetric_interval

__all__ = [
    "RangeError",
    "RangeSpec",
    "STRETCH_MODES",
    "NBIN",
    "parse_range",
    "parse_mode",
    "c_atof",
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
    "contrast_colors",
    "Overlay",
    "OverlayPlans",
    "Picture",
    "ViewResult",
    "load_image",
    "render_rgb",
    "draw_picture",
    "burn_overlay",
    "Label",
    "label_coverage",
    "label_width",
    "channel_values",
    "compose_rgb",
    "table_outlines",
    "table_outlines_key",
    "png_bytes",
    "write_png",
    "render_png",
    "view",
    "release_buffers",
    "retain_heap",
]
