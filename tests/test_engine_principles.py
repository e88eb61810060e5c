"""The engine's principles on shops its generator did not make (issue 15).

Each test takes a bundled case, changes one piece of shop life the way an
independent generator would (in a copy: evidence is never edited in place),
and checks the principle, not a number: a row exposes what it names, a
routine stream opens no path, no presentation step crashes, an infection
the agent missed still counts, who was present decides staff vs visitor,
presence is weighted by how many were present, and the overlap test's null
follows how background complaints lean by order age.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import networkx as nx
import numpy as np
import polars as pl
import pytest
from casefiles import DATASETS, copy_dataset, read_rows, write_rows

from forensics import investigate, load
from forensics.analysis.graph import HUB, explain
from forensics.analysis.indicators import INDICATOR_SCHEMA, flagged_paths
from forensics.analysis.orderage import fit_age_model
from forensics.analysis.streams import stream_openings
from forensics.analysis.suspects import _presence
from forensics.views.notebook import complaint_summary


def _truth(case: Path) -> dict:
    return json.loads((case / "truth.json").read_text(encoding="utf-8"))


def _add_review_app(case: Path) -> int:
    """A review-reminder app pulling every order once, by id, no range."""
    af, accounts = read_rows(case / "accounts.csv")
    accounts.append(
        dict.fromkeys(af, "")
        | {"account_id": "app-review", "kind": "app", "can_export": "false"}
        | {"created_at": "2023-01-01T00:00:00"}
    )
    write_rows(case / "accounts.csv", af, accounts)
    pf, apps = read_rows(case / "apps.csv")
    apps.append(
        dict.fromkeys(pf, "")
        | {"app_id": "REVIEW", "account_id": "app-review", "name": "Review reminder"}
        | {"granted_at": "2023-01-01T00:00:00", "scopes": "orders:read"}
    )
    write_rows(case / "apps.csv", pf, apps)
    _, orders = read_rows(case / "orders.csv")
    xf, access = read_rows(case / "access.csv")
    for n, o in enumerate(orders):
        at = datetime.fromisoformat(o["placed_at"]) + timedelta(hours=30 + n % 17)
        access.append(
            dict.fromkeys(xf, "")
            | {"event_id": f"RV{n:06d}", "at": at.isoformat(sep=" "), "action": "api_pull"}
            | {"account_id": "app-review", "ip": "47.1.2.3", "order_id": o["order_id"]}
        )
    write_rows(case / "access.csv", xf, access)
    return len(orders)


@pytest.mark.parametrize("name", ["stale-account", "april-trojan"])
def test_a_pull_of_one_order_exposes_that_order(tmp_path, name):
    case = copy_dataset(name, tmp_path)
    pulls = _add_review_app(case)
    findings = investigate(load(case))
    truth = _truth(case)
    review = findings.events.filter(pl.col("account_id") == "app-review")
    assert review.height == pulls
    assert (review["hi"] - review["lo"]).max() == 1  # never the whole history
    assert findings.vector.kind == truth["vector"]
    assert findings.suspects[0].person_id in truth["insider_person_ids"]


def test_a_bulk_row_naming_nothing_is_reported_not_widened(tmp_path):
    case = copy_dataset("insider-export", tmp_path)
    xf, access = read_rows(case / "access.csv")
    # orders.csv of this case is GB18030; access.csv is UTF-8.
    access.append(
        dict.fromkeys(xf, "")
        | {"event_id": "X-UNKNOWN", "at": "2024-07-20 10:00:00", "action": "export_orders"}
        | {"account_id": access[0]["account_id"], "machine_id": access[0]["machine_id"]}
    )
    write_rows(case / "access.csv", xf, access)
    findings = investigate(load(case))
    row = findings.events.filter(pl.col("event_id") == "X-UNKNOWN")
    assert row["hi"].item() == row["lo"].item()
    doc = findings.to_dict()["unknown_extent"]
    assert doc["rows"] == 1 and doc["examples"][0]["row"] == len(access) + 1  # file line
    assert findings.vector.kind == _truth(case)["vector"]


def test_a_routine_stream_opens_no_path(tmp_path):
    case = load(DATASETS / "no-leak")
    t0 = datetime(2024, 5, 1, 10, tzinfo=UTC)
    # Twenty daily pulls of one day each, then a month at once.
    events = pl.DataFrame(
        {
            "ev": list(range(21)),
            "_row": list(range(2, 23)),
            "event_id": [f"P{i}" for i in range(21)],
            "at": [t0 + timedelta(days=i) for i in range(21)],
            "account_id": ["erp"] * 21,
            "action": ["api_pull"] * 21,
            "lo": [10 * i for i in range(20)] + [0],
            "hi": [10 * i + 10 for i in range(20)] + [300],
        }
    )
    opened = stream_openings(case, events)
    routine = set(opened["id"].to_list())
    assert "P19" in routine and opened.filter(pl.col("id") == "P19")["opened"].item() == t0
    assert not {"P0", "P3"} & routine  # too early in the stream to be routine
    assert "P20" not in routine  # a backfill changes the stream's behaviour


def test_an_unreachable_suspect_is_unexplained_not_a_crash():
    g = nx.MultiDiGraph()
    g.add_node(HUB, kind="complaints", label="complaints")
    g.add_node("person:P1", kind="person", label="P1")
    assert explain(g, "P1") == []


def test_presence_is_not_counted_for_access_from_outside(tmp_path):
    case = load(DATASETS / "stale-account")
    from forensics.analysis.timeline import timeline

    tl = timeline(case)
    outside = pl.DataFrame(
        {
            "machine_id": [None],
            "at": [datetime(2024, 7, 1, 7, tzinfo=UTC)],
            "what": ["login by x"],
            "source": ["logins.csv"],
            "row": [2],
        },
        schema_overrides={"machine_id": pl.String},
    )
    assert _presence(case, tl, outside) == []


def test_presence_weighs_less_when_many_were_present(tmp_path):
    case = load(DATASETS / "april-trojan")
    findings = investigate(case)
    items = [
        e for s in findings.suspects for e in s.evidence if e.kind == "present_when_path_opened"
    ]
    assert items
    # 1 + (L - 1) c / n: never above L, and above 1 only by what c / n allows.
    assert all(1.0 < e.weight <= 20.0 for e in items)
    assert all(e.machine_id in findings.vector.machines for e in items)


def test_an_infection_the_agent_missed_still_counts(tmp_path):
    case = copy_dataset("april-trojan", tmp_path)
    truth = _truth(case)
    ef, endpoint = read_rows(case / "endpoint.csv")
    # PC-07 has no endpoint agent: the camera alone saw the stick go in.
    write_rows(case / "endpoint.csv", ef, [r for r in endpoint if r["machine_id"] != "PC-07"])
    findings = investigate(load(case))
    assert findings.vector.kind == "usb_malware"
    assert "PC-07" in findings.vector.machines
    anchor = findings.vector.anchors.filter(pl.col("machine_id") == "PC-07")
    assert anchor["source"].item() == "camera.csv"
    assert findings.suspects[0].person_id in truth["insider_person_ids"]


def test_staff_or_visitor_is_decided_by_who_was_present(tmp_path):
    case = copy_dataset("visitor-malware", tmp_path)
    truth = _truth(case)
    cf, camera = read_rows(case / "camera.csv")
    for r in camera:
        # The reviewer could not name the person, only say what they were.
        if r["person_id"] in truth["insider_person_ids"]:
            r["person_id"] = ""
            r["note"] = "面试者，非本店员工"
    write_rows(case / "camera.csv", cf, camera)
    findings = investigate(load(case))
    assert findings.vector.kind == "visitor_malware"
    assert findings.suspects and findings.suspects[0].person_id in truth["insider_person_ids"]


def test_background_lean_by_order_age_is_fitted_only_when_clear():
    rng = np.random.default_rng(7)
    universe = 10_000
    flat = rng.integers(0, universe, 300)
    assert fit_age_model(flat, universe).flat
    old = (rng.beta(1, 4, 300) * universe).astype(int)  # complaints about old orders
    model = fit_age_model(old, universe)
    assert model.beta < -1 and model.z < -3
    new = (rng.beta(4, 1, 300) * universe).astype(int)
    assert fit_age_model(new, universe).beta > 1
    assert fit_age_model(old[:5], universe).flat  # too few to say


def _add_new_app(case: Path, share: float) -> str:
    """A legitimate app granted once ``1 - share`` of the orders had been
    placed, pulling every order placed from then on, by id (no range)."""
    try:
        _, orders = read_rows(case / "orders.csv")
    except UnicodeDecodeError:  # the case's toml names another encoding
        _, orders = read_rows(case / "orders.csv", encoding="gb18030")
    placed = sorted(datetime.fromisoformat(o["placed_at"]) for o in orders)
    granted = placed[int(len(placed) * (1 - share))]
    af, accounts = read_rows(case / "accounts.csv")
    accounts.append(
        dict.fromkeys(af, "")
        | {"account_id": "app-sync", "kind": "app", "can_export": "false"}
        | {"created_at": granted.isoformat()}
    )
    write_rows(case / "accounts.csv", af, accounts)
    pf, apps = read_rows(case / "apps.csv")
    apps.append(
        dict.fromkeys(pf, "")
        | {"app_id": "SYNC", "account_id": "app-sync", "name": "Inventory sync (trial)"}
        | {"granted_at": granted.isoformat(), "scopes": "orders.read;buyer.read"}
    )
    write_rows(case / "apps.csv", pf, apps)
    xf, access = read_rows(case / "access.csv")
    for n, o in enumerate(orders):
        at = datetime.fromisoformat(o["placed_at"])
        if at >= granted:
            access.append(
                dict.fromkeys(xf, "")
                | {"event_id": f"SY{n:06d}", "action": "api_pull", "order_id": o["order_id"]}
                | {"at": (at + timedelta(minutes=5)).isoformat(), "account_id": "app-sync"}
                | {"ip": "47.1.2.4"}
            )
    write_rows(case / "access.csv", xf, access)
    return granted.isoformat()


@pytest.mark.parametrize("share", [0.25, 0.5, 0.75])
@pytest.mark.parametrize("name", sorted(p.name for p in DATASETS.iterdir() if p.is_dir()))
def test_an_app_granted_during_the_logs_leads_only_where_it_leaked(tmp_path, name, share):
    # Apps granted while the back office was logging are tested as a small
    # family of their own (flagged before any complaint is read): a new app
    # that pulls the newest orders holds most of any recent leak's
    # complaints, and must still not take over a case it did not leak.
    case = copy_dataset(name, tmp_path)
    truth = _truth(case)
    _add_new_app(case, share=share)
    loaded = load(case)
    flagged = flagged_paths(loaded, pl.DataFrame(schema=INDICATOR_SCHEMA))
    assert ("app", "SYNC", 2) in set(flagged.iter_rows())  # tested after malware, stale accounts
    findings = investigate(loaded, complaint_nodes=False)
    assert findings.vector.kind == truth["vector"]
    if truth["insider_person_ids"]:
        assert findings.suspects[0].person_id in truth["insider_person_ids"]
    else:
        assert all(s.score < 0.5 for s in findings.suspects)


def test_a_resellers_complaint_naming_no_order_does_not_count_as_its_orders(tmp_path):
    # A reseller's complaint naming no order stands for one of a hundred
    # orders: the overlap tests must not count it as a hundred complained
    # orders (they spread over every path and drown the orders buyers named).
    plain = copy_dataset("april-trojan", tmp_path / "plain")
    case = copy_dataset("april-trojan", tmp_path / "reseller")
    _, complaints = read_rows(case / "complaints.csv")
    named = {c["order_id"] for c in complaints} | {c["buyer_id"] for c in complaints}
    of, orders = read_rows(case / "orders.csv")
    mine = [o for o in orders if o["order_id"] not in named and o["buyer_id"] not in named][::20]
    assert len(mine) > 50
    for o in mine:
        o["buyer_id"] = "B-RESELLER"
    write_rows(case / "orders.csv", of, orders)
    cf, complaints = read_rows(case / "complaints.csv")
    last = max(c["received_at"] for c in complaints)
    complaints += [
        dict.fromkeys(cf, "")
        | {"complaint_id": f"CR{n}", "buyer_id": "B-RESELLER", "received_at": last}
        | {"category": "scam_call", "text": "my customers get scam calls"}
        for n in range(3)
    ]
    write_rows(case / "complaints.csv", cf, complaints)
    before = investigate(load(plain), complaint_nodes=False)
    after = investigate(load(case), complaint_nodes=False)
    assert after.too_vague == before.too_vague + 3
    assert json.loads(after.to_json())["complaints"]["too_vague"] == after.too_vague
    said = complaint_summary(after).splitlines()[-1]
    assert said.endswith(f"(not counted by the overlap tests): {after.too_vague} complaints")
    assert after.vector.kind == before.vector.kind
    lead = before.vector.lead
    row = after.points.filter((pl.col("level") == lead["level"]) & (pl.col("id") == lead["id"]))
    assert row["hits"].item() == lead["hits"]
    assert row["p_value"].item() == pytest.approx(lead["p_value"])


def _it_tool_everywhere(case: Path, only: int | None = None) -> None:
    """IT plugs one stick into every PC (or the first ``only``) before hours
    on the case's second day and installs a tray tool that starts with
    Windows on each."""
    _, machines = read_rows(case / "machines.csv")
    machines = machines[:only]
    ef, endpoint = read_rows(case / "endpoint.csv")
    day = datetime.fromisoformat(min(e["at"] for e in endpoint)).date() + timedelta(days=1)
    at = datetime.combine(day, datetime.min.time()) + timedelta(hours=7)
    tool = "C:\\Program Files\\ITTray\\ittray.exe"
    sha = "5" * 64
    for n, m in enumerate(machines):
        t = at + timedelta(minutes=4 * n)
        row = dict.fromkeys(ef, "") | {"machine_id": m["machine_id"]}
        endpoint += [
            row
            | {"event_id": f"IT{n:03d}a", "at": t.isoformat(), "kind": "usb_connect"}
            | {"device_id": "USB-IT-KINGSTON-01"},
            row
            | {"event_id": f"IT{n:03d}b", "at": (t + timedelta(seconds=20)).isoformat()}
            | {"kind": "autorun_added", "process": tool, "sha256": sha},
            row
            | {"event_id": f"IT{n:03d}c", "at": (t + timedelta(minutes=2)).isoformat()}
            | {"kind": "usb_disconnect", "device_id": "USB-IT-KINGSTON-01"},
        ]
    write_rows(case / "endpoint.csv", ef, endpoint)


def test_an_it_tool_on_every_pc_does_not_make_an_export_malwares_harvest(tmp_path):
    # Malware harvests an export only where it leaked from other machines
    # too, as a path of its own: a tool on every PC reads a couple of
    # complained orders on any two of them by chance.
    case = copy_dataset("insider-export", tmp_path)
    truth = _truth(case)
    _it_tool_everywhere(case)
    findings = investigate(load(case), complaint_nodes=False)
    assert findings.vector.kind == truth["vector"]
    assert findings.suspects[0].person_id in truth["insider_person_ids"]


def test_malware_that_did_not_leak_is_reported_not_dropped(tmp_path):
    # Where no path concentrates the complaints, malware the endpoints show
    # is still a finding: found, not shown to have leaked, to be imaged.
    case = copy_dataset("no-leak", tmp_path)
    _it_tool_everywhere(case, only=3)
    findings = investigate(load(case), complaint_nodes=False)
    assert findings.vector.kind == "none"
    assert any("not shown to have leaked" in r for r in findings.vector.rationale)
    _, machines = read_rows(case / "machines.csv")
    image = [i for i in findings.to_review if i["question"].startswith("image ")]
    assert image and image[0]["source"] == "endpoint.csv"
    assert all(m["machine_id"] in image[0]["question"] for m in machines[:3])
    _, endpoint = read_rows(case / "endpoint.csv")
    assert endpoint[image[0]["row"] - 2]["kind"] == "usb_connect"  # row 1 is the header
