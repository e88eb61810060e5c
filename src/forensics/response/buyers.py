"""Who to warn and what to tell the platform: the orders the leak path exposed.

:func:`exposed_orders` is the one place the path's intervals of order
numbers become orders (each event's ``[lo, hi)`` expanded: fine for a shop,
an export of a month is thousands of rows). :func:`affected_buyers` lists
the buyers of those orders for an SMS reminder campaign (phones masked
unless asked); :func:`platform_report` says, complaint by complaint, what
the evidence establishes (:data:`BASIS`), so nothing inferred reads as fact.
"""

from __future__ import annotations

import polars as pl

from ..case.localtime import ISO_LOCAL, local_col
from ..findings import Findings
from ..privacy import mask_frame
from .leakpath import leak_path_events

__all__ = ["BASIS", "exposed_orders", "affected_buyers", "platform_report"]

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
    index = findings.order_index
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
    tz = findings.case.timezone()
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
        local_col("first_exposed_at", tz, ISO_LOCAL).alias("first_exposed_at"),
        "first_exposed_order",
        "path",
        "paths",
        "why",
        pl.lit(findings.case.source("access")).alias("source"),
        "row",
        pl.col("complaint_ids").is_not_null().alias("complained"),
        "complaint_ids",
        local_col("first_complaint_at", tz, ISO_LOCAL).alias("first_complaint_at"),
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
    tz = findings.case.timezone()
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
            local_col("received_at", tz, ISO_LOCAL).alias("received_at"),
            local_col("contacted_at", tz, ISO_LOCAL).alias("contacted_at"),
            "category",
            pl.when(basis != "not exposed by the leak path").then(path).alias("exposed_by"),
            local_col("_at", tz, ISO_LOCAL).alias("exposed_at"),
            pl.when(basis != "not exposed by the leak path")
            .then(pl.lit(case.source("access")))
            .alias("exposure_source"),
            pl.when(basis != "not exposed by the leak path").then(row).alias("exposure_row"),
            "basis",
            "note",
        )
        .sort("complaint_id")
    )
