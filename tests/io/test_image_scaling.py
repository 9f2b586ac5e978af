"""Integer and scaled FITS images read as CFITSIO reads them for Montage.

Every reader (the plain fast path, `BoxReader` rows and memory maps, the
astropy fallback) returns ``raw * BSCALE + BZERO`` in float64, with NaN where
an integer pixel equals ``BLANK``.
"""

from pathlib import Path

import numpy as np
import pytest
from astropy.io import fits

from diffview import io
from diffview.errors import InputError

REAL = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "real"
CFHT = REAL / "cfht_a370" / "a370II.fits"

# (name, on-disk dtype, BSCALE, BZERO, BLANK): uint16 as int16 + 32768, a
# non-dyadic scale (float32 would round it), signed bytes, 32/64-bit, BLANK
KINDS = [
    ("uint16", ">i2", 1.0, 32768.0, None),
    ("int16-scaled", ">i2", 0.1, -5.3, None),
    ("int16-blank", ">i2", 1.0, 0.0, -32768),
    ("int16-scaled-blank", ">i2", 2.5e-3, 100.0, 32767),
    ("int32", ">i4", 1.0, 0.0, None),
    ("int32-scaled", ">i4", 1e-6, 1.0, -1),
    ("int64", ">i8", 1.0, 0.0, None),
    ("uint8", "u1", 1.0, 0.0, None),
    ("int8", "u1", 1.0, -128.0, 255),
    ("float32-scaled", ">f4", 3.0, 1.0, None),
]


def write_raw(path, raw, scale, zero, blank, crpix=(3.5, -2.0), bzero=None):
    """Write ``raw`` as it is on disk, with the scaling cards (no astropy scaling)."""
    hdr = fits.Header()
    hdr["SIMPLE"] = True
    bitpix = {"|u1": 8, ">i2": 16, ">i4": 32, ">i8": 64, ">f4": -32}
    hdr["BITPIX"] = bitpix[raw.dtype.str]
    hdr["NAXIS"] = 2
    hdr["NAXIS1"], hdr["NAXIS2"] = raw.shape[1], raw.shape[0]
    hdr["CRPIX1"], hdr["CRPIX2"] = crpix
    if scale != 1.0:
        hdr["BSCALE"] = scale
    if zero != 0.0 or bzero is not None:
        hdr["BZERO"] = zero if bzero is None else bzero
    if blank is not None:
        hdr["BLANK"] = blank
    head = hdr.tostring().encode()
    data = raw.tobytes()
    Path(path).write_bytes(head + data + b"\0" * (-len(data) % 2880))


def physical(raw, scale, zero, blank):
    """What CFITSIO gives Montage: double ``raw*scale + zero``, BLANK -> NaN."""
    out = raw.astype(np.float64) * scale + zero
    if blank is not None and raw.dtype.kind in "iu":
        out[raw == blank] = np.nan
    return out


def raw_pixels(dtype, shape, rng, blank):
    info = np.iinfo(dtype) if np.dtype(dtype).kind in "iu" else None
    if info is None:
        raw = rng.normal(0, 100, shape).astype(dtype)
    else:
        raw = rng.integers(info.min, info.max, shape, endpoint=True).astype(dtype)
        raw[0, :2] = info.min, info.max
    if blank is not None:
        raw[1, 1] = raw[4, 2] = blank
    return raw


@pytest.mark.parametrize(("name", "dtype", "scale", "zero", "blank"), KINDS)
def test_every_reader_scales_as_cfitsio(tmp_path, rng, name, dtype, scale, zero, blank):
    raw = raw_pixels(dtype, (9, 7), rng, blank)
    path = tmp_path / f"{name}.fits"
    write_raw(path, raw, scale, zero, blank)
    want = physical(raw, scale, zero, blank)
    same = np.testing.assert_array_equal  # bit for bit, NaN where NaN

    data, crpix = io.read_plain_image(path)
    same(data, want)
    assert crpix == (3.5, -2.0)
    same(io.read_plain_header_image(path)[0], want)
    same(io.read_image(path)[0], want)  # astropy section, scaled here
    box = ((1, 6), (1, 5))
    same(io.read_image_box(path, box)[0], want[1:6, 1:5])
    same(io.read_box(path, box), want[1:6, 1:5])
    assert io.read_image_grid(path) == ((9, 7), (3.5, -2.0))
    with io.BoxReader() as reader:
        same(reader.read(path, box), want[1:6, 1:5])
        same(reader.read(path, ((0, 9), (0, 7))), want)


