"""Who did what, when and where: every source's activity tied to a person.

The watch measures people, not accounts or machines, so every row that says
someone was at work is first tied to a person:

============================  ================================================
source                        person
============================  ================================================
``endpoint.csv`` (any kind)   the ``user`` column (CASE_FORMAT 1.1) matched to
                              ``staff.csv`` ``os_users``; without it, whoever
                              the camera saw at that machine then (±15 min);
                              else whoever last logged on to that machine
                              within ``attribution_window``; else the desk's
                              owner
``logins.csv`` ``login``      the account's owner (``accounts.csv``)
``access.csv``                the account's owner; app and ownerless accounts
                              are left out (they are no one's behaviour)
``camera.csv``, ``badge.csv`` the person named (a sighting's start, a granted
                              swipe): presence, for the hours only
============================  ================================================

Both 1.1 columns are optional: a case without them still loads, and the
watch falls back as above. An operating-system name matches with or
without its domain (``SHOP\\li.na`` and ``li.na``), case-insensitively.

:func:`activity` returns one row per endpoint event and back-office login,
and one row per person, hour, action and machine for order access (a large
case has tens of millions of access rows; the watch needs their hours,
machines and volume, not each row), each with the file and first row
behind it.
"""

from __future__ import annotations

from datetime import timedelta

import polars as pl

from ..case import Case, as_text

__all__ = ["ACTIVITY_SCHEMA", "Kind", "activity", "os_user_map", "desk_owners"]


class Kind:
    """The kinds of activity row (plain strings in the frame)."""

    LOGON = "logon"  # endpoint logon / logoff
    LOGIN = "login"  # back-office login
    ACCESS = "access"  # order views, label prints, searches
    EXPORT = "export"  # exports and API pulls (volume = orders exposed)
    USB = "usb"  # a removable device connected
    UPLOAD = "upload"  # endpoint net_upload
    PRESENCE = "presence"  # camera sighting, badge swipe
    ALL = ("logon", "login", "access", "export", "usb", "upload", "presence")


ACTIVITY_SCHEMA = pl.Schema(
    {
        "person_id": pl.String,
        "at": pl.Datetime("us", "UTC"),
        "kind": pl.String,
        "machine_id": pl.String,
        "device_key": pl.String,  # usb only: serial, or "drive on M by P"
        "serial": pl.Boolean,  # usb only: the log recorded a serial
        "n": pl.Int64,  # events in the row
        "volume": pl.Int64,  # orders exposed
        "source": pl.String,
        "row": pl.Int64,
    }
)

_ENDPOINT_KINDS = {
    "logon": Kind.LOGON,
    "logoff": Kind.LOGON,
    "usb_connect": Kind.USB,
    "net_upload": Kind.UPLOAD,
}


def _bare(expr: pl.Expr) -> pl.Expr:
    """An OS account name without its domain, lower-case."""
    return expr.str.to_lowercase().str.strip_chars().str.replace(r"^.*[\\/]", "")


def os_user_map(case: Case) -> pl.DataFrame:
    """``os_user`` (bare, lower-case) to ``person_id`` from ``staff.os_users``.

    ``os_users`` may be ``;``-separated text (kept as an extra column by a
    loader before CASE_FORMAT 1.1) or a list (a 1.1 loader). Empty when the
    staff list has no ``os_users`` column. A name listed for
    two people is ambiguous and left out.
    """
    if "os_users" not in case.staff.columns:
        return pl.DataFrame(schema={"os_user": pl.String, "person_id": pl.String})
    names = pl.col("os_users")
    if not isinstance(case.staff.schema["os_users"], pl.List):  # a loader before 1.1: text
        names = names.cast(pl.String).str.split(";")
    return (
        case.staff.select("person_id", names.cast(pl.List(pl.String)).alias("os_user"))
        .explode("os_user")
        .with_columns(_bare(pl.col("os_user")).alias("os_user"))
        .filter(pl.col("os_user").is_not_null() & (pl.col("os_user") != ""))
        .unique(["os_user", "person_id"])
        .filter(pl.len().over("os_user") == 1)
        .select("os_user", "person_id")
    )


def desk_owners(case: Case) -> pl.DataFrame:
    """``machine_id`` to the person whose desk it is (machines.csv, else staff.csv)."""
    by_machine = case.machines.select(
        "machine_id", pl.col("assigned_person_id").alias("owner_id")
    ).filter(pl.col("owner_id").is_not_null())
    by_staff = (
        case.staff.select(pl.col("desk_machine_id").alias("machine_id"), pl.col("person_id"))
        .filter(pl.col("machine_id").is_not_null())
        .unique("machine_id", keep="first")
        .rename({"person_id": "owner_id"})
    )
    return pl.concat([by_machine, by_staff.join(by_machine, on="machine_id", how="anti")])


