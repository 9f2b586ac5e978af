"""Fixtures of the run tests: a recording stand-in for glibc's malloc settings."""

from __future__ import annotations

import pytest


class FakeLibc:
    """Records the malloc settings `diffview.run._heap.keep_heap` makes."""

    def __init__(self):
        self.calls: list = []

    def mallopt(self, param, value):
        self.calls.append(("mallopt", param, value.value))
        return 1

    def malloc_trim(self, pad):
        self.calls.append(("trim", pad.value))
        return 1


@pytest.fixture
def fake_libc(monkeypatch):
    """A process started as dask starts its workers, with a recording libc."""
    from diffview.run import _heap

    libc = FakeLibc()
    monkeypatch.setenv("MALLOC_TRIM_THRESHOLD_", "65536")
    monkeypatch.delenv("MALLOC_MMAP_THRESHOLD_", raising=False)
    monkeypatch.setattr(_heap, "_glibc", lambda: libc)
    return libc
