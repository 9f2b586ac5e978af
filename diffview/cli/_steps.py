"""
``diffview mkhdr``, ``project`` and ``add``: Montage's mosaic steps.

The commands take Montage's command-line flags and defaults (mMakeHdr,
mProjExec, mAdd): ``add`` uses area files and shrinks the mosaic to the
images unless told otherwise (``-n``, ``-e``), as Montage's mAdd command
does, where MontagePy's ``mAdd`` function defaults to no areas and no
shrinking.
"""

from __future__ import annotations

__all__ = ["register"]


def _mkhdr_cmd(args) -> int:
    from diffview import io
    from diffview.errors import InputError
    from diffview.run import bounding_header

    pad = args.edge.rstrip("%")
    try:
        pad_value = int(pad)
    except ValueError:
        raise InputError(f"Invalid pad string: {args.edge}") from None
    if pad_value < 0:
        raise InputError(f"Invalid pad string: {args.edge}")
    images = io.read_table(args.images_tbl)
    try:
        b = bounding_header(
            images,
            system=args.system,
            equinox=args.equinox,
            pixel_scale=args.pixel_scale or 0.0,
            north_aligned=args.north,
            pad=pad_value,
            percent=args.edge.endswith("%"),
            max_pixel=args.max_pixel,
        )
    except InputError as exc:
        raise InputError(f"{args.images_tbl}: {exc}") from None
    io.write_file(args.template, b.text.encode())
    i = b.info
    print(
        f"count={i['count']}, naxis1={i['naxis1']}, naxis2={i['naxis2']}, "
        f"clon={i['clon']:.6f}, clat={i['clat']:.6f}, posang={i['posang']:.6f}; "
        f"written to {args.template}"
    )
    return 0


def _write_stats(path, images, result) -> None:
    from astropy.table import Table

    from diffview import io
    from diffview.run import projected_name

    done = set(result.files)
    names = [str(f) for f in images["fname"]]
    hdus = images["hdu"] if "hdu" in images.colnames else [0] * len(images)
    status = [
        "OK" if projected_name(n, int(h)) in done else "FAILED"
        for n, h in zip(names, hdus, strict=True)
    ]
    cntr = images["cntr"] if "cntr" in images.colnames else range(len(images))
    io.write_table(Table({"cntr": list(cntr), "stat": status, "fname": names}), path)


def _project_cmd(args) -> int:
    from diffview import io
    from diffview.run import check_output_dir, project_images

    check_output_dir(args.projdir)
    images = io.read_table(args.images_tbl)
    result = project_images(
        images,
        args.rawdir,
        io.read_template(args.template),
        args.projdir,
        method="nearest" if args.quick else "exact",
        restart=args.restart,
        workers=args.workers,
        quiet=args.quiet,
    )
    if args.stats:
        _write_stats(args.stats, images[args.restart :], result)
    for msg in result.failed if args.debug else ():
        print(msg)
    failed = len(result.failed) - result.nooverlap
    print(
        f"count={result.count + len(result.failed)}, failed={failed}, "
        f"nooverlap={result.nooverlap}"
    )
    return 0


def _add_cmd(args) -> int:
    import time

    from diffview.run import add_images, mosaic_names

    start = time.time()
    add_images(
        args.images_tbl,
        args.imgdir,
        args.template,
        args.out,
        mode=args.mode,
        have_areas=not args.no_areas,
        shrink=not args.exact_size,
    )
    data, area = mosaic_names(args.out)
    print(f"time={time.time() - start:.1f}s; written to {data} and {area}")
    return 0


def _register_mkhdr(sub) -> None:
    p = sub.add_parser("mkhdr", help="header template bounding every image (mMakeHdr)")
    p.add_argument(
        "-n", dest="north", action="store_true", help="north-up box (mMakeHdr -n)"
    )
    p.add_argument(
        "-e",
        dest="edge",
        default="0",
        help="pixels added on each side; '10%%' for a percentage",
    )
    scale = p.add_mutually_exclusive_group()
    scale.add_argument(
        "-p", dest="pixel_scale", type=float, help="pixel size in degrees"
    )
    scale.add_argument(
        "-P", dest="max_pixel", type=int, default=0, help="longest side in pixels"
    )
    p.add_argument("images_tbl")
    p.add_argument("template")
    p.add_argument("system", nargs="?", default="EQUJ", help="EQUJ (default), GAL, ...")
    p.add_argument("equinox", nargs="?", type=float, default=2000.0)
    p.set_defaults(func=_mkhdr_cmd)


def _register_project(sub, add_common) -> None:
    p = sub.add_parser("project", help="reproject every image of a table (mProjExec)")
    p.add_argument("-p", dest="rawdir", default=".", help="raw images folder")
    p.add_argument(
        "-q",
        dest="quick",
        action="store_true",
        help="nearest-neighbour interpolation (mProjectQL) instead of exact",
    )
    p.add_argument(
        "-e", dest="exact", action="store_true", help="exact overlap (the default)"
    )
    p.add_argument("-r", dest="restart", type=int, default=0, help="first row")
    p.add_argument(
        "-d", dest="debug", action="store_true", help="print every failed image"
    )
    p.add_argument("images_tbl")
    p.add_argument("template")
    p.add_argument("projdir")
    p.add_argument("stats", nargs="?", help="table of each image's status")
    add_common(p)
    p.set_defaults(func=_project_cmd)


def _register_add(sub) -> None:
    p = sub.add_parser("add", help="coadd projected images into a mosaic (mAdd)")
    p.add_argument("-p", dest="imgdir", default=".", help="projected images folder")
    p.add_argument(
        "-n", dest="no_areas", action="store_true", help="no area files (weight 1)"
    )
    p.add_argument(
        "-a",
        dest="mode",
        default="mean",
        choices=["mean", "median", "count"],
        help="stacking (default mean, area-weighted)",
    )
    p.add_argument(
        "-e",
        dest="exact_size",
        action="store_true",
        help="keep the template's size (default: shrink to the images)",
    )
    p.add_argument("images_tbl")
    p.add_argument("template")
    p.add_argument("out")
    p.set_defaults(func=_add_cmd)


def register(subparsers) -> None:
    """
    Add the ``mkhdr``, ``project`` and ``add`` subcommands.

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
    >>> register(parser.add_subparsers())
    >>> a = parser.parse_args(["add", "-p", "proj", "p.tbl", "t.hdr", "m.fits"])
    >>> a.mode, a.no_areas, a.exact_size
    ('mean', False, False)
    >>> parser.parse_args(["mkhdr", "-e", "5%", "r.tbl", "t.hdr", "GAL"]).system
    'GAL'
    """
    from .main import _add_common

    _register_mkhdr(subparsers)
    _register_project(subparsers, _add_common)
    _register_add(subparsers)
