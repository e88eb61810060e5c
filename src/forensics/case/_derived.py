"""Columns the loader derives once, so that every consumer reads the same value.

``endpoint.user_person_id`` (CASE_FORMAT 1.1): the staff member whose
``os_users`` lists the event's ``user``. Names are compared without regard to
case; an ``os_users`` entry without a domain (``li.na``) also matches any
domain's account of that name (``SHOP\\li.na``), one with a domain only that
domain's. A name listed for two people ties the event to neither.

``endpoint.device_key`` (CASE_FORMAT 1.1): many endpoint logs (DLP agents,
the Partition/Diagnostic log of a drive without a serial) record only that
*a* drive was connected on a machine by a user. Each such connection is one
device for the engine, the audit and the timeline alike, named by where,
who and when; a device with a serial is named by its serial.
"""

from __future__ import annotations

import polars as pl

from .schema import USB_KINDS

__all__ = ["derive", "device_key", "user_person"]


def device_key() -> pl.Expr:
    """The ``device_key`` of endpoint rows (see :mod:`forensics.schema`).

    >>> from datetime import datetime, timezone
    >>> frame = pl.DataFrame({"kind": ["usb_connect", "usb_connect", "logon"],
    ...     "device_id": ["4C5300", None, None], "machine_id": ["PC-1"] * 3,
    ...     "user": [None, "SHOP\\\\li", "SHOP\\\\li"],
    ...     "at": [datetime(2024, 4, 4, 7, 12, 31, tzinfo=timezone.utc)] * 3})
    >>> frame.select(device_key())["device_key"].to_list()
    ['4C5300', 'unidentified drive on PC-1 by SHOP\\\\li at 2024-04-04T07:12:31Z', None]
    """
    anonymous = pl.format(
        "unidentified drive on {} by {} at {}",
        pl.col("machine_id").fill_null("?"),
        pl.col("user").fill_null("?"),
        pl.col("at").dt.convert_time_zone("UTC").dt.strftime("%Y-%m-%dT%H:%M:%SZ"),
    )
    return (
        pl.when(pl.col("kind").is_in(USB_KINDS))
        .then(pl.coalesce(pl.col("device_id"), anonymous))
        .otherwise(None)
        .cast(pl.String)
        .alias("device_key")
    )


def _owners(staff: pl.DataFrame, key: pl.Expr) -> pl.DataFrame:
    """os user key -> person_id, for keys that name exactly one person."""
    listed = (
        staff.select("person_id", pl.col("os_users").alias("_user"))
        .explode("_user")
        .drop_nulls()
        .select(key.alias("_key"), "person_id")
        .drop_nulls()
        .unique()
    )
    return listed.filter(pl.len().over("_key") == 1)


def user_person(endpoint: pl.DataFrame, staff: pl.DataFrame) -> pl.Series:
    """``user_person_id`` of each endpoint row (see the module docstring)."""
    if "os_users" not in staff.columns or endpoint.is_empty():
        return pl.Series("user_person_id", [None] * endpoint.height, dtype=pl.String)
    user = pl.col("_user").str.to_lowercase()
    full = _owners(staff, user)
    bare = _owners(staff, pl.when(~user.str.contains("\\", literal=True)).then(user))
    keys = endpoint.select(
        pl.col("user").str.to_lowercase().alias("_key"),
        pl.col("user").str.to_lowercase().str.split("\\").list.last().alias("_bare"),
    )
    matched = keys.join(full, on="_key", how="left", maintain_order="left").join(
        bare.rename({"_key": "_bare", "person_id": "_by_name"}),
        on="_bare",
        how="left",
        maintain_order="left",
    )
    return matched.select(pl.coalesce("person_id", "_by_name").alias("user_person_id")).to_series()


def derive(name: str, frame: pl.DataFrame, tables: dict[str, pl.DataFrame]) -> pl.DataFrame:
    """``frame`` (table ``name``, checked) with its derived columns computed.

    ``tables`` holds the tables loaded before it (staff comes first).
    """
    if name == "endpoint" and frame.height:
        staff = tables.get("staff")
        people = user_person(frame, staff) if staff is not None else None
        frame = frame.with_columns(device_key())
        if people is not None:
            frame = frame.with_columns(people)
    return frame
