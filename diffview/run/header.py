"""
Montage's mosaic header: the smallest box around every image (mMakeHdr).

`bounding_header` follows Montage's mMakeHdr and its boundaries library
(``docs/montage-semantics.md`` §11.1): the convex hull of every image corner
on the sphere, then, for each hull edge, a box aligned with that edge; the
box of least area wins (or the north-up box with ``north_aligned``). Its
header text is Montage's, card for card and digit for digit
(`format_bounding_header`), so a template made here and one made by
mMakeHdr are the same file.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from diffview.errors import InputError

__all__ = ["BoundingHeader", "bounding_header", "format_bounding_header"]

_SYSTEMS = {
    "eq": "EQUJ", "equ": "EQUJ", "equatorial": "EQUJ", "equj": "EQUJ",
    "equb": "EQUB", "ec": "ECLJ", "ecl": "ECLJ", "ecliptic": "ECLJ",
    "eclj": "ECLJ", "eclb": "ECLB", "ga": "GAL", "gal": "GAL",
    "galactic": "GAL", "sgal": "SGAL", "supergalactic": "SGAL",
}  # fmt: skip
_CTYPES = {
    "EQUJ": ("RA--", "DEC-"), "EQUB": ("RA--", "DEC-"), "ECLJ": ("ELON", "ELAT"),
    "ECLB": ("ELON", "ELAT"), "GAL": ("GLON", "GLAT"), "SGAL": ("SLON", "SLAT"),
}  # fmt: skip
_ASTROPY_FRAMES = {
    "EQUJ": "fk5", "EQUB": "fk4", "ECLJ": "geocentrictrueecliptic",
    "ECLB": "geocentrictrueecliptic", "GAL": "galactic", "SGAL": "supergalactic",
}  # fmt: skip
_Z = np.array([0.0, 0.0, 1.0])


@dataclass
class BoundingHeader:
    r"""
    A template made by `bounding_header`, with what mMakeHdr returns.

    Attributes
    ----------
    text : str
        The ``.hdr`` text, as mMakeHdr writes it.
    info : dict
        mMakeHdr's returned values (``count``, ``ncube``, ``naxis1``,
        ``naxis2``, ``clon``, ``clat``, ``lonsize``, ``latsize``,
        ``posang``, ``lon1`` .. ``lat4``).

    Examples
    --------
    >>> BoundingHeader("END\\n", {"count": 0}).info["count"]
    0
    """

    text: str
    info: dict


def _norm(v):
    n = np.linalg.norm(v, axis=-1, keepdims=True)
    return np.divide(v, n, out=np.zeros_like(v), where=n > 0)


def _vectors(lon, lat):
    lon, lat = np.radians(lon), np.radians(lat)
    return np.stack(
        [np.cos(lon) * np.cos(lat), np.sin(lon) * np.cos(lat), np.sin(lat)], -1
    )


def _lonlat(v):
    return math.degrees(math.atan2(v[1], v[0])) % 360.0, math.degrees(
        math.asin(max(-1.0, min(1.0, v[2])))
    )


def _hull(points):
    """Convex hull vertices in order (gnomonic plane about the centroid)."""
    c = _norm(points.sum(axis=0))
    e1 = _norm(np.cross(_Z if abs(c[2]) < 0.9 else np.array([1.0, 0, 0]), c))
    e2 = np.cross(c, e1)
    p = points / (points @ c)[:, None]
    xy = np.round(np.stack([p @ e1, p @ e2], -1), 15)
    order = np.lexsort((xy[:, 1], xy[:, 0]))

    def half(idx):
        out = []
        for k in idx:
            while len(out) >= 2:
                (x1, y1), (x2, y2) = xy[out[-2]], xy[out[-1]]
                x3, y3 = xy[k]
                if (x2 - x1) * (y3 - y1) - (y2 - y1) * (x3 - x1) > 0:
                    break
                out.pop()
            out.append(k)
        return out

    lower, upper = half(order), half(order[::-1])
    return points[lower[:-1] + upper[:-1]]


def _tan_xy(points, lon, lat, rot):
    """Montage's bndTANproj: plane coordinates in degrees, rotated by rot."""
    sr, cr = math.sin(math.radians(rot)), math.cos(math.radians(rot))
    sa, ca = math.sin(math.radians(lon)), math.cos(math.radians(lon))
    sd, cd = math.sin(math.radians(lat)), math.cos(math.radians(lat))
    m = np.array(
        [
            [cd * ca, cd * sa, sd],
            [-cr * sa - sr * sd * ca, cr * ca - sr * sd * sa, sr * cd],
            [sr * sa - cr * sd * ca, -sr * ca - cr * sd * sa, cr * cd],
        ]
    )
    pim = _norm(points @ m.T)
    r = np.tan(np.arccos(np.clip(pim[:, 0], -1, 1)))
    n = _norm(np.cross([1.0, 0, 0], pim))
    tmp = np.cross([0.0, 1, 0], n)
    sinphi = np.linalg.norm(tmp, axis=-1)
    sinphi = np.where(tmp[:, 0] < 0, -sinphi, sinphi)
    cosphi = n[:, 1]
    return np.degrees(r * sinphi), np.degrees(-r * cosphi)


