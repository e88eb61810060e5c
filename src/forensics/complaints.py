"""Buyer complaints: which orders they point at, and whether they form a spike.

A complaint names its order, or only the buyer. In the second case every
order of that buyer placed before the complaint is a *candidate* order: a
path explains the complaint if it exposed any one of them in time. The
scammer cannot have called before the path saw the order, so a complaint's
``deadline`` is ``contacted_at`` when the buyer gave it, else ``received_at``.

Shops receive scam complaints all the time (buyers' data leaks elsewhere
too). :func:`complaint_rate` estimates that background as a Poisson rate
from the quiet days and flags the days whose count the background cannot
explain (one-sided Poisson test, ``alpha`` per day).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import polars as pl
from scipy import stats

from .case import Case
from .schema import QUOTED_FIELDS

__all__ = [
    "link_complaints",
    "complaint_orders",
    "ComplaintRate",
    "complaint_rate",
]


def link_complaints(case: Case) -> pl.DataFrame:
    """Complaints with their deadline, parsed quoted fields and repeat flag.

    Returns
    -------
    pl.DataFrame
        ``complaint_id``, ``_row``, ``buyer_id``, ``order_id``, ``received_at``,
        ``contacted_at``, ``deadline``, ``category``, ``quoted`` (list of
        known field names), ``repeat`` (the buyer complained before, about
        the same order or without naming one).
    """
    c = case.complaints
    known = list(QUOTED_FIELDS)
    quoted = (
        pl.col("quoted_fields")
        .fill_null("")
        .str.to_lowercase()
        .str.replace_all(r"[,\s|/]+", ";")
        .str.split(";")
        .list.eval(pl.element().filter(pl.element().is_in(known)))
        .list.unique()
        .list.sort()
    )
    # A buyer may give a buyer id only through the order.
    buyer_of_order = case.orders.select("order_id", pl.col("buyer_id").alias("_ob"))
    out = (
        c.join(buyer_of_order, on="order_id", how="left")
        .with_columns(
            pl.coalesce("buyer_id", "_ob").alias("buyer_id"),
            pl.min_horizontal("contacted_at", "received_at").alias("deadline"),
            quoted.alias("quoted"),
        )
        .drop("_ob")
        .sort("received_at", "_row")
        .with_columns(
            (
                pl.col("buyer_id").is_not_null()
                & (pl.int_range(pl.len()).over("buyer_id", pl.col("order_id").fill_null("")) > 0)
            ).alias("repeat")
        )
    )
    return out.select(
        "complaint_id",
        "_row",
        "buyer_id",
        "order_id",
        "received_at",
        "contacted_at",
        "deadline",
        "category",
        "quoted",
        "repeat",
    )


def complaint_orders(case: Case, linked: pl.DataFrame) -> pl.DataFrame:
    """Complaint to candidate orders.

    Returns
    -------
    pl.DataFrame
        ``complaint_id``, ``order_id``, ``explicit`` (the buyer named this
        order), ``deadline``, ``quoted``. A complaint naming an order missing
        from orders.csv falls back to the buyer's orders.
    """
    orders = case.orders.select("order_id", "buyer_id", "placed_at")
    named = linked.filter(pl.col("order_id").is_not_null()).join(
        orders.select("order_id"), on="order_id", how="semi"
    )
    explicit = named.select(
        "complaint_id", "order_id", pl.lit(True).alias("explicit"), "deadline", "quoted"
    )
    by_buyer = (
        linked.join(named.select("complaint_id"), on="complaint_id", how="anti")
        .filter(pl.col("buyer_id").is_not_null())
        .select("complaint_id", "buyer_id", "received_at", "deadline", "quoted")
        .join(orders, on="buyer_id")
        .filter(pl.col("placed_at") <= pl.col("received_at"))
        .select("complaint_id", "order_id", pl.lit(False).alias("explicit"), "deadline", "quoted")
    )
    return pl.concat([explicit, by_buyer]).unique(["complaint_id", "order_id"], maintain_order=True)


@dataclass(frozen=True)
class ComplaintRate:
    """Daily complaint counts against the background rate."""

    daily: pl.DataFrame  # day, complaints, expected, p_value, spike
    background_per_day: float
    spike_start: date | None
    spike_end: date | None
    spike_complaints: int
    excess: float  # complaints above background on spike days
    p_value: float  # of the whole spike under the background rate

    @property
    def has_spike(self) -> bool:
        return self.spike_start is not None


def complaint_rate(
    case: Case,
    linked: pl.DataFrame,
    *,
    alpha: float = 1e-3,
    min_background: float = 0.1,
) -> ComplaintRate:
    """Separate a complaint spike from the background rate.

    Parameters
    ----------
    alpha : float
        Per-day significance of a spike day under the Poisson background.
    min_background : float
        Floor of the background rate (complaints per day) when the quiet
        days show none, so a handful of complaints is not a "spike".
    """
    tz = case.timezone()
    first_order = case.orders.select(
        pl.col("placed_at").min().dt.convert_time_zone(tz).dt.date()
    ).item()
    days = linked.select(pl.col("received_at").dt.convert_time_zone(tz).dt.date().alias("day"))
    if days.is_empty():
        empty = pl.DataFrame(
            schema={
                "day": pl.Date,
                "complaints": pl.Int64,
                "expected": pl.Float64,
                "p_value": pl.Float64,
                "spike": pl.Boolean,
            }
        )
        return ComplaintRate(empty, 0.0, None, None, 0, 0.0, 1.0)
    start = days["day"].min()
    if first_order is not None:
        start = min(start, first_order)
    end = days["day"].max()
    calendar = pl.DataFrame({"day": pl.date_range(start, end, "1d", eager=True)})
    counts = calendar.join(
        days.group_by("day").len("complaints"), on="day", how="left"
    ).with_columns(pl.col("complaints").fill_null(0).cast(pl.Int64))
    c = counts["complaints"].to_numpy()
    lam = max(float(np.median(c)), min_background)
    spike = np.zeros(len(c), dtype=bool)
    for _ in range(3):  # re-estimate the background without the spike days
        pv = stats.poisson.sf(c - 1, lam)
        spike = pv < alpha
        quiet = c[~spike]
        lam = max(float(quiet.mean()) if quiet.size else min_background, min_background)
    pv = stats.poisson.sf(c - 1, lam)
    spike = pv < alpha
    daily = counts.with_columns(
        pl.lit(lam).alias("expected"), pl.Series("p_value", pv), pl.Series("spike", spike)
    )
    if not spike.any():
        return ComplaintRate(daily, lam, None, None, 0, 0.0, 1.0)
    idx = np.flatnonzero(spike)
    n_spike = int(c[idx].sum())
    whole = float(stats.poisson.sf(n_spike - 1, lam * len(idx)))
    return ComplaintRate(
        daily=daily,
        background_per_day=lam,
        spike_start=daily["day"][int(idx[0])],
        spike_end=daily["day"][int(idx[-1])],
        spike_complaints=n_spike,
        excess=float((c[idx] - lam).sum()),
        p_value=whole,
    )
