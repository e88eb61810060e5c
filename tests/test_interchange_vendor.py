"""``forensics import csv``: the shipped mappings on their made-up samples, round trip
through the loader; wrong mappings and wrong encodings stop with file, line, column."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pytest
from casefiles import write_case

from forensics.case import CaseError, load
from forensics.cli import main
from forensics.interchange.vendor import import_table, load_mapping, shipped_mappings

VENDOR = Path(__file__).parent / "data" / "vendor"
OPS = VENDOR / "backoffice-operations.csv"  # GB18030, CRLF
LOGINS = VENDOR / "login-log.xlsx"  # sheet 登录日志
DOOR = VENDOR / "door-system.csv"  # UTF-8 with BOM


def _utc(*a: int) -> datetime:
    return datetime(*a, tzinfo=UTC)


def test_every_shipped_mapping_has_a_sample():
    assert set(shipped_mappings()) == {"backoffice-operations", "login-log", "door-system"}
    for name in shipped_mappings():
        assert load_mapping(name).name == name
        assert any(p.stem == name for p in VENDOR.iterdir()), name


def test_backoffice_operations_round_trip(tmp_path):
    case = write_case(tmp_path / "case", access=None)  # the import writes access.csv
    result = import_table(OPS, case, mapping="backoffice-operations")
    assert (result.read, result.imported, result.written.written) == (5, 5, 5)
    loaded = load(case)
    assert loaded.quarantine.filter(pl.col("file") == "access.csv").height == 0
    access = loaded.access
    assert access["action"].to_list() == [
        "view_order", "print_label", "export_orders", "search", "view_order",
    ]  # fmt: skip
    # 07:12:31 in Shanghai; the slash format of line 6 read too
    assert access["at"][0] == _utc(2024, 4, 3, 23, 12, 31)
    assert access["at"][4] == _utc(2024, 4, 4, 1, 5)
    export = access.row(2, named=True)
    assert (export["range_start"], export["range_end"], export["rows"]) == (
        _utc(2024, 3, 31, 16), _utc(2024, 4, 3, 16), 812,
    )  # fmt: skip
    assert access["account_id"].to_list()[:3] == ["ACC-01"] * 3
    # provenance: the vendor file and the line each record started on
    assert access["source_file"].unique().to_list() == ["backoffice-operations.csv"]
    assert access["source_record"].to_list() == ["2", "3", "4", "5", "6"]


def test_login_log_xlsx_round_trip(tmp_path):
    case = write_case(tmp_path / "case", logins=None)
    import_table(LOGINS, case, mapping="login-log")
    logins = load(case).logins
    assert logins["action"].to_list() == ["login_failed", "login", "logout", "login"]
    assert logins["at"][1] == _utc(2024, 4, 3, 23, 11, 40)
    assert logins["machine_id"].to_list() == ["PC-01", "PC-01", "PC-01", "PC-02"]
    assert logins["source_record"].to_list() == ["2", "3", "4", "5"]  # spreadsheet rows


def test_door_system_round_trip(tmp_path):
    case = write_case(tmp_path / "case")
    import_table(DOOR, case, mapping="door-system")
    loaded = load(case)
    badge = loaded.badge
    assert badge["direction"].to_list() == ["in", "out", "in", "in"]
    assert badge["result"].to_list() == ["granted", "granted", "granted", "denied"]
    assert badge["door"][0] == "办公室正门"
    assert badge["at"][3] == _utc(2024, 4, 4, 14, 14, 40)
    assert "P09" in loaded.unregistered["value"].to_list()  # not in staff.csv: reported


def test_reimport_adds_nothing_and_logs_the_hash(tmp_path):
    case = tmp_path / "case"
    import_table(DOOR, case, mapping="door-system")
    before = (case / "badge.csv").read_bytes()
    again = import_table(DOOR, case, mapping="door-system")
    assert again.written.written == 0 and again.skipped == {"already in the case": 4}
    assert (case / "badge.csv").read_bytes() == before
    log = [json.loads(x) for x in (case / "import-log.jsonl").read_text("utf-8").splitlines()]
    assert len(log) == 2 and log[1]["read"] == log[1]["imported"] + log[1]["skipped"]
    assert (
        log[0]["sources"][0]["sha256"]
        == __import__("hashlib").sha256(DOOR.read_bytes()).hexdigest()
    )


def _mapping(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "m.toml"
    path.write_text(text, encoding="utf-8")
    return path


DOOR_MAP = (
    Path(__file__).parents[1] / "src/forensics/interchange/mappings/door-system.toml"
).read_text("utf-8")


def test_missing_column_names_file_line_and_column(tmp_path):
    bad = _mapping(tmp_path, DOOR_MAP.replace('door = "门禁点"', 'door = "门"'))
    with pytest.raises(CaseError) as err:
        import_table(DOOR, tmp_path / "case", mapping=bad)
    assert (err.value.file, err.value.row, err.value.column) == ("door-system.csv", 1, "门")
    assert "which the header does not have" in str(err.value)
    assert not (tmp_path / "case" / "badge.csv").exists()  # nothing half-written


def test_unparseable_time_names_file_line_and_column(tmp_path):
    bad = _mapping(
        tmp_path,
        DOOR_MAP.replace(
            'at = ["%Y/%m/%d %H:%M:%S", "%Y-%m-%d %H:%M:%S"]', 'at = ["%d.%m.%Y %H:%M"]'
        ),
    )
    with pytest.raises(CaseError) as err:
        import_table(DOOR, tmp_path / "case", mapping=bad)
    assert (err.value.file, err.value.row, err.value.column) == ("door-system.csv", 2, "刷卡时间")
    assert "'2024/04/04 07:02:11' is not a time" in str(err.value)


def test_value_missing_from_the_map_names_its_line(tmp_path):
    bad = _mapping(tmp_path, DOOR_MAP.replace('"失败" = "denied"', ""))
    with pytest.raises(CaseError) as err:
        import_table(DOOR, tmp_path / "case", mapping=bad)
    assert (err.value.row, err.value.column) == (5, "结果")
    assert "'失败' is not in [values.result]" in str(err.value)


def test_unmapped_required_column_is_refused(tmp_path):
    bad = _mapping(tmp_path, DOOR_MAP.replace('at = "刷卡时间"', ""))
    with pytest.raises(CaseError, match="required badge column"):
        load_mapping(bad)


def test_utf8_file_declared_gb18030_stops_with_line(tmp_path):
    utf8 = tmp_path / "ops.csv"
    utf8.write_bytes(OPS.read_bytes().decode("gb18030").encode("utf-8"))
    with pytest.raises(CaseError) as err:
        import_table(utf8, tmp_path / "case", mapping="backoffice-operations")
    assert (err.value.file, err.value.row) == ("ops.csv", 1)
    assert "declared gb18030" in str(err.value) and "UTF-8" in str(err.value)


def test_damaged_record_is_skipped_and_counted(tmp_path):
    text = DOOR.read_text("utf-8-sig") + "2024/04/04 23:00:00,P01,x\n"
    src = tmp_path / "door.csv"
    src.write_text(text, encoding="utf-8")
    result = import_table(src, tmp_path / "case", mapping="door-system")
    assert (result.read, result.imported) == (5, 4)
    assert result.skipped == {"expected 6 fields": 1}


def test_cli(tmp_path, capsys):
    args = ["import", "csv", "--mapping", "door-system", "--case", str(tmp_path / "c"), str(DOOR)]
    assert main(args) == 0
    assert "records read 4 = imported 4 + skipped 0" in capsys.readouterr().out


def test_xlsx_date_cells_are_read_as_times(tmp_path):
    # the same export with true Excel date cells (one with milliseconds)
    case = write_case(tmp_path / "case", logins=None)
    import_table(VENDOR / "login-log-date-cells.xlsx", case, mapping="login-log")
    logins = load(case).logins
    assert logins["at"].to_list() == [
        _utc(2024, 4, 4, 23, 58, 1), _utc(2024, 4, 5, 0, 2, 30, 250000), _utc(2024, 4, 5, 10, 1),
    ]  # fmt: skip
