"""The pair table: columns, sorting, filtering, pages (issue #15), headless."""

from __future__ import annotations

import math
import threading
from types import SimpleNamespace

import numpy as np
import pytest

from diffview.errors import InputError
from diffview.run import pair_keys
from diffview.sample import write_sample
from diffview.widgets import explore
from diffview.widgets._model import MEASURES
from diffview.widgets._pairtable import PairTable
from diffview.widgets._table import COLUMNS, TableState, format_rows


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    return write_sample(tmp_path_factory.mktemp("table"), "small", workers=1)


@pytest.fixture
def dash(sample):
    d = explore(sample, background=False)
    assert d.error_text == ""
    yield d
    d.close()


def _column(ex, name):
    return [ex.columns[name][k] for k in ex.order]


def _sorted_nan_last(values, descending):
    finite = [v for v in values if math.isfinite(v)]
    return sorted(finite, reverse=descending) + [
        v for v in values if not math.isfinite(v)
    ]


def _rows(dash):
    return [v for _, v in dash.table.options]


@pytest.mark.parametrize("column", [c for c in COLUMNS if c != "images"])
def test_each_header_sorts_its_column_and_twice_reverses(dash, column):
    ex = dash.explorer
    dash.browser.headers[column].click()
    first = ex.descending
    values = [float(v) for v in _column(ex, column)]
    assert values == _sorted_nan_last(values, first)
    assert dash.browser.headers[column].description.endswith("▼" if first else "▲")
    dash.browser.headers[column].click()
    assert ex.descending is not first
    values = [float(v) for v in _column(ex, column)]
    assert values == _sorted_nan_last(values, not first)
    assert _rows(dash) == ex.order[: dash.browser.rows]
    assert dash.error_text == ""


def test_images_column_sorts_by_image_ids_and_rows_show_every_column(dash):
    ex = dash.explorer
    dash.sort_table("images")
    keys = [ex.key(k) for k in ex.order]
    assert keys == sorted(keys)
    text, index = dash.table.options[0]
    cells = text.split()  # NBSP is whitespace to str.split
    c1, c2 = ex.key(index)
    f = ex.fit(index)
    assert cells[:5] == [str(index), str(c1), "−", str(c2), str(f.npixel)]
    assert float(cells[5]) == pytest.approx(f.rms, rel=0.01)
    assert float(cells[6]) == pytest.approx(abs(f.c), rel=0.01)


def test_sorting_by_a_measure_column_becomes_the_ranking(dash):
    ex = dash.explorer
    dash.browser.headers["rms"].click()
    assert ex.measure == "rms" and dash.measure.value == "rms"
    assert dash.worst_first.value == ex.descending
    # the selection stays; next follows the new order from it
    pos = ex.order.index(ex.selected)
    dash.next()
    assert ex.selected == ex.order[(pos + 1) % len(ex.order)] == dash.table.value


def test_flagged_only_filter_and_next_walk_the_filtered_rows(dash):
    ex = dash.explorer
    a, b = ex.order[2], ex.order[5]
    ex.flag_pair(a, "stars")
    ex.flag_pair(b, "ghost")
    dash.browser.flagged_only.value = True
    assert sorted(ex.order) == sorted([a, b]) and sorted(_rows(dash)) == sorted([a, b])
    assert "7 hidden by the filter" in dash.browser.page_label.value
    dash.select(ex.order[0])
    dash.next()
    assert ex.selected == ex.order[1]
    dash.next()
    assert ex.selected == ex.order[0]  # wraps inside the filter
    # a pair flagged while the filter is on appears at once; unflagged leaves
    c = next(k for k in range(len(ex.overlaps)) if k not in (a, b))
    ex.flag_pair(c)
    assert c in ex.order and c in _rows(dash)
    ex.unflag(("pair", ex.key(a)))
    assert a not in ex.order and a not in _rows(dash)
    assert "F" in dash.table.options[0][0].split()


def test_text_filter_matches_image_ids_and_verdicts(dash):
    ex = dash.explorer
    c1, _ = ex.key(0)
    dash.browser.filter_text.value = str(c1)
    want = [k for k in range(len(ex.overlaps)) if str(c1) in f"{ex.key(k)} {k}"]
    assert set(want) <= set(ex.order) and ex.order
    for k in ex.order:
        assert str(c1) in f"pair {k} {ex.key(k)} {ex.verdict(k)}"
    dash.browser.filter_text.value = "no such thing"
    assert ex.order == [] and dash.table.options == ()
    assert "rows 0–0 of 0" in dash.browser.page_label.value
    dash.next()
    assert "no pair passes the table's filter" in dash.error_text
    dash.browser.filter_text.value = ""
    assert len(ex.order) == len(ex.overlaps)


