"""``forensics import evtx``: Windows event logs (.evtx) into ``CASE/endpoint.csv``.

The records are read by the ``evtx`` package (Rust-backed, the reader of
omerbenamram/evtx: it reads logs python-evtx cannot, dirty and recovered
ones included) and mapped by :mod:`forensics.interchange.windows`. Every
record read is either imported or skipped with a reason, counted per file,
channel and event id (records read = imported + skipped); a part of the file
the reader cannot parse (a damaged chunk) is counted and reported, and the
rest of the file is still read. A chunk that is all zeros is the unused
space Windows preallocates, not damage, and is counted apart.

Each source file is hashed before it is read and again after; a file that
changed in between stops the import. It is opened for reading only.
"""

from __future__ import annotations

import collections
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from ..case._errors import CaseError
from ..case._readers import sha256_file
from .caseout import Written, append_rows, source_record, stable_id, write_log
from .windows import ENDPOINT_COLUMNS, WindowsEvents, event_fields, event_time

__all__ = ["EvtxImport", "COUNTS_SCHEMA", "read_records", "import_evtx"]

COUNTS_SCHEMA = pl.Schema(
    {
        "file": pl.String,
        "channel": pl.String,
        "event_id": pl.Int64,
        "read": pl.Int64,
        "imported": pl.Int64,
        "skipped": pl.Int64,
        "reasons": pl.String,  # "reason: n; reason: n"
    }
)
_EMPTY_CHUNK = "found `[ 0,  0,  0,  0,  0,  0,  0,  0]`"
_MAX_ERRORS = 100_000  # a file that only raises is not read forever


@dataclass(frozen=True)
class EvtxImport:
    """What one ``import evtx`` run did."""

    case: Path
    sources: tuple[dict[str, Any], ...]  # file, path, sha256, size
    counts: pl.DataFrame  # COUNTS_SCHEMA, one row per file, channel and event id
    written: Written
    damaged: tuple[tuple[str, str], ...] = ()  # (file, reader's message)
    empty_chunks: dict[str, int] = field(default_factory=dict)
    log: Path | None = None

    @property
    def read(self) -> int:
        return int(self.counts["read"].sum())

    @property
    def imported(self) -> int:
        return int(self.counts["imported"].sum())

    @property
    def skipped(self) -> int:
        return int(self.counts["skipped"].sum())

    def summary(self) -> str:
        """The text ``forensics import evtx`` prints."""
        lines = [
            f"{self.written.path}: {self.written.written} rows written"
            + (" (new file)" if self.written.created else " (appended)"),
            f"records read {self.read} = imported {self.imported} + skipped {self.skipped}",
        ]
        for row in self.counts.iter_rows(named=True):
            lines.append(
                f"  {row['file']} {row['channel']} {row['event_id']}: read {row['read']}, "
                f"imported {row['imported']}, skipped {row['skipped']}"
                + (f" ({row['reasons']})" if row["reasons"] else "")
            )
        for file, message in self.damaged:
            lines.append(f"  {file}: unreadable part: {message}")
        for file, n in self.empty_chunks.items():
            lines.append(f"  {file}: {n} empty (preallocated) chunk(s)")
        if self.log is not None:
            lines.append(f"import log: {self.log}")
        return "\n".join(lines)


def read_records(path: Path) -> Iterator[tuple[dict[str, Any] | None, str | None]]:
    """``(event, None)`` per record of ``path``, ``(None, message)`` per unreadable part.

    ``event`` is the JSON of the record's ``<Event>`` element.
    """
    import evtx  # imported when used, so that `forensics --help` stays fast

    try:
        parser = evtx.PyEvtxParser(str(path))
    except Exception as exc:  # the package raises RuntimeError / OSError variants
        raise CaseError(f"{path.name}: not a readable .evtx file ({exc})", file=path.name) from exc
    records = parser.records_json()
    errors = 0
    while True:
        try:
            record = next(records)
        except StopIteration:
            return
        except RuntimeError as exc:  # a damaged chunk or record; the next one may read
            errors += 1
            if errors > _MAX_ERRORS:
                raise CaseError(f"{path.name}: too many unreadable parts", file=path.name) from exc
            yield None, str(exc)
            continue
        try:
            yield json.loads(record["data"])["Event"], None
        except (KeyError, TypeError, ValueError) as exc:
            yield None, f"record {record.get('event_record_id')}: {exc}"


