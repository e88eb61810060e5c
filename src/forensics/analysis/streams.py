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

Some routines are too sparse for that test: a clerk exports the last
half-month on the 1st and the 15th, three or four times in a case. Such a
*schedule* shows in its ranges instead (:func:`scheduled_events`): each
export starts about where the one before ended, at a steady interval of a
day or more and about the same hour, for at least two weeks.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import polars as pl

from ..case import Case
from .exposure import event_key

__all__ = ["StreamSettings", "ScheduleSettings", "stream_openings", "scheduled_events"]


_STREAM = ["account_id", "action"]
"""A stream: one account's events of one action."""


def _bulk(case: Case, events: pl.DataFrame) -> pl.LazyFrame:
    """The events that exposed more than one order, in time order, with
    the hour of the day (local) they happened at (``_hour``)."""
    hour = pl.col("at").dt.convert_time_zone(case.timezone()).dt.hour().cast(pl.Int32)
    return (
        events.lazy()
        .filter((pl.col("hi") - pl.col("lo") > 1) & pl.col("at").is_not_null())
        .with_columns(hour.alias("_hour"))
        .sort("at", "ev")
    )


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
    bulk = (
        _bulk(case, events)
        .select(
            event_key(case).cast(pl.String).alias("id"),
            "at",
            "account_id",
            "action",
            (pl.col("hi") - pl.col("lo")).alias("_width"),
            "_hour",
            "ev",
        )
        .with_columns(
            pl.int_range(pl.len()).over(_STREAM).alias("_prior"),
            pl.col("at").min().over(_STREAM).alias("opened"),
            pl.col("_width").cum_max().shift(1).over(_STREAM).alias("_max_width"),
            pl.col("_hour").cum_min().shift(1).over(_STREAM).alias("_min_hour"),
            pl.col("_hour").cum_max().shift(1).over(_STREAM).alias("_max_hour"),
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


@dataclass(frozen=True)
class ScheduleSettings:
    """When sparse bulk events of one account form a schedule (documented defaults)."""

    min_events: int = 3
    """Events in a run (two intervals at least)."""
    min_span_days: float = 14.0
    """From the run's first event to its last."""
    min_interval_hours: float = 20.0
    """A schedule runs daily or less often: minutes apart is one sitting."""
    abut: float = 0.25
    """The gap or overlap between one event's orders and the next one's, at
    most this share of the larger of the two (a day's orders at either edge
    of a half-month)."""
    interval_ratio: float = 2.0
    """The longest interval of a run at most this times its shortest."""
    hour_spread: int = 2
    """Hours of the day (local) between the run's earliest and latest event."""


def scheduled_events(
    case: Case, events: pl.DataFrame, *, settings: ScheduleSettings | None = None
) -> pl.Series:
    """The ``ev`` numbers of bulk events that belong to a schedule.

    Per account and action, events exposing more than one order, in time
    order: consecutive events chain when the second starts near where the
    first ended (:attr:`ScheduleSettings.abut`) and follows it by a day or
    so at least; a chain is a schedule when it has
    :attr:`~ScheduleSettings.min_events`, spans two weeks, and keeps a
    steady interval and hour. A one-off export, however large, never is.
    """
    st = settings or ScheduleSettings()
    bulk = (
        _bulk(case, events)
        .filter(pl.col("account_id").is_not_null())
        .select("ev", "at", "account_id", "action", "lo", "hi", "_hour")
        .with_columns(
            pl.col("hi").shift(1).over(_STREAM).alias("_prev_hi"),
            (pl.col("hi") - pl.col("lo")).shift(1).over(_STREAM).alias("_prev_w"),
            pl.col("at").shift(1).over(_STREAM).alias("_prev_at"),
        )
        .with_columns(
            (
                (
                    (pl.col("lo") - pl.col("_prev_hi")).abs()
                    <= st.abut * pl.max_horizontal(pl.col("hi") - pl.col("lo"), "_prev_w")
                )
                & (pl.col("at") - pl.col("_prev_at") >= timedelta(hours=st.min_interval_hours))
            )
            .fill_null(False)
            .alias("_chained")
        )
        # A run starts at every event that does not chain to the one before.
        .with_columns((~pl.col("_chained")).cum_sum().over(_STREAM).alias("_run"))
        .with_columns(
            pl.when(pl.col("_chained")).then(pl.col("at") - pl.col("_prev_at")).alias("_gap")
        )
    )
    run = [*_STREAM, "_run"]
    good = (
        bulk.group_by(run)
        .agg(
            pl.len().alias("n"),
            (pl.col("at").max() - pl.col("at").min()).alias("span"),
            pl.col("_gap").min().alias("gmin"),
            pl.col("_gap").max().alias("gmax"),
            (pl.col("_hour").max() - pl.col("_hour").min()).alias("hours"),
        )
        .filter(
            (pl.col("n") >= st.min_events)
            & (pl.col("span") >= timedelta(days=st.min_span_days))
            & (pl.col("gmax") <= pl.col("gmin") * st.interval_ratio)
            & (pl.col("hours") <= st.hour_spread)
        )
        .select(run)
    )
    return bulk.join(good, on=run, how="semi").select("ev").collect().get_column("ev")
