"""forensics.case.load on crafted case folders: one broken thing per test."""

from __future__ import annotations

import dataclasses
import hashlib
import random
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

import polars as pl
import pytest
from casefiles import CASE_TOML, TABLE_ROWS, csv_text, snapshot, table_text, write_case

from forensics.case import Case, CaseError, load
from forensics.case.schema import REQUIRED_TABLES, ROW, TABLES


def _utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def _rows(name: str, *extra: list[str], drop: int | None = None) -> list[list[str]]:
    """Default rows of ``name`` (header first) with ``extra`` rows appended."""
    rows = [list(r) for r in TABLE_ROWS[name]]
    if drop is not None:
        del rows[drop]
    return rows + [list(r) for r in extra]


def _quarantine(case: Case, file: str) -> list[dict]:
    return case.quarantine.filter(pl.col("file") == file).to_dicts()


def _input(case: Case, file: str):
    return next(f for f in case.inputs if f.file == file)


# ------------------------------------------------------------------ basics


def test_minimal_case_loads_typed_frames_with_rows(tmp_path):
    case = load(write_case(tmp_path / "case"))
    for name in TABLES:
        frame = case[name]
        assert frame.schema == TABLES[name].polars_schema, name
        assert frame.columns[0] == ROW
    assert case.orders[ROW].to_list() == [2, 3, 4, 5]
    assert case.orders["amount"].to_list() == [59.9, 120.0, 8.5, 300.0]
    assert case.staff["shift_start"].to_list() == [time(9), time(8), None]
    assert case.accounts["can_export"].to_list() == [True, False, False]
    assert case.access["rows"].to_list() == [None, None, 3]
    assert case.quarantine.is_empty() and case.unregistered.is_empty()
    assert all(case.has(t) for t in REQUIRED_TABLES)
    assert not case.has("camera") and case.camera.is_empty()
    assert case.source("orders") == "orders.csv"
    assert case.source("camera") == "camera.csv"


def test_case_meta_from_toml(tmp_path):
    case = load(write_case(tmp_path / "case"))
    meta = case.meta
    assert meta.case_id == "TEST-0001" and meta.title == "Crafted case"
    assert meta.timezone == "Asia/Shanghai"
    assert meta.opened_at == _utc(2024, 4, 12, 2, 0)
    assert (meta.business_start, meta.business_end) == (time(9), time(18))
    assert meta.weekdays == (1, 2, 3, 4, 5, 6)


def test_case_toml_defaults_and_folder_name_as_id(tmp_path):
    toml = '[case]\ntimezone = "UTC"\n'
    case = load(write_case(tmp_path / "CASE-FOLDER", toml=toml))
    assert case.meta.case_id == "CASE-FOLDER"
    assert case.meta.weekdays == (1, 2, 3, 4, 5, 6, 7)
    assert (case.meta.business_start, case.meta.business_end) == (time(9), time(18))
    assert case.meta.opened_at is None


def test_without_opened_at_timestamps_are_judged_against_their_column(tmp_path):
    # No opened_at: plausibility is measured from the median of the column,
    # and the reasons of the rows set aside are worked out on the whole
    # column too (not on the bad rows alone, whose median is 1970).
    extra = [
        ["L4", "1970-01-01 00:00:00", "ACC-01", "PC-01", "10.0.0.11", "login", "S3"],
        ["L5", "2024-04-02 09:00:00", "ACC-01", "PC-01", "10.0.0.11", "reboot", "S3"],
    ]
    toml = '[case]\ntimezone = "Asia/Shanghai"\n'
    root = write_case(tmp_path / "case", toml=toml, logins=csv_text(_rows("logins", *extra)))
    lines = [(q["row"], q["column"], q["reason"]) for q in _quarantine(load(root), "logins.csv")]
    assert lines == [
        (5, "at", "implausible timestamp: more than 30 years before the median of this column"),
        (6, "action", "not one of: login, logout, login_failed"),
    ]


@pytest.mark.parametrize(
    ("toml", "words"),
    [
        ('[case]\ntimezone = "Mars/Olympus"\n', ["Mars/Olympus", "time zone"]),
        ('[case]\nid = "X"\n', ["timezone is missing"]),
        ('[case]\ntimezone = "UTC"\n[business_hours]\nweekdays = [0, 8]\n', ["weekdays"]),
        ('[case]\ntimezone = "UTC"\n[files.orders]\nencoding = "klingon"\n', ["klingon"]),
        ('[case]\ntimezone = "UTC"\n[files.order]\nencoding = "gb18030"\n', ["[files.order]"]),
        ("[case\n", ["not valid TOML"]),
    ],
)
def test_bad_case_toml_is_a_case_error(tmp_path, toml, words):
    with pytest.raises(CaseError) as err:
        load(write_case(tmp_path / "case", toml=toml))
    assert "case.toml" in str(err.value)
    for word in words:
        assert word in str(err.value)


def test_missing_case_toml(tmp_path):
    with pytest.raises(CaseError, match="case.toml is missing"):
        load(write_case(tmp_path / "case", toml=None))


