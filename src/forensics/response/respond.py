"""After the finding: who to warn, what to tell the platform, what to fix.

``forensics respond CASE --out DIR`` investigates the case and writes a
response pack derived from the findings:

``affected_buyers.csv``
    One row per buyer whose order the leak path exposed, for an SMS reminder
    campaign: which path exposed them, when first, and whether they already
    complained. Phone numbers are masked unless ``--reveal-contacts``; the
    file is then named ``affected_buyers.SENSITIVE.csv``.
``platform_report.csv`` / ``.json``
    One row per complaint, for the marketplace: the order, the buyer, when
    the complaint came and when the scammer called, the path that exposed
    the order and when, and a ``basis`` saying what is established
    (:data:`BASIS`), so nothing inferred reads as fact.
``remediation.md`` / ``.json``
    A checklist derived from the evidence, most urgent first, every item
    citing the file and row behind it (:func:`remediation`).

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

Intervals are expanded into orders only here, once, for the buyers of the
leak path: fine for a shop (an export of a month is thousands of rows).
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field
from datetime import timedelta
from pathlib import Path

import polars as pl

from ..analysis.clock import corrected
from ..analysis.exposure import infection_starts, order_index
from ..audit import broad_scopes
from ..investigate import Findings
from ..privacy import mask_frame, write_csv

__all__ = [
    "BASIS",
    "MALWARE_KINDS",
    "Citation",
    "Action",
    "ResponsePack",
    "infection_windows",
    "infection_devices",
    "leak_path_events",
    "exposed_orders",
    "affected_buyers",
    "platform_report",
    "remediation",
    "respond",
    "write_pack",
    "summary_text",
    "run_respond",
]

MALWARE_KINDS = frozenset({"malware", "usb_malware", "visitor_malware"})

BASIS: dict[str, str] = {
    "order id given by the buyer": (
        "the buyer named this order and the leak path exposed it before the scammer called"
    ),
    "matched by buyer id": (
        "the buyer named no order (or one the path did not expose); orders of this buyer "
        "placed before the complaint were exposed by the leak path before the call: which "
        "one the scammer quoted is not known"
    ),
    "exposed only after the call": (
        "the leak path exposed the order, but only after the scammer called: it cannot be "
        "the source of this call"
    ),
    "not exposed by the leak path": (
        "no order of this buyer placed before the complaint was exposed by the leak path: "
        "the data came from elsewhere (or the buyer's order is unknown)"
    ),
}
"""The values of ``platform_report.basis`` and what each establishes."""

QUARANTINE_WINDOW = timedelta(minutes=30)
"""Processes first seen this soon after an infection are the implant."""


# --------------------------------------------------------------------------
# value objects


@dataclass(frozen=True)
class Citation:
    """A file and row that supports an action."""

    source: str
    row: int | None
    summary: str


@dataclass(frozen=True)
class Action:
    """One item of the remediation checklist."""

    tier: int  # 0 contain the leak path ... 4 hygiene reviews
    category: str  # isolate_machine, disable_account, revoke_app, interview, ...
    target_kind: str  # machine, account, app, person, ip
    target: str
    action: str
    reason: str
    evidence: tuple[Citation, ...] = ()
    priority: int = 0  # 1 = first; set once the checklist is ordered

    def as_dict(self) -> dict:
        return asdict(self)


TIERS = {
    0: "Contain the leak path",
    1: "People to interview",
    2: "Follow the leak path's reach",
    3: "Accounts that should not work",
    4: "Permission and authorization review",
}


@dataclass(frozen=True)
class ResponsePack:
    """The three products of :func:`respond`, as frames and actions."""

    case_id: str
    vector: str
    buyers: pl.DataFrame
    platform: pl.DataFrame
    actions: tuple[Action, ...]
    reveal_contacts: bool = False
    notes: tuple[str, ...] = field(default_factory=tuple)


# --------------------------------------------------------------------------
# the leak path's events


def _tz(findings: Findings) -> str:
    return findings.case.timezone()


def _local(col: str | pl.Expr, tz: str) -> pl.Expr:
    """A UTC timestamp as local ISO 8601 text (readable in CSV and JSON)."""
    c = pl.col(col) if isinstance(col, str) else col
    return c.dt.convert_time_zone(tz).dt.to_string("%Y-%m-%dT%H:%M:%S%:z")


def _short(col: str | pl.Expr, tz: str) -> pl.Expr:
    """A UTC timestamp as local ``YYYY-MM-DD HH:MM`` (for sentences)."""
    c = pl.col(col) if isinstance(col, str) else col
    return c.dt.convert_time_zone(tz).dt.strftime("%Y-%m-%d %H:%M")


def _is_malware(findings: Findings) -> bool:
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
    if not _is_malware(findings) or anchors.is_empty():
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
    starts = infection_starts(case, offsets)["process"]
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
    if findings.vector.kind == "none" or findings.vector.anchors.is_empty():
        return pl.DataFrame(schema=_PATH_SCHEMA)
    if _is_malware(findings):
        return _malware_events(findings)
    parts = [_anchor_events(findings), _flagged_followups(findings), _stale_uses(findings)]
    return pl.concat(parts).unique("ev", keep="first", maintain_order=True)


def _malware_events(findings: Findings) -> pl.DataFrame:
    tz = _tz(findings)
    win = infection_windows(findings)
    acc = findings.case.source("access")
    live = findings.events.filter(pl.col("hi") > pl.col("lo")).join(win, on="machine_id")
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
                _short("at", tz),
                pl.lit(acc),
                "_row",
                _short("since", tz),
                "source",
                "row",
            ).alias("why"),
        )
        .cast(_PATH_SCHEMA)
        .sort("at", "ev")
    )


def _path_label(findings: Findings) -> pl.Expr:
    if findings.vector.kind == "third_party_app":
        return pl.coalesce(
            pl.format("app {} ({})", "app_id", "account_id"), pl.format("account {}", "account_id")
        )
    return pl.format("account {}", pl.col("account_id"))


def _anchor_events(findings: Findings) -> pl.DataFrame:
    tz = _tz(findings)
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
            _short("at", tz),
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
    tz = _tz(findings)
    acc = findings.case.source("access")
    flags = (
        findings.indicators.filter(
            pl.col("indicator").is_in(["off_hours_export", "large_export"])
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
            _short("at", tz),
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
    if v.kind != "stale_account" or not v.accounts:
        return pl.DataFrame(schema=_PATH_SCHEMA)
    case = findings.case
    tz = _tz(findings)
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
        .join(left.select("account_id", "left_on", "_srow"), on="account_id")
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
            _short("at", tz),
            pl.lit(case.source("access")),
            "_row",
            "left_on",
            pl.lit(staff),
            "_srow",
        ).alias("why"),
    ).cast(_PATH_SCHEMA)


# --------------------------------------------------------------------------
# orders and buyers


def exposed_orders(findings: Findings, path_events: pl.DataFrame | None = None) -> pl.DataFrame:
    """Every order the leak path exposed, with its first exposure.

    Returns
    -------
    pl.DataFrame
        ``order_id``, ``buyer_id``, ``placed_at``, ``first_exposed_at``,
        ``path``, ``row`` (access row of the first exposure), ``why``,
        ``exposures`` (events of the path that showed it).
    """
    pe = leak_path_events(findings) if path_events is None else path_events
    index = order_index(findings.case)
    # The one place intervals become orders: each event's [lo, hi) exploded.
    per_order = (
        pe.with_columns(pl.int_ranges("lo", "hi", dtype=pl.Int64).alias("idx"))
        .explode("idx")
        .sort("at", "ev")
        .group_by("idx", maintain_order=True)
        .agg(
            pl.col("at").first().alias("first_exposed_at"),
            pl.col("path").first(),
            pl.col("row").first(),
            pl.col("why").first(),
            pl.len().alias("exposures"),
        )
    )
    return (
        index.orders.join(per_order, on="idx")
        .select(
            "order_id",
            "buyer_id",
            "placed_at",
            "first_exposed_at",
            "path",
            "row",
            "why",
            "exposures",
        )
        .sort("first_exposed_at", "order_id")
    )


def affected_buyers(
    findings: Findings,
    exposed: pl.DataFrame | None = None,
    *,
    reveal_contacts: bool = False,
) -> pl.DataFrame:
    """Buyers to warn, one row each, with why and whether they complained.

    Parameters
    ----------
    findings : Findings
    exposed : pl.DataFrame, optional
        :func:`exposed_orders` (computed when not given).
    reveal_contacts : bool
        Keep phone numbers whole; masked (last four digits) otherwise.

    Returns
    -------
    pl.DataFrame
        ``buyer_id``, ``phone`` (of the buyer's latest exposed order: the
        number the scammer is likeliest to hold), ``phones`` (distinct
        numbers on exposed orders), ``exposed_orders``, ``order_ids``,
        ``first_exposed_at`` (local time), ``first_exposed_order``,
        ``path``, ``paths``, ``why``, ``source``, ``row``, ``complained``,
        ``complaint_ids``, ``first_complaint_at``. Only the phone is taken
        from the personal data: a reminder needs no name or address.
    """
    if "phone" in findings.case.withheld:
        raise ValueError(
            "the case was loaded without the buyers' personal data "
            "(load(..., personal=False)); load it with personal=True to list whom to warn"
        )
    ex = exposed_orders(findings) if exposed is None else exposed
    tz = _tz(findings)
    phones = findings.case.orders.select("order_id", "phone")
    first = (
        ex.join(phones, on="order_id", how="left")
        .sort("first_exposed_at", "order_id")
        .group_by("buyer_id", maintain_order=True)
        .agg(
            pl.col("phone").sort_by("placed_at").drop_nulls().last().alias("phone"),
            pl.col("phone").drop_nulls().n_unique().alias("phones"),
            pl.len().alias("exposed_orders"),
            pl.col("order_id").sort().str.join(";").alias("order_ids"),
            pl.col("first_exposed_at").first(),
            pl.col("order_id").first().alias("first_exposed_order"),
            pl.col("path").first(),
            pl.col("path").unique().sort().str.join(";").alias("paths"),
            pl.col("why").first(),
            pl.col("row").first(),
        )
    )
    complaints = (
        findings.complaints.filter(pl.col("buyer_id").is_not_null())
        .sort("received_at", "complaint_id")
        .group_by("buyer_id", maintain_order=True)
        .agg(
            pl.col("complaint_id").str.join(";").alias("complaint_ids"),
            pl.col("received_at").first().alias("first_complaint_at"),
        )
    )
    buyers = first.join(complaints, on="buyer_id", how="left").select(
        "buyer_id",
        "phone",
        "phones",
        "exposed_orders",
        "order_ids",
        _local("first_exposed_at", tz).alias("first_exposed_at"),
        "first_exposed_order",
        "path",
        "paths",
        "why",
        pl.lit(findings.case.source("access")).alias("source"),
        "row",
        pl.col("complaint_ids").is_not_null().alias("complained"),
        "complaint_ids",
        _local("first_complaint_at", tz).alias("first_complaint_at"),
    )
    return mask_frame(buyers, reveal=reveal_contacts, columns=("phone",))


def platform_report(findings: Findings, exposed: pl.DataFrame | None = None) -> pl.DataFrame:
    """One row per complaint: what the evidence establishes about it.

    Returns
    -------
    pl.DataFrame
        ``complaint_id``, ``complaints_row``, ``buyer_id``, ``order_id`` (as
        the buyer gave it, else empty), ``matched_order_ids`` (orders of the
        buyer the path exposed before the call, when the basis is a buyer-id
        match), ``received_at``, ``contacted_at``, ``category``,
        ``exposed_by``, ``exposed_at``, ``exposure_source``,
        ``exposure_row``, ``basis`` (a key of :data:`BASIS`), ``note``.
    """
    ex = exposed_orders(findings) if exposed is None else exposed
    case = findings.case
    tz = _tz(findings)
    c = findings.complaints.select(
        "complaint_id",
        pl.col("_row").alias("complaints_row"),
        "buyer_id",
        "order_id",
        "received_at",
        "contacted_at",
        "deadline",
        "category",
    )
    exp = ex.select("order_id", "first_exposed_at", "path", "row")
    known = set(case.orders["order_id"].to_list())
    # The order the buyer named, and whether the path showed it in time.
    given = c.join(exp, on="order_id", how="left").select(
        "complaint_id",
        pl.col("first_exposed_at").alias("_g_at"),
        pl.col("path").alias("_g_path"),
        pl.col("row").alias("_g_row"),
    )
    # Orders of the buyer placed before the complaint that the path showed.
    by_buyer = (
        c.select("complaint_id", "buyer_id", "received_at", "deadline")
        .join(case.orders.select("order_id", "buyer_id", "placed_at"), on="buyer_id")
        .filter(pl.col("placed_at") <= pl.col("received_at"))
        .join(exp, on="order_id")
    )
    in_time = (
        by_buyer.filter(pl.col("first_exposed_at") <= pl.col("deadline"))
        .sort("first_exposed_at", "order_id")
        .group_by("complaint_id", maintain_order=True)
        .agg(
            pl.col("order_id").str.join(";").alias("matched_order_ids"),
            pl.col("first_exposed_at").first().alias("_m_at"),
            pl.col("path").first().alias("_m_path"),
            pl.col("row").first().alias("_m_row"),
        )
    )
    late = by_buyer.group_by("complaint_id").agg(pl.col("first_exposed_at").min().alias("_late_at"))
    r = c.join(given, on="complaint_id", how="left").join(in_time, on="complaint_id", how="left")
    r = r.join(late, on="complaint_id", how="left")
    named_ok = pl.col("_g_at").is_not_null() & (pl.col("_g_at") <= pl.col("deadline"))
    matched = pl.col("_m_at").is_not_null()
    named_late = pl.col("_g_at").is_not_null() & (pl.col("_g_at") > pl.col("deadline"))
    basis = (
        pl.when(named_ok)
        .then(pl.lit("order id given by the buyer"))
        .when(matched)
        .then(pl.lit("matched by buyer id"))
        .when(named_late | pl.col("_late_at").is_not_null())
        .then(pl.lit("exposed only after the call"))
        .otherwise(pl.lit("not exposed by the leak path"))
    )
    unknown_order = pl.col("order_id").is_not_null() & ~pl.col("order_id").is_in(list(known))
    note = (
        pl.when(unknown_order)
        .then(pl.lit("the order id the buyer gave is not in orders.csv"))
        .when(pl.col("order_id").is_not_null() & ~named_ok & matched)
        .then(
            pl.lit("the order the buyer named was not exposed in time; another order of theirs was")
        )
        .when(pl.col("buyer_id").is_null())
        .then(pl.lit("no buyer id and no known order"))
    )
    at = (
        pl.when(named_ok)
        .then("_g_at")
        .when(matched)
        .then("_m_at")
        .when(named_late)
        .then("_g_at")
        .otherwise("_late_at")
    )
    path = pl.when(named_ok | named_late).then("_g_path").otherwise("_m_path")
    row = pl.when(named_ok | named_late).then("_g_row").otherwise("_m_row")
    return (
        r.with_columns(basis.alias("basis"), note.alias("note"), at.alias("_at"))
        .select(
            "complaint_id",
            "complaints_row",
            "buyer_id",
            "order_id",
            pl.when(basis == "matched by buyer id")
            .then("matched_order_ids")
            .alias("matched_order_ids"),
            _local("received_at", tz).alias("received_at"),
            _local("contacted_at", tz).alias("contacted_at"),
            "category",
            pl.when(basis != "not exposed by the leak path").then(path).alias("exposed_by"),
            _local("_at", tz).alias("exposed_at"),
            pl.when(basis != "not exposed by the leak path")
            .then(pl.lit(case.source("access")))
            .alias("exposure_source"),
            pl.when(basis != "not exposed by the leak path").then(row).alias("exposure_row"),
            "basis",
            "note",
        )
        .sort("complaint_id")
    )


# --------------------------------------------------------------------------
# remediation checklist


def remediation(findings: Findings, *, max_evidence: int = 5) -> tuple[Action, ...]:
    """The checklist, most urgent first, each item citing its evidence.

    Tiers (:data:`TIERS`): 0 contain the leak path (isolate its machines,
    disable its accounts, revoke its app); 1 interview the suspects; 2 the
    path's reach (accounts used on infected machines after infection,
    machines the suspicious USB device touched); 3 accounts that should not
    work (former employees', shared); 4 reviews (export rights,
    broad-scope apps). Within a tier, items keep the order of the evidence
    (infection or first exposure first).
    """
    parts = [
        _contain(findings, max_evidence),
        _interviews(findings, max_evidence),
        _reach(findings, max_evidence),
        _stale_accounts(findings, max_evidence),
        _shared_accounts(findings, max_evidence),
        _export_review(findings, max_evidence),
        _app_review(findings),
    ]
    items = [a for part in parts for a in part]
    kept: dict[tuple[str, str, str], Action] = {}
    for a in sorted(items, key=lambda a: a.tier):  # stable: keeps evidence order in a tier
        key = (a.category, a.target_kind, a.target)
        kept[key] = _merge(kept[key], a) if key in kept else a
    return tuple(_with_priority(a, i + 1) for i, a in enumerate(kept.values()))


def _merge(first: Action, later: Action) -> Action:
    """One item for one target: the more urgent tier, both reasons, all evidence."""
    extra = tuple(c for c in later.evidence if c not in first.evidence)
    return Action(
        **{
            **first.__dict__,
            "reason": f"{first.reason}; {later.reason}",
            "evidence": first.evidence + extra,
        }
    )


def _with_priority(a: Action, priority: int) -> Action:
    return Action(**{**a.__dict__, "priority": priority})


def _cite(frame: pl.DataFrame, source: str | pl.Expr, row: str, summary: pl.Expr, n: int) -> tuple:
    src = pl.lit(source) if isinstance(source, str) else source
    f = frame.head(n).select(src.alias("s"), pl.col(row).alias("r"), summary.alias("t"))
    return tuple(Citation(s, r, t) for s, r, t in f.iter_rows())


def _contain(findings: Findings, n: int) -> list[Action]:
    v = findings.vector
    if v.kind == "none" or v.anchors.is_empty():
        return []
    tz = _tz(findings)
    if _is_malware(findings):
        return _isolate_infected(findings, tz)
    out = []
    pe = leak_path_events(findings)
    access = findings.case.source("access")
    path_ev = findings.events.join(pe.select("ev"), on="ev").sort("at")
    for app in v.apps:
        app_row = findings.case.apps.filter(pl.col("app_id") == app)
        mine = path_ev.filter(pl.col("app_id") == app)
        cites = _cite(
            app_row,
            findings.case.source("apps"),
            "_row",
            pl.format(
                "{} ({}) granted {}, scopes {}",
                "app_id",
                "name",
                _short("granted_at", tz),
                pl.col("scopes").fill_null("?"),
            ),
            1,
        )
        cites += _cite(
            mine,
            access,
            "_row",
            pl.format(
                "{} by {} {}: {} order(s)",
                "action",
                "account_id",
                _short("at", tz),
                pl.col("hi") - pl.col("lo"),
            ),
            n,
        )
        out.append(
            Action(
                0,
                "revoke_app",
                "app",
                app,
                f"Revoke app {app} and rotate its API credentials",
                f"the leak path: its pulls exposed {_orders_of(mine)} orders",
                cites,
            )
        )
    for account in v.accounts:
        mine = path_ev.filter(pl.col("account_id") == account)
        verb = (
            "Disable account"
            if v.kind in ("stale_account", "insider_export")
            else "Disable the app's account"
        )
        cites = _cite(
            mine,
            access,
            "_row",
            pl.format(
                "{} by {} from {} {}: {} order(s)",
                "action",
                "account_id",
                pl.coalesce("machine_id", pl.format("ip {}", "ip")),
                _short("at", tz),
                pl.col("hi") - pl.col("lo"),
            ),
            n,
        )
        out.append(
            Action(
                0,
                "disable_account",
                "account",
                account,
                f"{verb} {account}, end its sessions and rotate its password",
                f"the leak path ({v.kind}): exposed {_orders_of(mine)} orders",
                cites,
            )
        )
    for machine in v.machines:
        mine = path_ev.filter(pl.col("machine_id") == machine)
        cites = _cite(
            mine,
            access,
            "_row",
            pl.format("{} by {} on {} {}", "action", "account_id", "machine_id", _short("at", tz)),
            n,
        )
        out.append(
            Action(
                0,
                "preserve_machine",
                "machine",
                machine,
                f"Preserve {machine} (image the disk) and examine it",
                "the leak path's events were made from it",
                cites,
            )
        )
    outside = path_ev.filter(pl.col("machine_id").is_null() & pl.col("ip").is_not_null())
    if v.kind != "third_party_app":
        for ip in outside["ip"].unique(maintain_order=True).to_list():
            mine = outside.filter(pl.col("ip") == ip)
            cites = _cite(
                mine,
                access,
                "_row",
                pl.format("{} by {} from ip {} {}", "action", "account_id", "ip", _short("at", tz)),
                n,
            )
            out.append(
                Action(
                    0,
                    "block_ip",
                    "ip",
                    ip,
                    f"Block back-office access from {ip}",
                    "the leak path logged in from outside the office",
                    cites,
                )
            )
    return out


def _orders_of(events: pl.DataFrame) -> int:
    """Distinct orders a set of events exposed (interval union)."""
    if events.is_empty():
        return 0
    iv = events.select("lo", "hi").sort("lo", "hi")
    prev = pl.col("hi").cum_max().shift(1)
    blocks = iv.with_columns((prev.is_null() | (pl.col("lo") > prev)).cum_sum().alias("b"))
    return int(blocks.group_by("b").agg(pl.col("hi").max() - pl.col("lo").min())["hi"].sum())


def _isolate_infected(findings: Findings, tz: str) -> list[Action]:
    win = infection_windows(findings).sort("since")
    pe = leak_path_events(findings)
    out = []
    for w in win.iter_rows(named=True):
        cites = [
            Citation(
                w["source"], w["row"], f"{w['what']} on {w['machine_id']} {_fmt(w['since'], tz)}"
            )
        ]
        state = "still infected at the end of the evidence"
        if w["until"] is not None:
            cites.append(
                Citation(
                    w["until_source"],
                    w["until_row"],
                    f"antivirus quarantined the implant {_fmt(w['until'], tz)}",
                )
            )
            state = "the antivirus quarantined the implant; confirm it is gone"
        n = _orders_of(pe.filter(pl.col("path") == f"machine {w['machine_id']}"))
        out.append(
            Action(
                0,
                "isolate_machine",
                "machine",
                w["machine_id"],
                f"Isolate {w['machine_id']} from the network, image it, "
                "remove the implant and reinstall",
                f"infected {_fmt(w['since'], tz)}; {n} orders opened on it since ({state})",
                tuple(cites),
            )
        )
    return out


def _fmt(t, tz: str) -> str:
    from zoneinfo import ZoneInfo

    return t.astimezone(ZoneInfo(tz)).strftime("%Y-%m-%d %H:%M") if t is not None else "?"


MIN_SUSPECT_SCORE = 0.1
"""Below this posterior a person is not put on the interview list: a
checklist naming someone at 2 % would read as an accusation the evidence
does not make."""


def _interviews(findings: Findings, n: int) -> list[Action]:
    out = []
    for s in findings.suspects:
        if s.score < MIN_SUSPECT_SCORE:
            continue
        cites = tuple(Citation(e.source, e.row, e.summary) for e in s.evidence[:n])
        role = f" ({s.role})" if s.role else ""
        out.append(
            Action(
                1,
                "interview",
                "person",
                s.person_id,
                f"Interview {s.person_id}{role}",
                f"suspect score {s.score:.2f} on the evidence below",
                cites,
            )
        )
    return out


def _reach(findings: Findings, n: int) -> list[Action]:
    """Credentials exposed on infected machines; machines the USB device touched."""
    if not _is_malware(findings):
        return []
    tz = _tz(findings)
    win = infection_windows(findings)
    sessions = (
        findings.sessions.join(win.select("machine_id", "since"), on="machine_id")
        .filter(pl.col("end").fill_null(pl.col("start")) >= pl.col("since"))
        .sort("start")
    )
    logins = findings.case.source("logins")
    out = []
    for account in sessions["account_id"].drop_nulls().unique(maintain_order=True).to_list():
        mine = sessions.filter(pl.col("account_id") == account)
        machines = ", ".join(mine["machine_id"].unique(maintain_order=True).to_list())
        cites = _cite(
            mine.filter(pl.col("login_row").is_not_null()),
            logins,
            "login_row",
            pl.format(
                "{} logged in on {} {} (infected {})",
                "account_id",
                "machine_id",
                _short("start", tz),
                _short("since", tz),
            ),
            n,
        )
        out.append(
            Action(
                2,
                "rotate_password",
                "account",
                account,
                f"Rotate the password of {account} and end its sessions",
                f"used on infected machine(s) {machines} after infection: the implant "
                "could capture it",
                cites,
            )
        )
    case = findings.case
    devices = infection_devices(findings)
    touched = (
        infection_starts(case, findings.clock_offsets)["device"]
        .filter(
            pl.col("cand").is_in(devices) & ~pl.col("machine_id").is_in(win["machine_id"].to_list())
        )
        .sort("since")
    )
    for r in touched.iter_rows(named=True):
        out.append(
            Action(
                2,
                "scan_machine",
                "machine",
                r["machine_id"],
                f"Scan {r['machine_id']} for the implant and check its autoruns",
                f"the suspicious USB device {r['cand']} was connected to it",
                (
                    Citation(
                        case.source("endpoint"),
                        r["_row"],
                        f"USB {r['cand']} connected {_fmt(r['since'], tz)}",
                    ),
                ),
            )
        )
    return out


def infection_devices(findings: Findings) -> list[str]:
    """USB devices that brought the implant: the path's devices, and any
    device connected to an infected machine in the :data:`QUARANTINE_WINDOW`
    before its infection (the stick plugged in just before the autorun)."""
    win = infection_windows(findings)
    if win.is_empty():
        return sorted(findings.vector.devices)
    starts = infection_starts(findings.case, findings.clock_offsets)["device"]
    near = starts.join(
        win.select("machine_id", pl.col("since").alias("_inf")), on="machine_id"
    ).filter(
        (pl.col("since") <= pl.col("_inf"))
        & (pl.col("since") >= pl.col("_inf") - QUARANTINE_WINDOW)
    )
    return sorted(set(findings.vector.devices) | set(near["cand"].to_list()))


def _stale_accounts(findings: Findings, n: int) -> list[Action]:
    case = findings.case
    tz = _tz(findings)
    left = case.staff.filter(pl.col("left_on").is_not_null()).select(
        pl.col("person_id").alias("owner_person_id"), "left_on", pl.col("_row").alias("staff_row")
    )
    stale = case.accounts.join(left, on="owner_person_id").filter(
        pl.col("disabled_at").is_null()
        | (pl.col("disabled_at").dt.convert_time_zone(tz).dt.date() > pl.col("left_on"))
    )
    uses = findings.indicators.filter(pl.col("indicator") == "stale_account_use")
    out = []
    for r in stale.sort("left_on").iter_rows(named=True):
        cites = [
            Citation(
                case.source("staff"),
                r["staff_row"],
                f"{r['owner_person_id']} left on {r['left_on']}",
            ),
            Citation(
                case.source("accounts"),
                r["_row"],
                f"{r['account_id']} disabled_at "
                f"{_fmt(r['disabled_at'], tz) if r['disabled_at'] else 'empty (still enabled)'}",
            ),
        ]
        used = uses.filter(pl.col("account_id") == r["account_id"])
        cites += _cite(used, pl.col("source"), "row", pl.col("summary"), n)
        state = (
            "still enabled" if r["disabled_at"] is None else "disabled only after the owner left"
        )
        also = "; and used after the owner left" if used.height else ""
        out.append(
            Action(
                3,
                "disable_account",
                "account",
                r["account_id"],
                f"Disable {r['account_id']} (former employee {r['owner_person_id']})",
                f"owner left on {r['left_on']}, account {state}{also}",
                tuple(cites),
            )
        )
    return out


def _shared_accounts(findings: Findings, n: int) -> list[Action]:
    case = findings.case
    ownerless = case.accounts.filter(
        pl.col("owner_person_id").is_null()
        & (pl.col("kind").fill_null("") != "app")
        & pl.col("disabled_at").is_null()
        & ~pl.col("account_id").is_in(case.apps["account_id"].drop_nulls().to_list())
    )
    out = [
        Action(
            3,
            "unshare_account",
            "account",
            r["account_id"],
            f"Give each user of {r['account_id']} an account of their own, then disable it",
            "an enabled back-office account with no owner: whoever uses it is not recorded",
            (
                Citation(
                    case.source("accounts"),
                    r["_row"],
                    f"{r['account_id']} kind {r['kind']}, owner_person_id empty",
                ),
            ),
        )
        for r in ownerless.iter_rows(named=True)
    ]
    shared = findings.indicators.filter(
        pl.col("indicator").is_in(["used_other_account", "owner_elsewhere"])
        & pl.col("account_id").is_not_null()
    ).sort("at")
    for account in shared["account_id"].unique(maintain_order=True).to_list():
        mine = shared.filter(pl.col("account_id") == account)
        people = sorted(set(mine["person_id"].drop_nulls().to_list()))
        out.append(
            Action(
                3,
                "unshare_account",
                "account",
                account,
                f"Give each user of {account} an account of their own and rotate its password",
                f"camera/badge evidence shows it used by someone other than its owner "
                f"({mine.height} rows; people seen: {', '.join(people) or '?'})",
                _cite(mine, pl.col("source"), "row", pl.col("summary"), n),
            )
        )
    return out


def _export_review(findings: Findings, n: int) -> list[Action]:
    case = findings.case
    tz = _tz(findings)
    exports = findings.events.filter(pl.col("action") == "export_orders").sort("at")
    counts = exports.group_by("account_id").agg(
        pl.len().alias("exports"), pl.col("_row").first(), pl.col("at").first()
    )
    acc = case.accounts.filter(pl.col("kind").fill_null("") != "app").join(
        counts, on="account_id", how="left", suffix="_ex"
    )
    access = case.source("access")
    out = []
    for r in acc.sort("_row").iter_rows(named=True):
        can, did = bool(r["can_export"]), r["exports"] is not None
        row = Citation(case.source("accounts"), r["_row"], f"{r['account_id']} can_export={can}")
        if can and not did:
            out.append(
                Action(
                    4,
                    "export_right",
                    "account",
                    r["account_id"],
                    f"Remove the export right of {r['account_id']}",
                    "may export but never did in the evidence",
                    (row,),
                )
            )
        elif did:
            first = Citation(
                access, r["_row_ex"], f"first of {r['exports']} export(s) {_fmt(r['at'], tz)}"
            )
            verdict = (
                "exported without the export right: check how"
                if not can
                else f"exported {r['exports']} time(s): confirm each was needed"
            )
            out.append(
                Action(
                    4,
                    "export_right",
                    "account",
                    r["account_id"],
                    f"Review the exports of {r['account_id']}",
                    verdict,
                    (row, first),
                )
            )
    return out


def _app_review(findings: Findings) -> list[Action]:
    case = findings.case
    tz = _tz(findings)
    active = case.apps.filter(pl.col("revoked_at").is_null()).sort("granted_at")
    out = []
    for r in active.iter_rows(named=True):
        scopes = r["scopes"] or ""
        broad = broad_scopes(scopes)
        if not broad:
            continue
        out.append(
            Action(
                4,
                "review_app",
                "app",
                r["app_id"],
                f"Review app {r['app_id']} ({r['name']}): keep only if needed, narrow its scopes",
                f"authorized since {_fmt(r['granted_at'], tz)}, not revoked, with broad "
                f"scopes {', '.join(broad)}",
                (Citation(case.source("apps"), r["_row"], f"{r['app_id']} scopes {scopes}"),),
            )
        )
    return out


# --------------------------------------------------------------------------
# the pack


def respond(findings: Findings, *, reveal_contacts: bool = False) -> ResponsePack:
    """Affected buyers, platform report and remediation from the findings."""
    exposed = exposed_orders(findings)
    buyers = affected_buyers(findings, exposed, reveal_contacts=reveal_contacts)
    notes = []
    if findings.vector.kind == "none":
        notes.append("no leak path was found: no buyer is listed as affected by one")
    return ResponsePack(
        case_id=findings.case.meta.case_id,
        vector=findings.vector.kind,
        buyers=buyers,
        platform=platform_report(findings, exposed),
        actions=remediation(findings),
        reveal_contacts=reveal_contacts,
        notes=tuple(notes),
    )


def write_pack(pack: ResponsePack, out: Path) -> dict[str, Path]:
    """Write the pack's files into ``out``; returns them by name."""
    out.mkdir(parents=True, exist_ok=True)
    name = "affected_buyers.SENSITIVE.csv" if pack.reveal_contacts else "affected_buyers.csv"
    files = {
        "buyers": out / name,
        "platform_csv": out / "platform_report.csv",
        "platform_json": out / "platform_report.json",
        "remediation_md": out / "remediation.md",
        "remediation_json": out / "remediation.json",
    }
    write_csv(pack.buyers, files["buyers"], reveal=pack.reveal_contacts)
    write_csv(pack.platform, files["platform_csv"])
    platform_doc = {
        "format": "forensics.platform_report/1",
        "case_id": pack.case_id,
        "vector": pack.vector,
        "basis": BASIS,
        "complaints": pack.platform.to_dicts(),
    }
    _write_json(files["platform_json"], platform_doc)
    _write_json(
        files["remediation_json"],
        {
            "format": "forensics.remediation/1",
            "case_id": pack.case_id,
            "vector": pack.vector,
            "tiers": {str(k): v for k, v in TIERS.items()},
            "items": [a.as_dict() for a in pack.actions],
        },
    )
    files["remediation_md"].write_text(remediation_markdown(pack), encoding="utf-8")
    return files


