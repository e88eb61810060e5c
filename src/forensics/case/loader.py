"""Load and validate a case folder (CASE_FORMAT.md) into an immutable :class:`Case`.

PUBLIC API (the engine is written against it; keep it stable):

``load(path, *, progress=False) -> Case``

``Case`` attributes
    path : Path                      the case folder (never written to)
    meta : CaseMeta                  case.toml, parsed
    inputs : tuple[InputFile, ...]   one per file read (case.toml included,
                                     with rows 0), sorted by file name
    quarantine : pl.DataFrame        columns file, row, column, reason, value
                                     (all String except row: Int64); one line
                                     per violation, so a row with two bad
                                     cells appears twice (counted once)
    unregistered : pl.DataFrame      file, row, column, value, references:
                                     rows kept whose id is missing from the
                                     referenced table (possible evidence)
    unlisted : pl.DataFrame          file, row, column, value (all String
                                     except row: Int64): cells of descriptive
                                     enum columns (Column.open_values:
                                     complaints.category, camera.activity,
                                     accounts.kind, badge.direction,
                                     badge.result) whose value the contract
                                     does not list; the rows are accepted and
                                     the value kept (lower-cased, stripped;
                                     here cut to 200 characters)
``Case`` methods
    case[name] / case.table(name) -> pl.DataFrame   typed frame, schema
        TABLES[name].polars_schema (+ unknown extra columns kept as String
        after the contract columns); an absent optional table is an empty
        frame with that schema
    case.has(name) -> bool           the file was present
    case.source(name) -> str         file name the table came from, e.g.
                                     "camera.csv" (the default name if absent)
    case.timezone(name=None) -> str  the zone naive timestamps of that file
                                     were read in
    case.unsynchronized(name) -> bool   [files.NAME] clock = "unsynchronized"
    case.verify() -> list[str]       re-hash inputs; names of changed files
    case.staff / accounts / machines / orders / complaints / logins /
    access / camera / endpoint / badge / apps   -> the frames (properties)
    case.access_lean                 access without order_id (see _lean.py)
    case.access_where(expr)          the access rows expr keeps, whole
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from datetime import datetime, time
from pathlib import Path
from types import MappingProxyType
from typing import Any

import polars as pl

from ..privacy import PERSONAL_COLUMNS
from ._casetoml import CASE_TOML, parse_case_toml, resolve_file_path
from ._derived import derive
from ._errors import CaseError
from ._lean import CaseTables, lean_access
from ._readers import RawTable, read_csv, read_parquet, sha256_file
from ._tables import (
    QUARANTINE_SCHEMA,
    UNREGISTERED_SCHEMA,
    CheckedTable,
    OmittedNeeded,
    check_table,
    empty_frame,
    find_unlisted,
    find_unregistered,
    match_header,
)
from .schema import TABLES, ColumnKind, TableSchema

__all__ = ["Case", "CaseMeta", "InputFile", "CaseError", "load"]

_FORMATS = (".csv", ".parquet")


@dataclass(frozen=True)
class InputFile:
    """Chain-of-custody record of one input file."""

    file: str  # path relative to the case folder, e.g. "camera.csv"
    table: str | None  # table name, None for case.toml
    sha256: str
    size: int  # bytes
    format: str  # "csv", "parquet" or "toml"
    encoding: str | None  # text encoding used to decode a CSV
    rows: int  # data records read (header excluded)
    accepted: int
    quarantined: int


@dataclass(frozen=True)
class CaseMeta:
    """What case.toml says."""

    case_id: str
    title: str
    timezone: str
    opened_at: datetime | None  # tz-aware, UTC
    business_start: time
    business_end: time
    weekdays: tuple[int, ...]  # ISO weekday numbers, 1 = Monday
    files: MappingProxyType = field(default_factory=lambda: MappingProxyType({}))
    """Per-file settings from ``[files.NAME]`` (NAME is the table name)."""

    def file_setting(self, table: str, key: str, default: Any = None) -> Any:
        return self.files.get(table, {}).get(key, default)


# eq=False: comparing two cases frame by frame is never what is meant, and
# the generated __eq__/__hash__ would fail on DataFrames anyway.
@dataclass(frozen=True, eq=False)
class Case:
    path: Path
    meta: CaseMeta
    inputs: tuple[InputFile, ...]
    tables: Mapping[str, pl.DataFrame]  # read-only (CaseTables from load)
    present: frozenset[str]
    quarantine: pl.DataFrame
    unregistered: pl.DataFrame
    unlisted: pl.DataFrame
    access_order_rows: pl.Series | None = field(default=None, repr=False)
    """Row of ``orders`` named by each ``access`` row's ``order_id`` (null:
    none), as the reference check matched them (None: no orders or no
    access file). Spares the engine a second match."""
    withheld: frozenset[str] = frozenset()
    """Columns of ``orders`` read and checked but not held: the buyers'
    personal data when the case was loaded with ``personal=False``."""

    def __repr__(self) -> str:
        rows = sum(f.rows for f in self.inputs)
        return (
            f"<Case {self.meta.case_id!r} at {str(self.path)!r}: {len(self.inputs)} files, "
            f"{rows} rows, {self.quarantine.height} quarantine lines, "
            f"{self.unregistered.height} unregistered, {self.unlisted.height} unlisted>"
        )

    def table(self, name: str) -> pl.DataFrame:
        if name not in TABLES:
            raise KeyError(f"unknown table {name!r}")
        return self.tables[name]

    __getitem__ = table

    def has(self, name: str) -> bool:
        return name in self.present

    def source(self, name: str) -> str:
        for f in self.inputs:
            if f.table == name:
                return f.file
        return f"{name}.csv"

    def timezone(self, name: str | None = None) -> str:
        if name is None:
            return self.meta.timezone
        return self.meta.file_setting(name, "timezone", self.meta.timezone)

    def unsynchronized(self, name: str) -> bool:
        return str(self.meta.file_setting(name, "clock", "")).lower() == "unsynchronized"

    def verify(self) -> list[str]:
        """Re-hash every input file; return the names of those changed or gone.

        An empty list means the folder still holds exactly the bytes this
        case was loaded from.
        """
        changed = []
        for record in self.inputs:
            try:
                digest = sha256_file(self.path / record.file)
            except OSError:
                changed.append(record.file)
                continue
            if digest != record.sha256:
                changed.append(record.file)
        return changed

    staff = property(lambda self: self.tables["staff"])
    accounts = property(lambda self: self.tables["accounts"])
    machines = property(lambda self: self.tables["machines"])
    orders = property(lambda self: self.tables["orders"])
    complaints = property(lambda self: self.tables["complaints"])
    logins = property(lambda self: self.tables["logins"])
    access = property(lambda self: self.tables["access"])

    @property
    def access_lean(self) -> pl.DataFrame:
        """The access table without ``order_id`` (see :mod:`._lean`): what
        the engine's heavy steps read, with :attr:`access_order_rows`."""
        if isinstance(self.tables, CaseTables):
            return self.tables.lean("access")
        return self.access.drop("order_id", strict=False)

    def access_where(self, keep: pl.Expr) -> pl.DataFrame:
        """The access rows ``keep`` selects, whole (``keep`` must not read
        ``order_id``): on a large case, cheaper than ``access.filter``."""
        if isinstance(self.tables, CaseTables):
            return self.tables.where("access", keep)
        return self.access.filter(keep)

    camera = property(lambda self: self.tables["camera"])
    endpoint = property(lambda self: self.tables["endpoint"])
    badge = property(lambda self: self.tables["badge"])
    apps = property(lambda self: self.tables["apps"])