def test_files_settings_are_read_only(tmp_path):
    toml = CASE_TOML + '[files.camera]\nclock = "unsynchronized"\ntimezone = "UTC"\n'
    case = load(write_case(tmp_path / "case", toml=toml))
    assert case.unsynchronized("camera") and not case.unsynchronized("access")
    assert case.timezone("camera") == "UTC"
    assert case.timezone("access") == case.timezone() == "Asia/Shanghai"
    with pytest.raises(TypeError):
        case.meta.files["camera"]["clock"] = "synchronized"
    with pytest.raises(TypeError):
        case.meta.files["badge"] = {}


# --------------------------------------------------------- files and columns


def test_missing_required_files_are_named_together(tmp_path):
    with pytest.raises(CaseError) as err:
        load(write_case(tmp_path / "case", logins=None, access=None))
    assert "logins.csv" in str(err.value) and "access.csv" in str(err.value)


def test_csv_and_parquet_of_same_table_is_an_error(tmp_path):
    root = write_case(tmp_path / "case")
    pl.DataFrame({"x": [1]}).write_parquet(root / "orders.parquet")
    with pytest.raises(CaseError, match="orders.csv and orders.parquet"):
        load(root)


def test_missing_required_columns_are_listed_together(tmp_path):
    rows = [[c for i, c in enumerate(r) if i not in (0, 2)] for r in TABLE_ROWS["orders"]]
    with pytest.raises(CaseError) as err:
        load(write_case(tmp_path / "case", orders=csv_text(rows)))
    message = str(err.value)
    assert message.startswith("orders.csv")
    assert "order_id" in message and "placed_at" in message
    assert err.value.file == "orders.csv"


def test_missing_optional_column_is_added_as_typed_nulls(tmp_path):
    rows = [r[:5] for r in TABLE_ROWS["orders"]]  # no buyer_name, phone, address
    case = load(write_case(tmp_path / "case", orders=csv_text(rows)))
    assert case.orders.schema == TABLES["orders"].polars_schema
    assert case.orders["phone"].null_count() == 4


def test_headers_match_case_insensitively_after_stripping(tmp_path):
    rows = _rows("orders")
    rows[0] = [f"  {c.upper()} " for c in rows[0]]
    case = load(write_case(tmp_path / "case", orders=csv_text(rows)))
    assert case.orders.schema == TABLES["orders"].polars_schema
    assert case.orders["order_id"].to_list() == ["O1001", "O1002", "O1003", "O1004"]


def test_extra_columns_are_kept_as_string_after_contract(tmp_path):
    rows = _rows("orders")
    rows[0] = rows[0] + ["Channel", "coupon"]
    for i, r in enumerate(rows[1:], 1):
        r += ["app", f"  C{i} " if i != 2 else ""]
    case = load(write_case(tmp_path / "case", orders=csv_text(rows)))
    names = list(TABLES["orders"].polars_schema.names())
    assert case.orders.columns == names + ["Channel", "coupon"]
    assert case.orders["Channel"].dtype == pl.String
    assert case.orders["coupon"].to_list() == ["C1", None, "C3", "C4"]


def test_empty_required_file_is_a_case_error(tmp_path):
    with pytest.raises(CaseError, match="orders.csv: empty file"):
        load(write_case(tmp_path / "case", orders=b""))


def test_empty_optional_file_is_an_empty_table(tmp_path):
    case = load(write_case(tmp_path / "case", camera=b""))
    assert case.has("camera") and case.camera.is_empty()
    assert case.camera.schema == TABLES["camera"].polars_schema
    assert _input(case, "camera.csv").rows == 0


def test_header_only_file_has_zero_rows(tmp_path):
    case = load(write_case(tmp_path / "case", machines=table_text("machines").splitlines()[0]))
    assert case.machines.is_empty()
    assert case.machines.schema == TABLES["machines"].polars_schema
    record = _input(case, "machines.csv")
    assert (record.rows, record.accepted, record.quarantined) == (0, 0, 0)


# --------------------------------------------------------------- encodings

_CHINESE_NAMES = ["陈杰", "刘洋", "赵磊", "孙丽"]


def _chinese_orders(first_ascii: int = 1) -> str:
    rows = _rows("orders")
    for i, row in enumerate(rows[1:]):
        if i >= first_ascii:
            row[5] = _CHINESE_NAMES[i]
    return csv_text(rows)


def test_undeclared_gb18030_is_located_and_named(tmp_path):
    data = _chinese_orders(first_ascii=1).encode("gb18030")
    with pytest.raises(CaseError) as err:
        load(write_case(tmp_path / "case", orders=data))
    message = str(err.value)
    # line 1 header, line 2 ASCII row, line 3 the first Chinese name
    assert message.startswith("orders.csv line 3: not UTF-8")
    assert "GB18030" in message
    assert '[files.orders] encoding = "gb18030"' in message
    assert (err.value.file, err.value.row) == ("orders.csv", 3)


def test_declared_gb18030_loads_with_names_intact(tmp_path):
    data = _chinese_orders(first_ascii=0).encode("gb18030")
    toml = CASE_TOML + '[files.orders]\nencoding = "gb18030"\n'
    case = load(write_case(tmp_path / "case", toml=toml, orders=data))
    assert case.orders["buyer_name"].to_list() == _CHINESE_NAMES
    assert _input(case, "orders.csv").encoding == "gb18030"


def test_wrongly_declared_encoding_is_located(tmp_path):
    toml = CASE_TOML + '[files.orders]\nencoding = "ascii"\n'
    data = _chinese_orders(first_ascii=2).encode("utf-8")
    with pytest.raises(CaseError, match=r"orders.csv line 4: cannot be decoded as ascii"):
        load(write_case(tmp_path / "case", toml=toml, orders=data))


