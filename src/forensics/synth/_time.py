"""Clock arithmetic of the generator.

Every time inside the generator is an integer count of seconds since
1970-01-01T00:00:00 *in the case's local time zone* ("local seconds"). The
case zone (Asia/Shanghai) has had no daylight saving since 1991, so local
seconds are a plain monotonic clock and a naive ISO string is one
``strftime`` away. Only ``truth.json`` carries explicit offsets.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import numpy as np
import polars as pl

__all__ = [
    "MINUTE",
    "HOUR",
    "DAY",
    "UTC_OFFSET",
    "TIMEZONE",
    "seconds",
    "day_seconds",
    "to_datetime",
    "to_date",
    "iso_with_offset",
    "clock",
    "local_text",
]

MINUTE = 60
HOUR = 3600
DAY = 86400
TIMEZONE = "Asia/Shanghai"
UTC_OFFSET = "+08:00"

_EPOCH = datetime(1970, 1, 1)


def seconds(at: datetime) -> int:
    """Local seconds of a naive local datetime."""
    return int((at - _EPOCH).total_seconds())


def day_seconds(day: date) -> int:
    """Local seconds of midnight starting ``day``."""
    return (day - _EPOCH.date()).days * DAY


def to_datetime(sec: int) -> datetime:
    """Naive local datetime of local seconds."""
    return _EPOCH + timedelta(seconds=int(sec))


def to_date(sec: int) -> date:
    """Local calendar day holding local seconds ``sec``."""
    return to_datetime(sec).date()


def iso_with_offset(sec: int | None) -> str | None:
    """ISO 8601 with the case's UTC offset, as truth.json records times."""
    if sec is None:
        return None
    return to_datetime(sec).isoformat(timespec="seconds") + UTC_OFFSET


def clock(minutes: int) -> str:
    """``HH:MM`` of minutes after midnight (a shift boundary)."""
    minutes %= 24 * 60
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def local_text(values: pl.Series | np.ndarray, *, sep: str = "T", suffix: str = "") -> pl.Series:
    """Local seconds to naive ISO text (nulls stay null)."""
    s = pl.Series(values, dtype=pl.Int64) if not isinstance(values, pl.Series) else values
    text = pl.from_epoch(s, time_unit="s").dt.strftime(f"%Y-%m-%d{sep}%H:%M:%S")
    return text + suffix if suffix else text
