"""The ``monitoring`` scenario: weeks of office life in which a few people drift.

No order leaks here and no buyer complains (``complaints.csv`` is empty): the
case is what a security team has *before* any complaint, the input of
``forensics audit``. Hundreds of people log on to their PCs (endpoint
``logon`` events with the operating-system ``user``, CASE_FORMAT 1.1), plug
USB devices in, sign in to the back office and work on orders. Among them:

- **drifters** (``truth.json`` ``insider_person_ids``): ordinary day workers
  who, from a day in the second half of the period, come back at night,
  plug removable devices they never used before (often into a PC whose
  logger records no serial), sometimes upload right after, and now and then
  open or export orders at night;
- **permanent night workers** (a warehouse night shift, half of them with no
  shift written in ``staff.csv``), **IT staff** who log on to many machines at
  any hour with many devices, **evening managers** who work from home after
  dinner, **new hires** who start mid-period, regular USB users, and the
  odd late evening or new phone charger of anyone.

``truth.json`` follows CASE_FORMAT: ``scenario = "monitoring"``, ``vector =
"none"`` (nothing leaked that a buyer could notice: the drift is what the
watch must rank first), ``machine_ids`` the machines the drifters used at
night, ``leak_start``/``leak_end`` their first and last drifting event, and
an extra ``decoys`` object naming the people of each look-alike group.

Examples
--------
>>> case = simulate_monitoring(seed=1, people=120, days=14)
>>> len(case.truth["insider_person_ids"]) >= 3
True
>>> case.tables["staff"].height
120
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import polars as pl

from ._time import HOUR, MINUTE, TIMEZONE, day_seconds, iso_with_offset, local_text
from .output import case_toml, prepare_folder

__all__ = ["MonitoringCase", "simulate_monitoring", "generate_monitoring", "FIRST_DAY"]

FIRST_DAY = date(2024, 3, 4)
"""A Monday: the first day of the generated period."""

# Share of the staff in each group (the rest are ordinary day workers).
_SHARES = {
    "it": 0.05,
    "night": 0.08,
    "evening_manager": 0.05,
    "manager": 0.03,
    "new_hire": 0.03,
}
_DAY_ROLES = ("customer_service", "customer_service", "warehouse", "finance", "marketing")


@dataclass(frozen=True)
class MonitoringCase:
    """A generated monitoring case before it is written."""

    tables: dict[str, pl.DataFrame]
    meta: dict
    truth: dict


class _Log:
    """Rows of the event tables as column lists (local seconds)."""

    def __init__(self) -> None:
        self.endpoint: dict[str, list] = {
            k: [] for k in ("at", "machine_id", "kind", "device_id", "user", "detail")
        }
        self.logins: dict[str, list] = {
            k: [] for k in ("at", "account_id", "machine_id", "ip", "action", "session_id")
        }
        self.access: dict[str, list] = {
            k: []
            for k in ("at", "account_id", "machine_id", "ip", "action", "order_id", "lo", "hi")
        }
        self.sessions = 0

    def ep(self, at, machine, kind, user, device=None, detail=None) -> None:
        for k, v in zip(self.endpoint, (int(at), machine, kind, device, user, detail), strict=True):
            self.endpoint[k].append(v)

    def session(self, start, end, account, machine, ip) -> str:
        self.sessions += 1
        sid = f"S{self.sessions:06d}"
        for at, action in ((start, "login"), (end, "logout")):
            for k, v in zip(self.logins, (int(at), account, machine, ip, action, sid), strict=True):
                self.logins[k].append(v)
        return sid

    def acc(self, at, account, machine, ip, action, order=None, lo=None, hi=None) -> None:
        for k, v in zip(
            self.access, (int(at), account, machine, ip, action, order, lo, hi), strict=True
        ):
            self.access[k].append(v)


def _groups(rng: np.random.Generator, people: int, drifters: int) -> list[str]:
    """The group of each person (shuffled), drifters taken from day workers."""
    counts = {g: max(2, round(people * s)) for g, s in _SHARES.items()}
    counts["drifter"] = drifters
    counts["usb_user"] = round(people * 0.15)
    rest = people - sum(counts.values())
    if rest < people // 3:
        raise ValueError(f"{people} people is too few for the monitoring scenario")
    groups = [g for g, n in counts.items() for _ in range(n)] + ["day"] * rest
    rng.shuffle(groups)
    return groups


def simulate_monitoring(
    *, seed: int = 0, people: int = 300, days: int = 28, drifters: int | None = None
) -> MonitoringCase:
    """Generate a monitoring case in memory.

    Parameters
    ----------
    seed : int
        Same seed and options, same tables.
    people : int
        Staff size (at least about 60).
    days : int
        Length of the period in days (at least 10).
    drifters : int, optional
        How many people drift; 3 % of the staff (at least 3) if absent.
    """
    if days < 10:
        raise ValueError("the monitoring scenario needs at least 10 days")
    rng = np.random.default_rng(seed)
    n_drift = drifters if drifters is not None else max(3, round(people * 0.03))
    groups = _groups(rng, people, n_drift)
    ids = [f"P{i + 1:04d}" for i in range(people)]
    desks = [f"PC-{i + 1:04d}" for i in range(people)]
    shared = [f"WH-{i + 1:03d}" for i in range(max(3, people // 40))]
    no_serial = set(rng.choice(desks + shared, size=len(desks + shared) * 3 // 10, replace=False))
    role = {
        "it": "it",
        "night": "warehouse",
        "evening_manager": "manager",
        "manager": "manager",
    }
    staff_rows, account_rows, log = [], [], _Log()
    start_sec = day_seconds(FIRST_DAY)
    orders_n = max(2000, people * 10)
    order_at = np.sort(rng.integers(start_sec - 20 * 86400, start_sec + days * 86400, orders_n))
    truth_machines: set[str] = set()
    drift_times: list[int] = []
    truth_people: list[str] = []
    decoys: dict[str, list[str]] = {"night": [], "it": [], "evening_manager": [], "new_hire": []}

    for i, (pid, group) in enumerate(zip(ids, groups, strict=True)):
        r = role.get(group) or _DAY_ROLES[int(rng.integers(len(_DAY_ROLES)))]
        desk = desks[i]
        user = f"SHOP\\user{i + 1:04d}"
        hired = FIRST_DAY - timedelta(days=int(rng.integers(60, 2000)))
        first_day = 0
        if group == "new_hire":
            first_day = int(rng.integers(days // 2, days - 3))
            hired = FIRST_DAY + timedelta(days=first_day)
        if group in decoys:
            decoys[group].append(pid)
        night = group == "night"
        shift = ("22:00", "06:00") if night and rng.random() < 0.5 else (None, None)
        start_h = 22.0 if night else float(rng.normal(8.6, 0.4))
        length = 8.0 if night else float(rng.normal(9.0, 0.5))
        if night and rng.random() < 0.5:  # a second, early-morning night shift
            start_h = 0.5
        staff_rows.append((pid, f"Person {i + 1}", r, hired, None, *shift, desk, user))
        account = f"A-{i + 1:04d}" if r in ("customer_service", "manager", "finance") else None
        if account:
            account_rows.append((account, pid, "sub", r == "manager", hired))
        own_devices = [f"USB-{pid}-{k}" for k in range(1 + int(rng.integers(2)))]
        drift_day = (
            int(rng.integers(int(days * 0.45), int(days * 0.75))) if group == "drifter" else None
        )
        new_dev = 0
        for d in range(first_day, days):
            day0 = start_sec + d * 86400
            weekday = (FIRST_DAY + timedelta(days=d)).isoweekday()
            works = weekday <= 5 if not night else weekday != 7
            if not works and not (group == "it" and rng.random() < 0.2):
                continue
            begin = day0 + int((start_h + rng.normal(0, 0.25)) * HOUR)
            end = begin + int(length * HOUR)
            machines = [desk]
            if group == "it":
                k = int(rng.integers(4, 15))
                pool = desks + shared
                machines += [pool[j] for j in rng.choice(len(pool), size=k, replace=False)]
            elif r == "warehouse" and rng.random() < 0.3:
                machines.append(shared[int(rng.integers(len(shared)))])
            times = np.sort(rng.integers(begin, end, len(machines) + int(rng.integers(0, 3))))
            times[0] = begin
            for j, t in enumerate(times):
                log.ep(t, machines[min(j, len(machines) - 1)], "logon", user)
            if group == "it" and rng.random() < 0.25:  # maintenance window at night
                t = day0 + int(rng.uniform(20, 27) * HOUR)
                log.ep(t, machines[-1], "logon", user)
            # USB: regular users bring their own; IT brings many; anyone a charger.
            plug: list[tuple[int, str, str]] = []
            if group == "usb_user" and rng.random() < 0.6:
                plug.append((int(rng.integers(begin, end)), desk, own_devices[0]))
            if group == "it":
                for _ in range(int(rng.integers(1, 5))):
                    m = machines[int(rng.integers(len(machines)))]
                    dev = f"USB-IT-{int(rng.integers(0, 400)):03d}"
                    plug.append((int(rng.integers(begin, end)), m, dev))
            if rng.random() < 0.015:
                new_dev += 1
                plug.append((int(rng.integers(begin, end)), desk, f"USB-{pid}-n{new_dev}"))
            for t, m, dev in plug:
                log.ep(t, m, "usb_connect", user, None if m in no_serial else dev)
                log.ep(
                    t + int(rng.integers(60, 3600)),
                    m,
                    "usb_disconnect",
                    user,
                    None if m in no_serial else dev,
                )
                if rng.random() < 0.05:
                    log.ep(
                        t + int(rng.integers(60, 1800)),
                        m,
                        "net_upload",
                        user,
                        detail="sync.example.com",
                    )
            if rng.random() < 0.03 and not night:  # the odd late evening
                t = day0 + int(rng.uniform(19, 22.5) * HOUR)
                log.ep(t, desk, "logon", user)
            if account:
                _office_work(rng, log, account, desk, begin, end, r, order_at)
                if group == "evening_manager" and rng.random() < 0.7:
                    s = day0 + int(rng.uniform(19.5, 21.5) * HOUR)
                    _home_work(rng, log, account, s, order_at)
            if drift_day is not None and d >= drift_day and rng.random() < 0.65:
                machine = desk if rng.random() < 0.75 else desks[int(rng.integers(people))]
                t = day0 + int(rng.uniform(21, 27.5) * HOUR)
                drift_times.append(t)
                truth_machines.add(machine)
                log.ep(t, machine, "logon", user)
                if rng.random() < 0.7:
                    new_dev += 1
                    dev = f"USB-{pid}-d{new_dev}"
                    serial = None if (machine in no_serial or rng.random() < 0.4) else dev
                    u = t + int(rng.integers(120, 1200))
                    log.ep(u, machine, "usb_connect", user, serial)
                    log.ep(
                        u + int(rng.integers(600, 3600)), machine, "usb_disconnect", user, serial
                    )
                    drift_times.append(u)
                    if rng.random() < 0.35:
                        log.ep(
                            u + int(rng.integers(60, 900)),
                            machine,
                            "net_upload",
                            user,
                            detail="files.example.net",
                        )
                if account and rng.random() < 0.4:
                    s = t + 300
                    log.session(s, s + 1800, account, machine, "10.0.0.9")
                    _bulk_pull(rng, log, account, machine, s + 60, order_at, r == "manager")
        if group == "drifter":
            truth_people.append(pid)

    return _assemble(
        seed,
        days,
        ids,
        desks,
        shared,
        staff_rows,
        account_rows,
        log,
        order_at,
        sorted(truth_people),
        truth_machines,
        drift_times,
        decoys,
    )


def _office_work(rng, log: _Log, account, desk, begin, end, role, order_at) -> None:
    s = begin + int(rng.integers(5, 30)) * MINUTE
    log.session(s, end - 10 * MINUTE, account, desk, "10.0.0.2")
    if role == "customer_service":
        for t in np.sort(rng.integers(s + 60, end - 11 * MINUTE, int(rng.integers(5, 20)))):
            log.acc(t, account, desk, "10.0.0.2", "view_order", int(rng.integers(len(order_at))))
    if role == "manager" and rng.random() < 0.5:
        t = int(rng.integers(s + 60, end - 11 * MINUTE))
        hi = int(np.searchsorted(order_at, t))
        log.acc(t, account, desk, "10.0.0.2", "export_orders", lo=max(0, hi - 150), hi=hi)


def _home_work(rng, log: _Log, account, s, order_at) -> None:
    log.session(s, s + 5400, account, None, "203.0.113.7")
    for t in np.sort(rng.integers(s + 60, s + 5300, int(rng.integers(2, 6)))):
        log.acc(t, account, None, "203.0.113.7", "view_order", int(rng.integers(len(order_at))))


def _bulk_pull(rng, log: _Log, account, machine, t, order_at, can_export) -> None:
    hi = int(np.searchsorted(order_at, t))
    if can_export:
        log.acc(t, account, machine, "10.0.0.9", "export_orders", lo=max(0, hi - 1500), hi=hi)
    else:
        for k in range(int(rng.integers(20, 60))):
            log.acc(
                t + 20 * k,
                account,
                machine,
                "10.0.0.9",
                "view_order",
                int(rng.integers(len(order_at))),
            )


def _assemble(
    seed,
    days,
    ids,
    desks,
    shared,
    staff_rows,
    account_rows,
    log,
    order_at,
    truth_people,
    truth_machines,
    drift_times,
    decoys,
) -> MonitoringCase:
    staff = pl.DataFrame(
        staff_rows,
        schema=[
            "person_id",
            "name",
            "role",
            "hired_on",
            "left_on",
            "shift_start",
            "shift_end",
            "desk_machine_id",
            "os_users",
        ],
        orient="row",
    )
    machines = pl.DataFrame(
        {
            "machine_id": desks + shared,
            "location": ["office"] * len(desks) + ["warehouse"] * len(shared),
            "assigned_person_id": ids + [None] * len(shared),
            "camera_id": [None] * (len(desks) + len(shared)),
        },
        schema_overrides={"camera_id": pl.String},
    )
    accounts = pl.DataFrame(
        account_rows,
        schema=["account_id", "owner_person_id", "kind", "can_export", "created_at"],
        orient="row",
    ).with_columns(
        pl.col("created_at").cast(pl.Datetime).dt.strftime("%Y-%m-%dT09:00:00"),
        pl.lit(None, pl.String).alias("disabled_at"),
    )
    orders = pl.DataFrame(
        {
            "order_id": [f"O{k + 1:07d}" for k in range(len(order_at))],
            "buyer_id": [f"B{k % 9973:05d}" for k in range(len(order_at))],
            "placed_at": local_text(order_at),
            "status": "shipped",
            "amount": 99.0,
        }
    )
    complaints = pl.DataFrame(
        schema={
            c: pl.String
            for c in ("complaint_id", "buyer_id", "order_id", "received_at", "category", "text")
        }
    )
    logins = pl.DataFrame(log.logins, schema_overrides={"machine_id": pl.String}).sort(
        "at", "session_id"
    )
    logins = logins.with_row_index("n").select(
        pl.format("L{}", pl.col("n") + 1).alias("event_id"),
        pl.from_epoch("at", time_unit="s").dt.strftime("%Y-%m-%dT%H:%M:%S").alias("at"),
        "account_id",
        "machine_id",
        "ip",
        "action",
        "session_id",
    )
    placed = local_text(order_at)
    index = pl.Series(range(len(order_at)), dtype=pl.Int64)
    acc = pl.DataFrame(
        log.access,
        schema_overrides={
            "machine_id": pl.String,
            "order_id": pl.Int64,
            "lo": pl.Int64,
            "hi": pl.Int64,
        },
    ).sort("at", "account_id")
    access = acc.with_row_index("n").select(
        pl.format("X{}", pl.col("n") + 1).alias("event_id"),
        pl.from_epoch("at", time_unit="s").dt.strftime("%Y-%m-%dT%H:%M:%S").alias("at"),
        "account_id",
        "machine_id",
        "ip",
        "action",
        pl.format("O{}", (pl.col("order_id") + 1).cast(pl.String).str.zfill(7)).alias("order_id"),
        pl.col("lo").replace_strict(index, placed, default=None).alias("range_start"),
        (pl.col("hi") - 1).replace_strict(index, placed, default=None).alias("range_end"),
        (pl.col("hi") - pl.col("lo")).alias("rows"),
    )
    endpoint = (
        pl.DataFrame(
            log.endpoint,
            schema_overrides={"device_id": pl.String, "detail": pl.String},
        )
        .sort("at", "machine_id", "kind")
        .with_row_index("n")
        .select(
            pl.format("E{}", pl.col("n") + 1).alias("event_id"),
            pl.from_epoch("at", time_unit="s").dt.strftime("%Y-%m-%dT%H:%M:%S").alias("at"),
            "machine_id",
            "kind",
            "device_id",
            "user",
            pl.lit(None, pl.String).alias("process"),
            "detail",
        )
    )
    end_day = FIRST_DAY + timedelta(days=days)
    meta = {
        "case": {
            "id": f"MON-{seed:04d}",
            "title": "Monitoring: weeks of logons and USB events, before any complaint",
            "timezone": TIMEZONE,
            "opened_at": f"{end_day.isoformat()}T09:00:00",
        },
        "business_hours": {"start": "09:00", "end": "18:00", "weekdays": [1, 2, 3, 4, 5]},
    }
    truth = {
        "scenario": "monitoring",
        "insider_person_ids": truth_people,
        "vector": "none",
        "machine_ids": sorted(truth_machines),
        "account_ids": [],
        "app_ids": [],
        "leaked_order_ids": [],
        "leak_start": iso_with_offset(min(drift_times)) if drift_times else None,
        "leak_end": iso_with_offset(max(drift_times)) if drift_times else None,
        "decoys": {k: sorted(v) for k, v in decoys.items()},
    }
    tables = {
        "staff": staff.with_columns(pl.col("hired_on").cast(pl.String)),
        "machines": machines,
        "accounts": accounts,
        "orders": orders,
        "complaints": complaints,
        "logins": logins,
        "access": access,
        "endpoint": endpoint,
    }
    return MonitoringCase(tables=tables, meta=meta, truth=truth)


def generate_monitoring(
    out: Path | str,
    *,
    seed: int = 0,
    people: int = 300,
    days: int = 28,
    drifters: int | None = None,
) -> dict:
    """Write a monitoring case (CSV) and its ``truth.json`` into ``out``; return the truth."""
    out = Path(out)
    case = simulate_monitoring(seed=seed, people=people, days=days, drifters=drifters)
    prepare_folder(out)
    for name, df in case.tables.items():
        (out / f"{name}.csv").write_text(df.write_csv(), encoding="utf-8")
    (out / "case.toml").write_text(case_toml(case.meta), encoding="utf-8")
    (out / "truth.json").write_text(
        json.dumps(case.truth, indent=1, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    return case.truth
