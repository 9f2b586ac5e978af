"""The ``diffview`` command: the demo, Montage-style subcommands, one-line errors."""

import os
import subprocess
import sys

import numpy as np
import pytest
from astropy.io import fits

from conftest import MP, montage_imgtbl
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
        (["mosaic", "{t}/nodir", "{t}/work"], "{t}/nodir: raw image folder not found"),
        (["mosaic", "{t}", "{t}"], "must not be the raw folder"),
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


def test_mosaic_runs_the_chain_and_a_rerun_keeps_it(small_sample, tmp_path, capsys):
    raw = tmp_path / "raw"
    raw.mkdir()
    for p in small_sample.raw_dir.iterdir():
        (raw / p.name).write_bytes(p.read_bytes())
    (raw / "README.fits").write_text("not FITS")
    work = tmp_path / "work"
    assert main(["mosaic", "--quiet", str(raw), str(work)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert [ln.split("]")[0] for ln in out if ln.startswith("[")] == [
        f"[{k}/9" for k in range(1, 10)]
    assert f"  {raw}/README.fits: not a readable FITS file" in out
    n = len(small_sample.truth)
    assert out[-1].startswith(f"mosaic: {work}/mosaic.fits from {n} images, 1 ")
    assert main(["mosaic", "--quiet", str(raw), str(work)]) == 0
    rerun = capsys.readouterr().out.splitlines()
    assert sum("up to date" in ln for ln in rerun) == 9


def test_bad_arguments_exit_2(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["diffexec"])
    assert exc.value.code == 2
    assert "usage:" in capsys.readouterr().err


def _option_choices(command: str, dest: str) -> list:
    """The choices of a subcommand's option, as the parser spells them."""
    from diffview.cli import build_parser

    sub = next(a for a in build_parser()._actions if a.dest == "command")
    option = next(a for a in sub.choices[command]._actions if a.dest == dest)
    return sorted(option.choices)


# the parser spells the names out so that building it imports no numerics


def test_bgmodel_modes_are_the_solvers_modes():
    from diffview.core import SOLVER_MODES

    assert _option_choices("bgmodel", "mode") == sorted(SOLVER_MODES)


def test_the_demo_offers_every_sample_preset():
    from diffview.sample import PRESETS

    assert _option_choices("demo", "preset") == sorted(PRESETS)


# ------------------------------------------ defaults: Montage's command lines


def _defaults(*argv):
    from diffview.cli import build_parser

    return vars(build_parser().parse_args(list(argv)))


def test_every_default_is_montages():
    # mImgtbl: no corners, no recursion, no area files, cube columns, .gz
    # files read, directory order
    got = _defaults("imgtbl", "dir", "images.tbl")
    assert (got["corners"], got["recursive"], got["area_files"]) == (False,) * 3
    assert (got["cubes"], got["gzip"], got["sort"]) == (True, True, False)
    # mOverlaps: quick mode
    assert _defaults("overlaps", "images.tbl", "diffs.tbl")["exact"] is False
    # mDiffExec / mDiffFitExec: areas used, Montage's boxes, -p .
    for argv in (("diffexec", "d.tbl", "t.hdr", "diffs"),
                 ("difffitexec", "d.tbl", "t.hdr", "diffs", "fits.tbl")):
        got = _defaults(*argv)
        assert (got["projdir"], got["no_areas"], got["full_edges"]) == (
            ".", False, False)
    got = _defaults("difffitexec", "d.tbl", "t.hdr", "diffs", "fits.tbl")
    assert (got["keep_all"], got["level_only"]) == (False, False)
    assert _defaults("fitexec", "d.tbl", "f.tbl", "diffs")["level_only"] is False
    # mBgModel: mode 0 (level, then level and slope), 10000 iterations,
    # rejection on, Montage's iteration (not the direct solve)
    got = _defaults("bgmodel", "i.tbl", "f.tbl", "c.tbl")
    assert (got["mode"], got["niter"], got["useall"], got["direct"]) == (
        "all", 10000, False, False)
    assert not (got["level"] or got["flip"] or got["toggle"])
    got = _defaults("bgexec", "i.tbl", "c.tbl", "out")
    assert (got["projdir"], got["no_areas"]) == (".", False)
    # diffview 0.2's --montage-edges is accepted (it is the default now)
    got = _defaults("diffexec", "--montage-edges", "d.tbl", "t.hdr", "diffs")
    assert got["full_edges"] is False


def _planes_at_centres(table, images):
    """Each correction plane at its image's centre (plane coordinates)."""
    rows = {int(r["cntr"]): r for r in images}
    out = {}
    for c in io.read_corrections_table(table):
        r = rows[c.id]
        x = (r["naxis1"] - 1) / 2 - r["crpix1"]
        y = (r["naxis2"] - 1) / 2 - r["crpix2"]
        out[c.id] = c.a * x + c.b * y + c.c
    return out


@pytest.mark.montage
def test_bgmodel_without_options_gives_montagepys_corrections(small_sample,
                                                              tmp_path):
    s = small_sample
    images = io.read_table(s.images_tbl)
    fits_tbl = str(tmp_path / "fits.tbl")
    (tmp_path / "diffs").mkdir()
    res = MP.mDiffFitExec(str(s.proj_dir), str(s.diffs_tbl), str(s.template),
                          str(tmp_path / "diffs"), fits_tbl, False, False, False,
                          "", 0)
    assert res["status"] == "0" and res["count"] > 1, res
    res = MP.mBgModel(str(s.images_tbl), fits_tbl, str(tmp_path / "m.tbl"))
    assert res["status"] == "0", res
    theirs = _planes_at_centres(tmp_path / "m.tbl", images)
    argv = [str(s.images_tbl), fits_tbl]
    assert main(["bgmodel", *argv, str(tmp_path / "d.tbl")]) == 0
    mine = _planes_at_centres(tmp_path / "d.tbl", images)
    assert sorted(mine) == sorted(theirs) and len(mine) > 1
    for cid, value in theirs.items():
        assert mine[cid] == pytest.approx(value, abs=1e-3), cid
    # the toggle mode (diffview 0.2's default) is a different answer here
    assert main(["bgmodel", "-t", *argv, str(tmp_path / "t.tbl")]) == 0
    toggle = _planes_at_centres(tmp_path / "t.tbl", images)
    assert max(abs(toggle[k] - theirs[k]) for k in theirs) > 0.1


def _same_files(ours, theirs):
    names = sorted(os.listdir(theirs))
    assert sorted(os.listdir(ours)) == names and names
    for name in names:
        with fits.open(ours / name) as h1, fits.open(theirs / name) as h2:
            d1, d2 = h1[0].data, h2[0].data
            assert d1.shape == d2.shape, name
            assert (h1[0].header["CRPIX1"], h1[0].header["CRPIX2"]) == (
                h2[0].header["CRPIX1"], h2[0].header["CRPIX2"]), name
            np.testing.assert_array_equal(np.isnan(d1), np.isnan(d2), name)
            np.testing.assert_allclose(d1, d2, rtol=1e-12, atol=0,
                                       equal_nan=True, err_msg=name)


@pytest.fixture
def edge_field(tiny_field):
    """tiny_field with MontagePy's images.tbl and diffs.tbl; its images 'b' and
    'd' reach the template's last column and row."""
    root = tiny_field["root"]
    montage_imgtbl(str(tiny_field["proj"]), str(root / "images.tbl"))
    res = MP.mOverlaps(str(root / "images.tbl"), str(root / "diffs.tbl"), True, 0)
    assert res["status"] == "0", res
    assert _bd_diff(root) is not None
    return tiny_field


def _bd_diff(root):
    """The difference name of the pair of images 'b' and 'd'."""
    for p in io.read_diffs_table(root / "diffs.tbl"):
        if {os.path.basename(p.plus), os.path.basename(p.minus)} == {
                "b.fits", "d.fits"}:
            return p.diff
    return None


@pytest.mark.montage
def test_diffexec_without_options_writes_montages_differences(edge_field):
    root, proj, hdr = edge_field["root"], edge_field["proj"], edge_field["hdr"]
    for name in ("m", "d", "full"):
        (root / name).mkdir()
    res = MP.mDiffExec(str(proj), str(root / "diffs.tbl"), hdr, str(root / "m"),
                       False, 0)
    assert res["status"] == "0", res
    argv = ["-p", str(proj), "--quiet", str(root / "diffs.tbl"), hdr]
    assert main(["diffexec", *argv, str(root / "d")]) == 0
    _same_files(root / "d", root / "m")
    # --full-edges: the b-d difference gets the last column and row too
    assert main(["diffexec", "--full-edges", *argv, str(root / "full")]) == 0
    bd = _bd_diff(root)
    with fits.open(root / "full" / bd) as h1, fits.open(root / "m" / bd) as h2:
        assert h1[0].data.shape == (h2[0].data.shape[0] + 1,
                                    h2[0].data.shape[1] + 1)


@pytest.mark.montage
def test_difffitexec_without_options_matches_mdifffitexec(edge_field):
    root, proj, hdr = edge_field["root"], edge_field["proj"], edge_field["hdr"]
    for name in ("m", "d", "mk", "dk"):
        (root / name).mkdir()
    tbl = str(root / "diffs.tbl")
    for keep, out in ((False, "m"), (True, "mk")):
        res = MP.mDiffFitExec(str(proj), tbl, hdr, str(root / out),
                              str(root / f"{out}.tbl"), keep, False, False, "", 0)
        assert res["status"] == "0", res
    argv = ["-p", str(proj), "--quiet", tbl, hdr]
    assert main(["difffitexec", *argv, str(root / "d"), str(root / "d.tbl")]) == 0
    assert os.listdir(root / "d") == os.listdir(root / "m") == []
    assert main(["difffitexec", "-k", *argv, str(root / "dk"),
                 str(root / "dk.tbl")]) == 0
    _same_files(root / "dk", root / "mk")
    # the fits of those differences, to Montage's printed precision
    for mine, ref in (("d.tbl", "m.tbl"), ("dk.tbl", "mk.tbl")):
        ours = io.read_fits_table(root / mine)
        theirs = io.read_fits_table(root / ref)
        assert [(f.plus, f.minus) for f in ours] == [
            (f.plus, f.minus) for f in theirs]
        for f, g in zip(ours, theirs, strict=True):
            assert f.npixel == g.npixel
            assert (f.a, f.b, f.c) == pytest.approx((g.a, g.b, g.c), rel=1e-5,
                                                    abs=1e-9)


@pytest.mark.montage
def test_mosaic_steps_use_montages_command_defaults(small_sample, tmp_path, capsys):
    """mkhdr writes mMakeHdr's file; project names files as mProjExec; add
    uses area files and shrinks, as Montage's mAdd command (MontagePy's
    function does neither)."""
    from diffview.cli import main

    raw = small_sample.raw_dir
    tbl, hdr = tmp_path / "raw.tbl", tmp_path / "t.hdr"
    montage_imgtbl(raw, tbl)
    assert main(["mkhdr", str(tbl), str(hdr)]) == 0
    assert MP.mMakeHdr(str(tbl), str(tmp_path / "m.hdr"))["status"] == "0"
    assert hdr.read_text() == (tmp_path / "m.hdr").read_text()
    (tmp_path / "proj").mkdir()
    assert main(["project", "-p", str(raw), "--quiet", str(tbl), str(hdr),
                 str(tmp_path / "proj"), str(tmp_path / "stats.tbl")]) == 0  # fmt: skip
    assert "count=6, failed=0, nooverlap=0" in capsys.readouterr().out
    assert len(list((tmp_path / "proj").glob("hdu0_tile_*_area.fits"))) == 6
    assert list(io.read_table(tmp_path / "stats.tbl")["stat"]) == ["OK"] * 6
    montage_imgtbl(tmp_path / "proj", tmp_path / "p.tbl")
    args = [str(tmp_path / "p.tbl"), str(hdr)]
    proj = str(tmp_path / "proj")
    assert main(["add", "-p", proj, *args, str(tmp_path / "a.fit")]) == 0
    assert sorted(p.name for p in tmp_path.glob("a*.fits")) == ["a.fits", "a_area.fits"]
    ref = MP.mAdd(str(tmp_path / "proj"), *args, str(tmp_path / "m.fits"),
                  shrink=True, haveAreas=True)  # fmt: skip
    assert ref["status"] == "0"
    a, m = fits.getdata(tmp_path / "a.fits"), fits.getdata(tmp_path / "m.fits")
    np.testing.assert_allclose(a, m, rtol=1e-12)
    assert main(["add", "-n", "-a", "median", "-e", "-p", str(tmp_path / "proj"),
                 *args, str(tmp_path / "b.fits")]) == 0  # fmt: skip
    MP.mAdd(str(tmp_path / "proj"), *args, str(tmp_path / "n.fits"), coadd=1)
    np.testing.assert_array_equal(fits.getdata(tmp_path / "b.fits"),
                                  fits.getdata(tmp_path / "n.fits"))  # fmt: skip


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["mkhdr", "{t}/none.tbl", "{t}/t.hdr"], "Table {t}/none.tbl not found"),
        (["mkhdr", "-e", "-4", "{r}", "{t}/t.hdr"], "Invalid pad string: -4"),
        (["project", "{r}", "{h}", "{t}/nodir"], "Cannot access {t}/nodir"),
        (["add", "{t}/none.tbl", "{h}", "{t}/m.fits"], "Table {t}/none.tbl not found"),
    ],
)
def test_mosaic_step_errors_are_one_line(small_sample, tmp_path, args, message):
    fill = dict(t=tmp_path, r=small_sample.raw_images_tbl, h=small_sample.template)
    argv = [a.format(**fill) for a in args]
    proc = subprocess.run([sys.executable, "-m", "diffview", *argv],
                          capture_output=True, text=True, timeout=120)  # fmt: skip
    assert proc.returncode == 1
    assert proc.stderr.strip() == f"diffview: error: {message.format(**fill)}"


def test_diffexec_says_a_write_failure_on_stderr(tmp_path, monkeypatch, capsys):
    """A full disk is the machine's problem: said once on stderr (the first
    file), even without -d; the status line and exit status stay Montage's."""
    import diffview.run
    from diffview.run import DifferencesResult

    msg = "a.fits - b.fits: /out/diff.000001.000002.fits: no space left on device"
    failures = [(None, msg), (None, "c.fits - d.fits: Images don't overlap")]
    result = DifferencesResult(count=3, failed=2, output_error=msg, failures=failures)
    monkeypatch.setattr(diffview.run, "compute_differences", lambda *a, **k: result)
    (tmp_path / "o").mkdir()
    argv = ["diffexec", "--quiet", "d.tbl", "t.hdr", str(tmp_path / "o")]
    assert main(argv) == 0
    out, err = capsys.readouterr()
    assert out.startswith("count=3, failed=2, time=")
    assert err.strip() == (f"diffview diffexec: a pair was not written: {msg} "
                           "(-d lists every failed pair)")
    result.output_error = ""
    assert main(argv) == 0
    assert capsys.readouterr().err == ""  # failures of pairs: counted, not said
