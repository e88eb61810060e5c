"""The case timeline: one row per machine, person or account, every source
on one clock (camera times corrected), off-hours shaded, the leak window
and the opening of the leak path marked.

The traces themselves (sessions, sightings, marks, indicator rings) are
drawn by :mod:`._marks`."""

from __future__ import annotations

import html
import math
import re
import unicodedata
import weakref
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

import plotly.graph_objects as go
import polars as pl

from ._common import (
    _FONT,
    _LANE_PX,
    _OPENING_Y,
    MAX_DEFAULT_SPAN,
    _cite,
    _empty,
    _fmt_time,
    _hover,
    _instant,
    _leak_lines,
    _local,
    _local_col,
    _offsets_note,
    _person_names,
    _short,
    _text,
    _zone,
)
from ._marks import (
    _MARK_KINDS,
    _camera_bars,
    _indicator_rings,
    _marks,
    _noted,
    _routine_access,
    _session_bars,
    _uid,
)

__all__ = ["MAX_DEFAULT_SPAN", "timeline"]


def timeline(
    findings,
    *,
    person: str | None = None,
    machine: str | None = None,
    start: datetime | date | str | None = None,
    end: datetime | date | str | None = None,
    tz: str | None = None,
    reveal: bool = False,
    fixed_traces: bool = False,
    notes=None,
    as_dict: bool = False,
) -> go.Figure | dict:
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
    fixed_traces : bool
        Give every kind of trace the case can show a place, in the same
        order whatever the window and focus; a kind with nothing in view is
        an empty trace that is not shown. Drawn this way, another window or
        person changes the traces' data and style but not their number or
        types, so a view redraws with one ``Plotly.update`` in the browser
        (adding or deleting traces redraws the whole chart each time). The
        figure shows the same (its first trace, which draws nothing, keeps
        the axis a date axis through such updates). The lane labels get a
        left margin wide enough for every lane of the case, and tick labels
        are not measured for overflow: the browser then draws an update
        once, rather than measuring every label and drawing again with
        margins fitted to the lanes in view.
    notes : forensics.case.notes.Notes, optional
        The investigator's notes whose events to mark (default: those the
        investigation read, ``findings.notes``): a square around each event
        in view a note names by ``source`` + ``row`` (tags, comments,
        identifications), its hover box saying what the notes say, citing
        the notes file and line.
    as_dict : bool
        Return the figure as a plain dict (``data``, ``layout``) of values
        plotly.js reads, not checked by plotly.py: what a live view sends
        (:func:`forensics.views.widgets.update_in_place`), at a fraction of
        the cost. ``go.Figure(timeline(..., as_dict=True))`` is the figure.

    Returns
    -------
    plotly.graph_objects.Figure or dict
        Sessions and camera sightings as bars; exports, pulls, USB,
        autoruns, antivirus alerts, uploads, badge events as marks; routine
        order access (views, labels, searches) counted per time bucket;
        indicators as rings around what they flag; off-hours shaded grey;
        the leak window as dashed lines; the moments the leak path opened
        annotated. Marks of single events carry ``customdata`` ``[source,
        row]``: the event, for a view to tag or comment on a click.

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
        empty = _empty(title, "nothing happened in this window")
        if fixed_traces:
            empty.add_traces([_axis_anchor(lo, hi, tz), *_in_slots([], _slots(prepared))])
        return empty.to_plotly_json() if as_dict else empty
    pos = {key: i for i, key in enumerate(order)}
    traces = [
        *_session_bars(sessions, pos, tz),
        *_camera_bars(events, pos, tz, lo, hi, names=_person_names(findings, reveal=reveal)),
        *_routine_access(events, pos, tz, every),
        *_indicator_rings(inds, pos, tz),
        *_marks(events, pos, tz, every),
        *_noted(events, pos, tz, findings.notes if notes is None else notes),
    ]
    shapes = _off_hours_shading(findings, tz, lo, hi)
    line_shapes, annotations = _leak_lines(findings, tz, lo=lo, hi=hi, inside=True)
    shapes += line_shapes
    opening = _opening(findings, tz, lo, hi)
    if opening is not None:
        traces.append(opening[0])
        annotations += opening[1]
    if fixed_traces:
        traces = [_axis_anchor(lo, hi, tz), *_in_slots(traces, _slots(prepared))]
    layout = _timeline_layout(
        findings, order, tz, lo, hi, title, reveal=reveal, opening=opening is not None
    )
    layout["shapes"] = shapes + layout["shapes"]
    layout["annotations"] = annotations
    if fixed_traces:
        _fixed_margins(layout, findings, prepared, reveal=reveal)
    if as_dict:
        return {"data": _plain(traces), "layout": _plain(layout)}
    return go.Figure(data=traces, layout=layout)


