"""
``diffview.montage.*`` never raises for bad input: MontagePy's status-1 dict.

Each drop-in gets hostile arguments (a missing file, a folder where a file is
expected, a garbage table, ``None``, an int, a file descriptor's number) and
must return ``{'status': '1', 'msg': b'...'}``. MontagePy runs on the same
inputs, each call in a forked child (some of its error paths abort the
process): where it returns a dict, diffview's status is the same.

Before this suite, ``None`` or an int path raised ``TypeError`` from eight
drop-ins, ``mBackground`` raised ``ValueError`` for non-numeric planes,
``mViewer`` raised ``UnicodeDecodeError`` on a binary JSON file, and an int
path was opened as a file descriptor.
"""

import inspect
import os

import pytest
from montagepy_forked import forked_calls

import diffview.montage as dm

DROPINS = [n for n in dm.__all__ if n.startswith("m")]  # every drop-in


def _required(name):
    sig = inspect.signature(getattr(dm, name))
    return [
        p
        for p in sig.parameters.values()
        if p.default is inspect.Parameter.empty and p.kind is p.POSITIONAL_OR_KEYWORD
    ]


@pytest.fixture(scope="module")
def bad(tmp_path_factory):
    d = tmp_path_factory.mktemp("hostile")
    (d / "dir").mkdir()
    (d / "garbage.tbl").write_bytes(b"garbage\x00\xff|||\n|a|b|\n 1 2 3 \xfe\n")
    (d / "empty.tbl").write_bytes(b"")
    return {
        "missing": str(d / "nothere"),
        "dir": str(d / "dir"),
        "garbage": str(d / "garbage.tbl"),
        "empty": str(d / "empty.tbl"),
        "None": None,
        "int": 7,
        "list": ["a"],
    }


KINDS = ["missing", "dir", "garbage", "empty", "None", "int", "list"]


def _is_error_dict(r):
    return (
        isinstance(r, dict)
        and r.get("status") == "1"
        and isinstance(r.get("msg"), bytes)
        and r["msg"]
    )


@pytest.mark.parametrize("name", DROPINS)
@pytest.mark.parametrize("kind", KINDS)
def test_every_argument_hostile(name, kind, bad):
    args = [bad[kind]] * len(_required(name))
    assert _is_error_dict(getattr(dm, name)(*args)), (name, kind)


@pytest.mark.parametrize("name", DROPINS)
def test_int_path_is_not_a_file_descriptor(name):
    """An int path must not read (block on) or close an open descriptor."""
    r, w = os.pipe()
    try:
        res = getattr(dm, name)(*[r] * len(_required(name)))
        assert _is_error_dict(res)
        os.fstat(r)  # still open
    finally:
        os.close(r)
        os.close(w)


@pytest.mark.parametrize(
    "name, kwargs",
    [
        ("mBgModel", {"niteration": 10**11}),
        ("mBgModel", {"niteration": "many"}),
        ("mBackground", {"A": "x", "B": 0.0, "C": 0.0}),
        ("mBackground", {"A": float("nan"), "B": None, "C": 0.0}),
        ("mViewer", {"mode": 7}),
        ("mViewer", {"mode": 2, "cmdstr": "-gray x.fits nan max"}),
        ("mViewer", {"mode": 1, "cmdstr": '{"gray_file": 3}'}),
        ("mViewer", {"mode": 2, "cmdstr": 12}),
    ],
)
def test_hostile_keywords(name, kwargs, small_sample, tmp_path):
    base = {
        "mBgModel": {
            "input_file": str(small_sample.root / "images.tbl"),
            "fit_file": str(tmp_path / "f.tbl"),
            "corr_file": str(tmp_path / "c.tbl"),
        },
        "mBackground": {
            "input_file": str(small_sample.mosaic),
            "output_file": str(tmp_path / "o.fits"),
        },
        "mViewer": {"cmdstr": "", "outFile": str(tmp_path / "v.png")},
    }[name]
    (tmp_path / "f.tbl").write_text("|plus|minus|a|b|c|\n")
    assert _is_error_dict(getattr(dm, name)(**{**base, **kwargs}))


@pytest.mark.montage
def test_status_as_montagepy_where_it_answers(bad):
    from conftest import MP

    MP.mImgtbl  # noqa: B018 - skips cleanly without MontagePy
    calls = [
        (n, [bad[k]] * len(_required(n)), {})
        for n in DROPINS
        for k in ("missing", "dir", "garbage", "empty")
    ]
    compared = 0
    for (name, args, _), rm in zip(calls, forked_calls(calls), strict=True):
        rd = getattr(dm, name)(*args)
        assert _is_error_dict(rd), (name, args)
        if "status" in rm:
            assert rm["status"] == rd["status"], (name, args, rm, rd)
            compared += 1
    assert compared >= 30  # MontagePy answers nearly all of these with a dict
