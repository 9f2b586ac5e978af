"""
The dashboard's figures: ipympl canvases that draw from the kernel.

ipympl's own redraw is a round trip: ``draw_idle`` asks the browser, the
browser asks back for a picture unless it still waits for one (a request
that arrives then is dropped), and the kernel renders and ships a PNG. A
`PanelCanvas` renders and ships at once instead, one full frame at a time:
while a picture is on its way, further requests are remembered (not
dropped) and the last state is drawn when the browser acknowledges the
picture, so a burst of clicks costs one or two frames and always ends on
the current state.
"""

from __future__ import annotations

import contextlib
import functools
import time
from base64 import b64encode

import numpy as np
from ipympl.backend_nbagg import Canvas, FigureManager
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from diffview.render import png_bytes
from diffview.widgets._home import Home, kernel_loop, run_view
from diffview.widgets._prerender import figure_state

__all__ = [
    "IDLE_AFTER",
    "after_frames",
    "PanelCanvas",
    "held_draws",
    "new_figure",
    "resize_figure",
]

_NUM = [1000]

#: Seconds after which a picture the browser has not acknowledged is taken as
#: lost (a closed tab, a hidden output) and the next one is sent anyway.
ACK_TIMEOUT = 0.5

#: A frame shipped within this many seconds of the canvas's last one is part
#: of a burst: it asks the browser for an answer, and the next waits for it.
#: An isolated frame (one click) asks none: the answer's round trip costs
#: four websocket messages and a kernel request per canvas, for nothing.
BURST = 0.3


#: Seconds after a user action's frames before work that only fills idle
#: time runs (`after_frames` with ``idle``): the browser decodes and paints
#: those frames meanwhile, on the same cores as the kernel.
IDLE_AFTER = 0.1

#: Canvases whose requests wait for the end of `held_draws` (None: none held).
_HELD: dict | None = None


@contextlib.contextmanager
def held_draws():
    """
    Merge the draw requests made inside into one per canvas, made at the end.

    Zooming one of several figures whose axes are shared asks each of them
    to draw once per changed limit; under this context each canvas is
    asked once.

    Yields
    ------
    None

    Examples
    --------
    >>> fig = new_figure((1.0, 1.0))
    >>> with held_draws():
    ...     fig.canvas.draw_idle()
    ...     fig.canvas.draw_idle()
    ...     fig.canvas.draws
    0
    >>> fig.canvas.draws
    1
    >>> fig.canvas.close()
    """
    global _HELD
    outer = _HELD is None
    if outer:
        _HELD = {}
    try:
        yield
    finally:
        if outer:
            held, _HELD = _HELD, None
            for canvas in held:
                canvas.request(canvas._want or "draw")


def after_frames(render, on_error=None, idle=False, home=None):
    """
    Make a view's render wait for the frames already asked for.

    In a kernel, the wrapped ``render(explorer, changes)`` runs once the
    running action returns and the canvases it asked to draw have shipped
    (the pair panels first, the histogram and mosaic after them); without
    an event loop (a script, a test, the background job's thread) at once.

    Parameters
    ----------
    render : callable
        A view's ``render(explorer, changes)``.
    on_error : callable, optional
        Called with an exception the deferred render raised (e.g. the
        dashboard's `show_error`); default: raised to the event loop.
    idle : bool
        Work that only fills idle time (reading ahead): run `IDLE_AFTER`
        seconds later in a kernel, skipped where no event loop runs.
    home : Home, optional
        The dashboard's thread: a change told on another thread (a
        subshell's, a job's) is drawn there, not where it was told.

    Returns
    -------
    callable
        The wrapped render.

    Examples
    --------
    >>> seen = []
    >>> after_frames(lambda ex, changes: seen.append(changes))(None, {"selection"})
    >>> seen
    [{'selection'}]
    """

    @functools.wraps(render)
    def deferred(explorer, changes):
        if home is not None and not home.here():
            home.post(run_view, render, explorer, changes, on_error)
            return
        loop = kernel_loop()
        if loop is None:
            if not idle:
                render(explorer, changes)
            return
        if idle:  # not while the browser takes in the frames just shipped
            loop.call_later(IDLE_AFTER, run_view, render, explorer, changes, on_error)
        else:
            loop.call_soon(run_view, render, explorer, changes, on_error)

    return deferred


