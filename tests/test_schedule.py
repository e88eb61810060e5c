"""Scheduled exports and the paths that stand in for them (session 11).

A clerk who exports the last half-month on the 1st and the 15th makes three
or four bulk exports in a case: too few for the routine-stream test, yet a
schedule by its ranges. When buyers are called weeks after a leak, the one
half-month that holds the leak's oldest orders concentrates the complaints
better than the path that leaked, which read most of the shop's orders and
so is not significant itself.
"""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import polars as pl
import pytest

from forensics import investigate, load
from forensics.analysis.explained import within_schedule
from forensics.analysis.streams import scheduled_events

INDEPENDENT = Path(__file__).resolve().parents[1] / "benchmarks" / "independent"
CASE = SimpleNamespace(timezone=lambda: "Asia/Shanghai")
T0 = datetime(2025, 7, 1, 2, 45, tzinfo=UTC)  # 10:45 in Shanghai


def _events(rows: list[tuple[str, datetime, int, int]]) -> pl.DataFrame:
    """Access events (account, at, lo, hi), all exports, numbered in order."""
    return pl.DataFrame(
        {
            "ev": list(range(len(rows))),
            "account_id": [r[0] for r in rows],
            "action": ["export_orders"] * len(rows),
            "at": [r[1] for r in rows],
            "lo": [r[2] for r in rows],
            "hi": [r[3] for r in rows],
        },
        schema_overrides={"at": pl.Datetime("us", "UTC")},
    )


def _half_months(account: str = "fin", n: int = 4, width: int = 600) -> list:
    # Every 15 days, each the orders since about where the last one ended
    # (a day's orders of gap or overlap at the edges).
    rows, lo = [], 0
    for i in range(n):
        rows.append((account, T0 + timedelta(days=15 * i, minutes=7 * i), lo, lo + width))
        lo += width + (40 if i % 2 else -30)
    return rows


def test_half_month_exports_are_a_schedule():
    found = scheduled_events(CASE, _events(_half_months()))
    assert sorted(found.to_list()) == [0, 1, 2, 3]


def test_a_one_off_export_among_them_is_not_on_the_schedule():
    # The same account's backfill of everything, after its last export.
    rows = [*_half_months(), ("fin", T0 + timedelta(days=50), 0, 2400)]
    found = set(scheduled_events(CASE, _events(rows)).to_list())
    assert found == {0, 1, 2, 3}


@pytest.mark.parametrize(
    "rows",
    [
        # Three chunks of one sitting, minutes apart: one export, not a schedule.
        [("x", T0 + timedelta(minutes=5 * i), 600 * i, 600 * (i + 1)) for i in range(3)],
        # Two half-months only.
        _half_months(n=2),
        # Ranges that do not follow on from each other.
        [("x", T0 + timedelta(days=15 * i), 1000 * i, 1000 * i + 300) for i in range(4)],
        # Intervals of 3, 15 and 20 days.
        [
            ("x", T0 + timedelta(days=d), 600 * i, 600 * (i + 1))
            for i, d in enumerate((0, 3, 18, 38))
        ],
        # At 10:45, then 16:45, 22:45 (local).
        [("x", T0 + timedelta(days=15 * i, hours=6 * i), 600 * i, 600 * (i + 1)) for i in range(3)],
    ],
    ids=["one-sitting", "two-events", "not-following-on", "irregular", "hours-apart"],
)
def test_what_is_not_a_schedule(rows):
    assert scheduled_events(CASE, _events(rows)).len() == 0


def test_each_account_keeps_its_own_schedule():
    # Another account's export in between neither joins nor breaks it.
    rows = sorted(
        [*_half_months("fin"), ("ops", T0 + timedelta(days=16), 0, 600)], key=lambda r: r[1]
    )
    events = _events(rows)
    found = set(scheduled_events(CASE, events).to_list())
    fin = set(events.filter(pl.col("account_id") == "fin").get_column("ev").to_list())
    assert found == fin and len(fin) == 4


N = 3000


def _mask(lo: int, hi: int) -> np.ndarray:
    mask = np.zeros(N, dtype=bool)
    mask[lo:hi] = True
    return mask


def _complained(indices) -> np.ndarray:
    mask = np.zeros(N, dtype=bool)
    mask[list(indices)] = True
    return mask


# A half-month export of orders 400-1000 and an account that read 400-2900.
EXPORT, ACCOUNT = _mask(400, 1000), _mask(400, 2900)


def test_a_scheduled_export_within_the_path_that_leaked_is_set_aside():
    complained = _complained([*range(420, 1000, 30), *range(1100, 2800, 200)])
    verdict = within_schedule(EXPORT, ACCOUNT, complained)
    assert verdict is not None and verdict.scheduled
    assert verdict.alone == (0, 0) and verdict.shared[1] == 20
    assert "scheduled export" in verdict.describe("event A1", "account x")


def test_not_when_the_other_paths_own_orders_are_at_the_background():
    # 2,000 orders only the account read, 2 complained about; 400 neither, 1.
    complained = _complained([*range(420, 1000, 30), 1500, 2500, 100])
    assert within_schedule(EXPORT, ACCOUNT, complained) is None


def test_not_when_the_export_holds_a_complained_order_the_other_did_not_expose():
    account = _mask(500, 2900)  # the export's first 100 orders are its own
    complained = _complained([450, *range(520, 1000, 30), *range(1100, 2800, 200)])
    assert within_schedule(EXPORT, account, complained) is None


def test_not_without_enough_orders_neither_exposed_to_know_the_background():
    account = _mask(0, 2990)
    complained = _complained([*range(420, 1000, 30), *range(1100, 2800, 200)])
    assert within_schedule(EXPORT, account, complained) is None


def _generated(tmp_path: Path, vector: str, seed: int) -> Path:
    case = tmp_path / f"{vector}-{seed}"
    subprocess.run(
        [sys.executable, str(INDEPENDENT / "gen.py"), str(case)]
        + ["--vector", vector, "--seed", str(seed), "--trait", "long_lag"],
        check=True,
        capture_output=True,
    )
    return case


@pytest.mark.parametrize(
    ("vector", "seed"),
    [("stale_account", 2), ("third_party_app", 3), ("third_party_app", 4)],
)
def test_the_clerks_half_month_export_does_not_lead_a_long_lag_case(tmp_path, vector, seed):
    # The independent generator's shops (benchmarks/independent) with buyers
    # called three to six weeks after the leak: the engine of session 10
    # named the finance clerk (P004) in all three (insider_export).
    case = _generated(tmp_path, vector, seed)
    truth = json.loads((case / "truth.json").read_text(encoding="utf-8"))
    findings = investigate(load(case), complaint_nodes=False)
    kind = findings.vector.kind
    assert kind == truth["vector"] or (kind == "malware" and "malware" in truth["vector"])
    if truth["insider_person_ids"]:
        assert findings.suspects[0].person_id in truth["insider_person_ids"]
    else:
        assert all(s.score < 0.5 for s in findings.suspects)
    assert any("scheduled export" in r for r in findings.vector.rationale)
