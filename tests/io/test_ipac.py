"""IPAC table reading under bad input: one clear InputError, bounded reads."""

import os
import threading

import numpy as np
import pytest

from diffview import io
from diffview.errors import InputError
from diffview.io import ipac

HEAD = "| cntr1 | cntr2 |  plus |  minus |  diff |\n"
TYPES = "| int   | int   |  char |  char  |  char |\n"
GOOD = "      0       1   a.fits  b.fits  d.fits\n"


def test_a_misaligned_number_is_an_error_naming_file_line_and_bar(tmp_path):
    p = tmp_path / "diffs.tbl"
    p.write_text(HEAD + TYPES + GOOD + "   0 1 a.fits b.fits d.fits\n")
    message = (rf"^{p}: line 4: column 'cntr1' holds '0 1 a', not a number "
               r"\(a value runs into the '\|' at character 9 of the header line: "
               r"misaligned columns\)$")
    with pytest.raises(InputError, match=message):
        io.read_table(p)
    with pytest.raises(InputError, match=message):
        io.read_table_columns(p, ["cntr1"])


def test_a_misaligned_text_value_is_cut_as_montage_does(tmp_path):
    # Montage keeps the characters strictly between the bars; so does diffview
    t = io.parse_table("| a |  f |\n  1   abcdefg\n")
    assert t["a"].tolist() == [1] and t["f"].tolist() == ["abc"]


def test_montage_layouts_still_read(tmp_path):
    # mImgtbl-style padding (trailing spaces) and mOverlaps' rows are aligned
    p = tmp_path / "d.tbl"
    p.write_text(HEAD + TYPES + GOOD + "      1       2   b.fits  c.fits  e.fits   \n")
    t = io.read_table(p)
    assert t["cntr2"].tolist() == [1, 2] and t["diff"].tolist() == ["d.fits", "e.fits"]


@pytest.mark.parametrize("kind", ["int", "double"])
def test_text_in_a_typed_numeric_column_names_the_line(kind):
    text = f"|     n|  f |\n|{kind:>6}|char|\n     1   x\n    2y   x\n"
    with pytest.raises(InputError, match=r"^t.tbl: line 4: column 'n' holds '2y'"):
        io.parse_table(text, "t.tbl")


def test_text_in_a_montage_int_column_without_type_line():
    with pytest.raises(InputError, match="line 3: column 'cntr' holds 'x'"):
        io.parse_table("|cntr| f |\n  0   a\n  x   b\n", "images.tbl")


def test_blank_int_value_reads_as_zero_like_montage_atoi():
    t = io.parse_table("|cntr| f |\n|int |char|\n  3   a\n      b\n")
    assert t["cntr"].tolist() == [3, 0]
    assert t.meta["lines"] == [3, 4]


def test_repeated_column_name_is_an_input_error():
    with pytest.raises(InputError, match="repeated"):
        io.parse_table("| a | a |\n  1   2\n")


def test_huge_integer_is_read_as_a_float_not_a_crash():
    t = io.parse_table("|" + "a".rjust(31) + "|\n|" + "int".rjust(31) + "|\n"
                       + "9" * 30 + "\n")
    assert t["a"].tolist() == [1e30]


def test_line_break_in_a_written_value_is_refused(tmp_path):
    with pytest.raises(InputError, match="line break"):
        io.write_table({"fname": ["a\nb.fits"]}, tmp_path / "t.tbl")
    assert not (tmp_path / "t.tbl").exists()


def test_table_larger_than_the_limit_fails(tmp_path, monkeypatch):
    monkeypatch.setattr(ipac, "_MAX_TABLE_BYTES", 1000)
    p = tmp_path / "t.tbl"
    p.write_text("| a |\n" + "  1  \n" * 400)
    with pytest.raises(InputError, match=rf"^{p}: larger than 1000 bytes"):
        io.read_table(p)


def test_line_longer_than_the_limit_fails(tmp_path, monkeypatch):
    monkeypatch.setattr(ipac, "_MAX_LINE_BYTES", 100)
    p = tmp_path / "t.tbl"
    p.write_text("| a |\n  1  \n" + "x" * 101 + "\n")
    with pytest.raises(InputError, match="line 3 is longer than 100 bytes"):
        io.read_table(p)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_a_fifo_that_never_ends_fails_instead_of_filling_memory(tmp_path, monkeypatch):
    # a writer that keeps writing NUL bytes (like /dev/zero) into a FIFO
    monkeypatch.setattr(ipac, "_MAX_LINE_BYTES", 1 << 16)
    fifo = tmp_path / "never.tbl"
    os.mkfifo(fifo)
    stop = threading.Event()

    def writer():
        try:
            with open(fifo, "wb") as f:
                while not stop.is_set():
                    f.write(b"\0" * 65536)
        except (BrokenPipeError, OSError):
            pass

    thread = threading.Thread(target=writer, daemon=True)
    thread.start()
    try:
        with pytest.raises(InputError, match="line 1 is longer than 65536 bytes"):
            io.read_table(fifo)
    finally:
        stop.set()
        thread.join(10)
    assert not thread.is_alive()


def test_read_table_columns_keeps_values():
    t = io.parse_table("| a |  b |\n|int|double|\n  1   2.5\n")
    assert np.asarray(t["b"]).tolist() == [2.5]


PLAIN_CASES = [
    HEAD + TYPES + GOOD + "      1       2   b.fits  c.fits  e.fits   \n",
    "| a |  f |\n  1   abcdefg\n",
    "|cntr| f |\n|int |char|\n  3   a\n      b\n",
    "\\x = 'y'\n|  id |      a |  n |\n| int | double | i  |\n   4     -1.5      \n\n",
    "|     n|  f |\n|   int|char|\n     1   x\n    2y   x\n",
    "|cntr| f |\n  0   a\n  x   b\n",
    "no header here\n",
    "| a | a |\n 1  2\n",
]


@pytest.mark.parametrize("text", PLAIN_CASES)
def test_a_plain_table_holds_what_the_astropy_table_holds(text):
    """read_plain_table's columns (no astropy) are read_table's, and so are
    its errors: one parser feeds both."""
    try:
        want = io.parse_table(text, "t.tbl")
    except InputError as exc:
        with pytest.raises(InputError) as got:
            io.parse_plain_table(text, "t.tbl")
        assert str(got.value) == str(exc)
        return
    got = io.parse_plain_table(text, "t.tbl")
    assert got.colnames == want.colnames and len(got) == len(want)
    assert got.meta == {k: want.meta[k] for k in ("keywords", "lines")}
    for name in want.colnames:
        assert got[name].dtype == want[name].dtype
        nan = got[name].dtype.kind == "f"
        assert np.array_equal(got[name], np.asarray(want[name]), equal_nan=nan)


def test_read_plain_table_reads_files_with_read_tables_rules(tmp_path):
    p = tmp_path / "diffs.tbl"
    p.write_text(HEAD + TYPES + GOOD)
    t = io.read_plain_table(p)
    assert t["cntr2"].tolist() == [1] and t["diff"].tolist() == ["d.fits"]
    with pytest.raises(InputError, match="not found"):
        io.read_plain_table(tmp_path / "missing.tbl")
