"""Declarative schemas of the case tables (CASE_FORMAT.md, version 1.1).

One :class:`TableSchema` per table says which file it comes from, which
columns it must have, how each cell is typed and which other table an id
refers to. The loader checks every table against it once, where data
enters the library; everything downstream trusts the typed frames.

Typed frames, as :class:`forensics.case.Case` holds them:

- ``ID`` and ``TEXT`` cells are ``pl.String`` (stripped; empty -> null).
- ``TIMESTAMP`` cells are ``pl.Datetime("us", "UTC")``. Naive text is read
  in the file's time zone (``[files.NAME] timezone``), else the case's.
- ``DATE`` is ``pl.Date``, ``CLOCK`` (``HH:MM``) is ``pl.Time``.
- ``BOOL`` is ``pl.Boolean``, ``INT`` is ``pl.Int64``, ``FLOAT`` is
  ``pl.Float64``, ``ENUM`` is a lower-cased, stripped ``pl.String``.
  An ``ENUM`` value outside ``values`` is quarantined, unless the column
  has ``open_values``: descriptive columns (a complaint's category, what a
  camera saw) keep it, and the loader lists it in ``Case.unlisted``. The
  columns whose value decides how the engine reads the row
  (``access.action``, ``logins.action``, ``endpoint.kind``) stay strict.
- Every frame carries ``_row``: where the record is in its source file.
  For CSV it is the line on which the record starts, counting the header as
  line 1 (the row number a spreadsheet shows); for Parquet, the 1-based
  record number. Findings cite ``(file, _row)``.

Columns absent from a file that are not ``required`` are added as nulls, so
downstream code can rely on every column of the contract being present.

Version 1.1 (``Column.since == "1.1"``) adds, all optional:
``endpoint.user``, ``endpoint.source_file``, ``endpoint.source_record``,
the endpoint kinds ``logoff``, ``login_failed``, ``file_create``,
``network`` and ``other``, and ``staff.os_users`` (``;``-separated in the
file, a ``pl.List(pl.String)`` in the loaded frame: ``Column.separator``).

A ``derived`` column is never read from a file: the loader computes it from
the other columns after checking them (see :func:`forensics.case._derived.derive`),
so every consumer sees the same value. ``endpoint.device_key`` names the USB
device of a ``usb_connect``/``usb_disconnect`` row: its ``device_id`` when the
log recorded one, else ``"unidentified drive on MACHINE by USER at
YYYY-MM-DDTHH:MM:SSZ"`` (USER ``?`` when unknown, the time in UTC), and null
on other kinds. ``endpoint.user_person_id`` is the staff member whose
``os_users`` lists the row's ``user`` (see :mod:`forensics.case._derived`).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

import polars as pl

__all__ = [
    "ColumnKind",
    "Column",
    "TableSchema",
    "TABLES",
    "REQUIRED_TABLES",
    "OPTIONAL_TABLES",
    "dtype_of",
    "as_text",
    "typed_like",
    "ROW",
    "ENDPOINT_KINDS",
    "USB_KINDS",
]

ROW = "_row"


class ColumnKind(Enum):
    ID = "id"
    TEXT = "text"
    TIMESTAMP = "timestamp"
    DATE = "date"
    CLOCK = "clock"
    BOOL = "bool"
    INT = "int"
    FLOAT = "float"
    ENUM = "enum"


_DTYPES: dict[ColumnKind, pl.DataType] = {
    ColumnKind.ID: pl.String(),
    ColumnKind.TEXT: pl.String(),
    ColumnKind.TIMESTAMP: pl.Datetime("us", "UTC"),
    ColumnKind.DATE: pl.Date(),
    ColumnKind.CLOCK: pl.Time(),
    ColumnKind.BOOL: pl.Boolean(),
    ColumnKind.INT: pl.Int64(),
    ColumnKind.FLOAT: pl.Float64(),
    ColumnKind.ENUM: pl.String(),
}


def dtype_of(kind: ColumnKind) -> pl.DataType:
    """The polars dtype a column of ``kind`` has in a loaded case."""
    return _DTYPES[kind]


def as_text(frame: pl.DataFrame | pl.LazyFrame, *columns: str):
    """``frame`` with its ``Categorical`` columns (a loaded case's coded
    columns: :attr:`Column.coded`), or only those of ``columns`` among them,
    as ``String``: to join or concatenate it with text columns of other
    tables. Cast a few rows, not millions: a whole access table as text is
    what coding it saves."""
    schema = frame.collect_schema()
    names = columns or tuple(schema.names())
    cast = {n: pl.String for n in names if n in schema and schema[n] == pl.Categorical}
    return frame.cast(cast) if cast else frame


def typed_like(frame: pl.DataFrame | pl.LazyFrame, like, *columns: str):
    """``frame`` with ``columns`` cast to the dtype they have in ``like`` (a
    frame or schema) where that is ``Categorical``: the small side of a join
    with a coded column (the access log's accounts, machines, addresses) is
    coded too, rather than millions of rows turned back into text."""
    theirs = like.collect_schema() if hasattr(like, "collect_schema") else like
    mine = frame.collect_schema()
    cast = {
        n: pl.Categorical
        for n in columns
        if n in theirs and theirs[n] == pl.Categorical and n in mine and mine[n] != pl.Categorical
    }
    return frame.cast(cast) if cast else frame


@dataclass(frozen=True)
class Column:
    """One column of a case table.

    Parameters
    ----------
    name : str
        Column name as it appears in the file header.
    kind : ColumnKind
        How the cell is parsed.
    required : bool
        The column must be present in the file (else ``CaseError``).
    nullable : bool
        An empty cell is acceptable ("unknown"). A row with an empty cell in
        a non-nullable column cannot be used and is quarantined.
    values : tuple of str
        Listed values of an ``ENUM`` column (compared lower-cased).
    open_values : bool
        For an ``ENUM`` column that only describes the row: a value not in
        ``values`` is kept (lower-cased, stripped) and the row accepted; the
        loader reports the cell in ``Case.unlisted`` rather than
        quarantining the row. A complaint filed as "sms_scam" is still a
        complaint. Leave it False where the value decides how the engine
        reads the row (an access action, a login action, an endpoint event
        kind): there an unknown value is quarantined.
    references : str or None
        ``"table.column"`` this id must exist in; a dangling reference is
        reported as an unregistered entity, not quarantined.
    non_negative : bool
        A negative number cannot be true (an amount, a row count): the row
        is quarantined.
    separator : str or None
        For a ``TEXT`` column holding a list (``staff.os_users``): the cell
        is split on it, each item stripped, empty items dropped; the loaded
        column is ``pl.List(pl.String)``.
    derived : bool
        Computed by the loader, never read from the file (a header of that
        name is kept as ``NAME_in_file``).
    coded : bool
        For an ``ID``, ``TEXT`` or ``ENUM`` column of few distinct values
        over many rows (the access log's accounts, machines, addresses and
        actions): held as ``pl.Categorical`` in a loaded case, 4 bytes a row
        instead of at least 16 (polars' categories are global: it compares
        with strings and joins other ``Categorical`` columns, but a join
        with a ``String`` column needs a cast, see
        :func:`forensics.case.as_text`). Checked like any text column.
    since : str
        The CASE_FORMAT version that added the column.
    """

    name: str
    kind: ColumnKind
    required: bool = False
    nullable: bool = True
    values: tuple[str, ...] = ()
    references: str | None = None
    non_negative: bool = False
    open_values: bool = False
    separator: str | None = None
    derived: bool = False
    coded: bool = False
    since: str = "1"

    def __post_init__(self) -> None:
        if self.open_values and self.kind is not ColumnKind.ENUM:
            raise ValueError(f"{self.name}: open_values applies to ENUM columns only")
        if self.separator is not None and self.kind is not ColumnKind.TEXT:
            raise ValueError(f"{self.name}: separator applies to TEXT columns only")
        if self.coded and (self.separator is not None or self.dtype != pl.String):
            raise ValueError(f"{self.name}: only a column of single strings can be coded")

    @property
    def dtype(self) -> pl.DataType:
        if self.separator is not None:
            return pl.List(pl.String())
        return dtype_of(self.kind)

    @property
    def loaded_dtype(self) -> pl.DataType:
        """The dtype of the column in a loaded case (``dtype``, or
        ``Categorical`` for a ``coded`` one)."""
        return pl.Categorical() if self.coded else self.dtype

    @property
    def listed(self) -> tuple[str, ...]:
        """``values`` as stored in a loaded frame (lower-cased)."""
        return tuple(v.lower() for v in self.values)


@dataclass(frozen=True)
class TableSchema:
    """A table of the case format."""

    name: str
    required: bool
    columns: tuple[Column, ...]
    key: str | None = None
    """Column whose values must be unique (a duplicate with different
    content is quarantined; an exact duplicate row is quarantined too, with
    reason ``duplicate row``)."""

    def column(self, name: str) -> Column:
        for col in self.columns:
            if col.name == name:
                return col
        raise KeyError(f"{self.name} has no column {name!r}")

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    def names_in(self, version: str = "1.1") -> tuple[str, ...]:
        """Columns a file of CASE_FORMAT ``version`` has (derived ones excluded)."""
        return tuple(
            c.name for c in self.columns if not c.derived and _version(c.since) <= _version(version)
        )

    @property
    def derived(self) -> tuple[str, ...]:
        """Columns the loader computes rather than reads."""
        return tuple(c.name for c in self.columns if c.derived)

    @property
    def required_columns(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.required)

    @property
    def polars_schema(self) -> pl.Schema:
        """Schema of the loaded frame: ``_row`` then the contract columns."""
        return pl.Schema([(ROW, pl.Int64())] + [(c.name, c.loaded_dtype) for c in self.columns])


K = ColumnKind


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split("."))


def _c(name: str, kind: ColumnKind, **kw) -> Column:
    return Column(name, kind, **kw)


def _req(name: str, kind: ColumnKind, **kw) -> Column:
    """A column that must be present and filled."""
    return Column(name, kind, required=True, nullable=False, **kw)


# Descriptive vocabularies (complaint categories, camera activities, account
# kinds, badge direction and result) are open: other values are kept and
# listed. Login and access actions and endpoint kinds are strict: the
# engine's reading of the row depends on them.
COMPLAINT_CATEGORIES = ("scam_call", "phishing_link", "fake_refund", "harassment", "other")
LOGIN_ACTIONS = ("login", "logout", "login_failed")
ACCESS_ACTIONS = ("view_order", "print_label", "export_orders", "api_pull", "search")
CAMERA_ACTIVITIES = ("enter", "leave", "at_desk", "insert_device", "walk", "other")
ENDPOINT_KINDS = (
    "usb_connect",
    "usb_disconnect",
    "process_start",
    "autorun_added",
    "av_alert",
    "net_upload",
    "logon",
    # version 1.1
    "logoff",
    "login_failed",
    "file_create",
    "network",
    "other",
)
USB_KINDS = ("usb_connect", "usb_disconnect")
ACCOUNT_KINDS = ("main", "sub", "app")
BADGE_DIRECTIONS = ("in", "out")
BADGE_RESULTS = ("granted", "denied")
QUOTED_FIELDS = ("name", "phone", "address", "item", "amount", "order_id")

TABLES: dict[str, TableSchema] = {
    t.name: t
    for t in (
        TableSchema(
            "staff",
            required=True,
            key="person_id",
            columns=(
                _req("person_id", K.ID),
                _c("name", K.TEXT),
                # Free-ish vocabulary: other shops use other role names; kept as text.
                _c("role", K.TEXT),
                _c("hired_on", K.DATE),
                _c("left_on", K.DATE),
                _c("shift_start", K.CLOCK),
                _c("shift_end", K.CLOCK),
                _c("desk_machine_id", K.ID, references="machines.machine_id"),
                _c("os_users", K.TEXT, separator=";", since="1.1"),
            ),
        ),
        TableSchema(
            "accounts",
            required=True,
            key="account_id",
            columns=(
                _req("account_id", K.ID),
                _c("owner_person_id", K.ID, references="staff.person_id"),
                _c("kind", K.ENUM, values=ACCOUNT_KINDS, open_values=True),
                _c("can_export", K.BOOL),
                _c("created_at", K.TIMESTAMP),
                _c("disabled_at", K.TIMESTAMP),
            ),
        ),
        TableSchema(
            "machines",
            required=True,
            key="machine_id",
            columns=(
                _req("machine_id", K.ID),
                _c("location", K.TEXT),
                _c("assigned_person_id", K.ID, references="staff.person_id"),
                _c("camera_id", K.ID),
            ),
        ),
        TableSchema(
            "orders",
            required=True,
            key="order_id",
            columns=(
                _req("order_id", K.ID),
                _c("buyer_id", K.ID),
                _req("placed_at", K.TIMESTAMP),
                _c("status", K.TEXT, coded=True),
                _c("amount", K.FLOAT, non_negative=True),
                _c("buyer_name", K.TEXT),
                _c("phone", K.TEXT),
                _c("address", K.TEXT),
            ),
        ),
        TableSchema(
            "complaints",
            required=True,
            key="complaint_id",
            columns=(
                _req("complaint_id", K.ID),
                _c("buyer_id", K.ID),
                _c("order_id", K.ID, references="orders.order_id"),
                _req("received_at", K.TIMESTAMP),
                _c("category", K.ENUM, values=COMPLAINT_CATEGORIES, open_values=True),
                _c("text", K.TEXT),
                _c("contacted_at", K.TIMESTAMP),
                # ';'-separated subset of QUOTED_FIELDS; kept as text, parsed
                # by forensics.analysis.complaints.
                _c("quoted_fields", K.TEXT),
            ),
        ),
        TableSchema(
            "logins",
            required=True,
            key="event_id",
            columns=(
                _c("event_id", K.ID),
                _req("at", K.TIMESTAMP),
                _req("account_id", K.ID, references="accounts.account_id"),
                _c("machine_id", K.ID, references="machines.machine_id"),
                _c("ip", K.TEXT),
                _req("action", K.ENUM, values=LOGIN_ACTIONS),
                _c("session_id", K.ID),
            ),
        ),
        TableSchema(
            "access",
            required=True,
            key="event_id",
            columns=(
                _c("event_id", K.ID),
                _req("at", K.TIMESTAMP),
                _req("account_id", K.ID, references="accounts.account_id", coded=True),
                _c("machine_id", K.ID, references="machines.machine_id", coded=True),
                _c("ip", K.TEXT, coded=True),
                _req("action", K.ENUM, values=ACCESS_ACTIONS, coded=True),
                _c("order_id", K.ID, references="orders.order_id"),
                _c("range_start", K.TIMESTAMP),
                _c("range_end", K.TIMESTAMP),
                _c("rows", K.INT, non_negative=True),
            ),
        ),
        TableSchema(
            "camera",
            required=False,
            key="sighting_id",
            columns=(
                _c("sighting_id", K.ID),
                _c("camera_id", K.ID),
                _req("start_at", K.TIMESTAMP),
                _c("end_at", K.TIMESTAMP),
                _c("person_id", K.ID, references="staff.person_id"),
                _c("machine_id", K.ID, references="machines.machine_id"),
                _c("activity", K.ENUM, values=CAMERA_ACTIVITIES, open_values=True),
                _c("note", K.TEXT),
            ),
        ),
        TableSchema(
            "endpoint",
            required=False,
            key="event_id",
            columns=(
                _c("event_id", K.ID),
                _req("at", K.TIMESTAMP),
                _req("machine_id", K.ID, references="machines.machine_id"),
                _req("kind", K.ENUM, values=ENDPOINT_KINDS),
                _c("device_id", K.ID),
                _c("process", K.TEXT),
                _c("sha256", K.TEXT),
                _c("detail", K.TEXT),
                _c("user", K.TEXT, since="1.1"),
                _c("source_file", K.TEXT, since="1.1"),
                _c("source_record", K.INT, non_negative=True, since="1.1"),
                _c("device_key", K.ID, derived=True, since="1.1"),
                _c("user_person_id", K.ID, derived=True, since="1.1"),
            ),
        ),
        TableSchema(
            "badge",
            required=False,
            key=None,
            columns=(
                _req("at", K.TIMESTAMP),
                _c("person_id", K.ID, references="staff.person_id"),
                _c("badge_id", K.ID),
                _c("door", K.TEXT),
                _c("direction", K.ENUM, values=BADGE_DIRECTIONS, open_values=True),
                _c("result", K.ENUM, values=BADGE_RESULTS, open_values=True),
            ),
        ),
        TableSchema(
            "apps",
            required=False,
            key="app_id",
            columns=(
                _req("app_id", K.ID),
                _c("account_id", K.ID, references="accounts.account_id"),
                _c("name", K.TEXT),
                _c("granted_at", K.TIMESTAMP),
                _c("revoked_at", K.TIMESTAMP),
                _c("scopes", K.TEXT),
            ),
        ),
    )
}

REQUIRED_TABLES: tuple[str, ...] = tuple(n for n, t in TABLES.items() if t.required)
OPTIONAL_TABLES: tuple[str, ...] = tuple(n for n, t in TABLES.items() if not t.required)
