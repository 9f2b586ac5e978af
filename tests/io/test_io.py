"""Montage's files: IPAC tables both ways with MontagePy, templates, image boxes."""

import math
import os

import numpy as np
import pytest
from astropy.io import ascii as aascii
from astropy.io import fits

from conftest import MP
from diffview import io
from diffview.errors import InputError
from diffview.models import Correction, Overlap, PlaneFit

# ------------------------------------------------------------- table reading


def test_parse_follows_montage_bar_rules():
    text = (
        "\\datatype = fitshdr\n"
        "\\ comment line\n"
        "| id |   a    | name   | dropped\n"
        "| int| double | char   |\n"
        "   3    2.5     xyz    ignored\n"
        "\n"
        "  14  -1e-3     a.fits\n"
    )
    t = io.parse_table(text, "x.tbl")
    assert t.colnames == ["id", "a", "name"]  # a name after the last bar is no column
    assert list(t["id"]) == [3, 14]  # the blank line is skipped (Montage: a zero row)
    assert list(t["a"]) == [2.5, -1e-3]
    assert list(t["name"]) == ["xyz", "a.fits"]
    assert t.meta["keywords"] == {"datatype": "fitshdr"}


def test_value_running_into_a_bar_is_cut_as_montage_does():
    t = io.parse_table("| id| f |\n  12 abcdef\n")
    assert list(t["f"]) == ["abc"]  # the characters strictly between the bars


def test_types_inferred_without_a_type_line():
    t = io.parse_table("| i | x | s |\n  1  2.0  q\n  2  nan  r\n")
    assert t["i"].dtype.kind == "i" and t["x"].dtype.kind == "f"
    assert math.isnan(t["x"][1]) and t["s"].dtype.kind == "U"


def test_bad_tables_name_the_file(tmp_path):
    with pytest.raises(InputError, match=r"Table .*nope.tbl not found"):
        io.read_table(tmp_path / "nope.tbl")
    (tmp_path / "junk.tbl").write_text("just words\n1 2 3\n")
    with pytest.raises(InputError, match=r"junk.tbl: not an IPAC table"):
        io.read_table(tmp_path / "junk.tbl")
    (tmp_path / "t.tbl").write_text("| id |\n| int|\n  x\n")
    with pytest.raises(InputError, match=r"t.tbl: line 3: column 'id' holds 'x'"):
        io.read_table(tmp_path / "t.tbl")
    t = io.parse_table("| cntr |\n  1\n")
    with pytest.raises(InputError, match=r"images.tbl: need columns: fname"):
        io.require_columns(t, ["cntr", "fname"], "images.tbl")


# --------------------------------------------------- tables with MontagePy


@pytest.mark.montage
def test_diffs_table_identical_to_moverlaps(small_sample, tmp_path):
    ref = tmp_path / "m.tbl"
    assert (
        MP.mOverlaps(str(small_sample.images_tbl), str(ref), True, 0)["status"] == "0"
    )
    ours = tmp_path / "o.tbl"
    io.write_diffs_table(io.read_diffs_table(ref), ours)
    assert ours.read_text() == ref.read_text()


@pytest.mark.montage
def test_montage_reads_our_fits_table_and_we_read_its(small_sample, tmp_path):
    diffs = tmp_path / "diffs"
    diffs.mkdir()
    s = small_sample
    MP.mDiffFitExec(
        str(s.proj_dir),
        str(s.diffs_tbl),
        str(s.template),
        str(diffs),
        str(tmp_path / "m_fits.tbl"),
        False,
        False,
        False,
        "",
        0,
    )
    theirs = io.read_fits_table(tmp_path / "m_fits.tbl")
    ref = aascii.read(tmp_path / "m_fits.tbl", format="ipac")
    assert len(theirs) == len(ref) == len(s.overlaps)
    for f, r in zip(theirs, ref, strict=True):
        assert (f.plus, f.minus, f.npixel) == (r["plus"], r["minus"], r["npixel"])
        assert (f.a, f.b, f.c, f.rms) == (r["a"], r["b"], r["c"], r["rms"])
    io.write_fits_table(theirs, tmp_path / "o_fits.tbl")
    again = io.read_fits_table(tmp_path / "o_fits.tbl")
    assert again == theirs
    # mBgModel reads our table and solves the same as from its own
    for name in ("m", "o"):
        res = MP.mBgModel(
            str(s.images_tbl),
            str(tmp_path / f"{name}_fits.tbl"),
            str(tmp_path / f"{name}_corr.tbl"),
            "",
            False,
            False,
            10000,
            0,
        )
        assert res["status"] == "0", res
    assert io.read_corrections_table(
        tmp_path / "o_corr.tbl"
    ) == io.read_corrections_table(tmp_path / "m_corr.tbl")


