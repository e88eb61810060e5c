"""Ordinary office life: arrivals, logins, desks, doors, cameras, endpoints.

One loop per person and day (cheap: hundreds of people times ~50 days).
Everything a scenario needs to stage its own events (a badge swipe, a
sighting, a login session, a USB stick) goes through the same
:class:`Office` helpers, so staged evidence looks exactly like routine
evidence.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date

import numpy as np

from ._time import DAY, HOUR, MINUTE, day_seconds
from .events import Recorder
from .world import Calendar, Person, Shop

__all__ = ["Office", "DayPlan", "simulate_routine", "sha256_of", "PROCESSES"]

# Software every desk starts; sha256 is derived from the name so the same
# program has the same hash on every machine, as real binaries do.
PROCESSES = {
    "customer_service": ("AliWorkBench.exe", "WeChat.exe", "chrome.exe"),
    "warehouse": ("AliWorkBench.exe", "KuaidiPrint.exe"),
    "manager": ("AliWorkBench.exe", "WeChat.exe", "chrome.exe", "EXCEL.EXE"),
    "it": ("chrome.exe", "putty.exe", "WeChat.exe"),
    "finance": ("chrome.exe", "EXCEL.EXE", "WeChat.exe"),
    "marketing": ("chrome.exe", "Photoshop.exe", "WeChat.exe"),
}
_PROCESS_DIR = {
    "AliWorkBench.exe": r"C:\Program Files (x86)\AliWorkBench",
    "WeChat.exe": r"C:\Program Files\Tencent\WeChat",
    "chrome.exe": r"C:\Program Files\Google\Chrome\Application",
    "EXCEL.EXE": r"C:\Program Files\Microsoft Office\root\Office16",
    "KuaidiPrint.exe": r"C:\Program Files (x86)\KuaidiPrint",
    "putty.exe": r"C:\Tools",
    "Photoshop.exe": r"C:\Program Files\Adobe\Photoshop 2023",
}


def sha256_of(label: str) -> str:
    """A stable fake file hash for a program name."""
    return hashlib.sha256(("forensics-synth:" + label).encode()).hexdigest()


@dataclass
class DayPlan:
    """One person's day in the office (local seconds)."""

    arrive: int
    leave: int
    sessions: list[tuple[int, int]] = field(default_factory=list)
    lunch: tuple[int, int] | None = None


