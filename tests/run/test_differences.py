"""File-level differencing: parity with MontagePy mDiff/mDiffExec, bad input,
atomic outputs and independence from the number of workers."""

import os
import stat

import numpy as np
import pytest
from astropy.io import fits

from conftest import MP, make_template, montage_imgtbl, write_hdr, write_projected
from diffview import io
from diffview.errors import InputError, PairError
from diffview.geometry.overlaps import find_overlaps
from diffview.models import Overlap
from diffview.run import compute_difference, compute_differences, write_difference


def read(path):
    with fits.open(path) as hdul:
        return hdul[0].data.astype(float), hdul[0].header


def assert_same_diff(ours, theirs, *, drop_last_col=False, drop_last_row=False):
    (d1, h1), (d2, h2) = read(ours), read(theirs)
    if drop_last_col:
        d1 = d1[:, :-1]
    if drop_last_row:
        d1 = d1[:-1, :]
    assert d1.shape == d2.shape
    assert (h1["CRPIX1"], h1["CRPIX2"]) == (h2["CRPIX1"], h2["CRPIX2"])
    np.testing.assert_array_equal(np.isnan(d1), np.isnan(d2))
    np.testing.assert_allclose(d1, d2, rtol=1e-12, atol=0, equal_nan=True)


def pair_files(field, a, b):
    return str(field["proj"] / f"{a}.fits"), str(field["proj"] / f"{b}.fits")


# --------------------------------------------------------- parity, one pair


@pytest.mark.montage
@pytest.mark.parametrize("no_areas", [False, True])
def test_pair_matches_montage_mdiff(tiny_field, tmp_path, no_areas):
    f1, f2 = pair_files(tiny_field, "a", "b")
    ours = tmp_path / "ours.fits"
    theirs = tmp_path / "theirs.fits"
    res = MP.mDiff(f1, f2, str(theirs), tiny_field["hdr"], no_areas, 1.0, 0)
    assert res["status"] == "0", res
    d = compute_difference(f1, f2, tiny_field["hdr"], no_areas=no_areas)
    write_difference(d, ours, io.read_template(tiny_field["hdr"]))
    assert_same_diff(ours, theirs)
    assert_same_diff(tmp_path / "ours_area.fits", tmp_path / "theirs_area.fits")
    for key in ("min_pixel", "max_pixel", "max_diff"):
        assert d.stats[key] == pytest.approx(res[key], rel=1e-12)
    assert d.stats["min_diff"] == pytest.approx(np.nanmin(np.abs(d.array)))


@pytest.mark.montage
def test_pair_at_last_template_column_gets_one_more_column(tiny_field, tmp_path):
    # 'd' reaches the last template column and row; Montage drops them.
    f1, f2 = pair_files(tiny_field, "b", "d")
    theirs = tmp_path / "theirs.fits"
    assert (
        MP.mDiff(f1, f2, str(theirs), tiny_field["hdr"], False, 1.0, 0)["status"] == "0"
    )
    tmpl = io.read_template(tiny_field["hdr"])
    # by default, Montage's box
    compat = compute_difference(f1, f2, tmpl)
    write_difference(compat, tmp_path / "compat", tmpl)
    assert_same_diff(tmp_path / "compat.fits", theirs)
    # full_edges=True also differences the last template column and row
    fixed = compute_difference(f1, f2, tmpl, full_edges=True)
    write_difference(fixed, tmp_path / "fixed", tmpl)
    assert_same_diff(
        tmp_path / "fixed.fits", theirs, drop_last_col=True, drop_last_row=True
    )
    # diffview 0.2's keyword still works, with a warning
    with pytest.warns(DeprecationWarning, match="full_edges=True"):
        old = compute_difference(f1, f2, tmpl, montage_edges=False)
    np.testing.assert_array_equal(old.array, fixed.array)
    with pytest.warns(DeprecationWarning, match="montage_edges"):
        old = compute_difference(f1, f2, tmpl, montage_edges=True)
    np.testing.assert_array_equal(old.array, compat.array)


