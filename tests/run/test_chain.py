"""make_mosaic: raw frames to a mosaic, resumable, explorable, vs MontagePy."""

import os
import shutil
import signal
import subprocess
import sys

import numpy as np
import pytest
from astropy.io import fits
from astropy.wcs import WCS
from raw_fields import sky, sources, write_bad_files, write_raw_field

from conftest import MP
from diffview import io
from diffview.errors import InputError
from diffview.run import STAGES, coadd, load_workspace, make_mosaic

NAMES = [name for name, _ in STAGES]


@pytest.fixture(scope="module")
def chain(tmp_path_factory):
    """One run over seeded raw frames (and two bad files), with a copy of the
    work folder after every stage."""
    root = tmp_path_factory.mktemp("chain")
    raw, work, snaps = root / "raw", root / "work", root / "after"
    planes = write_raw_field(raw)
    bad = write_bad_files(raw)
    lines = []

    def log(line):
        lines.append(line)
        if line.startswith("["):
            name = line.split("]")[1].split(":")[0].strip()
            shutil.copytree(work, snaps / name)

    result = make_mosaic(raw, work, quiet=True, log=log)
    return dict(raw=raw, work=work, snaps=snaps, planes=planes, bad=bad,
                result=result, lines=lines)


def test_the_chain_writes_montages_layout_and_skips_bad_raw_files(chain):
    r, work = chain["result"], chain["work"]
    assert [s.name for s in r.stages] == NAMES
    for name in ("rimages.tbl", "template.hdr", "images.tbl", "diffs.tbl",
                 "fits.tbl", "corrections.tbl", "mosaic.fits"):
        assert (work / name).is_file(), name
    n = len(chain["planes"])
    assert len(io.read_table(work / "rimages.tbl")) == n + 1  # short.fits too
    assert len(io.read_table(work / "images.tbl")) == n
    assert len(list((work / "projected").glob("hdu0_frame*_area.fits"))) == n
    assert len(list((work / "corrected").glob("hdu0_frame*_area.fits"))) == n
    # the two bad files: counted, named, skipped
    imgtbl = r.stage("imgtbl")
    assert imgtbl.failed == 2
    assert all(any(b in msg for msg in imgtbl.failures) for b in chain["bad"])
    assert any("notes.fits: not a readable FITS file" in ln for ln in chain["lines"])
    # a frame whose pixels are cut short: counted when it is projected
    project = r.stage("project")
    assert (project.done, project.failed) == (n, 1)
    assert "short.fits: cannot read pixels" in project.failures[0]
    # one listed pair shares no pixel: counted as Montage's mDiffExec counts it
    pairs = len(io.read_diffs_table(work / "diffs.tbl"))
    diff = r.stage("differences")
    assert diff.done + diff.failed == pairs and diff.failed <= 1
    assert r.stage("fits").done == diff.done
    # the mosaic is on the template
    h = io.read_template(work / "template.hdr")
    m = fits.getdata(work / "mosaic.fits")
    assert m.shape == (h["NAXIS2"], h["NAXIS1"])


def _flatness(mosaic, header):
    """rms of (mosaic - true sky) about its own best plane, on covered pixels."""
    w = WCS(header)
    jj, ii = np.mgrid[0 : mosaic.shape[0], 0 : mosaic.shape[1]]
    ok = np.isfinite(mosaic)
    resid = mosaic[ok] - sky(w.pixel_to_world(ii[ok], jj[ok]), sources(
        np.random.default_rng(0)))
    design = np.column_stack([ii[ok], jj[ok], np.ones(ok.sum())])
    coef, *_ = np.linalg.lstsq(design, resid, rcond=None)
    return float(np.sqrt(np.mean((resid - design @ coef) ** 2)))


def test_background_matching_removes_the_injected_planes(chain):
    work = chain["work"]
    h = io.read_template(work / "template.hdr")
    before = coadd(work / "images.tbl", work / "projected", h)
    after = fits.getdata(work / "mosaic.fits")
    # the injected offsets (up to 20 DN) make seams; matched, what is left
    # is noise, resampling and Montage's own plane model
    assert _flatness(after, h) < 0.25 * _flatness(before, h)
    assert _flatness(after, h) < 1.5


