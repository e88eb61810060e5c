"""What a case folder holds, file by file: the ``forensics validate`` report.

:func:`validation_rows` is the table (one row per input file: how many rows
were read, accepted and set aside, the time span covered, the hash);
:func:`print_validation` prints it with the first quarantine reasons, the
unregistered entities and the unlisted values (descriptive values outside
the contract's lists, kept), and says whether the case can be investigated.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import polars as pl

from ..privacy import PERSONAL_COLUMNS, mask_address, mask_name, mask_phone, mask_phone_numbers
from .loader import Case, CaseError, load
from .schema import REQUIRED_TABLES, TABLES, ColumnKind

__all__ = ["main_timestamp", "validation_rows", "print_validation"]

_MASKS = {"buyer_name": mask_name, "phone": mask_phone, "address": mask_address}
_SHA_CHARS = 12
_SHOWN_VALUE_CHARS = 60

_ROWS_SCHEMA = {
    "file": pl.String,
    "rows": pl.Int64,
    "accepted": pl.Int64,
    "quarantined": pl.Int64,
    "unregistered": pl.Int64,
    "unlisted": pl.Int64,
    "sha256": pl.String,
}
_COLUMNS = (
    "file",
    "rows",
    "accepted",
    "quarantined",
    "unregistered",
    "unlisted",
    "first",
    "last",
    "sha256",
)


def main_timestamp(table: str) -> str | None:
    """The column that dates a row of ``table`` (None when it has none).

    The first required timestamp column (``logins.at``,
    ``orders.placed_at``), else the first timestamp column
    (``accounts.created_at``).
    """
    stamps = [c for c in TABLES[table].columns if c.kind is ColumnKind.TIMESTAMP]
    required = [c for c in stamps if c.required]
    chosen = (required or stamps or [None])[0]
    return chosen.name if chosen is not None else None


def _span(case: Case, table: str | None) -> tuple[object, object]:
    column = main_timestamp(table) if table else None
    if column is None:
        return None, None
    times = case[table][column].drop_nulls()
    if times.is_empty():
        return None, None
    local = times.dt.convert_time_zone(case.meta.timezone)
    return local.min(), local.max()


def flagged_lines(case: Case) -> tuple[dict[str, int], dict[str, int]]:
    """Per input file, the lines of ``case.unregistered`` (ids missing from
    the table they refer to) and of ``case.unlisted`` (descriptive values the
    contract does not list): rows accepted and kept, but worth a look."""
    return (
        dict(case.unregistered.group_by("file").len().iter_rows()),
        dict(case.unlisted.group_by("file").len().iter_rows()),
    )


def validation_rows(case: Case) -> pl.DataFrame:
    """One row per input file, in file name order.

    Returns
    -------
    pl.DataFrame
        ``file, rows, accepted, quarantined, unregistered`` (lines of
        ``case.unregistered`` from that file), ``unlisted`` (lines of
        ``case.unlisted``: accepted cells whose descriptive value the
        contract does not list), ``first, last`` (time span of
        the table's main timestamp, in the case's zone; null without one)
        and ``sha256`` (first 12 hex digits).
    """
    unregistered, unlisted = flagged_lines(case)
    records, firsts, lasts = [], [], []
    for f in case.inputs:
        first, last = _span(case, f.table)
        firsts.append(first)
        lasts.append(last)
        records.append(
            {
                "file": f.file,
                "rows": f.rows,
                "accepted": f.accepted,
                "quarantined": f.quarantined,
                "unregistered": unregistered.get(f.file, 0),
                "unlisted": unlisted.get(f.file, 0),
                "sha256": f.sha256[:_SHA_CHARS],
            }
        )
    stamp = pl.Datetime("us", case.meta.timezone)
    frame = pl.DataFrame(records, schema=_ROWS_SCHEMA)
    return frame.with_columns(
        pl.Series("first", firsts, dtype=stamp), pl.Series("last", lasts, dtype=stamp)
    ).select(*_COLUMNS)


def _shown(value: str | None) -> str:
    """A cell value quoted and escaped: it is untrusted text from the case."""
    if value is None:
        return "(empty)"
    value = mask_phone_numbers(value)
    if len(value) > _SHOWN_VALUE_CHARS:
        value = value[:_SHOWN_VALUE_CHARS] + "…"
    return json.dumps(value, ensure_ascii=False)


def _quarantined(row: dict, orders: set[str]) -> str:
    """A quarantined value as shown: a buyer's personal data never is.

    A whole damaged row of orders (no column) may hold a name, a phone and
    an address, and is withheld; a personal cell is masked.
    """
    value = row["value"]
    if row["file"] in orders and value is not None:
        if row["column"] is None:
            return "(withheld: a damaged row of orders may hold personal data)"
        if row["column"] in PERSONAL_COLUMNS:
            value = _MASKS[row["column"]](value)
    return _shown(value)


def _aligned(header: list[str], rows: list[list[str]], right: set[int]) -> list[str]:
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]

    def line(cells: list[str]) -> str:
        out = [
            c.rjust(w) if i in right else c.ljust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        ]
        return "  ".join(out).rstrip()

    return [line(header), *(line(r) for r in rows)]


def _file_table(case: Case) -> list[str]:
    frame = validation_rows(case)
    stamp = "%Y-%m-%d %H:%M"
    rows = [
        [
            r["file"],
            str(r["rows"]),
            str(r["accepted"]),
            str(r["quarantined"]),
            str(r["unregistered"]),
            str(r["unlisted"]),
            r["first"].strftime(stamp) if r["first"] else "-",
            r["last"].strftime(stamp) if r["last"] else "-",
            r["sha256"],
        ]
        for r in frame.iter_rows(named=True)
    ]
    return _aligned(list(_COLUMNS), rows, right={1, 2, 3, 4, 5})


def _quarantine_lines(case: Case, max_reasons: int) -> list[str]:
    q = case.quarantine
    if q.is_empty():
        return ["Quarantine: none."]
    rows = q.select("file", "row").unique().height
    lines = [f"Quarantine: {rows} row(s) set aside, {q.height} reason(s):"]
    orders = {f.file for f in case.inputs if f.table == "orders"}
    for r in q.head(max_reasons).iter_rows(named=True):
        where = f"{r['file']}:{r['row']}"
        column = f" {r['column']}" if r["column"] else ""
        lines.append(f"  {where}{column} — {r['reason']}: {_quarantined(r, orders)}")
    if q.height > max_reasons:
        lines.append(f"  … and {q.height - max_reasons} more (see Case.quarantine)")
    return lines


def _unregistered_lines(case: Case, max_reasons: int) -> list[str]:
    return _kept_lines(
        case.unregistered,
        max_reasons,
        extra="references",
        title="{} id(s) missing from the table they refer to (rows kept: possibly evidence)",
        name="Unregistered entities",
        more="Case.unregistered",
        detail=lambda r: f" not in {r['references']}",
    )


def _unlisted_lines(case: Case, max_reasons: int) -> list[str]:
    return _kept_lines(
        case.unlisted,
        max_reasons,
        title="{} value(s) outside the contract's lists (rows kept with the value, lower-cased)",
        name="Unlisted values",
        more="Case.unlisted",
    )


def _kept_lines(
    kept: pl.DataFrame,
    max_reasons: int,
    *,
    name: str,
    title: str,
    more: str,
    extra: str | None = None,
    detail=lambda r: "",
) -> list[str]:
    """Rows kept but reported (``file, row, column, value`` and ``extra``),
    one line per distinct value, most rows first."""
    if kept.is_empty():
        return [f"{name}: none."]
    keys = ["file", "column", *([extra] if extra else []), "value"]
    groups = (
        kept.group_by(*keys)
        .agg(pl.len().alias("rows"), pl.col("row").min().alias("first_row"))
        .sort(["file", "column", "rows", "value"], descending=[False, False, True, False])
    )
    lines = [f"{name}: {title.format(groups.height)}:"]
    for r in groups.head(max_reasons).iter_rows(named=True):
        lines.append(
            f"  {r['file']} {r['column']} {_shown(r['value'])}{detail(r)}: "
            f"{r['rows']} row(s), first at row {r['first_row']}"
        )
    if groups.height > max_reasons:
        lines.append(f"  … and {groups.height - max_reasons} more (see {more})")
    return lines


def _empty_required(case: Case) -> list[str]:
    return [case.source(t) for t in REQUIRED_TABLES if case[t].is_empty()]


def print_validation(path: str | Path, *, max_reasons: int = 20) -> int:
    """Load the case at ``path`` and print what was read (``forensics validate``).

    Returns
    -------
    int
        0 when the case can be investigated; 1 when a required table has no
        accepted rows; 2 when it cannot be loaded (the error is printed to
        stderr).
    """
    try:
        case = load(path)
    except CaseError as exc:
        print(f"forensics: {exc}", file=sys.stderr)
        return 2
    meta = case.meta
    hours = f"{meta.business_start:%H:%M}-{meta.business_end:%H:%M}"
    days = ",".join(str(d) for d in meta.weekdays)
    out = [
        f"Case {meta.case_id}" + (f" — {meta.title}" if meta.title else ""),
        f"Folder {case.path}; zone {meta.timezone}; business hours {hours} on weekdays {days}",
        "",
        *_file_table(case),
        "",
        *_quarantine_lines(case, max_reasons),
        "",
        *_unregistered_lines(case, max_reasons),
        "",
        *_unlisted_lines(case, max_reasons),
        "",
    ]
    empty = _empty_required(case)
    if empty:
        out.append(f"NOT investigable: no accepted rows in {', '.join(empty)}.")
    else:
        out.append("Investigable.")
    print("\n".join(out))
    return 1 if empty else 0