class Office:
    """Writes office evidence into a :class:`Recorder` for one shop.

    Holds the generator and the shop so that scenario code can stage an
    event with one call, in the same shape as routine events.
    """

    def __init__(self, rec: Recorder, rng: np.random.Generator, shop: Shop, cal: Calendar):
        self.rec = rec
        self.rng = rng
        self.shop = shop
        self.cal = cal
        self._sessions_seen: set[str] = set()
        self._visitor_badges = [f"V{i:02d}" for i in range(1, 5)]

    # ------------------------------------------------------------ primitives
    def u(self, lo: float, hi: float) -> int:
        """A whole number of seconds drawn uniformly from [lo, hi)."""
        return int(self.rng.uniform(lo, hi))

    def badge(
        self,
        at: int,
        person: Person,
        direction: str,
        *,
        door: str = "main",
        badge_id: str | None = None,
        person_known: bool = True,
        misread: float = 0.03,
    ) -> None:
        """A door swipe; now and then the reader refuses once first."""
        badge_id = badge_id or person.badge_id
        pid = person.person_id if person_known else None
        if self.rng.random() < misread:
            self.rec.add(
                "badge",
                at=at - self.u(3, 12),
                person_id=pid,
                badge_id=badge_id,
                door=door,
                direction=direction,
                result="denied",
            )
        self.rec.add(
            "badge",
            at=at,
            person_id=pid,
            badge_id=badge_id,
            door=door,
            direction=direction,
            result="granted",
        )

    def sighting(
        self,
        camera: str | None,
        start: int,
        end: int | None,
        person: Person | None,
        activity: str,
        *,
        machine: str | None = None,
        note: str | None = None,
        identified: float = 0.96,
    ) -> None:
        """A reviewer's annotation of CCTV footage (true time; offset added later)."""
        if camera is None:
            return
        pid = person.person_id if person and self.rng.random() < identified else None
        self.rec.add(
            "camera",
            camera_id=camera,
            start_at=start,
            end_at=end,
            person_id=pid,
            machine_id=machine,
            activity=activity,
            note=note,
        )

    def endpoint(
        self,
        at: int,
        machine: str,
        kind: str,
        *,
        device: str | None = None,
        process: str | None = None,
        sha: str | None = None,
        detail: str | None = None,
    ) -> None:
        if not self.shop.machine(machine).agent:
            return
        self.rec.add(
            "endpoint",
            at=at,
            machine_id=machine,
            kind=kind,
            device_id=device,
            process=process,
            sha256=sha,
            detail=detail,
        )

    def session_id(self, machine: str | None) -> str | None:
        """A back-office session id, or None where the client does not report one."""
        if machine is not None and self.shop.machine(machine).legacy_client:
            return None
        if self.rng.random() < 0.03:
            return None
        while True:
            sid = self.rng.bytes(8).hex()
            if sid not in self._sessions_seen:
                self._sessions_seen.add(sid)
                return sid

    def session(
        self,
        person: Person | None,
        account: str,
        machine: str | None,
        start: int,
        end: int,
        pool: str,
        *,
        ip: str | None = None,
        logout: bool | None = None,
        failed_first: float = 0.03,
    ) -> int:
        """Log in at ``start``, out at ``end``; register the session for order access.

        ``logout`` None means "usually": about one session in twelve never
        logs out (the window was just closed), which the tool must cope with.
        """
        ip = ip or self.shop.ip_of(machine)
        sid = self.session_id(machine)
        if self.rng.random() < failed_first:
            self.rec.add(
                "logins",
                at=start - self.u(15, 90),
                account_id=account,
                machine_id=machine,
                ip=ip,
                action="login_failed",
                session_id=None,
            )
        self.rec.add(
            "logins",
            at=start,
            account_id=account,
            machine_id=machine,
            ip=ip,
            action="login",
            session_id=sid,
        )
        if logout is None:
            logout = self.rng.random() > 0.08
        if logout:
            self.rec.add(
                "logins",
                at=end,
                account_id=account,
                machine_id=machine,
                ip=ip,
                action="logout",
                session_id=sid,
            )
        return self.rec.add_session(
            person_id=person.person_id if person else None,
            account_id=account,
            machine_id=machine,
            ip=ip,
            start=start,
            end=end,
            pool=pool,
        )

    def desk_startup(self, person: Person, machine: str, at: int) -> None:
        """Windows logon and the usual programs starting on a desk PC."""
        user = f"{self.shop.slug.upper()}\\{person.person_id.lower()}"
        self.endpoint(at, machine, "logon", detail=f"user={user}")
        t = at
        for proc in PROCESSES.get(person.role, PROCESSES["customer_service"]):
            if self.rng.random() < 0.85:
                t += self.u(10, 120)
                path = _PROCESS_DIR.get(proc, r"C:\Program Files") + "\\" + proc
                self.endpoint(t, machine, "process_start", process=path, sha=sha256_of(proc))

    def plug(
        self, machine: str, device: str, at: int, minutes: tuple[float, float], *, detail: str
    ) -> int:
        """A USB device in and out of a machine; returns the removal time."""
        out = at + self.u(minutes[0] * MINUTE, minutes[1] * MINUTE)
        self.endpoint(at, machine, "usb_connect", device=device, detail=detail)
        self.endpoint(out, machine, "usb_disconnect", device=device, detail=detail)
        return out

    # ------------------------------------------------------------ days
    def plan_day(self, person: Person, day: date, *, arrive: int | None = None) -> DayPlan:
        """Arrival, sessions and departure of an ordinary working day."""
        d0 = day_seconds(day)
        start_min, end_min = person.shift_minutes
        if end_min <= start_min:
            end_min += 24 * 60  # night shift ends after midnight
        jitter = 25 if person.shift is None else 12  # business-hours people are looser
        staged = arrive is not None
        if arrive is None:
            early = float(np.clip(self.rng.normal(jitter, 7), 1, 45))
            arrive = d0 + start_min * MINUTE - int(early * MINUTE)
            if self.rng.random() < 0.05:
                arrive += self.u(15 * MINUTE, 40 * MINUTE)  # late today
        leave = d0 + end_min * MINUTE + self.u(0, 25 * MINUTE)
        if self.cal.is_promo(day) and person.role in ("warehouse", "customer_service"):
            # Sale days: overtime into the night, legitimately off-hours.
            leave = max(leave, d0 + 22 * HOUR + self.u(0, 80 * MINUTE))
        first = arrive + self.u(2 * MINUTE, 8 * MINUTE)
        if staged:  # came in early for something else; logs in for the shift as usual
            first = max(first, d0 + start_min * MINUTE - self.u(3 * MINUTE, 10 * MINUTE))
        last = leave - self.u(60, 5 * MINUTE)
        plan = DayPlan(arrive, leave)
        noon = d0 + 12 * HOUR
        if person.lunch_logout and first < noon < last - 2 * HOUR:
            out = noon + self.u(0, 12 * MINUTE)
            back = noon + HOUR + self.u(-5 * MINUTE, 10 * MINUTE)
            plan.sessions = [(first, out), (back, last)]
            plan.lunch = (out + self.u(60, 180), back - self.u(60, 240))
        else:
            plan.sessions = [(first, last)]
        return plan

    def live_day(self, person: Person, plan: DayPlan, *, pool: str) -> None:
        """Write a planned day: doors, entrance camera, desk sessions, endpoint."""
        door = "warehouse" if person.role == "warehouse" else "main"
        cams = self.shop.cameras
        self.badge(plan.arrive, person, "in", door=door)
        if self.rng.random() < 0.65:
            t = plan.arrive + self.u(3, 15)
            self.sighting(cams["entrance"], t, t + self.u(4, 15), person, "enter")
        if plan.lunch is not None and self.rng.random() < 0.6:
            self.badge(plan.lunch[0], person, "out", door=door)
            self.badge(plan.lunch[1], person, "in", door=door)
        desk = person.desk
        camera = self.shop.machine(desk).camera_id if desk else None
        for k, (start, end) in enumerate(plan.sessions):
            if desk is None:
                break
            if k == 0:
                self.desk_startup(person, desk, start - self.u(30, 120))
            if person.account_id:
                self.session(person, person.account_id, desk, start, end, pool)
            if self.rng.random() < 0.7:
                self.sighting(
                    camera,
                    start - self.u(30, 180),
                    end + self.u(20, 120),
                    person,
                    "at_desk",
                    machine=desk,
                )
        if self.rng.random() < 0.35:
            t = self.u(plan.arrive + HOUR, max(plan.arrive + HOUR + 60, plan.leave - HOUR))
            self.sighting(cams["corridor"], t, t + self.u(20, 150), person, "walk", identified=0.85)
        if self.rng.random() < 0.94:
            self.badge(plan.leave, person, "out", door=door)
        if self.rng.random() < 0.55:
            t = plan.leave - self.u(5, 20)
            self.sighting(cams["entrance"], t, t + self.u(4, 12), person, "leave")

    def visit(
        self,
        person: Person,
        arrive: int,
        minutes: float,
        *,
        room: str = "meeting",
        registered: float = 0.85,
    ) -> tuple[int, str]:
        """A visitor or candidate: visitor card, entrance, a room, out again."""
        badge_id = self._visitor_badges[int(self.rng.integers(len(self._visitor_badges)))]
        known = self.rng.random() < registered
        leave = arrive + int(minutes * MINUTE)
        cams = self.shop.cameras
        self.badge(arrive, person, "in", badge_id=badge_id, person_known=known)
        self.sighting(
            cams["entrance"],
            arrive + self.u(5, 20),
            arrive + self.u(25, 40),
            person,
            "enter",
            note="visitor",
            identified=0.8,
        )
        if room == "meeting":
            self.sighting(
                cams["meeting"],
                arrive + self.u(60, 300),
                leave - self.u(60, 240),
                person,
                "other",
                note="meeting room",
                identified=0.8,
            )
        self.badge(leave, person, "out", badge_id=badge_id, person_known=known)
        self.sighting(
            cams["entrance"],
            leave - self.u(5, 20),
            leave + self.u(2, 8),
            person,
            "leave",
            identified=0.8,
        )
        return leave, badge_id


