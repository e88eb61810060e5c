"""Buyer complaints: which orders they point at, and whether they form a spike.

A complaint names its order, or only the buyer. In the second case every
order of that buyer placed before the complaint is a *candidate* order: a
path explains the complaint if it exposed any one of them in time. The
scammer cannot have called before the path saw the order, so a complaint's
``deadline`` is ``contacted_at`` when the buyer gave it, else ``received_at``.

Shops receive scam complaints all the time (buyers' data leaks elsewhere
too), and that background is rarely flat: it grows with the orders on the
books, follows weekdays and promotions. :func:`complaint_rate` estimates it
for each day from the quiet days *before* it (a straight-line fit over the
previous weeks, so a steady ramp is background, not a spike), allows for
over-dispersion where counts are large, and flags the days the background
cannot explain. The spike is the burst of flagged days with the largest
excess; a lone busy day weeks earlier does not date the leak.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

import numpy as np
import polars as pl

from ..case import Case
from ..case.schema import QUOTED_FIELDS

__all__ = [
    "link_complaints",
    "complaint_orders",
    "MAX_BUYER_ORDERS",
    "specific_orders",
    "ComplaintRate",
    "complaint_rate",
    "rate_by",
    "SPIKE_P",
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
    # A buyer may give a buyer id only through the order. (Of millions of
    # orders, only the complained ones are joined.)
    buyer_of_order = _orders_among(case.orders, "order_id", c).select(
        "order_id", pl.col("buyer_id").alias("_ob")
    )
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
        _orders_among(orders, "order_id", linked).select("order_id"), on="order_id", how="semi"
    )
    explicit = named.select(
        "complaint_id", "order_id", pl.lit(True).alias("explicit"), "deadline", "quoted"
    )
    by_buyer = (
        linked.join(named.select("complaint_id"), on="complaint_id", how="anti")
        .filter(pl.col("buyer_id").is_not_null())
        .select("complaint_id", "buyer_id", "received_at", "deadline", "quoted")
        .join(_orders_among(orders, "buyer_id", linked), on="buyer_id")
        .filter(pl.col("placed_at") <= pl.col("received_at"))
        .select("complaint_id", "order_id", pl.lit(False).alias("explicit"), "deadline", "quoted")
    )
    return pl.concat([explicit, by_buyer]).unique(["complaint_id", "order_id"], maintain_order=True)


MAX_BUYER_ORDERS = 3
"""A complaint naming only its buyer stands for one of the buyer's orders
before it; with more than this many, it says too little about which."""


def specific_orders(corders: pl.DataFrame, max_orders: int = MAX_BUYER_ORDERS) -> pl.DataFrame:
    """The rows of :func:`complaint_orders` the overlap tests count: those
    of complaints that named their order, or whose buyer had at most
    ``max_orders`` orders before it.

    A reseller's complaint naming no order is one leaked order among fifty
    or two hundred: counted as that many complained orders, it would spread
    over every path that handled the reseller (most of them) and drown the
    orders buyers did name. Such complaints stay in the complaint rate, the
    timeline and the report; ``findings.json`` counts them
    (``complaints.too_vague``).
    """
    n = pl.len().over("complaint_id")
    return corders.filter(pl.col("explicit") | (n <= max_orders))


def _orders_among(orders: pl.DataFrame, column: str, complaints: pl.DataFrame) -> pl.DataFrame:
    """The orders whose ``column`` (order or buyer id) some complaint gives:
    a few thousand of millions, before any join."""
    wanted = complaints.get_column(column).drop_nulls().unique()
    return orders.filter(pl.col(column).is_in(wanted.implode()))


@dataclass(frozen=True)
class ComplaintRate:
    """Daily complaint counts against the background rate."""

    daily: pl.DataFrame  # day, complaints, expected, p_value, spike
    background_per_day: float  # on the spike's days, else on the quiet days
    spike_start: date | None
    spike_end: date | None
    spike_complaints: int
    excess: float  # complaints above background on spike days
    p_value: float  # of the whole spike under the background rate
    dated_by: str = "received_at"  # the complaints' time the days count by
    # ("deadline": the scammer's call where the buyer said, else receipt)

    @property
    def dating(self) -> str:
        """How the days count complaints, in words."""
        if self.dated_by == "deadline":
            return "dated by the scammer's call where the buyer gave it, else by receipt"
        return "dated by receipt"

    @property
    def has_spike(self) -> bool:
        return self.spike_start is not None


SPIKE_P = 1e-6
"""A spike whose p-value under the background is above this does not date a
leak (a lone busy day)."""


def complaint_rate(case: Case, linked: pl.DataFrame, **settings) -> ComplaintRate:
    """:func:`rate_by` the day the scammer called (``deadline``:
    ``contacted_at`` where the buyer said, else the day received) when that
    shows a spike clear enough to date a leak by (:data:`SPIKE_P`), else by
    the day complaints were received. Calls come before complaints, by days
    or, where a platform forwards complaints in weekly batches, by a week
    and more; where buyers gave the call's time, it dates the leak."""
    received = rate_by(case, linked, "received_at", **settings)
    if linked.get_column("contacted_at").is_null().all():
        return received
    called = rate_by(case, linked, "deadline", **settings)
    return called if called.has_spike and called.p_value <= SPIKE_P else received


