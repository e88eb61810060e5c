"""One timeline across every source, on the back-office clock.

Each event keeps the file and row it came from and a ``desc`` saying what its
timestamp means ("Login", "Label printed", "Camera: at desk"), in the manner
of plaso's ``timestamp_desc``: meaning is data, not formatting code.
"""

from __future__ import annotations

from collections.abc import Mapping

import polars as pl

from ..case import Case, as_text
from .clock import ClockOffset, corrected

__all__ = ["DESCRIPTIONS", "timeline", "TIMELINE_SCHEMA"]

DESCRIPTIONS: dict[tuple[str, str], str] = {
    ("logins", "login"): "Login",
    ("logins", "logout"): "Logout",
    ("logins", "login_failed"): "Login failed",
    ("access", "view_order"): "Order viewed",
    ("access", "print_label"): "Label printed",
    ("access", "export_orders"): "Orders exported",
    ("access", "api_pull"): "Orders pulled by API",
    ("access", "search"): "Order search",
    ("camera", "enter"): "Camera: enters",
    ("camera", "leave"): "Camera: leaves",
    ("camera", "at_desk"): "Camera: at desk",
    ("camera", "insert_device"): "Camera: inserts a device",
    ("camera", "walk"): "Camera: walking",
    ("camera", "other"): "Camera: other",
    ("endpoint", "usb_connect"): "USB device connected",
    ("endpoint", "usb_disconnect"): "USB device removed",
    ("endpoint", "process_start"): "Process started",
    ("endpoint", "autorun_added"): "Autorun entry added",
    ("endpoint", "av_alert"): "Antivirus alert",
    ("endpoint", "net_upload"): "Network upload",
    ("endpoint", "logon"): "Windows logon",
    ("endpoint", "logoff"): "Windows logoff",
    ("endpoint", "login_failed"): "Windows logon failed",
    ("endpoint", "file_create"): "File created",
    ("endpoint", "network"): "Network connection",
    ("endpoint", "other"): "Endpoint event",
    ("badge", "in"): "Badge in",
    ("badge", "out"): "Badge out",
    ("badge", "denied"): "Badge denied",
    ("complaints", "received"): "Complaint received",
}

TIMELINE_SCHEMA = pl.Schema(
    {
        "at": pl.Datetime("us", "UTC"),
        "end": pl.Datetime("us", "UTC"),
        "source": pl.String,
        "row": pl.Int64,
        "table": pl.String,
        "action": pl.String,
        "desc": pl.String,
        "person_id": pl.String,
        "account_id": pl.String,
        "machine_id": pl.String,
        "device_id": pl.String,
        "detail": pl.String,
    }
)


def _desc(table: str) -> pl.Expr:
    mapping = {a: d for (t, a), d in DESCRIPTIONS.items() if t == table}
    return pl.col("action").replace_strict(mapping, default=pl.lit(table) + ": " + pl.col("action"))


def _frame(case: Case, table: str, frame: pl.DataFrame, **cols: pl.Expr) -> pl.DataFrame:
    exprs = {name: pl.lit(None, dtype=dt) for name, dt in TIMELINE_SCHEMA.items()}
    exprs.update(cols)
    exprs["source"] = pl.lit(case.source(table))
    exprs["table"] = pl.lit(table)
    exprs["row"] = pl.col("_row")
    out = frame.select(**exprs).with_columns(_desc(table).alias("desc"))
    return out.cast(dict(TIMELINE_SCHEMA))


def timeline(
    case: Case,
    offsets: Mapping[str, ClockOffset] | None = None,
    *,
    access: pl.Expr | None = None,
) -> pl.DataFrame:
    """All events of the case, sorted by corrected time.

    ``person_id`` is who the source itself names: the person on camera, the
    badge holder, the owner of the account for logins and access (which may
    not be who sat at the keyboard, see :mod:`forensics.analysis.indicators`).
    Endpoint events name the person whose operating-system account ran them
    (``user`` matched to staff ``os_users``), when the log says.

    ``access`` (a filter on the access table) keeps only those access
    events: the access log is most of a large case's rows, and a step that
    looks at a few of them need not copy and sort all of them.
    """
    offsets = offsets or {}
    owner = case.accounts.select("account_id", pl.col("owner_person_id").alias("_owner"))
    logins = case.logins.join(owner, on="account_id", how="left")
    access_rows = as_text(case.access if access is None else case.access_where(access))
    access = access_rows.join(owner, on="account_id", how="left", maintain_order="left")
    cam = corrected(case.camera, offsets.get("camera"), ("start_at", "end_at"))
    ep = corrected(case.endpoint, offsets.get("endpoint"), ("at",))
    badge = corrected(case.badge, offsets.get("badge"), ("at",))

    range_detail = (
        pl.when(pl.col("range_start").is_not_null() | pl.col("range_end").is_not_null())
        .then(
            pl.format(
                "placed {} .. {} ({} rows)",
                pl.col("range_start").dt.strftime("%Y-%m-%d %H:%M"),
                pl.col("range_end").dt.strftime("%Y-%m-%d %H:%M"),
                pl.col("rows").cast(pl.String).fill_null("?"),
            )
        )
        .otherwise(pl.col("order_id"))
    )
    parts = [
        _frame(
            case,
            "logins",
            logins,
            at=pl.col("at"),
            action=pl.col("action"),
            person_id=pl.col("_owner"),
            account_id=pl.col("account_id"),
            machine_id=pl.col("machine_id"),
            detail=pl.col("ip"),
        ),
        _frame(
            case,
            "access",
            access,
            at=pl.col("at"),
            action=pl.col("action"),
            person_id=pl.col("_owner"),
            account_id=pl.col("account_id"),
            machine_id=pl.col("machine_id"),
            detail=range_detail,
        ),
        _frame(
            case,
            "camera",
            cam,
            at=pl.col("start_at"),
            end=pl.col("end_at"),
            action=pl.col("activity").fill_null("other"),
            person_id=pl.col("person_id"),
            machine_id=pl.col("machine_id"),
            detail=pl.col("note"),
        ),
        _frame(
            case,
            "endpoint",
            ep,
            at=pl.col("at"),
            action=pl.col("kind"),
            machine_id=pl.col("machine_id"),
            # The serial, or for a drive logged without one its derived key;
            # the person whose operating-system account ran the event.
            device_id=pl.col("device_key"),
            person_id=pl.col("user_person_id"),
            detail=pl.coalesce("process", "detail"),
        ),
        _frame(
            case,
            "badge",
            badge,
            at=pl.col("at"),
            # A denied badge opened no door: an attempt, not a passage.
            action=pl.when(pl.col("result") == "denied")
            .then(pl.lit("denied"))
            .otherwise(pl.col("direction").fill_null("in")),
            person_id=pl.col("person_id"),
            detail=pl.col("door"),
        ),
    ]
    return _sorted(parts)


def _sorted(parts: list[pl.DataFrame]) -> pl.DataFrame:
    """The parts (one per table) as one frame sorted by ``at``, ``source``, ``row``.

    Each part has one source. In source order, each in row order, a stable
    sort by time alone gives that order: a fraction of the cost of sorting
    millions of rows by three keys, one of them a string.
    """
    ordered = []
    for part in sorted(parts, key=lambda f: f["source"][0] if f.height else ""):
        if part.height == 0:
            continue
        if not part["row"].is_sorted():
            part = part.sort("row", maintain_order=True)
        ordered.append(part)
    if not ordered:
        return pl.concat(parts)
    return pl.concat(ordered).sort("at", maintain_order=True)
