"""Back-office sessions from login/logout events.

A session is one login of an account at one place (a machine, or an IP when
the login came from outside the office) until its logout. Where the log has
``session_id`` the rows are grouped by it; where it is empty, each login is
paired with the next logout of the same account at the same place. A login
with no logout stays open until ``max_duration`` after it (or the next login
at the same place, whichever is first): the session end is then marked
``estimated``.
"""

from __future__ import annotations

import secrets
from datetime import timedelta

import polars as pl

from ..case import Case, typed_like

__all__ = ["sessionize", "assign_sessions", "PLACE"]

PLACE = "place"
"""Where a session happened: the machine id, or ``ip:ADDR`` from outside."""


def _place() -> pl.Expr:
    return (
        pl.when(pl.col("machine_id").is_not_null())
        .then(pl.col("machine_id"))
        .otherwise(pl.lit("ip:") + pl.col("ip").fill_null("?"))
        .alias(PLACE)
    )


def sessionize(case: Case, *, max_duration: timedelta = timedelta(hours=12)) -> pl.DataFrame:
    """Reconstruct back-office sessions.

    Parameters
    ----------
    case : Case
    max_duration : timedelta
        How long a session with no logout is assumed to last at most.

    Returns
    -------
    pl.DataFrame
        One row per session: ``session_key``, ``session_id`` (as logged, may
        be null), ``account_id``, ``machine_id``, ``ip``, ``place``,
        ``outside_office``, ``start``, ``end``, ``end_estimated``,
        ``login_row``, ``logout_row``.
    """
    logins = case.logins.with_columns(_place())
    ok = logins.filter(pl.col("action").is_in(["login", "logout"]))

    with_sid = ok.filter(pl.col("session_id").is_not_null())
    by_sid = (
        with_sid.sort("at", "_row")
        .group_by("session_id", maintain_order=True)
        .agg(
            pl.col("account_id").filter(pl.col("action") == "login").first(),
            pl.col("machine_id").filter(pl.col("action") == "login").first(),
            pl.col("ip").filter(pl.col("action") == "login").first(),
            pl.col(PLACE).filter(pl.col("action") == "login").first(),
            pl.col("at").filter(pl.col("action") == "login").min().alias("start"),
            pl.col("at").filter(pl.col("action") == "logout").max().alias("end"),
            pl.col("_row").filter(pl.col("action") == "login").first().alias("login_row"),
            pl.col("_row").filter(pl.col("action") == "logout").last().alias("logout_row"),
            # A session id whose login was lost still tells where it was.
            pl.col("account_id").first().alias("_acc_any"),
            pl.col(PLACE).first().alias("_place_any"),
            pl.col("machine_id").first().alias("_m_any"),
            pl.col("ip").first().alias("_ip_any"),
            pl.col("at").min().alias("_first_at"),
        )
        .with_columns(
            pl.coalesce("account_id", "_acc_any").alias("account_id"),
            pl.coalesce(PLACE, "_place_any").alias(PLACE),
            pl.coalesce("machine_id", "_m_any").alias("machine_id"),
            pl.coalesce("ip", "_ip_any").alias("ip"),
            pl.coalesce("start", "_first_at").alias("start"),
        )
        .drop("_acc_any", "_place_any", "_m_any", "_ip_any", "_first_at")
        .with_columns(pl.lit("S:").add(pl.col("session_id")).alias("session_key"))
    )

    # No session id: pair each login with the following logout at the same place.
    paired = (
        ok.filter(pl.col("session_id").is_null())
        .sort("account_id", PLACE, "at", "_row")
        .with_columns(
            pl.col("action")
            .eq("login")
            .cast(pl.Int64)
            .cum_sum()
            .over("account_id", PLACE)
            .alias("_n")
        )
        .filter(pl.col("_n") > 0)  # a logout before any login pairs with nothing
        .group_by("account_id", PLACE, "_n", maintain_order=True)
        .agg(
            pl.col("machine_id").first(),
            pl.col("ip").first(),
            pl.col("at").first().alias("start"),
            pl.col("at").filter(pl.col("action") == "logout").first().alias("end"),
            pl.col("_row").first().alias("login_row"),
            pl.col("_row").filter(pl.col("action") == "logout").first().alias("logout_row"),
        )
        .with_columns(
            pl.lit(None, dtype=pl.String).alias("session_id"),
            pl.format("{}@{}#{}", "account_id", PLACE, "_n").alias("session_key"),
        )
        .drop("_n")
    )

    cols = [
        "session_key",
        "session_id",
        "account_id",
        "machine_id",
        "ip",
        PLACE,
        "start",
        "end",
        "login_row",
        "logout_row",
    ]
    sessions = pl.concat([by_sid.select(cols), paired.select(cols)], how="vertical_relaxed")
    limit = pl.col("start") + max_duration
    next_start = pl.col("start").shift(-1).over("account_id", PLACE, order_by="start")
    return (
        sessions.sort("start", "session_key")
        .with_columns(
            pl.col("end").is_null().alias("end_estimated"),
            pl.when(pl.col("end").is_not_null())
            .then(pl.col("end"))
            .otherwise(pl.min_horizontal(limit, next_start.fill_null(limit)))
            .alias("end"),
            pl.col("machine_id").is_null().alias("outside_office"),
        )
        .select(cols[:6] + ["outside_office", "start", "end", "end_estimated"] + cols[8:])
    )