def _write_json(path: Path, doc: dict) -> None:
    path.write_text(
        json.dumps(doc, indent=2, ensure_ascii=False, default=str) + "\n", encoding="utf-8"
    )


_MD_SPECIAL = re.compile(r"([\\`*_\[\]#|~])")


def _md(text: object) -> str:
    """Evidence text made inert in Markdown (HTML escaped, markup characters escaped)."""
    text = "" if text is None else str(text)
    # < and > are enough to keep raw HTML out; & stays readable.
    return _MD_SPECIAL.sub(r"\\\1", text.replace("<", "&lt;").replace(">", "&gt;"))


def remediation_markdown(pack: ResponsePack) -> str:
    """The checklist as Markdown, grouped by tier."""
    lines = [
        f"# Remediation checklist — {_md(pack.case_id)}",
        "",
        f"Leak path: **{_md(pack.vector)}**. Most urgent first; every item cites its "
        "evidence (file and row).",
        "",
    ]
    lines += [f"> {_md(n)}" for n in pack.notes]
    tier = None
    for a in pack.actions:
        if a.tier != tier:
            tier = a.tier
            lines += ["", f"## {TIERS[tier]}", ""]
        lines.append(f"{a.priority}. [ ] **{_md(a.action)}** — {_md(a.reason)}")
        for c in a.evidence:
            where = f"{c.source} row {c.row}" if c.row is not None else c.source
            lines.append(f"    - {_md(where)}: {_md(c.summary)}")
    return "\n".join(lines) + "\n"


