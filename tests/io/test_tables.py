"""diffs.tbl, fits.tbl and corrections.tbl under bad input: InputError with line."""

import math

import pytest

from diffview import io
from diffview.errors import InputError
from diffview.models import Overlap

DIFFS_HEAD = "| cntr1 | cntr2 |  plus |  minus |  diff |\n"


def test_misaligned_diffs_table_without_type_line(tmp_path):
    # was: ValueError "invalid literal for int()" from read_diffs_table
    p = tmp_path / "diffs.tbl"
    p.write_text(DIFFS_HEAD + "      0       1   a.fits  b.fits  d.fits\n"
                 "   0 1 a.fits b.fits d.fits\n")
    message = rf"^{p}: line 3: column 'cntr1' holds '0 1 a'.*misaligned"
    with pytest.raises(InputError, match=message):
        io.read_diffs_table(p)


def test_text_in_diffs_cntr_column_names_the_line(tmp_path):
    p = tmp_path / "diffs.tbl"
    p.write_text(DIFFS_HEAD + "      0       1   a.fits  b.fits  d.fits\n"
                 "      x       1   a.fits  b.fits  d.fits\n")
    with pytest.raises(InputError, match=rf"^{p}: line 3: column 'cntr1' holds 'x'"):
        io.read_diffs_table(p)


def test_blank_cntr_reads_as_zero_like_montage(tmp_path):
    p = tmp_path / "diffs.tbl"
    p.write_text(DIFFS_HEAD + "      2           a.fits  b.fits  d.fits\n")
    assert io.read_diffs_table(p) == [Overlap(2, 0, "a.fits", "b.fits", "d.fits")]


def test_missing_columns_are_named(tmp_path):
    p = tmp_path / "diffs.tbl"
    p.write_text("| cntr1 | cntr2 |  plus |\n      0       1   a.fits\n")
    with pytest.raises(InputError, match=rf"^{p}: need columns: minus diff$"):
        io.read_diffs_table(p)
    q = tmp_path / "corrections.tbl"
    q.write_text("|  id |   a |\n     1   0.0\n")
    with pytest.raises(InputError, match="need columns: b c"):
        io.read_corrections_table(q)


def test_newline_in_a_diffs_file_name_is_refused(tmp_path):
    p = tmp_path / "diffs.tbl"
    with pytest.raises(InputError, match="line break"):
        io.write_diffs_table([Overlap(0, 1, "a\n.fits", "b.fits", "d.fits")], p)
    assert not p.exists()


FITS_HEAD = "|  plus| minus|     a|     b|     c|npixel|\n"


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("     0      1      x      0    1.5     10", "line 2: column 'a' holds 'x'"),
        ("     0   one      0      0    1.5     10", "line 2: column 'minus' holds"),
        ("     0      1      0      0    1.5    ten", "line 2: column 'npixel' holds"),
    ],
)
def test_text_in_fits_table_names_column_and_line(tmp_path, row, message):
    p = tmp_path / "fits.tbl"
    p.write_text(FITS_HEAD + row + "\n")
    with pytest.raises(InputError, match=message):
        io.read_fits_table(p)


def test_fits_table_blank_ints_read_as_zero(tmp_path):
    p = tmp_path / "fits.tbl"
    p.write_text(FITS_HEAD + "     3             0      0    1.5       \n")
    f = io.read_fits_table(p)[0]
    assert (f.plus, f.minus, f.c, f.npixel) == (3, 0, 1.5, 0)


def test_text_in_corrections_table(tmp_path):
    p = tmp_path / "corrections.tbl"
    p.write_text("|  id |   a |   b |     c |\n     4   0.0   0.0    abc\n")
    with pytest.raises(InputError, match="line 2: column 'c' holds 'abc'"):
        io.read_corrections_table(p)
    p.write_text("|  id |   a |   b |     c |\n     x   0.0   0.0   1.0\n")
    with pytest.raises(InputError, match="line 2: column 'id' holds 'x'"):
        io.read_corrections_table(p)


def test_corrections_blank_value_is_nan(tmp_path):
    p = tmp_path / "corrections.tbl"
    p.write_text("|  id |   a |   b |     c |\n     4   0.0   0.0   1.0\n"
                 "     5   0.0   0.0      \n")
    c = io.read_corrections_table(p)
    assert c[0].c == 1.0 and math.isnan(c[1].c)


def test_images_table_text_in_int_column(tmp_path):
    p = tmp_path / "images.tbl"
    p.write_text("| cntr|naxis1| fname|\n| int |  int | char |\n"
                 "     0    100 a.fits\n     1    1x0 b.fits\n")
    with pytest.raises(InputError, match="line 4: column 'naxis1' holds '1x0'"):
        io.read_table(p)


def test_newline_in_images_table_file_name_is_refused(tmp_path):
    from astropy.table import Table

    t = Table({"cntr": [0], "fname": ["a\nb.fits"]})
    with pytest.raises(InputError, match="line break"):
        io.write_images_table(t, tmp_path / "images.tbl")
