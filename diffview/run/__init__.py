"""
Runs over many pairs and images: work folders in, files and results out.

Files are read box by box and written atomically; every run goes through
`pool_workers` (in this process for small runs, a process pool or any
executor for big ones) and counts a bad pair or image instead of stopping.

- differences: `compute_difference` (one pair), `compute_differences`
  (mDiffExec);
- plane fits: `fit_planes` (mFitExec), `differences_and_fits`
  (mDiffFitExec);
- corrections: `correct_file` (mBackground), `apply_corrections` (mBgExec);
- in-memory images: `difference`, `differences`, `as_projected`;
- the mosaic: `make_template`, `project_images`, `coadd`;
- the dashboard's data: `load_workspace`.
"""

from ._folder import WorkFolder, find_work
from ._pairs import check_output_dir, resolve_inside
from ._parallel import (
    POOL_SECONDS,
    chunked,
    default_workers,
    pool_workers,
    run_tasks,
    split_chunks,
)
from ._preview import PREVIEW_SIZE, Preview, preview_factor
from .corrections import CorrectionsResult, apply_corrections, correct_file
from .differences import (
    DifferencesResult,
    compute_difference,
    compute_differences,
    difference_cards,
    difference_header,
    template_cards,
    write_difference,
)
from .fits import (
    FitPlanesResult,
    differences_and_fits,
    fit_planes,
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
from .workspace import Workspace, as_fits_list, load_workspace

__all__ = [
    "compute_difference",
    "write_difference",
    "difference_header",
    "template_cards",
    "difference_cards",
    "compute_differences",
    "DifferencesResult",
    "check_output_dir",
    "resolve_inside",
    "read_difference_file",
    "fit_planes",
    "differences_and_fits",
    "FitPlanesResult",
    "correct_file",
    "apply_corrections",
    "CorrectionsResult",
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
    "PREVIEW_SIZE",
    "preview_factor",
    "find_work",
    "load_workspace",
    "as_fits_list",
    "pool_workers",
    "POOL_SECONDS",
    "run_tasks",
    "default_workers",
    "split_chunks",
    "chunked",
]
