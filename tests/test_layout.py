"""The package's layout: no import cycle between its modules, counting the
imports inside functions (issue 16)."""

from __future__ import annotations

import ast
from pathlib import Path

import networkx as nx

import forensics

PACKAGE = Path(forensics.__file__).parent


def _module_name(path: Path) -> str:
    parts = ["forensics", *path.relative_to(PACKAGE).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path, modules: set[str]) -> set[str]:
    """Every forensics module ``path`` imports, anywhere in the file."""
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                base_name = ".".join(base + ([node.module] if node.module else []))
            else:
                base_name = node.module or ""
            # `from pkg import mod` imports the module pkg.mod
            targets = [base_name] + [f"{base_name}.{a.name}" for a in node.names]
        else:
            continue
        found.update(t for t in targets if t in modules and t != name)
    return found


def import_graph() -> nx.DiGraph:
    paths = sorted(PACKAGE.rglob("*.py"))
    modules = {_module_name(p) for p in paths}
    g = nx.DiGraph()
    for p in paths:
        source = _module_name(p)
        g.add_node(source)
        for target in _imports(p, modules):
            # a package's __init__ importing its own submodules is not a cycle
            if not target.startswith(source + "."):
                g.add_edge(source, target)
    return g


def test_the_import_graph_sees_the_known_edges():
    g = import_graph()
    assert g.has_edge("forensics.investigate", "forensics.analysis.commonpoint")
    assert g.has_edge("forensics.cli", "forensics.response.report")  # inside a function
    assert g.has_edge("forensics.scale.core", "forensics.scale.portable")


def test_no_import_cycle_between_modules():
    g = import_graph()
    cycles = [c for c in nx.simple_cycles(g) if len(c) > 1]
    assert cycles == [], cycles
