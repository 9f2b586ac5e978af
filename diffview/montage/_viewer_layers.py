"""
The overlays of an mViewer command, in mViewer's drawing order.

Grids first, then the ``-imginfo`` and ``-catalog`` layers in command order,
then the ``-mark`` symbols (``docs/montage-semantics.md`` §8.10); each is
one overlay, blended into the picture before the next is drawn. The lines are
`diffview.geometry`'s (outlines, grid lines, symbol arcs), shifted as
mViewer's drawing shifts them (`montage_shift`).
"""

from __future__ import annotations

import math
from collections import OrderedDict
from functools import partial

import numpy as np

from diffview.errors import InputError
from diffview.geometry import (
    MVIEWER_COLUMNS,
    arc_runs,
    convert_sky,
    grid_labels,
    grid_lines,
    mviewer_outlines,
    orientation,
    pixel_scale,
    sky_frame,
    symbol_arcs,
)
from diffview.io import read_table, read_table_columns
from diffview.render import (
    Label,
    Overlay,
    OverlayPlans,
    label_width,
    table_outlines,
    table_outlines_key,
)

from ._viewer_directives import Catalog, parse_symbol

__all__ = ["montage_shift", "layer_overlays", "overlay_job", "has_layers"]

_TO_DEG = {"fractional": None, "arcsec": 1.0 / 3600.0, "arcmin": 1.0 / 60.0,
           "deg": 1.0, "pixels": None}


def montage_shift(lines, flip_y: bool):
    """
    Shift lines as mViewer's drawing does.

    It draws 1-based WCS pixels with a 0-based line drawer: one column right,
    and one row up when the picture is flipped.

    Parameters
    ----------
    lines : list of ndarray
        (N, 2) displayed 0-based (x, y).
    flip_y : bool
        The picture's vertical flip.

    Returns
    -------
    list of ndarray
        The shifted lines.

    Examples
    --------
    >>> montage_shift([np.zeros((2, 2))], True)[0].tolist()
    [[1.0, -1.0], [1.0, -1.0]]
    """
    dy = -1.0 if flip_y else 0.0
    return [p + np.array([1.0, dy]) for p in lines]


def _char_height(header, shape):
    """Return mViewer's character height and pixel scale (degrees)."""
    ny, nx = shape
    c1, c2 = pixel_scale(header)
    if nx * c1 > ny * c2:
        return 0.0025 * nx * c1, c1
    return 0.0025 * ny * c2, c2


def _size_deg(size: float, units: str, char: float, pix: float) -> float:
    if units == "fractional":
        return size * char
    if units == "pixels":
        return size * pix
    return size * _TO_DEG[units]


def _symbol_lines(header, o, centres, radii, symbol, csys):
    """Arc runs of symbols of one shape at (lon, lat) centres in frame ``csys``."""
    arcs = [symbol_arcs(lon, lat, r, *symbol) for (lon, lat), r in zip(centres, radii,
                                                                          strict=True)]
    if not arcs:
        return []
    a = np.concatenate(arcs)
    img = sky_frame(header)
    l0, b0 = convert_sky(a[:, 0], a[:, 1], csys, img)
    l1, b1 = convert_sky(a[:, 2], a[:, 3], csys, img)
    return arc_runs(l0, b0, l1, b1, header, orient=o)


def _mark_lines(mark, header, o, char, pix):
    lon, lat = mark.lon, mark.lat
    if mark.inpix:
        from astropy.wcs import WCS

        nx, ny = int(header["NAXIS1"]), int(header["NAXIS2"])
        x, y = lon, lat
        while x < 0.0:
            x += nx
        while x > nx:
            x -= nx
        while y < 0.0:
            y += ny
        while y > ny:
            y -= ny
        lon, lat = (float(v) for v in WCS(header, naxis=2).all_pix2world(x, y, 1))
    r = _size_deg(mark.size, mark.units, char, pix)
    return _symbol_lines(header, o, [(lon, lat)], [r], mark.symbol, mark.csys)


def _column(t, names, table):
    lower = {c.lower(): c for c in t.colnames}
    for n in names:
        if n in t.colnames:
            return t[n]
        if n.lower() in lower:
            return t[lower[n.lower()]]
    return None


def _required_column(t, name: str, what: str, table: str):
    """Return column ``name`` of a catalog table; mViewer's error if it has none."""
    col = _column(t, [name], table)
    if col is None:
        raise InputError(f"Cannot find {what} column [{name}] in table [{table}]")
    return col


