"""MontagePy-compatible mImgtbl."""

from __future__ import annotations

from diffview.errors import DiffviewError
from diffview.io.imgtbl import make_image_table, write_images_table

__all__ = ["mImgtbl"]


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
    Image table of a folder, with MontagePy's signature and returned dict.

    ``haveCubes``, ``noGZIP``, ``showinfo``, ``imgListFile`` and
    ``fieldListFile`` are accepted for compatibility and ignored: diffview
    writes no cube columns and reads every FITS file it finds. Rows are in
    file-name order (Montage uses directory order).

    Returns
    -------
    dict
        ``{'status': '0', 'count': N, 'badfits': B, 'badwcs': W}`` or
        ``{'status': '1', 'msg': b'...'}``.

    Examples
    --------
    >>> mImgtbl("/nonexistent", "images.tbl")["status"]
    '1'
    """
    try:
        r = make_image_table(
            pathname,
            recursive=recursiveMode,
            corners=showCorners,
            area_files=processAreaFiles,
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
