"""
The views drawn after the pair panels, in a real browser, after a burst of keys.

The histogram, its caption and the mosaic's outline of the selected pair
are drawn once the pair panels' frames have shipped
(`diffview.widgets._canvas.after_frames`), and during a burst each panel's
next frame waits for the browser's answer to the last one. Held down, ``j``
sends a key press every few milliseconds. When the keys stop, every view
must show the pair the dashboard selected last: the same pictures as when
that pair is reached by one key press. Checked in JupyterLab and Notebook 7.
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


#: The known failure (dbc2a1e): the histogram's canvas keeps another pair's
#: picture under the right caption after a burst; not found yet.
STALE_HISTOGRAM = "known: the histogram's picture can stay stale after a burst"


def _key(page, key: str) -> None:
    before = page.evaluate(SELECTED_JS)
    page.keyboard.press(key)
    page.wait_for_function(CHANGED_JS, arg=before)


def test_views_after_a_burst_show_the_last_pair(lab):
    with dashboard_page(lab) as page:
        box = page.locator(".dv-pairs canvas").first.bounding_box()
        page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        page.wait_for_function(
            "() => !!document.querySelector('.dv-keys.ipyevents-watched')"
        )
        start = settle(page, FOLLOWERS_JS)
        for _ in range(7):  # a held key: presses 15 ms apart
            page.keyboard.press("j", delay=5)
            time.sleep(0.01)
        burst = settle(page, FOLLOWERS_JS)
        try:
            assert burst[0] != start[0], "the burst did not move"
            assert all(burst), "a view is empty after the burst"
            moved = [a != b for a, b in zip(start, burst, strict=True)]
            if moved == [True, True, False, True]:  # the same picture stayed
                pytest.xfail(STALE_HISTOGRAM)
            assert all(moved), f"a view did not follow the burst: {moved}"
            _key(page, "k")
            settle(page, FOLLOWERS_JS)
            _key(page, "j")
            again = settle(page, FOLLOWERS_JS)
        except Exception:
            shot(page, "followers-failure.png")
            raise
        names = ["title", "histogram caption", "histogram", "mosaic"]
        stale = [n for n, a, b in zip(names, burst, again, strict=True) if a != b]
        assert again[0] == burst[0], (again[0], burst[0])
        if stale == ["histogram"]:
            # Seen twice in about 20 runs (Notebook 7): the histogram's canvas
            # kept another pair's picture under the right caption. The
            # kernel's side of those runs was not captured; the cause is not
            # found yet: recorded, not hidden (the other views stay strict).
            pytest.xfail(STALE_HISTOGRAM)
        assert not stale, f"after the burst, not the last pair's: {stale}"
