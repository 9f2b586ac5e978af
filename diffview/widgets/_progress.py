"""
The dashboard's progress line: a bar, what is being computed, and a stop button.

It shows a synchronous load's stages (`ProgressView.show_stage`) or a
background job's `diffview.run.JobProgress` (pairs done, pairs/s, time left,
failures; `ProgressView.show_job`), and hides once there is nothing left.
"""

from __future__ import annotations

import ipywidgets as W

__all__ = ["ProgressView"]

_STAGES = {
    "differences": "computing differences",
    "fits": "fitting planes",
    "preview": "building the mosaic preview",
}


class ProgressView:
    """
    A progress bar with its label and a stop button.

    Attributes
    ----------
    bar : ipywidgets.IntProgress
    label : ipywidgets.Label
    stop : ipywidgets.Button
        Shown while a background job runs.

    Examples
    --------
    >>> from diffview.run import JobProgress
    >>> view = ProgressView()
    >>> view.show_job(JobProgress("pairs", 10, 40, 1, 2.0))
    >>> view.bar.value, view.bar.max, view.label.value
    (10, 40, 'differences and fits 10/40 pairs, 5.0 pairs/s, 6 s left, 1 failed')
    >>> view.hide()
    >>> view.bar.layout.display
    'none'
    """

    def __init__(self):
        self.bar = W.IntProgress(
            value=0, min=0, max=1, description="", layout=W.Layout(width="300px")
        )
        self.bar.add_class("dv-progress")
        self.label = W.Label("")
        self.stop = W.Button(
            description="stop", layout=W.Layout(width="auto", display="none")
        )
        self.stop.add_class("dv-stop")

    def show_stage(self, stage: str, done: int, total: int) -> None:
        """
        Show a stage of a synchronous load (`diffview.run.load_workspace`).

        Parameters
        ----------
        stage : str
            ``differences``, ``fits`` or ``preview``.
        done, total : int
            Items done and to do.
        """
        self.bar.max = max(total, 1)
        self.bar.value = min(done, self.bar.max)
        self.label.value = f"{_STAGES.get(stage, stage)} {done}/{total}"

    def show_job(self, progress) -> None:
        """
        Show a background job's progress.

        Parameters
        ----------
        progress : diffview.run.JobProgress
            Stage, pairs done, rate, time left, failures.
        """
        self.bar.layout.display = None
        self.bar.max = max(progress.total, 1)
        self.bar.value = min(progress.done, self.bar.max)
        self.label.value = progress.text()
        self.stop.layout.display = "none" if progress.finished else None

    def hide(self) -> None:
        """Hide the bar and the stop button; clear the label."""
        self.bar.layout.display = "none"
        self.stop.layout.display = "none"
        self.label.value = ""
