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
