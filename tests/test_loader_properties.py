"""Properties of the loader on hostile input (hypothesis).

Whatever bytes one table holds, loading either succeeds with every row
accounted for, or stops with a :class:`CaseError` naming the file; the
investigation of the same case twice gives the same findings, byte for byte.
"""

from __future__ import annotations

import csv
import io
import json
import random
import re
import shutil
import tempfile
from pathlib import Path

import polars as pl
import pytest
from casefiles import CASE_TOML, TABLE_ROWS, table_text, write_case
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import forensics
from forensics.case import Case, CaseError, load
from forensics.case._cells import SPACES
from forensics.case.schema import ROW, TABLES
from forensics.synth import generate

FAST = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


def _stripped(text: str) -> str | None:
    out = text.strip(SPACES + "\ufeff\u200b")
    return out or None


def _accounted(case: Case) -> None:
    for f in case.inputs:
        if f.table is None:
            continue
        set_aside = case.quarantine.filter(pl.col("file") == f.file)["row"]
        assert f.rows == f.accepted + f.quarantined, f.file
        assert f.quarantined == set_aside.n_unique(), f.file
        assert f.accepted == case[f.table].height, f.file
        assert case[f.table].schema.names()[: len(TABLES[f.table].polars_schema)] == list(
            TABLES[f.table].polars_schema.names()
        )


def _load_or_located_error(root: Path, file: str) -> Case | None:
    """Load; a CaseError must name ``file`` (the only damaged one)."""
    try:
        case = load(root)
    except CaseError as err:
        assert err.file == file, (err.file, str(err))
        assert str(err).startswith(file), str(err)
        return None
    _accounted(case)
    return case


# -------------------------------------------------------- arbitrary bytes


def _mutations(base: bytes):
    """``base`` with random bytes inserted, deleted, overwritten or cut off."""
    edit = st.tuples(
        st.sampled_from(["insert", "delete", "replace", "truncate"]),
        st.integers(0, max(len(base), 1)),
        st.binary(min_size=1, max_size=12),
    )

    def apply(edits):
        data = bytearray(base)
        for kind, at, blob in edits:
            at = min(at, len(data))
            if kind == "insert":
                data[at:at] = blob
            elif kind == "delete":
                del data[at : at + len(blob)]
            elif kind == "replace":
                data[at : at + len(blob)] = blob
            else:
                del data[at:]
        return bytes(data)

    return st.lists(edit, min_size=1, max_size=6).map(apply)


_CSV_BYTES = st.lists(
    st.sampled_from(
        [b",", b'"', b"\n", b"\r", b"\r\n", b"\x00", b"\xef\xbb\xbf", b"\xff", b"\xe4\xb8", b"a"]
        + [b"2024-04-04 07:12", b"P01", b"ACC-01", b"login", "王".encode("gb18030")]
    ),
    max_size=60,
).map(b"".join)


@st.composite
def _damaged_table(draw):
    name = draw(st.sampled_from(sorted(TABLES)))
    base = table_text(name).encode() if name in TABLE_ROWS else b""
    header = b",".join(c.name.encode() for c in TABLES[name].columns) + b"\n"
    content = draw(
        st.one_of(
            st.binary(max_size=400),
            _CSV_BYTES,
            _mutations(base or header),
            _CSV_BYTES.map(lambda tail: (base or header) + tail),
        )
    )
    return name, content


@FAST
@given(_damaged_table())
@example(("complaints", b'complaint_id,received_at\nC1,"2024-04-04\n'))
@example(("orders", table_text("orders").encode() + b"\xe4\xb8"))
@example(("staff", b"\xef\xbb\xbf"))
@example(("logins", b'"'))
def test_any_bytes_in_one_table_load_or_fail_located(damaged):
    name, content = damaged
    with tempfile.TemporaryDirectory() as tmp:
        root = write_case(Path(tmp) / "case", **{name: content})
        case = _load_or_located_error(root, f"{name}.csv")
        if case is not None:
            for other in TABLE_ROWS:
                if other != name:  # the undamaged files are read in full
                    assert case[other].height == len(TABLE_ROWS[other]) - 1, other


# --------------------------------------------------------- arbitrary cells


@st.composite
def _rows_of_text(draw):
    name = draw(st.sampled_from(sorted(TABLE_ROWS)))
    header = TABLE_ROWS[name][0]
    cell = st.one_of(
        st.text(max_size=30),
        st.sampled_from(["", " ", "2024-04-04 07:12", "4/4/2024", "-1", "nan", "1e400"]),
        st.sampled_from(
            ["=cmd|' /C calc'!A0", "<script>alert(1)</script>", "\ufeffP01", "1970-01-01"]
        ),
    )
    width = st.integers(len(header) - 2, len(header) + 1)
    rows = draw(
        st.lists(width.flatmap(lambda n: st.lists(cell, min_size=n, max_size=n)), max_size=8)
    )
    return name, rows


