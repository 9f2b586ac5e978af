"""
Files: Montage's IPAC tables, FITS headers, templates, images and image tables.

FITS images have a fast path for plain float images; `paths` holds the
file-name rules.

Modules: `ipac` (IPAC tables), `tables` (``diffs.tbl``, ``fits.tbl``,
``corrections.tbl``), `template` (``.hdr`` templates), `images` (FITS
images), `imgtbl` (``images.tbl``), `paths` (file names, atomic writes).
Every public name is also here.
"""

from ._plain import (
    card_image,
    read_plain_header,
    read_plain_header_image,
    read_plain_image,
    write_plain_image,
)
from .images import (
    BoxReader,
    read_box,
    read_image,
    read_image_box,
    read_image_grid,
    write_image,
)
from .imgtbl import (
    IMAGE_FORMATS,
    ImageTableResult,
    headers_table,
    make_image_table,
    write_images_table,
)
from .ipac import (
    format_table,
    parse_table,
    read_table,
    read_table_columns,
    require_columns,
    write_table,
)
from .paths import area_name, atomic_path, montage_file_path, split_fits_name
from .tables import (
    read_corrections_table,
    read_diffs_table,
    read_fits_table,
    write_corrections_table,
    write_diffs_table,
    write_fits_table,
)
from .template import parse_template, read_template, write_template

__all__ = [
    "read_table",
    "read_table_columns",
    "parse_table",
    "require_columns",
    "format_table",
    "write_table",
    "read_diffs_table",
    "write_diffs_table",
    "read_fits_table",
    "write_fits_table",
    "read_corrections_table",
    "write_corrections_table",
    "read_template",
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
    "card_image",
    "montage_file_path",
    "split_fits_name",
    "area_name",
    "atomic_path",
    "headers_table",
    "ImageTableResult",
    "make_image_table",
    "write_images_table",
    "IMAGE_FORMATS",
]


def __getattr__(name):
    # 0.1 names that were renamed in 0.2 (diffview.deprecations.RENAMED)
    from diffview.deprecations import forward

    return forward(__name__, name)
