"""MontagePy-compatible mImgtbl (``docs/montage-semantics.md`` §7.3)."""

from __future__ import annotations

from diffview.errors import DiffviewError
from diffview.io import make_image_table, write_images_table

from ._contract import dropin

__all__ = ["mImgtbl"]


@dropin
def mImgtbl(
    pathname,
    tblname,
    recursiveMode=False,
    processAreaFiles=False,  # noqa: N802
    haveCubes=True,
    noGZIP=False,
    showCorners=True,
    showinfo=False,
    showbad=False,
    imgListFile="",
    fieldListFile="",
    debug=0,
):
    """
    Write the image table of a folder (MontagePy's mImgtbl).

    The table has mImgtbl's columns and layout (``docs/montage-semantics.md``
    §7.3), one row per image HDU, in mImgtbl's order: the order the
    directory lists the files (``readdir``), sub-folders where they are
    listed.

    Parameters
    ----------
    pathname : str
        Folder to search.
    tblname : str
        Output image table.
    recursiveMode : bool
        Search sub-folders too.
    processAreaFiles : bool
        Include ``*_area.fits`` files (skipped by default).
    haveCubes : bool
        Add the cube columns ``naxis, naxis3, crval3, cdelt3, crpix3, naxis4,
        crval4, cdelt4, crpix4`` (each keyword's text, empty where missing).
    noGZIP : bool
        Skip ``*.gz`` files.
    showCorners : bool
        Add the corner columns ``ra1, dec1 ... ra4, dec4`` (MontagePy's
        default; the command line's is off).
    showinfo : bool
        Ignored.
    showbad : bool
        Ignored.
    imgListFile : str
        Ignored (Montage: read only the files listed there).
    fieldListFile : str
        Ignored (Montage: extra header keywords as columns).
    debug : int
        Ignored.

    Returns
    -------
    dict
        On success ``status`` ``'0'``, ``count`` (rows written), ``badfits``
        (files that are not readable FITS) and ``badwcs`` (images without a
        usable WCS); on error ``{'status': '1', 'msg': b'...'}``.

    Examples
    --------
    >>> mImgtbl("/nonexistent", "images.tbl")["status"]
    '1'

    >>> import os, tempfile
    >>> from diffview.sample import write_sample
    >>> s = write_sample(tempfile.mkdtemp(), "small")
    >>> out = os.path.join(s.root, "again.tbl")
    >>> mImgtbl(str(s.proj_dir), out)
    {'status': '0', 'count': 6, 'badfits': 0, 'badwcs': 0}
    """
    try:
        r = make_image_table(
            pathname,
            recursive=recursiveMode,
            corners=showCorners,
            area_files=processAreaFiles,
            cubes=haveCubes,
            gzip=not noGZIP,
        )
        write_images_table(r.table, tblname)
    except DiffviewError as exc:
        return {"status": "1", "msg": str(exc).encode()}
    return {
        "status": "0",
        "count": len(r.table),
        "badfits": len(r.badfits),
        "badwcs": len(r.badwcs),
    }
