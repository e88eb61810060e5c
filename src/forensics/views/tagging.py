"""Tagging from the timeline: click an event, write a tag or a comment.

:class:`EventTagger` sits under the timeline of
:func:`forensics.views.widgets.timeline_view` (given ``notes=``). A click
on a mark, or a box or lasso selection of several, chooses events: every
mark of a single event carries ``customdata`` ``[source, row]``
(:func:`forensics.views.charts.timeline`), so the choice is the file and
row each one came from; marks that count many events (routine order
access, kinds with too many marks) name no row and are not chosen. The
buttons write one line per chosen event to the notes file through
:func:`forensics.case.notes.append_note` (which refuses a path inside the
case folder):

==========  ==============================================================
button      note written
==========  ==============================================================
Tag         ``tag``: the tag box as ``tag``, the comment box (if any) as
            ``text``, on the event's ``source`` + ``row``
Comment     ``comment``: the comment box, on the event's ``source`` + ``row``
==========  ==============================================================

Then the notes file is read again and the timeline redrawn with it: the
tagged events are shown as noted (a square around the mark, what the notes
say on hover, citing the notes file and line). Tags and comments do not
change the conclusions; the investigation counts identify and exclude notes
when it is run again with them (the notebooks' ``NOTES`` parameter).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import ipywidgets as widgets

from ..case.notes import Notes, load_notes
from ..privacy import escape
from ._notewriter import NoteWriter, now_text

__all__ = ["EventTagger", "chosen_events"]


def chosen_events(trace: Any, point_inds: Sequence[int]) -> list[dict]:
    """The events behind points ``point_inds`` of ``trace``: ``{"source",
    "row", "what"}`` for each point whose ``customdata`` names a file and
    a row (``what`` is the trace's name)."""
    data = trace.customdata
    if data is None:
        return []
    out = []
    for i in point_inds:
        if i >= len(data):
            continue
        cell = data[i]
        if cell is None or len(cell) < 2 or not cell[0] or cell[1] is None:
            continue
        out.append({"source": str(cell[0]), "row": int(cell[1]), "what": trace.name or ""})
    return out


class EventTagger(NoteWriter):
    """Choose timeline events with the mouse; tag or comment on them.

    Parameters
    ----------
    case_path : str or Path
        The case folder: the notes file must lie outside it.
    notes_path : str or Path
        The notes file (JSONL) appended to; read again after each note.
    redraw : callable
        Called after notes are written (the view redraws with :attr:`notes`).
    author : str, optional
        Each note's ``author`` (default: the login name).

    Raises
    ------
    OutputInCaseError
        ``notes_path`` lies inside the case folder.
    """

    def __init__(
        self,
        case_path: str | Path,
        notes_path: str | Path,
        redraw: Callable[[], Any],
        *,
        author: str | None = None,
    ) -> None:
        self._open_notes(case_path, notes_path, author)
        self._redraw = redraw
        self.chosen: list[dict] = []
        self.notes: Notes | None = (
            load_notes(self.notes_path) if self.notes_path.is_file() else None
        )
        self.shown = widgets.HTML(
            "<i>Click a mark on the timeline (or select several) to tag it.</i>"
        )
        self.tag = widgets.Text(placeholder="a tag, e.g. suspicious", description="Tag")
        self.text = widgets.Text(placeholder="what you saw", description="Comment")
        self.tag_button = widgets.Button(description="Tag", button_style="primary", disabled=True)
        self.comment_button = widgets.Button(description="Comment", disabled=True)
        self.status = widgets.HTML()
        self.tag_button.on_click(lambda _b: self._safely(self.write_tag))
        self.comment_button.on_click(lambda _b: self._safely(self.write_comment))
        self.widget = widgets.VBox(
            [
                self.shown,
                widgets.HBox([self.tag, self.tag_button]),
                widgets.HBox([self.text, self.comment_button]),
                self.status,
            ]
        )

    # plotly FigureWidget callbacks, (trace, points, state or selector):
    # plotly calls a figure's callbacks for one click or selection once per
    # trace, in order, most with no points; the events are gathered from
    # the first trace to the last and chosen together.
    def clicked(self, trace: Any, points: Any, _state: Any = None) -> None:
        """A click (``points.point_inds`` of ``trace``): choose that event."""
        self._gather(trace, points)

    def selected(self, trace: Any, points: Any, _selector: Any = None) -> None:
        """A box or lasso selection: choose every event in it."""
        self._gather(trace, points)

    def _gather(self, trace: Any, points: Any) -> None:
        if points.trace_index == 0:
            self._pending = []
        self._pending = [*getattr(self, "_pending", []), *chosen_events(trace, points.point_inds)]
        figure = getattr(trace, "figure", None)
        last = len(figure.data) - 1 if figure is not None else points.trace_index
        if points.trace_index >= last:
            self.choose(self._pending)

    def choose(self, events: Sequence[dict]) -> None:
        """Make ``events`` (``source``, ``row``, ``what``) the chosen ones."""
        seen: dict[tuple[str, int], dict] = {}
        for e in events:
            seen.setdefault((e["source"], e["row"]), e)
        self.chosen = list(seen.values())
        if self.chosen:
            rows = "".join(
                f"<li><code>{escape(e['source'])}:{e['row']}</code> {escape(e['what'])}</li>"
                for e in self.chosen[:10]
            )
            more = f"<li>… and {len(self.chosen) - 10} more</li>" if len(self.chosen) > 10 else ""
            self.shown.value = f"<b>{len(self.chosen)} event(s) chosen</b><ul>{rows}{more}</ul>"
        else:
            self.shown.value = (
                "<i>No single event there (a count of many); zoom in or pick a mark.</i>"
            )
        self.tag_button.disabled = self.comment_button.disabled = not self.chosen

    def write_tag(self, tag: str | None = None) -> list[int]:
        """Tag every chosen event with ``tag`` (default: the tag box); the
        comment box, if filled, goes along as the note's ``text``. Returns
        the lines written."""
        tag = (tag or self.tag.value).strip()
        if not tag:
            raise ValueError("write the tag in the tag box first")
        return self._write({"kind": "tag", "tag": tag, "text": self.text.value.strip()})

    def write_comment(self, text: str | None = None) -> list[int]:
        """Comment on every chosen event (default: the comment box)."""
        text = (text or self.text.value).strip()
        if not text:
            raise ValueError("write the comment in the comment box first")
        return self._write({"kind": "comment", "text": text})

    def _write(self, note: dict) -> list[int]:
        if not self.chosen:
            raise ValueError("choose an event on the timeline first")
        at = now_text()
        lines = [
            self._append({**note, "source": e["source"], "row": e["row"]}, at) for e in self.chosen
        ]
        self.notes = load_notes(self.notes_path)
        self.tag.value = self.text.value = ""
        where = ", ".join(str(n) for n in lines)
        self.status.value = (
            f"wrote {len(lines)} {escape(note['kind'])} note(s): "
            f"{escape(self.notes_path.name)} line(s) {where}"
        )
        self._redraw()
        return lines