# --------------------------------------------------------------------------- routine


def _pool(person: Person) -> str:
    """Which kind of order work a session does (see access.py)."""
    return {"customer_service": "cs", "warehouse": "wh", "manager": "mgr"}.get(person.role, "none")


def _cleaner_day(office: Office, person: Person, day: date) -> None:
    d0 = day_seconds(day)
    start, end = person.shift_minutes
    arrive = d0 + start * MINUTE - office.u(0, 10 * MINUTE)
    office.badge(arrive, person, "in")
    cams = [c for k, c in office.shop.cameras.items() if k.startswith("cs")]
    for cam in cams:
        if office.rng.random() < 0.5:
            t = arrive + office.u(5 * MINUTE, 40 * MINUTE)
            office.sighting(
                cam,
                t,
                t + office.u(2 * MINUTE, 9 * MINUTE),
                person,
                "other",
                note="cleaning",
                identified=0.6,
            )
    office.badge(d0 + end * MINUTE + office.u(-10 * MINUTE, 5 * MINUTE), person, "out")


def _temp_night(office: Office, person: Person, day: date, station: str) -> None:
    """Sale temps pack at night on a free station under the shared account."""
    d0 = day_seconds(day)
    arrive = d0 + 19 * HOUR - office.u(5 * MINUTE, 20 * MINUTE)
    leave = d0 + DAY + 2 * HOUR + office.u(0, 20 * MINUTE)
    office.badge(arrive, person, "in", door="warehouse")
    login = arrive + office.u(5 * MINUTE, 12 * MINUTE)
    office.session(
        person, f"{office.shop.slug}:warehouse", station, login, leave - office.u(60, 300), "wh"
    )
    office.sighting(
        office.shop.machine(station).camera_id,
        login - office.u(30, 90),
        leave - office.u(30, 120),
        person,
        "at_desk",
        machine=station,
        identified=0.6,
    )
    office.badge(leave, person, "out", door="warehouse")