def _plain(value):
    """``value`` with its datetimes as the ISO text plotly.py sends for them
    (a plain dict is sent as it is)."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        if value and isinstance(value[0], str | int | float) and not isinstance(value[0], bool):
            return value  # a data array of text or numbers (the lists built here are of one type)
        return [_plain(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def _fixed_margins(layout: dict, findings, prepared: _Prepared, *, reveal: bool) -> None:
    """Set a left margin that fits the label of every lane of the case, and
    draw tick labels without measuring them for overflow.

    With the left margin fitted to the lanes in view (plotly's automargin),
    a view with other lanes makes the browser measure every label, find
    the margin changed and draw the whole chart a second time; measuring
    tick labels for overflow ("hide past div", plotly's default) costs
    about as much again in a page as large as JupyterLab's. Automargin
    stays on: a label wider than estimated still fits (at the cost of that
    second drawing). The legend below is at most :data:`_LEGEND_PX` high:
    a view whose legend, shorter than that, takes more or fewer rows than
    the last is still drawn twice (its rows depend on the chart's width in
    the page, unknown here)."""
    key = ("left margin", reveal)
    if key not in prepared.memo:
        names = _person_names(findings, reveal=reveal)
        suspects = {s.person_id: s.score for s in findings.suspects}
        path = {f"machine\x00{m}" for m in findings.vector.machines}
        path |= {f"account\x00{a}" for a in findings.vector.accounts}
        widths = [_label_px(_lane_label(lane, names, suspects, path)) for lane in prepared.lanes]
        prepared.memo[key] = max([_label_px("leak path opened"), *widths]) + 12
    layout["margin"] = {**layout["margin"], "l": prepared.memo[key]}
    layout["xaxis"]["ticklabeloverflow"] = "allow"
    layout["yaxis"]["ticklabeloverflow"] = "allow"
    # the legend at most six rows high, scrolled beyond: in a chart as
    # narrow as a notebook's (700 px), its entries stand in one column,
    # and a legend of every entry took most of a short chart's height and
    # set the bottom margin anew for each view (drawn twice); right below
    # the plot (y=0: not a share of its height below it, which varies)
    layout["legend"] = {**layout["legend"], "maxheight": _LEGEND_PX, "y": 0}


_LEGEND_PX = 120
"""The most height the legend of a live view takes (about six rows)."""


def _label_px(label: str) -> int:
    """A generous width in pixels of a lane label at the chart's font size
    (12 px): tags left out, wide (CJK) characters counted double."""
    text = re.sub(r"<[^>]*>", "", label)
    text = html.unescape(text)
    return math.ceil(sum(13 if unicodedata.east_asian_width(c) in "WF" else 8 for c in text))


def _slots(prepared: _Prepared) -> list[tuple[str, str]]:
    """Every trace the timeline of these findings can have, in drawing
    order: ``(uid, type)``; the uid is what each builder gives its trace."""
    kinds = prepared.indicators["indicator"].unique(maintain_order=True).to_list()
    return [
        (_uid("session", "office"), "bar"),
        (_uid("session", "outside"), "bar"),
        ("camera", "bar"),
        ("routine", "scatter"),
        *((_uid("indicator", kind), "scatter") for kind in kinds),
        *((_uid("mark", table, action), "scatter") for table, action in _MARK_KINDS),
        ("opening", "scatter"),
        ("noted", "scatter"),
    ]


def _axis_anchor(lo: datetime, hi: datetime, tz: str) -> dict:
    """A first trace that draws nothing and spans the window on the date axis.

    Given new x or y data (a view redrawn in place), plotly.js guesses the
    axis type again from the first trace with data, whatever the layout
    says: without this, the sessions' bars (lengths in milliseconds) come
    first and the date axis turns linear."""
    return {
        "type": "scatter",
        "uid": "axis-anchor",
        "x": [_local(lo, tz), _local(hi, tz)],
        "y": [None, None],
        "mode": "markers",
        "showlegend": False,
        "hoverinfo": "skip",
    }


def _in_slots(traces: list[dict], slots: list[tuple[str, str]]) -> list[dict]:
    """``traces`` in slot order, an empty hidden trace for each slot without one."""
    by_uid = {t["uid"]: t for t in traces}
    empty = {"x": [], "y": [], "visible": False, "showlegend": False, "hoverinfo": "skip"}
    return [by_uid.get(uid) or {"type": kind, "uid": uid, **empty} for uid, kind in slots]


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
    """Width of the buckets routine access is counted in (about 100 per
    view: at the width of a notebook, about 13 px apart, where marks of up
    to 14 px drawn twice as often overlapped)."""
    for minutes in (5, 15, 30, 60, 180, 360, 720):
        if span / timedelta(minutes=minutes) <= 100:
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
    memo: dict = field(default_factory=dict)
    """What views of these rows share, worked out on first use (the left
    margin that fits every lane's label)."""

    @property
    def lanes(self) -> list[str]:
        """Every lane of the case."""
        lanes = set(self.events["lane"].unique().to_list())
        lanes |= set(self.sessions["lane"].unique().to_list())
        return sorted(lanes | set(self.indicators["lane"].unique().to_list()))


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
        "uid": "opening",
        "customdata": [list(r) for r in anchors.select("source", "row").iter_rows()],
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
            # a thin line between lanes: grid lines of minor ticks halfway
            # (drawn with the axis, not as a shape per lane)
            "minor": {
                "tickmode": "linear",
                "tick0": 0.5,
                "dtick": 1,
                "ticks": "",
                "showgrid": True,
                "gridcolor": "#e0e0e0",
                "gridwidth": 0.5,
            },
        },
        "legend": {"orientation": "h", "yanchor": "top", "y": -0.01, "x": 0, "font": {"size": 11}},
        "shapes": [],
    }
