"""Shop-life variants of the generator (issue 15): each adds what it says, the
base scenario stays as it was, and the same seed gives the same files."""

from __future__ import annotations

import json
import tomllib
from datetime import datetime, timedelta

import polars as pl
import pytest

from forensics.synth import generate, simulate
from forensics.synth.variants import VARIANTS, parse_variants, random_variants

N = 1500


def _case(scenario, variants, seed=3):
    return simulate(scenario, seed=seed, orders=N, variants=variants)


@pytest.fixture(scope="module")
def base_usb():
    return _case("usb_malware", None)


def test_every_variant_is_listed_in_datasets_readme():
    from pathlib import Path

    readme = (Path(__file__).parent.parent / "datasets" / "README.md").read_text("utf-8")
    for name in VARIANTS:
        assert f"`{name}`" in readme, name


def test_parse_variants_validates_and_orders():
    assert parse_variants(None) == ()
    assert parse_variants(["mtp_phone", "review_app,mtp_phone"]) == ("review_app", "mtp_phone")
    with pytest.raises(ValueError, match="unknown variant 'nope'"):
        parse_variants("nope")
    drawn = random_variants(7)
    assert 1 <= len(drawn) <= 3 and drawn == random_variants(7)


def test_truth_lists_variants_only_when_applied(base_usb):
    assert "variants" not in base_usb.truth
    case = _case("usb_malware", ["random"], seed=11)
    assert case.truth["variants"] == list(random_variants(11))


@pytest.mark.parametrize("name", ["no_order_ids", "camera_drift", "anonymous_visitor", "parquet"])
def test_variants_that_only_add_life_keep_the_leak(base_usb, name):
    case = _case("usb_malware", [name])
    for key in ("leaked_order_ids", "machine_ids", "insider_person_ids", "leak_start"):
        assert case.truth[key] == base_usb.truth[key], key


def test_review_app_pulls_one_order_at_a_time(base_usb):
    case = _case("insider_export", ["review_app"])
    a = case.tables["access"]
    pulls = a.filter(pl.col("account_id").is_in(["app:haoping-yaoqing", "app:sms-notify"]))
    assert pulls.height > N  # thousands at this size: about two per order
    assert pulls["order_id"].null_count() == 0
    assert pulls["range_start"].null_count() == pulls.height
    assert set(pulls["action"]) == {"api_pull"}
    assert {"APP-3001", "APP-3002"} <= set(case.tables["apps"]["app_id"])


def test_erp_cadence_pulls_every_half_hour_with_a_catch_up():
    case = _case("none", ["erp_cadence"])
    p = case.tables["access"].filter(pl.col("account_id") == "app:wdt-erp").sort("at")
    gaps = p["range_end"].diff().drop_nulls().dt.total_minutes()
    assert (gaps == 30).mean() > 0.9
    assert gaps.max() >= 120  # an outage, then one pull covers it
    covered = (p["range_start"].shift(-1) == p["range_end"]).drop_nulls()
    assert covered.all()  # each pull starts where the last ended


def test_agentless_pc_in_the_sweep_has_camera_but_no_endpoint_rows():
    case = _case("usb_malware", ["agentless"])
    ep = case.tables["endpoint"]
    cam = case.tables["camera"]
    infected = case.truth["machine_ids"]
    silent = [m for m in infected if ep.filter(pl.col("machine_id") == m).height == 0]
    loud = [m for m in infected if m not in silent]
    assert silent and loud  # the same sweep: one recorded, one not
    inserts = cam.filter(pl.col("activity") == "insert_device")
    assert set(silent) <= set(inserts["machine_id"])
    machines = case.tables["machines"]["machine_id"].to_list()
    no_rows = [m for m in machines if ep.filter(pl.col("machine_id") == m).height == 0]
    assert len(no_rows) >= round(0.15 * len(machines)) - 2


def test_agentless_sweep_leaves_one_recorded_pc():
    case = _case("usb_malware", ["agentless_sweep"])
    ep = case.tables["endpoint"]
    infected = case.truth["machine_ids"]
    loud = [m for m in infected if ep.filter(pl.col("machine_id") == m).height]
    assert len(loud) == 1 and len(infected) >= 3


def test_mtp_phone_follows_each_export_on_the_insiders_desk():
    case = _case("insider_export", ["mtp_phone"])
    desk = case.truth["machine_ids"][0]
    ep = case.tables["endpoint"].filter(
        (pl.col("machine_id") == desk)
        & (pl.col("kind") == "usb_connect")
        & pl.col("detail").str.contains("MTP|Portable")
    )
    exports = case.tables["access"].filter(
        (pl.col("action") == "export_orders")
        & pl.col("account_id").is_in(case.truth["account_ids"])
        & (pl.col("at") >= datetime.fromisoformat(case.truth["leak_start"][:19]))
    )
    for at in exports["at"]:
        after = ep.filter(pl.col("at").is_between(at, at + timedelta(minutes=5)))
        assert after.height == 1
    phones = case.tables["endpoint"].filter(pl.col("detail").str.contains("MTP|Portable"))
    assert phones["device_id"].null_count() > 0  # no serial on some