def test_utf8_bom_is_accepted(tmp_path):
    data = b"\xef\xbb\xbf" + _chinese_orders(first_ascii=0).encode("utf-8")
    case = load(write_case(tmp_path / "case", orders=data))
    assert case.orders["order_id"].to_list() == ["O1001", "O1002", "O1003", "O1004"]
    assert case.orders["buyer_name"].to_list() == _CHINESE_NAMES
    assert _input(case, "orders.csv").encoding == "utf-8-sig"


# ------------------------------------------------------------- timestamps


def test_timestamps_with_offsets_and_naive_in_file_zone(tmp_path):
    forms = [
        "2024-04-04T07:12:31",  # naive -> file zone (Europe/Berlin, CEST = +02:00)
        "2024-04-04 07:12:31.250",
        "2024-04-04T07:12:31+08:00",
        "2024-04-04T07:12:31+0800",
        "2024-04-04T07:12:31Z",
        "2024/04/04 07:12:31",
        "2024-04-04",
        "2024-01-15 07:12",  # winter: CET = +01:00
    ]
    extra = [[f"L{i}", at, "ACC-01", "PC-01", "", "login", ""] for i, at in enumerate(forms, 10)]
    toml = CASE_TOML + '[files.logins]\ntimezone = "Europe/Berlin"\n'
    case = load(write_case(tmp_path / "case", toml=toml, logins=csv_text(_rows("logins", *extra))))
    got = case.logins.filter(pl.col(ROW) >= 5)["at"].to_list()
    assert got == [
        _utc(2024, 4, 4, 5, 12, 31),
        _utc(2024, 4, 4, 5, 12, 31, 250_000),
        _utc(2024, 4, 3, 23, 12, 31),
        _utc(2024, 4, 3, 23, 12, 31),
        _utc(2024, 4, 4, 7, 12, 31),
        _utc(2024, 4, 4, 5, 12, 31),
        _utc(2024, 4, 3, 22, 0, 0),
        _utc(2024, 1, 15, 6, 12),
    ]
    # the file zone applies to every naive value of the file, not the case zone
    assert case.logins["at"][0] == _utc(2024, 4, 1, 7, 1)
    assert case.quarantine.is_empty()


def test_naive_timestamps_use_case_zone_without_file_zone(tmp_path):
    case = load(write_case(tmp_path / "case"))
    assert case.logins["at"][0] == _utc(2024, 4, 1, 1, 1)  # 09:01 Shanghai
    assert case.logins["at"].dtype == pl.Datetime("us", "UTC")


def test_dst_gap_is_quarantined_and_ambiguous_takes_earliest(tmp_path):
    extra = [
        ["L10", "2024-03-31 02:30:00", "ACC-01", "PC-01", "", "login", ""],  # gap
        ["L11", "2024-10-27 02:30:00", "ACC-01", "PC-01", "", "login", ""],  # twice
    ]
    toml = CASE_TOML + '[files.logins]\ntimezone = "Europe/Berlin"\n'
    case = load(write_case(tmp_path / "case", toml=toml, logins=csv_text(_rows("logins", *extra))))
    (line,) = _quarantine(case, "logins.csv")
    assert (line["row"], line["column"]) == (5, "at")
    assert "does not exist in Europe/Berlin" in line["reason"]
    kept = case.logins.filter(pl.col("event_id") == "L11")["at"].item()
    assert kept == _utc(2024, 10, 27, 0, 30)  # CEST, the first of the two 02:30s


def test_bad_timestamp_is_quarantined_and_located(tmp_path):
    rows = _rows("orders")
    rows[2][2] = "2024-13-45 10:00:00"
    case = load(write_case(tmp_path / "case", orders=csv_text(rows)))
    assert _quarantine(case, "orders.csv") == [
        {
            "file": "orders.csv",
            "row": 3,
            "column": "placed_at",
            "reason": "not a valid timestamp",
            "value": "2024-13-45 10:00:00",
        }
    ]
    assert case.orders["order_id"].to_list() == ["O1001", "O1003", "O1004"]
    record = _input(case, "orders.csv")
    assert (record.rows, record.accepted, record.quarantined) == (4, 3, 1)


# ------------------------------------------------------------ damaged rows


def test_every_violation_of_a_row_is_listed_and_counted_once(tmp_path):
    rows = _rows("access")
    rows[1][1] = "yesterday"  # at
    rows[1][5] = "Teleport"  # action
    rows[1][9] = "many"  # rows
    case = load(write_case(tmp_path / "case", access=csv_text(rows)))
    lines = _quarantine(case, "access.csv")
    assert [(q["row"], q["column"]) for q in lines] == [(2, "at"), (2, "action"), (2, "rows")]
    assert lines[1]["reason"].startswith("not one of: view_order, print_label")
    assert lines[2] == {
        "file": "access.csv",
        "row": 2,
        "column": "rows",
        "reason": "not a valid integer",
        "value": "many",
    }
    assert _input(case, "access.csv").quarantined == 1


