"""The review widget: walk ``to_review`` and write the investigator's notes.

:class:`ReviewView` shows the items of ``findings.to_review`` one at a time
(the question, why it matters, the file and row or the time window it
cites, every text HTML-escaped) and turns the investigator's answer into one
line of a notes file outside the case, through
:func:`forensics.case.notes.append_note`:

==============  ==========================================================
control         note written
==============  ==========================================================
Identify        ``identify``: the item's ``source`` + ``row`` shows the
                person chosen in the drop-down (staff and visitors of
                ``staff.csv``, names masked unless ``reveal``)
Exclude         ``exclude``: the item's person, else its machine or account
                (``level`` + ``id``), with the text box as ``reason``
Comment         ``comment``: the text box, about the item's file and row
==============  ==========================================================

Every note carries ``author`` and ``at`` (UTC, ISO 8601). ``.value`` is the
list of notes written this session. Nothing here analyses anything: the
notes count once the case is investigated again with them
(``investigate(case, notes=load_notes(path))``, or the notebooks' ``NOTES``
parameter), where each is checked against the record.
"""

from __future__ import annotations

from pathlib import Path

import ipywidgets as widgets

from ..findings import Findings
from ..privacy import escape, mask_name
from ._notewriter import NoteWriter

__all__ = ["ReviewView", "cited", "staff_options"]


def cited(item: dict) -> str:
    """Where an item of ``to_review`` points, as plain text.

    >>> cited({"source": "camera.csv", "row": 7, "machine_id": "PC-43"})
    'camera.csv:7 · machine PC-43'
    >>> cited({"window": ["07:12", "07:32"], "camera_id": "CAM79"})
    '07:12 – 07:32 · camera CAM79'
    """
    parts = []
    if item.get("source") and item.get("row"):
        parts.append(f"{item['source']}:{item['row']}")
    if item.get("window"):
        parts.append(" – ".join(str(t) for t in item["window"]))
    for key, label in (
        ("machine_id", "machine"),
        ("camera_id", "camera"),
        ("person_id", "person"),
        ("account_id", "account"),
    ):
        if item.get(key):
            parts.append(f"{label} {item[key]}")
    return " · ".join(parts)


def staff_options(findings: Findings, *, reveal: bool = False) -> list[tuple[str, str]]:
    """(label, person_id) for every person of ``staff.csv``: id, role and
    the name, masked unless ``reveal``."""
    staff = findings.case.staff
    cols = [c for c in ("person_id", "role", "name") if c in staff.columns]
    out = []
    for row in staff.select(cols).iter_rows(named=True):
        name = row.get("name") if reveal else mask_name(row.get("name"))
        label = " · ".join(str(x) for x in (row["person_id"], row.get("role"), name) if x)
        out.append((label, row["person_id"]))
    return out


def _exclusion(item: dict) -> dict | None:
    """What "exclude" rules out for ``item``: its person, else its path."""
    if item.get("person_id"):
        return {"person_id": item["person_id"]}
    for key, level in (("machine_id", "machine"), ("account_id", "account")):
        if item.get(key):
            return {"level": level, "id": item[key]}
    return None


