"""mViewer range strings, histogram and stretches (no MontagePy needed)."""

import math

import numpy as np
import pytest

from diffview.errors import InputError
from diffview.render import (
    NBIN,
    RangeError,
    compute_stretch,
    grey_levels,
    histogram,
    parse_mode,
    parse_range,
    snpinv,
    symmetric_interval,
)


@pytest.fixture(scope="module")
def diff_image():
    rng = np.random.default_rng(7)
    d = rng.normal(0.0, 1.0, (120, 150))
    d[40:46, 60:66] += 25.0
    d[80:82, 10:40] -= 12.0
    d[0, :5] = np.nan
    d[3, 3] = np.inf
    return d


# ---------------------------------------------------------------- range strings

@pytest.mark.parametrize("text, kind, value, extra", [
    ("-2s", "sigma", -2.0, 0.0),
    ("2.5S", "sigma", 2.5, 0.0),
    ("99.5%", "percentile", 99.5, 0.0),
    ("min", "percentile", 0.0, 0.0),
    ("max", "percentile", 100.0, 0.0),
    ("med", "percentile", 50.0, 0.0),
    ("med+3", "percentile", 50.0, 3.0),
    ("max-0.5", "percentile", 100.0, -0.5),
    ("1e-3", "value", 1e-3, 0.0),
    ("-7.25", "value", -7.25, 0.0),
    ("+4", "value", 4.0, 0.0),
    ("2s+1.5", "sigma", 2.0, 1.5),
    (" 5 % ", "percentile", 5.0, 0.0),
    ("-max", "percentile", 100.0, 0.0),       # Montage ignores a sign on keywords
])
def test_parse_range_forms(text, kind, value, extra):
    spec = parse_range(text)
    assert (spec.kind, spec.value, spec.extra) == (kind, value, extra)


def test_parse_range_number_is_value():
    assert parse_range(3).kind == "value" and parse_range(3).value == 3.0
    assert parse_range(np.float64(-1.5)).value == -1.5


@pytest.mark.parametrize("text, words", [
    ("x", "'x' is not a valid display min"),
    ("2x", "'2x' is not a valid display min"),
    ("-5%", "negative percentile"),
    ("101%", "larger than 100"),
    ("maximum", "trailing junk"),
    ("2s+", "trailing junk"),
    ("", "'' is not a valid display min"),
])
def test_parse_range_errors_quote_string_and_list_forms(text, words):
    with pytest.raises(RangeError) as err:
        parse_range(text)
    msg = str(err.value)
    assert words in msg
    assert "accepted:" in msg and "N%" in msg and "Ns" in msg
    assert isinstance(err.value, InputError)


def test_parse_mode_tokens():
    assert parse_mode("gaussian-log") == ("gaussian-log", 0)
    assert parse_mode("glog") == ("gaussian-log", 0)
    assert parse_mode("gl") == ("gaussian-log", 0)
    assert parse_mode("gaussian") == ("gaussian", 0)
    assert parse_mode("g") == ("gaussian", 0)
    assert parse_mode("linear") == ("linear", 0)
    assert parse_mode("power") == ("linear", 0)
    assert parse_mode("log") == ("log", 1)
    assert parse_mode("loglog") == ("loglog", 2)
    assert parse_mode("3") == ("log", 3)
    assert parse_mode(0) == ("linear", 0)
    assert parse_mode("asinh") == ("asinh", 0)
    with pytest.raises(InputError, match="no sqrt"):
        parse_mode("sqrt")


# ---------------------------------------------------------------- histogram

def test_histogram_counts_and_extremes(diff_image):
    h = histogram(diff_image)
    finite = diff_image[np.isfinite(diff_image)]
    assert h.npix == finite.size
    assert h.rmin == finite.min() and h.rmax == finite.max()
    assert h.chist[-1] == finite.size and h.chist[0] == 0
    assert h.chist.size == NBIN + 1
    assert math.isclose(h.delta, (h.rmax - h.rmin) / NBIN)


