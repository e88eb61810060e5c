"""The fast subset of ``make accuracy`` (docs/ACCURACY.md): a few scenario x
variant x seed cases at 2000 orders, with the same asserts: no failed run,
the leak path right, the true insider ranked first, nobody accused where
nobody did it (:mod:`forensics.synth.score`).

The cases were chosen from the faults of issue 15 (A: single-order pulls,
B: suspects the graph cannot reach, C: infections no agent saw, D: visitors
nobody named, E: unidentified insertions, F: complaints leaning by order
age); each failed before the engine was fixed.
"""

from __future__ import annotations

import json

import pytest

from forensics import investigate, load
from forensics.synth import generate
from forensics.synth.score import ACCUSE_AT, score

ORDERS = 2000


CASES = [
    pytest.param("usb_malware", (), 1, id="usb_malware-base-1"),
    pytest.param("insider_export", ("mtp_phone",), 1, id="insider_export-mtp_phone-1"),
    pytest.param("usb_malware", ("agentless",), 1, id="usb_malware-agentless-1"),
    pytest.param("usb_malware", ("agentless_sweep",), 1, id="usb_malware-agentless_sweep-1"),
    pytest.param(
        "visitor_malware",
        ("anonymous_visitor",),
        1,
        id="visitor_malware-anonymous_visitor-1",
    ),
    pytest.param("none", ("complaints_old", "early_app"), 1, id="none-complaints_old+early_app-1"),
    pytest.param("third_party_app", ("erp_cadence",), 1, id="third_party_app-erp_cadence-1"),
    pytest.param("insider_export", ("review_app",), 1, id="insider_export-review_app-1"),
    pytest.param("stale_account", ("review_app",), 3, id="stale_account-review_app-3"),
    pytest.param("usb_malware", ("review_app",), 2, id="usb_malware-review_app-2"),
    pytest.param(
        "usb_malware",
        ("unidentified_insertion",),
        1,
        id="usb_malware-unidentified_insertion-1",
    ),
    pytest.param("stale_account", ("night_shift",), 1, id="stale_account-night_shift-1"),
    # Age-skewed background complaints need more orders to outvote the rate model.
    pytest.param(
        "none",
        ("complaints_old", "early_app"),
        2,
        20_000,
        id="none-complaints_old+early_app-2-20k",
    ),
]


@pytest.mark.parametrize(
    "scenario,variants,seed,orders",
    [p if len(p.values) == 4 else pytest.param(*p.values, ORDERS, id=p.id) for p in CASES],
)
def test_engine_on_variant_case(tmp_path, scenario, variants, seed, orders):
    truth = generate(
        tmp_path / "case", scenario=scenario, seed=seed, orders=orders, variants=list(variants)
    )
    try:
        case = load(tmp_path / "case", personal=False)
        findings = json.loads(investigate(case, complaint_nodes=False).to_json())
    except Exception as exc:  # a failed run: no findings.json
        pytest.fail(f"investigate raised {type(exc).__name__}: {exc}")
    s = score(truth, findings)
    assert not s.failed
    assert s.vector_said == truth["vector"], f"vector {s.vector_said}, truth {truth['vector']}"
    if s.insider_first is not None:
        assert s.insider_first, (
            f"top suspect {s.top_suspect} ({s.top_score}), truth {truth['insider_person_ids']}"
        )
    if s.false_accusation is not None:
        assert not s.false_accusation, f"{s.top_suspect} named with score >= {ACCUSE_AT}"
