"""Vectorised typing of cells: one polars expression pair per column.

For each contract column, :func:`typed_cell` returns ``(value, reason,
damaged)``: the typed value (null when empty or unreadable), a String
expression that is null when the cell is fine and otherwise says what is
wrong, and the same verdict as a cheap Boolean. No
Python runs per cell; everything is a polars expression, so typing a
million rows takes a fraction of a second.

Accepted spellings
------------------
timestamp
    ``YYYY-MM-DD``, ``YYYY/MM/DD`` or ``YYYY.MM.DD``; optionally followed
    by ``T`` or spaces and ``H:MM``, ``HH:MM:SS`` or ``HH:MM:SS.ffffff``
    (``,`` also accepted as decimal mark; digits past microseconds are
    dropped); optionally followed by ``Z``, ``UTC``, ``GMT``, ``+08``,
    ``+0800`` or ``+08:00``. A naive value is wall-clock time in the file's
    zone: when the clocks go back (ambiguous hour) the earlier instant is
    taken; a time that does not exist (clocks went forward) is quarantined,
    because shifting it would invent an instant nobody recorded.
    Spreadsheet spellings are *not* read, and their reason says why:
    ``4/4/2024 7:12`` (is it April 4th or, day first, the same? 3/4/2024 is
    March 4th in the US and 3 April elsewhere) and serial numbers such as
    ``45386.3`` (days since 1899-12-30, or since 1904-01-01 in old Mac
    workbooks: four years apart). A timestamp more than
    :data:`PLAUSIBLE_YEARS` years from the case's ``opened_at`` (without one,
    from the median of its column) is quarantined as implausible: 1970-01-01
    and 2099 are reset clocks or placeholders, not events, and thirty years
    before a case there were no online shops (a shop opened twenty years
    ago still has its main account's ``created_at`` accepted).
date
    The date part above, optionally followed by a midnight time.
clock
    ``H:MM`` or ``HH:MM:SS``; ``24:00`` means end of day and is read as
    23:59:59.999999 (``pl.Time`` has no 24:00).
bool
    true/false, t/f, yes/no, y/n, 1/0 (any case), 是/否.
int, float
    Plain decimal numbers as polars casts them (``1e3`` is a float);
    ``nan`` and ``inf`` are not numbers. A column marked ``non_negative``
    (amounts, row counts) quarantines negative values.
enum
    Compared and stored lower-cased. A value outside the column's
    ``values`` is quarantined, unless the column has ``open_values``: then
    it is kept, and :func:`forensics.case._tables.find_unlisted` lists it.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import polars as pl

from .schema import Column, ColumnKind

__all__ = [
    "Steps",
    "TextFacts",
    "text_facts",
    "padded_cells",
    "nul_free_columns",
    "text_of",
    "typed_cell",
    "nul_cell",
    "REQUIRED_EMPTY",
    "NUL_IN_CELL",
    "NEGATIVE",
    "PLAUSIBLE_YEARS",
    "SPACES",
]

REQUIRED_EMPTY = "empty value in a required column"
NUL_IN_CELL = "NUL byte in cell"
NEGATIVE = "negative value in a column that cannot be negative"
PLAUSIBLE_YEARS = 30
"""Timestamps further than this from the case's ``opened_at`` are quarantined."""

_BAD_TIMESTAMP = "not a valid timestamp"
_SPREADSHEET_DATE = (
    f"{_BAD_TIMESTAMP}: a spreadsheet date (day/month order unknown); write YYYY-MM-DD hh:mm:ss"
)
_SERIAL = (
    f"{_BAD_TIMESTAMP}: a spreadsheet serial number (1900 or 1904 date system unknown); "
    "export the column as YYYY-MM-DD hh:mm:ss"
)
_EPOCH = f"{_BAD_TIMESTAMP}: a bare number (Unix time?); write YYYY-MM-DD hh:mm:ss"

