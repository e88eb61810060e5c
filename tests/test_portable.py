"""The portable counting core: eager (one sweep) and lazy (windows) agree with
counting order by order, and with each other on a generated case."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from forensics import load
from forensics.scale.core import core_counts, core_inputs, prepare
from forensics.scale.portable import core_table
from forensics.synth import generate


def _brute(members: pl.DataFrame, events: pl.DataFrame, hits: pl.DataFrame, limit: int) -> dict:
    """(level, cand) -> (exposed, hits), expanding every interval into orders."""
    seen: dict = {}
    for r in members.join(events, on="ev").iter_rows(named=True):
        seen.setdefault((r["level"], r["cand"]), set()).update(range(r["lo"], min(r["hi"], limit)))
    hit: dict = {}
    for r in members.join(hits, on="ev").iter_rows(named=True):
        hit.setdefault((r["level"], r["cand"]), set()).add(r["idx"])
    return {k: (len(v), len(hit.get(k, ()))) for k, v in seen.items() if v}


def _as_dict(table: pl.DataFrame) -> dict:
    return {(r[0], r[1]): (r[2], r[3]) for r in table.iter_rows()}


def _frames(intervals, hit_pairs, shuffle_events: bool):
    n = len(intervals)
    events = pl.DataFrame(
        {"ev": range(n), "lo": [a for a, *_ in intervals], "hi": [a + w for a, w, *_ in intervals]},
        schema={"ev": pl.Int64, "lo": pl.Int64, "hi": pl.Int64},
    )
    if shuffle_events:  # not numbered by row: the join path
        events = events.reverse()
    members = pl.DataFrame(
        {
            "level": [lv for *_, lv in intervals],
            "cand": [c for *_, c, _ in intervals],
            "ev": range(n),
        },
        schema={"level": pl.String, "cand": pl.String, "ev": pl.Int64},
    )
    hits = pl.DataFrame(
        [(e % n, i) for e, i in hit_pairs], schema={"ev": pl.Int64, "idx": pl.Int64}, orient="row"
    )
    return members, events, hits


@settings(max_examples=80, deadline=None)
@given(
    intervals=st.lists(
        st.tuples(
            st.integers(0, 60), st.integers(0, 25), st.sampled_from("abc"), st.sampled_from("xy")
        ),
        min_size=1,
        max_size=40,
    ),
    hit_pairs=st.lists(st.tuples(st.integers(0, 40), st.integers(0, 5)), max_size=10),
    limit=st.integers(0, 90),
    shuffle_events=st.booleans(),
)
def test_eager_and_lazy_match_order_by_order_count(intervals, hit_pairs, limit, shuffle_events):
    members, events, hits = _frames(intervals, hit_pairs, shuffle_events)
    want = _brute(members, events, hits, limit)
    eager = core_table(members, events, hits, limit=limit)
    lazy = core_table(members.lazy(), events.lazy(), hits.lazy(), limit=limit).collect()
    assert eager.equals(lazy)
    assert _as_dict(eager) == want
    assert eager.columns == ["level", "cand", "exposed", "hits"]
    assert eager.schema["exposed"] == eager.schema["hits"] == pl.Int64


@pytest.mark.parametrize("one_by_one", [0, 10_000])
def test_many_random_paths(monkeypatch, one_by_one):
    # Stretches counted one at a time, or all in one reduceat pass.
    monkeypatch.setattr("forensics.scale.sweep._ONE_BY_ONE", one_by_one)
    rng = np.random.default_rng(0)
    n = 5000
    lo = rng.integers(0, 3000, n)
    width = np.where(rng.random(n) < 0.05, rng.integers(2, 500, n), 1)
    events = pl.DataFrame({"ev": np.arange(n), "lo": lo, "hi": lo + width})
    members = pl.DataFrame(
        {
            "level": rng.choice(["account", "machine"], n),
            "cand": rng.choice([f"c{i}" for i in range(25)], n),
            "ev": np.arange(n),
        }
    )
    hits = pl.DataFrame({"ev": rng.integers(0, n, 300), "idx": rng.integers(0, 50, 300)})
    got = core_table(members, events, hits, limit=2500)
    assert _as_dict(got) == _brute(members, events, hits, 2500)
    assert got.equals(core_table(members.lazy(), events.lazy(), hits.lazy(), limit=2500).collect())


def test_no_members_and_null_keys():
    events = pl.DataFrame({"ev": [0], "lo": [0], "hi": [5]})
    empty = pl.DataFrame(schema={"level": pl.String, "cand": pl.String, "ev": pl.Int64})
    for members in (empty, pl.DataFrame({"level": ["account"], "cand": [None], "ev": [0]})):
        got = core_table(members, events, limit=10)
        assert got.is_empty()
        assert got.columns == ["level", "cand", "exposed"]


def test_rejects_mixed_frames_and_negative_limit():
    members = pl.DataFrame({"level": ["account"], "cand": ["a"], "ev": [0]})
    events = pl.DataFrame({"ev": [0], "lo": [0], "hi": [5]})
    with pytest.raises(TypeError):
        core_table(members, events.lazy(), limit=10)
    with pytest.raises(ValueError):
        core_table(members, events, limit=-1)


@pytest.fixture(scope="module")
def small_case(tmp_path_factory):
    root = tmp_path_factory.mktemp("portable") / "case"
    generate(root, scenario="third_party_app", seed=2, orders=4000, progress=False)
    return load(root)


def test_lazy_path_reproduces_core_counts(small_case):
    """The windowed (Spark) formulation on polars gives core_counts' table."""
    inputs = core_inputs(small_case)
    lazy = core_table(
        inputs.members.lazy(), inputs.events.lazy(), inputs.hits.lazy(), limit=inputs.universe
    ).collect()
    local = core_counts(small_case)
    assert local.height > 10 and local["hits"].sum() > 0
    assert lazy.equals(local)


def test_duckdb_runs_the_same_core(small_case):
    duckdb = pytest.importorskip("duckdb", reason="duckdb not installed (pip install duckdb)")
    inputs = core_inputs(small_case)
    con = duckdb.connect()
    frames = [
        con.from_arrow(f.to_arrow())
        for f in (inputs.members, inputs.events.select("ev", "lo", "hi"), inputs.hits)
    ]
    got = core_table(*frames, limit=inputs.universe).pl()
    assert got.equals(core_counts(small_case))


def test_prepare_writes_the_counting_inputs(small_case, tmp_path):
    out = prepare(small_case, tmp_path / "prepared")
    members, events, hits = (
        pl.read_parquet(out / f"{name}.parquet") for name in ("members", "events", "hits")
    )
    universe = pl.read_json(out / "prepared.json")["universe"][0]
    got = core_table(members, events, hits, limit=universe)
    assert got.equals(core_counts(small_case))
