"""
MontagePy-compatible ``mHistogram``: the histogram file mViewer's ``-histfile`` reads.

The file is Montage's (``docs/montage-semantics.md`` §8.13): a comment block,
the stretch type, the display range in data values, percentiles and sigmas,
the image statistics, the 256 gaussian thresholds (zeros for the other
stretches) and the 199999 histogram bins (lower edge, count, cumulative count
below, normal level), then Montage's extra last bin.
"""

from __future__ import annotations

import os

from diffview.errors import DiffviewError, InputError

from ._contract import dropin

__all__ = ["mHistogram", "write_histfile"]

_COMMENT = "".join(line.replace("~", " ") + "\n" for line in (
    '# HISTOGRAM DATA',
    '#~',
    '# The following data is strictly formatted (after these initial comments).',
    '# The first line is the type of stretch, i.e., power law (linear/log/etc.):0,',
    '# gaussian:1, gaussian-log:2 or asinh:3.',
    '#~',
    '# The second are the data ranges the user gave in the various units (data value,',
    "# percentiles, 'sigma' levels) plus the file data min, max, median and 'sigma'.",
    '#~',
    '# The third (a little repetitive) are the file statistics used in the histogram',
    '# calculation: data min, max, the width of the bins ((max-min)/NBIN) and the~',
    '# total number of pixels in the file.',
    '#~',
    '# Then the conclusions, starting with the 256 data values that correspond to~',
    "# the lowest data value associated with a 'grayscale' output value.",
    '# These are only saved for gaussian and gaussian-log stretches.  For the others',
    '# We just compute on the fly.',
    '#~',
    '# Finally, the NBIN histogram values.  The first column is the bin number.',
    '# The second is the lowest data value that will go into that bin.  This is',
    '# the part that is stretch type dependent.  Next is the count of pixels that',
    '# ended up in that bin followed by the cumulative count, and finally the~',
    '# chi^2 and sigma levels for the bin.',
    '#~',
))


def _type_line(st) -> str:
    if st.mode == "gaussian":
        return "Type 1 (gaussian)"
    if st.mode == "gaussian-log":
        return "Type 2 (gaussian-log)"
    if st.mode == "asinh":
        return "Type 3 (asinh)"
    name = "linear" if st.logpower == 0 else "log"
    return f"Type 0 {st.logpower} ({name})"


def write_histfile(path, st, hist, minstr: str, maxstr: str) -> None:
    r"""
    Write a stretch and its histogram as Montage's histogram file.

    Parameters
    ----------
    path : str or path-like
        The file (written atomically).
    st : Stretch
        The stretch (`diffview.render.compute_stretch` with ``hist``).
    hist : MontageHistogram
        The image's histogram.
    minstr, maxstr : str
        The range as given (written on the ``Ranges`` line).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> import numpy as np
    >>> from diffview.render import compute_stretch, histogram
    >>> a = np.arange(100.0)
    >>> h = histogram(a)
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "a.hist"
    >>> write_histfile(p, compute_stretch(a, "min", "max", "gaussian", hist=h), h,
    ...                "min", "max")
    >>> p.read_text().split("\n")[24:28]
    ['Type 1 (gaussian)', '', 'Ranges (min max)', 'Value 0 99']
    """
    import numpy as np

    from diffview.io import write_file

    def g(v) -> str:
        return f"{v:g}"

    head = [_type_line(st), "", f"Ranges ({minstr} {maxstr})",
            f"Value {g(st.vmin)} {g(st.vmax)}",
            f"Percentile {g(st.minpercent)} {g(st.maxpercent)}",
            f"Sigma {g(st.minsigma)} {g(st.maxsigma)}",
            f"Min/Max {g(st.datamin)} {g(st.datamax)}",
            f"Median/Sigma {g(st.median)} {g(st.sigma)}", "",
            f"rmin {g(hist.rmin)}", f"rmax {g(hist.rmax)}", f"delta {g(hist.delta)}",
            f"npix {hist.npix}", "", "Stretch Lookup"]
    lut = st.thresholds if st.thresholds is not None else np.zeros(256)
    head += [f"{j} {v: e}" for j, v in enumerate(lut)]
    n = hist.nbin
    head += ["", f"{n + 1} Histogram Bins", ""]      # ends the title line
    chist = np.asarray(hist.chist, float)
    lev = hist.rmin + hist.delta * np.arange(n)
    gauss = np.array(hist.gausslev(), float)
    gauss[-1] = gauss[-2]           # Montage's file repeats the level before 100 %
    counts = np.diff(chist).astype(np.int64)
    # Montage's extra last bin: one above the last in data and normal level
    rows = np.column_stack([np.arange(n + 1), np.r_[lev, lev[-1] + 1.0],
                            np.r_[counts, 0], np.r_[chist[:n], chist[n]],
                            np.r_[gauss, gauss[-1] + 1.0]])
    import io

    buf = io.StringIO()
    np.savetxt(buf, rows, fmt=["%d", "% e", "%d", "% e", "% e"], delimiter=" ")
    text = _COMMENT + "\n".join(head) + buf.getvalue()
    write_file(path, text.encode())


