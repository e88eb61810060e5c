"""Tests of the scenario generator: the truth must agree with the data.

Generated files are read back with plain polars (all cells as text, parsed
here), so these tests check the files as written, independently of the
loader in ``forensics.case``; one test also loads them with it.
"""

from __future__ import annotations

import json
import tomllib
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from forensics.case.schema import REQUIRED_TABLES, TABLES
from forensics.synth import VECTORS, generate, simulate

SEEDS = (3, 11)
ORDERS = 1500
TRUTH_KEYS = [
    "scenario",
    "insider_person_ids",
    "vector",
    "machine_ids",
    "account_ids",
    "app_ids",
    "leaked_order_ids",
    "leak_start",
    "leak_end",
]
MALWARE = ("usb_malware", "visitor_malware")
DATASETS = Path(__file__).resolve().parent.parent / "datasets"


# --------------------------------------------------------------------------- reading


def _encoding(case: Path, table: str) -> str:
    meta = tomllib.loads((case / "case.toml").read_text("utf-8"))
    return meta.get("files", {}).get(table, {}).get("encoding", "utf-8-sig")


def read(case: Path, table: str) -> pl.DataFrame:
    """A table as written, every cell text; timestamps parsed to naive local."""
    path = case / f"{table}.csv"
    if not path.exists():
        df = pl.read_parquet(case / f"{table}.parquet")
        return df.with_columns(pl.col(pl.Datetime).dt.replace_time_zone(None))
    text = path.read_bytes().decode(_encoding(case, table))
    df = pl.read_csv(text.encode(), infer_schema=False)
    ts = [c.name for c in TABLES[table].columns if c.kind.value == "timestamp"]
    return df.with_columns(
        pl.col(c)
        .str.replace(r"\+08:00$", "")
        .str.replace(" ", "T")
        .str.to_datetime("%Y-%m-%dT%H:%M:%S", strict=True)
        for c in ts
        if c in df.columns
    )


def truth_of(case: Path) -> dict:
    return json.loads((case / "truth.json").read_text("utf-8"))


def ts(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text).replace(tzinfo=None)


def exposed(access: pl.DataFrame, orders: pl.DataFrame) -> set[str]:
    """Orders an access subset exposed: its order ids, and every order placed
    in an export/pull range no later than the export."""
    out = set(access["order_id"].drop_nulls().to_list())
    ranged = access.filter(pl.col("range_start").is_not_null())
    for at, lo, hi in ranged.select("at", "range_start", "range_end").iter_rows():
        top = min(hi, at)
        out |= set(orders.filter(pl.col("placed_at").is_between(lo, top))["order_id"].to_list())
    return out


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def cases(tmp_path_factory) -> dict[tuple[str, int], Path]:
    root = tmp_path_factory.mktemp("synth")
    out = {}
    for seed in SEEDS:
        for vector in VECTORS:
            path = root / f"{vector}-{seed}"
            generate(path, scenario=vector, seed=seed, orders=ORDERS, fmt="csv")
            out[vector, seed] = path
    return out


def each_case():
    return pytest.mark.parametrize(
        "key", [(v, s) for s in SEEDS for v in VECTORS], ids=lambda k: f"{k[0]}-{k[1]}"
    )


# --------------------------------------------------------------------------- format


@each_case()
def test_files_have_the_contract_columns(cases, key):
    case = cases[key]
    for table, schema in TABLES.items():
        path = case / f"{table}.csv"
        if table in REQUIRED_TABLES:
            assert path.exists(), table
        if path.exists():
            df = read(case, table)
            assert set(df.columns) == set(schema.names), table
            for col in schema.columns:
                if not col.nullable:
                    assert df[col.name].null_count() == 0, (table, col.name)
            if schema.key and table != "badge":
                assert df[schema.key].n_unique() == df.height, table


@each_case()
def test_truth_has_exactly_the_contract_fields(cases, key):
    vector, _ = key
    truth = truth_of(cases[key])
    assert list(truth) == TRUTH_KEYS
    assert truth["scenario"] == vector and truth["vector"] == vector
    for field in ("leak_start", "leak_end"):
        assert truth[field] is None or truth[field].endswith("+08:00")


