"""Geometry on the sky and in the template grid: footprints, overlaps, outlines."""

from diffview.lazy import attach

#: Public name -> the module that defines it, imported on first use (PEP 562),
#: so that importing the package loads only what is used.
_LAZY = {
    "CORNER_COLUMNS": ".overlaps",
    "arc_runs": ".outlines",
    "grid_lines": ".marks",
    "grid_labels": ".gridlabels",
    "longitude_label": ".gridlabels",
    "latitude_label": ".gridlabels",
    "symbol_arcs": ".marks",
    "SYMBOL_SHAPES": ".marks",
    "convert_sky": ".marks",
    "sky_frame": ".marks",
    "pixel_scale": ".marks",
    "Orientation": ".outlines",
    "box_outline": ".outlines",
    "footprint_outline": ".outlines",
    "great_circle_points": ".outlines",
    "image_outlines": ".outlines",
    "mviewer_outlines": ".mviewer",
    "MVIEWER_COLUMNS": ".mviewer",
    "orientation": ".outlines",
    "FOOTPRINT_COLUMNS": ".overlaps",
    "Footprint": ".overlaps",
    "diff_name": ".overlaps",
    "find_overlaps": ".overlaps",
    "footprint_from_wcs": ".overlaps",
    "footprints_from_table": ".overlaps",
    # diffview 0.1's ``diffview.geometry.overlap_box`` and ``template_offset``;
    # they are core's now (pure grid arithmetic), not part of this surface.
    "overlap_box": "diffview.core",
    "template_offset": "diffview.core",
}

__all__ = [
    "FOOTPRINT_COLUMNS",
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
    "mviewer_outlines",
    "MVIEWER_COLUMNS",
    "arc_runs",
    "box_outline",
    "grid_lines",
    "grid_labels",
    "longitude_label",
    "latitude_label",
    "symbol_arcs",
    "SYMBOL_SHAPES",
    "convert_sky",
    "sky_frame",
    "pixel_scale",
]


__getattr__, __dir__ = attach(__name__, _LAZY, __all__)
