"""From raw cells to a typed, checked table (and what was set aside).

All checks here are vectorised polars expressions over whole columns:

1. header: contract columns matched case-insensitively; all missing
   required columns reported together;
2. cells: typed by :mod:`forensics.case._cells`; every bad cell becomes one
   quarantine line, and its row is set aside. Each text column is first
   looked at as a whole (:func:`forensics.case._cells.text_facts`: no cell
   padded, none with NUL, none empty, every enum value listed); the work
   those facts rule out is skipped, and a column that needs no change is
   kept as read rather than copied;
3. duplicates, among the rows that passed 2: a later copy of an earlier
   row, or a later row reusing a key with different content, is set aside
   naming the line of the first;
4. references, across tables: an id missing from the table it refers to is
   *kept* and listed as an unregistered entity (it may be the leak);
5. open vocabularies: a value of a descriptive enum column (``open_values``:
   a complaint's category, a camera activity) that the contract does not
   list is *kept* and listed as unlisted, not quarantined.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

import polars as pl

from ._cells import (
    NUL_IN_CELL,
    UNKNOWN,
    Steps,
    TextFacts,
    nul_cell,
    padded_cells,
    text_facts,
    text_of,
    typed_cell,
)
from ._errors import CaseError
from ._readers import RawTable
from .schema import ROW, TABLES, Column, ColumnKind, TableSchema

__all__ = [
    "QUARANTINE_SCHEMA",
    "UNREGISTERED_SCHEMA",
    "UNLISTED_SCHEMA",
    "CheckedTable",
    "match_header",
    "OmittedNeeded",
    "check_table",
    "empty_frame",
    "find_unregistered",
    "match_rows",
    "References",
    "find_unlisted",
]

QUARANTINE_SCHEMA = pl.Schema(
    [
        ("file", pl.String()),
        ("row", pl.Int64()),
        ("column", pl.String()),
        ("reason", pl.String()),
        ("value", pl.String()),
    ]
)
UNREGISTERED_SCHEMA = pl.Schema(
    [
        ("file", pl.String()),
        ("row", pl.Int64()),
        ("column", pl.String()),
        ("value", pl.String()),
        ("references", pl.String()),
    ]
)
UNLISTED_SCHEMA = pl.Schema(
    [
        ("file", pl.String()),
        ("row", pl.Int64()),
        ("column", pl.String()),
        ("value", pl.String()),
    ]
)

_VALUE_CHARS = 200
# Helper columns live next to the data for one collect; the prefix keeps
# them apart from any header a file could have.
_WHY = "\x1fwhy\x1f"
_RAW = "\x1fraw\x1f"
_WITHHELD = "\x1fwithheld\x1f"


@dataclass(frozen=True)
class CheckedTable:
    """One table after checking: the accepted rows and the lines set aside."""

    frame: pl.DataFrame
    quarantine: pl.DataFrame  # QUARANTINE_SCHEMA


def empty_frame(schema: TableSchema) -> pl.DataFrame:
    """The frame of a table with no rows (or no file)."""
    return pl.DataFrame(schema=schema.polars_schema)


def match_header(
    header: Sequence[str], schema: TableSchema, file: str
) -> tuple[dict[str, str], list[str]]:
    """Map contract columns to header names (case-insensitive).

    Returns
    -------
    mapping : dict
        Contract column name -> header name found in the file.
    extras : list of str
        Header names that are not contract columns, in file order.

    Raises
    ------
    CaseError
        Required columns are missing (all listed), or two headers name the
        same contract column.
    """
    contract = {c.name.lower(): c.name for c in schema.columns if not c.derived}
    mapping: dict[str, str] = {}
    extras: list[str] = []
    for name in header:
        target = contract.get(name.lower())
        if target is None:
            extras.append(name)
        elif target in mapping:
            raise CaseError(
                f"{file}: columns {mapping[target]!r} and {name!r} both name {target}",
                file=file,
                column=target,
            )
        else:
            mapping[target] = name
    missing = [c for c in schema.required_columns if c not in mapping]
    if missing:
        message = f"{file}: missing required column(s): {', '.join(missing)}"
        if len(header) == 1:
            sep = next((d for d in ";\t|" if d in header[0]), None)
            if sep is not None:
                message += (
                    f" (the header is one field: is the file separated by {sep!r}? declare "
                    f"[files.{schema.name}] delimiter = {sep!r} in case.toml)"
                )
        raise CaseError(message, file=file, column=missing[0])
    return mapping, extras


def _value_text(src: pl.Expr, dtype: pl.DataType) -> pl.Expr:
    """The cell as found (not stripped), cut to 200 characters."""
    text = src if dtype == pl.String else text_of(src, dtype)
    return text.str.slice(0, _VALUE_CHARS)


@dataclass(frozen=True)
class _Plan:
    """How to type one table: evaluate ``values`` and ``reasons`` on ``frame``."""

    frame: pl.LazyFrame  # the source plus intermediate columns
    values: list[pl.Expr]  # _row, contract columns, extras: the accepted frame
    reasons: list[tuple[str, pl.Expr, pl.Expr]]  # (column, why, value as found)
    faults: list[pl.Expr]  # Boolean, one per checked column
    names: list[str] = field(default_factory=list)  # of the accepted frame, in order
    same: dict[str, str] = field(default_factory=dict)
    """Accepted columns that are a source column as it is (name -> source
    name): taken from the source rather than computed, so that the loaded
    table shares their memory with what was read instead of copying it."""

    @property
    def damaged(self) -> pl.Expr:
        """True where at least one cell of the row is set aside."""
        return pl.any_horizontal(self.faults or [False])


def _typing_plan(
    source: pl.LazyFrame,
    mapping: dict[str, str],
    extras: list[str],
    schema: TableSchema,
    zone: str,
    reference: datetime | None,
    withhold: frozenset[str] = frozenset(),
    facts: Mapping[str, TextFacts] | None = None,
) -> _Plan:
    facts = facts or {}
    dtypes = source.collect_schema()
    position = {name: i for i, name in enumerate(dtypes.names())}
    steps = Steps(source)

    def col(name: str) -> pl.Expr:
        # By position: pl.col("*") or pl.col("^a.*$") would be a wildcard or
        # a regex, and a header may be anything.
        return pl.nth(position[name])

    values: list[pl.Expr] = []
    reasons: list[tuple[str, pl.Expr, pl.Expr]] = []
    faults: list[pl.Expr] = []
    names, same = [ROW], {}
    if dtypes[ROW] == pl.Int64:
        same[ROW] = ROW
    else:
        values.append(pl.col(ROW).cast(pl.Int64))
    for column in schema.columns:
        # A withheld column is checked like any other and kept, under a
        # private name, only until duplicates are looked for (a row that
        # differs in it alone is not a copy); check_table then drops it.
        out = _WITHHELD + column.name if column.name in withhold else column.name
        if column.name in mapping and mapping[column.name] not in position:
            # Checked as the file was read and not kept (RawTable.omitted):
            # no cell of it can set a row aside.
            continue
        if column.name not in mapping:
            if out == column.name:
                values.append(pl.lit(None, column.loaded_dtype).alias(column.name))
                names.append(column.name)
            continue
        src, dtype = col(mapping[column.name]), dtypes[mapping[column.name]]
        known = facts.get(mapping[column.name], UNKNOWN)
        as_read = _as_read(column, dtype, known)
        if dtype == pl.Categorical and not as_read:
            # Categories (a coded column, or a file's own Categorical) with
            # something to strip, lower-case or flag: checked cell by cell
            # as the text they are.
            src, dtype = src.cast(pl.String), pl.String()
        value, reason, damaged = typed_cell(
            steps, column, src, dtype, zone, reference=reference, facts=known
        )
        reasons.append((column.name, reason, _value_text(src, dtype)))
        faults.append(damaged)
        names.append(out)
        if as_read:
            same[out] = mapping[column.name]
        else:
            values.append(value.alias(out))
    derived = {n.lower() for n in schema.derived}
    for name in extras:
        src, dtype = col(name), dtypes[name]
        known = facts.get(name, UNKNOWN)
        # A file's own column named like a derived one is kept beside it.
        alias = f"{name}_in_file" if name.lower() in derived else name
        names.append(alias)
        if dtype == pl.String and not (known.padded or known.empty):
            same[alias] = name
        else:
            values.append(text_of(src, dtype, known).alias(alias))
        nul = nul_cell(src, dtype, known)
        if nul is not None:
            reasons.append((name, pl.when(nul).then(pl.lit(NUL_IN_CELL)), _value_text(src, dtype)))
            faults.append(nul)
    return _Plan(steps.frame, values, reasons, faults, names, same)


_TYPED_AS_IS = (ColumnKind.INT, ColumnKind.BOOL, ColumnKind.TIMESTAMP)


def _as_read(column: Column, dtype: pl.DataType, facts: TextFacts) -> bool:
    """Whether the typed column is the source column unchanged: a Parquet
    column already of the loaded type whose typing changes no value (an
    integer, a boolean, a UTC timestamp in microseconds), or text with
    nothing to strip, no empty cell and no NUL (for an enum, every value
    listed), read as the loaded dtype (``String``, or ``Categorical`` for a
    coded column). Its cells are still checked (a negative count, an
    implausible time, an empty required cell set the row aside)."""
    if column.separator is None and dtype == column.dtype and column.kind in _TYPED_AS_IS:
        return True
    if dtype != column.loaded_dtype or column.dtype != pl.String:
        return False
    if facts.padded or facts.empty or (facts.nul and dtype == pl.Categorical):
        # (NUL in a String column is flagged cell by cell, the column kept.)
        return False
    return column.kind is not ColumnKind.ENUM or not facts.unlisted


def _text_facts(
    source: pl.LazyFrame, mapping: dict[str, str], schema: TableSchema
) -> dict[str, TextFacts]:
    """:class:`TextFacts` of every ``String`` or ``Categorical`` column of
    ``source``, by its name (of a Categorical one, from its distinct values:
    what holds for them holds for every cell)."""
    dtypes = source.collect_schema()
    listed = {mapping[c.name]: c.listed for c in schema.columns if c.values and c.name in mapping}
    position = {name: i for i, name in enumerate(dtypes.names())}
    plain = [name for name, dtype in dtypes.items() if dtype == pl.String]
    coded = [name for name, dtype in dtypes.items() if dtype == pl.Categorical]
    found: dict[str, TextFacts] = {}
    if plain:
        found |= _facts_of(source, {name: pl.nth(position[name]) for name in plain}, listed)
    if coded:
        # The distinct values once, each column's facts then on those alone.
        distinct = source.select(
            pl.nth(position[n]).unique().implode().alias(n) for n in coded
        ).collect()
        for name in coded:
            values = distinct.get_column(name).explode().cast(pl.String).to_frame("v")
            found |= _facts_of(values.lazy(), {name: pl.col("v")}, listed)
    return found


def _facts_of(
    source: pl.LazyFrame, columns: Mapping[str, pl.Expr], listed: Mapping[str, tuple[str, ...]]
) -> dict[str, TextFacts]:
    """:class:`TextFacts` of each of ``columns`` (name -> expression on ``source``)."""
    exprs = [
        fact.alias(f"{i}.{j}")
        for i, (name, text) in enumerate(columns.items())
        for j, fact in enumerate(text_facts(text, listed.get(name)))
    ]
    row = source.select(exprs).collect().row(0)
    width = len(exprs) // len(columns)
    found = {
        name: [bool(v) for v in row[i * width : (i + 1) * width]] for i, name in enumerate(columns)
    }
    # Where the first and last bytes allow it, look at the cells themselves.
    maybe = [name for name, facts in found.items() if facts[0]]
    if maybe:
        exact = source.select(padded_cells(columns[n]).alias(n) for n in maybe).collect()
        for name in maybe:
            found[name][0] = bool(exact.get_column(name).item())
    return {name: TextFacts(*facts) for name, facts in found.items()}


def _collect(frame: pl.LazyFrame) -> pl.DataFrame:
    # The streaming engine types the file a morsel at a time: besides the
    # file as read, only the typed columns are ever whole in memory, not the
    # intermediate columns of every step (the regex groups of a CSV's
    # timestamps; that made a 10M-order case peak at several times its
    # loaded size).
    return frame.collect(engine="streaming")


def _cell_quarantine(
    raw: RawTable,
    rows: pl.Series,
    mapping: dict[str, str],
    extras: list[str],
    schema: TableSchema,
    zone: str,
    reference: datetime | None,
    facts: Mapping[str, TextFacts],
) -> pl.DataFrame:
    """One line per bad cell of the records at ``rows`` (``_row`` values)."""
    source = raw.frame
    if reference is not None:
        # Typing is row by row, so the few damaged records can be typed again
        # alone to say why. (Without a reference, a timestamp's plausibility
        # depends on its whole column: type everything again.)
        row_dtype = source.collect_schema()[ROW]
        source = source.filter(pl.col(ROW).is_in(rows.cast(row_dtype).implode()))
    # What holds for every cell of a column holds for these rows' cells.
    plan = _typing_plan(source, mapping, extras, schema, zone, reference, facts=facts)
    why = [r.alias(_WHY + name) for name, r, _ in plan.reasons]
    found = [pl.when(r.is_not_null()).then(v).alias(_RAW + name) for name, r, v in plan.reasons]
    typed = plan.frame.select(pl.col(ROW).cast(pl.Int64), *why, *found).collect()
    parts = [
        typed.filter(pl.col(_WHY + name).is_not_null()).select(
            pl.col(ROW).alias("row"),
            pl.lit(name, pl.String).alias("column"),
            pl.col(_WHY + name).alias("reason"),
            pl.col(_RAW + name).alias("value"),
        )
        for name, _, _ in plan.reasons
    ]
    return _lines(parts)


def _lines(parts: list[pl.DataFrame]) -> pl.DataFrame:
    schema = pl.Schema([(k, v) for k, v in QUARANTINE_SCHEMA.items() if k != "file"])
    return (
        pl.concat([p.select(schema.names()).cast(schema) for p in parts])
        if parts
        else (pl.DataFrame(schema=schema))
    )


_HEAD = 1000


class OmittedNeeded(Exception):
    """Rows must be compared whole (a key repeats) but some columns were not
    read (``RawTable.omitted``): read the file again with every column."""


def _duplicates(frame: pl.DataFrame, schema: TableSchema, complete: bool = True) -> pl.DataFrame:
    """Later copies of a row, and later rows reusing a key with other content.

    ``complete`` is False when columns of the file are missing from
    ``frame``: rows can then be compared only if the key proves none equal,
    else :class:`OmittedNeeded` is raised."""
    if schema.key is not None:
        # Equal rows have equal keys: only rows whose key is repeated (or
        # missing) can be duplicates, and in a clean table there are none.
        # Grouping every column of millions of rows to find that out was the
        # slowest step of loading a large table.
        key = pl.col(schema.key)
        present = key.drop_nulls()
        # Keys in strictly increasing order (event ids usually are) are
        # unique, which one comparison per row proves. Otherwise: distinct
        # hashes are at most distinct keys, so as many hashes as keys proves
        # the keys unique (hashing is several times faster than comparing
        # strings); a collision only costs the exact check.
        increasing = (present > present.shift(1)).all()
        unique = (
            # (the first rows say cheaply when the whole cannot be)
            (frame.head(_HEAD).select(increasing).item() and frame.select(increasing).item())
            or frame.select(present.hash().n_unique() == key.count()).item()
        )
        suspect = key.is_null() if unique else key.is_null() | key.is_duplicated()
        frame = frame.filter(suspect)
        if frame.is_empty():
            return _lines([])
    if not complete:
        raise OmittedNeeded(schema.name)
    content = [c for c in frame.columns if c != ROW]
    first_copy = pl.col(ROW).min().over(content)
    reason = pl.when(first_copy != pl.col(ROW)).then(
        pl.format("duplicate row of line {}", first_copy)
    )
    column = pl.lit(None, pl.String)
    value = pl.lit(None, pl.String)
    if schema.key is not None:
        key = pl.col(schema.key)
        first_key = pl.col(ROW).min().over(schema.key)
        reason = reason.when(key.is_not_null() & (first_key != pl.col(ROW))).then(
            pl.format(f"duplicate {schema.key} of line {{}} with different content", first_key)
        )
        column = pl.lit(schema.key, pl.String)
        value = key.cast(pl.String).str.slice(0, _VALUE_CHARS)
    return frame.select(
        pl.col(ROW).alias("row"),
        column.alias("column"),
        reason.alias("reason"),
        value.alias("value"),
    ).filter(pl.col("reason").is_not_null())


def check_table(
    raw: RawTable,
    schema: TableSchema,
    file: str,
    zone: str,
    *,
    reference: datetime | None = None,
    withhold: frozenset[str] = frozenset(),
) -> CheckedTable:
    """Type and check one table read from ``file``.

    Parameters
    ----------
    raw : RawTable
        The file as read.
    schema : TableSchema
        Its contract.
    file : str
        File name, for the quarantine lines.
    zone : str
        Time zone of naive timestamps in this file.
    reference : datetime, optional
        The case's ``opened_at``: timestamps decades away from it are
        quarantined (see :data:`forensics.case._cells.PLAUSIBLE_YEARS`).
    withhold : frozenset of str
        Contract columns checked like the others (a fault in one sets its
        row aside) but left out of the accepted frame.
    """
    mapping, extras = match_header(raw.header, schema, file)
    facts = _text_facts(raw.frame, mapping, schema)
    plan = _typing_plan(raw.frame, mapping, extras, schema, zone, reference, withhold, facts)
    typed = _collect(plan.frame.select(*plan.values, plan.damaged.alias(_WHY)))
    if plan.same:
        source = raw.frame.select(pl.col(list(plan.same.values()))).collect()
        typed = pl.DataFrame(
            [
                source.get_column(plan.same[n]).alias(n) if n in plan.same else typed.get_column(n)
                for n in [*plan.names, _WHY]
            ]
        )
        del source
    damaged_cells = typed.get_column(_WHY)
    if damaged_cells.any():
        rows = typed.get_column(ROW).filter(damaged_cells)
        cells = _cell_quarantine(raw, rows, mapping, extras, schema, zone, reference, facts)
        if cells.get_column("row").n_unique() != rows.len():
            # The Boolean verdicts and the reasons are separate expressions;
            # a row set aside must never go without its reason.
            raise RuntimeError(f"{file}: rows set aside without a reason (a loader bug)")
        accepted = typed.filter(~damaged_cells).drop(_WHY)
    else:
        cells = _lines([])
        accepted = typed.drop(_WHY)
    del typed, damaged_cells
    duplicates = _duplicates(accepted, schema, complete=not raw.omitted)
    if duplicates.height:
        accepted = accepted.filter(~pl.col(ROW).is_in(duplicates["row"].implode()))
    accepted = accepted.drop([c for c in accepted.columns if c.startswith(_WITHHELD)])
    damaged = raw.damaged.select("row", pl.lit(None, pl.String).alias("column"), "reason", "value")
    quarantine = (
        _lines([damaged, cells, duplicates])
        .sort("row", maintain_order=True)
        .select(pl.lit(file, pl.String).alias("file"), pl.all())
    )
    if not accepted.get_column(ROW).is_sorted():
        accepted = accepted.sort(ROW)
    holder = [accepted]
    del accepted  # so that each column's chunks are freed once copied
    return CheckedTable(frame=_contiguous(holder), quarantine=quarantine)


def _contiguous(holder: list[pl.DataFrame]) -> pl.DataFrame:
    """The frame in ``holder`` with each column in one chunk, column by column.

    The streaming engine returns columns in many chunks; polars 2.1 panics
    on some string operations over such columns (``pl.format`` after a
    filter), and every later query pays for the chunks. Rechunking one
    column at a time, releasing the old chunks as it goes, keeps the extra
    memory to one column rather than a second copy of the table.
    """
    frame = holder.pop()
    columns = frame.get_columns()
    del frame
    out = []
    while columns:
        out.append(columns.pop(0).rechunk())
    return pl.DataFrame(out)


_LARGE = 100_000
_ROWS_KEPT = frozenset({("access", "order_id")})
"""References whose matched rows the engine uses, whatever the size."""


def match_rows(ids: pl.Series, known: pl.Series, *, unique: bool = False) -> pl.Series:
    """The row (0-based, ``UInt32``) of ``known`` holding each of ``ids``;
    null where the id is null or not among ``known`` (the first row where
    ``known`` repeats an id).

    Against more than ``_LARGE`` ids (orders), the ids are compared by two
    independent seeded 64-bit hashes rather than as strings: several times
    faster on a 10M-order case. A row matches when both hashes agree, so a
    wrong match needs both to collide (about 1 in 10**31 per id against 10M
    orders; the seeds are drawn afresh at every call, so ids written to
    collide under one pair do not under the next). If two known ids share
    the first hash, the ids are compared as strings, unless ``unique`` says
    that ``known`` holds no null and no id twice (a table's checked key):
    then only the row whose second hash agrees too is kept, which is the
    one row holding the id, and counting the distinct hashes is spared.
    """
    if ids.dtype == pl.Categorical and known.dtype == pl.String:
        known = known.cast(pl.Categorical)  # ids compared (and hashed) alike
    table = known.to_frame("id").with_row_index("row")
    if known.len() > _LARGE:
        first, second = secrets.randbits(64), secrets.randbits(64)
        h1, h2 = pl.col("id").hash(first), pl.col("id").hash(second)
        keyed = table.select(h1.alias("h"), h2.alias("g_known"), "row")
        if unique or keyed.get_column("h").n_unique() == keyed.height:
            # An inner join in any order, then the rows put back by position:
            # twice as fast as a left join that keeps the order.
            pairs = (
                ids.to_frame("id")
                .lazy()
                .with_row_index("at")
                .filter(pl.col("id").is_not_null())
                .select("at", h1.alias("h"), h2.alias("g"))
                .join(keyed.lazy(), on="h")
                # Only the verdict leaves the join, not both hashes (0.4 GB
                # less at 22.8M ids); filtered after it: as part of the query,
                # the filter made the join 2.5 times slower (polars 2.1).
                .select("at", "row", (pl.col("g") == pl.col("g_known")).alias("_same"))
                .collect(engine="streaming")
                .filter("_same")
            )
            return (
                pl.repeat(None, ids.len(), dtype=pl.UInt32, eager=True)
                .scatter(pairs.get_column("at"), pairs.get_column("row"))
                .alias("row")
            )
    # Null or repeated known ids (a column that is not a key) name no row /
    # their first row, so that the join keeps one row per id.
    table = table.filter(pl.col("id").is_not_null()).unique("id", keep="first", maintain_order=True)
    return (
        ids.to_frame("id")
        .join(table, on="id", how="left", maintain_order="left")
        .get_column("row")
        .cast(pl.UInt32)
    )


def _is_key(table: str, column: str) -> bool:
    """Whether ``column`` is the key of ``table`` and cannot be empty: then
    the accepted rows hold each value once (:func:`_duplicates`)."""
    schema = TABLES[table]
    return schema.key == column and not schema.column(column).nullable


@dataclass(frozen=True)
class References:
    """What the reference check found."""

    unregistered: pl.DataFrame
    """:data:`UNREGISTERED_SCHEMA`, sorted by file and row."""
    rows: Mapping[tuple[str, str], pl.Series]
    """(table, column) -> :func:`match_rows` of that column in the table it
    refers to: for ``access.order_id`` always (the engine numbers the
    orders each event names from it) and for references to large tables."""


def find_unregistered(tables: Mapping[str, pl.DataFrame], files: Mapping[str, str]) -> References:
    """Rows whose id is missing from the table it refers to (rows are kept).

    Parameters
    ----------
    tables : mapping
        Table name -> accepted frame, for every table present.
    files : mapping
        Table name -> source file name.
    """
    parts = []
    matched: dict[tuple[str, str], pl.Series] = {}
    for name, frame in tables.items():
        for column in TABLES[name].columns:
            if column.references is None:
                continue
            target, target_column = column.references.split(".")
            if target not in tables:
                continue
            ids = pl.col(column.name)
            rows = frame.select(ROW, column.name)
            if tables[target].height > _LARGE or (name, column.name) in _ROWS_KEPT:
                # Against many ids (orders), and where the engine needs them,
                # the row each id names is kept: the missing ids have none.
                # A table's key was checked (no null, no repeat) by check_table.
                found = match_rows(
                    frame.get_column(column.name),
                    tables[target][target_column],
                    unique=_is_key(target, target_column),
                )
                matched[(name, column.name)] = found
                missing = rows.lazy().filter(ids.is_not_null() & pl.lit(found).is_null())
            else:
                # A few thousand ids (accounts, machines, staff): a set lookup
                # per row is cheaper than building a join.
                known = tables[target].get_column(target_column).drop_nulls().unique()
                missing = rows.lazy().filter(ids.is_not_null() & ~ids.is_in(known.implode()))
            parts.append(
                missing.select(
                    pl.lit(files[name], pl.String).alias("file"),
                    pl.col(ROW).alias("row"),
                    pl.lit(column.name, pl.String).alias("column"),
                    ids.cast(pl.String).alias("value"),
                    pl.lit(column.references, pl.String).alias("references"),
                )
            )
    if not parts:
        return References(pl.DataFrame(schema=UNREGISTERED_SCHEMA), matched)
    found = pl.concat(pl.collect_all(parts))
    return References(found.sort(["file", "row"], maintain_order=True), matched)


def find_unlisted(tables: Mapping[str, pl.DataFrame], files: Mapping[str, str]) -> pl.DataFrame:
    """Accepted cells of ``open_values`` columns holding a value the contract
    does not list (the rows are kept).

    Parameters
    ----------
    tables : mapping
        Table name -> accepted frame, for every table present.
    files : mapping
        Table name -> source file name.

    Returns
    -------
    pl.DataFrame
        :data:`UNLISTED_SCHEMA`: ``value`` as stored in the table
        (lower-cased, stripped), first 200 characters; sorted by file, row.
    """
    parts = []
    for name, frame in tables.items():
        for column in TABLES[name].columns:
            if not column.open_values:
                continue
            value = pl.col(column.name)
            parts.append(
                frame.lazy()
                .filter(value.is_not_null() & ~value.is_in(column.listed))
                .select(
                    pl.lit(files[name], pl.String).alias("file"),
                    pl.col(ROW).alias("row"),
                    pl.lit(column.name, pl.String).alias("column"),
                    value.cast(pl.String).str.slice(0, _VALUE_CHARS).alias("value"),
                )
            )
    if not parts:
        return pl.DataFrame(schema=UNLISTED_SCHEMA)
    found = pl.concat(pl.collect_all(parts)).cast(UNLISTED_SCHEMA)
    return found.sort(["file", "row"], maintain_order=True)
