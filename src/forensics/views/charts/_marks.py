"""The timeline's traces: session and camera bars, point events (counted
per time bucket when too many), routine order access, indicator rings, and
their escaped hover texts."""

from __future__ import annotations

import math
import re
from datetime import timedelta

import polars as pl

from ...analysis.timeline import DESCRIPTIONS
from ._common import (
    _HOVER_LIMIT,
    _INDICATOR_COLORS,
    _LANE_OFFSET,
    _MARKS,
    _ROUTINE_ACCESS,
    MAX_MARKS,
    _cite,
    _fmt_time,
    _hover,
    _local,
    _local_col,
    _text,
)

__all__ = ["MAX_MARKS"]

_MARK_KINDS = tuple(_MARKS)
"""The (table, action) of every kind of mark, in drawing order; each kind's
trace has the uid ``_uid("mark", table, action)``."""


def _uid(*parts: object) -> str:
    """A trace's uid: what it shows, in letters, digits, ``-`` and ``_``
    only (plotly.js uses it in CSS selectors)."""
    return "-".join(re.sub(r"[^A-Za-z0-9_]", "_", str(p)) for p in parts)


def _lanes(frame: pl.DataFrame, pos: dict[str, int], shift: float = 0.0) -> list[float]:
    """The y of each row: its lane's position (plus ``shift``)."""
    if shift:
        return [pos[lane] + shift for lane in frame["lane"].to_list()]
    return [pos[lane] for lane in frame["lane"].to_list()]


def _dates(frame: pl.DataFrame, column: str) -> list[str]:
    """Local times as text for a date axis: plotly.js reads them as it reads
    datetimes, and plain strings cost far less to check, copy and encode."""
    return frame.select(pl.col(column).dt.strftime("%Y-%m-%d %H:%M:%S%.f"))[:, 0].to_list()


def _cited(frame: pl.DataFrame) -> list[list]:
    """Each row's ``[source, row]``: the trace's ``customdata``, what a click
    on a mark hands to the view (the event it is, to tag or comment)."""
    return [list(r) for r in frame.select("source", "row").iter_rows()]


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
                "uid": _uid("session", "outside" if outside else "office"),
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
            "uid": "camera",
            "marker": {"color": "#66bd63", "line": {"width": 0}},
            "opacity": 0.8,
            "hovertext": _event_hovers(cam, tz, names).to_list(),
            "hoverinfo": "text",
            "customdata": _cited(cam),
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
            "uid": "routine",
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
                    "uid": _uid("mark", table, action),
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
                "uid": _uid("mark", table, action),
                "marker": {**style, "line": {"width": 1, "color": "white"}}
                if "open" not in style["symbol"]
                else style,
                "hovertext": part["hover"].to_list(),
                "hoverinfo": "text",
                "customdata": _cited(part),
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
                "uid": _uid("indicator", kind),
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
                "customdata": _cited(part),
            }
        )
    return traces


def _noted(events: pl.DataFrame, pos: dict, tz: str, notes) -> list[dict]:
    """A square around each event in view that the investigator's notes
    name (``source`` + ``row``: tags, comments, identifications), with what
    they said; one trace, "noted by the investigator"."""
    said = [
        (n.source, n.row, n.kind, n.tag, n.text, n.person_id, n.line)
        for n in (notes.notes if notes is not None else ())
        if n.source and n.row
    ]
    if not said:
        return []
    frame = pl.DataFrame(
        said,
        schema={
            "source": pl.String,
            "row": events.schema["row"],
            "kind": pl.String,
            "tag": pl.String,
            "text": pl.String,
            "named": pl.String,
            "line": pl.Int64,
        },
        orient="row",
    )
    hit = events.filter(pl.col("lane").is_in(list(pos))).join(
        frame, on=["source", "row"], how="inner", maintain_order="left"
    )
    if hit.is_empty():
        return []
    per_event = hit.group_by("source", "row", maintain_order=True).agg(
        pl.first("x", "lane", "desc", "table"), pl.struct(frame.columns[2:]).alias("said")
    )
    hovers = []
    for r in per_event.iter_rows(named=True):
        lines = [f"<b>noted: {_text(r['desc'])}</b>", _cite(r["source"], r["row"])]
        for n in r["said"]:
            what = {"tag": f"tag {_text(n['tag'])}", "identify": f"shows {_text(n['named'])}"}
            head = what.get(n["kind"], _text(n["kind"]))
            body = f": {_text(n['text'])}" if n["text"] else ""
            lines.append(f"{head}{body} ({_text(notes.file)} line {n['line']})")
        hovers.append(_hover(*lines))
    return [
        {
            "type": "scatter",
            "x": _dates(per_event, "x"),
            "y": [
                pos[lane] + _LANE_OFFSET.get(table, 0.0)
                for lane, table in per_event.select("lane", "table").iter_rows()
            ],
            "mode": "markers",
            "name": "noted by the investigator",
            "uid": "noted",
            "marker": {
                "symbol": "square-open",
                "size": 20,
                "line": {"width": 2.5},
                "color": "#2166ac",
            },
            "hovertext": hovers,
            "hoverinfo": "text",
            "customdata": _cited(per_event),
        }
    ]
