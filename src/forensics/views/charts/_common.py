"""What every chart shares: styles, limits, and small helpers for times,
escaped text, hover boxes and the leak window."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import plotly.graph_objects as go
import polars as pl

from ...privacy import escape, mask_name

__all__ = ["MAX_DEFAULT_SPAN", "MAX_MARKS"]

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
