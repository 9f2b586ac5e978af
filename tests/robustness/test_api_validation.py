"""The Python API checks its arguments at the edge, once.

Each wrong argument raises `diffview.InputError` (a `ValueError`) whose
message names the argument and what is expected. The comment on each case
says what happened before: an IndexError, TypeError or numba error from deep
inside, or (``cntr`` -1) a silently wrong answer.
"""

from __future__ import annotations

import numpy as np
import pytest
from astropy.io import fits
from astropy.wcs import WCS

import diffview
from diffview.core import image_geometry
from diffview.errors import InputError
from diffview.models import Correction, Overlap, PlaneFit


def _wcs(crpix1):
    w = WCS(naxis=2)
    w.wcs.ctype = ["RA---TAN", "DEC--TAN"]
    w.wcs.cdelt = [-1e-3, 1e-3]
    w.wcs.crpix = [crpix1, 1]
    return w


W1, W2 = _wcs(1), _wcs(-2)
GOOD1 = (np.full((4, 5), 3.0), W1)
GOOD2 = (np.ones((4, 5)), W2)
TEXT = np.array([["a"] * 5] * 4)
FIT = PlaneFit(
    0,
    1,
    0.0,
    0.0,
    2.0,
    1.0,
    1.0,
    0,
    9,
    0,
    7,
    4.5,
    3.5,
    80,
    0.1,
    4.5,
    3.5,
    9.0,
    7.0,
    0.0,
)


def _ov(a, b):
    return Overlap(a, b, f"image{a}", f"image{b}", "d")


CASES = {
    # difference: arrays and WCS
    "difference None": (
        lambda: diffview.difference(None, GOOD2),
        "cannot use a NoneType",
    ),
    # before: IndexError: tuple index out of range
    "difference 1-D": (
        lambda: diffview.difference((np.ones(5), W1), GOOD2),
        "plus data: expected a 2-D array (rows, columns), got an array "
        "of float64 with shape (5,)",
    ),
    # before: numba TypeError "No matching definition for argument type(s)"
    "difference 3-D": (
        lambda: diffview.difference((np.ones((2, 4, 5)), W1), GOOD2),
        "plus data: expected a 2-D array",
    ),
    # before: ValueError: could not convert string to float: 'a'
    "difference object": (
        lambda: diffview.difference((TEXT.astype(object), W1), GOOD2),
        "plus data: expected numbers, got an array of object",
    ),
    "difference str": (
        lambda: diffview.difference(GOOD1, (TEXT, W2)),
        "minus data: expected numbers, got an array of <U1",
    ),
    "difference complex": (
        lambda: diffview.difference((np.ones((4, 5)) * 1j, W1), GOOD2),
        "expected numbers, got an array of complex128",
    ),
    "difference ragged": (
        lambda: diffview.difference(([[1, 2], [3]], W1), GOOD2),
        "plus data: not a rectangular array of numbers",
    ),
    "difference WCS None": (
        lambda: diffview.difference((np.ones((4, 5)), None), GOOD2),
        "expected a WCS or a FITS Header, got NoneType",
    ),
    "difference area shape": (
        lambda: diffview.difference((np.ones((4, 5)), np.ones((3, 5)), W1), GOOD2),
        "plus: area shape (3, 5) does not match data shape (4, 5)",
    ),
    "difference empty HDU": (
        lambda: diffview.difference(fits.PrimaryHDU(), GOOD2),
        "plus (HDU data): expected a 2-D array of numbers, got None",
    ),
    # before: TypeError: 'int' object is not subscriptable
    "difference template": (
        lambda: diffview.difference(GOOD1, GOOD2, template=(5, 5)),
        "template: expected ((rows, columns), (crpix1, crpix2))",
    ),
    "difference template crpix": (
        lambda: diffview.difference(GOOD1, GOOD2, template=((4, 8), None)),
        "template crpix: expected two finite numbers",
    ),
    "difference template size": (
        lambda: diffview.difference(GOOD1, GOOD2, template=((-4, 8), (1.0, 1.0))),
        "template: expected ((rows, columns), (crpix1, crpix2))",
    ),
    # differences: pair indices and lists
    # before: cntr -1 silently differenced the LAST image
    "differences cntr -1": (
        lambda: diffview.differences([GOOD1, GOOD2], [_ov(-1, 1)]),
        "cntr1 -1 is outside 0..1 (-1 is not the last one)",
    ),
    # before: IndexError: list index out of range
    "differences cntr past": (
        lambda: diffview.differences([GOOD1, GOOD2], [_ov(0, 5)]),
        "cntr2 5 is outside 0..1",
    ),
    # before: TypeError: list indices must be integers or slices, not float
    "differences cntr float": (
        lambda: diffview.differences([GOOD1, GOOD2], [Overlap(0, 1.5, "a", "b", "d")]),
        "cntr2 1.5 is not an integer",
    ),
    "differences cntr bool": (
        lambda: diffview.differences([GOOD1, GOOD2], [Overlap(True, 1, "a", "b", "d")]),
        "cntr1 True is not an integer",
    ),
    # before: AttributeError: 'tuple' object has no attribute 'cntr1'
    "differences tuples": (
        lambda: diffview.differences([GOOD1, GOOD2], [(0, 1)]),
        "overlaps: item 0 is a tuple, expected Overlap",
    ),
    "differences overlaps int": (
        lambda: diffview.differences([GOOD1, GOOD2], 5),
        "overlaps: expected a list of Overlap, got an int",
    ),
    # before: TypeError: 'NoneType' object is not iterable
    "differences None": (
        lambda: diffview.differences(None),
        "images: expected a list of images, got NoneType",
    ),
    "differences bad image": (
        lambda: diffview.differences([GOOD1, (np.ones(5), W2)]),
        "image1 data: expected a 2-D array",
    ),
    # fit_plane
    # before: TypeError: cannot unpack non-iterable NoneType object
    "fit_plane None": (
        lambda: diffview.fit_plane(None),
        "difference: expected a Difference or (array, (crpix1, crpix2))",
    ),
    # before: ValueError: too many values to unpack (expected 2)
    "fit_plane bare array": (
        lambda: diffview.fit_plane(np.ones((4, 5))),
        "got a ndarray",
    ),
    "fit_plane 1-D": (
        lambda: diffview.fit_plane((np.ones(5), (1.0, 1.0))),
        "difference: expected a 2-D array",
    ),
    "fit_plane text": (
        lambda: diffview.fit_plane((TEXT, (1.0, 1.0))),
        "difference: expected numbers",
    ),
    "fit_plane crpix None": (
        lambda: diffview.fit_plane((np.ones((4, 5)), None)),
        "crpix: expected two finite numbers (CRPIX1, CRPIX2), got None",
    ),
    # before: accepted, the third value silently dropped
    "fit_plane crpix 3": (
        lambda: diffview.fit_plane((np.ones((4, 5)), (1, 2, 3))),
        "crpix: expected two finite numbers",
    ),
    "fit_plane crpix nan": (
        lambda: diffview.fit_plane((np.ones((4, 5)), (np.nan, 1))),
        "crpix: expected two finite numbers",
    ),
    # file loops given lists of the wrong things
    # before: AttributeError: 'numpy.ndarray' object has no attribute 'diff'
    "fit_planes arrays": (
        lambda: diffview.fit_planes([np.ones((4, 5))], None, "."),
        "overlap table: item 0 is a ndarray, expected Overlap",
    ),
    "fit_planes None": (
        lambda: diffview.fit_planes(None, None, "."),
        "overlap table: expected a diffs.tbl file name or a list",
    ),
    # before: TypeError: expected str, bytes or os.PathLike object, not NoneType
    "apply_corrections None": (
        lambda: diffview.apply_corrections(None, None, None, None),
        "output folder: expected a folder name, got None",
    ),
    # find_overlaps
    # before: AttributeError: 'NoneType' object has no attribute 'colnames'
    "find_overlaps None": (
        lambda: diffview.find_overlaps(None),
        "images: expected an image table",
    ),
    "find_overlaps path": (lambda: diffview.find_overlaps("images.tbl"), "got str"),
    # before: AttributeError: 'numpy.ndarray' object has no attribute 'center_vector'
    "find_overlaps arrays": (
        lambda: diffview.find_overlaps([np.ones((4, 5))]),
        "images: item 0 is a ndarray, expected Footprint",
    ),
    "find_overlaps mode": (
        lambda: diffview.find_overlaps([], mode="bogus"),
        "mode must be 'quick' or 'exact', not 'bogus'",
    ),
    # solvers
    # before: AttributeError: 'int' object has no attribute 'plus'
    "solve_direct ints": (
        lambda: diffview.solve_direct(None, [1, 2]),
        "fits: item 0 is an int, expected PlaneFit",
    ),
    "solve_direct geometry": (
        lambda: diffview.solve_direct("images.tbl", [FIT]),
        "images: expected an ImageGeometry",
    ),
    # before: accepted None, then failed deep with AttributeError on a real fit
    "solve_montage None": (
        lambda: diffview.solve_montage(None, [FIT]),
        "images: expected an ImageGeometry",
    ),
    "solve_montage exclude": (
        lambda: diffview.solve_montage(_geometry(), [FIT], exclude_pairs=[1]),
        "exclude_pairs must hold (plus, minus) pairs",
    ),
}


