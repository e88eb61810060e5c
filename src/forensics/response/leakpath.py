"""The leak path's events: which access events exposed orders, and the infections.

The first step of the response (:mod:`forensics.response.respond`): every
other product (the buyers to warn, the platform report, the checklist)
starts from these events.

Which orders a leak path exposed
--------------------------------
========================  ==================================================
leak path                 orders exposed
========================  ==================================================
malware (USB, visitor)    every order accessed on an infected machine from
                          its infection (``vector.anchors``) until the
                          antivirus quarantined the implant there, if it did
export, stale account,    the orders in the ``[lo, hi)`` intervals of the
third-party app           path's events (anchors carry ``ev``), plus later
                          exports or pulls by the path's accounts that an
                          indicator flagged (off-hours or unusually large),
                          plus, for a stale account, every use after its
                          owner left
========================  ==================================================
"""

from __future__ import annotations

from datetime import timedelta

import polars as pl

from ..analysis.clock import corrected
from ..case import typed_like
from ..case.localtime import local_col
from ..findings import Findings
from ..vocab import MALWARE_KINDS, IndicatorKind, VectorKind

__all__ = [
    "QUARANTINE_WINDOW",
    "is_malware",
    "infection_windows",
    "infection_devices",
    "leak_path_events",
]

QUARANTINE_WINDOW = timedelta(minutes=30)
"""Processes first seen this soon after an infection are the implant."""


def is_malware(findings: Findings) -> bool:
    """The leak path is malware (USB, visitor or unattributed)."""
    return findings.vector.kind in MALWARE_KINDS


def infection_windows(findings: Findings) -> pl.DataFrame:
    """When each infected machine of a malware path was leaking.

    Returns
    -------
    pl.DataFrame
        ``machine_id``, ``since`` (infection, back-office clock), ``source``,
        ``row``, ``what`` (the anchor), ``until`` (the antivirus quarantined
        the implant; null while it ran to the end of the evidence),
        ``until_source``, ``until_row``. Empty unless the path is malware.
    """
    schema = {
        "machine_id": pl.String,
        "since": pl.Datetime("us", "UTC"),
        "source": pl.String,
        "row": pl.Int64,
        "what": pl.String,
        "until": pl.Datetime("us", "UTC"),
        "until_source": pl.String,
        "until_row": pl.Int64,
    }
    anchors = findings.vector.anchors
    if not is_malware(findings) or anchors.is_empty():
        return pl.DataFrame(schema=schema)
    since = (
        anchors.sort("at", "row")
        .group_by("machine_id", maintain_order=True)
        .first()
        .select("machine_id", pl.col("at").alias("since"), "source", "row", "what")
    )
    return since.join(_quarantines(findings, since), on="machine_id", how="left").select(
        list(schema)
    )


def _quarantines(findings: Findings, since: pl.DataFrame) -> pl.DataFrame:
    """First antivirus quarantine of each machine's implant after infection.

    The implant is what first ran or auto-started on the machine within
    :data:`QUARANTINE_WINDOW` of the infection: quarantining an unrelated
    program must not end the machine's exposure.
    """
    case = findings.case
    offsets = findings.clock_offsets
    starts = findings.infection_starts["process"]
    implants = (
        starts.join(since.select("machine_id", "since"), on="machine_id", suffix="_inf")
        .filter(
            (pl.col("since") >= pl.col("since_inf"))
            & (pl.col("since") <= pl.col("since_inf") + QUARANTINE_WINDOW)
        )
        .select("machine_id", "cand", pl.col("since_inf"))
    )
    ep = corrected(case.endpoint, offsets.get("endpoint"), ("at",))
    alerts = ep.filter(
        (pl.col("kind") == "av_alert")
        & pl.col("detail").str.to_lowercase().str.contains("quarantin")
    ).with_columns(
        pl.coalesce(
            pl.col("sha256").str.to_lowercase(), pl.col("process").str.to_lowercase()
        ).alias("cand")
    )
    return (
        alerts.join(implants, on=["machine_id", "cand"])
        .filter(pl.col("at") >= pl.col("since_inf"))
        .sort("at", "_row")
        .group_by("machine_id", maintain_order=True)
        .first()
        .select(
            "machine_id",
            pl.col("at").alias("until"),
            pl.lit(case.source("endpoint")).alias("until_source"),
            pl.col("_row").alias("until_row"),
        )
    )


