"""
CLI subcommand ``view``: mViewer's command grammar.

``diffview view -ct 1 -gray diff.fits -2s max gaussian-log -out diff.png``
``diffview view -color yellow -imginfo images.tbl -ct 1 -gray mosaic.fits min max
gaussian-log -out mosaic.png``

Directives are read left to right as in mViewer (``-color``, ``-linewidth``,
``-alpha``, ``-symbol``, ``-csys`` apply to the overlays after them); see
`diffview.montage.mViewer` for the implemented set and
``docs/montage-semantics.md`` §8.3-8.4 for the grammar.
"""

from __future__ import annotations

import argparse
import os
import sys

from diffview.errors import InputError

__all__ = ["register_view"]

USAGE = """\
usage: diffview view [directives] -gray FILE MIN MAX [STRETCH] -out OUT.png

mViewer's directives, processed left to right:
  -ct N                  colour table 0..12 (0 grey, 1 reverse grey, ...)
  -gray|-grey FILE MIN MAX [STRETCH [BETA]]
                         MIN/MAX: value, N%, Ns (median + N sigma), min, max,
                         med, each with optional +v/-v; STRETCH: linear, log,
                         loglog, N (log passes), gaussian, gaussian-log,
                         asinh BETA
  -color C               overlay colour (name or rrggbb) for what follows
  -linewidth W           overlay line width for what follows
  -alpha A               overlay opacity for what follows
  -imginfo TABLE         outline every image of an image table
  -red|-green|-blue FILE MIN MAX [STRETCH]
                         three-colour picture, each channel its own stretch
                         (without -green: red/blue); -t P (1..4) keeps colours
  -gray FILE -histfile H stretch read from an mHistogram file (also -red...)
  -grid eq|ga|ec         coordinate grid, labelled (sized by -fontscale F)
  -symbol SIZE [SHAPE]   SIZE: N (character heights), Ns, Nm, Nd, Np (pixels);
                         SHAPE: circle, box, triangle, diamond, pentagon,
                         hexagon, septagon, octagon, plus, el, compass, or
                         polygon|starred|skeletal [N [ROT]]
  -mark RA DEC           a symbol at RA DEC (degrees; NNp: pixels)
  -scalecol COL [REF [flux|mag|log]]
                         catalog symbol scaling for the catalogs after it
  -catalog TABLE [COL [REF [TYPE]]]
                         a symbol at each ra/dec (lon/lat) row of a table
  -label X Y TEXT        text at RA DEC (degrees; NNp: pixels), 14 points
                         times -fontscale, in the -color and -alpha in force
  -csys eq|ga|ec         frame of the marks and catalogs after it
  -saturate V            grey level of blank pixels (default 0)
  -noflip                keep FITS row/column order
  -out|-png|-jpeg FILE   output picture (default: FILE with .png)
"""


def _view_cmd(args) -> int:
    tokens = list(args.directives)
    if not tokens or tokens[0] in ("-h", "--help", "+h"):
        print(USAGE, end="")
        return 0
    from diffview.montage import parse_command, run_command

    cmd = parse_command(tokens)
    first = cmd.gray or (cmd.red.file if cmd.red else None)
    if first is None:
        raise InputError("view: no image given (use -gray FILE MIN MAX [STRETCH] "
                         "or -red/-green/-blue)")
    if cmd.out is None:
        base = os.path.basename(first)
        cmd.out = (base[:-5] if base.endswith(".fits") else base) + ".png"
    info = run_command(cmd)
    if info["message"]:
        print(f"diffview: note: {info['message']}", file=sys.stderr)
    keys = ["nx", "ny"]
    for c in (("gray",) if info["type"] == "grayscale" else ("red", "green", "blue")):
        keys += [f"{c}{k}" for k in ("minval", "minpercent", "minsigma", "maxval",
                                      "maxpercent", "maxsigma")]
    keys += (["graydatamin", "graydatamax"] if info["type"] == "grayscale"
             else ["rdatamin", "rdatamax", "gdatamin", "gdatamax", "bdatamin",
                   "bdatamax"])
    fields = ", ".join(f"{k}={info[k]:.2f}" if "percent" in k or "sigma" in k
                       else f"{k}={info[k]:g}" for k in keys)
    print(f'[struct stat="OK", module="mViewer", type="{info["type"]}", {fields}, '
          f'flipX={info["flipX"]}, flipY={info["flipY"]}, '
          f'colortable={info["colortable"]}, out="{cmd.out}"]')
    return 0


def register_view(subparsers) -> None:
    """
    Add the ``view`` subcommand.

    Its arguments are mViewer directives (they start with ``-``), so the
    subparser takes every token verbatim.

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
    >>> p = argparse.ArgumentParser()
    >>> register_view(p.add_subparsers(dest="command"))
    >>> p.parse_args(["view", "-ct", "1", "-gray", "d.fits", "-2s", "max"]).directives
    ['-ct', '1', '-gray', 'd.fits', '-2s', 'max']
    """
    p = subparsers.add_parser(
        "view", prefix_chars="+", add_help=False,
        help="render a FITS image like mViewer (stretches, colour tables, "
             "-imginfo outlines)",
        description=USAGE, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("directives", nargs="*", help="mViewer directives")
    p.set_defaults(func=_view_cmd)
