"""Seeded large fields for the benchmarks: a survey table and a pixel field.

Importable by the benchmark scripts (``import fields`` from a script in this
folder) and by the tests (``from benchmarks.fields import ...``; ``tests`` is
on pytest's path); from a shell: ``python tests/benchmarks/fields.py survey
DIR [-n 30000]`` or ``... pixels DIR [-n 400] [--step 465 394]`` (the step
gives tiles of 2MASS's atlas size instead of 176 x 156 pixels).

* `write_survey_table` writes Montage's tables of a survey region **without
  pixels**: ``images.tbl`` as mImgtbl writes it (corners on) for projected
  TAN tiles, ``fits.tbl`` as mFitExec writes it, and ``diffs.tbl`` as
  mOverlaps writes it, all consistent with an injected plane per image
  (``truth.json``). 30,000 images make a 10 x 10 degree region with about
  148,000 overlaps; fewer images make a smaller region of the same tiles
  (7,500: 5 x 5 degrees, about 37,000 overlaps), so time per image is
  comparable across sizes.
* `write_pixel_field` writes a Montage-style work folder **with pixels**
  (``projected/`` images and area files, ``template.hdr``, ``images.tbl``,
  empty ``diffs/``, ``truth.json``): 400 tiles and about 2,200 pairs by
  default, built like ``tests/mosaic_fields.make_mosaic`` (one sky, a plane
  and noise per tile, written straight in the template grid) on the layout of
  the survey table.

Both use `staggered_layout`: scans (columns) of tiles offset by half a step
from one scan to the next, at integer pixel offsets in one template grid, as
mProjExec's outputs are. Because the tiles share one TAN projection, their
edges are great circles and the overlapping pairs are exactly the pairs of
intersecting pixel rectangles; the generator lists those itself
(`layout_pairs`), so a table's ``diffs.tbl`` is the truth an overlap finder
must reproduce. Plane coordinates follow ``docs/montage-semantics.md`` §1.1:
``x = (template column, 0-based) - CRPIX1_template``.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

__all__ = [
    "Layout",
    "staggered_layout",
    "layout_pairs",
    "SurveyTable",
    "write_survey_table",
    "write_pixel_field",
    "FIT_FORMATS",
]

#: mFitExec's column formats (``docs/montage-semantics.md`` §4.4).
FIT_FORMATS = {
    "plus": "%9d",
    "minus": "%9d",
    "a": "%16.5e",
    "b": "%16.5e",
    "c": "%16.5e",
    "crpix1": "%14.2f",
    "crpix2": "%14.2f",
    "xmin": "%10d",
    "xmax": "%10d",
    "ymin": "%10d",
    "ymax": "%10d",
    "xcenter": "%13.2f",
    "ycenter": "%13.2f",
    "npixel": "%13.0f",
    "rms": "%16.5e",
    "boxx": "%16.1f",
    "boxy": "%16.1f",
    "boxwidth": "%16.1f",
    "boxheight": "%16.1f",
    "boxang": "%16.1f",
}


@dataclass
class Layout:
    """Tiles in one template grid: 0-based offsets and sizes, and the template.

    ``i0, j0`` are the 0-based template column and row of each tile's first
    pixel; ``naxis1, naxis2`` its size; ``crpix`` the template's CRPIX1/2;
    ``shape`` the template's (NAXIS2, NAXIS1); ``wcs`` the template's
    astropy WCS (TAN, CRVAL at the centre). Tiles are in table order.
    """

    i0: np.ndarray
    j0: np.ndarray
    naxis1: np.ndarray
    naxis2: np.ndarray
    crpix: tuple
    shape: tuple
    wcs: object

    def __len__(self):
        return len(self.i0)


def staggered_layout(
    n,
    *,
    step=(208, 208),
    tile=(1.6, 1.3),
    scale=1 / 3600,
    center=(150.0, 2.0),
    jitter=3,
    shuffle=False,
    seed=0,
):
    """Lay out about ``n`` tiles in staggered scans in one TAN template grid.

    Parameters
    ----------
    n : int
        Number of tiles wanted; the grid is ``ncols x nrows`` with
        ``ncols = round(sqrt(n))`` and exactly ``n`` tiles (the last scan
        may be short).
    step : tuple of int
        (row step, column step) in pixels between tile origins.
    tile : tuple of float
        Tile (height, width) in steps. ``(1.6, 1.3)`` gives each tile ten
        neighbours (two in its scan, four in each next scan); ``(2.2, 1.3)``
        twelve (four in its scan).
    scale : float
        Pixel size in degrees (CDELT2; CDELT1 is its negative).
    center : tuple of float
        (RA, Dec) of the template's CRVAL, degrees. Regions across RA 0/360 or
        over a pole are fine.
    jitter : int
        Random integer offset of each tile, pixels, uniform in +-jitter.
    shuffle : bool
        Put the tiles in random table order instead of scan order.
    seed : int
        Seed of the jitter and the shuffle.

    Returns
    -------
    Layout

    Examples
    --------
    >>> lay = staggered_layout(12, step=(50, 60))
    >>> len(lay), int(lay.naxis2[0]), int(lay.naxis1[0])
    (12, 80, 78)
    """
    from astropy.wcs import WCS

    rng = np.random.default_rng(seed)
    ncols = max(1, round(math.sqrt(n)))
    k = np.arange(n)
    col, row = k // math.ceil(n / ncols), k % math.ceil(n / ncols)
    sy, sx = step
    ny, nx = round(tile[0] * sy), round(tile[1] * sx)
    i0 = col * sx + rng.integers(-jitter, jitter + 1, n)
    j0 = row * sy + (col % 2) * (sy // 2) + rng.integers(-jitter, jitter + 1, n)
    i0, j0 = i0 - i0.min(), j0 - j0.min()
    shape = (int(j0.max()) + ny, int(i0.max()) + nx)
    crpix = (shape[1] / 2 + 0.5, shape[0] / 2 + 0.5)
    w = WCS(naxis=2)
    w.wcs.ctype = ["RA---TAN", "DEC--TAN"]
    w.wcs.crval = list(center)
    w.wcs.crpix = list(crpix)
    w.wcs.cdelt = [-scale, scale]
    w.wcs.equinox = 2000.0
    w.wcs.radesys = "FK5"
    order = rng.permutation(n) if shuffle else k
    return Layout(
        i0[order], j0[order], np.full(n, nx), np.full(n, ny), crpix, shape, w
    )


def layout_pairs(lay):
    """Overlapping tiles of a layout, in mOverlaps' order (k < l, by k then l).

    Two tiles are listed when Montage's difference box (``docs/montage-
    semantics.md`` §3.3: from the larger start to the smaller last pixel,
    used as an exclusive end) is at least one pixel in both directions.

    Parameters
    ----------
    lay : Layout

    Returns
    -------
    numpy.ndarray
        ``(npairs, 2)`` table rows ``k < l``.

    Examples
    --------
    >>> layout_pairs(staggered_layout(4, step=(50, 60), jitter=0)).tolist()
    [[0, 1], [0, 2], [0, 3], [1, 2], [1, 3], [2, 3]]
    """
    i1 = lay.i0 + lay.naxis1 - 1
    j1 = lay.j0 + lay.naxis2 - 1
    order = np.argsort(lay.i0, kind="stable")
    xs = lay.i0[order]
    # every tile whose first column comes before this tile's last one
    stop = np.searchsorted(xs, i1[order], side="left")
    pairs = []
    width = int((stop - np.arange(len(xs))).max(initial=1))
    for d in range(1, width):
        a = np.arange(len(xs) - d)
        a = a[a + d < stop[a]]
        k, m = order[a], order[a + d]
        ok = (np.minimum(i1[k], i1[m]) > np.maximum(lay.i0[k], lay.i0[m])) & (
            np.minimum(j1[k], j1[m]) > np.maximum(lay.j0[k], lay.j0[m])
        )
        pairs.append(np.column_stack([np.minimum(k, m), np.maximum(k, m)])[ok])
    out = np.concatenate(pairs) if pairs else np.zeros((0, 2), int)
    return out[np.lexsort((out[:, 1], out[:, 0]))]


def _sexagesimal(ra, dec):
    """mImgtbl's ``cra``/``cdec`` strings."""
    out = []
    for r, d in zip(ra, dec, strict=True):
        s = round(r / 15 * 3600, 2)
        h, s = divmod(s, 3600)
        m, s = divmod(s, 60)
        ds = round(abs(d) * 3600, 1)
        dd, ds = divmod(ds, 3600)
        dm, ds = divmod(ds, 60)
        sign = "-" if d < 0 else "+"
        out.append(
            (
                f"{int(h) % 24:02d}h {int(m):02d}m {s:05.2f}s",
                f"{sign}{int(dd):02d}d {int(dm):02d}m {ds:04.1f}s",
            )
        )
    return zip(*out, strict=True) if out else ((), ())