_PATH_SCHEMA = {
    "ev": pl.Int64,
    "at": pl.Datetime("us", "UTC"),
    "lo": pl.Int64,
    "hi": pl.Int64,
    "path": pl.String,
    "row": pl.Int64,
    "anchor_source": pl.String,
    "anchor_row": pl.Int64,
    "why": pl.String,
}


def leak_path_events(findings: Findings) -> pl.DataFrame:
    """The access events through which the leak path exposed orders.

    Returns
    -------
    pl.DataFrame
        ``ev``, ``at``, ``lo``, ``hi``, ``path`` (e.g. ``machine PC-05``,
        ``account lanyi:cs08``, ``app APP-1004``), ``row`` (access row of the
        event), ``anchor_source`` / ``anchor_row`` (the evidence that put the
        path on the leak: infection, export, ...), ``why`` (one sentence).
    """
    if findings.vector.kind == VectorKind.NONE or findings.vector.anchors.is_empty():
        return pl.DataFrame(schema=_PATH_SCHEMA)
    if is_malware(findings):
        return _malware_events(findings)
    parts = [_anchor_events(findings), _flagged_followups(findings), _stale_uses(findings)]
    return pl.concat(parts).unique("ev", keep="first", maintain_order=True)


def _malware_events(findings: Findings) -> pl.DataFrame:
    tz = findings.case.timezone()
    win = infection_windows(findings)
    acc = findings.case.source("access")
    events = findings.events
    live = events.filter(pl.col("hi") > pl.col("lo")).join(
        typed_like(win, events, "machine_id"), on="machine_id"
    )
    live = live.filter(
        (pl.col("at") >= pl.col("since"))
        & (pl.col("until").is_null() | (pl.col("at") < pl.col("until")))
    )
    return (
        live.select(
            "ev",
            "at",
            "lo",
            "hi",
            pl.format("machine {}", pl.col("machine_id")).alias("path"),
            pl.col("_row").alias("row"),
            pl.col("source").alias("anchor_source"),
            pl.col("row").alias("anchor_row"),
            pl.format(
                "{} on {} {} ({} row {}); machine infected {} ({} row {})",
                "action",
                "machine_id",
                local_col("at", tz),
                pl.lit(acc),
                "_row",
                local_col("since", tz),
                "source",
                "row",
            ).alias("why"),
        )
        .cast(_PATH_SCHEMA)
        .sort("at", "ev")
    )


def _path_label(findings: Findings) -> pl.Expr:
    if findings.vector.kind == VectorKind.THIRD_PARTY_APP:
        return pl.coalesce(
            pl.format("app {} ({})", "app_id", "account_id"), pl.format("account {}", "account_id")
        )
    return pl.format("account {}", pl.col("account_id"))


def _anchor_events(findings: Findings) -> pl.DataFrame:
    tz = findings.case.timezone()
    anchors = findings.vector.anchors.select(
        "ev", pl.col("source").alias("anchor_source"), pl.col("row").alias("anchor_row")
    )
    ev = findings.events.filter(pl.col("hi") > pl.col("lo")).join(anchors, on="ev")
    return ev.select(
        "ev",
        "at",
        "lo",
        "hi",
        _path_label(findings).alias("path"),
        pl.col("_row").alias("row"),
        "anchor_source",
        "anchor_row",
        pl.format(
            "{} by {} from {} {} ({} row {})",
            "action",
            "account_id",
            pl.coalesce("machine_id", pl.format("ip {}", "ip")),
            local_col("at", tz),
            "anchor_source",
            "anchor_row",
        ).alias("why"),
    ).cast(_PATH_SCHEMA)


