"""
The ``diffview`` command line: the demo and Montage-style subcommands.

Every subcommand is a thin translation of arguments to library calls. User
errors print one line (``diffview: error: ...``) and exit with status 1
(``diffview --debug <command> ...`` shows the traceback instead);
argument errors exit with status 2, as argparse does. Ctrl-C (SIGINT) stops
a run within about a second with ``diffview: interrupted`` and status 130,
SIGTERM with ``diffview: terminated`` and status 143 (128 + 15, what a shell
reports for a process killed by SIGTERM); files already written are complete
and a rerun redoes the rest.

Building the parser imports nothing heavy: each command imports the layers it
needs when it runs, so that ``diffview --help`` starts quickly.
"""

from __future__ import annotations

import argparse
import atexit
import gc
import os
import signal
import sys
import threading

from diffview import __version__
from diffview.errors import DiffviewError, InputError

__all__ = ["main", "build_parser"]

#: `diffview.core.BLAS_PROBE` (named here so that the command line does not
#: import the numerical layer before it knows the command).
_BLAS_PROBE = "DIFFVIEW_NUMBA_BLAS"


def _overlaps_cmd(args) -> int:
    from diffview import io
    from diffview.geometry import CORNER_COLUMNS, FOOTPRINT_COLUMNS, find_overlaps

    # a table with corners: only the columns of the quick test
    path = args.images_tbl
    table = io.read_table_columns(path, FOOTPRINT_COLUMNS, optional=True)
    if args.exact or not set(CORNER_COLUMNS) <= set(table):
        table = io.read_table(path)
    try:
        overlaps = find_overlaps(table, mode="exact" if args.exact else "quick")
    except InputError as exc:
        raise InputError(f"{args.images_tbl}: {exc}") from None
    io.write_diffs_table(overlaps, args.diffs_tbl)
    print(f"{len(overlaps)} overlapping pairs written to {args.diffs_tbl}")
    return 0


def _diffexec_cmd(args) -> int:
    from diffview.run import compute_differences

    result = compute_differences(
        args.projdir,
        args.diffs_tbl,
        args.template,
        args.diffdir,
        no_areas=args.no_areas,
        full_edges=args.full_edges,
        workers=args.workers,
        quiet=args.quiet,
    )
    for _, msg in result.failures if args.debug else ():
        print(msg)
    print(f"count={result.count}, failed={result.failed}, time={result.seconds:.2f}s")
    if result.output_error and not args.debug:
        # the machine's problem (full disk, permissions), not the pairs'
        print(
            f"diffview diffexec: a pair was not written: {result.output_error} "
            "(-d lists every failed pair)",
            file=sys.stderr,
        )
    return 0


def _demo_cmd(args) -> int:
    from diffview.sample import run_demo

    return run_demo(
        args.out, preset=args.preset, workers=args.workers, quiet=args.quiet
    )


def _add_common(p) -> None:
    from ._fit import _workers_type

    p.add_argument(
        "--workers",
        type=_workers_type,
        default=None,
        help="worker processes (default: all cores; at most 4 per core)",
    )
    p.add_argument("--quiet", action="store_true", help="no progress bar")


def _register_core(sub) -> None:
    from ._fit import _add_edges_option

    p = sub.add_parser("demo", help="run the main job on built-in sample data")
    p.add_argument("--out", default="diffview-demo", help="output folder")
    p.add_argument(
        "--preset", default="m17", choices=["small", "m17", "dense", "2mass"]
    )
    _add_common(p)
    p.set_defaults(func=_demo_cmd)

    p = sub.add_parser("overlaps", help="list overlapping pairs (mOverlaps)")
    p.add_argument(
        "-e",
        dest="exact",
        action="store_true",
        help="exact border test instead of the quick one",
    )
    p.add_argument("images_tbl")
    p.add_argument("diffs_tbl")
    p.set_defaults(func=_overlaps_cmd)

    p = sub.add_parser("diffexec", help="difference every pair (mDiffExec)")
    p.add_argument("-p", dest="projdir", default=".", help="projected images folder")
    p.add_argument("-n", dest="no_areas", action="store_true", help="ignore areas")
    p.add_argument(
        "-d", dest="debug", action="store_true", help="print every failed pair"
    )
    _add_edges_option(p)
    p.add_argument("diffs_tbl")
    p.add_argument("template")
    p.add_argument("diffdir")
    _add_common(p)
    p.set_defaults(func=_diffexec_cmd)


def _registrars():
    from . import _chain, _fit, _imgtbl, _steps, _view

    return [
        _imgtbl.register_imgtbl,
        _fit.register_fit,
        _view.register_view,
        _steps.register,
        _chain.register_mosaic,
    ]


