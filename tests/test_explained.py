"""Explaining away: a path whose excess of complaints lies only in the orders
another path also exposed does not lead (forensics.analysis.explained)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from forensics import investigate, load
from forensics.analysis.explained import explained_away

INDEPENDENT = Path(__file__).resolve().parents[1] / "benchmarks" / "independent"

N = 10_000


def _mask(lo: int, hi: int) -> np.ndarray:
    mask = np.zeros(N, dtype=bool)
    mask[lo:hi] = True
    return mask


def _complained(counts: dict[tuple[int, int], int], seed: int = 0) -> np.ndarray:
    """``counts`` complained orders drawn in each [lo, hi) span."""
    rng = np.random.default_rng(seed)
    mask = np.zeros(N, dtype=bool)
    for (lo, hi), k in counts.items():
        mask[rng.choice(np.arange(lo, hi), size=k, replace=False)] = True
    return mask


# A routine export of orders 0-999 and a former employee's account that read
# orders 500-2999; the buyers the account leaked complain, the oldest most.
EXPORT, ACCOUNT = _mask(0, 1000), _mask(500, 3000)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_a_path_whose_excess_lies_in_the_shared_orders_is_explained_away(seed):
    complained = _complained({(0, 500): 1, (500, 1000): 50, (1000, 3000): 25, (3000, N): 14}, seed)
    found = explained_away(EXPORT, ACCOUNT, complained)
    assert found is not None
    assert found.alone == (500, int(complained[:500].sum()))
    assert found.shared == (500, 50) and found.other_alone == (2000, 25)
    assert "of its 500 orders" in found.describe("event A1", "stale_account")
    # The account's own orders explain complaints the export cannot.
    assert explained_away(ACCOUNT, EXPORT, complained) is None


def test_the_path_that_leaked_is_not_explained_away_by_a_bystander():
    # An export of orders 1000-1999 leaked; an account that read orders
    # 0-1499 is a bystander: its older orders of its own are quiet.
    export, account = _mask(1000, 2000), _mask(0, 1500)
    complained = _complained({(0, 1000): 2, (1000, 1500): 50, (1500, 2000): 50, (2000, N): 16})
    assert explained_away(export, account, complained) is None
    assert explained_away(account, export, complained) is not None


def test_own_orders_younger_than_the_shared_ones_are_no_evidence():
    # Buyers complain weeks after the leak: the orders a path exposed last
    # have not been complained about yet, whichever path leaked.
    account, app = _mask(500, 3000), _mask(0, 2500)
    complained = _complained({(0, 500): 20, (500, 2500): 120, (2500, 3000): 0, (3000, N): 14})
    assert explained_away(account, app, complained) is None


def test_two_paths_whose_excess_is_only_what_they_share_are_left_as_they_are():
    # Nothing tells them apart: neither is set aside.
    complained = _complained({(0, 500): 1, (500, 1000): 50, (1000, 3000): 4, (3000, N): 14})
    assert explained_away(EXPORT, ACCOUNT, complained) is None
    assert explained_away(ACCOUNT, EXPORT, complained) is None


def test_too_few_own_orders_to_tell_is_no_verdict():
    # Ten orders of its own with no complaint are what even a leaked path's
    # rate could give: no evidence either way.
    export = _mask(490, 1000)
    complained = _complained({(500, 1000): 50, (1000, 3000): 25, (3000, N): 14})
    assert explained_away(export, ACCOUNT, complained) is None


def test_a_routine_export_of_the_leaks_oldest_orders_does_not_lead(tmp_path):
    # The independent generator's shop (benchmarks/independent): a former
    # employee's account reads orders from home for six weeks; the finance
    # clerk exports the last half-month on the 1st and the 15th. Buyers
    # complain three to six weeks after the leak, so the complaints so far
    # are about the leak's oldest orders, which one half-month export holds
    # almost all of. Its other orders are complained about no more than any.
    case = tmp_path / "case"
    subprocess.run(
        [sys.executable, str(INDEPENDENT / "gen.py"), str(case)]
        + ["--vector", "stale_account", "--seed", "3", "--trait", "long_lag"],
        check=True,
        capture_output=True,
    )
    truth = json.loads((case / "truth.json").read_text(encoding="utf-8"))
    findings = investigate(load(case), complaint_nodes=False)
    assert findings.vector.kind == "stale_account" == truth["vector"]
    assert findings.suspects[0].person_id in truth["insider_person_ids"]
    assert any("insider_export set aside" in r for r in findings.vector.rationale)
