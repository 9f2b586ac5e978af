"""The ``diffview`` command: the demo, Montage-style subcommands, one-line errors."""

import subprocess
import sys

import pytest

from diffview import io
from diffview.cli import main


def test_demo_runs_the_main_job_and_reports(tmp_path, capsys):
    assert main(["demo", "--preset", "small", "--out", str(tmp_path), "--quiet"]) == 0
    out = capsys.readouterr().out
    last = out.strip().splitlines()[-1]
    n = len(io.read_diffs_table(tmp_path / "diffs.tbl"))
    assert last.startswith(f"diffview demo: {n} pairs, 0 failed, ")
    assert "background recovery vs injected planes" in out
    diffs = sorted(p.name for p in (tmp_path / "diffs").glob("diff.*[0-9].fits"))
    assert len(diffs) == n
    assert len(io.read_fits_table(tmp_path / "fits.tbl")) == n
    assert (tmp_path / "corrections.tbl").exists()


def test_montage_style_subcommands_chain(small_sample, tmp_path, capsys):
    s = small_sample
    tbl, diffs = tmp_path / "images.tbl", tmp_path / "diffs.tbl"
    assert main(["imgtbl", "-c", str(s.proj_dir), str(tbl)]) == 0
    assert main(["overlaps", str(tbl), str(diffs)]) == 0
    (tmp_path / "d").mkdir()
    assert main(["diffexec", "-p", str(s.proj_dir), "--quiet", str(diffs),
                 str(s.template), str(tmp_path / "d")]) == 0
    out = capsys.readouterr().out
    n = len(s.overlaps)
    assert f"count={n}, failed=0" in out
    assert len(list((tmp_path / "d").glob("diff.*_area.fits"))) == n


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["overlaps", "{t}/none.tbl", "{t}/d.tbl"], "Table {t}/none.tbl not found"),
        (["diffexec", "-p", "{p}", "{d}", "{t}/none.hdr", "{t}"],
         "Template {t}/none.hdr not found"),
        (["diffexec", "-p", "{p}", "{d}", "{h}", "{t}/nodir"], "nodir"),
        (["imgtbl", "{t}/nodir", "{t}/x.tbl"], "not a folder"),
    ],
)
def test_user_errors_are_one_line_without_traceback(small_sample, tmp_path, args,
                                                    message):
    fill = dict(t=tmp_path, p=small_sample.proj_dir, d=small_sample.diffs_tbl,
                h=small_sample.template)
    argv = [a.format(**fill) for a in args]
    proc = subprocess.run([sys.executable, "-m", "diffview", *argv],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("diffview: error: ")
    assert message.format(**fill) in lines[0]


def test_bad_arguments_exit_2(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["diffexec"])
    assert exc.value.code == 2
    assert "usage:" in capsys.readouterr().err
