"""The watch's signals: what a person did that their baseline did not lead one to expect.

Every signal is registered once in :data:`SIGNALS` with its wording, the
likelihood ``q`` of its event on a day of someone doing what it looks for,
and its cap (see :mod:`forensics.watch.risk` for how they add up). Each is
judged per person and day, against that person's history before the day
mixed with their role's (:mod:`forensics.watch.baseline`), and yields a
log-likelihood ratio ``llr`` (in nats, at least 0) with the file and row of
the strongest event.

======================  ==============================================  =====
signal                  the day's event                                 judged
======================  ==============================================  =====
``off_hours``           active (logon, back-office login, order         hour
                        access, USB, upload) in an hour that held         profile
                        little of their earlier activity
``new_device``          a removable device they had not used before:    rate
                        its serial, or "a drive on this PC by this
                        person" when the log records none
``device_spread``       one device of theirs on ``spread_machines`` or  rate
                        more machines in a day
``other_desk``          first logon at a desk assigned to someone else  rate
``new_machine``         first logon at an unassigned machine            rate
``upload_after_usb``    a ``net_upload`` within ``upload_window`` of    rate
                        their USB connection on the same machine
``volume``              more orders accessed or exported in a day than  volume
                        ``volume_factor`` times their largest earlier day
``after_leaving``       an account used after its owner left            fixed
======================  ==============================================  =====
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, timedelta

import polars as pl

from .activity import Kind
from .baseline import BaselineSettings, cusum, event_rate, hour_profile, volume_baseline

__all__ = ["Signal", "SIGNALS", "SignalSettings", "SIGNAL_SCHEMA", "STRENGTH_SCHEMA", "signals"]


@dataclass(frozen=True)
class Signal:
    """One signal's registration: its words and how much it can weigh."""

    label: str
    cap: float
    """Most this signal adds to a person's log-likelihood ratio, all days together."""
    q: float = 0.5
    """Share of days an actor doing this shows the event (rate signals)."""
    day_cap: float = 2.5
    """Most one day adds: one event alone (a new phone charger, one late
    evening) stays weak; a pattern over days reaches the cap."""


SIGNALS: dict[str, Signal] = {
    "off_hours": Signal("active at hours they rarely work", cap=6.0),
    "new_device": Signal("first use of a removable device", cap=5.0, q=0.5),
    "device_spread": Signal("one device on many machines in a day", cap=3.0, q=0.3),
    "other_desk": Signal("at a desk assigned to someone else", cap=3.0, q=0.3),
    "new_machine": Signal("at a machine new to them", cap=2.0, q=0.3),
    "upload_after_usb": Signal("upload right after a USB connection", cap=2.5, q=0.5, day_cap=2.0),
    "volume": Signal("orders accessed or exported out of pattern", cap=3.0),
    "after_leaving": Signal("account used after its owner left", cap=4.0, day_cap=4.0),
}
"""Every signal, by the name used in ``signals.csv`` and ``people.csv``."""


@dataclass(frozen=True)
class SignalSettings:
    """Thresholds of the signals, documented in docs/method.md."""

    unusual_hour_llr: float = math.log(3)
    """An hour counts when someone at random hours is this much likelier
    there (ln 3: the hour held under a third of a uniform 1/24 share)."""
    spread_machines: int = 3
    upload_window: timedelta = timedelta(hours=1)
    volume_factor: float = 2.0
    after_leaving_llr: float = 4.0


SIGNAL_SCHEMA = pl.Schema(
    {
        "person_id": pl.String,
        "signal": pl.String,
        "day": pl.Date,
        "llr": pl.Float64,
        "at": pl.Datetime("us", "UTC"),
        "detail": pl.String,
        "source": pl.String,
        "row": pl.Int64,
    }
)


STRENGTH_SCHEMA = pl.Schema({"person_id": pl.String, "signal": pl.String, "strength": pl.Float64})


