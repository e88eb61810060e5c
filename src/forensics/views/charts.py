"""Plotly figures of an investigation, and one helper to export them.

Every chart takes a :class:`forensics.investigate.Findings` first, options
after ``*``, and returns a :class:`plotly.graph_objects.Figure`; none calls
``.show()``. Times are shown in the case time zone (``case.timezone()``)
unless ``tz`` says otherwise.

Text that came from the case (ids, notes, summaries, complaint text) is
HTML-escaped with :func:`forensics.privacy.escape` before it reaches a label
or a hover box, and people's names are masked with
:func:`forensics.privacy.mask_name` unless ``reveal=True``.

:func:`export` writes HTML with plotly.js embedded, and PNG, SVG and PDF
through kaleido 1.x, which drives a Chromium browser found by
:func:`find_chromium`. Without one it raises :class:`ChartExportError`.
"""

from __future__ import annotations

import math
import os
import shutil
import weakref
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import networkx as nx
import plotly.graph_objects as go
import polars as pl

from ..analysis.timeline import DESCRIPTIONS
from ..privacy import escape, mask_name

__all__ = [
    "ChartExportError",
    "FORMATS",
    "STATIC_FORMATS",
    "complaint_spike",
    "coverage",
    "evidence_graph",
    "export",
    "export_many",
    "find_chromium",
    "timeline",
]

FORMATS = ("html", "png", "svg", "pdf")
"""Formats :func:`export` writes."""

STATIC_FORMATS = ("png", "svg", "pdf")
"""Formats drawn by kaleido in a Chromium browser."""

CHROMIUM_HINT = (
    "static charts (PNG/SVG/PDF) need a Chromium browser: install Debian's chromium "
    "(apt-get install chromium) or run `make chromium`, or set FORENSICS_CHROMIUM "
    "to the browser's path"
)

MAX_DEFAULT_SPAN = timedelta(days=4)
"""A default timeline view longer than this zooms on the opening of the leak."""

_OPENING_Y = -1.4  # the lane above the first one, where the opening is annotated

_LANE_PX = 30

MAX_MARKS = 3000
"""Above this many events of one kind in view, they are counted per time bucket."""

_HOVER_LIMIT = 240
_LABELLED = 10  # common points named on the coverage chart (the rest on hover)
_LABEL_LIMIT = 28
_FONT = "Noto Sans, WenQuanYi Micro Hei, Arial, sans-serif"

# What each kind of point event looks like; the legend uses DESCRIPTIONS.
_MARKS: dict[tuple[str, str], dict] = {
    ("access", "export_orders"): {"symbol": "triangle-up", "color": "#b2182b", "size": 15},
    ("access", "api_pull"): {"symbol": "triangle-up", "color": "#7b3294", "size": 9},
    ("endpoint", "usb_connect"): {"symbol": "diamond", "color": "#e66101", "size": 12},
    ("endpoint", "usb_disconnect"): {"symbol": "diamond-open", "color": "#e66101", "size": 8},
    ("endpoint", "autorun_added"): {"symbol": "x", "color": "#d7191c", "size": 13},
    ("endpoint", "av_alert"): {"symbol": "hexagram", "color": "#d7191c", "size": 14},
    ("endpoint", "net_upload"): {"symbol": "arrow-up", "color": "#5e3c99", "size": 10},
    ("endpoint", "process_start"): {"symbol": "circle", "color": "#969696", "size": 4},
    ("camera", "insert_device"): {"symbol": "star", "color": "#1a9641", "size": 15},
    ("badge", "in"): {"symbol": "triangle-right", "color": "#018571", "size": 8},
    ("badge", "out"): {"symbol": "triangle-left", "color": "#80cdc1", "size": 8},
    ("logins", "login_failed"): {"symbol": "x-thin-open", "color": "#252525", "size": 9},
}

# Vertical offset of marks within a lane (y grows downwards): endpoint
# events above the centre line, what people did (camera, badge, access) below,
# so a USB connection and the camera seeing the device inserted never hide
# each other.
_LANE_OFFSET: dict[str, float] = {
    "endpoint": -0.2,
    "camera": 0.2,
    "badge": 0.2,
    "access": 0.2,
    "logins": 0.2,
}

# Order access that is routine and frequent: counted per bucket, not drawn one by one.
_ROUTINE_ACCESS = ("view_order", "print_label", "search")

_INDICATOR_COLORS: dict[str, str] = {
    "off_hours": "#f4a582",
    "usb_hop": "#d7191c",
    "usb_then_autorun": "#a50026",
    "usb_seen_inserting": "#1a9641",
    "stale_account_use": "#c51b7d",
    "off_hours_export": "#b2182b",
    "large_export": "#b2182b",
    "visitor_at_machine": "#762a83",
    "new_hire_early_days": "#fdb863",
    "owner_elsewhere": "#4393c3",
    "used_other_account": "#2166ac",
}

_NODE_STYLE: dict[str, tuple[str, str, int]] = {
    # kind: (colour, symbol, layer from the complaints towards people)
    "complaint": ("#f4a582", "circle", 0),
    "complaints": ("#b2182b", "square", 1),
    "orderset": ("#fddbc7", "square", 2),
    "event": ("#7b3294", "triangle-up", 3),
    "session": ("#92c5de", "circle", 3),
    "ip": ("#bababa", "circle", 3),
    "app": ("#7b3294", "hexagon", 3),
    "process": ("#d7191c", "x", 3),
    "device": ("#e66101", "diamond", 3),
    "account": ("#4393c3", "square", 4),
    "machine": ("#4d4d4d", "square", 5),
    "person": ("#1a9641", "star", 6),
}

_LEVEL_COLORS: dict[str, str] = {
    "device": "#e66101",
    "process": "#d7191c",
    "machine": "#4d4d4d",
    "account": "#4393c3",
    "session": "#92c5de",
    "event": "#7b3294",
    "ip": "#878787",
    "app": "#762a83",
}


