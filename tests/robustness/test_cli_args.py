"""
Hostile command lines: mViewer command strings and every CLI command's numbers.

What MontagePy's mViewer accepts, diffview accepts with the same numbers and
pixels (its word splitting, signed ranges, ``+1``/``+max``, ``0x10``,
``-saturate`` of any text); what crashes or hangs MontagePy 2.3.0 (``nan``
ranges, 10^11 log passes) gives diffview a one-line error or the picture in
bounded time. Absurd CLI numbers (``bgmodel -i 1e11``, ``--workers 0``) give
one line and a non-zero status, never a traceback, a hang or a huge
allocation.

MontagePy's mViewer aborts the process on an error that follows a success
and crashes on some inputs, so each of its calls runs in a forked child of
one helper process (``tests/montagepy_forked.py``).
"""

import time

import numpy as np
import pytest
from astropy.io import fits
from montagepy_forked import forked_calls

from conftest import tan_header
from diffview.cli.main import main
from diffview.montage import mViewer, parse_command, parse_json

PIL = pytest.importorskip("PIL.Image")


def _montagepy_viewer(cmds_pngs):
    """MontagePy's answers (dicts; ``crashed``/``raised`` where it failed)."""
    pytest.importorskip("importlib_resources")
    from conftest import MP

    MP.mViewer  # noqa: B018 - skips cleanly without MontagePy
    keep = ("status", "msg", "grayminval", "graymaxval", "colortable")
    return forked_calls(
        [("mViewer", [c, png], {"mode": 2}) for c, png in cmds_pngs], keep
    )


def _png(path) -> np.ndarray:
    with PIL.open(path) as im:
        return np.asarray(im.convert("RGB"))


@pytest.fixture(scope="module")
def img(tmp_path_factory):
    """A noisy image with a WCS and a blank corner (for ``-saturate``)."""
    d = tmp_path_factory.mktemp("cliargs")
    rng = np.random.default_rng(14)
    data = rng.normal(100.0, 10.0, (60, 80))
    data[20:24, 30:40] += 200.0
    data[:5, :5] = np.nan
    fits.writeto(d / "m.fits", data, tan_header(80, 60, 40.5, 30.5))
    return d


# Command strings (after "-gray <file> ") that MontagePy accepts or refuses;
# diffview must decide the same, with the same range values when accepted.
ACCEPTANCE = [
    "+1 +max",
    "-1 +max",
    "min +2s",
    "+min max",
    "-max max",
    "med max",
    "med+1 max-0.5",
    "med + 1 max",
    '"med +1" max',
    "' -1' max",
    "1e0 9e-1%",
    "1 99.5%",
    "1 100%",
    "1 100.1%",
    "-1% max",
    "0.5s 2S",
    "-2s 3 s",
    "min inf",
    "min -inf",
    "min 1e999",
    "min 0x10",
    "min .5",
    "min 5.",
    "MIN MAX",
    "minimum maximum",
    "min maxx",
    "min max%",
    "min max+",
    "min max+1e",
    "min max ",
    "  min   max  ",
    "'min' \"max\"",
    "min max 'gaussian-log",
    'min max "gl',
    "min max \\",
    'min max"gl"',
    "min\tmax",
    "min max linear -saturate x",
    "min max linear -saturate 1e99",
    "min max asinh x",
    "min max asinh 2s",
    "min max asinh -1",
    "min max 1e11",
    "min max 100",
    "min max -1",
    "5 1",
    "1 1",
    "min max -linewidth nan",
    "min max -alpha inf",
    "min max -linewidth -3",
    "min max -linewidth 0",
    "min max -alpha -0.1",
    "min max -linewidth 1e11",
]
CT = ["-ct 1.5", "-ct +1", "-ct -0", "-ct 1x", "-ct 13"]


