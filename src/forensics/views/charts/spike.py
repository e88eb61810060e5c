"""The complaint chart: complaints per day, the spike, and the leak window."""

from __future__ import annotations

import plotly.graph_objects as go
import polars as pl

from ._common import _FONT, _empty, _hover, _leak_lines, _local_col, _text

__all__ = ["complaint_spike"]


def complaint_spike(findings, *, reveal: bool = False) -> go.Figure:
    """Complaints per day against the background rate.

    Parameters
    ----------
    findings : Findings
        The investigation.
    reveal : bool
        Unused (the chart shows counts only); accepted for a uniform API.

    Returns
    -------
    plotly.graph_objects.Figure
        Bars per day (spike days in red), the expected background count as a
        dashed line, the days buyers said the scammer first called, and the
        leak window as dashed vertical lines.
    """
    tz = findings.case.timezone()
    daily = findings.rate.daily
    title = f"Complaints per day — {_text(findings.case.meta.case_id)}"
    if daily.is_empty():
        return _empty(title, "no complaints in the case")
    noon = (pl.col("day").cast(pl.Datetime("us")) + pl.duration(hours=12)).alias("x")
    daily = daily.with_columns(noon)
    fig = go.Figure()
    for spike, name, color in ((False, "complaints", "#92c5de"), (True, "spike day", "#b2182b")):
        part = daily.filter(pl.col("spike") == spike)
        if part.is_empty():
            continue
        fig.add_bar(
            x=part["x"].to_list(),
            y=part["complaints"].to_list(),
            name=name,
            marker_color=color,
            hoverinfo="text",
            hovertext=[
                _hover(
                    f"<b>{r['day']}</b>",
                    f"{r['complaints']} complaint(s)",
                    f"expected {r['expected']:.2f}",
                    f"p = {r['p_value']:.2g}",
                )
                for r in part.iter_rows(named=True)
            ],
        )
    fig.add_scatter(
        x=daily["x"].to_list(),
        y=daily["expected"].to_list(),
        mode="lines",
        name="background rate",
        line={"color": "#4d4d4d", "dash": "dot", "shape": "hvh"},
        hoverinfo="skip",
    )
    calls = _first_calls(findings, tz)
    if not calls.is_empty():
        fig.add_scatter(
            x=calls["x"].to_list(),
            y=calls["n"].to_list(),
            mode="markers",
            name="scammer first called (as buyers said)",
            marker={"symbol": "diamond-open", "color": "#2d004b", "size": 9, "line": {"width": 2}},
            hovertext=[
                f"{d}: {n} buyer(s) say the scammer first called"
                for d, n in calls.select("day", "n").iter_rows()
            ],
            hoverinfo="text",
        )
    shapes, notes = _leak_lines(findings, tz)
    r = findings.rate
    sub = (
        f"{r.spike_complaints} complaints on spike days {r.spike_start} – {r.spike_end}; "
        f"background {r.background_per_day:.2f}/day"
        if r.has_spike
        else f"no spike above the background ({r.background_per_day:.2f}/day)"
    )
    sub += f"; days in {_text(tz)}, complaints {r.dating}"
    fig.update_layout(
        title={"text": title, "subtitle": {"text": sub}},
        template="plotly_white",
        font={"family": _FONT},
        barmode="overlay",
        bargap=0.1,
        height=420,
        xaxis={"type": "date"},
        yaxis={"title": "complaints"},
        legend={"orientation": "h", "y": -0.12, "yanchor": "top"},
        shapes=shapes,
        annotations=notes,
    )
    return fig


def _first_calls(findings, tz: str) -> pl.DataFrame:
    """Complaints per day of the scammer's first call (``contacted_at``)."""
    c = findings.complaints.filter(pl.col("contacted_at").is_not_null())
    if c.is_empty():
        return pl.DataFrame({"day": [], "n": [], "x": []})
    return (
        c.group_by(_local_col("contacted_at", tz).dt.date().alias("day"))
        .agg(pl.len().alias("n"))
        .sort("day")
        .with_columns((pl.col("day").cast(pl.Datetime("us")) + pl.duration(hours=12)).alias("x"))
    )
