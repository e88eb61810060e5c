"""The leak scenarios ("plots") staged on top of ordinary office life.

Each plot can move an arrival (:meth:`Plot.arrivals`), take a visitor out
of the routine to stage the visit itself (:meth:`Plot.skip`), add office
evidence after the routine (:meth:`Plot.stage`), add its own order access
(:meth:`Plot.access`) and finally say which access rows leaked
(:meth:`Plot.mark`). The truth is then computed from the marked rows, so it
can never disagree with the data.

Truth conventions
-----------------
- ``usb_malware`` / ``visitor_malware``: the path is the machines, so
  ``machine_ids`` are the infected PCs and ``account_ids`` is empty: the
  accounts used on an infected PC are victims, not the path. Leaked orders
  are those viewed, printed or exported on an infected PC from its
  infection until the case was opened or the antivirus removed the trojan
  there.
- ``insider_export``: the insider's account and desk PC; leaked orders are
  those placed in the exported ranges no later than each export.
- ``stale_account``: the former employee's account; ``machine_ids`` empty
  (she logs in from outside); leaked = everything that account accessed
  after ``left_on``.
- ``third_party_app``: the app's account and id; no insider.
- ``leak_start`` is the first infection, export, login or pull;
  ``leak_end`` the last leaking access before the case was opened.
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import polars as pl

from ._time import DAY, HOUR, MINUTE, day_seconds
from .access import range_rows
from .routine import Office
from .world import Calendar, Machine, Shop

__all__ = ["Plot", "make_plot", "VECTORS"]

VECTORS = (
    "usb_malware",
    "insider_export",
    "stale_account",
    "visitor_malware",
    "third_party_app",
    "none",
)

_TROJAN_PATH = "C:\\Users\\Public\\Libraries\\WinUpdateHelper.exe"
_RUN_KEY = "HKCU\\Software\\Microsoft\\Windows\\CurrentVersion\\Run\\WinUpdateHelper"
_C2 = "45.137.21.9"
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()


class Plot:
    """No leak: ordinary life only (the ``none`` scenario and the base class)."""

    vector = "none"

    def __init__(self, rng: np.random.Generator, shop: Shop, cal: Calendar):
        self.rng = rng
        self.shop = shop
        self.cal = cal
        self.insiders: list[str] = []
        self.machine_ids: list[str] = []
        self.account_ids: list[str] = []
        self.app_ids: list[str] = []
        self.leak_start: int | None = None

    def arrivals(self) -> dict[tuple[str, date], int]:
        return {}

    def skip(self) -> frozenset[str]:
        return frozenset()

    def stage(self, office: Office) -> None:
        """Office evidence of the leak (after the routine)."""

    def access(
        self, office: Office, placed: np.ndarray, order_ids: pl.Series
    ) -> pl.DataFrame | None:
        """The leak's own access rows (marked ``_leak``)."""
        return None

    def mark(self, access: pl.DataFrame) -> pl.DataFrame:
        """Set ``_leak`` on the access rows that leaked."""
        return access.with_columns(pl.col("_leak").fill_null(False))

    def truth(self) -> dict:
        return {
            "insider_person_ids": sorted(self.insiders),
            "vector": self.vector,
            "machine_ids": sorted(self.machine_ids),
            "account_ids": sorted(self.account_ids),
            "app_ids": sorted(self.app_ids),
        }


# --------------------------------------------------------------------------- malware