def test_fits_table_keeps_ten_digits_in_montage_widths(tmp_path):
    f = PlaneFit(
        3,
        12,
        1.234567891e-3,
        -9.87654321e-4,
        12.3456789012,
        101.5,
        -3.25,
        -5.7,
        40.2,
        0,
        30,
        17.25,
        15.0,
        1234,
        0.123456789,
        17.3,
        15.1,
        40.2,
        30.1,
        -12.3,
    )
    io.write_fits_table([f], tmp_path / "f.tbl")
    g = io.read_fits_table(tmp_path / "f.tbl")[0]
    assert g.c == pytest.approx(f.c, rel=1e-9) and g.a == pytest.approx(f.a, rel=1e-9)
    assert (g.xmin, g.xmax) == (-5, 40)  # truncated toward zero, as Montage
    lines = (tmp_path / "f.tbl").read_text().splitlines()
    assert len(lines[0]) == len(lines[1])  # fixed width: values inside the bars


def test_corrections_table_layout_and_sorting(tmp_path):
    io.write_corrections_table(
        [Correction(7, 1e-4, -2e-4, 3.5), Correction(2, 0.0, 0.0, -1.0)],
        tmp_path / "c.tbl",
    )
    lines = (tmp_path / "c.tbl").read_text().splitlines()
    assert lines[0] == "|   id   |      a       |      b       |      c       |"
    assert lines[1] == "        2    0.00000e+00    0.00000e+00   -1.00000e+00"
    assert [c.id for c in io.read_corrections_table(tmp_path / "c.tbl")] == [2, 7]


def test_diffs_table_round_trip_long_names(tmp_path):
    ovs = [
        Overlap(
            0,
            1000001,
            "sub/dir/very_long_name.fits",
            "b.fits",
            "diff.000000.1000001.fits",
        )
    ]
    io.write_diffs_table(ovs, tmp_path / "d.tbl")
    assert io.read_diffs_table(tmp_path / "d.tbl") == ovs


def test_writing_into_a_missing_folder_fails_cleanly(tmp_path):
    with pytest.raises(InputError, match=r"folder .*nodir does not exist"):
        io.write_corrections_table([], tmp_path / "nodir" / "c.tbl")


# ------------------------------------------------------------------ templates


@pytest.mark.montage
def test_template_round_trip_and_montage_mmakehdr(small_sample, tmp_path):
    h = io.read_template(small_sample.template)
    assert (h["NAXIS"], h["CTYPE1"]) == (2, "RA---TAN")
    out = tmp_path / "m.hdr"
    assert MP.mMakeHdr(str(small_sample.images_tbl), str(out))["status"] == "0"
    m = io.read_template(out)
    assert m["NAXIS1"] > 0 and m["CTYPE2"].startswith("DEC")
    io.write_template(m, tmp_path / "again.hdr")
    assert io.read_template(tmp_path / "again.hdr") == m


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda t: t.replace("NAXIS1  =", "XAXIS1  ="), "missing NAXIS1"),
        (lambda t: t.replace("CDELT1", "CXELT1"), "CDELT1/CDELT2 or a CD matrix"),
        (lambda t: t.replace("'DEC--TAN'", "'DEC--SIN'"), "do not name one projection"),
        (lambda t: t + "COMMENT " + "x" * 90 + "\n", "longer than 80 characters"),
        (lambda t: t.replace("NAXIS2  =", "NAXIS2  = 'many' /"), "not numbers"),
    ],
)
def test_bad_templates_say_what_is_wrong(small_sample, tmp_path, edit, message):
    text = small_sample.template.read_text().replace("END\n", "")
    bad = tmp_path / "bad.hdr"
    bad.write_text(edit(text))
    with pytest.raises(InputError, match=message) as exc:
        io.read_template(bad)
    assert "bad.hdr" in str(exc.value)


def test_fits_file_or_missing_file_is_no_template(tmp_path):
    fits.PrimaryHDU(np.zeros((2, 2))).writeto(tmp_path / "x.fits")
    with pytest.raises(InputError, match=r"x.fits is a FITS file"):
        io.read_template(tmp_path / "x.fits")
    with pytest.raises(InputError, match=r"Template .*none.hdr not found"):
        io.read_template(tmp_path / "none.hdr")


