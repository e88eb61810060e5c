"""One risk per person: the signals of :mod:`forensics.watch.signals` combined.

Each signal is a log-likelihood ratio (nats): how much likelier the day's
event is for someone doing what the signal looks for than for this person
on an ordinary day. Independent evidence multiplies odds, so the ratios add:

``llr(person) = sum over signals of min(cap_s, sum over days of llr_s(day))
+ min(co_cap, co_bonus * days on which off_hours and a data-moving signal
(new device, upload after USB, device on many machines, volume, desk of
another) happened together)``

and the score is the posterior probability with a prior of
``prior`` (1 %: a few people in a hundred drift): ``score = 1 / (1 +
exp(-(llr + ln(prior / (1 - prior)))))``. The caps stop one loud habit
(forty night logons) outweighing everything; the co-occurrence bonus is the
conjunction an analyst looks for (a new stick *at night*), which the sum of
independent ratios alone undervalues. docs/method.md works examples.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date

import polars as pl

from ..case import Case
from .activity import activity, desk_owners
from .baseline import BaselineSettings, localize, warmup_end
from .signals import SIGNAL_SCHEMA, SIGNALS, STRENGTH_SCHEMA, SignalSettings, signals

__all__ = ["WatchSettings", "Watch", "CO_SIGNALS", "combine", "watch", "PEOPLE_COLUMNS"]

CO_SIGNALS = ("new_device", "upload_after_usb", "device_spread", "volume", "other_desk")
"""Data-moving signals: at an hour unusual for the person, they earn the co-occurrence bonus."""

PEOPLE_COLUMNS = ("rank", "person_id", "score", "reasons")
"""The columns ``people.csv`` starts with (more follow: role, llr, one per signal)."""


@dataclass(frozen=True)
class WatchSettings:
    """Every setting of the watch, with documented defaults."""

    baseline: BaselineSettings = field(default_factory=BaselineSettings)
    signals: SignalSettings = field(default_factory=SignalSettings)
    prior: float = 0.01
    """Share of people assumed to be drifting before any evidence."""
    co_bonus: float = 2.0
    """Added per day on which a data-moving signal's event fell in an hour
    unusual for the person (a new device *at night*)."""
    co_cap: float = 4.0


@dataclass(frozen=True)
class Watch:
    """The watch's tables: people ranked, their signals, and what they rest on."""

    people: pl.DataFrame
    signals: pl.DataFrame
    profile: pl.DataFrame
    activity: pl.DataFrame
    first_judged: date | None


def _roles(case: Case) -> pl.DataFrame:
    return case.staff.select(
        "person_id", pl.col("role").str.to_lowercase().fill_null("unknown").alias("role")
    )


