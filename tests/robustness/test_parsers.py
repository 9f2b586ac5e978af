"""
Hostile tables and templates: strict where Montage is, lenient where it is.

Each test names the case, what diffview did before and what it does now.
Parity tests run MontagePy on the same files. Endless inputs are this test's
own FIFOs (``os.mkfifo`` and a writer thread) and sparse files, never device
files.
"""

import os
import shutil
import threading
import time
import tracemalloc
import warnings
from datetime import timedelta

import numpy as np
import pytest
from astropy.io import fits
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from diffview.cli.main import main
from diffview.errors import DiffviewError, InputError
from diffview.io import (
    make_image_table,
    parse_table,
    parse_template,
    read_table,
    read_template,
    write_table,
)
from diffview.render import RangeError, parse_range

ACCENTED = "COMMENT Réduit à Genève — ° µ\nHISTORY naïve\n"


def _accented_template(src, dst, extra=ACCENTED, encoding="utf-8"):
    text = src.read_text().replace("END", extra + "END")
    dst.write_bytes(text.encode(encoding))
    return dst


def _first_pair(sample):
    plus, minus = read_table(sample.diffs_tbl)[0]["plus", "minus"]
    return str(sample.proj_dir / plus), str(sample.proj_dir / minus)


# -- 1. non-ASCII text in a template's COMMENT cards ------------------------


@pytest.mark.montage
def test_accented_comment_template_differences_as_montagepy(small_sample, tmp_path):
    """Before: every pair failed (astropy refused the card); after: the
    difference and its header are MontagePy's, non-ASCII bytes as spaces."""
    from conftest import MP
    from diffview.montage import mDiff

    hdr = _accented_template(small_sample.template, tmp_path / "t.hdr")
    plus, minus = _first_pair(small_sample)
    rm = MP.mDiff(plus, minus, str(tmp_path / "m.fits"), str(hdr))
    rd = mDiff(plus, minus, str(tmp_path / "d.fits"), str(hdr))
    assert rm["status"] == rd["status"] == "0", (rm, rd)
    dm, hm = fits.getdata(tmp_path / "m.fits"), fits.getheader(tmp_path / "m.fits")
    dd, hd = fits.getdata(tmp_path / "d.fits"), fits.getheader(tmp_path / "d.fits")
    np.testing.assert_array_equal(dd, dm)
    assert [str(c) for c in hd["COMMENT"]][-1] == [str(c) for c in hm["COMMENT"]][-1]
    assert str(hd["HISTORY"][0]) == str(hm["HISTORY"][0]) == "na  ve"


def test_accented_comment_template_every_pair(small_sample, tmp_path):
    hdr = _accented_template(small_sample.template, tmp_path / "t.hdr")
    out = tmp_path / "diffs"
    out.mkdir()
    assert (
        main(
            [
                "diffexec",
                "-p",
                str(small_sample.proj_dir),
                "--quiet",
                str(small_sample.diffs_tbl),
                str(hdr),
                str(out),
            ]
        )
        == 0
    )
    assert len(list(out.glob("diff.*[0-9].fits"))) == len(
        read_table(small_sample.diffs_tbl)
    )
    assert str(read_template(hdr)["COMMENT"][0]).startswith("R  duit    Gen  ve")


@pytest.mark.parametrize(
    "encoding, expected", [("utf-8", "Gen  ve"), ("latin-1", "Gen ve")]
)
def test_template_non_ascii_bytes_read_as_spaces(
    small_sample, tmp_path, encoding, expected
):
    hdr = _accented_template(
        small_sample.template, tmp_path / "t.hdr", "COMMENT Genève\tx\n", encoding
    )
    assert str(read_template(hdr)["COMMENT"][0]) == expected + " x"


@pytest.mark.montage
def test_template_line_of_81_bytes_refused_as_montagepy(small_sample, tmp_path):
    """72 accented letters are 72 characters but 152 bytes: Montage counts bytes."""
    from conftest import MP
    from diffview.montage import mDiff

    hdr = _accented_template(
        small_sample.template, tmp_path / "t.hdr", "COMMENT " + "é" * 72 + "\n"
    )
    plus, minus = _first_pair(small_sample)
    rm = MP.mDiff(plus, minus, str(tmp_path / "m.fits"), str(hdr))
    rd = mDiff(plus, minus, str(tmp_path / "d.fits"), str(hdr))
    assert rm["status"] == rd["status"] == "1"
    assert b"80 characters" in rm["msg"] and b"80 characters" in rd["msg"]