_DATE = r"([0-9]{4})[-/.]([0-9]{1,2})[-/.]([0-9]{1,2})"
_TIMESTAMP = (
    rf"^{_DATE}"
    r"(?:(?:[Tt]|\s+)([0-9]{1,2}):([0-9]{2})(?::([0-9]{2})(?:[.,]([0-9]{1,9}))?)?)?"
    r"\s*(Z|z|UTC|GMT|[+-][0-9]{2}(?::?[0-9]{2})?)?$"
)
_DATE_ONLY = rf"^{_DATE}(?:(?:[Tt]|\s+)0?0:00(?::00(?:[.,]0+)?)?)?$"
_CLOCK = r"^([0-9]{1,2}):([0-9]{2})(?::([0-9]{2}))?$"
_SHEET_DATE = (
    r"^[0-9]{1,2}[-/.][0-9]{1,2}[-/.][0-9]{2,4}"
    r"(?:(?:[Tt]|\s+)[0-9]{1,2}:[0-9]{2}(?::[0-9]{2}(?:[.,][0-9]+)?)?(?:\s*[AaPp]\.?[Mm]\.?)?)?$"
)
_SHEET_SERIAL = r"^(?:[0-9]{5}(?:[.,][0-9]+)?|[0-9]{4}[.,][0-9]+)$"
_BARE_NUMBER = r"^[0-9]{9,}(?:\.[0-9]+)?$"

_TRUE = ("true", "t", "yes", "y", "1", "是")
_FALSE = ("false", "f", "no", "n", "0", "否")

SPACES = "\t\n\x0b\x0c\r \x85\xa0\u1680" + "".join(map(chr, range(0x2000, 0x200B)))
SPACES += "\u2028\u2029\u202f\u205f\u3000"
"""Unicode White_Space: what is stripped from cells (``str.strip()`` would
also strip the ASCII information separators \x1c-\x1f, which are data)."""
_INVISIBLE = "\ufeff\u200b"
_MAX_OFFSET_MINUTES = 14 * 60  # the widest UTC offset in use (Kiribati)


class Steps:
    """A lazy frame to which intermediate columns are added one at a time.

    Parsing a timestamp uses its regex groups, wall time and offset several
    times; as plain nested expressions each use would re-run the regex.
    Materialising each intermediate once keeps typing a 1M-row table well
    under a second. Intermediate names start with a control character so
    they cannot clash with a header; a final ``select`` drops them.
    """

    def __init__(self, frame: pl.LazyFrame):
        self.frame = frame
        self._count = 0

    def keep(self, expr: pl.Expr) -> pl.Expr:
        """Add ``expr`` as a column and return a reference to it."""
        name = f"\x1fstep{self._count}"
        self._count += 1
        self.frame = self.frame.with_columns(expr.alias(name))
        return pl.col(name)


@dataclass(frozen=True)
class TextFacts:
    """What every cell of a ``String`` column was found to be free of.

    Computed over the whole column by :func:`text_facts` (aggregates, far
    cheaper than the per-cell work they rule out), so that typing can skip
    stripping a column in which no cell starts or ends with whitespace or a
    BOM, looking for NUL where no cell holds one, and lower-casing an enum
    column whose every value is already a listed (lower-case) one. Each
    skip gives exactly what the full work would: a fact is only ever a
    statement about every cell. The default assumes nothing.
    """

    padded: bool = True  # some cell starts or ends with a character that is stripped
    nul: bool = True  # some cell holds a NUL byte
    empty: bool = True  # some cell is ""
    unlisted: bool = True  # some cell is not null and not one of the listed values


UNKNOWN = TextFacts()

_STRIPPED = SPACES + _INVISIBLE
# The first and the last byte of each stripped character in UTF-8: a cell
# that starts (ends) with none of them cannot need stripping at that end.
_LEAD_BYTES = sorted({ch.encode()[0] for ch in _STRIPPED})
_TAIL_BYTES = sorted({ch.encode()[-1] for ch in _STRIPPED})


