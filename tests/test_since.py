"""Device and process paths counted from the machine order (forensics.analysis.since)
count exactly what their listed members count."""

from __future__ import annotations

import polars as pl
import pytest

from forensics.analysis.commonpoint import keyed_counts
from forensics.analysis.exposure import infection_starts, level_members, machine_order
from forensics.analysis.since import since_counts
from forensics.investigate import investigate
from forensics.synth import generate


@pytest.fixture(scope="module")
def findings(tmp_path_factory):
    from forensics import load

    folder = tmp_path_factory.mktemp("since") / "case"
    generate(folder, scenario="usb_malware", seed=4, orders=4000, variants=["random"])
    case = load(folder)
    return investigate(case)


@pytest.mark.parametrize("shuffle", [False, True])
def test_since_counts_equal_the_listed_members(findings, shuffle):
    case, events, hits = findings.case, findings.events, findings.hits
    if shuffle:
        # A log not in time order: the machine order must still hold each
        # path's events.
        events = events.sample(fraction=1.0, shuffle=True, seed=3)
    starts = infection_starts(case, findings.clock_offsets)
    counted = findings.complaints.select("complaint_id")
    by_machine = machine_order(events)
    compared = 0
    # A universe cut inside the orders too: ranges cut to one order or none.
    for universe in (int(events["hi"].max()), int(events["hi"].max()) // 2):
        for level in ("device", "process"):
            keyed, cands = level_members(case, events, level, starts=starts, by_machine=by_machine)
            want = keyed_counts(
                keyed, cands, events, hits, counted_complaints=counted, universe=universe
            )
            got, members = since_counts(
                by_machine,
                starts[level],
                level,
                events,
                hits,
                counted_complaints=counted,
                universe=universe,
            )
            assert got.equals(want), level
            listed = (
                keyed.filter(pl.col("ev").is_in(hits["ev"].implode()))
                .join(cands, on="_k")
                .select("level", "cand", "ev")
            )
            assert members.sort(pl.all()).equals(listed.sort(pl.all())), level
            assert members.height > 0
            compared += want.height
    assert compared > 10


def test_since_counts_of_no_path(findings):
    events, hits = findings.events, findings.hits
    none = infection_starts(findings.case, findings.clock_offsets)["device"].clear()
    got, members = since_counts(
        machine_order(events),
        none,
        "device",
        events,
        hits,
        counted_complaints=findings.complaints.select("complaint_id"),
        universe=int(events["hi"].max()),
    )
    assert got.is_empty() and members.is_empty()


def test_since_exposed_on_a_bitmap_and_merged(findings):
    from forensics.analysis.exposure import since_candidates, since_rows
    from forensics.analysis.since import _exposed, _exposed_merged

    events = findings.events
    by_machine = machine_order(events)
    starts = infection_starts(findings.case, findings.clock_offsets)
    start, cands = since_candidates(starts["process"], "process")
    rows = since_rows(by_machine, start)
    limit, top = int(events["hi"].max()), int(cands["_k"].max())
    whole = _exposed(rows, by_machine, limit=limit, top=top)
    assert whole.height > 3
    # The route for universes too large for a bitmap: sorted runs merged,
    # swept in batches of paths.
    for budget in (10_000_000, 50):
        merged = _exposed_merged(rows, by_machine, limit=limit, top=top, budget=budget)
        assert merged.equals(whole)
    half = limit // 2
    assert _exposed(rows, by_machine, limit=half, top=top).equals(
        _exposed_merged(rows, by_machine, limit=half, top=top)
    )
