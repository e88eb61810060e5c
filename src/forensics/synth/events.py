"""Collect generated rows per table and turn them into frames.

Small tables (logins, camera, badge, endpoint) grow one row at a time from
the per person-day simulation; big ones (access) arrive as whole polars
frames from vectorised code. :meth:`Recorder.frame` merges both, cuts
everything the shop could not have logged before the case was opened,
orders rows by time and numbers them.

Inside the generator timestamps are local seconds (``Int64``); they become
text only when written.
"""

from __future__ import annotations

from typing import Any

import polars as pl

from ..case.schema import TABLES, ColumnKind

__all__ = ["Recorder", "internal_schema", "TIME_COLUMN", "ID_PREFIX"]

# The column that orders each table in time (and is cut at case opening).
TIME_COLUMN = {
    "logins": "at",
    "access": "at",
    "endpoint": "at",
    "badge": "at",
    "camera": "start_at",
    "complaints": "received_at",
}
# Event ids: prefix and the id column (tables that number their rows).
ID_PREFIX = {
    "logins": ("event_id", "L"),
    "access": ("event_id", "A"),
    "endpoint": ("event_id", "E"),
    "camera": ("sighting_id", "V"),
    "complaints": ("complaint_id", "C"),
}
# Extra columns the generator keeps while building (dropped when written).
_EXTRAS: dict[str, dict[str, pl.DataType]] = {
    "access": {"_leak": pl.Boolean()},
}
# Low-cardinality text of the big access table is held as categories while
# generating (a third of the memory at ten million orders); text when written.
_CATEGORICAL = {"access": ("account_id", "machine_id", "ip", "action")}

_INTERNAL = {
    ColumnKind.TIMESTAMP: pl.Int64(),
    ColumnKind.DATE: pl.Date(),
    ColumnKind.CLOCK: pl.String(),
    ColumnKind.BOOL: pl.Boolean(),
    ColumnKind.INT: pl.Int64(),
    ColumnKind.FLOAT: pl.Float64(),
}


def internal_schema(table: str) -> pl.Schema:
    """Column types while generating: timestamps are local seconds."""
    categorical = _CATEGORICAL.get(table, ())
    cols = [
        (c.name, pl.Categorical() if c.name in categorical else _INTERNAL.get(c.kind, pl.String()))
        for c in TABLES[table].columns
    ]
    cols += list(_EXTRAS.get(table, {}).items())
    return pl.Schema(cols)


class Recorder:
    """Rows and frames of every table, plus the back-office sessions.

    Sessions are the generator's own bookkeeping (who was logged in where,
    when): vectorised order access is assigned to them, so every view or
    label print happens inside a plausible session.
    """

    def __init__(self) -> None:
        self._rows: dict[str, list[dict[str, Any]]] = {t: [] for t in TABLES}
        self._frames: dict[str, list[pl.DataFrame]] = {t: [] for t in TABLES}
        self._sessions: list[dict[str, Any]] = []

    def add(self, table: str, **row: Any) -> None:
        self._rows[table].append(row)

    def add_frame(self, table: str, frame: pl.DataFrame) -> None:
        self._frames[table].append(frame)

    def add_session(self, **session: Any) -> int:
        key = len(self._sessions)
        self._sessions.append({"skey": key, **session})
        return key

    def sessions(self) -> pl.DataFrame:
        """Sessions: skey, person_id, account_id, machine_id, ip, start, end, pool."""
        schema = {
            "skey": pl.Int64,
            "person_id": pl.String,
            "account_id": pl.String,
            "machine_id": pl.String,
            "ip": pl.String,
            "start": pl.Int64,
            "end": pl.Int64,
            "pool": pl.String,
        }
        return pl.DataFrame(self._sessions, schema=schema, orient="row")

    def frame(self, table: str, *, until: int | None = None) -> pl.DataFrame:
        """All rows of ``table``, cut at ``until``, ordered by time, numbered.

        Hands the rows over: the recorder forgets them, so a ten-million-row
        access table is not held twice.
        """
        schema = internal_schema(table)
        frames = [pl.DataFrame(self._rows.pop(table), schema=schema, orient="row")]
        frames += self._frames.pop(table)
        self._rows[table], self._frames[table] = [], []
        parts = []
        while frames:
            f = frames.pop(0)
            parts.append(
                f.lazy()
                .select(
                    pl.col(c).cast(t) if c in f.columns else pl.lit(None, t).alias(c)
                    for c, t in schema.items()
                )
                .collect()
            )
            del f
        df = pl.concat(parts, how="vertical", rechunk=False)
        del parts
        time_col = TIME_COLUMN.get(table)
        if time_col is not None:
            if until is not None:
                df = df.filter(pl.col(time_col) < until)
                if table == "camera":
                    df = df.with_columns(
                        pl.when(pl.col("end_at") < until).then(pl.col("end_at")).alias("end_at")
                    )
            df = df.sort(time_col, maintain_order=True)
        if table in ID_PREFIX:
            col, prefix = ID_PREFIX[table]
            width = max(6, len(str(df.height)))
            df = df.with_columns(
                (
                    pl.lit(prefix)
                    + (pl.int_range(1, df.height + 1).cast(pl.String).str.zfill(width))
                ).alias(col)
            )
        return df