def test_percentile_level_definition(diff_image):
    """P(p): t = int(N p/100), first bin with C >= t, linear inside the bin."""
    h = histogram(diff_image)
    for p in (16.0, 50.0, 84.0, 99.5):
        frac = p / 100
        t = int(h.npix * frac)
        i = int(np.argmax(h.chist[1:] >= t)) + 1
        lo, hi = h.chist[i - 1] / h.npix, h.chist[i] / h.npix
        expect = h.rmin + (i - 1 + (frac - lo) / (hi - lo)) * h.delta
        assert h.level(p) == pytest.approx(expect, rel=0, abs=1e-12)
    assert h.level(0) == h.rmin and h.level(100) == h.rmax
    finite = diff_image[np.isfinite(diff_image)]
    assert h.median == pytest.approx(np.median(finite), abs=1e-3)
    assert h.sigma == pytest.approx(1.0, abs=0.05)


def test_montage_rmin_seed_quirk():
    """Montage seeds rmin at 1e10: data all above it keep rmin = 1e10."""
    h = histogram(np.array([2e10, 3e10, 4e10]))
    assert h.rmin == 1e10 and h.datamin == 2e10


def test_all_nan_image_raises_clear_error():
    with pytest.raises(InputError, match="no non-blank pixels"):
        compute_stretch(np.full((4, 5), np.nan))
    with pytest.raises(InputError, match="no non-blank pixels"):
        grey_levels(np.full((3, 3), np.inf))


@pytest.mark.parametrize("mode", ["linear", "log", "gaussian", "gaussian-log",
                                  "asinh"])
def test_constant_image_says_why(mode):
    img = np.full((6, 7), 4.5)
    img[0, 0] = np.nan
    s = compute_stretch(img, "-2s", "max", mode)
    assert s.message.startswith("Image is constant (4.5)")
    assert "no contrast" in s.message
    assert (s.vmin, s.vmax) == (4.5, 5.5)          # mViewer: max = min + 1
    g = s.grey(img)
    assert (g == 0).all()


# ---------------------------------------------------------------- stretches

def test_linear_and_sigma_range(diff_image):
    s = compute_stretch(diff_image, "-1s", "5s", "linear")
    h = histogram(diff_image)
    assert s.vmin == pytest.approx(h.median - h.sigma)
    assert s.vmax == pytest.approx(h.median + 5 * h.sigma)
    assert s.minsigma == pytest.approx(-1) and s.maxsigma == pytest.approx(5)
    x = np.array([s.vmin, (s.vmin + s.vmax) / 2, s.vmax, s.vmax + 10, s.vmin - 3])
    assert s.grey(x).tolist() == [0, 128, 255, 255, 0]


def test_log_is_natural_log_and_saturates_at_19_percent():
    ramp = np.linspace(0.0, 1.0, 1001)
    g = grey_levels(ramp, 0.0, 1.0, "log")
    assert g[100] == int(255 * math.log(1.9) + 0.5) == 164     # t = 0.10
    assert g[190] == int(255 * math.log(2.71) + 0.5) == 254    # t = 0.19
    assert (g[200:] == 255).all()
    gg = grey_levels(ramp, 0.0, 1.0, "loglog")
    assert (gg[30:] == 255).all()   # saturates near t = 0.023
    assert grey_levels(ramp, 0.0, 1.0, 3).max() == 255


def test_asinh_beta_is_a_data_value():
    x = np.array([0.0, 0.5, 1.0, -1.0])
    s = compute_stretch(x, 0.0, 1.0, "asinh", beta=2.0)
    expect = [int(min(255, 255 * math.asinh(2 * t) / 2) + 0.5) if t >= 0 else 0
              for t in (0.0, 0.5, 1.0, -1.0)]
    assert s.grey(x).tolist() == expect


