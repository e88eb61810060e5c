"""Columns the loader derives once, so that every consumer reads the same value.

``endpoint.device_key`` (CASE_FORMAT 1.1): many endpoint logs (DLP agents,
the Partition/Diagnostic log of a drive without a serial) record only that
*a* drive was connected on a machine by a user. Each such connection is one
device for the engine, the audit and the timeline alike, named by where,
who and when; a device with a serial is named by its serial.
"""

from __future__ import annotations

import polars as pl

from .schema import TABLES, USB_KINDS

__all__ = ["derive", "device_key"]


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


def derive(name: str, frame: pl.DataFrame) -> pl.DataFrame:
    """``frame`` (table ``name``, checked) with its derived columns computed."""
    if name == "endpoint" and TABLES[name].derived and frame.height:
        return frame.with_columns(device_key())
    return frame
