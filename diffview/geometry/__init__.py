"""Geometry on the sky and in the template grid: footprints, overlaps, outlines."""

# diffview 0.1's ``diffview.geometry.overlap_box`` and ``template_offset``;
# they are core's now (pure grid arithmetic), not part of this surface.
from diffview.core import overlap_box, template_offset  # noqa: F401

from .outlines import (
    CORNER_COLUMNS,
    Orientation,
    box_outline,
    footprint_outline,
    great_circle_points,
    image_outlines,
    orientation,
)
from .overlaps import (
    Footprint,
    diff_name,
    find_overlaps,
    footprint_from_wcs,
    footprints_from_table,
)

__all__ = [
    "Footprint",
    "footprints_from_table",
    "footprint_from_wcs",
    "find_overlaps",
    "diff_name",
    "CORNER_COLUMNS",
    "Orientation",
    "orientation",
    "great_circle_points",
    "footprint_outline",
    "image_outlines",
    "box_outline",
]
