"""The investigator in the loop: to_review, and notes that change the answer."""

from __future__ import annotations

import json

import polars as pl
import pytest

from forensics import investigate, load
from forensics.case import CaseError
from forensics.case.notes import load_notes
from forensics.synth import generate


# Seed 3 is a shop where a long-time employee's early badge-ins weigh almost
# as much as the hire's early logins (they tied before presence at the
# infected machine itself counted undiluted).
@pytest.fixture(scope="module", params=[1, 2, 3])
def unidentified(request, tmp_path_factory):
    """A USB sweep before opening that the camera saw but nobody identified."""
    folder = tmp_path_factory.mktemp(f"unidentified-{request.param}") / "case"
    truth = generate(
        folder,
        scenario="usb_malware",
        seed=request.param,
        orders=2000,
        variants=["unidentified_insertion"],
    )
    case = load(folder)
    return case, truth, investigate(case, complaint_nodes=False)


def _write(path, lines):
    path.write_text("".join(json.dumps(x, ensure_ascii=False) + "\n" for x in lines), "utf-8")
    return load_notes(path)


def test_unidentified_insertions_come_first_in_to_review(unidentified):
    case, truth, findings = unidentified
    first = findings.to_dict()["to_review"][:5]
    assert first and all(item["source"] == case.source("camera") for item in first)
    camera = case.camera.filter(pl.col("_row").is_in([i["row"] for i in first]))
    assert camera["person_id"].null_count() == camera.height  # nobody named them
    assert set(camera["machine_id"]) <= set(truth["machine_ids"])
    assert all(i["question"].startswith("who inserted a device at") for i in first)


def test_a_note_identifying_the_insider_puts_them_first(unidentified, tmp_path):
    case, truth, findings = unidentified
    insider = truth["insider_person_ids"][0]
    row = findings.to_dict()["to_review"][0]["row"]
    notes = _write(
        tmp_path / "notes.jsonl",
        [{"kind": "identify", "source": "camera.csv", "row": row, "person_id": insider}],
    )
    after = investigate(case, notes=notes, complaint_nodes=False)
    doc = after.to_dict()
    assert after.suspects[0].person_id == insider
    before = next(s.score for s in findings.suspects if s.person_id == insider)
    assert after.suspects[0].score > before
    cited = [e for e in after.suspects[0].evidence if e.source == "notes.jsonl"]
    assert cited and cited[0].row == 1
    assert doc["inputs"][-1]["file"] == "notes.jsonl"
    assert doc["inputs"][-1]["sha256"] == notes.sha256
    assert doc["notes"][0]["status"] == "applied"


def test_a_note_the_badge_log_contradicts_changes_nothing(unidentified, tmp_path):
    case, truth, findings = unidentified
    row = findings.to_dict()["to_review"][0]["row"]
    sighting = case.camera.filter(pl.col("_row") == row)["start_at"].item()
    badge = case.badge.sort("at")
    # Someone whose last passage before the sighting was on the way out.
    last = (
        badge.filter(
            (pl.col("at") <= sighting) & (pl.col("at") >= sighting - pl.duration(hours=20))
        )
        .group_by("person_id", maintain_order=True)
        .last()
        .filter(pl.col("direction") == "out")
    )
    outside = next(p for p in last["person_id"] if p not in truth["insider_person_ids"])
    notes = _write(
        tmp_path / "wrong.jsonl",
        [{"kind": "identify", "source": "camera.csv", "row": row, "person_id": outside}],
    )
    after = investigate(case, notes=notes, complaint_nodes=False)
    doc = after.to_dict()
    assert doc["notes"][0]["status"] == "contradicted"
    assert "badged out" in doc["notes"][0]["detail"]
    assert after.suspects[0].person_id == findings.suspects[0].person_id
    assert all(e.source != "wrong.jsonl" for s in after.suspects for e in s.evidence)


def test_an_excluded_path_no_longer_leads(tmp_path):
    case = load(__import__("pathlib").Path(__file__).parent.parent / "datasets" / "stale-account")
    before = investigate(case, complaint_nodes=False)
    account = before.vector.accounts[0]
    notes = _write(
        tmp_path / "n.jsonl",
        [{"kind": "exclude", "level": "account", "id": account, "reason": "a test"}],
    )
    after = investigate(case, notes=notes, complaint_nodes=False)
    assert not after.points.filter((pl.col("level") == "account") & (pl.col("id") == account))[
        "significant"
    ].item()
    assert after.to_dict()["notes"][0]["status"] == "applied"


@pytest.mark.parametrize(
    "line, message",
    [
        ("not json", "line 1: not JSON"),
        ('{"kind": "guess"}', "field 'kind'"),
        ('{"kind": "identify", "source": "camera.csv"}', "identify needs"),
        ('{"kind": "tag", "tag": "x", "source": "camera.csv", "row": 0}', "field 'row'"),
    ],
)
def test_a_bad_note_names_file_line_and_field(tmp_path, line, message):
    path = tmp_path / "bad.jsonl"
    path.write_text(line + "\n", encoding="utf-8")
    with pytest.raises(CaseError, match=message):
        load_notes(path)
