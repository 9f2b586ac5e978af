"""Shared fixtures: tiny templates and projected images written as Montage does.

MontagePy (Montage's own Python binding) is a test dependency used only by the
parity tests, and every test reaches it the same way:

* ``from conftest import MP`` gives a lazy stand-in for ``MontagePy.main``
  (``MP.mDiff(...)``); nothing is imported when a test module is collected;
* a test that uses MontagePy, directly or through a fixture or helper, carries
  ``@pytest.mark.montage`` (or a module-level ``pytestmark``).

Marked tests are skipped before their fixtures run when MontagePy cannot be
imported, and ``MP`` refuses to serve a test that is not marked, so
``-m "not montage"`` selects exactly the tests that run without it.
"""

from __future__ import annotations

import numpy as np
import pytest
from astropy.io import fits

# benchmarks are scripts run by hand, not tests (nor doctest modules)
collect_ignore_glob = ["benchmarks/*"]

MONTAGEPY = "MontagePy.main"
_current = {"item": None}


def _montagepy():
    """``MontagePy.main``, or skip the running test if it cannot be imported.

    Any ImportError counts (not only a missing module): an installed MontagePy
    whose compiled library fails to load is also "not available".
    """
    return pytest.importorskip(
        MONTAGEPY,
        reason="MontagePy (a test dependency) is not importable",
        exc_type=ImportError,
    )


class _LazyMontagePy:
    """``MontagePy.main`` imported on first use, only by ``montage`` tests."""

    def __getattr__(self, name):
        if not name.startswith("m"):  # pytest's collector probing, not a task
            raise AttributeError(name)
        item = _current["item"]
        if item is not None and item.get_closest_marker("montage") is None:
            pytest.fail(
                f"{item.nodeid} uses MontagePy: mark it @pytest.mark.montage",
                pytrace=False,
            )
        return getattr(_montagepy(), name)


MP = _LazyMontagePy()


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    """Skip ``montage`` tests without MontagePy before their fixtures run."""
    _current["item"] = item
    if item.get_closest_marker("montage") is not None:
        _montagepy()


def pytest_runtest_teardown(item):
    _current["item"] = None

TEMPLATE_CARDS = [
    ("CTYPE1", "RA---TAN"),
    ("CTYPE2", "DEC--TAN"),
    ("CRVAL1", 275.196),
    ("CRVAL2", -16.171),
    ("CDELT1", -0.000277778),
    ("CDELT2", 0.000277778),
    ("CROTA2", 0.0),
    ("EQUINOX", 2000.0),
]


def make_template(shape, crpix) -> fits.Header:
    """A TAN template header of ``shape`` (rows, columns) and ``crpix``."""
    hdr = fits.Header()
    hdr["SIMPLE"] = True
    hdr["BITPIX"] = -64
    hdr["NAXIS"] = 2
    hdr["NAXIS1"] = shape[1]
    hdr["NAXIS2"] = shape[0]
    for key, value in TEMPLATE_CARDS[:4]:
        hdr[key] = value
    hdr["CRPIX1"], hdr["CRPIX2"] = crpix
    for key, value in TEMPLATE_CARDS[4:]:
        hdr[key] = value
    return hdr


def write_hdr(header: fits.Header, path) -> str:
    """Write a template as a Montage ``.hdr`` text file."""
    lines = [card.image.rstrip() for card in header.cards] + ["END"]
    path.write_text("\n".join(lines) + "\n")
    return str(path)


def write_projected(folder, name, data, area, crpix, template) -> str:
    """Write ``name.fits`` + ``name_area.fits`` on ``template``'s grid."""
    hdr = template.copy()
    hdr["NAXIS1"], hdr["NAXIS2"] = data.shape[1], data.shape[0]
    hdr["CRPIX1"], hdr["CRPIX2"] = crpix
    fits.PrimaryHDU(np.asarray(data, float), hdr).writeto(folder / f"{name}.fits")
    if area is not None:
        fits.PrimaryHDU(np.asarray(area, float), hdr).writeto(
            folder / f"{name}_area.fits"
        )
    return str(folder / f"{name}.fits")


