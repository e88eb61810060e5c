"""Exposure counting by interval arithmetic equals counting order by order."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from forensics.scale.portable import union_size

SAMPLE = Path(__file__).resolve().parents[1] / "datasets" / "april-trojan"


def _brute(members: pl.DataFrame, events: pl.DataFrame, limit: int) -> dict:
    seen: dict = {}
    for r in members.join(events, on="ev").iter_rows(named=True):
        seen.setdefault((r["level"], r["cand"]), set()).update(range(r["lo"], min(r["hi"], limit)))
    return {k: len(v) for k, v in seen.items() if v}


@settings(max_examples=60, deadline=None)
@given(
    intervals=st.lists(
        st.tuples(
            st.integers(0, 60), st.integers(1, 25), st.sampled_from("abc"), st.sampled_from("xy")
        ),
        min_size=1,
        max_size=40,
    ),
    limit=st.integers(1, 90),
)
def test_union_size_matches_order_by_order_count(intervals, limit):
    events = pl.DataFrame(
        {
            "ev": list(range(len(intervals))),
            "lo": [a for a, *_ in intervals],
            "hi": [a + n for a, n, *_ in intervals],
        },
        schema={"ev": pl.Int64, "lo": pl.Int64, "hi": pl.Int64},
    )
    members = pl.DataFrame(
        {
            "level": [lv for *_, lv in intervals],
            "cand": [c for *_, c, _ in intervals],
            "ev": list(range(len(intervals))),
        },
        schema={"level": pl.String, "cand": pl.String, "ev": pl.Int64},
    )
    got = {
        (r["level"], r["cand"]): r["exposed"]
        for r in union_size(members, events, limit=limit).iter_rows(named=True)
    }
    assert {k: v for k, v in got.items() if v} == _brute(members, events, limit)


def test_union_size_on_many_random_paths():
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
    got = {
        (r["level"], r["cand"]): r["exposed"]
        for r in union_size(members, events, limit=2500).iter_rows(named=True)
    }
    assert got == _brute(members, events, 2500)


@settings(max_examples=60, deadline=None)
@given(
    intervals=st.lists(
        st.tuples(
            st.integers(0, 60),
            st.sampled_from([1, 1, 1, 2, 5, 25]),
            st.sampled_from("abc"),
            st.sampled_from(["account", "machine"]),
        ),
        min_size=1,
        max_size=40,
    ),
    limit=st.integers(1, 90),
    one_level=st.booleans(),
)
def test_path_counts_exposed_matches_union_size(intervals, limit, one_level):
    """path_counts counts exposure its own way (single orders sorted, ranges
    swept); the numbers are union_size's (the portable core's)."""
    from forensics.analysis.commonpoint import path_counts

    n = len(intervals)
    events = pl.DataFrame(
        {
            "ev": list(range(n)),
            "lo": [a for a, *_ in intervals],
            "hi": [a + w for a, w, *_ in intervals],
            "at": [None] * n,
        },
        schema={"ev": pl.Int64, "lo": pl.Int64, "hi": pl.Int64, "at": pl.Datetime("us", "UTC")},
    )
    members = pl.DataFrame(
        {
            "level": ["account" if one_level else lv for *_, lv in intervals],
            "cand": [c for *_, c, _ in intervals],
            "ev": list(range(n)),
        },
        schema={"level": pl.String, "cand": pl.String, "ev": pl.Int64},
    )
    hits = pl.DataFrame(
        schema={
            "ev": pl.Int64,
            "complaint_id": pl.String,
            "idx": pl.Int64,
            "at": pl.Datetime("us", "UTC"),
            "in_time": pl.Boolean,
            "fields_ok": pl.Boolean,
        }
    )
    got = path_counts(
        members,
        events,
        hits,
        counted_complaints=pl.DataFrame(schema={"complaint_id": pl.String}),
        universe=limit,
    )
    want = union_size(members, events, limit=limit)
    assert got.select("level", "cand", "exposed").rows() == want.rows()


@settings(max_examples=200, deadline=None)
@given(
    total=st.integers(1, 3000),
    data=st.data(),
)
def test_hypergeometric_tail_matches_scipy(total, data):
    """The vectorised tail behind every p-value equals scipy's, to 1e-9 of
    the log, on either side of the mode and at the ends of the support."""
    from scipy import stats

    from forensics.analysis.tails import hypergeom_log_tail

    marked = data.draw(st.integers(0, total))
    drawn = data.draw(st.lists(st.integers(0, total), min_size=1, max_size=20))
    n = np.array(drawn, dtype=np.int64)
    k = np.array([data.draw(st.integers(0, min(m, marked) + 1)) for m in drawn])
    mine = hypergeom_log_tail(k, n, total, marked)
    ref = stats.hypergeom.logsf(k - 1, total, marked, n)
    assert np.array_equal(np.isfinite(mine), np.isfinite(ref))
    finite = np.isfinite(ref)
    assert np.allclose(mine[finite], ref[finite], rtol=1e-9, atol=1e-12)


def test_hypergeometric_tail_on_a_marketplace_scale():
    """Millions of orders, wide distributions: still scipy's numbers."""
    from scipy import stats

    from forensics.analysis.tails import hypergeom_log_tail

    N, K, n = 10_000_000, 400_000, 5_000_000
    k = np.array([1, 150_000, 199_000, 200_000, 200_001, 201_500, 260_000, 400_000])
    mine = hypergeom_log_tail(k, np.full(k.size, n), N, K)
    ref = stats.hypergeom.logsf(k - 1, N, K, n)
    assert np.allclose(mine, ref, rtol=1e-7)


