"""Which orders each access path could have seen.

Orders are numbered by ``placed_at`` (ties in the file's order), so the orders an
export or API pull covers — those placed in ``[range_start, range_end]`` no
later than the export itself — are one interval ``[lo, hi)`` of that
numbering, found by sorted search. An action on one order is the interval
``[i, i + 1)``. Nothing here expands a range into its orders: counts come
from interval arithmetic, and only the few complained orders are ever
matched one by one (:mod:`forensics.analysis.commonpoint`).

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
from dataclasses import dataclass, field

import numpy as np
import polars as pl

from ..case import Case, as_text, typed_like
from .clock import ClockOffset, corrected
from .infection import sweep_insertions
from .sessions import assign_sessions

__all__ = [
    "ACTION_FIELDS",
    "LEVELS",
    "OrderIndex",
    "order_index",
    "exposure_events",
    "candidate_events",
    "level_members",
    "CANDIDATE_KEY",
    "MachineOrder",
    "machine_order",
    "since_rows",
    "since_candidates",
    "infection_starts",
    "event_columns",
    "members_of",
    "unknown_extent",
    "event_key",
    "BULK_ACTIONS",
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

BULK_ACTIONS = ("export_orders", "api_pull")
"""Actions that may expose many orders at once (a range) or one (an order id)."""

LEVELS = ("account", "machine", "ip", "session", "app", "event", "device", "process")


@dataclass(frozen=True)
class OrderIndex:
    """Orders numbered by placement time (ties in the file's order)."""

    orders: pl.DataFrame  # idx, order_id, buyer_id, placed_at, _row (in no particular order)
    placed: pl.Series  # placed_at, sorted: placed[idx] is the placement time of order idx
    idx_of_row: pl.Series | None = None
    """``idx`` of each row of ``case.orders``, in the file's order; None when
    the file lists the orders in placement order already (``idx`` = row)."""

    @property
    def size(self) -> int:
        return self.orders.height

    def count_placed_until(self, at) -> int:
        """How many orders were placed at or before ``at``."""
        return int(self.placed.search_sorted(at, side="right"))

    def numbers_of_rows(self, rows: pl.Series) -> pl.Series:
        """``idx`` of the orders at ``rows`` of ``case.orders`` (null stays null)."""
        if self.idx_of_row is None:
            return rows.cast(pl.Int64).alias("idx")
        return self.idx_of_row.gather(rows).cast(pl.Int64)


def order_index(case: Case) -> OrderIndex:
    """Orders numbered by placement time; orders placed at the same instant
    keep the file's order.

    Which of two orders placed at one instant gets the lower number changes
    no count: a range (an export, an API pull) is bounded by times and so
    takes in every order of an instant or none, and a single order is
    counted by its own number. The orders stay in the file's order with
    their number alongside; only the times are sorted, and not even those
    when the file lists orders as they were placed (exports usually do).
    """
    orders = case.orders.select("order_id", "buyer_id", "placed_at", "_row")
    times = orders.get_column("placed_at")
    if times.null_count() == 0 and times.is_sorted():
        idx = pl.int_range(orders.height, dtype=pl.Int64, eager=True).alias("idx")
        return OrderIndex(orders.select(idx, pl.all()), times)
    by_row = orders.select(pl.arg_sort_by("placed_at", maintain_order=True)).to_series()
    idx_of_row = pl.zeros(orders.height, pl.UInt32, eager=True).scatter(
        by_row, pl.int_range(orders.height, dtype=pl.UInt32, eager=True)
    )
    numbered = orders.select(idx_of_row.cast(pl.Int64).alias("idx"), pl.all())
    return OrderIndex(numbered, times.gather(by_row), idx_of_row.alias("idx"))


def exposure_events(case: Case, sessions: pl.DataFrame | None, index: OrderIndex) -> pl.DataFrame:
    """Access events with the interval of orders each exposed.

    Parameters
    ----------
    case : Case
    sessions : pl.DataFrame or None
        From :func:`forensics.analysis.sessions.sessionize`; None leaves ``session_key``
        empty (for callers that need no session level: it saves a sort of
        every event).
    index : OrderIndex

    Returns
    -------
    pl.DataFrame
        ``ev`` (event number), ``_row``, ``event_id``, ``at``, ``account_id``,
        ``machine_id``, ``ip``, ``action``, ``session_key``, ``app_id``,
        ``lo``, ``hi`` (``hi - lo`` orders exposed; 0 when the event names no
        known order; the order an event names is order number ``lo``:
        ``index.orders``' ``order_id`` where ``idx`` = ``lo``).
        ``account_id``, ``machine_id``, ``ip``, ``action`` (coded by the
        loader), ``session_key`` (see
        :func:`forensics.analysis.sessions.assign_sessions`) and ``app_id``
        are ``Categorical``: join them with text columns of other tables
        through :func:`forensics.case.typed_like` or
        :func:`forensics.case.as_text`.
    """
    # Each step below works on the few columns it needs and yields columns
    # in access-row order: the access table is most of a large case, and
    # joining or sorting it whole copies every column.
    acc = case.access_lean.with_row_index("ev").with_columns(pl.col("ev").cast(pl.Int64))
    if sessions is None:
        session_key = pl.repeat(None, acc.height, dtype=pl.Categorical, eager=True)
    else:
        session_key = assign_sessions(acc.select("at", "account_id", "machine_id", "ip"), sessions)[
            "session_key"
        ]
    rows = case.access_order_rows
    if rows is not None:
        # The loader matched each order_id to its row of orders already.
        order_pos = index.numbers_of_rows(rows)
    else:
        order_pos = _order_numbers(case.access.get_column("order_id"), index)
    # A row exposes what it names: a range is that range (an empty bound is
    # open: from the first order, or up to the event), an order id that
    # order. A bulk row naming neither is of unknown extent
    # (:func:`unknown_extent`): it exposes nothing countable here rather
    # than everything.
    is_range = pl.col("range_start").is_not_null() | pl.col("range_end").is_not_null()
    until = pl.min_horizontal(pl.col("range_end").fill_null(pl.col("at")), pl.col("at"))
    # Exports and API pulls are few: only they are looked up in placement time.
    ranged = (
        acc.lazy().filter(is_range).select("ev", "range_start", until.alias("_until")).collect()
    )
    lo_range = index.placed.search_sorted(
        ranged["range_start"].fill_null(index.placed.min()), side="left"
    ).cast(pl.Int64)
    hi_range = index.placed.search_sorted(ranged["_until"], side="right").cast(pl.Int64)
    order_pos = order_pos.cast(pl.Int64)
    lo = order_pos.fill_null(0).scatter(ranged["ev"], lo_range).alias("lo")
    hi = (
        (order_pos + 1)
        .fill_null(0)
        .scatter(ranged["ev"], pl.select(pl.max_horizontal(lo_range, hi_range)).to_series())
        .alias("hi")
    )
    app = _app_of_event(case, acc)
    # Coded like the access log's ids: most events belong to no app, and a
    # null text cell still takes 16 bytes (Categorical: 4).
    app_id = pl.repeat(None, acc.height, dtype=pl.Categorical, eager=True).alias("app_id")
    if app.height:
        app_id = app_id.scatter(app["ev"], app["app_id"].cast(pl.Categorical))
    return acc.select(
        "ev",
        "_row",
        "event_id",
        "at",
        "account_id",
        "machine_id",
        "ip",
        "action",
        session_key.alias("session_key"),
        app_id,
        lo,
        hi,
    )


def unknown_extent(case: Case) -> pl.DataFrame:
    """Exports and API pulls that name neither an order nor a range.

    What such a row exposed cannot be told from the evidence: it is reported
    (``_row``, ``at``, ``account_id``, ``machine_id``, ``action``), never
    counted as everything nor as nothing-to-see.
    """
    bulk = (
        pl.col("action").is_in(BULK_ACTIONS)
        & pl.col("range_start").is_null()
        & pl.col("range_end").is_null()
    )
    return (
        as_text(case.access_where(bulk))
        .lazy()
        .filter(pl.col("order_id").is_null())
        .select("_row", "at", "account_id", "machine_id", "action")
        .sort("at", "_row")
        .collect()
    )


def _order_numbers(order_id: pl.Series, index: OrderIndex) -> pl.Series:
    """The number (``idx``) of the order each ``order_id`` names; null when
    no order has that id. (A loaded large case brings the match from the
    loader's reference check: :attr:`forensics.case.Case.access_order_rows`.)"""
    orders = index.orders.select("order_id", "idx")
    return (
        order_id.to_frame("order_id")
        .join(orders, on="order_id", how="left", maintain_order="left")
        .get_column("idx")
    )


def _app_of_event(case: Case, acc: pl.DataFrame) -> pl.DataFrame:
    """Which authorized app (apps.csv) an access event belongs to."""
    apps = case.apps.select("app_id", "account_id", "granted_at", "revoked_at")
    if apps.is_empty():
        return pl.DataFrame(schema={"ev": pl.Int64, "app_id": pl.String})
    # Of millions of events only those of an app's account are joined.
    owners = apps.get_column("account_id").drop_nulls().unique().implode()
    return (
        acc.lazy()
        .select("ev", "account_id", "at")
        .filter(pl.col("account_id").is_in(owners))
        .join(typed_like(apps.lazy(), acc, "account_id"), on="account_id")
        .filter(
            (pl.col("granted_at").is_null() | (pl.col("at") >= pl.col("granted_at")))
            & (pl.col("revoked_at").is_null() | (pl.col("at") <= pl.col("revoked_at")))
        )
        .sort("ev", "granted_at", nulls_last=True)
        .unique("ev", keep="first")
        .select("ev", "app_id")
        .collect()
    )


def _since(events: pl.LazyFrame, starts: pl.DataFrame, level: str) -> pl.LazyFrame:
    """Events on a machine at or after a candidate's start time there."""
    if starts.is_empty():
        return pl.LazyFrame(schema={"level": pl.String, "cand": pl.String, "ev": pl.Int64})
    return (
        events.select("ev", "machine_id", "at")
        .join(typed_like(starts.lazy(), events, "machine_id"), on="machine_id")
        .filter(pl.col("at") >= pl.col("since"))
        .select(pl.lit(level).alias("level"), "cand", "ev")
    )


def infection_starts(
    case: Case, offsets: Mapping[str, ClockOffset] | None = None
) -> dict[str, pl.DataFrame]:
    """First time each USB device / process was seen on each machine.

    Returns ``{"device": frame, "process": frame}`` with columns ``cand``,
    ``machine_id``, ``since``, ``_row`` and ``source`` (the row of that first
    sighting: the endpoint log, or for a machine without an agent the camera
    insertion in the same sweep, :func:`forensics.analysis.infection.sweep_insertions`).
    """
    ep = corrected(case.endpoint, (offsets or {}).get("endpoint"), ("at",))
    ep_src = case.source("endpoint")

    def first(f: pl.DataFrame) -> pl.DataFrame:
        return (
            f.sort("at", "_row")
            .group_by("cand", "machine_id", maintain_order=True)
            .agg(pl.col("at").first().alias("since"), pl.col("_row").first())
            .with_columns(pl.col("_row").cast(pl.Int64), pl.lit(ep_src).alias("source"))
        )

    device = first(
        ep.filter(
            (pl.col("kind") == "usb_connect") & pl.col("device_key").is_not_null()
        ).with_columns(pl.col("device_key").alias("cand"))
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
    unseen = sweep_insertions(case, device, offsets)
    if unseen.height:
        device = pl.concat([device, unseen.select(device.columns)])
    return {"device": device, "process": process}


SIMPLE_LEVELS = ("account", "machine", "ip", "session", "app", "event")
"""Levels whose candidate is a column of the event itself."""


def event_key(case: Case) -> pl.Expr:
    """An access event's id as a path of the ``event`` level: its
    ``event_id``, else ``access.csv#ROW``."""
    return pl.coalesce(
        pl.col("event_id"),
        pl.lit(case.source("access") + "#") + pl.col("_row").cast(pl.String),
    )


def _simple_level(case: Case, level: str) -> tuple[pl.Expr, pl.Expr | None]:
    """The candidate of an event at a simple level, and which events have
    one (None: every event)."""
    if level == "event":
        key = event_key(case)
        # An event alone is a path only when it exposed more than one order
        # (an export, a range pull): one order is that order's own business.
        return key, pl.col("hi") - pl.col("lo") > 1
    column = {
        "account": "account_id",
        "machine": "machine_id",
        "ip": "ip",
        "session": "session_key",
        "app": "app_id",
    }[level]
    return pl.col(column), (pl.col("machine_id").is_null() if level == "ip" else None)


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
    simple = [(level, *_simple_level(case, level)) for level in SIMPLE_LEVELS]
    parts = []
    for level, key, cond in simple:
        if level not in levels:
            continue
        f = ev if cond is None else ev.filter(cond)
        if wanted is not None:
            f = f.filter(key.is_in(wanted[level]))
        parts.append(
            f.select(pl.lit(level).alias("level"), key.cast(pl.String).alias("cand"), "ev").filter(
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
    # Each part holds an event at most once per candidate already. Collected
    # one at a time: as one query, polars would cache the events they all
    # start from, every column any part reads (2 GB at 10M orders).
    return pl.concat([part.collect() for part in parts])


CANDIDATE_KEY = "_k"
"""Column of a candidate's number in :func:`level_members` and the counts."""
_K = CANDIDATE_KEY


def level_members(
    case: Case,
    events: pl.DataFrame,
    level: str,
    *,
    starts: Mapping[str, pl.DataFrame] | None = None,
    by_machine: MachineOrder | None = None,
    paths: pl.DataFrame | None = None,
    lazy: bool = False,
) -> tuple[pl.DataFrame | pl.LazyFrame, pl.DataFrame]:
    """The members of one level's candidates, numbered, straight from the events.

    What :func:`candidate_events` gives for one level, in the form
    :func:`forensics.analysis.commonpoint.keyed_counts` counts: no string per
    (candidate, event) pair, and the interval and time of each member
    carried along so that nothing is looked up again.

    Parameters
    ----------
    case, events : as for :func:`candidate_events`
    level : str
        One of :data:`LEVELS`.
    starts : mapping, optional
        :func:`infection_starts` (device and process levels; computed when
        missing).
    by_machine : MachineOrder, optional
        :func:`machine_order` of ``events``, shared by the device and
        process levels (computed when missing).
    paths : pl.DataFrame, optional
        ``level``, ``cand``: only these candidates.
    lazy : bool
        For a level whose candidate is a column of the event, and without
        ``paths``: ``keyed`` as a lazy frame over the events' own columns
        and the numbers (:func:`level_codes`), so that nothing is copied
        until a count asks for it.

    Returns
    -------
    keyed : pl.DataFrame (or pl.LazyFrame with ``lazy``)
        ``_k``, ``ev``, ``lo``, ``hi``, ``at``: one row per (candidate, event).
    cands : pl.DataFrame
        ``_k``, ``level``, ``cand``.
    """
    wanted = None
    if paths is not None:
        wanted = paths.filter(pl.col("level") == level).get_column("cand").unique()
    if lazy and wanted is None and level in SIMPLE_LEVELS:
        codes, cands = level_codes(case, events, level)
        keyed = (
            events.select("ev", "lo", "hi", "at")
            .with_columns(codes)
            .lazy()
            .filter(pl.col(_K).is_not_null() & (pl.col("hi") > pl.col("lo")))
            .select(pl.col(_K).cast(pl.Int64), "ev", "lo", "hi", "at")
        )
        return keyed, cands.with_columns(pl.col(_K).cast(pl.Int64))
    if level in SIMPLE_LEVELS:
        key, cond = _simple_level(case, level)
        f = events.lazy().filter(pl.col("hi") > pl.col("lo"))
        if cond is not None:
            f = f.filter(cond)
        if wanted is not None:
            f = f.filter(key.is_in(wanted.implode()))
        coded = f.select(key.cast(pl.Categorical).alias("_cat"), "ev", "lo", "hi", "at").filter(
            pl.col("_cat").is_not_null()
        )
        code = pl.col("_cat").to_physical().cast(pl.Int64).alias(_K)
        # One plan for both: the strings are numbered once.
        keyed, cands = pl.collect_all(
            [
                coded.select(code, "ev", "lo", "hi", "at"),
                coded.select("_cat")
                .unique()
                .select(
                    code, pl.lit(level).alias("level"), pl.col("_cat").cast(pl.String).alias("cand")
                ),
            ]
        )
        return keyed, cands
    if level not in ("device", "process"):
        raise ValueError(f"unknown level {level!r}; expected one of {', '.join(LEVELS)}")
    start, cands = since_candidates((starts or infection_starts(case))[level], level, wanted)
    if start.is_empty() and by_machine is None:
        # No path at this level: nothing to put in machine order.
        at = pl.Datetime("us", events.schema["at"].time_zone)
        schema = {_K: pl.Int64, "ev": pl.Int64, "lo": pl.Int32, "hi": pl.Int32, "at": at}
        return pl.DataFrame(schema=schema), cands
    if by_machine is None:
        by_machine = machine_order(events)
    return _since_members(by_machine, start), cands


def since_candidates(
    starts: pl.DataFrame, level: str, wanted: pl.Series | None = None
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The candidates of a device or process level numbered (``_k``,
    ``level``, ``cand``, in ``cand`` order) and their starts (``_k``,
    ``machine_id``, ``since``); ``starts`` is that level's frame of
    :func:`infection_starts`, ``wanted`` the candidates to keep (None: all)."""
    start = starts.select("cand", "machine_id", "since")
    if wanted is not None:
        start = start.filter(pl.col("cand").is_in(wanted.implode()))
    start = start.drop_nulls()
    cands = (
        start.select("cand")
        .unique()
        .sort("cand")
        .with_row_index(_K)
        .select(pl.col(_K).cast(pl.Int64), pl.lit(level).alias("level"), "cand")
    )
    return start.join(cands.select(_K, "cand"), on="cand").drop("cand"), cands


def level_codes(
    case: Case, events: pl.DataFrame, level: str, *, first: int = 0
) -> tuple[pl.Series, pl.DataFrame]:
    """Each event's candidate number at a level whose candidate is a column
    of the event (:data:`SIMPLE_LEVELS`), in event order: null where the
    event has none. With ``cands`` (``_k``, ``level``, ``cand``) naming the
    numbers (``first`` and up, ``UInt32``). The leanest form of
    :func:`level_members`: one number per event, the event's interval not
    copied (what :func:`forensics.scale.core.core_counts` counts)."""
    if level not in SIMPLE_LEVELS:
        raise ValueError(f"{level!r} is not a column of the events: {', '.join(SIMPLE_LEVELS)}")
    key, cond = _simple_level(case, level)
    rows = events.lazy()
    if cond is not None:
        # Only the events that have a candidate are numbered (an event
        # level's key is built from strings: never for every event).
        rows = rows.with_row_index("_at").filter(cond)
    cat = rows.select(*([] if cond is None else ["_at"]), key.cast(pl.Categorical).alias("_c"))
    code = (pl.col("_c").to_physical().cast(pl.UInt32) + pl.lit(first, pl.UInt32)).alias(_K)
    codes, cands = pl.collect_all(
        [
            cat.select(*([] if cond is None else ["_at"]), code),
            cat.select("_c")
            .unique()
            .drop_nulls()
            .select(code, pl.lit(level).alias("level"), pl.col("_c").cast(pl.String).alias("cand")),
        ]
    )
    if cond is None:
        return codes.get_column(_K), cands
    full = pl.repeat(None, events.height, dtype=pl.UInt32, eager=True).alias(_K)
    return full.scatter(codes.get_column("_at"), codes.get_column(_K)), cands


@dataclass(frozen=True)
class MachineOrder:
    """The events that exposed orders on a machine, grouped by machine and
    in time order within each (ties in event order): what a device or
    process candidate holds on a machine (every event there from a time
    on) is one slice of ``frame``.
    """

    frame: pl.DataFrame  # at, ev, lo, hi (Int32 where they fit)
    extent: pl.DataFrame  # machine_id, _begin, _end: each machine's rows of frame
    cache: dict = field(default_factory=dict, compare=False, repr=False)
    """What the counts derive from the order once
    (:func:`forensics.analysis.since.order_sorted`)."""


def machine_order(events: pl.DataFrame) -> MachineOrder:
    """:class:`MachineOrder` of the events of :func:`exposure_events`.

    Sorting millions of rows by a string and a time is slow; the machines
    are numbered instead (a few thousand at most), and the rows, usually in
    time order already, are put in machine order by a stable sort on that
    small number (a radix sort). The columns are gathered once, in that
    order, straight from ``events``, as 32-bit numbers where they fit: the
    order is held while the device and process levels are counted.
    """
    keep = (
        (pl.col("hi") > pl.col("lo"))
        & pl.col("machine_id").is_not_null()
        & pl.col("at").is_not_null()
    )
    kept = (
        events.lazy()
        .with_row_index("_r")
        .filter(keep)
        .select("_r", pl.col("machine_id").cast(pl.Categorical).to_physical().alias("_m"))
        .collect()
    )
    rows = kept.get_column("_r").to_numpy()
    codes = kept.get_column("_m").to_numpy()
    del kept
    # The times are gathered at the end, in machine order, and here only
    # when the log is not in time order already (holding them through the
    # sort would add two 64-bit columns to the peak of a large case).
    us = events.get_column("at").dt.cast_time_unit("us")
    if rows.size and not us.is_sorted():
        times = us.to_physical().to_numpy()[rows]
        if np.any(times[1:] < times[:-1]):
            by_time = np.argsort(times, kind="stable")
            rows, codes = rows[by_time], codes[by_time]
            del by_time
        del times
    known = np.sort(pl.Series(codes).unique().to_numpy())
    small = np.uint16 if known.size <= np.iinfo(np.uint16).max else np.uint32
    dense = np.zeros(int(known.max()) + 1 if known.size else 1, dtype=small)
    dense[known] = np.arange(known.size, dtype=small)
    machine = dense[codes]
    del codes, dense
    by_machine = np.argsort(machine, kind="stable")
    counts = np.bincount(machine, minlength=known.size).astype(np.int64)
    del machine
    rows = rows[by_machine]
    del by_machine
    ends = np.cumsum(counts)
    # Each machine's name, from its first row.
    names = events.get_column("machine_id").gather(pl.Series(rows[ends - counts]))
    extent = pl.DataFrame(
        {"machine_id": names, "_begin": ends - counts, "_end": ends},
        schema={"machine_id": pl.String, "_begin": pl.Int64, "_end": pl.Int64},
    )
    zone = events.schema["at"].time_zone
    # numpy gathers a column several times faster than polars here.
    times = us.to_physical().to_numpy()[rows]
    lo = _narrow(events.get_column("lo").to_numpy()[rows])
    hi = _narrow(events.get_column("hi").to_numpy()[rows])
    # Events numbered by row (as exposure_events numbers them) need no look-up.
    ev = _narrow(rows if _is_row_number(events["ev"]) else events["ev"].to_numpy()[rows])
    del rows
    frame = pl.DataFrame(
        {"at": pl.Series(times).cast(pl.Datetime("us", zone)), "ev": ev, "lo": lo, "hi": hi}
    )
    return MachineOrder(frame, extent)


def _narrow(values: np.ndarray) -> np.ndarray:
    """``values`` (integers) as 32-bit integers when they all fit."""
    if values.size == 0 or (
        values.min() >= np.iinfo(np.int32).min and values.max() <= np.iinfo(np.int32).max
    ):
        return values.astype(np.int32, copy=False)
    return values.astype(np.int64, copy=False)


def since_rows(by_machine: MachineOrder, start: pl.DataFrame) -> pl.DataFrame:
    """Where each start's events lie in ``by_machine.frame``: ``_k``,
    ``_begin``, ``_first``, ``_end`` (its machine's rows are ``_begin`` to
    ``_end``; those at or after ``since`` begin at ``_first``), one row per
    start on a machine that has events (``start``: ``_k``, ``machine_id``,
    ``since``)."""
    rows = start.join(by_machine.extent, on="machine_id").select(
        pl.col(_K),
        pl.col("_begin"),
        pl.col("_end"),
        pl.col("since").dt.cast_time_unit("us").dt.convert_time_zone("UTC").to_physical(),
    )
    if rows.is_empty():
        return rows.select(_K, "_begin", pl.col("_begin").alias("_first"), "_end")
    at = by_machine.frame.get_column("at").dt.cast_time_unit("us").to_physical().to_numpy()
    begin = rows["_begin"].to_numpy()
    end = rows["_end"].to_numpy()
    since = rows["since"].to_numpy()
    # First event at or after `since` within each machine's (time-sorted) stretch.
    first = np.empty(rows.height, dtype=np.int64)
    for b in np.unique(begin):
        here = begin == b
        e = int(end[here][0])
        first[here] = b + np.searchsorted(at[b:e], since[here], side="left")
    return rows.select(_K, "_begin", pl.Series("_first", first), "_end")


def _since_members(by_machine: MachineOrder, start: pl.DataFrame) -> pl.DataFrame:
    """``_k``, ``ev``, ``lo``, ``hi``, ``at`` of the events of ``by_machine``
    on each start's machine at or after its ``since`` (``start``: ``_k``,
    ``machine_id``, ``since``)."""
    frame = by_machine.frame
    # The intervals stay as narrow as the order holds them (the counts widen
    # them as they go); the event number joins the hits' (Int64).
    empty = pl.DataFrame(
        schema={_K: pl.Int64, "ev": pl.Int64} | {c: frame.schema[c] for c in ("lo", "hi", "at")}
    )
    rows = since_rows(by_machine, start)
    if rows.is_empty():
        return empty
    first, end = rows["_first"].to_numpy(), rows["_end"].to_numpy()
    lengths = end - first
    total = int(lengths.sum())
    if total == 0:
        return empty
    offsets = np.concatenate(([0], np.cumsum(lengths)[:-1]))
    wide = np.int32 if max(frame.height, total) <= np.iinfo(np.int32).max else np.int64
    positions = np.repeat((first - offsets).astype(wide), lengths)
    positions += np.arange(total, dtype=wide)
    keyed = frame.select(pl.col("ev", "lo", "hi", "at").gather(pl.Series(positions)))
    del positions
    return keyed.select(
        pl.Series(_K, np.repeat(rows[_K].to_numpy(), lengths)),
        pl.col("ev").cast(pl.Int64),
        "lo",
        "hi",
        "at",
    )


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


def _is_row_number(numbers: pl.Series) -> bool:
    """``numbers`` is 0, 1, 2, …"""
    n = numbers.len()
    if n and (numbers.null_count() or numbers[0] != 0 or numbers[-1] != n - 1):
        return False
    return n < 2 or bool((numbers.diff().drop_nulls() == 1).all())


def _numbered_by_row(numbers: pl.Series, ev: pl.Series) -> bool:
    """``numbers`` is 0, 1, 2, … and every entry of ``ev`` is one of them."""
    if not _is_row_number(numbers):
        return False
    n = numbers.len()
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