def test_gaussian_thresholds_monotone_and_equalise(diff_image):
    s = compute_stretch(diff_image, "min", "max", "gaussian")
    assert s.thresholds.shape == (256,)
    assert np.all(np.diff(s.thresholds) >= 0)
    g = s.grey(diff_image)[np.isfinite(diff_image)]
    # equalised to a normal distribution over +-~3.5 sigma: the middle
    # grey levels hold most of the pixels, the mean sits near 128
    assert 110 < g.mean() < 146


def test_gaussian_log_bright_end_saturated(diff_image):
    s = compute_stretch(diff_image, "-2s", "max", "gaussian-log")
    g = s.grey(diff_image)
    finite = np.isfinite(diff_image)
    assert g[40:46, 60:66].min() >= 250          # sources at the top
    assert (g[finite] <= 255).all() and g[~finite].max() == 0
    assert s.message == ""


def test_blank_pixels_take_saturate_level(diff_image):
    s = compute_stretch(diff_image, "-2s", "max", "gaussian-log", saturate=200)
    g = s.grey(diff_image)
    assert (g[~np.isfinite(diff_image)] == 200).all()
    assert s.blank(diff_image).sum() == (~np.isfinite(diff_image)).sum()


def test_stretch_info_matches_mviewer_keys(diff_image):
    info = compute_stretch(diff_image, "-2s", "max").info()
    assert set(info) == {"grayminval", "grayminpercent", "grayminsigma",
                         "graymaxval", "graymaxpercent", "graymaxsigma",
                         "graydatamin", "graydatamax"}
    assert info["graymaxpercent"] == 100.0
    assert info["grayminsigma"] == pytest.approx(-2.0)


def test_degenerate_gaussian_log_is_explained():
    rng = np.random.default_rng(1)
    img = rng.normal(0, 1, 5000)
    s = compute_stretch(img, "49%", "51%", "gaussian-log")
    assert "degenerate" in s.message


def test_snpinv_close_to_normal_quantiles():
    from statistics import NormalDist

    p = np.array([0.001, 0.16, 0.5, 0.84, 0.95, 0.999])
    ref = np.array([NormalDist().inv_cdf(v) for v in p])
    assert np.allclose(snpinv(p), ref, atol=2e-3)


# ---------------------------------------------------------------- symmetric

def test_symmetric_interval(diff_image):
    lo, hi = symmetric_interval(diff_image, "max")
    finite = np.abs(diff_image[np.isfinite(diff_image)])
    assert hi == pytest.approx(finite.max()) and lo == -hi
    lo, hi = symmetric_interval(diff_image, "3s")
    assert hi == pytest.approx(3 * histogram(diff_image).sigma)
    assert symmetric_interval(diff_image, 2.0) == (-2.0, 2.0)
    assert symmetric_interval(np.zeros((3, 3)), "99%") == (-1.0, 1.0)
    s = compute_stretch(diff_image, *symmetric_interval(diff_image, "99%"),
                        "linear")
    assert s.grey(np.array([0.0]))[0] == 128


def test_grey_levels_shape_and_dtype(diff_image):
    g = grey_levels(diff_image)
    assert g.shape == diff_image.shape and g.dtype == np.uint8


@pytest.mark.parametrize("kind", ["noise", "integers", "offset", "sparse"])
@pytest.mark.parametrize("mode", ["gaussian", "gaussian-log"])
def test_per_bin_levels_equal_per_pixel_levels(kind, mode):
    """The fast path (levels per histogram bin, exact comparisons only in
    bins holding a threshold) equals the plain per-pixel threshold search."""
    rng = np.random.default_rng(3)
    d = {"noise": lambda: rng.normal(0, 1, (200, 300)),
         "integers": lambda: rng.poisson(4.0, (200, 300)).astype(float),
         "offset": lambda: 1e6 + rng.normal(0, 1e-3, (200, 300)),
         "sparse": lambda: np.where(rng.random((200, 300)) < 0.9, 0.0,
                                    rng.exponential(5.0, (200, 300)))}[kind]()
    d[5:9, 7:30] = np.nan
    s = compute_stretch(d, "-2s", "max", mode)
    fast = s.index(d)
    slow = s.index(d.copy())          # not the histogram's array: per pixel
    assert s._hist.describes(d) and not s._hist.describes(d.copy())
    assert np.array_equal(fast, slow)