class _Malware(Plot):
    """Shared by the USB plots: infect machines, keep the trojan running."""

    def __init__(self, rng, shop, cal):
        super().__init__(rng, shop, cal)
        self.sha = rng.bytes(32).hex()
        self.device = (
            f"USBSTOR\\Disk&Ven_Generic&Prod_Flash_Disk&Rev_8.07\\{rng.bytes(4).hex().upper()}&0"
        )
        self.windows: dict[str, tuple[int, int | None]] = {}

    def _desks(self, exclude: frozenset[str] = frozenset()) -> list[Machine]:
        """CS desks with an endpoint agent (where orders are viewed)."""
        cs = {p.desk for p in self.shop.people if p.role == "customer_service" and p.desk}
        return [
            m
            for m in self.shop.machines
            if m.machine_id in cs
            and m.agent
            and m.machine_id not in exclude
            and m.assigned is not None
        ]

    def infect(self, office: Office, machine: Machine, t: int, person, note: str) -> int:
        """Plug the stick: autorun entry, trojan start, a camera sighting."""
        out = office.plug(
            machine.machine_id, self.device, t, (1.5, 4), detail="Generic Flash Disk 16GB"
        )
        office.endpoint(
            t + office.u(6, 15),
            machine.machine_id,
            "autorun_added",
            process=_TROJAN_PATH,
            sha=self.sha,
            detail=_RUN_KEY,
        )
        office.endpoint(
            t + office.u(16, 40),
            machine.machine_id,
            "process_start",
            process=_TROJAN_PATH,
            sha=self.sha,
            detail="parent=explorer.exe (E:\\)",
        )
        office.sighting(
            machine.camera_id,
            t - office.u(15, 40),
            out + office.u(10, 40),
            person,
            "insert_device",
            machine=machine.machine_id,
            note=note,
            identified=1.0,
        )
        self.windows[machine.machine_id] = (t, None)
        return out

    def cleanup(self, office: Office) -> None:
        """Sometimes a signature update catches the trojan on one PC."""
        if self.rng.random() >= 0.45 or not self.windows:
            return
        machines = sorted(self.windows)
        m = machines[int(self.rng.integers(len(machines)))]
        start = self.windows[m][0]
        lo = start // DAY * DAY + 2 * DAY
        hi = self.cal.opened_at // DAY * DAY - DAY
        if hi <= lo:
            return
        at = (
            lo
            + int(self.rng.integers(0, (hi - lo) // DAY + 1)) * DAY
            + 10 * HOUR
            + office.u(0, 5 * HOUR)
        )
        office.endpoint(
            at,
            m,
            "av_alert",
            process=_TROJAN_PATH,
            sha=self.sha,
            detail="Trojan:Win32/Agent.BX!ml detected; quarantined",
        )
        self.windows[m] = (start, at)

    def persist(self, office: Office) -> None:
        """The trojan restarts with Windows and uploads what it collected."""
        sessions = office.rec.sessions()
        for m, (start, end) in sorted(self.windows.items()):
            end = end or self.cal.opened_at
            s = sessions.filter(
                (pl.col("machine_id") == m) & (pl.col("start") > start) & (pl.col("start") < end)
            ).sort("start")
            seen: set[int] = set()
            for s_start, s_end in s.select("start", "end").iter_rows():
                day = s_start // DAY
                if day not in seen:
                    seen.add(day)
                    office.endpoint(
                        s_start - office.u(10, 60),
                        m,
                        "process_start",
                        process=_TROJAN_PATH,
                        sha=self.sha,
                        detail="parent=autorun",
                    )
                for _ in range(int(self.rng.integers(0, 3))):
                    t = office.u(s_start, max(s_start + 1, min(s_end, end)))
                    office.endpoint(
                        t,
                        m,
                        "net_upload",
                        process=_TROJAN_PATH,
                        sha=self.sha,
                        detail=f"HTTPS POST {_C2}:443 {self.rng.uniform(0.1, 2):.1f} MB",
                    )

    def mark(self, access: pl.DataFrame) -> pl.DataFrame:
        leak = pl.lit(False)
        for m, (start, end) in self.windows.items():
            cond = (pl.col("machine_id") == m) & (pl.col("at") >= start)
            if end is not None:
                cond &= pl.col("at") < end
            leak = leak | cond
        return access.with_columns(leak.fill_null(False).alias("_leak"))


class UsbMalware(_Malware):
    """A new customer-service hire comes in at seven on her first two days
    and plugs one USB stick into six colleagues' PCs in turn."""

    vector = "usb_malware"

    def __init__(self, rng, shop, cal):
        super().__init__(rng, shop, cal)
        self.hire = shop.person(shop.cast["hire_a"])
        self.insiders = [self.hire.person_id]
        day1 = cal.leak_on
        day2 = day1 + timedelta(days=1)
        while day2.isoweekday() == 7 or not self.hire.works_on(day2):
            day2 += timedelta(days=1)
        self.days = (day1, day2) if day2 < cal.opened_day else (day1,)
        self.arrive = {
            d: day_seconds(d) + 6 * HOUR + 52 * MINUTE + int(rng.integers(0, 14 * MINUTE))
            for d in self.days
        }
        desks = self._desks()
        covered = [m for m in desks if m.camera_id]
        blind = [m for m in desks if not m.camera_id]
        # Mostly desks under a camera (she must show up on CCTV), maybe a blind one.
        n = min(6, len(desks))
        n_blind = min(len(blind), int(rng.integers(0, 2)), max(0, n - 3))
        pick = [covered[i] for i in rng.permutation(len(covered))[: n - n_blind]]
        pick += [blind[i] for i in rng.permutation(len(blind))[:n_blind]]
        self.targets = sorted(pick, key=lambda m: m.machine_id)
        self.machine_ids = [m.machine_id for m in self.targets]

    def arrivals(self):
        return {(self.hire.person_id, d): t for d, t in self.arrive.items()}

    def stage(self, office: Office) -> None:
        order = [self.targets[i] for i in self.rng.permutation(len(self.targets))]
        split = len(order) if len(self.days) == 1 else int(self.rng.integers(3, len(order)))
        batches = [order[:split], order[split:]]
        for day, batch in zip(self.days, batches, strict=False):
            t = self.arrive[day] + office.u(4 * MINUTE, 9 * MINUTE)
            for m in batch:
                out = self.infect(office, m, t, self.hire, "plugs a USB stick in, alone")
                t = out + office.u(2 * MINUTE, 6 * MINUTE)
            corridor = self.shop.cameras["corridor"]
            office.sighting(corridor, t, t + office.u(20, 60), self.hire, "walk", identified=0.9)
        self.leak_start = min(s for s, _ in self.windows.values())
        self.cleanup(office)
        self.persist(office)


class VisitorMalware(_Malware):
    """An interview candidate, left alone at lunchtime, plugs a stick into one
    or two CS PCs while their owners are out."""

    vector = "visitor_malware"

    def __init__(self, rng, shop, cal):
        super().__init__(rng, shop, cal)
        self.candidate = shop.person(shop.cast["candidate"])
        self.insiders = [self.candidate.person_id]
        # Desks of day-shift colleagues who are out at lunch on that day.
        busy = {
            p.desk
            for p in shop.people
            if p.role == "customer_service"
            and p.shift == (9 * 60, 18 * 60)
            and p.hired_on is not None
            and p.hired_on < cal.days[0]
            and p.works_on(cal.leak_on)
        }
        desks = [m for m in self._desks() if m.machine_id in busy] or self._desks()
        covered = [m for m in desks if m.camera_id] or desks
        first = covered[int(rng.integers(len(covered)))]
        self.targets = [first]
        others = [m for m in desks if m.machine_id != first.machine_id]
        if others and rng.random() < 0.6:
            self.targets.append(others[int(rng.integers(len(others)))])
        self.machine_ids = [m.machine_id for m in self.targets]

    def skip(self):
        return frozenset({self.candidate.person_id})

    def stage(self, office: Office) -> None:
        cams = self.shop.cameras
        arrive = day_seconds(self.cal.leak_on) + 12 * HOUR + office.u(0, 12 * MINUTE)
        badge_id = f"V0{int(self.rng.integers(1, 5))}"
        office.badge(arrive, self.candidate, "in", badge_id=badge_id)
        office.sighting(
            cams["entrance"],
            arrive + office.u(5, 20),
            arrive + office.u(25, 40),
            self.candidate,
            "enter",
            note="visitor, interview",
            identified=1.0,
        )
        t = arrive + office.u(4 * MINUTE, 8 * MINUTE)
        for m in self.targets:
            out = self.infect(office, m, t, self.candidate, "visitor alone at desk")
            t = out + office.u(1 * MINUTE, 4 * MINUTE)
        start = t + office.u(2 * MINUTE, 6 * MINUTE)
        leave = start + office.u(35 * MINUTE, 60 * MINUTE)
        office.sighting(
            cams["meeting"],
            start,
            leave - office.u(60, 180),
            self.candidate,
            "other",
            note="interview",
        )
        office.badge(leave, self.candidate, "out", badge_id=badge_id)
        office.sighting(
            cams["entrance"],
            leave - office.u(5, 20),
            leave + office.u(2, 8),
            self.candidate,
            "leave",
            identified=0.9,
        )
        self.leak_start = min(s for s, _ in self.windows.values())
        self.cleanup(office)
        self.persist(office)


# --------------------------------------------------------------------------- accounts


def _minute(t: int) -> int:
    return t - t % MINUTE


class InsiderExport(Plot):
    """The CS lead, who may export, comes back at night (or on a Sunday) and
    exports weeks of orders from her desk PC."""

    vector = "insider_export"

    def __init__(self, rng, shop, cal):
        super().__init__(rng, shop, cal)
        self.lead = shop.person(shop.cast["lead"])
        self.insiders = [self.lead.person_id]
        self.machine_ids = [self.lead.desk]
        self.account_ids = [self.lead.account_id]
        self.exports: list[tuple[int, int, int]] = []  # at, lo, hi

    def _night(self, day: date) -> int:
        if day.isoweekday() == 7:
            return day_seconds(day) + 14 * HOUR + int(self.rng.integers(0, 150 * MINUTE))
        return day_seconds(day) + 22 * HOUR + int(self.rng.integers(10 * MINUTE, 60 * MINUTE))

    def _visit(self, office: Office, at: int) -> int:
        """Come in, log in, (export), log out, leave; returns the session's end."""
        p, desk = self.lead, self.lead.desk
        cam = self.shop.machine(desk).camera_id
        arrive = at - office.u(7 * MINUTE, 14 * MINUTE)
        office.badge(arrive, p, "in")
        office.sighting(
            self.shop.cameras["entrance"],
            arrive + office.u(3, 12),
            arrive + office.u(15, 25),
            p,
            "enter",
            identified=0.9,
        )
        login = arrive + office.u(2 * MINUTE, 4 * MINUTE)
        office.desk_startup(p, desk, login - office.u(30, 90))
        end = at + office.u(4 * MINUTE, 12 * MINUTE)
        office.session(p, p.account_id, desk, login, end, "none", logout=True)
        office.sighting(
            cam,
            login - office.u(30, 90),
            end + office.u(20, 90),
            p,
            "at_desk",
            machine=desk,
            identified=0.9,
        )
        if self.rng.random() < 0.6:
            size = self.rng.uniform(1.5, 9)
            office.endpoint(
                at + office.u(60, 200),
                desk,
                "net_upload",
                process="chrome.exe",
                detail=f"upload {size:.1f} MB to pan.baidu.com",
            )
        leave = end + office.u(2 * MINUTE, 6 * MINUTE)
        office.badge(leave, p, "out")
        return end

    def stage(self, office: Office) -> None:
        day = self.cal.leak_on
        if self.rng.random() < 0.3:
            sunday = day + timedelta(days=7 - day.isoweekday())
            if sunday < self.cal.opened_day - timedelta(days=3):
                day = sunday
        at = self._night(day)
        lo = day_seconds(day - timedelta(days=int(self.rng.integers(21, 36))))
        self._visit(office, at)
        self.exports.append((at, lo, _minute(at)))
        second = day + timedelta(days=int(self.rng.integers(2, 5)))
        if self.rng.random() < 0.6 and second < self.cal.opened_day - timedelta(days=1):
            at2 = self._night(second)
            self._visit(office, at2)
            self.exports.append((at2, _minute(at), _minute(at2)))
        self.leak_start = self.exports[0][0]

    def access(self, office, placed, order_ids):
        p = self.lead
        at = np.array([a for a, _, _ in self.exports])
        lo = np.array([b for _, b, _ in self.exports])
        hi = np.array([c for _, _, c in self.exports])
        rows = range_rows(
            self.rng,
            placed,
            p.account_id,
            p.desk,
            self.shop.ip_of(p.desk),
            "export_orders",
            at,
            lo,
            hi,
            rows_missing=0.0,
        )
        return rows.with_columns(pl.lit(True).alias("_leak"))

    def mark(self, access):
        return access.with_columns(pl.col("_leak").fill_null(False))


class StaleAccount(Plot):
    """A former employee's never-disabled account logs in from outside in the
    evenings and pages through recent orders (and exports, if it may)."""

    vector = "stale_account"

    def __init__(self, rng, shop, cal):
        super().__init__(rng, shop, cal)
        self.former = shop.person(shop.cast["stale"])
        self.account = next(a for a in shop.accounts if a.owner == self.former.person_id)
        self.insiders = [self.former.person_id]
        self.account_ids = [self.account.account_id]
        self.ip = f"117.136.{int(rng.integers(1, 254))}.{int(rng.integers(1, 254))}"
        self.sessions: list[tuple[int, int, str]] = []

    def stage(self, office: Office) -> None:
        days = [d for d in self.cal.days if self.cal.leak_on < d < self.cal.opened_day]
        k = min(len(days), int(self.rng.integers(2, 5)))
        chosen = [self.cal.leak_on] + sorted(
            days[i] for i in self.rng.choice(len(days), k, replace=False)
        )
        for n, day in enumerate(chosen):
            start = day_seconds(day) + 20 * HOUR + office.u(0, 150 * MINUTE)
            end = start + office.u(25 * MINUTE, 80 * MINUTE)
            ip = (
                self.ip
                if self.rng.random() < 0.8
                else (f"223.104.{int(self.rng.integers(1, 254))}.{int(self.rng.integers(1, 254))}")
            )
            office.session(
                self.former,
                self.account.account_id,
                None,
                start,
                end,
                "none",
                ip=ip,
                failed_first=0.6 if n == 0 else 0.1,
                logout=None,
            )
            self.sessions.append((start, end, ip))
        self.leak_start = self.sessions[0][0]

    def access(self, office, placed, order_ids):
        parts = []
        acc = self.account.account_id
        for n, (start, end, ip) in enumerate(self.sessions):
            t = start + office.u(40, 200)
            if self.account.can_export and n == 0:
                lo = day_seconds(
                    date.fromordinal(_EPOCH_ORDINAL + start // DAY) - timedelta(days=14)
                )
                parts.append(
                    range_rows(
                        self.rng,
                        placed,
                        acc,
                        None,
                        ip,
                        "export_orders",
                        np.array([t]),
                        np.array([lo]),
                        np.array([_minute(t)]),
                        rows_missing=0.0,
                    )
                )
                t += office.u(60, 300)
            # Newest orders first, page after page, a few seconds per order.
            since = start - int(self.rng.uniform(1, 4) * DAY)
            newest = int(np.searchsorted(placed, t, "right"))
            oldest = int(np.searchsorted(placed, since, "left"))
            n_views = min(newest - oldest, int(self.rng.integers(40, 121)))
            idx = np.arange(newest - 1, newest - 1 - n_views, -1)
            times = t + np.cumsum(self.rng.integers(6, 40, n_views))
            keep = times < end
            parts.append(
                pl.DataFrame(
                    {
                        "at": times[keep],
                        "account_id": acc,
                        "machine_id": None,
                        "ip": ip,
                        "action": "view_order",
                        "order_id": order_ids.gather(idx[keep]),
                    },
                    schema_overrides={"machine_id": pl.String},
                )
            )
            k = int(self.rng.integers(1, 5))
            parts.append(
                pl.DataFrame(
                    {
                        "at": start + self.rng.integers(60, max(61, end - start), k),
                        "account_id": acc,
                        "machine_id": None,
                        "ip": ip,
                        "action": "search",
                    },
                    schema_overrides={"machine_id": pl.String},
                )
            )
        return pl.concat(parts, how="diagonal").with_columns(pl.lit(True).alias("_leak"))


class ThirdPartyApp(Plot):
    """A 'free analytics' app authorised shortly before the leak backfills a
    month of orders and keeps pulling every few hours."""

    vector = "third_party_app"

    def __init__(self, rng, shop, cal):
        super().__init__(rng, shop, cal)
        self.app = next(a for a in shop.apps if a.app_id == shop.cast["rogue_app"])
        self.app_ids = [self.app.app_id]
        self.account_ids = [self.app.account_id]

    def access(self, office, placed, order_ids):
        t = self.app.granted_at + office.u(2 * MINUTE, 10 * MINUTE)
        days = int(self.rng.integers(20, 36))
        first_day = (t // DAY - days) * DAY
        at, lo, hi = [], [], []
        for k in range(days + 1):  # one page per day, seconds apart
            at.append(t)
            lo.append(first_day + k * DAY)
            hi.append(min(first_day + (k + 1) * DAY, _minute(t)))
            t += office.u(2, 9)
        last = hi[-1]
        t += office.u(2 * HOUR, 4 * HOUR)
        while t < self.cal.opened_at:
            at.append(t)
            lo.append(last)
            hi.append(_minute(t))
            last = _minute(t)
            t += office.u(2 * HOUR, 4 * HOUR)
        self.leak_start = at[0]
        rows = range_rows(
            self.rng,
            placed,
            self.app.account_id,
            None,
            self.app.ip,
            "api_pull",
            np.array(at),
            np.array(lo),
            np.array(hi),
            rows_missing=0.0,
        )
        return rows.with_columns(pl.lit(True).alias("_leak"))


_PLOTS = {
    "none": Plot,
    "usb_malware": UsbMalware,
    "visitor_malware": VisitorMalware,
    "insider_export": InsiderExport,
    "stale_account": StaleAccount,
    "third_party_app": ThirdPartyApp,
}


def make_plot(scenario: str, rng: np.random.Generator, shop: Shop, cal: Calendar) -> Plot:
    """The plot object of a scenario name (one of :data:`VECTORS`)."""
    if scenario not in _PLOTS:
        raise ValueError(f"unknown scenario {scenario!r}; choose from {', '.join(VECTORS)}")
    return _PLOTS[scenario](rng, shop, cal)