def _sky(lay, x, y):
    """(RA, Dec) of 1-based image pixels x, y of every tile (arrays (n, m))."""
    ra, dec = lay.wcs.wcs_pix2world(
        (x + lay.i0[:, None]).ravel(), (y + lay.j0[:, None]).ravel(), 1
    )
    return ra.reshape(x.shape) % 360, dec.reshape(x.shape)


def write_images_tbl(lay, path, names, sizes=None):
    """Write the image table of a layout as mImgtbl writes it, corners on.

    Parameters
    ----------
    lay : Layout
    path : path-like
        The ``images.tbl`` written.
    names : sequence of str
        ``fname`` of each tile.
    sizes : sequence of int, optional
        File sizes (default: those of BITPIX -64 files with one header block).
    """
    from diffview.io import IMAGE_FORMATS, write_table

    n1 = lay.naxis1.astype(float)[:, None]
    n2 = lay.naxis2.astype(float)[:, None]
    ra, dec = _sky(lay, n1 / 2, n2 / 2)
    # corners at pixel edges, 2 and 4 swapped (CDELT1 < 0 < CDELT2), §7.3
    cx = np.hstack([0 * n1 + 0.5, 0 * n1 + 0.5, n1 + 0.5, n1 + 0.5])
    cy = np.hstack([0 * n2 + 0.5, n2 + 0.5, n2 + 0.5, 0 * n2 + 0.5])
    cra, cdec = _sky(lay, cx, cy)
    cras, cdecs = _sexagesimal(ra[:, 0], dec[:, 0])
    n = len(lay)
    if sizes is None:
        sizes = 2880 + 8 * lay.naxis1 * lay.naxis2
    cols = {
        "cntr": np.arange(n),
        "ra": ra[:, 0],
        "dec": dec[:, 0],
        "cra": list(cras),
        "cdec": list(cdecs),
        "naxis1": lay.naxis1,
        "naxis2": lay.naxis2,
        "ctype1": ["RA---TAN"] * n,
        "ctype2": ["DEC--TAN"] * n,
        "crpix1": lay.crpix[0] - lay.i0,
        "crpix2": lay.crpix[1] - lay.j0,
        "crval1": np.full(n, lay.wcs.wcs.crval[0]),
        "crval2": np.full(n, lay.wcs.wcs.crval[1]),
        "cdelt1": np.full(n, lay.wcs.wcs.cdelt[0]),
        "cdelt2": np.full(n, lay.wcs.wcs.cdelt[1]),
        "crota2": np.zeros(n),
        "equinox": np.full(n, 2000.0),
    }
    for k in range(4):
        cols[f"ra{k + 1}"], cols[f"dec{k + 1}"] = cra[:, k], cdec[:, k]
    cols.update(size=np.asarray(sizes), hdu=np.zeros(n, int), fname=list(names))
    write_table(cols, path, IMAGE_FORMATS, keywords={"datatype": "fitshdr"})


