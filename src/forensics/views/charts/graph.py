"""The evidence graph: complaints to order sets, events, sessions, devices,
accounts, machines and people, in layers."""

from __future__ import annotations

from datetime import datetime

import networkx as nx
import plotly.graph_objects as go

from ._common import (
    _FONT,
    _NODE_STYLE,
    _cite,
    _empty,
    _fmt_time,
    _hover,
    _local,
    _person_names,
    _text,
)

__all__ = ["evidence_graph"]


def evidence_graph(findings, *, reveal: bool = False, max_complaints: int = 200) -> go.Figure:
    """The evidence graph, from the complaints (left) to the people (right).

    Parameters
    ----------
    findings : Findings
        The investigation; draws ``findings.graph``.
    reveal : bool
        Show people's names unmasked.
    max_complaints : int
        Complaint nodes drawn at most (the hub node always is).

    Returns
    -------
    plotly.graph_objects.Figure
        Nodes coloured and shaped by kind; hovering an edge's midpoint shows
        its relation, time and the file:row that supports it.
    """
    g = findings.graph
    title = f"Evidence graph — {_text(findings.case.meta.case_id)}"
    if g is None or g.number_of_nodes() <= 1:
        return _empty(title, "the evidence links no path to the complaints")
    g = _trim_complaints(g, max_complaints)
    tz = findings.case.timezone()
    xy = _layered_layout(g)
    fig = go.Figure()
    _draw_edges(fig, g, xy, tz)
    _draw_nodes(fig, g, xy, _person_names(findings, reveal=reveal))
    sub = "left to right: complaints → orders they share → paths → accounts → machines → people"
    fig.update_layout(
        title={"text": title, "subtitle": {"text": sub}},
        template="plotly_white",
        font={"family": _FONT},
        height=max(500, min(1100, 9 * _widest_layer(xy) + 250)),
        xaxis={"visible": False},
        yaxis={"visible": False},
        hovermode="closest",
        legend={"title": {"text": "node kind"}},
    )
    return fig


def _trim_complaints(g: nx.MultiDiGraph, limit: int) -> nx.MultiDiGraph:
    complaints = [n for n, d in g.nodes(data=True) if d.get("kind") == "complaint"]
    if len(complaints) <= limit:
        return g
    drop = sorted(complaints)[limit:]
    h = g.copy()
    h.remove_nodes_from(drop)
    return h


def _layered_layout(g: nx.MultiDiGraph) -> dict[str, tuple[float, float]]:
    """x by node kind (its layer); each layer spread over the full height,
    ordered by the mean height of its predecessors (fewer crossings)."""
    layers: dict[int, list[str]] = {}
    for n, d in g.nodes(data=True):
        layers.setdefault(_NODE_STYLE.get(d.get("kind"), ("", "", 3))[2], []).append(n)
    xy: dict[str, tuple[float, float]] = {}
    for layer in sorted(layers):
        nodes = layers[layer]

        def key(n, _xy=xy):
            ys = [_xy[p][1] for p in g.predecessors(n) if p in _xy]
            return (-(sum(ys) / len(ys)) if ys else 0.0, str(n))

        nodes.sort(key=key)
        k = len(nodes)
        for i, n in enumerate(nodes):
            xy[n] = (float(layer), 1 - 2 * (i + 0.5) / k)
    return xy


def _widest_layer(xy: dict) -> int:
    counts: dict[float, int] = {}
    for x, _ in xy.values():
        counts[x] = counts.get(x, 0) + 1
    return max(counts.values(), default=1)


