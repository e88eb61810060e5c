"""Leaks with no complaint spike (session 11).

Buyers called weeks after the leak, a slow harvest, or background
complaints as numerous as the leak's: the complaints trickle in and no day
stands out. The engine must still find the path they concentrate on, with
the same tests as in a case with a spike, and must not let the leak's own
complaints argue it away.
"""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import polars as pl

from forensics.analysis.commonpoint import CommonPointSettings, flagged_family
from forensics.analysis.orderage import age_adjusted, fit_age_model

UNIVERSE = 2000
T = datetime(2024, 7, 16, tzinfo=UTC)


def _points(rows: list[dict]) -> pl.DataFrame:
    base = {
        "exposed": 0,
        "hits": 0,
        "first_exposure": T,
        "flagged": False,
        "significant": True,
        "lift": 1.0,
        "strength": 5.0,
        "onset": False,
        "onset_p": 1.0,
        "p_value": 1e-5,
        "log10_p": -5.0,
    }
    return pl.DataFrame([{**base, **r} for r in rows])


def test_a_stick_and_the_payload_it_started_are_one_test_in_the_flagged_family():
    points = _points(
        [
            {"level": "device", "id": "USB-1", "exposed": 2906, "hits": 24, "flagged": True},
            {"level": "process", "id": "abc0", "exposed": 2906, "hits": 24, "flagged": True},
            {"level": "account", "id": "a", "exposed": 500, "hits": 3},
        ]
    )
    assert flagged_family(points) == 1
    other = _points([{"level": "device", "id": "USB-2", "exposed": 10, "hits": 1, "flagged": True}])
    assert flagged_family(pl.concat([points, other])) == 2


# An export of the oldest 400 orders leaked: 30 of its buyers complained;
# 20 background complaints fell anywhere else.
EXPORT = (0, 400)
LEAK = np.arange(5, 400, 13)[:30]
BACKGROUND = np.linspace(420, 1990, 20).astype(np.int64)


def _adjusted(leave_out):
    points = _points(
        [{"level": "event", "id": "A1", "exposed": 400, "hits": 30, "lift": 3.75, "strength": 12.0}]
    )
    members = pl.DataFrame({"level": ["event"], "cand": ["A1"], "ev": [0]})
    events = pl.DataFrame({"ev": [0], "lo": [EXPORT[0]], "hi": [EXPORT[1]]})
    complaints = np.concatenate([LEAK, BACKGROUND])
    return age_adjusted(
        points,
        members,
        events,
        fit_age_model(complaints, UNIVERSE),
        universe=UNIVERSE,
        complained=complaints.size,
        overlap=CommonPointSettings(),
        settings=CommonPointSettings(),
        leave_out=complaints if leave_out else None,
    ).row(0, named=True)


def test_a_quiet_leak_teaches_the_age_model_its_own_weeks():
    # Fitted on every complaint, the leak's make old orders look complained
    # about by nature, and the export that leaked them is discounted away.
    assert not fit_age_model(np.concatenate([LEAK, BACKGROUND]), UNIVERSE).flat
    assert not _adjusted(leave_out=False)["significant"]


def test_refit_without_the_paths_own_complaints_the_leak_stands():
    row = _adjusted(leave_out=True)
    assert row["significant"]
    assert row["exposed_by_age"] == 400  # the other complaints do not lean


def test_a_real_lean_still_discounts_a_path_of_old_orders():
    # Background complaints that lean old everywhere, not only on the path:
    # refit without the path's own, they still lean, and its share of them
    # is what the lean predicts.
    rng = np.random.default_rng(3)
    x = rng.beta(1, 4, size=400)  # old orders complained about far more
    complaints = np.sort((x * UNIVERSE).astype(np.int64))
    mine = int(((complaints >= EXPORT[0]) & (complaints < EXPORT[1])).sum())
    points = _points(
        [{"level": "event", "id": "A1", "exposed": 400, "hits": mine, "strength": 12.0}]
    )
    row = age_adjusted(
        points,
        pl.DataFrame({"level": ["event"], "cand": ["A1"], "ev": [0]}),
        pl.DataFrame({"ev": [0], "lo": [EXPORT[0]], "hi": [EXPORT[1]]}),
        fit_age_model(complaints, UNIVERSE),
        universe=UNIVERSE,
        complained=complaints.size,
        overlap=CommonPointSettings(),
        settings=CommonPointSettings(),
        leave_out=complaints,
    ).row(0, named=True)
    assert row["exposed_by_age"] > 400 * 1.5
    assert not row["significant"]


def test_a_new_app_is_significant_by_timing_alone_unless_its_overlap_survives_correction():
    # A legitimate app approved the week the leak began opened just before
    # the complaints rose. Its orders are complained about a little more
    # than others (raw p = 0.006) but not beyond chance among the 180 paths
    # tested; the insider's stick explains more of the spike with fewer
    # orders and far more concentration.
    from forensics.analysis.vector import _without_weak_timing

    sig = _points(
        [
            {
                "level": "app",
                "id": "APP-CN",
                "exposed": 2367,
                "hits": 37,
                "lift": 1.28,
                "log10_p": -2.25,
                "p_adjusted": 1.0,
                "onset": True,
                "recent_coverage": 0.81,
            },
            {
                "level": "device",
                "id": "USB-P019-2",
                "exposed": 1079,
                "hits": 40,
                "lift": 3.03,
                "log10_p": -16.6,
                "p_adjusted": 1e-14,
                "onset": True,
                "recent_coverage": 0.92,
            },
        ]
    )
    kept = _without_weak_timing(sig)
    assert kept.get_column("id").to_list() == ["USB-P019-2"]


def test_the_lean_fitted_on_the_orders_left_recovers_the_true_lean():
    # Complaints leaning old (beta -3) or new (+2.5), the orders of one
    # path (20-35 % of the placement order) set aside with their complaints.
    rng = np.random.default_rng(1)
    support = (np.array([0, 3500]), np.array([2000, 10000]))
    for beta in (-3.0, 2.5):
        x = rng.random(200_000)
        x = x[rng.random(x.size) < np.exp(beta * x) / np.exp(max(beta, 0.0))]
        x = x[(x < 0.2) | (x >= 0.35)]
        model = fit_age_model((x * 10_000).astype(np.int64), 10_000, support=support)
        assert abs(model.beta - beta) < 0.1
        # Fitted as if the whole range were there, the gap biases it.
        naive = fit_age_model((x * 10_000).astype(np.int64), 10_000)
        assert abs(naive.beta - beta) > abs(model.beta - beta)