# --------------------------------------------------------------------- images


def test_image_box_is_the_slice_of_the_image(tmp_path):
    data = np.arange(35.0).reshape(5, 7)
    io.write_image(data, fits.Header(), tmp_path / "a.fits")
    box, hdr = io.read_image_box(tmp_path / "a.fits", ((1, 4), (2, 7)))
    np.testing.assert_array_equal(box, data[1:4, 2:7])
    assert hdr["NAXIS1"] == 7 and box.dtype == np.float64
    with pytest.raises(InputError, match=r"a.fits: box .* outside its 5x7 pixels"):
        io.read_image_box(tmp_path / "a.fits", ((0, 6), (0, 2)))


def test_float32_and_cube_images_read_as_float64_planes(tmp_path):
    cube = np.arange(24, dtype=np.float32).reshape(1, 4, 6)
    fits.PrimaryHDU(cube).writeto(tmp_path / "c.fits")
    box, _ = io.read_image_box(tmp_path / "c.fits", ((0, 2), (1, 3)))
    np.testing.assert_array_equal(box, cube[0, 0:2, 1:3].astype(float))


def test_broken_images_name_the_file(tmp_path):
    fits.PrimaryHDU(np.zeros((50, 50))).writeto(tmp_path / "t.fits")
    raw = (tmp_path / "t.fits").read_bytes()
    (tmp_path / "t.fits").write_bytes(raw[: 2880 + 100])  # truncated data
    with pytest.raises(InputError, match=r"t.fits"):
        io.read_image(tmp_path / "t.fits")
    (tmp_path / "n.fits").write_text("not fits at all")
    with pytest.raises(InputError, match=r"n.fits is not a valid FITS file"):
        io.read_image(tmp_path / "n.fits")
    with pytest.raises(InputError, match=r"Image .*gone.fits not found"):
        io.read_image(tmp_path / "gone.fits")


def test_box_reader_keeps_a_few_files_open_and_reads_what_read_box_reads(tmp_path):
    from diffview.io import BoxReader, read_box

    paths = []
    for k in range(3):
        p = tmp_path / f"im{k}.fits"
        data = np.arange(30.0).reshape(5, 6) + 100 * k
        fits.writeto(p, data, fits.Header({"CRPIX1": 1.0 + k, "CRPIX2": 2.0}))
        paths.append(p)
    odd = tmp_path / "scaled.fits"  # not plain: read through astropy
    fits.writeto(odd, np.arange(30, dtype=np.int16).reshape(5, 6))
    fds = len(os.listdir("/proc/self/fd")) if os.path.isdir("/proc/self/fd") else None
    with BoxReader(keep=2) as reader:
        for p in paths * 2 + [odd]:
            box = ((1, 4), (2, 5))
            np.testing.assert_array_equal(reader.read(p, box), read_box(p, box))
            if fds is not None:
                assert len(os.listdir("/proc/self/fd")) <= fds + 2
        assert reader.grid(paths[2]) == ((5, 6), (3.0, 2.0))
        with pytest.raises(InputError, match="outside its 5x6 pixels"):
            reader.read(paths[0], ((0, 6), (0, 1)))
    if fds is not None:
        assert len(os.listdir("/proc/self/fd")) == fds


def _image(path, ny=50, nx=40):
    data = np.arange(ny * nx, dtype=float).reshape(ny, nx)
    fits.writeto(path, data, fits.Header({"CRPIX1": 1.0, "CRPIX2": 2.0}))
    return data


def test_box_reader_maps_each_file_once_and_copies_the_boxes_out(tmp_path, monkeypatch):
    import mmap

    from diffview.io import BoxReader

    data = _image(tmp_path / "a.fits")
    made = []
    real = mmap.mmap
    monkeypatch.setattr(mmap, "mmap", lambda *a, **k: made.append(1) or real(*a, **k))
    boxes = [((j, j + 7), (i, i + 5)) for j in range(0, 40, 9) for i in (0, 3, 30)]
    with BoxReader() as reader:
        got = [reader.read(tmp_path / "a.fits", b) for b in boxes]
    assert made == [1]  # one map for fifteen boxes, no read per box
    for ((j0, j1), (i0, i1)), box in zip(boxes, got, strict=True):
        np.testing.assert_array_equal(box, data[j0:j1, i0:i1])
        assert box.dtype == np.float64 and box.flags.writeable and box.base is None