def test_text_filter_follows_flags_and_a_new_assessment(dash):
    """The rows' texts are cached: a flag or a new quality must renew them."""
    from dataclasses import replace

    ex = dash.explorer
    k = ex.order[0]
    key = ex.key(k)
    dash.browser.filter_text.value = "cosmic"
    assert ex.order == []
    ex.flag_pair(k, "Cosmic ray")
    assert ex.order == [k]
    ex.unflag(("pair", key))
    assert ex.order == []
    quality = dict(ex.quality)
    quality[key] = replace(quality[key], reasons=("cosmic glow",))
    ex._assess(quality)  # as a re-solve does
    ex._rank()
    assert ex.order == [k]
    dash.browser.filter_text.value = ""


def test_min_pixels_filter_and_bad_input_keeps_the_filter(dash):
    ex = dash.explorer
    npix = sorted(ex.columns["npixel"])
    limit = int(npix[4])
    dash.browser.min_pixels.value = str(limit)
    assert ex.order and all(ex.columns["npixel"][k] >= limit for k in ex.order)
    assert len(ex.order) == sum(n >= limit for n in npix)
    shown = list(ex.order)
    for bad, message in (("lots", "not a whole number"), ("-3", "negative")):
        dash.browser.min_pixels.value = bad
        assert message in dash.error_text
        assert ex.order == shown and ex.table_filter.min_pixels == limit
    with pytest.raises(InputError, match="unknown table filter"):
        ex.filter_table(colour="red")
    with pytest.raises(InputError, match="unknown column"):
        ex.sort_table("colour")


def test_legend_explains_the_score_and_the_colouring(dash):
    html = dash.browser.box.children[-1].value
    for word in ("score", "noisy", "few pixels", "above 1", "colour by quality",
                 "green small, red large"):  # fmt: skip
        assert word in html
    assert "quality score" in dash.browser.headers["score"].tooltip
    assert all(b.tooltip for b in dash.browser.headers.values())


# --------------------------------------------------------------------------
# Thousands of rows: only a page is formatted and sent
# --------------------------------------------------------------------------


