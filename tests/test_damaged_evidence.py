"""A corpus of broken evidence: every damage is a located CaseError or a
counted quarantine, never a traceback, and the investigation still runs on
what is usable (issue 6).

The corpus is built by code, one damaged file per entry, on top of the
crafted case of :mod:`casefiles`; the last tests damage a generated case
the way shops' exports really break and investigate it.
"""

from __future__ import annotations

import csv
import io
import json
import random
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pytest
from casefiles import CASE_TOML, TABLE_ROWS, csv_text, table_text, write_case

import forensics
from forensics.case import Case, CaseError, load
from forensics.case.schema import ROW
from forensics.synth import generate


def _rows(name: str, *extra: list[str]) -> list[list[str]]:
    return [list(r) for r in TABLE_ROWS[name]] + [list(r) for r in extra]


def _accounting(case: Case) -> None:
    """rows read = accepted + quarantined, for every file, and the frames agree."""
    for f in case.inputs:
        if f.table is None:
            continue
        lines = case.quarantine.filter(pl.col("file") == f.file)
        assert f.rows == f.accepted + f.quarantined, f.file
        assert f.quarantined == lines["row"].n_unique(), f.file
        assert f.accepted == case[f.table].height, f.file
        assert not set(lines["row"].to_list()) & set(case[f.table][ROW].to_list()), f.file


# ------------------------------------------------------------------ corpus


@dataclass(frozen=True)
class Damage:
    """One damaged file and what loading it must give."""

    table: str
    content: str | bytes
    quarantined: tuple[tuple[int, str], ...] = ()  # (line, start of reason)
    rows: int | None = None  # records read, when it matters
    toml: str = CASE_TOML


_CHINESE = ["陈杰", "刘洋", "赵磊", "孙丽"]


def _complaints_ending_in_text(cut: int) -> bytes:
    """Complaints whose last column is Chinese text, cut ``cut`` bytes short."""
    text = (
        "complaint_id,buyer_id,order_id,received_at,category,text\n"
        "C1,B1,O1001,2024-04-08 12:00:00,scam_call,他知道我的名字\n"
        "C2,B2,,2024-04-09 09:30:00,phishing_link,收到一个链接\n"
    ).encode()
    return text[: len(text) - 1 - cut]  # drop the newline, then ``cut`` bytes


def _gb18030_line_in_utf8() -> bytes:
    rows = _rows("staff")
    rows[1][1], rows[2][1] = "李伟", "王芳"  # UTF-8 names: the file is UTF-8
    head = csv_text(rows).encode("utf-8")
    return head + "P04,张敏,warehouse,,,,,\n".encode("gb18030") + b"P05,Zhou,it,,,,,\n"


def _timestamps(*values: str) -> str:
    rows = _rows("logins")
    for i, value in enumerate(values):
        rows.append([f"L{10 + i}", value, "ACC-01", "PC-01", "", "login", ""])
    return csv_text(rows)


_BIG = "x" * 1_048_576

