"""The evidence graph: from the complaints to the people, edge by edge.

A typed :class:`networkx.MultiDiGraph` of the investigation's entities only
(never one node per order or per page view). Node ids are ``"kind:id"``;
every node has ``kind`` and ``label``. Every edge has ``relation``, ``at``
(may be None), ``source`` and ``row`` (the file and row that support it).

===============  ============================================================
node kind        what it is
===============  ============================================================
complaints       the complaints that were counted (one hub node)
complaint        one complaint
orderset         the complained orders one significant path exposed in time
account, machine, session, device, app, ip, process, event
                 the paths themselves
person           someone on the staff list or seen in the evidence
===============  ============================================================

Edges run from the complaints towards people, so the explanation of a
suspect is the set of simple paths from the ``complaints`` hub to them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import polars as pl

from .exposure import members_of

if TYPE_CHECKING:  # imported when a graph is built (~0.1 s)
    import networkx as nx

__all__ = ["evidence_graph", "explain", "HUB"]

HUB = "complaints:all"


def _node(kind: str, ident: str) -> str:
    return f"{kind}:{ident}"


def evidence_graph(findings, *, max_paths: int = 40, complaints: bool = True) -> nx.MultiDiGraph:
    """Build the graph from a :class:`forensics.investigate.Findings`.

    ``complaints=False`` leaves out the node of each complaint and its edges
    to the order sets (tens of thousands in a large case): no path from the
    hub to a person passes through them, so :func:`explain` gives the same
    explanations; only a drawing of the graph needs them.
    """
    case = findings.case
    import networkx as nx

    g = nx.MultiDiGraph()
    g.add_node(HUB, kind="complaints", label=f"{findings.complaints.height} complaints")
    sig = findings.points.filter(pl.col("significant")).head(max_paths)
    comp_src = case.source("complaints")

    # complaint -> orderset -> path entity
    covered = (
        findings.hits.filter(pl.col("in_time") & pl.col("fields_ok"))
        .join(_members_of(findings, sig), on="ev")
        .group_by("level", "cand", "complaint_id")
        .agg(pl.col("at").min())
        .sort("level", "cand", "complaint_id")
    )
    rows = dict(findings.complaints.select("complaint_id", "_row").iter_rows())
    for r in sig.iter_rows(named=True):
        oset = _node("orderset", f"{r['level']}:{r['id']}")
        g.add_node(
            oset,
            kind="orderset",
            label=f"{r['hits']} complained orders via {r['level']} {r['id']}",
            hits=r["hits"],
            coverage=r["coverage"],
            lift=r["lift"],
            p_value=r["p_value"],
        )
        ent = _node(r["level"], r["id"])
        g.add_node(ent, kind=r["level"], label=r["id"])
        g.add_edge(
            HUB,
            oset,
            relation="explained_by",
            at=r["first_exposure"],
            source=comp_src,
            row=None,
            weight=r["coverage"],
        )
        g.add_edge(
            oset,
            ent,
            relation="exposed_by",
            at=r["first_exposure"],
            source=case.source("access"),
            row=None,
        )
    # One node per complaint and one edge per (complaint, order set): tens
    # of thousands in a large case.
    if not complaints:
        covered = covered.clear()
    complaint_ids = covered["complaint_id"].to_list()
    cnodes = [_node("complaint", c) for c in complaint_ids]
    osets = covered.select(pl.format("orderset:{}:{}", "level", "cand")).to_series().to_list()
    g.add_nodes_from(
        (_node("complaint", c), {"kind": "complaint", "label": c})
        for c in dict.fromkeys(complaint_ids)  # each once, in order
    )
    # add_edge one by one: MultiDiGraph.add_edges_from builds adjacency
    # views for every edge and takes twice as long. Each (complaint, order
    # set) pair comes once, so its edge key is 0: networkx need not look for
    # a free one.
    for cnode, oset, at, c in zip(
        cnodes, osets, covered["at"].to_list(), complaint_ids, strict=True
    ):
        g.add_edge(
            cnode, oset, key=0, relation="order_seen", at=at, source=comp_src, row=rows.get(c)
        )

    _structure(g, findings)
    # people, from the evidence that ranks them
    for s in findings.suspects:
        pnode = _node("person", s.person_id)
        g.add_node(pnode, kind="person", label=s.person_id, score=s.score, role=s.role)
    _people(g, findings)
    return g


def _members_of(findings, sig: pl.DataFrame) -> pl.DataFrame:
    keys = sig.select(pl.col("level"), pl.col("id").alias("cand"))
    return members_of(findings.members, keys)


def _structure(g: nx.MultiDiGraph, findings) -> None:
    """Edges between paths: sessions/IPs/events to accounts and machines,
    apps to their account, devices to the machines they touched."""
    case = findings.case
    # In insertion order (a set would follow the hash seed, and the order of
    # edges decides which paths explain() finds first).
    present = list(g.nodes)
    sess = findings.sessions
    # The first 20 access events of each event and IP node, found in one pass.
    first_events: dict[tuple[str, str], list[dict]] = {}
    for kind, col in (("event", "event_id"), ("ip", "ip")):
        idents = sorted({n.partition(":")[2] for n in present if n.partition(":")[0] == kind})
        if not idents:
            continue
        found = findings.events.filter(pl.col(col).is_in(idents)).filter(
            pl.int_range(pl.len()).over(col) < 20
        )
        for r in found.iter_rows(named=True):
            first_events.setdefault((kind, r[col]), []).append(r)
    for n in list(present):
        kind, _, ident = n.partition(":")
        if kind == "session":
            row = sess.filter(pl.col("session_key") == ident)
            if row.height:
                r = row.row(0, named=True)
                g.add_edge(
                    n,
                    _node("account", r["account_id"]),
                    relation="session_of",
                    at=r["start"],
                    source=case.source("logins"),
                    row=r["login_row"],
                )
                if r["machine_id"]:
                    g.add_edge(
                        n,
                        _node("machine", r["machine_id"]),
                        relation="session_on",
                        at=r["start"],
                        source=case.source("logins"),
                        row=r["login_row"],
                    )
        elif kind == "app":
            for r in case.apps.filter(pl.col("app_id") == ident).iter_rows(named=True):
                if r["account_id"]:
                    g.add_edge(
                        n,
                        _node("account", r["account_id"]),
                        relation="acts_as",
                        at=r["granted_at"],
                        source=case.source("apps"),
                        row=r["_row"],
                    )
        elif kind in ("event", "ip"):
            for r in first_events.get((kind, ident), ()):
                g.add_edge(
                    n,
                    _node("account", r["account_id"]),
                    relation="by_account",
                    at=r["at"],
                    source=case.source("access"),
                    row=r["_row"],
                )
                if r["machine_id"]:
                    g.add_edge(
                        n,
                        _node("machine", r["machine_id"]),
                        relation="on_machine",
                        at=r["at"],
                        source=case.source("access"),
                        row=r["_row"],
                    )
    for a in findings.vector.anchors.iter_rows(named=True):
        if a["machine_id"] is None:
            continue
        for d in findings.vector.devices or ():
            g.add_edge(
                _node("device", d),
                _node("machine", a["machine_id"]),
                relation="connected_to",
                at=a["at"],
                source=a["source"],
                row=a["row"],
            )
        for acc in findings.vector.accounts:
            g.add_edge(
                _node("account", acc),
                _node("machine", a["machine_id"]),
                relation="used_on",
                at=a["at"],
                source=a["source"],
                row=a["row"],
            )
    for n in list(g.nodes):
        g.nodes[n].setdefault("kind", n.partition(":")[0])
        g.nodes[n].setdefault("label", n.partition(":")[2])


def _people(g: nx.MultiDiGraph, findings) -> None:
    case = findings.case
    owners = case.accounts.select("account_id", "owner_person_id", "_row")
    for r in owners.iter_rows(named=True):
        anode = _node("account", r["account_id"])
        if anode in g and r["owner_person_id"]:
            pnode = _node("person", r["owner_person_id"])
            g.add_node(pnode, kind="person", label=r["owner_person_id"])
            g.add_edge(
                anode,
                pnode,
                relation="owned_by",
                at=None,
                source=case.source("accounts"),
                row=r["_row"],
            )
    # A person hangs off the machine or account of the leak path that a row
    # of their evidence names (a field of the row, never its wording).
    for s in findings.suspects:
        pnode = _node("person", s.person_id)
        for e in s.evidence:
            if e.machine_id is not None:
                target = _node("machine", e.machine_id)
            elif e.account_id is not None:
                target = _node("account", e.account_id)
            else:
                continue
            kind, _, label = target.partition(":")
            g.add_node(target, kind=kind, label=label)
            g.add_edge(
                target, pnode, relation=e.kind, at=e.at, source=e.source, row=e.row, weight=e.weight
            )


def explain(g: nx.MultiDiGraph, person_id: str, *, limit: int = 5, cutoff: int = 6) -> list[str]:
    """Readable paths from the complaints to ``person_id``, shortest first.

    Empty when no path of the graph reaches the person (an unexplained
    suspect is reported as such, never an error).
    """
    import networkx as nx

    target = _node("person", person_id)
    if target not in g or HUB not in g:
        return []
    # Parallel edges do not make different paths, and a node nothing points
    # to (each of thousands of complaints) lies on none from the hub.
    simple = nx.DiGraph(g.subgraph([n for n in g if n == HUB or g.in_degree(n)]))
    found = []
    if target not in simple or not nx.has_path(simple, HUB, target):
        return []
    for path in nx.shortest_simple_paths(simple, HUB, target):
        if len(path) - 1 > cutoff or len(found) >= 4 * limit:
            break
        found.append(path)
    # The paths through the order sets that explain most complaints first.
    described = [(p, _describe_path(g, p)) for p in found]
    described.sort(key=lambda pd: (-(g.nodes[pd[0][1]].get("coverage") or 0.0), len(pd[0]), pd[1]))
    return [text for _, text in described[:limit]]


def _describe_path(g: nx.MultiDiGraph, path: list[str]) -> str:
    parts = [g.nodes[path[0]].get("label", path[0])]
    for a, b in zip(path, path[1:], strict=False):
        data = min(g.get_edge_data(a, b).values(), key=lambda d: d.get("row") or 0)
        cite = f" [{data['source']}:{data['row']}]" if data.get("row") else ""
        parts.append(f"-{data['relation']}{cite}-> {g.nodes[b].get('label', b)}")
    return " ".join(parts)
