"""The review widget walks ``to_review`` and writes notes the investigation reads."""

from __future__ import annotations

import dataclasses
import json

import pytest

from forensics import investigate, load
from forensics.case import CaseError
from forensics.case.custody import OutputInCaseError
from forensics.case.notes import append_note, load_notes
from forensics.synth import generate
from forensics.views.review import ReviewView


@pytest.fixture(scope="module")
def unidentified(tmp_path_factory):
    """A USB sweep before opening that the camera saw but nobody identified."""
    folder = tmp_path_factory.mktemp("unidentified") / "case"
    truth = generate(
        folder, scenario="usb_malware", seed=1, orders=2000, variants=["unidentified_insertion"]
    )
    case = load(folder)
    return case, truth, investigate(case, complaint_nodes=False)


def test_append_note_returns_the_line_load_notes_cites(tmp_path):
    path = tmp_path / "sub" / "notes.jsonl"
    assert append_note(path, {"kind": "comment", "text": "first", "row": None}) == 1
    path.write_text(path.read_text("utf-8") + "\n", "utf-8")  # a blank line counts
    line = append_note(path, {"kind": "tag", "tag": "seen", "source": "camera.csv", "row": 3})
    assert line == 3
    notes = load_notes(path)
    assert [n.line for n in notes.notes] == [1, 3]
    assert json.loads(path.read_text("utf-8").splitlines()[0]) == {
        "kind": "comment",
        "text": "first",
    }


def test_append_note_refuses_what_load_notes_would_refuse(tmp_path):
    path = tmp_path / "notes.jsonl"
    with pytest.raises(CaseError, match="notes.jsonl line 1: identify needs"):
        append_note(path, {"kind": "identify", "source": "camera.csv", "row": 4})
    with pytest.raises(CaseError, match="field 'row'"):
        append_note(path, {"kind": "comment", "row": 0})
    assert not path.exists()  # nothing half-written


def test_the_view_walks_the_items(unidentified, tmp_path):
    _case, _truth, findings = unidentified
    view = ReviewView(findings, tmp_path / "notes.jsonl", author="ana")
    items = findings.to_review
    assert len(items) > 1
    assert view.item == items[0] and view.previous_button.disabled
    view.next()
    assert view.item == items[1] and not view.previous_button.disabled
    assert items[1]["question"] in view.item_html.value.replace("&#x27;", "'")
    view.previous()
    view.previous()  # stays at the first
    assert view.index == 0
    for _ in items:
        view.next()
    assert view.index == len(items) - 1 and view.next_button.disabled
    assert view.value == [] and not (tmp_path / "notes.jsonl").exists()


def test_an_identification_is_a_note_the_investigation_applies(unidentified, tmp_path):
    case, truth, findings = unidentified
    insider = truth["insider_person_ids"][0]
    path = tmp_path / "out" / "notes.jsonl"
    view = ReviewView(findings, path, author="ana")
    assert insider in [v for _label, v in view.person.options]
    # Names in the drop-down are masked.
    names = set(case.staff["name"].drop_nulls())
    assert not any(n in label for label, _v in view.person.options for n in names if len(n) > 1)
    view.person.value = insider
    view.text.value = "on the footage, badge visible"
    view.identify_button.click()
    assert "line 1" in view.status.value
    (note,) = view.value
    item = findings.to_review[0]
    assert note["kind"] == "identify" and note["person_id"] == insider
    assert (note["source"], note["row"], note["line"]) == (item["source"], item["row"], 1)
    assert note["author"] == "ana" and note["at"].endswith("+00:00")
    notes = load_notes(path)
    assert notes.notes[0].person_id == insider and notes.notes[0].text.startswith("on the")
    after = investigate(case, notes=notes, complaint_nodes=False)
    assert after.suspects[0].person_id == insider
    assert after.to_dict()["notes"][0]["status"] == "applied"
    assert any(e.source == "notes.jsonl" and e.row == 1 for e in after.suspects[0].evidence)


def test_exclude_and_comment_append_lines(unidentified, tmp_path):
    _case, _truth, findings = unidentified
    path = tmp_path / "notes.jsonl"
    view = ReviewView(findings, path)
    view.text.value = "it was a cleaner's cart"
    assert view.exclude() == 1
    view.comment_button.click()  # empty text box: refused, shown, nothing written
    assert "not written" in view.status.value and len(view.value) == 1
    assert view.comment("check the badge log too") == 2
    notes = load_notes(path)
    assert [n.kind for n in notes.notes] == ["exclude", "comment"]
    item = findings.to_review[0]
    assert notes.notes[0].level == "machine" and notes.notes[0].id == item["machine_id"]
    assert notes.notes[0].reason == "it was a cleaner's cart"
    assert notes.notes[1].row == item["row"] and notes.notes[0].author


def test_a_notes_file_inside_the_case_is_refused(unidentified):
    case, _truth, findings = unidentified
    with pytest.raises(OutputInCaseError):
        ReviewView(findings, case.path / "notes.jsonl")
    with pytest.raises(OutputInCaseError):
        append_note(case.path / "x" / "notes.jsonl", {"kind": "comment"}, case=case.path)
    assert not (case.path / "notes.jsonl").exists() and not (case.path / "x").exists()


def test_text_from_the_evidence_is_escaped(unidentified, tmp_path):
    _case, _truth, findings = unidentified
    evil = {
        "priority": 1,
        "source": "complaints.csv",
        "row": 2,
        "person_id": "<b>P9</b>",
        "question": "who sent <script>alert(1)</script>?",
        "why": "a complaint said <img src=x onerror=alert(1)>",
    }
    view = ReviewView(dataclasses.replace(findings, to_review=(evil,)), tmp_path / "n.jsonl")
    shown = view.item_html.value
    assert "<script>" not in shown and "&lt;script&gt;alert(1)&lt;/script&gt;" in shown
    assert "<img" not in shown and "&lt;b&gt;P9&lt;/b&gt;" in shown
    assert view.next_button.disabled and view.previous_button.disabled


def test_nothing_to_review(unidentified, tmp_path):
    _case, _truth, findings = unidentified
    view = ReviewView(dataclasses.replace(findings, to_review=()), tmp_path / "n.jsonl")
    assert "Nothing to review" in view.item_html.value
    with pytest.raises(ValueError, match="nothing to review"):
        view.comment("x")