def _sizes(hull, centre, angle):
    x, y = _tan_xy(hull, *_lonlat(centre), angle)
    return 2 * np.abs(x).max(), 2 * np.abs(y).max()


def _edge_box(hull, p1, p2):
    n1 = _norm(np.cross(p1, p2))
    r = _norm(np.cross(hull, n1))
    a = np.arctan2(np.linalg.norm(np.cross(r, p1), axis=-1), r @ p1)
    i1 = _norm(np.cross(n1, r[np.argmin(a)]))
    i2 = _norm(np.cross(n1, r[np.argmax(a)]))
    m1 = _norm(i1 + i2)
    tmp = _norm(np.cross(m1, n1))
    n = _norm(np.cross(tmp, hull))
    n2 = n[np.argmin(n @ n1)]
    m2 = _norm(np.cross(n2, tmp))
    c = _norm(m1 + m2)
    t = _norm(np.cross(m2, m1))
    with np.errstate(invalid="ignore"):
        a, b, cc = np.arccos(t @ _Z), np.arccos(c @ _Z), np.arccos(c @ t)
        cosalpha = (math.cos(a) - math.cos(b) * math.cos(cc)) / (
            math.sin(b) * math.sin(cc)
        )
        angle = float(np.degrees(np.arccos(cosalpha)))
    return c, angle


def _fold_angle(angle, s1, s2):
    while angle < -180:
        angle += 360.0
    while angle >= 180:
        angle -= 360.0
    if angle > 90.0:
        angle -= 180.0
    if angle < -90.0:
        angle += 180.0
    if angle > 45.0 or angle < -45.0:
        angle += -90.0 if angle > 45.0 else 90.0
        s1, s2 = s2, s1
    # Montage maps an angle <= 0 to (0, 360], so an exactly north-up box is
    # 360; rounding noise of either sign must not flip it to 0.
    while angle <= 1e-9:
        angle += 360.0
    return angle, s1, s2


def _min_area_box(hull):
    best = None
    for k in range(len(hull)):
        c, angle = _edge_box(hull, hull[k], hull[(k + 1) % len(hull)])
        if not math.isfinite(angle):
            continue
        s1, s2 = _sizes(hull, c, angle)
        if best is None or s1 * s2 < best[0]:
            best = (s1 * s2, c, *_fold_angle(angle, s1, s2))
    if best is None:
        raise InputError("Error computing boundaries.")
    _, c, angle, s1, s2 = best
    return c, s1, s2, angle


def _flip_towards(v, ref):
    v = _norm(v)
    return -v if v @ ref < 0 else v