def _catalog_sizes(cat: Catalog, t, char: float, pix: float):
    """Each row's symbol radius (degrees) and whether it is drawn."""
    n = len(t)
    ok = np.ones(n, bool)
    if cat.scale_col:
        col = _required_column(t, cat.scale_col, "flux/mag", cat.table)
        ok &= ~np.ma.getmaskarray(col)
        v = np.ma.filled(np.ma.asarray(col, float), np.nan)
        with np.errstate(invalid="ignore", divide="ignore"):
            if cat.scale_type == "mag":
                flux = (cat.scale_val - v + 1.0) * cat.size
            elif cat.scale_type == "log":
                flux = np.log10(10.0 * v / cat.scale_val) * cat.size
            else:
                flux = v / cat.scale_val * cat.size
    else:
        flux = np.full(n, cat.size)
    flux = np.array([_size_deg(f, cat.units, char, pix) for f in flux])
    with np.errstate(invalid="ignore"):
        flux = np.where(flux < 0.1 * char, 0.1 * char, flux)
    return flux, ok & (_row_sizes(cat, t) > 0)


def _row_sizes(cat: Catalog, t):
    """
    Return each row's symbol size as mViewer reads ``-sizecol``.

    It only decides whether the symbol is drawn (its radius stays the
    catalog's). A value is a number with an optional unit letter (s, m, d, p); one that
    does not read as a positive number takes the catalog's size.
    """
    n = len(t)
    if not cat.size_col:
        return np.full(n, cat.size)
    col = _required_column(t, cat.size_col, "symbol size", cat.table)
    blank = np.ma.getmaskarray(col)
    out = np.full(n, cat.size)
    for k in np.flatnonzero(~blank):
        text = str(col[k]).strip()
        text = text[:-1] if text[-1:] in ("s", "m", "d", "p") else text
        try:
            v = float(text) if "_" not in text else 0.0   # C's strtod, not Python's
        except ValueError:
            continue
        if v > 0:
            out[k] = v
    return out


def _catalog_lines(cat: Catalog, header, o, char, pix):
    try:
        t = read_table(cat.table)
    except (OSError, ValueError) as exc:
        raise InputError(f"Invalid table file [{cat.table}].") from exc
    ra = _column(t, ["ra", "lon"], cat.table)
    dec = _column(t, ["dec", "lat"], cat.table)
    if ra is None or dec is None:
        raise InputError(f"Cannot find 'ra' and 'dec (or 'lon','lat') in table "
                         f"[{cat.table}]")
    radii, ok = _catalog_sizes(cat, t, char, pix)
    ok &= ~(np.ma.getmaskarray(ra) | np.ma.getmaskarray(dec))
    ra = np.ma.filled(np.ma.asarray(ra, float), np.nan)
    dec = np.ma.filled(np.ma.asarray(dec, float), np.nan)
    keep = np.flatnonzero(ok)
    symbols = _row_symbols(cat, t)
    colors = _row_colors(cat, t)
    groups = {}
    for k in keep:
        groups.setdefault(colors[k], []).append(k)
    out = []
    for color, rows in groups.items():
        lines = []
        for sym in dict.fromkeys(symbols[k] for k in rows):
            these = [k for k in rows if symbols[k] == sym]
            lines += _symbol_lines(header, o, [(ra[k], dec[k]) for k in these],
                                   radii[these], sym, cat.csys)
        out.append((color, lines))
    return out or [(cat.color, [])]


def _row_colors(cat: Catalog, t) -> list:
    """Return each row's colour: its ``-colorcol`` value, else the catalog's."""
    if not cat.color_col:
        return [cat.color] * len(t)
    col = _required_column(t, cat.color_col, "color", cat.table)
    blank = np.ma.getmaskarray(col)
    return [cat.color if blank[k] else str(col[k]).strip() for k in range(len(t))]


def _row_symbols(cat: Catalog, t) -> list:
    """
    Return each row's symbol shape as mViewer reads ``-shapecol``.

    A value is read as ``-symbol``'s shape words (`parse_symbol`); a blank or
    unreadable one takes the catalog's shape.
    """
    if not cat.shape_col:
        return [cat.symbol] * len(t)
    col = _required_column(t, cat.shape_col, "symbol shape", cat.table)
    blank = np.ma.getmaskarray(col)
    out = []
    for k in range(len(t)):
        words = [] if blank[k] else str(col[k]).split()
        try:
            out.append(parse_symbol(words, cat.symbol[0])[0] if words else cat.symbol)
        except InputError:
            out.append(cat.symbol)
    return out


