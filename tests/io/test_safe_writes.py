"""Outputs are written completely or not at all.

A full disk (``ENOSPC``), an I/O error or a short write never leaves a
truncated file under the output's name nor a ``*.part`` temporary behind, and
the error is an `OutputError` (an `OSError`) naming the file. A FIFO, a
device or a folder at the output's name is refused, never replaced; a
symbolic link is written through to its target when that target is inside
the output's folder, refused otherwise.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import subprocess
import sys

import numpy as np
import pytest
from astropy.io import fits

from diffview import io
from diffview.errors import DiffviewError, InputError, OutputError
from diffview.io import paths
from diffview.render import write_png

OLD = b"OLD good content\n" * 10
IMAGE = np.arange(60 * 70, dtype=float).reshape(60, 70)  # 33 kB written
CARDS = [fits.Card("CRPIX1", 1.0).image]


def _png(path):
    rgb = np.random.default_rng(1).integers(0, 255, (60, 70, 3)).astype(np.uint8)
    write_png(rgb, path)


def _table(path):
    io.write_table({"id": list(range(2000)), "c": [0.5] * 2000}, path)


#: writers whose last step is `paths.write_file` or the plain FITS writer:
#: their bytes go through ``os.write``, where a full disk is simulated
LOW_LEVEL = {
    "plain_fits": ("d.fits", lambda p: io.write_plain_image(p, IMAGE, CARDS)),
    "table": ("t.tbl", _table),
    "png": ("x.png", _png),
}
#: every writer, including astropy's (through `atomic_path`)
ALL = {
    **LOW_LEVEL,
    "astropy_fits": ("i.fits", lambda p: io.write_image(IMAGE, fits.Header(), p)),
}


def _parts(folder):
    return [n for n in os.listdir(folder) if n.endswith(".part")]


def _old_file(folder, name):
    path = folder / name
    path.write_bytes(OLD)
    return path


@pytest.fixture
def disk_fills_after(monkeypatch):
    """Make ``os.write`` fail with ENOSPC once ``n`` more bytes are written."""

    def install(n, err=errno.ENOSPC):
        real = os.write
        left = {"n": n}

        def write(fd, data):
            data = memoryview(data)
            if left["n"] <= 0:
                raise OSError(err, os.strerror(err))
            k = real(fd, data[: left["n"]])
            left["n"] -= k
            return k  # a short write first, as a filling disk does

        monkeypatch.setattr(os, "write", write)

    return install


# ------------------------------------------------------------ full disk


@pytest.mark.parametrize("writer", LOW_LEVEL)
@pytest.mark.parametrize("after", [0, 100, 5000])
def test_full_disk_keeps_old_file_and_names_it(tmp_path, disk_fills_after, writer,
                                               after):
    name, write = LOW_LEVEL[writer]
    path = _old_file(tmp_path, name)
    disk_fills_after(after)
    with pytest.raises(OutputError) as info:
        write(path)
    err = info.value
    assert str(err) == f"{path}: no space left on device"
    assert isinstance(err, OSError) and isinstance(err, DiffviewError)
    assert err.errno == errno.ENOSPC and err.filename == str(path)
    assert path.read_bytes() == OLD
    assert _parts(tmp_path) == []


@pytest.mark.parametrize("writer", LOW_LEVEL)
def test_full_disk_with_no_old_file_leaves_nothing(tmp_path, disk_fills_after,
                                                   writer):
    name, write = LOW_LEVEL[writer]
    disk_fills_after(1000)
    with pytest.raises(OutputError, match="no space left on device"):
        write(tmp_path / name)
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize("writer", ALL)
def test_io_error_at_sync_keeps_old_file(tmp_path, monkeypatch, writer):
    """A write-back error reported only by fsync fails the output too."""
    name, write = ALL[writer]
    path = _old_file(tmp_path, name)

    def failing_fsync(fd):
        raise OSError(errno.EIO, os.strerror(errno.EIO))

    monkeypatch.setattr(os, "fsync", failing_fsync)
    with pytest.raises(OutputError) as info:
        write(path)
    assert str(info.value) == f"{path}: input/output error"
    assert path.read_bytes() == OLD
    assert _parts(tmp_path) == []


def test_astropy_writer_error_is_an_output_error(tmp_path, monkeypatch):
    """astropy's own "not enough space" check becomes the same clear error."""
    path = _old_file(tmp_path, "i.fits")

    def no_space(self, *args, **kwargs):
        raise OSError("Not enough space on disk: requested 33600, available 0.")

    monkeypatch.setattr(fits.PrimaryHDU, "writeto", no_space)
    with pytest.raises(OutputError) as info:
        io.write_image(IMAGE, fits.Header(), path)
    assert str(info.value) == f"{path}: no space left on device"
    assert info.value.errno == errno.ENOSPC
    assert path.read_bytes() == OLD
    assert _parts(tmp_path) == []


