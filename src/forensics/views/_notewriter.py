"""What the review and tagging widgets share: a notes file outside the case,
the stamped lines they append to it, and refusals shown under the controls."""

from __future__ import annotations

import getpass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..case.custody import output_folder
from ..case.notes import append_note
from ..privacy import escape

__all__ = ["NoteWriter", "now_text"]


def now_text() -> str:
    """The current time as a note's ``at`` (UTC, ISO 8601, seconds)."""
    return datetime.now(UTC).isoformat(timespec="seconds")


def _login() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no login name in a container
        return "investigator"


class NoteWriter:
    """Base of a widget that appends notes. A subclass calls
    :meth:`_open_notes` first and sets ``status`` (an ``ipywidgets.HTML``)
    and ``widget`` (what the notebook shows)."""

    status: Any
    widget: Any

    def _open_notes(
        self, case_path: str | Path, notes_path: str | Path, author: str | None
    ) -> None:
        """Refuse a notes file inside the case (``OutputInCaseError``)."""
        self.case_path = Path(case_path)
        output_folder(notes_path, self.case_path, create=False)
        self.notes_path = Path(notes_path)
        self.author = author or _login()
        self._written: list[dict] = []

    @property
    def written(self) -> list[dict]:
        """The notes written this session, each with its ``line`` in the file."""
        return [dict(n) for n in self._written]

    def _append(self, note: dict, at: str | None = None) -> int:
        """``note`` with ``author`` and ``at`` as one line of the notes file;
        its line number, also kept (with the note) in the session's list."""
        full = {**note, "author": self.author, "at": at or now_text()}
        line = append_note(self.notes_path, full, case=self.case_path)
        kept = {k: v for k, v in full.items() if v is not None and v != ""}
        self._written.append({**kept, "line": line})
        return line

    def _safely(self, action) -> None:
        """Run a button's action; a refusal shows under the controls."""
        try:
            action()
        except Exception as exc:  # noqa: BLE001 - shown to the investigator, not swallowed
            self.status.value = f"<b>not written:</b> {escape(exc)}"

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        return self.widget._repr_mimebundle_(**kwargs)
