"""The Binder check: a fresh environment made only from ``binder/`` runs every notebook.

Rebuilds what mybinder.org builds, without Docker: a new virtual environment
with the Python of ``binder/runtime.txt``, ``pip install -r
binder/requirements.txt``, then ``binder/postBuild`` run from the root of a
clean copy of the repository's tracked files, then every notebook executed
in that environment (nbclient from the environment itself, one fresh kernel
per notebook, each within `NOTEBOOK_TIMEOUT` seconds).

It downloads packages and takes minutes, so it only runs with
``DIFFVIEW_BINDER_CHECK=1``::

    DIFFVIEW_BINDER_CHECK=1 python -m pytest -p no:xdist -s tests/test_binder.py

Timings of every stage are printed (``-s``) and written to
``binder-timings.json`` in the test's temporary folder.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

needs_binder_check = pytest.mark.skipif(
    os.environ.get("DIFFVIEW_BINDER_CHECK") != "1",
    reason="slow: set DIFFVIEW_BINDER_CHECK=1 to build the Binder environment",
)

ROOT = Path(__file__).resolve().parent.parent
BINDER = ROOT / "binder"
NOTEBOOK_TIMEOUT = float(os.environ.get("DIFFVIEW_NOTEBOOK_TIMEOUT", 180))

# Runs inside the Binder environment: executes each notebook in place
# (cwd = notebooks/, as a Binder user would) and prints one JSON line.
RUNNER = r"""
import json, sys, time, asyncio
import nbformat
from nbclient import NotebookClient
timeout = float(sys.argv[1])
results = {}
for path in sys.argv[2:]:
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3",
                            resources={"metadata": {"path": "."}})
    start = time.perf_counter()
    try:
        asyncio.run(asyncio.wait_for(client.async_execute(), timeout))
        error = None
    except Exception as exc:  # report every notebook, then fail
        error = f"{type(exc).__name__}: {str(exc)[-3000:]}"
    results[path] = {"seconds": round(time.perf_counter() - start, 1),
                     "error": error}
print("RESULTS " + json.dumps(results))
"""


def runtime_python() -> str:
    """A Python interpreter of the version in ``binder/runtime.txt``."""
    spec = (BINDER / "runtime.txt").read_text().strip()
    assert spec.startswith("python-"), spec
    want = tuple(int(v) for v in spec.removeprefix("python-").split(".")[:2])
    if sys.version_info[:2] == want:
        return sys.executable
    found = shutil.which("python{}.{}".format(*want))
    if found is None:
        pytest.skip(f"no Python {spec} on this machine")
    return found


def copy_tracked_files(dest: Path) -> None:
    """Copy what a fresh clone holds: git's tracked files (current contents)."""
    try:
        names = (
            subprocess.run(
                ["git", "ls-files", "-z"], cwd=ROOT, check=True, capture_output=True
            )
            .stdout.decode()
            .split("\0")
        )
    except (OSError, subprocess.CalledProcessError):
        names = None
    if not names or names == [""]:
        shutil.copytree(
            ROOT,
            dest,
            ignore=shutil.ignore_patterns(
                ".git", "data", "*.egg-info", "__pycache__", ".ipynb_checkpoints"
            ),
        )
        return
    for name in filter(None, names):
        src = ROOT / name
        if src.is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / name)


def run(cmd, *, cwd, env, what, timings, stderr=False):
    """Run one stage, record its time, fail with its output on error.

    Returns its stdout (and stderr after it with ``stderr=True``).
    """
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
    timings[what] = round(time.perf_counter() - start, 1)
    print(f"{what}: {timings[what]} s")
    assert proc.returncode == 0, (
        f"{what} failed ({proc.returncode}):\n{proc.stdout[-4000:]}\n"
        f"{proc.stderr[-4000:]}"
    )
    return proc.stdout + (proc.stderr if stderr else "")


def requirement_names(lines) -> set[str]:
    """Distribution names (normalised, no extras or versions) of requirement lines."""
    names = set()
    for line in lines:
        line = line.split("#", 1)[0].strip()
        if line:
            name = line.split(";")[0]
            for sep in "[<>=!~ ":
                name = name.split(sep, 1)[0]
            names.add(name.lower().replace("_", "-"))
    return names


def test_binder_requirements_cover_the_run_time_dependencies():
    """binder/requirements.txt installs everything diffview needs to run."""
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    needed = requirement_names(project["dependencies"])
    listed = requirement_names((BINDER / "requirements.txt").read_text().splitlines())
    assert needed <= listed, sorted(needed - listed)
    assert "jupyterlab" in listed  # the notebooks' front end


@pytest.mark.binder
@needs_binder_check
def test_binder_environment_runs_every_notebook(tmp_path):
    repo, venv = tmp_path / "repo", tmp_path / "venv"
    repo.mkdir()
    copy_tracked_files(repo)
    notebooks = sorted((repo / "notebooks").glob("[0-9][0-9]-*.ipynb"))
    assert notebooks, "no notebooks to run"
    timings: dict = {}
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME", "JUPYTER_PATH")
    }
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    env["VIRTUAL_ENV"] = str(venv)
    env["MPLBACKEND"] = "Agg"
    python = str(venv / "bin" / "python")

    run(
        [runtime_python(), "-m", "venv", str(venv)],
        cwd=repo,
        env=env,
        what="venv",
        timings=timings,
    )
    run(
        [python, "-m", "pip", "install", "-q", "-r", "binder/requirements.txt"],
        cwd=repo,
        env=env,
        what="pip install -r binder/requirements.txt",
        timings=timings,
    )
    run(
        ["bash", "binder/postBuild"],
        cwd=repo,
        env=env,
        what="binder/postBuild",
        timings=timings,
    )
    run(
        [python, "-m", "pip", "check"],
        cwd=repo,
        env=env,
        what="pip check",
        timings=timings,
    )
    # JupyterLab with the widget and ipympl front ends (no "model not found")
    extensions = run(
        [str(venv / "bin" / "jupyter"), "labextension", "list"],
        cwd=repo,
        env=env,
        what="jupyter labextension list",
        timings=timings,
        stderr=True,
    )
    for name in ("@jupyter-widgets/jupyterlab-manager", "jupyter-matplotlib"):
        assert name in extensions, f"JupyterLab extension {name} missing"
    out = run(
        [python, "-c", RUNNER, str(NOTEBOOK_TIMEOUT), *[nb.name for nb in notebooks]],
        cwd=repo / "notebooks",
        env=env,
        what="notebooks",
        timings=timings,
    )
    line = next(x for x in out.splitlines() if x.startswith("RESULTS "))
    results = json.loads(line.removeprefix("RESULTS "))
    timings["per notebook"] = {k: v["seconds"] for k, v in results.items()}
    (tmp_path / "binder-timings.json").write_text(json.dumps(timings, indent=1))
    for name, r in results.items():
        print(f"  {name}: {r['seconds']} s{'  FAILED' if r['error'] else ''}")
    failed = {k: v["error"] for k, v in results.items() if v["error"]}
    assert not failed, "\n\n".join(f"{k}:\n{v}" for k, v in failed.items())
    slow = {
        k: v["seconds"] for k, v in results.items() if v["seconds"] > NOTEBOOK_TIMEOUT
    }
    assert not slow, f"notebooks over {NOTEBOOK_TIMEOUT:.0f} s: {slow}"