def _diffs_tbl(pairs, names, path):
    from diffview.io import write_diffs_table
    from diffview.models import Overlap

    write_diffs_table(
        [
            Overlap(k, m, names[k], names[m], f"diff.{k:06d}.{m:06d}.fits")
            for k, m in pairs.tolist()
        ],
        path,
    )


def _truth_planes(lay, rng, level=8.0, slope=2e-3):
    """Random plane per tile: level at its centre ~N(0, level), slopes
    ~N(0, slope); returned as (a, b, c) in the template plane frame."""
    n = len(lay)
    a, b = rng.normal(0, slope, n), rng.normal(0, slope, n)
    xc = lay.i0 + (lay.naxis1 - 1) / 2 - lay.crpix[0]
    yc = lay.j0 + (lay.naxis2 - 1) / 2 - lay.crpix[1]
    return np.column_stack([a, b, rng.normal(0, level, n) - a * xc - b * yc])


def _write_truth(root, lay, planes, **info):
    (root / "truth.json").write_text(
        json.dumps(
            {
                **info,
                "planes": {str(k): list(map(float, p)) for k, p in enumerate(planes)},
                "frame": "x = i - CRPIX1, y = j - CRPIX2 (0-based i, j; §1.1)",
            }
        )
    )


def _fit_rows(lay, pairs, planes, rng, noise):
    """fits.tbl columns of every pair: the difference of the two injected
    planes, fitted with the error a plane fit of white noise ``noise`` over
    the full overlap box would have."""
    k, m = pairs[:, 0], pairs[:, 1]
    x0 = np.maximum(lay.i0[k], lay.i0[m])
    x1 = np.minimum(lay.i0[k] + lay.naxis1[k], lay.i0[m] + lay.naxis1[m]) - 1
    y0 = np.maximum(lay.j0[k], lay.j0[m])
    y1 = np.minimum(lay.j0[k] + lay.naxis2[k], lay.j0[m] + lay.naxis2[m]) - 1
    w, h = x1 - x0, y1 - y0  # Montage's exclusive end (§3.3)
    npix = (w * h).astype(float)
    xc = (x0 + x1 - 1) / 2 - lay.crpix[0]
    yc = (y0 + y1 - 1) / 2 - lay.crpix[1]
    rms = noise * rng.uniform(0.9, 1.1, len(k))
    ea = rng.normal(0, 1, len(k)) * rms * np.sqrt(12 / (npix * np.maximum(w, 2) ** 2))
    eb = rng.normal(0, 1, len(k)) * rms * np.sqrt(12 / (npix * np.maximum(h, 2) ** 2))
    el = rng.normal(0, 1, len(k)) * rms / np.sqrt(npix)
    d = planes[k] - planes[m]
    a, b = d[:, 0] + ea, d[:, 1] + eb
    c = d[:, 2] + el - ea * xc - eb * yc
    return {
        "plus": k,
        "minus": m,
        "a": a,
        "b": b,
        "c": c,
        "crpix1": lay.crpix[0] - x0,
        "crpix2": lay.crpix[1] - y0,
        "xmin": np.trunc(x0 - lay.crpix[0]).astype(int),
        "xmax": np.trunc(x1 - 1 - lay.crpix[0]).astype(int),
        "ymin": np.trunc(y0 - lay.crpix[1]).astype(int),
        "ymax": np.trunc(y1 - 1 - lay.crpix[1]).astype(int),
        "xcenter": xc,
        "ycenter": yc,
        "npixel": npix,
        "rms": rms,
        "boxx": xc,
        "boxy": yc,
        "boxwidth": (w - 1).astype(float),
        "boxheight": (h - 1).astype(float),
        "boxang": np.zeros(len(k)),
    }


