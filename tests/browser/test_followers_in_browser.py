"""
The views drawn after the pair panels, in a real browser, after a burst of keys.

The histogram, its caption and the mosaic's outline of the selected pair
are drawn once the pair panels' frames have shipped
(`diffview.widgets._canvas.after_frames`), and during a burst each panel's
next frame waits for the browser's answer to the last one. Held down, ``j``
sends a key press every few milliseconds. When the keys stop, every view
must show the pair the dashboard selected last: the same pictures as when
that pair is reached by one key press. Checked in JupyterLab and Notebook 7.

Before `diffview.widgets._home.Home`, about one burst in ten ended with the
histogram or the mosaic showing another pair: ipympl's answers to frames
were handled on a kernel subshell's thread while the keys were handled on
the main one, and a redraw asked for during the other thread's frame was
lost (tests/widgets/test_home.py has the unit cases).
"""

from __future__ import annotations

import time

import pytest
from browserkit import (
    CHANGED_JS,
    SELECTED_JS,
    dashboard_page,
    lab,
    requirements,
    settle,
    shot,
)

pytestmark = pytest.mark.browser

#: What the views that follow the panels show: the selected pair's title,
#: the histogram's caption, and the histogram's and mosaic's pixels.
FOLLOWERS_JS = """() => {
  const text = (s) => {
    const e = document.querySelector(s);
    return e ? e.textContent : '';
  };
  const pixels = (s) => { const c = document.querySelector(s + ' canvas');
                          return c ? c.toDataURL() : ''; };
  return [text('.dv-selected'), text('.dv-histogram-title'),
          pixels('.dv-histogram'), pixels('.dv-mosaic')];
}"""


def _key(page, key: str) -> None:
    before = page.evaluate(SELECTED_JS)
    page.keyboard.press(key)
    page.wait_for_function(CHANGED_JS, arg=before)


def _burst_then_check(page, key: str, other: str) -> None:
    """Hold ``key``; the views must be the last pair's, as reached by one press."""
    start = settle(page, FOLLOWERS_JS)
    for _ in range(7):  # a held key: presses 15 ms apart
        page.keyboard.press(key, delay=5)
        time.sleep(0.01)
    burst = settle(page, FOLLOWERS_JS)
    try:
        assert burst[0] != start[0], "the burst did not move"
        assert all(burst), "a view is empty after the burst"
        moved = [a != b for a, b in zip(start, burst, strict=True)]
        assert all(moved), f"a view did not follow the burst: {moved}"
        _key(page, other)
        settle(page, FOLLOWERS_JS)
        _key(page, key)
        again = settle(page, FOLLOWERS_JS)
    except Exception:
        shot(page, "followers-failure.png")
        raise
    names = ["title", "histogram caption", "histogram", "mosaic"]
    stale = [n for n, a, b in zip(names, burst, again, strict=True) if a != b]
    assert again[0] == burst[0], (again[0], burst[0])
    assert not stale, f"after a burst of {key!r}, not the last pair's: {stale}"


def test_views_after_a_burst_show_the_last_pair(lab):
    with dashboard_page(lab) as page:
        box = page.locator(".dv-pairs canvas").first.bounding_box()
        page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        page.wait_for_function(
            "() => !!document.querySelector('.dv-keys.ipyevents-watched')"
        )
        # three bursts: the lost redraw showed in about one burst in ten
        for key, other in (("j", "k"), ("k", "j"), ("j", "k")):
            _burst_then_check(page, key, other)