def _north_box(hull):
    z = hull[:, 2]
    pmin = hull[np.argmax(z)] if not (z > 0).any() else hull[np.argmin(z)]
    r = _norm(np.cross(_Z, pmin))
    n1 = _norm(np.cross(pmin, r))
    pmax = hull[np.argmin(_norm(np.cross(hull, r)) @ n1)]
    n2 = _norm(np.cross(pmax, r))
    d = hull @ r
    pj, pk = hull[np.argmax(d)], hull[np.argmin(d)]
    n3 = _norm(np.cross(np.cross(pj, r), pj))
    n4 = _norm(np.cross(np.cross(pk, r), pk))
    c1 = _flip_towards(np.cross(n1, n3), pj)
    c2 = _flip_towards(np.cross(n2, n3), pj)
    c3 = _flip_towards(np.cross(n2, n4), pk)
    c4 = _flip_towards(np.cross(n1, n4), pk)
    c0 = _flip_towards(np.cross(np.cross(c1, c3), np.cross(c2, c4)), c1)
    s1, s2 = _sizes(hull, c0, 0.0)
    return c0, s1, s2, 0.0


def _table_points(images, system):
    """Corner (lon, lat) of every row and the finest |cdelt|, as mMakeHdr."""
    names = set(images.colnames)
    cdelt = [c for c in ("cdelt1", "cdelt2") if c in names]
    finest = min((float(np.min(np.abs(images[c]))) for c in cdelt), default=360.0)
    for lon, lat in (("ra", "dec"), ("lon", "lat")):
        cols = [f"{p}{k}" for k in range(1, 5) for p in (lon, lat)]
        if set(cols) <= names:
            v = np.array([[images[c][i] for c in cols] for i in range(len(images))])
            return _convert(v[:, 0::2].ravel(), v[:, 1::2].ravel(), system), finest
    wcs_cols = {"ctype1", "ctype2", "crval1", "crval2", "crpix1", "crpix2", "crota2"}
    if wcs_cols | {"cdelt1", "cdelt2"} <= names and (
        {"naxis1", "naxis2"} <= names or {"ns", "nl"} <= names
    ):
        return _wcs_corners(images, system), finest
    raise InputError(
        "Need columns: ctype1 ctype2 nl ns crval1 crval2 crpix1 crpix2 cdelt1 "
        "cdelt2 crota2 (equinox optional).  Four corners (equatorial) will be "
        "used if they exist"
    )


def _wcs_corners(images, system):
    from astropy.wcs import WCS

    n1 = "naxis1" if "naxis1" in images.colnames else "ns"
    n2 = "naxis2" if "naxis2" in images.colnames else "nl"
    lons, lats = [], []
    for row in images:
        w = WCS(naxis=2)
        w.wcs.ctype = [str(row["ctype1"]), str(row["ctype2"])]
        w.wcs.crval = [float(row["crval1"]), float(row["crval2"])]
        w.wcs.crpix = [float(row["crpix1"]), float(row["crpix2"])]
        w.wcs.cdelt = [float(row["cdelt1"]), float(row["cdelt2"])]
        w.wcs.crota = [0.0, float(row["crota2"])]
        nx, ny = int(row[n1]), int(row[n2])
        x = np.array([0.5, nx + 0.5, nx + 0.5, 0.5])
        y = np.array([0.5, 0.5, ny + 0.5, ny + 0.5])
        lon, lat = w.wcs_pix2world(x, y, 1)
        lons.extend(lon)
        lats.extend(lat)
    return _convert(np.array(lons), np.array(lats), system)


def _convert(lon, lat, system):
    if system == "EQUJ":
        return lon, lat
    from astropy import units as u
    from astropy.coordinates import SkyCoord

    sky = SkyCoord(lon * u.deg, lat * u.deg, frame="fk5").transform_to(
        _ASTROPY_FRAMES[system]
    )
    s = sky.spherical
    return s.lon.deg, s.lat.deg


def _grid_size(lonsize, latsize, cdelt, pad, percent, max_pixel):
    if cdelt <= 0.0 or cdelt >= 360.0:
        cdelt = 1.0 / 3600.0
    if max_pixel > 0:
        cdelt = max(latsize, lonsize) / max_pixel
    if percent:
        pad = pad / 100.0 * max(int(lonsize / cdelt), int(latsize / cdelt))
    naxis1 = int(lonsize / cdelt + 2 * pad)
    naxis1 += 2 if naxis1 * cdelt < lonsize else 0
    naxis2 = int(latsize / cdelt + 2 * pad)
    # Montage compares NAXIS2 with the longitude size too (mMakeHdr.c)
    naxis2 += 2 if naxis2 * cdelt < lonsize else 0
    return naxis1, naxis2, cdelt


