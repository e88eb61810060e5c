"""The age-weighted exposure (``n_eff``) equals weighing each order alone."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from forensics.analysis.orderage import _n_eff


def _brute(group, lo, hi, groups, universe, beta):
    """Each group's orders one by one, each weighed by its own share of the
    density: the integral of ``exp(beta x)`` over ``[i, i + 1) / universe``."""
    out = [None] * groups
    for g in range(groups):
        orders = set()
        for gg, a, b in zip(group, lo, hi, strict=True):
            if gg == g:
                orders.update(range(a, b))
        if not orders:
            continue
        if beta == 0.0:
            out[g] = float(len(orders))
            continue
        mass = sum(
            math.expm1(beta * (i + 1) / universe) - math.expm1(beta * i / universe) for i in orders
        )
        out[g] = universe * mass / math.expm1(beta)
    return out


@settings(max_examples=80, deadline=None)
@given(
    spans=st.lists(
        st.tuples(st.integers(0, 4), st.integers(0, 59), st.integers(1, 20)),
        max_size=40,
    ),
    beta=st.sampled_from([0.0, -2.4, 0.7, 5.0]),
)
def test_n_eff_matches_order_by_order(spans, beta):
    universe, groups = 60, 6
    group = np.array([g for g, *_ in spans], dtype=np.int64)
    lo = np.array([a for _, a, _ in spans], dtype=np.int64)
    hi = np.array([min(a + n, universe) for _, a, n in spans], dtype=np.int64)
    got = _n_eff(group, lo, hi, groups, universe, beta)
    want = _brute(group, lo, hi, groups, universe, beta)
    assert [g is None for g in got] == [w is None for w in want]
    for g, w in zip(got, want, strict=True):
        if w is not None:
            assert math.isclose(g, w, rel_tol=1e-9, abs_tol=1e-9)


def test_n_eff_is_the_same_bits_in_any_row_order():
    rng = np.random.default_rng(3)
    group = rng.integers(0, 7, 5000)
    lo = rng.integers(0, 100_000, group.size)
    hi = np.minimum(lo + rng.integers(1, 500, group.size), 100_000)
    first = _n_eff(group, lo, hi, 8, 100_000, -2.39596)
    for _ in range(3):
        order = rng.permutation(group.size)
        assert _n_eff(group[order], lo[order], hi[order], 8, 100_000, -2.39596) == first
    assert first[7] is None


def test_n_eff_past_packed_numbers():
    # Start and length no longer fit one 64-bit number: sorted by start.
    universe = 3_000_000_000
    group = np.array([1, 0, 1, 1, 0])
    lo = np.array([10, 2_999_999_990, 12, 40, 5])
    hi = np.array([20, 3_000_000_000, 15, 41, 6])
    assert _n_eff(group, lo, hi, 3, universe, 0.0) == [11.0, 11.0, None]
    got = _n_eff(group, lo, hi, 3, universe, 1.5)
    want = _brute(group, lo, hi, 3, universe, 1.5)
    assert got[2] is None
    assert all(math.isclose(g, w, rel_tol=1e-6) for g, w in zip(got[:2], want[:2], strict=True))
