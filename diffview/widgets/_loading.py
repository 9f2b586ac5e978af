"""
How the dashboard loads a work folder: all at once, or open now and complete later.

A mixin of `Dashboard`: `Loading._load` reads and computes everything before
the dashboard is filled (``background=False``); `Loading._open` reads the
tables only, fills the dashboard at once and starts a
`diffview.run.CompletionJob` whose news (`Loading._on_job`) move the
progress line and update the explorer's state as results arrive. Both
first build the work folder when given a folder of raw images
(`diffview.widgets._build.build_work`).
"""

from __future__ import annotations

from diffview.run import CompletionJob, load_workspace, open_workspace
from diffview.widgets._build import build_work, is_raw_folder
from diffview.widgets._controller import Explorer
from diffview.widgets._textviews import _event

__all__ = ["Loading"]


class Loading:
    """
    The loading path of the dashboard (mixin).

    Uses the dashboard's ``progress_view``, ``messages``, ``explorer``,
    ``job``, ``_thread``, ``_work_dir``, ``_built`` and ``_ready``.
    """

    def _work(self, work):
        """Return the work folder, built first from a folder of raw images."""
        if is_raw_folder(work):
            show = self.progress_view.show_stage
            work, self._built = build_work(work, self._work_dir, show)
        return work

    def _show_report(self) -> None:
        """Say what was built and what the work folder holds."""
        report = [self._built, self.explorer.load_report()]
        self.messages.show_message("\n".join(t for t in report if t))

    @_event
    def _load(self, work, fits, corrections) -> None:
        work = self._work(work)
        ws = load_workspace(
            work,
            fits=fits,
            corrections=corrections,
            progress=self.progress_view.show_stage,
        )
        self._ready(Explorer(ws))

    @_event
    def _open(self, work, fits, corrections, executor, workers) -> None:
        """Open the tables now; compute the rest in a `CompletionJob`."""
        work = self._work(work)
        ws = open_workspace(work, fits=fits, corrections=corrections)
        explorer = Explorer(ws, assess=False)
        job = CompletionJob(
            ws,
            executor=executor,
            workers=workers,
            solve=corrections is None,
            lock=explorer.lock,
            on_update=self._on_job,
        )
        explorer.follow(job)
        self.job = job
        self._ready(explorer)
        self.progress_view.stop.on_click(lambda _: job.cancel("stopped"))
        self.progress_view.show_job(job.progress)
        job.start()

    @_event
    def _on_job(self, job, indices) -> None:
        """Take a job's news, from its thread: the state first, then the bar."""
        self.explorer.job_update(job, indices)
        if indices is None or not job.progress.finished:
            self.progress_view.show_job(job.progress)
        if job.progress.finished and indices is None:
            if job.progress.stage == "done":
                self.progress_view.hide()
            self._show_report()

    def wait(self, timeout: float | None = None) -> Loading:
        """
        Wait for the background job to finish; an interrupt stops it.

        Parameters
        ----------
        timeout : float, optional
            Seconds to wait at most.

        Returns
        -------
        Dashboard
            This dashboard.
        """
        try:
            if self._thread is not None:
                self._thread.join(timeout)
            if self.job is not None:
                self.job.wait(timeout)
        except KeyboardInterrupt:
            if self.job is not None:
                self.job.cancel("interrupted")
            raise
        return self
