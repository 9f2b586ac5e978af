"""
CLI subcommands ``fitexec``, ``difffitexec``, ``bgmodel`` and ``bgexec``.

They take the flags of Montage's mFitExec, mDiffFitExec, mBgModel and mBgExec
and print Montage's status line. The library is imported when a command runs,
not when the parser is built.
"""

from __future__ import annotations

import argparse

from diffview.errors import InputError

__all__ = ["register_fit"]

#: `diffview.core.SOLVER_MODES`' names, spelled out so that building the
#: parser imports no numerics (tests/cli/test_cli.py checks they agree).
_SOLVER_MODE_NAMES = ["all", "flip", "level", "toggle"]


def _status(args, text: str) -> None:
    """Print Montage's status line, or write it to ``-s statusfile``."""
    line = f'[struct stat="OK", {text}]'
    if getattr(args, "statusfile", None):
        with open(args.statusfile, "w") as fh:
            fh.write(line + "\n")
    else:
        print(line)


def _failures(args, failures) -> None:
    if args.debug:
        for item in failures:
            print(item[-1])


def _fitexec_cmd(args) -> int:
    from diffview.run import fit_planes

    r = fit_planes(
        args.diffs_tbl,
        args.fits_tbl,
        args.diffdir,
        level_only=args.level_only,
        workers=args.workers,
        quiet=args.quiet,
    )
    _failures(args, r.failures)
    _status(
        args,
        f"count={r.count}, failed={r.fit_failed}, warning=0, "
        f"missing={r.missing}, time={r.seconds:.2f}",
    )
    return 0


def _difffitexec_cmd(args) -> int:
    from diffview.run import differences_and_fits

    r = differences_and_fits(
        args.projdir,
        args.diffs_tbl,
        args.template,
        args.diffdir,
        args.fits_tbl,
        keep_all=args.keep_all,
        level_only=args.level_only,
        no_areas=args.no_areas,
        full_edges=args.full_edges,
        workers=args.workers,
        quiet=args.quiet,
    )
    _failures(args, r.failures)
    _status(
        args,
        f"count={r.count}, diff_failed={r.diff_failed}, "
        f"fit_failed={r.fit_failed}, warning=0, time={r.seconds:.2f}",
    )
    return 0


def _pair(text: str) -> tuple[int, int]:
    try:
        a, b = text.split(",")
        return int(a), int(b)
    except ValueError:
        raise InputError(
            f"--exclude-pair wants two image ids like 3,7, not {text!r}"
        ) from None


def _bgmodel_cmd(args) -> int:
    if args.gapdir:
        raise InputError("-g gapdir (HiPS gaps) is not supported by diffview")
    from diffview import io
    from diffview.core import SOLVER_MODES, image_geometry, solve_direct, solve_montage

    mode = (1 if args.level else 2 if args.flip else 3 if args.toggle
            else SOLVER_MODES[args.mode])
    images = io.read_plain_table(args.images_tbl)
    geo = image_geometry(
        images,
        locked=args.lock,
        name=args.images_tbl,
        need_geometry=mode != 1 or args.direct,
    )
    fits = io.read_fits_table(args.fits_tbl)
    pairs = [_pair(p) for p in args.exclude_pair]
    strengths = ()
    if args.direct:
        solution = solve_direct(
            geo,
            fits,
            level_only=mode == 1,
            robust=args.robust,
            regularize="auto" if args.prior else None,
            useall=args.useall,
            exclude_pairs=pairs,
            exclude_images=args.exclude_image,
            full_output=True,
        )
        corrs, strengths = solution.corrections, solution.strengths
    else:
        corrs = solve_montage(
            geo,
            fits,
            mode=mode,
            useall=args.useall,
            niteration=args.niter,
            exclude_pairs=pairs,
            exclude_images=args.exclude_image,
        )
    io.write_corrections_table(corrs, args.corrections_tbl, strengths)
    nnan = sum(v != v for c in corrs for v in (c.a, c.b, c.c))
    _status(args, f"nnan={nnan}")
    return 0


def _bgexec_cmd(args) -> int:
    from diffview.run import apply_corrections

    r = apply_corrections(
        args.projdir,
        args.images_tbl,
        args.corrections_tbl,
        args.corrdir,
        no_areas=args.no_areas,
        workers=args.workers,
        quiet=args.quiet,
    )
    _failures(args, r.failures)
    _status(args, f"count={r.count}, nocorrection={r.nocorrection}, failed={r.failed}")
    return 0


def _common(p, *, parallel: bool = True) -> None:
    p.add_argument("-d", dest="debug", action="store_true", help="print every failure")
    p.add_argument(
        "-s", dest="statusfile", default=None, help="write the status line to this file"
    )
    if parallel:
        p.add_argument(
            "--workers",
            type=_workers_type,
            default=None,
            help="worker processes (default: all cores; at most 4 per core)",
        )
        p.add_argument("--quiet", action="store_true", help="no progress bar")


def _workers_type(text: str) -> int:
    """
    Read ``--workers``: an integer of at least 1, capped at 4 per core.

    More processes than that only cost memory and start-up time (100000
    would take minutes to start).
    """
    import os

    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if n < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {n}")
    return min(n, 4 * (os.cpu_count() or 1))


