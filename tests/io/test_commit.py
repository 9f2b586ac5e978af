"""Group commits: units of files appear whole or not at all.

A `GroupCommit` gathers units (a pair's files) into batches, puts each
batch on disk with one ``syncfs`` per file system (an ``fsync`` per file
where that is unavailable or fails) and renames a unit's files only once
all of them are on disk. A unit whose sync fails leaves none of its files
(an older file of that name is kept) and reports the file it failed on; an
aborted group (Ctrl-C) leaves no temporary file, and only complete files
under final names.

The file system is simulated here: ``disk`` counts the flushes (``syncfs``
through `_syncfs._SYNCFS`, ``fsync`` of files and of folders) and can make
them fail or wait.
"""

from __future__ import annotations

import ctypes
import errno
import os
import stat
import threading
import time

import numpy as np
import pytest

from diffview import io
from diffview.errors import OutputError
from diffview.io import _group, _syncfs, paths

IMAGE = np.arange(12.0).reshape(3, 4)


def _unit(folder, k):
    return io.stage_plain_images([
        (folder / f"d{k}.fits", IMAGE + k, []),
        (folder / f"d{k}_area.fits", IMAGE, []),
    ])


def _names(folder):
    return sorted(os.listdir(folder))


def _final(folder):
    return [n for n in _names(folder) if not n.endswith(".part")]


class Disk:
    """A file system whose syncs are counted, and made to fail or wait."""

    def __init__(self):
        self.syncfs = []  # descriptors passed to syncfs
        self.file_syncs = []  # descriptors of regular files fsync'ed
        self.folder_syncs = []  # inodes of the folders fsync'ed
        self.syncfs_error = None  # an errno syncfs reports
        self.bad_fds = set()  # files whose own fsync fails
        self.gate = threading.Event()
        self.gate.set()

    def fake_syncfs(self, fd):
        self.gate.wait(5)
        self.syncfs.append(fd)
        if self.syncfs_error:
            ctypes.set_errno(self.syncfs_error)
            return -1
        return 0

    def fsync(self, fd, real=os.fsync):
        self.gate.wait(5)
        st = os.fstat(fd)
        if stat.S_ISDIR(st.st_mode):
            self.folder_syncs.append(st.st_ino)
        else:
            self.file_syncs.append(fd)
            if fd in self.bad_fds:
                raise OSError(errno.EIO, os.strerror(errno.EIO))
        return real(fd)


@pytest.fixture
def disk(monkeypatch):
    d = Disk()
    monkeypatch.setattr(_syncfs, "_SYNCFS", [d.fake_syncfs])
    monkeypatch.setattr(os, "fsync", d.fsync)
    return d


def test_units_are_renamed_complete_and_equal_to_a_direct_write(tmp_path):
    (tmp_path / "g").mkdir()
    (tmp_path / "w").mkdir()
    with io.GroupCommit(batch=3) as group:
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


def test_a_batch_is_flushed_by_one_syncfs_not_a_sync_per_file(tmp_path, disk):
    """100 pairs (200 files) in batches of 40: 2 or 3 flushes, <= 3 folder syncs.

    Three when the committing thread takes each batch at 40 units; two when
    it comes late (a loaded machine: CI saw it once) and a batch has filled
    further while waiting, up to twice ``batch``.
    """
    with io.GroupCommit(batch=40, seconds=60) as group:
        futures = [group.submit(_unit(tmp_path, k)) for k in range(100)]
    assert [f.exception() for f in futures] == [None] * 100
    assert 2 <= len(disk.syncfs) <= 3  # a sync per file would be 200
    assert disk.file_syncs == []
    assert 1 <= disk.folder_syncs.count(tmp_path.stat().st_ino) <= 3
    assert len(_names(tmp_path)) == 200


def test_without_syncfs_each_file_is_synced(tmp_path, disk, monkeypatch):
    monkeypatch.setattr(_syncfs, "_SYNCFS", [None])  # other systems, old kernels
    with io.GroupCommit(batch=40) as group:
        futures = [group.submit(_unit(tmp_path, k)) for k in range(10)]
    assert [f.exception() for f in futures] == [None] * 10
    assert disk.syncfs == [] and len(disk.file_syncs) == 20
    assert len(_names(tmp_path)) == 20


def test_fsync_is_chosen_by_the_environment(monkeypatch):
    monkeypatch.setenv("DIFFVIEW_SYNC", "fsync")
    assert _syncfs._lookup() is None


def test_a_batch_waits_at_most_its_seconds(tmp_path, disk):
    """A lone unit is renamed within ``seconds``, while the block goes on."""
    with io.GroupCommit(batch=100, seconds=0.05) as group:
        group.submit(_unit(tmp_path, 0))
        deadline = time.monotonic() + 5
        while len(_final(tmp_path)) < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert _final(tmp_path) == ["d0.fits", "d0_area.fits"]
        assert len(disk.syncfs) == 1