@each_case()
def test_case_toml(cases, key):
    meta = tomllib.loads((cases[key] / "case.toml").read_text("utf-8"))
    assert meta["case"]["timezone"] == "Asia/Shanghai"
    assert meta["business_hours"] == {
        "start": "09:00",
        "end": "18:00",
        "weekdays": [1, 2, 3, 4, 5, 6],
    }
    opened = datetime.fromisoformat(meta["case"]["opened_at"])
    for table in ("logins", "access", "endpoint", "badge", "complaints"):
        col = "received_at" if table == "complaints" else "at"
        assert read(cases[key], table)[col].max() < opened, table


def test_enums_and_references(cases):
    case = cases["usb_malware", SEEDS[0]]
    for table, schema in TABLES.items():
        if not (case / f"{table}.csv").exists():
            continue
        df = read(case, table)
        for col in schema.columns:
            if col.values:
                assert set(df[col.name].drop_nulls().str.to_lowercase()) <= set(col.values)
            if col.references:
                ref_table, ref_col = col.references.split(".")
                known = set(read(case, ref_table)[ref_col])
                assert set(df[col.name].drop_nulls()) <= known, (table, col.name)


# --------------------------------------------------------------------------- truth vs data


@each_case()
def test_insider_is_in_staff_with_the_right_part(cases, key):
    vector, _ = key
    case = cases[key]
    truth = truth_of(case)
    staff = read(case, "staff")
    accounts = read(case, "accounts")
    start = ts(truth["leak_start"])
    if vector in ("none", "third_party_app"):
        assert truth["insider_person_ids"] == []
        return
    (insider,) = truth["insider_person_ids"]
    row = staff.filter(pl.col("person_id") == insider).row(0, named=True)
    if vector == "usb_malware":
        assert row["role"] == "customer_service"
        assert row["hired_on"] == start.date().isoformat()
    elif vector == "visitor_malware":
        assert row["role"] == "interviewee" and row["desk_machine_id"] is None
    elif vector == "stale_account":
        assert row["left_on"] is not None and row["left_on"] < start.date().isoformat()
        (account,) = truth["account_ids"]
        acc = accounts.filter(pl.col("account_id") == account).row(0, named=True)
        assert acc["owner_person_id"] == insider and acc["disabled_at"] is None
    elif vector == "insider_export":
        (account,) = truth["account_ids"]
        acc = accounts.filter(pl.col("account_id") == account).row(0, named=True)
        assert acc["owner_person_id"] == insider and acc["can_export"] == "true"
        assert truth["machine_ids"] == [row["desk_machine_id"]]


def _path_rows(case: Path, truth: dict) -> pl.DataFrame:
    """Access rows on the true path, from the leak's start to its end."""
    access = read(case, "access")
    start, end = ts(truth["leak_start"]), ts(truth["leak_end"])
    window = pl.col("at").is_between(start, end)
    vector = truth["vector"]
    if vector in MALWARE:
        endpoint = read(case, "endpoint")
        infected = (
            endpoint.filter(pl.col("kind") == "autorun_added")
            .group_by("machine_id")
            .agg(pl.col("at").min().alias("infected_at"))
        )
        rows = access.join(infected, on="machine_id").filter(
            pl.col("at") >= pl.col("infected_at") - timedelta(minutes=1)
        )
        return rows.filter(window & pl.col("machine_id").is_in(truth["machine_ids"]))
    if vector == "insider_export":
        return access.filter(
            window
            & pl.col("account_id").is_in(truth["account_ids"])
            & (pl.col("action") == "export_orders")
        )
    return access.filter(window & pl.col("account_id").is_in(truth["account_ids"]))