class ReviewView(NoteWriter):
    """Walk ``findings.to_review`` and append the investigator's notes.

    Parameters
    ----------
    findings : Findings
        The investigation whose ``to_review`` is walked.
    notes_path : str or Path
        The notes file (JSONL) to append to; it must lie outside the case
        folder.
    author : str, optional
        Written as each note's ``author`` (default: the login name).
    reveal : bool, optional
        Show staff names unmasked in the drop-down.

    Raises
    ------
    OutputInCaseError
        ``notes_path`` lies inside the case folder.
    """

    def __init__(
        self,
        findings: Findings,
        notes_path: str | Path,
        *,
        author: str | None = None,
        reveal: bool = False,
    ) -> None:
        self._open_notes(findings.case.path, notes_path, author)
        self.items: tuple[dict, ...] = tuple(findings.to_review)
        self.index = 0
        self.item_html = widgets.HTML()
        self.status = widgets.HTML()
        self.person = widgets.Dropdown(
            options=staff_options(findings, reveal=reveal), description="Person"
        )
        self.text = widgets.Textarea(placeholder="what you saw, or why", description="Note")
        self.previous_button = widgets.Button(description="Previous")
        self.next_button = widgets.Button(description="Next")
        self.identify_button = widgets.Button(description="Identify", button_style="primary")
        self.exclude_button = widgets.Button(description="Exclude")
        self.comment_button = widgets.Button(description="Comment")
        self.previous_button.on_click(lambda _b: self.previous())
        self.next_button.on_click(lambda _b: self.next())
        self.identify_button.on_click(lambda _b: self._safely(self.identify))
        self.exclude_button.on_click(lambda _b: self._safely(self.exclude))
        self.comment_button.on_click(lambda _b: self._safely(self.comment))
        self.widget = widgets.VBox(
            [
                self.item_html,
                widgets.HBox([self.person, self.identify_button]),
                self.text,
                widgets.HBox([self.exclude_button, self.comment_button]),
                widgets.HBox([self.previous_button, self.next_button]),
                self.status,
            ]
        )
        self._show()

    @property
    def value(self) -> list[dict]:
        """The notes written this session, each with its ``line`` in the file."""
        return self.written

    @property
    def item(self) -> dict | None:
        """The item shown, None when there is nothing to review."""
        return self.items[self.index] if self.items else None

    def next(self) -> None:
        self.index = min(self.index + 1, max(len(self.items) - 1, 0))
        self._show()

    def previous(self) -> None:
        self.index = max(self.index - 1, 0)
        self._show()

    def identify(self, person_id: str | None = None) -> int:
        """Note that the item's file and row show ``person_id`` (default: the
        drop-down's choice); returns the line written."""
        item = self._need_item()
        person_id = person_id or self.person.value
        if not (item.get("source") and item.get("row")):
            raise ValueError("this item cites no file and row to identify someone on")
        if not person_id:
            raise ValueError("choose a person to identify")
        return self._write(
            {
                "kind": "identify",
                "source": item["source"],
                "row": item["row"],
                "person_id": person_id,
                "text": self.text.value.strip(),
            }
        )

    def exclude(self, reason: str | None = None) -> int:
        """Rule out the item's person (else its machine or account), with
        ``reason`` (default: the text box); returns the line written."""
        item = self._need_item()
        what = _exclusion(item)
        if what is None:
            raise ValueError("this item names no person, machine or account to exclude")
        return self._write(
            {"kind": "exclude", **what, "reason": (reason or self.text.value).strip()}
        )

    def comment(self, text: str | None = None) -> int:
        """A comment (default: the text box) on the item's file and row."""
        item = self._need_item()
        text = (text or self.text.value).strip()
        if not text:
            raise ValueError("write the comment in the text box first")
        return self._write(
            {"kind": "comment", "source": item.get("source"), "row": item.get("row"), "text": text}
        )

    def _need_item(self) -> dict:
        if self.item is None:
            raise ValueError("there is nothing to review")
        return self.item

    def _write(self, note: dict) -> int:
        line = self._append(note)
        self.text.value = ""
        self.status.value = (
            f"wrote {escape(note['kind'])}: {escape(self.notes_path.name)} line {line}"
        )
        return line

    def _show(self) -> None:
        item = self.item
        if item is None:
            self.item_html.value = "<p>Nothing to review.</p>"
        else:
            where = cited(item)
            self.item_html.value = (
                f"<p>Item {self.index + 1} of {len(self.items)} "
                f"(priority {escape(item.get('priority'))})</p>"
                f"<p><b>{escape(item.get('question', ''))}</b></p>"
                f"<p>{escape(item.get('why', ''))}</p>"
                + (f"<p><code>{escape(where)}</code></p>" if where else "")
            )
        self.identify_button.disabled = not (item and item.get("source") and item.get("row"))
        self.exclude_button.disabled = not (item and _exclusion(item))
        self.comment_button.disabled = item is None
        self.previous_button.disabled = self.index == 0
        self.next_button.disabled = self.index >= len(self.items) - 1

    def __repr__(self) -> str:
        return f"ReviewView(item {self.index + 1} of {len(self.items)}, {len(self._written)} notes)"
