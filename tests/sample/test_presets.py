"""The sample presets' layouts, from their headers (no pixels written)."""

import pytest

from diffview.geometry import find_overlaps
from diffview.io import headers_table
from diffview.sample import sample_headers


@pytest.mark.parametrize(
    ("preset", "tiles", "shape", "pairs"),
    [("small", 6, (96, 64), 9), ("m17", 42, (256, 128), 101),
     ("2mass", 50, (1024, 512), 121)],
)
def test_a_preset_has_its_tiles_and_overlaps(preset, tiles, shape, pairs):
    headers = sample_headers(preset)
    names = [f"t{k}.fits" for k in range(len(headers))]
    assert len(headers) == tiles
    assert {(h["NAXIS2"], h["NAXIS1"]) for h in headers} == {shape}
    scales = [abs(h.get("CDELT1", h.get("CD1_1", 0))) * 3600 for h in headers]
    assert scales == pytest.approx([1.0] * tiles, rel=0.01)
    assert len(find_overlaps(headers_table(headers, names))) == pairs
