"""
Where a dashboard's work runs: on the thread, and its event loop, that built it.

Since ipykernel 7, JupyterLab 4.4+ and Notebook 7 may send a widget's
messages through a kernel subshell, whose thread handles them while the main
shell handles others. Measured in Chromium with ipykernel 7.4: a choice in
the pair table, a pointer move over a canvas and ipympl's answers to frames
arrived on a subshell's thread, a button click and ipyevents' key presses on
the main one. Two threads then drew the same figure at once, and a redraw
asked for by one was cleared by the other: after a burst of key presses the
histogram or the mosaic could keep another pair's picture for good.

A `Home` is that thread and loop. A widget `adopted` by it handles every
message on it: a message that arrives on another thread is passed to the
loop, in order, and waits there for the action that runs (as every message
did before subshells). Views told of a change from a background job's thread
are drawn there too (`Home.view`). Without a running loop (a script, a test)
everything runs where it is called, as before.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable

from ipywidgets import Widget

__all__ = ["Home", "kernel_loop", "run_view", "widgets_in"]


def kernel_loop():
    """
    Return the asyncio loop running in this thread (a kernel's), or None.

    Returns
    -------
    asyncio.AbstractEventLoop or None

    Examples
    --------
    >>> kernel_loop() is None  # no loop runs in a doctest
    True
    """
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


def run_view(render, explorer, changes, on_error=None) -> None:
    """
    Draw one view holding the explorer's lock; errors go to ``on_error``.

    Parameters
    ----------
    render : callable
        A view's ``render(explorer, changes)``.
    explorer : Explorer
        Its ``lock`` is held while ``render`` runs.
    changes : frozenset of str
        What changed.
    on_error : callable, optional
        Called with an exception ``render`` raised; default: raised.

    Examples
    --------
    >>> import threading, types
    >>> ex = types.SimpleNamespace(lock=threading.RLock())
    >>> run_view(lambda e, c: print(sorted(c)), ex, frozenset({"selection"}))
    ['selection']
    """
    try:
        with explorer.lock:
            render(explorer, changes)
    except Exception as exc:
        if on_error is None:
            raise
        on_error(exc)


def widgets_in(*roots) -> list:
    """
    Every widget held by some widgets: children, layouts, toolbars, their own.

    Follows the synced traits (the ones the browser sees), so it finds what
    the page can send messages from.

    Parameters
    ----------
    *roots : ipywidgets.Widget
        Where to start.

    Returns
    -------
    list of ipywidgets.Widget
        Each once, the roots first.

    Examples
    --------
    >>> import ipywidgets as W
    >>> box = W.VBox([W.Button(), W.HBox([W.Checkbox()])])
    >>> names = sorted({type(w).__name__ for w in widgets_in(box)})
    >>> names[:4], names[-1]
    (['Button', 'ButtonStyle', 'Checkbox', 'CheckboxStyle'], 'VBox')
    """
    found: dict[int, Widget] = {}
    stack = list(reversed(roots))
    while stack:
        w = stack.pop()
        if isinstance(w, (list, tuple)):
            stack.extend(reversed(w))
            continue
        if not isinstance(w, Widget) or id(w) in found:
            continue
        found[id(w)] = w
        for name in reversed(w.keys):
            value = getattr(w, name, None)
            if isinstance(value, (Widget, list, tuple)):
                stack.append(value)
    return list(found.values())


class Home:
    """
    The thread and event loop a dashboard's widgets and views run on.

    Made where the dashboard is built (a notebook cell: the kernel's main
    shell). `call` runs a function there, `adopt` has widgets handle their
    messages there, `view` wraps a view so that a change told from another
    thread is drawn there.

    Attributes
    ----------
    thread : threading.Thread
        The home thread (the object: an identifier is reused once its
        thread ends).
    loop : asyncio.AbstractEventLoop or None
        Its running loop; None outside a kernel (a script, a test): then
        everything runs where it is called.

    Examples
    --------
    >>> import threading
    >>> home = Home()  # no running loop here: calls run at once
    >>> ran_on = []
    >>> t = threading.Thread(target=home.call, args=(ran_on.append, "job"))
    >>> t.start(); t.join()
    >>> ran_on
    ['job']
    """

    def __init__(self):
        self.thread = threading.current_thread()
        self.loop = kernel_loop()
        self._adopted: set[int] = set()

    def here(self) -> bool:
        """Tell whether this is the home thread (or no loop runs there)."""
        return self.loop is None or threading.current_thread() is self.thread

    def call(self, func: Callable, *args) -> None:
        """
        Run ``func(*args)`` on the home thread: now if called there, else soon.

        Parameters
        ----------
        func : callable
            What to run.
        *args
            Its arguments.
        """
        if self.here():
            func(*args)
        else:
            self.post(func, *args)

    def post(self, func: Callable, *args) -> None:
        """
        Run ``func(*args)`` soon on the home loop, from any thread.

        Dropped when the loop is closed (the kernel is shutting down); run at
        once when there is no loop.

        Parameters
        ----------
        func : callable
            What to run.
        *args
            Its arguments.
        """
        if self.loop is None:
            func(*args)
            return
        try:
            if threading.current_thread() is self.thread:
                self.loop.call_soon(func, *args)
            else:
                self.loop.call_soon_threadsafe(func, *args)
        except RuntimeError:  # the loop is closed: nobody is left to show it
            pass

    def adopt(self, *roots) -> int:
        """
        Have these widgets, and every widget they hold, handle messages here.

        Parameters
        ----------
        *roots : ipywidgets.Widget
            A dashboard, and widgets it holds outside its layout (an
            ``ipyevents.Event``).

        Returns
        -------
        int
            Widgets newly adopted.
        """
        count = 0
        for w in widgets_in(*roots):
            comm = getattr(w, "comm", None)
            if comm is None or id(w) in self._adopted:
                continue
            self._adopted.add(id(w))
            # ipywidgets registers its own ``_handle_msg`` as the comm's one
            # callback; the same, passed to the home loop when needed
            comm.on_msg(self._forwarding(w._handle_msg))
            count += 1
        return count

    def _forwarding(self, handle: Callable) -> Callable:
        def on_msg(msg) -> None:
            self.call(handle, msg)

        return on_msg

    def view(self, render: Callable, on_error=None) -> Callable:
        """
        Wrap a view so that a change told from another thread is drawn here.

        Parameters
        ----------
        render : callable
            A view's ``render(explorer, changes)``.
        on_error : callable, optional
            Gets an exception a render passed home raised (a render on the
            home thread raises to the action, as before).

        Returns
        -------
        callable
            ``view(explorer, changes)``.

        Examples
        --------
        >>> seen = []
        >>> Home().view(lambda ex, changes: seen.append(changes))(None, {"x"})
        >>> seen
        [{'x'}]
        """

        def view(explorer, changes) -> None:
            if self.here():
                render(explorer, changes)
            else:
                self.post(run_view, render, explorer, changes, on_error)

        view.__wrapped__ = render
        return view
