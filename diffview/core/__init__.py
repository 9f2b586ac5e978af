"""Core numerics: arrays in, arrays and small result objects out.

Nothing here reads or writes a file, draws, or imports matplotlib or
ipywidgets: differences (mDiff's arithmetic), plane fits (mFitplane),
background solvers (mBgModel and a direct solve), quality measures, NaN-aware
block averages, and the compiled pixel loops.
"""

from ._loader import COMPILE_NOTICE_AFTER, kernels
from .background import (
    MODES,
    ImageGeometry,
    correct_image,
    image_geometry,
    niteration_schedule,
    predicted_residuals,
    recovery_error,
    solve_direct,
    solve_montage,
)
from .blocks import block_average, preview
from .difference import AREA_TOLERANCE, difference, difference_arrays
from .fit import NITERATION, FitResidual, bounding_box, fit_plane, fit_residual
from .quality import FitQuality, Thresholds, assess_fits, plane_error

__all__ = [
    "AREA_TOLERANCE",
    "difference_arrays",
    "difference",
    "fit_plane",
    "fit_residual",
    "bounding_box",
    "FitResidual",
    "NITERATION",
    "FitQuality",
    "Thresholds",
    "assess_fits",
    "plane_error",
    "block_average",
    "preview",
    "kernels",
    "COMPILE_NOTICE_AFTER",
    "ImageGeometry",
    "image_geometry",
    "solve_montage",
    "solve_direct",
    "niteration_schedule",
    "correct_image",
    "predicted_residuals",
    "recovery_error",
    "MODES",
]
