"""
Property tests: the text parsers give a result or diffview's error, never a crash.

Any text (or bytes, decoded as the file readers decode them) given to
`diffview.io.parse_table`, `diffview.io.parse_template` or
`diffview.montage.parse_command` either parses or raises the documented
`DiffviewError` (`InputError`), within hypothesis' deadline. The runs are
derandomized so CI sees the same examples every time.
"""

import warnings
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from diffview.errors import DiffviewError
from diffview.io import parse_table, parse_template
from diffview.montage import parse_command

FUZZ = settings(
    max_examples=200,
    derandomize=True,
    deadline=timedelta(milliseconds=500),
    suppress_health_check=[HealthCheck.too_slow],
    database=None,
)

# Pieces that make up real tables and templates, so that examples get past
# the first checks, mixed with arbitrary text.
TABLE_PIECES = st.sampled_from(
    ["|", " ", "\n", "\r\n", "\\", "=", "int", "double", "char", "cntr", "fname",
     "0", "-1", "2.5", "nan", "1e999", "a.fits", "\t", "|cntr|fname|\n", "\x00"]
)
TEMPLATE_PIECES = st.sampled_from(
    ["SIMPLE  = T\n", "BITPIX  = -64\n", "NAXIS   = 2\n", "NAXIS1  = 30\n",
     "NAXIS2  = 20\n", "CTYPE1  = 'RA---TAN'\n", "CTYPE2  = 'DEC--TAN'\n",
     "CRVAL1  = 275.0\n", "CRVAL2  = -16.0\n", "CRPIX1  = 15.5\n",
     "CRPIX2  = NaN\n", "CDELT1  = -0.001\n", "CDELT2  = 0.001\n", "END\n",
     "CD1_1   = 1e-3\n", "= ", "'", "\n", "HISTORY x\n", "NAXIS   = -1\n"]
)
COMMAND_PIECES = st.sampled_from(
    ["-gray", "-color", "-ct", "-imginfo", "-red", "-green", "-blue", "-out",
     "-grid", "-mark", "-symbol", "m.fits", "i.tbl", "o.png", "min", "max",
     "gaussian-log", "linear", "log", "asinh", "5%", "-2s", "1e9", "yellow",
     "'", '"', "\\", " ", "0", "-1"]
)


def _text(pieces):
    return st.one_of(
        st.text(max_size=300),
        st.lists(st.one_of(pieces, st.text(max_size=5)), max_size=40).map("".join),
        st.binary(max_size=300).map(lambda b: b.decode("utf-8", errors="replace")),
    )


def _parses_or_input_error(parse, value):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # astropy's VerifyWarning is not a failure
        try:
            parse(value)
        except DiffviewError:
            pass


@FUZZ
@given(_text(TABLE_PIECES))
def test_parse_table_gives_a_table_or_input_error(text):
    _parses_or_input_error(lambda t: parse_table(t, "fuzz.tbl"), text)


@FUZZ
@given(_text(TEMPLATE_PIECES))
def test_parse_template_gives_a_header_or_input_error(text):
    _parses_or_input_error(lambda t: parse_template(t, "fuzz.hdr"), text)


@FUZZ
@given(st.one_of(
    _text(COMMAND_PIECES),
    st.lists(st.one_of(COMMAND_PIECES, st.text(max_size=8)), max_size=20),
))
def test_parse_command_gives_a_command_or_input_error(cmd):
    _parses_or_input_error(parse_command, cmd)


@pytest.mark.parametrize("text", ["|cntr|\n  1x\n", "|a|\n|int|\n x \n", "|a|a|\n"])
def test_known_bad_tables_raise_input_error(text):
    with pytest.raises(DiffviewError):
        parse_table(text)