def _draw_edges(fig, g: nx.MultiDiGraph, xy: dict, tz: str) -> None:
    xs: list = []
    ys: list = []
    mx, my, hovers = [], [], []
    for u, v in {(u, v) for u, v in g.edges()}:
        (x0, y0), (x1, y1) = xy[u], xy[v]
        xs += [x0, x1, None]
        ys += [y0, y1, None]
        mx.append((x0 + x1) / 2)
        my.append((y0 + y1) / 2)
        hovers.append(_edge_hover(g, u, v, tz))
    fig.add_scatter(
        x=xs,
        y=ys,
        mode="lines",
        line={"color": "#bdbdbd", "width": 0.8},
        hoverinfo="skip",
        showlegend=False,
    )
    fig.add_scatter(
        x=mx,
        y=my,
        mode="markers",
        marker={"size": 5, "color": "#969696", "opacity": 0.3},
        name="edge (hover: file:row)",
        hovertext=hovers,
        hoverinfo="text",
    )


def _edge_hover(g: nx.MultiDiGraph, u: str, v: str, tz: str, limit: int = 6) -> str:
    data = list(g.get_edge_data(u, v).values())
    lines = [f"<b>{_node_name(g, u)} → {_node_name(g, v)}</b>"]
    for d in sorted(data, key=lambda d: (d.get("row") is None, d.get("row") or 0))[:limit]:
        at = d.get("at")
        lines.append(
            f"{_text(d.get('relation'))}: {_cite(d.get('source'), d.get('row')) or 'no source'}"
            + (f" at {_fmt_time(_local(at, tz))}" if isinstance(at, datetime) else "")
        )
    if len(data) > limit:
        lines.append(f"… and {len(data) - limit} more")
    return _hover(*lines)


def _node_name(g: nx.MultiDiGraph, n: str) -> str:
    d = g.nodes[n]
    return f"{_text(d.get('kind'))} {_text(d.get('label', n), 48)}"


def _draw_nodes(fig, g: nx.MultiDiGraph, xy: dict, names: dict[str, str]) -> None:
    by_kind: dict[str, list[str]] = {}
    for n, d in g.nodes(data=True):
        by_kind.setdefault(d.get("kind", "other"), []).append(n)
    for kind in sorted(by_kind, key=lambda k: _NODE_STYLE.get(k, ("", "", 9))[2]):
        nodes = by_kind[kind]
        color, symbol, _ = _NODE_STYLE.get(kind, ("#636363", "circle", 2))
        big = kind not in ("complaint",)
        fig.add_scatter(
            x=[xy[n][0] for n in nodes],
            y=[xy[n][1] for n in nodes],
            mode="markers+text" if big else "markers",
            name=_text(kind),
            text=[_node_text(g, n, names) for n in nodes] if big else None,
            textposition="middle right",
            textfont={"size": 10},
            marker={
                "color": color,
                "symbol": symbol,
                "size": 14 if big else 7,
                "line": {"width": 1, "color": "#525252"},
            },
            hovertext=[_node_hover(g, n, names) for n in nodes],
            hoverinfo="text",
        )


def _node_text(g: nx.MultiDiGraph, n: str, names: dict[str, str]) -> str:
    d = g.nodes[n]
    label = _text(d.get("label", n), 24)
    if d.get("kind") == "orderset":
        level, _, ident = n.partition(":")[2].partition(":")
        label = f"{d.get('hits', '?')} via {_text(level)} {_text(ident, 18)}"
    if d.get("kind") == "person" and d.get("label") in names:
        label += f" {_text(names[d['label']])}"
    return label


def _node_hover(g: nx.MultiDiGraph, n: str, names: dict[str, str]) -> str:
    d = g.nodes[n]
    extra = []
    if d.get("kind") == "person":
        if d.get("label") in names:
            extra.append(f"name {_text(names[d['label']])}")
        if d.get("score") is not None:
            extra.append(f"suspect score {d['score']:.3f}, role {_text(d.get('role'))}")
    if d.get("kind") == "orderset":
        extra.append(
            f"coverage {d.get('coverage', 0):.1%}, lift {d.get('lift', 0):.2f}, "
            f"p = {d.get('p_value', 1):.2g}"
        )
    return _hover(
        f"<b>{_node_name(g, n)}</b>", *extra, f"{g.in_degree(n)} edge(s) in, {g.out_degree(n)} out"
    )