def test_enum_is_case_insensitive_and_stored_lower(tmp_path):
    rows = _rows("logins")
    rows[1][5] = " LogIn "
    case = load(write_case(tmp_path / "case", logins=csv_text(rows)))
    assert case.logins["action"][0] == "login"
    assert case.quarantine.is_empty()


def test_empty_required_cell_is_quarantined(tmp_path):
    rows = _rows("logins")
    rows[2][2] = "  "
    case = load(write_case(tmp_path / "case", logins=csv_text(rows)))
    assert [(q["row"], q["column"], q["reason"]) for q in _quarantine(case, "logins.csv")] == [
        (3, "account_id", "empty value in a required column")
    ]


def test_wrong_field_count_is_quarantined(tmp_path):
    text = table_text("machines") + "PC-03,back office,P01,CAM-03,surplus\nPC-04,lab\n"
    case = load(write_case(tmp_path / "case", machines=text))
    lines = _quarantine(case, "machines.csv")
    assert [(q["row"], q["column"], q["reason"]) for q in lines] == [
        (4, None, "expected 4 fields, found 5"),
        (5, None, "expected 4 fields, found 2"),
    ]
    assert lines[0]["value"] == "PC-03,back office,P01,CAM-03,surplus"
    assert case.machines["machine_id"].to_list() == ["PC-01", "PC-02"]
    record = _input(case, "machines.csv")
    assert (record.rows, record.accepted, record.quarantined) == (4, 2, 2)


def test_embedded_newline_and_blank_lines_keep_line_numbers(tmp_path):
    text = (
        "complaint_id,buyer_id,order_id,received_at,category,text\n"  # 1
        'C1,B1,O1001,2024-04-08 12:00:00,scam_call,"He said:\n'  # 2
        '""your parcel, sir""\nthen hung up"\n'  # 3, 4
        "\n"  # 5 blank
        "C2,B2,,2024-04-09 09:30:00,phishing_link,link\r\n"  # 6
        "   \n"  # 7 blank
        "C3,B3,,not a time,other,x\n"  # 8
    )
    case = load(write_case(tmp_path / "case", complaints=text))
    assert case.complaints[ROW].to_list() == [2, 6]
    assert case.complaints["text"][0] == 'He said:\n"your parcel, sir"\nthen hung up'
    assert [(q["row"], q["column"]) for q in _quarantine(case, "complaints.csv")] == [
        (8, "received_at")
    ]
    assert _input(case, "complaints.csv").rows == 3


def test_rows_of_only_separators_are_blank_lines(tmp_path):
    text = table_text("machines") + ",,,\n , , ,\nPC-03,lab,,\n"
    case = load(write_case(tmp_path / "case", machines=text))
    assert case.machines[ROW].to_list() == [2, 3, 6]
    assert _input(case, "machines.csv").rows == 3
    assert case.quarantine.is_empty()


def test_semicolon_file_gets_a_hint_then_loads_when_declared(tmp_path):
    text = table_text("machines").replace(",", ";")
    with pytest.raises(CaseError, match=r"delimiter = ';'"):
        load(write_case(tmp_path / "a", machines=text))
    toml = CASE_TOML + '[files.machines]\ndelimiter = ";"\n'
    case = load(write_case(tmp_path / "b", toml=toml, machines=text))
    assert case.machines["machine_id"].to_list() == ["PC-01", "PC-02"]


def test_duplicate_header_is_a_case_error(tmp_path):
    with pytest.raises(CaseError, match="machines.csv line 1: column 'location' appears twice"):
        load(write_case(tmp_path / "case", machines="machine_id,location,location\nPC-1,a,b\n"))


def test_odd_header_names_are_kept_safely(tmp_path):
    text = "machine_id,*,^x$,_row\nPC-01,a,b,7\n"
    case = load(write_case(tmp_path / "case", machines=text))
    assert case.machines.columns[-3:] == ["[*]", "[^x$]", "_row_in_file"]
    assert case.machines.row(0)[-3:] == ("a", "b", "7")


def test_nul_bytes_are_damage_not_a_crash(tmp_path):
    rows = _rows("staff")
    rows[2][1] = "Wang\x00Fang"
    case = load(write_case(tmp_path / "case", staff=csv_text(rows)))
    assert [(q["row"], q["column"], q["reason"]) for q in _quarantine(case, "staff.csv")] == [
        (3, "name", "NUL byte in cell")
    ]
    assert case.staff["person_id"].to_list() == ["P01", "P03"]


