"""The engine on generated cases: every vector kind, several seeds, two sizes.

These are the acceptance tests of the investigation engine: the true leak
path, the insider ranked first, the true machines/accounts/apps among the
significant vectors, and nobody accused when nobody is guilty.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

from forensics import investigate, load
from forensics.synth import generate

KINDS = [
    "usb_malware",
    "insider_export",
    "stale_account",
    "visitor_malware",
    "third_party_app",
    "none",
]
SEEDS = [1, 2, 3, 4, 5]
SIZES = [3000, 20000]


@pytest.fixture(scope="module")
def cases(tmp_path_factory):
    """Generated cases, made once per module and investigated lazily."""
    made = {}

    def get(kind: str, seed: int, orders: int):
        key = (kind, seed, orders)
        if key not in made:
            folder = tmp_path_factory.mktemp(f"{kind}-{seed}-{orders}")
            truth = generate(
                folder / "case", scenario=kind, seed=seed, orders=orders, progress=False
            )
            findings = investigate(load(folder / "case"))
            made[key] = (truth, findings)
        return made[key]

    return get


@pytest.mark.parametrize("orders", SIZES)
@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("kind", KINDS)
def test_engine_finds_the_truth(cases, kind, seed, orders):
    truth, findings = cases(kind, seed, orders)
    doc = findings.to_dict()
    assert doc["vector"]["kind"] == truth["vector"], findings.vector.rationale

    vectors = {(v["level"], v["id"]) for v in doc["vectors"]}
    for m in truth["machine_ids"]:
        assert ("machine", m) in vectors, f"true machine {m} not among significant vectors"
    for a in truth["app_ids"]:
        assert ("app", a) in vectors, f"true app {a} not among significant vectors"
    for a in truth["account_ids"]:
        assert ("account", a) in vectors, f"true account {a} not among significant vectors"

    if truth["insider_person_ids"]:
        assert doc["suspects"], "an insider exists but nobody was named"
        assert doc["suspects"][0]["person_id"] in truth["insider_person_ids"]
        assert doc["suspects"][0]["score"] >= 0.5
    else:
        assert all(s["score"] < 0.5 for s in doc["suspects"]), doc["suspects"]


@pytest.mark.parametrize("kind", KINDS)
def test_every_evidence_item_cites_a_real_row(cases, kind):
    truth, findings = cases(kind, 1, SIZES[0])
    doc = findings.to_dict()
    files = {f["file"]: f["rows"] for f in doc["inputs"]}
    for s in doc["suspects"]:
        assert s["evidence"], "a suspect without evidence"
        for e in s["evidence"]:
            assert e["source"] in files
            # rows are line numbers: header is line 1, so data rows are 2..rows+1
            assert 2 <= e["row"] <= files[e["source"]] + 1 + 50


def test_findings_json_follows_the_contract(cases):
    truth, findings = cases("usb_malware", 1, SIZES[0])
    doc = json.loads(findings.to_json())
    assert doc["format"] == "forensics.findings/1"
    assert set(doc) >= {
        "case_id",
        "vector",
        "suspects",
        "vectors",
        "leak_window",
        "clock_offsets",
        "inputs",
    }
    assert 0 <= doc["vector"]["confidence"] <= 1
    for v in doc["vectors"]:
        assert set(v) >= {"level", "id", "coverage", "lift", "p_value"}
    for s in doc["suspects"]:
        assert 0 <= s["score"] <= 1


DATASETS = Path(__file__).resolve().parents[1] / "datasets"


@pytest.mark.parametrize(
    "name",
    [
        "april-trojan",
        "insider-export",
        "stale-account",
        "visitor-malware",
        "third-party-app",
        "no-leak",
    ],
)
def test_bundled_cases(name):
    truth = json.loads((DATASETS / name / "truth.json").read_text())
    doc = investigate(load(DATASETS / name)).to_dict()
    assert doc["vector"]["kind"] == truth["vector"]
    if truth["insider_person_ids"]:
        assert doc["suspects"][0]["person_id"] in truth["insider_person_ids"]
    else:
        assert doc["suspects"] == []


def test_april_trojan_names_the_new_hire_with_rows_from_every_source(tmp_path):
    from forensics.cli import main

    assert (
        main(["investigate", str(DATASETS / "april-trojan"), "--out", str(tmp_path), "--quiet"])
        == 0
    )
    doc = json.loads((tmp_path / "findings.json").read_text())
    truth = json.loads((DATASETS / "april-trojan" / "truth.json").read_text())
    top = doc["suspects"][0]
    assert top["person_id"] == truth["insider_person_ids"][0] and top["score"] >= 0.9
    assert {"camera.csv", "endpoint.csv", "access.csv"} <= {e["source"] for e in top["evidence"]}
    machines = {v["id"] for v in doc["vectors"] if v["level"] == "machine"}
    assert set(truth["machine_ids"]) <= machines and len(truth["machine_ids"]) == 6
    offset = doc["clock_offsets"]["camera.csv"]
    assert offset.startswith("+00:07") or offset.startswith("+00:08")
    assert doc["leak_window"]["start"].startswith("2024-04-04T07:")


@pytest.mark.parametrize("kind", ["usb_malware", "visitor_malware", "third_party_app"])
def test_numbered_members_count_like_candidate_events(cases, kind):
    """The engine counts each level from members numbered straight off the
    events (and machine slices for devices and processes); the plain route
    through candidate_events must give the same table, level by level."""
    from forensics.analysis.commonpoint import keyed_counts, path_counts
    from forensics.analysis.exposure import (
        LEVELS,
        candidate_events,
        infection_starts,
        level_members,
    )

    _, findings = cases(kind, 2, SIZES[0])
    case, events, hits = findings.case, findings.events, findings.hits
    starts = infection_starts(case, findings.clock_offsets)
    counted = findings.complaints.select("complaint_id")
    universe = int(events["hi"].max())
    compared = 0
    for level in LEVELS:
        plain = path_counts(
            candidate_events(case, events, findings.clock_offsets, levels=(level,)),
            events,
            hits,
            counted_complaints=counted,
            universe=universe,
        )
        keyed, cands = level_members(case, events, level, starts=starts)
        fast = keyed_counts(
            keyed, cands, events, hits, counted_complaints=counted, universe=universe
        )
        assert fast.equals(plain), level
        compared += plain.height
    assert compared > 100
    # Only some candidates, as the engine batches large levels.
    some = plain.head(3).select("level", "cand")
    assert some.height == 3 and some["level"].to_list() == ["process"] * 3
    keyed, cands = level_members(case, events, "process", starts=starts, paths=some)
    assert set(cands["cand"]) == set(some["cand"])
    # A log not in time order: the machine slices must still hold exactly
    # each path's events.
    shuffled = events.sample(fraction=1.0, shuffle=True, seed=3)
    assert not shuffled["at"].is_sorted()
    for level in ("device", "process"):
        plain = candidate_events(case, shuffled, findings.clock_offsets, levels=(level,))
        keyed, cands = level_members(case, shuffled, level, starts=starts)
        got = keyed.join(cands, on="_k").select("level", "cand", "ev")
        assert plain.height > 0
        assert got.sort(pl.all()).equals(plain.sort(pl.all())), level


@pytest.mark.parametrize("kind", ["usb_malware", "insider_export"])
def test_graph_without_complaint_nodes_explains_the_same(cases, kind):
    """forensics investigate builds the graph without a node per complaint;
    findings.json (the explanations included) must not change."""
    _, findings = cases(kind, 2, 3000)
    lean = investigate(findings.case, complaint_nodes=False)
    kinds = {d["kind"] for _, d in lean.graph.nodes(data=True)}
    assert "complaint" not in kinds
    assert "complaint" in {d["kind"] for _, d in findings.graph.nodes(data=True)}
    doc = findings.to_dict()
    assert any(s["paths"] for s in doc["suspects"])
    assert lean.to_json() == findings.to_json()


def test_output_piped_into_a_reader_that_stops_early_is_no_traceback(tmp_path):
    # `forensics investigate CASE --out DIR | head -1`: the findings are
    # written before the summary is printed; the closed pipe is no error.
    read, write = os.pipe()
    os.close(read)  # the reader has gone before anything is printed
    try:
        done = subprocess.run(
            [sys.executable, "-m", "forensics.cli", "investigate", str(DATASETS / "no-leak")]
            + ["--out", str(tmp_path / "out"), "--quiet"],
            stdout=write,
            stderr=subprocess.PIPE,
            text=True,
        )
    finally:
        os.close(write)
    assert "Traceback" not in done.stderr and "BrokenPipe" not in done.stderr
    assert done.returncode == 128 + signal.SIGPIPE
    assert (tmp_path / "out" / "findings.json").is_file()