def test_memory_mapped_boxes_are_scaled(tmp_path, rng):
    raw = raw_pixels(">i2", (40, 30), rng, -32768)
    path = tmp_path / "a.fits"
    write_raw(path, raw, 0.1, 32768.0, -32768)
    np.testing.assert_array_equal(
        io.read_box(path, ((3, 33), (2, 9))),
        physical(raw, 0.1, 32768.0, -32768)[3:33, 2:9],
    )


def test_scaling_is_double_not_float32(tmp_path):
    # astropy scales int16 to float32, which rounds 0.1 * 12345 - 5.3
    path = tmp_path / "a.fits"
    raw = np.array([[12345, -7]], dtype=">i2")
    write_raw(path, raw, 0.1, -5.3, None)
    assert io.read_box(path, ((0, 1), (0, 2))).tolist() == [
        [12345 * 0.1 - 5.3, -7 * 0.1 - 5.3]
    ]
    with fits.open(path) as hdul:
        assert hdul[0].data.dtype == np.float32  # what diffview must not use


def test_astropy_uint16_file_reads_as_unsigned(tmp_path):
    path = tmp_path / "u.fits"
    values = np.array([[0, 1, 32767, 32768, 65535]], dtype=np.uint16)
    fits.PrimaryHDU(values, fits.Header({"CRPIX1": 1.0, "CRPIX2": 1.0})).writeto(path)
    assert fits.getheader(path)["BZERO"] == 32768  # stored as int16
    assert io.read_box(path, ((0, 1), (0, 5))).tolist() == [values[0].tolist()]


def test_scaled_extension_hdu_goes_through_astropy(tmp_path):
    path = tmp_path / "ext.fits"
    raw = np.array([[1, 2], [3, -32768]], dtype=np.int16)
    ext = fits.ImageHDU(raw, fits.Header({"BLANK": -32768}))
    fits.HDUList([fits.PrimaryHDU(), ext]).writeto(path)
    with fits.open(path, mode="update", do_not_scale_image_data=True) as hdul:
        hdul[1].header["BSCALE"], hdul[1].header["BZERO"] = 0.5, 10.0
    data, _ = io.read_image(path, hdu=1)
    np.testing.assert_array_equal(data, [[10.5, 11.0], [11.5, np.nan]])


def test_invalid_scaling_card_is_an_input_error(tmp_path):
    path = tmp_path / "bad.fits"
    write_raw(path, np.ones((2, 2), ">i2"), 1.0, 0.0, None, bzero="abc")
    assert io.read_plain_image(path) is None  # not plain: the fallback decides
    with pytest.raises(InputError, match=str(path)):
        io.read_box(path, ((0, 1), (0, 1)))


@pytest.mark.skipif(not CFHT.exists(), reason="shared real data not present")
def test_real_cfht_int16_frame_fast_path_matches_astropy():
    hdr = fits.getheader(CFHT)
    assert hdr["BITPIX"] == 16
    assert "BSCALE" not in hdr and "BZERO" not in hdr and "BLANK" not in hdr
    box = ((700, 760), (900, 1000))
    fast = io.read_box(CFHT, box)
    with fits.open(CFHT) as hdul:
        want = hdul[0].data[700:760, 900:1000].astype(np.float64)
    np.testing.assert_array_equal(fast, want)
    assert io.read_plain_image(CFHT) is not None  # an int16 frame is plain now