@pytest.mark.parametrize("mode", ["gaussian-log", "linear"])
@pytest.mark.parametrize("saturate", [0, 7, 512])
def test_levels_mark_blank_pixels_apart(mode, saturate):
    """`Stretch.levels` gives the same levels as `Stretch.index`, per bin or
    per pixel, with blank pixels set to any requested value (256 for the
    renderer's 257-entry colour lookup; 512 is also the marker of bins
    holding a threshold and must not be confused with it)."""
    rng = np.random.default_rng(5)
    d = rng.normal(0, 1, (120, 90))
    d[3:7, 10:20] = np.nan
    d[50, 50] = -np.inf
    s = compute_stretch(d, "-2s", "max", mode, saturate=min(saturate, 255))
    blank = ~np.isfinite(d)
    ref = s.index(d.copy()).astype(np.int64)
    for data in (d, d.copy()):                       # per bin, per pixel
        lev = s.levels(data, blank=saturate if saturate > 255 else 256)
        assert lev.dtype == np.uint16 and lev.shape == d.shape
        assert np.array_equal(lev[~blank], ref[~blank])
        assert (lev[blank] == (saturate if saturate > 255 else 256)).all()
        assert np.array_equal(s.index(data), ref)


def test_histogram_extremes_with_blank_and_infinite_pixels():
    d = np.array([[np.nan, 2.0, -3.0], [np.inf, 5.0, np.nan]])
    h = histogram(d)
    assert (h.datamin, h.datamax, h.npix) == (-3.0, 5.0, 3)
    d[1, 0] = -np.inf
    assert (histogram(d).datamin, histogram(d).datamax) == (-3.0, 5.0)
    assert (histogram(d[:, 1:]).datamin, histogram(d[:, 1:]).datamax) == (-3.0, 5.0)


@pytest.mark.parametrize("vmin, vmax", [("min", "max"), ("-2s", "99.5%"),
                                        ("-1e9", "1e9"), ("0.3", "0.30001")])
@pytest.mark.parametrize("mode", ["gaussian", "gaussian-log"])
def test_per_bin_levels_on_bin_edges_and_shared_bins(vmin, vmax, mode):
    """Pixels on histogram bin edges, many pixels per bin and thresholds
    far outside the data: the per-bin levels still equal the per-pixel
    threshold search."""
    rng = np.random.default_rng(11)
    h = histogram(np.array([0.0, 1.0]))
    edges = h.rmin + h.delta * rng.integers(0, h.nbin, 4000)
    d = np.concatenate([edges, np.nextafter(edges, -np.inf),
                        np.nextafter(edges, np.inf),
                        np.round(rng.normal(0.5, 0.1, 4000), 3), [0.0, 1.0, np.nan]])
    d = np.clip(d, 0.0, 1.0).reshape(-1, 1)
    s = compute_stretch(d, vmin, vmax, mode)
    assert np.array_equal(s.index(d), s.index(d.copy()))


def test_first_ge_is_a_linear_scan_sorted_or_not():
    from diffview.render._gauss import _first_ge

    v = np.array([-1.0, 0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 4.0, np.nan])
    for lv in ([1.0, 2.0, 2.0, 3.0], [np.nan, 1.0, 2.0], [1.0, np.nan, 0.5, 2.0],
               [3.0, 1.0, 2.0], [], [np.nan], [-np.inf, 1e99]):
        lv = np.array(lv)
        scan = [next((j for j, t in enumerate(lv) if t >= x), lv.size) for x in v]
        assert _first_ge(lv, v).tolist() == scan


