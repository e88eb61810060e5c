"""The complaint spike against a background that is not flat.

A shop's background of scam complaints grows with the orders on its books;
a marketplace's runs to hundreds a day with weekday swings. The spike
detector must date the leak's burst, not the ramp (a flat Poisson rate
called half of a 10M-order case's period a spike and let an app that opened
weeks before the leak claim it).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from forensics.analysis.complaints import _background
from forensics.analysis.tails import poisson_logsf

ROOT = Path(__file__).resolve().parents[1]

SETTINGS = dict(alpha=1e-3, min_background=0.1, history=21, guard=4, min_ratio=1.5)


def spike_days(counts):
    _, _, spike, _ = _background(np.asarray(counts, dtype=float), **SETTINGS)
    return np.flatnonzero(spike)


@pytest.mark.parametrize("seed", range(5))
def test_a_ramp_is_background_and_the_burst_after_it_is_the_spike(seed):
    rng = np.random.default_rng(seed)
    ramp = np.linspace(5, 600, 48)
    counts = rng.poisson(ramp)
    counts[40:47] += rng.poisson([300, 700, 1100, 1200, 1100, 1000, 900])
    days = spike_days(counts)
    assert days.size and days[0] == 40
    assert spike_days(rng.poisson(ramp)).size == 0


@pytest.mark.parametrize("seed", range(5))
def test_overdispersed_background_alone_is_no_spike(seed):
    rng = np.random.default_rng(seed)
    mean = np.linspace(50, 400, 60) * (1 + 0.15 * np.sin(np.arange(60) * 2 * np.pi / 7))
    phi = 5.0
    counts = stats.nbinom.rvs(mean / (phi - 1), 1 / phi, random_state=rng)
    assert spike_days(counts).size == 0


def test_a_lone_busy_day_weeks_before_does_not_date_the_leak():
    counts = [0, 1, 0, 0, 1, 4, 0, 0, 1, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1]
    counts += [0, 0, 20, 45, 30, 12, 6]
    days = spike_days(counts)
    assert days[0] == 28


def test_a_slow_start_is_caught_on_its_first_days():
    # about a hundred complaints, rising over a week from a quiet background
    counts = [0] * 30 + [3, 4, 4, 8, 6, 9, 12, 20, 18]
    days = spike_days(counts)
    assert days[0] == 30


def test_quiet_case_has_no_spike():
    rng = np.random.default_rng(1)
    assert spike_days(rng.poisson(0.8, 60)).size == 0


def test_poisson_tail_stays_finite_far_out():
    k = np.array([1, 10, 1300, 100_000])
    mean = np.array([0.5, 2.0, 350.0, 10.0])
    out = poisson_logsf(k, mean)
    assert np.isfinite(out).all()
    exact = stats.poisson.logsf(k[:2] - 1, mean[:2])
    assert np.allclose(out[:2], exact)
    # further out is less likely
    assert poisson_logsf(np.array([2000]), np.array([350.0]))[0] < out[2] < 0


def _linked(received, called):
    """Complaints as :func:`link_complaints` gives them: received and called
    times (UTC; a call may be unknown)."""
    from datetime import UTC

    import polars as pl

    rows = [
        {"complaint_id": f"C{i}", "received_at": r.replace(tzinfo=UTC), "contacted_at": c}
        for i, (r, c) in enumerate(zip(received, called, strict=True))
    ]
    frame = pl.DataFrame(
        rows,
        schema={
            "complaint_id": pl.String,
            "received_at": pl.Datetime("us", "UTC"),
            "contacted_at": pl.Datetime("us", "UTC"),
        },
    )
    return frame.with_columns(pl.min_horizontal("contacted_at", "received_at").alias("deadline"))


def _weekly_batches():
    # The no-leak shop's seven weeks; a platform forwards its complaints
    # every Monday at 10:00. A dozen background calls, one every four days,
    # then 30 buyers called over the five days from 10 April.
    from datetime import UTC, datetime, timedelta

    start = datetime(2024, 3, 13, 9, tzinfo=UTC)
    calls = [start + timedelta(days=4 * i) for i in range(12)]
    calls += [datetime(2024, 4, 10, 6, tzinfo=UTC) + timedelta(hours=4 * i) for i in range(30)]
    calls.sort()

    def monday(t):
        return (t + timedelta(days=7 - t.weekday())).replace(hour=2, minute=0, tzinfo=None)

    return [monday(c) for c in calls], calls


def test_a_spike_is_dated_by_the_calls_when_complaints_come_in_weekly_batches():
    from datetime import date

    from forensics import load
    from forensics.analysis.complaints import complaint_rate, rate_by

    case = load(ROOT / "datasets" / "no-leak", personal=False)
    received, calls = _weekly_batches()
    linked = _linked(received, calls)
    by_receipt = rate_by(case, linked, "received_at")
    assert by_receipt.spike_start >= date(2024, 4, 15)  # the Mondays
    rate = complaint_rate(case, linked)
    assert rate.dated_by == "deadline"
    assert date(2024, 4, 10) <= rate.spike_start <= date(2024, 4, 11)
    assert rate.spike_end <= date(2024, 4, 15)


def test_without_call_times_complaints_are_dated_by_receipt():
    from forensics import load
    from forensics.analysis.complaints import complaint_rate

    case = load(ROOT / "datasets" / "no-leak", personal=False)
    received, _ = _weekly_batches()
    rate = complaint_rate(case, _linked(received, [None] * len(received)))
    assert rate.dated_by == "received_at"