#: mViewer-exact outlines of the last few table files (`_exact_imginfo`).
_EXACT: OrderedDict = OrderedDict()


def _exact_imginfo(table, header, flip: bool):
    """
    Outline a table file as mViewer draws it, in its drawing frame.

    `diffview.geometry.mviewer_outlines` (WCSTools' arithmetic), kept for the
    last few (table file, header, flip); None when not ported.
    """
    key = table_outlines_key(table, header, None, "sides")
    key = None if key is None else (key, flip)
    if key is not None and key in _EXACT:
        return _EXACT[key]
    cols = read_table_columns(table, list(MVIEWER_COLUMNS), optional=True)
    lines = mviewer_outlines(cols, header, flip=flip)
    if key is not None:
        _EXACT[key] = lines
        while len(_EXACT) > 8:
            _EXACT.popitem(last=False)
    return lines


def _imginfo(spec, header, o, montage_offsets, draw_header=None):
    """Return an ``-imginfo`` layer's lines, their `Overlay.source` and frame."""
    table, color, width, alpha = spec
    if montage_offsets and not o.flip_x:
        draw = header if draw_header is None else draw_header
        made_of = table_outlines_key(table, draw, None, "sides")
        lines = _exact_imginfo(table, draw, o.flip_y)
        if lines is not None:
            source = None if made_of is None else ("imginfo-mviewer", made_of,
                                                   tuple(o))
            return [p.copy() for p in lines], source, "mviewer"
    made_of = table_outlines_key(table, header, None, "sides")
    lines = table_outlines(table, header, split="sides")
    source = None if made_of is None else ("imginfo", made_of, tuple(o),
                                           montage_offsets)
    return lines, source, "display"


def _text_label(t, header, shape) -> Label:
    """
    Place a ``-label`` as ``mViewer_draw_label`` does.

    At the position's whole pixels (mViewer's 1-based x, y from the bottom
    row; a sky position through the WCS), at 14 points times the sticky
    ``-fontscale`` (C ``int``, at least 1), the text starting half the width it
    would have at 8 points left of the position, baseline 0.4 size below.
    """
    x, y = t.lon, t.lat
    if not t.inpix:
        from astropy.wcs import WCS

        lon, lat = convert_sky(np.array([x]), np.array([y]), "equatorial",
                               sky_frame(header))
        x, y = (float(v[0]) for v in WCS(header, naxis=2).all_world2pix(lon, lat, 1))
    if not (math.isfinite(x) and math.isfinite(y)):
        x, y = -1e9, -1e9                        # nothing on the picture
    scaled = 14.0 * t.fontscale
    size = max(1, int(min(scaled, 500.0))) if scaled == scaled else 1
    start = int(x) - label_width(t.text, 8) / 2.0
    return Label(t.text, start + label_width(t.text, size) / 2.0,
                 shape[0] - int(y), 0.0, size)


def _grid_text(header, grid, o, nx: int) -> tuple:
    """Place a grid's labels, at mViewer's size (``mViewer_makeGrid``)."""
    size = 11 if nx >= 600 else 9 if nx >= 400 else 8
    scaled = size * grid.fontscale
    size = max(1, int(min(scaled, 500.0))) if scaled == scaled else 1
    return tuple(Label(t, x, y, a, size) for t, x, y, a in grid_labels(
        header, grid.csys, orient=o))


