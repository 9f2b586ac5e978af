"""The dashboard never reads or writes outside the work folder.

Names in ``diffs.tbl`` that are absolute or lead up (``../``) fail their pair
(as ``diffexec``/``difffitexec`` already refuse them) instead of writing
difference files wherever the table points; the dashboard's exports go below
the work folder, whatever the kernel's current folder, and refuse names that
escape it.
"""

from __future__ import annotations

import os
from dataclasses import fields, replace

import numpy as np
import pytest
from work_folders import make_work

from diffview import io
from diffview.errors import InputError
from diffview.models import Overlap
from diffview.run import load_workspace
from diffview.widgets import Explorer, explore


def _files(top):
    return sorted(str(p.relative_to(top)) for p in top.rglob("*") if p.is_file())


def _hostile_pairs(root, outside):
    """Rewrite diffs.tbl: pairs 0, 1 and 2 name files outside the work folder."""
    pairs = io.read_diffs_table(root / "diffs.tbl")
    bad = [
        replace(pairs[0], diff="../../escaped.fits"),
        replace(pairs[1], diff=str(outside / "abs.fits")),
        replace(pairs[2], plus=str(outside / "tile_3.fits")),
    ]
    pairs[:3] = bad
    columns = {f.name: [getattr(p, f.name) for p in pairs] for f in fields(Overlap)}
    io.write_table(columns, root / "diffs.tbl")
    return pairs


@pytest.fixture
def hostile(tmp_path):
    root = make_work(tmp_path / "a" / "work")
    outside = tmp_path / "outside"
    outside.mkdir()
    # a real image outside: an absolute name must not be read either
    (outside / "tile_3.fits").write_bytes((root / "projected/tile_3.fits").read_bytes())
    (outside / "tile_3_area.fits").write_bytes(
        (root / "projected/tile_3_area.fits").read_bytes()
    )
    pairs = _hostile_pairs(root, outside)
    return tmp_path, root, pairs


def test_loader_refuses_table_names_outside_the_work_folder(hostile):
    # before: ../../escaped.fits and escaped_area.fits were written two levels
    # above diffs/, and an absolute name was written where it pointed
    top, root, pairs = hostile
    before = {p for p in _files(top) if not p.startswith("a/work/")}
    ws = load_workspace(root)
    after = {p for p in _files(top) if not p.startswith("a/work/")}
    assert after == before  # nothing written outside the work folder
    keys = [(p.cntr1, p.cntr2) for p in pairs]
    assert set(ws.failures) == set(keys[:3])
    assert ws.failures[keys[0]].startswith("difference ../../escaped.fits is outside")
    assert ws.failures[keys[1]].startswith(
        f"difference {top}/outside/abs.fits is outside"
    )
    assert ws.failures[keys[2]].startswith(
        f"image {top}/outside/tile_3.fits is outside"
    )
    # the other pairs are differenced and fitted as usual
    assert len(ws.fits) == len(pairs) - 3
    assert len(list((root / "diffs").glob("diff.*_area.fits"))) == len(pairs) - 3


def test_dashboard_lists_refused_pairs_and_shows_them_blank(hostile):
    _, root, pairs = hostile
    d = explore(root, background=False)
    try:
        assert d.error_text == ""
        assert d.message_text.startswith(f"3 of {len(pairs)} pairs failed")
        assert "is outside" in d.message_text
        d.select(0)
        assert d.error_text == ""
        assert np.isnan(np.asarray(d.pairs.images["difference"].get_array())).all()
        assert "is outside" in d.selected.value
    finally:
        d.close()


def test_pair_view_of_a_refused_image_name_with_a_difference_on_disk(hostile):
    # a difference file left by an earlier run does not make the pair readable
    _, root, pairs = hostile
    ws = load_workspace(root)
    ov = pairs[2]
    (root / "diffs" / ov.diff).write_bytes(
        (root / "diffs" / pairs[3].diff).read_bytes()
    )
    ex = Explorer(ws)
    view = ex.pair_view(2)
    assert view.error.startswith("image ") and "is outside" in view.error
    assert np.isnan(view.plus).all()


@pytest.fixture
def dash(tmp_path, monkeypatch):
    root = make_work(tmp_path / "work")
    elsewhere = tmp_path / "kernel-cwd"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)  # the notebook's folder is not the work folder
    d = explore(root, background=False)
    yield d, root, elsewhere
    d.close()


def test_export_goes_below_the_work_folder_and_says_where(dash):
    # before: written relative to the kernel's current folder, path only in a
    # small line under the button
    d, root, elsewhere = dash
    d.export_path.value = "exports/first"
    d.export_button.click()
    assert d.error_text == ""
    out = root / "exports" / "first"
    assert sorted(os.listdir(out)) == ["corrections.tbl", "fits.tbl", "flags.tbl"]
    assert len(io.read_fits_table(out / "fits.tbl")) == 11
    assert d.message_text == (f"exported fits.tbl, corrections.tbl, flags.tbl to {out}")
    assert os.listdir(elsewhere) == []


@pytest.mark.parametrize(
    "name, problem",
    [
        ("../escaped", "export folder ../escaped is outside"),
        ("exports/../../escaped", "is outside"),
        (
            "/tmp/diffview-abs-export",
            "export folder /tmp/diffview-abs-export is outside",
        ),
        ("   ", "export folder: type a folder name"),
    ],
)
def test_export_refuses_names_that_escape(dash, name, problem):
    # before: any path was written, relative to the kernel's current folder
    d, root, elsewhere = dash
    before = _files(root.parent)
    d.export_path.value = name
    d.export_button.click()
    assert d.error_text.startswith("InputError: ")
    assert problem in d.error_text
    assert _files(root.parent) == before
    assert not os.path.exists("/tmp/diffview-abs-export")


def test_explorer_export_folder_is_checked_once(dash):
    d, root, _ = dash
    assert d.explorer.export_folder(" mine ") == root / "mine"
    with pytest.raises(InputError, match="inside the work folder"):
        d.explorer.export_folder("..")
