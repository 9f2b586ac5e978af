"""
Built-in sample data: a seeded synthetic field like Montage's M17 tutorial.

`write_sample` makes raw 2MASS-like tiles (TAN, 1 arcsec pixels, small
rotations, staggered scans so each tile overlaps several neighbours) of a sky
of point sources, extended nebulosity and noise, adds a known background plane
to every tile, and then runs the steps before background matching the way a
user would: image table, template, reprojection (``reproject``), projected
image table, overlaps and a mosaic. Nothing is downloaded.

The injected planes are kept as ``Sample.truth``: ``{cntr: (a, b, c)}`` of
the projected images, in Montage's plane frame (``x = i - CRPIX1`` with ``i``
the 0-based column, one frame for the whole template), so the corrections a
background model recovers compare directly with them.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from astropy.io import fits
from astropy.wcs import WCS

from diffview import io
from diffview.geometry import find_overlaps
from diffview.io import headers_table, make_image_table, write_images_table
from diffview.models import Overlap
from diffview.run import coadd, make_template, project_images

__all__ = ["PRESETS", "Sample", "write_sample", "sample_headers"]

#: Layouts: scans (columns) x tiles per scan, tile size (ny, nx), steps, noise.
PRESETS = {
    "small": dict(
        ncols=2, nrows=3, tile=(96, 64), step=(80, 52), stars=120, blobs=4, noise=2.0
    ),
    "m17": dict(
        ncols=7,
        nrows=6,
        tile=(256, 128),
        step=(226, 108),
        stars=2500,
        blobs=14,
        noise=2.0,
    ),
    "dense": dict(
        ncols=2, nrows=8, tile=(96, 64), step=(47, 52), stars=200, blobs=4, noise=2.0
    ),
    # tiles of 2MASS's atlas size: the scale of a Montage user's field (and of
    # the 127-pair field the speed targets were set on), for the benchmarks
    "2mass": dict(
        ncols=5,
        nrows=10,
        tile=(1024, 512),
        step=(904, 432),
        stars=20000,
        blobs=40,
        noise=2.0,
    ),
}
_CENTRE = (275.1083, -16.1772)  # M17
_SCALE = 1.0 / 3600.0


@dataclass
class Sample:
    """
    Where `write_sample` put everything, and the injected truth.

    Parameters
    ----------
    root : pathlib.Path
        The work folder.
    preset : str
        Name of the layout in `PRESETS`.
    seed : int
        Seed of everything random.
    truth : dict
        ``{cntr: (a, b, c)}`` injected plane of each projected image.

    Attributes
    ----------
    raw_dir, proj_dir, diff_dir : pathlib.Path
        Raw tiles, projected images (+ areas), differences (empty at first).
    raw_images_tbl, images_tbl : pathlib.Path
        Image tables of the raw and the projected images.
    template : pathlib.Path
        The mosaic template ``.hdr``.
    mosaic : pathlib.Path
        Coadd of the projected images (before background matching).
    diffs_tbl : pathlib.Path
        Overlapping pairs (mOverlaps' ``diffs.tbl``).
    fits_tbl, corrections_tbl : pathlib.Path
        Where fits and corrections go by convention (not written here).
    overlaps : list of Overlap
        The pairs of ``diffs.tbl``.

    Examples
    --------
    >>> s = Sample(Path("work"), "small", 0)
    >>> s.proj_dir.as_posix(), s.diffs_tbl.name
    ('work/projected', 'diffs.tbl')
    """

    root: Path
    preset: str
    seed: int
    truth: dict = field(default_factory=dict)

    @property
    def raw_dir(self) -> Path:
        """Folder of the raw tiles."""
        return self.root / "raw"

    @property
    def proj_dir(self) -> Path:
        """Folder of the projected images and their area files."""
        return self.root / "projected"

    @property
    def diff_dir(self) -> Path:
        """Folder for the differences (empty at first)."""
        return self.root / "diffs"

    @property
    def raw_images_tbl(self) -> Path:
        """Image table of the raw tiles."""
        return self.root / "rimages.tbl"

    @property
    def images_tbl(self) -> Path:
        """Image table of the projected images."""
        return self.root / "images.tbl"

    @property
    def template(self) -> Path:
        """The mosaic template ``.hdr``."""
        return self.root / "template.hdr"

    @property
    def mosaic(self) -> Path:
        """Coadd of the projected images, before background matching."""
        return self.root / "mosaic.fits"

    @property
    def diffs_tbl(self) -> Path:
        """Overlapping pairs (mOverlaps' ``diffs.tbl``)."""
        return self.root / "diffs.tbl"

    @property
    def fits_tbl(self) -> Path:
        """Where the plane fits go by convention (not written here)."""
        return self.root / "fits.tbl"

    @property
    def corrections_tbl(self) -> Path:
        """Where the corrections go by convention (not written here)."""
        return self.root / "corrections.tbl"

    @property
    def overlaps(self) -> list[Overlap]:
        """The pairs of ``diffs.tbl``."""
        return io.read_diffs_table(self.diffs_tbl)


def _tile_header(ra: float, dec: float, theta: float, shape) -> fits.Header:
    """Build a raw tile's header, CDELT + CROTA2 as 2MASS Atlas images have."""
    ny, nx = shape
    h = fits.Header()
    h["SIMPLE"], h["BITPIX"], h["NAXIS"] = True, -32, 2
    h["NAXIS1"], h["NAXIS2"] = nx, ny
    h["CTYPE1"], h["CTYPE2"] = "RA---TAN", "DEC--TAN"
    h["CRVAL1"], h["CRVAL2"] = ra, dec
    h["CRPIX1"], h["CRPIX2"] = nx / 2 + 0.5, ny / 2 + 0.5
    h["CDELT1"], h["CDELT2"] = -_SCALE, _SCALE
    h["CROTA2"] = math.degrees(theta)
    h["EQUINOX"] = 2000.0
    h["BUNIT"] = "DN"
    h["ORIGIN"] = "diffview synthetic sample"
    return h


def _field_wcs() -> WCS:
    w = WCS(naxis=2)
    w.wcs.ctype = ["RA---TAN", "DEC--TAN"]
    w.wcs.crval = list(_CENTRE)
    w.wcs.crpix = [0.0, 0.0]
    w.wcs.cdelt = [-_SCALE, _SCALE]
    return w


def sample_headers(preset: str = "small", seed: int = 0) -> list[fits.Header]:
    """
    Headers of the raw tiles of a preset: TAN, 1 arcsec, small rotations.

    Scans (columns of tiles) are staggered by half a tile so that every tile
    overlaps its neighbours in the scan and two tiles in each next scan.

    Parameters
    ----------
    preset : {"small", "m17", "dense", "2mass"}
        Layout (`PRESETS`).
    seed : int
        Seed of the small random shifts and rotations.

    Returns
    -------
    list of astropy.io.fits.Header
        One header per tile, scan by scan.

    Raises
    ------
    ValueError
        For an unknown preset.

    Examples
    --------
    >>> hs = sample_headers("small")
    >>> len(hs), hs[0]["NAXIS1"], hs[0]["CTYPE1"]
    (6, 64, 'RA---TAN')
    """
    p = _preset(preset)
    rng = np.random.default_rng(seed)
    (ny, nx), (sy, sx) = p["tile"], p["step"]
    fw = _field_wcs()
    headers = []
    for c in range(p["ncols"]):
        for r in range(p["nrows"]):
            x = c * sx + rng.uniform(-3, 3) - (p["ncols"] - 1) * sx / 2
            y = (
                r * sy
                + (c % 2) * sy / 2
                + rng.uniform(-3, 3)
                - (p["nrows"] - 1) * sy / 2
            )
            ra, dec = fw.wcs_pix2world([[x, y]], 0)[0]
            h = _tile_header(ra, dec, math.radians(rng.uniform(-0.4, 0.4)), (ny, nx))
            headers.append(h)
    return headers


def _preset(name: str) -> dict:
    if name not in PRESETS:
        raise ValueError(
            f"unknown sample preset {name!r}; choose from {sorted(PRESETS)}"
        )
    return PRESETS[name]


def _sky_sources(p: dict, rng) -> dict:
    """Stars and nebulosity in field arcsec coordinates."""
    (ny, nx), (sy, sx) = p["tile"], p["step"]
    half = (p["ncols"] * sx / 2 + nx, p["nrows"] * sy / 2 + ny)
    stars = rng.uniform([-half[0], -half[1]], half, size=(p["stars"], 2))
    flux = 300.0 * rng.pareto(1.3, p["stars"]) + 20.0
    blobs = rng.uniform([-half[0], -half[1]], half, size=(p["blobs"], 2))
    amp = rng.uniform(20, 250, p["blobs"])
    sig = rng.uniform(30, 220, (p["blobs"], 2))
    return dict(stars=stars, flux=np.minimum(flux, 5e4), blobs=blobs, amp=amp, sig=sig)


def _render_tile(
    h: fits.Header, src: dict, plane, twcs: WCS, noise: float, rng
) -> np.ndarray:
    ny, nx = h["NAXIS2"], h["NAXIS1"]
    w = WCS(h)
    jj, ii = np.mgrid[0:ny, 0:nx]
    world = w.pixel_to_world(ii, jj)
    fx, fy = _field_wcs().world_to_pixel(world)
    img = np.full((ny, nx), 150.0)
    for (bx, by), a, (s1, s2) in zip(src["blobs"], src["amp"], src["sig"], strict=True):
        img += a * np.exp(-0.5 * (((fx - bx) / s1) ** 2 + ((fy - by) / s2) ** 2))
    sx, sy = w.world_to_pixel(
        _field_wcs().pixel_to_world(src["stars"][:, 0], src["stars"][:, 1])
    )
    sigma = 1.1
    inside = (sx > -8) & (sx < nx + 8) & (sy > -8) & (sy < ny + 8)
    for x0, y0, f in zip(sx[inside], sy[inside], src["flux"][inside], strict=True):
        i0, i1 = max(int(x0) - 6, 0), min(int(x0) + 7, nx)
        j0, j1 = max(int(y0) - 6, 0), min(int(y0) + 7, ny)
        if i1 <= i0 or j1 <= j0:
            continue
        yy, xx = np.mgrid[j0:j1, i0:i1]
        img[j0:j1, i0:i1] += (
            f
            / (2 * np.pi * sigma**2)
            * np.exp(-0.5 * ((xx - x0) ** 2 + (yy - y0) ** 2) / sigma**2)
        )
    tx, ty = twcs.world_to_pixel(world)  # 0-based template pixels
    a, b, c = plane
    tcrpix = twcs.wcs.crpix
    img += a * (tx - tcrpix[0]) + b * (ty - tcrpix[1]) + c
    img += rng.normal(0.0, noise, img.shape)
    return img.astype(np.float32)


def write_sample(
    root,
    preset: str = "small",
    *,
    seed: int = 0,
    workers: int | None = None,
    quiet: bool = True,
) -> Sample:
    """
    Write the sample field and the steps before background matching.

    Parameters
    ----------
    root : str or path-like
        Work folder (created; existing sample files are overwritten).
    preset : {"small", "m17", "dense", "2mass"}
        ``small``: 6 tiles, 9 overlaps, a second to make. ``m17``: 42 tiles
        of 128 x 256 pixels and 101 overlaps. ``dense``: 16 tiles of 64 x 96
        whose scans are covered twice; tiles two apart in a scan touch in
        0-3 pixel strips whose fits are off by tens to hundreds of DN (the
        case for quality inspection). ``2mass``: 50 tiles of 2MASS's atlas
        size, 512 x 1024 pixels, and 121 overlaps (700 MB, about a minute
        and a half to make on two cores).
    seed : int
        Seed of everything random (sky, layout, planes, noise).
    workers : int, optional
        Processes for the reprojection (default all cores).
    quiet : bool
        No progress bar.

    Returns
    -------
    Sample
        The paths of everything written and the injected planes.

    Examples
    --------
    >>> import tempfile
    >>> s = write_sample(tempfile.mkdtemp(), "small")
    >>> len(s.truth), len(s.overlaps) > 5, s.template.exists()
    (6, True, True)
    """
    p = _preset(preset)
    rng = np.random.default_rng(seed)
    sample = Sample(Path(root), preset, seed)
    for d in (sample.root, sample.raw_dir, sample.proj_dir, sample.diff_dir):
        d.mkdir(parents=True, exist_ok=True)
    headers = sample_headers(preset, seed)
    names = [f"tile_{k:03d}.fits" for k in range(len(headers))]
    template = make_template(headers_table(headers, names))
    twcs = WCS(template)
    src = _sky_sources(p, rng)
    planes = {}
    for k, h in enumerate(headers):
        plane = (rng.normal(0, 2e-3), rng.normal(0, 2e-3), rng.normal(0, 8.0))
        data = _render_tile(h, src, plane, twcs, p["noise"], rng)
        io.write_image(data, h, sample.raw_dir / names[k])
        planes[f"hdu0_{names[k]}"] = plane
    raw = make_image_table(sample.raw_dir, absolute=False, sort=True).table
    write_images_table(raw, sample.raw_images_tbl)
    io.write_template(template, sample.template)
    project_images(
        raw, sample.raw_dir, template, sample.proj_dir, workers=workers, quiet=quiet
    )
    proj = make_image_table(sample.proj_dir, absolute=False, sort=True).table
    write_images_table(proj, sample.images_tbl)
    sample.truth = {
        int(r["cntr"]): tuple(float(v) for v in planes[str(r["fname"])]) for r in proj
    }
    io.write_diffs_table(find_overlaps(proj), sample.diffs_tbl)
    coadd(proj, sample.proj_dir, template, sample.mosaic)
    (sample.root / "truth.json").write_text(
        json.dumps(
            {
                "preset": preset,
                "seed": seed,
                "planes": {str(k): v for k, v in sample.truth.items()},
                "frame": "x = i - CRPIX1, y = j - CRPIX2 (0-based i, j)",
            },
            indent=1,
        )
    )
    return sample
