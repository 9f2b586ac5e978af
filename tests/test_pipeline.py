"""File-level differencing: parity with MontagePy mDiff/mDiffExec, bad input,
atomic outputs and independence from the number of workers."""

import os

import numpy as np
import pytest
from astropy.io import fits
from conftest import make_template, montage_imgtbl, write_hdr, write_projected

from diffview import io
from diffview import io as dvio
from diffview.errors import InputError, PairError
from diffview.geometry.overlaps import find_overlaps
from diffview.models import Overlap
from diffview.run.differences import compute_difference, diffexec, write_difference

MP = pytest.importorskip("MontagePy.main", reason="MontagePy is a test dependency")


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
    fixed = compute_difference(f1, f2, tmpl)
    write_difference(fixed, tmp_path / "fixed", tmpl)
    assert_same_diff(
        tmp_path / "fixed.fits", theirs, drop_last_col=True, drop_last_row=True
    )
    compat = compute_difference(f1, f2, tmpl, montage_edges=True)
    write_difference(compat, tmp_path / "compat", tmpl)
    assert_same_diff(tmp_path / "compat.fits", theirs)


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
def test_diffexec_matches_montage_mdiffexec(tiny_field):
    root = tiny_field["root"]
    theirs = run_montage(tiny_field, root / "m")
    (root / "o").mkdir()
    r = diffexec(
        tiny_field["proj"],
        root / "diffs.tbl",
        tiny_field["hdr"],
        root / "o",
        workers=1,
        quiet=True,
        montage_edges=True,
    )
    assert (r.count, r.failed) == (theirs["count"], theirs["failed"])
    assert sorted(os.listdir(root / "o")) == sorted(os.listdir(root / "m"))
    for name in os.listdir(root / "m"):
        assert_same_diff(root / "o" / name, root / "m" / name)


def test_diffexec_counts_each_bad_pair_and_goes_on(tiny_field):
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
    r = diffexec(
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
def test_diffexec_run_level_errors(tiny_field, problem, message):
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
        diffexec(*args, workers=1, quiet=True)


def test_interrupted_run_leaves_no_partial_file_and_rerun_completes(
    tiny_field, monkeypatch
):
    root = tiny_field["root"]
    (root / "o").mkdir()
    pairs = [Overlap(0, 1, "a.fits", "b.fits", "diff.000000.000001.fits")]
    tmpl = io.read_template(tiny_field["hdr"])
    calls = {"n": 0}
    from diffview.io import _io as dvio_impl
    real_write = dvio_impl._write_blocks

    def dying_write(fh, header, data):
        calls["n"] += 1
        if calls["n"] == 2:  # die half-way through the area file
            fh.write(header[:100])
            raise KeyboardInterrupt
        return real_write(fh, header, data)

    monkeypatch.setattr(dvio_impl, "_write_blocks", dying_write)
    with pytest.raises(KeyboardInterrupt):
        diffexec(tiny_field["proj"], pairs, tmpl, root / "o", workers=1, quiet=True)
    # the flux file was complete and renamed; no truncated area file exists
    assert sorted(os.listdir(root / "o")) == ["diff.000000.000001.fits"]
    monkeypatch.setattr(dvio_impl, "_write_blocks", real_write)
    r = diffexec(tiny_field["proj"], pairs, tmpl, root / "o", workers=1, quiet=True)
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
        r = diffexec(
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
        r = diffexec(
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


def test_python_overlaps_feed_diffexec(tiny_field):
    tbl = tiny_field["root"] / "images.tbl"
    montage_imgtbl(str(tiny_field["proj"]), str(tbl))
    overlaps = find_overlaps(io.read_table(tbl))
    (tiny_field["root"] / "o").mkdir()
    r = diffexec(
        tiny_field["proj"],
        overlaps,
        tiny_field["hdr"],
        tiny_field["root"] / "o",
        workers=1,
        quiet=True,
    )
    assert r.count == len(overlaps) and r.failed == 0