@pytest.mark.montage
def test_command_strings_accepted_as_montagepy_accepts(img):
    f = img / "m.fits"
    cmds = [f"-gray {f} {tail}" for tail in ACCEPTANCE]
    cmds += [f"{ct} -gray {f} min max" for ct in CT]
    cmds += ['"a b"', '""', 'a"b c"d', f'-gray "{f}"min max', "x"]
    mp = _montagepy_viewer([(c, str(img / "mp.png")) for c in cmds])
    for cmd, rm in zip(cmds, mp, strict=True):
        rd = mViewer(cmd, str(img / "dv.png"), mode=2)
        assert "status" in rm, (cmd, rm)
        assert rd["status"] == rm["status"], (cmd, rd, rm)
        assert isinstance(rd.get("msg", b""), bytes)
        if rm["status"] == "0":
            for k in ("grayminval", "graymaxval", "colortable"):
                assert rd[k] == pytest.approx(rm[k], rel=1e-12), (cmd, k)
        elif rm["msg"].startswith(
            (
                b"'",
                b"display",
                b"leading",
                b"Invalid 'dir",
                b"Color",
                b"Opacity",
                b"Too few",
            )
        ):
            assert rd["msg"] == rm["msg"], cmd


@pytest.mark.montage
@pytest.mark.parametrize(
    "tail",
    [
        "+1 +max",
        "-2s +max gaussian-log",
        "min max linear -saturate 300",
        "min max linear -saturate -5",
        "min max linear -saturate 12.7",
        "min max linear -saturate x",
        "min max linear -saturate inf",
        "min 0x10",
        "min max 100",
        '"-1s" "99%" "gl"',
    ],
)
def test_pixels_identical_to_montagepy(img, tail):
    cmd = f"-ct 1 -gray {img / 'm.fits'} {tail}"
    (rm,) = _montagepy_viewer([(cmd, str(img / "pm.png"))])
    rd = mViewer(cmd, str(img / "pd.png"), mode=2)
    assert rm["status"] == rd["status"] == "0", (rm, rd)
    np.testing.assert_array_equal(_png(img / "pd.png"), _png(img / "pm.png"))


def test_plus_tokens_reach_view_command(img, capsys):
    """Before: argparse took ``+1``/``+max`` for options ('unrecognized
    arguments'); after: the directives bypass argparse."""
    out = img / "plus.png"
    assert (
        main(["view", "-gray", str(img / "m.fits"), "+1", "+max", "-out", str(out)])
        == 0
    )
    assert "grayminval=1," in capsys.readouterr().out
    ref = mViewer(f"-gray {img / 'm.fits'} 1 max", str(img / "ref.png"), mode=2)
    assert ref["status"] == "0"
    np.testing.assert_array_equal(_png(out), _png(img / "ref.png"))
    assert (
        main(
            [
                "--debug",
                "view",
                "-gray",
                str(img / "m.fits"),
                "-1",
                "+2s",
                "-out",
                str(out),
            ]
        )
        == 0
    )


def test_montage_word_splitting():
    """mViewer's rules, not a shell's (checked against MontagePy above)."""
    c = parse_command("-gray 'a.fits' \"-1s\"junk max gl")
    assert (c.gray, c.vmin, c.vmax, c.mode) == (
        "'a.fits'",
        "-1s",
        "max",
        "gaussian-log",
    )
    c = parse_command('-gray "my file.fits" min "max')
    assert (c.gray, c.vmax) == ("my file.fits", "max")
    c = parse_command("-gray a\\ b.fits min gl")  # a backslash escapes nothing
    assert (c.gray, c.vmin, c.vmax) == ("a\\", "b.fits", "min")


