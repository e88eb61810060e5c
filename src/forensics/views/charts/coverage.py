"""The common-point chart: each candidate path's coverage of the complained
orders against its lift, by level."""

from __future__ import annotations

import math

import plotly.graph_objects as go
import polars as pl

from ._common import _FONT, _LABELLED, _LEVEL_COLORS, MAX_MARKS, _empty, _fmt_time, _hover, _text

__all__ = ["coverage"]


def coverage(
    findings,
    *,
    level: str | None = None,
    top: int = 20,
    significant_only: bool = False,
    reveal: bool = False,
) -> go.Figure:
    """Coverage of the complained orders against lift, for common points.

    Parameters
    ----------
    findings : Findings
        The investigation; plots ``findings.points``.
    level : str, optional
        Only this level (``machine``, ``account``, ``device``, ...).
    top : int
        The ``top`` most significant points are labelled and drawn large;
        the others (at most :data:`MAX_MARKS`) are drawn faint for context.
    significant_only : bool
        Drop points that did not pass the significance test.
    reveal : bool
        Unused (ids only); accepted for a uniform API.

    Returns
    -------
    plotly.graph_objects.Figure
        Coverage on x, lift on a log y axis; colour = level; filled marks
        are significant paths, open marks are not.
    """
    pts = findings.points
    if level is not None:
        pts = pts.filter(pl.col("level") == level)
    if significant_only:
        pts = pts.filter(pl.col("significant"))
    pts = pts.filter(pl.col("lift").is_finite() & (pl.col("lift") > 0) & (pl.col("hits") > 0))
    scope = f" ({_text(level)})" if level else ""
    title = f"Common points of the complained orders{scope}"
    if pts.is_empty():
        return _empty(title, "no common point to show")
    lead, rest = pts.head(top), pts.slice(top, MAX_MARKS)
    rank = {(lv, i): k for k, (lv, i) in enumerate(lead.select("level", "id").iter_rows())}
    fig = go.Figure()
    if not rest.is_empty():
        fig.add_scatter(
            x=rest["coverage"].to_list(),
            y=rest["lift"].to_list(),
            mode="markers",
            name="other paths",
            marker={"color": "#d9d9d9", "size": 5},
            hovertext=_point_hovers(rest),
            hoverinfo="text",
        )
    for lvl in lead["level"].unique(maintain_order=True).to_list():
        part = lead.filter(pl.col("level") == lvl)
        sig, ids = part["significant"].to_list(), part["id"].to_list()
        fig.add_scatter(
            x=part["coverage"].to_list(),
            y=part["lift"].to_list(),
            mode="markers+text",
            name=_text(lvl),
            text=[_text(i, 18) if rank[lvl, i] < _LABELLED else "" for i in ids],
            textposition=[("top center", "bottom center")[rank[lvl, i] % 2] for i in ids],
            textfont={"size": 10},
            marker={
                "color": _LEVEL_COLORS.get(lvl, "#636363"),
                "line": {"width": 1.5},
                "size": [8 + 4 * math.log10(1 + h) for h in part["hits"].to_list()],
                "symbol": ["circle" if s else "circle-open" for s in sig],
            },
            hovertext=_point_hovers(part),
            hoverinfo="text",
        )
    fig.add_hline(y=1, line={"color": "#969696", "dash": "dot"})
    fig.update_layout(
        title={
            "text": title,
            "subtitle": {
                "text": "filled: significant; open: not significant; "
                "size: complained orders exposed"
            },
        },
        template="plotly_white",
        font={"family": _FONT},
        height=560,
        xaxis={
            "title": "coverage of complained orders",
            "tickformat": ".0%",
            "range": [-0.03, 1.05],
        },
        yaxis={"title": "lift over the base rate", "type": "log"},
        legend={"title": {"text": "level"}},
    )
    return fig


def _point_hovers(points: pl.DataFrame) -> list[str]:
    out = []
    for r in points.iter_rows(named=True):
        out.append(
            _hover(
                f"<b>{_text(r['level'])} {_text(r['id'])}</b>",
                f"coverage {r['coverage']:.1%} ({r['hits']} complained of {r['exposed']} exposed)",
                f"lift {r['lift']:.2f}, p = {r['p_value']:.2g}",
                "significant" if r["significant"] else "not significant",
                f"first exposure {_fmt_time(r.get('first_exposure'))} UTC"
                if r.get("first_exposure")
                else None,
            )
        )
    return out
