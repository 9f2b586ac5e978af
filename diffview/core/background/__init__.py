"""Background models: Montage's iterative solve and the direct least-squares solve.
"""

from ._solvers import (
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

__all__ = [
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