def _add_edges_option(p) -> None:
    """Add ``--full-edges`` (and diffview 0.2's ``--montage-edges``, a no-op)."""
    p.add_argument(
        "--full-edges",
        action="store_true",
        help="also difference the last template column and row, which Montage "
        "never does (default: Montage's boxes, as mDiff)",
    )
    # diffview 0.2's flag for what is the default now: accepted and ignored.
    p.add_argument("--montage-edges", action="store_true", help=argparse.SUPPRESS)


def _register_fits(sub) -> None:
    p = sub.add_parser(
        "fitexec", help="fit a plane to every stored difference (mFitExec)"
    )
    p.add_argument("-l", dest="level_only", action="store_true", help="fit levels only")
    p.add_argument("diffs_tbl")
    p.add_argument("fits_tbl")
    p.add_argument("diffdir")
    _common(p)
    p.set_defaults(func=_fitexec_cmd)

    p = sub.add_parser(
        "difffitexec", help="difference and fit every pair in one pass (mDiffFitExec)"
    )
    p.add_argument("-p", dest="projdir", default=".", help="projected images folder")
    p.add_argument(
        "-k", dest="keep_all", action="store_true", help="keep the difference files"
    )
    p.add_argument("-l", dest="level_only", action="store_true", help="fit levels only")
    p.add_argument("-n", dest="no_areas", action="store_true", help="ignore area files")
    _add_edges_option(p)
    p.add_argument("diffs_tbl")
    p.add_argument("template")
    p.add_argument("diffdir")
    p.add_argument("fits_tbl")
    _common(p)
    p.set_defaults(func=_difffitexec_cmd)


def _register_model(sub) -> None:
    p = sub.add_parser("bgmodel", help="solve background corrections (mBgModel)")
    p.add_argument(
        "-i", dest="niter", type=int, default=10000,
        help="iterations (default 10000, as Montage)",
    )
    modes = p.add_mutually_exclusive_group()
    modes.add_argument(
        "-l", dest="level", action="store_true", help="level only (mode 1)"
    )
    modes.add_argument(
        "-f",
        dest="flip",
        action="store_true",
        help="alternate level and slope blocks (mode 2)",
    )
    modes.add_argument(
        "-t",
        dest="toggle",
        action="store_true",
        help="level for the first half, then slope (mode 3; the default of "
        "Montage's current command, not of MontagePy or Montage 6.0)",
    )
    p.add_argument(
        "--mode",
        choices=_SOLVER_MODE_NAMES,
        default="all",
        help="any Montage mode by name (default all, mode 0: level, then level "
        "and slope, as MontagePy's mBgModel and Montage 6.0's command)",
    )
    p.add_argument(
        "-a", dest="useall", action="store_true",
        help="use every fit (no rejection; default: Montage's rejection)",
    )
    p.add_argument("-g", dest="gapdir", default="", help="not supported")
    p.add_argument(
        "--direct",
        action="store_true",
        help="one sparse least-squares solve instead of Montage's iteration "
        "(default: Montage's iteration)",
    )
    p.add_argument(
        "--robust",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="with --direct: down-weight outlying fits (Huber; default on; "
        "Montage has no such weights)",
    )
    p.add_argument(
        "--no-prior",
        dest="prior",
        action="store_false",
        help="with --direct: plain weighted least squares (the point Montage's "
        "iteration converges to) instead of the evidence-weighted prior",
    )
    p.add_argument(
        "--exclude-pair",
        action="append",
        default=[],
        metavar="ID1,ID2",
        help="leave this pair's fit out (repeatable)",
    )
    p.add_argument(
        "--exclude-image",
        action="append",
        type=int,
        default=[],
        metavar="ID",
        help="leave this image's fits out (repeatable)",
    )
    p.add_argument(
        "--lock",
        action="append",
        type=int,
        default=[],
        metavar="ID",
        help="hold this image's correction at zero (repeatable)",
    )
    p.add_argument("images_tbl")
    p.add_argument("fits_tbl")
    p.add_argument("corrections_tbl")
    _common(p, parallel=False)
    p.set_defaults(func=_bgmodel_cmd)

    p = sub.add_parser(
        "bgexec", help="subtract the corrections from every image (mBgExec)"
    )
    p.add_argument("-p", dest="projdir", default=".", help="projected images folder")
    p.add_argument("-n", dest="no_areas", action="store_true", help="no area files")
    p.add_argument("images_tbl")
    p.add_argument("corrections_tbl")
    p.add_argument("corrdir")
    _common(p)
    p.set_defaults(func=_bgexec_cmd)


def register_fit(subparsers) -> None:
    """
    Add ``fitexec``, ``difffitexec``, ``bgmodel`` and ``bgexec`` to the CLI.

    Parameters
    ----------
    subparsers : argparse._SubParsersAction
        What ``ArgumentParser.add_subparsers`` returned.

    Returns
    -------
    None

    Examples
    --------
    >>> import argparse
    >>> sub = argparse.ArgumentParser().add_subparsers()
    >>> register_fit(sub)
    >>> sorted(sub.choices)
    ['bgexec', 'bgmodel', 'difffitexec', 'fitexec']
    """
    _register_fits(subparsers)
    _register_model(subparsers)
