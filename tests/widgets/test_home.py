"""One thread per dashboard: messages and views that arrive on another thread
(a kernel subshell's, a background job's) run on the thread that built it.

Found in Chromium (ipykernel 7.4, JupyterLab 4.6): ipympl's answers to frames
came on a subshell's thread while key presses were handled on the main one;
both drew the histogram, and a redraw asked for during the other's frame was
cleared, so the last frame showed another pair."""

from __future__ import annotations

import asyncio
import threading

import ipywidgets as W
import numpy as np
import pytest

from diffview.sample import write_sample
from diffview.widgets import Dashboard
from diffview.widgets._canvas import after_frames, new_figure
from diffview.widgets._home import Home, widgets_in

CLICK = {"content": {"data": {"method": "custom", "content": {"event": "click"}}},
         "buffers": []}


class LoopThread:
    """An asyncio loop running in its own thread: a kernel's main shell."""

    def __init__(self):
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def run(self, func, *args):
        """``func(*args)`` run by the loop (inside it); its result."""

        async def call():
            return func(*args)

        return asyncio.run_coroutine_threadsafe(call(), self.loop).result(10)

    def settle(self):
        """Wait until the callbacks posted so far have run."""
        for _ in range(3):
            self.run(lambda: None)

    def close(self):
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()


@pytest.fixture
def shell():
    loop = LoopThread()
    yield loop
    loop.close()


def test_a_message_from_another_thread_is_handled_at_home(shell):
    def build():
        home, button = Home(), W.Button()
        seen = []
        button.on_click(lambda _: seen.append(threading.get_ident()))
        home.adopt(W.VBox([button]))
        return home, button, seen

    home, button, seen = shell.run(build)
    assert home.loop is shell.loop
    button.comm.handle_msg(CLICK)  # as a subshell's thread would
    shell.settle()
    assert seen == [shell.thread.ident]  # run by the home loop, not here


def test_messages_on_the_home_thread_run_at_once_and_in_order(shell):
    def build_and_click():
        home, button = Home(), W.Button()
        seen = []
        button.on_click(lambda _: seen.append(len(seen)))
        home.adopt(button)
        for _ in range(3):
            button.comm.handle_msg(CLICK)
        return list(seen)

    assert shell.run(build_and_click) == [0, 1, 2]


def test_adopt_reaches_nested_children_once():
    inner = W.Checkbox()
    box = W.VBox([W.HBox([inner]), W.Button()])
    found = widgets_in(box, inner)
    assert inner in found and box in found
    assert len(found) == len({id(w) for w in found})
    home = Home()
    assert home.adopt(box) == len(found)
    assert home.adopt(box) == 0  # not wrapped twice


def test_a_view_told_from_a_job_thread_is_drawn_at_home(shell):
    home = shell.run(Home)
    seen = []

    def render(explorer, changes):
        seen.append((threading.get_ident(), sorted(changes)))

    explorer = type("Ex", (), {"lock": threading.RLock()})()
    direct = home.view(render)
    deferred = after_frames(render, home=home)
    job = threading.Thread(
        target=lambda: (direct(explorer, {"a"}), deferred(explorer, {"b"}))
    )
    job.start()
    job.join()
    shell.settle()
    assert seen == [(shell.thread.ident, ["a"]), (shell.thread.ident, ["b"])]


def test_a_canvas_request_from_another_thread_is_drawn_at_home(shell):
    def build():
        fig = new_figure((1.0, 1.0))
        fig.canvas.syncing_data_url = False
        drew = []
        here = threading.get_ident
        fig.canvas.mpl_connect("draw_event", lambda e: drew.append(here()))
        return fig, drew

    fig, drew = shell.run(build)
    fig.canvas.draw_idle()  # from this (foreign) thread
    shell.settle()
    assert drew == [shell.thread.ident] and fig.canvas.draws == 1
    fig.canvas.close()


def test_a_request_made_while_a_frame_is_drawn_is_not_lost():
    """The lost redraw itself: a request during a render (another thread's,
    before `Home`) was cleared when that frame shipped; it must be drawn."""

    async def scenario():
        fig = new_figure((1.0, 1.0))
        canvas = fig.canvas
        canvas.syncing_data_url = False
        image = fig.add_axes((0, 0, 1, 1)).imshow(np.zeros((2, 2)), vmin=0, vmax=9)
        drawn = []

        def on_draw(event):
            drawn.append(image.get_array()[0, 0])
            if len(drawn) == 1:  # the state changes while frame 1 is drawn
                image.set_data(np.full((2, 2), 5))
                canvas.draw_idle()

        canvas.mpl_connect("draw_event", on_draw)
        canvas.draw_idle()
        await asyncio.sleep(0)
        assert drawn == [0] and canvas._want == "draw"
        for _ in range(5):
            await asyncio.sleep(0)
        assert drawn == [0, 5] and canvas.draws == 2
        canvas.close()

    asyncio.run(scenario())


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    return write_sample(tmp_path_factory.mktemp("home"), "small")


def test_a_dashboard_adopts_its_widgets_and_key_area(sample):
    dash = Dashboard(sample)
    try:
        owned = widgets_in(dash, dash.keyboard.event)
        assert dash.keyboard.event in owned and dash.table in owned
        assert dash.mosaic.fig.canvas in owned
        # every one of them already adopted: a second pass finds none
        assert dash.home.adopt(dash, dash.keyboard.event) == 0
    finally:
        dash.close()


def test_a_message_after_the_kernel_loop_closed_is_dropped_quietly():
    shell = LoopThread()
    home = shell.run(Home)
    shell.close()  # the kernel is shutting down
    ran = []
    worker = threading.Thread(target=home.call, args=(ran.append, "late"))
    worker.start()
    worker.join()
    assert ran == [] and home.loop.is_closed()
