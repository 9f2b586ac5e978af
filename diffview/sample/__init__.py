"""
Seeded sample fields with known background planes, and the demo.

`write_sample` writes a synthetic field like Montage's M17 tutorial (raw
tiles, image tables, template, projected images, overlaps, mosaic) with a
known plane added to every image; `run_demo` runs the whole background job on
it (``diffview demo``).

Examples
--------
>>> import tempfile
>>> s = write_sample(tempfile.mkdtemp(), "small")
>>> sorted(s.truth) == list(range(6))
True
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
