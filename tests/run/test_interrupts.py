"""Interrupting a pooled run stops it cleanly (SIGINT, SIGTERM, SIGKILL).

Each test starts ``diffview diffexec --workers 2`` in its own session on the
``m17`` sample (its pairs listed three times, so the run lasts a few seconds
after the first file), signals it once the first difference is written, and
checks the contract: exit within 2 s (SIGINT 130, SIGTERM 143) with one line
on stderr and no traceback; no process of the run left (workers too, also
after SIGKILL of the main process); no ``*.part`` temporary and no truncated
FITS under a final name; a rerun completes every pair. The 2 s bound gets a
0.5 s margin for a loaded 2-core machine.
"""

from __future__ import annotations

import dataclasses
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
from astropy.io import fits

from diffview import io
from diffview.run import compute_differences

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="reads /proc"
)

#: The contract (2 s) plus a margin for a loaded shared machine.
STOP_SECONDS = 2.5

#: Compiling or loading the pixel loops in each worker can take ~10 s there.
START_SECONDS = 90.0


@pytest.fixture(scope="module")
def field(m17_sample, tmp_path_factory):
    """The m17 projected images with each pair listed three times."""
    root = tmp_path_factory.mktemp("interrupts")
    overlaps = [
        dataclasses.replace(ov, diff=ov.diff.replace(".fits", f"_{k}.fits"))
        for k in range(3)
        for ov in m17_sample.overlaps
    ]
    io.write_diffs_table(overlaps, root / "diffs.tbl")
    return m17_sample, root / "diffs.tbl", len(overlaps)


def _command(field, out) -> list[str]:
    sample, table, _ = field
    return [
        sys.executable, "-m", "diffview", "diffexec", "-p", str(sample.proj_dir),
        str(table), str(sample.template), str(out), "--workers", "2", "--quiet",
    ]  # fmt: skip


def _session(sid: int) -> list[int]:
    """Live processes of the session ``sid`` (the run and its workers)."""
    found = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[3]) == sid and fields[0] not in "ZX":  # session, state
            found.append(int(name))
    return found


def _wait_gone(sid: int, seconds: float) -> list[int]:
    deadline = time.monotonic() + seconds
    while (left := _session(sid)) and time.monotonic() < deadline:
        time.sleep(0.05)
    return left


def _interrupt(field, out, signum, *, group=False):
    """Start a run, signal it after its first file; (seconds, code, stderr)."""
    out.mkdir()
    proc = subprocess.Popen(
        _command(field, out),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
        text=True,
    )
    try:
        deadline = time.monotonic() + START_SECONDS
        while not any(n.endswith(".fits") for n in os.listdir(out)):
            assert proc.poll() is None, proc.stderr.read()
            assert time.monotonic() < deadline, "the run did not start"
            time.sleep(0.02)
        start = time.monotonic()
        (os.killpg if group else os.kill)(proc.pid, signum)
        if signum == signal.SIGKILL:  # workers keep stderr open until they end
            code = proc.wait(timeout=10)
            seconds = time.monotonic() - start
            return seconds, code, "", _wait_gone(proc.pid, STOP_SECONDS)
        _, err = proc.communicate(timeout=30)
        seconds = time.monotonic() - start
        return seconds, proc.returncode, err, _wait_gone(proc.pid, 0.5)
    finally:
        if proc.poll() is None:
            proc.kill()
        for pid in _session(proc.pid):
            os.kill(pid, signal.SIGKILL)


def _own_lines(err: str) -> list[str]:
    """stderr without the compile notice that a slow first load prints."""
    return [line for line in err.splitlines() if "compiling its pixel" not in line]


def _check_files(out) -> int:
    names = os.listdir(out)
    assert not [n for n in names if n.endswith(".part")], names
    for name in names:
        with fits.open(out / name) as hdul:
            data = hdul[0].data
            shape = (hdul[0].header["NAXIS2"], hdul[0].header["NAXIS1"])
            assert data.shape == shape
            assert np.isfinite(data).any()
    return len(names)


def _check_rerun(field, out) -> None:
    """Rerun in this process (no second start of two workers: a rerun is a
    plain run; the CLI path is the one interrupted above)."""
    sample, table, npairs = field
    r = compute_differences(
        sample.proj_dir, table, sample.template, out, workers=1, quiet=True
    )
    assert (r.count, r.failed) == (npairs, 0)
    assert _check_files(out) == 2 * npairs  # differences and areas


@pytest.mark.parametrize(
    "signum, group, code, message",
    [
        (signal.SIGINT, True, 130, "diffview: interrupted"),  # a terminal's Ctrl-C
        (signal.SIGINT, False, 130, "diffview: interrupted"),
        (signal.SIGTERM, False, 143, "diffview: terminated"),
    ],
    ids=["ctrl-c", "sigint", "sigterm"],
)
def test_signal_stops_the_run_cleanly(field, tmp_path, signum, group, code, message):
    out = tmp_path / "diffs"
    seconds, status, err, left = _interrupt(field, out, signum, group=group)
    assert seconds < STOP_SECONDS
    assert status == code
    assert _own_lines(err) == [message]
    assert "Traceback" not in err
    assert left == []
    assert _check_files(out) < 2 * field[2]  # it did stop early
    _check_rerun(field, out)


def test_workers_end_with_a_killed_run(field, tmp_path):
    out = tmp_path / "diffs"
    _, status, _, left = _interrupt(field, out, signal.SIGKILL)
    assert status == -signal.SIGKILL
    assert left == []  # within STOP_SECONDS of the kill
    written = _check_files(out)
    time.sleep(0.5)
    assert _check_files(out) == written  # nothing writes any more
    _check_rerun(field, out)
