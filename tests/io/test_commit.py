"""Group commits: units of files appear whole or not at all.

A `GroupCommit` syncs staged files from background threads and renames a
unit's files only once all of them are synced. A unit whose sync fails
leaves none of its files and reports the file it failed on; an aborted
group (Ctrl-C) leaves no temporary file, and only complete files under
final names.
"""

from __future__ import annotations

import errno
import os
import threading

import numpy as np
import pytest

from diffview import io
from diffview.errors import OutputError
from diffview.io import _commit, paths

IMAGE = np.arange(12.0).reshape(3, 4)


def _unit(folder, k):
    return io.stage_plain_images([
        (folder / f"d{k}.fits", IMAGE + k, []),
        (folder / f"d{k}_area.fits", IMAGE, []),
    ])


def _names(folder):
    return sorted(os.listdir(folder))


def test_units_are_renamed_complete_and_equal_to_a_direct_write(tmp_path):
    (tmp_path / "g").mkdir()
    (tmp_path / "w").mkdir()
    with io.GroupCommit(threads=4, depth=3) as group:
        futures = [group.submit(_unit(tmp_path / "g", k)) for k in range(20)]
    assert [f.exception() for f in futures] == [None] * 20
    for k in range(20):
        io.write_plain_image(tmp_path / "w" / f"d{k}.fits", IMAGE + k, [])
        io.write_plain_image(tmp_path / "w" / f"d{k}_area.fits", IMAGE, [])
    assert _names(tmp_path / "g") == _names(tmp_path / "w")
    for name in _names(tmp_path / "w"):
        written = (tmp_path / "w" / name).read_bytes()
        assert (tmp_path / "g" / name).read_bytes() == written
    assert not paths._PENDING


def test_a_failed_sync_leaves_none_of_its_unit_and_names_the_file(
    tmp_path, monkeypatch
):
    real = os.fsync
    staged = {"bad": -1}

    def fsync(fd):
        if fd == staged["bad"]:
            raise OSError(errno.EIO, os.strerror(errno.EIO))
        return real(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    with io.GroupCommit(threads=2) as group:
        good = group.submit(_unit(tmp_path, 0))
        unit = _unit(tmp_path, 1)
        staged["bad"] = unit[1].fd  # the area file of pair 1
        bad = group.submit(unit)
        after = group.submit(_unit(tmp_path, 2))
    assert good.exception() is None and after.exception() is None
    err = bad.exception()
    assert isinstance(err, OutputError)
    assert str(err) == f"{tmp_path / 'd1_area.fits'}: input/output error"
    assert _names(tmp_path) == ["d0.fits", "d0_area.fits", "d2.fits", "d2_area.fits"]


def test_an_interrupted_group_leaves_only_whole_units_and_no_temporary(
    tmp_path, monkeypatch
):
    """Ctrl-C while syncs are pending: the pending units are removed."""
    release = threading.Event()
    real = os.fsync

    def slow_fsync(fd):  # the disk is slow: syncs wait until the interrupt
        release.wait(5)
        return real(fd)

    monkeypatch.setattr(os, "fsync", slow_fsync)
    with pytest.raises(KeyboardInterrupt):
        with io.GroupCommit(threads=2, depth=8) as group:
            for k in range(6):
                group.submit(_unit(tmp_path, k))
            raise KeyboardInterrupt
    release.set()
    assert [n for n in os.listdir(tmp_path) if n.endswith(".part")] == []
    assert not paths._PENDING
    assert _names(tmp_path) == []  # nothing had been synced


def test_a_stop_while_waiting_for_the_disk_removes_what_is_pending(
    tmp_path, monkeypatch
):
    """A signal that arrives while the block's end waits for the syncs."""
    real_wait = _commit.GroupCommit.wait
    release = threading.Event()
    real = os.fsync

    def slow_fsync(fd):
        release.wait(5)
        return real(fd)

    def interrupted_wait(self):
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "fsync", slow_fsync)
    monkeypatch.setattr(_commit.GroupCommit, "wait", interrupted_wait)
    with pytest.raises(KeyboardInterrupt):
        with io.GroupCommit(threads=1) as group:
            group.submit(_unit(tmp_path, 0))
    release.set()
    monkeypatch.setattr(_commit.GroupCommit, "wait", real_wait)
    assert _names(tmp_path) == []
    assert not paths._PENDING


def test_staging_fails_whole_when_one_file_cannot_be_written(tmp_path):
    os.mkfifo(tmp_path / "d0_area.fits")
    with pytest.raises(OutputError, match="is a FIFO"):
        _unit(tmp_path, 0)
    assert _names(tmp_path) == ["d0_area.fits"]  # the FIFO, kept
    assert not paths._PENDING


def test_without_threads_each_unit_is_committed_at_once(tmp_path):
    with io.GroupCommit(threads=0) as group:
        group.submit(_unit(tmp_path, 0)).result()
        assert _names(tmp_path) == ["d0.fits", "d0_area.fits"]
