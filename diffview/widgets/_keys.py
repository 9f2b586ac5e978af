"""
Keyboard navigation of the dashboard, through ipyevents.

ipywidgets sends no key presses to the kernel; `ipyevents.Event` does. While
the pointer is over its source widget, ipyevents focuses that widget and
takes every key press on the page (and stops the browser from using it:
arrows do not scroll the notebook, ``b`` does not add a cell). That is why
the source is a box around the pair panels and the blink controls, holding
no text box: keys typed into the range or reason boxes are never taken. The
box shows a blue outline while it holds the keyboard (ipyevents gives it
the class ``ipyevents-watched``).

Notebook 7 (unlike JupyterLab 4) lets its command-mode shortcuts see a key
press before ipyevents does (``b`` would insert a cell, ``j``/``k`` move the
cell cursor). Lumino, which runs those shortcuts, ignores key presses whose
target sits in an element with the attribute ``data-lm-suppress-shortcuts``;
ipywidgets cannot set attributes, so a hidden `ShortcutGuard` (an anywidget:
a few lines of JavaScript shipped from the kernel, nothing fetched) sets it
on the area.

The same guard keeps JupyterLab from refocusing the whole notebook on a
click in the dashboard. When the pointer leaves the key area ipyevents
releases the focus (to the page's body); JupyterLab's main area then answers
the next mousedown anywhere in it by focusing and activating the notebook,
which restyles the page: 25-30 ms of the browser's main thread, measured in
Chromium, before the click reaches the kernel. The guard moves the focus to
the dashboard itself first (a document-level capture listener, removed with
the view), so the main area finds it inside and does nothing.

It also keeps ipympl from telling the kernel each time the pointer enters or
leaves one of the dashboard's canvases (``figure_enter`` / ``figure_leave``:
nothing in the dashboard uses them). Each was a kernel request, with its
busy and idle status messages and JupyterLab's toolbar re-laid out for each,
on the way from a panel to the Next button or from the mosaic to a panel:
measured in Chromium, alternating with and without, Next 10-25 ms and the
hover readout 5-15 ms sooner. Moves, clicks and the wheel still go through.

Keys: ``→``, ``↓`` or ``j`` next pair; ``←``, ``↑`` or ``k`` previous pair;
``Home`` / ``End`` first / last pair in ranked order; ``b`` blink on/off;
``f`` flag the selected pair; ``z`` zoom the mosaic to the selected pair.
"""

from __future__ import annotations

import ipywidgets as W

from diffview.widgets._blink import Blink

__all__ = ["KEYS", "KeyArea", "key_action", "shortcut_guard"]

#: Key (DOM ``KeyboardEvent.key``) -> action name.
KEYS = {
    "ArrowRight": "next",
    "ArrowDown": "next",
    "j": "next",
    "ArrowLeft": "previous",
    "ArrowUp": "previous",
    "k": "previous",
    "Home": "first",
    "End": "last",
    "b": "blink",
    "f": "flag",
    "z": "zoom_pair",
}

#: Elements whose key presses are typing, never commands.
_TYPING = {"INPUT", "TEXTAREA", "SELECT"}

_HINT = (
    "<span class='dv-keys-hint'>keys with the pointer here: "
    "<kbd>→</kbd>/<kbd>j</kbd> next, <kbd>←</kbd>/<kbd>k</kbd> previous, "
    "<kbd>Home</kbd>/<kbd>End</kbd> first/last, <kbd>b</kbd> blink, "
    "<kbd>f</kbd> flag pair, <kbd>z</kbd> zoom the mosaic to the pair</span>"
)
_STYLE = (
    "<style>.dv-keys{outline:2px solid transparent;outline-offset:1px}"
    ".dv-keys.ipyevents-watched,.dv-keys:focus{outline:2px solid #1a73e8}"
    ".dv-keys-hint{font-size:11px;color:#555}"
    ".dv-dashboard:focus{outline:none}"
    ".dv-keys-hint kbd{border:1px solid #bbb;border-radius:3px;padding:0 3px}"
    # ipympl lays its left toolbar over the canvas: move the plus panel's
    # canvas beside it, or the toolbar hides the Dec (y) tick labels
    ".dv-panel-plus .jupyter-matplotlib-canvas-container{margin-left:40px}"
    "</style>"
)


#: Marks the enclosing ``.dv-keys`` box for Lumino (JupyterLab, Notebook 7):
#: no application shortcut for the key presses whose target is inside it.
#: Retried while the view is not yet in the page. Holds the focus in the
#: enclosing ``.dv-dashboard`` on a mousedown in it, and keeps the pointer's
#: entering and leaving its canvases from the kernel (see the module's
#: text), until the view is removed.
GUARD_ESM = """
function holdFocus(root) {
  root.tabIndex = -1;
  const onDown = (e) => {
    if (root.contains(e.target) && !root.contains(document.activeElement)) {
      root.focus({ preventScroll: true });
    }
  };
  const onCross = (e) => {
    if (e.target.tagName === "CANVAS" && root.contains(e.target)) {
      e.stopPropagation();
    }
  };
  document.addEventListener("mousedown", onDown, true);
  document.addEventListener("mouseenter", onCross, true);
  document.addEventListener("mouseleave", onCross, true);
  return () => {
    document.removeEventListener("mousedown", onDown, true);
    document.removeEventListener("mouseenter", onCross, true);
    document.removeEventListener("mouseleave", onCross, true);
  };
}
function render({ el }) {
  el.style.display = "none";
  let tries = 0;
  let stopped = false;
  let release = () => {};
  const mark = () => {
    if (stopped) return;
    const area = el.closest(".dv-keys");
    if (area) {
      area.setAttribute("data-lm-suppress-shortcuts", "true");
      const root = area.closest(".dv-dashboard");
      if (root) release = holdFocus(root);
    } else if (++tries < 200) {
      setTimeout(mark, 50);
    }
  };
  mark();
  return () => { stopped = true; release(); };
}
export default { render };
"""


