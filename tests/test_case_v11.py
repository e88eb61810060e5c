"""CASE_FORMAT 1.1 in the loader: endpoint user/provenance, new kinds, os_users,
the derived USB device key; and two hostile inputs (UTF-8 declared GB18030,
markup in findings.json)."""

from __future__ import annotations

import json

import polars as pl
import pytest
from casefiles import CASE_TOML, TABLE_ROWS, csv_text, write_case

from forensics.case import CaseError, load
from forensics.case.schema import ENDPOINT_KINDS, TABLES
from forensics.privacy import json_embeddable

ENDPOINT = [
    ["event_id", "at", "machine_id", "kind", "device_id", "user", "source_file", "source_record"],
    ["E1", "2024-04-04T07:12:31+08:00", "PC-01", "usb_connect", "4C530001", "SHOP\\li", "a", "7"],
    ["E2", "2024-04-04T07:13:00+08:00", "PC-01", "usb_connect", "", "SHOP\\li", "a", "8"],
    ["E3", "2024-04-04T07:14:00+08:00", "PC-02", "usb_disconnect", "", "", "a", "9"],
    ["E4", "2024-04-04T07:15:00+08:00", "PC-01", "logoff", "", "SHOP\\li", "a", "10"],
    ["E5", "2024-04-04T07:16:00+08:00", "PC-01", "login_failed", "", "SHOP\\x", "a", "11"],
    ["E6", "2024-04-04T07:17:00+08:00", "PC-01", "file_create", "", "", "", ""],
    ["E7", "2024-04-04T07:18:00+08:00", "PC-01", "network", "", "", "", ""],
    ["E8", "2024-04-04T07:19:00+08:00", "PC-01", "other", "", "", "", ""],
]


def test_v11_endpoint_columns_and_kinds_load(tmp_path):
    case = load(write_case(tmp_path / "c", endpoint=csv_text(ENDPOINT)))
    ep = case.endpoint
    assert case.quarantine.filter(pl.col("file") == "endpoint.csv").height == 0
    assert ep["kind"].to_list() == [r[3] for r in ENDPOINT[1:]]
    assert ep["user"][0] == "SHOP\\li"
    assert ep["source_record"].dtype == pl.Int64 and ep["source_record"][0] == 7
    assert {"logoff", "login_failed", "file_create", "network", "other"} <= set(ENDPOINT_KINDS)


def test_usb_without_serial_gets_one_derived_key(tmp_path):
    ep = load(write_case(tmp_path / "c", endpoint=csv_text(ENDPOINT))).endpoint
    keys = ep["device_key"].to_list()
    assert keys[0] == "4C530001"  # a serial names the device
    # no serial: the drive on this machine, by this user, at this time (UTC)
    assert keys[1] == "unidentified drive on PC-01 by SHOP\\li at 2024-04-03T23:13:00Z"
    assert keys[2] == "unidentified drive on PC-02 by ? at 2024-04-03T23:14:00Z"
    assert keys[3:] == [None] * 5  # not a USB event


def test_a_file_column_named_device_key_is_kept_aside(tmp_path):
    rows = [r + [v] for r, v in zip(ENDPOINT[:3], ["device_key", "mine", "mine"], strict=False)]
    ep = load(write_case(tmp_path / "c", endpoint=csv_text(rows))).endpoint
    assert ep["device_key"][0] == "4C530001"  # derived, not the file's "mine"
    assert ep["device_key"][1].startswith("unidentified drive on PC-01")
    assert ep["device_key_in_file"].to_list() == ["mine", "mine"]


def test_v1_endpoint_without_new_columns_still_loads(tmp_path):
    case = load(write_case(tmp_path / "c"))
    assert case.endpoint.schema == TABLES["endpoint"].polars_schema
    assert TABLES["endpoint"].names_in("1") == (
        "event_id", "at", "machine_id", "kind", "device_id", "process", "sha256", "detail",
    )  # fmt: skip


def test_os_users_is_a_list_column(tmp_path):
    staff = [list(r) for r in TABLE_ROWS["staff"]]
    staff[0].append("os_users")
    staff[1].append("SHOP\\li.wei; liwei ;")
    staff[2].append("")
    staff[3].append("SHOP\\zhang")
    case = load(write_case(tmp_path / "c", staff=csv_text(staff)))
    assert case.staff["os_users"].dtype == pl.List(pl.String)
    assert case.staff["os_users"].to_list() == [["SHOP\\li.wei", "liwei"], None, ["SHOP\\zhang"]]


def test_gb18030_declared_but_utf8_stops_with_line_and_encoding(tmp_path):
    orders = [list(r) for r in TABLE_ROWS["orders"]]
    orders[2][5] = "王艳颖"  # line 3 is the first with non-ASCII text
    toml = CASE_TOML + '[files.orders]\nencoding = "gb18030"\n'
    with pytest.raises(CaseError) as err:
        load(write_case(tmp_path / "c", toml=toml, orders=csv_text(orders).encode("utf-8")))
    assert (err.value.file, err.value.row) == ("orders.csv", 3)
    assert "declared gb18030" in str(err.value) and "UTF-8" in str(err.value)


def test_real_gb18030_still_loads(tmp_path):
    orders = [list(r) for r in TABLE_ROWS["orders"]]
    orders[2][5] = "王艳颖"
    toml = CASE_TOML + '[files.orders]\nencoding = "gb18030"\n'
    case = load(write_case(tmp_path / "c", toml=toml, orders=csv_text(orders).encode("gb18030")))
    assert "王艳颖" in case.orders["buyer_name"].to_list()


def test_json_embeddable_escapes_markup_and_keeps_the_value():
    text = json.dumps({"s": "</script><!-- a & b -->", "n": 1}, ensure_ascii=False)
    safe = json_embeddable(text)
    assert "<" not in safe and ">" not in safe and "&" not in safe
    assert "\\u003c/script\\u003e" in safe and "\\u0026" in safe
    assert json.loads(safe) == json.loads(text)


def test_findings_json_escapes_markup():
    from pathlib import Path

    from forensics.investigate import investigate

    case = Path(__file__).parents[1] / "datasets" / "april-trojan"
    out = investigate(load(case, personal=False)).to_json()
    # the USB serials cited as evidence hold "&" (USBSTOR\Disk&Ven_...)
    assert "\\u0026" in out
    assert "<" not in out and ">" not in out and "&" not in out


def test_endpoint_user_is_tied_to_the_person_listing_it(tmp_path):
    staff = [list(r) for r in TABLE_ROWS["staff"]]
    staff[0].append("os_users")
    staff[1].append("SHOP\\li")  # P01: this domain's li only
    staff[2].append("x; shared")  # P02: any domain's x
    staff[3].append("shared")  # P03 also lists "shared": ambiguous, ties to nobody
    rows = ENDPOINT[:1] + [
        ["F1", "2024-04-04T07:00:00+08:00", "PC-01", "logon", "", "shop\\LI", "", ""],
        ["F2", "2024-04-04T07:01:00+08:00", "PC-01", "logon", "", "OTHER\\li", "", ""],
        ["F3", "2024-04-04T07:02:00+08:00", "PC-01", "logon", "", "PC-01\\x", "", ""],
        ["F4", "2024-04-04T07:03:00+08:00", "PC-01", "logon", "", "shared", "", ""],
        ["F5", "2024-04-04T07:04:00+08:00", "PC-01", "logon", "", "", "", ""],
    ]
    ep = load(write_case(tmp_path / "c", staff=csv_text(staff), endpoint=csv_text(rows))).endpoint
    assert ep["user_person_id"].to_list() == ["P01", None, "P02", None, None]