def _csv_lines(rows: list[list[str]]) -> tuple[str, list[int]]:
    """CSV text of ``rows`` and the line each row starts on (as csv counts lines)."""
    out, starts, line = io.StringIO(), [], 1
    # CRLF: the writer then quotes every cell holding \r or \n (with "\n" it
    # leaves a lone \r bare, and a reader rightly splits the line there).
    writer = csv.writer(out, lineterminator="\r\n")
    for row in rows:
        before = out.tell()
        writer.writerow(row)
        starts.append(line)
        line += len(re.findall(r"\r\n|\r|\n", out.getvalue()[before:]))
    return out.getvalue(), starts


@FAST
@given(_rows_of_text())
def test_arbitrary_text_cells_are_kept_or_quarantined(table):
    name, extra = table
    header, *rows = TABLE_ROWS[name]
    text, starts = _csv_lines([header, *rows, *extra])
    with tempfile.TemporaryDirectory() as tmp:
        root = write_case(Path(tmp) / "case", **{name: text})
        case = _load_or_located_error(root, f"{name}.csv")
    if case is None:
        return
    record = next(f for f in case.inputs if f.table == name)
    blank = sum(not any(c.strip(SPACES) for c in r) for r in extra)
    assert record.rows == len(rows) + len(extra) - blank
    # Text cells of accepted rows are the text written, stripped: nothing
    # is lost, rewritten or interpreted.
    written = dict(zip(starts, [header, *rows, *extra], strict=True))
    text_columns = [c.name for c in TABLES[name].columns if c.kind.value in ("text", "id")]
    for accepted in case[name].iter_rows(named=True):
        row = written[accepted[ROW]]
        for i, column in enumerate(header):
            if column in text_columns:
                assert accepted[column] == _stripped(row[i]), column


# ---------------------------------------------------------------- case.toml

_TOML_VALUE = st.one_of(
    st.integers(-(2**63), 2**63 - 1).map(str),
    st.sampled_from(["true", "false"]),
    st.text(max_size=20).map(lambda s: json.dumps(s, ensure_ascii=True)),
    st.sampled_from(['"Asia/Shanghai"', '"UTC"', '"../x.csv"', "[1, 2, 9]", "[]", "1979-05-27"]),
    st.sampled_from(['"24:00"', '"09:00"', "07:32:00", '"gb18030"', '"utf-16"', "{a = 1}"]),
)
_TOML_KEY = st.sampled_from(
    ["id", "title", "timezone", "opened_at", "start", "end", "weekdays", "encoding", "clock"]
    + ["path", "delimiter"]
)
_SECTION = st.sampled_from(
    ["[case]", "[business_hours]", "[files.orders]", "[files.camera]", "[files]", "[other]"]
)


@FAST
@given(st.lists(st.tuples(_SECTION, _TOML_KEY, _TOML_VALUE), max_size=8))
def test_any_case_toml_loads_or_fails_located(entries):
    text = CASE_TOML + "".join(f"\n{s}\n{k} = {v}\n" for s, k, v in entries)
    with tempfile.TemporaryDirectory() as tmp:
        root = write_case(Path(tmp) / "case", toml=text)
        try:
            case = load(root)
        except CaseError as err:
            assert err.file == "case.toml" or str(err).startswith("orders.csv"), str(err)
            return
        _accounted(case)


# ------------------------------------------------------------ determinism


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("properties") / "case"
    generate(root, scenario="insider_export", seed=2, orders=2500, progress=False)
    return root


def _shake(root: Path, seed: int) -> None:
    """Damage a few random rows of a few files and shuffle one of them."""
    rng = random.Random(seed)
    for name in rng.sample(["access.csv", "logins.csv", "orders.csv", "camera.csv"], 2):
        lines = (root / name).read_text(encoding="utf-8").splitlines(keepends=True)
        header, body = lines[0], lines[1:]
        if rng.random() < 0.5:
            rng.shuffle(body)
        for _ in range(rng.randint(1, 20)):
            i = rng.randrange(len(body))
            body[i] = rng.choice(["", "x,y\n", body[i][: rng.randrange(len(body[i]))] + "\n"])
        (root / name).write_text(header + "".join(body), encoding="utf-8")


@settings(
    max_examples=3,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(st.integers(0, 2**32 - 1))
def test_investigation_is_deterministic_on_damaged_cases(generated, seed):
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "case"
        shutil.copytree(generated, root)
        _shake(root, seed)
        first = forensics.investigate(load(root)).to_json()
        second = forensics.investigate(load(root)).to_json()
    assert first == second
