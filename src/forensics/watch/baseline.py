"""Each person's usual behaviour, learnt from the case's own history.

Nothing here assumes business hours or a shift: what is usual for a person
is what they did on earlier days, and what is usual for their role stands in
where their own history is short (a new hire's first days, someone absent
for the warm-up). Two kinds of baseline serve every signal:

- an **hour profile**: the share of a person's active hours (a person-day-
  hour in which any of their activity happened) that fell in each hour of
  the day, smoothed over neighbouring hours, counted over the days *before*
  the day being judged (for a warm-up day: the warm-up's other days) and
  mixed with their role's profile,
  ``p = (own + k * role) / (own_total + k)`` with ``k = role_weight``;
- an **event rate**: how often, per active day, something happened before
  (a device never seen before, a machine never used, an upload right after
  a USB connection), mixed the same way with the role's rate over
  ``rate_weight`` pseudo-days.

The first ``baseline_days`` of the log (by default a third of its span,
3-14 days) are only learnt from: everyone's first day of a log is new
otherwise. After them each day is judged against everything before it, so
a new habit stops being news after a few days, and a person who first
appears after the warm-up is judged against their role from their first day.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import polars as pl

__all__ = [
    "BaselineSettings",
    "localize",
    "warmup_end",
    "hour_profile",
    "event_rate",
    "cusum",
    "volume_baseline",
]

_KERNEL = ((-2, 0.1), (-1, 0.2), (0, 0.4), (1, 0.2), (2, 0.1))


@dataclass(frozen=True)
class BaselineSettings:
    """How baselines are learnt; documented defaults (docs/method.md)."""

    baseline_days: int | None = None
    """Days at the start of the log only learnt from; ``None``: a third of
    the log's span, at least 3 and at most 14."""
    role_weight: float = 8.0
    """Pseudo active hours of the role's profile mixed into a person's."""
    rate_weight: float = 12.0
    """Pseudo active days of the role's rate mixed into a person's."""
    peer_weight: float = 10.0
    """Pseudo-people who did not do it, added to each day's count of others
    (the ``peers`` share of :func:`event_rate`)."""
    min_probability: float = 0.002
    """Floor of any estimated share or rate (nothing is impossible)."""


def localize(act: pl.DataFrame, tz: str) -> pl.DataFrame:
    """Add the local ``day`` (Date) and ``hour`` (0-23) of every row."""
    local = pl.col("at").dt.convert_time_zone(tz)
    return act.with_columns(
        local.dt.date().alias("day"), local.dt.hour().cast(pl.Int16).alias("hour")
    )


def warmup_end(act: pl.DataFrame, settings: BaselineSettings) -> date | None:
    """First day judged: the log's first day plus the warm-up."""
    if act.is_empty():
        return None
    first, last = act["day"].min(), act["day"].max()
    days = settings.baseline_days
    if days is None:
        days = min(14, max(3, round(((last - first).days + 1) / 3)))
    return first + timedelta(days=days)


def _prior(keys: list[str], value: str) -> pl.Expr:
    """Sum of ``value`` over the same ``keys`` on earlier days (frame sorted by day)."""
    return (pl.col(value).cum_sum().over(keys) - pl.col(value)).alias(f"{value}_before")


def _history(keys: list[str], value: str, first_judged: date) -> pl.Expr:
    """What a day is judged against: the warm-up's other days for a warm-up
    day (leave that day out), every earlier day after it."""
    warm = pl.col("day") < first_judged
    warm_total = pl.col(value).filter(warm).sum().over(keys)
    return (
        pl.when(warm)
        .then(warm_total - pl.col(value))
        .otherwise(pl.col(value).cum_sum().over(keys) - pl.col(value))
        .alias(f"{value}_before")
    )