def _progress(items: Iterable, enabled: bool, total: int):
    if not enabled:
        return items
    from tqdm.auto import tqdm  # notebook bar in Jupyter, text bar elsewhere

    return tqdm(items, total=total, desc="reading case", unit="file")


def _confined(folder: Path, path: Path, file: str) -> Path:
    """``path`` if it really lies in ``folder``; a symlink leading out is refused.

    A link in a case folder could make the tool read, hash and cite as
    evidence a file that is not part of the case (or a device that never
    ends).
    """
    if not path.resolve().is_relative_to(folder.resolve()):
        raise CaseError(
            f"{file} is a link to {path.resolve()}, outside the case folder: copy the file "
            "into the case instead",
            file=file,
        )
    return path


def _read_meta(folder: Path) -> tuple[CaseMeta, InputFile]:
    path = folder / CASE_TOML
    if not path.is_file():
        raise CaseError(f"{CASE_TOML} is missing from {folder}", file=CASE_TOML)
    _confined(folder, path, CASE_TOML)
    try:
        data = path.read_bytes()  # small; hashed and parsed from the same bytes
    except OSError as exc:
        raise CaseError(f"{CASE_TOML}: cannot be read ({exc})", file=CASE_TOML) from exc
    meta = CaseMeta(**parse_case_toml(data, folder))
    record = InputFile(
        file=CASE_TOML,
        table=None,
        sha256=hashlib.sha256(data).hexdigest(),
        size=len(data),
        format="toml",
        encoding="utf-8",
        rows=0,
        accepted=0,
        quarantined=0,
    )
    return meta, record


