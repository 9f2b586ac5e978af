"""
Files: Montage's IPAC tables, FITS headers, templates, images and image tables.

FITS images have a fast path for plain float images; `paths` holds the
file-name rules.

Modules: `ipac` (IPAC tables), `tables` (``diffs.tbl``, ``fits.tbl``,
``corrections.tbl``), `template` (``.hdr`` templates), `images` (FITS
images), `imgtbl` (``images.tbl``), `paths` (file names, atomic writes).
Every public name is also here.
"""

from diffview.deprecations import forward
from diffview.lazy import attach

#: Public name -> the module that defines it, imported on first use (PEP 562),
#: so that importing the package loads only what is used.
_LAZY = {
    "card_image": "._plainwrite",
    "read_plain_header": "._plain",
    "read_plain_header_image": "._plain",
    "read_plain_image": "._plain",
    "write_plain_image": "._plainwrite",
    "stage_plain_images": "._plainwrite",
    "GroupCommit": "._group",
    "commit_staged": "._commit",
    "BoxReader": ".images",
    "read_box": ".images",
    "read_image": ".images",
    "read_image_box": ".images",
    "read_image_grid": ".images",
    "write_image": ".images",
    "IMAGE_FORMATS": ".imgtbl",
    "ImageTableResult": ".imgtbl",
    "headers_table": ".imgtbl",
    "make_image_table": ".imgtbl",
    "write_images_table": ".imgtbl",
    "format_table": ".ipac",
    "parse_table": ".ipac",
    "read_table": ".ipac",
    "read_plain_table": ".ipac",
    "PlainTable": "._ipac_read",
    "parse_plain_table": "._ipac_read",
    "read_table_columns": ".ipac",
    "require_columns": ".ipac",
    "write_table": ".ipac",
    "area_name": ".paths",
    "atomic_path": ".paths",
    "montage_file_path": ".paths",
    "split_fits_name": ".paths",
    "write_file": ".paths",
    "remove_temporaries": ".paths",
    "sync_pending_folders": ".paths",
    "is_inside": ".paths",
    "read_corrections_table": ".tables",
    "read_diffs_table": ".tables",
    "overlaps_from_table": ".tables",
    "read_fits_table": ".tables",
    "write_corrections_table": ".tables",
    "STRENGTHS_KEYWORD": ".tables",
    "write_diffs_table": ".tables",
    "write_fits_table": ".tables",
    "parse_template": ".template",
    "read_template": ".template",
    "read_template_grid": ".template",
    "TemplateGrid": ".template",
    "write_template": ".template",
}

__all__ = [
    "read_table",
    "read_plain_table",
    "PlainTable",
    "read_table_columns",
    "parse_table",
    "parse_plain_table",
    "require_columns",
    "format_table",
    "write_table",
    "overlaps_from_table",
    "read_diffs_table",
    "write_diffs_table",
    "read_fits_table",
    "write_fits_table",
    "read_corrections_table",
    "write_corrections_table",
    "STRENGTHS_KEYWORD",
    "read_template",
    "read_template_grid",
    "TemplateGrid",
    "parse_template",
    "write_template",
    "read_image",
    "read_image_box",
    "read_box",
    "BoxReader",
    "read_plain_image",
    "read_plain_header_image",
    "read_plain_header",
    "read_image_grid",
    "write_image",
    "write_plain_image",
    "stage_plain_images",
    "commit_staged",
    "GroupCommit",
    "card_image",
    "montage_file_path",
    "split_fits_name",
    "area_name",
    "atomic_path",
    "write_file",
    "remove_temporaries",
    "is_inside",
    "sync_pending_folders",
    "headers_table",
    "ImageTableResult",
    "make_image_table",
    "write_images_table",
    "IMAGE_FORMATS",
]


# 0.1 names that were renamed in 0.2 (diffview.deprecations.RENAMED) forward
__getattr__, __dir__ = attach(__name__, _LAZY, __all__, fallback=forward)
