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
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time
from pathlib import Path
from types import MappingProxyType
from typing import Any

import polars as pl

from .schema import TABLES

__all__ = ["Case", "CaseMeta", "InputFile", "CaseError", "load"]


class CaseError(Exception):
    """The case cannot be loaded: a required file or column is missing, a
    file is not in a format or encoding we can read, case.toml is invalid.

    The message names the file (and the line and column when there is one).
    """

    def __init__(self, message: str, *, file: str | None = None, row: int | None = None,
                 column: str | None = None):
        super().__init__(message)
        self.file = file
        self.row = row
        self.column = column


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


@dataclass(frozen=True)
class Case:
    path: Path
    meta: CaseMeta
    inputs: tuple[InputFile, ...]
    tables: MappingProxyType  # name -> pl.DataFrame
    present: frozenset[str]
    quarantine: pl.DataFrame
    unregistered: pl.DataFrame

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
        raise NotImplementedError

    staff = property(lambda self: self.tables["staff"])
    accounts = property(lambda self: self.tables["accounts"])
    machines = property(lambda self: self.tables["machines"])
    orders = property(lambda self: self.tables["orders"])
    complaints = property(lambda self: self.tables["complaints"])
    logins = property(lambda self: self.tables["logins"])
    access = property(lambda self: self.tables["access"])
    camera = property(lambda self: self.tables["camera"])
    endpoint = property(lambda self: self.tables["endpoint"])
    badge = property(lambda self: self.tables["badge"])
    apps = property(lambda self: self.tables["apps"])


def load(path: str | Path, *, progress: bool = False) -> Case:
    """Read, validate and hash every file of the case folder at ``path``."""
    raise NotImplementedError
