"""The engine on shop life an independent generator wrote and ours had not.

Each class of failure found on the independent cases (/work/indep in
session 8; docs/ACCURACY.md) is rebuilt here on a bundled case changed in a
copy: an insider's own phone plugged in before the export, a big legitimate
export made the day before a burst of complaints about random orders, a
leak that raises the complaint rate for good instead of for a few days.
"""

from __future__ import annotations

import json
import random
from datetime import datetime, timedelta

import numpy as np
import pytest
from casefiles import copy_dataset, read_rows, write_rows

from forensics import investigate, load
from forensics.analysis.complaints import _background, _step

SETTINGS = dict(alpha=1e-3, min_background=0.1, history=21, guard=4, min_ratio=1.5)


def _stamp(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%S")


def test_an_insiders_own_phone_before_the_export_is_no_malware(tmp_path):
    case = copy_dataset("insider-export", tmp_path)
    truth = json.loads((case / "truth.json").read_text(encoding="utf-8"))
    machine = truth["machine_ids"][0]
    start = datetime.fromisoformat(truth["leak_start"]).replace(tzinfo=None)
    fields, rows = read_rows(case / "endpoint.csv")
    # Her phone, on her own PC only, an hour and a half before the first
    # leaking export; nothing runs from it.
    for kind, at in (("usb_connect", start - timedelta(minutes=90)), ("usb_disconnect", start)):
        rows.append(
            dict.fromkeys(fields, "")
            | {
                "event_id": f"E9{len(rows):06d}",
                "at": _stamp(at),
                "machine_id": machine,
                "kind": kind,
                "device_id": "USB\\VID_2717&PID_FF48\\PHONE0001",
                "detail": "MTP phone",
            }
        )
    write_rows(case / "endpoint.csv", fields, sorted(rows, key=lambda r: r["at"]))
    findings = investigate(load(case), complaint_nodes=False)
    assert findings.vector.kind == "insider_export"
    assert findings.suspects[0].person_id in truth["insider_person_ids"]


@pytest.mark.parametrize("seed", [1, 2])
def test_a_big_export_before_a_burst_of_random_complaints_accuses_nobody(tmp_path, seed):
    case = copy_dataset("no-leak", tmp_path)
    rng = random.Random(seed)
    at = datetime(2024, 4, 20, 10, 5)
    fields, access = read_rows(case / "access.csv")
    # Three weeks of orders (about 0.43 of the shop's) exported by a
    # customer-service account that may export.
    access.append(
        dict.fromkeys(fields, "")
        | {
            "event_id": "A999999",
            "at": _stamp(at),
            "account_id": "yunshang:cs10",
            "machine_id": "PC-16",
            "ip": "115.236.43.18",
            "action": "export_orders",
            "range_start": "2024-03-13T00:00:00",
            "range_end": "2024-04-03T00:00:00",
        }
    )
    write_rows(case / "access.csv", fields, sorted(access, key=lambda r: r["at"]))
    _, orders = read_rows(case / "orders.csv")
    inside = [o for o in orders if o["placed_at"] < "2024-04-03"]
    after = [o for o in orders if "2024-04-03" <= o["placed_at"] < "2024-04-19"]
    # Two days later, scam calls about 30 orders: 18 of them in the export,
    # about its share of the orders the buyers could complain about, not more.
    picked = rng.sample(inside, 18) + rng.sample(after, 12)
    fields, complaints = read_rows(case / "complaints.csv")
    for i, order in enumerate(picked):
        received = at + timedelta(days=2, hours=rng.uniform(0, 60))
        complaints.append(
            dict.fromkeys(fields, "")
            | {
                "complaint_id": f"C9{i:05d}",
                "buyer_id": order["buyer_id"],
                "order_id": order["order_id"],
                "received_at": _stamp(received),
                "category": "scam_call",
                "text": "They knew my name and the order.",
                "quoted_fields": "name;order_id",
            }
        )
    write_rows(case / "complaints.csv", fields, complaints)
    findings = investigate(load(case), complaint_nodes=False)
    assert findings.vector.kind != "insider_export"
    assert all(s.score < 0.5 for s in findings.suspects)


def test_a_rate_that_rises_for_good_is_a_spike_from_its_first_day():
    rng = np.random.default_rng(3)
    counts = np.concatenate([rng.poisson(0.2, 14), rng.poisson(10, 21)]).astype(float)
    expected, _, spike, _ = _background(counts, **SETTINGS)
    days = np.flatnonzero(spike)
    assert days[0] == 14 and days[-1] == counts.size - 1
    assert expected[0] < 1.0


@pytest.mark.parametrize("seed", range(3))
def test_a_steady_or_steadily_growing_rate_has_no_step(seed):
    rng = np.random.default_rng(seed)
    step = dict(alpha=1e-3, min_background=0.1, min_ratio=1.5)
    assert _step(rng.poisson(4.0, 40).astype(float), **step) is None
    assert _step(rng.poisson(np.linspace(1, 12, 40)).astype(float), **step) is None
    jump = np.concatenate([rng.poisson(1.0, 15), rng.poisson(8.0, 25)]).astype(float)
    assert _step(jump, **step)[0] in range(13, 18)