def test_pixel_bins_in_blocks_are_montages_formula(monkeypatch):
    import diffview.render._histogram as mod

    monkeypatch.setattr(mod, "_CHUNK", 1000)          # many blocks, a short last one
    rng = np.random.default_rng(9)
    a = rng.normal(5.0, 2.0, (77, 53))
    a[0, :4] = a.max()                                # rmax several times
    a[10, 10], a[11, 11], a[12, 12] = np.nan, np.inf, -np.inf
    h = histogram(a)
    finite = np.isfinite(a)
    nb = mod.NBIN
    with np.errstate(invalid="ignore"):
        ref = np.clip(np.floor((a - h.rmin) * nb / (h.rmax - h.rmin)), 0, nb - 1)
    blocks = mod._bin_blocks(a, h.rmin, h.rmax - h.rmin, nb)
    k = np.concatenate([b.copy() for _, b in blocks]).reshape(a.shape)
    assert np.array_equal(np.minimum(k[finite], nb - 1), ref[finite])
    assert (k[~finite] == nb + 1).all()
    counts = np.bincount(ref[finite].astype(np.intp), minlength=nb)
    assert np.array_equal(h.chist, np.r_[0, np.cumsum(counts)])


def test_pixel_bins_without_infinities_skip_the_finite_test(monkeypatch):
    """With NaN but no infinite pixel, the shorter bin computation (NaN sent
    to the blank bin by ``fmin``, truncation as floor) gives the same bins."""
    import diffview.render._histogram as mod

    monkeypatch.setattr(mod, "_CHUNK", 1000)
    rng = np.random.default_rng(10)
    a = rng.normal(5.0, 2.0, (61, 47))
    a[0, :3] = a.max()
    a[5, 5:9] = np.nan
    h = histogram(a)
    assert h._no_inf
    args = (a, h.rmin, h.rmax - h.rmin, mod.NBIN)
    long = np.concatenate([k.copy() for _, k in mod._bin_blocks(*args)])
    short = np.concatenate([k.copy() for _, k in
                            mod._bin_blocks(*args, finite_or_nan=True)])
    assert np.array_equal(long, short) and (short[~np.isfinite(a.ravel())]
                                            == mod.NBIN + 1).all()
    a[7, 7] = np.inf
    assert not histogram(a)._no_inf


@pytest.mark.parametrize("mode", ["gaussian-log", "gaussian"])
def test_kept_bins_give_the_same_levels(mode):
    """A histogram keeping every pixel's bin (``bins_out``) gives the levels
    of the plain one, for whole images and row ranges, and forgets the bins
    on `drop_bins` (the buffer may then be reused)."""
    rng = np.random.default_rng(12)
    d = rng.normal(0, 1, (90, 70))
    d[4:8, 10:20] = np.nan
    buf = np.full(d.size + 5, -7, np.int32)
    kept = compute_stretch(d, "-2s", "max", mode, hist=histogram(d, bins_out=buf))
    plain = compute_stretch(d, "-2s", "max", mode)
    assert kept._hist._bins is not None and kept._hist._bins.base is buf
    for rows in (None, (0, 90), (3, 41), (89, 90)):
        a = kept.levels(d, blank=256, rows=rows)
        assert np.array_equal(a, plain.levels(d, blank=256, rows=rows))
    assert np.array_equal(kept.index(d), plain.index(d.copy()))
    kept._hist.drop_bins()
    buf[:] = 0                                        # reused elsewhere
    assert np.array_equal(kept.levels(d, blank=256), plain.levels(d, blank=256))
    with pytest.raises(ValueError, match="int32"):
        histogram(d, bins_out=np.empty(d.size, np.int64))
    with pytest.raises(ValueError, match="int32"):
        histogram(d, bins_out=np.empty(d.size - 1, np.int32))
