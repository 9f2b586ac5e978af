"""The README's Python examples run, on the sample work folder, and say true things."""

import os
import pathlib
import re

import numpy as np
import pytest

import diffview
from diffview import io

README = pathlib.Path(__file__).resolve().parents[1] / "README.md"


def _blocks(lang):
    return re.findall(rf"```{lang}\n(.*?)```", README.read_text(), re.S)


@pytest.fixture
def work(tmp_path, monkeypatch):
    sample = diffview.write_sample(tmp_path / "work", "small")
    monkeypatch.chdir(sample.images_tbl.parent)
    return sample


def test_the_first_commands_are_setup_and_demo_then_tests():
    first, second = _blocks("bash")[:2]
    assert first.strip() == "python -m pip install -e . && diffview demo"
    assert second.strip() == 'python -m pip install -e ".[test]" && python -m pytest'
    ci = (README.parent / ".ci" / "run").read_text()
    assert second.strip() in ci


@pytest.mark.parametrize("index", range(len(_blocks("python"))))
def test_python_examples_run_on_a_work_folder(work, index):
    code = _blocks("python")[index]
    namespace = {}
    exec(compile(code, f"README block {index}", "exec"), namespace)
    # whatever the block made is a complete Montage file set
    if os.path.exists("fits.tbl"):
        fits = io.read_fits_table("fits.tbl")
        assert len(fits) == len(work.overlaps)
    if os.path.exists("corrections.tbl"):
        corrections = io.read_corrections_table("corrections.tbl")
        ids = set(range(len(io.read_table("images.tbl"))))
        assert {c.id for c in corrections} <= ids
        assert all(np.isfinite([c.a, c.b, c.c]).all() for c in corrections)


def test_api_at_a_glance_names_are_importable():
    section = README.read_text().split("## API at a glance", 1)[1].split("\n## ", 1)[0]
    names = set(re.findall(r"`diffview\.([a-z_]+)", section))
    assert len(names) >= 12
    for name in names:
        assert getattr(diffview, name) is not None, name
