"""Template (.hdr) reading under bad input."""

import os
import threading

import pytest

from diffview import io
from diffview.errors import InputError
from diffview.io import ipac, template

CARDS = """SIMPLE  = T
BITPIX  = -64
NAXIS   = 2
NAXIS1  = 30
NAXIS2  = 20
CTYPE1  = 'RA---TAN'
CTYPE2  = 'DEC--TAN'
CRVAL1  = 275.0
CRVAL2  = -16.0
CRPIX1  = {crpix1}
CRPIX2  = 10.5
CDELT1  = -0.001
CDELT2  = 0.001
END
"""


@pytest.mark.filterwarnings("ignore::astropy.io.fits.verify.VerifyWarning")
@pytest.mark.parametrize("value", ["NaN", "nan", "inf", "'NaN'"])
def test_non_finite_crpix_is_an_input_error(tmp_path, value):
    p = tmp_path / "t.hdr"
    p.write_text(CARDS.format(crpix1=value))
    with pytest.raises(InputError, match=rf"Template {p}: CRPIX1/CRPIX2 must be"):
        io.read_template(p)


def test_finite_crpix_reads():
    assert io.parse_template(CARDS.format(crpix1="15.5"))["CRPIX1"] == 15.5


def test_template_larger_than_the_limit_fails(tmp_path, monkeypatch):
    monkeypatch.setattr(template, "_MAX_TEMPLATE_BYTES", 500)
    p = tmp_path / "t.hdr"
    p.write_text(CARDS.format(crpix1="15.5") + "COMMENT x\n" * 100)
    with pytest.raises(InputError, match="larger than 500 bytes; not a template"):
        io.read_template(p)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_template_fifo_that_never_ends(tmp_path, monkeypatch):
    monkeypatch.setattr(ipac, "_MAX_LINE_BYTES", 4096)
    fifo = tmp_path / "never.hdr"
    os.mkfifo(fifo)
    stop = threading.Event()

    def writer():
        try:
            with open(fifo, "wb") as f:
                while not stop.is_set():
                    f.write(b"\0" * 4096)
        except OSError:
            pass

    thread = threading.Thread(target=writer, daemon=True)
    thread.start()
    try:
        with pytest.raises(InputError, match="line 1 is longer than 4096 bytes"):
            io.read_template(fifo)
    finally:
        stop.set()
        thread.join(10)


# ------------------------------------------------ the grid, without astropy

GOOD = CARDS.format(crpix1="15.5")

#: templates read without astropy, each with a card of another plain kind
PLAIN = {
    "montage": GOOD,
    "comment": GOOD.replace("END", "COMMENT  made by hand, Genève\nHISTORY x\nEND"),
    "padded": GOOD.replace("CRVAL1  = 275.0", "CRVAL1  =                275.0 / deg"),
    "quotes": GOOD.replace("END", "OBJECT  = 'M17 ''Omega''  ' / name\nEND"),
    "exponent": GOOD.replace("CDELT2  = 0.001", "CDELT2  = 1.0E-3"),
    "duplicate": GOOD.replace("END", "CRPIX1  = 99.0\nEND"),
    "blank lines": GOOD.replace("NAXIS   = 2\n", "NAXIS   = 2\n\n   \n"),
}
#: templates astropy reads its own way (fixed or special cards)
ASTROPY = {
    "lower case": GOOD.replace("CRVAL1", "crval1"),
    "d exponent": GOOD.replace("CDELT2  = 0.001", "CDELT2  = 1.0D-3"),
    "early equals": GOOD.replace("CRVAL2  = -16.0", "CRVAL2= -16.0"),
    "hierarch": GOOD.replace("END", "HIERARCH LONG KEYWORD = 3\nEND"),
    "continue": GOOD.replace(
        "END", "LONGSTR = 'abc&'\nCONTINUE  'def'\nEND"),
    "complex": GOOD.replace("END", "Z       = (1.0, 2.0)\nEND"),
}


@pytest.mark.filterwarnings("ignore::astropy.io.fits.verify.VerifyWarning")
@pytest.mark.parametrize("text", {**PLAIN, **ASTROPY}.values(),
                         ids=list({**PLAIN, **ASTROPY}))
def test_the_grid_is_what_astropy_reads(tmp_path, text):
    p = tmp_path / "t.hdr"
    p.write_bytes(text.encode("utf-8"))
    header = io.read_template(p)
    grid = io.read_template_grid(p)
    assert grid.cards == [card.image for card in header.cards]
    assert grid.shape == (header["NAXIS2"], header["NAXIS1"])
    assert grid.crpix == (header["CRPIX1"], header["CRPIX2"])


@pytest.mark.parametrize("name", PLAIN)
def test_plain_templates_are_read_without_astropy(tmp_path, name):
    import subprocess
    import sys

    p = tmp_path / "t.hdr"
    p.write_bytes(PLAIN[name].encode("utf-8"))
    code = (f"from diffview import io; g = io.read_template_grid({str(p)!r}); "
            "import sys; print(g.crpix[0], 'astropy' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True,
                         text=True, check=True).stdout.split()
    assert out == ["15.5", "False"]  # a repeated CRPIX1: the first counts


@pytest.mark.filterwarnings("ignore::astropy.io.fits.verify.VerifyWarning")
@pytest.mark.parametrize("text", [
    CARDS.format(crpix1="NaN"),
    CARDS.format(crpix1="'NaN'"),
    CARDS.format(crpix1="'abc'"),
    GOOD.replace("CTYPE2  = 'DEC--TAN'", "CTYPE2  = 'DEC--SIN'"),
    GOOD.replace("CDELT1  = -0.001\n", ""),
    GOOD.replace("NAXIS1  = 30", "NAXIS1  = 0"),
    GOOD.replace("NAXIS2  = 20\n", ""),
    GOOD.replace("CRVAL1  = 275.0", "CRVAL1  = 'x" + "y" * 90 + "'"),
], ids=["nan", "nan string", "text", "projections", "no cdelt", "naxis1 0",
        "no naxis2", "long line"])
def test_the_grid_refuses_what_read_template_refuses(tmp_path, text):
    p = tmp_path / "t.hdr"
    p.write_text(text)
    with pytest.raises(InputError) as expected:
        io.read_template(p)
    with pytest.raises(InputError) as got:
        io.read_template_grid(p)
    assert str(got.value) == str(expected.value)
