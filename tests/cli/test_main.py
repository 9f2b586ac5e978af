"""The CLI under bad input files: one line naming file and line, exit 1; ``--debug``."""

import os
import subprocess
import sys

import pytest

from diffview.cli import main

MISALIGNED = ("| cntr1 | cntr2 |  plus |  minus |  diff |\n"
              "      0       1   a.fits  b.fits  d.fits\n"
              "   0 1 a.fits b.fits d.fits\n")


def _one_error_line(capsys) -> str:
    err = capsys.readouterr().err
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("diffview: error: ")
    return lines[0]


def test_diffexec_misaligned_diffs_table_is_one_line(small_sample, tmp_path, capsys):
    # was: a ValueError traceback from read_diffs_table
    bad = tmp_path / "diffs.tbl"
    bad.write_text(MISALIGNED)
    code = main(["diffexec", "-p", str(small_sample.proj_dir), "--quiet", str(bad),
                 str(small_sample.template), str(tmp_path)])
    assert code == 1
    line = _one_error_line(capsys)
    assert line.startswith(f"diffview: error: {bad}: line 3: column 'cntr1' holds")
    assert line.endswith("misaligned columns)")


@pytest.mark.filterwarnings("ignore::astropy.io.fits.verify.VerifyWarning")
def test_diffexec_nan_crpix_template_is_one_line(small_sample, tmp_path, capsys):
    hdr = tmp_path / "t.hdr"
    text = small_sample.template.read_text().splitlines()
    hdr.write_text("\n".join("CRPIX1  = NaN" if ln.startswith("CRPIX1") else ln
                             for ln in text) + "\n")
    code = main(["diffexec", "-p", str(small_sample.proj_dir), "--quiet",
                 str(small_sample.diffs_tbl), str(hdr), str(tmp_path)])
    assert code == 1
    assert f"Template {hdr}: CRPIX1/CRPIX2 must be finite" in _one_error_line(capsys)


@pytest.mark.parametrize(
    ("cmd", "table", "message"),
    [
        (["fitexec"],
         "".join(MISALIGNED.splitlines(True)[:2]).replace("  0    ", "  x    "),
         "line 2: column 'cntr1' holds 'x'"),
        (["overlaps"],
         "| cntr|naxis1| fname|\n| int |  int | char |\n     0    1x0 a.fits\n",
         "line 3: column 'naxis1' holds '1x0'"),
        (["overlaps"], "| cntr | fname |\n     0   a.fits\n",
         "Not enough information to determine coverages"),
    ],
)
def test_bad_tables_are_one_line(tmp_path, capsys, cmd, table, message):
    bad = tmp_path / "in.tbl"
    bad.write_text(table)
    if cmd == ["overlaps"]:
        argv = ["overlaps", str(bad), str(tmp_path / "d.tbl")]
    else:
        argv = [*cmd, str(bad), str(tmp_path / "fits.tbl"), str(tmp_path)]
    assert main(argv) == 1
    line = _one_error_line(capsys)
    assert line.startswith(f"diffview: error: {bad}") or bad.name in line
    assert message in line


def test_debug_shows_the_traceback(tmp_path):
    bad = tmp_path / "diffs.tbl"
    bad.write_text(MISALIGNED)
    argv = ["overlaps", str(bad), str(tmp_path / "out.tbl")]
    plain = subprocess.run([sys.executable, "-m", "diffview", *argv],
                           capture_output=True, text=True, timeout=120)
    debug = subprocess.run([sys.executable, "-m", "diffview", "--debug", *argv],
                           capture_output=True, text=True, timeout=120)
    assert plain.returncode == 1 and "Traceback" not in plain.stderr
    assert debug.returncode == 1
    assert "Traceback (most recent call last)" in debug.stderr
    assert "diffview.errors.InputError" in debug.stderr
    assert f"{bad}: line 3: column 'cntr1' holds '0 1 a'" in debug.stderr


def test_unexpected_errors_are_one_line_with_a_hint(monkeypatch, tmp_path, capsys):
    cli_main = sys.modules["diffview.cli.main"]

    def boom(args):
        raise RuntimeError("bug\nsecond line")

    parser = cli_main.build_parser()
    monkeypatch.setattr(cli_main, "build_parser", lambda: parser)
    parser._subparsers._group_actions[0].choices["overlaps"].set_defaults(func=boom)
    assert main(["overlaps", "a", "b"]) == 1
    line = _one_error_line(capsys)
    assert line == ("diffview: error: unexpected RuntimeError: bug second line "
                    "(rerun with --debug for the traceback)")
    with pytest.raises(RuntimeError):
        main(["--debug", "overlaps", "a", "b"])


