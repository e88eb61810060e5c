"""Which orders each access path could have seen.

Orders are numbered by ``placed_at`` (ties by ``order_id``), so the orders an
export or API pull covers — those placed in ``[range_start, range_end]`` no
later than the export itself — are one interval ``[lo, hi)`` of that
numbering, found by sorted search. An action on one order is the interval
``[i, i + 1)``. Nothing here expands a range into its orders: counts come
from interval arithmetic, and only the few complained orders are ever
matched one by one (:mod:`forensics.commonpoint`).

A *candidate* is a path at one level, and its exposure is a set of access
events:

=========  =================================================================
level      events it exposes
=========  =================================================================
account    every access under the account
machine    every access from the machine
ip         access from outside the office (no machine) from the address
session    access inside one back-office session
app        API access under an app's account while the app was authorized
event      one export or API pull, alone
device     access on each machine a USB device was connected to, from its
           first connection there on (malware brought on a stick sees what
           that machine shows after infection)
process    the same, from the first time a process (by SHA-256, else name)
           started, was added to autorun or was flagged there
=========  =================================================================
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass

import polars as pl

from .case import Case
from .clock import ClockOffset, corrected
from .sessions import assign_sessions

__all__ = [
    "ACTION_FIELDS",
    "LEVELS",
    "OrderIndex",
    "order_index",
    "exposure_events",
    "candidate_events",
    "infection_starts",
    "event_columns",
    "members_of",
    "union_size",
]

ALL_FIELDS = frozenset({"name", "phone", "address", "item", "amount", "order_id"})
ACTION_FIELDS: dict[str, frozenset[str]] = {
    "view_order": ALL_FIELDS,
    # A shipping label carries the addressee and the parcel, not the price.
    "print_label": ALL_FIELDS - {"amount"},
    "export_orders": ALL_FIELDS,
    "api_pull": ALL_FIELDS,
    "search": ALL_FIELDS,
}
"""Order fields each action puts in front of whoever (or whatever) watches.

Deliberately generous: a path is ruled out by a quoted field only when the
action certainly cannot show it."""

LEVELS = ("account", "machine", "ip", "session", "app", "event", "device", "process")


@dataclass(frozen=True)
class OrderIndex:
    """Orders numbered by placement time."""

    orders: pl.DataFrame  # idx, order_id, buyer_id, placed_at, _row (sorted by idx)
    placed: pl.Series  # placed_at, sorted

    @property
    def size(self) -> int:
        return self.orders.height

    def count_placed_until(self, at) -> int:
        """How many orders were placed at or before ``at``."""
        return int(self.placed.search_sorted(at, side="right"))


def order_index(case: Case) -> OrderIndex:
    orders = (
        case.orders.select("order_id", "buyer_id", "placed_at", "_row")
        .sort("placed_at", "order_id")
        .with_row_index("idx")
        .with_columns(pl.col("idx").cast(pl.Int64))
    )
    return OrderIndex(orders, orders["placed_at"])


def exposure_events(case: Case, sessions: pl.DataFrame | None, index: OrderIndex) -> pl.DataFrame:
    """Access events with the interval of orders each exposed.

    Parameters
    ----------
    case : Case
    sessions : pl.DataFrame or None
        From :func:`forensics.sessions.sessionize`; None leaves ``session_key``
        empty (for callers that need no session level: it saves a sort of
        every event).
    index : OrderIndex

    Returns
    -------
    pl.DataFrame
        ``ev`` (event number), ``_row``, ``event_id``, ``at``, ``account_id``,
        ``machine_id``, ``ip``, ``action``, ``order_id``, ``session_key``,
        ``app_id``, ``lo``, ``hi`` (``hi - lo`` orders exposed; 0 when the
        event names no known order).
    """
    # Each step below works on the few columns it needs and yields columns
    # in access-row order: the access table is most of a large case, and
    # joining or sorting it whole copies every column.
    acc = case.access.with_row_index("ev").with_columns(pl.col("ev").cast(pl.Int64))
    if sessions is None:
        session_key = pl.repeat(None, acc.height, dtype=pl.String, eager=True)
    else:
        session_key = assign_sessions(acc.select("at", "account_id", "machine_id", "ip"), sessions)[
            "session_key"
        ]
    order_pos = (
        acc.select("order_id")
        .join(
            index.orders.select("order_id", pl.col("idx").alias("_oi")),
            on="order_id",
            how="left",
            maintain_order="left",
        )
        .get_column("_oi")
    )
    is_range = pl.col("action").is_in(["export_orders", "api_pull"]) | (
        pl.col("order_id").is_null()
        & (pl.col("range_start").is_not_null() | pl.col("range_end").is_not_null())
    )
    until = pl.min_horizontal(pl.col("range_end").fill_null(pl.col("at")), pl.col("at"))
    lo_range = index.placed.search_sorted(
        acc["range_start"].fill_null(index.placed.min()), side="left"
    )
    hi_range = index.placed.search_sorted(acc.select(until).to_series(), side="right")
    bounds = acc.select(
        is_range.alias("_range"),
        pl.Series("_oi", order_pos),
        pl.Series("_lo_r", lo_range).cast(pl.Int64),
        pl.Series("_hi_r", hi_range).cast(pl.Int64),
    ).select(
        pl.when("_range").then(pl.col("_lo_r")).otherwise(pl.col("_oi")).fill_null(0).alias("lo"),
        pl.when("_range")
        .then(pl.max_horizontal("_lo_r", "_hi_r"))
        .otherwise(pl.col("_oi") + 1)
        .fill_null(0)
        .alias("hi"),
    )
    app = _app_of_event(case, acc)
    app_id = pl.repeat(None, acc.height, dtype=pl.String, eager=True).alias("app_id")
    if app.height:
        app_id = app_id.scatter(app["ev"], app["app_id"])
    return acc.select(
        "ev",
        "_row",
        "event_id",
        "at",
        "account_id",
        "machine_id",
        "ip",
        "action",
        "order_id",
        session_key.alias("session_key"),
        app_id,
        bounds["lo"],
        bounds["hi"],
    )


def _app_of_event(case: Case, acc: pl.DataFrame) -> pl.DataFrame:
    """Which authorized app (apps.csv) an access event belongs to."""
    apps = case.apps.select("app_id", "account_id", "granted_at", "revoked_at")
    if apps.is_empty():
        return pl.DataFrame(schema={"ev": pl.Int64, "app_id": pl.String})
    return (
        acc.select("ev", "account_id", "at")
        .join(apps, on="account_id")
        .filter(
            (pl.col("granted_at").is_null() | (pl.col("at") >= pl.col("granted_at")))
            & (pl.col("revoked_at").is_null() | (pl.col("at") <= pl.col("revoked_at")))
        )
        .sort("ev", "granted_at", nulls_last=True)
        .unique("ev", keep="first")
        .select("ev", "app_id")
    )


def _since(events: pl.LazyFrame, starts: pl.DataFrame, level: str) -> pl.LazyFrame:
    """Events on a machine at or after a candidate's start time there."""
    if starts.is_empty():
        return pl.LazyFrame(schema={"level": pl.String, "cand": pl.String, "ev": pl.Int64})
    return (
        events.select("ev", "machine_id", "at")
        .join(starts.lazy(), on="machine_id")
        .filter(pl.col("at") >= pl.col("since"))
        .select(pl.lit(level).alias("level"), "cand", "ev")
    )


