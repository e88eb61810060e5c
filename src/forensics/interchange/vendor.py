"""``forensics import csv``: a vendor's CSV or XLSX export into a case table, by a mapping.

A mapping is a small TOML file (shipped ones live in ``mappings/``; pass a
name or a path)::

    [mapping]
    name = "backoffice-operations"
    table = "access"               # the case table written
    encoding = "gb18030"           # CSV only; default UTF-8 (with or without BOM)
    delimiter = ","                # CSV only
    sheet = "操作日志"              # XLSX only; default the first sheet
    timezone = "Asia/Shanghai"     # zone of naive times; written with their offset

    [columns]                      # case column = the vendor's header
    at = "操作时间"
    account_id = "子账号"
    action = "操作类型"

    [timestamps]                   # formats tried in order (strftime codes)
    at = ["%Y-%m-%d %H:%M:%S", "%Y/%m/%d %H:%M"]

    [values.action]                # the vendor's words -> the case's
    "导出订单" = "export_orders"

    [constants]                    # same value on every row
    machine_id = "PC-03"

A wrong mapping stops the import with the file, line and column: a header it
names that the file does not have, a time none of the formats reads, a
value the value map does not list (or, for the strict ``action`` columns, a
value the case format does not list), a required case column left unmapped.
Other cells (a row count, a flag) are written as found and typed by the
loader, which quarantines what it cannot read (``forensics validate``).
Every row written keeps where it came from: ``source_file`` and
``source_record`` (the CSV line the record starts on, header = line 1; the
spreadsheet row of an XLSX). A record the CSV reader cannot split (wrong
field count) is skipped and counted; records read = imported + skipped.
Keys (``event_id``; ``import_id`` for a table without a key) are made from
the mapped row and its occurrence number, so re-importing a file adds
nothing (see :mod:`forensics.interchange.caseout`).

XLSX files are read by ``polars.read_excel`` with its default ``calamine``
engine (the ``fastexcel`` package); CSV files by the case loader's own
reader, so that encodings are checked the same way (a file declared GB18030
that is really UTF-8 stops with its line).
"""

from __future__ import annotations

import collections
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path
from typing import Any

import polars as pl

from ..case._errors import CaseError
from ..case._readers import read_csv, sha256_file
from ..case.schema import ROW, TABLES, ColumnKind
from .caseout import Written, append_rows, source_record, stable_id, write_log

__all__ = [
    "VendorMapping",
    "TableImport",
    "load_mapping",
    "shipped_mappings",
    "read_vendor",
    "import_table",
]

_PROVENANCE = ("source_file", "source_record")
_WORKBOOK = (".xlsx", ".xlsm", ".xlsb", ".xls")
_DEFAULT_FORMATS = ("%Y-%m-%d %H:%M:%S",)
_CELL_FORMATS = ("%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%d")


@dataclass(frozen=True)
class VendorMapping:
    """A parsed mapping file."""

    name: str
    file: str
    table: str
    columns: Mapping[str, str]
    timestamps: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    values: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    constants: Mapping[str, str] = field(default_factory=dict)
    encoding: str | None = None
    delimiter: str = ","
    sheet: str | None = None
    timezone: str = "UTC"


def shipped_mappings() -> dict[str, Path]:
    """Name -> path of the mappings that come with forensics."""
    folder = resources.files(__package__) / "mappings"
    return {Path(str(p)).stem: Path(str(p)) for p in folder.iterdir() if str(p).endswith(".toml")}


