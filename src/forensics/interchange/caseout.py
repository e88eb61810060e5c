"""Writing imported rows into the investigator's new case folder, and the import log.

The one rule: an import writes only the table it produces (``endpoint.csv``,
``logins.csv``, …) and ``import-log.jsonl`` in the case folder named by
``--case``, creating the folder if it does not exist. It never touches
another file there, never rewrites or deletes a row already in the table,
and never writes next to (or into) the source files it reads.

* The table does not exist: it is created (UTF-8, header first).
* It exists: new rows are appended in the file's own column order. The file
  must be UTF-8 CSV and hold every column the import writes (else the
  import stops and says which is missing: import into a new case folder or
  add the column). A row whose key (``event_id``; ``import_id`` for a table
  without a key) is already in the file is not written again and is counted
  as ``already in the case``: importing the same evidence twice, or two
  overlapping exports of one log, adds each event once.

Keys are made from the event itself (see :func:`stable_id`), not from the
name of the file it came from: ``Security.evtx`` of two PCs share a name, and
a re-export of the same log has another hash but the same events.

``import-log.jsonl`` gets one JSON line per run: when, what command, every
source file with its SHA-256 and size, the table written, and records read
= imported + skipped, with the skip reasons counted (per event id for
.evtx). It is the import's chain of custody; ``forensics validate`` then
hashes the table itself like any case file.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .. import __version__
from ..case._casetoml import CASE_TOML, parse_case_toml
from ..case._errors import CaseError
from ..case._readers import clean_header, sha256_file

__all__ = ["IMPORT_LOG", "Written", "stable_id", "append_rows", "write_log", "source_record"]

IMPORT_LOG = "import-log.jsonl"


@dataclass(frozen=True)
class Written:
    """What :func:`append_rows` did."""

    path: Path
    created: bool
    written: int
    already: int  # rows whose key was already in the table
    already_keys: frozenset[str] = frozenset()


def stable_id(prefix: str, *parts: object) -> str:
    """A key made from what identifies an event: the same event, the same key.

    >>> stable_id("evtx", "PC-01", "Security", 42)
    'evtx-3fe2a4b1b8c1a6f6'
    """
    text = "\x1f".join("" if p is None else str(p) for p in parts)
    return f"{prefix}-{hashlib.sha256(text.encode('utf-8')).hexdigest()[:16]}"


def source_record(path: Path) -> dict[str, Any]:
    """Custody of one source file: name, absolute path, SHA-256, size."""
    return {
        "file": path.name,
        "path": str(path.resolve()),
        "sha256": sha256_file(path),
        "size": path.stat().st_size,
    }


def _declared_encoding(case: Path, table: str) -> str | None:
    toml = case / CASE_TOML
    if not toml.is_file():
        return None
    try:
        meta = parse_case_toml(toml.read_bytes(), case)
    except CaseError:
        return None
    return meta["files"].get(table, {}).get("encoding")


def _existing(path: Path, key: str, file: str) -> tuple[list[str], set[str], bool]:
    """Header, keys present, and whether the file ends with a line end."""
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise CaseError(
            f"{file} is not UTF-8: an import appends only to a UTF-8 table; import into a new "
            "case folder",
            file=file,
        ) from exc
    reader = csv.reader(io.StringIO(text, newline=""))
    header = [clean_header(h) for h in next(reader, [])]
    if not header:
        return [], set(), True
    lowered = [h.lower() for h in header]
    keys: set[str] = set()
    if key.lower() in lowered:
        at = lowered.index(key.lower())
        keys = {rec[at].strip() for rec in reader if len(rec) > at}
    return header, keys, text.endswith(("\n", "\r"))


def append_rows(
    case: Path,
    table: str,
    columns: Sequence[str],
    rows: Iterable[Mapping[str, Any]],
    *,
    key: str,
    sources: Iterable[Path] = (),
) -> Written:
    """Create or append ``CASE/TABLE.csv`` with ``rows`` (see the module's rule).

    Raises
    ------
    CaseError
        The case holds the table as Parquet, in another encoding, or without
        a column this import writes; or a source file lies where the table
        would be written.
    """
    case.mkdir(parents=True, exist_ok=True)
    file = f"{table}.csv"
    path = case / file
    if (case / f"{table}.parquet").exists():
        raise CaseError(
            f"{table}.parquet is in {case}: an import writes CSV; import into a new case folder",
            file=f"{table}.parquet",
        )
    for src in sources:
        if path.exists() and src.resolve() == path.resolve():
            raise CaseError(f"{file}: is the file being imported; never written to", file=file)
    encoding = _declared_encoding(case, table)
    if encoding and encoding.lower().replace("-", "") not in ("utf8", "utf8sig"):
        raise CaseError(
            f"{file} is declared {encoding} in case.toml: an import appends only to UTF-8 tables",
            file=file,
        )
    created = not path.exists() or path.stat().st_size == 0
    header, present, ends_clean = (list(columns), set(), True)
    if not created:
        header, present, ends_clean = _existing(path, key, file)
        missing = [c for c in columns if c.lower() not in {h.lower() for h in header}]
        if missing:
            raise CaseError(
                f"{file} has no column {', '.join(missing)}: import into a new case folder, or "
                "add the column(s) to its header",
                file=file,
                column=missing[0],
            )
    order = {c.lower(): c for c in columns}
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\n")
    if created:
        writer.writerow(header)
    written = already = 0
    seen: set[str] = set()
    for row in rows:
        ident = str(row[key])
        if ident in present:
            seen.add(ident)
            already += 1
            continue
        present.add(ident)
        values = (row.get(order[h.lower()]) if h.lower() in order else None for h in header)
        writer.writerow(["" if v is None else v for v in values])
        written += 1
    if created or written:
        with open(path, "a" if not created else "w", encoding="utf-8", newline="") as fh:
            if not created and not ends_clean:
                fh.write("\n")
            fh.write(out.getvalue())
    return Written(path, created, written, already, frozenset(seen))


def write_log(case: Path, entry: Mapping[str, Any]) -> Path:
    """Append one run's record to ``CASE/import-log.jsonl``; return its path."""
    record = {
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
        "tool": f"forensics {__version__}",
        **entry,
    }
    path = case / IMPORT_LOG
    with open(path, "a", encoding="utf-8") as fh:
        fh.write(json.dumps(record, ensure_ascii=False, sort_keys=True) + "\n")
    return path
