"""pytest setup shared by the tests and the docstring examples in ``diffview/``.

Everything runs headless: matplotlib draws with Agg unless ``MPLBACKEND`` says
otherwise (the dashboard makes its own ipympl canvases and does not depend on
pyplot's backend). Docstring examples run in a fresh temporary directory, so
the files they write never land in the checkout.
"""

import os

import pytest

os.environ.setdefault("MPLBACKEND", "agg")


@pytest.fixture(autouse=True)
def _doctest_in_tmp_path(request):
    """Run each docstring example in its own empty working directory."""
    if isinstance(request.node, pytest.DoctestItem):
        tmp = request.getfixturevalue("tmp_path")
        request.getfixturevalue("monkeypatch").chdir(tmp)