def _table_path(folder: Path, name: str, meta: CaseMeta) -> Path | None:
    """The file holding table ``name``, or None when there is none."""
    declared = meta.file_setting(name, "path")
    if declared is not None:
        path = resolve_file_path(folder, name, declared)
        if not path.is_file():
            raise CaseError(
                f"{CASE_TOML}: [files.{name}] path = {declared!r} does not exist",
                file=CASE_TOML,
            )
        return path
    found = [folder / f"{name}{ext}" for ext in _FORMATS if (folder / f"{name}{ext}").is_file()]
    if len(found) > 1:
        raise CaseError(
            f"both {name}.csv and {name}.parquet are present: keep one",
            file=f"{name}.csv",
        )
    return _confined(folder, found[0], found[0].name) if found else None


def _locate_tables(folder: Path, meta: CaseMeta) -> dict[str, Path]:
    paths = {name: _table_path(folder, name, meta) for name in TABLES}
    missing = [n for n, t in TABLES.items() if t.required and paths[n] is None]
    if missing:
        names = ", ".join(f"{n}.csv" for n in missing)
        raise CaseError(
            f"missing required file(s) in {folder}: {names} (or .parquet)",
            file=f"{missing[0]}.csv",
        )
    return {n: p for n, p in paths.items() if p is not None}


def _read_raw(
    path: Path, file: str, name: str, meta: CaseMeta, withhold: frozenset[str] = frozenset()
) -> RawTable:
    if path.suffix.lower() == ".parquet":
        schema = TABLES[name]

        def coded(header: tuple[str, ...]) -> set[str]:
            mapping, _ = match_header(header, schema, file)
            return {mapping[c.name] for c in schema.columns if c.coded and c.name in mapping}

        def omit(header: tuple[str, ...]) -> set[str]:
            # Withheld columns need not be held even while the file is
            # checked (on a large case, a gigabyte of buyers' addresses):
            # of nullable text, only a NUL byte can set a row aside.
            mapping, _ = match_header(header, schema, file)
            return {
                mapping[c.name]
                for c in schema.columns
                if c.name in withhold
                and c.name in mapping
                and c.nullable
                and c.kind is ColumnKind.TEXT
                and c.separator is None
            }

        return read_parquet(path, file, coded, omit if withhold else None)
    return read_csv(
        path,
        file,
        encoding=meta.file_setting(name, "encoding"),
        delimiter=meta.file_setting(name, "delimiter", ","),
    )