def test_a_rerun_keeps_everything(chain, tmp_path):
    work = tmp_path / "work"
    shutil.copytree(chain["work"], work)
    again = make_mosaic(chain["raw"], work, quiet=True)
    assert [s.done for s in again.stages] == [0] * len(NAMES)
    assert again.stage("project").kept == len(chain["planes"])


def test_a_lost_file_is_redone_with_what_depends_on_it(chain, tmp_path):
    work = tmp_path / "work"
    shutil.copytree(chain["work"], work)
    # as if stopped between an image and its area file
    os.remove(work / "projected" / "hdu0_frame04_area.fits")
    before = fits.getdata(work / "mosaic.fits")
    r = make_mosaic(chain["raw"], work, quiet=True)
    assert r.stage("project").done == 1
    assert r.stage("project").kept == len(chain["planes"]) - 1
    with_4 = [ov for ov in io.read_diffs_table(work / "diffs.tbl")
              if "frame04" in ov.plus + ov.minus]
    diff = r.stage("differences")
    assert diff.done == len(with_4) > 0  # a failed pair is retried every run
    assert all("All pixels are blank" in msg for msg in diff.failures)
    assert r.stage("coadd").done == len(chain["planes"])
    np.testing.assert_allclose(fits.getdata(work / "mosaic.fits"), before,
                               atol=1e-9, equal_nan=True)


def test_an_interrupted_run_resumes_where_it_stopped(chain, tmp_path):
    work = tmp_path / "work"
    shutil.copytree(chain["snaps"] / "overlaps", work)

    def stop(line):  # Ctrl-C once the fits are written
        if line.startswith("[6/"):
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        make_mosaic(chain["raw"], work, quiet=True, log=stop)
    assert not (work / "mosaic.fits").exists()
    r = make_mosaic(chain["raw"], work, quiet=True)
    done = {s.name: s.done for s in r.stages}
    assert [done[n] for n in NAMES[:6]] == [0] * 6  # differences, fits kept
    assert all(done[n] > 0 for n in NAMES[6:])
    np.testing.assert_allclose(fits.getdata(work / "mosaic.fits"),
                               fits.getdata(chain["work"] / "mosaic.fits"),
                               atol=1e-9, equal_nan=True)


