"""
Blink the selected pair's images in one panel, driven by the browser.

Blinking two overlapping images (plus, minus, plus, ...) in one place is the
standard way to see what differs between them: a star that moves, a
gradient, a ghost. The frames come from an ipywidgets `Play` widget, whose
timer runs in the browser (``interval`` milliseconds per frame): each new
frame number reaches the kernel as a value change, and the plus panel's image
is swapped (``set_data``, ``set_norm``, ``draw``), so no Python thread
or timer is involved. Plus and minus are shown with their shared norm (the
same stretch), over the same sky region (the panels' current zoom and
block-averaging factor); the difference, in the three-frame cycle, with the
difference panel's norm.
"""

from __future__ import annotations

import ipywidgets as W

from diffview.core import block_average

__all__ = ["Blink", "CYCLES", "RATES"]

#: Cycle name -> the frames it shows, in order.
CYCLES = {
    "plus / minus": ("plus", "minus"),
    "plus / minus / difference": ("plus", "minus", "difference"),
}

#: Label -> milliseconds per frame.
RATES = {"4 per s": 250, "2 per s": 500, "1 per s": 1000, "1 per 2 s": 2000}


class Blink:
    """
    Show plus, minus (and difference) in turn in the plus panel.

    Parameters
    ----------
    panels : PairPanels
        The pair panels; the blink takes over their ``plus`` panel while it
        plays and gives it back when stopped.

    Attributes
    ----------
    play : ipywidgets.Play
        The frame clock (``value`` is the frame number, ``playing`` whether
        it runs, ``interval`` the milliseconds per frame).
    toggle : ipywidgets.ToggleButton
        Start and stop (linked to ``play.playing``).
    rate, cycle : ipywidgets.Dropdown
        Milliseconds per frame (`RATES`) and the frames shown (`CYCLES`).
    controls : ipywidgets.HBox
        The controls, to lay out.
    shown : str
        The image the plus panel shows now.

    Examples
    --------
    >>> import numpy as np
    >>> from diffview.widgets._model import PairView
    >>> from diffview.widgets._settings import DisplaySettings
    >>> from diffview.widgets._views import PairPanels
    >>> plus, minus = np.ones((3, 4)), np.full((3, 4), 2.0)
    >>> panels = PairPanels()
    >>> panels.show(PairView(0, plus, minus, plus - minus, plus - minus,
    ...             plus > 5, ((0, 3), (0, 4)), None), DisplaySettings())
    >>> blink = Blink(panels)
    >>> blink.start()
    >>> blink.play.value = 1  # the browser's clock: the next frame
    >>> blink.shown, float(panels.images["plus"].get_array().mean())
    ('minus', 2.0)
    >>> blink.stop(); blink.shown
    'plus'
    >>> panels.close()
    """

    panel = "plus"

    def __init__(self, panels):
        self.panels = panels
        self.shown = self.panel
        self.play = W.Play(
            value=0, min=0, max=1, step=1, interval=500, repeat=True,
            show_repeat=False, description="blink",
            layout=W.Layout(width="auto"),
        )  # fmt: skip
        self.play.add_class("dv-blink-play")
        self.toggle = W.ToggleButton(
            value=False, description="blink", tooltip="blink (key b)",
            icon="eye", layout=W.Layout(width="auto"),
        )  # fmt: skip
        self.toggle.add_class("dv-blink")
        W.link((self.toggle, "value"), (self.play, "playing"))
        self.rate = W.Dropdown(
            options=list(RATES.items()), value=500, description="rate",
            layout=W.Layout(width="170px"),
        )  # fmt: skip
        self.cycle = W.Dropdown(
            options=list(CYCLES), description="frames",
            layout=W.Layout(width="290px"),
        )  # fmt: skip
        W.link((self.rate, "value"), (self.play, "interval"))
        self.controls = W.HBox([self.toggle, self.play, self.rate, self.cycle])
        self.play.observe(self._on_frame, names="value")
        self.play.observe(self._on_playing, names="playing")
        self.cycle.observe(self._on_cycle, names="value")
        # zoom and pan re-cut the plus panel to plus: show the frame again
        for limits in ("xlim_changed", "ylim_changed"):
            panels.axes[self.panel].callbacks.connect(limits, self._redo)

    @property
    def frames(self) -> tuple[str, ...]:
        """The panels shown in turn (`CYCLES`)."""
        return CYCLES[self.cycle.value]

    @property
    def playing(self) -> bool:
        """Whether the blink runs."""
        return bool(self.play.playing)

    def start(self) -> None:
        """Start blinking (the browser's clock advances the frames)."""
        self.play.playing = True

    def stop(self) -> None:
        """Stop and show the plus image again."""
        self.play.playing = False
        self.show(self.panel)

    def toggle_blink(self) -> None:
        """Start when stopped, stop when running (the ``b`` key)."""
        self.stop() if self.playing else self.start()

    def show(self, name: str, draw: bool = True) -> None:
        """
        Show one panel's image in the plus panel, at its norm.

        Parameters
        ----------
        name : {'plus', 'minus', 'difference', 'residual'}
            The image shown, cut to the panels' current region.
        draw : bool
            Draw the figure now (False: the caller draws, e.g. a zoom).
        """
        panels = self.panels
        if panels.view is None or panels._region is None:
            return
        r0, r1, c0, c1, factor = panels._region
        sub = panels.view.panel(name)[r0:r1, c0:c1]
        im = panels.images[self.panel]
        im.set_data(sub if factor == 1 else block_average(sub, factor))
        im.set_norm(panels.images[name].norm)
        panels.set_title(self.panel, name if name == self.panel else f"blink: {name}")
        self.shown = name
        if not draw:
            return
        # Render and send now: ipympl's front end drops a draw_idle request
        # that arrives while it waits for the previous picture, and the
        # last frame (plus, after stop) would then never reach the screen.
        panels.figs[self.panel].canvas.draw()

    def render(self, explorer, changes) -> None:
        """
        Keep the frame on a new pair or stretch (an `Explorer` view).

        Subscribed after the pair panels, which draw plus in the plus panel.

        Parameters
        ----------
        explorer : Explorer
            The state (unused: the panels hold the pair).
        changes : frozenset of str
            What changed; acts on a new selection or display.
        """
        if self.shown != self.panel and changes & {"selection", "display"}:
            self.show(self.shown)

    def _on_frame(self, change) -> None:
        if self.playing:
            self.show(self.frames[int(change["new"]) % len(self.frames)])

    def _on_playing(self, change) -> None:
        if not change["new"]:
            self.show(self.panel)

    def _on_cycle(self, change) -> None:
        self.play.max = len(self.frames) - 1
        self.play.value = min(self.play.value, self.play.max)

    def _redo(self, ax) -> None:
        if self.shown != self.panel and not self.panels._updating:
            self.show(self.shown, draw=False)  # the zoom or pan draws