@pytest.mark.parametrize(
    "cmd",
    [
        "-gray {f} nan max",
        "-gray {f} min nan",
        "-gray {f} min max+nan",
        "-gray {f} min max asinh nan",
        "-gray {f} NaN% max",
    ],
)
def test_nan_ranges_one_line_error(img, cmd, capsys):
    """Before: ValueError traceback (MontagePy 2.3.0 segfaults); after: one line."""
    f = img / "m.fits"
    r = mViewer(cmd.format(f=f), str(img / "n.png"), mode=2)
    assert r["status"] == "1" and b"NaN" in r["msg"]
    assert main(["view", *cmd.format(f=f).split(), "-out", str(img / "n.png")]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("diffview: error:")
    assert "nan" in err[0].lower()


def test_huge_log_pass_count_ends_with_the_limit_picture(img):
    """Before: 10^11 passes ran for hours (MontagePy too); after: the passes
    stop once every level is 0 or 255, the picture of any larger count."""
    f = img / "m.fits"
    t0 = time.monotonic()
    r = mViewer(f"-gray {f} min max 99999999999", str(img / "h.png"), mode=2)
    assert r["status"] == "0" and time.monotonic() - t0 < 30
    data = fits.getdata(f)
    t = (np.clip(data, r["grayminval"], r["graymaxval"]) - r["grayminval"]) / (
        r["graymaxval"] - r["grayminval"]
    )
    for _ in range(1200):  # more than enough for every double to reach >= 1
        t = np.log(9.0 * t + 1.0)
    grey = np.where(np.isfinite(data), np.clip(t * 255.0, 0, 255) + 0.5, 0).astype(int)
    got = _png(img / "h.png")[:, :, 0]
    got = got[::-1] if r["flipY"] else got
    got = got[:, ::-1] if r["flipX"] else got
    np.testing.assert_array_equal(got, grey)


@pytest.mark.parametrize(
    "value, grey",
    [("300", 255), ("-5", 0), ("12.7", 12), ("x", 0), ("inf", 255), ("nan", 0)],
)
def test_saturate_is_montage_atof_clamped(value, grey):
    """Before: OverflowError/ValueError tracebacks or an error for text;
    after: MontagePy's grey level (pixels compared above)."""
    assert parse_command(f"-saturate {value} -gray a.fits min max").saturate == grey


@pytest.mark.parametrize(
    "text",
    [
        "[]",
        '"x"',
        '{"gray_file": "a.fits"}',
        '{"gray_file": {"fits_file": ["a"]}}',
        '{"gray_file": {"fits_file": "a", "color_table": "x"}}',
        '{"gray_file": {"fits_file": "a", "color_table": 1.5}}',
        '{"gray_file": {"fits_file": "a", "color_table": NaN}}',
        '{"gray_file": {"fits_file": "a", "stretch_min": null}}',
        '{"gray_file": {"fits_file": "a", "stretch_min": {}}}',
        '{"gray_file": {"fits_file": "a"}, "line_width": "wide"}',
        '{"gray_file": {"fits_file": "a"}, "overlays": {"type": "imginfo"}}',
        '{"gray_file": {"fits_file": "a"}, "overlays": [3]}',
        '{"gray_file": {"fits_file": "a"}, '
        '"overlays": [{"type": "imginfo", "alpha": 9}]}',
        '{"gray_file": {"fits_file": "a"}, "noflip": "maybe"}',
        '{"gray_file": {"fits_file": "a"}',
        "[" * 100000,
        b'{"\xff": 1}',
    ],
)
def test_json_wrong_types_status_1(tmp_path, text):
    """Before: AttributeError/ValueError/TypeError tracebacks; after: a
    status-1 dict naming the key, and an InputError from parse_json."""
    r = mViewer(text, str(tmp_path / "j.png"), mode=1)
    assert r["status"] == "1" and isinstance(r["msg"], bytes) and r["msg"]
    from diffview.errors import InputError

    with pytest.raises(InputError):
        parse_json(text)


def test_json_numbers_and_strings_accepted():
    c = parse_json(
        '{"gray_file": {"fits_file": "a", "color_table": "2", '
        '"stretch_min": -1, "stretch_max": 99.5}, "noflip": 1}'
    )
    assert (c.ct, c.vmin, c.vmax, c.noflip) == (2, "-1", "99.5", True)


def _one_line_error(capsys):
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("diffview"), err
    return err[0]


def test_bgmodel_absurd_iterations(small_sample, tmp_path, capsys):
    """Before: ``-i 100000000000`` allocated 745 GiB ("unexpected
    MemoryError"); after: one line naming the limit. ``-i 1e11`` is not an
    integer: argparse's status 2."""
    s = small_sample
    args = [
        str(s.root / "images.tbl"),
        str(tmp_path / "f.tbl"),
        str(tmp_path / "c.tbl"),
    ]
    assert main(["fitexec", str(s.diffs_tbl), args[1], str(s.diff_dir), "--quiet"]) == 0
    capsys.readouterr()
    assert main(["bgmodel", "-i", "100000000000", *args]) == 1
    assert "at most 10000000" in _one_line_error(capsys)
    with pytest.raises(SystemExit) as exc:
        main(["bgmodel", "-i", "1e11", *args])
    assert exc.value.code == 2
    assert main(["bgmodel", "-i", "-5", *args]) == 0  # Montage: no iteration
    from diffview.io import read_table

    assert np.all(read_table(tmp_path / "c.tbl")["a"] == 0.0)


@pytest.mark.parametrize("value", ["0", "-3", "x", "1e3"])
def test_workers_must_be_a_positive_integer(value, tmp_path, capsys):
    """Before: 0 and -3 silently meant one worker; after: argparse's error."""
    with pytest.raises(SystemExit) as exc:
        main(["fitexec", "--workers", value, "d.tbl", "f.tbl", str(tmp_path)])
    assert exc.value.code == 2
    assert "--workers" in capsys.readouterr().err


def test_workers_capped(monkeypatch):
    """Before: --workers 100000 took 25 s to start on 9 pairs; after: capped."""
    import os

    from diffview.cli.main import build_parser

    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    args = build_parser().parse_args(["fitexec", "--workers", "100000", "d", "f", "x"])
    assert args.workers == 8


@pytest.mark.parametrize(
    "argv",
    [
        ["view", "-gray"],
        ["view", "-ct", "99", "-gray", "x", "min", "max"],
        ["view", "-gray", "nothere.fits", "min", "max"],
        ["view", "-bogus"],
        ["view", "-alpha", "2", "-gray", "x", "min", "max"],
        ["bgmodel", "--exclude-pair", "1,2,3", "i", "f", "c"],
        ["overlaps", "/nonexistent/i.tbl", "d.tbl"],
    ],
)
def test_bad_arguments_one_line(argv, capsys):
    assert main(argv) == 1
    _one_line_error(capsys)


@pytest.mark.montage
@pytest.mark.parametrize("width", ["1e11", "nan", "1e300"])
def test_absurd_line_width_draws_nothing_as_montagepy(small_sample, tmp_path, width):
    """Before: MemoryError (745 GiB) or ValueError tracebacks; after:
    MontagePy's picture, which has no outlines at such widths."""
    s = small_sample
    cmd = f"-color red -linewidth {width} -imginfo {s.root / 'images.tbl'} "
    cmd += f"-gray {s.mosaic} min max"
    (rm,) = _montagepy_viewer([(cmd, str(tmp_path / "m.png"))])
    rd = mViewer(cmd, str(tmp_path / "d.png"), mode=2)
    assert rm["status"] == rd["status"] == "0"
    plain = mViewer(f"-gray {s.mosaic} min max", str(tmp_path / "p.png"), mode=2)
    assert plain["status"] == "0"
    np.testing.assert_array_equal(_png(tmp_path / "d.png"), _png(tmp_path / "m.png"))
    np.testing.assert_array_equal(_png(tmp_path / "d.png"), _png(tmp_path / "p.png"))


def test_huge_line_width_one_line_error(small_sample, tmp_path, capsys):
    """Before: MemoryError (261 GiB for width 1000); after: a one-line error
    (MontagePy draws it, slowly; diffview bounds the drawing's memory)."""
    s = small_sample
    argv = [
        "view",
        "-linewidth",
        "1000",
        "-imginfo",
        str(s.root / "images.tbl"),
        "-gray",
        str(s.mosaic),
        "min",
        "max",
        "-out",
        str(tmp_path / "w.png"),
    ]
    assert main(argv) == 1
    assert "line width 1000 is too large" in _one_line_error(capsys)