@each_case()
def test_leaked_orders_were_exposed_through_the_true_path(cases, key):
    vector, _ = key
    case = cases[key]
    truth = truth_of(case)
    orders = read(case, "orders")
    leaked = set(truth["leaked_order_ids"])
    assert len(leaked) == len(truth["leaked_order_ids"])
    assert leaked <= set(orders["order_id"])
    if vector == "none":
        assert leaked == set() and truth["leak_start"] is None
        assert truth["machine_ids"] == truth["account_ids"] == truth["app_ids"] == []
        return
    assert leaked, "a leak scenario must leak something"
    assert ts(truth["leak_start"]) <= ts(truth["leak_end"])
    path = exposed(_path_rows(case, truth), orders)
    assert leaked <= path
    if vector not in MALWARE:
        # Account and app paths: everything they touched in the window leaked.
        assert path == leaked


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("vector", MALWARE)
def test_one_usb_stick_infects_every_true_machine(cases, vector, seed):
    case = cases[vector, seed]
    truth = truth_of(case)
    endpoint = read(case, "endpoint")
    machines = set(truth["machine_ids"])
    autorun = endpoint.filter(pl.col("kind") == "autorun_added")
    assert set(autorun["machine_id"]) == machines
    assert autorun["sha256"].n_unique() == 1
    connects = endpoint.filter(pl.col("kind") == "usb_connect")
    by_device = connects.group_by("device_id").agg(pl.col("machine_id").unique())
    carriers = [d for d, ms in by_device.iter_rows() if machines <= set(ms)]
    firsts = [connects.filter(pl.col("device_id") == d)["at"].min() for d in carriers]
    assert ts(truth["leak_start"]) in firsts, "no one stick went into every infected machine"
    (insider,) = truth["insider_person_ids"]
    camera = read(case, "camera")
    seen = camera.filter((pl.col("person_id") == insider) & (pl.col("activity") == "insert_device"))
    assert seen.height >= 1


def test_usb_insider_comes_in_before_work_on_two_days(cases):
    for seed in SEEDS:
        case = cases["usb_malware", seed]
        truth = truth_of(case)
        (insider,) = truth["insider_person_ids"]
        badge = read(case, "badge").filter(
            (pl.col("person_id") == insider) & (pl.col("direction") == "in")
        )
        early = badge.filter(pl.col("at").dt.hour() < 8)["at"].dt.date().unique()
        assert early.len() == 2
        assert early.min() == ts(truth["leak_start"]).date()


@pytest.mark.parametrize("seed", SEEDS)
def test_the_other_new_hire_does_nothing_wrong(seed):
    case = simulate("usb_malware", seed=seed, orders=800)
    other = case.shop.person(case.shop.cast["hire_b"])
    insider = case.truth["insider_person_ids"][0]
    assert other.person_id != insider and other.role == "customer_service"
    start = ts(case.truth["leak_start"]).date()
    assert abs((other.hired_on - start).days) < 7
    assert other.hired_on.isocalendar().week == start.isocalendar().week
    camera = case.tables["camera"].filter(pl.col("person_id") == other.person_id)
    assert camera.filter(pl.col("activity") == "insert_device").height == 0
    badge = case.tables["badge"].filter(pl.col("person_id") == other.person_id)
    assert (badge["at"].dt.hour() >= 8).all()


@each_case()
def test_complaints_point_at_leaked_or_background_orders(cases, key):
    case = cases[key]
    truth = truth_of(case)
    orders = read(case, "orders")
    complaints = read(case, "complaints")
    leaked = set(truth["leaked_order_ids"])
    leaked_buyers = set(orders.filter(pl.col("order_id").is_in(leaked))["buyer_id"])
    by_order = dict(orders.select("order_id", "buyer_id").iter_rows())
    assert complaints.height > 0
    for buyer, order in complaints.select("buyer_id", "order_id").iter_rows():
        if order is not None:
            assert by_order[order] == buyer
            assert order in leaked or buyer not in leaked_buyers
    both = complaints.filter(pl.col("contacted_at").is_not_null())
    assert (both["contacted_at"] < both["received_at"]).all()
    victims = complaints.filter(pl.col("buyer_id").is_in(leaked_buyers))
    if leaked:
        assert victims.height >= 3
        assert (victims["received_at"] > ts(truth["leak_start"])).all()
    else:
        assert victims.height == 0
    assert set(complaints["category"]) <= set(TABLES["complaints"].column("category").values)


def test_complaints_carry_untrusted_text(cases):
    texts = " ".join(read(cases["usb_malware", SEEDS[0]], "complaints")["text"].to_list())
    assert "<script>" in texts and "<b>" in texts and "http" in texts and "\n" in texts


# --------------------------------------------------------------------------- realism