def format_bounding_header(naxis, ctype, equinox, crval, crpix, cdelt, crota2):
    """
    Format the ``.hdr`` text of a mMakeHdr template in Montage's number formats.

    Parameters
    ----------
    naxis : (int, int)
        ``NAXIS1``, ``NAXIS2``.
    ctype : (str, str)
        ``CTYPE1``, ``CTYPE2``.
    equinox : float or None
        ``EQUINOX`` (``%-g``); None leaves the card out (galactic frames).
    crval, crpix : (float, float)
        Reference point and pixel (``%14.9f``, ``%14.4f``).
    cdelt : float
        Pixel size in degrees: ``CDELT1 = -cdelt``, ``CDELT2 = cdelt``.
    crota2 : float
        ``CROTA2`` in degrees.

    Returns
    -------
    str
        One card a line, ending with ``END``.

    Examples
    --------
    >>> print(format_bounding_header((10, 20), ("RA---TAN", "DEC--TAN"), 2000.0,
    ...       (10.0, 20.0), (5.5, 10.5), 0.001, 0.0).splitlines()[7:10])
    ['EQUINOX = 2000', 'CRVAL1  =   10.000000000', 'CRVAL2  =   20.000000000']
    """
    lines = [
        "SIMPLE  = T",
        "BITPIX  = -64",
        "NAXIS   = 2",
        f"NAXIS1  = {naxis[0]:d}",
        f"NAXIS2  = {naxis[1]:d}",
        f"CTYPE1  = '{ctype[0]}'",
        f"CTYPE2  = '{ctype[1]}'",
    ]
    if equinox is not None:
        lines.append(f"EQUINOX = {equinox:g}")
    lines += [
        f"CRVAL1  = {crval[0]:14.9f}",
        f"CRVAL2  = {crval[1]:14.9f}",
        f"CRPIX1  = {crpix[0]:14.4f}",
        f"CRPIX2  = {crpix[1]:14.4f}",
        f"CDELT1  = {-cdelt:14.9f}",
        f"CDELT2  = {cdelt:14.9f}",
        f"CROTA2  = {crota2:14.9f}",
        "END",
    ]
    return "\n".join(lines) + "\n"