def _endpoint(case: Case, window: timedelta) -> pl.DataFrame:
    ep = case.endpoint.filter(pl.col("kind").is_in(list(_ENDPOINT_KINDS)))
    src = case.source("endpoint")
    user = pl.col("user").cast(pl.String) if "user" in ep.columns else pl.lit(None, pl.String)
    ep = ep.select(
        "at",
        "machine_id",
        pl.col("kind").replace_strict(_ENDPOINT_KINDS, return_dtype=pl.String),
        pl.col("device_id"),
        _bare(user).alias("os_user"),
        pl.col("_row").cast(pl.Int64).alias("row"),
    ).join(os_user_map(case), on="os_user", how="left")
    seen = _seen_at(
        case, ep.filter(pl.col("person_id").is_null()).select("machine_id", "at", "row")
    )
    ep = ep.join(seen, on="row", how="left").with_columns(
        pl.coalesce("person_id", "_seen").alias("person_id")
    )
    # Without a user, the last person known to have logged on to the machine.
    logged = (
        ep.filter((pl.col("kind") == Kind.LOGON) & pl.col("person_id").is_not_null())
        .select("machine_id", "at", pl.col("person_id").alias("_last"))
        .sort("at")
    )
    ep = (
        ep.sort("at")
        .join_asof(
            logged,
            on="at",
            by="machine_id",
            strategy="backward",
            tolerance=window,
            check_sortedness=False,  # sorted by time above, as a whole
        )
        .join(desk_owners(case), on="machine_id", how="left")
        .with_columns(pl.coalesce("person_id", "_last", "owner_id").alias("person_id"))
        .filter(pl.col("person_id").is_not_null())
    )
    usb = pl.col("kind") == Kind.USB
    key = (
        pl.when(pl.col("device_id").is_not_null())
        .then(pl.col("device_id"))
        .otherwise(pl.format("a drive on {} by {}", "machine_id", "person_id"))
    )
    return ep.select(
        "person_id",
        "at",
        "kind",
        "machine_id",
        pl.when(usb).then(key).alias("device_key"),
        pl.when(usb).then(pl.col("device_id").is_not_null()).alias("serial"),
        pl.lit(1, pl.Int64).alias("n"),
        pl.lit(0, pl.Int64).alias("volume"),
        pl.lit(src).alias("source"),
        "row",
    )


def _seen_at(case: Case, rows: pl.DataFrame, tolerance: timedelta = timedelta(minutes=15)):
    """``row`` -> ``_seen``: who the camera saw at the machine at the time.

    A sighting at that machine spanning the event (widened by
    ``tolerance``, the camera clock being unsynchronized), the latest that
    started before it, else the first starting within ``tolerance`` after.
    """
    cam = case.camera.filter(pl.col("person_id").is_not_null() & pl.col("machine_id").is_not_null())
    empty = pl.DataFrame(schema={"row": pl.Int64, "_seen": pl.String})
    if cam.is_empty() or rows.is_empty():
        return empty
    cam = cam.select(
        "machine_id",
        pl.col("start_at").alias("_start"),
        pl.coalesce("end_at", "start_at").alias("_end"),
        pl.col("person_id").alias("_seen"),
    ).sort("_start")
    rows = rows.sort("at")
    before = rows.join_asof(
        cam,
        left_on="at",
        right_on="_start",
        by="machine_id",
        strategy="backward",
        check_sortedness=False,
    ).filter(pl.col("at") <= pl.col("_end") + tolerance)
    after = rows.join_asof(
        cam,
        left_on="at",
        right_on="_start",
        by="machine_id",
        strategy="forward",
        tolerance=tolerance,
        check_sortedness=False,
    ).filter(pl.col("_seen").is_not_null())
    return (
        pl.concat([before.select("row", "_seen"), after.select("row", "_seen")])
        .unique("row", keep="first", maintain_order=True)
        .cast({"row": pl.Int64})
    )


def _presence(case: Case) -> pl.DataFrame:
    """Camera sightings and granted badge swipes of known people (hours only)."""
    cam = case.camera.filter(pl.col("person_id").is_not_null()).select(
        "person_id",
        pl.col("start_at").alias("at"),
        pl.lit(Kind.PRESENCE).alias("kind"),
        "machine_id",
        pl.lit(case.source("camera")).alias("source"),
        pl.col("_row").cast(pl.Int64).alias("row"),
    )
    badge = case.badge.filter(
        pl.col("person_id").is_not_null() & (pl.col("result").fill_null("granted") == "granted")
    ).select(
        "person_id",
        "at",
        pl.lit(Kind.PRESENCE).alias("kind"),
        pl.lit(None, pl.String).alias("machine_id"),
        pl.lit(case.source("badge")).alias("source"),
        pl.col("_row").cast(pl.Int64).alias("row"),
    )
    return pl.concat([cam, badge]).with_columns(
        pl.lit(None, pl.String).alias("device_key"),
        pl.lit(None, pl.Boolean).alias("serial"),
        pl.lit(1, pl.Int64).alias("n"),
        pl.lit(0, pl.Int64).alias("volume"),
    )


