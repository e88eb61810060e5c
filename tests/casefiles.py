"""Crafted case folders for the loader tests, and bundled cases changed in a copy.

:func:`write_case` writes a small, valid case (case.toml plus every required
table, a few consistent rows each); a test then breaks exactly one thing,
by passing a table's text (or bytes) or ``None`` to leave the file out.
:func:`copy_dataset`, :func:`read_rows` and :func:`write_rows` change a
bundled case the way another generator would, in a copy (evidence is never
edited in place).
"""

from __future__ import annotations

import csv
import hashlib
import io
import shutil
from pathlib import Path

__all__ = [
    "CASE_TOML",
    "TABLE_ROWS",
    "csv_text",
    "table_text",
    "write_case",
    "snapshot",
    "DATASETS",
    "copy_dataset",
    "read_rows",
    "write_rows",
]

DATASETS = Path(__file__).resolve().parent.parent / "datasets"

CASE_TOML = """\
[case]
id = "TEST-0001"
title = "Crafted case"
timezone = "Asia/Shanghai"
opened_at = "2024-04-12T10:00:00"

[business_hours]
start = "09:00"
end = "18:00"
weekdays = [1, 2, 3, 4, 5, 6]
"""

# Header first, then data rows; line N of the file is TABLE_ROWS[t][N - 1].
TABLE_ROWS: dict[str, list[list[str]]] = {
    "staff": [
        [
            "person_id",
            "name",
            "role",
            "hired_on",
            "left_on",
            "shift_start",
            "shift_end",
            "desk_machine_id",
        ],
        ["P01", "Li Wei", "customer_service", "2023-01-05", "", "09:00", "18:00", "PC-01"],
        ["P02", "Wang Fang", "warehouse", "2022-06-01", "", "08:00", "17:00", "PC-02"],
        ["P03", "Zhang Min", "manager", "2021-03-15", "", "", "", ""],
    ],
    "accounts": [
        ["account_id", "owner_person_id", "kind", "can_export", "created_at", "disabled_at"],
        ["ACC-MAIN", "P03", "main", "true", "2021-03-15 09:00:00", ""],
        ["ACC-01", "P01", "sub", "false", "2023-01-05 10:00:00", ""],
        ["ACC-02", "P02", "sub", "false", "2022-06-01 10:00:00", ""],
    ],
    "machines": [
        ["machine_id", "location", "assigned_person_id", "camera_id"],
        ["PC-01", "front desk", "P01", "CAM-01"],
        ["PC-02", "warehouse", "P02", "CAM-02"],
    ],
    "orders": [
        [
            "order_id",
            "buyer_id",
            "placed_at",
            "status",
            "amount",
            "buyer_name",
            "phone",
            "address",
        ],
        [
            "O1001",
            "B1",
            "2024-04-01 10:00:00",
            "shipped",
            "59.90",
            "Chen Jie",
            "13800000001",
            "Rd 1",
        ],
        ["O1002", "B2", "2024-04-01 11:30:00", "shipped", "120", "Liu Yang", "13800000002", "Rd 2"],
        ["O1003", "B3", "2024-04-02 09:15:00", "paid", "8.5", "Zhao Lei", "13800000003", "Rd 3"],
        ["O1004", "B4", "2024-04-02 14:45:00", "paid", "300", "Sun Li", "13800000004", "Rd 4"],
    ],
    "complaints": [
        [
            "complaint_id",
            "buyer_id",
            "order_id",
            "received_at",
            "category",
            "text",
            "contacted_at",
            "quoted_fields",
        ],
        [
            "C1",
            "B1",
            "O1001",
            "2024-04-08 12:00:00",
            "scam_call",
            "He knew my name, phone",
            "2024-04-07 15:00:00",
            "name;phone",
        ],
        ["C2", "B2", "", "2024-04-09 09:30:00", "phishing_link", "got a link", "", ""],
    ],
    "logins": [
        ["event_id", "at", "account_id", "machine_id", "ip", "action", "session_id"],
        ["L1", "2024-04-01 09:01:00", "ACC-01", "PC-01", "10.0.0.11", "login", "S1"],
        ["L2", "2024-04-01 18:02:00", "ACC-01", "PC-01", "10.0.0.11", "logout", "S1"],
        ["L3", "2024-04-02 08:05:00", "ACC-02", "PC-02", "10.0.0.12", "login", "S2"],
    ],
    "access": [
        [
            "event_id",
            "at",
            "account_id",
            "machine_id",
            "ip",
            "action",
            "order_id",
            "range_start",
            "range_end",
            "rows",
        ],
        ["A1", "2024-04-01 10:05:00", "ACC-01", "PC-01", "10.0.0.11", "view_order", "O1001"]
        + ["", "", ""],
        ["A2", "2024-04-02 08:10:00", "ACC-02", "PC-02", "10.0.0.12", "print_label", "O1002"]
        + ["", "", ""],
        ["A3", "2024-04-02 09:00:00", "ACC-MAIN", "", "203.0.113.5", "export_orders", ""]
        + ["2024-04-01 00:00:00", "2024-04-02 00:00:00", "3"],
    ],
}


def csv_text(rows: list[list[str]]) -> str:
    """Rows (header first) as CSV text with ``\\n`` line ends."""
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    return out.getvalue()


def table_text(name: str) -> str:
    """The default CSV text of table ``name``."""
    return csv_text(TABLE_ROWS[name])


def write_case(
    root: Path,
    *,
    toml: str | None = CASE_TOML,
    **tables: str | bytes | None,
) -> Path:
    """Write a valid crafted case into ``root`` (created) and return it.

    Parameters
    ----------
    root : Path
        The case folder to create.
    toml : str or None
        Text of case.toml; None leaves it out.
    **tables
        Table name -> its file content (``str`` is written as UTF-8,
        ``bytes`` as is), or None to leave the file out. Names ending in
        ``_parquet`` are not special: write Parquet files yourself.
    """
    root.mkdir(parents=True, exist_ok=True)
    if toml is not None:
        (root / "case.toml").write_text(toml, encoding="utf-8")
    contents: dict[str, str | bytes | None] = {n: table_text(n) for n in TABLE_ROWS}
    contents.update(tables)
    for name, content in contents.items():
        path = root / f"{name}.csv"
        if content is None:
            continue
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_bytes(content.encode("utf-8"))
    return root


def snapshot(root: Path) -> dict[str, tuple[str, int, int]]:
    """sha256, size and mtime_ns of every file under ``root``."""
    out = {}
    for path in sorted(root.rglob("*")):
        if path.is_file():
            stat = path.stat()
            sha = hashlib.sha256(path.read_bytes()).hexdigest()
            out[path.relative_to(root).as_posix()] = (sha, stat.st_size, stat.st_mtime_ns)
    return out


def copy_dataset(name: str, tmp_path: Path) -> Path:
    """A copy of the bundled case ``datasets/<name>`` under ``tmp_path``."""
    dst = tmp_path / name
    shutil.copytree(DATASETS / name, dst)
    return dst


def read_rows(path: Path, encoding: str = "utf-8-sig") -> tuple[list[str], list[dict]]:
    """The header and the rows (as dicts) of a CSV table."""
    with path.open(encoding=encoding, newline="") as f:
        reader = csv.DictReader(f)
        return list(reader.fieldnames or []), list(reader)


def write_rows(path: Path, fields: list[str], rows: list[dict]) -> None:
    """Write a CSV table (UTF-8, header first)."""
    with path.open("w", encoding="utf-8", newline="") as f:
        w = csv.DictWriter(f, fieldnames=fields)
        w.writeheader()
        w.writerows(rows)