def text_facts(src: pl.Expr, listed: tuple[str, ...] | None = None) -> list[pl.Expr]:
    """Aggregates of a ``String`` column, in the order of :class:`TextFacts`.

    Evaluate them in one ``select`` and pass the row to ``TextFacts``.
    ``listed`` (an enum column's values, lower-cased) makes the last one
    meaningful; without it, it is always true.

    The first is only a superset: some cell's first or last byte could
    begin or end a stripped character (ids and codes never do; stripping
    every cell of a column cost more than reading it). Where it is true,
    :func:`padded_cells` says exactly.
    """
    raw = src.cast(pl.Binary)
    first = raw.bin.get(0, null_on_oob=True)
    last = raw.bin.get(-1, null_on_oob=True)
    edge = (first.is_in(_LEAD_BYTES) | last.is_in(_TAIL_BYTES)).any()
    nul = raw.bin.contains(b"\x00").any()
    empty = (src == "").any()
    unlisted = pl.lit(True) if listed is None else (src.is_not_null() & ~src.is_in(listed)).any()
    return [edge, nul, empty, unlisted]


def padded_cells(src: pl.Expr) -> pl.Expr:
    """Whether some cell of a ``String`` column needs stripping (an aggregate)."""
    return (src.str.strip_chars(_STRIPPED) != src).any()


def text_of(src: pl.Expr, dtype: pl.DataType, facts: TextFacts = UNKNOWN) -> pl.Expr:
    """The cell as stripped text (whitespace, BOMs and zero-width spaces at
    either end), empty -> null (any source dtype).

    ``facts`` (of a ``String`` source) lets it skip what cannot change
    anything: the strip where no cell is padded, the empty test where no
    cell is empty.
    """
    if dtype.is_nested():
        # Lists and structs (Parquet only) cannot be cast to String; their
        # JSON text is what a reader of the file would see anyway.
        wrapped = pl.struct(src.alias("v")).struct.json_encode()
        return pl.when(src.is_not_null()).then(
            wrapped.str.strip_prefix('{"v":').str.strip_suffix("}")
        )
    if dtype != pl.String:
        return src.cast(pl.String)
    if not facts.padded:
        return pl.when(src != "").then(src) if facts.empty else src
    # A BOM left by concatenated exports (or a zero-width space) is invisible
    # but would make "O1005" and "\ufeffO1005" two different orders.
    # Not ``replace("", None)``: the streaming engine runs it on whole
    # columns, not morsel by morsel.
    stripped = src.str.strip_chars(SPACES + _INVISIBLE)
    return pl.when(stripped != "").then(stripped)


def nul_cell(src: pl.Expr, dtype: pl.DataType, facts: TextFacts = UNKNOWN) -> pl.Expr | None:
    """Boolean expression flagging NUL bytes (damage) in a String source;
    None when there can be none (not text, or no cell holds one)."""
    if dtype != pl.String or not facts.nul:
        return None
    return src.str.contains("\x00", literal=True)


def _why(bad: pl.Expr, reason: str) -> pl.Expr:
    return pl.when(bad).then(pl.lit(reason))


def _padded(part: pl.Expr, default: str) -> pl.Expr:
    return part.fill_null(default).str.zfill(2)


def _offset_minutes(zone: pl.Expr) -> pl.Expr:
    """Minutes east of UTC of a parsed offset (Z/UTC/GMT -> 0; none -> null)."""
    digits = zone.str.replace(":", "", literal=True)
    hours = digits.str.slice(1, 2).cast(pl.Int64, strict=False)
    minutes = digits.str.slice(3, 2).cast(pl.Int64, strict=False).fill_null(0)
    sign = pl.when(digits.str.starts_with("-")).then(-1).otherwise(1)
    return (
        pl.when(zone.is_null())
        .then(None)
        .when(zone.str.to_uppercase().is_in(["Z", "UTC", "GMT"]))
        .then(0)
        .otherwise(sign * (hours * 60 + minutes))
    )