# -- 4. tables --------------------------------------------------------------


def test_blank_value_in_int_column_reads_zero():
    """As Montage's atoi: 0 (a float column: NaN). Unchanged, now tested."""
    t = parse_table("|cntr|  a   |\n|int |double|\n    3   1.5\n        2.5\n   4\n")
    assert t["cntr"].tolist() == [3, 0, 4]
    assert t["a"][:2].tolist() == [1.5, 2.5] and np.isnan(t["a"][2])


@pytest.mark.montage
def test_table_without_corner_columns_overlaps_as_montagepy(small_sample, tmp_path):
    """Montage's mOverlaps uses the WCS columns without ra1..dec4: same pairs."""
    from conftest import MP
    from diffview.io import write_images_table

    t = read_table(small_sample.root / "images.tbl")
    t = t[
        [
            c
            for c in t.colnames
            if c.rstrip("1234") not in ("ra", "dec") or c in ("ra", "dec")
        ]
    ]
    assert "ra1" not in t.colnames
    write_images_table(t, tmp_path / "i.tbl")
    assert main(["overlaps", str(tmp_path / "i.tbl"), str(tmp_path / "d.tbl")]) == 0
    assert (
        MP.mOverlaps(str(tmp_path / "i.tbl"), str(tmp_path / "m.tbl"))["status"] == "0"
    )
    d, m = read_table(tmp_path / "d.tbl"), read_table(tmp_path / "m.tbl")
    assert sorted(zip(d["cntr1"], d["cntr2"], strict=True)) == sorted(
        zip(m["cntr1"], m["cntr2"], strict=True)
    )
    assert len(d) == len(read_table(small_sample.diffs_tbl))


def _spoil(path, out, row, column, text="abc"):
    """Copy a table with one numeric value replaced by ``text``, aligned."""
    lines = path.read_text().split("\n")
    heads = [k for k, ln in enumerate(lines) if ln.startswith("|")]
    names = [n.strip() for n in lines[heads[0]].strip("|").split("|")]
    k = heads[-1] + 1 + row
    fields = lines[k].split()
    old = fields[names.index(column)]
    start = (
        lines[k].index(" " + old + " ") + 1
        if column != names[0]
        else lines[k].index(old)
    )
    lines[k] = lines[k][:start] + text.rjust(len(old)) + lines[k][start + len(old) :]
    out.write_text("\n".join(lines))
    return k + 1


@pytest.fixture(scope="module")
def fitted(small_sample, tmp_path_factory):
    d = tmp_path_factory.mktemp("fitted")
    (d / "diffs").mkdir()
    assert (
        main(
            [
                "difffitexec",
                "-p",
                str(small_sample.proj_dir),
                "--quiet",
                str(small_sample.diffs_tbl),
                str(small_sample.template),
                str(d / "diffs"),
                str(d / "fits.tbl"),
            ]
        )
        == 0
    )
    assert (
        main(
            [
                "bgmodel",
                str(small_sample.root / "images.tbl"),
                str(d / "fits.tbl"),
                str(d / "corr.tbl"),
            ]
        )
        == 0
    )
    return d


def test_text_in_fits_table_one_line_naming_the_line(
    small_sample, fitted, tmp_path, capsys
):
    """Montage's atof reads 0 and goes on; diffview stops with one line naming
    the file, the line and the value (`diffview.io.ipac`'s module docstring)."""
    line = _spoil(fitted / "fits.tbl", tmp_path / "f.tbl", 1, "a")
    capsys.readouterr()
    assert (
        main(
            [
                "bgmodel",
                str(small_sample.root / "images.tbl"),
                str(tmp_path / "f.tbl"),
                str(tmp_path / "c.tbl"),
            ]
        )
        == 1
    )
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and f"line {line}: column 'a' holds 'abc'" in err[0]
    assert not (tmp_path / "c.tbl").exists()


