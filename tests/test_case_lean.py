"""How a loaded case holds its largest columns (issue 19): the access log's
ids coded, its order ids as rows of orders, withheld personal data never
held, typed Parquet columns kept as read — and none of it visible in what
the case gives back or sets aside."""

from __future__ import annotations

from datetime import UTC, datetime

import polars as pl
import pytest
from casefiles import TABLE_ROWS, csv_text, write_case

from forensics.case import CaseError, as_text, load, typed_like
from forensics.case._readers import read_parquet
from forensics.case.schema import ROW, TABLES

CODED = ("account_id", "machine_id", "ip", "action")


def _access_rows(*extra: list[str]) -> list[list[str]]:
    return [list(r) for r in TABLE_ROWS["access"]] + [list(r) for r in extra]


def _quarantine(case, file: str) -> list[tuple]:
    rows = case.quarantine.filter(pl.col("file") == file)
    return rows.select("row", "column", "reason").rows()


# ------------------------------------------------------------- order ids


def test_access_order_ids_come_back_cell_for_cell(tmp_path):
    extra = [
        ["A4", "2024-04-03 02:00:00", "ACC-01", "PC-01", "", "view_order", "O9999", "", "", ""],
        ["A5", "2024-04-03 02:01:00", "ACC-01", "PC-01", "", "view_order", " O1003 ", "", "", ""],
        ["A6", "2024-04-03 02:02:00", "ACC-02", "PC-02", "", "view_order", "O1001", "", "", ""],
    ]
    case = load(write_case(tmp_path / "case", access=csv_text(_access_rows(*extra))))
    # O9999 names no order: kept as it was; an empty cell stays empty.
    assert case.access["order_id"].to_list() == [
        "O1001",
        "O1002",
        None,
        "O9999",
        "O1003",
        "O1001",
    ]
    assert case.access.columns[: len(TABLE_ROWS["access"][0]) + 1] == [ROW] + list(
        TABLE_ROWS["access"][0]
    )
    assert "order_id" not in case.access_lean.columns
    assert case.access_lean.equals(case.access.drop("order_id"))
    assert case.tables["access"].equals(case.access) and case["access"].equals(case.access)
    for keep in (
        pl.col("account_id") == "ACC-01",
        pl.col("action") == "export_orders",
        pl.col("event_id").is_in(["A4", "A6"]),
        pl.lit(False),
    ):
        assert case.access_where(keep).equals(case.access.filter(keep)), keep
    with pytest.raises(TypeError):
        case.tables["access"] = case.access  # still read-only
    assert case.unregistered.filter(pl.col("column") == "order_id")["value"].to_list() == ["O9999"]


# ----------------------------------------------------------- coded columns


def test_access_ids_are_coded_in_csv_and_parquet_alike(tmp_path):
    csv_case = load(write_case(tmp_path / "csv"))
    root = write_case(tmp_path / "pq", access=None)
    header, *rows = TABLE_ROWS["access"]
    pl.DataFrame(rows, schema=[(c, pl.String) for c in header], orient="row").write_parquet(
        root / "access.parquet"
    )
    pq_case = load(root)
    for case in (csv_case, pq_case):
        assert all(case.access.schema[c] == pl.Categorical for c in CODED)
        assert case.logins.schema["account_id"] == pl.String  # other tables keep text
        assert case.orders.schema["status"] == pl.Categorical  # a few values over every order
    assert pq_case.access.equals(csv_case.access.with_columns(pl.col(ROW) - 1))
    # Joined with text ids of another table through the two helpers.
    owners = csv_case.accounts.select("account_id", "owner_person_id")
    joined = csv_case.access.join(
        typed_like(owners, csv_case.access, "account_id"), on="account_id"
    )
    assert joined.height == 3 and joined.schema["account_id"] == pl.Categorical
    text = as_text(csv_case.access)
    assert all(text.schema[c] == pl.String for c in CODED)
    assert text.join(owners, on="account_id").height == 3


def test_coded_parquet_cells_are_stripped_and_checked(tmp_path):
    root = write_case(tmp_path / "case", access=None)
    at = datetime(2024, 4, 1, 10, 5)
    rows = [
        ("A1", at, " ACC-01\ufeff", "PC-01 ", "view_order"),  # stripped
        ("A2", at, "ACC-02", "PC-02", " Export_Orders"),  # stripped, lower-cased
        ("A3", at, "ACC-01", "PC-\x0001", "view_order"),  # NUL: set aside
        ("A4", at, "", "PC-01", "view_order"),  # empty required id: set aside
    ]
    pl.DataFrame(
        rows,
        schema=["event_id", "at", "account_id", "machine_id", "action"],
        orient="row",
    ).write_parquet(root / "access.parquet")
    case = load(root)
    assert case.access["account_id"].cast(pl.String).to_list() == ["ACC-01", "ACC-02"]
    assert case.access["machine_id"].cast(pl.String).to_list() == ["PC-01", "PC-02"]
    assert case.access["action"].cast(pl.String).to_list() == ["view_order", "export_orders"]
    assert case.access.schema["account_id"] == pl.Categorical
    assert _quarantine(case, "access.parquet") == [
        (3, "machine_id", "NUL byte in cell"),
        (4, "account_id", "empty value in a required column"),
    ]


# ------------------------------------------------------ typed Parquet cells


