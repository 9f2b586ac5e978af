"""
Drop-in replacements for MontagePy's functions.

``from diffview.montage import mDiffExec`` replaces
``from MontagePy.main import mDiffExec`` in an existing script: same names,
arguments, defaults and returned dicts (``status`` is the string ``'0'`` or
``'1'``, ``msg`` is bytes). Where Montage has a bug, diffview fixes it; each
function's Notes name the difference, and ``docs/montage-semantics.md`` §9.2
lists them all. Keyword-only extras (``executor``, ``workers``, ``quiet``)
choose where the pairs run.

`parse_command`, `parse_json` and `run_command` expose mViewer's command
grammar to the ``diffview view`` command.

Examples
--------
The background-matching chain on the sample field, as a MontagePy script
would run it:

>>> import os, tempfile
>>> from diffview.montage import mBgModel, mDiffFitExec, mImgtbl, mOverlaps
>>> from diffview.sample import write_sample
>>> s = write_sample(tempfile.mkdtemp(), "small")
>>> root = str(s.root)
>>> mImgtbl(str(s.proj_dir), os.path.join(root, "p.tbl"))["status"]
'0'
>>> mOverlaps(os.path.join(root, "p.tbl"), os.path.join(root, "d.tbl"))["status"]
'0'
>>> r = mDiffFitExec(str(s.proj_dir), os.path.join(root, "d.tbl"),
...                  str(s.template), str(s.diff_dir), os.path.join(root, "f.tbl"))
>>> r["diff_failed"], r["fit_failed"]
(0, 0)
>>> mBgModel(os.path.join(root, "p.tbl"), os.path.join(root, "f.tbl"),
...          os.path.join(root, "c.tbl"))
{'status': '0'}
"""

from diffview.lazy import attach

#: Name -> the private module that defines it. Each loads on first use, so
#: ``import diffview.montage`` is cheap and ``from diffview.montage import
#: mDiffExec`` loads only what mDiffExec needs.
_LAZY = {
    "mImgtbl": "._imgtbl",
    "mOverlaps": "._diff",
    "mDiff": "._diff",
    "mDiffExec": "._diff",
    "mFitplane": "._fit",
    "mFitExec": "._fit",
    "mDiffFitExec": "._fit",
    "mBgModel": "._bg",
    "mBackground": "._bg",
    "mBgExec": "._bg",
    "mViewer": "._viewer",
    "ViewerCommand": "._command",
    "parse_command": "._command",
    "parse_json": "._command",
    "run_command": "._viewer",
}

__all__ = [
    "mImgtbl",
    "mOverlaps",
    "mDiff",
    "mDiffExec",
    "mFitplane",
    "mFitExec",
    "mDiffFitExec",
    "mBgModel",
    "mBackground",
    "mBgExec",
    "mViewer",
    "ViewerCommand",
    "parse_command",
    "parse_json",
    "run_command",
]


__getattr__, __dir__ = attach(__name__, _LAZY, __all__)