def _geometry():
    from astropy.table import Table

    t = Table(
        {
            "cntr": [0, 1],
            "ns": [10, 10],
            "nl": [8, 8],
            "crpix1": [1.0, 1.0],
            "crpix2": [1.0, 1.0],
        }
    )
    return image_geometry(t)


@pytest.mark.parametrize("case", sorted(CASES))
def test_wrong_argument_is_an_input_error_naming_it(case):
    call, message = CASES[case]
    with pytest.raises(InputError) as info:
        call()
    assert message in str(info.value)
    assert isinstance(info.value, ValueError)


def test_apply_corrections_refuses_wrong_correction_items(tmp_path):
    with pytest.raises(InputError, match="corrections: item 0 is a tuple"):
        diffview.apply_corrections(
            tmp_path, tmp_path / "images.tbl", [(0, 0, 0, 1)], tmp_path
        )


def test_good_arguments_still_work():
    d = diffview.difference(GOOD1, GOOD2)
    assert d.shape == (3, 2) and float(d.array.mean()) == 2.0
    ok, bad = diffview.differences([GOOD1, GOOD2], [_ov(0, np.int64(1))])
    assert list(ok) == [(0, 1)] and bad == {}
    assert diffview.differences([]) == ({}, {})
    # lists (not only tuples), ints and float32 are accepted as before
    f = diffview.fit_plane(
        [np.arange(20, dtype=np.int16).reshape(4, 5), [np.float32(1), 1]]
    )
    assert round(f.a, 12) == 1.0 and round(f.b, 12) == 5.0
    corr = diffview.solve_montage(_geometry(), [FIT], mode=1)
    assert [round(c.c, 3) for c in corr] == [1.0, -1.0]
    assert isinstance(Correction(0, 0.0, 0.0, 1.0), Correction)
