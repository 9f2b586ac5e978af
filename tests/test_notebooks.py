"""Execute every tutorial notebook in a fresh kernel; a cell that raises fails.

The notebooks assert their own key numbers (pair counts, failures, recovered
backgrounds against the injected truth). Each runs in a temporary copy of
``notebooks/`` so the sample data it writes (``data/``) lands in ``tmp_path``.
The whole notebook must finish within ``NOTEBOOK_TIMEOUT`` seconds (issue 5:
under 3 minutes on 2 cores); ``DIFFVIEW_NOTEBOOK_TIMEOUT`` overrides it.

The committed notebooks must be stripped (no outputs, no execution counts) so
the repository stays small; `strip_notebook` does it.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import sys
import time
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

NOTEBOOK_DIR = Path(__file__).resolve().parent.parent / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("[0-9][0-9]-*.ipynb"))
NOTEBOOK_TIMEOUT = float(os.environ.get("DIFFVIEW_NOTEBOOK_TIMEOUT", 180))
MAX_BYTES = 40_000


def strip_notebook(nb) -> bool:
    """Remove outputs and execution counts in place; True if anything changed."""
    changed = False
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        if cell.get("outputs") or cell.get("execution_count") is not None:
            changed = True
        cell["outputs"] = []
        cell["execution_count"] = None
    return changed


def execute_notebook(
    path, workdir, *, timeout=NOTEBOOK_TIMEOUT, kernel_name="python3", env=None
) -> float:
    """
    Run ``path`` in a fresh kernel with ``workdir`` as its working folder.

    Raises ``nbclient.exceptions.CellExecutionError`` when a cell raises and
    `TimeoutError` when the whole notebook takes longer than ``timeout``
    seconds. The executed notebook is written to ``workdir`` for inspection.

    Returns
    -------
    float
        Wall-clock seconds.
    """
    nb = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(
        nb,
        timeout=timeout,
        kernel_name=kernel_name,
        resources={"metadata": {"path": str(workdir)}},
    )
    start = time.perf_counter()

    async def run():
        kwargs = {} if env is None else {"env": env}
        await asyncio.wait_for(client.async_execute(**kwargs), timeout)

    try:
        asyncio.run(run())
    except TimeoutError as exc:
        raise TimeoutError(
            f"{Path(path).name} did not finish within {timeout:.0f} s"
        ) from exc
    finally:
        nbformat.write(nb, Path(workdir) / Path(path).name)
    return time.perf_counter() - start


def _ids(paths):
    return [p.stem for p in paths]


def test_there_are_notebooks():
    assert len(NOTEBOOKS) >= 1, f"no notebooks in {NOTEBOOK_DIR}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids(NOTEBOOKS))
def test_notebook_is_stripped_and_small(path):
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    assert not strip_notebook(nb), f"{path.name} has outputs: strip it first"
    assert path.stat().st_size < MAX_BYTES


@pytest.mark.notebook
@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids(NOTEBOOKS))
def test_notebook_runs(path, tmp_path):
    work = tmp_path / "notebooks"
    shutil.copytree(
        NOTEBOOK_DIR, work, ignore=shutil.ignore_patterns("data", ".ipynb_checkpoints")
    )
    seconds = execute_notebook(work / path.name, work)
    print(f"{path.name}: {seconds:.1f} s")
    assert seconds < NOTEBOOK_TIMEOUT


if __name__ == "__main__":  # python tests/test_notebooks.py --strip notebooks/*.ipynb
    if sys.argv[1:2] == ["--strip"]:
        for name in sys.argv[2:]:
            notebook = nbformat.read(name, as_version=4)
            if strip_notebook(notebook):
                nbformat.write(notebook, name)
                print("stripped", name)