def test_text_in_corrections_table_one_line(small_sample, fitted, tmp_path, capsys):
    line = _spoil(fitted / "corr.tbl", tmp_path / "c.tbl", 0, "b", "1.0x")
    out = tmp_path / "corrected"
    out.mkdir()
    capsys.readouterr()
    assert (
        main(
            [
                "bgexec",
                "-p",
                str(small_sample.proj_dir),
                "--quiet",
                str(small_sample.root / "images.tbl"),
                str(tmp_path / "c.tbl"),
                str(out),
            ]
        )
        == 1
    )
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and f"line {line}" in err[0] and "'1.0x'" in err[0]


def test_newline_in_file_name_refused_by_writers(small_sample, tmp_path, capsys):
    """Issue #14: the row broke the table written. Every table writer refuses
    it, naming the file (Montage writes the broken table)."""
    proj = tmp_path / "proj"
    shutil.copytree(small_sample.proj_dir, proj)
    shutil.copy(
        proj / read_table(small_sample.diffs_tbl)[0]["plus"], proj / "evil\nname.fits"
    )
    assert main(["imgtbl", str(proj), str(tmp_path / "i.tbl")]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "evil\\nname.fits'" in err[0] and "line break" in err[0]
    assert not (tmp_path / "i.tbl").exists()
    with pytest.raises(InputError, match="line break"):
        write_table({"fname": ["a\rb.fits"]}, tmp_path / "t.tbl")


def test_nan_crpix_counted_as_bad_wcs(small_sample, tmp_path, capsys):
    """Before: a good row (badwcs = 0) with positions computed from a made-up
    CRPIX; Montage writes a row of NaN positions; now: badwcs, no row."""
    src = small_sample.proj_dir / read_table(small_sample.diffs_tbl)[0]["plus"]
    raw = src.read_bytes()
    k = raw.index(b"CRPIX1  =")
    folder = tmp_path / "nan"
    folder.mkdir()
    card = b"CRPIX1  = " + b"NaN".rjust(20) + b" " * 50
    (folder / "x.fits").write_bytes(raw[:k] + card + raw[k + 80 :])
    shutil.copy(src, folder / "good.fits")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # astropy's notes on the odd card
        r = make_image_table(folder)
        assert main(["imgtbl", str(folder), str(tmp_path / "i.tbl")]) == 0
    assert r.badwcs == ["x.fits[0]"]
    assert [os.path.basename(f) for f in r.table["fname"]] == ["good.fits"]
    assert "badwcs=1" in capsys.readouterr().out
    fnames = read_table(tmp_path / "i.tbl")["fname"]
    assert [os.path.basename(f) for f in fnames] == ["good.fits"]


def _fifo_writer(path, head: bytes, body: bytes):
    """Open ``path`` (a FIFO) and write ``head`` then ``body`` until the
    reader goes away."""

    def run():
        try:
            with open(path, "wb") as f:
                f.write(head)
                while True:
                    f.write(body)
        except (BrokenPipeError, OSError):
            pass

    t = threading.Thread(target=run, daemon=True)
    t.start()
    return t


@pytest.mark.parametrize("read", [read_table, read_template])
def test_fifo_line_that_never_ends(tmp_path, read):
    """Issue #14: read until memory ran out. An InputError after 1 MiB, in
    bounded memory."""
    fifo = tmp_path / "endless.tbl"
    os.mkfifo(fifo)
    writer = _fifo_writer(fifo, b"|cntr|fname|\n", b"x" * 65536)
    tracemalloc.start()
    t0 = time.monotonic()
    with pytest.raises(InputError, match="longer than"):
        read(fifo)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert time.monotonic() - t0 < 10 and peak < 64 << 20
    writer.join(5)


def test_fifo_table_of_endless_rows(tmp_path, monkeypatch):
    """Endless short lines stop at the size limit (1 GiB; 4 MiB here)."""
    import diffview.io.ipac as ipac

    monkeypatch.setattr(ipac, "_MAX_TABLE_BYTES", 4 << 20)
    fifo = tmp_path / "rows.tbl"
    os.mkfifo(fifo)
    writer = _fifo_writer(fifo, b"|cntr|fname|\n", b"   1 a.fits\n" * 4096)
    with pytest.raises(InputError, match="larger than|never ends"):
        read_table(fifo)
    writer.join(5)


def test_huge_file_of_zeros(tmp_path):
    """A sparse 8 GiB file of NUL bytes (a /dev/zero stand-in): fast error."""
    p = tmp_path / "zeros.tbl"
    with open(p, "wb") as f:
        f.truncate(8 << 30)
    t0 = time.monotonic()
    for read in (read_table, read_template):
        with pytest.raises(InputError):
            read(p)
    assert time.monotonic() - t0 < 10


# -- 6. property tests (extending tests/io/test_parsers_fuzz.py) -------------

FUZZ = settings(
    max_examples=150,
    derandomize=True,
    database=None,
    deadline=timedelta(milliseconds=800),
    suppress_health_check=[HealthCheck.too_slow],
)

CARDS = st.sampled_from(
    [
        b"SIMPLE  = T\n",
        b"BITPIX  = -64\n",
        b"NAXIS   = 2\n",
        b"NAXIS1  = 30\n",
        b"NAXIS2  = 20\n",
        b"CTYPE1  = 'RA---TAN'\n",
        b"CTYPE2  = 'DEC--TAN'\n",
        b"CRVAL1  = 275.0\n",
        b"CRVAL2  = -16.0\n",
        b"CRPIX1  = 15.5\n",
        b"CRPIX2  = 10.5\n",
        b"CDELT1  = -0.001\n",
        b"CDELT2  = 0.001\n",
        b"COMMENT G\xc3\xa9n\xc3\xa8ve\n",
        b"HISTORY \xff\xfe\x00\n",
        b"OBSERVER= 'Jos\xe9'\n",
        b"END\n",
        b"\t",
        b"\r\n",
    ]
)


@FUZZ
@given(st.lists(st.one_of(CARDS, st.binary(max_size=12)), max_size=30).map(b"".join))
def test_template_bytes_parse_or_input_error(raw):
    """Any bytes (as read from a file): a header or InputError; a parsed
    header's cards are printable ASCII."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            h = parse_template(raw, "fuzz.hdr")
        except InputError:
            return
        text = h.tostring()
    assert all(32 <= ord(ch) <= 126 for ch in text)


TABLE_BYTES = st.lists(
    st.one_of(
        st.sampled_from(
            [
                b"|",
                b" ",
                b"\n",
                b"\\x = 1\n",
                b"|cntr|fname|\n",
                b"|int|char|\n",
                b"   1 a.fits\n",
                b"\xff",
                b"\x00",
                b"nan",
                b"-1",
                b"1e999",
            ]
        ),
        st.binary(max_size=10),
    ),
    max_size=40,
).map(b"".join)


@FUZZ
@given(TABLE_BYTES)
def test_table_file_bytes_bounded(tmp_path_factory, raw):
    """Any file: a table or InputError, in bounded memory (a few MiB)."""
    p = tmp_path_factory.getbasetemp() / "fuzz.tbl"
    p.write_bytes(raw)
    tracemalloc.start()
    try:
        read_table(p)
    except InputError:
        pass
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    assert peak < 16 << 20


RANGE = st.lists(
    st.sampled_from(
        [
            "+",
            "-",
            " ",
            "1",
            "0x1p3",
            ".5",
            "e9",
            "%",
            "s",
            "min",
            "max",
            "med",
            "nan",
            "inf",
            "99",
            "\t",
        ]
    ),
    max_size=8,
).map("".join)


@FUZZ
@given(st.one_of(RANGE, st.text(max_size=12)))
def test_range_strings_finite_or_range_error(text):
    """Any display range: a RangeSpec without NaN, or RangeError (never a
    ValueError or OverflowError from below)."""
    try:
        spec = parse_range(text)
    except RangeError:
        return
    assert not np.isnan(spec.value) and not np.isnan(spec.extra)


WORDS = st.sampled_from(
    [
        "-gray",
        "f.fits",
        "+1",
        "+max",
        "-2s",
        "-saturate",
        "inf",
        "-alpha",
        "2",
        "-ct",
        "+12",
        "99999999999",
        '"',
        "'",
        "-linewidth",
        "nan",
        "gl",
        "asinh",
        "0x10",
        "²",
    ]
)


@FUZZ
@given(
    st.one_of(st.lists(WORDS, max_size=12), st.lists(WORDS, max_size=12).map(" ".join))
)
def test_view_arguments_parse_or_input_error(words):
    """Token lists (the CLI) and strings (mViewer): a command or InputError;
    a parsed saturation is a grey level."""
    from diffview.montage import parse_command

    try:
        cmd = parse_command(words)
    except DiffviewError:
        return
    assert 0 <= cmd.saturate <= 255 and 0 <= cmd.ct <= 12