@pytest.mark.montage
def test_non_integer_crpix_and_unequal_areas_match_montage(tmp_path, rng):
    tmpl = make_template((30, 45), (20.0, 12.0))
    proj = tmp_path / "p"
    proj.mkdir()
    write_projected(
        proj,
        "x",
        rng.normal(5, 1, (20, 27)),
        rng.uniform(0.4, 1.2, (20, 27)),
        (17.5, 9.5),
        tmpl,
    )
    write_projected(
        proj,
        "y",
        rng.normal(3, 1, (22, 31)),
        rng.uniform(0.4, 1.2, (22, 31)),
        (5.25, 3.5),
        tmpl,
    )
    hdr = write_hdr(tmpl, tmp_path / "t.hdr")
    res = MP.mDiff(
        str(proj / "x.fits"),
        str(proj / "y.fits"),
        str(tmp_path / "m.fits"),
        hdr,
        False,
        1.0,
        0,
    )
    assert res["status"] == "0"
    d = compute_difference(proj / "x.fits", proj / "y.fits", hdr)
    write_difference(d, tmp_path / "o.fits", io.read_template(hdr))
    assert_same_diff(tmp_path / "o.fits", tmp_path / "m.fits")
    assert np.isnan(d.array).any()  # the filter dropped some pixels


# ------------------------------------------------------- bad single pairs


def test_missing_area_file_is_reported_before_the_image(tiny_field):
    os.remove(tiny_field["proj"] / "b_area.fits")
    f1, f2 = pair_files(tiny_field, "a", "b")
    with pytest.raises(
        PairError, match=r"Area file .*b_area.fits missing or invalid FITS"
    ):
        compute_difference(f1, f2, tiny_field["hdr"])


def test_invalid_fits_image(tiny_field):
    (tiny_field["proj"] / "b.fits").write_text("not a FITS file")
    f1, f2 = pair_files(tiny_field, "a", "b")
    with pytest.raises(PairError, match=r"Image file .*b.fits missing or invalid FITS"):
        compute_difference(f1, f2, tiny_field["hdr"])


# ---------------------------------------------------------- all pairs


def run_montage(field, out):
    out.mkdir()
    tbl = field["root"] / "images.tbl"
    montage_imgtbl(str(field["proj"]), str(tbl))
    MP.mOverlaps(str(tbl), str(field["root"] / "diffs.tbl"), True, 0)
    return MP.mDiffExec(
        str(field["proj"]),
        str(field["root"] / "diffs.tbl"),
        field["hdr"],
        str(out),
        False,
        0,
    )


@pytest.mark.montage
def test_compute_differences_matches_montage_mdiffexec(tiny_field):
    root = tiny_field["root"]
    theirs = run_montage(tiny_field, root / "m")
    (root / "o").mkdir()
    r = compute_differences(
        tiny_field["proj"],
        root / "diffs.tbl",
        tiny_field["hdr"],
        root / "o",
        workers=1,
        quiet=True,
    )
    # 'd' reaches the template's last column and row: same boxes by default
    assert (r.count, r.failed) == (theirs["count"], theirs["failed"])
    assert sorted(os.listdir(root / "o")) == sorted(os.listdir(root / "m"))
    for name in os.listdir(root / "m"):
        assert_same_diff(root / "o" / name, root / "m" / name)