def hour_profile(
    act: pl.DataFrame,
    roles: pl.DataFrame,
    first_judged: date,
    settings: BaselineSettings,
) -> pl.DataFrame:
    """Every active person-day-hour against the person's hours before that day.

    Parameters
    ----------
    act : pl.DataFrame
        :func:`forensics.watch.activity.activity`, :func:`localize` d.
    roles : pl.DataFrame
        ``person_id``, ``role``.
    first_judged : date
        :func:`warmup_end`.

    Returns
    -------
    pl.DataFrame
        ``person_id``, ``day``, ``hour``, ``own_share`` (share of their
        earlier active hours in this hour), ``expected`` (the smoothed
        share mixed with the role), ``hours_before``, ``judged``, ``llr``
        (``ln((1/24) / expected)``, at least 0: how much likelier someone
        active at random hours is to be here than this person), and the
        first row in the cell (``at``, ``kind``, ``machine_id``,
        ``source``, ``row``).
    """
    cells = (
        act.sort("at", "row")
        .group_by("person_id", "day", "hour", maintain_order=True)
        .agg(pl.col("at", "kind", "machine_id", "source", "row").first())
        .sort("person_id", "day", "hour")
    )
    spread = pl.concat(
        [
            cells.select(
                "person_id",
                "day",
                ((pl.col("hour") + shift) % 24).cast(pl.Int16).alias("bin"),
                pl.lit(w).alias("w"),
            )
            for shift, w in _KERNEL
        ]
    )
    per_bin = (
        spread.group_by("person_id", "bin", "day", maintain_order=True)
        .agg(pl.col("w").sum())
        .sort("person_id", "bin", "day")
        .with_columns(_history(["person_id", "bin"], "w", first_judged))
    )
    per_day = (
        cells.group_by("person_id", "day", maintain_order=True)
        .agg(pl.len().cast(pl.Float64).alias("cells"))
        .sort("person_id", "day")
        .with_columns(_history(["person_id"], "cells", first_judged))
    )
    role_profile = _role_profile(spread, roles, first_judged, settings)
    k = settings.role_weight
    c, n = pl.col("w_before"), pl.col("cells_before")
    expected = ((c + k * pl.col("role_share")) / (n + k)).clip(lower_bound=settings.min_probability)
    return (
        cells.join(
            per_bin.select("person_id", pl.col("bin").alias("hour"), "day", "w_before"),
            on=["person_id", "hour", "day"],
        )
        .join(per_day.select("person_id", "day", "cells_before"), on=["person_id", "day"])
        .join(roles, on="person_id", how="left")
        .join(role_profile, on=["role", "hour"], how="left")
        .with_columns(pl.col("role_share").fill_null(1 / 24))
        .select(
            "person_id",
            "day",
            "hour",
            pl.when(n > 0).then(c / n).otherwise(None).alias("own_share"),
            expected.alias("expected"),
            n.cast(pl.Int64).alias("hours_before"),
            (pl.col("day") >= first_judged).alias("judged"),
            (pl.lit(1 / 24) / expected).log().clip(lower_bound=0).alias("llr"),
            "at",
            "kind",
            "machine_id",
            "source",
            "row",
        )
        .sort("person_id", "day", "hour")
    )


def _role_profile(
    spread: pl.DataFrame, roles: pl.DataFrame, first_judged: date, settings: BaselineSettings
) -> pl.DataFrame:
    """Per role and hour, the average warm-up profile of its people.

    Each person counts once whatever their volume; a fifth of the weight is
    the whole staff's profile, so a role of one is not its own proof.
    """
    warm = spread.filter(pl.col("day") < first_judged)
    own = (
        warm.group_by("person_id", "bin", maintain_order=True)
        .agg(pl.col("w").sum())
        .with_columns((pl.col("w") / pl.col("w").sum().over("person_id")).alias("share"))
        .join(roles, on="person_id", how="left")
    )
    people = own.group_by("role", maintain_order=True).agg(
        pl.col("person_id").n_unique().alias("people")
    )
    everyone = max(own["person_id"].n_unique(), 1)
    overall = own.group_by("bin", maintain_order=True).agg(
        (pl.col("share").sum() / everyone).alias("all_share")
    )
    grid = pl.DataFrame({"role": roles["role"].unique()}).join(
        pl.DataFrame({"bin": list(range(24))}, schema={"bin": pl.Int16}), how="cross"
    )
    return (
        grid.join(
            own.group_by("role", "bin", maintain_order=True).agg(pl.col("share").sum()),
            on=["role", "bin"],
            how="left",
        )
        .join(people, on="role", how="left")
        .join(overall, on="bin", how="left")
        .with_columns(pl.col("share", "all_share").fill_null(0.0), pl.col("people").fill_null(0))
        .with_columns(
            pl.when(pl.col("people") > 0)
            .then(0.8 * pl.col("share") / pl.col("people") + 0.2 * pl.col("all_share"))
            .otherwise(pl.col("all_share"))
            .clip(lower_bound=settings.min_probability)
            .alias("role_share")
        )
        .with_columns(pl.col("role_share") / pl.col("role_share").sum().over("role"))
        .select("role", pl.col("bin").alias("hour"), "role_share")
    )


