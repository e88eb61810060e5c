"""The counts of the device and process levels, straight from the machine order.

A device or process path holds every event on each of its machines from
its first sighting there on: one stretch of :class:`~forensics.analysis.exposure.MachineOrder`
per machine. :func:`since_counts` gives what
:func:`forensics.analysis.commonpoint.keyed_counts` gives for the members
:func:`forensics.analysis.exposure.level_members` lists, without listing
them (a large case has tens of millions of (path, event) pairs at these
levels):

- ``events``, ``first_event``, ``last_event`` from the ends of the stretches;
- ``exposed`` from the machines' single-order events sorted by order
  number once (:func:`order_sorted`): a path's orders on a machine are the
  entries of that machine's sorted run at or after its start, so each path's
  points come out sorted by merging a few sorted runs rather than sorting
  them; ranges (exports, pulls) are few and taken as they are. The
  sweep is the one every route counts with
  (:func:`forensics.scale.sweep.exposed_sweep`);
- hits, coverage and what was ruled out from the members among the events
  that exposed a complained order, which are few.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from ..scale.sweep import exposed_sweep
from .exposure import CANDIDATE_KEY, MachineOrder, since_candidates, since_rows

__all__ = ["since_counts", "order_points", "order_sorted", "BITMAP_LIMIT"]

_K = CANDIDATE_KEY


def _kept(by_machine: MachineOrder, name: str, limit: int, build) -> dict[str, np.ndarray]:
    """``build(by_machine, limit)``, kept on ``by_machine`` for the last
    ``limit`` asked (the device and process levels share it)."""
    cache = by_machine.cache
    if cache.get(name, (None,))[0] != limit:
        cache[name] = (limit, build(by_machine, limit))
    return cache[name][1]


def order_sorted(by_machine: MachineOrder, limit: int) -> dict[str, np.ndarray]:
    """The single-order events of each machine sorted by order number, with
    their rows of ``by_machine.frame``; and the ranges, by machine.

    What counts as a single order or a range is decided as
    :func:`forensics.analysis.commonpoint.keyed_counts` decides it: by the
    interval cut at ``limit`` (one order, more, or none). Kept on
    ``by_machine`` for ``limit``.
    """
    return _kept(by_machine, "order_sorted", limit, _order_sorted)


def _order_sorted(by_machine: MachineOrder, limit: int) -> dict[str, np.ndarray]:
    frame, extent = by_machine.frame, by_machine.extent
    lo_all = frame.get_column("lo").to_numpy()
    hi_all = frame.get_column("hi").to_numpy()
    small = np.int32 if max(limit, frame.height) < np.iinfo(np.int32).max else np.int64
    order = np.empty(frame.height, dtype=small)
    row = np.empty(frame.height, dtype=small)
    runs = np.zeros(extent.height + 1, dtype=np.int64)
    ranges: list[tuple] = []
    # A machine at a time: its rows are one stretch of the frame, and the
    # temporaries stay the size of one machine's events.
    bounds = zip(extent["_begin"].to_list(), extent["_end"].to_list(), strict=True)
    for m, (b, e) in enumerate(bounds):
        lo = lo_all[b:e].astype(np.int64)
        width = np.minimum(hi_all[b:e], limit) - lo
        single = np.flatnonzero(width == 1)
        shift = int(e - b).bit_length()
        n, at = single.size, runs[m]
        if int(limit).bit_length() + shift <= 62:
            # Order and row packed in one number: sorting plain numbers is
            # several times faster than sorting by them.
            packed = pl.Series((lo[single] << shift) | single).sort().to_numpy()
            order[at : at + n] = packed >> shift
            row[at : at + n] = (packed & ((1 << shift) - 1)) + b
        else:
            by = np.argsort(lo[single], kind="stable")
            order[at : at + n] = lo[single][by]
            row[at : at + n] = single[by] + b
        runs[m + 1] = at + n
        ranged = np.flatnonzero(width > 1)
        if ranged.size:
            ranges.append(
                (ranged + b, np.full(ranged.size, m), lo[ranged], lo[ranged] + width[ranged])
            )
    parts = (
        [np.concatenate(c) for c in zip(*ranges, strict=True)]
        if ranges
        else [np.empty(0, np.int64)] * 4
    )
    out = {
        "order": order[: runs[-1]],
        "row": row[: runs[-1]],
        "runs": runs,
        "range_row": parts[0],
        "range_machine": parts[1],
        "range_lo": parts[2],
        "range_hi": parts[3],
    }
    return out


def _exposed_merged(
    rows: pl.DataFrame, by_machine: MachineOrder, *, limit: int, top: int, budget: int = 10_000_000
) -> pl.DataFrame:
    """:func:`_exposed` for a universe too large for a bitmap: each path's
    orders merged from its machines' sorted runs (:func:`order_sorted`) and
    swept (:func:`forensics.scale.sweep.exposed_sweep`)."""
    index = order_sorted(by_machine, limit)
    order, row, runs = index["order"], index["row"], index["runs"]
    machine_of = np.searchsorted(
        by_machine.extent["_end"].to_numpy(), rows["_begin"].to_numpy(), side="right"
    )
    span = np.int64(limit) + 1
    exposed = np.zeros(int(top) + 1, dtype=np.int64)
    points, starts, ends, held = [], [], [], 0

    def sweep() -> None:
        # A batch of paths at a time: every path's count is its own, and
        # the points of a level's paths can be many times its events.
        if points or starts:
            exposed[:] += exposed_sweep(
                np.concatenate(points) if points else np.empty(0, np.int64),
                np.concatenate(starts) if starts else np.empty(0, np.int64),
                np.concatenate(ends) if ends else np.empty(0, np.int64),
                span,
                exposed.size,
            )
        points.clear(), starts.clear(), ends.clear()

    keys = rows.get_column(_K).to_numpy()
    firsts = rows.get_column("_first").to_numpy()
    by_k = np.argsort(keys, kind="stable")
    bounds = np.flatnonzero(np.diff(keys[by_k])) + 1
    # The ranges are in frame order: by machine, then row.
    r_machine, r_row = index["range_machine"], index["range_row"]
    r_runs = np.searchsorted(r_machine, np.arange(runs.size), side="left")
    for group in np.split(by_k, bounds) if by_k.size else []:
        k = np.int64(keys[group[0]])
        parts = []
        for i in group:
            m, first = machine_of[i], firsts[i]
            a, b = runs[m], runs[m + 1]
            parts.append(order[a:b][row[a:b] >= first])
            ra, rb = r_runs[m], r_runs[m + 1]
            ra += np.searchsorted(r_row[ra:rb], first, side="left")
            if rb > ra:
                starts.append(k * span + index["range_lo"][ra:rb])
                ends.append(k * span + index["range_hi"][ra:rb])
        mine = parts[0] if len(parts) == 1 else np.sort(np.concatenate(parts), kind="stable")
        points.append(k * span + mine)
        held += mine.size
        if held >= budget:
            sweep()
            held = 0
    sweep()
    found = np.flatnonzero(exposed)
    return pl.DataFrame({_K: found.astype(np.int64), "exposed": exposed[found]})


BITMAP_LIMIT = 1 << 28
"""Universes up to this many orders are counted on a bitmap (one byte an order)."""


def order_points(by_machine: MachineOrder, limit: int) -> dict[str, np.ndarray]:
    """Each row of ``by_machine.frame`` as a point: its order where it
    exposed exactly one (``limit`` elsewhere); and the ranges, by machine.

    What counts as a single order or a range is decided as
    :func:`forensics.analysis.commonpoint.keyed_counts` decides it: by the
    interval cut at ``limit`` (one order, more, or none). Kept on
    ``by_machine`` for ``limit``.
    """
    return _kept(by_machine, "points", limit, _order_points)


def _order_points(by_machine: MachineOrder, limit: int) -> dict[str, np.ndarray]:
    frame = by_machine.frame
    lo_all = frame.get_column("lo").to_numpy()
    hi_all = frame.get_column("hi").to_numpy()
    point = np.empty(frame.height, dtype=np.int32 if limit < 2**31 else np.int64)
    ranges: list[tuple] = []
    step = 1 << 22  # a few million rows at a time: small temporaries
    for a in range(0, frame.height, step):
        lo = lo_all[a : a + step].astype(np.int64)
        width = np.minimum(hi_all[a : a + step], limit) - lo
        point[a : a + step] = np.where(width == 1, lo, limit)
        ranged = np.flatnonzero(width > 1)
        ranges.append((ranged + a, lo[ranged], lo[ranged] + width[ranged]))
    row, lo, hi = (
        (np.concatenate(c) for c in zip(*ranges, strict=True))
        if ranges
        else (np.empty(0, np.int64),) * 3
    )
    ends = by_machine.extent["_end"].to_numpy()
    out = {
        "point": point,
        "range_row": row,
        "range_machine": np.searchsorted(ends, row, side="right"),
        "range_lo": lo,
        "range_hi": hi,
    }
    return out


def _exposed(
    rows: pl.DataFrame, by_machine: MachineOrder, *, limit: int, top: int, bitmap: bool = True
) -> pl.DataFrame:
    """``_k``, ``exposed`` of the stretches ``rows`` (:func:`since_rows`), as
    :func:`forensics.analysis.commonpoint._exposed` counts the members they hold.

    A path at a time on a bitmap of the orders: its single orders are
    marked, stretch by stretch, and counted; its ranges are merged into
    disjoint blocks (a running maximum), each adding its length less the
    single orders already marked inside it, as
    :func:`forensics.scale.sweep.exposed_sweep` counts them.
    """
    if not bitmap or limit > BITMAP_LIMIT:
        return _exposed_merged(rows, by_machine, limit=limit, top=top)
    index = order_points(by_machine, limit)
    point = index["point"]
    r_machine, r_row = index["range_machine"], index["range_row"]
    ends = by_machine.extent["_end"].to_numpy()
    r_runs = np.searchsorted(r_machine, np.arange(ends.size + 1), side="left")
    machine_of = np.searchsorted(ends, rows["_begin"].to_numpy(), side="right")
    keys = rows.get_column(_K).to_numpy()
    firsts = rows.get_column("_first").to_numpy()
    lasts = rows.get_column("_end").to_numpy()
    seen = np.zeros(limit + 1, dtype=bool)  # the last slot takes the non-points
    exposed = np.zeros(int(top) + 1, dtype=np.int64)
    by_k = np.argsort(keys, kind="stable")
    for group in np.split(by_k, np.flatnonzero(np.diff(keys[by_k])) + 1) if by_k.size else []:
        starts, stops, marked = [], [], 0
        for i in group:
            seen[point[firsts[i] : lasts[i]]] = True
            marked += lasts[i] - firsts[i]
            m = machine_of[i]
            ra, rb = r_runs[m], r_runs[m + 1]
            ra += np.searchsorted(r_row[ra:rb], firsts[i], side="left")
            if rb > ra:
                starts.append(index["range_lo"][ra:rb])
                stops.append(index["range_hi"][ra:rb])
        seen[limit] = False
        count = int(np.count_nonzero(seen))
        if starts:
            start, stop = np.concatenate(starts), np.concatenate(stops)
            by_start = np.argsort(start, kind="stable")
            start, stop = start[by_start], stop[by_start]
            reach = np.maximum.accumulate(stop)
            block = np.flatnonzero(np.concatenate(([True], start[1:] > reach[:-1])))
            for a, b in zip(start[block], np.maximum.reduceat(stop, block), strict=True):
                count += int(b - a) - int(np.count_nonzero(seen[a:b]))
        exposed[keys[group[0]]] = count
        if marked < limit // 16:
            for i in group:
                seen[point[firsts[i] : lasts[i]]] = False
        else:
            seen[:] = False
    found = np.flatnonzero(exposed)
    return pl.DataFrame({_K: found.astype(np.int64), "exposed": exposed[found]})


def _span(rows: pl.DataFrame, by_machine: MachineOrder) -> pl.DataFrame:
    """``_k``, ``first_event``, ``last_event``, ``events`` of the stretches
    (a path without events is left out)."""
    at = by_machine.frame.get_column("at")
    held = rows.filter(pl.col("_end") > pl.col("_first"))
    return (
        held.select(
            _K,
            at.gather(held["_first"]).alias("first_event"),
            at.gather(held["_end"] - 1).alias("last_event"),
            (pl.col("_end") - pl.col("_first")).alias("events"),
        )
        .group_by(_K)
        .agg(
            pl.col("first_event").min(),
            pl.col("last_event").max(),
            pl.col("events").sum().cast(pl.UInt32),
        )
    )


def _hit_members(rows: pl.DataFrame, by_machine: MachineOrder, hits: pl.DataFrame) -> pl.DataFrame:
    """``_k``, ``ev``: the members among the events of ``hits``."""
    frame = by_machine.frame
    wanted = hits.get_column("ev").unique()
    wanted = (
        wanted.filter(wanted.is_between(0, 2**31 - 1)) if frame["ev"].dtype == pl.Int32 else wanted
    )
    found = (
        frame.lazy()
        .select("ev")
        .with_row_index("_q")
        .filter(pl.col("ev").is_in(wanted.cast(frame["ev"].dtype).implode()))
        .select("_q", pl.col("ev").cast(pl.Int64))
        .collect()
    )
    ends = by_machine.extent["_end"].to_numpy()
    found = found.with_columns(
        pl.Series("_m", np.searchsorted(ends, found["_q"].to_numpy(), side="right")),
        pl.col("_q").cast(pl.Int64),
    )
    machine = rows.with_columns(
        pl.Series("_m", np.searchsorted(ends, rows["_begin"].to_numpy(), side="right"))
    )
    return machine.join(found, on="_m").filter(pl.col("_q") >= pl.col("_first")).select(_K, "ev")


def since_counts(
    by_machine: MachineOrder,
    starts: pl.DataFrame,
    level: str,
    events: pl.DataFrame,
    hits: pl.DataFrame,
    *,
    counted_complaints: pl.DataFrame,
    universe: int,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The counts of a device or process level and its members among the hits.

    ``starts``: that level's frame of :func:`forensics.analysis.exposure.infection_starts`;
    ``by_machine``: :func:`forensics.analysis.exposure.machine_order` of ``events``.

    Returns the table :func:`forensics.analysis.commonpoint.keyed_counts` gives for
    :func:`forensics.analysis.exposure.level_members` of the level, and ``level``,
    ``cand``, ``ev`` of the members that are events of ``hits``.
    """
    from .commonpoint import keyed_counts

    start, cands = since_candidates(starts, level)
    rows = since_rows(by_machine, start)
    top = cands.get_column(_K).max() if cands.height else 0
    keyed = _hit_members(rows, by_machine, hits)
    table = keyed_counts(
        keyed,
        cands,
        events,
        hits,
        counted_complaints=counted_complaints,
        universe=universe,
        exposed=_exposed(rows, by_machine, limit=universe, top=top or 0),
        span=_span(rows, by_machine),
    )
    members = keyed.join(cands, on=_K).select("level", "cand", "ev")
    return table, members