def rate_by(
    case: Case,
    linked: pl.DataFrame,
    dated_by: str,
    *,
    alpha: float = 1e-3,
    min_background: float = 0.1,
    history_days: int = 21,
    guard_days: int = 4,
    min_ratio: float = 1.5,
) -> ComplaintRate:
    """Separate a complaint spike from the background rate.

    Parameters
    ----------
    alpha : float
        Per-day significance of a spike day under the background.
    min_background : float
        Floor of the background rate (complaints per day) when the quiet
        days show none, so a handful of complaints is not a "spike".
    history_days : int
        The background of a day is a straight line fitted to the quiet days
        in the ``history_days`` before it (with fewer than a week of them,
        the mean of all quiet days).
    guard_days : int
        Days just before a day left out of its history, so that the first
        days of a slowly rising spike do not lift the line that should
        expose them.
    min_ratio : float
        A spike day must also exceed its background by this factor: with
        thousands of complaints a day, a few per cent more is significant
        but is not a leak.
    """
    tz = case.timezone()
    first_order = case.orders.select(
        pl.col("placed_at").min().dt.convert_time_zone(tz).dt.date()
    ).item()
    days = linked.select(pl.col(dated_by).dt.convert_time_zone(tz).dt.date().alias("day"))
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
        return ComplaintRate(empty, 0.0, None, None, 0, 0.0, 1.0, dated_by)
    start = days["day"].min()
    if first_order is not None:
        start = min(start, first_order)
    end = days["day"].max()
    calendar = pl.DataFrame({"day": pl.date_range(start, end, "1d", eager=True)})
    counts = calendar.join(
        days.group_by("day").len("complaints"), on="day", how="left"
    ).with_columns(pl.col("complaints").fill_null(0).cast(pl.Int64))
    c = counts["complaints"].to_numpy().astype(float)

    def book() -> np.ndarray:
        # Orders placed up to each day; only a step test needs them.
        placed = case.orders.select(
            pl.col("placed_at").dt.convert_time_zone(tz).dt.date().alias("day")
        )
        return (
            calendar.join(placed.group_by("day").len("n"), on="day", how="left")
            .get_column("n")
            .fill_null(0)
            .cum_sum()
            .to_numpy()
            .astype(float)
        )

    expected, pv, spike, dispersion = _background(
        c,
        alpha=alpha,
        min_background=min_background,
        history=history_days,
        guard=guard_days,
        min_ratio=min_ratio,
        book=book,
    )
    daily = counts.with_columns(
        pl.Series("expected", expected), pl.Series("p_value", pv), pl.Series("spike", spike)
    )
    if not spike.any():
        quiet = float(c.mean()) if c.size else 0.0
        return ComplaintRate(daily, max(quiet, min_background), None, None, 0, 0.0, 1.0, dated_by)
    idx = np.flatnonzero(spike)
    n_spike = int(c[idx].sum())
    mean = float(expected[idx].sum())
    whole = float(_sf(np.array([n_spike]), np.array([mean]), dispersion)[0])
    return ComplaintRate(
        daily=daily,
        background_per_day=float(expected[idx].mean()),
        spike_start=daily["day"][int(idx[0])],
        spike_end=daily["day"][int(idx[-1])],
        spike_complaints=n_spike,
        excess=float((c[idx] - expected[idx]).sum()),
        p_value=whole,
        dated_by=dated_by,
    )