def test_duplicate_row_and_duplicate_key(tmp_path):
    rows = _rows("orders")
    rows.append(list(rows[1]))  # line 6: exact copy of line 2
    changed = list(rows[3])
    changed[4] = "999"
    rows.append(changed)  # line 7: O1003 again, other amount
    rows.append([" O1001 "] + rows[1][1:])  # line 8: same content once stripped
    case = load(write_case(tmp_path / "case", orders=csv_text(rows)))
    assert [
        (q["row"], q["column"], q["reason"], q["value"]) for q in _quarantine(case, "orders.csv")
    ] == [
        (6, "order_id", "duplicate row of line 2", "O1001"),
        (7, "order_id", "duplicate order_id of line 4 with different content", "O1003"),
        (8, "order_id", "duplicate row of line 2", "O1001"),
    ]
    assert case.orders.filter(pl.col("order_id") == "O1003")["amount"].item() == 8.5
    assert case.orders[ROW].to_list() == [2, 3, 4, 5]


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_personal_data_withheld_is_still_checked(tmp_path, fmt):
    rows = _rows("orders")
    rows[2][7] = "Rd\x002"  # line 3: NUL in an address
    changed = list(rows[3])
    changed[5] = "Zhao L."
    rows.append(changed)  # line 6: O1003 again, another name: not a copy
    rows.append(list(rows[4]))  # line 7: exact copy of line 5
    rows.append(list(rows[1][:6]) + [" 13800000001 ", "Rd 1"])  # line 8: same once stripped
    if fmt == "csv":
        folder = write_case(tmp_path / "case", orders=csv_text(rows))
    else:
        folder = write_case(tmp_path / "case", orders=None)
        frame = pl.DataFrame(rows[1:], schema=rows[0], orient="row")
        frame.write_parquet(folder / "orders.parquet")
    held, withheld = load(folder), load(folder, personal=False)
    assert withheld.withheld == {"buyer_name", "phone", "address"} and not held.withheld
    file = f"orders.{fmt}"
    lines = [(q["row"], q["column"], q["reason"]) for q in _quarantine(withheld, file)]
    first = 2 if fmt == "csv" else 1  # a CSV line after the header; a Parquet record
    assert lines == [
        (first + 1, "address", "NUL byte in cell"),
        (first + 4, "order_id", f"duplicate order_id of line {first + 2} with different content"),
        (first + 5, "order_id", f"duplicate row of line {first + 3}"),
        (first + 6, "order_id", f"duplicate row of line {first}"),
    ]
    assert withheld.quarantine.equals(held.quarantine)
    assert withheld.inputs == held.inputs
    assert withheld.orders.columns == [c for c in held.orders.columns if c not in withheld.withheld]
    assert withheld.orders.equals(held.orders.drop("buyer_name", "phone", "address"))


def test_duplicate_rows_without_key(tmp_path):
    badge = "at,person_id,badge_id,door,direction,result\n" + (
        "2024-04-01 08:55:00,P01,B-1,front,in,granted\n" * 2
    )
    case = load(write_case(tmp_path / "case", badge=badge))
    assert [(q["row"], q["reason"]) for q in _quarantine(case, "badge.csv")] == [
        (3, "duplicate row of line 2")
    ]


# -------------------------------------------------------------- references


def test_dangling_reference_is_kept_and_reported(tmp_path):
    extra = ["A4", "2024-04-03 02:00:00", "ACC-GHOST", "PC-09", "", "export_orders", "", "", "", ""]
    case = load(write_case(tmp_path / "case", access=csv_text(_rows("access", extra))))
    assert "ACC-GHOST" in case.access["account_id"].to_list()
    assert case.unregistered.to_dicts() == [
        {
            "file": "access.csv",
            "row": 5,
            "column": "account_id",
            "value": "ACC-GHOST",
            "references": "accounts.account_id",
        },
        {
            "file": "access.csv",
            "row": 5,
            "column": "machine_id",
            "value": "PC-09",
            "references": "machines.machine_id",
        },
    ]
    assert _input(case, "access.csv").quarantined == 0


@pytest.mark.parametrize("large", [0, 10**9])
def test_dangling_references_found_by_hash_or_by_string(tmp_path, monkeypatch, large):
    # Against large tables ids are compared by a seeded 64-bit hash; both
    # ways must find the same rows.
    monkeypatch.setattr("forensics.case._tables._LARGE", large)
    extra = [
        ["A4", "2024-04-03 02:00:00", "ACC-GHOST", "PC-01", "", "view_order", "O9999", "", "", ""],
        ["A5", "2024-04-03 02:01:00", "ACC-01", "PC-01", "", "view_order", "O1001", "", "", ""],
    ]
    case = load(write_case(tmp_path / "case", access=csv_text(_rows("access", *extra))))
    found = case.unregistered.select("row", "column", "value").rows()
    assert found == [(5, "account_id", "ACC-GHOST"), (5, "order_id", "O9999")]


def test_references_check_only_accepted_ids(tmp_path):
    accounts = _rows("accounts")
    accounts[2][4] = "not a time"  # ACC-01 quarantined
    case = load(write_case(tmp_path / "case", accounts=csv_text(accounts)))
    unknown = case.unregistered.filter(pl.col("value") == "ACC-01")
    assert set(unknown["file"]) == {"logins.csv", "access.csv"}
    assert unknown.height == 3


@pytest.mark.parametrize("zone", ["Asia/Shanghai", "Europe/Berlin", "UTC", "Asia/Kolkata"])
def test_naive_times_shifted_by_a_fixed_offset_equal_the_zone_lookup(zone):
    # Where a zone's offset is fixed for decades (Shanghai since 1991),
    # naive times are shifted instead of looked up: same instants, and the
    # same nulls for wall times that never existed (Shanghai's 1986-91 DST).
    from forensics.case._cells import _localize

    rng = random.Random(7)
    naive = [
        datetime(1900, 1, 1) + timedelta(minutes=rng.randrange(105 * 525_960))
        for _ in range(20_000)
    ]
    naive += [datetime(1988, 4, 10, 2, 30), datetime(1988, 9, 11, 1, 30), None]  # gap, fold
    frame = pl.DataFrame({"t": naive}, schema={"t": pl.Datetime("us")})
    exact = pl.col("t").dt.replace_time_zone(zone, ambiguous="earliest", non_existent="null")
    for reference in (None, _utc(2024, 4, 12), _utc(1960, 1, 1)):
        got = frame.select(_localize(pl.col("t"), zone, reference).alias("t"))
        assert got.equals(frame.select(exact.dt.convert_time_zone("UTC"))), reference