def _owners(case: Case) -> pl.DataFrame:
    apps = case.apps["account_id"].drop_nulls().to_list() if "account_id" in case.apps else []
    return case.accounts.filter(
        pl.col("owner_person_id").is_not_null()
        & (pl.col("kind").fill_null("") != "app")
        & ~pl.col("account_id").is_in(apps)
    ).select("account_id", pl.col("owner_person_id").alias("person_id"))


def _logins(case: Case, owners: pl.DataFrame) -> pl.DataFrame:
    return (
        case.logins.filter(pl.col("action") == "login")
        .join(owners, on="account_id")
        .select(
            "person_id",
            "at",
            pl.lit(Kind.LOGIN).alias("kind"),
            "machine_id",
            pl.lit(None, pl.String).alias("device_key"),
            pl.lit(None, pl.Boolean).alias("serial"),
            pl.lit(1, pl.Int64).alias("n"),
            pl.lit(0, pl.Int64).alias("volume"),
            pl.lit(case.source("logins")).alias("source"),
            pl.col("_row").cast(pl.Int64).alias("row"),
        )
    )


def _access(case: Case, owners: pl.DataFrame, events: pl.DataFrame | None) -> pl.DataFrame:
    # Lazy: a large case has tens of millions of access rows, grouped here
    # into a row per person, hour, kind and machine; none is copied whole.
    if events is not None:
        acc = events.lazy().select(
            "account_id",
            "at",
            "machine_id",
            "action",
            (pl.col("hi") - pl.col("lo")).cast(pl.Int64).alias("volume"),
            pl.col("_row").cast(pl.Int64),
        )
    else:
        acc = as_text(case.access_lean.lazy()).select(
            "account_id",
            "at",
            "machine_id",
            "action",
            pl.col("rows").fill_null(1).cast(pl.Int64).alias("volume"),
            pl.col("_row").cast(pl.Int64),
        )
    bulk = pl.col("action").is_in(["export_orders", "api_pull"])
    return (
        acc.join(owners.lazy(), on="account_id")
        .with_columns(
            pl.when(bulk).then(pl.lit(Kind.EXPORT)).otherwise(pl.lit(Kind.ACCESS)).alias("kind"),
            pl.col("at").dt.truncate("1h").alias("_hour"),
        )
        .group_by("person_id", "_hour", "kind", "machine_id", maintain_order=True)
        .agg(
            pl.col("at").min(),
            pl.len().cast(pl.Int64).alias("n"),
            pl.col("volume").sum(),
            pl.col("_row").min().alias("row"),
        )
        .select(
            "person_id",
            "at",
            "kind",
            "machine_id",
            pl.lit(None, pl.String).alias("device_key"),
            pl.lit(None, pl.Boolean).alias("serial"),
            "n",
            "volume",
            pl.lit(case.source("access")).alias("source"),
            "row",
        )
        .collect()
        # A fixed order: sums over these rows then give the same bits every run.
        .sort("person_id", "at", "kind", "machine_id", "row", nulls_last=True)
    )


def activity(
    case: Case,
    events: pl.DataFrame | None = None,
    *,
    attribution_window: timedelta = timedelta(hours=12),
) -> pl.DataFrame:
    """Every person's activity from every source (see the module table).

    Parameters
    ----------
    case : Case
    events : pl.DataFrame, optional
        :func:`forensics.exposure.exposure_events` of the case; export
        volume is then the orders each export exposed, else ``access.rows``.
    attribution_window : timedelta
        How long after a logon an endpoint row with no user is taken to be
        the same person's.

    Returns
    -------
    pl.DataFrame
        :data:`ACTIVITY_SCHEMA`, sorted by person and time.
    """
    owners = _owners(case)
    parts = [
        _endpoint(case, attribution_window),
        _logins(case, owners),
        _access(case, owners, events),
        _presence(case),
    ]
    return pl.concat([p.select(list(ACTIVITY_SCHEMA)).cast(ACTIVITY_SCHEMA) for p in parts]).sort(  # type: ignore[arg-type]
        "person_id", "at", "source", "row"
    )