def _sf(counts: np.ndarray, expected: np.ndarray, dispersion: float) -> np.ndarray:
    """P(X >= count) under the background: Poisson, or negative binomial
    with variance ``dispersion`` times the mean."""
    # scipy.special, not scipy.stats (which takes a second to import):
    # Poisson P(X > k) is pdtrc; negative binomial P(X > k) with n successes
    # of probability p is the regularized beta I_{1-p}(k + 1, n).
    from scipy import special  # imported when first needed (~0.2 s)

    k = np.asarray(counts, dtype=np.float64) - 1
    at_least = np.maximum(k, 0)
    if dispersion > 1.0:
        n, p = expected / (dispersion - 1.0), 1.0 / dispersion
        tail = special.betainc(at_least + 1, n, 1.0 - p)
    else:
        tail = special.pdtrc(at_least, expected)
    return np.where(k < 0, 1.0, tail)


def _background(
    c: np.ndarray,
    *,
    alpha: float,
    min_background: float,
    history: int,
    guard: int,
    min_ratio: float,
    weak_alpha: float = 0.01,
    max_gap: int = 1,
    book: Callable[[], np.ndarray] | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """Expected count, p-value and spike flag of every day, and the dispersion.

    Iterates: fit each day's background on the quiet days before it, flag
    the days it cannot explain, refit without them, until the flags settle.
    Then keeps the one burst with the largest excess: flagged days joined
    by days that are high at ``weak_alpha``, with gaps of at most
    ``max_gap`` days.
    """
    n = c.size
    t = np.arange(n, dtype=float)
    quiet = np.ones(n, dtype=bool)
    expected = np.full(n, min_background)
    pv = np.ones(n)
    strong = np.zeros(n, dtype=bool)
    dispersion = 1.0
    for rounds in range(6):
        fallback = float(c[quiet].mean()) if quiet.any() else min_background
        fitted = np.zeros(n, dtype=bool)
        for i in range(n):
            hi = max(0, i - guard)
            lo = max(0, hi - history)
            keep = quiet[lo:hi]
            tt, cc = t[lo:hi][keep], c[lo:hi][keep]
            if cc.size >= 7:
                slope, intercept = np.polyfit(tt, cc, 1)
                # A falling line may not fall below half the recent level.
                e = max(intercept + slope * i, 0.5 * float(cc.mean()))
                fitted[i] = True
            else:
                e = fallback
            expected[i] = max(e, min_background)
        dispersion = 1.0
        # Not before a first round has set the burst aside: measured on every
        # day, a leak's weeks of complaints would pass for overdispersion of
        # the background and hide themselves.
        # Only days whose background was fitted on their own history: the
        # first days' stand-in (the mean of every quiet day) is no model of them.
        calm = quiet & fitted
        if rounds and calm.sum() > 5 and np.median(expected[calm]) >= 5:
            # Robust Pearson dispersion (median of chi-square(1) is 0.455);
            # only where counts are large enough for it to mean anything.
            pearson = (c[calm] - expected[calm]) ** 2 / expected[calm]
            dispersion = max(1.0, float(np.median(pearson)) / 0.455)
        pv = _sf(c, expected, dispersion)
        strong = (pv < alpha) & (c >= min_ratio * expected)
        if np.array_equal(~strong, quiet):
            break
        quiet = ~strong
    spike = np.zeros(n, dtype=bool)
    if strong.any():
        member = np.flatnonzero(strong | ((pv < weak_alpha) & (c > expected)))
        bursts = np.split(member, np.flatnonzero(np.diff(member) > max_gap + 1) + 1)
        bursts = [b for b in bursts if strong[b].any()]
        best = max(bursts, key=lambda b: (float((c[b] - expected[b]).sum()), -int(b[0])))
        spike[best] = True
        return expected, pv, spike, dispersion
    step = _step(
        c,
        alpha=alpha,
        min_background=min_background,
        min_ratio=min_ratio,
        book=None if book is None else book(),
    )
    if step is not None:
        start, expected = step
        dispersion = 1.0
        pv = _sf(c, expected, dispersion)
        spike[start:] = True
    return expected, pv, spike, dispersion


def _step(
    c: np.ndarray,
    *,
    alpha: float,
    min_background: float,
    min_ratio: float,
    min_days: int = 3,
    book: np.ndarray | None = None,
) -> tuple[int, np.ndarray] | None:
    """The day complaints rose to a new level and stayed there, and the
    background of every day; None when no such rise is significant.

    A leak that keeps leaking raises the complaint rate for good rather
    than for a few days; a background line fitted on the days before each
    day follows such a step after a few days, and the days before the first
    complaint of a short case leave no history at all. Here one change of
    rate is fitted instead (two Poisson segments against one, the
    likelihood ratio Bonferroni-corrected over the days it could start on);
    the new rate must also be ``min_ratio`` times the old one and stand
    above the old days' trend carried forward. ``book`` (the orders placed
    up to each day) makes the rate one per order on the books: a shop
    whose evidence starts with its first orders gets few complaints in its
    first days, and that is no step.
    """
    n = c.size
    if n < 2 * min_days or c.sum() < 2 * min_days:
        return None
    w = np.ones(n) if book is None else np.maximum(np.asarray(book, dtype=float), 1.0)
    cum = np.concatenate([[0.0], np.cumsum(c)])
    cw = np.concatenate([[0.0], np.cumsum(w)])
    t = np.arange(min_days, n - min_days + 1)
    k1, k2 = cum[t], cum[n] - cum[t]
    w1, w2 = cw[t], cw[n] - cw[t]
    # Per unit of book; the floor is min_background complaints a day.
    l1 = np.maximum(k1 / w1, min_background * t / w1)
    l2 = k2 / w2
    l0 = cum[n] / cw[n]

    def loglik(k, rate, weight):
        return np.where(k > 0, k * np.log(np.maximum(rate, 1e-300)), 0.0) - rate * weight

    lr = 2 * (loglik(k1, l1, w1) + loglik(k2, l2, w2) - loglik(cum[n], l0, cw[n]))
    ok = l2 >= min_ratio * l1
    if not ok.any():
        return None
    lr = np.where(ok, lr, -np.inf)
    best = int(np.argmax(lr))
    from scipy import special  # noqa: PLC0415 - scipy loads only when a step is weighed

    # chi-square(1) tail of the statistic, times the days tried.
    p = float(special.chdtrc(1, lr[best])) * t.size
    if p >= alpha:
        return None
    start = int(t[best])
    expected = np.maximum(l1[best] * w, min_background)
    # A shop whose complaints grow steadily has no step: the new level must
    # also stand above the old days' trend carried forward.
    days = np.arange(start, dtype=float)
    slope, intercept = np.polyfit(days, c[:start], 1) if start >= 3 else (0.0, 0.0)
    ahead = np.maximum(intercept + slope * np.arange(start, n), expected[start:])
    if c[start:].sum() < min_ratio * ahead.sum():
        return None
    return start, expected
