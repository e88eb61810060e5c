"""The response pack on generated cases: buyers to warn, platform report,
remediation checklist, masking, formula defusing, an untouched case folder.

Acceptance: the buyers of the leaked orders in truth.json are on the list
(recall), the checklist starts with the true machines/accounts/apps, and no
phone number leaves unmasked unless asked for.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import polars as pl
import pytest
from casefiles import csv_text, snapshot, write_case

from forensics import investigate, load
from forensics.case import OutputInCaseError
from forensics.response.buyers import BASIS
from forensics.response.respond import respond, run_respond
from forensics.synth import generate

SEEDS = [1, 2, 3]
ORDERS = 3000
RECALL = {
    "usb_malware": 0.9,
    "insider_export": 0.9,
    "stale_account": 0.9,
    "third_party_app": 0.9,
    "visitor_malware": 0.8,
}
APRIL = Path(__file__).resolve().parents[1] / "datasets" / "april-trojan"


@pytest.fixture(scope="module")
def cases(tmp_path_factory):
    """Generated cases with their truth, findings and pack, made once each."""
    made = {}

    def get(kind: str, seed: int):
        if (kind, seed) not in made:
            folder = tmp_path_factory.mktemp(f"{kind}-{seed}") / "case"
            truth = generate(folder, scenario=kind, seed=seed, orders=ORDERS, progress=False)
            findings = investigate(load(folder))
            made[kind, seed] = (folder, truth, findings, respond(findings))
        return made[kind, seed]

    return get


def _buyers_of(case_dir: Path, order_ids) -> set[str]:
    # Through the loader: a generated shop may write GB18030.
    orders = load(case_dir).orders
    return set(orders.filter(pl.col("order_id").is_in(list(order_ids)))["buyer_id"].to_list())


def _complainers(case_dir: Path) -> set[str]:
    case = load(case_dir)
    o = case.orders.select("order_id", pl.col("buyer_id").alias("_ob"))
    via_order = case.complaints.join(o, on="order_id", how="left")
    return set(via_order.select(pl.coalesce("buyer_id", "_ob")).to_series().drop_nulls().to_list())


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("kind", sorted(RECALL))
def test_buyer_list_covers_the_leaked_buyers(cases, kind, seed):
    folder, truth, findings, pack = cases(kind, seed)
    leaked = _buyers_of(folder, truth["leaked_order_ids"])
    listed = set(pack.buyers["buyer_id"].to_list())
    recall = len(leaked & listed) / len(leaked)
    assert recall >= RECALL[kind], (findings.vector.kind, findings.vector.rationale)
    assert pack.buyers["buyer_id"].is_unique().all(), "one row per buyer"


@pytest.mark.parametrize("kind", sorted(RECALL))
def test_buyer_list_says_who_complained(cases, kind):
    folder, _, _, pack = cases(kind, 1)
    complainers = _complainers(folder)
    for r in pack.buyers.iter_rows(named=True):
        assert r["complained"] == (r["buyer_id"] in complainers), r["buyer_id"]
        assert r["path"] and r["why"] and r["first_exposed_at"] and r["row"] is not None
    assert pack.buyers["complained"].any(), "leaked buyers are the ones who complain"


def _top_targets(pack, n: int) -> set[str]:
    return {a.target for a in pack.actions[:n]}


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("kind", sorted(RECALL))
def test_checklist_starts_with_the_leak_path(cases, kind, seed):
    _, truth, _, pack = cases(kind, seed)
    true = set(truth["machine_ids"]) | set(truth["account_ids"]) | set(truth["app_ids"])
    top = _top_targets(pack, len(true) + 1)
    assert true <= top, [(a.priority, a.category, a.target) for a in pack.actions[:8]]
    assert pack.actions[0].tier == 0
    for a in pack.actions:
        assert a.evidence, f"item {a.priority} cites no evidence"
        assert all(c.source.endswith((".csv", ".parquet")) and c.row for c in a.evidence)
    assert [a.priority for a in pack.actions] == list(range(1, len(pack.actions) + 1))


def test_stale_account_checklist_names_the_former_employees_account(cases):
    folder, truth, _, pack = cases("stale_account", 1)
    (account,) = truth["account_ids"]
    item = next(a for a in pack.actions if a.target == account)
    assert item.category == "disable_account" and item.tier == 0
    assert any(c.source == "staff.csv" for c in item.evidence), "cites the leaving date"
    assert "left" in item.reason


def test_no_leak_lists_no_buyer_and_contains_nothing(cases):
    _, _, findings, pack = cases("none", 1)
    assert findings.vector.kind == "none"
    assert pack.buyers.is_empty()
    assert all(a.tier >= 3 for a in pack.actions)
    assert set(pack.platform["basis"]) <= {"not exposed by the leak path"}


@pytest.mark.parametrize("kind", ["usb_malware", "stale_account"])
def test_platform_report_states_only_what_is_established(cases, kind):
    folder, _, findings, pack = cases(kind, 1)
    p = pack.platform
    assert p.height == findings.complaints.height
    assert p["complaint_id"].is_unique().all()
    assert set(p["basis"]) <= set(BASIS)
    given = p.filter(pl.col("basis") == "order id given by the buyer")
    assert given["order_id"].null_count() == 0 and given["exposed_by"].null_count() == 0
    deadline = pl.coalesce("contacted_at", "received_at")
    assert given.filter(pl.col("exposed_at") > deadline).is_empty()
    matched = p.filter(pl.col("basis") == "matched by buyer id")
    assert matched["matched_order_ids"].null_count() == 0
    unexposed = p.filter(pl.col("basis") == "not exposed by the leak path")
    assert unexposed["exposed_by"].null_count() == unexposed.height
    assert given.height + matched.height > 0.8 * p.height


def test_platform_report_json_matches_csv(cases, tmp_path):
    folder, *_ = cases("usb_malware", 1)
    assert run_respond(folder, tmp_path / "out") == 0
    doc = json.loads((tmp_path / "out" / "platform_report.json").read_text(encoding="utf-8"))
    rows = list(csv.DictReader((tmp_path / "out" / "platform_report.csv").open(encoding="utf-8")))
    assert [r["complaint_id"] for r in rows] == [c["complaint_id"] for c in doc["complaints"]]
    assert set(doc["basis"]) == set(BASIS)


def _all_text(folder: Path) -> str:
    return "\n".join(p.read_text(encoding="utf-8") for p in sorted(folder.iterdir()) if p.is_file())


def _phones(case_dir: Path) -> list[str]:
    return load(case_dir).orders["phone"].drop_nulls().unique().to_list()


def test_phones_masked_unless_revealed(cases, tmp_path, capsys):
    folder, *_ = cases("usb_malware", 1)
    before = snapshot(folder)
    masked, revealed = tmp_path / "masked", tmp_path / "revealed"
    assert run_respond(folder, masked) == 0
    assert run_respond(folder, revealed, reveal_contacts=True) == 0
    assert snapshot(folder) == before, "the case folder was changed"

    phones = _phones(folder)
    text = _all_text(masked)
    assert not [p for p in phones if p in text], "an unmasked phone number in the output"
    assert (masked / "affected_buyers.csv").exists()
    assert not (masked / "affected_buyers.SENSITIVE.csv").exists()

    sensitive = revealed / "affected_buyers.SENSITIVE.csv"
    assert sensitive.exists() and not (revealed / "affected_buyers.csv").exists()
    listed = pl.read_csv(sensitive, infer_schema=False)
    assert listed.height > 0 and set(listed["phone"].to_list()) <= set(phones)
    assert "SENSITIVE" in capsys.readouterr().out


def test_april_trojan_covers_the_six_infected_machines():
    if not (APRIL / "case.toml").exists():
        pytest.skip("datasets/april-trojan not generated")
    truth = json.loads((APRIL / "truth.json").read_text(encoding="utf-8"))
    assert len(truth["machine_ids"]) == 6
    pack = respond(investigate(load(APRIL)))
    leaked = _buyers_of(APRIL, truth["leaked_order_ids"])
    assert leaked <= set(pack.buyers["buyer_id"].to_list())
    assert _top_targets(pack, 6) == set(truth["machine_ids"])


# --------------------------------------------------------------------------
# a crafted case: evidence cells that a spreadsheet would run as formulas


def _hostile_case(root: Path) -> Path:
    orders = [
        ["order_id", "buyer_id", "placed_at", "status", "amount", "buyer_name", "phone", "address"],
        [
            "O1",
            '=HYPERLINK("http://x")',
            "2024-04-01 10:00:00",
            "paid",
            "9",
            "A",
            "13800000001",
            "R",
        ],
        ["O2", "+B2", "2024-04-01 11:00:00", "paid", "9", "B", "13800000002", "R"],
        ["O3", "@B3", "2024-04-02 09:00:00", "paid", "9", "C", "13800000003", "R"],
        ["O4", "-B4", "2024-04-02 10:00:00", "paid", "9", "D", "13800000004", "R"],
    ]
    complaints = [
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
        ["=C1", "+B2", "O2", "2024-04-08 12:00:00", "scam_call", "=cmd|' /C calc'!A0", "", "phone"],
        ["@C2", "-B4", "", "2024-04-09 12:00:00", "scam_call", "@SUM(1)", "", ""],
    ]
    return write_case(root, orders=csv_text(orders), complaints=csv_text(complaints))


def test_csv_cells_that_look_like_formulas_are_defused(tmp_path):
    case = _hostile_case(tmp_path / "case")
    before = snapshot(case)
    assert run_respond(case, tmp_path / "out") == 0
    assert snapshot(case) == before
    for path in (tmp_path / "out").glob("*.csv"):
        for row in csv.reader(path.open(encoding="utf-8")):
            for cell in row:
                assert not cell.startswith(("=", "+", "-", "@")), (path.name, cell)
    rows = list(csv.DictReader((tmp_path / "out" / "platform_report.csv").open(encoding="utf-8")))
    assert {r["complaint_id"] for r in rows} == {"'=C1", "'@C2"}


def test_refuses_to_write_inside_the_case(tmp_path):
    case = _hostile_case(tmp_path / "case")
    with pytest.raises(OutputInCaseError, match="inside the case folder"):
        run_respond(case, case / "out")
    assert not (case / "out").exists()


def test_buyer_list_needs_the_personal_data(tmp_path):
    if not (APRIL / "case.toml").exists():
        pytest.skip("datasets/april-trojan not generated")
    lean = investigate(load(APRIL, personal=False))
    full = investigate(load(APRIL))
    # The investigation itself never reads the buyers' personal data ...
    assert lean.to_json() == full.to_json()
    # ... but whom to warn does: a clear refusal, not a list without phones.
    with pytest.raises(ValueError, match="personal=True"):
        respond(lean)
