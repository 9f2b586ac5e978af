"""Geometry on the sky and in the template grid: footprints, overlaps, outlines.
"""

from .outlines import (
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
    overlap_box,
    template_offset,
)

__all__ = [
    "Footprint",
    "template_offset",
    "overlap_box",
    "footprints_from_table",
    "footprint_from_wcs",
    "find_overlaps",
    "diff_name",
    "Orientation",
    "orientation",
    "great_circle_points",
    "footprint_outline",
    "image_outlines",
    "box_outline",
]