@pytest.fixture
def rng():
    return np.random.default_rng(12345)


@pytest.fixture
def tiny_field(tmp_path, rng):
    """Four projected images on a 40x60 template, with NaNs, unequal areas,
    an image reaching the last template column, and a template file."""
    tmpl = make_template((40, 60), (30.5, 20.5))
    proj = tmp_path / "proj"
    proj.mkdir()
    specs = {
        "a": (0, 0, 25, 35),
        "b": (20, 10, 30, 40),
        "c": (45, 0, 20, 15),
        "d": (55, 33, 7, 5),
    }
    for name, (ioff, joff, ny, nx) in specs.items():
        data = rng.normal(10, 1, (ny, nx))
        data[0, 0] = np.nan
        area = 1e-11 * rng.uniform(0.9, 1.1, (ny, nx))
        write_projected(proj, name, data, area, (30.5 - ioff, 20.5 - joff), tmpl)
    return {
        "root": tmp_path,
        "proj": proj,
        "template": tmpl,
        "hdr": write_hdr(tmpl, tmp_path / "template.hdr"),
        "names": list(specs),
    }


@pytest.fixture(scope="session")
def small_sample(tmp_path_factory):
    """The ``small`` built-in sample (read-only: write outputs elsewhere)."""
    from diffview.sample.datasets import write_sample

    return write_sample(tmp_path_factory.mktemp("small"), "small", workers=1)


@pytest.fixture(scope="session")
def dense_sample(tmp_path_factory):
    """The ``dense`` built-in sample, made once (read-only): a pair is small in it."""
    from diffview.sample.datasets import write_sample

    return write_sample(tmp_path_factory.mktemp("dense"), "dense")


@pytest.fixture(scope="session")
def m17_sample(tmp_path_factory):
    """The ``m17`` built-in sample, made once per session (read-only)."""
    from diffview.sample.datasets import write_sample

    return write_sample(tmp_path_factory.mktemp("m17"), "m17", workers=2)


def tan_header(
    nx,
    ny,
    crpix1,
    crpix2,
    cdelt1=-1.0 / 3600.0,
    cdelt2=1.0 / 3600.0,
    crota2=0.0,
    crval=(275.1, -16.2),
    equinox=2000.0,
) -> fits.Header:
    """A 2-D RA---TAN/DEC--TAN header in Montage's CDELT + CROTA2 form
    (``equinox=None`` leaves EQUINOX out)."""
    h = fits.Header()
    h["NAXIS"] = 2
    h["NAXIS1"], h["NAXIS2"] = nx, ny
    h["CTYPE1"], h["CTYPE2"] = "RA---TAN", "DEC--TAN"
    h["CRVAL1"], h["CRVAL2"] = crval
    h["CRPIX1"], h["CRPIX2"] = crpix1, crpix2
    h["CDELT1"], h["CDELT2"] = cdelt1, cdelt2
    h["CROTA2"] = crota2
    if equinox is not None:
        h["EQUINOX"] = equinox
    return h


def montage_imgtbl(folder, tbl, corners=True) -> dict:
    """MontagePy's mImgtbl on a folder (Python defaults, corners on or off).

    Run in a fresh interpreter: MontagePy's mImgtbl keeps counting bad files
    across calls in one process (after a folder with one bad file, a clean
    folder reports ``badfits`` 1), so its counts would depend on which tests
    ran before in the same worker.
    """
    import json
    import subprocess
    import sys

    MP.mImgtbl  # noqa: B018 - skips the test when MontagePy is missing
    code = (
        "import json, sys; from MontagePy.main import mImgtbl; "
        "r = mImgtbl(sys.argv[1], sys.argv[2], False, False, True, False, "
        "sys.argv[3] == '1', False, False, '', '', 0); "
        "print(json.dumps({k: v.decode() if isinstance(v, bytes) else v "
        "for k, v in r.items()}))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(folder), str(tbl), "1" if corners else "0"],
        capture_output=True, text=True, check=True,
    ).stdout
    res = json.loads(out.strip().splitlines()[-1])
    assert res["status"] == "0", res
    return res
