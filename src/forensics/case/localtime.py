"""Local time of a case: its zone, instants as local text, shifts.

Every timestamp of a loaded case is held in UTC; people read them on the
case's clock (``case.timezone()``, from case.toml). These are the one place
an instant becomes local text, and the one test of "outside a person's
shift" (overnight shifts wrap; a closed weekday is outside).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import polars as pl

if TYPE_CHECKING:
    from .loader import Case

__all__ = ["ISO_LOCAL", "MINUTE", "zone", "local_text", "local_iso", "local_col", "off_shift"]

MINUTE = "%Y-%m-%d %H:%M"
"""Local time to the minute, for sentences and tables."""

ISO_LOCAL = "%Y-%m-%dT%H:%M:%S%:z"
"""ISO 8601 with the offset, for CSV and JSON."""


def zone(tz: str) -> ZoneInfo:
    """The zone named ``tz`` (an IANA name such as ``Asia/Shanghai``)."""
    return ZoneInfo(tz)


def local_text(t: datetime | None, tz: str, fmt: str = MINUTE, *, missing: str = "?") -> str:
    """An aware instant as local text (``missing`` when there is none)."""
    return t.astimezone(zone(tz)).strftime(fmt) if t is not None else missing


def local_iso(t: datetime | None, tz: str, **isoformat) -> str | None:
    """An aware instant as local ISO 8601 (None stays None); ``isoformat``
    passes on ``sep`` and ``timespec``."""
    return None if t is None else t.astimezone(zone(tz)).isoformat(**isoformat)


def local_col(col: str | pl.Expr, tz: str, fmt: str = MINUTE) -> pl.Expr:
    """A UTC timestamp column as local text."""
    c = pl.col(col) if isinstance(col, str) else col
    return c.dt.convert_time_zone(tz).dt.strftime(fmt)


def off_shift(case: Case, grace_min: int) -> pl.Expr:
    """True when ``local_min`` / ``weekday`` fall outside the person's shift
    (``shift_start_min``..``shift_end_min``, overnight shifts wrap, with
    ``grace_min`` minutes either side) or on a day the shop is closed."""
    s, e, m = pl.col("shift_start_min"), pl.col("shift_end_min"), pl.col("local_min")
    inside = (
        pl.when(s <= e)
        .then((m >= s - grace_min) & (m <= e + grace_min))
        .otherwise((m >= s - grace_min) | (m <= e + grace_min))
    )
    return ~inside | ~pl.col("weekday").is_in(list(case.meta.weekdays))