@dataclass
class SurveyTable:
    """What `write_survey_table` wrote: paths, layout, pairs and truth."""

    root: Path
    layout: Layout
    pairs: np.ndarray
    truth: np.ndarray

    @property
    def images_tbl(self) -> Path:
        """mImgtbl's ``images.tbl`` (corners on)."""
        return self.root / "images.tbl"

    @property
    def fits_tbl(self) -> Path:
        """mFitExec's ``fits.tbl``."""
        return self.root / "fits.tbl"

    @property
    def diffs_tbl(self) -> Path:
        """mOverlaps' ``diffs.tbl`` (the true pairs, in Montage's order)."""
        return self.root / "diffs.tbl"


def write_survey_table(
    root, n=30_000, *, seed=0, center=(150.0, 2.0), noise=1.0, shuffle=False
):
    """Write a survey region's ``images.tbl``, ``fits.tbl`` and ``diffs.tbl``
    without pixels, consistent with an injected plane per image.

    The tiles are projected TAN images (1 arcsec pixels, 333 x 270, one
    template, integer offsets) in staggered scans, ten neighbours each
    (`staggered_layout` with its defaults): 30,000 tiles cover about 10 x 10
    degrees with about 148,000 overlaps; ``n`` scales the region, not the
    tiles. ``fits.tbl`` holds one fit per overlap: the difference of the two
    injected planes (plus minus minus) with the scatter a least-squares plane
    fit of white noise of rms ``noise`` over the overlap box would have, the
    box and centre of that overlap (Montage's box, §3.3, fully covered), and
    an axis-aligned bounding box (``boxang`` 0; mFitExec may report the same
    rectangle turned by 90 degrees). Truth planes: level at the tile centre
    ~N(0, 8) DN, slopes ~N(0, 2e-3) DN/pixel, in the template frame of §1.1.

    Parameters
    ----------
    root : path-like
        Folder (created) for ``images.tbl``, ``fits.tbl``, ``diffs.tbl`` and
        ``truth.json`` (``{"planes": {cntr: [a, b, c]}}``).
    n : int
        Number of images (7,500 makes a 5 x 5 degree region).
    seed : int
        Seed of layout jitter, planes and fit errors.
    center : tuple of float
        (RA, Dec) of the region's centre; across RA 0 or a pole is fine.
    noise : float
        Pixel noise (DN) behind the fit errors and the ``rms`` column.
    shuffle : bool
        Images in random table order instead of scan order.

    Returns
    -------
    SurveyTable
        Paths, the layout, the pairs (table rows, mOverlaps' order) and the
        injected planes ``(n, 3)`` indexed by ``cntr``.

    Examples
    --------
    >>> import tempfile
    >>> s = write_survey_table(tempfile.mkdtemp(), 100)
    >>> len(s.pairs), s.fits_tbl.read_text().count("\\n") == len(s.pairs) + 1
    (414, True)
    """
    from diffview.io import write_table

    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    lay = staggered_layout(n, center=center, shuffle=shuffle, seed=seed)
    names = [f"hdu0_s{k:06d}.fits" for k in range(n)]
    write_images_tbl(lay, root / "images.tbl", names)
    pairs = layout_pairs(lay)
    planes = _truth_planes(lay, rng)
    fits_cols = _fit_rows(lay, pairs, planes, rng, noise)
    write_table(fits_cols, root / "fits.tbl", FIT_FORMATS, types=False)
    _diffs_tbl(pairs, names, root / "diffs.tbl")
    _write_truth(root, lay, planes, n=n, seed=seed, center=list(center))
    return SurveyTable(root, lay, pairs, planes)