_FIXED_WINDOW_YEARS = PLAUSIBLE_YEARS + 1


@functools.lru_cache(maxsize=64)
def _fixed_offset(zone: str, around: date) -> tuple[datetime, datetime, timedelta] | None:
    """``(start, end, offset)`` when ``zone`` keeps one UTC offset for
    :data:`_FIXED_WINDOW_YEARS` either side of ``around`` (no daylight
    saving, no change of zone): naive times in ``[start, end)`` are then
    UTC plus ``offset``. None otherwise.
    """
    try:
        start = datetime(around.year - _FIXED_WINDOW_YEARS, 1, 1)
        end = datetime(around.year + _FIXED_WINDOW_YEARS, 1, 1)
    except ValueError:  # a case opened near year 1 or 9999
        return None
    # Hourly instants a day beyond the window either side: every naive time
    # inside it maps to one of these hours, give or take the offset.
    hours = pl.datetime_range(
        start - timedelta(days=1), end + timedelta(days=1), "1h", time_zone="UTC", eager=True
    )
    local = hours.dt.convert_time_zone(zone)
    offsets = (local.dt.base_utc_offset() + local.dt.dst_offset()).unique()
    if offsets.len() != 1:
        return None
    return start, end, offsets.item()


def _localize(naive: pl.Expr, zone: str, reference: datetime | None = None) -> pl.Expr:
    """Wall-clock time in ``zone`` to UTC; nonexistent local times -> null.

    ``replace_time_zone`` looks the zone up for every value (most of the
    time of typing a timestamp column); where the zone's offset is fixed
    for decades around the case (``reference``, else today), the values in
    that span are shifted by it instead, which is the same result.
    """

    def exact(value: pl.Expr) -> pl.Expr:
        return value.dt.replace_time_zone(
            zone, ambiguous="earliest", non_existent="null"
        ).dt.convert_time_zone("UTC")

    fixed = _fixed_offset(zone, (reference or datetime.now(UTC)).date())
    if fixed is None:
        return exact(naive)
    start, end, offset = fixed
    inside = (naive >= start) & (naive < end)
    shifted = (naive - pl.lit(offset)).dt.replace_time_zone("UTC")
    # The exact lookup sees only the values outside the span (null inside).
    return pl.when(inside).then(shifted).otherwise(exact(pl.when(~inside).then(naive)))


def _parse_timestamp(
    steps: Steps, text: pl.Expr, zone: str, reference: datetime | None
) -> tuple[pl.Expr, pl.Expr]:
    parts = steps.keep(text.str.extract_groups(_TIMESTAMP))
    y, mo, d, h, mi, s, frac, off = (parts.struct[i] for i in range(8))
    clock = pl.concat_str(
        [y, pl.lit("-"), _padded(mo, "1"), pl.lit("-"), _padded(d, "1"), pl.lit(" ")]
        + [_padded(h, "0"), pl.lit(":"), mi.fill_null("00"), pl.lit(":"), s.fill_null("00")]
    ).str.strptime(pl.Datetime("us"), "%Y-%m-%d %H:%M:%S", strict=False)
    micros = frac.fill_null("").str.pad_end(6, "0").str.slice(0, 6).cast(pl.Int64)
    wall = steps.keep(clock + pl.duration(microseconds=micros))
    minutes = steps.keep(_offset_minutes(off))
    off_minutes_part = off.str.replace(":", "", literal=True).str.slice(3, 2)
    offset_ok = steps.keep(
        off.is_null()
        | (
            (minutes.abs() <= _MAX_OFFSET_MINUTES)
            & (off_minutes_part.cast(pl.Int64, strict=False).fill_null(0) < 60)
        )
    )
    aware = (wall - pl.duration(minutes=minutes.fill_null(0))).dt.replace_time_zone("UTC")
    value = steps.keep(
        pl.when(~offset_ok)
        .then(None)
        .when(off.is_null())
        .then(_localize(wall, zone, reference))
        .otherwise(aware)
    )
    reason = (
        pl.when(text.is_null())
        .then(None)
        .when(wall.is_null() | ~offset_ok)
        .then(_unreadable_timestamp(text))
        .when(value.is_null())
        .then(pl.lit(f"local time does not exist in {zone} (clocks moved forward)"))
        .otherwise(_implausible(value, reference)[0])
    )
    return value, reason


