"""A path's share of the orders a complaint spike's buyers could have had.

The onset route (:func:`forensics.analysis.commonpoint.onset`) makes a path
significant because a burst of complaints about its orders began just after
it opened. Timing alone cannot tell a path from a general rise in
complaints, so the spike's complaints must also concentrate on the path's
orders beyond the share chance would give it: a path that exposed a share
``s`` of the orders explains about ``s`` of complaints about random orders.

That share is taken among the orders the spike's complainers could have
had, not among every order of the case: a buyer who complained in the
spike was called about an order placed before the call. An app that pulled
most of the orders that existed when the leak began, in a case whose orders
run on for months after it, has exposed a far smaller share of *all*
orders than of those; measured against all of them, an app that explains
four fifths of the spike looks like chance (and one that pulled every order
placed after it too looks like it explains everything).

Numerator and denominator are restricted alike: the population is the
orders placed up to the spike's last deadline (the scam call, else the
complaint), and the path's exposed orders are those among them it exposed
by then (an exposure after the last call explains no complaint of the
spike).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

import polars as pl

from ..case import Case
from .clock import ClockOffset
from .commonpoint import _exposed
from .exposure import CANDIDATE_KEY, OrderIndex, candidate_events, event_columns

__all__ = ["spike_end", "spike_shares"]

_K = CANDIDATE_KEY


def spike_end(complaints: pl.DataFrame, spike: pl.DataFrame) -> datetime | None:
    """The last deadline (``deadline``: the scam call, else the complaint)
    of the complaints of ``complaints`` whose ``complaint_id`` is in
    ``spike``; None without any."""
    inside = complaints.join(spike.select("complaint_id"), on="complaint_id", how="semi")
    return inside["deadline"].max() if inside.height else None


def spike_shares(
    case: Case,
    events: pl.DataFrame,
    paths: pl.DataFrame,
    *,
    until: datetime,
    index: OrderIndex,
    offsets: Mapping[str, ClockOffset] | None = None,
    hits: pl.DataFrame | None = None,
    complained: pl.Series | None = None,
) -> pl.DataFrame:
    """Each path's share of the orders placed up to ``until``.

    Parameters
    ----------
    case, events, offsets : as for :func:`forensics.analysis.exposure.candidate_events`
    paths : ``level``, ``id`` of the paths to measure
    until : the spike's last deadline (:func:`spike_end`)
    index : the case's orders numbered by placement
    hits, complained : :func:`forensics.analysis.commonpoint.complaint_hits`
        and the numbers (``idx``) of every complained order; with both,
        the path's lift among the same orders is added

    Returns
    -------
    pl.DataFrame
        ``level``, ``id``, ``exposed_before`` (distinct orders placed up to
        ``until`` the path exposed by then), ``population`` (orders placed
        up to ``until``) and ``share`` (their ratio, 0 for an empty
        population), one row per path of ``paths``; with ``hits`` and
        ``complained``, ``lift_before``: how much more the complained
        orders among those the path exposed by ``until`` (in time, every
        quoted field shown) concentrate than the complained orders among
        the population (null for a path that exposed none).
    """
    population = index.count_placed_until(until)
    numbered = (
        paths.select("level", pl.col("id").alias("cand"))
        .unique(maintain_order=True)
        .with_row_index(_K)
        .with_columns(pl.col(_K).cast(pl.Int64))
    )
    members = candidate_events(case, events, offsets, paths=numbered.select("level", "cand"))
    keyed = members.join(numbered, on=["level", "cand"]).select(_K, "ev")
    keyed = pl.concat(
        [keyed, event_columns(events, keyed.get_column("ev"), "lo", "hi", "at")],
        how="horizontal",
    ).filter(pl.col("at") <= until)
    exposed = (
        _exposed(keyed, limit=population, top=max(numbered.height - 1, 0))
        if population and keyed.height
        else pl.DataFrame(schema={_K: pl.Int64, "exposed": pl.Int64})
    )
    out = (
        numbered.join(exposed, on=_K, how="left")
        .select(
            _K,
            "level",
            pl.col("cand").alias("id"),
            pl.col("exposed").fill_null(0).cast(pl.Int64).alias("exposed_before"),
            pl.lit(population, dtype=pl.Int64).alias("population"),
        )
        .with_columns(
            (pl.col("exposed_before") / max(population, 1)).clip(upper_bound=1.0).alias("share")
        )
    )
    if hits is None or complained is None:
        return out.drop(_K)
    # The same orders on both sides: complained orders placed by ``until``,
    # those the path exposed by then against all of them.
    base = complained.filter(complained < population).n_unique() / max(population, 1)
    found = (
        hits.lazy()
        .filter(
            pl.col("in_time")
            & pl.col("fields_ok")
            & (pl.col("idx") < population)
            & (pl.col("at") <= until)
        )
        .select("ev", "idx")
        .join(keyed.lazy().select(_K, "ev"), on="ev")
        .group_by(_K)
        .agg(pl.col("idx").n_unique().alias("_hits"))
        .collect()
    )
    precision = pl.col("_hits").fill_null(0) / pl.col("exposed_before")
    return (
        out.join(found, on=_K, how="left")
        .with_columns(
            pl.when(pl.col("exposed_before") > 0)
            .then(precision / base if base else None)
            .alias("lift_before")
        )
        .drop(_K, "_hits")
    )