def combine(
    found: pl.DataFrame,
    strength: pl.DataFrame,
    roles: pl.DataFrame,
    odd_hours: pl.DataFrame | None = None,
    *,
    tz: str = "UTC",
    settings: WatchSettings | None = None,
) -> pl.DataFrame:
    """People ranked by their combined log-likelihood ratio.

    Parameters
    ----------
    found, strength : pl.DataFrame
        The days each signal fired and each person's strength per signal,
        from :func:`forensics.watch.signals.signals`.
    roles : pl.DataFrame
        ``person_id``, ``role``.
    odd_hours : pl.DataFrame, optional
        ``person_id``, ``day``, ``hour``: the hours unusual for the person
        (the hour profile's ``llr`` at least ``unusual_hour_llr``). A
        data-moving signal earns the co-occurrence bonus when its event
        fell in one of them; without it, no bonus.
    tz : str
        The case's zone (the local hour of each event).

    Returns
    -------
    pl.DataFrame
        ``rank``, ``person_id``, ``score`` (posterior, 0-1), ``reasons``
        (strongest first, each citing file and row), ``role``, ``llr``,
        ``co_occurrence`` and one column per signal (its capped
        contribution); only people with a signal.
    """
    st = settings or WatchSettings()
    caps = pl.DataFrame(
        {"signal": list(SIGNALS), "cap": [s.cap for s in SIGNALS.values()]},
        schema={"signal": pl.String, "cap": pl.Float64},
    )
    labels = {k: s.label for k, s in SIGNALS.items()}
    per = (
        found.sort("llr", "at", descending=[True, False])
        .group_by("person_id", "signal", maintain_order=True)
        .agg(pl.len().alias("days"), pl.col("detail", "source", "row").first())
        .join(strength, on=["person_id", "signal"])
        .join(caps, on="signal")
        .with_columns(pl.min_horizontal("strength", "cap").alias("contribution"))
        .filter(pl.col("contribution") > 0)
        .with_columns(
            pl.format(
                "{} on {} day(s), +{}: {} ({} row {})",
                pl.col("signal").replace_strict(labels, return_dtype=pl.String),
                "days",
                pl.col("contribution").round(1),
                "detail",
                "source",
                "row",
            ).alias("reason")
        )
    )
    odd = (
        odd_hours
        if odd_hours is not None
        else pl.DataFrame(schema={"person_id": pl.String, "day": pl.Date, "hour": pl.Int16})
    )
    co = (
        found.filter(pl.col("signal").is_in(list(CO_SIGNALS)))
        .with_columns(pl.col("at").dt.convert_time_zone(tz).dt.hour().cast(pl.Int16).alias("hour"))
        .join(odd.select("person_id", "day", "hour"), on=["person_id", "day", "hour"])
        .select("person_id", "day")
        .unique()
        .sort("day")
        .group_by("person_id", maintain_order=True)
        .agg(pl.len().alias("co_days"), pl.col("day").first().alias("co_first"))
        .with_columns(
            pl.min_horizontal(pl.col("co_days") * st.co_bonus, pl.lit(st.co_cap))
            .cast(pl.Float64)
            .alias("co_occurrence")
        )
    )
    wide = per.pivot("signal", index="person_id", values="contribution").fill_null(0.0)
    for name in SIGNALS:
        if name not in wide.columns:
            wide = wide.with_columns(pl.lit(0.0).alias(name))
    reasons = (
        per.sort("contribution", descending=True)
        .group_by("person_id", maintain_order=True)
        .agg(pl.col("reason").str.join(" | "))
    )
    logit = math.log(st.prior / (1 - st.prior))
    out = (
        wide.join(co, on="person_id", how="left")
        .join(reasons, on="person_id")
        .join(roles, on="person_id", how="left")
        .with_columns(pl.col("co_occurrence").fill_null(0.0), pl.col("co_days").fill_null(0))
        .with_columns(
            (pl.sum_horizontal(list(SIGNALS)) + pl.col("co_occurrence")).round(3).alias("llr")
        )
        .with_columns(
            pl.when(pl.col("co_days") > 0)
            .then(
                pl.format(
                    "data moved at an hour unusual for them on {} day(s), first {}, +{} | {}",
                    "co_days",
                    "co_first",
                    pl.col("co_occurrence").round(1),
                    "reason",
                )
            )
            .otherwise(pl.col("reason"))
            .alias("reasons"),
            (1 / (1 + (-(pl.col("llr") + logit)).exp())).round(4).alias("score"),
        )
        .sort(["llr", "person_id"], descending=[True, False])
        .with_row_index("rank", offset=1)
    )
    return out.select(
        pl.col("rank").cast(pl.Int64),
        "person_id",
        "score",
        "reasons",
        "role",
        "llr",
        "co_occurrence",
        *[pl.col(n).round(3) for n in SIGNALS],
    )


def watch(
    case: Case,
    events: pl.DataFrame | None = None,
    stale: pl.DataFrame | None = None,
    *,
    settings: WatchSettings | None = None,
) -> Watch:
    """Baselines, signals and the ranked people of a case.

    Parameters
    ----------
    case : Case
    events : pl.DataFrame, optional
        :func:`forensics.exposure.exposure_events` (export volume in orders).
    stale : pl.DataFrame, optional
        :func:`forensics.watch.hygiene.stale_accounts` (use after leaving).
    """
    st = settings or WatchSettings()
    tz = case.timezone()
    act = localize(activity(case, events), tz)
    roles = _roles(case)
    first = warmup_end(act, st.baseline)
    if first is None:
        none = pl.DataFrame(schema=SIGNAL_SCHEMA)
        empty = combine(none, pl.DataFrame(schema=STRENGTH_SCHEMA), roles, settings=st)
        return Watch(empty, none, pl.DataFrame(), act, None)
    found, strength, profile = signals(
        tz, act, roles, desk_owners(case), stale, first, baseline=st.baseline, settings=st.signals
    )
    odd = profile.filter(pl.col("judged") & (pl.col("llr") >= st.signals.unusual_hour_llr))
    people = combine(found, strength, roles, odd, tz=tz, settings=st)
    return Watch(people, found, profile, act, first)
