"""A person's activity against their baseline, as a plotly figure.

One panel per person: each dot is an hour in which they were active (day
across, hour of the day up). Grey dots are the warm-up the baseline was
learnt from; blue ones are judged days at hours usual for them; red ones
are hours unusual for them (the ``off_hours`` signal's cells). The days a
data-moving signal fired are marked on top with its name. The function
returns a ``go.Figure`` and never shows it; export it with
:func:`forensics.charts.export`.
"""

from __future__ import annotations

import plotly.graph_objects as go
import polars as pl
from plotly.subplots import make_subplots

from .risk import Watch
from .signals import SIGNALS, SignalSettings

__all__ = ["activity_vs_baseline"]

_COLOURS = {"warm-up": "#b0b0b0", "usual": "#4c78a8", "unusual": "#d62728"}


def activity_vs_baseline(
    w: Watch,
    person_ids: list[str] | None = None,
    *,
    top: int = 4,
    tz: str = "UTC",
    settings: SignalSettings | None = None,
) -> go.Figure:
    """Active hours by day for each person, coloured by their baseline.

    Parameters
    ----------
    w : Watch
        :func:`forensics.watch.watch` (or ``audit(case).watch``).
    person_ids : list of str, optional
        Who to draw; the first ``top`` of ``w.people`` when absent.
    tz : str
        The case's zone, for the times in hover text.

    Returns
    -------
    go.Figure
    """
    st = settings or SignalSettings()
    people = person_ids if person_ids is not None else w.people["person_id"].head(top).to_list()
    rows = max(len(people), 1)
    titles = []
    for pid in people:
        match = w.people.filter(pl.col("person_id") == pid)
        score = f" — score {match['score'][0]:.3f}, rank {match['rank'][0]}" if match.height else ""
        titles.append(f"{pid}{score}")
    fig = make_subplots(
        rows=rows,
        cols=1,
        shared_xaxes=True,
        subplot_titles=titles or ["no one"],
        vertical_spacing=0.08 if rows > 1 else 0.1,
    )
    shown: set[str] = set()
    for i, pid in enumerate(people, start=1):
        cells = w.profile.filter(pl.col("person_id") == pid) if w.profile.height else w.profile
        if cells.is_empty():
            continue
        group = (
            pl.when(~pl.col("judged"))
            .then(pl.lit("warm-up"))
            .when(pl.col("llr") >= st.unusual_hour_llr)
            .then(pl.lit("unusual"))
            .otherwise(pl.lit("usual"))
        )
        cells = cells.with_columns(
            group.alias("group"),
            pl.col("at").dt.convert_time_zone(tz).dt.strftime("%Y-%m-%d %H:%M").alias("local"),
        )
        for name, colour in _COLOURS.items():
            part = cells.filter(pl.col("group") == name)
            if part.is_empty():
                continue
            fig.add_trace(
                go.Scatter(
                    x=part["day"].to_list(),
                    y=part["hour"].to_list(),
                    mode="markers",
                    marker={"color": colour, "size": 7, "symbol": "square"},
                    name=name,
                    legendgroup=name,
                    showlegend=name not in shown,
                    text=[
                        f"{r['local']} {r['kind']} ({r['source']} row {r['row']})"
                        for r in part.select("local", "kind", "source", "row").iter_rows(named=True)
                    ],
                    hovertemplate="%{text}<extra>" + name + "</extra>",
                ),
                row=i,
                col=1,
            )
            shown.add(name)
        marks = w.signals.filter(
            (pl.col("person_id") == pid) & (pl.col("signal") != "off_hours")
        ).with_columns(pl.col("at").dt.convert_time_zone(tz).dt.hour().alias("hour"))
        if marks.height:
            fig.add_trace(
                go.Scatter(
                    x=marks["day"].to_list(),
                    y=marks["hour"].to_list(),
                    mode="markers",
                    marker={
                        "color": "black",
                        "size": 11,
                        "symbol": "x-thin-open",
                        "line": {"width": 2},
                    },
                    name="signal",
                    legendgroup="signal",
                    showlegend="signal" not in shown,
                    text=[
                        f"{SIGNALS[s].label}: {d}"
                        for s, d in marks.select("signal", "detail").iter_rows()
                    ],
                    hovertemplate="%{text}<extra></extra>",
                ),
                row=i,
                col=1,
            )
            shown.add("signal")
        fig.update_yaxes(range=[-0.5, 23.5], dtick=6, title_text="hour", row=i, col=1)
    if w.first_judged is not None:
        fig.add_vline(x=w.first_judged, line_dash="dot", line_color="#888")
    fig.update_layout(
        title="Activity against each person's baseline "
        "(grey: warm-up; red: hours unusual for them)",
        height=max(320, 230 * rows),
        template="plotly_white",
        margin={"l": 60, "r": 20, "t": 80, "b": 40},
    )
    return fig