def layer_overlays(cmd, header, shape, montage_offsets: bool,
                   draw_header=None) -> list[Overlay]:
    """
    Make a command's overlays on the image of ``header``, in mViewer's order.

    Parameters
    ----------
    cmd : ViewerCommand
        The command.
    header : astropy.io.fits.Header
        The displayed image's header.
    shape : (ny, nx)
        The picture's shape.
    montage_offsets : bool
        Shift the lines as mViewer draws them (`montage_shift`).
    draw_header : astropy.io.fits.Header, optional
        The header mViewer projects ``-imginfo`` outlines with when it is not
        the picture's (a three-colour picture's last channel); default
        ``header``.

    Returns
    -------
    list of Overlay
        Grids, then image outlines and catalogs in command order, then marks.

    Raises
    ------
    InputError
        A catalog that cannot be read or lacks its columns.

    Examples
    --------
    >>> from astropy.io import fits
    >>> from diffview.montage import parse_command
    >>> h = fits.Header({"NAXIS": 2, "NAXIS1": 50, "NAXIS2": 40,
    ...     "CTYPE1": "RA---TAN", "CTYPE2": "DEC--TAN", "CRVAL1": 10.0,
    ...     "CRVAL2": 0.0, "CRPIX1": 25.5, "CRPIX2": 20.5,
    ...     "CDELT1": -0.001, "CDELT2": 0.001})
    >>> c = parse_command("-mark 10 0 -color red -grid eq -gray a.fits min max")
    >>> [ov.color for ov in layer_overlays(c, h, (40, 50), True)]
    ['red', (0.5, 0.5, 0.5)]
    """
    o = orientation(header, noflip=cmd.noflip)
    char, pix = _char_height(header, shape)
    made = []
    for g in cmd.grids:
        made.append((grid_lines(header, g.csys, orient=o), g, None, "display"))
    labels = {id(g): _grid_text(header, g, o, shape[1]) for g in cmd.grids}
    for spec in cmd.overlays:
        if isinstance(spec, Catalog):
            made += [(lines, spec._replace(color=color), None, "display")
                     for color, lines in _catalog_lines(spec, header, o, char, pix)]
        else:
            lines, source, frame = _imginfo(spec, header, o, montage_offsets,
                                            draw_header)
            made.append((lines, spec, source, frame))
    for m in cmd.marks:
        made.append((_mark_lines(m, header, o, char, pix), m, None, "display"))
    for t in cmd.labels:
        labels[id(t)] = (_text_label(t, header, shape),)
        made.append(([], t, None, "mviewer"))
    out = []
    for lines, spec, source, frame in made:
        text = labels.get(id(spec), ())
        if montage_offsets and frame == "display":
            lines = montage_shift(lines, o.flip_y)
            text = tuple(t._replace(x=t.x + 1.0) for t in text)
        color, width, alpha = ((spec.color, getattr(spec, "width", 1.0), spec.alpha)
                               if hasattr(spec, "alpha") else spec[1:4])
        if not width < 2.0**31:  # mViewer draws nothing past a C int, or NaN
            continue
        out.append(Overlay(lines, color, width, alpha, source, text, frame))
    return out


def overlay_job(cmd, header, shape, montage_offsets: bool) -> OverlayPlans:
    """
    Start drawing a command's overlays on a picture of ``shape`` with ``header``.

    They are drawn on the render pool (mViewer draws its lines unsmoothed:
    ``densify`` only for true positions).

    Parameters
    ----------
    cmd : ViewerCommand
        The command.
    header : astropy.io.fits.Header
        The displayed image's header.
    shape : (ny, nx)
        The picture's shape.
    montage_offsets : bool
        As `layer_overlays`.

    Returns
    -------
    OverlayPlans
        The plans, worked out on the pool.

    Examples
    --------
    >>> from astropy.io import fits
    >>> from diffview.montage import parse_command
    >>> h = fits.Header({"NAXIS": 2, "NAXIS1": 50, "NAXIS2": 40,
    ...     "CTYPE1": "RA---TAN", "CTYPE2": "DEC--TAN", "CRVAL1": 10.0,
    ...     "CRVAL2": 0.0, "CRPIX1": 25.5, "CRPIX2": 20.5,
    ...     "CDELT1": -0.001, "CDELT2": 0.001})
    >>> job = overlay_job(parse_command("-grid eq -gray a.fits 0 1"), h, (40, 50), True)
    >>> len(job.result())
    1
    """
    return OverlayPlans(partial(layer_overlays, cmd, header, shape, montage_offsets),
                        shape, densify=not montage_offsets)


def has_layers(cmd) -> bool:
    """
    Tell whether a command draws anything over its picture.

    Parameters
    ----------
    cmd : ViewerCommand
        The command.

    Returns
    -------
    bool
        True with image outlines, catalogs, grids or marks.

    Examples
    --------
    >>> from diffview.montage import parse_command
    >>> has_layers(parse_command("-gray a.fits 0 1")), has_layers(parse_command(
    ...     "-grid eq -gray a.fits 0 1"))
    (False, True)
    """
    return bool(cmd.overlays or cmd.grids or cmd.marks or cmd.labels)

