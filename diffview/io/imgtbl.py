"""
Image tables (``images.tbl``) from a folder of FITS files, as Montage's mImgtbl.

The table has mImgtbl's rows in mImgtbl's order (directory order, or name
order on request) and its columns: the WCS columns with Montage's
``cdelt1, cdelt2, crota2`` (`scale_rotation`), the cube columns ``naxis ..
crpix4`` (each keyword's text), the four corners ``ra1 .. dec4`` (pixel edges,
J2000), ``size``, ``hdu`` and ``fname`` (relative to the folder). Area files
(``*_area.fits``) are skipped, as in Montage (``docs/montage-semantics.md``
§7.3).
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from astropy.io import fits
from astropy.table import Table
from astropy.wcs import WCS

from diffview.errors import InputError
from diffview.io._imgtbl_wcs import CUBE_KEYS, cube_values, scale_rotation
from diffview.io.ipac import write_table

__all__ = [
    "headers_table",
    "ImageTableResult",
    "make_image_table",
    "write_images_table",
    "IMAGE_FORMATS",
]

#: printf-style format of each image-table column, as mImgtbl writes it.
IMAGE_FORMATS = {
    "cntr": "%6d",
    "ra": "%13.7f",
    "dec": "%13.7f",
    "cra": "%13s",
    "cdec": "%13s",
    "naxis1": "%6d",
    "naxis2": "%6d",
    "ctype1": "%8s",
    "ctype2": "%8s",
    "crpix1": "%15.5f",
    "crpix2": "%15.5f",
    "crval1": "%13.7f",
    "crval2": "%13.7f",
    "cdelt1": "%19.10e",
    "cdelt2": "%19.10e",
    "crota2": "%13.7f",
    "equinox": "%8.2f",
    **{k.lower(): "%6s" if k.startswith("NAXIS") else "%22s" for k in CUBE_KEYS},
    **{f"{c}{k}": "%13.7f" for k in range(1, 5) for c in ("ra", "dec")},
    "size": "%12d",
    "hdu": "%6d",
    "fname": "%s",
}
_BASE = [
    "cntr",
    "ra",
    "dec",
    "cra",
    "cdec",
    "naxis1",
    "naxis2",
    "ctype1",
    "ctype2",
    "crpix1",
    "crpix2",
    "crval1",
    "crval2",
    "cdelt1",
    "cdelt2",
    "crota2",
    "equinox",
]
_CORNERS = [f"{c}{k}" for k in range(1, 5) for c in ("ra", "dec")]
_CUBE = [k.lower() for k in CUBE_KEYS]
#: Type line of the cube columns, which hold each keyword's text as written.
_CUBE_TYPES = {c: "int" if c.startswith("naxis") else "double" for c in _CUBE}


@dataclass
class ImageTableResult:
    """
    An image table and what was skipped.

    Attributes
    ----------
    table : astropy.table.Table
        One row per image HDU, Montage's columns.
    badfits : list of str
        Files that could not be read as FITS.
    badwcs : list of str
        Image HDUs without a usable celestial WCS (``file[hdu]``).

    Examples
    --------
    >>> r = ImageTableResult(headers_table([], []), ["broken.fits"], [])
    >>> len(r.table), r.badfits
    (0, ['broken.fits'])
    """

    table: Table
    badfits: list
    badwcs: list


_FITS_SUFFIXES = tuple(
    s + gz for s in (".fit", ".FIT", ".fits", ".FITS") for gz in ("", ".gz")
)
_AREA_SUFFIXES = tuple("_area" + s for s in _FITS_SUFFIXES)


def _scan(directory: Path, recursive: bool, seen: set):
    """
    Yield the files of a folder in directory (``readdir``) order, as mImgtbl.

    A sub-folder is searched where the directory lists it; a folder reached
    twice (through a link) is searched once.
    """
    try:
        st = directory.stat()
        entries = os.scandir(directory)
    except OSError:
        return
    if (st.st_dev, st.st_ino) in seen:
        entries.close()
        return
    seen.add((st.st_dev, st.st_ino))
    with entries:
        for entry in entries:
            path = directory / entry.name
            try:
                if entry.is_dir():
                    if recursive:
                        yield from _scan(path, recursive, seen)
                elif entry.is_file():
                    yield path
            except OSError:
                continue


def _fits_files(
    directory: Path, recursive: bool, area_files: bool, gzip: bool, sort: bool
) -> list[Path]:
    out = []
    for p in _scan(directory, recursive, set()):
        name = p.name
        if not name.endswith(_FITS_SUFFIXES) or (not gzip and name.endswith(".gz")):
            continue
        if not area_files and name.endswith(_AREA_SUFFIXES):
            continue
        out.append(p)
    return sorted(out) if sort else out


def _sexagesimal_parts(value: float, prec: int) -> tuple[int, int, float]:
    """
    Return whole units, minutes and rounded seconds of ``value`` >= 0.

    Rounded and carried as Montage's coordinate library does
    (``degreeToHMS``/``degreeToDMS``).
    """
    whole = math.floor(value)
    minutes = (value - whole) * 60.0
    m = math.floor(minutes)
    sec = math.floor((minutes - m) * 60.0 * 10**prec + 0.5) / 10**prec
    if sec >= 60.0:
        sec, m = sec - 60.0, m + 1
    if m >= 60:
        m, whole = m - 60, whole + 1
    return int(whole), int(m), sec


def _sexagesimal(ra: float, dec: float) -> tuple[str, str]:
    h, m, s = _sexagesimal_parts(abs(ra) / 15.0, 2)
    d, dm, ds = _sexagesimal_parts(abs(dec), 1)
    sign = "-" if dec < 0 else "+"
    return f"{h:02d}h {m:02d}m {s:05.2f}s", f"{sign}{d:02d}d {dm:02d}m {ds:04.1f}s"


def _to_j2000(wcs: WCS, x, y) -> tuple[np.ndarray, np.ndarray]:
    sky = wcs.pixel_to_world(np.asarray(x, float) - 1, np.asarray(y, float) - 1)
    sky = sky.transform_to("fk5") if sky.frame.name not in ("icrs", "fk5") else sky
    return np.atleast_1d(sky.spherical.lon.deg), np.atleast_1d(sky.spherical.lat.deg)


def _row(h: fits.Header, fname: str, size: int, hdu: int, corners: bool) -> dict:
    """One row of the table; the cube columns are added by the caller."""
    wcs = WCS(h, naxis=2)
    if not wcs.has_celestial:
        raise ValueError("no celestial WCS")
    n1, n2 = int(h["NAXIS1"]), int(h["NAXIS2"])
    cdelt1, cdelt2, crota = scale_rotation(h, wcs)
    ra, dec = _to_j2000(wcs, [n1 / 2], [n2 / 2])
    cra, cdec = _sexagesimal(ra[0], dec[0])
    row = {
        "ra": ra[0],
        "dec": dec[0],
        "cra": cra,
        "cdec": cdec,
        "naxis1": n1,
        "naxis2": n2,
        "ctype1": str(h["CTYPE1"]),
        "ctype2": str(h["CTYPE2"]),
        "crpix1": float(h["CRPIX1"]),
        "crpix2": float(h["CRPIX2"]),
        "crval1": float(h["CRVAL1"]),
        "crval2": float(h["CRVAL2"]),
        "cdelt1": cdelt1,
        "cdelt2": cdelt2,
        "crota2": crota,
        "equinox": float(h.get("EQUINOX", h.get("EPOCH", 2000.0))),
    }
    _require_finite(row, _WCS_NUMBERS)
    if corners:
        xs = [0.5, n1 + 0.5, n1 + 0.5, 0.5]
        ys = [0.5, 0.5, n2 + 0.5, n2 + 0.5]
        if (cdelt1 > 0) != (cdelt2 > 0):  # Montage keeps one winding
            xs[1], xs[3], ys[1], ys[3] = xs[3], xs[1], ys[3], ys[1]
        cra_, cdec_ = _to_j2000(wcs, xs, ys)
        for k in range(4):
            row[f"ra{k + 1}"], row[f"dec{k + 1}"] = cra_[k], cdec_[k]
        _require_finite(row, [f"{c}{k}" for k in range(1, 5) for c in ("ra", "dec")])
    row.update(size=size, hdu=hdu, fname=fname)
    return row


#: The numbers of a row that must be finite for its WCS to be usable.
_WCS_NUMBERS = ("ra", "dec", "crpix1", "crpix2", "crval1", "crval2", "cdelt1",
                "cdelt2", "crota2")


def _require_finite(row: dict, names) -> None:
    """
    Raise ValueError (the image counts in ``badwcs``) for a non-finite number.

    A ``CRPIX1 = NaN`` card gives a row of NaN positions that matches no
    pair; Montage writes such a row and counts it as good, diffview counts it
    in ``badwcs`` (``docs/montage-semantics.md`` §9.2).
    """
    bad = [n for n in names if not math.isfinite(row[n])]
    if bad:
        raise ValueError(f"non-finite {', '.join(bad)}")


def _image_hdus(path: Path):
    """Yield ``(hdu, header, cube defaults)`` of each image HDU of a file.

    Cube keywords missing from an HDU take the first HDU's values (mImgtbl).
    """
    with fits.open(path, memmap=True, lazy_load_hdus=True) as hdul:
        defaults = None
        for k, hdu in enumerate(hdul):
            h = hdu.header
            if defaults is None:
                defaults = cube_values(h)
            if (
                h.get("NAXIS", 0) >= 2
                and int(h.get("NAXIS1", 0)) > 0
                and int(h.get("NAXIS2", 0)) > 0
            ):
                yield k, h.copy(), defaults


def make_image_table(
    directory,
    *,
    recursive: bool = False,
    corners: bool = True,
    area_files: bool = False,
    absolute: bool | None = None,
    cubes: bool = True,
    gzip: bool = True,
    sort: bool = False,
) -> ImageTableResult:
    """
    Make the image table of every FITS image in a folder (mImgtbl).

    Parameters
    ----------
    directory : str or path-like
        Folder of FITS files (projected or raw).
    recursive : bool
        Also search sub-folders (``fname`` keeps the sub-folder).
    corners : bool
        Add the corner columns ``ra1 .. dec4`` (as MontagePy's default).
    area_files : bool
        Include ``*_area.fits`` files (Montage skips them).
    absolute : bool, optional
        Write ``fname`` as a full path. Default: Montage's rule, full paths
        when ``directory`` is absolute, else relative to it (Montage's
        ``/name`` for a folder given with a trailing slash is not repeated).
    cubes : bool
        Add the cube columns ``naxis, naxis3, crval3, cdelt3, crpix3,
        naxis4, crval4, cdelt4, crpix4`` (Montage's ``haveCubes``, on by
        default): each keyword's text, empty where the header has none.
    gzip : bool
        Include ``*.fits.gz`` files (Montage's default; ``noGZIP`` turns it
        off).
    sort : bool
        List files in name order (by path) instead of Montage's directory
        order, so that ``cntr`` does not depend on the file system.

    Returns
    -------
    ImageTableResult

    Notes
    -----
    Files are listed as mImgtbl lists them: in the order the directory gives
    them (``readdir``, which ``os.scandir`` follows), each sub-folder searched
    where it is listed; only names ending in ``.fit``, ``.fits``, ``.FIT`` or
    ``.FITS`` (optionally ``.gz``) are read. A folder reached twice through
    links is searched once (Montage would loop).

    Raises
    ------
    InputError
        The folder does not exist.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from diffview.sample import write_sample
    >>> s = write_sample(pathlib.Path(tempfile.mkdtemp()), "small")
    >>> r = make_image_table(s.proj_dir)
    >>> len(r.table) == len(s.truth), r.badfits
    (True, [])
    """
    root = Path(directory)
    if absolute is None:
        absolute = root.is_absolute()
    if not root.is_dir():
        raise InputError(f"Cannot access {directory}: not a folder")
    rows, badfits, badwcs = [], [], []
    for path in _fits_files(root, recursive, area_files, gzip, sort):
        rel = str(path.relative_to(root))
        fname = str(root / rel) if absolute else rel
        try:
            hdus = list(_image_hdus(path))
        except (OSError, ValueError, TypeError):
            badfits.append(rel)
            continue
        for k, h, defaults in hdus:
            try:
                row = _row(h, fname, os.path.getsize(path), k, corners)
            except (KeyError, ValueError, TypeError, ArithmeticError):
                badwcs.append(f"{rel}[{k}]")
                continue
            rows.append(row | cube_values(h, defaults))
    return ImageTableResult(_rows_table(rows, corners, cubes), badfits, badwcs)


def _rows_table(rows: list[dict], corners: bool, cubes: bool) -> Table:
    for k, row in enumerate(rows):
        row["cntr"] = k
    names = (
        _BASE
        + (_CUBE if cubes else [])
        + (_CORNERS if corners else [])
        + ["size", "hdu", "fname"]
    )
    if not rows:
        return Table(names=names, dtype=[_dtype(n) for n in names])
    return Table(rows=[[r[n] for n in names] for r in rows], names=names)


def headers_table(
    headers, fnames, *, corners: bool = True, cubes: bool = True
) -> Table:
    """
    Make the image table of headers not (yet) written to files.

    The rows are those `make_image_table` would give for the files once
    written, with ``size`` 0 and ``hdu`` 0.

    Parameters
    ----------
    headers : iterable of astropy.io.fits.Header
        Image headers with a celestial WCS.
    fnames : iterable of str
        The ``fname`` of each, as many as ``headers``.
    corners : bool
        Add the corner columns ``ra1 .. dec4``.
    cubes : bool
        Add the cube columns ``naxis .. crpix4``.

    Returns
    -------
    astropy.table.Table
        One row per header, Montage's columns.

    Raises
    ------
    ValueError
        A header without a celestial WCS, or not as many names as headers.
    KeyError
        A header without the ``NAXIS``, ``CTYPE``, ``CRPIX`` or ``CRVAL``
        cards.

    Examples
    --------
    >>> from diffview.sample import sample_headers
    >>> t = headers_table(sample_headers("small"), [f"t{k}.fits" for k in range(6)])
    >>> len(t), t["fname"][0]
    (6, np.str_('t0.fits'))
    """
    rows = [
        _row(h, f, 0, 0, corners) | cube_values(h)
        for h, f in zip(headers, fnames, strict=True)
    ]
    return _rows_table(rows, corners, cubes)


def _dtype(name: str):
    if name in ("cntr", "naxis1", "naxis2", "size", "hdu"):
        return np.int64
    if name in ("cra", "cdec", "ctype1", "ctype2", "fname", *_CUBE):
        return str
    return np.float64


def _cube_text(value) -> str:
    """Return a cube column's value as text: empty for a blank (NaN) read back."""
    if isinstance(value, (float, np.floating)):
        return "" if np.isnan(value) else repr(float(value))
    return str(value)


def write_images_table(table: Table, path) -> None:
    r"""
    Write an image table in mImgtbl's layout (``\datatype = fitshdr`` first).

    Parameters
    ----------
    table : astropy.table.Table
        An image table (`make_image_table`, `headers_table`); columns are
        written in its order with `IMAGE_FORMATS`.
    path : str or path-like
        The file written, atomically.

    Raises
    ------
    InputError
        The folder of ``path`` does not exist.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from diffview.sample import write_sample
    >>> from diffview.io import read_table
    >>> s = write_sample(pathlib.Path(tempfile.mkdtemp()), "small")
    >>> t = make_image_table(s.proj_dir).table
    >>> out = s.root / "again.tbl"
    >>> write_images_table(t, out)
    >>> list(read_table(out)["fname"]) == list(t["fname"])
    True
    """
    formats = {n: IMAGE_FORMATS.get(n) for n in table.colnames}
    types = {n: t for n, t in _CUBE_TYPES.items() if n in table.colnames}
    if types and any(table[n].dtype.kind != "U" for n in types):
        table = table.copy(copy_data=False)
        for n in types:
            table[n] = [_cube_text(v) for v in table[n]]
    write_table(
        table, path, formats, keywords={"datatype": "fitshdr"}, type_names=types
    )