def bounding_header(
    images,
    *,
    system: str = "EQUJ",
    equinox: float = 2000.0,
    pixel_scale: float = 0.0,
    north_aligned: bool = False,
    pad: float = 0.0,
    percent: bool = False,
    max_pixel: int = 0,
) -> BoundingHeader:
    """
    Make the TAN template of least area around every image of a table (mMakeHdr).

    Parameters
    ----------
    images : astropy.table.Table
        Image table with corner columns (``ra1 .. dec4`` or ``lon1 ..
        lat4``) or WCS columns (``ctype1/2``, ``naxis1/2`` or ``ns/nl``,
        ``crval1/2``, ``crpix1/2``, ``cdelt1/2``, ``crota2``).
    system : str
        Output coordinate system (``EQUJ``, ``EQUB``, ``ECLJ``, ``ECLB``,
        ``GAL``, ``SGAL`` or mMakeHdr's spellings, any case).
    equinox : float
        Output equinox.
    pixel_scale : float
        Degrees per pixel; 0 takes the finest ``|cdelt|`` of the table.
    north_aligned : bool
        A north-up box instead of the box of least area.
    pad : float
        Pixels added on each side (a percentage of the larger side with
        ``percent``).
    percent : bool
        ``pad`` is a percentage.
    max_pixel : int
        If above 0, the pixel size that makes the longer side this many
        pixels.

    Returns
    -------
    BoundingHeader
        The template text and mMakeHdr's returned values.

    Raises
    ------
    InputError
        Unknown system, empty table, missing columns.

    Notes
    -----
    Input corners are taken as equatorial J2000 (mImgtbl's tables); another
    output system converts them with astropy. See
    ``docs/montage-semantics.md`` §11.1.

    Examples
    --------
    >>> from astropy.table import Table
    >>> t = Table({"ctype1": ["RA---TAN"], "ctype2": ["DEC--TAN"],
    ...            "naxis1": [100], "naxis2": [50], "crval1": [10.0],
    ...            "crval2": [20.0], "crpix1": [50.5], "crpix2": [25.5],
    ...            "cdelt1": [-0.001], "cdelt2": [0.001], "crota2": [0.0]})
    >>> b = bounding_header(t)
    >>> b.info["naxis1"], b.info["naxis2"], round(b.info["clon"], 6)
    (101, 51, 10.0)
    >>> print(b.text.splitlines()[-2])
    CROTA2  =  360.000000000
    """
    sys_name = _SYSTEMS.get(str(system).lower())
    if sys_name is None:
        raise InputError("Invalid system string.  Must be EQUJ|EQUB|ECLJ|ECLB|GAL|SGAL")
    if equinox == 0.0 and sys_name in ("EQUB", "ECLB"):
        equinox = 1950.0
    if len(images) == 0:
        raise InputError("Error computing boundaries.")
    (lon, lat), finest = _table_points(images, sys_name)
    cdelt = pixel_scale if pixel_scale > 0 else finest
    pts = _vectors(np.asarray(lon, float), np.asarray(lat, float))
    if np.ptp(pts, axis=0).max() > 1:
        return _allsky(len(images), sys_name, equinox, cdelt)
    if len(pts) < 3:
        raise InputError("Error computing boundaries.")
    hull = _hull(pts)
    centre, s1, s2, angle = (_north_box if north_aligned else _min_area_box)(hull)
    naxis1, naxis2, cdelt = _grid_size(s1, s2, cdelt, pad, percent, max_pixel)
    clon, clat = _lonlat(centre)
    tail = "-TAN"
    c1, c2 = _CTYPES[sys_name]
    text = format_bounding_header(
        (naxis1, naxis2),
        (c1 + tail, c2 + tail),
        equinox if sys_name not in ("GAL", "SGAL") else None,
        (clon, clat),
        ((naxis1 + 1) / 2, (naxis2 + 1) / 2),
        cdelt,
        angle,
    )
    info = {
        "count": len(images),
        "ncube": 0,
        "naxis1": naxis1,
        "naxis2": naxis2,
        "clon": clon,
        "clat": clat,
        "lonsize": cdelt * naxis1,
        "latsize": cdelt * naxis2,
        "posang": angle,
        **_corner_info(text, naxis1, naxis2),
    }
    return BoundingHeader(text, info)


def _corner_info(text, naxis1, naxis2):
    from astropy.io import fits
    from astropy.wcs import WCS

    cards = [ln for ln in text.splitlines() if ln != "END"]
    w = WCS(fits.Header.fromstring("\n".join(cards), sep="\n"))
    x = [0.5, naxis1 + 0.5, naxis1 + 0.5, 0.5]
    y = [0.5, 0.5, naxis2 + 0.5, naxis2 + 0.5]
    lon, lat = w.wcs_pix2world(x, y, 1)
    out = {}
    for k in range(4):
        out[f"lon{k + 1}"], out[f"lat{k + 1}"] = float(lon[k]), float(lat[k])
    return out


def _allsky(count, sys_name, equinox, cdelt):
    if cdelt <= 0.0 or cdelt >= 360.0:
        cdelt = 1.0 / 3600.0
    naxis1, naxis2 = int(360.0 / cdelt), int(180.0 / cdelt)
    c1, c2 = _CTYPES[sys_name]
    text = format_bounding_header(
        (naxis1, naxis2),
        (c1 + "-AIT", c2 + "-AIT"),
        equinox if sys_name not in ("GAL", "SGAL") else None,
        (0.0, 0.0),
        ((naxis1 + 1) / 2, (naxis2 + 1) / 2),
        cdelt,
        0.0,
    )
    info = {"count": count, "ncube": 0, "naxis1": naxis1, "naxis2": naxis2}
    info.update(clon=0.0, clat=0.0, lonsize=360.0, latsize=180.0, posang=0.0)
    info.update({f"{p}{k}": 0.0 for k in range(1, 5) for p in ("lon", "lat")})
    return BoundingHeader(text, info)
