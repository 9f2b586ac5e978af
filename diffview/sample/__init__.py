"""Seeded sample fields with known background planes, and the demo.
"""

from .datasets import PRESETS, Sample, sample_headers, write_sample
from .demo import run_demo

__all__ = [
    "PRESETS",
    "Sample",
    "write_sample",
    "sample_headers",
    "run_demo",
]