def test_order_rows_by_hash_match_the_string_join(monkeypatch):
    """Against many orders the loader matches ids by two seeded hashes; the
    rows must be the string join's, unknown and empty ids included, and two
    orders sharing the first hash fall back to the strings."""
    import forensics.case._tables as tables
    from forensics.case._tables import match_rows

    rng = np.random.default_rng(5)
    n = 5000
    ids = [f"O{i:07d}" for i in rng.permutation(n)]
    known = pl.Series("order_id", ids)
    wanted = [ids[i] for i in rng.integers(0, n, 20_000)] + ["O9999999", "o0000001", None, ""]
    asked = pl.Series("order_id", wanted, dtype=pl.String)
    plain = match_rows(asked, known)  # below the threshold: strings
    assert plain.null_count() == 4
    assert plain.to_list()[:5] == [ids.index(w) for w in wanted[:5]]

    monkeypatch.setattr(tables, "_LARGE", 0)
    hashed = match_rows(asked, known)
    assert hashed.equals(plain)

    # Every order sharing one first hash: the string route, same rows.
    monkeypatch.setattr(pl.Expr, "hash", lambda self, seed=0, *a: pl.lit(7, pl.UInt64))
    assert match_rows(asked, known).equals(plain)


def test_order_rows_of_a_unique_key_survive_first_hash_collisions(monkeypatch):
    """With ``unique`` (a checked key), orders sharing the first hash are
    told apart by the second: the rows are still the string join's."""
    import forensics.case._tables as tables
    from forensics.case._tables import match_rows

    rng = np.random.default_rng(7)
    ids = [f"O{i:07d}" for i in rng.permutation(3000)]
    known = pl.Series("order_id", ids)
    asked = pl.Series("order_id", [ids[i] for i in rng.integers(0, 3000, 9000)] + ["O9", None])
    plain = match_rows(asked, known)
    monkeypatch.setattr(tables, "_LARGE", 0)
    seeds = iter([1, 2])
    monkeypatch.setattr(tables.secrets, "randbits", lambda bits: next(seeds))
    real = pl.Expr.hash

    def first_collides(self, seed=0, *a):
        return pl.lit(7, pl.UInt64) if seed == 1 else real(self, seed, *a)

    monkeypatch.setattr(pl.Expr, "hash", first_collides)
    hashed = match_rows(asked, known, unique=True)
    assert hashed.equals(plain)
    assert hashed.null_count() == 2


def test_loader_order_rows_give_the_string_join_numbers(monkeypatch):
    """A large case's access rows are numbered from the loader's match;
    the numbers must be those of matching the ids as strings."""
    import forensics.case._tables as tables
    from forensics import load
    from forensics.analysis.exposure import exposure_events, order_index

    monkeypatch.setattr(tables, "_LARGE", 0)
    case = load(SAMPLE)
    assert case.access_order_rows is not None
    index = order_index(case)
    matched = exposure_events(case, None, index)
    plain = exposure_events(replace(case, access_order_rows=None), None, index)
    assert matched.equals(plain)
    assert matched.filter(pl.col("hi") - pl.col("lo") == 1).height > 100


@pytest.mark.parametrize("layout", ["placed", "shuffled", "with_null"])
def test_order_numbers_are_placement_then_id_whatever_the_file_order(layout):
    """idx is the rank by placed_at (ties in the file's order), however the
    file lists the orders; placed[idx] is that order's time."""
    from types import SimpleNamespace

    from forensics.analysis.exposure import order_index

    rng = np.random.default_rng(11)
    n = 3000
    times = np.sort(rng.integers(0, 1500, n))  # many instants shared by several orders
    ids = [f"O{i:05d}" for i in rng.permutation(n)]
    orders = pl.DataFrame(
        {
            "order_id": ids,
            "buyer_id": [f"B{i % 97}" for i in range(n)],
            "placed_at": pl.Series(times * 1_000_000).cast(pl.Datetime("us")),
            "_row": np.arange(2, n + 2),
        }
    )
    if layout == "shuffled":
        orders = orders.sample(fraction=1.0, shuffle=True, seed=3)
    if layout == "with_null":
        orders = orders.with_columns(
            pl.when(pl.col("_row") == 40)
            .then(None)
            .otherwise(pl.col("placed_at"))
            .alias("placed_at")
        ).sample(fraction=1.0, shuffle=True, seed=4)
    want = orders.sort("placed_at", maintain_order=True).with_row_index("idx")
    index = order_index(SimpleNamespace(orders=orders))
    got = index.orders.select("idx", "order_id").sort("idx")
    assert got["order_id"].equals(want["order_id"])
    assert got["idx"].to_list() == list(range(n))
    assert index.placed.equals(want["placed_at"])
    rows = pl.Series([5, None, 0, n - 1], dtype=pl.UInt32)
    by_row = orders.with_row_index("row").join(index.orders, on="order_id")
    expect = [None if r is None else by_row.filter(pl.col("row") == r)["idx"][0] for r in rows]
    assert index.numbers_of_rows(rows).to_list() == expect
    assert (index.idx_of_row is None) == (layout == "placed")
