"""forensics.analysis.graph on its own: explain() on a hand-made graph, and
the invariants of evidence_graph() on a sample case."""

from __future__ import annotations

from pathlib import Path

import networkx as nx
import pytest

from forensics import investigate, load
from forensics.analysis.graph import HUB, evidence_graph, explain

APRIL = Path(__file__).resolve().parents[1] / "datasets" / "april-trojan"


def _chain() -> nx.MultiDiGraph:
    """complaints -> two order sets -> an account and a machine -> one person."""
    g = nx.MultiDiGraph()
    g.add_node(HUB, kind="complaints", label="12 complaints")
    g.add_node("orderset:a", kind="orderset", label="10 orders", coverage=0.9)
    g.add_node("orderset:m", kind="orderset", label="3 orders", coverage=0.2)
    g.add_node("account:cs1", kind="account", label="cs1")
    g.add_node("machine:PC-1", kind="machine", label="PC-1")
    g.add_node("person:P1", kind="person", label="P1")
    g.add_node("person:P2", kind="person", label="P2")  # not reached from the complaints
    g.add_node("account:old", kind="account", label="old")
    edge = dict(at=None, source="access.csv")
    g.add_edge(HUB, "orderset:a", relation="exposed", row=None, **edge)
    g.add_edge(HUB, "orderset:m", relation="exposed", row=None, **edge)
    g.add_edge("orderset:a", "account:cs1", relation="through", row=7, **edge)
    g.add_edge("orderset:a", "account:cs1", relation="through", row=3, **edge)  # parallel
    g.add_edge("orderset:m", "machine:PC-1", relation="through", row=9, **edge)
    g.add_edge("account:cs1", "person:P1", relation="owned_by", row=2, **edge)
    g.add_edge("machine:PC-1", "person:P1", relation="camera_at_desk", row=5, **edge)
    g.add_edge("account:old", "person:P2", relation="owned_by", row=4, **edge)
    return g


def test_explain_gives_paths_with_their_citations_widest_first():
    paths = explain(_chain(), "P1")
    assert paths == [
        "12 complaints -exposed-> 10 orders -through [access.csv:3]-> cs1 "
        "-owned_by [access.csv:2]-> P1",
        "12 complaints -exposed-> 3 orders -through [access.csv:9]-> PC-1 "
        "-camera_at_desk [access.csv:5]-> P1",
    ]
    assert explain(_chain(), "P1", limit=1) == paths[:1]


def test_explain_is_empty_for_people_nothing_leads_to():
    g = _chain()
    assert explain(g, "P2") == []
    assert explain(g, "nobody") == []
    assert explain(g, "P1", cutoff=2) == []  # every path is 3 edges long
    g.remove_node(HUB)
    assert explain(g, "P1") == []


@pytest.fixture(scope="module")
def findings():
    if not (APRIL / "case.toml").exists():
        pytest.skip("datasets/april-trojan not present")
    return investigate(load(APRIL, personal=False))


def test_every_node_and_edge_is_typed_and_cited(findings):
    g = findings.graph
    assert g.nodes[HUB]["kind"] == "complaints"
    for n, d in g.nodes(data=True):
        assert d["kind"] and "label" in d, n
        assert n == HUB or n.partition(":")[0] == d["kind"], n
    sources = {f.file for f in findings.case.inputs}
    for a, b, d in g.edges(data=True):
        assert {"relation", "at", "source", "row"} <= set(d), (a, b)
        assert d["source"] in sources, (a, b, d["source"])
    # Edges run from the complaints towards people: nothing points back at the hub,
    # and people point nowhere.
    assert g.in_degree(HUB) == 0
    assert all(g.out_degree(n) == 0 for n, d in g.nodes(data=True) if d["kind"] == "person")


def test_the_top_suspect_is_explained_from_the_hub(findings):
    top = findings.suspects[0].person_id
    paths = explain(findings.graph, top)
    assert paths and all(p.startswith(g_label(findings)) and p.endswith(top) for p in paths)
    assert nx.has_path(findings.graph, HUB, f"person:{top}")


def g_label(findings) -> str:
    return findings.graph.nodes[HUB]["label"]


def test_without_complaint_nodes_the_explanations_are_the_same(findings):
    lean = evidence_graph(findings, complaints=False)
    kinds = {d["kind"] for _, d in lean.nodes(data=True)}
    assert "complaint" not in kinds
    assert "complaint" in {d["kind"] for _, d in findings.graph.nodes(data=True)}
    for s in findings.suspects:
        assert explain(lean, s.person_id) == explain(findings.graph, s.person_id)


def test_max_paths_bounds_the_orderset_nodes(findings):
    small = evidence_graph(findings, max_paths=1, complaints=False)
    sets = [n for n, d in small.nodes(data=True) if d["kind"] == "orderset"]
    assert 1 <= len(sets) <= 1