def test_os_error_names_the_file(tmp_path, capsys):
    # a folder given as the table to read
    assert main(["overlaps", str(tmp_path), str(tmp_path / "d.tbl")]) == 1
    assert str(tmp_path) in _one_error_line(capsys)


#: What a small ``diffview diffexec`` has no use for: the compiled loops and
#: scipy (numpy differences a few hundred pairs faster than numba loads), a
#: progress bar into a pipe, astropy's FITS, tables and WCS (plain images,
#: templates and tables are read and written without them).
UNUSED_BY_DIFFEXEC = [
    "numba",
    "scipy",
    "tqdm",
    "astropy.wcs",
    "astropy.table",
    "astropy.io.fits",
]


@pytest.fixture(scope="module")
def diffexec_modules(small_sample, tmp_path_factory):
    """The modules a fresh ``diffview diffexec`` on the small sample loaded."""
    out = tmp_path_factory.mktemp("diffexec-modules")
    argv = ["diffexec", "-p", str(small_sample.proj_dir), str(small_sample.diffs_tbl),
            str(small_sample.template), str(out)]
    code = ("import sys\nfrom diffview.cli import main\n"
            f"status = main({argv!r})\n"
            "print(status, *sys.modules)\n")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True,
                         text=True, check=True)  # stderr a pipe, not a terminal
    status, *modules = run.stdout.split("\n")[-2].split()
    assert status == "0", run.stderr
    assert len(list(out.glob("*_area.fits"))) == len(small_sample.overlaps)
    return set(modules)


@pytest.mark.parametrize("module", UNUSED_BY_DIFFEXEC)
def test_a_small_diffexec_loads_only_what_it_uses(diffexec_modules, module):
    loaded = sorted(m for m in diffexec_modules
                    if m == module or m.startswith(module + "."))
    assert loaded == []


#: A process that runs the command (``argv`` None: ``sys.argv``) or calls
#: ``main`` with its arguments, then loads the compiled loops; prints whether
#: scipy came with them and what the environment says.
OWNED = """
import os, sys
from diffview.cli import main
from diffview.core import BLAS_PROBE, kernels
args = ["overlaps", "/nonexistent/images.tbl", "diffs.tbl"]
if sys.argv[1] == "command":
    sys.argv = ["diffview", *args]
    status = main()
else:
    status = main(args)
kernels("background")
print(status, "scipy" in sys.modules, os.environ.get(BLAS_PROBE))
"""


@pytest.mark.parametrize("how, expected", [
    ("command", "1 False 0"),  # the command owns the process: no BLAS probe
    ("call", "1 True None"),  # a Python session calling main: numba as usual
])
def test_the_command_loads_its_loops_without_numbas_blas_probe(tmp_path, how,
                                                               expected):
    from diffview.core import BLAS_PROBE

    env = {k: v for k, v in os.environ.items() if k != BLAS_PROBE}
    run = subprocess.run([sys.executable, "-c", OWNED, how], capture_output=True,
                         text=True, env=env, cwd=tmp_path, timeout=300, check=True)
    assert run.stdout.split("\n")[-2] == expected, run.stderr


# an exit handler registered before the command, so it runs after the
# command's own; it says whether the objects were frozen by then
AT_EXIT = """
import atexit, gc, sys
atexit.register(lambda: print("frozen", gc.get_freeze_count() > 0))
from diffview.cli.main import main
args = ["overlaps", "/nonexistent/images.tbl", "diffs.tbl"]
if sys.argv[1] == "command":
    sys.argv = ["diffview", *args]
    main()
else:
    main(args)
"""


@pytest.mark.parametrize("how, expected", [
    ("command", "frozen True"),  # the process ends with the command: no last collection
    ("call", "frozen False"),  # a Python session goes on: its collector untouched
])
def test_the_command_spares_the_last_garbage_collection(tmp_path, how, expected):
    run = subprocess.run([sys.executable, "-c", AT_EXIT, how], capture_output=True,
                         text=True, cwd=tmp_path, timeout=120, check=True)
    assert run.stdout.strip().splitlines()[-1] == expected, run.stderr
