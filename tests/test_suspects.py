"""forensics.analysis.suspects on its own: the malware kind told apart by the
top suspect, the evidence record, and the posterior ranking's properties."""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pytest

from forensics import investigate, load
from forensics.analysis.suspects import (
    WEIGHTS,
    Evidence,
    Suspect,
    rank_suspects,
    top_is_visitor,
)
from forensics.analysis.vector import VectorCall, refine_malware_kind

APRIL = Path(__file__).resolve().parents[1] / "datasets" / "april-trojan"


def _call(kind: str) -> VectorCall:
    return VectorCall(
        kind=kind, confidence=0.9, lead=None, votes={kind: 3.0, "insider_export": 1.0}
    )


def _suspect(person: str, *, role: str | None, on_staff: bool = True) -> Suspect:
    return Suspect(person, 0.8, role, (), on_staff=on_staff)


@pytest.mark.parametrize(
    ("top", "kind"),
    [
        (_suspect("P1", role="warehouse"), "usb_malware"),
        (_suspect("P1", role="visitor"), "visitor_malware"),
        (_suspect("V9", role=None, on_staff=False), "visitor_malware"),
        (None, "usb_malware"),
    ],
)
def test_malware_is_told_apart_by_the_top_suspect(top, kind):
    refined = refine_malware_kind(
        _call("malware"), top_is_visitor=top_is_visitor((top,) if top else ())
    )
    assert refined.kind == kind
    assert refined.votes == {kind: 3.0, "insider_export": 1.0}
    assert refined.confidence == 0.9


def test_other_kinds_are_left_as_they_are():
    call = _call("insider_export")
    assert refine_malware_kind(call, top_is_visitor=True) is call


def test_evidence_says_for_or_against_and_when():
    at = datetime(2024, 4, 4, 2, 30, tzinfo=UTC)
    for_ = Evidence("off_hours", "badge.csv", 12, "badged in at 10:30", WEIGHTS["off_hours"], at)
    against = Evidence(
        "owner_elsewhere", "camera.csv", 3, "seen at PC-2", WEIGHTS["owner_elsewhere"]
    )
    assert for_.as_dict() == {
        "kind": "off_hours",
        "source": "badge.csv",
        "row": 12,
        "summary": "badged in at 10:30",
        "weight": 2.0,
        "direction": "for",
        "at": "2024-04-04T02:30:00+00:00",
        "machine_id": None,
        "account_id": None,
    }
    assert against.direction == "against" and against.as_dict()["at"] is None


@pytest.fixture(scope="module")
def findings():
    if not (APRIL / "case.toml").exists():
        pytest.skip("datasets/april-trojan not present")
    return investigate(load(APRIL, personal=False))


def _rank(findings, **kw):
    return rank_suspects(
        findings.case,
        findings.vector,
        findings.timeline,
        findings.indicators,
        findings.sessions,
        events=findings.events,
        hits=findings.hits,
        **kw,
    )


def test_the_ranking_is_a_posterior_share(findings):
    ranked = _rank(findings)
    assert ranked == findings.suspects  # the engine ranks with the same call
    scores = [s.score for s in ranked]
    assert scores == sorted(scores, reverse=True)
    assert all(0.01 <= s < 1 for s in scores)
    assert sum(scores) < 1  # "nobody on the staff list" keeps its share


def test_a_stronger_prior_on_nobody_lowers_every_score(findings):
    base = {s.person_id: s.score for s in _rank(findings)}
    doubtful = {s.person_id: s.score for s in _rank(findings, prior_nobody=1 - 1e-9)}
    assert doubtful and set(doubtful) <= set(base)
    # Scores are capped at 0.999: below the cap every one must drop.
    assert all(doubtful[p] < base[p] or doubtful[p] == base[p] == 0.999 for p in doubtful)
    assert any(doubtful[p] < base[p] for p in doubtful)


def test_evidence_is_cited_strongest_first(findings):
    rows = {f.file: f.rows for f in findings.case.inputs}
    for s in _rank(findings):
        assert s.evidence
        strength = [abs(math.log(e.weight)) for e in s.evidence]
        assert strength == sorted(strength, reverse=True)
        for e in s.evidence:
            assert e.source in rows and 0 <= e.row <= rows[e.source], (s.person_id, e)


@pytest.mark.parametrize("kind", ["none", "third_party_app"])
def test_nobody_is_ranked_without_a_person_shaped_path(findings, kind):
    call = replace(findings.vector, kind=kind)
    assert findings.suspects  # the real call names people
    assert (
        rank_suspects(
            findings.case, call, findings.timeline, findings.indicators, findings.sessions
        )
        == ()
    )


def test_no_anchor_no_suspect(findings):
    call = replace(
        findings.vector, anchors=findings.vector.anchors.clear(), machines=(), accounts=()
    )
    assert (
        rank_suspects(
            findings.case,
            call,
            findings.timeline,
            pl.DataFrame(schema=findings.indicators.schema),
            findings.sessions,
        )
        == ()
    )