def _remote_evenings(office: Office, person: Person, day: date, home_ip: str, pool: str) -> None:
    """The owner checks the shop from home some evenings (no machine id)."""
    d0 = day_seconds(day)
    start = d0 + 20 * HOUR + office.u(0, 90 * MINUTE)
    office.session(
        person,
        person.account_id,
        None,
        start,
        start + office.u(15 * MINUTE, 80 * MINUTE),
        pool,
        ip=home_ip,
    )


def _it_rounds(office: Office, it: Person, day: date) -> None:
    """IT installs a driver from a stick on several PCs: one device, many machines."""
    d0 = day_seconds(day)
    device = "USBSTOR\\Disk&Ven_SanDisk&Prod_Ultra\\4C530001230418" + it.person_id[1:]
    targets = [m for m in office.shop.machines if m.assigned and m.agent]
    k = int(office.rng.integers(2, 5))
    chosen = office.rng.choice(len(targets), size=min(k, len(targets)), replace=False)
    t = d0 + 10 * HOUR + office.u(0, 5 * HOUR)
    tool = ("PrinterDriver_v5.2.exe", "AliWorkBench_setup.exe", "DriverSetup.exe")[
        int(office.rng.integers(3))
    ]
    for i in sorted(chosen.tolist()):
        m = targets[i]
        out = office.plug(m.machine_id, device, t, (4, 14), detail="SanDisk Ultra 32GB")
        office.endpoint(
            t + office.u(20, 90),
            m.machine_id,
            "process_start",
            process="E:\\" + tool,
            sha=sha256_of(tool),
        )
        if office.rng.random() < 0.5:
            office.sighting(
                m.camera_id,
                t - office.u(20, 60),
                out + office.u(10, 60),
                it,
                "insert_device",
                machine=m.machine_id,
                note="IT at desk",
            )
        t = out + office.u(3 * MINUTE, 25 * MINUTE)