def _event_id(system: dict[str, Any]) -> int | None:
    value = system.get("EventID")
    if isinstance(value, dict):
        value = value.get("#text")
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def import_evtx(
    paths: Sequence[str | Path], case: str | Path, *, all_logons: bool = False
) -> EvtxImport:
    """Import ``paths`` (.evtx) into ``case``/endpoint.csv and log the run.

    Parameters
    ----------
    paths : sequence of path
        The event log files. Read only, hashed before and after.
    case : path
        The case folder being built (created if missing); see
        :mod:`forensics.interchange.caseout` for the create-or-append rule.
    all_logons : bool
        Keep non-interactive logons (network, service, ...) as kind ``other``
        rather than skipping them.

    Raises
    ------
    CaseError
        A file is missing, not .evtx, or changed while read; or the case's
        endpoint table cannot be appended to.
    """
    case = Path(case)
    mapper = WindowsEvents(all_logons=all_logons)
    rows: list[dict[str, Any]] = []
    origin: list[tuple[str, str, int]] = []  # (file, channel, event id) of each row
    tally: dict[tuple[str, str, int], collections.Counter[str]] = {}
    damaged: list[tuple[str, str]] = []
    empty: collections.Counter[str] = collections.Counter()
    sources = []
    for raw in paths:
        path = Path(raw)
        if not path.is_file():
            raise CaseError(f"{path}: no such file", file=str(path))
        custody = source_record(path)
        sources.append(custody)
        name = path.name
        for event, problem in read_records(path):
            if event is None:
                if problem and _EMPTY_CHUNK in problem:
                    empty[name] += 1
                else:
                    damaged.append((name, problem or "?"))
                continue
            system = event.get("System") or {}
            channel = str(system.get("Channel") or "?")
            eid = _event_id(system)
            counter = tally.setdefault(
                (name, channel, eid if eid is not None else -1), collections.Counter()
            )
            fields = event_fields(event)
            mapped = mapper.map(channel, eid, fields) if eid is not None else "no EventID"
            at = event_time(system, fields)
            computer = str(system.get("Computer") or "").strip()
            record_id = _record_id(system.get("EventRecordID"))
            if isinstance(mapped, dict) and at is None:
                mapped = "no readable TimeCreated"
            if isinstance(mapped, dict) and not computer:
                mapped = "no Computer"
            if isinstance(mapped, str):
                counter[mapped] += 1
                continue
            counter["\x00imported"] += 1
            row = dict.fromkeys(ENDPOINT_COLUMNS)
            row.update(mapped)
            row.update(
                event_id=stable_id("evtx", computer, channel, record_id, at.isoformat()),
                at=at.isoformat(),
                machine_id=computer,
                source_file=name,
                source_record=record_id,
            )
            rows.append(row)
            origin.append((name, channel, eid))
        if sha256_file(path) != custody["sha256"]:
            raise CaseError(f"{name}: changed while it was being read", file=name)
    written = append_rows(
        case, "endpoint", ENDPOINT_COLUMNS, rows, key="event_id", sources=[Path(p) for p in paths]
    )
    for row, where in zip(rows, origin, strict=True):
        if row["event_id"] in written.already_keys:
            tally[where]["\x00imported"] -= 1
            tally[where]["already in the case"] += 1
    counts = _counts(tally)
    result = EvtxImport(case, tuple(sources), counts, written, tuple(damaged), dict(empty))
    log = write_log(
        case,
        {
            "command": "import evtx",
            "sources": list(result.sources),
            "table": written.path.name,
            "created": written.created,
            "read": result.read,
            "imported": result.imported,
            "skipped": result.skipped,
            "written": written.written,
            "by_event": counts.to_dicts(),
            "unreadable_parts": [{"file": f, "message": m} for f, m in damaged],
            "empty_chunks": dict(empty),
            "options": {"all_logons": all_logons},
        },
    )
    return EvtxImport(case, tuple(sources), counts, written, tuple(damaged), dict(empty), log)


def _record_id(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _counts(tally: dict[tuple[str, str, int], collections.Counter[str]]) -> pl.DataFrame:
    rows = []
    for (file, channel, eid), counter in sorted(tally.items()):
        imported = counter.pop("\x00imported", 0)
        reasons = "; ".join(f"{r}: {n}" for r, n in sorted(counter.items()) if n)
        skipped = sum(counter.values())
        rows.append((file, channel, eid, imported + skipped, imported, skipped, reasons))
    return pl.DataFrame(rows, schema=COUNTS_SCHEMA, orient="row")