class ChartExportError(RuntimeError):
    """A chart could not be exported (typically: no Chromium for kaleido)."""


# --------------------------------------------------------------------------
# small helpers


def _zone(tz: str) -> ZoneInfo:
    return ZoneInfo(tz)


def _local(t: datetime | None, tz: str) -> datetime | None:
    """An aware instant as naive wall time in ``tz`` (what plotly draws)."""
    if t is None:
        return None
    return t.astimezone(_zone(tz)).replace(tzinfo=None)


def _local_col(column: str, tz: str) -> pl.Expr:
    return pl.col(column).dt.convert_time_zone(tz).dt.replace_time_zone(None)


def _instant(value: datetime | date | str | None, tz: str) -> datetime | None:
    """``value`` (aware, naive in ``tz``, a date or ISO text) as a UTC instant."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if not isinstance(value, datetime):
        value = datetime.combine(value, time(0))
    if value.tzinfo is None:
        value = value.replace(tzinfo=_zone(tz))
    return value.astimezone(UTC)


def _short(text: object, limit: int = _LABEL_LIMIT) -> str:
    """Raw text shortened for a label (escape the result)."""
    text = "" if text is None else str(text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _text(value: object, limit: int = _HOVER_LIMIT) -> str:
    """Case text made safe for a plotly label or hover box."""
    return escape(_short(value, limit))


def _hover(*lines: str | None) -> str:
    """Join already-escaped lines into one hover box."""
    return "<br>".join(line for line in lines if line)


def _cite(source: object, row: object) -> str | None:
    if source is None:
        return None
    return f"{_text(source)}:{row}" if row is not None else _text(source)


def _fmt_time(t: datetime | None) -> str:
    return t.strftime("%Y-%m-%d %H:%M:%S") if t is not None else "?"


def _person_names(findings, *, reveal: bool) -> dict[str, str]:
    """person_id -> name as it may be shown (masked unless ``reveal``)."""
    staff = findings.case.staff.select("person_id", "name").drop_nulls()
    show = (lambda n: n) if reveal else mask_name
    return {pid: show(name) for pid, name in staff.iter_rows()}


def _empty(title: str, message: str) -> go.Figure:
    fig = go.Figure()
    fig.add_annotation(
        text=escape(message),
        showarrow=False,
        x=0.5,
        y=0.5,
        xref="paper",
        yref="paper",
        font={"size": 14},
    )
    fig.update_layout(
        title=title,
        template="plotly_white",
        font={"family": _FONT},
        xaxis={"visible": False},
        yaxis={"visible": False},
        height=300,
    )
    return fig


def _leak_lines(
    findings, tz: str, *, lo=None, hi=None, inside: bool = False
) -> tuple[list[dict], list[dict]]:
    """Dashed lines where the leak window opens and closes (when in view),
    labelled above the plot, or ``inside`` it at the bottom (when the x axis
    is on top): the shapes and the annotations."""
    v = findings.vector
    shapes, notes = [], []
    for t, label, anchor in (
        (v.leak_start, "leak starts", "left"),
        (v.leak_end, "last leaked exposure", "right"),
    ):
        if t is None or (lo is not None and t < lo) or (hi is not None and t > hi):
            continue
        x = _local(t, tz)
        line = {"color": "#b2182b", "dash": "dash", "width": 1.5}
        shapes.append(
            {"type": "line", "x0": x, "x1": x, "y0": 0, "y1": 1, "yref": "paper", "line": line}
        )
        note = {
            "x": x,
            "y": 0 if inside else 1,
            "yref": "paper",
            "text": label,
            "showarrow": False,
            "xanchor": anchor,
            "yanchor": "bottom",
            "xshift": 3 if anchor == "left" else -3,
            "font": {"color": "#b2182b", "size": 11},
        }
        if inside:
            note["bgcolor"] = "rgba(255,255,255,0.85)"
        notes.append(note)
    return shapes, notes


def _offsets_note(findings) -> str:
    """One line naming every clock offset applied, for titles."""
    parts = [
        f"{_text(o.file)} clock {o.text} corrected (confidence {o.confidence:.2f}, {o.pairs} pairs)"
        for o in findings.clock_offsets.values()
    ]
    return "; ".join(parts)


# --------------------------------------------------------------------------
# complaint spike


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
    sub += f"; days in {_text(tz)}"
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


# --------------------------------------------------------------------------
# coverage


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


# --------------------------------------------------------------------------
# timeline


def timeline(
    findings,
    *,
    person: str | None = None,
    machine: str | None = None,
    start: datetime | date | str | None = None,
    end: datetime | date | str | None = None,
    tz: str | None = None,
    reveal: bool = False,
) -> go.Figure:
    """One timeline across every source, a row per machine, person or account.

    Parameters
    ----------
    findings : Findings
        The investigation; draws ``findings.timeline`` (camera times already
        corrected by the estimated clock offset), ``findings.sessions`` and
        ``findings.indicators``.
    person, machine : str, optional
        Focus on one person (their badge and camera events, and the machines
        they were seen at or logged into) or one machine (its events and the
        people seen at it). Both: the union.
    start, end : datetime, date or ISO str, optional
        The window to draw; naive values are in ``tz``; an ``end`` given as
        a date includes that day. By default, the leak
        window ± a day; when that is longer than :data:`MAX_DEFAULT_SPAN`,
        the day before the leak opened to two days after (where the path
        was opened: infections, the first export). Without a leak window,
        the complaint spike and the three days before it; else everything.
    tz : str, optional
        Time zone to show; the case's by default.
    reveal : bool
        Show people's names unmasked.

    Returns
    -------
    plotly.graph_objects.Figure
        Sessions and camera sightings as bars; exports, pulls, USB,
        autoruns, antivirus alerts, uploads, badge events as marks; routine
        order access (views, labels, searches) counted per time bucket;
        indicators as rings around what they flag; off-hours shaded grey;
        the leak window as dashed lines; the moments the leak path opened
        annotated.

    Notes
    -----
    What does not depend on the window or the focus (the lane of each
    event, session and indicator, and local times) is worked out once per
    ``findings`` and time zone, and kept while ``findings`` lives: redrawing
    for other days or another person only filters and draws; hover texts are
    written for what is drawn one by one.
    """
    tz = tz or findings.case.timezone()
    lo, hi, what = _window(findings, start, end, tz)
    every = _bucket(hi - lo)
    prepared = _prepared(findings, tz)
    events = _between(prepared.events, "at", lo, hi)
    sessions = _session_rows(prepared.sessions, lo, hi, tz)
    inds = _between(prepared.indicators, "at", lo, hi)
    if person is not None or machine is not None:
        events, sessions, inds = _focus(findings, events, sessions, inds, person, machine)
    order = _row_order(findings, events, sessions, inds)
    title = f"Timeline — {_text(findings.case.meta.case_id)}: {what}"
    if not order:
        return _empty(title, "nothing happened in this window")
    pos = {key: i for i, key in enumerate(order)}
    traces = [
        *_session_bars(sessions, pos, tz),
        *_camera_bars(events, pos, tz, lo, hi, names=_person_names(findings, reveal=reveal)),
        *_routine_access(events, pos, tz, every),
        *_indicator_rings(inds, pos, tz),
        *_marks(events, pos, tz, every),
    ]
    shapes = _off_hours_shading(findings, tz, lo, hi)
    line_shapes, annotations = _leak_lines(findings, tz, lo=lo, hi=hi, inside=True)
    shapes += line_shapes
    opening = _opening(findings, tz, lo, hi)
    if opening is not None:
        traces.append(opening[0])
        annotations += opening[1]
    layout = _timeline_layout(
        findings, order, tz, lo, hi, title, reveal=reveal, opening=opening is not None
    )
    layout["shapes"] = shapes + layout["shapes"]
    layout["annotations"] = annotations
    return go.Figure(data=traces, layout=layout)


def _window(findings, start, end, tz: str) -> tuple[datetime, datetime, str]:
    """UTC bounds of the view, and a phrase saying what they are."""
    lo, hi = _instant(start, tz), _instant(end, tz)
    if hi is not None and isinstance(end, date) and not isinstance(end, datetime):
        hi += timedelta(days=1)  # an end day is shown whole
    if lo is not None and hi is not None:
        return lo, hi, "chosen window"
    d_lo, d_hi, what = _default_window(findings, tz)
    if lo is not None or hi is not None:
        lo, hi = lo or d_lo, hi or d_hi
        if hi <= lo:
            hi = lo + timedelta(days=1)
        what = "chosen window"
    else:
        lo, hi = d_lo, d_hi
    return lo, hi, what


def _default_window(findings, tz: str) -> tuple[datetime, datetime, str]:
    v, day = findings.vector, timedelta(days=1)
    if v.leak_start is not None:
        lo, hi = v.leak_start - day, (v.leak_end or v.leak_start) + day
        if hi - lo <= MAX_DEFAULT_SPAN:
            return lo, hi, "the leak window ± a day"
        return lo, v.leak_start + 2 * day, "the opening of the leak window (from a day before)"
    r = findings.rate
    if r.has_spike:
        zone = _zone(tz)
        lo = datetime.combine(r.spike_start - timedelta(days=3), time(0), tzinfo=zone)
        hi = datetime.combine(r.spike_end + day, time(0), tzinfo=zone)
        return lo.astimezone(UTC), hi.astimezone(UTC), "the complaint spike and the days before"
    at = findings.timeline["at"]
    if at.is_empty():
        now = datetime.now(UTC)
        return now - day, now, "the whole case"
    return at.min() - timedelta(hours=1), at.max() + timedelta(hours=1), "the whole case"


def _bucket(span: timedelta) -> timedelta:
    """Width of the buckets routine access is counted in (about 200 per view)."""
    for minutes in (5, 15, 30, 60, 180, 360, 720):
        if span / timedelta(minutes=minutes) <= 200:
            return timedelta(minutes=minutes)
    return timedelta(days=1)


def _between(frame: pl.DataFrame, column: str, lo: datetime, hi: datetime) -> pl.DataFrame:
    return frame.filter((pl.col(column) >= lo) & (pl.col(column) <= hi))


# --------------------------------------------------------------------------
# the timeline's rows, prepared once per findings


@dataclass(frozen=True)
class _Prepared:
    """Timeline, sessions and indicators with their lane and local times."""

    events: pl.DataFrame
    sessions: pl.DataFrame
    indicators: pl.DataFrame


_PREPARED: dict[tuple[int, str], tuple[weakref.ref, _Prepared]] = {}


def _prepared(findings, tz: str) -> _Prepared:
    """The rows of ``findings`` with their lanes, worked out once and kept
    while ``findings`` lives (findings and their frames are immutable)."""
    key = (id(findings), tz)
    hit = _PREPARED.get(key)
    if hit is not None and hit[0]() is findings:
        return hit[1]
    prepared = _Prepared(
        events=_event_rows(findings.timeline, tz),
        sessions=_session_lanes(findings.sessions),
        indicators=_indicator_rows(findings.indicators, tz),
    )
    _PREPARED[key] = (weakref.ref(findings, lambda _ref: _PREPARED.pop(key, None)), prepared)
    return prepared


def _event_rows(events: pl.DataFrame, tz: str) -> pl.DataFrame:
    """Each event's lane: its machine, else its account (back office), else
    its person; and its local times."""
    account = pl.lit("account\x00") + pl.col("account_id")
    lane = (
        pl.when(pl.col("machine_id").is_not_null())
        .then(pl.lit("machine\x00") + pl.col("machine_id"))
        .when(pl.col("table").is_in(["logins", "access"]) & pl.col("account_id").is_not_null())
        .then(account)
        .when(pl.col("person_id").is_not_null())
        .then(pl.lit("person\x00") + pl.col("person_id"))
        .when(pl.col("account_id").is_not_null())
        .then(account)
        .otherwise(pl.lit("other\x00") + pl.col("table") + pl.lit(", nobody identified"))
    )
    return events.with_columns(
        lane.alias("lane"), _local_col("at", tz).alias("x"), _local_col("end", tz).alias("x_end")
    )


def _session_lanes(sessions: pl.DataFrame) -> pl.DataFrame:
    return sessions.with_columns(
        pl.when(pl.col("machine_id").is_not_null())
        .then(pl.lit("machine\x00") + pl.col("machine_id"))
        .otherwise(pl.lit("account\x00") + pl.col("account_id"))
        .alias("lane"),
    )


def _session_rows(sessions: pl.DataFrame, lo: datetime, hi: datetime, tz: str) -> pl.DataFrame:
    """The sessions in view, cut to it (``x0``, ``x1`` local)."""
    end = pl.coalesce("end", "start")
    inside = sessions.filter((pl.col("start") <= hi) & (end >= lo))
    return inside.with_columns(
        pl.max_horizontal("start", pl.lit(lo)).alias("x0"),
        pl.min_horizontal(end, pl.lit(hi)).alias("x1"),
    ).with_columns(_local_col("x0", tz), _local_col("x1", tz))


def _indicator_rows(inds: pl.DataFrame, tz: str) -> pl.DataFrame:
    return inds.with_columns(
        pl.when(pl.col("machine_id").is_not_null())
        .then(pl.lit("machine\x00") + pl.col("machine_id"))
        .when(pl.col("account_id").is_not_null())
        .then(pl.lit("account\x00") + pl.col("account_id"))
        .when(pl.col("person_id").is_not_null())
        .then(pl.lit("person\x00") + pl.col("person_id"))
        .otherwise(pl.lit("other\x00indicator"))
        .alias("lane"),
        _local_col("at", tz).alias("x"),
    )


def _focus(findings, events, sessions, inds, person, machine):
    """Keep the lanes about one person and/or one machine."""
    lanes: set[str] = set()
    people: set[str] = set()
    if machine is not None:
        lanes.add(f"machine\x00{machine}")
        seen = events.filter((pl.col("table") == "camera") & (pl.col("machine_id") == machine))
        people |= set(seen["person_id"].drop_nulls().to_list())
    if person is not None:
        people.add(person)
        accounts = findings.case.accounts.filter(pl.col("owner_person_id") == person)["account_id"]
        lanes |= {f"account\x00{a}" for a in accounts.to_list()}
        seen = events.filter((pl.col("person_id") == person) & pl.col("machine_id").is_not_null())
        mine = sessions.filter(pl.col("account_id").is_in(accounts.to_list()))
        desk = findings.case.staff.filter(pl.col("person_id") == person)["desk_machine_id"]
        machines = set(seen["machine_id"].to_list()) | set(
            mine["machine_id"].drop_nulls().to_list()
        )
        machines |= set(desk.drop_nulls().to_list())
        lanes |= {f"machine\x00{m}" for m in machines}
    lanes |= {f"person\x00{p}" for p in people}
    keep = pl.col("lane").is_in(sorted(lanes))
    return events.filter(keep), sessions.filter(keep), inds.filter(keep)


def _row_order(findings, events, sessions, inds) -> list[str]:
    """Lanes top to bottom: the leak path, suspects, then everything else sorted."""
    present = set(events["lane"].unique().to_list()) | set(sessions["lane"].unique().to_list())
    present |= set(inds["lane"].unique().to_list())
    v = findings.vector
    first = [f"machine\x00{m}" for m in v.machines] + [f"account\x00{a}" for a in v.accounts]
    first += [f"person\x00{s.person_id}" for s in findings.suspects]
    order = [lane for lane in dict.fromkeys(first) if lane in present]
    kinds = {"machine": 0, "person": 1, "account": 2, "other": 3}
    rest = sorted(present - set(order), key=lambda s: (kinds.get(s.split("\x00")[0], 9), s))
    return order + rest


def _lane_label(
    lane: str, names: dict[str, str], suspects: dict[str, float], path: set[str]
) -> str:
    kind, _, ident = lane.partition("\x00")
    label = _text(ident, 32)
    if kind == "person":
        name = names.get(ident)
        label = f"{label} {_text(name, 16)}" if name else label
        if ident in suspects:
            label = f"<b>{label} (suspect {suspects[ident]:.2f})</b>"
    elif kind == "account":
        label = f"account {label}"
    elif kind == "other":
        label = f"({label})"
    return f"<b>{label}</b>" if lane in path else label


# --------------------------------------------------------------------------
# the timeline's traces: one per kind of thing drawn, built as plain dicts


def _lanes(frame: pl.DataFrame, pos: dict[str, int], shift: float = 0.0) -> list[float]:
    """The y of each row: its lane's position (plus ``shift``)."""
    if shift:
        return [pos[lane] + shift for lane in frame["lane"].to_list()]
    return [pos[lane] for lane in frame["lane"].to_list()]


