"""explore() on a folder of raw images builds the work folder (issue #15)."""

from __future__ import annotations

import numpy as np
import pytest
from raw_fields import LAYOUT, write_bad_files, write_raw_field

from diffview import io
from diffview.errors import InputError
from diffview.widgets import explore
from diffview.widgets._build import build_work, default_work_dir, is_raw_folder


@pytest.fixture(scope="module")
def raw(tmp_path_factory):
    folder = tmp_path_factory.mktemp("field") / "raw"
    planes = write_raw_field(folder, seed=5)
    return folder, planes


def test_explore_on_raw_images_builds_the_work_folder(raw):
    folder, planes = raw
    assert is_raw_folder(folder)
    # before: InputError "<raw>: no image table found" in the error box
    dash = explore(folder, background=False)
    try:
        assert dash.error_text == ""
        work = default_work_dir(folder)
        assert work == folder.parent / "raw-work"
        for name in ("images.tbl", "template.hdr", "diffs.tbl", "fits.tbl"):
            assert (work / name).exists(), name
        projected = [p for p in (work / "projected").glob("*.fits")
                     if not p.name.endswith("_area.fits")]  # fmt: skip
        assert len(projected) == len(LAYOUT)
        ex = dash.explorer
        assert len(ex.ws.images) == len(LAYOUT) and len(ex.overlaps) >= len(LAYOUT)
        # every overlap fitted but a sliver mFitExec's rules leave out
        assert len(ex.ws.fits) >= len(ex.overlaps) - 1 >= len(LAYOUT)
        assert f"work folder built: {work}" in dash.message_text
        assert dash.progress.layout.display == "none"
        # the differences' offsets follow the injected planes: c_plus - c_minus
        rows = zip(ex.ws.images["cntr"], ex.ws.images["fname"], strict=True)
        raw_of = {int(c): str(f).split("/")[-1].removeprefix("hdu0_") for c, f in rows}
        errors = []
        for f in ex.ws.fits.values():
            cp, cm = planes[raw_of[f.plus]][2], planes[raw_of[f.minus]][2]
            errors.append(abs(f.c - (cp - cm)))
        # median 0.16 DN where the planes differ by up to 40 DN (seed 5)
        assert np.median(errors) < 0.5, errors
        # the folder given is read only: nothing written into it
        assert sorted(p.name for p in folder.iterdir()) == sorted(planes)
    finally:
        dash.close()


def test_second_explore_opens_the_built_folder_and_stages_report(raw):
    folder, _ = raw
    seen = []
    work, note = build_work(folder, progress=lambda *a: seen.append(a))
    assert "opened (up to date)" in note and work == default_work_dir(folder)
    stages = [s.split(": ")[-1] for s, _, _ in seen[1:]]
    assert stages[:3] == ["imgtbl", "template", "project"] and stages[-1] == "coadd"
    assert [d for _, d, _ in seen] == list(range(10)) and seen[-1][2] == 9
    # the work folder itself is a work folder, not raw images
    assert not is_raw_folder(work)
    dash = explore(work, background=False)
    try:
        assert dash.error_text == "" and dash.explorer.overlaps
    finally:
        dash.close()


def test_raw_folder_with_bad_files_and_a_chosen_work_folder(tmp_path):
    folder = tmp_path / "raw"
    write_raw_field(folder, seed=2)
    write_bad_files(folder)
    dash = explore(folder, background=False, work_dir=tmp_path / "w")
    try:
        assert dash.error_text == ""
        assert (tmp_path / "w" / "images.tbl").exists()
        assert "raw files or pairs failed" in dash.message_text
        assert len(io.read_table(tmp_path / "w" / "images.tbl")) == len(LAYOUT)
    finally:
        dash.close()


def test_folder_without_images_keeps_the_clear_error(tmp_path):
    (tmp_path / "notes.txt").write_text("nothing here")
    assert not is_raw_folder(tmp_path)
    dash = explore(tmp_path, background=False)
    try:
        assert "no image table found" in dash.error_text
    finally:
        dash.close()
    # raw files without a celestial WCS: make_mosaic's message, no traceback
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "x.fits").write_text("not FITS")
    dash = explore(bad, background=False)
    try:
        assert "no FITS image with a celestial WCS" in dash.error_text
        assert "details" not in dash.error.value
    finally:
        dash.close()
    with pytest.raises(InputError):
        build_work(bad, tmp_path / "w2")


def test_explore_builds_in_the_background_with_progress(tmp_path):
    folder = tmp_path / "raw"
    write_raw_field(folder, seed=9)
    dash = explore(folder, background=True)
    try:
        dash.wait(300)
        assert dash.error_text == "" and dash.explorer is not None
        assert dash.progress.value == dash.progress.max
    finally:
        dash.close()