def _load_table(
    path: Path, file: str, schema: TableSchema, meta: CaseMeta, withhold: frozenset[str]
) -> tuple[CheckedTable, RawTable]:
    raw = _read_raw(path, file, schema.name, meta, withhold)
    if not raw.header:
        if schema.required:
            what = "empty file" if raw.size == 0 else "no header line (only blank lines)"
            raise CaseError(f"{file}: {what}", file=file)
        empty = CheckedTable(empty_frame(schema), pl.DataFrame(schema=QUARANTINE_SCHEMA))
        raw.confirm_unchanged(path, file)
        return empty, raw
    zone = meta.file_setting(schema.name, "timezone", meta.timezone)
    try:
        checked = check_table(raw, schema, file, zone, reference=meta.opened_at, withhold=withhold)
    except OmittedNeeded:
        # A key repeats: rows are compared whole, withheld cells included.
        raw = _read_raw(path, file, schema.name, meta)
        checked = check_table(raw, schema, file, zone, reference=meta.opened_at, withhold=withhold)
    raw.confirm_unchanged(path, file)
    return checked, raw


def _load_table_guarded(
    path: Path, file: str, schema: TableSchema, meta: CaseMeta, withhold: frozenset[str]
) -> tuple[CheckedTable, RawTable]:
    # Whatever a damaged file makes a library throw, the investigator sees
    # which file it was, not a traceback.
    try:
        return _load_table(path, file, schema, meta, withhold)
    except CaseError:
        raise
    except Exception as exc:
        raise CaseError(f"{file}: cannot be read ({type(exc).__name__}: {exc})", file=file) from exc


def _load_tables(
    paths: Mapping[str, Path],
    files: Mapping[str, str],
    meta: CaseMeta,
    withheld: frozenset[str],
    progress: bool,
) -> dict[str, tuple[CheckedTable, InputFile]]:
    """Every table checked, with its custody record: two at a time, largest
    file first, so that the small tables are read while the large ones are
    (each file's work is mostly in polars, which releases the GIL).

    Raises
    ------
    CaseError
        Of the first table in contract order that failed, once every table
        has been tried (the same error whatever finished first).
    """

    def one(name: str) -> tuple[CheckedTable, InputFile]:
        withhold = withheld if name == "orders" else frozenset()
        checked, raw = _load_table_guarded(paths[name], files[name], TABLES[name], meta, withhold)
        # Only the record leaves: the file as read is freed here.
        return checked, _custody(files[name], name, raw, checked)

    largest = sorted(paths, key=lambda name: paths[name].stat().st_size, reverse=True)
    pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="forensics-load")
    try:
        futures = {name: pool.submit(one, name) for name in largest}
        for _ in _progress(as_completed(futures.values()), progress, total=len(futures)):
            pass
    finally:
        # Interrupted: the tables not started are not started.
        pool.shutdown(wait=True, cancel_futures=True)
    failed = [name for name in paths if futures[name].exception() is not None]
    if failed:
        raise futures[failed[0]].exception()
    return {name: future.result() for name, future in futures.items()}


def _custody(file: str, name: str, raw: RawTable, checked: CheckedTable) -> InputFile:
    accepted = checked.frame.height
    return InputFile(
        file=file,
        table=name,
        sha256=raw.sha256,
        size=raw.size,
        format=raw.format,
        encoding=raw.encoding,
        rows=raw.records,
        accepted=accepted,
        quarantined=raw.records - accepted,
    )


