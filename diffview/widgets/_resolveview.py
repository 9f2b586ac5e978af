"""
The dashboard's re-solve button at survey scale: progress, a stop button.

`ResolveView` is a line under the solver's controls: what a background
re-solve (`diffview.widgets._resolve.ResolveJob`) is doing and for how long
(ticking while it runs), with a stop button; it says how it ended.
`ResolveActions` is the dashboard's re-solve action (mixin): it starts the
re-solve through `Explorer.start_resolve`, which runs a small one at once and
a big one in the background while the user keeps browsing.
"""

from __future__ import annotations

import threading

import ipywidgets as W

from diffview.widgets._textviews import _action, _event

__all__ = ["ResolveView", "ResolveActions"]


class ResolveView:
    """
    A background re-solve's stage and elapsed seconds, with a stop button.

    Parameters
    ----------
    interval : float
        Seconds between two updates of the elapsed time.

    Attributes
    ----------
    label : ipywidgets.Label
    stop : ipywidgets.Button
        Cancels the job followed (shown while it runs).
    box : ipywidgets.HBox
        Both; hidden until a re-solve runs in the background.

    Examples
    --------
    >>> view = ResolveView()
    >>> view.box.layout.display
    'none'
    """

    def __init__(self, interval: float = 0.5):
        self.interval = interval
        self.label = W.Label("")
        self.label.add_class("dv-resolve-progress")
        self.stop = W.Button(description="stop re-solve", layout=W.Layout(width="auto"))
        self.stop.add_class("dv-resolve-stop")
        self.box = W.HBox([self.label, self.stop], layout=W.Layout(display="none"))
        self.job = None
        self.stop.on_click(
            lambda _: self.job is not None and self.job.cancel("stopped")
        )

    def follow(self, job) -> None:
        """
        Show a running job until it ends (a thread ticks the elapsed time).

        Parameters
        ----------
        job : ResolveJob
            Started.
        """
        self.job = job
        self.show(job)
        threading.Thread(
            target=self._tick, args=(job,), name="diffview-resolve-view", daemon=True
        ).start()

    def _tick(self, job) -> None:
        while not job.finished and self.job is job:
            job.wait(self.interval)
            self.show(job)

    def show(self, job) -> None:
        """
        Show where a job is (ignored unless it is the one followed).

        Parameters
        ----------
        job : ResolveJob
        """
        if job is not self.job:
            return
        self.box.layout.display = None
        self.label.value = job.text()
        self.stop.layout.display = "none" if job.finished else None


class ResolveActions:
    """
    The dashboard's re-solve action (mixin).

    Uses the dashboard's ``explorer``, ``method``, ``resolve_view`` and its
    error area.
    """

    @_action
    def resolve(self) -> None:
        """
        Re-solve the background model without the flagged pairs and images.

        Small: at once. Big (`RESOLVE_APART` fits): in the background, its
        progress and a stop button under the button, the dashboard usable
        meanwhile; the new corrections apply when it ends.
        """
        job = self.explorer.start_resolve(self.method.value, self._on_resolve)
        if job is self.explorer.resolve_job:  # in the background
            self.resolve_view.follow(job)

    @_event
    def _on_resolve(self, job) -> None:
        """Show a background re-solve's news (from its thread)."""
        self.resolve_view.show(job)
        if job.stage == "failed" and job.error is not None:
            raise job.error

    def wait_resolve(self, timeout: float | None = None) -> bool:
        """
        Wait for a background re-solve to end; an interrupt stops it.

        Parameters
        ----------
        timeout : float, optional
            Seconds at most.

        Returns
        -------
        bool
            No re-solve is running.
        """
        job = self.explorer.resolve_job if self.explorer else None
        return job is None or job.wait(timeout)

    def _stop_resolve(self) -> None:
        """Cancel a background re-solve and wait (bounded) for its worker."""
        if self.explorer is not None and self.explorer.resolve_job is not None:
            self.explorer.cancel_resolve("dashboard closed")
            self.explorer.resolve_job.wait(10)