def test_compute_differences_counts_each_bad_pair_and_goes_on(tiny_field):
    root = tiny_field["root"]
    (root / "o").mkdir()
    pairs = [
        Overlap(0, 1, "a.fits", "b.fits", "diff.000000.000001.fits"),
        Overlap(0, 9, "a.fits", "gone.fits", "diff.000000.000009.fits"),
        Overlap(0, 2, "a.fits", "c.fits", "diff.000000.000002.fits"),  # no overlap
        Overlap(0, 8, "a.fits", "../b.fits", "diff.000000.000008.fits"),
        Overlap(0, 7, "a.fits", "/etc/hosts", "diff.000000.000007.fits"),
    ]
    io.write_diffs_table(pairs, root / "diffs.tbl")
    r = compute_differences(
        tiny_field["proj"],
        root / "diffs.tbl",
        tiny_field["hdr"],
        root / "o",
        workers=1,
        quiet=True,
    )
    assert (r.count, r.failed) == (5, 4)
    msgs = [m for _, m in r.failures]
    assert any("gone_area.fits missing or invalid FITS" in m for m in msgs)
    assert any("Images don't overlap" in m for m in msgs)
    assert any("outside" in m and "../b.fits" in m for m in msgs)
    assert any("outside" in m and "/etc/hosts" in m for m in msgs)
    assert sorted(os.listdir(root / "o")) == [
        "diff.000000.000001.fits",
        "diff.000000.000001_area.fits",
    ]


@pytest.mark.parametrize(
    "problem, message",
    [
        ("diffdir", "Cannot access"),
        ("table", "missing.tbl"),
        ("template", "nope.hdr"),
    ],
)
def test_compute_differences_run_level_errors(tiny_field, problem, message):
    root = tiny_field["root"]
    (root / "o").mkdir()
    io.write_diffs_table(
        [Overlap(0, 1, "a.fits", "b.fits", "d.fits")], root / "diffs.tbl"
    )
    args = [tiny_field["proj"], root / "diffs.tbl", tiny_field["hdr"], root / "o"]
    if problem == "diffdir":
        args[3] = root / "absent"
    elif problem == "table":
        args[1] = root / "missing.tbl"
    else:
        args[2] = str(root / "nope.hdr")
    with pytest.raises(InputError, match=message):
        compute_differences(*args, workers=1, quiet=True)


def test_interrupted_run_leaves_no_partial_file_and_rerun_completes(
    tiny_field, monkeypatch
):
    root = tiny_field["root"]
    (root / "o").mkdir()
    pairs = [Overlap(0, 1, "a.fits", "b.fits", "diff.000000.000001.fits")]
    tmpl = io.read_template(tiny_field["hdr"])
    calls = {"n": 0}
    from diffview.io import _plainwrite as writer
    real_write = writer._write_blocks

    def dying_write(path, header, *blocks):
        calls["n"] += 1
        if calls["n"] == 2:  # die half-way through the area file
            def parts():
                yield header[:100]
                raise KeyboardInterrupt
            return writer.stage_file(path, parts())
        return real_write(path, header, *blocks)

    monkeypatch.setattr(writer, "_write_blocks", dying_write)
    with pytest.raises(KeyboardInterrupt):
        compute_differences(
            tiny_field["proj"], pairs, tmpl, root / "o", workers=1, quiet=True
        )
    # a pair's files are committed together: the complete difference file
    # went with its truncated area file, and no temporary file is left
    assert os.listdir(root / "o") == []
    assert calls["n"] == 2
    monkeypatch.setattr(writer, "_write_blocks", real_write)
    r = compute_differences(
        tiny_field["proj"], pairs, tmpl, root / "o", workers=1, quiet=True
    )
    assert r.failed == 0
    assert sorted(os.listdir(root / "o")) == [
        "diff.000000.000001.fits",
        "diff.000000.000001_area.fits",
    ]


# ------------------------------------------------------------ executors


def all_diffs(folder):
    return {n: fits.getdata(folder / n) for n in sorted(os.listdir(folder))}