class PanelCanvas(Canvas):
    """
    An ipympl canvas that renders in the kernel and ships whole frames.

    Requests (``draw_idle``, `blit`) made while one user
    action runs are merged into one frame, drawn once the action returns.
    A frame that follows another within `BURST` seconds asks the browser
    for an answer, and the next frame waits for it (or `ACK_TIMEOUT`), so
    a burst of actions cannot queue frames; a lone frame asks none. Frames
    are full PNG images (`~diffview.render.png_bytes`), so a frame the
    browser skips loses nothing. The canvas works on the thread that made it (its
    `home`): a message or a request that comes on another thread (a kernel
    subshell's, a job's) is passed there, so two threads never draw it at
    once and a request is never lost.

    Parameters
    ----------
    figure : matplotlib.figure.Figure
        The figure drawn.

    Attributes
    ----------
    draws : int
        Renders so far (a test counts which canvases redrew).
    full_draws : int
        Renders of the whole figure; with `layers`, a render draws only
        those axes over a kept picture of the rest while the figure's size
        and texts stay the same.
    prepared_draws : int
        Draws that shipped a picture drawn ahead of time (`offer`) instead
        of rendering.
    sends : int
        Frames shipped (renders and blits).
    layers : list of matplotlib.axes.Axes
        Axes redrawn on every render over a kept picture of everything
        else (the figure's texts: titles drawn once, not per frame).
    home : Home
        The thread and loop it works on.

    Examples
    --------
    >>> fig = Figure(figsize=(1.0, 1.0))
    >>> canvas = PanelCanvas(fig)
    >>> canvas.draw_idle()  # no event loop running: drawn at once
    >>> canvas.draws, canvas.sends
    (1, 1)
    >>> canvas.close()
    """

    def __init__(self, figure, *args, **kwargs):
        super().__init__(figure, *args, **kwargs)
        self.draws = 0
        self.full_draws = 0
        self.sends = 0
        self.prepared_draws = 0
        self.layers: list = []
        self._prepared = None  # (figure_state, RGBA picture) from `offer`
        self._backgrounds: dict = {}  # (size, dpi, texts) -> kept picture
        self._want = None  # None, "send" (a blitted buffer) or "draw"
        self._sent_at = None  # monotonic time of the frame not yet acknowledged
        self._shipped_at = None  # monotonic time of the last frame shipped
        self._scheduled = False
        self.home = Home()
        self.home.adopt(self)  # its messages (and its toolbar's) handled at home

    # -- requests ------------------------------------------------------
    def draw_idle(self, *args, **kwargs) -> None:
        """Redraw soon: after the running action, and the browser's answer."""
        self.request("draw")

    def blit(self, bbox=None) -> None:
        """Ship the renderer's buffer (drawn into by blitting) soon."""
        self.request("send")

    def request(self, what: str) -> None:
        """
        Ask for a frame: ``'draw'`` (render and ship) or ``'send'`` (ship).

        Parameters
        ----------
        what : {'draw', 'send'}
            A render supersedes a send.
        """
        if not self.home.here():
            self.home.post(self.request, what)
            return
        if self._want != "draw":
            self._want = what
        if _HELD is not None:
            _HELD[self] = None
            return
        loop = kernel_loop()
        if loop is None:  # no event loop in this thread (a script, a test)
            self.flush()
        elif not self._scheduled:
            self._scheduled = True
            loop.call_soon(self.flush)

    def flush(self) -> None:
        """Render or ship what was asked for, unless a frame is in flight."""
        self._scheduled = False
        if self._want is None:
            return
        waited = None if self._sent_at is None else time.monotonic() - self._sent_at
        loop = kernel_loop()
        if waited is not None and waited < ACK_TIMEOUT and loop is not None:
            # the browser's answer flushes; if it never comes, this does
            loop.call_later(ACK_TIMEOUT - waited + 0.01, self.flush)
            return
        if self._want == "draw" or not self.draws:
            self.draw()
        else:
            self._want = None
            self._ship()

    # -- frames --------------------------------------------------------
    def draw(self) -> None:
        """Render the figure now and ship it (on its home thread: soon there)."""
        if not self.home.here():
            self.home.post(self.draw)
            return
        self._want = None
        self.draws += 1
        if self._take_prepared():
            self.prepared_draws += 1
        elif self.layers:
            self._draw_layers()
        else:
            self.full_draws += 1
            FigureCanvasAgg.draw(self)
        self._ship()

    def offer(self, state: tuple | None, rgba: np.ndarray | None) -> None:
        """
        Keep a picture drawn ahead of time for the draw it is the picture of.

        The next draw whose `~diffview.widgets._prerender.figure_state` of
        this figure equals ``state`` ships ``rgba`` instead of rendering; a
        later offer replaces this one.

        Parameters
        ----------
        state : tuple or None
            `figure_state` of the figure ``rgba`` was drawn from (off
            screen, e.g. `PairPanels.prepare`); None withdraws the offer.
        rgba : numpy.ndarray or None
            Its pixels, (height, width, 4) uint8.
        """
        self._prepared = None if state is None else (state, rgba)

    def _take_prepared(self) -> bool:
        """Put the offered picture in the renderer if it shows the figure now."""
        if self._prepared is None:
            return False
        state, rgba = self._prepared
        if figure_state(self.figure) != state:
            return False
        buffer = np.asarray(self.get_renderer().buffer_rgba())
        if buffer.shape != rgba.shape:
            return False
        self._prepared = None
        buffer[...] = rgba
        for ax in self.figure.axes:  # where a draw would put them (mouse events)
            ax.apply_aspect()
        return True

    def _draw_layers(self) -> None:
        """Draw `layers` over the kept picture of the rest (made when missing)."""
        fig = self.figure
        key = (self.get_width_height(), fig.dpi, *(t.get_text() for t in fig.texts))
        background = self._backgrounds.get(key)
        if background is None:
            for ax in self.layers:  # left out of the picture kept
                ax.set_animated(True)
            try:
                self.full_draws += 1
                FigureCanvasAgg.draw(self)
            finally:
                for ax in self.layers:
                    ax.set_animated(False)
            if len(self._backgrounds) >= 4:  # e.g. blink's two titles, sizes
                self._backgrounds.clear()
            background = self._backgrounds[key] = self.copy_from_bbox(fig.bbox)
        else:
            self.restore_region(background)
        renderer = self.get_renderer()
        for ax in self.layers:
            ax.draw(renderer)

    def _ship(self) -> None:
        # ``_want`` is left alone: a request made while this frame was drawn
        # still waits for its own
        self._png_is_old = True
        self._force_full = True
        self.sends += 1
        if self.manager is None:  # not on a page (no FigureManager)
            return
        if self.syncing_data_url:
            # No browser yet: the picture it starts from. (ipympl's own
            # send_binary would set it without the "data:" prefix, a broken
            # image on which the page's first resize fails: blank canvas.)
            png = self.get_diff_image()
            if png is not None:
                self._data_url = "data:image/png;base64," + b64encode(png).decode()
            return
        self.manager.refresh_all()
        now, last = time.monotonic(), self._shipped_at
        self._shipped_at = now
        if last is not None and now - last < BURST:
            self._sent_at = now
            # answered after the frame is taken in: the acknowledgement
            self.send_event("draw")

    def handle_draw(self, event) -> None:
        """
        Ship what waits, if anything: the browser took the last frame.

        The browser sends ``draw`` in answer to the ``draw`` event sent
        after each frame, so it acknowledges that frame. Nothing is sent
        when nothing changed (an answer to an answer would never end).

        Parameters
        ----------
        event : dict
            The browser's message.
        """
        self._sent_at = None
        self.flush()

    def get_diff_image(self):
        """Encode the rendered figure as a PNG (a whole frame, `png_bytes`)."""
        if not self._png_is_old:
            return None
        self._png_is_old = False
        self.set_image_mode("full")
        pixels = np.asarray(self.get_renderer().buffer_rgba())
        self._last_buff = pixels.view(np.uint32).squeeze(2)
        return png_bytes(pixels)


