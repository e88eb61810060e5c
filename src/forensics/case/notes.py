"""Investigator notes: statements beside the case, cited like any row.

``NOTES.jsonl`` holds one JSON object per line, written by the investigator
(or the notebooks' review widget) outside the case folder:

==========  ===============================================================
``kind``    what the line says
==========  ===============================================================
identify    ``source`` + ``row`` (a camera sighting, say) shows ``person_id``
exclude     a path (``level`` + ``id``) or a person (``person_id``) is ruled
            out, with a ``reason``
comment     free text, optionally about ``source`` + ``row``
tag         a label (``tag``) on ``source`` + ``row``
==========  ===============================================================

Every line may carry ``author``, ``at`` and ``text``. The file is hashed and
listed in findings.json ``inputs``; wherever a note counts, the evidence
cites the notes file and the line. A note is a statement, not a fact: the
investigation checks it against the record (:mod:`forensics.analysis.review`)
and reports one the record contradicts instead of applying it. A line that
cannot be read stops the load with the file, line and field, like damaged
case files do. :func:`append_note` writes one line after the same checks
(the notebooks' review widget, :class:`forensics.views.review.ReviewView`,
writes through it).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from ._errors import CaseError
from ._readers import sha256_file
from .custody import output_folder

__all__ = ["Note", "Notes", "NOTE_KINDS", "load_notes", "append_note"]

NOTE_KINDS = ("identify", "exclude", "comment", "tag")
LEVELS = ("account", "machine", "ip", "session", "app", "event", "device", "process")


@dataclass(frozen=True)
class Note:
    """One line of the notes file."""

    line: int
    kind: str
    source: str | None = None
    row: int | None = None
    person_id: str | None = None
    level: str | None = None
    id: str | None = None
    reason: str | None = None
    tag: str | None = None
    author: str | None = None
    at: str | None = None
    text: str | None = None


@dataclass(frozen=True)
class Notes:
    """The notes file as read: its name, hash and lines."""

    path: Path
    sha256: str
    notes: tuple[Note, ...]

    @property
    def file(self) -> str:
        return self.path.name

    def of_kind(self, kind: str) -> tuple[Note, ...]:
        return tuple(n for n in self.notes if n.kind == kind)


def _text(obj: dict, key: str, where: str) -> str | None:
    value = obj.get(key)
    if value is None or value == "":
        return None
    if not isinstance(value, str | int):
        raise CaseError(f"{where}: field {key!r} must be text, not {type(value).__name__}")
    return str(value)


def _note(obj: object, number: int, where: str) -> Note:
    """One parsed line as a :class:`Note`, after the checks every line passes."""
    if not isinstance(obj, dict):
        raise CaseError(f"{where}: a note is a JSON object")
    kind = _text(obj, "kind", where)
    if kind not in NOTE_KINDS:
        raise CaseError(f"{where}: field 'kind' must be one of {', '.join(NOTE_KINDS)}")
    row = obj.get("row")
    if row is not None and (not isinstance(row, int) or isinstance(row, bool) or row < 1):
        raise CaseError(f"{where}: field 'row' must be a line number (1 or more)")
    note = Note(
        line=number,
        kind=kind,
        source=_text(obj, "source", where),
        row=row,
        person_id=_text(obj, "person_id", where),
        level=_text(obj, "level", where),
        id=_text(obj, "id", where),
        reason=_text(obj, "reason", where),
        tag=_text(obj, "tag", where),
        author=_text(obj, "author", where),
        at=_text(obj, "at", where),
        text=_text(obj, "text", where),
    )
    if kind == "identify" and not (note.source and note.row and note.person_id):
        raise CaseError(f"{where}: identify needs 'source', 'row' and 'person_id'")
    if kind == "exclude" and not (note.person_id or (note.level and note.id)):
        raise CaseError(f"{where}: exclude needs 'person_id', or 'level' and 'id'")
    if kind == "exclude" and note.level and note.level not in LEVELS:
        raise CaseError(f"{where}: field 'level' must be one of {', '.join(LEVELS)}")
    if kind == "tag" and not (note.tag and note.source and note.row):
        raise CaseError(f"{where}: tag needs 'tag', 'source' and 'row'")
    return note


def load_notes(path: str | Path) -> Notes:
    """Read and check ``NOTES.jsonl``; hash it.

    Raises
    ------
    CaseError
        Naming the file, line and field of the first line that cannot be used.
    """
    path = Path(path)
    if not path.is_file():
        raise CaseError(f"{path}: no such notes file")
    digest = sha256_file(path)
    notes = []
    with path.open(encoding="utf-8-sig") as fh:
        for number, raw in enumerate(fh, start=1):
            if not raw.strip():
                continue
            where = f"{path.name} line {number}"
            try:
                obj = json.loads(raw)
            except json.JSONDecodeError as exc:
                raise CaseError(f"{where}: not JSON ({exc.msg})") from None
            notes.append(_note(obj, number, where))
    return Notes(path, digest, tuple(notes))


def append_note(path: str | Path, note: dict, *, case: str | Path | None = None) -> int:
    """Check ``note`` as :func:`load_notes` would and append it as one line.

    Empty fields (None or "") are left out. ``path`` and its folder are
    created when missing. Returns the line number the note now has, the one
    findings cite it by.

    Raises
    ------
    OutputInCaseError
        ``case`` is given and ``path`` lies inside that case folder (notes
        are written beside the evidence, never into it).
    CaseError
        The note would not load (naming the file, line and field).
    """
    path = Path(path)
    if case is not None:
        output_folder(path, case, create=False)
    clean = {k: v for k, v in note.items() if v is not None and v != ""}
    data = path.read_bytes() if path.is_file() else b""
    newline = b"\n" if data and not data.endswith(b"\n") else b""
    number = data.count(b"\n") + (1 if newline else 0) + 1
    _note(clean, number, f"{path.name} line {number}")
    line = json.dumps(clean, ensure_ascii=False)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("ab") as fh:
        fh.write(newline + line.encode("utf-8") + b"\n")
    return number