def test_typed_parquet_columns_kept_as_read_are_still_checked(tmp_path):
    root = write_case(tmp_path / "case", access=None)
    at = datetime(2024, 4, 1, 2, 5, tzinfo=UTC)
    rows = [
        ("A1", at, "ACC-01", "view_order", 4),
        ("A2", datetime(1970, 1, 1, tzinfo=UTC), "ACC-01", "view_order", 1),
        ("A3", at, "ACC-01", "view_order", -2),
        ("A4", None, "ACC-01", "view_order", None),
    ]
    pl.DataFrame(
        rows,
        schema={
            "event_id": pl.String,
            "at": pl.Datetime("us", "UTC"),
            "account_id": pl.String,
            "action": pl.String,
            "rows": pl.Int64,
        },
        orient="row",
    ).write_parquet(root / "access.parquet")
    case = load(root)
    assert case.access["event_id"].to_list() == ["A1"]
    assert case.access["at"].to_list() == [at] and case.access["rows"].to_list() == [4]
    assert case.access.schema[ROW] == pl.Int64 and case.access[ROW].to_list() == [1]
    reasons = [(r, c, why[:22]) for r, c, why in _quarantine(case, "access.parquet")]
    assert reasons == [
        (2, "at", "implausible timestamp:"),
        (3, "rows", "negative value in a co"),
        (4, "at", "empty value in a requi"),
    ]


# ---------------------------------------------------- withheld personal data


def _orders_parquet(folder, rows):
    header = TABLE_ROWS["orders"][0]
    pl.DataFrame(rows, schema=[(c, pl.String) for c in header], orient="row").write_parquet(
        folder / "orders.parquet"
    )


def test_clean_withheld_columns_are_not_read(tmp_path):
    folder = write_case(tmp_path / "case", orders=None)
    _orders_parquet(folder, [list(r) for r in TABLE_ROWS["orders"][1:]])
    raw = read_parquet(
        folder / "orders.parquet",
        "orders.parquet",
        omit=lambda header: {"buyer_name", "phone", "address"} & set(header),
    )
    assert raw.omitted == {"buyer_name", "phone", "address"}
    assert not {"buyer_name", "phone", "address"} & set(raw.frame.collect_schema().names())
    held, withheld = load(folder), load(folder, personal=False)
    assert withheld.orders.equals(held.orders.drop("buyer_name", "phone", "address"))
    assert withheld.quarantine.equals(held.quarantine) and withheld.inputs == held.inputs


def test_padded_withheld_cells_do_not_make_a_column_read(tmp_path):
    # Stripping changes only the value, which is not kept: no row can be set
    # aside by a padded or blank name, phone or address.
    rows = [list(r) for r in TABLE_ROWS["orders"][1:]]
    rows[0][5], rows[1][6], rows[2][7] = " Wang Li ", "\u3000", "Rd 1\ufeff"
    folder = write_case(tmp_path / "case", orders=None)
    _orders_parquet(folder, rows)
    raw = read_parquet(
        folder / "orders.parquet",
        "orders.parquet",
        omit=lambda header: {"buyer_name", "phone", "address"} & set(header),
    )
    assert raw.omitted == {"buyer_name", "phone", "address"}
    held, withheld = load(folder), load(folder, personal=False)
    assert withheld.orders.equals(held.orders.drop("buyer_name", "phone", "address"))
    assert withheld.quarantine.equals(held.quarantine)
    assert held.orders["buyer_name"][0] == "Wang Li" and held.orders["phone"][1] is None


@pytest.mark.parametrize(
    "change",
    [
        "address",  # a repeated key, rows differing only in withheld data
        "nothing",  # an exact copy
        "padded",  # a withheld cell to strip, and a copy: read whole
        "nul",  # a withheld cell holding NUL: its row is set aside
    ],
)
def test_withheld_columns_read_when_they_could_matter(tmp_path, change):
    rows = [list(r) for r in TABLE_ROWS["orders"][1:]]
    copy = list(rows[2])
    if change == "address":
        copy[7] = "Rd 99"
    rows.append(copy)
    if change == "padded":
        rows[0][6] = " 13800000001 "
    if change == "nul":
        rows.pop()
        rows[1][5] = "Wang\x00Li"
    folder = write_case(tmp_path / "case", orders=None)
    _orders_parquet(folder, rows)
    held, withheld = load(folder), load(folder, personal=False)
    assert withheld.quarantine.equals(held.quarantine)
    assert withheld.orders.equals(held.orders.drop("buyer_name", "phone", "address"))
    expected = {
        "address": [(5, "order_id", "duplicate order_id of line 3 with different content")],
        "nothing": [(5, "order_id", "duplicate row of line 3")],
        "padded": [(5, "order_id", "duplicate row of line 3")],
        "nul": [(2, "buyer_name", "NUL byte in cell")],
    }[change]
    assert _quarantine(withheld, "orders.parquet") == expected


# ------------------------------------------------------- tables loaded together


def test_the_error_reported_is_the_first_file_in_contract_order(tmp_path):
    # Tables load two at a time, largest first; which failed first must not
    # change what the investigator is told.
    bad = "nothing,useful\n1,2\n"
    padding = "x" * 100_000  # access the largest file: it starts loading first
    folder = write_case(tmp_path / "case", staff=bad, access=bad + f"3,{padding}\n")
    for _ in range(3):
        with pytest.raises(CaseError, match=r"^staff\.csv: missing required column"):
            load(folder)


def test_every_table_is_loaded_once_and_in_contract_order(tmp_path):
    folder = write_case(tmp_path / "case")
    case = load(folder, progress=True)
    assert list(case.tables)[: len(case.present)] == [t for t in TABLES if t in case.present]
    assert [r.file for r in case.inputs] == sorted(r.file for r in case.inputs)
    assert len({r.file for r in case.inputs}) == len(case.inputs)