# ------------------------------------------------------- enum vocabularies

_CAMERA = (
    "sighting_id,camera_id,start_at,end_at,person_id,machine_id,activity,note\n"
    "S1,CAM-01,2024-04-02 08:00:00,2024-04-02 08:05:00,P01,PC-01,at_desk,\n"  # 2
    "S2,CAM-01,2024-04-02 08:06:00,,P01,PC-01, Use_PC ,\n"  # 3: unlisted, kept
    "S3,CAM-01,not a time,,P01,PC-01,dance,\n"  # 4: damaged, so not listed
)
_BADGE = (
    "at,person_id,badge_id,door,direction,result\n"
    "2024-04-01 08:55:00,P01,B-1,front,in,granted\n"  # 2
    "2024-04-01 08:56:00,P02,B-2,front,sideways,tailgated\n"  # 3
)


def test_only_descriptive_enum_columns_are_open():
    enums = [(t.name, c) for t in TABLES.values() for c in t.columns if c.values]
    assert {f"{t}.{c.name}" for t, c in enums if c.open_values} == {
        "accounts.kind",
        "complaints.category",
        "camera.activity",
        "badge.direction",
        "badge.result",
    }
    # The engine's reading of the row depends on these: they stay strict.
    assert {f"{t}.{c.name}" for t, c in enums if not c.open_values} == {
        "logins.action",
        "access.action",
        "endpoint.kind",
    }


def test_unlisted_descriptive_values_are_kept_and_listed(tmp_path):
    long = "x" * 300
    complaints = _rows(
        "complaints",
        ["C3", "B3", "O1003", "2024-04-10 10:00:00", "SMS_Scam", "a text message", "", ""],
        ["C4", "B4", "", "2024-04-10 11:00:00", long, "", "", ""],
    )
    accounts = _rows("accounts")
    accounts[3][2] = "Service"  # ACC-02, line 4
    root = write_case(
        tmp_path / "case",
        complaints=csv_text(complaints),
        accounts=csv_text(accounts),
        camera=_CAMERA,
        badge=_BADGE,
    )
    case = load(root)
    assert case.unlisted.schema == pl.Schema(
        {"file": pl.String, "row": pl.Int64, "column": pl.String, "value": pl.String}
    )
    assert case.unlisted.to_dicts() == [
        {"file": "accounts.csv", "row": 4, "column": "kind", "value": "service"},
        {"file": "badge.csv", "row": 3, "column": "direction", "value": "sideways"},
        {"file": "badge.csv", "row": 3, "column": "result", "value": "tailgated"},
        {"file": "camera.csv", "row": 3, "column": "activity", "value": "use_pc"},
        {"file": "complaints.csv", "row": 4, "column": "category", "value": "sms_scam"},
        {"file": "complaints.csv", "row": 5, "column": "category", "value": "x" * 200},
    ]
    # The rows are accepted, the values kept as enum values are (lower-cased, stripped).
    assert case.complaints["complaint_id"].to_list() == ["C1", "C2", "C3", "C4"]
    assert case.complaints["category"].to_list()[2:] == ["sms_scam", long]
    assert case.camera["activity"].to_list() == ["at_desk", "use_pc"]
    assert case.accounts["kind"].to_list() == ["main", "sub", "service"]
    assert case.badge["result"].to_list() == ["granted", "tailgated"]
    # Only the damaged sighting is set aside, for its timestamp.
    assert [(q["file"], q["row"], q["column"]) for q in case.quarantine.to_dicts()] == [
        ("camera.csv", 4, "start_at")
    ]
    for record in case.inputs:
        assert record.rows == record.accepted + record.quarantined, record.file
    assert (_input(case, "complaints.csv").accepted, _input(case, "camera.csv").accepted) == (4, 2)
    assert "6 unlisted" in repr(case)


def _with(table: str, line: int, column: str, value: str) -> str:
    rows = _rows(table)
    rows[line - 1][rows[0].index(column)] = value
    return csv_text(rows)


_ENDPOINT = (
    "event_id,at,machine_id,kind,device_id,process,sha256,detail\n"
    "E1,2024-04-02 08:01:00,PC-01,usb_connect,USB-1,,,\n"
    "E2,2024-04-02 08:02:00,PC-01,keylogger,,,,\n"
)


@pytest.mark.parametrize(
    ("table", "content", "line", "column"),
    [
        ("access", _with("access", 2, "action", "Download_All"), 2, "action"),
        ("logins", _with("logins", 3, "action", "sudo"), 3, "action"),
        ("endpoint", _ENDPOINT, 3, "kind"),
    ],
)
def test_unlisted_value_of_a_strict_enum_is_quarantined(tmp_path, table, content, line, column):
    case = load(write_case(tmp_path / "case", **{table: content}))
    (line_set_aside,) = _quarantine(case, f"{table}.csv")
    assert (line_set_aside["row"], line_set_aside["column"]) == (line, column)
    assert line_set_aside["reason"].startswith("not one of: ")
    assert line not in case[table][ROW].to_list()
    assert case.unlisted.is_empty()