def test_results_do_not_depend_on_workers_or_executor(tiny_field):
    root = tiny_field["root"]
    table_rows = [
        Overlap(0, 1, "a.fits", "b.fits", "diff.000000.000001.fits"),
        Overlap(1, 2, "b.fits", "c.fits", "diff.000001.000002.fits"),
        Overlap(1, 3, "b.fits", "d.fits", "diff.000001.000003.fits"),
        Overlap(0, 2, "a.fits", "c.fits", "diff.000000.000002.fits"),
    ]
    outs = {}
    for label, kwargs in [("one", {"workers": 1}), ("two", {"workers": 2})]:
        (root / label).mkdir()
        r = compute_differences(
            tiny_field["proj"],
            table_rows,
            tiny_field["hdr"],
            root / label,
            quiet=True,
            **kwargs,
        )
        outs[label] = (r.count, r.failed, all_diffs(root / label))
    distributed = pytest.importorskip("distributed")
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        (root / "dask").mkdir()
        r = compute_differences(
            tiny_field["proj"],
            table_rows,
            tiny_field["hdr"],
            root / "dask",
            executor=client.get_executor(),
            quiet=True,
        )
        outs["dask"] = (r.count, r.failed, all_diffs(root / "dask"))
    ref = outs["one"]
    assert ref[:2] == (4, 1)
    for label in ("two", "dask"):
        assert outs[label][:2] == ref[:2]
        assert outs[label][2].keys() == ref[2].keys()
        for name, arr in ref[2].items():
            np.testing.assert_array_equal(outs[label][2][name], arr)


@pytest.mark.montage
def test_python_overlaps_feed_compute_differences(tiny_field):
    tbl = tiny_field["root"] / "images.tbl"
    montage_imgtbl(str(tiny_field["proj"]), str(tbl))
    overlaps = find_overlaps(io.read_table(tbl))
    (tiny_field["root"] / "o").mkdir()
    r = compute_differences(
        tiny_field["proj"],
        overlaps,
        tiny_field["hdr"],
        tiny_field["root"] / "o",
        workers=1,
        quiet=True,
    )
    assert r.count == len(overlaps) and r.failed == 0


# ------------------------------------------------------ when a pool pays


@pytest.fixture
def pools(monkeypatch):
    """Record the process pools runs start (run inline, on 2 'cores')."""
    from concurrent.futures import Future

    from diffview.run import _parallel

    made = []

    class InlinePool:
        def __init__(self, max_workers, **options):
            made.append(max_workers)

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def submit(self, func, *args):
            fut = Future()
            fut.set_result(func(*args))
            return fut

        def shutdown(self, *args, **kwargs):
            pass

    monkeypatch.setattr(_parallel, "_process_pool", InlinePool)
    monkeypatch.setattr(_parallel, "default_workers", lambda: 2)
    return made


def _every_run(s, out):
    """Each run of diffview.run on the small sample, outputs under ``out``."""
    from diffview.run import (
        apply_corrections,
        differences_and_fits,
        fit_planes,
        project_images,
    )

    for name in ("d", "df", "c"):
        (out / name).mkdir()
    return {
        "differences": lambda: compute_differences(
            s.proj_dir, s.diffs_tbl, s.template, out / "d", quiet=True
        ),
        "fits": lambda: fit_planes(s.diffs_tbl, None, out / "d", quiet=True),
        "differences+fits": lambda: differences_and_fits(
            s.proj_dir, s.diffs_tbl, s.template, out / "df", None, quiet=True
        ),
        "corrections": lambda: apply_corrections(
            s.proj_dir, s.images_tbl, [], out / "c", quiet=True
        ),
        "projection": lambda: project_images(
            io.read_table(s.raw_images_tbl), s.raw_dir, s.template, out / "p",
            quiet=True,
        ),
    }


