"""``forensics validate``: the per-file table, reasons and exit codes."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import polars as pl
from casefiles import TABLE_ROWS, csv_text, table_text, write_case

from forensics import cli
from forensics.case import load
from forensics.case.validation import main_timestamp, validation_rows


def _broken_orders() -> str:
    rows = [list(r) for r in TABLE_ROWS["orders"]]
    rows[2][2] = "2024-04-31 10:00:00"  # line 3: no April 31st
    rows[3][4] = "lots"  # line 4: amount
    rows[3][2] = "tomorrow"  # line 4: placed_at too
    return csv_text(rows)


def _ghost_access() -> str:
    ghost = ["A4", "2024-04-03 02:00:00", "ACC-GHOST", "PC-01", "", "api_pull", "", "", "", ""]
    return csv_text([*TABLE_ROWS["access"], ghost, ["A5", *ghost[1:]]])


def test_main_timestamp_per_table():
    assert main_timestamp("logins") == "at"
    assert main_timestamp("orders") == "placed_at"
    assert main_timestamp("accounts") == "created_at"
    assert main_timestamp("camera") == "start_at"
    assert main_timestamp("staff") is None


def test_validation_rows(tmp_path):
    case = load(write_case(tmp_path / "case", orders=_broken_orders(), access=_ghost_access()))
    frame = validation_rows(case)
    assert frame.columns == [
        "file",
        "rows",
        "accepted",
        "quarantined",
        "unregistered",
        "unlisted",
        "first",
        "last",
        "sha256",
    ]
    assert frame["file"].to_list() == [f.file for f in case.inputs]
    orders = frame.filter(pl.col("file") == "orders.csv").row(0, named=True)
    shanghai = ZoneInfo("Asia/Shanghai")
    assert (orders["rows"], orders["accepted"], orders["quarantined"]) == (4, 2, 2)
    assert orders["first"] == datetime(2024, 4, 1, 10, 0, tzinfo=shanghai)
    assert orders["last"] == datetime(2024, 4, 2, 14, 45, tzinfo=shanghai)  # O1004
    access = frame.filter(pl.col("file") == "access.csv").row(0, named=True)
    # ACC-GHOST twice, and A2's order O1002, whose row was quarantined
    assert access["unregistered"] == 3
    assert access["last"] == datetime(2024, 4, 3, 2, 0, tzinfo=shanghai)
    staff = frame.filter(pl.col("file") == "staff.csv").row(0, named=True)
    assert staff["first"] is None
    assert staff["sha256"] == next(f.sha256 for f in case.inputs if f.file == "staff.csv")[:12]


def test_validate_clean_case_exits_0(tmp_path, capsys):
    root = write_case(tmp_path / "case")
    assert cli.main(["validate", str(root)]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    header = next(line for line in lines if line.startswith("file "))
    assert header.split() == [
        "file",
        "rows",
        "accepted",
        "quarantined",
        "unregistered",
        "unlisted",
        "first",
        "last",
        "sha256",
    ]
    orders = next(line for line in lines if line.startswith("orders.csv"))
    assert orders.split()[:6] == ["orders.csv", "4", "4", "0", "0", "0"]
    # columns are aligned: each numeric column ends where its header ends
    assert orders.index(" 4 ") + 2 == header.index("rows") + len("rows")
    assert "Quarantine: none." in out
    assert "Unlisted values: none." in out
    assert out.rstrip().endswith("Investigable.")


def test_validate_prints_reasons_and_unregistered(tmp_path, capsys):
    root = write_case(tmp_path / "case", orders=_broken_orders(), access=_ghost_access())
    assert cli.main(["validate", str(root)]) == 0
    out = capsys.readouterr().out
    assert "Quarantine: 2 row(s) set aside, 3 reason(s):" in out
    assert 'orders.csv:3 placed_at — not a valid timestamp: "2024-04-31 10:00:00"' in out
    assert 'orders.csv:4 amount — not a valid number: "lots"' in out
    assert (
        'access.csv account_id "ACC-GHOST" not in accounts.account_id: 2 row(s), first at row 5'
        in out
    )


def _unlisted_case(root):
    complaints = [list(r) for r in TABLE_ROWS["complaints"]]
    complaints[1][4] = "SMS_Scam"  # line 2
    complaints[2][4] = "sms_scam"  # line 3: the same value once lower-cased
    camera = (
        "sighting_id,camera_id,start_at,end_at,person_id,machine_id,activity,note\n"
        "S1,CAM-01,2024-04-02 08:00:00,,P01,PC-01,use_pc,\n"
        "S2,CAM-01,2024-04-02 08:10:00,,P01,PC-01,at_desk,\n"
    )
    return write_case(root, complaints=csv_text(complaints), camera=camera)


def test_validation_rows_count_unlisted_values(tmp_path):
    frame = validation_rows(load(_unlisted_case(tmp_path / "case")))
    counts = {r["file"]: r for r in frame.iter_rows(named=True)}
    assert counts["complaints.csv"]["unlisted"] == 2
    assert counts["camera.csv"]["unlisted"] == 1
    assert counts["orders.csv"]["unlisted"] == 0
    # unlisted values are accepted rows
    assert (counts["complaints.csv"]["accepted"], counts["complaints.csv"]["quarantined"]) == (2, 0)
    assert (counts["camera.csv"]["accepted"], counts["camera.csv"]["quarantined"]) == (2, 0)


def test_findings_json_counts_unlisted_values(tmp_path):
    """findings.json says per file what was kept with a value the contract
    does not list, as `forensics validate` does."""
    import forensics

    case = load(_unlisted_case(tmp_path / "case"))
    inputs = {i["file"]: i for i in forensics.investigate(case).to_dict()["inputs"]}
    assert inputs["complaints.csv"]["unlisted"] == 2
    assert inputs["camera.csv"]["unlisted"] == 1
    assert inputs["orders.csv"]["unlisted"] == 0
    assert all(i["unregistered"] == 0 for i in inputs.values())


def test_validate_lists_unlisted_values(tmp_path, capsys):
    assert cli.main(["validate", str(_unlisted_case(tmp_path / "case"))]) == 0
    out = capsys.readouterr().out
    camera = next(line for line in out.splitlines() if line.startswith("camera.csv"))
    assert camera.split()[:6] == ["camera.csv", "2", "2", "0", "0", "1"]
    assert "Quarantine: none." in out
    assert "Unlisted values: 2 value(s) outside the contract's lists" in out
    assert 'camera.csv activity "use_pc": 1 row(s), first at row 2' in out
    assert 'complaints.csv category "sms_scam": 2 row(s), first at row 2' in out


def test_validate_limits_reasons(tmp_path, capsys):
    root = write_case(tmp_path / "case", orders=_broken_orders())
    assert cli.main(["validate", str(root), "--reasons", "1"]) == 0
    out = capsys.readouterr().out
    assert "orders.csv:3 placed_at" in out
    assert "orders.csv:4" not in out
    assert "… and 2 more" in out


def test_validate_escapes_untrusted_values(tmp_path, capsys):
    rows = [list(r) for r in TABLE_ROWS["complaints"]]
    rows[1][4] = "call\x1b[31m now\nplease"  # terminal escape in an unlisted category
    root = write_case(tmp_path / "case", complaints=csv_text(rows))
    assert cli.main(["validate", str(root)]) == 0
    out = capsys.readouterr().out
    assert "\x1b" not in out
    assert r'complaints.csv category "call\u001b[31m now\nplease": 1 row(s)' in out


def test_validate_case_error_exits_2(tmp_path, capsys):
    root = write_case(tmp_path / "case", logins=None)
    assert cli.main(["validate", str(root)]) == 2
    captured = capsys.readouterr()
    assert "logins.csv" in captured.err
    assert captured.out == ""


def test_validate_required_table_without_rows_exits_1(tmp_path, capsys):
    header_only = table_text("complaints").splitlines()[0] + "\n"
    root = write_case(tmp_path / "case", complaints=header_only)
    assert cli.main(["validate", str(root)]) == 1
    out = capsys.readouterr().out
    assert "NOT investigable: no accepted rows in complaints.csv." in out


def test_validate_all_rows_quarantined_exits_1(tmp_path, capsys):
    rows = [list(r) for r in TABLE_ROWS["machines"]]
    for row in rows[1:]:
        row[0] = ""
    root = write_case(tmp_path / "case", machines=csv_text(rows))
    assert cli.main(["validate", str(root)]) == 1
    out = capsys.readouterr().out
    assert "machines.csv:2 machine_id — empty value in a required column" in out