# ------------------------------------------------------------------ Parquet


def _strings_frame(name: str) -> pl.DataFrame:
    header, *rows = TABLE_ROWS[name]
    return pl.DataFrame(rows, schema=[(c, pl.String) for c in header], orient="row")


def test_parquet_table_equals_csv_table(tmp_path):
    csv_case = load(write_case(tmp_path / "csv"))
    root = write_case(tmp_path / "parquet", orders=None, access=None)
    _strings_frame("orders").write_parquet(root / "orders.parquet")
    typed = _strings_frame("access").with_columns(
        pl.col("at").str.to_datetime("%Y-%m-%d %H:%M:%S"),  # naive: file zone
        # whole floats are accepted as Int64
        pl.when(pl.col("rows") != "").then(pl.col("rows")).cast(pl.Float64),
    )
    typed.write_parquet(root / "access.parquet")
    pq_case = load(root)
    for name in ("orders", "access"):
        expected = csv_case[name].with_columns(pl.col(ROW) - 1)  # record number, not line
        assert pq_case[name].equals(expected), name
    record = _input(pq_case, "orders.parquet")
    assert (record.format, record.encoding, record.rows) == ("parquet", None, 4)
    assert pq_case.source("orders") == "orders.parquet"


def test_parquet_aware_timestamps_and_bad_strings(tmp_path):
    root = write_case(tmp_path / "case", logins=None)
    frame = _strings_frame("logins").with_columns(
        pl.col("at").str.to_datetime("%Y-%m-%d %H:%M:%S").dt.replace_time_zone("Asia/Tokyo")
    )
    frame = frame.with_columns(pl.col("action").replace("logout", "reboot"))
    frame.write_parquet(root / "logins.parquet")
    case = load(root)
    assert case.logins["at"][0] == _utc(2024, 4, 1, 0, 1)  # 09:01 Tokyo
    assert [(q["row"], q["column"]) for q in _quarantine(case, "logins.parquet")] == [(2, "action")]


def test_parquet_typed_cells_are_checked_like_text(tmp_path):
    # Typed Parquet columns are taken as they are, not re-parsed; each check
    # of the contract must still apply to them, one quarantine line per cell.
    root = write_case(tmp_path / "case", access=None)
    at = datetime(2024, 4, 1, 10, 5)
    rows = [
        ("A1", at, "ACC-01", "view_order", 1),
        ("\ufeffA2 ", at, "ACC-01", "PRINT_LABEL", 2),  # stripped; lower-cased
        ("A3", datetime(1970, 1, 1), "ACC-01", "view_order", 3),
        ("A4", None, "ACC-01", "view_order", 4),
        ("A5", at, "ACC-01", "bogus", 5),
        ("A6", at, "ACC-01", "search", -5),
        ("A7", at, "ACC\x0001", "search", None),
        ("A1", at, "ACC-02", "search", None),
        ("A9", at, " ", "search\x00", None),
    ]
    pl.DataFrame(
        rows,
        schema={
            "event_id": pl.String,
            "at": pl.Datetime("us"),
            "account_id": pl.String,
            "action": pl.String,
            "rows": pl.Int32,
        },
        orient="row",
    ).write_parquet(root / "access.parquet")
    case = load(root)
    assert case.access["event_id"].to_list() == ["A1", "A2"]
    assert case.access["action"].to_list() == ["view_order", "print_label"]
    assert case.access["at"][0] == _utc(2024, 4, 1, 2, 5)
    lines = [(q["row"], q["column"], q["reason"][:20]) for q in _quarantine(case, "access.parquet")]
    assert lines == [
        (3, "at", "implausible timestam"),
        (4, "at", "empty value in a req"),
        (5, "action", "not one of: view_ord"),
        (6, "rows", "negative value in a "),
        (7, "account_id", "NUL byte in cell"),
        (8, "event_id", "duplicate event_id o"),
        (9, "account_id", "empty value in a req"),
        (9, "action", "NUL byte in cell"),
    ]
    record = _input(case, "access.parquet")
    assert (record.rows, record.accepted, record.quarantined) == (9, 2, 7)


def test_parquet_changed_while_read_is_a_case_error(tmp_path, monkeypatch):
    # A Parquet file is hashed and scanned in two passes: a file replaced in
    # between must not get the hash of other bytes than those read.
    root = write_case(tmp_path / "case", orders=None)
    _strings_frame("orders").write_parquet(root / "orders.parquet")
    import forensics.case._readers as readers

    real, calls = readers._identity, []

    def identity(path):
        calls.append(path)
        found = real(path)
        return found if len(calls) == 1 else (*found[:-1], found[-1] + 1)

    monkeypatch.setattr(readers, "_identity", identity)
    with pytest.raises(CaseError, match="orders.parquet: changed while it was being read"):
        load(root)


def test_parquet_nested_extra_column_is_kept_as_text(tmp_path):
    root = write_case(tmp_path / "case", apps=None)
    apps = pl.DataFrame(
        {"app_id": ["APP-1", "APP-2"], "account_id": ["ACC-01", None], "tags": [["a", "b"], None]}
    )
    apps.write_parquet(root / "apps.parquet")
    case = load(root)
    assert case.apps["tags"].to_list() == ['["a","b"]', None]
    assert case.apps.columns[-1] == "tags"