def test_small_runs_stay_in_this_process_big_ones_use_a_pool(
    small_sample, tmp_path, pools, monkeypatch
):
    from diffview.run import _batches, _parallel

    runs = _every_run(small_sample, tmp_path)
    for label, run in runs.items():
        run()
        assert pools == [], f"{label}: a pool for the small sample"
    # the same runs, estimated to take longer than a pool's start-up (and
    # worth several tasks: a pool of one task would not pay either)
    monkeypatch.setattr(_parallel, "POOL_SECONDS", 0.0)
    monkeypatch.setattr(_batches, "TASK_SECONDS", 0.0)
    for label, run in runs.items():
        pools.clear()
        run()
        assert pools == [2], f"{label}: no pool for a big run"
    # asked-for workers and executors are never second-guessed
    pools.clear()
    compute_differences(
        small_sample.proj_dir, small_sample.diffs_tbl, small_sample.template,
        tmp_path / "d", quiet=True, workers=1,
    )
    assert pools == []


def test_pool_rule_keeps_the_byte_and_pair_thresholds(tmp_path):
    """The one rule gives byte and pair thresholds: plane fits above 8 MiB
    of differences (32 MiB compiled), differences+fits above 16 MiB of
    images, differences above 0.25 s of 0.5 ms per pair and 50 ns per
    overlap pixel."""
    from diffview.run import pool_workers
    from diffview.run._differences import _pair_seconds
    from diffview.run._parallel import _file_seconds
    from diffview.run.fits import (
        _DIFFFIT_SECONDS_PER_BYTE,
        _FIT_COMPILED_SECONDS_PER_BYTE,
        _FIT_SECONDS_PER_BYTE,
    )

    def sized(name, size):
        path = tmp_path / name
        with open(path, "wb") as fh:
            fh.truncate(size)  # sparse: no disk space used
        return path

    mib = 2**20
    for per_byte, limit in ((_FIT_SECONDS_PER_BYTE, 8 * mib),
                            (_FIT_COMPILED_SECONDS_PER_BYTE, 32 * mib),
                            (_DIFFFIT_SECONDS_PER_BYTE, 16 * mib)):
        below = [sized("a", limit // 2), sized("b", limit // 2 - 1)]
        above = [sized("c", limit // 2), sized("d", limit // 2 + 1)]
        assert pool_workers(None, None, _file_seconds(below, per_byte)) == 1
        assert pool_workers(None, None, _file_seconds(above, per_byte)) is None
        assert pool_workers(3, None, _file_seconds(above, per_byte)) == 3
        assert pool_workers(None, object(), _file_seconds(below, per_byte)) is None
    # pairs whose images cannot be read cost 0.5 ms each
    ctx = {"shape": (10, 10), "crpix": (1.0, 1.0)}
    tasks = [(None, "nothere.fits", "nothere.fits", "o")]
    assert pool_workers(None, None, _pair_seconds(tasks * 499, ctx)) == 1
    assert pool_workers(None, None, _pair_seconds(tasks * 501, ctx)) is None


def test_pair_estimate_counts_overlap_pixels(tiny_field):
    from diffview.run._differences import _pair_seconds

    tmpl = io.read_template(tiny_field["hdr"])
    ctx = {"shape": (40, 60), "crpix": (tmpl["CRPIX1"], tmpl["CRPIX2"])}
    a, b = pair_files(tiny_field, "a", "b")
    (cost,) = _pair_seconds([(None, a, b, "o")], ctx)
    # a: columns 0-34, rows 0-24; b: columns 20-59, rows 10-39
    assert cost == pytest.approx(5e-4 + 15 * 15 * 5e-8, rel=1e-12)


def test_compute_differences_default_is_the_montage_layers_mdiffexec(tiny_field):
    # b and d reach the template's last column and row
    from diffview.montage import mDiffExec

    root = tiny_field["root"]
    pairs = [
        Overlap(0, 1, "a.fits", "b.fits", "diff.000000.000001.fits"),
        Overlap(1, 3, "b.fits", "d.fits", "diff.000001.000003.fits"),
    ]
    io.write_diffs_table(pairs, root / "diffs.tbl")
    for name in ("o", "m", "f"):
        (root / name).mkdir()
    r = compute_differences(tiny_field["proj"], root / "diffs.tbl",
                            tiny_field["hdr"], root / "o", workers=1, quiet=True)
    res = mDiffExec(str(tiny_field["proj"]), str(root / "diffs.tbl"),
                    tiny_field["hdr"], str(root / "m"), quiet=True, workers=1)
    assert res == {"status": "0", "count": 2, "failed": 0} and r.failed == 0
    names = sorted(os.listdir(root / "m"))
    assert sorted(os.listdir(root / "o")) == names and len(names) == 4
    for name in names:
        assert_same_diff(root / "o" / name, root / "m" / name)
    # Montage's box: the b-d difference stops before the last column and row
    tmpl = io.read_template(tiny_field["hdr"])
    bd, hdr = read(root / "o" / "diff.000001.000003.fits")
    assert bd.shape == (6, 4)
    assert tmpl["CRPIX1"] - hdr["CRPIX1"] + bd.shape[1] == tmpl["NAXIS1"] - 1
    compute_differences(tiny_field["proj"], root / "diffs.tbl", tiny_field["hdr"],
                        root / "f", workers=1, quiet=True, full_edges=True)
    assert read(root / "f" / "diff.000001.000003.fits")[0].shape == (7, 5)


# ------------------------------------------------------------ failed writes


def test_full_disk_fails_that_pair_only_and_leaves_no_partial_file(
    tiny_field, monkeypatch
):
    """ENOSPC part-way through one pair's file: that pair is counted, named
    and leaves nothing under its name; the other pairs are written."""
    from diffview.io import _commit

    root = tiny_field["root"]
    (root / "o").mkdir()
    os.mkfifo(root / "o" / "diff.000001.000002.fits")  # a FIFO: refused, kept
    pairs = [
        Overlap(0, 1, "a.fits", "b.fits", "diff.000000.000001.fits"),
        Overlap(1, 2, "b.fits", "c.fits", "diff.000001.000002.fits"),
        Overlap(1, 3, "b.fits", "d.fits", "diff.000001.000003.fits"),
    ]
    doomed, real_open, real_write = set(), _commit._open_temp, os.write

    def open_temp(target, name=None):
        fd, tmp = real_open(target, name)
        if target.name == "diff.000000.000001.fits":
            doomed.add(fd)
        return fd, tmp

    def write(fd, data):
        if fd in doomed:
            doomed.discard(fd)  # its number goes to another file once closed
            real_write(fd, memoryview(data)[:1000])
            raise OSError(28, "No space left on device")
        return real_write(fd, data)

    monkeypatch.setattr(_commit, "_open_temp", open_temp)
    monkeypatch.setattr(os, "write", write)
    r = compute_differences(tiny_field["proj"], pairs, tiny_field["hdr"], root / "o",
                            workers=1, quiet=True)
    assert (r.count, r.failed) == (3, 2)
    messages = [m for _, m in r.failures]
    assert messages[0].endswith(
        f"{root / 'o' / 'diff.000000.000001.fits'}: no space left on device")
    assert messages[1].endswith(
        f"{root / 'o' / 'diff.000001.000002.fits'}: is a FIFO (named pipe), "
        "not a file; not written")
    assert r.output_error == messages[0]  # the first file the machine refused
    assert sorted(os.listdir(root / "o")) == [
        "diff.000001.000002.fits",  # still the FIFO
        "diff.000001.000003.fits",
        "diff.000001.000003_area.fits",
    ]
    assert stat.S_ISFIFO(os.lstat(root / "o" / "diff.000001.000002.fits").st_mode)
    # the completed pair is the difference a clean run writes
    monkeypatch.setattr(os, "write", real_write)
    (root / "clean").mkdir()
    compute_differences(tiny_field["proj"], pairs[2:], tiny_field["hdr"],
                        root / "clean", workers=1, quiet=True)
    for name in ("diff.000001.000003.fits", "diff.000001.000003_area.fits"):
        np.testing.assert_array_equal(read(root / "o" / name)[0],
                                      read(root / "clean" / name)[0])
