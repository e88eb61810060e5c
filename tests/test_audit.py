"""The account-hygiene audit: usable before any leak, from case data alone.

On generated cases the audit must find the weaknesses each plot went
through (the leaver's enabled account, the USB stick that hopped machines
and ran an autorun, the export right used only after hours), without any
complaint. Crafted cases check the rules one at a time.
"""

from __future__ import annotations

import csv
import json
from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pytest
from casefiles import TABLE_ROWS, csv_text, snapshot, write_case

from forensics import load
from forensics.analysis.indicators import INDICATOR_SCHEMA
from forensics.audit import SEVERITY, audit, one_person_one_account, run_audit
from forensics.synth import generate

ORDERS = 3000


@pytest.fixture(scope="module")
def cases(tmp_path_factory):
    """Generated cases with their truth and audit, made once each."""
    made = {}

    def get(kind: str, seed: int = 1):
        if (kind, seed) not in made:
            folder = tmp_path_factory.mktemp(f"audit-{kind}-{seed}") / "case"
            truth = generate(folder, scenario=kind, seed=seed, orders=ORDERS, progress=False)
            made[kind, seed] = (folder, truth, audit(load(folder)))
        return made[kind, seed]

    return get


def _issue(a, check: str, subject: str):
    return a.issues.filter((pl.col("check") == check) & (pl.col("subject") == subject))


@pytest.mark.parametrize("seed", [1, 2])
def test_stale_account_of_a_leaver_is_flagged_high(cases, seed):
    _, truth, a = cases("stale_account", seed)
    (account,) = truth["account_ids"]
    row = a.stale.filter(pl.col("account_id") == account)
    assert row.height == 1 and row["uses_after_leaving"][0] > 0
    assert _issue(a, "stale accounts", account)["severity"].to_list() == ["high"]


@pytest.mark.parametrize("kind", ["usb_malware", "visitor_malware"])
def test_the_infecting_usb_device_is_flagged(cases, kind):
    folder, truth, a = cases(kind)
    case = load(folder)
    # The device first connected on each true machine around its infection.
    on_true = case.endpoint.filter(
        (pl.col("kind") == "usb_connect") & pl.col("machine_id").is_in(truth["machine_ids"])
    )
    flagged = a.usb.filter(pl.col("autorun"))
    assert set(flagged["device_id"]) & set(on_true["device_id"]), a.usb
    for r in flagged.iter_rows(named=True):
        assert _issue(a, "USB devices", r["device_id"])["severity"].to_list() == ["high"]


def test_insider_exports_only_after_hours(cases):
    _, truth, a = cases("insider_export")
    (account,) = truth["account_ids"]
    row = a.exports.filter(pl.col("account_id") == account).row(0, named=True)
    assert row["can_export"] and row["exports"] >= 1
    assert row["finding"] == "exports only outside the shift, in bulk"
    assert _issue(a, "export rights", account).height == 1


def test_apps_listed_with_scopes(cases):
    folder, truth, a = cases("third_party_app")
    apps = load(folder).apps
    assert set(a.apps["app_id"]) == set(apps["app_id"])
    (app,) = truth["app_ids"]
    row = a.apps.filter(pl.col("app_id") == app).row(0, named=True)
    assert row["pulls"] > 0 and row["scopes"]
    assert (row["active"] and row["broad"]) == (_issue(a, "app authorizations", app).height == 1)


@pytest.mark.parametrize("kind", ["usb_malware", "none"])
def test_every_issue_cites_a_file_and_row(cases, kind):
    _, _, a = cases(kind)
    assert a.issues.height > 0
    assert a.issues["row"].null_count() == 0
    assert a.issues["source"].str.ends_with(".csv").all()
    order = [SEVERITY.index(s) for s in a.issues["severity"]]
    assert order == sorted(order)
    assert a.off_hours["share"].is_between(0, 1).all()


def test_audit_needs_no_complaints(tmp_path):
    empty = csv_text([TABLE_ROWS["complaints"][0]])
    case = write_case(tmp_path / "case", complaints=empty)
    a = audit(load(case))
    assert a.issues["severity"].is_in(SEVERITY).all()
    assert set(a.exports["account_id"]) >= {"ACC-MAIN"}


def test_writes_files_and_leaves_the_case_alone(cases, tmp_path, capsys):
    folder, *_ = cases("usb_malware")
    before = snapshot(folder)
    assert run_audit(folder, tmp_path / "out") == 0
    assert snapshot(folder) == before, "the case folder was changed"
    out = capsys.readouterr().out
    assert out.startswith("audit of ") and "audit written to" in out
    names = {p.name for p in (tmp_path / "out").iterdir()}
    assert {
        "audit.md",
        "audit.json",
        "issues.csv",
        "stale_accounts.csv",
        "usb_devices.csv",
    } <= names
    doc = json.loads((tmp_path / "out" / "audit.json").read_text(encoding="utf-8"))
    assert doc["format"] == "forensics.audit/1" and set(doc["severity_counts"]) == set(SEVERITY)
    phones = load(folder).orders["phone"].drop_nulls().to_list()
    text = "\n".join(p.read_text(encoding="utf-8") for p in (tmp_path / "out").iterdir())
    assert not [p for p in phones if p in text]


