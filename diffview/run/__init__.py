"""Running over many pairs: work folders in, executors, resumable atomic writes.
"""

from ._parallel import chunked, default_workers, run_tasks, split_chunks
from .differences import (
    DiffExecResult,
    check_output_dir,
    compute_difference,
    difference_header,
    diffexec,
    resolve_inside,
    write_difference,
)
from .fits import (
    BgExecResult,
    FitExecResult,
    bgexec,
    correct_file,
    difffitexec,
    fitexec,
    read_difference_file,
)
from .images import (
    ProjectedImage,
    as_projected,
    common_grid,
    difference,
    differences,
    image_overlaps,
)
from .mosaic import (
    ProjectResult,
    coadd,
    make_template,
    pixel_solid_angle,
    project_image,
    project_images,
)
from .workspace import Preview, WorkFolder, Workspace, find_work, load_workspace

__all__ = [
    "compute_difference",
    "write_difference",
    "difference_header",
    "diffexec",
    "DiffExecResult",
    "check_output_dir",
    "resolve_inside",
    "FitExecResult",
    "BgExecResult",
    "read_difference_file",
    "fitexec",
    "difffitexec",
    "bgexec",
    "correct_file",
    "ProjectedImage",
    "as_projected",
    "common_grid",
    "image_overlaps",
    "difference",
    "differences",
    "make_template",
    "project_image",
    "project_images",
    "ProjectResult",
    "coadd",
    "pixel_solid_angle",
    "WorkFolder",
    "Workspace",
    "Preview",
    "find_work",
    "load_workspace",
    "run_tasks",
    "default_workers",
    "split_chunks",
    "chunked",
]