def event_rate(
    flags: pl.DataFrame,
    days: pl.DataFrame,
    roles: pl.DataFrame,
    first_judged: date,
    settings: BaselineSettings,
    *,
    q: float,
) -> pl.DataFrame:
    """Judge every active day by whether something happened, against how often it did before.

    A day with the event weighs ``ln(q / max(rate, peers))``, ``peers``
    being the share of the others active that day who had it too (over
    ``peer_weight`` more pseudo-people), and a day
    without it
    ``ln((1 - q) / (1 - rate))`` (the Bernoulli log-likelihood ratio), each
    kept on its side of zero: a habit (``rate`` above ``q``) is never
    evidence of drift, and its absence never evidence against.

    Parameters
    ----------
    flags : pl.DataFrame
        ``person_id``, ``day``, ``events`` (how many happened that day, > 0).
    days : pl.DataFrame
        ``person_id``, ``day``: every active day of every person.
    q : float
        How often it happens on a day of someone doing what the signal
        looks for (the likelihood under the alternative).

    Returns
    -------
    pl.DataFrame
        ``person_id``, ``day``, ``events`` (0 on days without), ``rate``
        (expected share of active days with it, own earlier days mixed with
        the role's warm-up rate), ``peers``, ``judged`` and ``llr``, for
        every active day, sorted by person and day.
    """
    grid = (
        days.unique(["person_id", "day"])
        .join(flags, on=["person_id", "day"], how="left")
        .with_columns(
            pl.col("events").fill_null(0),
            (pl.col("events").fill_null(0) > 0).cast(pl.Float64).alias("hit"),
            pl.lit(1.0).alias("active"),
        )
        .sort("person_id", "day")
        .with_columns(_prior(["person_id"], "hit"), _prior(["person_id"], "active"))
        .join(roles, on="person_id", how="left")
    )
    warm = (
        grid.filter(pl.col("day") < first_judged)
        .group_by("person_id", "role", maintain_order=True)
        .agg((pl.col("hit").sum() / pl.col("active").sum()).alias("r"))
    )
    overall = warm["r"].mean() if warm.height else None
    overall = float(overall) if overall is not None else 0.05  # type: ignore[arg-type]
    role_rate = warm.group_by("role", maintain_order=True).agg(
        pl.col("r").mean().alias("role_rate")
    )
    k = settings.rate_weight
    rate = (
        (pl.col("hit_before") + k * pl.col("role_rate").fill_null(overall))
        / (pl.col("active_before") + k)
    ).clip(settings.min_probability, 1 - settings.min_probability)
    # What the whole staff did that day: a sale night, when everyone stays
    # late, or new tokens handed out to all, is nobody's drift.
    # Others only (leave the person out), shrunk towards none over
    # ``peer_weight`` pseudo-people so that a handful of staff proves nothing.
    others = pl.col("hit").sum().over("day") - pl.col("hit")
    peers = (others / (pl.len().over("day") - 1 + settings.peer_weight)).clip(
        lower_bound=settings.min_probability
    )
    return (
        grid.join(role_rate, on="role", how="left")
        .with_columns(rate.alias("rate"), peers.alias("peers"))
        .select(
            "person_id",
            "day",
            pl.col("events").cast(pl.Int64),
            "rate",
            "peers",
            (pl.col("day") >= first_judged).alias("judged"),
            pl.when(pl.col("hit") > 0)
            .then((pl.lit(q) / pl.max_horizontal("rate", "peers")).log().clip(lower_bound=0))
            .otherwise(((1 - q) / (1 - pl.col("rate"))).log().clip(upper_bound=0))
            .alias("llr"),
        )
        .sort("person_id", "day")
    )


def cusum(daily: pl.DataFrame, value: str = "llr") -> pl.DataFrame:
    """Per person, the largest run-up of ``value`` over consecutive judged days.

    The CUSUM statistic ``max_t S_t`` with ``S_t = max(0, S_{t-1} + x_t)``:
    evidence that piles up from some day on, which days of nothing after a
    habit's occasional blip cancel. ``daily`` is sorted by person and day;
    returns ``person_id`` and ``cusum``.
    """
    c = pl.col(value).cum_sum().over("person_id")
    return (
        daily.with_columns(c.alias("_c"))
        .with_columns(
            (pl.col("_c") - pl.col("_c").cum_min().over("person_id").clip(upper_bound=0)).alias(
                "_s"
            )
        )
        .group_by("person_id", maintain_order=True)
        .agg(pl.col("_s").max().clip(lower_bound=0).alias("cusum"))
    )


def volume_baseline(
    daily: pl.DataFrame, roles: pl.DataFrame, first_judged: date, *, min_days: int = 3
) -> pl.DataFrame:
    """Each person-day's order volume against the most they handled before.

    ``daily`` has ``person_id``, ``day``, ``volume``. Returns it with
    ``usual`` (their largest earlier day; their role's 90th percentile of
    warm-up days while they have fewer than ``min_days`` earlier days) and
    ``judged``.
    """
    d = daily.sort("person_id", "day").with_columns(
        pl.col("volume").cum_max().shift(1).over("person_id").fill_null(0).alias("own_max"),
        pl.int_range(pl.len()).over("person_id").alias("days_before"),
    )
    d = d.join(roles, on="person_id", how="left")
    role_q = (
        d.filter(pl.col("day") < first_judged)
        .group_by("role", maintain_order=True)
        .agg(pl.col("volume").quantile(0.9).alias("role_q90"))
    )
    return d.join(role_q, on="role", how="left").select(
        "person_id",
        "day",
        "volume",
        pl.when(pl.col("days_before") >= min_days)
        .then(pl.col("own_max"))
        .otherwise(pl.max_horizontal("own_max", pl.col("role_q90").fill_null(0)))
        .cast(pl.Float64)
        .alias("usual"),
        (pl.col("day") >= first_judged).alias("judged"),
    )