def load_mapping(spec: str | Path) -> VendorMapping:
    """Read and check a mapping (a path, or the name of a shipped one)."""
    path = Path(spec)
    if not path.is_file():
        shipped = shipped_mappings()
        if str(spec) not in shipped:
            names = ", ".join(sorted(shipped))
            raise CaseError(f"{spec}: no such mapping file or shipped mapping ({names})")
        path = shipped[str(spec)]
    file = path.name
    try:
        data = tomllib.loads(path.read_text("utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise CaseError(f"{file}: not a readable mapping ({exc})", file=file) from exc
    head = data.get("mapping", {})
    table = head.get("table")
    if table not in TABLES:
        raise CaseError(f"{file}: [mapping] table must be one of {', '.join(TABLES)}", file=file)
    schema = TABLES[table]
    columns = {str(k): str(v) for k, v in data.get("columns", {}).items()}
    constants = {str(k): str(v) for k, v in data.get("constants", {}).items()}
    known = set(schema.names_in()) | set(_PROVENANCE)
    for target in [*columns, *constants]:
        if target not in known:
            raise CaseError(f"{file}: {table} has no column {target!r}", file=file, column=target)
    missing = [c for c in schema.required_columns if c not in columns and c not in constants]
    if missing:
        raise CaseError(
            f"{file}: required {table} column(s) {', '.join(missing)} are not mapped",
            file=file,
            column=missing[0],
        )
    stamps = {}
    for target, formats in data.get("timestamps", {}).items():
        formats = [formats] if isinstance(formats, str) else list(formats)
        stamps[str(target)] = tuple(str(f) for f in formats)
    values = {
        str(k): {str(a): str(b) for a, b in v.items()} for k, v in data.get("values", {}).items()
    }
    return VendorMapping(
        name=str(head.get("name", path.stem)),
        file=file,
        table=table,
        columns=columns,
        timestamps=stamps,
        values=values,
        constants=constants,
        encoding=head.get("encoding"),
        delimiter=str(head.get("delimiter", ",")),
        sheet=head.get("sheet"),
        timezone=str(head.get("timezone", "UTC")),
    )


def read_vendor(
    path: Path, mapping: VendorMapping, *, sheet: str | None = None
) -> tuple[pl.DataFrame, pl.DataFrame, int]:
    """The file's cells as String columns plus ``_row``, damaged records, records read."""
    file = path.name
    if path.suffix.lower() in _WORKBOOK:
        try:
            frame = pl.read_excel(
                path,
                sheet_name=sheet or mapping.sheet,
                engine="calamine",
                infer_schema_length=0,  # every cell as text: the mapping says what it is
                drop_empty_rows=False,  # keep spreadsheet row numbers true
                raise_if_empty=False,
            )
        except Exception as exc:  # fastexcel raises its own types for a bad workbook
            raise CaseError(f"{file}: not a readable workbook ({exc})", file=file) from exc
        frame = frame.with_row_index(ROW, offset=2).with_columns(pl.col(ROW).cast(pl.Int64))
        blank = pl.all_horizontal(
            pl.exclude(ROW).cast(pl.String).str.strip_chars().fill_null("") == ""
        )
        frame = frame.filter(~blank) if frame.width > 1 else frame
        damaged = pl.DataFrame(schema={"row": pl.Int64, "reason": pl.String, "value": pl.String})
        return frame, damaged, frame.height
    raw = read_csv(path, file, encoding=mapping.encoding, delimiter=mapping.delimiter)
    frame = raw.frame.collect()
    return frame, raw.damaged, raw.records


def _fail(file: str, row: int, column: str, message: str) -> CaseError:
    return CaseError(
        f"{file} line {row}, column {column!r}: {message}", file=file, row=row, column=column
    )


def _timestamp(source: str, formats: tuple[str, ...], zone: str) -> pl.Expr:
    """UTC time from the first format that reads the cell (naive ones are in ``zone``)."""
    text = pl.col(source).cast(pl.String).str.strip_chars()
    tries = []
    for fmt in formats:
        if "%z" in fmt:  # the cell carries its offset
            tries.append(text.str.strptime(pl.Datetime("us", "UTC"), fmt, strict=False))
            continue
        naive = text.str.strptime(pl.Datetime("us"), fmt, strict=False)
        local = naive.dt.replace_time_zone(zone, ambiguous="earliest", non_existent="null")
        tries.append(local.dt.convert_time_zone("UTC"))
    return pl.coalesce(tries)


def _formats(mapping: VendorMapping) -> dict[str, tuple[str, ...]]:
    """Time formats of every timestamp column the mapping fills."""
    schema = TABLES[mapping.table]
    return {
        c: mapping.timestamps.get(c, _DEFAULT_FORMATS)
        for c in mapping.columns
        if c in schema.names and schema.column(c).kind is ColumnKind.TIMESTAMP
    }


def _header_of(frame: pl.DataFrame, name: str) -> str | None:
    wanted = name.strip().lower()
    return next((c for c in frame.columns if c.strip().lower() == wanted), None)


def _map_frame(
    frame: pl.DataFrame, mapping: VendorMapping, file: str, header_line: int
) -> pl.DataFrame:
    """The case columns from the vendor's, checked; stops at the first wrong cell."""
    schema = TABLES[mapping.table]
    exprs: list[pl.Expr] = [pl.col(ROW)]
    sources: dict[str, str] = {}
    for target, header in mapping.columns.items():
        source = _header_of(frame, header)
        if source is None:
            found = ", ".join(c for c in frame.columns if c != ROW)
            why = f"{mapping.file} maps {target} to {header!r}, which the header does not have"
            raise _fail(file, header_line, header, f"{why} (it has: {found})")
        sources[target] = source
    for target, source in sources.items():
        col = schema.column(target) if target in schema.names else None
        text = pl.col(source).cast(pl.String).str.strip_chars()
        text = pl.when(text == "").then(None).otherwise(text)
        if target in mapping.values:
            table = mapping.values[target]
            text = text.replace_strict(
                table, default=pl.lit("\x00unmapped"), return_dtype=pl.String
            )
        if col is not None and col.kind is ColumnKind.TIMESTAMP:
            formats = mapping.timestamps.get(target, _DEFAULT_FORMATS)
            exprs.append(_timestamp(source, formats, mapping.timezone).alias(target))
        else:
            exprs.append(text.alias(target))
    for target, value in mapping.constants.items():
        exprs.append(pl.lit(value, pl.String).alias(target))
    out = frame.select(exprs)
    for target, source in sources.items():
        _check_column(frame, out, mapping, target, source, file)
    return out


def _check_column(
    frame: pl.DataFrame,
    out: pl.DataFrame,
    mapping: VendorMapping,
    target: str,
    source: str,
    file: str,
) -> None:
    schema = TABLES[mapping.table]
    given = frame.get_column(source).cast(pl.String).str.strip_chars().fill_null("") != ""
    value = out.get_column(target)
    if target in mapping.values:
        bad = given & (value.cast(pl.String) == "\x00unmapped")
        if bad.any():
            i = int(bad.arg_true()[0])
            why = f"value {frame[source][i]!r} is not in [values.{target}] of {mapping.file}"
            raise _fail(file, int(frame[ROW][i]), source, why)
    col = schema.column(target) if target in schema.names else None
    if col is None:
        return
    if col.kind is ColumnKind.TIMESTAMP:
        bad = given & value.is_null()
        if bad.any():
            i = int(bad.arg_true()[0])
            formats = ", ".join(mapping.timestamps.get(target, _DEFAULT_FORMATS))
            why = f"{frame[source][i]!r} is not a time in the formats of {mapping.file}"
            raise _fail(file, int(frame[ROW][i]), source, f"{why} ({formats})")
    elif col.kind is ColumnKind.ENUM and not col.open_values:
        bad = value.is_not_null() & ~value.str.to_lowercase().is_in(col.listed)
        if bad.any():
            i = int(bad.arg_true()[0])
            why = f"{value[i]!r} is not one of {', '.join(col.values)}"
            raise _fail(file, int(frame[ROW][i]), source, f"{why}: add it to [values.{target}]")


@dataclass(frozen=True)
class TableImport:
    """What one ``import csv`` run did."""

    case: Path
    source: dict[str, Any]
    mapping: str
    table: str
    read: int
    imported: int
    skipped: dict[str, int]
    written: Written
    log: Path | None = None

    def summary(self) -> str:
        skipped = sum(self.skipped.values())
        lines = [
            f"{self.written.path}: {self.written.written} rows written"
            + (" (new file)" if self.written.created else " (appended)"),
            f"{self.source['file']} by {self.mapping}: records read {self.read} = imported "
            f"{self.imported} + skipped {skipped}",
        ]
        lines += [f"  skipped: {reason}: {n}" for reason, n in sorted(self.skipped.items())]
        if self.log is not None:
            lines.append(f"import log: {self.log}")
        return "\n".join(lines)


def import_table(
    path: str | Path, case: str | Path, *, mapping: str | Path, sheet: str | None = None
) -> TableImport:
    """Import one vendor file into ``case`` by ``mapping``; see the module docstring."""
    path, case = Path(path), Path(case)
    if not path.is_file():
        raise CaseError(f"{path}: no such file", file=str(path))
    spec = load_mapping(mapping)
    custody = source_record(path)
    frame, damaged, records = read_vendor(path, spec, sheet=sheet)
    if path.suffix.lower() in _WORKBOOK:
        # calamine writes a date cell as "2024-04-04 07:10:05[.500]" (or a date alone)
        spec = replace(
            spec, timestamps={c: (*f, *_CELL_FORMATS) for c, f in _formats(spec).items()}
        )
    mapped = _map_frame(frame, spec, path.name, header_line=1)
    if sha256_file(path) != custody["sha256"]:
        raise CaseError(f"{path.name}: changed while it was being read", file=path.name)
    schema = TABLES[spec.table]
    key = schema.key or "import_id"
    keyed = key in mapped.columns and mapped[key].null_count() == 0
    out = mapped.with_columns(
        # written in the vendor's zone, with its offset: the wall time the export showed
        pl.col(c).dt.convert_time_zone(spec.timezone).dt.strftime("%Y-%m-%dT%H:%M:%S%.f%:z")
        for c, t in mapped.schema.items()
        if isinstance(t, pl.Datetime)
    )
    content = [c for c in out.columns if c != ROW]
    rows = []
    occurrence: collections.Counter[tuple] = collections.Counter()
    for rec in out.iter_rows(named=True):
        line = rec.pop(ROW)
        if not keyed:
            ident = tuple(rec.get(c) for c in content)
            occurrence[ident] += 1
            rec[key] = stable_id(spec.table, spec.name, *ident, occurrence[ident])
        rec["source_file"], rec["source_record"] = path.name, line
        rows.append(rec)
    columns = list(dict.fromkeys([key, *content, *_PROVENANCE]))
    written = append_rows(case, spec.table, columns, rows, key=key, sources=[path])
    skipped = collections.Counter(str(r).split(",")[0] for r in damaged["reason"].to_list())
    if written.already:
        skipped["already in the case"] += written.already
    imported = len(rows) - written.already
    log = write_log(
        case,
        {
            "command": "import csv",
            "sources": [custody],
            "mapping": {"name": spec.name, "file": spec.file},
            "table": written.path.name,
            "created": written.created,
            "read": records,
            "imported": imported,
            "skipped": sum(skipped.values()),
            "skip_reasons": dict(skipped),
            "written": written.written,
        },
    )
    return TableImport(
        case, custody, spec.name, spec.table, records, imported, dict(skipped), written, log
    )