def _unreadable_timestamp(text: pl.Expr) -> pl.Expr:
    """Why a timestamp could not be read, naming the usual spreadsheet forms."""
    return (
        pl.when(text.str.contains(_SHEET_DATE))
        .then(pl.lit(_SPREADSHEET_DATE))
        .when(text.str.contains(_SHEET_SERIAL))
        .then(pl.lit(_SERIAL))
        .when(text.str.contains(_BARE_NUMBER))
        .then(pl.lit(_EPOCH))
        .otherwise(pl.lit(_BAD_TIMESTAMP))
    )


def _implausible(value: pl.Expr, reference: datetime | None) -> tuple[pl.Expr, pl.Expr]:
    """Reason for a timestamp decades away from the case (null when
    plausible), and the same as a boolean.

    The reference is the case's ``opened_at``; without one, the median of
    the column, so that a reset clock (1970) stands out among 2024 events.
    """
    if reference is not None:
        ref = pl.lit(reference).dt.cast_time_unit("us").dt.convert_time_zone("UTC")
        what = f"the case's opened_at ({reference:%Y-%m-%d})"
    else:
        ref = value.median()
        what = "the median of this column"
    limit = pl.duration(days=round(PLAUSIBLE_YEARS * 365.25))
    reason = f"implausible timestamp: more than {PLAUSIBLE_YEARS} years {{}} {what}"
    early, late = value < ref - limit, value > ref + limit
    why = (
        pl.when(early)
        .then(pl.lit(reason.format("before")))
        .when(late)
        .then(pl.lit(reason.format("after")))
    )
    return why, early | late


_NO_REASON = pl.lit(None, pl.String)
_NO_FAULT = pl.lit(False)
_Typed = tuple[pl.Expr, pl.Expr, pl.Expr]  # value, reason, damaged


def _timestamp(
    steps: Steps,
    src: pl.Expr,
    dtype: pl.DataType,
    text: pl.Expr,
    zone: str,
    reference: datetime | None,
) -> _Typed:
    if isinstance(dtype, pl.Datetime):
        # A Parquet column already typed: keep it; naive means the file's zone.
        us = src.dt.cast_time_unit("us")
        if dtype == pl.Datetime("us", "UTC"):
            return src, *_implausible(src, reference)  # as it is (kept as read)
        if dtype.time_zone is not None:
            value = steps.keep(us.dt.convert_time_zone("UTC"))
            return value, *_implausible(value, reference)
        value = steps.keep(_localize(us, zone, reference))
    elif dtype == pl.Date:
        value = steps.keep(_localize(src.cast(pl.Datetime("us")), zone, reference))
    else:
        value, reason = _parse_timestamp(steps, text, zone, reference)
        return value, reason, reason.is_not_null()
    bad = src.is_not_null() & value.is_null()
    reason = _why(bad, f"local time does not exist in {zone} (clocks moved forward)")
    implausible, far = _implausible(value, reference)
    return value, pl.coalesce(reason, implausible), bad | far


def _unread(value: pl.Expr, present: pl.Expr, reason: str) -> _Typed:
    """A cell that was there but could not be read."""
    bad = present & value.is_null()
    return value, _why(bad, reason), bad


