"""``forensics timeline``: Timesketch JSONL and spreadsheet-safe CSV of the case's timeline."""

from __future__ import annotations

import csv
import json
from datetime import datetime
from pathlib import Path

import pytest
from casefiles import TABLE_ROWS, csv_text, write_case

from forensics.analysis.clock import estimate_offsets
from forensics.analysis.timeline import timeline
from forensics.case import load
from forensics.cli import main
from forensics.interchange.export import export_frame

APRIL = Path(__file__).parents[1] / "datasets" / "april-trojan"


@pytest.fixture(scope="module")
def april_jsonl(tmp_path_factory):
    out = tmp_path_factory.mktemp("tl") / "april.jsonl"
    assert main(["timeline", str(APRIL), "--format", "timesketch", "--out", str(out)]) == 0
    return [json.loads(line) for line in out.read_text("utf-8").splitlines()]


def test_one_line_per_timeline_event_with_the_mandatory_fields(april_jsonl):
    case = load(APRIL)
    expected = timeline(case, estimate_offsets(case))
    assert len(april_jsonl) == expected.height
    tables = ("logins", "access", "camera", "endpoint", "badge")
    assert len(april_jsonl) == sum(case[t].height for t in tables)
    for event in april_jsonl:
        assert event["message"] and event["timestamp_desc"]
        stamp = datetime.fromisoformat(event["datetime"])
        assert stamp.utcoffset() is not None
        assert int(stamp.timestamp() * 1_000_000) == event["timestamp"]
        assert event["source_file"].endswith(".csv") and event["source_row"] >= 2


def test_attributes_trace_to_the_row(april_jsonl):
    case = load(APRIL)
    first_login = next(e for e in april_jsonl if e["table"] == "logins")
    row = case.logins.filter(case.logins["_row"] == first_login["source_row"]).row(0, named=True)
    assert first_login["account"] == row["account_id"]
    assert first_login["kind"] == row["action"]
    assert datetime.fromisoformat(first_login["datetime"]) == row["at"]


def test_corrected_camera_clock_is_noted(april_jsonl):
    camera = [e for e in april_jsonl if e["table"] == "camera"]
    assert camera and all(e["clock_offset"] == "+00:07:36" for e in camera)
    e = camera[0]
    moved = datetime.fromisoformat(e["recorded_at"]) - datetime.fromisoformat(e["datetime"])
    assert moved.total_seconds() == 7 * 60 + 36
    assert all("clock_offset" not in e for e in april_jsonl if e["table"] == "logins")


def _case_with_endpoint(tmp_path: Path) -> Path:
    staff = [list(r) for r in TABLE_ROWS["staff"]]
    staff[0].append("os_users")
    staff[1].append("SHOP\\li.wei")
    staff[2].append("")
    staff[3].append("")
    endpoint = [
        ["event_id", "at", "machine_id", "kind", "device_id", "detail", "user"],
        [
            "E1",
            "2024-04-04 07:00:00",
            "PC-01",
            "usb_connect",
            "",
            '=HYPERLINK("x")',
            "SHOP\\li.wei",
        ],
        ["E2", "2024-04-04 07:05:00", "PC-01", "process_start", "", "call 13812345678", ""],
    ]
    return write_case(tmp_path / "case", staff=csv_text(staff), endpoint=csv_text(endpoint))


def test_endpoint_events_name_the_person_and_the_unidentified_drive(tmp_path):
    frame = export_frame(load(_case_with_endpoint(tmp_path)))
    usb = frame.filter(frame["source_file"] == "endpoint.csv").row(0, named=True)
    assert usb["person"] == "P01" and usb["os_user"] == "SHOP\\li.wei"
    assert usb["device"] == "unidentified drive on PC-01 by SHOP\\li.wei at 2024-04-03T23:00:00Z"


def test_csv_is_spreadsheet_safe_and_masked_unless_revealed(tmp_path):
    case = _case_with_endpoint(tmp_path)
    out = tmp_path / "out" / "timeline.csv"
    assert main(["timeline", str(case), "--format", "csv", "--out", str(out)]) == 0
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    usb = next(r for r in rows if r["kind"] == "usb_connect")
    assert usb["detail"].startswith("'=HYPERLINK")  # defused
    proc = next(r for r in rows if r["kind"] == "process_start")
    assert "13812345678" not in proc["detail"] and proc["detail"].endswith("5678")
    assert main(["timeline", str(case), "--format", "csv", "--out", str(out), "--reveal"]) == 0
    assert "13812345678" in out.read_text("utf-8")


def test_refuses_to_write_into_the_case_and_a_missing_notes_file(tmp_path, capsys):
    case = _case_with_endpoint(tmp_path)
    assert main(["timeline", str(case), "--out", str(case / "t.jsonl")]) == 2
    assert not (case / "t.jsonl").exists()
    assert (
        main(["timeline", str(case), "--out", str(tmp_path / "t.jsonl"), "--tagged", "n.md"]) == 2
    )
    assert "no such notes file" in capsys.readouterr().err


def test_tagged_exports_only_the_rows_the_notes_name(tmp_path):
    notes = tmp_path / "notes.jsonl"
    notes.write_text(
        '{"kind": "tag", "source": "camera.csv", "row": 1268, "tag": "insertion"}\n'
        '{"kind": "comment", "source": "camera.csv", "row": 1268, "text": "matches PC-03"}\n'
        '{"kind": "tag", "source": "endpoint.csv", "row": 1753, "tag": "infection"}\n'
        '{"kind": "comment", "text": "about nothing in particular"}\n',
        encoding="utf-8",
    )
    out = tmp_path / "tagged.jsonl"
    assert main(["timeline", str(APRIL), "--out", str(out), "--tagged", str(notes)]) == 0
    events = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert {(e["source_file"], e["source_row"]) for e in events} == {
        ("camera.csv", 1268),
        ("endpoint.csv", 1753),
    }
    camera = next(e for e in events if e["source_file"] == "camera.csv")
    assert camera["tags"] == "insertion" and camera["notes"] == "matches PC-03"
    assert all({"message", "datetime", "timestamp_desc"} <= set(e) for e in events)
