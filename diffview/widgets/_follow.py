"""
The dashboard's state following a background job: `JobFollower`.

A mixin of `Explorer`: `JobFollower.follow` hands it a
`diffview.run.CompletionJob`, whose thread then calls `JobFollower.job_update`
after every chunk of pairs and every stage. Results are gathered and the
views told at most once a second (at once for the selected pair): the
ranking values and labels, the mosaic colouring, then the preview, the
quality assessment and the corrections when their stages end.
"""

from __future__ import annotations

import time

import numpy as np

from diffview.run import as_fits_list

__all__ = ["JobFollower"]


class JobFollower:
    """
    Take a `diffview.run.CompletionJob`'s results as they arrive (mixin).

    Uses the explorer's ``lock``, ``ws``, ``pair_measures``, ``selected``,
    ``notify``, ``_quality``, ``_assess`` and ``_rank``.
    """

    def follow(self, job, interval: float | None = None) -> None:
        """
        Follow a job computing what the workspace lacks.

        Parameters
        ----------
        job : diffview.run.CompletionJob
            Not started yet, or running on ``self.ws``; its ``on_update``
            should call `job_update`.
        interval : float, optional
            Least seconds between two redraws for results (default 1 s, more
            for big tables).
        """
        with self.lock:
            self.job = job
            self._fresh: list = []
            self._flushed = time.monotonic()
            self._interval = interval or max(1.0, len(self.overlaps) / 5000)
            self._preview_seen = self.ws.preview
            self._corrections_seen = self.ws.corrections
            self._assessed = self._reassess = False
            self.pair_measures.mark_pending(job.pending())
            self._rank()

    def job_update(self, job, indices) -> None:
        """
        Take a job's news (called from its thread): results, or a stage ended.

        Parameters
        ----------
        job : diffview.run.CompletionJob
            The job followed.
        indices : numpy.ndarray of int or None
            Pairs whose results are now in the workspace; None when a stage
            starts or ends.
        """
        with self.lock:
            if job is not self.job:
                return
            if indices is not None:
                self._fresh.append(np.asarray(indices, np.int64))
                urgent = self.selected is not None and bool(
                    np.isin(self.selected, indices)
                )
                if urgent or time.monotonic() - self._flushed >= self._interval:
                    self.notify(self._flush())
                return
            changes = self._flush() | self._stage_changes(job)
            reassess = self._reassess
            self._reassess = False
            corrections = self.corrections
        if reassess:  # outside the lock: the user browses meanwhile
            quality = self._quality(as_fits_list(self.ws), corrections)
            with self.lock:
                if job is not self.job:
                    return
                self._assess(quality)
                self._rank()
                changes |= {"ranking", "corrections"}
        if changes:
            with self.lock:
                self.notify(changes)

    def _flush(self) -> set:
        """Take the results gathered so far; what changed."""
        if not self._fresh:
            return set()
        idx = np.concatenate(self._fresh)
        self._fresh = []
        self.pair_measures.update(idx, self.job.pending())
        self.forget_pairs(idx.tolist())  # "computing…" views kept meanwhile
        self._rank()
        self._flushed = time.monotonic()
        changes = {"ranking"}
        if self.selected is not None and bool(np.isin(self.selected, idx)):
            changes.add("selection")
        return changes

    def _stage_changes(self, job) -> set:
        """Take what a stage brought: a preview, corrections (quality: later)."""
        ws, changes, reassess = self.ws, set(), False
        if ws.preview is not None and ws.preview is not self._preview_seen:
            self._preview_seen = ws.preview
            changes.add("workspace")
        if ws.corrections and ws.corrections is not self._corrections_seen:
            self._corrections_seen = ws.corrections
            self.baseline = list(ws.corrections)
            if self.solver is None:  # a re-solve of the user's own stays
                self.corrections = list(ws.corrections)
                self._take_start()
            reassess = True
        if not self._assessed and not job.pending().any():
            self._assessed = reassess = True
        self._reassess = reassess
        return changes