def _dates(frame: pl.DataFrame, column: str) -> list[str]:
    """Local times as text for a date axis: plotly.js reads them as it reads
    datetimes, and plain strings cost far less to check, copy and encode."""
    return frame.select(pl.col(column).dt.strftime("%Y-%m-%d %H:%M:%S%.f"))[:, 0].to_list()


def _ms(delta: pl.Expr) -> pl.Expr:
    """A duration in milliseconds, as a float (what a date bar's length is)."""
    return delta.dt.total_microseconds().cast(pl.Float64) / 1000


def _session_bars(sessions: pl.DataFrame, pos: dict, tz: str) -> list[dict]:
    sessions = sessions.filter(pl.col("lane").is_in(list(pos)))
    bars = []
    for outside, name, color in (
        (False, "back-office session", "#c6dbef"),
        (True, "session from outside the office", "#fdd0a2"),
    ):
        part = sessions.filter(pl.col("outside_office") == outside)
        if part.is_empty():
            continue
        bars.append(
            {
                "type": "bar",
                "base": _dates(part, "x0"),
                "x": part.select(_ms(pl.col("x1") - pl.col("x0")))[:, 0].to_list(),
                "y": _lanes(part, pos),
                "orientation": "h",
                "width": 0.7,
                "name": name,
                "marker": {"color": color, "line": {"width": 0}},
                "hoverinfo": "text",
                "hovertext": [_session_hover(r, tz) for r in part.iter_rows(named=True)],
            }
        )
    return bars