@dropin
def mHistogram(imgFile, histFile, minString, maxString, stretchType, xMin=0, xMax=0,
               yMin=0, yMax=0, grayLogPower=1, betaString="", debug=0):
    """
    Drop-in for ``MontagePy.main.mHistogram``: write an image's histogram file.

    Parameters
    ----------
    imgFile : str
        Input FITS image.
    histFile : str
        Output histogram file (for mViewer's ``-histfile``).
    minString, maxString : str
        Display range strings (``docs/montage-semantics.md`` §8.4).
    stretchType : str
        ``linear``, ``log`` (``grayLogPower`` passes), ``loglog``,
        ``gaussian``, ``gaussian-log`` or ``asinh``.
    xMin, xMax, yMin, yMax : int
        An image region; only the whole image (all 0) is implemented.
    grayLogPower : int
        Log passes of the ``log`` stretch.
    betaString : str
        β of the asinh stretch (required for it, as Montage's).
    debug : int
        Accepted for compatibility.

    Returns
    -------
    dict
        ``status`` ``'0'``, ``minval``, ``minpercent``, ``minsigma``,
        ``maxval``, ``maxpercent``, ``maxsigma``, ``datamin``, ``datamax``;
        or ``{'status': '1', 'msg': b'...'}``.

    Notes
    -----
    MontagePy 2.3.0's ``MontagePy.main.mHistogram`` passes its arguments to
    the library in the wrong order and raises ``TypeError``
    (``MontagePy._wrappers.mHistogram`` works); the ``log`` type line
    Montage writes holds an unset number, diffview writes 0 and the power.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> import numpy as np
    >>> from astropy.io import fits
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> fits.writeto(d / "a.fits", np.arange(100.0).reshape(10, 10))
    >>> r = mHistogram(str(d / "a.fits"), str(d / "a.hist"), "1%", "99%", "linear")
    >>> r["status"], round(r["minpercent"], 6), r["datamax"]
    ('0', 1.0, 99.0)
    """
    try:
        return _mhistogram(imgFile, histFile, minString, maxString, stretchType,
                           (xMin, xMax, yMin, yMax), grayLogPower, betaString)
    except DiffviewError as exc:
        return {"status": "1", "msg": str(exc).split(" (accepted:")[0].encode()}


def _mhistogram(img, out, lo, hi, kind, region, power, beta):
    from diffview.render import compute_stretch, histogram, load_image

    if any(region):
        raise InputError("mHistogram image regions are not implemented by diffview")
    if not os.path.exists(img):
        raise InputError(f"File {img} not found.")
    kind = str(kind)
    mode = {"log": int(power), "loglog": 2, "lin": 0, "linear": 0, "power": int(power)
            }.get(kind, kind)
    data, _ = load_image(img)
    h = histogram(data)
    st = compute_stretch(data, lo, hi, mode, beta=beta, hist=h)
    write_histfile(out, st, h, lo, hi)
    out = {"status": "0"}
    for k, v in (("minval", st.vmin), ("minpercent", st.minpercent),
                 ("minsigma", st.minsigma), ("maxval", st.vmax),
                 ("maxpercent", st.maxpercent), ("maxsigma", st.maxsigma),
                 ("datamin", st.datamin), ("datamax", st.datamax)):
        out[k] = float(v)
    return out