def shortcut_guard():
    """
    Return a hidden widget that turns Lumino's shortcuts off in its key area.

    Returns
    -------
    anywidget.AnyWidget
        To be laid out inside the ``.dv-keys`` box: it sets
        ``data-lm-suppress-shortcuts`` on the box, so that Notebook 7's
        command-mode keys (``b``, ``j``, ``k`` ...) leave the dashboard's
        key presses alone.

    Examples
    --------
    >>> guard = shortcut_guard()
    >>> "data-lm-suppress-shortcuts" in guard._esm
    True
    >>> "root.focus" in guard._esm
    True
    """
    import anywidget

    class ShortcutGuard(anywidget.AnyWidget):
        _esm = GUARD_ESM

    return ShortcutGuard()


def key_action(event: dict) -> str | None:
    """
    Name the dashboard action of an ipyevents key message.

    Parameters
    ----------
    event : dict
        The message ipyevents sends (``event``, ``key``, ``ctrlKey``,
        ``altKey``, ``metaKey``, ``target``: ``{'tagName': ...}``).

    Returns
    -------
    str or None
        A value of `KEYS`; None for other keys, key releases, keys with
        Ctrl, Alt or Meta (the browser's and JupyterLab's shortcuts) and
        keys typed into a text box.

    Examples
    --------
    >>> key_action({"event": "keydown", "key": "j"})
    'next'
    >>> key_action({"event": "keydown", "key": "j", "ctrlKey": True}) is None
    True
    >>> key_action({"event": "keydown", "key": "j",
    ...             "target": {"tagName": "INPUT"}}) is None
    True
    """
    if event.get("event", "keydown") != "keydown":
        return None
    if any(event.get(m) for m in ("ctrlKey", "altKey", "metaKey")):
        return None
    if (event.get("target") or {}).get("tagName", "").upper() in _TYPING:
        return None
    return KEYS.get(event.get("key"))


class KeyArea:
    """
    The pair panels and the blink controls, driven from the keyboard.

    Parameters
    ----------
    dashboard : Dashboard
        Its pair panels (``pairs``) are laid out in the area; its actions
        (``next``, ``previous``, ``select``, ``flag_pair``) are what the
        keys do.

    Attributes
    ----------
    box : ipywidgets.VBox
        The area to lay out (CSS class ``dv-keys``), the ipyevents source.
    event : ipyevents.Event
        Watches ``keydown`` on ``box``.
    blink : Blink
        Blinks the pair in the plus panel.
    guard : anywidget.AnyWidget
        Keeps Lumino's shortcuts (Notebook 7's) off the area
        (`shortcut_guard`).

    Examples
    --------
    >>> import tempfile
    >>> from diffview.sample import write_sample
    >>> from diffview.widgets import Dashboard
    >>> dash = Dashboard(write_sample(tempfile.mkdtemp(), "small"))
    >>> dash.keyboard.press("End")
    >>> dash.explorer.selected == dash.explorer.order[-1]
    True
    >>> dash.close()
    """

    def __init__(self, dashboard):
        from ipyevents import Event

        self.dashboard = dashboard
        self.blink = Blink(dashboard.pairs)
        hint = W.HTML(_STYLE + _HINT)
        self.guard = shortcut_guard()
        self.box = W.VBox(
            [
                W.HBox(
                    [self.blink.controls, hint, self.guard],
                    layout=W.Layout(flex_flow="row wrap"),
                ),
                dashboard.pairs.widget,
            ]
        )
        self.box.add_class("dv-keys")
        self.event = Event(
            source=self.box, watched_events=["keydown"], prevent_default_action=True
        )
        self.event.on_dom_event(self.handle)

    def render(self, explorer, changes) -> None:
        """
        Pass the explorer's changes to the blink (an `Explorer` view).

        Parameters
        ----------
        explorer : Explorer
            The state.
        changes : frozenset of str
            What changed.
        """
        self.blink.render(explorer, changes)

    def handle(self, event: dict) -> None:
        """
        Do what a key press asks (an ipyevents callback).

        Parameters
        ----------
        event : dict
            The ipyevents message (see `key_action`).
        """
        action = key_action(event)
        dash = self.dashboard
        if action is None or dash.explorer is None:
            return
        if action == "blink":
            self.blink.toggle_blink()
        elif action == "flag":
            dash.flag_pair()
        elif action in ("first", "last") and dash.explorer.order:
            order = dash.explorer.order  # the table's rows, sorted and filtered
            dash.select(order[0] if action == "first" else order[-1])
        elif action in ("first", "last"):
            dash.next()  # no row: the error box says why
        else:
            getattr(dash, action)()

    def press(self, key: str) -> None:
        """
        Act as if ``key`` were pressed over the area.

        Parameters
        ----------
        key : str
            A DOM key name (``'j'``, ``'ArrowRight'``, ``'Home'`` ...).
        """
        self.handle({"event": "keydown", "key": key, "target": {"tagName": "DIV"}})
