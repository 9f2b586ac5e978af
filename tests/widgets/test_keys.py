"""Keyboard navigation of the dashboard: ipyevents messages, headless."""

from __future__ import annotations

import ipywidgets as W
import numpy as np
import pytest

from diffview.sample import write_sample
from diffview.widgets import explore
from diffview.widgets._home import widgets_in
from diffview.widgets._keys import KEYS, key_action


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    return write_sample(tmp_path_factory.mktemp("keys"), "small", workers=1)


@pytest.fixture
def dash(sample):
    d = explore(sample, background=False)
    yield d
    d.close()


def _key(dash, key, tag="DIV", **mods):
    """Deliver the message ipyevents' front end sends for a key press."""
    msg = {"event": "keydown", "key": key, "code": "", "repeat": False,
           "altKey": False, "ctrlKey": False, "metaKey": False, "shiftKey": False,
           "target": {"tagName": tag, "id": "", "className": ""}, **mods}  # fmt: skip
    dash.keyboard.event._handle_mouse_msg(None, msg, [])


def _shown(dash, name):
    return np.ma.filled(dash.pairs.images[name].get_array().astype(float), np.nan)


@pytest.mark.parametrize(
    ("event", "action"),
    [
        ({"key": "ArrowRight"}, "next"),
        ({"key": "j"}, "next"),
        ({"key": "ArrowDown"}, "next"),
        ({"key": "ArrowLeft"}, "previous"),
        ({"key": "k"}, "previous"),
        ({"key": "Home"}, "first"),
        ({"key": "End"}, "last"),
        ({"key": "b"}, "blink"),
        ({"key": "f"}, "flag"),
        ({"key": "x"}, None),
        ({"key": "j", "event": "keyup"}, None),
        ({"key": "j", "ctrlKey": True}, None),
        ({"key": "ArrowRight", "altKey": True}, None),
        ({"key": "b", "metaKey": True}, None),
        ({"key": "j", "target": {"tagName": "INPUT"}}, None),
        ({"key": "j", "target": {"tagName": "textarea"}}, None),
        ({"key": "ArrowDown", "target": {"tagName": "SELECT"}}, None),
    ],
)
def test_key_action(event, action):
    assert key_action({"event": "keydown", **event}) == action


def test_the_key_area_holds_the_panels_and_no_text_box(dash):
    """ipyevents takes every key over its source: no text box may be inside."""
    ev, box = dash.keyboard.event, dash.keyboard.box
    assert ev.source is box and ev.watched_events == ["keydown"]
    assert ev.prevent_default_action
    inside = widgets_in(box)
    assert dash.pairs.widget in inside
    assert all(c in inside for c in dash.pairs.canvases) and box in widgets_in(dash)
    assert not [w for w in inside if isinstance(w, (W.Text, W.Textarea))]
    assert all(w not in inside for w in (dash.vmin, dash.vmax, dash.flag_reason))
    assert "dv-keys" in box._dom_classes


def test_arrows_and_jk_step_through_the_ranked_pairs(dash):
    ex = dash.explorer
    order = ex.order
    assert ex.selected == order[0]
    first = _shown(dash, "difference")
    for key, position in [("ArrowRight", 1), ("j", 2), ("ArrowDown", 3),
                          ("k", 2), ("ArrowLeft", 1), ("ArrowUp", 0)]:  # fmt: skip
        _key(dash, key)
        assert ex.selected == order[position] == dash.table.value, key
        np.testing.assert_array_equal(
            _shown(dash, "difference"), ex.pair_view().difference
        )
    np.testing.assert_array_equal(_shown(dash, "difference"), first)
    assert dash.error_text == ""


def test_home_and_end(dash):
    ex = dash.explorer
    _key(dash, "End")
    assert ex.selected == ex.order[-1] == dash.table.value
    _key(dash, "Home")
    assert ex.selected == ex.order[0] == dash.table.value


def test_f_flags_the_selected_pair(dash):
    ex = dash.explorer
    _key(dash, "j")
    dash.flag_reason.value = "ghost"
    _key(dash, "f")
    assert ex.flagged_pairs == {ex.key(ex.order[1]): "ghost"}
    assert len(dash.flag_list.options) == 1


def test_b_starts_and_stops_the_blink(dash):
    blink = dash.keyboard.blink
    assert not blink.playing
    _key(dash, "b")
    assert blink.playing and dash.keyboard.blink.toggle.value
    _key(dash, "b")
    assert not blink.playing and blink.shown == "plus"


def test_typing_and_shortcuts_are_left_alone(dash):
    ex = dash.explorer
    before = ex.selected
    for key, tag, mods in [("j", "INPUT", {}), ("f", "TEXTAREA", {}),
                           ("ArrowRight", "DIV", {"ctrlKey": True}),
                           ("q", "DIV", {})]:  # fmt: skip
        _key(dash, key, tag, **mods)
    assert ex.selected == before and ex.flagged_pairs == {}
    assert not dash.keyboard.blink.playing


def test_keys_before_the_data_is_loaded_do_nothing(dash):
    explorer, dash.explorer = dash.explorer, None  # as during a background load
    for key in ("j", "End", "f", "b"):
        _key(dash, key)
    assert dash.error_text == "" and not dash.keyboard.blink.playing
    dash.explorer = explorer
    assert explorer.selected == explorer.order[0] and explorer.flagged_pairs == {}


def test_every_key_is_documented_in_the_hint(dash):
    hint = dash.keyboard.box.children[0].children[1].value
    for key in ("→", "←", "j", "k", "Home", "End", "b", "f", "z"):
        assert f"<kbd>{key}</kbd>" in hint
    assert set(KEYS.values()) == {
        "next",
        "previous",
        "first",
        "last",
        "blink",
        "flag",
        "zoom_pair",
    }


def test_key_area_holds_the_shortcut_guard(dash):
    """Notebook 7: a hidden anywidget in the key area marks it with
    data-lm-suppress-shortcuts (the browser test checks that b adds no cell)."""
    guard = dash.keyboard.guard
    assert guard in widgets_in(dash.keyboard.box)
    assert 'el.closest(".dv-keys")' in guard._esm
    assert 'setAttribute("data-lm-suppress-shortcuts", "true")' in guard._esm
    assert "http" not in guard._esm  # nothing fetched: works offline