@each_case()
def test_office_access_happens_inside_a_login(cases, key):
    """Every view or print from an office PC follows a login of that account
    on that PC the same day (sessions are reconstructible)."""
    case = cases[key]
    access = read(case, "access").filter(
        pl.col("machine_id").is_not_null() & pl.col("order_id").is_not_null()
    )
    logins = read(case, "logins").filter(pl.col("action") == "login")
    joined = access.sort("at").join_asof(
        logins.select("at", "account_id", "machine_id", pl.col("at").alias("login_at")).sort("at"),
        on="at",
        by=["account_id", "machine_id"],
        strategy="backward",
        check_sortedness=False,
    )
    gap = joined["at"] - joined["login_at"]
    assert joined["login_at"].null_count() == 0
    assert (gap <= timedelta(hours=20)).all()


def test_label_prints_cover_almost_every_order(cases):
    case = cases["usb_malware", SEEDS[0]]
    orders = read(case, "orders")
    meta = tomllib.loads((case / "case.toml").read_text("utf-8"))
    opened = datetime.fromisoformat(meta["case"]["opened_at"])
    printed = set(read(case, "access").filter(pl.col("action") == "print_label")["order_id"])
    old = orders.filter(
        (pl.col("placed_at") < opened - timedelta(days=1)) & (pl.col("status") != "cancelled")
    )
    assert old["order_id"].is_in(printed).mean() > 0.95


def test_decoys_are_present(cases):
    case = cases["insider_export", SEEDS[0]]
    staff = read(case, "staff")
    access = read(case, "access")
    logins = read(case, "logins")
    endpoint = read(case, "endpoint")
    # Two hires in the same week, legit exports in office hours, remote logins,
    # IT's USB stick on several machines, sessions without ids, night work.
    hires = staff.filter(pl.col("hired_on").is_not_null()).sort("hired_on")["hired_on"].tail(2)
    assert hires.len() == 2
    exports = access.filter(pl.col("action") == "export_orders")
    assert exports.filter(pl.col("at").dt.hour().is_between(9, 17)).height >= 5
    assert logins.filter(pl.col("machine_id").is_null()).height >= 1
    assert logins.filter(pl.col("session_id").is_null() & (pl.col("action") == "login")).height
    devices = (
        endpoint.filter(pl.col("kind") == "usb_connect")
        .group_by("device_id")
        .agg(pl.col("machine_id").n_unique().alias("n"))
    )
    assert devices["n"].max() >= 2
    night = access.filter((pl.col("action") == "print_label") & (pl.col("at").dt.hour() >= 20))
    assert night.height > 0


def test_camera_clock_offset_is_constant_and_declared():
    for seed in range(6):
        case = simulate("usb_malware", seed=seed, orders=800)
        camera, endpoint = case.tables["camera"], case.tables["endpoint"]
        declared = case.meta["files"].get("camera", {}).get("clock") == "unsynchronized"
        assert declared == (case.camera_offset != 0)
        assert abs(case.camera_offset) <= 10 * 60
        inserts = camera.filter(pl.col("activity") == "insert_device").sort("start_at")
        plugs = endpoint.filter(pl.col("kind") == "usb_connect")
        joined = inserts.join(plugs, on="machine_id").with_columns(
            (pl.col("at") - pl.col("start_at")).dt.total_seconds().alias("lag")
        )
        # The person is seen sitting down 15-40 s before the stick goes in.
        expected = -case.camera_offset
        near = joined.filter((pl.col("lag") - expected).abs() < 60)
        assert near.height >= inserts.filter(pl.col("person_id").is_not_null()).height // 2


# --------------------------------------------------------------------------- writing


def test_same_seed_same_bytes_other_seed_other_bytes(tmp_path):
    for name, seed in (("a", 5), ("b", 5), ("c", 6)):
        generate(tmp_path / name, scenario="stale_account", seed=seed, orders=900, fmt="csv")
    files = sorted(p.name for p in (tmp_path / "a").iterdir())
    assert files == sorted(p.name for p in (tmp_path / "b").iterdir())
    for f in files:
        assert (tmp_path / "a" / f).read_bytes() == (tmp_path / "b" / f).read_bytes(), f
    assert (tmp_path / "a" / "orders.csv").read_bytes() != (
        tmp_path / "c" / "orders.csv"
    ).read_bytes()