def _flagged_followups(findings: Findings) -> pl.DataFrame:
    """Later exports or pulls by the path's accounts that an indicator flagged.

    The engine anchors the leak on the events that explain the complaints;
    a second export of the days since the first one has had no time to draw
    complaints, yet it leaked the same way. Only exports flagged by an
    indicator (off-hours, unusually large) are added, so an account's
    ordinary daily work is not.
    """
    v = findings.vector
    if not v.accounts or v.leak_start is None:
        return pl.DataFrame(schema=_PATH_SCHEMA)
    tz = findings.case.timezone()
    acc = findings.case.source("access")
    flags = (
        findings.indicators.filter(
            pl.col("indicator").is_in([IndicatorKind.OFF_HOURS_EXPORT, IndicatorKind.LARGE_EXPORT])
            & (pl.col("source") == acc)
        )
        .group_by("row")
        .agg(pl.col("indicator").unique().sort().str.join("+").alias("_flag"))
    )
    ev = findings.events.filter(
        (pl.col("hi") > pl.col("lo"))
        & pl.col("account_id").is_in(list(v.accounts))
        & pl.col("action").is_in(["export_orders", "api_pull"])
        & (pl.col("at") >= v.leak_start)
    ).join(flags, left_on="_row", right_on="row")
    return ev.select(
        "ev",
        "at",
        "lo",
        "hi",
        _path_label(findings).alias("path"),
        pl.col("_row").alias("row"),
        pl.lit(acc).alias("anchor_source"),
        pl.col("_row").alias("anchor_row"),
        pl.format(
            "later {} by {} from {} {} ({} row {}; flagged {})",
            "action",
            "account_id",
            pl.coalesce("machine_id", pl.format("ip {}", "ip")),
            local_col("at", tz),
            pl.lit(acc),
            "_row",
            "_flag",
        ).alias("why"),
    ).cast(_PATH_SCHEMA)


def _stale_uses(findings: Findings) -> pl.DataFrame:
    """Every use of a stale leak account after its owner left.

    The engine anchors on the events of the strongest common point (one IP,
    say); a former employee's account that also came in from a second
    address leaked there too. Whoever used it after the owner left had no
    business seeing those orders, so each such use is on the path.
    """
    v = findings.vector
    if v.kind != VectorKind.STALE_ACCOUNT or not v.accounts:
        return pl.DataFrame(schema=_PATH_SCHEMA)
    case = findings.case
    tz = findings.case.timezone()
    staff = case.source("staff")
    left = (
        case.accounts.filter(pl.col("account_id").is_in(list(v.accounts)))
        .join(
            case.staff.select(
                pl.col("person_id").alias("owner_person_id"),
                "left_on",
                pl.col("_row").alias("_srow"),
            ),
            on="owner_person_id",
        )
        .filter(pl.col("left_on").is_not_null())
    )
    ev = (
        findings.events.filter(pl.col("hi") > pl.col("lo"))
        .join(
            typed_like(
                left.select("account_id", "left_on", "_srow"), findings.events, "account_id"
            ),
            on="account_id",
        )
        .filter(pl.col("at").dt.convert_time_zone(tz).dt.date() > pl.col("left_on"))
    )
    return ev.select(
        "ev",
        "at",
        "lo",
        "hi",
        _path_label(findings).alias("path"),
        pl.col("_row").alias("row"),
        pl.lit(staff).alias("anchor_source"),
        pl.col("_srow").alias("anchor_row"),
        pl.format(
            "{} by {} from {} {} ({} row {}), after its owner left on {} ({} row {})",
            "action",
            "account_id",
            pl.coalesce("machine_id", pl.format("ip {}", "ip")),
            local_col("at", tz),
            pl.lit(case.source("access")),
            "_row",
            "left_on",
            pl.lit(staff),
            "_srow",
        ).alias("why"),
    ).cast(_PATH_SCHEMA)


def infection_devices(findings: Findings) -> list[str]:
    """USB devices that brought the implant: the path's devices, and any
    device connected to an infected machine in the :data:`QUARANTINE_WINDOW`
    before its infection (the stick plugged in just before the autorun)."""
    win = infection_windows(findings)
    if win.is_empty():
        return sorted(findings.vector.devices)
    starts = findings.infection_starts["device"]
    near = starts.join(
        win.select("machine_id", pl.col("since").alias("_inf")), on="machine_id"
    ).filter(
        (pl.col("since") <= pl.col("_inf"))
        & (pl.col("since") >= pl.col("_inf") - QUARANTINE_WINDOW)
    )
    return sorted(set(findings.vector.devices) | set(near["cand"].to_list()))