def _session_hover(r: dict, tz: str) -> str:
    end = (
        "(logout missing, end estimated)" if r["end_estimated"] else _fmt_time(_local(r["end"], tz))
    )
    return _hover(
        f"<b>session of {_text(r['account_id'])}</b>",
        f"{_fmt_time(_local(r['start'], tz))} → {end}",
        f"machine {_text(r['machine_id'])}" if r["machine_id"] else f"ip {_text(r['ip'])}",
        f"logins:{r['login_row']}" + (f", logout row {r['logout_row']}" if r["logout_row"] else ""),
    )


def _camera_bars(events, pos, tz, lo, hi, *, names: dict[str, str]) -> list[dict]:
    """Camera sightings as thin bars (at least a few pixels wide)."""
    cam = events.filter((pl.col("table") == "camera") & (pl.col("action") != "insert_device"))
    if cam.is_empty():
        return []
    least = (hi - lo) / 400
    seen = pl.coalesce("x_end", "x") - pl.col("x")
    width = pl.when(seen > least).then(seen).otherwise(pl.lit(least))
    return [
        {
            "type": "bar",
            "base": _dates(cam, "x"),
            "x": cam.select(_ms(width))[:, 0].to_list(),
            "y": _lanes(cam, pos),
            "orientation": "h",
            "width": 0.3,
            "name": "camera sighting",
            "marker": {"color": "#66bd63", "line": {"width": 0}},
            "opacity": 0.8,
            "hovertext": _event_hovers(cam, tz, names).to_list(),
            "hoverinfo": "text",
        }
    ]