def test_parquet_is_deterministic_and_has_the_same_columns(tmp_path):
    for name in ("p1", "p2"):
        generate(tmp_path / name, scenario="third_party_app", seed=2, orders=700, fmt="parquet")
    for path in sorted((tmp_path / "p1").glob("*.parquet")):
        assert path.read_bytes() == (tmp_path / "p2" / path.name).read_bytes(), path.name
        table = path.stem
        assert set(pl.read_parquet(path).columns) == set(TABLES[table].names)
    assert not list((tmp_path / "p1").glob("*.csv"))


def test_auto_format_writes_csv_for_small_cases(tmp_path):
    generate(tmp_path / "x", scenario="none", seed=1, orders=600, fmt="auto")
    assert (tmp_path / "x" / "orders.csv").exists()


def test_refuses_to_write_into_a_foreign_folder(tmp_path):
    foreign = tmp_path / "mine"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("keep me")
    with pytest.raises(FileExistsError):
        generate(foreign, scenario="none", seed=1, orders=600)
    assert (foreign / "notes.txt").read_text() == "keep me"
    # A previous generated case is replaced, CSV by Parquet included.
    generated = tmp_path / "case"
    generate(generated, scenario="none", seed=1, orders=600, fmt="csv")
    generate(generated, scenario="none", seed=2, orders=600, fmt="parquet")
    assert not list(generated.glob("*.csv"))
    with pytest.raises(ValueError):
        generate(tmp_path / "bad", scenario="phishing", seed=1, orders=600)


def test_fixed_dates(tmp_path):
    truth = generate(
        tmp_path / "fixed",
        scenario="usb_malware",
        seed=4,
        orders=800,
        opened_at="2024-04-12T10:00:00",
        leak_on="2024-04-04",
    )
    assert truth["leak_start"].startswith("2024-04-04T07:")
    meta = tomllib.loads((tmp_path / "fixed" / "case.toml").read_text("utf-8"))
    assert meta["case"]["opened_at"] == "2024-04-12T10:00:00"


def test_generated_cases_load_cleanly(cases, tmp_path):
    from forensics.case import load

    generate(tmp_path / "pq", scenario="visitor_malware", seed=8, orders=700, fmt="parquet")
    paths = [cases[v, s] for v in ("usb_malware", "stale_account") for s in SEEDS]
    for path in [*paths, tmp_path / "pq"]:
        case = load(path)
        assert case.quarantine.height == 0, case.quarantine.head()
        assert case.unregistered.height == 0, case.unregistered.head()
        assert case.orders.height > 0


def test_encodings_vary_with_the_seed():
    seen = {simulate("none", seed=s, orders=300).encoding for s in range(25)}
    assert {"utf-8", "gb18030"} <= seen


@pytest.mark.parametrize(
    "name",
    sorted(p.name for p in DATASETS.iterdir() if (p / "truth.json").exists())
    if DATASETS.exists()
    else [],
)
def test_committed_datasets_regenerate_byte_for_byte(name, tmp_path):
    """datasets/README.md's commands reproduce the committed folders."""
    readme = (DATASETS / "README.md").read_text("utf-8")
    line = next(ln for ln in readme.splitlines() if f"generate datasets/{name} " in ln)
    args = line.strip().strip("`").split()
    args = args[args.index("generate") + 1 :]
    from forensics.cli import main

    args[0] = str(tmp_path / name)
    assert main(["generate", *args, "--quiet"]) == 0
    for path in sorted((DATASETS / name).iterdir()):
        assert path.read_bytes() == (tmp_path / name / path.name).read_bytes(), path.name


@pytest.mark.slow
def test_large_case_writes_parquet(tmp_path):
    truth = generate(tmp_path / "big", scenario="insider_export", seed=9, orders=210_000)
    assert (tmp_path / "big" / "access.parquet").exists()
    orders = pl.read_parquet(tmp_path / "big" / "orders.parquet")
    assert orders.height == 210_000
    assert set(truth["leaked_order_ids"]) <= set(orders["order_id"])


def test_orders_have_plausible_personal_data(cases):
    orders = read(cases["none", SEEDS[0]], "orders")
    assert orders["phone"].str.contains(r"^1[3-9]\d{9}$").all()
    assert orders["address"].str.contains("号").all()
    assert orders["buyer_id"].n_unique() < orders.height  # repeat buyers
    hours = orders["placed_at"].dt.hour().to_numpy()
    assert np.bincount(hours, minlength=24)[3] < np.bincount(hours, minlength=24)[21]
