"""Score a run of ``forensics investigate`` against a generated case's truth.

The measures of issue 15, shared by ``benchmarks/accuracy.py`` (``make
accuracy``, docs/ACCURACY.md) and ``tests/test_accuracy.py``:

- **vector right**: ``findings.vector.kind`` equals ``truth.vector``;
- **insider first**: where someone did it (``insider_person_ids`` not
  empty), the first suspect is one of them;
- **false accusation**: where nobody did it (``none``, ``third_party_app``),
  some suspect is named with a score of at least :data:`ACCUSE_AT`;
- **failed**: the run wrote no readable ``findings.json`` (a traceback, a
  timeout, a refused case);
- **path found** (reported, not asserted): the share of the truth's path
  ids (``machine_ids``, ``account_ids``, ``app_ids``) that ``leak_path``
  names (an infected PC without an endpoint agent left out shows here).

Examples
--------
>>> truth = {"vector": "usb_malware", "insider_person_ids": ["P021"]}
>>> top = {"person_id": "P021", "score": 0.9}
>>> findings = {"vector": {"kind": "usb_malware"}, "suspects": [top]}
>>> s = score(truth, findings)
>>> s.vector_right, s.insider_first, s.false_accusation, s.failed
(True, True, None, False)
>>> score(truth, None).failed
True
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass

__all__ = ["Score", "score", "summarize", "ACCUSE_AT"]

ACCUSE_AT = 0.5
"""A suspect scored at least this high is named (an accusation)."""


@dataclass(frozen=True)
class Score:
    """How one run did. ``insider_first`` is None where nobody did it;
    ``false_accusation`` is None where someone did."""

    vector_right: bool
    insider_first: bool | None
    false_accusation: bool | None
    failed: bool
    vector_said: str | None = None
    top_suspect: str | None = None
    top_score: float | None = None
    path_found: float | None = None

    def ok(self) -> bool:
        """Every measure that applies is right."""
        return (
            not self.failed
            and self.vector_right
            and self.insider_first is not False
            and self.false_accusation is not True
        )

    def as_dict(self) -> dict:
        return asdict(self)


def score(truth: dict, findings: dict | None) -> Score:
    """Score one run; ``findings`` None (or without a vector) is a failed run.

    A failed run counts as wrong on every measure that applies.
    """
    insiders = set(truth.get("insider_person_ids") or [])
    nobody = not insiders
    if not findings or not isinstance(findings.get("vector"), dict):
        return Score(False, None if nobody else False, None if not nobody else False, True)
    kind = findings["vector"].get("kind")
    found = _path_found(truth, findings)
    suspects = [s for s in findings.get("suspects") or [] if isinstance(s, dict)]
    top = suspects[0] if suspects else None
    top_id = top.get("person_id") if top else None
    top_score = float(top.get("score") or 0.0) if top else None
    if nobody:
        accused = any(float(s.get("score") or 0.0) >= ACCUSE_AT for s in suspects)
        right = kind == truth.get("vector")
        return Score(right, None, accused, False, kind, top_id, top_score, found)
    right = kind == truth.get("vector")
    return Score(right, top_id in insiders, None, False, kind, top_id, top_score, found)


def _path_found(truth: dict, findings: dict) -> float | None:
    want = {
        *(truth.get("machine_ids") or []),
        *(truth.get("account_ids") or []),
        *(truth.get("app_ids") or []),
    }
    if not want:
        return None
    path = findings.get("leak_path") or {}
    said = {x for k in ("machines", "accounts", "apps") for x in path.get(k) or []}
    return round(len(want & said) / len(want), 3)


def summarize(scores: Iterable[Score]) -> dict:
    """Counts over runs: ``runs``, ``vector`` (right), ``insider`` (first) of
    ``insider_cases``, ``accused`` of ``nobody_cases``, ``failed``, and
    ``path`` (mean path found over the ``path_cases`` that report it)."""
    out = {
        "runs": 0,
        "vector": 0,
        "insider": 0,
        "insider_cases": 0,
        "accused": 0,
        "nobody_cases": 0,
        "failed": 0,
        "path": 0.0,
        "path_cases": 0,
    }
    for s in scores:
        out["runs"] += 1
        out["vector"] += s.vector_right
        out["failed"] += s.failed
        if s.insider_first is not None:
            out["insider_cases"] += 1
            out["insider"] += s.insider_first
        if s.path_found is not None:
            out["path_cases"] += 1
            out["path"] += s.path_found
        if s.false_accusation is not None:
            out["nobody_cases"] += 1
            out["accused"] += s.false_accusation
    if out["path_cases"]:
        out["path"] = round(out["path"] / out["path_cases"], 3)
    return out