def _where(seed: int) -> pl.Expr:
    """A seeded 64-bit hash of (account, place): the account, and the machine,
    or the IP when the access came from outside the office (as ``place``)."""
    outside_ip = pl.when(pl.col("machine_id").is_null()).then(pl.col("ip"))
    return pl.struct(pl.col("account_id"), pl.col("machine_id"), outside_ip).hash(seed)


def assign_sessions(events: pl.DataFrame, sessions: pl.DataFrame) -> pl.DataFrame:
    """Attach ``session_key`` to events that have ``at``, ``account_id``,
    ``machine_id`` and ``ip``: the latest session of that account at that
    place that started before the event and had not ended. Events outside
    any session keep a null key (itself worth a look: access with no login).
    The key is ``Categorical`` (compare it with strings as usual; cast it to
    ``String`` to join it with a ``String`` column).

    The account and place are matched by a seeded 64-bit hash of the pair
    rather than as two strings (building the place of millions of events
    and joining on strings cost most of the time), and a match counts only
    if a second, independent hash agrees too: a wrong match needs both to
    collide.
    """
    first, second = secrets.randbits(64), secrets.randbits(64)
    # Events already in time order (the usual log) need no sort at all.
    in_order = events["at"].is_sorted() and events["at"].null_count() == 0
    left = events.lazy().select("at", _where(first).alias("_g"), _where(second).alias("_v"))
    if not in_order:
        left = left.with_row_index("_i").sort("at")
    # Hashed as the events hold them (the access log's ids are coded).
    right = (
        typed_like(sessions.lazy(), events, "account_id", "machine_id", "ip")
        .select(
            "start",
            "end",
            # A number per event rather than a string: on a large case the
            # keys would take more memory than any other column.
            pl.col("session_key").cast(pl.Categorical),
            _where(first).alias("_g"),
            _where(second).alias("_w"),
        )
        .sort("start")
    )
    joined = left.join_asof(
        right,
        left_on="at",
        right_on="start",
        by="_g",
        strategy="backward",
        check_sortedness=False,
    )
    key = joined.select(
        *([] if in_order else ["_i"]),
        pl.when(
            (pl.col("_v") == pl.col("_w")) & (pl.col("at") <= pl.col("end") + timedelta(minutes=5))
        )
        .then(pl.col("session_key"))
        .alias("session_key"),
    )
    if not in_order:
        key = key.sort("_i")
    return events.with_columns(key.collect().get_column("session_key"))