def _strength(per_person: pl.DataFrame, signal: str, value: str) -> pl.DataFrame:
    return per_person.select(
        "person_id",
        pl.lit(signal).alias("signal"),
        pl.col(value).cast(pl.Float64).alias("strength"),
    ).filter(pl.col("strength") > 0)


def _shape(frame: pl.DataFrame, signal: str, detail: pl.Expr) -> pl.DataFrame:
    spec = SIGNALS[signal]
    return frame.select(
        "person_id",
        pl.lit(signal).alias("signal"),
        "day",
        pl.col("llr").clip(0, spec.day_cap).cast(pl.Float64),
        "at",
        detail.alias("detail"),
        "source",
        pl.col("row").cast(pl.Int64),
    ).cast(SIGNAL_SCHEMA)  # type: ignore[arg-type]


def _local(tz: str) -> pl.Expr:
    return pl.col("at").dt.convert_time_zone(tz).dt.strftime("%Y-%m-%d %H:%M")


def _off_hours(
    profile: pl.DataFrame,
    days: pl.DataFrame,
    roles: pl.DataFrame,
    first_judged: date,
    bs: BaselineSettings,
    st: SignalSettings,
    tz: str,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    odd = (
        profile.filter(pl.col("llr") >= st.unusual_hour_llr)
        .sort("llr", "at", descending=[True, False])
        .unique(["person_id", "day"], keep="first")
    )
    q = SIGNALS["off_hours"].q
    # An odd hour weighs what it says about the hour, but no more than what
    # an odd-hours day says for someone who has them this often (IT at night).
    daily = (
        event_rate(
            odd.select("person_id", "day", pl.lit(1).alias("events")),
            days,
            roles,
            first_judged,
            bs,
            q=q,
        )
        .filter(pl.col("judged"))
        .join(
            odd.select("person_id", "day", pl.col("llr").alias("hour_llr")),
            on=["person_id", "day"],
            how="left",
        )
        .with_columns(
            pl.when(pl.col("events") > 0)
            .then(pl.min_horizontal("llr", "hour_llr", pl.lit(SIGNALS["off_hours"].day_cap)))
            .otherwise(pl.col("llr"))
            .alias("llr")
        )
    )
    hits = daily.filter(pl.col("events") > 0).select("person_id", "day", "llr")
    hits = hits.join(odd.drop("llr"), on=["person_id", "day"])
    detail = pl.format(
        "{} {} on {}; {}% of their {} earlier active hours were near that hour",
        _local(tz),
        "kind",
        pl.col("machine_id").fill_null("no machine (outside the office)"),
        (pl.col("own_share").fill_null(0) * 100).round(1),
        "hours_before",
    )
    return _shape(hits, "off_hours", detail), _strength(cusum(daily), "off_hours", "cusum")


def _rate_signal(
    signal: str,
    firsts: pl.DataFrame,
    days: pl.DataFrame,
    roles: pl.DataFrame,
    first_judged: date,
    bs: BaselineSettings,
    detail: pl.Expr,
    *,
    among: pl.DataFrame | None = None,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """``firsts``: one row per event (person_id, day, at, source, row, ...).

    ``among``: a wider kind of event whose rate judges these (a first logon
    at someone else's desk is judged by how often the person logs on to any
    machine new to them: routine for IT).
    """
    spec = SIGNALS[signal]
    flags = firsts.group_by("person_id", "day", maintain_order=True).agg(pl.len().alias("events"))
    wider = (
        flags
        if among is None
        else among.group_by("person_id", "day", maintain_order=True).agg(pl.len().alias("events"))
    )
    daily = (
        event_rate(wider, days, roles, first_judged, bs, q=spec.q)
        .filter(pl.col("judged"))
        .drop("events")
        .join(flags, on=["person_id", "day"], how="left")
        .with_columns(
            pl.col("events").fill_null(0),
            pl.when(pl.col("events").fill_null(0) > 0)
            .then(pl.col("llr").clip(0, spec.day_cap))
            .otherwise(pl.col("llr").clip(upper_bound=0))
            .alias("llr"),
        )
        .sort("person_id", "day")
    )
    hits = daily.filter((pl.col("events") > 0) & (pl.col("llr") > 0))
    first = firsts.sort("at", "row").unique(["person_id", "day"], keep="first")
    found = _shape(hits.join(first, on=["person_id", "day"]), signal, detail)
    return found, _strength(cusum(daily), signal, "cusum")


def _first_use(act: pl.DataFrame, key: str) -> pl.DataFrame:
    return act.sort("at", "row").unique(["person_id", key], keep="first", maintain_order=True)


def signals(
    case_tz: str,
    act: pl.DataFrame,
    roles: pl.DataFrame,
    owners: pl.DataFrame,
    stale: pl.DataFrame | None,
    first_judged: date,
    *,
    baseline: BaselineSettings | None = None,
    settings: SignalSettings | None = None,
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """Every signal of every person-day, and the hour profile behind ``off_hours``.

    Parameters
    ----------
    case_tz : str
        The case's time zone (how times are written in ``detail``).
    act : pl.DataFrame
        :func:`forensics.watch.activity.activity`, localized
        (:func:`forensics.watch.baseline.localize`).
    roles : pl.DataFrame
        ``person_id``, ``role``.
    owners : pl.DataFrame
        :func:`forensics.watch.activity.desk_owners`.
    stale : pl.DataFrame, optional
        :func:`forensics.watch.hygiene.stale_accounts` (``after_leaving``).
    first_judged : date
        :func:`forensics.watch.baseline.warmup_end`.

    Returns
    -------
    (pl.DataFrame, pl.DataFrame, pl.DataFrame)
        The days each signal fired (:data:`SIGNAL_SCHEMA`, ``llr`` the
        day's weight), each person's strength per signal
        (:data:`STRENGTH_SCHEMA`: the CUSUM of the daily weights for the
        rate and hour signals, the sum for ``volume`` and
        ``after_leaving``, before caps), and the hour profile.
    """
    bs = baseline or BaselineSettings()
    st = settings or SignalSettings()
    days = act.select("person_id", "day").unique()
    profile = hour_profile(act, roles, first_judged, bs)
    parts = [_off_hours(profile, days, roles, first_judged, bs, st, case_tz)]

    usb = act.filter(pl.col("kind") == Kind.USB)
    new_dev = _first_use(usb, "device_key")
    parts.append(
        _rate_signal(
            "new_device",
            new_dev,
            days,
            roles,
            first_judged,
            bs,
            pl.format(
                "{} {} first used on {}{}",
                _local(case_tz),
                "device_key",
                "machine_id",
                pl.when(pl.col("serial")).then(pl.lit("")).otherwise(pl.lit(" (no serial logged)")),
            ),
        )
    )
    spread = (
        usb.filter(pl.col("serial"))
        .sort("at", "row")
        .group_by("person_id", "device_key", "day", maintain_order=True)
        .agg(
            pl.col("machine_id").n_unique().alias("machines"),
            pl.all().exclude("machine_id").first(),
        )
        .filter(pl.col("machines") >= st.spread_machines)
    )
    parts.append(
        _rate_signal(
            "device_spread",
            spread,
            days,
            roles,
            first_judged,
            bs,
            pl.format("{} {} on {} machines that day", _local(case_tz), "device_key", "machines"),
        )
    )

    at_machine = act.filter(
        pl.col("machine_id").is_not_null()
        & pl.col("kind").is_in([Kind.LOGON, Kind.LOGIN, Kind.USB])
    ).join(owners, on="machine_id", how="left")
    not_own = at_machine.filter(
        pl.col("owner_id").is_null() | (pl.col("owner_id") != pl.col("person_id"))
    )
    first_on = _first_use(not_own, "machine_id")
    parts.append(
        _rate_signal(
            "other_desk",
            first_on.filter(pl.col("owner_id").is_not_null()),
            days,
            roles,
            first_judged,
            bs,
            pl.format(
                "{} first time on {}, the desk of {}", _local(case_tz), "machine_id", "owner_id"
            ),
            among=first_on,
        )
    )
    parts.append(
        _rate_signal(
            "new_machine",
            first_on.filter(pl.col("owner_id").is_null()),
            days,
            roles,
            first_judged,
            bs,
            pl.format("{} first time on {}", _local(case_tz), "machine_id"),
            among=first_on,
        )
    )

    uploads = act.filter(pl.col("kind") == Kind.UPLOAD).sort("at")
    plugged = usb.select("person_id", "machine_id", pl.col("at").alias("usb_at")).sort("usb_at")
    after = uploads.join_asof(
        plugged,
        left_on="at",
        right_on="usb_at",
        by=["person_id", "machine_id"],
        strategy="backward",
        tolerance=st.upload_window,
        check_sortedness=False,  # both sorted by time above
    ).filter(pl.col("usb_at").is_not_null())
    parts.append(
        _rate_signal(
            "upload_after_usb",
            after,
            days,
            roles,
            first_judged,
            bs,
            pl.format(
                "{} upload on {} {} min after a USB connection",
                _local(case_tz),
                "machine_id",
                ((pl.col("at") - pl.col("usb_at")).dt.total_minutes()),
            ),
        )
    )

    summed = [_volume(act, roles, first_judged, st, case_tz)]
    if stale is not None and stale.height:
        summed.append(_after_leaving(stale, st, case_tz))
    for found in summed:
        total = found.group_by("person_id", "signal", maintain_order=True).agg(
            pl.col("llr").sum().alias("strength")
        )
        parts.append((found, total))
    found = pl.concat([f for f, _ in parts]).sort("person_id", "day", "signal")
    strength = pl.concat([s.cast(STRENGTH_SCHEMA) for _, s in parts])  # type: ignore[arg-type]
    return found, strength, profile


def _volume(
    act: pl.DataFrame, roles: pl.DataFrame, first_judged: date, st: SignalSettings, tz: str
) -> pl.DataFrame:
    orders = act.filter(pl.col("kind").is_in([Kind.ACCESS, Kind.EXPORT])).with_columns(
        pl.when(pl.col("kind") == Kind.EXPORT)
        .then(pl.col("volume"))
        .otherwise(pl.col("n"))
        .alias("orders")
    )
    daily = orders.group_by("person_id", "day", maintain_order=True).agg(
        pl.col("orders").sum().alias("volume")
    )
    biggest = orders.sort("orders", "at", descending=[True, False]).unique(
        ["person_id", "day"], keep="first"
    )
    judged = (
        volume_baseline(daily, roles, first_judged)
        .with_columns((st.volume_factor * pl.col("usual").clip(lower_bound=1)).alias("limit"))
        .filter(pl.col("judged") & (pl.col("volume") > pl.col("limit")))
        .with_columns((pl.col("volume") / pl.col("limit")).log().alias("llr"))
        .join(
            biggest.select("person_id", "day", "at", "kind", "source", "row"),
            on=["person_id", "day"],
        )
    )
    detail = pl.format(
        "{} {} orders in a day ({}), their usual at most {}",
        _local(tz),
        "volume",
        "kind",
        pl.col("usual").cast(pl.Int64),
    )
    return _shape(judged, "volume", detail)


def _after_leaving(stale: pl.DataFrame, st: SignalSettings, tz: str) -> pl.DataFrame:
    used = stale.filter(pl.col("uses_after_leaving") > 0).select(
        pl.col("owner_person_id").alias("person_id"),
        pl.col("first_use_at").alias("at"),
        pl.col("first_use_at").dt.convert_time_zone(tz).dt.date().alias("day"),
        pl.lit(st.after_leaving_llr).alias("llr"),
        "account_id",
        "left_on",
        "uses_after_leaving",
        "source",
        "row",
    )
    detail = pl.format(
        "{} account {} used {} times after its owner left on {}",
        _local(tz),
        "account_id",
        "uses_after_leaving",
        "left_on",
    )
    return _shape(used, "after_leaving", detail)