def test_ctrl_c_on_the_command_stops_cleanly_and_a_rerun_resumes(chain, tmp_path):
    work = tmp_path / "work"
    shutil.copytree(chain["snaps"] / "template", work)
    proc = subprocess.Popen(
        [sys.executable, "-m", "diffview", "mosaic", "--quiet", str(chain["raw"]),
         str(work)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    for line in proc.stdout:  # Ctrl-C once the projection is done
        if line.startswith("[3/9]"):
            proc.send_signal(signal.SIGINT)
            break
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130
    assert err.strip().splitlines()[-1] == "diffview: interrupted"
    assert "Traceback" not in err
    assert not list(work.rglob("*.part")) and not (work / "mosaic.fits").exists()
    r = make_mosaic(chain["raw"], work, quiet=True)
    assert r.stage("project").done == 0
    assert r.stage("project").kept == len(chain["planes"])
    np.testing.assert_allclose(fits.getdata(work / "mosaic.fits"),
                               fits.getdata(chain["work"] / "mosaic.fits"),
                               atol=1e-9, equal_nan=True)


def test_the_dashboard_opens_right_after_projection(chain, tmp_path):
    from diffview.widgets import explore

    work = tmp_path / "work"
    shutil.copytree(chain["snaps"] / "project", work)
    d = explore(str(work), background=False)
    try:
        assert d.error_text == ""
        assert len(d.explorer.overlaps) == len(io.read_diffs_table(
            chain["work"] / "diffs.tbl"))
    finally:
        d.close()


@pytest.mark.parametrize("stage", NAMES[2:])
def test_the_work_folder_opens_after_every_stage(chain, tmp_path, stage):
    work = tmp_path / "work"
    shutil.copytree(chain["snaps"] / stage, work)
    ws = load_workspace(work)
    final = io.read_diffs_table(chain["work"] / "diffs.tbl")
    assert [(o.cntr1, o.cntr2) for o in ws.overlaps] == [
        (o.cntr1, o.cntr2) for o in final]
    assert len(ws.fits) + len(ws.failures) == len(final)
    assert len(ws.corrections) == len(chain["planes"])
    assert ws.preview is not None and np.isfinite(ws.preview.array).any()
    if NAMES.index(stage) >= NAMES.index("fits"):
        chain_fits = io.read_fits_table(chain["work"] / "fits.tbl")
        assert {(f.plus, f.minus): f.c for f in chain_fits} == {
            k: f.c for k, f in ws.fits.items()}
    if stage == "coadd":
        assert ws.preview.source == str(work / "mosaic.fits")


def test_before_projection_the_folder_says_what_is_missing(chain):
    with pytest.raises(InputError, match="no image table"):
        load_workspace(chain["snaps"] / "template")


def test_montages_tutorial_names_open_on_the_projected_table(chain, tmp_path):
    # Montage's tutorial: images.tbl lists the raw images, pimages.tbl the
    # projected ones
    work = tmp_path / "work"
    shutil.copytree(chain["work"], work)
    os.rename(work / "images.tbl", work / "pimages.tbl")
    os.rename(work / "rimages.tbl", work / "images.tbl")
    ws = load_workspace(work)
    assert ws.folder.images_tbl == work / "pimages.tbl"
    assert len(ws.overlaps) == len(io.read_diffs_table(work / "diffs.tbl"))


def test_user_mistakes_are_input_errors(chain, tmp_path):
    with pytest.raises(InputError, match="raw image folder not found"):
        make_mosaic(tmp_path / "nope", tmp_path / "w", quiet=True)
    with pytest.raises(InputError, match="must not be the raw folder"):
        make_mosaic(chain["raw"], chain["raw"], quiet=True)
    junk = tmp_path / "junk"
    junk.mkdir()
    for name in chain["bad"]:
        shutil.copy(chain["raw"] / name, junk / name)
    with pytest.raises(InputError, match="no FITS image with a celestial WCS"):
        make_mosaic(junk, tmp_path / "w2", quiet=True)
    (tmp_path / "file").write_text("x")
    with pytest.raises(InputError, match="not a folder"):
        make_mosaic(chain["raw"], tmp_path / "file", quiet=True)


def test_a_given_template_is_used_and_images_off_it_are_skipped(chain, tmp_path):
    h = io.read_template(chain["work"] / "template.hdr")
    h["NAXIS1"] = 110  # one side of the field only
    hdr = tmp_path / "cut.hdr"
    io.write_template(h, hdr)
    r = make_mosaic(chain["raw"], tmp_path / "w", template=hdr, quiet=True)
    assert fits.getdata(r.folder.mosaic).shape == (h["NAXIS2"], 110)
    project = r.stage("project")
    assert project.failed >= 2 and project.done + project.failed == 7
    off = [m for m in project.failures if "short.fits" not in m]
    assert len(off) == project.failed - 1
    assert all("does not fall on the template" in m for m in off)
    assert len(io.read_table(r.folder.images_tbl)) == project.done
    # a rerun retries the images off the template, and changes nothing else
    again = make_mosaic(chain["raw"], tmp_path / "w", template=hdr, quiet=True)
    assert again.stage("template").kept == 1
    assert again.stage("project").failures == project.failures
    assert sum(s.done for s in again.stages) == 0


# ------------------------------------------------------------ vs MontagePy


def _montagepy_chain(raw, work):
    """Montage's tutorial chain with MontagePy; mAdd with areas, as the
    mAdd command does."""
    work.mkdir()
    cwd = os.getcwd()
    os.chdir(work)
    try:
        for d in ("projected", "diffs", "corrected"):
            os.mkdir(d)
        steps = [
            MP.mImgtbl(str(raw), "rimages.tbl"),
            MP.mMakeHdr("rimages.tbl", "template.hdr"),
            MP.mProjExec(str(raw), "rimages.tbl", "template.hdr", projdir="projected"),
            MP.mImgtbl("projected", "images.tbl"),
            MP.mOverlaps("images.tbl", "diffs.tbl"),
            MP.mDiffExec("projected", "diffs.tbl", "template.hdr", "diffs"),
            MP.mFitExec("diffs.tbl", "fits.tbl", "diffs"),
            MP.mBgModel("images.tbl", "fits.tbl", "corrections.tbl"),
            MP.mBgExec("projected", "images.tbl", "corrections.tbl", "corrected"),
            MP.mAdd("corrected", "images.tbl", "template.hdr", "mosaic.fits",
                    haveAreas=True),
        ]
    finally:
        os.chdir(cwd)
    assert all(s["status"] == "0" for s in steps), steps
    return work


@pytest.fixture(scope="module")
def montage_work(chain, tmp_path_factory):
    return _montagepy_chain(chain["raw"], tmp_path_factory.mktemp("mp") / "work")


def assert_same_frame(a_path, b_path):
    """Same celestial WCS: projection, reference point and pixel, scale matrix."""
    a, b = (WCS(fits.getheader(p)).celestial for p in (a_path, b_path))
    assert list(a.wcs.ctype) == list(b.wcs.ctype)
    np.testing.assert_allclose(a.wcs.crval, b.wcs.crval, rtol=0, atol=1e-8)
    np.testing.assert_allclose(a.wcs.crpix, b.wcs.crpix, rtol=0, atol=1e-3)
    np.testing.assert_allclose(a.pixel_scale_matrix, b.pixel_scale_matrix,
                               rtol=1e-6, atol=0)


def _planes_by_name(work):
    rows = io.read_table(work / "images.tbl")
    names = {int(r["cntr"]): str(r["fname"]) for r in rows}
    return {names[c.id]: (c.a, c.b, c.c)
            for c in io.read_corrections_table(work / "corrections.tbl")}


def mosaic_rms(a_path, b_path):
    """rms of the difference on pixels both mosaics cover, and the share of
    pixels covered by only one."""
    a, b = fits.getdata(a_path), fits.getdata(b_path)
    both = np.isfinite(a) & np.isfinite(b)
    one = np.isfinite(a) ^ np.isfinite(b)
    return float(np.sqrt(np.mean((a - b)[both] ** 2))), one.sum() / both.sum()


@pytest.mark.montage
def test_the_chain_gives_montagepys_mosaic_on_montagepys_template(
        chain, montage_work, tmp_path):
    # docs/montage-semantics.md §9.2: mProjExec's mProjectPP against the
    # exact overlap (~1e-4 DN) stays within the bound; the template's-edge
    # departure is excluded by the frame (mMakeHdr's box holds every image).
    r = make_mosaic(chain["raw"], tmp_path / "w", quiet=True,
                    template=montage_work / "template.hdr")
    ours, theirs = r.folder.mosaic, montage_work / "mosaic.fits"
    assert fits.getdata(ours).shape == fits.getdata(theirs).shape
    assert_same_frame(ours, theirs)
    rms, edge = mosaic_rms(ours, theirs)
    assert rms < 0.01  # DN (issue 16 asks for 0.5; 0.0002 when written)
    assert edge < 1e-3  # share of pixels only one mosaic covers (0 when written)
    # the same planes image by image (cntr order may differ: names match)
    theirs_c = _planes_by_name(montage_work)
    ours_c = _planes_by_name(r.folder.root)
    assert ours_c.keys() == theirs_c.keys()
    for name, (a, b, c) in ours_c.items():
        ta, tb, tc = theirs_c[name]
        assert abs(c - tc) < 0.5 and abs(a - ta) < 2e-3 and abs(b - tb) < 2e-3


@pytest.mark.montage
def test_the_chains_own_template_is_mmakehdrs(chain, montage_work):
    ours = io.read_template(chain["work"] / "template.hdr")
    theirs = io.read_template(montage_work / "template.hdr")
    assert (ours["NAXIS1"], ours["NAXIS2"]) == (theirs["NAXIS1"], theirs["NAXIS2"])
    assert_same_frame(chain["work"] / "mosaic.fits", montage_work / "mosaic.fits")
    rms, edge = mosaic_rms(chain["work"] / "mosaic.fits", montage_work / "mosaic.fits")
    assert rms < 0.01 and edge < 1e-3

