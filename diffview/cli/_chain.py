"""``diffview mosaic``: raw images to a background-matched mosaic, resumable."""

from __future__ import annotations

__all__ = ["register_mosaic"]


def _mosaic_cmd(args) -> int:
    import functools

    from diffview.run import make_mosaic

    result = make_mosaic(
        args.rawdir,
        args.workdir,
        template=args.template,
        workers=args.workers,
        quiet=args.quiet,
        log=functools.partial(print, flush=True),
    )
    from diffview.io import read_table

    f = result.folder
    print(
        f"mosaic: {f.mosaic} from {len(read_table(f.images_tbl))} images, "
        f"{len(result.failures)} files or pairs skipped; "
        f"open it with diffview.explore({str(f.root)!r})"
    )
    return 0


def register_mosaic(subparsers) -> None:
    """
    Add the ``mosaic`` subcommand: the whole Montage chain on a raw folder.

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
    >>> parser = argparse.ArgumentParser()
    >>> register_mosaic(parser.add_subparsers())
    >>> args = parser.parse_args(["mosaic", "raw", "work"])
    >>> args.rawdir, args.workdir, args.template
    ('raw', 'work', None)
    """
    from .main import _add_common

    p = subparsers.add_parser(
        "mosaic",
        help="raw images to a background-matched mosaic (mImgtbl, mMakeHdr, "
        "mProjExec, mOverlaps, mDiffExec, mFitExec, mBgModel, mBgExec, mAdd)",
        description="Run Montage's whole chain on a folder of raw images into a "
        "work folder (rimages.tbl, template.hdr, projected/, images.tbl, "
        "diffs.tbl, diffs/, fits.tbl, corrections.tbl, corrected/, mosaic.fits). "
        "Stages and files that are up to date are kept, so a rerun resumes an "
        "interrupted run. Bad raw files are counted and skipped.",
    )
    p.add_argument(
        "--template",
        default=None,
        help="the mosaic's frame (.hdr); default: one made like mMakeHdr",
    )
    _add_common(p)
    p.add_argument("rawdir", help="folder of raw FITS images (not modified)")
    p.add_argument("workdir", help="work folder (created if missing)")
    p.set_defaults(func=_mosaic_cmd)