@contextlib.contextmanager
def _tiny_tmpfs(folder):
    """A 64 kB tmpfs at ``folder`` (root only), unmounted after."""
    if not sys.platform.startswith("linux") or os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root on Linux")
    folder.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs",
                           str(folder)], capture_output=True)
    if done.returncode:
        pytest.skip(f"cannot mount a tmpfs: {done.stderr.decode().strip()}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", str(folder)], check=True)


@pytest.mark.parametrize("writer", ALL)
def test_real_full_disk_on_a_tiny_tmpfs(tmp_path, writer):
    """A real ENOSPC, for every writer (astropy's buffered writes included)."""
    name, write = ALL[writer]
    with _tiny_tmpfs(tmp_path / "disk") as disk:
        path = _old_file(disk, name)
        free = os.statvfs(disk).f_bavail * os.statvfs(disk).f_frsize
        (disk / "ballast").write_bytes(b"\0" * (free - 8192))
        with pytest.raises(OutputError) as info:
            write(path)
        assert str(info.value) == f"{path}: no space left on device"
        assert path.read_bytes() == OLD
        assert _parts(disk) == []
        (disk / "ballast").unlink()  # with room again, the write works
        write(path)
        assert path.read_bytes() != OLD and _parts(disk) == []


# ------------------------------------------------------------ short writes


