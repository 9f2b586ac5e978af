"""diffview: Montage-compatible overlap differences, plane fits and background models."""

from .models import Correction, Difference, Overlap, PlaneFit

__version__ = "0.1.0"

__all__ = ["Correction", "Difference", "Overlap", "PlaneFit", "__version__"]
