"""The committed notebooks are clean, paired with their scripts and checked.

nbval runs them (``--nbval-lax`` in pyproject: every cell must run, and the
cells marked ``# NBVAL_CHECK_OUTPUT`` must reproduce their stored output).
These tests make sure that check means something: each notebook opens the
sample case through a literal ``parameters`` cell and has checked cells.
"""

from __future__ import annotations

import ast
from pathlib import Path

import nbformat
import pytest

from forensics.views.nbtools import CHECK_MARKER, clean, is_checked, problems

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
EXPECTED = [
    "00-investigate-a-case",
    "01-complaints",
    "02-common-point",
    "03-timeline",
    "04-graph-and-suspects",
    "05-report",
]


ALL = sorted(p.stem for p in NOTEBOOKS.glob("*.ipynb"))


def test_every_walkthrough_is_there():
    assert set(EXPECTED) <= set(ALL)
    assert sorted(p.stem for p in NOTEBOOKS.glob("*.py")) == ALL


@pytest.mark.parametrize("name", ALL)
def test_notebook_is_clean_and_checked(name):
    assert problems(NOTEBOOKS / f"{name}.ipynb") == []


@pytest.mark.parametrize("name", ALL)
def test_notebook_opens_the_sample_case_by_default(name):
    nb = nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)
    params = next(c for c in nb.cells if c.cell_type == "code")
    values = {
        stmt.targets[0].id: ast.literal_eval(stmt.value) for stmt in ast.parse(params.source).body
    }
    assert values["CASE"] == "../datasets/april-trojan"
    assert (NOTEBOOKS / values["CASE"]).is_dir()
    if "OUT" in values:  # outputs go outside the case folder
        case, out = (NOTEBOOKS / values["CASE"]).resolve(), (NOTEBOOKS / values["OUT"]).resolve()
        assert case not in out.parents and out != case


def test_clean_keeps_only_checked_outputs():
    nb = nbformat.v4.new_notebook()
    nb.metadata["widgets"] = {"state": {}}
    checked = nbformat.v4.new_code_cell(f"{CHECK_MARKER}\nprint(1)", execution_count=3)
    checked.outputs = [nbformat.v4.new_output("stream", text="1\n")]
    other = nbformat.v4.new_code_cell("fig", execution_count=4)
    other.outputs = [nbformat.v4.new_output("display_data", data={"text/plain": "x"})]
    other.metadata["execution"] = {"iopub.status.busy": "2024-01-01"}
    nb.cells = [checked, other]
    out = clean(nb)
    assert "widgets" not in out.metadata
    assert is_checked(out.cells[0]) and out.cells[0].outputs[0]["text"] == "1\n"
    assert out.cells[1].outputs == [] and out.cells[1].metadata == {}
    assert [c.execution_count for c in out.cells] == [1, None]  # nbval compares run cells only
    assert clean(out) == out
