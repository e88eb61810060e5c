"""Tagging from the timeline: a click chooses an event by its file and row,
the tag or comment is written to the notes file (never into the case), and
the timeline is redrawn with the event marked as noted."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from plotly.callbacks import Points

from forensics.case.custody import OutputInCaseError
from forensics.case.notes import load_notes
from forensics.views import notebook
from forensics.views.tagging import chosen_events
from forensics.views.widgets import timeline_view

SAMPLE = Path(__file__).resolve().parents[1] / "datasets" / "april-trojan"


@pytest.fixture(scope="module")
def findings():
    if not SAMPLE.exists():
        pytest.skip("sample case not present")
    return notebook.open_case(SAMPLE)


def _click(view, trace_index: int, point: int) -> None:
    """What plotly's FigureWidget does on a click: every trace's callback,
    in order, the clicked one with the point."""
    for i, trace in enumerate(view.figure.data):
        inds = [point] if i == trace_index else []
        view.tagger.clicked(trace, Points(inds, [], [], trace.name, i), None)


def _trace(view, uid: str) -> tuple[int, object]:
    for i, trace in enumerate(view.figure.data):
        if trace.uid == uid:
            return i, trace
    raise AssertionError(f"no trace {uid}")


def test_a_click_chooses_the_event_and_a_tag_marks_it(findings, tmp_path):
    notes = tmp_path / "notes.jsonl"
    view = timeline_view(
        findings, person=findings.suspects[0].person_id, notes=notes, author="tester"
    )
    i, usb = _trace(view, "mark-endpoint-usb_connect")
    source, row = usb.customdata[0]
    assert (source, row) in set(findings.timeline.select("source", "row").iter_rows())
    _, noted = _trace(view, "noted")
    assert noted.visible is False  # nothing noted yet
    kinds = [t.type for t in view.figure.data]

    _click(view, i, 0)
    assert view.tagger.chosen == [{"source": source, "row": row, "what": usb.name}]
    assert not view.tagger.tag_button.disabled
    view.tagger.tag.value = "<script>alert(1)</script> seen"
    view.tagger.text.value = "the device on camera"
    view.tagger.tag_button.click()

    assert "wrote 1 tag" in view.tagger.status.value
    written = [json.loads(line) for line in notes.read_text("utf-8").splitlines()]
    assert written == [
        {
            "kind": "tag",
            "tag": "<script>alert(1)</script> seen",
            "text": "the device on camera",
            "source": source,
            "row": row,
            "author": "tester",
            "at": written[0]["at"],
        }
    ]
    assert load_notes(notes).notes[0].line == 1
    # redrawn with the note: the event is marked, its hover escaped and cited
    _, noted = _trace(view, "noted")
    assert noted.visible is not False and len(noted.x) == 1
    assert [list(c) for c in noted.customdata] == [[source, row]]
    assert noted.y[0] == usb.y[0]
    hover = noted.hovertext[0]
    assert "<script>" not in hover and "&lt;script&gt;" in hover
    assert "notes.jsonl line 1" in hover
    # the same traces as before: the browser updates the chart in place
    assert [t.type for t in view.figure.data] == kinds


def test_a_box_selection_comments_on_every_event_in_it(findings, tmp_path):
    notes = tmp_path / "notes.jsonl"
    view = timeline_view(findings, person=findings.suspects[0].person_id, notes=notes)
    i, _usb = _trace(view, "mark-endpoint-usb_connect")
    j, _camera = _trace(view, "camera")
    for k, trace in enumerate(view.figure.data):
        inds = [0, 1] if k == i else [0] if k == j else []
        view.tagger.selected(trace, Points(inds, [], [], trace.name, k), None)
    assert len(view.tagger.chosen) == 3
    view.tagger.text.value = "checked with the camera log"
    view.tagger.comment_button.click()
    lines = notes.read_text("utf-8").splitlines()
    assert [json.loads(x)["kind"] for x in lines] == ["comment"] * 3
    _, noted = _trace(view, "noted")
    assert len(noted.x) == 3


def test_counted_marks_choose_nothing_and_nothing_is_written(findings, tmp_path):
    notes = tmp_path / "notes.jsonl"
    view = timeline_view(findings, notes=notes)
    i, routine = _trace(view, "routine")  # order views counted per bucket
    assert routine.customdata is None
    _click(view, i, 0)
    assert view.tagger.chosen == []
    assert view.tagger.tag_button.disabled
    view.tagger.tag.value = "x"
    view.tagger._safely(view.tagger.write_tag)
    assert "not written" in view.tagger.status.value
    assert not notes.exists()


def test_notes_are_never_written_into_the_case(findings):
    with pytest.raises(OutputInCaseError):
        timeline_view(findings, notes=findings.case.path / "notes.jsonl")


def test_chosen_events_skips_points_without_a_row():
    class Trace:
        name = "x"
        customdata = [["camera.csv", 4], [None, None], ["a.csv", None]]

    assert chosen_events(Trace(), [0, 1, 2, 9]) == [{"source": "camera.csv", "row": 4, "what": "x"}]