CORPUS: dict[str, Damage] = {
    "truncated last line": Damage(
        "orders", table_text("orders")[:-25], quarantined=((5, "expected 8 fields, found 5"),)
    ),
    "truncated inside a quoted field": Damage(
        "complaints",
        table_text("complaints") + 'C3,B3,,2024-04-10 10:00:00,other,"he said\nand then',
        quarantined=((4, "expected 8 fields, found 6"),),
    ),
    "truncated inside a multi-byte character": Damage(
        "complaints",
        _complaints_ending_in_text(cut=1),
        quarantined=((3, "the file ends inside a multi-byte character"),),
    ),
    "GB18030 line inside a UTF-8 file": Damage(
        "staff",
        _gb18030_line_in_utf8(),
        quarantined=((5, "not valid UTF-8; looks like GB18030"),),
        rows=5,
    ),
    "BOM twice (concatenated exports)": Damage(
        "machines", b"\xef\xbb\xbf\xef\xbb\xbf" + table_text("machines").encode()
    ),
    "BOM inside the file": Damage(
        "machines", (table_text("machines") + "\ufeffPC-03,lab,,\n").encode("utf-8"), rows=3
    ),
    "CRLF line endings": Damage("machines", table_text("machines").replace("\n", "\r\n")),
    "mixed and lone-CR line endings": Damage(
        "machines", "machine_id,location,assigned_person_id,camera_id\r\nPC-01,a,P01,\rPC-02,b,,\n"
    ),
    "spreadsheet day/month timestamp": Damage(
        "logins",
        _timestamps("4/4/2024 7:12", "04/04/2024 07:12:31 PM"),
        quarantined=(
            (5, "not a valid timestamp: a spreadsheet date"),
            (6, "not a valid timestamp: a spreadsheet date"),
        ),
    ),
    "spreadsheet serial number": Damage(
        "logins",
        _timestamps("45386.3", "45386"),
        quarantined=(
            (5, "not a valid timestamp: a spreadsheet serial number"),
            (6, "not a valid timestamp: a spreadsheet serial number"),
        ),
    ),
    "Unix time": Damage(
        "logins",
        _timestamps("1712185951"),
        quarantined=((5, "not a valid timestamp: a bare number"),),
    ),
    "mixed timestamp forms and offsets in one column": Damage(
        "logins",
        _timestamps(
            "2024/4/4 7:12:31",
            "2024-04-04T07:12:31+08:00",
            "2024-04-03T23:12:31Z",
            "2024.04.04 07:12",
            "2024-04-04 07:12:31.250000",
        ),
        rows=8,
    ),
    "timestamps decades off": Damage(
        "logins",
        _timestamps("1970-01-01 00:00:00", "2099-12-31 23:59:59", "1900-01-01"),
        quarantined=(
            (5, "implausible timestamp: more than 30 years before"),
            (6, "implausible timestamp: more than 30 years after"),
            (7, "implausible timestamp: more than 30 years before"),
        ),
    ),
    "negative amount and row count, NaN amount": Damage(
        "orders",
        table_text("orders")
        + "O1005,B5,2024-04-03 10:00:00,paid,-5,,,\nO1006,B6,2024-04-03 11:00:00,paid,nan,,,\n",
        quarantined=((6, "negative value"), (7, "not a valid number")),
    ),
    "negative rows in an export": Damage(
        "access",
        csv_text(
            _rows(
                "access",
                [
                    "A4",
                    "2024-04-03 09:00:00",
                    "ACC-MAIN",
                    "",
                    "",
                    "export_orders",
                    "",
                    "",
                    "",
                    "-5",
                ],
            )
        ),
        quarantined=((5, "negative value"),),
    ),
    "NUL bytes in a cell and in an extra column": Damage(
        "machines",
        b"machine_id,location,assigned_person_id,camera_id,memo\n"
        b"PC-01,front\x00desk,P01,,\nPC-02,back,,,\x00\x00\n",
        quarantined=((2, "NUL byte in cell"), (3, "NUL byte in cell")),
    ),
    "a 1 MB text field": Damage(
        "complaints",
        table_text("complaints") + f"C3,B3,,2024-04-10 10:00:00,other,{_BIG},,\n"
        "C4,B4,,2024-04-10 11:00:00,other,after the big one,,\n",
        quarantined=((4, "a field of 1048576 characters (more than 131072) on line 4"),),
        rows=4,
    ),
    "an unbalanced quote swallowing the rest of the file": Damage(
        "complaints",
        table_text("complaints")
        + 'C3,B3,,2024-04-10 10:00:00,other,"oops\n'
        + "".join(f"C{i},B{i},,2024-04-10 10:00:00,other,text {i},,\n" for i in range(5, 20_000)),
        quarantined=((4, "a field of"),),
        rows=3,
    ),
    "cells with newlines, commas and quotes": Damage(
        "complaints",
        csv_text(
            _rows(
                "complaints",
                ["C3", "B3", "", "2024-04-10 10:00:00", "other", 'a,b\n"c"\r\nd', "", ""],
            )
        ),
        rows=3,
    ),
    "duplicate ids with different content": Damage(
        "machines",
        table_text("machines") + "PC-01,basement,P02,\n",
        quarantined=((4, "duplicate machine_id of line 2"),),
    ),
    "extra and unnamed columns": Damage(
        "machines",
        "machine_id,location,assigned_person_id,camera_id,,note\nPC-01,a,P01,,x,y\nPC-02,b,,,,\n",
    ),
    "header only": Damage("camera", "sighting_id,camera_id,start_at,end_at,person_id\n", rows=0),
    "only a BOM": Damage("badge", b"\xef\xbb\xbf", rows=0),
    "only blank lines": Damage("apps", "\n\r\n  \n", rows=0),
    "Windows-1252 quote in a UTF-8 file": Damage(
        "complaints",
        csv_text(_rows("complaints")).replace("got a link", "got a “link”").encode("utf-8")
        + b"C3,B3,,2024-04-10 10:00:00,other,he said \x93refund\x94,,\n",
        quarantined=((4, "not valid UTF-8"),),
    ),
}