def test_short_writes_still_write_the_whole_image(tmp_path, monkeypatch):
    real = os.write
    sizes = []

    def half(fd, data):
        data = memoryview(data)
        sizes.append(len(data))
        return real(fd, data[: max(1, len(data) // 2)])

    monkeypatch.setattr(os, "write", half)
    path = tmp_path / "d.fits"
    io.write_plain_image(path, IMAGE, CARDS)
    monkeypatch.setattr(os, "write", real)
    assert len(sizes) > 10  # the writes really were short, and looped
    assert np.array_equal(fits.getdata(path), IMAGE)
    assert fits.getheader(path)["CRPIX1"] == 1.0
    assert _parts(tmp_path) == []


def test_short_writes_still_write_the_whole_file(tmp_path, monkeypatch):
    real = os.write
    monkeypatch.setattr(os, "write", lambda fd, data: real(fd, memoryview(data)[:7]))
    payload = bytes(range(256)) * 50
    io.write_file(tmp_path / "x.bin", payload)
    assert (tmp_path / "x.bin").read_bytes() == payload


def test_interrupt_mid_write_leaves_old_file(tmp_path, monkeypatch):
    path = _old_file(tmp_path, "x.png")
    real = os.write

    def interrupted(fd, data):
        real(fd, memoryview(data)[:10])
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "write", interrupted)
    with pytest.raises(KeyboardInterrupt):
        _png(path)
    assert path.read_bytes() == OLD and _parts(tmp_path) == []


# ------------------------------------------------------------ not a regular file


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
@pytest.mark.parametrize("writer", ALL)
def test_fifo_is_refused_and_kept(tmp_path, writer):
    name, write = ALL[writer]
    path = tmp_path / name
    os.mkfifo(path)
    with pytest.raises(OutputError) as info:
        write(path)  # never opened: this would block without a reader
    assert str(info.value) == f"{path}: is a FIFO (named pipe), not a file; not written"
    assert stat.S_ISFIFO(os.lstat(path).st_mode)
    assert os.listdir(tmp_path) == [name]


@pytest.mark.parametrize("kind, mode", [("a character device", stat.S_IFCHR),
                                        ("a block device", stat.S_IFBLK)])
def test_device_is_refused(tmp_path, monkeypatch, kind, mode):
    """A device at the output's name (a stat that says so: no real device)."""
    path = tmp_path / "x.png"
    path.write_bytes(OLD)
    real = os.lstat

    def device_lstat(p, *args, **kwargs):
        st = real(p, *args, **kwargs)
        if os.fspath(p) == str(path):
            return os.stat_result((mode | 0o666, *tuple(st)[1:]))
        return st

    monkeypatch.setattr(os, "lstat", device_lstat)
    with pytest.raises(OutputError, match=f"^{path}: is {kind}, not a file"):
        _png(path)
    monkeypatch.setattr(os, "lstat", real)
    assert path.read_bytes() == OLD and os.listdir(tmp_path) == ["x.png"]


@pytest.mark.parametrize("writer", ALL)
def test_folder_is_refused(tmp_path, writer):
    name, write = ALL[writer]
    (tmp_path / name).mkdir()
    with pytest.raises(OutputError, match="is a folder, not a file"):
        write(tmp_path / name)
    assert (tmp_path / name).is_dir() and os.listdir(tmp_path) == [name]


# ------------------------------------------------------------ symbolic links


@pytest.mark.parametrize("writer", ALL)
def test_link_inside_the_folder_is_written_through(tmp_path, writer):
    name, write = ALL[writer]
    (tmp_path / "sub").mkdir()
    real = _old_file(tmp_path / "sub", "real_" + name)
    link = tmp_path / name
    link.symlink_to(os.path.join("sub", real.name))
    write(link)
    assert link.is_symlink() and os.readlink(link) == os.path.join("sub", real.name)
    assert real.read_bytes() != OLD and real.stat().st_size > 0
    assert _parts(tmp_path) == [] and _parts(tmp_path / "sub") == []
    assert sorted(os.listdir(tmp_path)) == sorted([name, "sub"])


def test_dangling_link_inside_the_folder_creates_its_target(tmp_path):
    link = tmp_path / "x.png"
    link.symlink_to("new.png")
    _png(link)
    assert link.is_symlink() and (tmp_path / "new.png").stat().st_size > 0


@pytest.mark.parametrize("writer", ALL)
def test_link_out_of_the_folder_is_refused(tmp_path, writer):
    name, write = ALL[writer]
    out = tmp_path / "out"
    out.mkdir()
    victim = _old_file(tmp_path, "victim")
    link = out / name
    link.symlink_to(os.path.join("..", "victim"))
    with pytest.raises(OutputError) as info:
        write(link)
    assert str(info.value).startswith(
        f"{link}: is a symbolic link to {victim}, outside {out}; not followed"
    )
    assert victim.read_bytes() == OLD
    assert link.is_symlink() and os.listdir(out) == [name]


def test_link_loop_is_refused(tmp_path):
    (tmp_path / "a.png").symlink_to("b.png")
    (tmp_path / "b.png").symlink_to("a.png")
    with pytest.raises(OutputError, match="a.png: is a symbolic link loop"):
        _png(tmp_path / "a.png")
    assert sorted(os.listdir(tmp_path)) == ["a.png", "b.png"]


def test_atomic_path_refuses_a_fifo_before_the_block_runs(tmp_path):
    os.mkfifo(tmp_path / "f")
    ran = []
    with pytest.raises(OutputError, match="is a FIFO"):
        with paths.atomic_path(tmp_path / "f"):
            ran.append(1)
    assert ran == [] and os.listdir(tmp_path) == ["f"]


def test_missing_folder_is_still_an_input_error(tmp_path):
    with pytest.raises(InputError, match="does not exist"):
        io.write_plain_image(tmp_path / "no" / "d.fits", IMAGE, CARDS)
    with pytest.raises(OutputError, match="no such file or directory"):
        io.write_file(tmp_path / "no" / "x.bin", b"x")
