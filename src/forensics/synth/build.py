"""Assemble a whole synthetic case in memory: :func:`simulate`.

The order of work mirrors how the evidence came to be: the shop and its
calendar, the orders, ordinary office life, the leak staged on top, order
access (routine and leak), then who complained. The truth is computed from
the access rows the plot marked as leaking, never declared separately.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from datetime import date, datetime
from types import MappingProxyType

import numpy as np
import polars as pl

from ._time import TIMEZONE, clock, iso_with_offset, to_datetime
from .access import SessionPool, api_pulls, label_prints, manager_exports, searches, views
from .complaints import FIELDS_ALL, make_complaints
from .events import Recorder, internal_schema
from .orders import make_orders, order_status
from .plots import VECTORS, Plot, make_plot
from .routine import Office, simulate_routine
from .variants import Variants
from .world import BUSINESS_HOURS, BUSINESS_WEEKDAYS, Calendar, Shop, build_shop, make_calendar

__all__ = ["SyntheticCase", "simulate", "leaked_exposure"]


@dataclass(frozen=True)
class SyntheticCase:
    """A generated case before it is written.

    Attributes
    ----------
    tables : mapping of str to polars.DataFrame
        Contract columns only. Timestamps are naive local ``Datetime``
        (camera times already carry the camera's clock offset), dates are
        ``Date``, shift times ``HH:MM`` text.
    meta : dict
        What ``case.toml`` says.
    truth : dict
        ``truth.json``.
    camera_offset : int
        Seconds the camera clock runs ahead of the back office (negative:
        behind). Not written anywhere in the case; kept for tests of the
        clock estimate.
    encoding : str
        Text encoding of ``orders.csv`` and ``complaints.csv`` when written
        as CSV (``utf-8``, ``utf-8-sig`` or ``gb18030``).
    shop, calendar : Shop, Calendar
        The world behind the tables (who is who: the cast of the scenario,
        the sale days), for tests and notebooks that explain a case.
    """

    tables: MappingProxyType
    meta: dict
    truth: dict
    camera_offset: int
    encoding: str
    shop: Shop
    calendar: Calendar


class _Progress:
    def __init__(self, enabled: bool):
        self.enabled = enabled
        self.t0 = time.perf_counter()

    def __call__(self, what: str) -> None:
        if self.enabled:
            print(f"  [{time.perf_counter() - self.t0:6.1f}s] {what}", file=sys.stderr, flush=True)


def leaked_exposure(access: pl.DataFrame, orders: pl.DataFrame) -> pl.DataFrame:
    """Orders exposed by access rows marked ``_leak`` and when first exposed.

    A row with an ``order_id`` exposes that order; an export or pull
    exposes every order placed in ``[range_start, range_end]`` no later
    than the row's time. Ranges are counted on the sorted ``placed_at``
    with binary search and only expanded for the (leaking) rows at hand.

    Returns
    -------
    polars.DataFrame
        ``_idx`` (row of ``orders``) and ``first_at`` (local seconds).
    """
    leak = access.filter(pl.col("_leak"))
    single = (
        leak.filter(pl.col("order_id").is_not_null())
        .join(orders.select("order_id", "_idx"), on="order_id")
        .select("_idx", pl.col("at").alias("first_at"))
    )
    ranged = leak.filter(pl.col("range_start").is_not_null())
    placed = orders["placed_at"].to_numpy()
    at = ranged["at"].to_numpy()
    lo = np.searchsorted(placed, ranged["range_start"].to_numpy(), "left")
    hi = np.searchsorted(placed, np.minimum(ranged["range_end"].to_numpy(), at), "right")
    n = np.maximum(hi - lo, 0)
    idx = np.repeat(lo, n) + (np.arange(n.sum()) - np.repeat(np.cumsum(n) - n, n))
    expanded = pl.DataFrame({"_idx": idx.astype(np.uint32), "first_at": np.repeat(at, n)})
    both = pl.concat([single.with_columns(pl.col("_idx").cast(pl.UInt32)), expanded])
    return both.group_by("_idx").agg(pl.col("first_at").min()).sort("_idx")


def _pools(sessions: pl.DataFrame, cal: Calendar) -> dict[str, SessionPool]:
    return {
        name: SessionPool(sessions.filter(pl.col("pool") == name), cal.start, cal.opened_at)
        for name in ("cs", "wh", "mgr")
    }


def _access(
    rng: np.random.Generator,
    rec: Recorder,
    office: Office,
    orders: pl.DataFrame,
    plot: Plot,
    shop: Shop,
    cal: Calendar,
) -> np.ndarray:
    """Add every access row to ``rec``; returns which orders got a label."""
    placed = orders["placed_at"].to_numpy()
    sessions = rec.sessions()
    pools = _pools(sessions, cal)
    until = cal.opened_at
    rec.add_frame("access", views(rng, orders, pools["cs"], per_order=1.3, until=until))
    rec.add_frame("access", views(rng, orders, pools["mgr"], per_order=0.04, until=until))
    labels, printed = label_prints(rng, orders, pools["wh"], until=until)
    rec.add_frame("access", labels)
    rec.add_frame("access", searches(rng, pools["cs"], per_hour=1.1, until=until))
    rec.add_frame("access", manager_exports(rng, placed, sessions, shop, cal))
    for app in shop.apps:
        if app.schedule != "rogue":
            rec.add_frame("access", api_pulls(rng, placed, app, cal))
    own = plot.access(office, placed, orders["order_id"])
    if own is not None:
        rec.add_frame("access", own)
    return printed


def _camera_offset(rng: np.random.Generator) -> int:
    """A few minutes fast (usually) or slow; now and then in sync."""
    if rng.random() < 0.12:
        return 0
    sign = -1 if rng.random() < 0.3 else 1
    return sign * int(rng.uniform(3 * 60, 9 * 60 + 59))


def _as_datetime(df: pl.DataFrame, table: str) -> pl.DataFrame:
    """Local seconds to naive Datetime for every timestamp column of ``table``."""
    ts = [c for c, t in internal_schema(table).items() if t == pl.Int64() and c not in ("rows",)]
    return df.with_columns(
        [pl.from_epoch(pl.col(c), time_unit="s").cast(pl.Datetime("us")).alias(c) for c in ts]
        + [pl.col(pl.Categorical).cast(pl.String)]
    ).select([c for c in df.columns if not c.startswith("_")])


def _static_tables(shop: Shop, orders: pl.DataFrame, status: pl.Series) -> dict[str, pl.DataFrame]:
    staff = pl.DataFrame(
        [
            {
                "person_id": p.person_id,
                "name": p.name,
                "role": p.role,
                "hired_on": p.hired_on,
                "left_on": p.left_on,
                "shift_start": clock(p.shift[0]) if p.shift else None,
                "shift_end": clock(p.shift[1]) if p.shift else None,
                "desk_machine_id": p.desk,
            }
            for p in shop.people
        ],
        schema=internal_schema("staff"),
        orient="row",
    )
    accounts = pl.DataFrame(
        [
            {
                "account_id": a.account_id,
                "owner_person_id": a.owner,
                "kind": a.kind,
                "can_export": a.can_export,
                "created_at": a.created_at,
                "disabled_at": a.disabled_at,
            }
            for a in shop.accounts
        ],
        schema=internal_schema("accounts"),
        orient="row",
    )
    machines = pl.DataFrame(
        [
            {
                "machine_id": m.machine_id,
                "location": m.location,
                "assigned_person_id": m.assigned,
                "camera_id": m.camera_id,
            }
            for m in shop.machines
        ],
        schema=internal_schema("machines"),
        orient="row",
    )
    apps = pl.DataFrame(
        [
            {
                "app_id": a.app_id,
                "account_id": a.account_id,
                "name": a.name,
                "granted_at": a.granted_at,
                "revoked_at": a.revoked_at,
                "scopes": a.scopes,
            }
            for a in shop.apps
        ],
        schema=internal_schema("apps"),
        orient="row",
    )
    orders_out = orders.with_columns(status).select(
        "order_id", "buyer_id", "placed_at", "status", "amount", "buyer_name", "phone", "address"
    )
    return {
        "staff": staff,
        "accounts": accounts,
        "machines": machines,
        "apps": apps,
        "orders": orders_out,
    }


def simulate(
    scenario: str = "usb_malware",
    *,
    seed: int = 0,
    orders: int = 5000,
    opened_at: datetime | str | None = None,
    leak_on: date | str | None = None,
    progress: bool = False,
    variants=None,
) -> SyntheticCase:
    """Generate a case in memory (see :func:`forensics.synth.generate`).

    ``variants`` names shop-life variants (:mod:`forensics.synth.variants`);
    none: the case is exactly what the base scenario writes.
    """
    if scenario not in VECTORS:
        raise ValueError(f"unknown scenario {scenario!r}; choose from {', '.join(VECTORS)}")
    if orders < 100:
        raise ValueError("orders must be at least 100")
    if isinstance(opened_at, str):
        opened_at = datetime.fromisoformat(opened_at).replace(tzinfo=None)
    if isinstance(leak_on, str):
        leak_on = date.fromisoformat(leak_on)
    say = _Progress(progress)
    extra = Variants(variants, seed)
    rng = np.random.default_rng(seed)
    cal = make_calendar(rng, opened_at=opened_at, leak_on=leak_on)
    shop = build_shop(rng, cal, orders, scenario)
    plot = make_plot(scenario, rng, shop, cal)
    if extra:
        shop = extra.shape(shop, plot, cal)
    say(f"shop of {len(shop.people)} people, {len(shop.machines)} machines")
    order_frame = make_orders(rng, cal, orders).with_row_index("_idx")
    say(f"{order_frame.height} orders")

    rec = Recorder()
    office = Office(rec, rng, shop, cal)
    arrivals = extra.arrivals(shop, cal, plot.arrivals()) if extra else plot.arrivals()
    simulate_routine(office, arrivals=arrivals, skip=plot.skip())
    plot.stage(office)
    if extra:
        extra.stage(rec, shop, cal, plot)
    say("office routine and leak staged")
    printed = _access(rng, rec, office, order_frame, plot, shop, cal)
    if extra:
        extra.access(rec, order_frame, shop, cal)
    access = plot.mark(rec.frame("access", until=cal.opened_at))
    say(f"{access.height} access rows")
    exposure = leaked_exposure(access, order_frame)
    rec.add_frame(
        "complaints",
        make_complaints(
            rng, order_frame, exposure, start=cal.start, opened_at=cal.opened_at, fields=FIELDS_ALL
        ),
    )
    if extra:
        for df in extra.complaints(order_frame, exposure, cal):
            rec.add_frame("complaints", df)
    status = order_status(order_frame, printed, cal.opened_at, rng)
    offset = _camera_offset(rng)
    encoding = str(rng.choice(["utf-8", "utf-8-sig", "gb18030"], p=[0.7, 0.15, 0.15]))

    tables = _static_tables(shop, order_frame, status)
    tables["access"] = access
    for name in ("logins", "camera", "endpoint", "badge", "complaints"):
        tables[name] = rec.frame(name, until=cal.opened_at)
    meta_extra: dict = {"files": {}}
    if extra:
        meta_extra["case"] = {"timezone": TIMEZONE}
        tables = extra.finish(tables, shop, cal, plot, meta_extra)
    tables["camera"] = tables["camera"].with_columns(
        pl.col("start_at") + offset, pl.col("end_at") + offset
    )
    tables = {name: _as_datetime(df, name) for name, df in sorted(tables.items())}
    say("complaints and tables")

    leaked_ids = order_frame["order_id"].gather(exposure["_idx"]).sort().to_list()
    leak_rows = access.filter(pl.col("_leak"))
    truth = {
        "scenario": scenario,
        **plot.truth(),
        "leaked_order_ids": leaked_ids,
        "leak_start": iso_with_offset(plot.leak_start) if plot.vector != "none" else None,
        "leak_end": iso_with_offset(int(leak_rows["at"].max())) if leak_rows.height else None,
    }
    if extra:
        truth["variants"] = list(extra.names)
    truth = {
        k: truth[k]
        for k in (
            "scenario",
            "insider_person_ids",
            "vector",
            "machine_ids",
            "account_ids",
            "app_ids",
            "leaked_order_ids",
            "leak_start",
            "leak_end",
            "variants",
        )
        if k in truth
    }
    opened = to_datetime(cal.opened_at)
    meta = {
        "case": {
            "id": f"CASE-{opened:%Y-%m%d}",
            "title": f"Buyer scam-call complaints, {shop.name} ({opened:%B %Y})",
            "timezone": TIMEZONE,
            "opened_at": opened.isoformat(timespec="seconds"),
        },
        "business_hours": {
            "start": clock(BUSINESS_HOURS[0]),
            "end": clock(BUSINESS_HOURS[1]),
            "weekdays": list(BUSINESS_WEEKDAYS),
        },
        "files": {},
    }
    if offset:
        meta["files"]["camera"] = {"timezone": TIMEZONE, "clock": "unsynchronized"}
    meta["files"].update(meta_extra["files"])
    if "_write" in meta_extra:
        meta["_write"] = meta_extra["_write"]
    return SyntheticCase(MappingProxyType(tables), meta, truth, offset, encoding, shop, cal)