@pytest.mark.parametrize("name", list(CORPUS))
def test_damaged_file_is_quarantined_and_counted(tmp_path, name):
    damage = CORPUS[name]
    case = load(write_case(tmp_path / "case", toml=damage.toml, **{damage.table: damage.content}))
    _accounting(case)
    file = f"{damage.table}.csv"
    lines = case.quarantine.filter(pl.col("file") == file).to_dicts()
    assert len(lines) == len(damage.quarantined), lines
    for line, (row, reason) in zip(lines, damage.quarantined, strict=True):
        assert line["row"] == row, line
        assert line["reason"].startswith(reason), line
    record = next(f for f in case.inputs if f.file == file)
    if damage.rows is not None:
        assert record.rows == damage.rows
    assert record.quarantined == len({r for r, _ in damage.quarantined})


def test_csv_field_limit_is_restored(tmp_path):
    before = csv.field_size_limit()
    load(write_case(tmp_path / "case", **{"complaints": CORPUS["a 1 MB text field"].content}))
    assert csv.field_size_limit() == before
    with pytest.raises(csv.Error):  # other code still gets the usual limit
        list(csv.reader(io.StringIO("a\n" + "b" * (before + 1) + "\n")))


def test_corpus_values_are_read_as_meant(tmp_path):
    """What the damaged files that load say, cell by cell."""
    mixed = load(
        write_case(
            tmp_path / "a", logins=CORPUS["mixed timestamp forms and offsets in one column"].content
        )
    )
    at = mixed.logins["at"].tail(5).to_list()
    instant = datetime(2024, 4, 3, 23, 12, 31, tzinfo=UTC)
    assert at[:3] == [instant] * 3
    assert at[3] == datetime(2024, 4, 3, 23, 12, tzinfo=UTC)
    assert at[4] == datetime(2024, 4, 3, 23, 12, 31, 250_000, tzinfo=UTC)

    bom = load(write_case(tmp_path / "b", machines=CORPUS["BOM inside the file"].content))
    assert bom.machines["machine_id"].to_list() == ["PC-01", "PC-02", "PC-03"]

    crlf = load(write_case(tmp_path / "c", machines=CORPUS["CRLF line endings"].content))
    plain = load(write_case(tmp_path / "d"))
    assert crlf.machines.equals(plain.machines)

    cr = load(write_case(tmp_path / "e", machines=CORPUS["mixed and lone-CR line endings"].content))
    assert cr.machines[ROW].to_list() == [2, 3]

    cells = load(
        write_case(
            tmp_path / "f", complaints=CORPUS["cells with newlines, commas and quotes"].content
        )
    )
    assert cells.complaints["text"][-1] == 'a,b\n"c"\r\nd'

    gb = load(write_case(tmp_path / "g", staff=CORPUS["GB18030 line inside a UTF-8 file"].content))
    assert gb.staff["name"].to_list() == ["李伟", "王芳", "Zhang Min", "Zhou"]
    (line,) = gb.quarantine.to_dicts()
    assert line["value"] == "P04,\\xd5\\xc5\\xc3\\xf4,warehouse,,,,,"  # the bytes, as found

    big = load(write_case(tmp_path / "h", complaints=CORPUS["a 1 MB text field"].content))
    assert big.complaints["complaint_id"].to_list() == ["C1", "C2", "C4"]  # reading went on
    (line,) = big.quarantine.to_dicts()
    assert len(line["value"]) <= 200


def _gb18030_orders() -> bytes:
    """orders.csv in GB18030: line 2 ASCII, lines 3-5 with Chinese names."""
    rows = _rows("orders")
    for row, name in zip(rows[2:], _CHINESE, strict=False):
        row[5] = name
    return csv_text(rows).encode("gb18030")


@pytest.mark.parametrize(
    ("table", "content", "where", "words"),
    [
        ("orders", _gb18030_orders(), ("orders.csv", 3), "GB18030"),
        ("machines", table_text("machines").encode("utf-16"), ("machines.csv", 1), "UTF-16"),
        ("orders", b"", ("orders.csv", None), "empty file"),
        ("staff", b"\x00\x01\x02\xff\xfe\n\x80", ("staff.csv", 1), "not UTF-8"),
        ("machines", b'"' + b"h" * 200_000 + b'"\nPC-01\n', ("machines.csv", 1), "header"),
    ],
    ids=["all GB18030", "UTF-16", "empty required", "binary", "giant header"],
)
def test_unreadable_file_is_a_located_case_error(tmp_path, table, content, where, words):
    with pytest.raises(CaseError) as err:
        load(write_case(tmp_path / "case", **{table: content}))
    assert (err.value.file, err.value.row) == where
    assert words in str(err.value)
    assert str(err.value).startswith(where[0])