def _noise(office: Office, person: Person, day: date, plan: DayPlan) -> None:
    """Phones on USB, chat file transfers, the odd adware alert."""
    if person.desk is None:
        return
    rng = office.rng
    if person.role == "customer_service" and rng.random() < 0.08:
        t = office.u(plan.arrive + HOUR, max(plan.arrive + HOUR + 60, plan.leave - 2 * HOUR))
        device = f"USB\\VID_2717&PID_FF48\\{int(person.person_id[1:]) * 7919:08X}"
        office.plug(person.desk, device, t, (20, 90), detail="Xiaomi phone (MTP)")
    if rng.random() < 0.05:
        t = office.u(plan.arrive + HOUR, max(plan.arrive + HOUR + 60, plan.leave - HOUR))
        size = rng.uniform(0.2, 12)
        office.endpoint(
            t,
            person.desk,
            "net_upload",
            process="WeChat.exe",
            detail=f"file transfer {size:.1f} MB to WeChat",
        )
    if rng.random() < 0.0015:
        t = office.u(plan.arrive + HOUR, max(plan.arrive + HOUR + 60, plan.leave - HOUR))
        office.endpoint(
            t,
            person.desk,
            "av_alert",
            process="C:\\Users\\Public\\kzip_setup.exe",
            sha=sha256_of("kzip_setup.exe"),
            detail="PUA:Win32/Kuaizip detected; quarantined",
        )


def simulate_routine(
    office: Office,
    *,
    arrivals: dict[tuple[str, date], int] | None = None,
    skip: frozenset[str] = frozenset(),
) -> None:
    """Every ordinary working day of everyone in the shop.

    Parameters
    ----------
    office : Office
        Where events are written.
    arrivals : dict, optional
        ``(person_id, day) -> arrival`` overrides (an insider coming in at
        seven); the rest of that day stays ordinary.
    skip : frozenset of str
        People whose visits the scenario stages itself.
    """
    arrivals = arrivals or {}
    shop, cal, rng = office.shop, office.cal, office.rng
    home_ips = {
        p.person_id: f"183.15{int(rng.integers(6, 9))}.{int(rng.integers(1, 254))}."
        f"{int(rng.integers(1, 254))}"
        for p in shop.people
    }
    stations = [m.machine_id for m in shop.machines if m.site == "warehouse"]
    temps = [p for p in shop.people if "temp" in p.tags]
    it_staff = [p for p in shop.people if p.role == "it"]
    for person in shop.people:
        if person.person_id in skip:
            continue
        if person.role in ("interviewee", "visitor"):
            if person.visit_on is not None:
                d0 = day_seconds(person.visit_on)
                at = d0 + (10 * HOUR if rng.random() < 0.5 else 14 * HOUR + 30 * MINUTE)
                office.visit(
                    person,
                    at + office.u(-15 * MINUTE, 10 * MINUTE),
                    rng.uniform(35, 75) if person.role == "interviewee" else rng.uniform(15, 40),
                )
            continue
        for day in cal.days:
            if "temp" in person.tags:
                continue
            if "cleaner" in person.tags:
                if person.works_on(day):
                    _cleaner_day(office, person, day)
                continue
            if person.role == "manager" and person.employed_on(day) and rng.random() < 0.22:
                _remote_evenings(office, person, day, home_ips[person.person_id], "mgr")
            works = person.works_on(day) or (
                cal.is_promo(day)
                and person.employed_on(day)
                and person.role in ("warehouse", "customer_service")
            )
            if (
                person.role == "customer_service"
                and person.employed_on(day)
                and not works
                and rng.random() < 0.06
            ):
                # Covering a chat queue from home on a day off.
                d0 = day_seconds(day)
                start = d0 + 10 * HOUR + office.u(0, 2 * HOUR)
                office.session(
                    person,
                    person.account_id,
                    None,
                    start,
                    start + office.u(HOUR, 3 * HOUR),
                    "cs",
                    ip=home_ips[person.person_id],
                )
            if not works or rng.random() < 0.03:  # sick or on leave
                continue
            plan = office.plan_day(person, day, arrive=arrivals.get((person.person_id, day)))
            office.live_day(person, plan, pool=_pool(person))
            _noise(office, person, day, plan)
    for day in cal.days:
        if cal.is_promo(day):
            for i, temp in enumerate(temps):
                _temp_night(office, temp, day, stations[i % len(stations)])
        for it in it_staff:
            if it.works_on(day) and rng.random() < 0.25:
                _it_rounds(office, it, day)