def _header(lay, shape, crpix):
    from astropy.io import fits

    w = lay.wcs.wcs
    return fits.Header(
        {
            "SIMPLE": True,
            "BITPIX": -64,
            "NAXIS": 2,
            "NAXIS1": shape[1],
            "NAXIS2": shape[0],
            "CTYPE1": "RA---TAN",
            "CTYPE2": "DEC--TAN",
            "EQUINOX": 2000.0,
            "CRVAL1": float(w.crval[0]),
            "CRVAL2": float(w.crval[1]),
            "CRPIX1": float(crpix[0]),
            "CRPIX2": float(crpix[1]),
            "CDELT1": float(w.cdelt[0]),
            "CDELT2": float(w.cdelt[1]),
            "CROTA2": 0.0,
        }
    )


def write_pixel_field(
    root, n=400, *, seed=0, step=(80, 120), tile=(2.2, 1.3), noise=1.0,
    center=(10.0, 20.0),
):
    """Write a Montage-style work folder of ``n`` projected tiles with pixels.

    Like ``tests/mosaic_fields.make_mosaic`` scaled up: one smooth sky, plus a
    random plane and white noise per tile, written straight in the template
    grid (BITPIX -64, constant area files), on a `staggered_layout` with
    twelve neighbours per tile: 400 tiles of 176 x 156 pixels give about
    2,200 pairs.

    Parameters
    ----------
    root : path-like
        Work folder: ``projected/`` (``hdu0_t%05d.fits`` and area files),
        ``template.hdr``, ``images.tbl``, ``diffs.tbl`` (the true pairs in
        mOverlaps' order), empty ``diffs/`` and ``truth.json``.
    n : int
        Number of tiles.
    seed : int
        Seed of layout, planes and noise.
    step, tile : tuple
        As in `staggered_layout` (pixels; steps).
    noise : float
        Pixel noise, DN.
    center : tuple of float
        (RA, Dec) of the template centre.

    Returns
    -------
    SurveyTable
        Paths (``fits_tbl`` is where fits go, not written), layout, pairs and
        injected planes.

    Examples
    --------
    >>> import tempfile
    >>> f = write_pixel_field(tempfile.mkdtemp(), 6, step=(20, 30))
    >>> len(list((f.root / "projected").glob("*_area.fits"))), len(f.pairs)
    (6, 14)
    """
    from astropy.io import fits

    root = Path(root)
    for d in (root, root / "projected", root / "diffs"):
        d.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    lay = staggered_layout(n, step=step, tile=tile, center=center, seed=seed)
    planes = _truth_planes(lay, rng)
    names = [f"hdu0_t{k:05d}.fits" for k in range(n)]
    hdr = _header(lay, lay.shape, lay.crpix)
    (root / "template.hdr").write_text(
        "\n".join(c.image.rstrip() for c in hdr.cards) + "\nEND\n"
    )
    for k, name in enumerate(names):
        ny, nx = int(lay.naxis2[k]), int(lay.naxis1[k])
        jj, ii = np.mgrid[0:ny, 0:nx]
        ii, jj = ii + lay.i0[k], jj + lay.j0[k]  # template pixels
        a, b, c = planes[k]
        data = (
            5 * np.sin(ii / 17.0) + 3 * np.cos(jj / 11.0) + 100
            + a * (ii - lay.crpix[0]) + b * (jj - lay.crpix[1]) + c
            + rng.normal(0, noise, (ny, nx))
        )
        crpix = (lay.crpix[0] - lay.i0[k], lay.crpix[1] - lay.j0[k])
        h = _header(lay, (ny, nx), crpix)
        fits.PrimaryHDU(data, h).writeto(root / "projected" / name, overwrite=True)
        fits.PrimaryHDU(np.full((ny, nx), 1e-11), h).writeto(
            root / "projected" / name.replace(".fits", "_area.fits"), overwrite=True
        )
    sizes = [(root / "projected" / nm).stat().st_size for nm in names]
    write_images_tbl(lay, root / "images.tbl", names, sizes)
    pairs = layout_pairs(lay)
    _diffs_tbl(pairs, names, root / "diffs.tbl")
    _write_truth(root, lay, planes, n=n, seed=seed, center=list(center))
    return SurveyTable(root, lay, pairs, planes)


def main(argv=None):
    """Write a field from the command line (see ``--help``)."""
    import argparse

    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("kind", choices=["survey", "pixels"])
    p.add_argument("root", help="folder to write")
    p.add_argument("-n", type=int, help="images (survey 30000, pixels 400)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--step", type=int, nargs=2, default=(80, 120), metavar=("ROWS", "COLUMNS"),
        help="pixel field: pixels between tiles (default 80 120: tiles of 176 x 156; "
        "465 394 gives tiles of 2MASS's atlas size, 1023 x 512)",
    )
    args = p.parse_args(argv)
    if args.kind == "survey":
        out = write_survey_table(args.root, args.n or 30_000, seed=args.seed)
    else:
        out = write_pixel_field(
            args.root, args.n or 400, seed=args.seed, step=tuple(args.step)
        )
    print(f"{len(out.layout)} images, {len(out.pairs)} pairs in {out.root}")


if __name__ == "__main__":
    main()