def _event_hover(r: dict, tz: str, names: dict[str, str] | None = None) -> str:
    """One event's hover box (the timeline works these out per column)."""
    who = None
    if r.get("person_id"):
        name = (names or {}).get(r["person_id"])
        who = f"person {_text(r['person_id'])}" + (f" {_text(name)}" if name else "")
    return _hover(
        f"<b>{_text(r['desc'])}</b>",
        _fmt_time(_local(r["at"], tz)),
        who,
        f"account {_text(r['account_id'])}" if r.get("account_id") else None,
        f"machine {_text(r['machine_id'])}" if r.get("machine_id") else None,
        f"device {_text(r['device_id'])}" if r.get("device_id") else None,
        _text(r["detail"]) if r.get("detail") else None,
        _cite(r["source"], r["row"]),
    )


def _event_hovers(events: pl.DataFrame, tz: str, names: dict[str, str] | None = None) -> pl.Series:
    """:func:`_event_hover` of every row, worked out per column."""
    name = pl.col("person_id").replace_strict(names or {}, default=None, return_dtype=pl.String)
    who = pl.lit("person ") + _escaped(pl.col("person_id"))
    who = (
        pl.when(name.is_not_null() & (name != ""))
        .then(who + pl.lit(" ") + _escaped(name))
        .otherwise(who)
    )
    hover = pl.concat_str(
        [
            pl.lit("<b>") + _escaped(pl.col("desc")) + pl.lit("</b>"),
            _local_col("at", tz).dt.strftime("%Y-%m-%d %H:%M:%S").fill_null("?"),
            pl.when(_given("person_id")).then(who),
            _line("account_id", "account "),
            _line("machine_id", "machine "),
            _line("device_id", "device "),
            pl.when(_given("detail")).then(_escaped(pl.col("detail"))),
            _cite_col(),
        ],
        separator="<br>",
        ignore_nulls=True,
    )
    return events.select(hover.alias("hover"))["hover"]


def _escaped(expr: pl.Expr, limit: int = _HOVER_LIMIT) -> pl.Expr:
    """:func:`_text` on a column: shortened to ``limit`` characters, HTML-escaped."""
    text = expr.cast(pl.String)
    text = (
        pl.when(text.str.len_chars() > limit)
        .then(text.str.slice(0, limit - 1) + pl.lit("…"))
        .otherwise(text)
    )
    for raw, safe in (
        ("&", "&amp;"),
        ("<", "&lt;"),
        (">", "&gt;"),
        ('"', "&quot;"),
        ("'", "&#x27;"),
    ):
        text = text.str.replace_all(raw, safe, literal=True)
    return text


def _given(column: str) -> pl.Expr:
    """A cell :func:`_hover` would show: neither null nor empty."""
    return pl.col(column).is_not_null() & (pl.col(column).cast(pl.String) != "")


def _line(column: str, prefix: str) -> pl.Expr:
    """``prefix`` and the escaped cell when given, else null (a skipped line)."""
    return pl.when(_given(column)).then(pl.lit(prefix) + _escaped(pl.col(column)))


def _cite_col() -> pl.Expr:
    """:func:`_cite` on the ``source`` and ``row`` columns."""
    source = _escaped(pl.col("source"))
    return (
        pl.when(pl.col("source").is_null())
        .then(None)
        .when(pl.col("row").is_not_null())
        .then(source + pl.lit(":") + pl.col("row").cast(pl.String))
        .otherwise(pl.when(source != "").then(source))
    )