def build_parser() -> argparse.ArgumentParser:
    """
    Build the argument parser with every subcommand.

    Returns
    -------
    argparse.ArgumentParser
        The ``diffview`` parser; each subcommand sets ``func``, the function
        that runs it on the parsed arguments.

    Examples
    --------
    >>> parser = build_parser()
    >>> parser.parse_args(["overlaps", "images.tbl", "diffs.tbl"]).exact
    False
    >>> parser.parse_args(["bgmodel", "-l", "i.tbl", "f.tbl", "c.tbl"]).level
    True
    """
    parser = argparse.ArgumentParser(
        prog="diffview",
        description="Overlap differences, plane fits and background models "
        "for mosaics, compatible with Montage.",
    )
    parser.add_argument("--version", action="version", version=__version__)
    parser.add_argument(
        "--debug",
        dest="traceback",
        action="store_true",
        help="show the Python traceback of an error instead of one line",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    _register_core(sub)
    for register in _registrars():
        register(sub)
    return parser


class _Terminated(KeyboardInterrupt):
    """SIGTERM, raised where the run is so that it unwinds like Ctrl-C."""


def _on_sigterm(signum, frame):
    raise _Terminated


def _one_line(exc: BaseException) -> str:
    """Return the message of an error on one line; an OSError names its file."""
    if isinstance(exc, OSError) and exc.filename is not None:
        text = f"{exc.filename}: {exc.strerror or exc}"
    else:
        text = str(exc)
    return " ".join(text.split())


def _parse(argv) -> argparse.Namespace:
    """
    Parse the arguments; those after ``view`` are mViewer's, taken verbatim.

    mViewer's range tokens may start with ``+`` or ``-`` (``+1``, ``-2s``,
    ``+max``), which no argparse prefix can leave alone, so the ``view``
    directives bypass argparse.
    """
    argv = sys.argv[1:] if argv is None else list(argv)
    for k, a in enumerate(argv):
        if a == "view":
            args = build_parser().parse_args(argv[: k + 1])
            args.directives = argv[k + 1 :]
            return args
        if not a.startswith("-"):
            break
    return build_parser().parse_args(argv)


def _remove_temporaries() -> None:
    """After a stop: no temporary file of this process outlives it."""
    if "diffview.io.paths" in sys.modules:  # nothing was written otherwise
        from diffview.io import remove_temporaries

        remove_temporaries()


def _no_final_collection() -> None:
    """
    At the process's exit: spare the interpreter's last garbage collection.

    Registered first, this runs after every other exit handler (workers are
    joined, temporaries removed, streams flushed). Python's shutdown then
    collects cyclic garbage among every object still alive: with numba
    loaded, some 100,000 objects, 0.15-0.2 s of a command's time on this
    machine. Frozen (`gc.freeze`), they are left to the operating system;
    nothing of diffview's is written then (every output is committed
    before the command returns).
    """
    gc.freeze()


def main(argv=None) -> int:
    """
    Run the ``diffview`` command and return its exit status.

    Parameters
    ----------
    argv : list of str, optional
        The arguments after the program name (default: ``sys.argv[1:]``:
        the command then owns the process, and its compiled loops load
        without numba's BLAS probe, `diffview.core.BLAS_PROBE`).

    Returns
    -------
    int
        0 on success, 1 after an error (one line on stderr, or the
        traceback with the global ``--debug`` option), 130 when interrupted
        (SIGINT), 143 when terminated (SIGTERM). Argument errors exit with
        status 2 (`SystemExit`).

    Examples
    --------
    >>> main(["overlaps", "/nonexistent/images.tbl", "diffs.tbl"])
    1
    """
    args = _parse(argv)
    if argv is None:
        # The command owns this process: its compiled loops load without
        # numba's probe for a BLAS they never call (scipy's import, 0.15 s).
        os.environ.setdefault(_BLAS_PROBE, "0")
        atexit.register(_no_final_collection)
    main_thread = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, _on_sigterm) if main_thread else None
    try:
        return int(args.func(args) or 0)
    except (DiffviewError, OSError) as exc:
        if args.traceback:
            raise
        print(f"diffview: error: {_one_line(exc)}", file=sys.stderr)
        return 1
    except Exception as exc:  # noqa: BLE001 - a bug: one line, traceback on --debug
        if args.traceback:
            raise
        print(
            f"diffview: error: unexpected {type(exc).__name__}: {_one_line(exc)} "
            "(rerun with --debug for the traceback)",
            file=sys.stderr,
        )
        return 1
    except _Terminated:
        _remove_temporaries()
        print("diffview: terminated", file=sys.stderr)
        return 128 + signal.SIGTERM
    except KeyboardInterrupt:
        _remove_temporaries()
        print("diffview: interrupted", file=sys.stderr)
        return 130
    finally:
        if main_thread:
            signal.signal(signal.SIGTERM, previous)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
