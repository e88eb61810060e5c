"""The shop-life variants themselves (registry and hooks: :mod:`.variants`)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import numpy as np
import polars as pl

from ._time import DAY, HOUR, MINUTE, day_seconds
from .access import range_rows
from .complaints import _CATEGORIES, _P_BACKGROUND, FIELDS_LABEL, _daytime, _frame, _quoted, _texts
from .events import Recorder
from .plots import Plot
from .routine import Office
from .world import Account, App, Calendar, Machine, Person, Shop

__all__ = [
    "Variant",
    "ReviewApps",
    "ErpCadence",
    "EarlyApp",
    "NightShift",
    "Agentless",
    "AgentlessSweep",
    "MtpPhones",
    "SharedAccount",
    "AnonymousVisitor",
    "UnidentifiedInsertion",
    "ComplaintsOld",
    "ComplaintsNew",
    "NoOrderIds",
    "CameraDrift",
    "UtcLogs",
    "ParquetFiles",
    "Gb18030",
]


class Variant:
    """A piece of shop life (base class: does nothing)."""

    name = ""
    summary = ""
    fault = ""  # issue-15 fault class it exercises, if any

    def __init__(self, rng: np.random.Generator):
        self.rng = rng

    def shape(self, shop: Shop, plot: Plot, cal: Calendar) -> Shop:
        return shop

    def arrivals(self, shop: Shop, cal: Calendar) -> dict:
        return {}

    def stage(self, office: Office, plot: Plot) -> None:
        """Extra office evidence (``office`` draws from this variant's generator)."""

    def access(self, rec: Recorder, orders: pl.DataFrame, shop: Shop, cal: Calendar) -> None:
        """Extra access frames added to ``rec``."""

    def complaints(
        self, orders: pl.DataFrame, exposure: pl.DataFrame, cal: Calendar
    ) -> pl.DataFrame | None:
        return None

    def finish(self, tables: dict, shop: Shop, cal: Calendar, plot: Plot, meta: dict) -> dict:
        return tables


# --------------------------------------------------------------------------- helpers


def _next_pid(shop: Shop, k: int = 0) -> str:
    n = max(int(p.person_id[1:]) for p in shop.people if p.person_id[1:].isdigit())
    return f"P{n + 1 + k:03d}"


def _add_app(shop: Shop, app: App) -> Shop:
    acc = Account(
        app.account_id, None, "app", "export" in app.scopes, app.granted_at, app.revoked_at
    )
    return replace(shop, apps=(*shop.apps, app), accounts=(*shop.accounts, acc))


def _single_pulls(
    rng: np.random.Generator,
    orders: pl.DataFrame,
    app: App,
    cal: Calendar,
    *,
    share: float,
    delay_hours: tuple[float, float],
) -> pl.DataFrame:
    """One ``api_pull`` per order (order_id, no range), some time after it was placed."""
    placed = orders["placed_at"].to_numpy()
    pick = np.flatnonzero(rng.random(placed.size) < share)
    mu = np.log(np.sqrt(delay_hours[0] * delay_hours[1]) * HOUR)
    at = placed[pick] + np.maximum(rng.lognormal(mu, 0.5, pick.size), 60).astype(np.int64)
    keep = (at < cal.opened_at) & (at >= max(app.granted_at, cal.start))
    if app.revoked_at is not None:
        keep &= at < app.revoked_at
    return pl.DataFrame(
        {
            "at": at[keep],
            "account_id": app.account_id,
            "machine_id": None,
            "ip": app.ip,
            "action": "api_pull",
            "order_id": orders["order_id"].gather(pick[keep]),
        },
        schema_overrides={"machine_id": pl.String},
    )


# --------------------------------------------------------------------------- A: apps


class ReviewApps(Variant):
    name = "review_app"
    fault = "A"
    summary = (
        "A review-invitation app and an SMS shipping-reminder app call the API once per "
        "order (an `api_pull` row with `order_id` and no range): thousands of single-order "
        "pulls all period long."
    )

    def shape(self, shop, plot, cal):
        start = cal.start + 9 * HOUR
        self.apps = [
            App(
                "APP-3001",
                "app:haoping-yaoqing",
                "好评邀请助手",
                start - int(self.rng.integers(120, 600)) * DAY,
                None,
                "orders.read;reviews.write",
                "120.26.33.71",
                "none",
            ),
            App(
                "APP-3002",
                "app:sms-notify",
                "短信催付提醒",
                start - int(self.rng.integers(60, 400)) * DAY,
                None,
                "orders.read;buyer.contact.read;sms.send",
                "47.111.9.204",
                "none",
            ),
        ]
        for app in self.apps:
            shop = _add_app(shop, app)
        return shop

    def access(self, rec, orders, shop, cal):
        review, sms = self.apps
        rec.add_frame(
            "access", _single_pulls(self.rng, orders, review, cal, share=0.9, delay_hours=(48, 120))
        )
        rec.add_frame(
            "access", _single_pulls(self.rng, orders, sms, cal, share=0.97, delay_hours=(0.1, 3))
        )


class ErpCadence(Variant):
    name = "erp_cadence"
    fault = "A"
    summary = (
        "A second ERP, connected months ago, pulls the orders since its last pull every "
        "30 minutes, day and night, with the odd outage followed by a catch-up pull."
    )

    def shape(self, shop, plot, cal):
        self.app = App(
            "APP-3101",
            "app:wdt-erp",
            "旺店通ERP",
            cal.start - int(self.rng.integers(90, 400)) * DAY + 10 * HOUR,
            None,
            "orders.read;inventory.write;logistics.write",
            "115.29.200.18",
            "none",
        )
        return _add_app(shop, self.app)

    def access(self, rec, orders, shop, cal):
        step = 30 * MINUTE
        marks = np.arange(cal.start // step * step + step, cal.opened_at, step)
        down = np.zeros(marks.size, bool)
        for _ in range(int(self.rng.integers(1, 4))):  # outages of 2-9 hours
            i = int(self.rng.integers(0, marks.size))
            down[i : i + int(self.rng.integers(4, 19))] = True
        marks = marks[~down]
        lo = np.concatenate([[marks[0] - step], marks[:-1]])
        at = marks + self.rng.integers(5, 120, marks.size)
        keep = at < cal.opened_at
        placed = orders["placed_at"].to_numpy()
        rec.add_frame(
            "access",
            range_rows(
                self.rng,
                placed,
                self.app.account_id,
                None,
                self.app.ip,
                "api_pull",
                at[keep],
                lo[keep],
                marks[keep],
                rows_missing=0.02,
            ),
        )


class EarlyApp(Variant):
    name = "early_app"
    fault = "F"
    summary = (
        "A marketing app pulled orders hourly in the first weeks of the period and was "
        "revoked a third of the way in: a path confined to early orders."
    )

    def shape(self, shop, plot, cal):
        span = cal.opened_at - cal.start
        self.app = App(
            "APP-3201",
            "app:yingxiao-tong",
            "营销通",
            cal.start - int(self.rng.integers(30, 200)) * DAY + 11 * HOUR,
            cal.start + int(span * self.rng.uniform(0.25, 0.4)),
            "orders.read;buyer.contact.read;marketing.write",
            "101.37.64.112",
            "none",
        )
        return _add_app(shop, self.app)

    def access(self, rec, orders, shop, cal):
        marks = np.arange(cal.start // HOUR * HOUR + HOUR, self.app.revoked_at, HOUR)
        at = marks + self.rng.integers(60, 600, marks.size)
        keep = at < self.app.revoked_at
        rec.add_frame(
            "access",
            range_rows(
                self.rng,
                orders["placed_at"].to_numpy(),
                self.app.account_id,
                None,
                self.app.ip,
                "api_pull",
                at[keep],
                marks[keep] - HOUR,
                marks[keep],
                rows_missing=0.0,
            ),
        )


# --------------------------------------------------------------------------- people


def _names(rng: np.random.Generator, shop: Shop, n: int) -> list[str]:
    from .names import person_names

    taken = {p.name for p in shop.people}
    return [x for x in person_names(rng, n + len(taken)) if x not in taken][:n]


class NightShift(Variant):
    name = "night_shift"
    fault = "E"
    summary = (
        "A permanent night-shift worker (chat support or packing, 22:00-06:00, own desk and "
        "account) and two early cleaners who badge in at 05:40 and appear on the CS-room "
        "cameras every day."
    )

    def shape(self, shop, plot, cal):
        cs = self.rng.random() < 0.6
        role = "customer_service" if cs else "warehouse"
        pid = _next_pid(shop)
        mid = f"PC-{len(shop.machines) + 1:02d}"
        cams = [c for k, c in shop.cameras.items() if k.startswith("cs")]
        camera = (
            cams[int(self.rng.integers(len(cams)))] if cs and cams else shop.cameras["warehouse"]
        )
        site = "office" if cs else "warehouse"
        location = "CS room, night desk" if cs else "Warehouse, night station"
        acc = f"{shop.slug}:night01"
        hired = cal.days[0] - timedelta(days=int(self.rng.integers(120, 900)))
        names = _names(self.rng, shop, 3)
        night = Person(
            pid,
            names[0],
            role,
            hired,
            None,
            (22 * 60, 6 * 60),
            mid,
            acc,
            f"B{30000 + int(pid[1:]):05d}",
            (6,),
        )
        cleaners = [
            Person(
                _next_pid(shop, k + 1),
                names[k + 1],
                "contractor",
                hired - timedelta(days=30 * k),
                None,
                (5 * 60 + 40, 7 * 60),
                None,
                None,
                f"B{30000 + int(pid[1:]) + k + 1:05d}",
                (7,),
                tags=frozenset({"cleaner"}),
            )
            for k in range(2)
        ]
        self.person_ids = [pid] + [c.person_id for c in cleaners]
        machine = Machine(mid, location, pid, camera, site)
        account = Account(acc, pid, "sub", False, day_seconds(hired) + 10 * HOUR)
        return replace(
            shop,
            people=(*shop.people, night, *cleaners),
            machines=(*shop.machines, machine),
            accounts=(*shop.accounts, account),
        )


class Agentless(Variant):
    name = "agentless"
    fault = "C"
    summary = (
        "About 15 % of PCs run without the endpoint agent (no endpoint rows at all). In the "
        "USB scenarios one PC of the insider's sweep (two in a long sweep) is one of them: "
        "only the camera shows the stick going in."
    )

    def _silent(self, n: int) -> int:
        """How many PCs of an ``n``-PC sweep lack the agent."""
        return 2 if n >= 5 else 1

    def shape(self, shop, plot, cal):
        off: set[str] = set()
        targets = list(getattr(plot, "targets", []))
        if len(targets) >= 2:
            k = self._silent(len(targets))
            pick = self.rng.choice(len(targets), k, replace=False)
            off |= {targets[int(i)].machine_id for i in pick}
        keep = {t.machine_id for t in targets} - off
        pcs = [m.machine_id for m in shop.machines if m.agent and m.machine_id not in keep | off]
        want = max(1, round(0.15 * len([m for m in shop.machines if m.agent]))) - len(off)
        if want > 0 and pcs:
            off |= {pcs[int(i)] for i in self.rng.choice(len(pcs), min(want, len(pcs)), False)}
        self.machine_ids = sorted(off)
        return replace(
            shop,
            machines=tuple(
                replace(m, agent=False) if m.machine_id in off else m for m in shop.machines
            ),
        )


class AgentlessSweep(Agentless):
    name = "agentless_sweep"
    fault = "C"
    summary = (
        "As `agentless`, but in the USB scenarios only one PC of the sweep has the agent: "
        "every other infection is seen by the camera alone."
    )

    def _silent(self, n: int) -> int:
        return n - 1


_PHONES = (
    ("USB\\VID_22D9&PID_2765", "OPPO Reno8 (MTP) - Windows Portable Device"),
    ("USB\\VID_12D1&PID_107E", "HUAWEI nova 11 (MTP) - Portable Device"),
    ("USB\\VID_2717&PID_FF40", "Redmi Note 12 (MTP)"),
    ("USB\\VID_05AC&PID_12A8", "Apple iPhone - Portable Device"),
)


class MtpPhones(Variant):
    name = "mtp_phone"
    fault = "A"
    summary = (
        "Phones on USB as media devices (MTP, `detail` says portable device, often no serial "
        "in `device_id`): staff charge theirs at their desks most days; in `insider_export` "
        "the insider copies each export onto her phone right after."
    )

    def _phone(self, serial: bool) -> tuple[str | None, str]:
        vid, detail = _PHONES[int(self.rng.integers(len(_PHONES)))]
        return (f"{vid}\\{self.rng.bytes(6).hex().upper()}" if serial else None), detail

    def stage(self, office, plot):
        sessions = office.rec.sessions().filter(
            pl.col("machine_id").is_not_null() & (pl.col("end") - pl.col("start") > 2 * HOUR)
        )
        phone_of: dict[str, tuple[str | None, str]] = {}
        for pid, mid, start, end in sessions.select(
            "person_id", "machine_id", "start", "end"
        ).iter_rows():
            if pid is None or self.rng.random() >= 0.12:
                continue
            if pid not in phone_of:
                phone_of[pid] = self._phone(self.rng.random() < 0.5)
            device, detail = phone_of[pid]
            t = office.u(start + 20 * MINUTE, end - 90 * MINUTE)
            office.plug(mid, device, t, (15, 80), detail=detail)
        lead = getattr(plot, "lead", None)
        for at, _, _ in getattr(plot, "exports", []):
            device, detail = self._phone(self.rng.random() < 0.4)
            t = at + office.u(40, 240)
            office.plug(lead.desk, device, t, (2, 9), detail=detail)


class SharedAccount(Variant):
    name = "shared_account"
    summary = (
        "Two colleagues share one back-office account from their own desks (in "
        "`insider_export`, the lead's account, so the exporting account alone does not "
        "name her)."
    )

    def shape(self, shop, plot, cal):
        cs = [
            p
            for p in shop.people
            if p.role == "customer_service"
            and p.desk
            and p.account_id
            and p.left_on is None
            and not p.tags & {"hire_a", "hire_b"}
        ]
        lead = getattr(plot, "lead", None)
        owner = lead if lead is not None else cs[int(self.rng.integers(len(cs)))]
        others = [p for p in cs if p.person_id != owner.person_id]
        if not others:
            return shop
        user = others[int(self.rng.integers(len(others)))]
        self.pair = (owner.person_id, user.person_id)
        people = tuple(
            replace(p, account_id=owner.account_id) if p.person_id == user.person_id else p
            for p in shop.people
        )
        return replace(shop, people=people)


# --------------------------------------------------------------------------- unidentified


class AnonymousVisitor(Variant):
    name = "anonymous_visitor"
    fault = "D"
    summary = (
        "Visitors nobody names on camera (`person_id` empty, notes 非本店员工 / 面试者): an "
        "unrelated one in every scenario; in `visitor_malware` the candidate himself, whose "
        "stick runs `E:\\简历.exe` first (only his visitor badge ties him to the day)."
    )

    def stage(self, office, plot):
        cal = office.cal
        days = [d for d in cal.days[1:-1] if d.isoweekday() <= 5]
        for _ in range(int(self.rng.integers(1, 3))):
            day = days[int(self.rng.integers(len(days)))]
            at = day_seconds(day) + 10 * HOUR + office.u(0, 6 * HOUR)
            leave = at + office.u(20 * MINUTE, 70 * MINUTE)
            badge = f"V0{int(self.rng.integers(5, 9))}"
            visitor = Person("?", "?", "visitor")
            office.badge(at, visitor, "in", badge_id=badge, person_known=False)
            office.badge(leave, visitor, "out", badge_id=badge, person_known=False)
            cams = office.shop.cameras
            for cam, t0, t1, act, note in (
                (cams["entrance"], at, at + 30, "enter", "非本店员工"),
                (cams["meeting"], at + 120, leave - 120, "other", "面试者"),
                (cams["entrance"], leave - 15, leave + 5, "leave", "非本店员工"),
            ):
                office.sighting(cam, t0, t1, None, act, note=note)
        candidate = getattr(plot, "candidate", None)
        if candidate is not None:
            for m, (start, _) in sorted(plot.windows.items()):
                office.endpoint(
                    start + office.u(3, 8),
                    m,
                    "process_start",
                    process="E:\\简历.exe",
                    sha=plot.sha,
                    detail="parent=explorer.exe (E:\\)",
                )

    def finish(self, tables, shop, cal, plot, meta):
        candidate = getattr(plot, "candidate", None)
        if candidate is None:
            return tables
        pid = candidate.person_id
        cam = tables["camera"]
        mine = pl.col("person_id") == pid
        tables["camera"] = cam.with_columns(
            pl.when(mine)
            .then(
                pl.when(pl.col("activity").is_in(["enter", "leave", "walk"]))
                .then(pl.lit("非本店员工"))
                .otherwise(pl.lit("面试者"))
            )
            .otherwise(pl.col("note"))
            .alias("note"),
            pl.when(mine).then(None).otherwise(pl.col("person_id")).alias("person_id"),
        )
        return tables


class UnidentifiedInsertion(Variant):
    name = "unidentified_insertion"
    fault = "E"
    summary = (
        "Seven or more staff badge in before opening on most days (an early packing "
        "crowd). In `usb_malware` nobody is named at the insertions (camera `person_id` "
        "empty) and the insider never badges on those days (tailgating) but logs in at her "
        "own desk minutes after the last infection."
    )

    def arrivals(self, shop, cal):
        pool = [
            p
            for p in shop.people
            if p.role in ("warehouse", "customer_service", "finance", "marketing")
            and p.shift_minutes[0] <= 10 * 60
            and p.left_on is None
            and not p.tags & {"temp", "cleaner", "hire_a"}
        ]
        out = {}
        for day in cal.days:
            if day.isoweekday() == 7 or not pool:
                continue
            k = min(len(pool), int(self.rng.integers(6, 10)))
            for i in self.rng.choice(len(pool), k, replace=False):
                t = (
                    day_seconds(day)
                    + 6 * HOUR
                    + 50 * MINUTE
                    + int(self.rng.integers(0, 95 * MINUTE))
                )
                out[(pool[int(i)].person_id, day)] = t
        return out

    def stage(self, office, plot):
        hire = getattr(plot, "hire", None)
        if hire is None or not plot.windows or hire.desk is None or not hire.account_id:
            return
        last_of_day: dict[int, int] = {}
        for s, _ in plot.windows.values():
            last_of_day[s // DAY] = max(last_of_day.get(s // DAY, s), s)
        for last in sorted(last_of_day.values()):  # each sweep's last infection
            t = last + office.u(9 * MINUTE, 16 * MINUTE)
            office.desk_startup(hire, hire.desk, t - office.u(30, 90))
            end = t + office.u(4 * MINUTE, 15 * MINUTE)
            office.session(hire, hire.account_id, hire.desk, t, end, "none", logout=True)

    def finish(self, tables, shop, cal, plot, meta):
        hire = getattr(plot, "hire", None)
        if hire is None:
            return tables
        days = [day_seconds(d) for d in plot.days]
        on_day = pl.lit(False)
        morning = pl.lit(False)
        for d0 in days:
            on_day = on_day | pl.col("at").is_between(d0, d0 + DAY - 1)
            morning = morning | pl.col("start_at").is_between(d0, d0 + 9 * HOUR)
        badge = tables["badge"]
        tables["badge"] = badge.filter(~((pl.col("person_id") == hire.person_id) & on_day))
        cam = tables["camera"]
        tables["camera"] = cam.with_columns(
            pl.when((pl.col("person_id") == hire.person_id) & morning)
            .then(None)
            .otherwise(pl.col("person_id"))
            .alias("person_id")
        )
        return tables


# --------------------------------------------------------------------------- complaints


class _AgeSkew(Variant):
    """Extra background complaints whose orders skew old (``sign`` -1) or new (+1)."""

    sign = 0
    delay_days = (1.0, 30.0)

    def complaints(self, orders, exposure, cal):
        leaked = orders.join(exposure.select("_idx"), on="_idx", how="semi")["buyer_id"]
        clean = orders.filter(
            ~pl.col("buyer_id").is_in(leaked.implode())
            & (pl.col("placed_at") < cal.opened_at - DAY)
        )
        if clean.height == 0:
            return None
        x = (clean["placed_at"].to_numpy() - cal.start) / max(1, cal.opened_at - cal.start)
        w = np.exp(self.sign * 5 * x)
        n = int(self.rng.poisson(max(6.0, self.rng.uniform(0.003, 0.006) * orders.height)))
        pick = self.rng.choice(
            clean.height, size=min(n, clean.height), replace=False, p=w / w.sum()
        )
        pick = clean[np.sort(pick)].unique("buyer_id", keep="first", maintain_order=True)
        n = pick.height
        lo, hi = self.delay_days
        delay = np.exp(self.rng.uniform(np.log(lo), np.log(hi), n)) * DAY
        received = _daytime(self.rng, pick["placed_at"].to_numpy() + delay.astype(np.int64), 8, 23)
        category = list(self.rng.choice(_CATEGORIES, n, p=_P_BACKGROUND))
        quoted = _quoted(self.rng, n, FIELDS_LABEL, 0.5)
        order_id = pick["order_id"].scatter(np.flatnonzero(self.rng.random(n) < 0.3), None)
        df = _frame(
            pick["buyer_id"],
            order_id,
            received,
            category,
            _texts(self.rng, category, quoted),
            pl.Series([None] * n, dtype=pl.Int64),
            quoted,
        )
        return df.filter(pl.col("received_at").is_between(cal.start, cal.opened_at - 1))


class ComplaintsOld(_AgeSkew):
    name = "complaints_old"
    fault = "F"
    sign = -1
    delay_days = (3.0, 40.0)
    summary = (
        "Extra background scam complaints (0.3-0.6 % of orders) about old orders: the "
        "complaint rate falls with order age rank (weight e^-5x over the period)."
    )


class ComplaintsNew(_AgeSkew):
    name = "complaints_new"
    fault = "F"
    sign = 1
    delay_days = (0.5, 6.0)
    summary = (
        "Extra background scam complaints about recent orders (weight e^5x), received a "
        "few days after the order: a rise at the end of the period with no leak behind it."
    )


class NoOrderIds(Variant):
    name = "no_order_ids"
    summary = "Most complaints (60-85 %) arrive without an order id (phone calls, chat)."

    def finish(self, tables, shop, cal, plot, meta):
        c = tables["complaints"]
        drop = np.flatnonzero(self.rng.random(c.height) < self.rng.uniform(0.6, 0.85))
        tables["complaints"] = c.with_columns(c["order_id"].scatter(drop, None))
        return tables


# --------------------------------------------------------------------------- clocks and files


class CameraDrift(Variant):
    name = "camera_drift"
    summary = (
        "The camera clock drifts 5-20 s a day over the period (on top of its constant "
        "offset): a few minutes different at the start and the end."
    )

    def finish(self, tables, shop, cal, plot, meta):
        rate = self.rng.uniform(5, 20) / DAY * (1 if self.rng.random() < 0.7 else -1)
        cam = tables["camera"]
        tables["camera"] = cam.with_columns(
            (pl.col(c) + ((pl.col(c) - cal.start) * rate).round().cast(pl.Int64)).alias(c)
            for c in ("start_at", "end_at")
        )
        meta["files"]["camera"] = {"timezone": meta["case"]["timezone"], "clock": "unsynchronized"}
        return tables


class UtcLogs(Variant):
    name = "utc_logs"
    summary = (
        "The back office writes `logins.csv` and `access.csv` in UTC with a `Z` suffix "
        "(CSV cases only); other files stay naive local time."
    )

    def finish(self, tables, shop, cal, plot, meta):
        meta.setdefault("_write", {})["utc"] = ["access", "logins"]
        return tables


class ParquetFiles(Variant):
    name = "parquet"
    summary = "Every table is written as Parquet, whatever the size."

    def finish(self, tables, shop, cal, plot, meta):
        meta.setdefault("_write", {})["fmt"] = "parquet"
        return tables


class Gb18030(Variant):
    name = "gb18030"
    summary = "`orders.csv` and `complaints.csv` in GB18030 (declared in `case.toml`)."

    def finish(self, tables, shop, cal, plot, meta):
        meta.setdefault("_write", {})["encoding"] = "gb18030"
        return tables
