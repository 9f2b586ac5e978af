"""mViewer's grid labels: where they are, what they say, the lines they blank."""

from functools import partial

import numpy as np
import pytest
from astropy.io import fits

from conftest import MP as montage
from conftest import tan_header as shared_tan_header
from diffview.geometry import grid_labels, latitude_label, longitude_label
from diffview.montage import mViewer

PIL = pytest.importorskip("PIL.Image")

tan_header = partial(shared_tan_header, crval=(275.196, -16.171))
NX, NY = 200, 120
GRID = "-color red -grid eq -ct 0 -gray @m.fits 0 30"


@pytest.fixture(scope="module")
def field(tmp_path_factory):
    d = tmp_path_factory.mktemp("labels")
    rng = np.random.default_rng(16)
    fits.writeto(d / "m.fits", rng.normal(10.0, 1.0, (NY, NX)),
                 tan_header(NX, NY, 100.5, 60.5))
    h = tan_header(NX, NY, 100.5, 60.5)
    h["CROTA2"] = 30.0
    fits.writeto(d / "r.fits", rng.normal(10.0, 1.0, (NY, NX)), h)
    fits.writeto(d / "w.fits", rng.normal(10.0, 1.0, (300, 700)),
                 tan_header(700, 300, 350.5, 150.5))
    return d


def _picture(run, d, cmd, name):
    r = run(cmd.replace("@", str(d) + "/"), str(d / name), mode=2)
    assert r["status"] == "0", r
    with PIL.open(d / name) as im:
        return np.asarray(im.convert("RGB")).astype(int)


def _text_mask(run, d, image="m.fits", csys="eq"):
    """Pixels that labels change: full-size labels against 1-point ones."""
    cmd = GRID.replace("m.fits", image).replace("-grid eq", f"-grid {csys}")
    big = _picture(run, d, cmd, "big.png")
    small = _picture(run, d, "-fontscale 0.01 " + cmd, "small.png")
    return (big != small).any(-1), big


def test_formats_are_montages():
    assert longitude_label(275.0) == "18h 20m"
    assert longitude_label(275.2, hours=False) == "275d 12m"
    assert longitude_label(275.0 + 52 / 240) == "18h 20m 52s"
    assert latitude_label(-16.1666666667) == "-16d 10m"
    assert latitude_label(-16.18) == "-16d 10m 48s"
    assert latitude_label(0.5) == "+0d 30m"


def test_labels_drawn_where_placed(field):
    """Red text at each placed label's centre, none with -fontscale 0.01;
    lines are blanked under the labels."""
    mask, big = _text_mask(mViewer, field)
    labels = grid_labels(fits.getheader(field / "m.fits"))
    assert len(labels) == 6
    assert [t for t, *_ in labels][:3] == ["18h 20m 44s", "18h 20m 48s", "18h 20m 52s"]
    assert mask.sum() > 500
    red = (big[..., 0] > 200) & (big[..., 1] < 80)
    for _, x, y, _ in labels:
        r, c = int(round(y)) + 1, int(round(x)) + 1
        if 3 <= r < NY - 3 and 3 <= c < NX - 3:
            assert mask[r - 3:r + 4, c - 4:c + 5].any()
            assert red[r - 3:r + 4, c - 4:c + 5].sum() > 3
    # the middle latitude line (the longitude labels) is blanked under its text
    row = int(round(labels[0][2])) - 1
    line = red[row - 1:row + 2].any(0)
    assert line[192:].all() and not line[40:60].all()


def _centroids(mask, labels):
    """Centroid of the changed pixels in a window around each placed label."""
    out = []
    for _, x, y, _ in labels:
        r, c = int(round(y)), int(round(x))
        rr, cc = np.nonzero(mask[max(0, r - 9):r + 10, max(0, c - 22):c + 23])
        out.append((rr.mean() + max(0, r - 9), cc.mean() + max(0, c - 22)))
    return np.array(out)


@pytest.mark.montage
@pytest.mark.parametrize("image, csys, tol", [
    ("m.fits", "eq", (1.0, 2.5)), ("r.fits", "eq", (1.0, 3.5)),
    ("m.fits", "ga", (1.0, 2.0)), ("w.fits", "eq", (1.0, 2.0))])
def test_label_positions_match_montagepy(field, image, csys, tol):
    """Fonts differ (DejaVu Sans here): the labelled zones (text and the lines
    blanked under it) lie where mViewer's do, upright or turned 30 degrees:
    each label's centroid within a pixel or two of mViewer's. (A galactic
    grid goes through astropy's frames, 0.02-0.4 arcsec from Montage's.)"""
    pytest.importorskip("importlib_resources")
    frame = {"eq": "equatorial", "ga": "galactic"}[csys]
    labels = grid_labels(fits.getheader(field / image), frame)
    from scipy.ndimage import binary_dilation

    mm, md = (_text_mask(run, field, image, csys)[0]
              for run in (montage.mViewer, mViewer))
    cm, cd = _centroids(mm, labels), _centroids(md, labels)
    # and no label of mViewer's is missing (w.fits: every other longitude)
    near = binary_dilation(md, np.ones((15, 15), bool))
    assert (mm & ~near).sum() <= 0.05 * mm.sum()
    assert len(labels) >= 4 and (csys == "eq") == labels[0][0].startswith("18h")
    assert np.abs(cm - cd)[:, 0].max() <= tol[0], (cm - cd)
    assert np.abs(cm - cd)[:, 1].max() <= tol[1], (cm - cd)
