"""The dashboard checks what the user types, says what is wrong, keeps its picture.

Display ranges and colour tables are checked before the state changes: the
error area names the problem, the pictures and the settings stay as they
were, and the next good entry clears the error. A work folder without
overlap pairs, or whose every difference fails, opens and says so.
"""

from __future__ import annotations

import numpy as np
import pytest
from work_folders import make_work

from diffview import io
from diffview.errors import InputError
from diffview.widgets import DisplaySettings, Explorer, explore


@pytest.fixture(scope="module")
def work(tmp_path_factory):
    return make_work(tmp_path_factory.mktemp("inputs") / "work")


@pytest.fixture(scope="module")
def dash(work):
    d = explore(work, background=False)
    yield d
    d.close()


def _picture(d):
    im = d.pairs.images["difference"]
    return im.norm, np.asarray(im.get_array()).copy()


@pytest.mark.parametrize(
    "field, text, problem",
    [
        # before: ValueError "cannot convert float NaN to integer" + traceback
        ("vmin", "nan", "display min 'nan' is not a number (NaN)"),
        # before: accepted; the norm became inf and matplotlib failed drawing
        ("vmin", "inf", "display min 'inf' is not a finite number"),
        # before: accepted silently, a norm with vmax -inf
        ("vmax", "-inf", "display max '-inf' is not a finite number"),
        ("vmin", "1e400", "cannot be converted to a finite floating point number"),
        ("vmin", "", "'' is not a valid display min"),
        ("vmax", "12q", "'12q' is not a valid display max"),
        ("vmin", "101%", "percentile display min larger than 100"),
        # before: accepted, a backwards range on every panel
        ("vmin", "1e9", "display min '1e9' (1e+09) is above display max 'max'"),
    ],
)
def test_bad_range_is_named_and_the_last_picture_kept(dash, field, text, problem):
    dash.vmin.value, dash.vmax.value = "-2s", "max"
    assert dash.error_text == ""
    norm, data = _picture(dash)
    settings = dash.explorer.stretch
    getattr(dash, field).value = text
    assert dash.error_text.startswith(("InputError: ", "RangeError: "))
    assert problem in dash.error_text
    assert dash.error.layout.display is None  # shown
    im = dash.pairs.images["difference"]
    assert im.norm is norm
    np.testing.assert_array_equal(np.asarray(im.get_array()), data)
    assert dash.explorer.stretch == settings
    getattr(dash, field).value = "-1s" if field == "vmin" else "99%"
    assert dash.error_text == ""
    assert dash.error.layout.display == "none"
    dash.vmin.value, dash.vmax.value = "-2s", "max"


@pytest.mark.parametrize(
    "ct, problem",
    [
        # before: the state changed, then drawing failed ("Color table index
        # must be a number between 0 and 12")
        (13, "colour table 13 is not one of mViewer's tables 0..12"),
        (-1, "colour table -1 is not one of"),
        # before: accepted (3.5 stored as the colour table)
        (3.5, "colour table 3.5 is not one of"),
        ("x", "colour table 'x' is not one of"),
        (True, "colour table True is not one of"),
    ],
)
def test_bad_colour_table_is_refused_before_the_state_changes(dash, ct, problem):
    ex = dash.explorer
    settings, norm = ex.stretch, dash.pairs.images["difference"].norm
    with pytest.raises(InputError, match=problem.replace(".", r"\.")):
        ex.set_stretch(ct=ct)
    assert ex.stretch == settings
    assert dash.pairs.images["difference"].norm is norm


def test_a_value_range_that_suits_only_the_difference_is_kept(dash):
    # one range serves every panel: backwards on the images is not an error
    lo = float(np.nanmin(dash.explorer.pair_view().difference))
    dash.vmin.value, dash.vmax.value = f"{lo:.6g}", "0"
    assert dash.error_text == ""
    assert dash.explorer.stretch.vmax == "0"
    dash.vmin.value, dash.vmax.value = "-2s", "max"


def test_explorer_checks_settings_without_widgets(work):
    ex = Explorer(work)
    new = ex.set_stretch(ct=np.int64(4), partial=1)
    assert new == DisplaySettings(ct=4, partial=True)
    with pytest.raises(InputError, match="unknown stretch mode 'LINEAR'"):
        ex.set_stretch(mode="LINEAR")
    with pytest.raises(InputError, match="no pair 99|pair 99 is outside 0..10"):
        ex.select(99)
    with pytest.raises(InputError, match="pair -1 is outside 0..10"):
        ex.select(-1)  # never the last pair
    assert ex.stretch == new


def _no_pairs(root):
    """A work folder with one image: no diffs.tbl, no pairs."""
    root = make_work(root)
    (root / "diffs.tbl").unlink()
    t = io.read_table(root / "images.tbl")[:1]
    io.write_table({c: list(t[c]) for c in t.colnames}, root / "images.tbl")
    return root


def test_folder_without_pairs_opens_and_says_so(tmp_path):
    d = explore(_no_pairs(tmp_path / "work"), background=False)
    try:
        assert d.error_text == ""
        assert d.explorer.overlaps == [] and d.explorer.selected is None
        assert d.message_text.startswith("no overlap pairs in this work folder")
        assert d.table.options == ()
        # before: flag buttons raised "TypeError: list indices must be
        # integers or slices, not NoneType"
        for action in (d.next, d.flag_pair, lambda: d.flag_image("plus")):
            action()
            assert d.error_text.startswith("InputError: no pair ")
            assert d.error_text.endswith(": this work folder has no overlap pairs")
        d.resolve()
        assert d.error_text == "" and d.explorer.corrections == []
        d.export_path.value = "out"
        d.export()
        assert d.error_text == ""
        assert io.read_fits_table(d.explorer.ws.folder.top / "out" / "fits.tbl") == []
    finally:
        d.close()


def test_folder_with_an_empty_overlap_table_opens_and_says_so(tmp_path):
    root = make_work(tmp_path / "work")
    io.write_diffs_table([], root / "diffs.tbl")
    d = explore(root, background=False)
    try:
        assert d.error_text == ""
        assert d.message_text.startswith("no overlap pairs in this work folder")
    finally:
        d.close()


def test_folder_where_every_difference_fails_opens_and_says_so(tmp_path):
    root = make_work(tmp_path / "work", mosaic=False)
    for k in range(6):
        (root / "projected" / f"tile_{k}.fits").write_bytes(b"not FITS")
    d = explore(root, background=False)
    try:
        assert d.error_text == ""
        assert d.message_text.startswith(
            "every pair failed (11 of 11): 0 - 1: Image file"
        )
        assert "and 6 more" in d.message_text
        assert "left out of the preview" in d.message_text
        assert d.explorer.ws.fits == {} and d.explorer.corrections == []
        d.next()
        assert d.error_text == ""
        assert np.isnan(np.asarray(d.pairs.images["difference"].get_array())).all()
        assert "missing or invalid FITS" in d.selected.value
        d.resolve()
        assert d.error_text == ""
    finally:
        d.close()
