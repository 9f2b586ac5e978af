"""Core numerics: arrays in, arrays and small result objects out.

Nothing here reads or writes a file, draws, or imports astropy, matplotlib
or ipywidgets: template-grid offsets and overlap boxes, differences (mDiff's
arithmetic), plane fits (mFitplane), background solvers (mBgModel and a
direct solve), quality measures, NaN-aware block averages, and the compiled
pixel loops (`kernels`) with their numpy twins and the one rule that
chooses between them (`use_compiled`, `plan_compiled`).

Conventions: plane coordinates are Montage's, ``x = i - CRPIX1`` and
``y = j - CRPIX2`` with 0-based pixel indices ``i`` (column) and ``j`` (row);
boxes and bounds are ``((ymin, ymax), (xmin, xmax))`` in 0-based template
pixels, max exclusive.
"""

from ._loader import (
    BLAS_PROBE,
    COMPILE_NOTICE_AFTER,
    LOAD_SECONDS,
    kernels,
    plan_compiled,
    use_compiled,
)
from .background import (
    SOLVER_MODES,
    DirectSolution,
    ImageGeometry,
    correct_image,
    image_geometry,
    load_solver,
    niteration_schedule,
    predicted_residuals,
    recovery_error,
    residual_levels,
    solve_direct,
    solve_montage,
)
from .blocks import block_average, preview
from .checks import check_index, check_items, image_array, pixel_pair
from .difference import (
    AREA_TOLERANCE,
    difference_arrays,
    difference_in_box,
    difference_on_grid,
)
from .fit import (
    FIT_SECONDS_PER_PIXEL,
    NITERATION,
    FitResidual,
    bounding_box,
    fit_plane,
    fit_residual,
)
from .grid import overlap_box, template_offset
from .quality import FitQuality, Thresholds, assess_fits, plane_error

__all__ = [
    "template_offset",
    "overlap_box",
    "AREA_TOLERANCE",
    "difference_arrays",
    "difference_on_grid",
    "difference_in_box",
    "fit_plane",
    "fit_residual",
    "bounding_box",
    "FitResidual",
    "NITERATION",
    "FIT_SECONDS_PER_PIXEL",
    "FitQuality",
    "Thresholds",
    "assess_fits",
    "plane_error",
    "block_average",
    "preview",
    "kernels",
    "BLAS_PROBE",
    "COMPILE_NOTICE_AFTER",
    "LOAD_SECONDS",
    "use_compiled",
    "plan_compiled",
    "ImageGeometry",
    "image_geometry",
    "solve_montage",
    "solve_direct",
    "DirectSolution",
    "load_solver",
    "niteration_schedule",
    "correct_image",
    "predicted_residuals",
    "residual_levels",
    "recovery_error",
    "SOLVER_MODES",
    "image_array",
    "pixel_pair",
    "check_index",
    "check_items",
]