def load(path: str | Path, *, progress: bool = False, personal: bool = True) -> Case:
    """Read, validate and hash every file of the case folder at ``path``.

    Parameters
    ----------
    path : str or Path
        The case folder (CASE_FORMAT.md). Nothing is written into it.
    progress : bool
        Show a progress bar over the files (tqdm; a widget in notebooks).
    personal : bool
        Hold the buyers' personal data (``orders``' ``buyer_name``,
        ``phone``, ``address``). With False those cells are still read and
        checked (the same rows are set aside, the same hashes reported) but
        left out of ``Case.orders`` and listed in ``Case.withheld``: the
        investigation never uses them, and on a case of millions of orders
        they are a large part of the memory. Reports and the response pack
        need them.

    Returns
    -------
    Case
        Typed tables, quarantine, unregistered entities, unlisted values
        and the chain of custody of every file read.

    Raises
    ------
    CaseError
        case.toml or a required file or column is missing or unreadable, a
        file is in an undeclared encoding, or a file is a link leading out
        of the case folder; the message names the file, and the line when
        there is one.

    Notes
    -----
    ``_row`` of a CSV record is the line it starts on (header = line 1; a
    quoted field spanning lines moves later records down; blank lines are
    skipped, not rows); of a Parquet record, its 1-based position.

    Timestamps are read as ``YYYY-MM-DD`` (or ``/``, ``.``) with an optional
    ``T``/space time ``H:MM[:SS[.ffffff]]`` and optional offset ``Z``,
    ``UTC``, ``+08``, ``+0800``, ``+08:00``. Naive values are in the file's
    zone, else the case's; an ambiguous wall time (clocks went back) is the
    earlier instant, a non-existent one (clocks went forward) is
    quarantined. See :mod:`forensics.case._cells` for the other kinds.

    Quarantine reasons: ``expected N fields, found M``, ``a field of N
    characters (more than 131072) ...: an unbalanced quote?``, ``not valid
    UTF-8; looks like GB18030`` (a few lines in another encoding), ``the
    file ends inside a multi-byte character (truncated?)``, ``not a valid
    timestamp`` (with what it looks like: a spreadsheet date, a serial
    number, a bare number; also ``date``, ``clock time``, ``boolean``,
    ``integer``, ``number``), ``implausible timestamp: more than 30 years
    before/after ...``, ``negative value in a column that cannot be
    negative``, ``not one of: ...``, ``empty value in a required column``,
    ``NUL byte in cell``, ``local time does not exist in ZONE ...``,
    ``duplicate row of line N``, ``duplicate KEY of line N with different
    content``. Duplicates are looked for among rows with no other fault;
    the first occurrence is kept. ``not one of: ...`` applies to the strict
    enum columns only (``logins.action``, ``access.action``,
    ``endpoint.kind``); an unlisted value of a descriptive one is kept and
    listed in ``Case.unlisted``. docs/evidence-handling.md says what the
    loader guarantees and what it cannot.
    """
    folder = Path(path)
    if not folder.is_dir():
        raise CaseError(f"{folder} is not a case folder")
    meta, toml_record = _read_meta(folder)
    paths = _locate_tables(folder, meta)
    tables: dict[str, pl.DataFrame] = {}
    records = [toml_record]
    quarantine = [pl.DataFrame(schema=QUARANTINE_SCHEMA)]
    withheld = frozenset() if personal else frozenset(PERSONAL_COLUMNS)
    files = {name: paths[name].relative_to(folder).as_posix() for name in paths}
    loaded = _load_tables(paths, files, meta, withheld, progress)
    for name in paths:  # in contract order: endpoint's derived columns need staff
        checked, record = loaded.pop(name)
        tables[name] = derive(name, checked.frame, tables)
        quarantine.append(checked.quarantine)
        records.append(record)
        del checked
    references = find_unregistered(tables, files)
    unregistered = references.unregistered
    unlisted = find_unlisted(tables, files)  # before absent tables are filled in
    for name, schema in TABLES.items():
        tables.setdefault(name, empty_frame(schema))
    order_rows = references.rows.get(("access", "order_id"))
    order_ids = None
    if order_rows is not None and "order_id" in tables["access"].columns:
        # Matched to orders already: held as those rows (see ._lean).
        tables["access"], order_ids = lean_access(tables["access"], order_rows)
    return Case(
        path=folder,
        meta=meta,
        inputs=tuple(sorted(records, key=lambda r: r.file)),
        tables=CaseTables(tables, order_ids),
        present=frozenset(paths),
        quarantine=pl.concat(quarantine).sort(["file", "row"], maintain_order=True),
        unregistered=unregistered
        if unregistered.height
        else pl.DataFrame(schema=UNREGISTERED_SCHEMA),
        unlisted=unlisted,
        access_order_rows=order_rows,
        withheld=withheld,
    )