def _no_history_buttons() -> None:
    """Send nothing: ipympl's front end has no back/forward buttons to update."""


def _no_message(*args) -> str:
    """Format and send nothing: the footer that would show it is hidden."""
    return ""


def new_figure(size, toolbar: bool = True) -> Figure:
    """
    Make a figure on its own `PanelCanvas`, outside pyplot's registry.

    Parameters
    ----------
    size : tuple of float
        Width and height, inches.
    toolbar : bool
        Show the toolbar (on the left).

    Returns
    -------
    matplotlib.figure.Figure
        ``fig.canvas`` is the widget to lay out (no header, footer or resize
        handle).

    Examples
    --------
    >>> fig = new_figure((2.0, 1.0))
    >>> fig.canvas.toolbar_position, fig.canvas.toolbar_visible
    ('left', True)
    >>> fig.canvas.close()
    """
    fig = Figure(figsize=size)
    canvas = PanelCanvas(fig)
    _NUM[0] += 1
    FigureManager(canvas, _NUM[0])  # gives the canvas its toolbar
    # The toolbar reports its view history to the page twice per pair
    # (`reset_history`): ipympl's front end ignores the message, which was
    # ten of the 22 a Next sent.
    canvas.toolbar.set_history_buttons = _no_history_buttons
    # Every pointer move had the toolbar format the coordinates and the value
    # under the pointer and send them for ipympl's footer, which is hidden:
    # a kernel message and a page update per move, ahead of the readout's.
    canvas.toolbar._mouse_event_to_message = _no_message
    canvas.toolbar.set_message = _no_message
    canvas.header_visible = False
    canvas.footer_visible = False
    canvas.toolbar_position = "left"
    canvas.toolbar_visible = bool(toolbar)
    canvas.resizable = False
    return fig


def resize_figure(fig, size: tuple[int, int]) -> bool:
    """
    Give a figure a size in pixels and ask for a redraw.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        The figure.
    size : (int, int)
        Width and height, pixels.

    Returns
    -------
    bool
        False when it had that size already (within 2 pixels): nothing done.

    Examples
    --------
    >>> fig = new_figure((2.0, 1.0))
    >>> resize_figure(fig, (300, 100)), resize_figure(fig, (301, 100))
    (True, False)
    >>> fig.canvas.close()
    """
    w, h = size
    old = fig.get_size_inches() * fig.dpi
    if abs(old[0] - w) < 2 and abs(old[1] - h) < 2:
        return False
    fig.set_size_inches(w / fig.dpi, h / fig.dpi, forward=True)
    fig.canvas.draw_idle()
    return True