def _date(
    steps: Steps, src: pl.Expr, dtype: pl.DataType, text: pl.Expr, present: pl.Expr
) -> _Typed:
    if dtype == pl.Date:
        return src, _NO_REASON, _NO_FAULT
    if isinstance(dtype, pl.Datetime):
        return src.dt.date(), _NO_REASON, _NO_FAULT
    parts = steps.keep(text.str.extract_groups(_DATE_ONLY))
    y, mo, d = (parts.struct[i] for i in range(3))
    value = steps.keep(
        pl.concat_str([y, pl.lit("-"), _padded(mo, "1"), pl.lit("-"), _padded(d, "1")]).str.to_date(
            "%Y-%m-%d", strict=False
        )
    )
    return _unread(value, present, "not a valid date (YYYY-MM-DD)")


def _clock(
    steps: Steps, src: pl.Expr, dtype: pl.DataType, text: pl.Expr, present: pl.Expr
) -> _Typed:
    if dtype == pl.Time:
        return src, _NO_REASON, _NO_FAULT
    parts = steps.keep(text.str.extract_groups(_CLOCK))
    h, mi, s = (parts.struct[i] for i in range(3))
    canonical = steps.keep(
        pl.concat_str([_padded(h, "0"), pl.lit(":"), mi, pl.lit(":"), s.fill_null("00")])
    )
    value = steps.keep(
        pl.when(canonical == "24:00:00")
        .then(pl.time(23, 59, 59, 999_999))
        .otherwise(canonical.str.to_time("%H:%M:%S", strict=False))
    )
    return _unread(value, present, "not a valid clock time (HH:MM)")


def _bool(
    steps: Steps, src: pl.Expr, dtype: pl.DataType, text: pl.Expr, present: pl.Expr
) -> _Typed:
    if dtype == pl.Boolean:
        return src, _NO_REASON, _NO_FAULT
    lower = text.str.to_lowercase()
    value = steps.keep(pl.when(lower.is_in(_TRUE)).then(True).when(lower.is_in(_FALSE)).then(False))
    return _unread(value, present, "not a valid boolean (true/false)")


def _int(steps: Steps, src: pl.Expr, dtype: pl.DataType, text: pl.Expr, present: pl.Expr) -> _Typed:
    if dtype.is_integer():
        value = src.cast(pl.Int64, strict=False)
    elif dtype.is_float():
        # A Parquet writer may store counts as floats: accept whole numbers.
        whole = src.is_finite() & (src == src.round(0))
        value = pl.when(whole).then(src).cast(pl.Int64, strict=False)
    else:
        value = text.cast(pl.Int64, strict=False)
    return _unread(steps.keep(value), present, "not a valid integer")


def _float(
    steps: Steps, src: pl.Expr, dtype: pl.DataType, text: pl.Expr, present: pl.Expr
) -> _Typed:
    cast = src.cast(pl.Float64) if dtype.is_numeric() else text.cast(pl.Float64, strict=False)
    # "nan" and "inf" cast, but no amount is either.
    value = steps.keep(pl.when(cast.is_finite()).then(cast))
    return _unread(value, present, "not a valid number")


def _enum(text: pl.Expr, column: Column, facts: TextFacts) -> _Typed:
    if not (facts.unlisted or facts.padded):
        # Every cell is null or a listed value as it stands (so neither
        # padded nor upper-case): nothing to lower-case, nothing to reject.
        return text, _NO_REASON, _NO_FAULT
    value = text.str.to_lowercase()
    if column.open_values:
        # Descriptive: an unlisted value is kept (and listed by the loader).
        return value, _NO_REASON, _NO_FAULT
    allowed = column.listed
    bad = value.is_not_null() & ~value.is_in(allowed)
    return value, _why(bad, f"not one of: {', '.join(allowed)}"), bad