def test_without_out_only_prints(cases, tmp_path, capsys):
    folder, *_ = cases("none")
    assert run_audit(folder) == 0
    assert "audit of" in capsys.readouterr().out


# --------------------------------------------------------------------------
# crafted cases, one rule at a time


def _accounts(*rows: list[str]) -> str:
    return csv_text([TABLE_ROWS["accounts"][0], *rows])


def test_stale_disabled_late_and_ownerless_and_unused_export_right(tmp_path):
    staff = [
        *TABLE_ROWS["staff"],
        ["P04", "Gone Girl", "customer_service", "2022-01-01", "2024-03-01", "", "", ""],
    ]
    accounts = _accounts(
        ["ACC-MAIN", "P03", "main", "true", "2021-03-15 09:00:00", ""],
        ["ACC-01", "P01", "sub", "true", "2023-01-05 10:00:00", ""],  # may export, never does
        ["ACC-02", "P02", "sub", "false", "2022-06-01 10:00:00", ""],
        ["ACC-04", "P04", "sub", "false", "2022-01-01 10:00:00", "2024-04-05 10:00:00"],
        ["ACC-SHARED", "", "sub", "false", "2022-01-01 10:00:00", ""],
    )
    case = write_case(tmp_path / "case", staff=csv_text(staff), accounts=accounts)
    a = audit(load(case))
    stale = a.stale.row(0, named=True)
    assert stale["account_id"] == "ACC-04" and stale["status"].startswith("disabled 35 days after")
    assert stale["uses_after_leaving"] == 0 and stale["staff_row"] == 5
    assert _issue(a, "stale accounts", "ACC-04")["severity"].to_list() == ["medium"]
    assert _issue(a, "one person, one account", "ACC-SHARED").height == 1
    never = a.exports.filter(pl.col("account_id") == "ACC-01").row(0, named=True)
    assert never["finding"] == "may export but never did" and never["source"] == "accounts.csv"


def test_export_without_the_right_is_high(tmp_path):
    accounts = _accounts(
        ["ACC-MAIN", "P03", "main", "false", "2021-03-15 09:00:00", ""],
        ["ACC-01", "P01", "sub", "false", "2023-01-05 10:00:00", ""],
        ["ACC-02", "P02", "sub", "false", "2022-06-01 10:00:00", ""],
    )
    a = audit(load(write_case(tmp_path / "case", accounts=accounts)))
    row = _issue(a, "export rights", "ACC-MAIN").row(0, named=True)
    assert row["severity"] == "high" and row["source"] == "access.csv" and row["row"] == 4


def test_shared_account_from_camera_indicators(tmp_path):
    case = load(write_case(tmp_path / "case"))
    at = datetime(2024, 4, 1, 2, 0, tzinfo=UTC)
    found = pl.DataFrame(
        {
            "indicator": ["used_other_account", "used_other_account", "owner_elsewhere"],
            "person_id": ["P02", "P02", "P01"],
            "account_id": ["ACC-01", "ACC-01", "ACC-01"],
            "machine_id": ["PC-01"] * 3,
            "device_id": [None] * 3,
            "at": [at] * 3,
            "source": ["camera.csv", "camera.csv", "logins.csv"],
            "row": [7, 9, 2],
            "summary": ["camera: P02 at PC-01", "camera: P02 at PC-01", "login while P01 away"],
        },
        schema=INDICATOR_SCHEMA,
    )
    t = one_person_one_account(case, found)
    other = t.filter(pl.col("issue").str.starts_with("used while someone")).row(0, named=True)
    assert other["people"] == "P02" and other["rows"] == 2 and other["row"] == 7
    assert t.filter(pl.col("issue").str.contains("owner was seen")).height == 1


def test_formula_cells_defused_in_audit_csvs(tmp_path):
    accounts = _accounts(
        ["=EVIL()", "P03", "main", "true", "2021-03-15 09:00:00", ""],
        ["ACC-01", "P01", "sub", "false", "2023-01-05 10:00:00", ""],
        ["@ACC-02", "P02", "sub", "true", "2022-06-01 10:00:00", ""],
    )
    apps = csv_text(
        [
            ["app_id", "account_id", "name", "granted_at", "revoked_at", "scopes"],
            ["+APP", "app:x", "-cmd|calc", "2024-03-01 10:00:00", "", "orders.read"],
        ]
    )
    case = write_case(tmp_path / "case", accounts=accounts, apps=apps)
    assert run_audit(case, tmp_path / "out") == 0
    for path in Path(tmp_path / "out").glob("*.csv"):
        for row in csv.reader(path.open(encoding="utf-8")):
            for cell in row:
                assert not cell.startswith(("=", "+", "-", "@")), (path.name, cell)
