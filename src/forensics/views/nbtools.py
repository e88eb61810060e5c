"""Keep the walkthrough notebooks reviewable and checked.

Each notebook in ``notebooks/`` is a py:percent script (what reviewers read
and edit) paired by jupytext with an ``.ipynb`` that nbval runs. The
``.ipynb`` keeps only the outputs nbval compares: those of the cells marked
``# NBVAL_CHECK_OUTPUT``, which state the findings. Everything volatile
(other outputs, execution counts, timings, widget state, random cell ids,
the Python version) is stripped, so diffs show inputs and findings only.

Run ``python -m forensics.views.nbtools refresh notebooks/*.py`` after editing a
script or when a finding changes on purpose: it executes each notebook on
its default parameters, keeps the checked outputs and writes the ``.ipynb``.
``python -m forensics.views.nbtools check notebooks/*.ipynb`` (and the test suite)
verifies that every committed notebook is clean, in sync with its script and
opens with a literal-only ``parameters`` cell.
"""

from __future__ import annotations

import argparse
import ast
import copy
import os
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path

__all__ = [
    "CHECK_MARKER",
    "MAX_CELL_LINES",
    "KERNELSPEC",
    "is_checked",
    "clean",
    "problems",
    "refresh",
    "main",
]

CHECK_MARKER = "# NBVAL_CHECK_OUTPUT"
"""A code cell carrying this comment line has its stored output compared."""

MAX_CELL_LINES = 15
"""A longer cell belongs in the library (STYLE.md, Notebooks)."""

KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}


def is_checked(cell) -> bool:
    """True when nbval compares this cell's stored output."""
    return cell.get("cell_type") == "code" and any(
        line.strip() == CHECK_MARKER for line in _source(cell).splitlines()
    )


def _source(cell) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src


def clean(nb):
    """A copy of ``nb`` holding only inputs, tags and the checked outputs.

    Cell ids become their position (``cell-00``...), so they do not churn. A
    checked cell keeps an execution count (nbval refuses to compare a cell
    that looks unrun): its rank among the code cells, which is what a run
    from top to bottom gives it.
    """
    nb = copy.deepcopy(nb)
    nb["metadata"] = {"kernelspec": dict(KERNELSPEC)}
    rank = 0
    for i, cell in enumerate(nb["cells"]):
        cell["id"] = f"cell-{i:02d}"
        tags = cell.get("metadata", {}).get("tags")
        cell["metadata"] = {"tags": list(tags)} if tags else {}
        if cell["cell_type"] != "code":
            cell.pop("outputs", None)
            cell.pop("execution_count", None)
            continue
        rank += 1
        if not is_checked(cell):
            cell["execution_count"] = None
            cell["outputs"] = []
            continue
        cell["execution_count"] = rank
        for out in cell["outputs"]:
            out.pop("transient", None)
            if "execution_count" in out:
                out["execution_count"] = rank
            if "metadata" in out:
                out["metadata"] = {}
    return nb


def _literal_only(source: str) -> bool:
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return False
    for stmt in tree.body:
        if not (
            isinstance(stmt, ast.Assign) and all(isinstance(t, ast.Name) for t in stmt.targets)
        ):
            return False
        try:
            ast.literal_eval(stmt.value)
        except ValueError:
            return False
    return bool(tree.body)


def problems(path: str | Path) -> list[str]:
    """What is wrong with the committed notebook at ``path`` (empty: fine)."""
    import jupytext
    import nbformat

    path = Path(path)
    nb = nbformat.read(path, as_version=4)
    found = []
    if clean(nb) != nb:
        found.append("not clean: run `python -m forensics.views.nbtools refresh` on its script")
    script = path.with_suffix(".py")
    if not script.exists():
        found.append(f"no paired script {script.name}")
    else:
        text = jupytext.read(script)
        mine = [(c["cell_type"], _source(c).strip()) for c in nb["cells"]]
        theirs = [(c["cell_type"], _source(c).strip()) for c in text["cells"]]
        if mine != theirs:
            found.append(f"out of sync with {script.name}: run refresh")
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    if not code or "parameters" not in code[0].get("metadata", {}).get("tags", []):
        found.append("the first code cell is not tagged `parameters`")
    elif not _literal_only(_source(code[0])):
        found.append("the parameters cell holds something other than literal assignments")
    for i, cell in enumerate(code):
        lines = [ln for ln in _source(cell).splitlines() if ln.strip()]
        if len(lines) > MAX_CELL_LINES:
            found.append(f"code cell {i} has {len(lines)} lines (> {MAX_CELL_LINES})")
    if not any(is_checked(c) for c in code):
        found.append(f"no cell marked {CHECK_MARKER}: nothing is checked")
    for i, cell in enumerate(code):
        if is_checked(cell) and not cell.get("outputs"):
            found.append(f"checked code cell {i} has no stored output")
    return found


def refresh(paths: Iterable[str | Path], *, timeout: int = 600) -> list[Path]:
    """Execute each notebook from its script and write the clean ``.ipynb``.

    ``paths`` may name the ``.py`` scripts or the ``.ipynb`` files.
    """
    import jupytext
    from nbclient import NotebookClient

    written = []
    for path in paths:
        script = Path(path).with_suffix(".py")
        notebook = script.with_suffix(".ipynb")
        nb = jupytext.read(script)
        nb["metadata"] = {"kernelspec": dict(KERNELSPEC)}
        client = NotebookClient(
            nb,
            timeout=timeout,
            kernel_name="python3",
            resources={"metadata": {"path": str(script.parent)}},
        )
        client.execute()
        jupytext.write(clean(nb), notebook, fmt="ipynb")
        os.utime(script)  # the script stays the newer of the pair
        written.append(notebook)
    return written


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m forensics.views.nbtools refresh|check PATH...``"""
    parser = argparse.ArgumentParser(prog="python -m forensics.views.nbtools", description=__doc__)
    parser.add_argument("command", choices=["refresh", "check"])
    parser.add_argument("paths", nargs="+")
    args = parser.parse_args(argv)
    if args.command == "refresh":
        for p in refresh(args.paths):
            print(f"wrote {p}")
        return 0
    status = 0
    for p in args.paths:
        for problem in problems(Path(p).with_suffix(".ipynb")):
            print(f"{p}: {problem}")
            status = 1
    return status


if __name__ == "__main__":
    sys.exit(main())