def summary_text(pack: ResponsePack, *, top: int = 5) -> str:
    """The pack in a few lines: buyers, complaints by basis, first actions."""
    complained = int(pack.buyers["complained"].sum()) if pack.buyers.height else 0
    lines = [
        f"leak path: {pack.vector}",
        f"affected buyers: {pack.buyers.height} ({complained} already complained)",
        f"platform report: {pack.platform.height} complaints",
    ]
    counts = pack.platform.group_by("basis").len().sort(["len", "basis"], descending=[True, False])
    lines += [f"  {k:5d}  {basis}" for basis, k in counts.iter_rows()]
    lines.append(f"remediation: {len(pack.actions)} items, first:")
    lines += [f"  {a.priority}. {a.action}" for a in pack.actions[:top]]
    lines += [f"note: {n}" for n in pack.notes]
    return "\n".join(lines)


def run_respond(case_path: Path, out: Path, *, reveal_contacts: bool = False) -> int:
    """CLI entry: investigate the case and write the response pack into ``out``."""
    from ..case import load
    from ..investigate import investigate

    case_path, out = Path(case_path), Path(out)
    if out.resolve() == case_path.resolve() or case_path.resolve() in out.resolve().parents:
        raise SystemExit("forensics: refusing to write inside the case folder")
    findings = investigate(load(case_path))
    pack = respond(findings, reveal_contacts=reveal_contacts)
    files = write_pack(pack, out)
    print(summary_text(pack))
    print(f"written to {out}: " + ", ".join(sorted(p.name for p in files.values())))
    if reveal_contacts:
        print(
            f"SENSITIVE: {files['buyers'].name} holds unmasked phone numbers; share it only "
            "with the team sending the reminders and delete it after the campaign"
        )
    return 0
