"""Issue 2's parity on the m17 sample: overlaps and every difference vs MontagePy."""

import os

import numpy as np
import pytest
from astropy.io import fits

from conftest import MP
from diffview import io
from diffview.geometry.overlaps import find_overlaps
from diffview.montage import mDiffExec as dv_mDiffExec
from diffview.montage import mOverlaps as dv_mOverlaps
from diffview.run import compute_differences

pytestmark = pytest.mark.montage


@pytest.fixture(scope="module")
def montage_run(m17_sample, tmp_path_factory):
    """MontagePy's mOverlaps + mDiffExec on the sample, once."""
    root = tmp_path_factory.mktemp("m17_montage")
    s = m17_sample
    ov = MP.mOverlaps(str(s.images_tbl), str(root / "diffs.tbl"), True, 0)
    (root / "diffs").mkdir()
    res = MP.mDiffExec(str(s.proj_dir), str(root / "diffs.tbl"), str(s.template),
                       str(root / "diffs"), False, 0)
    return root, ov, res


def read(path):
    with fits.open(path) as hdul:
        return hdul[0].data.astype(float), hdul[0].header


def test_same_overlap_pairs(m17_sample, montage_run):
    root, ov, _ = montage_run
    theirs = io.read_diffs_table(root / "diffs.tbl")
    ours = find_overlaps(io.read_table(m17_sample.images_tbl))
    assert ours == theirs and ov["count"] == len(ours)
    # and the MontagePy-compatible call writes the same file byte for byte
    out = root / "ours_diffs.tbl"
    assert dv_mOverlaps(str(m17_sample.images_tbl), str(out)) == {
        "status": "0", "count": ov["count"]}
    assert out.read_text() == (root / "diffs.tbl").read_text()


@pytest.mark.parametrize("full_edges", [False, True])
def test_every_difference_matches_mdiffexec(m17_sample, montage_run, tmp_path,
                                            full_edges):
    root, _, res = montage_run
    s = m17_sample
    r = compute_differences(s.proj_dir, root / "diffs.tbl", s.template, tmp_path,
                            quiet=True, workers=2, full_edges=full_edges)
    assert (r.count, r.failed) == (res["count"], res["failed"]) == (101, 0)
    assert sorted(os.listdir(tmp_path)) == sorted(os.listdir(root / "diffs"))
    tmpl = io.read_template(s.template)
    fixed = 0
    for name in sorted(os.listdir(root / "diffs")):
        (d1, h1), (d2, h2) = read(tmp_path / name), read(root / "diffs" / name)
        assert h1["BITPIX"] == h2["BITPIX"] == -64
        assert (h1["CRPIX1"], h1["CRPIX2"]) == (h2["CRPIX1"], h2["CRPIX2"])
        if d1.shape != d2.shape:
            # full edges: the last template column/row is differenced too
            assert full_edges
            ends = (h1["CRPIX1"] - tmpl["CRPIX1"], h1["CRPIX2"] - tmpl["CRPIX2"])
            assert d1.shape[1] - d2.shape[1] in (0, 1)
            assert d1.shape[0] - d2.shape[0] in (0, 1)
            assert -ends[0] + d1.shape[1] == tmpl["NAXIS1"] or \
                -ends[1] + d1.shape[0] == tmpl["NAXIS2"]
            d1 = d1[: d2.shape[0], : d2.shape[1]]
            fixed += 1
        np.testing.assert_array_equal(np.isnan(d1), np.isnan(d2), err_msg=name)
        np.testing.assert_allclose(d1, d2, rtol=1e-12, atol=0, equal_nan=True,
                                   err_msg=name)
    if not full_edges:
        assert fixed == 0


def test_montage_compatible_call_returns_montages_dict(m17_sample, montage_run,
                                                       tmp_path):
    root, _, res = montage_run
    s = m17_sample
    mine = dv_mDiffExec(str(s.proj_dir), str(root / "diffs.tbl"), str(s.template),
                        str(tmp_path), False, 0, quiet=True)
    assert mine == res
    bad = dv_mDiffExec(str(s.proj_dir), str(root / "diffs.tbl"), str(s.template),
                       str(tmp_path / "nodir"), False, 0, quiet=True)
    theirs = MP.mDiffExec(str(s.proj_dir), str(root / "diffs.tbl"), str(s.template),
                          str(tmp_path / "nodir"), False, 0)
    assert bad["status"] == theirs["status"] == "1"
    assert b"nodir" in bad["msg"]
