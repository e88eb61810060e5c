"""Routine streams of bulk access: which exports and pulls opened nothing new.

An ERP pulls every thirty minutes for months; the owner exports yesterday's
orders every morning. Each such event exposes many orders, and the one just
before a complaint spike looks, taken alone, like a path that opened right
then. It is not: the stream it belongs to opened long ago. The onset test
(:func:`forensics.analysis.commonpoint.onset`) asks when a path *opened*, so an event
of a routine stream is dated by its stream's start, and only the start of a
stream or a change in its behaviour counts as an opening.

A stream is every event of one account with one action that exposed more
than one order. An event is *routine* when its stream had at least
``min_prior`` earlier events spread over at least ``min_days`` days, and the
event keeps to the stream's habits: it exposes at most ``width_factor``
times the most orders any earlier event of the stream did, at an hour of
the day (local) no more than an hour outside the hours the stream used
before. A first export, a backfill or a pull at a new hour is not routine.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import polars as pl

from ..case import Case
from .exposure import event_key

__all__ = ["StreamSettings", "stream_openings"]


@dataclass(frozen=True)
class StreamSettings:
    """When a bulk event counts as routine (documented defaults)."""

    min_prior: int = 5
    """Earlier events the stream must have had."""
    min_days: float = 7.0
    """How long before the event the stream must have started."""
    width_factor: float = 1.5
    """An event exposing more than this times the stream's largest earlier
    one changes its behaviour (a backfill, a month instead of a day)."""
    hour_slack: int = 1
    """Hours outside the stream's earlier hours of the day still routine."""


def stream_openings(
    case: Case, events: pl.DataFrame, *, settings: StreamSettings | None = None
) -> pl.DataFrame:
    """When each routine bulk event's path really opened.

    Returns ``level`` (``"event"``), ``id`` (the event's candidate id at the
    event level) and ``opened`` (UTC: its stream's first event), one row per
    routine event only; every other event opened when it happened.
    """
    st = settings or StreamSettings()
    hour = pl.col("at").dt.convert_time_zone(case.timezone()).dt.hour().cast(pl.Int32)
    stream = ["account_id", "action"]
    bulk = (
        events.lazy()
        .filter((pl.col("hi") - pl.col("lo") > 1) & pl.col("at").is_not_null())
        .select(
            event_key(case).cast(pl.String).alias("id"),
            "at",
            "account_id",
            "action",
            (pl.col("hi") - pl.col("lo")).alias("_width"),
            hour.alias("_hour"),
            "ev",
        )
        .sort("at", "ev")
        .with_columns(
            pl.int_range(pl.len()).over(stream).alias("_prior"),
            pl.col("at").min().over(stream).alias("opened"),
            pl.col("_width").cum_max().shift(1).over(stream).alias("_max_width"),
            pl.col("_hour").cum_min().shift(1).over(stream).alias("_min_hour"),
            pl.col("_hour").cum_max().shift(1).over(stream).alias("_max_hour"),
        )
    )
    routine = (
        (pl.col("_prior") >= st.min_prior)
        & (pl.col("at") - pl.col("opened") >= timedelta(days=st.min_days))
        & (pl.col("_width") <= pl.col("_max_width") * st.width_factor)
        & (pl.col("_hour") >= pl.col("_min_hour") - st.hour_slack)
        & (pl.col("_hour") <= pl.col("_max_hour") + st.hour_slack)
    )
    return (
        bulk.filter(routine.fill_null(False))
        .select(pl.lit("event").alias("level"), "id", "opened")
        .unique("id", keep="first", maintain_order=True)
        .collect()
    )
