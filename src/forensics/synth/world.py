"""The shop behind a generated case: calendar, people, desks, accounts, apps.

Everything here is small (tens to hundreds of rows) and built once per
case with plain Python; the per-order tables are built elsewhere with
numpy and polars. The scenario decides who plays which part (the
:attr:`Shop.cast`): the insider, the innocent second hire, the CS lead who
may export, the former employee whose account was never disabled, the
interview candidate, the rogue app.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta

import numpy as np

from ._time import DAY, HOUR, day_seconds, seconds
from .names import person_names

__all__ = [
    "Calendar",
    "Person",
    "Machine",
    "Account",
    "App",
    "Shop",
    "make_calendar",
    "build_shop",
    "BUSINESS_HOURS",
    "BUSINESS_WEEKDAYS",
]

BUSINESS_HOURS = (9 * 60, 18 * 60)
BUSINESS_WEEKDAYS = (1, 2, 3, 4, 5, 6)

_SHOPS = (
    ("lanyi", "兰衣坊女装"),
    ("meiyu", "美语女装旗舰店"),
    ("qingshan", "青衫阁"),
    ("xiaoman", "小满服饰"),
    ("yunshang", "云裳女装"),
)


@dataclass(frozen=True)
class Calendar:
    """The investigated period.

    Attributes
    ----------
    opened_at : int
        When the case was opened (local seconds); logs end here.
    days : tuple of date
        Every day from the first day of the period to the opening day.
    leak_on : date
        The day the leak starts (hire's first day, export night, ...).
    promo_days : tuple of date
        A sale: more orders, night shifts in the warehouse (legit off-hours work).
    """

    opened_at: int
    days: tuple[date, ...]
    leak_on: date
    promo_days: tuple[date, ...]

    @property
    def start(self) -> int:
        return day_seconds(self.days[0])

    @property
    def opened_day(self) -> date:
        return self.days[-1]

    def is_promo(self, day: date) -> bool:
        return day in self.promo_days


@dataclass(frozen=True)
class Person:
    """Someone in staff.csv. ``shift`` is None for business hours."""

    person_id: str
    name: str
    role: str
    hired_on: date | None = None
    left_on: date | None = None
    shift: tuple[int, int] | None = None
    desk: str | None = None
    account_id: str | None = None
    badge_id: str | None = None
    days_off: tuple[int, ...] = (7,)
    lunch_logout: bool = False
    tags: frozenset[str] = frozenset()
    visit_on: date | None = None

    @property
    def shift_minutes(self) -> tuple[int, int]:
        return self.shift or BUSINESS_HOURS

    def employed_on(self, day: date) -> bool:
        """Employed that day (``left_on`` is the first day no longer employed)."""
        if self.hired_on is None or day < self.hired_on:
            return False
        return self.left_on is None or day < self.left_on

    def works_on(self, day: date) -> bool:
        return self.employed_on(day) and day.isoweekday() not in self.days_off


@dataclass(frozen=True)
class Machine:
    machine_id: str
    location: str
    assigned: str | None
    camera_id: str | None
    site: str = "office"
    agent: bool = True  # endpoint agent installed (endpoint.csv sees it)
    legacy_client: bool = False  # old back-office client: logins lack session_id


@dataclass(frozen=True)
class Account:
    account_id: str
    owner: str | None
    kind: str
    can_export: bool
    created_at: int
    disabled_at: int | None = None


@dataclass(frozen=True)
class App:
    app_id: str
    account_id: str
    name: str
    granted_at: int
    revoked_at: int | None
    scopes: str
    ip: str
    schedule: str  # hourly | daytime | nightly | none | rogue


@dataclass(frozen=True)
class Shop:
    slug: str
    name: str
    people: tuple[Person, ...]
    machines: tuple[Machine, ...]
    accounts: tuple[Account, ...]
    apps: tuple[App, ...]
    cameras: dict[str, str]
    office_ip: str
    warehouse_ip: str
    cast: dict[str, str] = field(default_factory=dict)

    def person(self, person_id: str) -> Person:
        return next(p for p in self.people if p.person_id == person_id)

    def machine(self, machine_id: str) -> Machine:
        return next(m for m in self.machines if m.machine_id == machine_id)

    def ip_of(self, machine_id: str | None) -> str:
        if machine_id is None:
            return self.office_ip
        return self.warehouse_ip if self.machine(machine_id).site == "warehouse" else self.office_ip


# --------------------------------------------------------------------------- calendar


def _weekday_on_or_before(day: date, allowed: tuple[int, ...]) -> date:
    while day.isoweekday() not in allowed:
        day -= timedelta(days=1)
    return day


def make_calendar(
    rng: np.random.Generator,
    *,
    opened_at: datetime | None = None,
    leak_on: date | None = None,
    weeks: int = 7,
) -> Calendar:
    """Draw the period: opening time, leak day and a three-day sale.

    The leak starts 6-10 days before the case is opened (complaints need a
    few days to pile up) on a Monday-Friday, unless ``leak_on`` is given.
    """
    if opened_at is None:
        day = date(2023, 9, 4) + timedelta(days=int(rng.integers(0, 540)))
        day = _weekday_on_or_before(day, (1, 2, 3, 4, 5))
        minute = 9 * 60 + 30 + 5 * int(rng.integers(0, 30))
        opened_at = datetime(day.year, day.month, day.day) + timedelta(minutes=minute)
    first = opened_at.date() - timedelta(days=7 * weeks)
    days = tuple(first + timedelta(days=i) for i in range((opened_at.date() - first).days + 1))
    if leak_on is None:
        leak_on = opened_at.date() - timedelta(days=int(rng.integers(6, 11)))
        leak_on = _weekday_on_or_before(leak_on, (1, 2, 3, 4, 5))
    if not first + timedelta(days=10) <= leak_on < opened_at.date():
        raise ValueError(f"leak_on {leak_on} must fall inside the period ({first}..{opened_at})")
    # The sale ends at least a week before the leak so the two do not blur.
    latest = max(7, (leak_on - first).days - 10)
    promo_first = first + timedelta(days=int(rng.integers(5, latest)))
    promo = tuple(promo_first + timedelta(days=i) for i in range(3))
    return Calendar(seconds(opened_at), days, leak_on, promo)


# --------------------------------------------------------------------------- people


@dataclass
class _Draft:
    """A person before ids are assigned (hire order decides the ids)."""

    role: str
    hired_on: date | None = None
    left_on: date | None = None
    shift: tuple[int, int] | None = None
    days_off: tuple[int, ...] = (7,)
    lunch_logout: bool = False
    tags: set[str] = field(default_factory=set)
    visit_on: date | None = None
    can_export: bool = False
    needs_desk: bool = True
    has_account: bool = True


def _core_counts(n_orders: int) -> dict[str, int]:
    """Headcount per role: ~14 people at a few thousand orders, ~500 at 10 M."""
    n = 14 + n_orders // 20_000
    counts = {
        "manager": 1 + n // 60,
        "it": 1 + n // 80,
        "finance": 0 if n < 18 else 1 + n // 120,
        "marketing": 0 if n < 16 else 1 + n // 100,
        "warehouse": max(3, round(0.3 * n)),
    }
    counts["customer_service"] = max(6, n - sum(counts.values()))
    return counts


def _hire_date(rng: np.random.Generator, cal: Calendar) -> date:
    """A hiring date well before the period (months to years)."""
    return cal.days[0] - timedelta(days=int(rng.integers(40, 6 * 365)))


def _working_days(cal: Calendar, lo: date, hi: date, weekdays=(1, 2, 3, 4, 5)) -> list[date]:
    return [d for d in cal.days if lo <= d <= hi and d.isoweekday() in weekdays]


def _drafts(rng: np.random.Generator, cal: Calendar, n_orders: int, scenario: str) -> list[_Draft]:
    counts = _core_counts(n_orders)
    drafts: list[_Draft] = []
    owner = _Draft("manager", tags={"owner"}, can_export=True, shift=None)
    drafts.append(owner)
    for role, k in counts.items():
        for i in range(k - (1 if role == "manager" else 0)):
            d = _Draft(role)
            if role == "customer_service":
                # A third of CS cover the evening, as online shops do.
                if i % 3 == 2:
                    d.shift = (13 * 60, 22 * 60)
                else:
                    d.shift = (9 * 60, 18 * 60)
                if rng.random() < 0.3:
                    d.days_off = (int(rng.integers(1, 6)),)  # works Sundays instead
                d.lunch_logout = rng.random() < 0.4
            elif role == "warehouse":
                d.shift = (8 * 60 + 30, 17 * 60 + 30)
            elif role == "manager":
                d.shift = (9 * 60 + 30, 18 * 60 + 30)
                d.can_export = True
            elif role == "it":
                d.days_off = (6, 7)
                d.has_account = i == 0
            elif role == "finance":
                d.can_export = True
                d.days_off = (6, 7)
            elif role == "marketing":
                d.lunch_logout = True
            drafts.append(d)
    cs = [d for d in drafts if d.role == "customer_service" and d.shift == (9 * 60, 18 * 60)]
    cs[0].tags.add("lead")
    cs[0].can_export = True  # the CS lead exports the weekly after-sales list
    cs[0].days_off = (7,)

    # Two hires in the leak week: the insider (usb_malware) and an innocent one.
    # In other scenarios both are innocent, so "new hire" alone proves nothing.
    week = [
        d
        for d in _working_days(
            cal,
            cal.leak_on - timedelta(days=cal.leak_on.weekday()),
            cal.leak_on + timedelta(days=6 - cal.leak_on.weekday()),
        )
        if d < cal.opened_day
    ]
    first_hire = _Draft(
        "customer_service",
        hired_on=cal.leak_on,
        shift=(9 * 60, 18 * 60),
        tags={"new_hire", "hire_a"},
    )
    other_days = [d for d in week if d != cal.leak_on] or [cal.leak_on]
    second_on = other_days[int(rng.integers(0, len(other_days)))]
    second_hire = _Draft(
        "customer_service", hired_on=second_on, shift=(9 * 60, 18 * 60), tags={"new_hire", "hire_b"}
    )
    drafts += [first_hire, second_hire]
    # An earlier hire inside the period, settled in by the leak.
    early = _working_days(cal, cal.days[3], cal.leak_on - timedelta(days=14))
    if early:
        drafts.append(
            _Draft(
                "warehouse",
                hired_on=early[int(rng.integers(0, len(early)))],
                shift=(8 * 60 + 30, 17 * 60 + 30),
                tags={"new_hire"},
            )
        )

    # Leavers: accounts normally disabled on the day they go.
    n_leavers = 1 + counts["customer_service"] // 12
    for i in range(n_leavers):
        d = _Draft("customer_service", shift=(9 * 60, 18 * 60), tags={"leaver"})
        lo = cal.days[0] - timedelta(days=30)
        d.left_on = lo + timedelta(days=int(rng.integers(0, (cal.leak_on - lo).days - 5)))
        if i == 0:
            d.tags.add("forgotten")  # account never disabled, never used again
        drafts.append(d)
    # Another leaver; in stale_account her account is never disabled and comes back.
    stale = _Draft("customer_service", shift=(13 * 60, 22 * 60), tags={"leaver"})
    stale.left_on = cal.leak_on - timedelta(days=int(rng.integers(20, 41)))
    if scenario == "stale_account":
        stale.tags.add("stale")
        stale.can_export = rng.random() < 0.5
    drafts.append(stale)

    # Sale temps: night packing under a shared warehouse account.
    for _ in range(1 + counts["warehouse"] // 8):
        drafts.append(
            _Draft(
                "warehouse",
                hired_on=cal.promo_days[0] - timedelta(days=1),
                left_on=cal.promo_days[-1] + timedelta(days=1),
                shift=(19 * 60, 2 * 60),
                tags={"temp"},
                needs_desk=False,
                has_account=False,
                days_off=(),
            )
        )
    for _ in range(1 + counts["warehouse"] // 30):
        drafts.append(
            _Draft(
                "contractor",
                shift=(6 * 60 + 45, 7 * 60 + 45),
                tags={"cleaner"},
                needs_desk=False,
                has_account=False,
            )
        )

    # Interview candidates and visitors: no desk, no account, one visit.
    visit_days = _working_days(cal, cal.days[1], cal.days[-2], weekdays=(1, 2, 3, 4, 5))
    n_candidates = 2 + counts["customer_service"] // 20
    for _ in range(n_candidates):
        drafts.append(
            _Draft(
                "interviewee",
                visit_on=visit_days[int(rng.integers(len(visit_days)))],
                needs_desk=False,
                has_account=False,
                days_off=(),
            )
        )
    candidate = _Draft(
        "interviewee",
        visit_on=cal.leak_on,
        needs_desk=False,
        has_account=False,
        days_off=(),
        tags={"candidate"},
    )
    drafts.append(candidate)
    for _ in range(1 + counts["warehouse"] // 40):
        drafts.append(
            _Draft(
                "visitor",
                visit_on=visit_days[int(rng.integers(len(visit_days)))],
                needs_desk=False,
                has_account=False,
                days_off=(),
            )
        )

    for d in drafts:
        if d.hired_on is None and d.role not in ("interviewee", "visitor"):
            d.hired_on = _hire_date(rng, cal)
            if d.left_on is not None and d.hired_on >= d.left_on:
                d.hired_on = d.left_on - timedelta(days=int(rng.integers(60, 700)))
    owner.hired_on = min(d.hired_on for d in drafts if d.hired_on) - timedelta(days=200)
    return drafts


# --------------------------------------------------------------------------- desks


def _desks(
    rng: np.random.Generator, people: list[Person]
) -> tuple[list[Person], list[Machine], dict[str, str]]:
    """Give desks to people who need one and put cameras over most desks."""
    cameras = {
        "entrance": "CAM-01",
        "corridor": "CAM-02",
        "meeting": "CAM-03",
        "warehouse": "CAM-04",
    }
    next_cam = 5
    machines: list[Machine] = []
    people = list(people)

    def add(location: str, assigned: str | None, camera: str | None, site: str = "office") -> str:
        mid = f"PC-{len(machines) + 1:02d}"
        machines.append(Machine(mid, location, assigned, camera, site))
        return mid

    # Leavers' desks go to later hires of the same role, as offices do.
    order = sorted(range(len(people)), key=lambda i: (people[i].hired_on or date.max, i))
    vacated: list[tuple[date, str]] = []
    cs_room: list[int] = []
    for i in order:
        p = people[i]
        if p.tags & {"temp", "cleaner"} or p.role in ("interviewee", "visitor", "contractor"):
            continue
        desk = None
        if p.role == "customer_service":
            free = [v for v in vacated if v[0] <= (p.hired_on or date.min)]
            if free and "new_hire" in p.tags:
                vacated.remove(free[0])
                desk = free[0][1]
            else:
                desk = add("CS room, desk", p.person_id, None)
                cs_room.append(len(machines) - 1)
        elif p.role == "warehouse":
            desk = add("Warehouse, packing station", p.person_id, cameras["warehouse"], "warehouse")
        elif p.role == "manager":
            desk = add("Manager office", p.person_id, None)
        elif p.role == "it":
            desk = add("IT room", p.person_id, None)
        else:
            desk = add("Back office, desk", p.person_id, None)
        people[i] = replace(p, desk=desk)
        if p.left_on is not None and p.role == "customer_service":
            vacated.append((p.left_on, desk))
    # Whoever sits there at case opening is the assignee; a vacated desk is empty.
    assignee: dict[str, str | None] = {}
    for p in sorted(people, key=lambda q: (q.hired_on or date.min, q.person_id)):
        if p.desk is not None:
            assignee[p.desk] = None if p.left_on is not None else p.person_id
    add("CS room, spare desk", None, None)
    cs_room.append(len(machines) - 1)
    add("Reception", None, cameras["entrance"])
    add("Meeting room", None, cameras["meeting"])

    # CS room cameras cover five desks each; about one desk in six is a blind spot.
    rows = []
    cs_desk_no = 0
    for j, m in enumerate(machines):
        camera = m.camera_id
        location = m.location
        if j in cs_room:
            cs_desk_no += 1
            group = (cs_desk_no - 1) // 5
            cam_id = f"CAM-{next_cam + group:02d}"
            camera = None if rng.random() < 0.17 else cam_id
            location = f"CS room, desk {cs_desk_no}" if "spare" not in m.location else m.location
        elif m.location == "Manager office" and rng.random() < 0.5:
            camera = cameras["corridor"]
        elif m.site == "warehouse":
            location = f"{m.location} {sum(1 for x in machines[: j + 1] if x.site == 'warehouse')}"
        rows.append(
            replace(
                m,
                camera_id=camera,
                location=location,
                assigned=assignee.get(m.machine_id, m.assigned),
            )
        )
    for k in range((cs_desk_no + 4) // 5):
        cameras[f"cs{k + 1}"] = f"CAM-{next_cam + k:02d}"
    # A couple of old warehouse PCs run without the endpoint agent and with
    # the old client that does not report session ids.
    wh = [i for i, m in enumerate(rows) if m.site == "warehouse"]
    for i in wh[: max(1, len(wh) // 4)]:
        rows[i] = replace(rows[i], agent=False, legacy_client=True)
    return people, rows, cameras


# --------------------------------------------------------------------------- accounts


def _accounts(
    rng: np.random.Generator,
    slug: str,
    people: list[Person],
    drafts: dict[str, _Draft],
    cal: Calendar,
) -> tuple[list[Person], list[Account]]:
    accounts: list[Account] = []
    counters: dict[str, int] = {}
    prefix = {
        "customer_service": "cs",
        "warehouse": "wh",
        "manager": "mgr",
        "it": "it",
        "finance": "fin",
        "marketing": "mkt",
    }
    out = []
    for p in people:
        d = drafts[p.person_id]
        if not d.has_account:
            out.append(p)
            continue
        # Set up by the owner a day or three before the start date.
        created = (
            day_seconds(p.hired_on)
            - int(rng.integers(1, 4)) * DAY
            + 10 * HOUR
            + int(rng.integers(0, 6 * HOUR))
        )
        if "owner" in p.tags:
            acc = slug
            kind = "main"
        else:
            counters[p.role] = counters.get(p.role, 0) + 1
            acc = f"{slug}:{prefix[p.role]}{counters[p.role]:02d}"
            kind = "sub"
        disabled = None
        if p.left_on is not None and not p.tags & {"forgotten", "stale"}:
            disabled = day_seconds(p.left_on) + 9 * HOUR + int(rng.integers(0, 4 * HOUR))
        accounts.append(Account(acc, p.person_id, kind, d.can_export, created, disabled))
        out.append(replace(p, account_id=acc))
    # The shared packing account the sale temps use at night (no owner).
    temps_start = day_seconds(cal.promo_days[0]) - DAY + 15 * HOUR
    accounts.append(Account(f"{slug}:warehouse", None, "sub", False, temps_start - 300 * DAY))
    return out, accounts


def _apps(rng: np.random.Generator, cal: Calendar, scenario: str) -> list[App]:
    """The shop's authorised apps: an ERP, a label service, an old revoked one."""
    start = cal.start + 9 * HOUR  # granted in office hours, some day long ago
    apps = [
        App(
            "APP-1001",
            "app:jst-erp",
            "聚水潭ERP",
            start - int(rng.integers(200, 900)) * DAY + int(rng.integers(0, 8 * HOUR)),
            None,
            "orders.read;orders.write;inventory.write",
            "47.96.183.21",
            "hourly",
        ),
        App(
            "APP-1002",
            "app:kuaidi-print",
            "快递打单云",
            start - int(rng.integers(100, 500)) * DAY + int(rng.integers(0, 8 * HOUR)),
            None,
            "orders.read;logistics.write",
            "121.40.87.155",
            "daytime",
        ),
        App(
            "APP-1003",
            "app:review-helper",
            "评价助手",
            start - 400 * DAY + int(rng.integers(0, 8 * HOUR)),
            start - int(rng.integers(20, 120)) * DAY + int(rng.integers(0, 8 * HOUR)),
            "orders.read;reviews.write",
            "118.178.92.40",
            "none",
        ),
    ]
    if rng.random() < 0.6:
        # A new but legitimate app, granted away from the leak: "new app" is not enough.
        lo, hi = 3, max(4, (cal.leak_on - cal.days[0]).days - 12)
        day = cal.days[int(rng.integers(lo, hi))]
        apps.append(
            App(
                "APP-1004",
                "app:fapiao",
                "电子发票助手",
                day_seconds(day) + 10 * HOUR + int(rng.integers(0, 6 * HOUR)),
                None,
                "orders.read;invoice.write",
                "139.224.65.9",
                "nightly",
            )
        )
    if scenario == "third_party_app":
        granted = day_seconds(cal.leak_on) + 10 * HOUR + int(rng.integers(0, 6 * HOUR))
        apps.append(
            App(
                f"APP-2{int(rng.integers(1, 999)):03d}",
                "app:shop-insight",
                "店铺数据分析助手",
                granted,
                None,
                "orders.read;buyer.contact.read;orders.export",
                "103.151.229.17",
                "rogue",
            )
        )
    return apps


# --------------------------------------------------------------------------- shop


def build_shop(rng: np.random.Generator, cal: Calendar, n_orders: int, scenario: str) -> Shop:
    """Everyone and everything in the office, with the scenario's cast."""
    slug, shop_name = _SHOPS[int(rng.integers(len(_SHOPS)))]
    drafts = _drafts(rng, cal, n_orders, scenario)
    names = person_names(rng, len(drafts))
    # Employee numbers follow hiring order; visitors are numbered after staff.
    order = sorted(
        range(len(drafts)),
        key=lambda i: (drafts[i].hired_on is None, drafts[i].hired_on or date.min, i),
    )
    people: list[Person] = []
    by_id: dict[str, _Draft] = {}
    for n, i in enumerate(order, start=1):
        d = drafts[i]
        pid = f"P{n:03d}"
        by_id[pid] = d
        badge = None if d.role in ("interviewee", "visitor") else f"B{20000 + 37 * n:05d}"
        people.append(
            Person(
                pid,
                names[i],
                d.role,
                d.hired_on,
                d.left_on,
                d.shift,
                None,
                None,
                badge,
                d.days_off,
                d.lunch_logout,
                frozenset(d.tags),
                d.visit_on,
            )
        )
    people, machines, cameras = _desks(rng, people)
    people, accounts = _accounts(rng, slug, people, by_id, cal)
    apps = _apps(rng, cal, scenario)
    accounts += [
        Account(a.account_id, None, "app", "export" in a.scopes, a.granted_at, a.revoked_at)
        for a in apps
    ]
    cast = {
        tag: p.person_id
        for p in people
        for tag in p.tags
        if tag in ("owner", "lead", "hire_a", "hire_b", "stale", "candidate", "forgotten")
    }
    rogue = [a for a in apps if a.schedule == "rogue"]
    if rogue:
        cast["rogue_app"] = rogue[0].app_id
    octet = int(rng.integers(2, 250))
    return Shop(
        slug,
        shop_name,
        tuple(people),
        tuple(machines),
        tuple(accounts),
        tuple(apps),
        cameras,
        f"115.236.{octet}.18",
        f"115.236.{octet}.19",
        cast,
    )