def _routine_access(events, pos, tz, every: timedelta) -> list[dict]:
    """Views, label prints and searches counted per lane and bucket."""
    routine = events.filter((pl.col("table") == "access") & pl.col("action").is_in(_ROUTINE_ACCESS))
    if routine.is_empty():
        return []
    counts = _counts(routine, tz, every)
    return [
        {
            "type": "scatter",
            "x": _dates(counts, "x"),
            "y": _lanes(counts, pos),
            "mode": "markers",
            "name": f"order views / labels / searches (per {_duration(every)})",
            "marker": {
                "symbol": "square",
                "color": "#bdbdbd",
                "size": [min(14.0, 4 + 2 * math.log2(n)) for n in counts["n"].to_list()],
            },
            "hovertext": counts["hover"].to_list(),
            "hoverinfo": "text",
        }
    ]


def _counts(frame: pl.DataFrame, tz: str, every: timedelta) -> pl.DataFrame:
    """Events per lane and time bucket, with a hover line per bucket."""
    local = frame.with_columns(
        _local_col("at", tz).dt.truncate(f"{int(every.total_seconds())}s").alias("bucket")
    )
    per = local.group_by("lane", "bucket", "desc").agg(pl.len().alias("k")).sort("desc")
    grouped = (
        per.group_by("lane", "bucket")
        .agg(pl.col("k").sum().alias("n"), pl.format("{} × {}", "k", "desc").alias("what"))
        .sort("lane", "bucket")  # the same figure on every run
    )
    hovers = [
        _hover(f"<b>{b:%Y-%m-%d %H:%M} – {b + every:%H:%M}</b>", *(_text(w) for w in what))
        for b, what in grouped.select("bucket", "what").iter_rows()
    ]
    return grouped.with_columns(
        (pl.col("bucket") + pl.duration(seconds=every.total_seconds() / 2)).alias("x"),
        pl.Series("hover", hovers, dtype=pl.String),
    )


