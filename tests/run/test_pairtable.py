"""A work folder's pairs as columns: PairList, PairBoxes, FitMap."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from diffview import io
from diffview.core import overlap_box
from diffview.errors import InputError
from diffview.models import Overlap, PlaneFit
from diffview.run import FitMap, PairBoxes, PairList, load_workspace, open_workspace


@pytest.fixture(scope="module")
def ws(small_sample):
    return load_workspace(small_sample)


def test_pair_list_reads_what_read_diffs_table_reads(small_sample):
    pairs = PairList.read(small_sample.diffs_tbl)
    assert list(pairs) == io.read_diffs_table(small_sample.diffs_tbl)
    assert pairs == io.read_diffs_table(small_sample.diffs_tbl)
    assert pairs[-1] == list(pairs)[-1] and pairs[1:3] == list(pairs)[1:3]
    ov = pairs[4]
    assert pairs.index_of(ov.cntr1, ov.cntr2) == 4
    with pytest.raises(IndexError):
        pairs[len(pairs)]


def test_pair_list_refuses_text_in_a_cntr_column(tmp_path):
    p = tmp_path / "diffs.tbl"
    p.write_text(
        "|cntr1|cntr2| plus | minus | diff |\n   x    1    a.fits  b.fits  d.fits\n"
    )
    with pytest.raises(InputError, match="cntr1"):
        PairList.read(p)


def test_boxes_are_overlap_box_of_every_pair(ws):
    boxes = PairBoxes.compute(
        ws.overlaps, ws.geometry, ws.template_shape, ws.template_crpix
    )
    for k, ov in enumerate(ws.overlaps):
        geo = [(ws.image_offset(c), ws.image_shape(c)) for c in (ov.cntr1, ov.cntr2)]
        (o1, s1), (o2, s2) = geo
        assert boxes[k] == overlap_box(ws.template_shape, o1, s1, o2, s2)
    # an image missing from the image table, and images that do not overlap
    far = PairList([0, 0], [999, 1], ["a"] * 2, ["b"] * 2, ["d"] * 2)
    b = PairBoxes.compute(far, ws.geometry, ws.template_shape, ws.template_crpix)
    assert b[0] is None and b[1] == boxes[0] and PairBoxes.from_list(list(b))[1] == b[1]


def test_fit_map_reads_what_read_fits_table_reads(ws, tmp_path):
    path = tmp_path / "fits.tbl"
    fits = list(ws.fits.values())
    io.write_fits_table(fits + [replace(fits[0], c=99.0)], path)  # repeated: last wins
    want = {(f.plus, f.minus): f for f in io.read_fits_table(path)}
    got = FitMap.read(path)
    assert len(got) == len(want) and set(got) == set(want)
    for key, f in want.items():
        assert got[key] == f
    assert got[(fits[0].plus, fits[0].minus)].c == 99.0
    keys = ws.overlaps.keys
    assert got.column("rms", keys).tolist() == [
        want[(o.cntr1, o.cntr2)].rms for o in ws.overlaps
    ]


def test_fit_map_keeps_the_last_of_a_repeated_pair_and_later_fits_win():
    cols = {
        "plus": np.array([0, 0, 1]),
        "minus": np.array([1, 1, 2]),
        "a": np.zeros(3),
        "b": np.zeros(3),
        "c": np.array([1.0, 2.0, 3.0]),
    }
    m = FitMap(cols)
    assert len(m) == 2 and m[(0, 1)].c == 2.0 and m[(0, 1)].npixel == 0
    new = PlaneFit(0, 1, 0, 0, 7.0, 1, 1, 0, 1, 0, 1, 0, 0, 5, 0.1, 0, 0, 1, 1, 0)
    m[(0, 1)] = new
    m[(5, 6)] = new
    assert m[(0, 1)] is new and len(m) == 3
    keys = PairList([0, 1, 5, 9], [1, 2, 6, 9], *[["x"] * 4] * 3).keys
    assert np.array_equal(m.column("c", keys), [7.0, 3.0, 7.0, np.nan], equal_nan=True)
    del m[(1, 2)]
    assert (1, 2) not in m and len(m) == 2
    with pytest.raises(KeyError):
        del m[(1, 2)]


def test_open_workspace_makes_no_object_per_pair(small_sample, monkeypatch):
    from diffview.run import _pairtable

    made = []

    class Counted(Overlap):
        def __init__(self, *args):
            super().__init__(*args)
            made.append(self)

    monkeypatch.setattr(_pairtable, "Overlap", Counted)
    ws = open_workspace(small_sample)
    assert len(ws.overlaps) > 5 and made == []
    assert ws.overlaps[0].diff and len(made) == 1


def test_fits_for_equals_one_lookup_per_pair():
    """The bulk read gives what ``fits[key]`` gives: table rows, fits set
    later (winning over the table's), deleted rows and pairs without a fit."""
    from diffview.run import pair_keys

    rng = np.random.default_rng(3)
    n = 40
    plus, minus = rng.permutation(n), rng.permutation(n) + 100
    cols = {name: rng.normal(size=n) for name in PlaneFit.columns()[2:]}
    cols["npixel"] = rng.integers(1, 500, n)
    fits = FitMap({"plus": plus, "minus": minus, **cols})
    first = (int(plus[0]), int(minus[0]))
    fits[first] = replace(fits[first], c=-7.0)  # set later: wins
    fits[(999, 998)] = replace(fits[first], plus=999, minus=998)
    del fits[(int(plus[1]), int(minus[1]))]
    asked = [(int(p), int(m)) for p, m in zip(plus, minus, strict=True)]
    asked += [(999, 998), (5, 5), (int(minus[2]), int(plus[2]))]
    got = fits.fits_for(pair_keys([a for a, _ in asked], [b for _, b in asked]))
    assert got == [fits.get(key) for key in asked]
    assert got[0].c == -7.0 and got[1] is None and got[-2] is None
    assert isinstance(got[3].npixel, int) and isinstance(got[3].a, float)