def test_a_slow_disk_holds_back_the_work_after_three_batches(tmp_path, disk):
    """While one batch is flushed, two more may fill; then ``submit`` waits."""
    disk.gate.clear()
    with io.GroupCommit(batch=2, seconds=60) as group:
        for k in range(2):
            group.submit(_unit(tmp_path, k))
        deadline = time.monotonic() + 5
        while group._committing == [] and time.monotonic() < deadline:
            time.sleep(0.01)  # the first batch is being flushed
        for k in range(2, 6):
            group.submit(_unit(tmp_path, k))  # room for two more batches
        late = threading.Thread(target=group.submit, args=(_unit(tmp_path, 6),))
        late.start()
        late.join(0.3)
        assert late.is_alive()  # held back
        disk.gate.set()
        late.join(5)
        assert not late.is_alive()
    assert len(_final(tmp_path)) == 14


def test_a_failed_sync_leaves_none_of_its_unit_and_names_the_file(tmp_path, disk):
    """syncfs reports an error; each file's fsync finds the one that failed.

    The unit's older file is kept; the other units of the batch are committed.
    """
    (tmp_path / "d1.fits").write_bytes(b"OLD")
    disk.syncfs_error = errno.EIO
    with io.GroupCommit(batch=3) as group:
        good = group.submit(_unit(tmp_path, 0))
        unit = _unit(tmp_path, 1)
        disk.bad_fds.add(unit[1].fd)  # the area file of pair 1
        bad = group.submit(unit)
        after = group.submit(_unit(tmp_path, 2))
    assert good.exception() is None and after.exception() is None
    err = bad.exception()
    assert isinstance(err, OutputError)
    assert str(err) == f"{tmp_path / 'd1_area.fits'}: input/output error"
    assert _names(tmp_path) == [
        "d0.fits", "d0_area.fits", "d1.fits", "d2.fits", "d2_area.fits"]
    assert (tmp_path / "d1.fits").read_bytes() == b"OLD"
    assert len(disk.syncfs) == 1 and len(disk.file_syncs) == 6


def test_a_syncfs_error_of_another_file_commits_the_batch(tmp_path, disk):
    """syncfs reports any file's error: ours, each synced, are on disk."""
    disk.syncfs_error = errno.EIO
    with io.GroupCommit() as group:
        futures = [group.submit(_unit(tmp_path, k)) for k in range(3)]
    assert [f.exception() for f in futures] == [None] * 3
    assert len(_names(tmp_path)) == 6


def test_an_interrupted_group_leaves_only_whole_units_and_no_temporary(
    tmp_path, disk
):
    """Ctrl-C while a batch is being flushed and the next one fills."""
    disk.gate.clear()  # the disk is slow: the flush waits until the interrupt
    with pytest.raises(KeyboardInterrupt):
        with io.GroupCommit(batch=3) as group:
            futures = [group.submit(_unit(tmp_path, k)) for k in range(6)]
            raise KeyboardInterrupt
    disk.gate.set()
    assert [n for n in os.listdir(tmp_path) if n.endswith(".part")] == []
    assert not paths._PENDING
    assert _names(tmp_path) == []  # nothing had been synced
    assert all("the run was stopped" in str(f.exception()) for f in futures)


def test_a_stop_while_waiting_for_the_disk_removes_what_is_pending(
    tmp_path, disk, monkeypatch
):
    """A signal that arrives while the block's end waits for the syncs."""
    real_wait = _group.GroupCommit.wait

    def interrupted_wait(self):
        raise KeyboardInterrupt

    disk.gate.clear()
    monkeypatch.setattr(_group.GroupCommit, "wait", interrupted_wait)
    with pytest.raises(KeyboardInterrupt):
        with io.GroupCommit(batch=1) as group:
            group.submit(_unit(tmp_path, 0))
    disk.gate.set()
    monkeypatch.setattr(_group.GroupCommit, "wait", real_wait)
    assert _names(tmp_path) == []
    assert not paths._PENDING


def test_staging_fails_whole_when_one_file_cannot_be_written(tmp_path):
    os.mkfifo(tmp_path / "d0_area.fits")
    with pytest.raises(OutputError, match="is a FIFO"):
        _unit(tmp_path, 0)
    assert _names(tmp_path) == ["d0_area.fits"]  # the FIFO, kept
    assert not paths._PENDING


def test_without_background_each_unit_is_committed_at_once(tmp_path):
    with io.GroupCommit(background=False) as group:
        group.submit(_unit(tmp_path, 0)).result()
        assert _names(tmp_path) == ["d0.fits", "d0_area.fits"]