def test_unreadable_parquet_is_a_case_error(tmp_path):
    root = write_case(tmp_path / "case", orders=None)
    (root / "orders.parquet").write_bytes(b"PAR1 this is not parquet")
    with pytest.raises(CaseError, match="orders.parquet"):
        load(root)


# ---------------------------------------------------------------- custody


def _messy_case(root: Path) -> Path:
    orders = _rows("orders")
    orders[2][2] = "soon"
    orders.append(list(orders[1]))
    access = csv_text(_rows("access")) + "A9,broken\n\n"
    access += "A10,2024-04-03 01:00:00,ACC-X,PC-01,,search,,,,\n"
    return write_case(root, orders=csv_text(orders), access=access, camera=b"")


def test_rows_read_equal_accepted_plus_quarantined_for_every_file(tmp_path):
    case = load(_messy_case(tmp_path / "case"))
    assert not case.quarantine.is_empty()
    for record in case.inputs:
        if record.table is None:
            continue
        set_aside = case.quarantine.filter(pl.col("file") == record.file)["row"].n_unique()
        assert record.rows == record.accepted + record.quarantined, record.file
        assert record.quarantined == set_aside, record.file
        assert record.accepted == case[record.table].height, record.file


def test_inputs_hashes_match_hashlib_and_are_sorted(tmp_path):
    root = _messy_case(tmp_path / "case")
    case = load(root)
    files = [f.file for f in case.inputs]
    assert files == sorted(files)
    assert "case.toml" in files and "camera.csv" in files
    for record in case.inputs:
        data = (root / record.file).read_bytes()
        assert record.sha256 == hashlib.sha256(data).hexdigest()
        assert record.size == len(data)
    toml = _input(case, "case.toml")
    assert (toml.table, toml.format, toml.rows) == (None, "toml", 0)


def test_load_never_touches_the_case_folder(tmp_path):
    root = _messy_case(tmp_path / "case")
    pl.DataFrame({"x": ["1"]}).write_parquet(root / "apps.parquet")
    before = snapshot(root)
    with pytest.raises(CaseError, match="apps.parquet: missing required column"):
        load(root)  # fails after reading the other files
    assert snapshot(root) == before
    (root / "apps.parquet").unlink()
    before = snapshot(root)
    load(root, progress=True)
    assert snapshot(root) == before
    assert sorted(p.name for p in root.iterdir()) == sorted(before)


def test_case_is_immutable(tmp_path):
    case = load(write_case(tmp_path / "case"))
    with pytest.raises(dataclasses.FrozenInstanceError):
        case.meta = None
    with pytest.raises(TypeError):
        case.tables["orders"] = pl.DataFrame()
    with pytest.raises(dataclasses.FrozenInstanceError):
        case.inputs[0].rows = 7


def test_verify_detects_modified_and_missing_files(tmp_path):
    root = write_case(tmp_path / "case")
    case = load(root)
    assert case.verify() == []
    with open(root / "orders.csv", "ab") as fh:
        fh.write(b"O1005,B5,2024-04-03 10:00:00,paid,1,,,\n")
    (root / "machines.csv").unlink()
    assert case.verify() == ["machines.csv", "orders.csv"]


# ------------------------------------------------------------ [files] path


def test_files_path_inside_folder_is_read(tmp_path):
    root = write_case(tmp_path / "case", orders=None)
    (root / "exports").mkdir()
    (root / "exports" / "orders_2024.csv").write_text(table_text("orders"))
    toml = CASE_TOML + '[files.orders]\npath = "exports/orders_2024.csv"\n'
    (root / "case.toml").write_text(toml)
    case = load(root)
    assert case.source("orders") == "exports/orders_2024.csv"
    assert case.orders.height == 4


@pytest.mark.parametrize("path", ["../orders.csv", "/etc/orders.csv", "a/../../orders.csv"])
def test_files_path_may_not_leave_the_folder(tmp_path, path):
    toml = CASE_TOML + f'[files.orders]\npath = "{path}"\n'
    with pytest.raises(CaseError, match="inside the case folder"):
        load(write_case(tmp_path / "case", toml=toml))


def test_a_denied_badge_is_not_presence_inside(tmp_path):
    """A badge the door refused opened nothing: it shows as an attempt on the
    timeline and is not presence before the shift; a granted one is."""
    from forensics.analysis.clock import estimate_offsets
    from forensics.analysis.exposure import exposure_events, order_index
    from forensics.analysis.indicators import indicators
    from forensics.analysis.sessions import sessionize
    from forensics.analysis.timeline import timeline as build_timeline

    badge = csv_text(
        [
            ["at", "person_id", "badge_id", "door", "direction", "result"],
            ["2024-04-03 05:30:00", "P02", "B-02", "main", "in", "granted"],
            ["2024-04-03 05:40:00", "P01", "B-01", "main", "in", "denied"],
        ]
    )
    case = load(write_case(tmp_path / "case", badge=badge))
    tl = build_timeline(case, estimate_offsets(case))
    rows = tl.filter(pl.col("table") == "badge").sort("row")
    assert rows["action"].to_list() == ["in", "denied"]
    events = exposure_events(case, sessionize(case), order_index(case))
    found = indicators(case, tl, events).filter(pl.col("indicator") == "off_hours")
    assert found["person_id"].to_list() == ["P02"]