# ---------------------------------------------- a generated case, damaged


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("generated") / "case"
    generate(root, scenario="usb_malware", seed=1, orders=2500, progress=False)
    return root


def _lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines(keepends=True)


def _edit(line: str, change) -> str:
    """A CSV line with ``change(fields)`` applied (quoting kept right)."""
    (fields,) = csv.reader([line])
    change(fields)
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerow(fields)
    return out.getvalue()


def _set(index: int, value: str):
    def change(fields: list[str]) -> None:
        fields[index] = value

    return change


def _damage(root: Path) -> dict[str, int]:
    """Break a copy of the generated case the ways exports break; return how
    many rows of each file were made unusable."""
    broken: dict[str, int] = {}

    orders = _lines(root / "orders.csv")
    orders[10] = _edit(orders[10], lambda f: f.__setitem__(1, "\x00" + f[1]))  # NUL
    orders[20] = _edit(orders[20], lambda f: f.__delitem__(slice(5, None)))  # fields lost
    orders.append(_edit(orders[30], _set(4, "-1")))  # its id again, a negative amount
    orders.append(_edit(orders[31], _set(4, "0.01")))  # its id again, other content
    orders[40] = _edit(orders[40], _set(2, "4/4/2024 7:12"))  # a spreadsheet date
    (root / "orders.csv").write_text("".join(orders), encoding="utf-8")
    broken["orders.csv"] = 5

    access = _lines(root / "access.csv")
    header, body = access[0], access[1:]
    random.Random(6).shuffle(body)  # events out of order
    body[5] = _edit(body[5], _set(1, "1970-01-01T08:00:00"))  # a reset clock
    body.append(body[7])  # an exact duplicate
    ghost = _edit(body[9], _set(2, "ghost:acct"))  # an account nobody registered: kept
    body.append(_edit(ghost, _set(0, "A999999")))
    body.append(body[8][: len(body[8]) // 2])  # truncated last line, no newline
    (root / "access.csv").write_bytes("".join([header, *body]).replace("\n", "\r\n").encode())
    broken["access.csv"] = 3

    complaints = (root / "complaints.csv").read_bytes()
    gb = "C999999,B1,,2024-04-20T10:00:00,scam_call,骗子知道我的地址,,\n".encode("gb18030")
    (root / "complaints.csv").write_bytes(complaints + gb)
    broken["complaints.csv"] = 1

    camera = _lines(root / "camera.csv")
    camera[3] = _edit(camera[3], _set(-1, "y" * 1_048_576))  # a 1 MB note
    (root / "camera.csv").write_text("".join(camera), encoding="utf-8")
    broken["camera.csv"] = 1

    logins = _lines(root / "logins.csv")
    kept = [line for line in logins if ",logout," not in line]  # no logouts at all
    assert len(kept) < len(logins)
    (root / "logins.csv").write_text("".join(kept), encoding="utf-8")
    return broken


def test_investigation_runs_on_what_is_usable(generated, tmp_path):
    root = tmp_path / "damaged"
    shutil.copytree(generated, root)
    broken = _damage(root)
    case = load(root)
    _accounting(case)
    counts = {f.file: f.quarantined for f in case.inputs}
    ghosts = case.unregistered.filter(pl.col("value") == "ghost:acct")
    assert ghosts["file"].to_list() == ["access.csv"]
    assert "ghost:acct" in case.access["account_id"].to_list()
    for file, n in broken.items():
        assert counts[file] == n, (file, case.quarantine.filter(pl.col("file") == file))
    assert sum(counts.values()) == sum(broken.values())

    findings = forensics.investigate(case)
    truth = json.loads((root / "truth.json").read_text(encoding="utf-8"))
    assert findings.vector.kind == truth["vector"]
    assert set(findings.vector.machines) & set(truth["machine_ids"])

    doc = json.loads(findings.to_json())
    inputs = {i["file"]: i for i in doc["inputs"]}
    for file, n in broken.items():
        assert inputs[file]["quarantined"] == n  # findings.json says what it could not use
        record = next(f for f in case.inputs if f.file == file)
        assert inputs[file]["rows"] == record.rows
    # ... and what it kept but flags: the ghost account of access.csv.
    assert inputs["access.csv"]["unregistered"] >= 1
    assert sum(i["unregistered"] for i in doc["inputs"]) == case.unregistered.height
    assert all(i["unlisted"] == 0 for i in doc["inputs"])


def test_damaged_case_findings_are_deterministic(generated, tmp_path):
    root = tmp_path / "damaged"
    shutil.copytree(generated, root)
    _damage(root)
    first = forensics.investigate(load(root)).to_json()
    second = forensics.investigate(load(root)).to_json()
    assert first == second
