"""``diffview imgtbl``: the image table of a folder (Montage's mImgtbl)."""

from __future__ import annotations

__all__ = ["register_imgtbl"]


def _imgtbl_cmd(args) -> int:
    from diffview.io import make_image_table, write_images_table

    result = make_image_table(
        args.directory,
        recursive=args.recursive,
        corners=args.corners,
        area_files=args.area_files,
        cubes=args.cubes,
        gzip=args.gzip,
        sort=args.sort,
    )
    write_images_table(result.table, args.images_tbl)
    for name in result.badfits:
        print(f"bad FITS: {name}")
    for name in result.badwcs:
        print(f"bad WCS: {name}")
    print(
        f"count={len(result.table)}, badfits={len(result.badfits)}, "
        f"badwcs={len(result.badwcs)}; written to {args.images_tbl}"
    )
    return 0


def register_imgtbl(subparsers) -> None:
    """
    Add the ``imgtbl`` subcommand (mImgtbl's ``-r -c -C -a -z`` flags).

    With no options it writes what Montage's ``mImgtbl dir images.tbl``
    writes: files in directory order, cube columns, no corners.

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
    >>> register_imgtbl(parser.add_subparsers())
    >>> args = parser.parse_args(["imgtbl", "-c", "projected", "images.tbl"])
    >>> args.corners, args.recursive, args.cubes, args.sort, args.directory
    (True, False, True, False, 'projected')
    """
    p = subparsers.add_parser(
        "imgtbl",
        help="image table of a folder (mImgtbl)",
        description="Write the image table of a folder as Montage's mImgtbl "
        "does: one row per image HDU, files in the order the directory lists "
        "them (as mImgtbl; --sort for name order), with the cube columns and "
        "without corners unless asked (mImgtbl's defaults).",
    )
    p.add_argument(
        "-r", dest="recursive", action="store_true", help="search sub-folders"
    )
    p.add_argument(
        "-c",
        dest="corners",
        action="store_true",
        help="add the corner columns ra1..dec4 (as mImgtbl -c)",
    )
    p.add_argument(
        "-C",
        dest="cubes",
        action="store_false",
        help="leave out the cube columns naxis..crpix4 (as mImgtbl -C)",
    )
    p.add_argument(
        "-a", dest="area_files", action="store_true", help="include *_area.fits files"
    )
    p.add_argument(
        "-z", dest="gzip", action="store_false", help="skip *.gz files (as mImgtbl -z)"
    )
    p.add_argument(
        "--sort",
        action="store_true",
        help="list files in name order (diffview's option; mImgtbl uses the "
        "directory's order, which depends on the file system)",
    )
    p.add_argument("directory")
    p.add_argument("images_tbl")
    p.set_defaults(func=_imgtbl_cmd)