def _duration(every: timedelta) -> str:
    minutes = int(every.total_seconds() // 60)
    return f"{minutes} min" if minutes < 60 else f"{minutes // 60} h"


def _marks(events, pos, tz, every: timedelta) -> list[dict]:
    """Point events that matter, one mark each (counted when too many)."""
    traces = []
    marked = events.filter(pl.col("table").is_in({t for t, _ in _MARKS}))
    many = pl.len().over("table", "action") > MAX_MARKS
    counted = marked.filter(many).partition_by("table", "action", as_dict=True)
    # hover texts of the marks drawn one by one, in one pass (a pass per kind
    # costs more than the texts)
    single = marked.filter(~many)
    single = single.with_columns(_event_hovers(single, tz))
    parts = single.partition_by("table", "action", as_dict=True)
    for (table, action), style in _MARKS.items():
        part = parts.get((table, action))
        name = DESCRIPTIONS.get((table, action), f"{table}: {action}")
        if (table, action) in counted:
            counts = _counts(counted[table, action], tz, every)
            traces.append(
                {
                    "type": "scatter",
                    "x": _dates(counts, "x"),
                    "y": _lanes(counts, pos),
                    "mode": "markers",
                    "name": f"{name} (per {_duration(every)})",
                    "marker": {**style, "opacity": 0.7},
                    "hovertext": counts["hover"].to_list(),
                    "hoverinfo": "text",
                }
            )
            continue
        if part is None or part.is_empty():
            continue
        traces.append(
            {
                "type": "scatter",
                "x": _dates(part, "x"),
                "y": _lanes(part, pos, _LANE_OFFSET.get(table, 0.0)),
                "mode": "markers",
                "name": name,
                "marker": {**style, "line": {"width": 1, "color": "white"}}
                if "open" not in style["symbol"]
                else style,
                "hovertext": part["hover"].to_list(),
                "hoverinfo": "text",
            }
        )
    return traces


def _indicator_rings(inds: pl.DataFrame, pos: dict, tz: str) -> list[dict]:
    """Rings around what the indicators flag, one legend entry per indicator."""
    inds = inds.filter(pl.col("lane").is_in(list(pos)))
    traces = []
    for kind in inds["indicator"].unique(maintain_order=True).to_list():
        part = inds.filter(pl.col("indicator") == kind)
        traces.append(
            {
                "type": "scatter",
                "x": _dates(part, "x"),
                "y": _lanes(part, pos),
                "mode": "markers",
                "name": f"⚑ {_text(kind).replace('_', ' ')}",
                "marker": {
                    "symbol": "circle-open",
                    "size": 26,
                    "line": {"width": 2},
                    "color": _INDICATOR_COLORS.get(kind, "#525252"),
                },
                "hovertext": [
                    _hover(
                        f"<b>indicator: {_text(kind)}</b>",
                        _fmt_time(r["x"]),
                        _text(r["summary"]),
                        _cite(r["source"], r["row"]),
                    )
                    for r in part.iter_rows(named=True)
                ],
                "hoverinfo": "text",
            }
        )
    return traces


def _off_hours(findings, tz: str, lo: datetime, hi: datetime) -> list[tuple[datetime, datetime]]:
    """Local intervals outside business hours (closed days whole), merged."""
    meta, zone = findings.case.meta, _zone(tz)
    first, last = lo.astimezone(zone).date(), hi.astimezone(zone).date()
    spans: list[tuple[datetime, datetime]] = []
    day = first
    while day <= last:
        midnight = datetime.combine(day, time(0))
        if meta.weekdays and day.isoweekday() not in meta.weekdays:
            spans.append((midnight, midnight + timedelta(days=1)))
        else:
            spans.append((midnight, datetime.combine(day, meta.business_start)))
            spans.append((datetime.combine(day, meta.business_end), midnight + timedelta(days=1)))
        day += timedelta(days=1)
    merged: list[tuple[datetime, datetime]] = []
    for a, b in spans:
        if merged and merged[-1][1] >= a:
            merged[-1] = (merged[-1][0], max(b, merged[-1][1]))
        else:
            merged.append((a, b))
    view = (_local(lo, tz), _local(hi, tz))
    return [(max(a, view[0]), min(b, view[1])) for a, b in merged if b > view[0] and a < view[1]]


def _off_hours_shading(findings, tz: str, lo: datetime, hi: datetime) -> list[dict]:
    shade = {
        "type": "rect",
        "xref": "x",
        "yref": "paper",
        "y0": 0,
        "y1": 1,
        "layer": "below",
        "fillcolor": "#f0f0f0",
        "line": {"width": 0},
    }
    return [{**shade, "x0": a, "x1": b} for a, b in _off_hours(findings, tz, lo, hi)]


def _opening(findings, tz: str, lo: datetime, hi: datetime) -> tuple[dict, list[dict]] | None:
    """A lane above the others saying when and where the leak path was opened.

    One red tick per moment in ``vector.anchors`` (infections, the first
    export, pulls), and per day a line of text: what, when, on which PCs,
    and whether it was outside business hours. Returns the ticks' trace and
    the annotations, or None when nothing is to be drawn.
    """
    anchors = findings.vector.anchors
    if anchors.is_empty() or "at" not in anchors.columns:
        return None
    anchors = _between(anchors, "at", lo, hi).sort("at")
    if anchors.is_empty():
        return None
    ticks = {
        "type": "scatter",
        "x": [_local(t, tz) for t in anchors["at"].to_list()],
        "y": [_OPENING_Y] * anchors.height,
        "mode": "markers",
        "name": "leak path opened",
        "showlegend": False,
        "marker": {"symbol": "triangle-down", "color": "#b2182b", "size": 11},
        "hovertext": [
            _hover(
                f"<b>{_text(r['what'])}</b>",
                _fmt_time(_local(r["at"], tz)),
                f"machine {_text(r['machine_id'])}" if r["machine_id"] else None,
                _cite(r["source"], r["row"]),
            )
            for r in anchors.iter_rows(named=True)
        ],
        "hoverinfo": "text",
    }
    days = anchors.group_by(_local_col("at", tz).dt.date().alias("day"), maintain_order=True)
    notes = []
    for n, (_, group) in enumerate(days):
        if n >= 4:
            break
        notes.append(
            {
                "x": _local(group["at"].min(), tz),
                "y": _OPENING_Y,
                "text": _opening_text(findings, group, tz),
                "showarrow": False,
                "xanchor": "left",
                "yanchor": "middle",
                "xshift": 8,
                "align": "left",
                "bgcolor": "rgba(255,255,255,0.9)",
                "font": {"size": 11, "color": "#67001f"},
            }
        )
    return ticks, notes


def _opening_text(findings, group: pl.DataFrame, tz: str) -> str:
    """``05-07 06:59–07:14, before 09:00`` / ``on 4 PCs: PC-14, PC-12, ...``."""
    meta = findings.case.meta
    t0, t1 = _local(group["at"].min(), tz), _local(group["at"].max(), tz)
    span = f"{t0:%m-%d %H:%M}" + (f"–{t1:%H:%M}" if t1 - t0 >= timedelta(minutes=1) else "")
    when = ""
    if t0.time() < meta.business_start:
        when = f", before business hours ({meta.business_start:%H:%M})"
    elif t1.time() >= meta.business_end:
        when = f", after business hours ({meta.business_end:%H:%M})"
    machines = list(dict.fromkeys(group["machine_id"].drop_nulls().to_list()))
    if machines:
        more = f" +{len(machines) - 5}" if len(machines) > 5 else ""
        where = f"on {len(machines)} PC(s): " + ", ".join(_text(m) for m in machines[:5]) + more
    else:
        where = _text(_short(group["what"][0], 40))
    return f"<b>{span}{when}</b><br>{where}"


def _timeline_layout(findings, order, tz, lo, hi, title, *, reveal: bool, opening: bool) -> dict:
    names = _person_names(findings, reveal=reveal)
    suspects = {s.person_id: s.score for s in findings.suspects}
    path = {f"machine\x00{m}" for m in findings.vector.machines}
    path |= {f"account\x00{a}" for a in findings.vector.accounts}
    ticks = list(range(len(order)))
    labels = [_lane_label(lane, names, suspects, path) for lane in order]
    if opening:
        ticks.insert(0, _OPENING_Y)
        labels.insert(0, '<b style="color:#b2182b">leak path opened</b>')
    offsets = _offsets_note(findings)
    sub = f"times in {_text(tz)}; grey = outside business hours"
    sub += f"; {offsets}" if offsets else ""
    separator = {
        "type": "line",
        "xref": "paper",
        "x0": 0,
        "x1": 1,
        "yref": "y",
        "layer": "below",
        "line": {"color": "#e0e0e0", "width": 0.5},
    }
    return {
        "title": {"text": title, "subtitle": {"text": sub}},
        "template": "plotly_white",
        "font": {"family": _FONT, "size": 12},
        "barmode": "overlay",
        "hovermode": "closest",
        "height": max(420, 240 + _LANE_PX * len(order)),
        "margin": {"l": 10, "r": 10, "t": 120, "b": 40},
        "xaxis": {
            "type": "date",
            "range": [_local(lo, tz), _local(hi, tz)],
            "showgrid": True,
            "title": None,
            "side": "top",
        },
        "yaxis": {
            "tickvals": ticks,
            "ticktext": labels,
            "autorange": False,
            "range": [len(order) - 0.5, _OPENING_Y - 0.6 if opening else -0.5],
            "showgrid": False,
            "zeroline": False,
        },
        "legend": {"orientation": "h", "yanchor": "top", "y": -0.01, "x": 0, "font": {"size": 11}},
        "shapes": [
            {**separator, "y0": i + 0.5, "y1": i + 0.5}
            for i in range(-1 if opening else 0, len(order))
        ],
    }


# --------------------------------------------------------------------------
# evidence graph


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


# --------------------------------------------------------------------------
# export


def find_chromium() -> Path | None:
    """The Chromium (or Chrome) executable kaleido should drive, if any.

    Looked for, in order: ``$FORENSICS_CHROMIUM``, ``$BROWSER_PATH`` (the
    variable choreographer, kaleido's browser driver, reads),
    ``/usr/bin/chromium`` (Debian's package), ``chromium``/``chrome`` on
    ``PATH``, then a browser downloaded by ``kaleido_get_chrome`` or
    ``plotly_get_chrome``. A variable naming a missing file gives ``None``.
    """
    for var in ("FORENSICS_CHROMIUM", "BROWSER_PATH"):
        if value := os.environ.get(var):
            return Path(value) if _executable(value) else None
    candidates: list[str | None] = ["/usr/bin/chromium"]
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome"):
        candidates.append(shutil.which(name))
    candidates.append(_downloaded_chrome())
    return next((Path(c) for c in candidates if c and _executable(c)), None)


def _executable(path: str) -> bool:
    return os.path.isfile(path) and os.access(path, os.X_OK)


def _downloaded_chrome() -> str | None:
    try:
        from choreographer.cli import get_chrome_download_path

        found = get_chrome_download_path(mkdir=False)
    except Exception:  # noqa: BLE001 - best effort: any failure means "none downloaded"
        return None
    return str(found) if found else None


def export(
    fig: go.Figure,
    path: str | Path,
    *,
    formats: Sequence[str] = FORMATS,
    width: int | None = None,
    height: int | None = None,
    scale: float = 1.0,
) -> list[Path]:
    """Write ``fig`` as ``path`` with each format's suffix.

    Parameters
    ----------
    fig : plotly.graph_objects.Figure
        The chart.
    path : str or Path
        Target without suffix (a suffix that names a format is dropped):
        ``out/timeline`` writes ``out/timeline.html``, ``out/timeline.png``...
    formats : sequence of str
        Any of ``html``, ``png``, ``svg``, ``pdf``. HTML is self-contained
        (plotly.js embedded); the others are drawn by kaleido in Chromium.
    width, height : int, optional
        Size of static images in pixels; the figure's own size, else
        1400 × 700.
    scale : float
        Pixel density of PNG images.

    Returns
    -------
    list of Path
        The files written, in the order of ``formats``.

    Raises
    ------
    ChartExportError
        A static format was asked for and no Chromium is found, or Chromium
        failed to draw the chart. Nothing is written in the first case.
    ValueError
        An unknown format.

    See Also
    --------
    export_many : several charts, with one Chromium started for all.
    """
    return export_many([(fig, path, formats)], width=width, height=height, scale=scale)


def export_many(
    charts: Iterable[tuple[go.Figure, str | Path, Sequence[str]]],
    *,
    width: int | None = None,
    height: int | None = None,
    scale: float = 1.0,
) -> list[Path]:
    """Write several charts, each as :func:`export` would, drawing every
    static image in one Chromium session (starting Chromium takes seconds;
    drawing a chart in it, a fraction of one).

    Parameters
    ----------
    charts : iterable of (figure, path, formats)
        Each chart, its target without suffix and its formats.
    width, height, scale
        As for :func:`export`, for every chart.

    Returns
    -------
    list of Path
        The files written, chart by chart in the order of their formats.

    Raises
    ------
    ChartExportError, ValueError
        As :func:`export`; nothing is written when no Chromium is found.
    """
    jobs = []
    for fig, path, formats in charts:
        formats = [f.lower().lstrip(".") for f in formats]
        unknown = sorted(set(formats) - set(FORMATS))
        if unknown:
            raise ValueError(f"unknown chart format(s) {unknown}; choose from {list(FORMATS)}")
        base = Path(path)
        if base.suffix.lstrip(".").lower() in FORMATS:
            base = base.with_suffix("")
        jobs.append((fig, {f: base.with_name(f"{base.name}.{f}") for f in formats}))
    static = any(f in STATIC_FORMATS for _, targets in jobs for f in targets)
    browser = find_chromium() if static else None
    if static and browser is None:
        raise ChartExportError(f"no Chromium browser found: {CHROMIUM_HINT}")
    images = []
    for fig, targets in jobs:
        next(iter(targets.values()), Path()).parent.mkdir(parents=True, exist_ok=True)
        if "html" in targets:
            fig.write_html(
                targets["html"],
                include_plotlyjs=True,
                full_html=True,
                config={"displaylogo": False, "responsive": True},
            )
        images += [(fig, f, t) for f, t in targets.items() if f in STATIC_FORMATS]
    if images:
        _kaleido_write(images, browser, width, height, scale)
    return [t for _, targets in jobs for t in targets.values()]


def _kaleido_write(
    images: list[tuple[go.Figure, str, Path]],
    browser: Path,
    width: int | None,
    height: int | None,
    scale: float,
) -> None:
    """Draw every (figure, format, target) in one browser session."""
    import kaleido

    specs = []
    dicts: dict[int, dict] = {}  # each figure converted once, whatever its formats
    for fig, fmt, target in images:
        if id(fig) not in dicts:
            dicts[id(fig)] = fig.to_dict()
        size = {
            "width": width or fig.layout.width or 1400,
            "height": height or fig.layout.height or 700,
        }
        specs.append(
            {
                "fig": dicts[id(fig)],
                "path": str(target),
                "opts": {"format": fmt, **size, "scale": scale if fmt == "png" else 1},
            }
        )
    try:
        # kaleido passes `path` through to choreographer's Browser; mathjax=False
        # keeps it from loading MathJax from a CDN (we use no LaTeX).
        kaleido.write_fig_from_object_sync(
            specs, kopts={"path": str(browser), "mathjax": False}, cancel_on_error=True
        )
    except Exception as exc:  # noqa: BLE001 - kaleido/choreographer raise many kinds
        raise ChartExportError(
            f"Chromium at {browser} could not draw the chart ({type(exc).__name__}: {exc}); "
            f"{CHROMIUM_HINT}"
        ) from exc
    missing = [str(t) for _, _, t in images if not t.is_file() or t.stat().st_size == 0]
    if missing:
        raise ChartExportError(f"kaleido wrote nothing to {', '.join(missing)}")
