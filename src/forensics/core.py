"""The common-point core on its own: the heavy step, for benchmarks and scale.

:func:`core_counts` is exactly what :func:`forensics.investigate` computes for
every candidate path at the account, machine and IP levels (the levels every
case has), without the statistics, classification or people on top:

``exposed``
    distinct orders the path exposed, among the orders placed up to the last
    complaint deadline (an export or API pull exposes the orders placed in
    ``[range_start, min(range_end, at)]``; a view, label print or search with
    an order id exposes that order; ``range_start`` empty = from the first
    order; ``range_end`` empty = up to the event);
``hits``
    distinct complained orders it exposed at or before the complaint's
    deadline (``min(contacted_at, received_at)``) through an action that can
    show every field the complaint quoted (a label print shows no amount). A
    complaint names its order, or else every order of its buyer placed
    before the complaint was received.

A reference implementation that expands ranges into (event, order) rows
must give the same numbers (see ``benchmarks/``).
"""

from __future__ import annotations

import polars as pl

from .case import Case
from .commonpoint import complaint_hits
from .complaints import complaint_orders, link_complaints
from .exposure import candidate_events, exposure_events, order_index, union_size
from .sessions import sessionize

__all__ = ["CORE_LEVELS", "core_counts"]

CORE_LEVELS = ("account", "machine", "ip")


def core_counts(case: Case, *, levels: tuple[str, ...] = CORE_LEVELS) -> pl.DataFrame:
    """``level``, ``cand``, ``exposed``, ``hits`` for every path at ``levels``,
    sorted by level and candidate."""
    index = order_index(case)
    # Sessions only matter to the session level; skipping them saves a sort
    # and an as-of join of every access event.
    sessions = sessionize(case) if "session" in levels else None
    events = exposure_events(case, sessions, index)
    linked = link_complaints(case)
    hits = complaint_hits(events, complaint_orders(case, linked), index)
    last = linked["deadline"].max()
    universe = index.count_placed_until(last) if last is not None else index.size
    members = candidate_events(case, events, levels=levels)
    exposed = union_size(members, events, limit=universe)
    in_time = (
        hits.filter(pl.col("in_time") & pl.col("fields_ok"))
        .join(members, on="ev")
        .group_by("level", "cand")
        .agg(pl.col("idx").n_unique().alias("hits"))
    )
    return (
        exposed.join(in_time, on=["level", "cand"], how="left")
        .with_columns(pl.col("hits").fill_null(0).cast(pl.Int64), pl.col("exposed").cast(pl.Int64))
        .sort("level", "cand")
    )