class _Many(TableState):
    """An explorer's table part over n synthetic pairs (no files)."""

    def __init__(self, n, seed=3):
        rng = np.random.default_rng(seed)
        self.overlaps = list(range(n))
        self._m = {
            "score": rng.gamma(1.0, 0.5, n),
            "rms": rng.gamma(2.0, 1.0, n),
            "offset": rng.normal(0, 3, n) ** 2,
            "slope": rng.gamma(1.0, 1e-3, n),
            "npixel": rng.integers(5, 50000, n).astype(float),
            "residual": rng.gamma(1.0, 0.1, n),
            "failed": np.zeros(n),
        }
        self._m["rms"][::97] = np.nan  # failed fits
        k = np.arange(n)
        keys = pair_keys(k // 7, k // 7 + 1 + k % 7)  # as key(k)
        self.pair_measures = SimpleNamespace(arrays=self._m, keys=keys)
        self.lock = threading.RLock()
        self.measure, self.column, self.descending = "score", "score", True
        self.flagged_pairs, self.flagged_images = {}, {}
        self.selected = None
        self.views = []
        self._rank()
        self.selected = self.order[0]

    def key(self, k):
        return (k // 7, k // 7 + 1 + k % 7)

    def pending(self, k):
        return False

    def verdict(self, k=None):
        return "noisy" if self._m["score"][k] > 1 else "ok"

    def notify(self, changes):
        for v in self.views:
            v(self, frozenset(changes))


def test_thousands_of_rows_render_one_page(monkeypatch):
    import diffview.widgets._pairtable as pt

    ex = _Many(5000)
    view = PairTable()
    monkeypatch.setattr(view, "_show_selected", lambda ex: None)
    formatted = []
    real = pt.format_rows
    monkeypatch.setattr(
        pt, "format_rows", lambda s, idx: formatted.append(len(idx)) or real(s, idx)
    )
    ex.views.append(view.render)
    ex.notify({"workspace"})
    assert len(view.table.options) == view.rows == 12 and formatted == [12]
    assert "rows 1–12 of 5000" in view.page_label.value
    assert view.table.value == ex.order[0]
    # jump to a pair far down: its page is shown, the row chosen
    ex.selected = ex.order[3001]
    ex.notify({"selection"})
    assert view.page == 3001 // 12 and view.table.value == ex.order[3001]
    assert [v for _, v in view.table.options] == ex.order[3000:3012]
    # next page from the buttons; the last page is partial; clamped
    view.next_page.click()
    assert view.page == 251 and view.table.value is None
    view.show_page(10**6)
    assert view.page == 416 and len(view.table.options) == 5000 - 416 * 12
    assert view.next_page.disabled and not view.prev_page.disabled
    assert max(formatted) == 12
    # sort by rms: NaN (failed fits) last, the headers follow
    ex.sort_table("rms", descending=False)
    rms = ex.columns["rms"][ex.order]
    assert np.all(np.diff(rms[np.isfinite(rms)]) >= 0)
    assert np.isnan(rms[-len(range(0, 5000, 97)) :]).all()
    assert view.headers["rms"].description == "rms▲"
    # a filter over 5000 rows
    ex.filter_table(min_pixels=40000)
    assert all(ex.columns["npixel"][k] >= 40000 for k in ex.order)
    assert len(ex.order) == int((ex._m["npixel"] >= 40000).sum())


def test_format_rows_aligns_columns():
    ex = _Many(300)
    rows = format_rows(ex, ex.order[:50])
    widths = [w for _, w, _ in COLUMNS.values()]
    for text, k in rows:
        assert " " not in text  # NBSP only: option texts collapse spaces
        assert text.startswith(str(k))
        # the pixels column starts at the same character in every row
        start = sum(widths[:2])
        assert text[start:].split("\u00a0")[0] == str(int(ex.columns["npixel"][k]))
    assert set(MEASURES) <= set(ex.columns)


# --------------------------------------------------------------------------
# Layout: the figures follow the width the browser reports
# --------------------------------------------------------------------------


def _px(fig):
    return tuple(round(v) for v in fig.get_size_inches() * fig.dpi)


def _row(dash):
    """Width of the row of four square pair panels, pixels."""
    sides = {_px(fig) for fig in dash.pairs.figs.values()}
    assert len(sides) == 1 and len({*next(iter(sides))}) == 1  # equal squares
    return 4 * next(iter(sides))[0]


def test_figures_follow_the_reported_width(dash):
    from diffview.widgets._layout import DEFAULT_WIDTH, figure_sizes

    laptop = figure_sizes(DEFAULT_WIDTH)
    assert _px(dash.mosaic.fig) == laptop["mosaic"]
    assert _row(dash) <= laptop["pairs"][0] and _row(dash) > 0.9 * laptop["pairs"][0]
    # every canvas and its toolbar fit the laptop's width
    assert all(w + 44 <= DEFAULT_WIDTH for w, _ in laptop.values())
    dash.probe.width = 1600  # what the browser sends on a large screen
    large = figure_sizes(1600)
    assert _px(dash.mosaic.fig) == large["mosaic"] and large["mosaic"][0] > 600
    assert large["pairs"][0] > 1400 and _row(dash) > 0.9 * large["pairs"][0]
    # side by side: the mosaic and the flag column (470 px) fit in the width
    assert large["mosaic"][0] + 44 + 470 <= 1600
    dash.probe.width = 500  # a narrow page: nothing wider than it
    assert all(w + 44 <= 500 for w, _ in figure_sizes(500).values())
    assert _row(dash) + 44 <= 500
    assert dash.error_text == ""


def test_keys_walk_the_filtered_table_and_an_empty_one_says_why(dash):
    ex = dash.explorer
    dash.browser.flagged_only.value = True
    assert ex.order == []
    for key in ("Home", "End", "j"):
        dash.keyboard.press(key)
        assert "no pair passes the table's filter" in dash.error_text, key
    ex.flag_pair(3)
    ex.flag_pair(5)
    dash.keyboard.press("End")
    assert ex.selected == ex.order[-1] and ex.selected in (3, 5)
    dash.keyboard.press("Home")
    assert ex.selected == ex.order[0] and dash.error_text == ""