def test_unidentified_insertion_hides_the_insider_but_not_her_login():
    case = _case("usb_malware", ["unidentified_insertion"])
    hire = case.truth["insider_person_ids"][0]
    day = datetime.fromisoformat(case.truth["leak_start"][:19]).date()
    badge = case.tables["badge"].filter(pl.col("at").dt.date() == day)
    assert badge.filter(pl.col("person_id") == hire).height == 0
    early = badge.filter((pl.col("direction") == "in") & (pl.col("at").dt.hour() < 9))
    assert early["person_id"].n_unique() >= 7
    inserts = case.tables["camera"].filter(
        (pl.col("activity") == "insert_device")
        & (pl.col("start_at").dt.date() == day)
        & (pl.col("start_at").dt.hour() < 9)
    )
    assert inserts.height and inserts["person_id"].null_count() == inserts.height
    acc = case.shop.person(hire).account_id
    logins = case.tables["logins"].filter(
        (pl.col("account_id") == acc) & (pl.col("at").dt.date() == day)
    )
    assert logins["at"].min().hour < 9  # minutes after the sweep, before the shift


def test_anonymous_visitor_is_unnamed_and_runs_a_resume():
    case = _case("visitor_malware", ["anonymous_visitor"])
    who = case.truth["insider_person_ids"][0]
    cam = case.tables["camera"]
    assert cam.filter(pl.col("person_id") == who).height == 0
    notes = set(cam.filter(pl.col("person_id").is_null())["note"].drop_nulls())
    assert {"非本店员工", "面试者"} <= notes
    ep = case.tables["endpoint"]
    assert ep.filter(pl.col("process") == "E:\\简历.exe").height >= 1
    assert case.tables["badge"].filter(pl.col("person_id") == who).height >= 1


@pytest.mark.parametrize("name,sign", [("complaints_old", -1), ("complaints_new", 1)])
def test_background_complaints_skew_by_order_age(base_usb, name, sign):
    def ages(case):
        c = case.tables["complaints"].join(
            case.tables["orders"].select("order_id", "placed_at"), on="order_id"
        )
        return c["placed_at"]

    base = _case("none", None)
    skewed = _case("none", [name])
    assert skewed.tables["complaints"].height > base.tables["complaints"].height
    start = base.tables["orders"]["placed_at"].min()
    b = (ages(base) - start).dt.total_hours().median()
    s = (ages(skewed) - start).dt.total_hours().median()
    assert (s - b) * sign > 0


def test_early_app_is_revoked_and_confined_to_early_orders():
    case = _case("none", ["early_app"])
    app = case.tables["apps"].filter(pl.col("app_id") == "APP-3201").row(0, named=True)
    pulls = case.tables["access"].filter(pl.col("account_id") == app["account_id"])
    assert pulls.height > 100
    assert pulls["at"].max() < app["revoked_at"]
    span = case.tables["orders"]["placed_at"]
    assert pulls["range_end"].max() < span.min() + (span.max() - span.min()) * 0.45


def test_shared_account_in_insider_export_is_the_leads():
    case = _case("insider_export", ["shared_account"])
    acc = case.truth["account_ids"][0]
    desks = case.tables["logins"].filter(pl.col("account_id") == acc)["machine_id"].drop_nulls()
    assert desks.n_unique() >= 2


def test_file_variants_are_written_as_declared(tmp_path):
    truth = generate(tmp_path / "p", scenario="none", seed=2, orders=400, variants=["parquet"])
    assert truth["variants"] == ["parquet"]
    assert (tmp_path / "p" / "orders.parquet").exists()
    generate(tmp_path / "g", scenario="none", seed=2, orders=400, variants="gb18030,utc_logs")
    toml = tomllib.loads((tmp_path / "g" / "case.toml").read_text("utf-8"))
    assert toml["files"]["orders"]["encoding"] == "gb18030"
    (tmp_path / "g" / "orders.csv").read_bytes().decode("gb18030")
    first = (tmp_path / "g" / "logins.csv").read_text("utf-8").splitlines()[1]
    assert first.split(",")[1].endswith("Z")
    assert "_write" not in toml


def test_camera_drift_declares_an_unsynchronized_clock(tmp_path):
    generate(tmp_path / "d", scenario="none", seed=2, orders=400, variants=["camera_drift"])
    toml = tomllib.loads((tmp_path / "d" / "case.toml").read_text("utf-8"))
    assert toml["files"]["camera"]["clock"] == "unsynchronized"


def test_same_seed_and_variants_same_bytes(tmp_path):
    kw = dict(scenario="usb_malware", seed=9, orders=600, fmt="csv")
    variants = ["review_app", "agentless", "unidentified_insertion", "complaints_old"]
    a = generate(tmp_path / "a", variants=variants, **kw)
    b = generate(tmp_path / "b", variants=list(reversed(variants)), **kw)
    assert a == b
    for f in sorted((tmp_path / "a").iterdir()):
        assert f.read_bytes() == (tmp_path / "b" / f.name).read_bytes(), f.name
    assert json.loads((tmp_path / "a" / "truth.json").read_text())["variants"] == [
        "review_app",
        "agentless",
        "unidentified_insertion",
        "complaints_old",
    ]