def typed_cell(
    steps: Steps,
    column: Column,
    src: pl.Expr,
    dtype: pl.DataType,
    zone: str,
    *,
    reference: datetime | None = None,
    facts: TextFacts = UNKNOWN,
) -> _Typed:
    """``(value, reason, damaged)`` expressions of one contract column.

    Parameters
    ----------
    steps : Steps
        The frame being typed; intermediate columns are added to it, and
        the returned expressions must be evaluated on ``steps.frame``.
    column : Column
        The contract column.
    src : pl.Expr
        The source column as read (CSV: String; Parquet: its own dtype).
    dtype : pl.DataType
        The source dtype.
    zone : str
        Time zone of naive timestamps of this file.
    reference : datetime, optional
        The case's ``opened_at`` (aware); timestamps more than
        :data:`PLAUSIBLE_YEARS` from it are quarantined. Without it, the
        median of the column is the reference.
    facts : TextFacts
        What a ``String`` source was found free of (:func:`text_facts`),
        for work that can be skipped; the result is the same.

    Returns
    -------
    value : pl.Expr
        Typed as ``column.loaded_dtype``; null when empty or unreadable.
    reason : pl.Expr
        String: null when the cell is acceptable, else why not (including
        an empty cell in a non-nullable column, and NUL bytes).
    damaged : pl.Expr
        Boolean, never null: ``reason`` is not null. Much cheaper to
        evaluate on every row than ``reason``, which is needed only where
        this is true.
    """
    if dtype == pl.String:
        text = text_of(src, dtype, facts)
        if facts.padded or facts.empty:
            text = steps.keep(text)
        present = text.is_not_null()
    else:
        # A typed Parquet column is only turned into text when it has to be
        # parsed; a cell of it is empty exactly when it is null.
        text = text_of(src, dtype)
        present = src.is_not_null()
    kind = column.kind
    if kind in (ColumnKind.ID, ColumnKind.TEXT):
        value, reason, bad = text, _NO_REASON, _NO_FAULT
        if column.separator is not None:  # a list: "a; b;" -> ["a", "b"]
            items = value.str.split(column.separator).list.eval(pl.element().str.strip_chars())
            value = items.list.filter(pl.element() != "")
    elif kind is ColumnKind.TIMESTAMP:
        value, reason, bad = _timestamp(steps, src, dtype, text, zone, reference)
    elif kind is ColumnKind.DATE:
        value, reason, bad = _date(steps, src, dtype, text, present)
    elif kind is ColumnKind.CLOCK:
        value, reason, bad = _clock(steps, src, dtype, text, present)
    elif kind is ColumnKind.BOOL:
        value, reason, bad = _bool(steps, src, dtype, text, present)
    elif kind is ColumnKind.INT:
        value, reason, bad = _int(steps, src, dtype, text, present)
    elif kind is ColumnKind.FLOAT:
        value, reason, bad = _float(steps, src, dtype, text, present)
    else:
        # (A Categorical source comes here only when its facts allow it
        # to be kept as read: see forensics.case._tables._as_read.)
        known = facts if dtype in (pl.String, pl.Categorical) else UNKNOWN
        value, reason, bad = _enum(text, column, known)
    reasons, faults = [reason], [bad]
    if column.non_negative:
        negative = value < 0
        reasons.append(_why(negative, NEGATIVE))
        faults.append(negative)
    if not column.nullable:
        empty = ~present
        reasons.insert(0, _why(empty, REQUIRED_EMPTY))
        faults.append(empty)
    nul = nul_cell(src, dtype, facts)
    if nul is not None:
        reasons.insert(0, _why(nul, NUL_IN_CELL))
        faults.append(nul)
    damaged = pl.any_horizontal(faults).fill_null(False)
    return value.cast(column.loaded_dtype), pl.coalesce(reasons), damaged


def nul_free_columns(scan: pl.LazyFrame, columns: dict[str, int]) -> set[str]:
    """Those of ``columns`` (name -> position in ``scan``) in which no cell
    holds a NUL byte, found by streaming the file (the columns are never
    whole in memory)."""
    if not columns:
        return set()
    nul = scan.select(
        pl.nth(i).cast(pl.Binary).bin.contains(b"\x00").any().alias(name)
        for name, i in columns.items()
    )
    found = nul.collect(engine="streaming").row(0, named=True)
    return {name for name in columns if not found[name]}
