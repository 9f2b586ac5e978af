"""
Background models: one correction plane per image from the overlap fits.

Both solvers take the overlap fits (`~diffview.models.PlaneFit`, Montage's
``fits.tbl``) and the images (`ImageGeometry`, from `image_geometry`), and
return one `~diffview.models.Correction` per image: a plane ``a x + b y + c``
to **subtract**, in Montage's plane coordinates ``x = i - CRPIX1``,
``y = j - CRPIX2`` with 0-based pixel indices ``i``, ``j``.

* `solve_montage` reproduces Montage's mBgModel: damped iterations, each
  image moving half-way to the least-squares answer of its neighbours, with
  Montage's modes (`SOLVER_MODES`), rejection rules, float32 solves and
  locked images.
* `solve_direct` solves all images at once in one sparse weighted
  least-squares problem, by default under a prior whose strengths are
  estimated from the fits (maximum evidence) and with bad fits down-weighted;
  ``regularize=None, robust=False`` gives the plain least-squares answer that
  mBgModel's iteration converges to. Its cost grows linearly with the
  images: survey fields of tens of thousands of images are solved by
  multilevel conjugate gradients.

Differences cannot tell the one plane common to all images: Montage fixes it
implicitly through its iteration, `solve_direct` by the prior (the smallest
corrections), by the locked images or, in the plain solve, by making the
corrections of every connected group of images sum to zero.

`correct_image` applies a correction, `predicted_residuals` gives the fits
left after correcting, and `recovery_error` measures corrections against
known injected planes.
"""

from ._images import ImageGeometry, image_geometry
from .corrections import (
    correct_image,
    predicted_residuals,
    recovery_error,
    residual_levels,
)
from .direct import DirectSolution, load_solver, solve_direct
from .montage import SOLVER_MODES, niteration_schedule, solve_montage

__all__ = [
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
]