def infection_starts(
    case: Case, offsets: Mapping[str, ClockOffset] | None = None
) -> dict[str, pl.DataFrame]:
    """First time each USB device / process was seen on each machine.

    Returns ``{"device": frame, "process": frame}`` with columns ``cand``,
    ``machine_id``, ``since``, ``_row`` (endpoint row of that first sighting).
    """
    ep = corrected(case.endpoint, (offsets or {}).get("endpoint"), ("at",))

    def first(f: pl.DataFrame) -> pl.DataFrame:
        return (
            f.sort("at", "_row")
            .group_by("cand", "machine_id", maintain_order=True)
            .agg(pl.col("at").first().alias("since"), pl.col("_row").first())
        )

    device = first(
        ep.filter(
            (pl.col("kind") == "usb_connect") & pl.col("device_id").is_not_null()
        ).with_columns(pl.col("device_id").alias("cand"))
    )
    process = first(
        ep.filter(pl.col("kind").is_in(["process_start", "autorun_added", "av_alert"]))
        .with_columns(
            pl.coalesce(
                pl.col("sha256").str.to_lowercase(), pl.col("process").str.to_lowercase()
            ).alias("cand")
        )
        .filter(pl.col("cand").is_not_null())
    )
    return {"device": device, "process": process}


def candidate_events(
    case: Case,
    events: pl.DataFrame,
    offsets: Mapping[str, ClockOffset] | None = None,
    *,
    levels: Collection[str] = LEVELS,
    paths: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """Membership of access events in candidates: ``level``, ``cand``, ``ev``.

    Only events that exposed at least one order take part, and only
    candidates at ``levels`` (every level by default) are built; with
    ``paths`` (``level``, ``cand``), only those candidates.
    """
    # Lazy, so each level reads only the columns it needs from the events.
    ev = events.lazy().filter(pl.col("hi") > pl.col("lo"))
    wanted: dict[str, list[str]] | None = None
    if paths is not None:
        wanted = dict(paths.select("level", "cand").group_by("level").agg("cand").iter_rows())
        levels = [level for level in levels if level in wanted]
    simple = [
        ("account", pl.col("account_id"), None),
        ("machine", pl.col("machine_id"), None),
        ("ip", pl.col("ip"), pl.col("machine_id").is_null()),
        ("session", pl.col("session_key"), None),
        ("app", pl.col("app_id"), None),
        (
            "event",
            pl.coalesce(
                pl.col("event_id"),
                pl.lit(case.source("access") + "#") + pl.col("_row").cast(pl.String),
            ),
            pl.col("action").is_in(["export_orders", "api_pull"])
            | (pl.col("hi") - pl.col("lo") > 1),
        ),
    ]
    parts = []
    for level, key, cond in simple:
        if level not in levels:
            continue
        f = ev if cond is None else ev.filter(cond)
        if wanted is not None:
            f = f.filter(key.is_in(wanted[level]))
        parts.append(
            f.select(pl.lit(level).alias("level"), key.alias("cand"), "ev").filter(
                pl.col("cand").is_not_null()
            )
        )
    infected = [level for level in ("device", "process") if level in levels]
    starts = infection_starts(case, offsets) if infected else {}
    for level in infected:
        start = starts[level].select("cand", "machine_id", "since")
        if wanted is not None:
            start = start.filter(pl.col("cand").is_in(wanted[level]))
        parts.append(_since(ev, start, level))
    if not parts:
        return pl.DataFrame(schema={"level": pl.String, "cand": pl.String, "ev": pl.Int64})
    # Each part holds an event at most once per candidate already.
    return pl.concat(parts).collect()


def event_columns(events: pl.DataFrame, ev: pl.Series, *columns: str) -> pl.DataFrame:
    """``columns`` of the events numbered ``ev``, one row per entry of ``ev``
    in its order (an unknown event number gives nulls).

    Events numbered by row, as :func:`exposure_events` numbers them, are
    looked up by position: gathering millions of rows costs a fraction of a
    hash join on the event number.
    """
    ev = ev.alias("ev")
    if _numbered_by_row(events["ev"], ev):
        return events.select(pl.col(c).gather(ev) for c in columns)
    return (
        ev.to_frame()
        .join(events.select("ev", *columns), on="ev", how="left", maintain_order="left")
        .select(columns)
    )


def _numbered_by_row(numbers: pl.Series, ev: pl.Series) -> bool:
    """``numbers`` is 0, 1, 2, … and every entry of ``ev`` is one of them."""
    n = numbers.len()
    if n and (numbers.null_count() or numbers[0] != 0 or numbers[-1] != n - 1):
        return False
    if n > 1 and not bool((numbers.diff().drop_nulls() == 1).all()):
        return False
    return ev.len() == 0 or (ev.null_count() == 0 and ev.min() >= 0 and ev.max() < n)


def members_of(members: pl.DataFrame, keys: pl.DataFrame) -> pl.DataFrame:
    """The rows of ``members`` that belong to the candidates ``keys``
    (``level``, ``cand``), in the order of ``members``.

    The same as a semi-join on (level, cand), without hashing the two
    strings of every one of millions of rows: each level compares one string
    and looks its few candidates up.
    """
    wanted = keys.select("level", "cand").unique().group_by("level").agg("cand")
    if wanted.is_empty():
        return members.clear()
    keep = pl.lit(False)
    for level, cands in sorted(wanted.iter_rows()):
        keep = keep | ((pl.col("level") == level) & pl.col("cand").is_in(cands))
    return members.filter(keep)


def union_size(
    members: pl.DataFrame, events: pl.DataFrame, *, limit: int | None = None
) -> pl.DataFrame:
    """Distinct orders each candidate exposed, by merging its intervals.

    Parameters
    ----------
    members : level, cand, ev
    events : ev, lo, hi
    limit : int, optional
        Count only orders numbered below ``limit`` (e.g. placed before the
        last complaint).

    Returns
    -------
    pl.DataFrame
        ``level``, ``cand``, ``exposed``, sorted by level and candidate.

    The counting is :func:`forensics.portable.core_table`, written once for
    polars and Spark.
    """
    # Imported here, not with the package, so `python -m forensics.portable`
    # runs that module once.
    from .portable import core_table

    if limit is None:
        limit = int(events["hi"].max() or 0)
    return core_table(members, events, limit=limit)


def _is_row_number(ev: pl.Series) -> bool:
    """``ev`` is 0, 1, 2, … (each row's own position)."""
    return ev.len() == 0 or (ev[0] == 0 and bool(ev.diff().drop_nulls().eq(1).all()))


def _within(ev: pl.Series, n: int) -> bool:
    """Every event number in ``ev`` is a row of a frame of ``n`` rows."""
    return ev.len() == 0 or (ev.null_count() == 0 and ev.min() >= 0 and ev.max() < n)
