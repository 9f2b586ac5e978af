"""mViewer colour tables and overlay colours."""

import numpy as np
import pytest

from diffview.errors import InputError
from diffview.render import NTABLES, color_rgb, color_table, overlay_rgb255


def test_all_tables_shape_dtype_readonly():
    for ct in range(NTABLES):
        t = color_table(ct)
        assert t.shape == (256, 3) and t.dtype == np.uint8
        assert not t.flags.writeable


def test_grey_tables():
    assert (color_table(0) == np.arange(256)[:, None]).all()
    assert (color_table(1) == 255 - np.arange(256)[:, None]).all()


def test_ramps():
    r = np.arange(256)
    assert (color_table(8)[:, 0] == r).all() and not color_table(8)[:, 1:].any()
    assert (color_table(9)[:, 1] == r).all()
    assert (color_table(10)[:, 2] == r).all()


def test_integer_slopes_table2():
    t = color_table(2)
    # segment 0..17 of red: 0 -> 98, slope 98 // 17 = 5 (not 5.76)
    assert t[1, 0] == 5 and t[16, 0] == 80 and t[17, 0] == 98
    # blue 0 -> 180 on 0..17: slope 10
    assert t[1, 2] == 10 and t[17, 2] == 180
    # a falling segment truncates toward zero: blue 180 -> 98 on 17..34
    # slope -(82 // 17) = -4
    assert t[18, 2] == 176


def test_table11_starts_black_and_table12_pastel():
    assert color_table(11)[0].tolist() == [0, 0, 0]
    assert color_table(11)[1].tolist() != [0, 0, 0]
    assert color_table(12)[0].tolist() == [255, 255, 255]
    # integer slope -(72 // 59) = -1 misses the last control point (128)
    assert color_table(12)[255].tolist() == [141, 0, 0]


def test_control_points_reached():
    t = color_table(4)
    assert t[255].tolist() == [255, 255, 255]
    assert t[0].tolist() == [0, 0, 0]
    assert t[119].tolist() == [20, 255, 30]


@pytest.mark.parametrize("bad", [-1, 13, "x"])
def test_bad_table_index(bad):
    with pytest.raises(InputError):
        color_table(bad)


def test_overlay_colours():
    assert color_rgb("yellow") == (1.0, 1.0, 0.0)
    assert color_rgb("orange") == (1.0, 155 / 255, 0.0)
    assert color_rgb("#00ff00") == (0.0, 1.0, 0.0)
    assert color_rgb("ffa080") == (1.0, 160 / 255, 128 / 255)
    assert color_rgb("unknown-name") == (128 / 255,) * 3     # Montage: gray
    assert color_rgb((0.1, 0.2, 0.3)) == (0.1, 0.2, 0.3)
    assert overlay_rgb255("ffa080").tolist() == [255, 160, 128]
    # mViewer's gray is 128/255 (128 drawn); its colour before any -color
    # is 0.5 (127), which MontagePy's pictures show
    assert overlay_rgb255("grey").tolist() == [128, 128, 128]
    assert overlay_rgb255((0.5, 0.5, 0.5)).tolist() == [127, 127, 127]


def _nearest(colour, ct):
    """Least RGB distance (0..255 units) from a colour to a table's colours."""
    table = color_table(ct).astype(float)
    return float(np.sqrt(((table - np.array(colour) * 255.0) ** 2).sum(1)).min())


def test_contrast_colours_stand_out_from_every_table():
    from diffview.render import contrast_colors

    for ct in range(13):
        rejected, blank = contrast_colors(ct)
        assert _nearest(rejected, ct) > 120, ct
        assert _nearest(blank, ct) > 120, ct
        gap = np.sqrt(((np.array(rejected) - np.array(blank)) ** 2).sum()) * 255
        assert gap > 120, ct
    # the fixed red marker of before is lost in several tables
    lost = [ct for ct in range(13) if _nearest((1.0, 0.1, 0.1), ct) < 60]
    assert {2, 3, 4, 8} <= set(lost)
    with pytest.raises(InputError):
        contrast_colors(13)
