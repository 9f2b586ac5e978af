"""
Pointer and focus in a real browser: what a click or a move costs the page.

A click in the dashboard keeps the focus there: the notebook is not refocused.

When the pointer leaves the key area, ipyevents gives the focus back to the
page's body; JupyterLab's main area then answers the next mousedown inside
it by focusing and activating the whole notebook, 25-30 ms of restyling
before the click reaches the kernel (measured in Chromium). The dashboard's
guard (`diffview.widgets._keys.GUARD_ESM`) takes the focus into the dashboard
first. Checked in JupyterLab and Notebook 7: hover a pair panel, press Next;
nothing outside ``.dv-dashboard`` may receive the focus during the click
(without the guard the notebook does), and the next pair is shown.

Crossing into and out of the dashboard's canvases sends the kernel nothing
(ipympl's ``figure_enter`` / ``figure_leave``); moving over a panel still
sends ``motion_notify`` and fills the readout.
"""

from __future__ import annotations

import time

import pytest
from browserkit import STEP_S, dashboard_page, lab, requirements, shot

pytestmark = pytest.mark.browser

#: Records every element outside the dashboard that takes the focus.
WATCH_JS = """() => {
  window.__dvFocusOut = [];
  document.addEventListener('focusin', (e) => {
    const t = e.target;
    if (!(t.closest && t.closest('.dv-dashboard'))) {
      window.__dvFocusOut.push(t.tagName + '.' + String(t.className).slice(0, 60));
    }
  }, true);
}"""


def test_click_after_hover_keeps_focus_in_dashboard(lab):
    with dashboard_page(lab) as page:
        page.evaluate(WATCH_JS)
        panel = page.locator(".dv-panel-plus canvas").first
        selected = page.locator(".dv-selected")
        for _ in range(3):
            box = panel.bounding_box()
            x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
            page.mouse.move(x, y)
            time.sleep(0.3)
            before = selected.inner_text()
            page.evaluate("() => { window.__dvFocusOut = []; }")
            page.locator(".dv-next").click()
            deadline = time.monotonic() + STEP_S
            while selected.inner_text() == before and time.monotonic() < deadline:
                time.sleep(0.05)
            assert selected.inner_text() != before, "Next did not change the pair"
            time.sleep(0.5)  # JupyterLab's activation runs after the click
            outside = page.evaluate("() => window.__dvFocusOut")
            if outside:
                shot(page, "focus-failure.png")
            assert not outside, f"the click focused {outside}"
            assert page.evaluate(
                "() => !!document.activeElement.closest('.dv-dashboard')")


#: Records the custom event types the page sends the kernel.
SENT_JS = """() => {
  window.__dvSent = [];
  const send = WebSocket.prototype.send;
  WebSocket.prototype.send = function (data) {
    try {
      const text = typeof data === 'string' ? data : new TextDecoder().decode(data);
      const types = text.matchAll(/"type":\\s*"([a-z_]+)"/g);
      for (const m of types) window.__dvSent.push(m[1]);
    } catch (e) {}
    return send.call(this, data);
  };
}"""


def test_crossing_a_canvas_sends_the_kernel_nothing(lab):
    with dashboard_page(lab) as page:
        page.evaluate(SENT_JS)
        readout = page.locator(".dv-readout")
        before = readout.inner_text()
        for name in ("plus", "difference"):
            box = page.locator(f".dv-panel-{name} canvas").first.bounding_box()
            x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
            page.mouse.move(x - 15, y, steps=3)
            page.mouse.move(x, y, steps=3)
            time.sleep(0.3)
            page.locator(".dv-next").hover()  # out of the canvas
            time.sleep(0.3)
        # the hover still reads out (the kernel's answer may come after the
        # pointer has left, on a loaded machine)
        page.wait_for_function(
            "before => document.querySelector('.dv-readout').innerText !== before",
            arg=before, timeout=15000)
        sent = page.evaluate("() => window.__dvSent")
        assert "motion_notify" in sent, sent
        assert "figure_enter" not in sent and "figure_leave" not in sent, sent