def test_box_reader_refuses_a_file_cut_short_after_its_first_box(tmp_path):
    from diffview.io import BoxReader

    path = tmp_path / "a.fits"
    _image(path)
    with BoxReader() as reader:
        reader.read(path, ((0, 2), (0, 2)))  # mapped now
        with open(path, "r+b") as fh:
            fh.truncate(2880 + 8 * 40 * 10)  # ten rows left of fifty
        # rows past the new end: an error naming the file, not a read past
        # the end of the map (SIGBUS)
        gone = r"a\.fits: cannot read pixels \(file changed"
        with pytest.raises(InputError, match=gone):
            reader.read(path, ((20, 30), (0, 2)))


def test_box_reader_reads_where_files_cannot_be_mapped(tmp_path, monkeypatch):
    import errno
    import mmap

    from diffview.io import BoxReader

    def no_maps(*args, **kwargs):  # as on a FUSE mount without shared maps
        raise OSError(errno.ENODEV, "No such device")

    monkeypatch.setattr(mmap, "mmap", no_maps)
    path = tmp_path / "a.fits"
    data = _image(path)
    with BoxReader() as reader:
        for box in (((3, 9), (2, 7)), ((0, 50), (0, 40)), ((49, 50), (39, 40))):
            (j0, j1), (i0, i1) = box
            np.testing.assert_array_equal(reader.read(path, box), data[j0:j1, i0:i1])
        with open(path, "r+b") as fh:
            fh.truncate(2880 + 8 * 40 * 10)
        gone = r"a\.fits: cannot read pixels \(file changed"
        with pytest.raises(InputError, match=gone):
            reader.read(path, ((20, 30), (0, 2)))


# --------------------------------------------------------------------------
# read_table_columns


def _same_columns(table, cols):
    for name, values in cols.items():
        ref = np.asarray(table[name])
        assert values.dtype.kind == ref.dtype.kind
        if values.dtype.kind == "f":
            assert np.array_equal(values, ref, equal_nan=True)
        else:
            assert values.tolist() == ref.tolist()


def test_read_table_columns_matches_read_table_on_the_sample(tmp_path):
    from diffview.sample.datasets import write_sample

    s = write_sample(tmp_path / "s", "small", quiet=True)
    t = io.read_table(s.images_tbl)
    cols = io.read_table_columns(s.images_tbl, t.colnames)
    assert list(cols) == list(t.colnames)
    _same_columns(t, cols)
    part = io.read_table_columns(s.images_tbl, ["dec4", "cntr"])
    assert list(part) == ["dec4", "cntr"] and part["cntr"].dtype == np.int64


def test_read_table_columns_hand_made_tables(tmp_path):
    p = tmp_path / "t.tbl"
    p.write_text("\\datatype = fitshdr\n\\ a comment\n"
                 "| cntr |    x    | name | n |\n"
                 "| int  | double  | char |   |\n"
                 "     1     2.50     a.f   7\n"
                 "\n"
                 "\\ a comment between records\r\n"
                 "     2              b.f   8\n"
                 "     3    -1e3      c    \n")
    t = io.read_table(p)
    cols = io.read_table_columns(p, ["n", "name", "x", "cntr"])
    _same_columns(t, cols)
    assert cols["cntr"].tolist() == [1, 2, 3]
    assert cols["x"][0] == 2.5 and math.isnan(cols["x"][1]) and cols["x"][2] == -1e3
    assert cols["name"].tolist() == ["a.f", "b.f", "c"]
    assert cols["n"].tolist() == [7, 8, 0]      # inferred int, empty value 0
    with pytest.raises(InputError, match=r"t.tbl: need columns: ra1 dec1"):
        io.read_table_columns(p, ["cntr", "ra1", "dec1"])
    assert list(io.read_table_columns(p, ["ra1", "x"], optional=True)) == ["x"]


def test_read_table_columns_errors_as_read_table(tmp_path):
    with pytest.raises(InputError, match="nope.tbl not found"):
        io.read_table_columns(tmp_path / "nope.tbl", ["cntr"])
    (tmp_path / "junk.tbl").write_text("no header here\n")
    with pytest.raises(InputError, match="not an IPAC table"):
        io.read_table_columns(tmp_path / "junk.tbl", ["cntr"])
    (tmp_path / "bad.tbl").write_text("|     x|\n|double|\n    abc\n")
    with pytest.raises(InputError, match="not a number"):
        io.read_table_columns(tmp_path / "bad.tbl", ["x"])
