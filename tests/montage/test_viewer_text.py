"""mViewer's ``-label x y text``: placed as Montage places it (whole pixels,
started half its 8-point width left of the position, baseline 0.4 size below,
14 points times the sticky ``-fontscale``), in the sticky colour and opacity;
the font differs (DejaVu Sans), so the ink is compared by its extent."""

import numpy as np
import pytest
from test_viewer_overlays import both

from conftest import tan_header
from diffview.montage import parse_command

pytestmark = pytest.mark.montage

GRAY = "-gray @mosaic.fits min max gaussian-log"


@pytest.fixture(scope="module")
def field(tmp_path_factory):
    from astropy.io import fits

    d = tmp_path_factory.mktemp("text")
    rng = np.random.default_rng(8)
    fits.writeto(d / "mosaic.fits", rng.normal(100.0, 5.0, (64, 96)),
                 tan_header(96, 64, 48.5, 32.0, crval=(275.196, -16.171)))
    return d


def _ink(a, plain):
    m = (a != plain).any(-1)
    ys, xs = np.nonzero(m)
    return m, ys, xs


@pytest.mark.parametrize("text", [
    '-color red -label 40p 30p "Hello M17"',
    "-fontscale 2 -color yellow -label 20p 50p Abc",
    "-fontscale 0.6 -color cyan -label 50.7p 10.2p xyz",
    "-color green -label 275.195 -16.171 Sky",        # a sky position
])
def test_labels_where_montage_writes_them(field, text):
    am, ad = both(field, f"-ct 1 {text} {GRAY}")
    plain, _ = both(field, f"-ct 1 {GRAY}")
    (mm, ym, xm), (md, yd, xd) = _ink(am, plain), _ink(ad, plain)
    assert md.sum() > 0.7 * mm.sum() > 20
    assert abs(ym.max() - yd.max()) <= 2 and abs(ym.min() - yd.min()) <= 2
    assert abs(ym.mean() - yd.mean()) < 2 and abs(xm.mean() - xd.mean()) < 2.5
    assert abs(xm.max() - xd.max()) <= 4                   # fonts differ in width
    # the strongest ink is the label's colour (nearly: glyph coverage), as Montage's
    k = np.argmax(np.abs(ad - plain).sum(-1))
    km = np.argmax(np.abs(am - plain).sum(-1))
    assert np.abs(ad.reshape(-1, 3)[k] - am.reshape(-1, 3)[km]).max() < 60


def test_label_alpha_and_nothing_off_the_picture(field):
    am, ad = both(field, f"-ct 1 -alpha 0.5 -color red -label 40p 30p Half {GRAY}")
    plain, _ = both(field, f"-ct 1 {GRAY}")
    m = (ad != plain).any(-1)
    assert m.sum() > 20 and not (ad[m] == [255, 0, 0]).all(-1).any()
    _, ad = both(field, f"-ct 1 -label 10p 500p Off {GRAY}")
    assert (ad == plain).all()


def test_label_words_and_sticky_settings():
    c = parse_command('-fontscale 1.5 -color red -alpha 0.4 -label 10p 20 "A b" '
                      "-gray a.fits 0 1")
    (t,) = c.labels
    assert (t.lon, t.lat, t.inpix, t.text) == (10.0, 20.0, True, "A b")
    assert (t.color, t.alpha, t.fontscale) == ("red", 0.4, 1.5)
    from diffview.errors import InputError

    with pytest.raises(InputError, match="Too few arguments following -label flag"):
        parse_command("-gray a.fits 0 1 -label 1 2")


def test_json_label_overlay_is_the_command_line_label(field, tmp_path):
    import json

    from diffview.montage import mViewer

    spec = {"gray_file": {"fits_file": str(field / "mosaic.fits"), "stretch_min": "min",
                          "stretch_max": "max", "stretch_mode": "gaussian-log"},
            "color_table": 1, "overlays": [{"type": "label", "lon": "40p",
                                            "lat": "30p", "text": "Hello M17",
                                            "color": "red", "font_scale": 1.5}]}
    res = mViewer(json.dumps(spec), str(tmp_path / "j.png"), mode=1)
    assert res["status"] == "0", res
    _, ad = both(field, f"-ct 1 -fontscale 1.5 -color red -label 40p 30p "
                        f'"Hello M17" {GRAY}')
    from PIL import Image

    with Image.open(tmp_path / "j.png") as im:
        assert (np.asarray(im.convert("RGB")).astype(int) == ad).all()
