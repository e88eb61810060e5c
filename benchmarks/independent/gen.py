#!/usr/bin/env python3
"""Independent case generator for `forensics` (written only from CASE_FORMAT.md).

Simulates an online shop's back office day by day: badges, logins, order views,
label prints, exports, ERP/API pulls, endpoint logs, CCTV reviewer notes; then
plants one leak (or none), derives the buyers who get scam calls, and writes a
case folder plus truth.json.

usage: gen.py OUTDIR --vector V --seed N [--trait T ...]
"""
import argparse
import csv
import datetime as dt
import io
import json
import os
import random
import uuid
from zoneinfo import ZoneInfo

VECTORS = ["usb_malware", "insider_export", "stale_account", "visitor_malware",
           "third_party_app", "none"]

TRAITS = {
    "uuid_ids": "order ids are UUIDs",
    "hot_desk": "no desk_machine_id / assigned_person_id; people sit anywhere",
    "multi_cam": "one camera covers 4-6 desks; ~30% desks have no camera",
    "cam_skew": "camera clock off by 5-30 min (declared unsynchronized)",
    "big_staff": "150 staff, night/weekend shifts, many early arrivals",
    "shared_account": "insider works through a colleague's or a shared sub-account",
    "intern_no_account": "the person who plugs the stick is an intern with no account",
    "long_lag": "leak starts 3-6 weeks before the first complaints",
    "heavy_noise": "lots of unrelated scam complaints (2-3x the leak ones)",
    "no_order_ids": "complaints mostly give only buyer_id; buyers have many orders",
    "erp_pulls": "legitimate ERP + analytics apps pull orders by API all day",
    "warehouse_photo": "insider is a warehouse worker photographing printed labels",
    "it_usb": "IT staff plug USB sticks into PCs all the time",
    "av_noise": "antivirus alerts on unrelated machines",
    "agent_missing": "endpoint agent missing on some PCs",
    "monday_exports": "managers export last week's orders every Monday",
    "stale_home_ip": "stale account's home IP also appears legitimately",
    "visitor_badges": "many visitors / candidates with visitor badges",
    "mixed_tz": "explicit offsets (+08:00 / Z) in some files, naive in others",
    "crlf_bom": "CSV with BOM and CRLF line endings",
    "optional_absent": "optional files absent or empty",
    "v11_endpoint": "endpoint.csv with user column, os_users, some empty USB serials",
    "parquet": "large tables written as parquet",
    "viewer": "insider_export by mass viewing (no exports)",
    "gbk": "orders/complaints/staff in GB18030 with Chinese text (declared in case.toml)",
    "no_session_ids": "logins carry no session_id; sessions must be rebuilt from login/logout pairs",
    "messy_text": "complaint text with newlines, quotes, formulas, HTML, emoji",
    "tz_dst": "shop in Europe/Berlin; the period crosses the October DST change",
    "noise_burst": "an unrelated platform-wide phishing wave: 20-40 complaints in 3 days on random orders",
    "app_unranged": "some API pulls name neither order nor range; the rogue app pulls order by order",
    "av_cleanup": "antivirus catches the trojan 7-12 days after infection (leak ends early)",
    "poor_camera": "reviewer identifies only ~30% of people on camera",
    "damaged_rows": "a few damaged rows (wrong field count, bad timestamp, duplicate id with other content)",
    "export_unranged": "the insider's export rows record no range (only a row count): unknown extent",
    "infect_exporter": "usb: one infected PC is the finance desk, whose legit half-month export the trojan steals",
    "legit_new_app": "a legitimate new shipping app is authorized the same week the leak starts (red herring)",
    "bulk_export": "insider exports everything since the last export (ranges cover all recent orders)",
}

ROLES_CS = "customer_service"
FIRST = ["li", "wang", "zhang", "liu", "chen", "yang", "zhao", "huang", "zhou", "wu",
         "xu", "sun", "hu", "zhu", "gao", "lin", "he", "guo", "ma", "luo", "anna",
         "marta", "piotr", "jan", "ola", "kasia", "tom", "eva", "igor", "nina"]
GIVEN = ["na", "wei", "fang", "min", "jing", "lei", "jun", "yan", "tao", "ming", "hua",
         "qiang", "xiu", "hong", "ping", "bo", "yu", "ling", "dan", "hao"]
ITEMS = ["phone case", "usb cable", "tea set", "rice cooker", "sneakers", "baby formula",
         "face cream", "headphones", "desk lamp", "yoga mat", "dog food", "jacket",
         "water bottle", "keyboard", "perfume", "vitamin pack"]


class G:
    def __init__(self, outdir, vector, seed, traits):
        self.out = outdir
        self.vector = vector
        self.seed = seed
        self.T = set(traits)
        self.r = random.Random(f"{vector}|{seed}|{','.join(sorted(traits))}")
        self.rows = {k: [] for k in ["staff", "accounts", "machines", "orders", "complaints",
                                     "logins", "access", "camera", "endpoint", "badge", "apps"]}
        self.truth = {}
        self.notes = []

    # ------------------------------------------------------------------ setup
    def t(self, name):
        return name in self.T

    def setup(self):
        r = self.r
        self.tzname = "Europe/Berlin" if self.t("tz_dst") else "Asia/Shanghai"
        self.tz = ZoneInfo(self.tzname)
        start = dt.date(2025, 3, 3) + dt.timedelta(days=7 * r.randint(0, 20))
        if self.t("tz_dst"):
            start = dt.date(2025, 9, 29) + dt.timedelta(days=7 * r.randint(0, 2))
        self.d0 = start
        self.lag_days = r.randint(22, 40) if self.t("long_lag") else r.randint(2, 5)
        self.leak_day = r.randint(10, 16)            # day index the leak starts
        self.ndays = self.leak_day + self.lag_days + r.randint(10, 14)
        self.days = [start + dt.timedelta(days=i) for i in range(self.ndays)]
        self.weekdays = [1, 2, 3, 4, 5, 6] if r.random() < 0.6 else [1, 2, 3, 4, 5]
        self.bh = (9, 0, 18, 0) if r.random() < 0.7 else (8, 30, 17, 30)
        self.cam_offset = dt.timedelta(minutes=r.choice([-1, 1]) * r.randint(5, 30)) \
            if self.t("cam_skew") else dt.timedelta(0)
        self.office_pub_ip = f"203.0.113.{r.randint(2, 250)}"

    def dtm(self, day, h, m=0, s=0):
        return dt.datetime(day.year, day.month, day.day) + dt.timedelta(hours=h, minutes=m, seconds=s)

    # ------------------------------------------------------------------ people
    def make_staff(self):
        r = self.r
        n = 150 if self.t("big_staff") else r.randint(16, 28)
        roles = []
        nmgr = 6 if n > 100 else 2
        nit = 5 if n > 100 else 1
        nfin = 4 if n > 100 else 1
        nwh = int(n * 0.3)
        ncs = n - nmgr - nit - nfin - nwh
        roles = ["manager"] * nmgr + ["it"] * nit + ["finance"] * nfin + ["warehouse"] * nwh + [ROLES_CS] * ncs
        self.staff = []
        used = set()
        for i, role in enumerate(roles):
            while True:
                nm = (r.choice(FIRST), r.choice(GIVEN))
                if nm not in used:
                    used.add(nm)
                    break
            pid = f"P{i + 1:03d}" if r.random() < 2 else ""
            hired = self.d0 - dt.timedelta(days=r.randint(60, 1500))
            p = dict(person_id=pid, name=f"{nm[0].title()} {nm[1].title()}", role=role,
                     hired_on=hired, left_on=None, shift=None, desk=None,
                     os_user=f"SHOP\\{nm[1]}.{nm[0]}", early=0, workdays=None, account=None)
            # shifts
            if self.t("big_staff"):
                if role == "warehouse" and r.random() < 0.4:
                    p["shift"] = (22, 0, 6, 0)
                elif role == ROLES_CS and r.random() < 0.35:
                    p["shift"] = (14, 0, 23, 0)
                elif role == ROLES_CS and r.random() < 0.2:
                    p["shift"] = (7, 0, 16, 0)
                if r.random() < 0.25:
                    p["early"] = r.randint(50, 130)
                # rotating 5-of-7 days
                off = r.sample(range(1, 8), 2)
                p["workdays"] = [d for d in range(1, 8) if d not in off]
            else:
                if r.random() < 0.12:
                    p["early"] = r.randint(40, 100)
                if role == "warehouse" and r.random() < 0.3:
                    p["shift"] = (7, 0, 16, 0)
            self.staff.append(p)
        # a few recent hires (so "new hire" alone is not a giveaway)
        for p in r.sample([p for p in self.staff if p["role"] in (ROLES_CS, "warehouse")], 3):
            p["hired_on"] = self.d0 + dt.timedelta(days=r.randint(0, self.leak_day + 5))
        # former employees (accounts disabled properly)
        self.former = []
        for k in range(r.randint(2, 4) + (4 if n > 100 else 0)):
            while True:
                nm = (r.choice(FIRST), r.choice(GIVEN))
                if nm not in used:
                    used.add(nm)
                    break
            p = dict(person_id=f"P{len(self.staff) + 1:03d}", name=f"{nm[0].title()} {nm[1].title()}",
                     role=r.choice([ROLES_CS, "warehouse", ROLES_CS]),
                     hired_on=self.d0 - dt.timedelta(days=r.randint(400, 1500)),
                     left_on=self.d0 - dt.timedelta(days=r.randint(20, 300)), shift=None,
                     desk=None, os_user=f"SHOP\\{nm[1]}.{nm[0]}", early=0, workdays=None, account=None)
            self.staff.append(p)
            self.former.append(p)
        self.byid = {p["person_id"]: p for p in self.staff}

    def make_machines(self):
        r = self.r
        self.machines = []
        desk_people = [p for p in self.staff if p["left_on"] is None and p["role"] != "warehouse"]
        for i, p in enumerate(desk_people):
            mid = f"PC-{i + 1:02d}" if len(desk_people) < 100 else f"PC-{i + 1:03d}"
            self.machines.append(dict(machine_id=mid, location=f"office desk {i + 1}", assigned=p["person_id"],
                                      camera=None, lan=f"10.0.1.{i + 10}"))
            p["desk"] = mid
        nwh = 5 if self.t("big_staff") else 3
        for i in range(nwh):
            self.machines.append(dict(machine_id=f"WH-{i + 1:02d}", location=f"warehouse packing {i + 1}",
                                      assigned=None, camera=None, lan=f"10.0.2.{i + 10}"))
        # spare desks (interview room, reception, meeting room)
        for i, loc in enumerate(["reception", "meeting room", "spare desk"]):
            self.machines.append(dict(machine_id=f"SP-{i + 1:02d}", location=loc, assigned=None,
                                      camera=None, lan=f"10.0.3.{i + 10}"))
        # cameras
        office = [m for m in self.machines if m["machine_id"].startswith("PC")]
        per = r.randint(4, 6) if self.t("multi_cam") else 2
        for i in range(0, len(office), per):
            cam = f"CAM-{i // per + 1:02d}"
            for m in office[i:i + per]:
                m["camera"] = cam
        for m in self.machines:
            if m["machine_id"].startswith("WH"):
                m["camera"] = "CAM-WH"
            if m["machine_id"].startswith("SP"):
                m["camera"] = "CAM-SP" if m["location"] != "meeting room" else None
        if self.t("multi_cam"):
            for m in office:
                if r.random() < 0.3:
                    m["camera"] = None
        self.mbyid = {m["machine_id"]: m for m in self.machines}
        if self.t("hot_desk"):
            self.hot_pool = [m["machine_id"] for m in office]
        self.agentless = set()
        if self.t("agent_missing"):
            self.agentless = set(r.sample([m["machine_id"] for m in self.machines],
                                          max(2, len(self.machines) // 5)))

    def make_accounts(self):
        r = self.r
        self.accounts = []
        boss = next(p for p in self.staff if p["role"] == "manager")
        self.accounts.append(dict(account_id="main", owner=boss["person_id"], kind="main", can_export=True,
                                  created_at=self.d0 - dt.timedelta(days=2000), disabled_at=None))
        for p in self.staff:
            if p["role"] == "it" and r.random() < 0.5:
                continue
            if p is boss:
                p["account"] = "main"
                continue
            aid = "sub_" + p["os_user"].split("\\")[1].replace(".", "_")
            can = p["role"] in ("manager", "finance") or (p["role"] == ROLES_CS and r.random() < 0.25)
            dis = None
            if p["left_on"]:
                dis = dt.datetime.combine(p["left_on"], dt.time(18, 30)) + dt.timedelta(days=r.randint(0, 3))
            self.accounts.append(dict(account_id=aid, owner=p["person_id"], kind="sub", can_export=can,
                                      created_at=dt.datetime.combine(p["hired_on"], dt.time(10, 0)),
                                      disabled_at=dis))
            p["account"] = aid
        # shared accounts
        self.accounts.append(dict(account_id="wh_shared", owner=None, kind="sub", can_export=False,
                                  created_at=self.d0 - dt.timedelta(days=700), disabled_at=None))
        self.accounts.append(dict(account_id="cs_shared", owner=None, kind="sub", can_export=True,
                                  created_at=self.d0 - dt.timedelta(days=500), disabled_at=None))
        self.apps = []
        if self.t("erp_pulls") or self.r.random() < 0.5:
            self.apps.append(dict(app_id="APP-ERP", account_id="app_erp", name="Jushuitan ERP sync",
                                  granted_at=self.d0 - dt.timedelta(days=400), revoked_at=None,
                                  scopes="orders.read;orders.write;logistics"))
        if self.t("erp_pulls"):
            self.apps.append(dict(app_id="APP-BI", account_id="app_bi", name="SalesBoard analytics",
                                  granted_at=self.d0 - dt.timedelta(days=90), revoked_at=None,
                                  scopes="orders.read"))
        self.apps.append(dict(app_id="APP-REV", account_id="app_rev", name="ReviewPlus invites",
                              granted_at=self.d0 - dt.timedelta(days=200),
                              revoked_at=None, scopes="orders.read.basic"))
        for a in self.apps:
            self.accounts.append(dict(account_id=a["account_id"], owner=None, kind="app", can_export=True,
                                      created_at=a["granted_at"], disabled_at=a["revoked_at"]))

    # ------------------------------------------------------------------ orders
    def make_orders(self):
        r = self.r
        n = r.randint(2000, 9000)
        nbuy = n // (6 if self.t("no_order_ids") else 1.4)
        nbuy = int(nbuy)
        self.orders = []
        buyers = [f"B{100000 + i}" for i in range(nbuy)]
        weights = [1.0 / (i + 1) ** 0.6 for i in range(nbuy)] if self.t("no_order_ids") else None
        per_day = n / self.ndays
        base = r.randint(1, 9) * 10 ** 9
        k = 0
        bnames = {}
        for di, day in enumerate(self.days):
            cnt = max(1, int(r.gauss(per_day, per_day * 0.15)))
            for _ in range(cnt):
                hour = r.choices(range(24), weights=[1, .5, .3, .2, .2, .3, .6, 1, 2, 3, 3, 3, 4, 3, 3, 3, 3, 3,
                                                     4, 5, 6, 6, 4, 2])[0]
                placed = self.dtm(day, hour, r.randint(0, 59), r.randint(0, 59))
                b = r.choices(buyers, weights=weights)[0] if weights else r.choice(buyers)
                if b not in bnames and self.t("gbk"):
                    bnames[b] = (r.choice("王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗") + "".join(r.sample("伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英", 2)),
                                 f"1{r.randint(3, 9)}{r.randint(0, 9)}{r.randint(10000000, 99999999)}",
                                 f"{r.choice(['浙江省杭州市', '江苏省苏州市', '四川省成都市', '湖北省武汉市'])}"
                                 f"{r.choice(['人民路', '解放路', '中山路', '和平路'])}{r.randint(1, 999)}号")
                if b not in bnames:
                    bnames[b] = (f"{r.choice(FIRST).title()} {r.choice(GIVEN).title()}",
                                 f"1{r.randint(3, 9)}{r.randint(0, 9)}{r.randint(10000000, 99999999)}",
                                 f"{r.randint(1, 999)} {r.choice(['Renmin', 'Jiefang', 'Zhongshan', 'Heping'])} Rd, "
                                 f"{r.choice(['Hangzhou', 'Suzhou', 'Chengdu', 'Wuhan', 'Xian', 'Jinan'])}")
                k += 1
                oid = str(uuid.UUID(int=r.getrandbits(128), version=4)) if self.t("uuid_ids") else str(base + k)
                st = r.choices(["delivered", "shipped", "paid", "refunded", "cancelled"], [50, 25, 15, 6, 4])[0]
                nm, ph, ad = bnames[b]
                self.orders.append(dict(order_id=oid, buyer_id=b, placed_at=placed, status=st,
                                        amount=round(r.uniform(9, 900), 2), buyer_name=nm, phone=ph,
                                        address=ad, item=r.choice(ITEMS)))
        self.orders.sort(key=lambda o: o["placed_at"])
        if not self.t("uuid_ids"):
            nxt = base
            for o in self.orders:
                nxt += r.randint(1, 3)
                o["order_id"] = str(nxt)
        self.obyid = {o["order_id"]: o for o in self.orders}
        self.placed = [o["placed_at"] for o in self.orders]

    def orders_in(self, a, b):
        import bisect
        i = bisect.bisect_left(self.placed, a)
        j = bisect.bisect_right(self.placed, b)
        return self.orders[i:j]

    # ------------------------------------------------------------------ daily life
    def works_on(self, p, day):
        if p["left_on"] is not None or p["hired_on"] > day:
            return False
        wd = day.isoweekday()
        days = p["workdays"] or self.weekdays
        if wd not in days:
            return False
        return self.r.random() > 0.05  # sick / leave

    def shift_of(self, p):
        if p["shift"]:
            return p["shift"]
        return self.bh

    def simulate(self):
        r = self.r
        self.eid = 0
        self.aid = 0
        self.sid = 0
        self.presence = {}  # (pid, day) -> (arrive, leave, machine)
        self.access_events = []  # (at, account, machine, action, order_id, rs, re)
        printed = set()
        active = [p for p in self.staff if p["left_on"] is None]
        for di, day in enumerate(self.days):
            today = [p for p in active if self.works_on(p, day)]
            self._wh_left = sum(1 for p in today if p["role"] == "warehouse")
            for p in today:
                sh, sm, eh, em = self.shift_of(p)
                start = self.dtm(day, sh, sm)
                end = self.dtm(day, eh, em) + (dt.timedelta(days=1) if (eh, em) < (sh, sm) else dt.timedelta())
                arrive = start - dt.timedelta(minutes=r.randint(0, 20) + (p["early"] and r.randint(p["early"] - 20, p["early"] + 10)))
                leave = end + dt.timedelta(minutes=r.randint(0, 40))
                self.badge(arrive, p, "in")
                self.badge(leave, p, "out")
                if p["role"] == "warehouse":
                    mach = r.choice([m["machine_id"] for m in self.machines if m["machine_id"].startswith("WH")])
                elif self.t("hot_desk"):
                    mach = r.choice(self.hot_pool)
                else:
                    mach = p["desk"]
                self.presence[(p["person_id"], day)] = (arrive, leave, mach)
                sit = arrive + dt.timedelta(minutes=r.randint(2, 8))
                self.cam(sit, sit + dt.timedelta(minutes=r.randint(150, 230)), p["person_id"], mach, "at_desk")
                if r.random() < 0.6:
                    t2 = sit + dt.timedelta(hours=4, minutes=r.randint(0, 40))
                    self.cam(t2, min(leave, t2 + dt.timedelta(hours=3)), p["person_id"], mach, "at_desk")
                self.ep(sit + dt.timedelta(seconds=40), mach, "logon", user=p["os_user"])
                for proc in r.sample(["chrome.exe", "EXCEL.EXE", "WeChat.exe", "QianNiu.exe", "explorer.exe",
                                      "notepad.exe", "DingTalk.exe"], 2):
                    self.ep(sit + dt.timedelta(minutes=r.randint(1, 200)), mach, "process_start", process=proc,
                            user=p["os_user"])
                if r.random() < 0.04:   # someone charges a phone / uses own stick
                    dev = f"USB-{p['person_id']}-{r.randint(1, 2)}"
                    tt = sit + dt.timedelta(minutes=r.randint(10, 300))
                    self.ep(tt, mach, "usb_connect", device_id=dev, user=p["os_user"],
                            detail="Mass storage" if r.random() < .5 else "MTP phone")
                    self.ep(tt + dt.timedelta(minutes=r.randint(1, 30)), mach, "usb_disconnect", device_id=dev,
                            user=p["os_user"])
                acct = p["account"]
                if p["role"] == "warehouse":
                    acct = "wh_shared" if (r.random() < 0.5 or not acct) else acct
                if not acct:
                    continue
                sess = self.login(sit + dt.timedelta(minutes=1), acct, mach)
                self.logout(leave - dt.timedelta(minutes=r.randint(2, 10)), acct, mach, sess)
                p.setdefault("sessions", []).append((sit, leave, acct, mach))
                self._pid = p["person_id"]
                self.work(p, day, sit, leave, acct, mach, printed)
                self._pid = None
            # apps
            self.app_day(day)
        # monday exports
        for day in self.days:
            if day.isoweekday() == 1 and (self.t("monday_exports")):
                for p in [p for p in self.staff if p["role"] == "manager"][:3]:
                    pr = self.presence.get((p["person_id"], day))
                    if pr:
                        at = pr[0] + dt.timedelta(minutes=self.r.randint(20, 90))
                        rs = self.dtm(day - dt.timedelta(days=7), 0)
                        re = self.dtm(day, 0) - dt.timedelta(seconds=1)
                        self.access(at, p["account"], pr[2], "export_orders", rs=rs, re=re)

    def work(self, p, day, sit, leave, acct, mach, printed):
        r = self.r
        span = (leave - sit).total_seconds() - 1200
        if p["role"] == ROLES_CS:
            n = r.randint(15, 45)
            for _ in range(n):
                at = sit + dt.timedelta(seconds=r.uniform(600, span))
                lo = at - dt.timedelta(days=14)
                cand = self.orders_in(lo, at)
                if cand:
                    if r.random() < 0.3:
                        self.access(at - dt.timedelta(seconds=20), acct, mach, "search")
                    self.access(at, acct, mach, "view_order", oid=r.choice(cand)["order_id"])
        elif p["role"] == "warehouse":
            # print labels for paid orders placed since yesterday not yet printed
            cand = [o for o in self.orders_in(sit - dt.timedelta(days=2), leave)
                    if o["order_id"] not in printed and o["status"] != "cancelled"]
            r.shuffle(cand)
            share = -(-len(cand) // max(1, self._wh_left))
            self._wh_left -= 1
            for o in cand[:share]:
                at = max(o["placed_at"] + dt.timedelta(minutes=10), sit + dt.timedelta(seconds=r.uniform(300, span)))
                if at > leave:
                    continue
                printed.add(o["order_id"])
                self.access(at, acct, mach, "print_label", oid=o["order_id"])
        elif p["role"] in ("manager", "finance"):
            for _ in range(r.randint(2, 10)):
                at = sit + dt.timedelta(seconds=r.uniform(600, span))
                cand = self.orders_in(at - dt.timedelta(days=30), at)
                if cand:
                    self.access(at, acct, mach, "view_order", oid=r.choice(cand)["order_id"])
            if p["role"] == "finance" and day.day in (1, 15):
                at = sit + dt.timedelta(hours=2)
                self.access(at, acct, mach, "export_orders", rs=self.dtm(day - dt.timedelta(days=15), 0),
                            re=self.dtm(day, 0))

    def app_day(self, day):
        r = self.r
        for a in self.apps:
            if a["app_id"] == "APP-ERP":
                for h in range(0, 24, 1 if self.t("erp_pulls") else 2):
                    at = self.dtm(day, h, r.randint(0, 4), r.randint(0, 59))
                    if self.t("app_unranged") and r.random() < 0.2:
                        self.access(at, a["account_id"], None, "api_pull", rows=r.randint(5, 60), ip="47.96.12.8")
                        continue
                    self.access(at, a["account_id"], None, "api_pull", rs=at - dt.timedelta(hours=3), re=at,
                                ip="47.96.12.8")
            elif a["app_id"] == "APP-BI":
                at = self.dtm(day, 3, 10)
                self.access(at, a["account_id"], None, "api_pull", rs=at - dt.timedelta(days=30), re=at,
                            ip="120.55.3.77")
            elif a["app_id"] == "APP-REV":
                at = self.dtm(day, 20, 5)
                # review invites: only delivered orders a few days old, one by one
                for o in self.orders_in(at - dt.timedelta(days=6), at - dt.timedelta(days=5)):
                    if o["status"] == "delivered" and r.random() < 0.3:
                        self.access(at + dt.timedelta(seconds=r.randint(0, 600)), a["account_id"], None,
                                    "api_pull", oid=o["order_id"], ip="101.37.9.14")

    # ------------------------------------------------------------------ row helpers
    def badge(self, at, p, direction, door="main", badge_id=None, result="granted"):
        self.rows["badge"].append(dict(at=at, person_id=p["person_id"] if p else "",
                                       badge_id=badge_id or f"BD{p['person_id'][1:]}", door=door,
                                       direction=direction, result=result))

    def cam(self, s, e, pid, mach, act, note="", ident=None):
        if mach is None:
            cam = "CAM-ENT"
        else:
            cam = self.mbyid[mach]["camera"]
            if cam is None:
                return
        if ident is None:
            ident = self.r.random() < (0.3 if self.t("poor_camera") else 0.85)
        elif ident is not True and self.t("poor_camera"):
            ident = self.r.random() < 0.3
        self.rows["camera"].append(dict(camera_id=cam, start_at=s, end_at=e, person_id=pid if ident else "",
                                        machine_id=mach or "", activity=act, note=note))

    def ep(self, at, mach, kind, device_id="", process="", sha256="", detail="", user=""):
        if mach in self.agentless:
            return
        self.rows["endpoint"].append(dict(at=at, machine_id=mach, kind=kind, device_id=device_id,
                                          process=process, sha256=sha256, detail=detail, user=user))

    def login(self, at, acct, mach, ip=None, action="login"):
        self.sid += 1
        sess = f"S{self.sid:06d}"
        self.rows["logins"].append(dict(at=at, account_id=acct, machine_id=mach or "",
                                        ip=ip or self.mbyid[mach]["lan"], action=action,
                                        session_id=sess))
        return sess

    def logout(self, at, acct, mach, sess, ip=None):
        self.rows["logins"].append(dict(at=at, account_id=acct, machine_id=mach or "",
                                        ip=ip or self.mbyid[mach]["lan"], action="logout", session_id=sess))

    def access(self, at, acct, mach, action, oid="", rs=None, re=None, ip=None, rows=None):
        if action in ("export_orders", "api_pull") and rs is not None:
            exposed = self.orders_in(rs, min(re, at))
            rows = len(exposed) if rows is None else rows
        else:
            exposed = [self.obyid[oid]] if oid else []
        ev = dict(at=at, account_id=acct, machine_id=mach or "", ip=ip or (self.mbyid[mach]["lan"] if mach else ""),
                  action=action, order_id=oid, range_start=rs, range_end=re,
                  rows="" if rows is None else rows, _pid=getattr(self, "_pid", None))
        self.rows["access"].append(ev)
        self.access_events.append((ev, exposed))
        return ev

    # ------------------------------------------------------------------ the leak
    def plant(self):
        v = self.vector
        self.leak = {}  # order_id -> (first leak time, fields)
        self.insiders, self.leak_machines, self.leak_accounts, self.leak_apps = [], [], [], []
        if v == "none":
            self.truth_scenario = "background scam noise only"
            return
        getattr(self, "plant_" + v)()

    def leakday(self, k=0):
        return self.days[self.leak_day + k]

    def mark(self, ev, exposed, fields):
        for o in exposed:
            if o["placed_at"] > ev["at"]:
                continue
            cur = self.leak.get(o["order_id"])
            if cur is None:
                self.leak[o["order_id"]] = (ev["at"], set(fields))
            else:
                cur[1].update(fields)

    FIELDS = {"view_order": ["name", "phone", "address", "item", "amount", "order_id"],
              "print_label": ["name", "phone", "address", "item"],
              "export_orders": ["name", "phone", "address", "item", "amount", "order_id"],
              "api_pull": ["name", "phone", "address", "item", "amount", "order_id"],
              "search": []}

    def trojan_on(self, mach, t0, end):
        """Mark every order that back-office sessions on `mach` touch after t0 as leaked."""
        r = self.r
        sha = "%064x" % r.getrandbits(256)
        proc = r.choice(["svchost32.exe", "WinUpdateHelper.exe", "usbsvc.exe", "MsCtfMonitor.exe"])
        self.ep(t0 + dt.timedelta(seconds=8), mach, "process_start", process=proc, sha256=sha,
                detail="E:\\autorun\\" + proc)
        self.ep(t0 + dt.timedelta(seconds=12), mach, "autorun_added", process=proc, sha256=sha,
                detail="HKCU\\Software\\Microsoft\\Windows\\CurrentVersion\\Run\\" + proc)
        n = 0
        if self.t("av_cleanup"):
            end = min(end, t0 + dt.timedelta(days=r.randint(7, 12), hours=r.randint(0, 8)))
            self.ep(end, mach, "av_alert", process=proc, sha256=sha,
                    detail="Trojan:Win32/Spyloader.B removed")
        for ev, exposed in self.access_events:
            if ev["machine_id"] == mach and t0 <= ev["at"] <= end:
                self.mark(ev, exposed, self.FIELDS[ev["action"]])
                n += 1
        # periodic uploads
        d = t0.date()
        while d < end.date():
            if r.random() < 0.8:
                self.ep(self.dtm(d, r.randint(9, 19), r.randint(0, 59)), mach, "net_upload", process=proc,
                        sha256=sha, detail=f"POST 185.{r.randint(1, 250)}.{r.randint(1, 250)}.9:443 "
                                           f"{r.randint(20, 900)} KB")
            d += dt.timedelta(days=1)
        return n

    def leak_end_time(self):
        return self.dtm(self.days[-1], 23, 59)

    def plant_usb_malware(self):
        r = self.r
        day = self.leakday()
        if self.t("intern_no_account"):
            p = dict(person_id=f"P{len(self.staff) + 1:03d}", name="Xu Xiaomei", role="intern",
                     hired_on=day, left_on=None, shift=None, desk=None, os_user="", early=0,
                     workdays=None, account=None)
            self.staff.append(p)
            self.byid[p["person_id"]] = p
            self.scen = "intern without an account plugs a stick into PCs before hours"
        else:
            # new customer-service hire, first two days
            p = dict(person_id=f"P{len(self.staff) + 1:03d}", name="Zhou Ting", role=ROLES_CS,
                     hired_on=day, left_on=None, shift=None, desk=None, os_user="SHOP\\ting.zhou", early=0,
                     workdays=None, account=None)
            self.staff.append(p)
            self.byid[p["person_id"]] = p
            self.scen = "new customer-service hire plugs a stick into six PCs before work hours"
        self.insiders = [p["person_id"]]
        office = [m["machine_id"] for m in self.machines if m["machine_id"].startswith("PC")]
        wh = [m["machine_id"] for m in self.machines if m["machine_id"].startswith("WH")]
        targets = r.sample(office, 5) + r.sample(wh, 1)
        if self.t("infect_exporter"):
            fin = [q["desk"] for q in self.staff if q["role"] == "finance" and q["desk"]]
            if fin and fin[0] not in targets:
                targets[1] = fin[0]
            # make sure the finance export falls after infection: an extra export on day+3
            fp = next(q for q in self.staff if q["role"] == "finance" and q["desk"])
            for dd in self.days[self.leak_day + 2:self.leak_day + 6]:
                pr = self.presence.get((fp["person_id"], dd))
                if pr:
                    self.access(pr[0] + dt.timedelta(hours=1), fp["account"], pr[2], "export_orders",
                                rs=self.dtm(dd - dt.timedelta(days=10), 0), re=self.dtm(dd, 0))
                    break
        # decidability: if agent missing, keep at least the stick visible somewhere
        if self.t("agent_missing"):
            covered = [m for m in targets if self.mbyid[m]["camera"]]
            if not covered:
                self.mbyid[targets[0]]["camera"] = "CAM-99"
            self.agentless |= set(targets[:2])
        dev = f"{r.choice(['Kingston', 'SanDisk', 'Generic'])}_{r.getrandbits(40):010X}"
        empty_serial = self.t("v11_endpoint") and r.random() < 0.5
        sh, sm = self.bh[0], self.bh[1]
        infected = []
        for k, d in enumerate([day, self.leakday(1)]):
            arrive = self.dtm(d, sh - 2, sm + r.randint(0, 40))
            self.badge(arrive, p, "in")
            self.cam(arrive, arrive + dt.timedelta(minutes=1), p["person_id"], None, "enter", ident=True)
            t = arrive + dt.timedelta(minutes=r.randint(3, 8))
            for m in targets[k * 3:(k + 1) * 3]:
                self.cam(t, t + dt.timedelta(minutes=3), p["person_id"], m, "insert_device",
                         note="plugs a small device into the PC", ident=r.random() < 0.8)
                self.ep(t + dt.timedelta(seconds=30), m, "usb_connect", device_id="" if empty_serial else dev,
                        detail="Mass storage", user=p["os_user"])
                self.ep(t + dt.timedelta(seconds=150), m, "usb_disconnect", device_id="" if empty_serial else dev,
                        user=p["os_user"])
                infected.append((m, t + dt.timedelta(seconds=40)))
                t += dt.timedelta(minutes=r.randint(4, 9))
            self.badge(self.dtm(d, 18, r.randint(0, 30)), p, "out")
            # then she works normally (if she has a desk: spare desk)
            self.cam(self.dtm(d, sh, sm + 5), self.dtm(d, 12), p["person_id"], "SP-03", "at_desk")
        for d in self.days[self.leak_day + 2:]:
            if d.isoweekday() in self.weekdays and r.random() < .9:
                self.badge(self.dtm(d, sh, sm - r.randint(0, 15)), p, "in")
                self.badge(self.dtm(d, 18, r.randint(0, 30)), p, "out")
        for m, t0 in infected:
            self.trojan_on(m, t0, self.leak_end_time())
        self.leak_machines = [m for m, _ in infected]

    def plant_visitor_malware(self):
        r = self.r
        day = self.leakday()
        p = dict(person_id=f"V{r.randint(500, 999)}", name="Sun Hao (candidate)", role="interviewee",
                 hired_on=None, left_on=None, shift=None, desk=None, os_user="", early=0, workdays=None, account=None)
        self.staff.append(p)
        self.byid[p["person_id"]] = p
        self.insiders = [p["person_id"]]
        self.scen = "interview candidate left alone at a PC plugs in a stick"
        arrive = self.dtm(day, r.randint(10, 15), r.randint(0, 50))
        self.badge(arrive, p, "in", badge_id="VISITOR-03")
        self.cam(arrive, arrive + dt.timedelta(minutes=1), p["person_id"], None, "enter", note="visitor badge")
        # left alone at a staff desk PC (interviewer's), or the reception PC
        users = {q["desk"] for q in self.staff if q.get("account") and q.get("desk")}
        office = [m["machine_id"] for m in self.machines if m["machine_id"].startswith("PC") and
                  self.mbyid[m["machine_id"]]["camera"] and
                  (m["machine_id"] in users or self.t("hot_desk"))]
        targets = [r.choice(office)]
        if r.random() < 0.5:
            targets.append(r.choice([x for x in office if x != targets[0]]))
        if self.t("agent_missing"):
            self.agentless.discard(targets[0])
        t = arrive + dt.timedelta(minutes=r.randint(15, 30))
        dev = f"Generic_{r.getrandbits(40):010X}"
        infected = []
        for m in targets:
            self.cam(t, t + dt.timedelta(minutes=6), p["person_id"], m, "at_desk", note="candidate alone at desk")
            self.cam(t + dt.timedelta(minutes=2), t + dt.timedelta(minutes=3), p["person_id"], m, "insert_device",
                     ident=r.random() < 0.7)
            self.ep(t + dt.timedelta(minutes=2, seconds=10), m, "usb_connect", device_id=dev, detail="Mass storage")
            self.ep(t + dt.timedelta(minutes=4), m, "usb_disconnect", device_id=dev)
            infected.append((m, t + dt.timedelta(minutes=2, seconds=20)))
            t += dt.timedelta(minutes=r.randint(8, 15))
        self.badge(t + dt.timedelta(minutes=30), p, "out", badge_id="VISITOR-03")
        for m, t0 in infected:
            self.trojan_on(m, t0, self.leak_end_time())
        self.leak_machines = [m for m, _ in infected]

    def plant_insider_export(self):
        r = self.r
        if self.t("warehouse_photo"):
            return self.plant_warehouse_photo()
        cands = [p for p in self.staff if p["left_on"] is None and p["role"] == ROLES_CS and p["account"]
                 and p["hired_on"] < self.d0]
        p = r.choice(cands)
        self.insiders = [p["person_id"]]
        acct = p["account"]
        self.scen = f"customer-service employee {'mass-views' if self.t('viewer') else 'exports'} orders and sells them"
        if self.t("shared_account"):
            if r.random() < 0.5:
                acct = "cs_shared"
                self.scen += " through the shared cs_shared sub-account"
            else:
                col = r.choice([q for q in self.staff if q["account"] and q["role"] in ("manager", "finance")
                                and q["account"] != "main"])
                acct = col["account"]
                self.scen += f" through colleague {col['person_id']}'s account {acct}"
        elif not self.t("viewer"):
            for a in self.accounts:
                if a["account_id"] == acct:
                    a["can_export"] = True
        self.leak_accounts = [acct]
        ndone = 0
        for d in self.days[self.leak_day:]:
            pr = self.presence.get((p["person_id"], d))
            if not pr:
                continue
            arrive, leave, mach = pr
            if self.t("viewer"):
                # mass viewing in the evening after colleagues left
                t = leave - dt.timedelta(minutes=r.randint(5, 30))
                self.badge(t + dt.timedelta(hours=2, minutes=10), p, "out")
                sess = self.login(t, acct, mach)
                self.cam(t, t + dt.timedelta(hours=2), p["person_id"], mach, "at_desk", note="stays late alone")
                cand = self.orders_in(t - dt.timedelta(days=3), t)
                for o in r.sample(cand, min(len(cand), r.randint(120, 250))):
                    t += dt.timedelta(seconds=r.randint(5, 30))
                    ev = self.access(t, acct, mach, "view_order", oid=o["order_id"])
                    self.mark(ev, [o], self.FIELDS["view_order"])
                self.logout(t + dt.timedelta(minutes=1), acct, mach, sess)
                self.leak_machines = sorted(set(self.leak_machines) | {mach})
            else:
                if ndone >= 6 or r.random() < 0.5:
                    continue
                t = arrive + dt.timedelta(minutes=r.randint(20, 300))
                if acct != p["account"]:
                    sess = self.login(t - dt.timedelta(minutes=1), acct, mach)
                    self.logout(t + dt.timedelta(minutes=4), acct, mach, sess)
                self.cam(t - dt.timedelta(minutes=3), t + dt.timedelta(minutes=6), p["person_id"], mach, "at_desk",
                         ident=True)
                if self.t("bulk_export"):
                    rs = self.dtm(d - dt.timedelta(days=r.randint(4, 8)), 0)
                    re_ = t
                else:
                    back = r.randint(1, 6)
                    rs = self.dtm(d - dt.timedelta(days=back), r.randint(0, 12))
                    re_ = rs + dt.timedelta(hours=r.randint(12, 36))
                ev = self.access(t, acct, mach, "export_orders", rs=rs, re=re_)
                self.mark(ev, self.orders_in(rs, min(re_, t)), self.FIELDS["export_orders"])
                if self.t("export_unranged"):
                    ev["range_start"] = ev["range_end"] = None
                self.ep(t + dt.timedelta(seconds=20), mach, "file_create" if self.t("v11_endpoint") else "process_start",
                        process="EXCEL.EXE", detail=f"C:\\Users\\Downloads\\orders_{d:%m%d}.xlsx", user=p["os_user"])
                ndone += 1
                self.leak_machines = sorted(set(self.leak_machines) | {mach})

    def plant_warehouse_photo(self):
        r = self.r
        whs = [p for p in self.staff if p["left_on"] is None and p["role"] == "warehouse" and p["account"]]
        p = r.choice(whs)
        self.insiders = [p["person_id"]]
        self.scen = "warehouse worker photographs every label he prints and sells the photos"
        self.leak_accounts = [p["account"]]
        start = self.dtm(self.leakday(), 0)
        ms, accts = set(), set()
        for ev, exposed in self.access_events:
            if ev["action"] == "print_label" and ev["at"] >= start and ev.get("_pid") == p["person_id"]:
                self.mark(ev, exposed, ["name", "phone", "address", "item"])
                ms.add(ev["machine_id"])
                accts.add(ev["account_id"])
        self.leak_accounts = sorted(accts)
        for (s, e, a, m) in p.get("sessions", []):
            if s >= start:
                self.cam(s + dt.timedelta(hours=1), s + dt.timedelta(hours=1, minutes=2), p["person_id"], m, "other",
                         note="holds phone over label printer", ident=r.random() < 0.7)
        self.leak_machines = sorted(ms)

    def plant_stale_account(self):
        r = self.r
        p = r.choice(self.former)
        self.insiders = [p["person_id"]]
        acct = p["account"]
        for a in self.accounts:
            if a["account_id"] == acct:
                a["disabled_at"] = None
                if r.random() < 0.5:
                    a["can_export"] = True
        self.scen = "former employee's never-disabled account used from home"
        self.leak_accounts = [acct]
        home = f"{r.choice([58, 110, 183, 222])}.{r.randint(1, 250)}.{r.randint(1, 250)}.{r.randint(2, 250)}"
        if self.t("stale_home_ip"):
            # the same IP (a shared NAT / the home of a current colleague who works remotely) is used legitimately
            col = r.choice([q for q in self.staff if q["left_on"] is None and q["account"] and q["role"] == ROLES_CS])
            for d in self.days:
                if d.isoweekday() in (6, 7) and r.random() < 0.7:
                    t = self.dtm(d, r.randint(10, 20), r.randint(0, 59))
                    s = self.login(t, col["account"], None, ip=home)
                    for _ in range(r.randint(3, 12)):
                        t += dt.timedelta(minutes=r.randint(1, 6))
                        c = self.orders_in(t - dt.timedelta(days=10), t)
                        self.access(t, col["account"], None, "view_order", oid=r.choice(c)["order_id"], ip=home)
                    self.logout(t + dt.timedelta(minutes=3), col["account"], None, s, ip=home)
            self.scen += " (home IP shared with a current colleague working remotely)"
        can_exp = next(a for a in self.accounts if a["account_id"] == acct)["can_export"]
        for d in self.days[self.leak_day:]:
            if r.random() < 0.45:
                continue
            t = self.dtm(d, r.choice([20, 21, 22, 23, 6, 12]), r.randint(0, 59))
            if r.random() < 0.1:
                self.login(t - dt.timedelta(minutes=2), acct, None, ip=home, action="login_failed")
            s = self.login(t, acct, None, ip=home)
            if can_exp and r.random() < 0.5:
                rs = t - dt.timedelta(days=r.randint(2, 5))
                ev = self.access(t + dt.timedelta(minutes=2), acct, None, "export_orders", rs=rs, re=t, ip=home)
                self.mark(ev, self.orders_in(rs, t), self.FIELDS["export_orders"])
            else:
                c = self.orders_in(t - dt.timedelta(days=3), t)
                for o in r.sample(c, min(len(c), r.randint(40, 120))):
                    t += dt.timedelta(seconds=r.randint(4, 25))
                    ev = self.access(t, acct, None, "view_order", oid=o["order_id"], ip=home)
                    self.mark(ev, [o], self.FIELDS["view_order"])
            self.logout(t + dt.timedelta(minutes=2), acct, None, s, ip=home)

    def legit_new_app(self):
        r = self.r
        gd = self.days[self.leak_day + r.randint(-3, 3)]
        app = dict(app_id="APP-CN", account_id="app_cainiao", name="Cainiao smart print",
                   granted_at=self.dtm(gd, 15, 40), revoked_at=None, scopes="orders.read;logistics")
        self.apps.append(app)
        self.accounts.append(dict(account_id=app["account_id"], owner=None, kind="app", can_export=True,
                                  created_at=app["granted_at"], disabled_at=None))
        t = app["granted_at"] + dt.timedelta(minutes=5)
        self.access(t, app["account_id"], None, "api_pull", rs=t - dt.timedelta(days=2), re=t, ip="140.205.1.9")
        while t < self.leak_end_time():
            t2 = t + dt.timedelta(hours=2, minutes=r.randint(0, 5))
            self.access(t2, app["account_id"], None, "api_pull", rs=t, re=t2, ip="140.205.1.9")
            t = t2

    def plant_third_party_app(self):
        r = self.r
        gd = self.leakday()
        app = dict(app_id="APP-FX", account_id="app_fastexpress", name="FastExpress label helper",
                   granted_at=self.dtm(gd, 10, 12), revoked_at=None, scopes="orders.read;orders.read.pii")
        self.apps.append(app)
        self.accounts.append(dict(account_id=app["account_id"], owner=None, kind="app", can_export=True,
                                  created_at=app["granted_at"], disabled_at=None))
        mgr = next(p for p in self.staff if p["role"] == "manager")
        self.scen = "a third-party label app authorized by a manager pulls all orders and resells them"
        self.leak_apps = [app["app_id"]]
        self.leak_accounts = [app["account_id"]]
        ip = f"45.{r.randint(1, 250)}.{r.randint(1, 250)}.{r.randint(2, 250)}"
        t = app["granted_at"] + dt.timedelta(minutes=3)
        def pull(t, rs):
            if self.t("app_unranged"):
                for k, o in enumerate(self.orders_in(rs, t)):
                    ev = self.access(t + dt.timedelta(seconds=k // 5), app["account_id"], None, "api_pull",
                                     oid=o["order_id"], ip=ip)
                    self.mark(ev, [o], self.FIELDS["api_pull"])
            else:
                ev = self.access(t, app["account_id"], None, "api_pull", rs=rs, re=t, ip=ip)
                self.mark(ev, self.orders_in(rs, t), self.FIELDS["api_pull"])
        pull(t, t - dt.timedelta(days=r.randint(3, 7)))
        last = t
        while True:
            t = last + dt.timedelta(hours=r.choice([4, 6, 8, 12]), minutes=r.randint(0, 30))
            if t > self.leak_end_time():
                break
            pull(t, last)
            last = t

    # ------------------------------------------------------------------ complaints
    def make_complaints(self):
        r = self.r
        comps = []
        leaked = sorted(self.leak.items(), key=lambda kv: kv[1][0])
        self.first_complaint = None
        frac = r.uniform(0.03, 0.07)
        if leaked:  # enough leaked buyers complain for the case to be decidable
            frac = max(frac, min(0.6, 14.0 / len(leaked)))
        nleak = 0
        for oid, (t0, fields) in leaked:
            if r.random() > frac:
                continue
            lag = dt.timedelta(days=self.lag_days * r.uniform(0.9, 1.4) if self.t("long_lag") else r.expovariate(1 / 3),
                               hours=r.uniform(1, 20))
            contact = max(t0, self.obyid[oid]["placed_at"]) + lag
            if contact.date() > self.days[-1]:
                continue
            fs = [f for f in fields if r.random() < 0.8] or ["name"]
            if contact > self.dtm(self.days[-1], 23, 59):
                continue
            comps.append((contact, oid, sorted(fs), r.choice(["scam_call", "fake_refund", "fake_refund", "phishing_link"]),
                          True))
            nleak += 1
        if self.vector == "none":
            nnoise = r.randint(25, 60)
        else:
            ratio = r.uniform(2.0, 3.0) if self.t("heavy_noise") else r.uniform(0.1, 0.35)
            nnoise = int(nleak * ratio) + 2
        for _ in range(nnoise):
            o = r.choice(self.orders)
            contact = o["placed_at"] + dt.timedelta(days=r.uniform(1, 30))
            if contact.date() > self.days[-1]:
                contact = self.dtm(self.days[-1], 10) - dt.timedelta(days=r.uniform(0, 10))
            fs = r.choice([[], ["name"], ["phone"], ["name", "phone"], ["item"]])
            comps.append((contact, o["order_id"], fs, r.choice(["scam_call", "phishing_link", "other", "harassment"]),
                          False))
        if self.t("noise_burst"):
            bd = r.randint(3, self.ndays - 4)
            for _ in range(r.randint(20, 40)):
                o = r.choice(self.orders[: len(self.orders) * 3 // 4])
                contact = self.dtm(self.days[bd], 8) + dt.timedelta(hours=r.uniform(0, 72))
                if o["placed_at"] > contact:
                    continue
                comps.append((contact, o["order_id"], r.choice([["name"], ["phone"], ["name", "phone"], []]),
                              "phishing_link", False))
        comps.sort()
        self.n_leak_comp = sum(1 for c in comps if c[4])
        texts = {"scam_call": "Someone called me saying my parcel was lost and asked for a fee.",
                 "fake_refund": "A 'customer service' agent offered a refund and asked me to scan a QR code.",
                 "phishing_link": "Got an SMS with a link to 'confirm my order', looked fake.",
                 "harassment": "Repeated calls from unknown numbers.",
                 "other": "Suspicious message about my order; \"refund\"; please check, <b>urgent</b>"}
        if self.t("gbk"):
            texts = {"scam_call": "有人冒充快递打电话说包裹丢了，要我交费。",
                     "fake_refund": "自称客服说可以退款，让我扫二维码，还知道我的地址！",
                     "phishing_link": "收到短信让我点链接“确认订单”，像是骗子。",
                     "harassment": "陌生号码反复打电话骚扰。",
                     "other": "关于订单的可疑消息，请核实，谢谢"}
        if self.t("messy_text"):
            texts["other"] = '=HYPERLINK("http://evil.example/x","click")\nline two, with "quotes"\r\n<script>alert(1)</script> 😡'
            texts["scam_call"] = 'They knew my name,\naddress and phone!!! ""fake"" courier; order #'
            texts["fake_refund"] = "+1 refund agent 🤬\t(tab) -- DROP TABLE orders; \u202e reversed"
        for i, (contact, oid, fs, cat, is_leak) in enumerate(comps):
            rec = contact + dt.timedelta(hours=r.uniform(1, 60))
            o = self.obyid[oid]
            show_oid = oid if not (self.t("no_order_ids") and r.random() < 0.7) else ""
            if not show_oid and r.random() < 0.5 and self.t("no_order_ids"):
                pass
            self.rows["complaints"].append(dict(
                complaint_id=f"C{i + 1:04d}", buyer_id=o["buyer_id"], order_id=show_oid,
                received_at=rec, category=cat, text=texts[cat],
                contacted_at=contact if r.random() < 0.7 else "", quoted_fields=";".join(fs)))
        if not self.rows["complaints"]:
            raise RuntimeError("no complaints")
        self.opened = max(c["received_at"] for c in self.rows["complaints"]) + dt.timedelta(days=1)

    # ------------------------------------------------------------------ extra noise traits
    def noise(self):
        r = self.r
        office = [m["machine_id"] for m in self.machines]
        its = [p for p in self.staff if p["role"] == "it" and p["left_on"] is None]
        if self.t("it_usb"):
            sticks = [f"Kingston_IT{r.getrandbits(32):08X}" for _ in range(3)]
            for d in self.days:
                if d.isoweekday() not in self.weekdays:
                    continue
                for _ in range(r.randint(2, 8)):
                    m = r.choice(office)
                    it = r.choice(its)
                    t = self.dtm(d, r.randint(7, 18), r.randint(0, 59))
                    if r.random() < 0.3:
                        t = self.dtm(d, 7, r.randint(0, 50))  # early maintenance, before hours
                        self.badge(t - dt.timedelta(minutes=10), it, "in")
                    dev = r.choice(sticks)
                    self.cam(t, t + dt.timedelta(minutes=4), it["person_id"], m, "insert_device",
                             note="IT updating drivers")
                    self.ep(t, m, "usb_connect", device_id=dev, detail="Mass storage", user=it["os_user"])
                    self.ep(t + dt.timedelta(seconds=5), m, "process_start", process="setup.exe",
                            sha256="%064x" % r.getrandbits(256), user=it["os_user"])
                    self.ep(t + dt.timedelta(minutes=r.randint(2, 10)), m, "usb_disconnect", device_id=dev,
                            user=it["os_user"])
        if self.t("av_noise") or r.random() < 0.3:
            bad = set(self.leak_machines)
            for _ in range(r.randint(5, 25)):
                m = r.choice([x for x in office if x not in bad])
                t = self.dtm(r.choice(self.days), r.randint(9, 18), r.randint(0, 59))
                self.ep(t, m, "av_alert", process=r.choice(["keygen.exe", "crack_office.exe", "adware.js"]),
                        sha256="%064x" % r.getrandbits(256), detail=r.choice(["PUA:Win32/Keygen quarantined",
                                                                              "Trojan:JS/Adware blocked"]))
        if self.t("visitor_badges") or self.vector == "visitor_malware":
            k = 0
            for d in self.days:
                if d.isoweekday() not in self.weekdays:
                    continue
                for _ in range(r.randint(0, 3 if self.t("visitor_badges") else 1)):
                    k += 1
                    pid = f"V{k:03d}"
                    role = r.choice(["visitor", "interviewee", "courier", "contractor"])
                    self.staff.append(dict(person_id=pid, name=f"Visitor {k}", role=role, hired_on=None,
                                           left_on=None, shift=None, desk=None, os_user="", early=0,
                                           workdays=None, account=None))
                    t = self.dtm(d, r.randint(9, 16), r.randint(0, 59))
                    vb = f"VISITOR-{r.randint(1, 5):02d}"
                    self.badge(t, dict(person_id=pid), "in", badge_id=vb)
                    self.cam(t, t + dt.timedelta(minutes=1), pid, None, "enter", note="visitor badge")
                    if role in ("interviewee", "contractor") and r.random() < 0.5:
                        m = r.choice(["SP-01", "SP-03"] + office[:3])
                        self.cam(t + dt.timedelta(minutes=10), t + dt.timedelta(minutes=40), pid, m, "at_desk",
                                 note="waiting / interview task")
                    self.badge(t + dt.timedelta(minutes=r.randint(30, 120)), dict(person_id=pid), "out", badge_id=vb)

    # ------------------------------------------------------------------ write
    def fmt_ts(self, v, style):
        if v is None or v == "":
            return ""
        if isinstance(v, dt.date) and not isinstance(v, dt.datetime):
            return v.isoformat()
        v = v.replace(microsecond=0)
        if style == "naive":
            return v.isoformat()
        if style == "space":
            return v.isoformat(sep=" ")
        aware = v.replace(tzinfo=self.tz)
        if style == "local_off":
            return aware.isoformat()
        if style == "utc":
            return aware.astimezone(dt.timezone.utc).isoformat().replace("+00:00", "Z")
        raise ValueError(style)

    def write(self):
        r = self.r
        os.makedirs(self.out, exist_ok=True)
        styles = {}
        for f in self.rows:
            styles[f] = "naive"
        if self.t("mixed_tz"):
            styles.update(logins="local_off", access="utc", endpoint="utc", badge="space", complaints="local_off")
        staff_rows = []
        for p in self.staff:
            row = dict(person_id=p["person_id"], name=p["name"], role=p["role"],
                       hired_on=p["hired_on"] or "", left_on=p["left_on"] or "",
                       shift_start="%02d:%02d" % p["shift"][:2] if p["shift"] else "",
                       shift_end="%02d:%02d" % p["shift"][2:] if p["shift"] else "",
                       desk_machine_id="" if self.t("hot_desk") else (p["desk"] or ""))
            if self.t("v11_endpoint"):
                row["os_users"] = p["os_user"]
            staff_rows.append(row)
        self.rows["staff"] = staff_rows
        self.rows["machines"] = [dict(machine_id=m["machine_id"], location=m["location"],
                                      assigned_person_id="" if self.t("hot_desk") else (m["assigned"] or ""),
                                      camera_id=m["camera"] or "") for m in self.machines]
        self.rows["accounts"] = [dict(account_id=a["account_id"], owner_person_id=a["owner"] or "",
                                      kind=a["kind"], can_export=str(a["can_export"]).lower(),
                                      created_at=a["created_at"], disabled_at=a["disabled_at"] or "")
                                 for a in self.accounts]
        self.rows["orders"] = self.orders
        self.rows["apps"] = [dict(app_id=a["app_id"], account_id=a["account_id"], name=a["name"],
                                  granted_at=a["granted_at"], revoked_at=a["revoked_at"] or "", scopes=a["scopes"])
                             for a in self.apps]
        # camera skew
        for c in self.rows["camera"]:
            c["start_at"] = c["start_at"] + self.cam_offset
            c["end_at"] = c["end_at"] + self.cam_offset
        # sort + ids
        for f, key in [("logins", "at"), ("access", "at"), ("endpoint", "at"), ("badge", "at"), ("camera", "start_at")]:
            self.rows[f].sort(key=lambda x: x[key])
        for i, x in enumerate(self.rows["logins"]):
            x["event_id"] = f"L{i + 1:07d}"
        for i, x in enumerate(self.rows["access"]):
            x["event_id"] = f"A{i + 1:07d}"
        for i, x in enumerate(self.rows["endpoint"]):
            x["event_id"] = f"E{i + 1:07d}"
        for i, x in enumerate(self.rows["camera"]):
            x["sighting_id"] = f"CS{i + 1:06d}"
        if self.t("no_session_ids"):
            for x in self.rows["logins"]:
                x["session_id"] = ""
        if not self.t("v11_endpoint"):
            for x in self.rows["endpoint"]:
                x.pop("user", None)
        # only data up to case open
        for f, key in [("logins", "at"), ("access", "at"), ("endpoint", "at"), ("badge", "at"),
                       ("camera", "start_at"), ("orders", "placed_at")]:
            self.rows[f] = [x for x in self.rows[f] if x[key] <= self.opened + dt.timedelta(hours=2)]
        absent = set()
        empty = set()
        if self.t("optional_absent"):
            if self.vector in ("third_party_app", "none", "insider_export", "stale_account"):
                absent |= {"camera", "badge"} if r.random() < .5 else {"endpoint"}
            if not self.apps or self.vector not in ("third_party_app",):
                if r.random() < 0.5:
                    absent.add("apps")
                else:
                    empty.add("apps")
        parquet = {"access", "orders", "logins"} if self.t("parquet") else set()
        cols = {
            "staff": None, "machines": None, "accounts": None, "apps": ["app_id", "account_id", "name", "granted_at",
                                                                          "revoked_at", "scopes"],
            "orders": ["order_id", "buyer_id", "placed_at", "status", "amount", "buyer_name", "phone", "address", "item"],
            "complaints": ["complaint_id", "buyer_id", "order_id", "received_at", "category", "text", "contacted_at",
                           "quoted_fields"],
            "logins": ["event_id", "at", "account_id", "machine_id", "ip", "action", "session_id"],
            "access": ["event_id", "at", "account_id", "machine_id", "ip", "action", "order_id", "range_start",
                       "range_end", "rows"],
            "camera": ["sighting_id", "camera_id", "start_at", "end_at", "person_id", "machine_id", "activity", "note"],
            "endpoint": ["event_id", "at", "machine_id", "kind", "device_id", "process", "sha256", "detail"] +
                        (["user"] if self.t("v11_endpoint") else []),
            "badge": ["at", "person_id", "badge_id", "door", "direction", "result"],
        }
        for f, rows in self.rows.items():
            if f in absent:
                continue
            if f in empty:
                rows = []
            st = styles.get(f, "naive")
            c = cols.get(f) or list(rows[0].keys())
            out_rows = [[self.fmt_ts(x.get(k), st) if isinstance(x.get(k), (dt.date, dt.datetime))
                         else ("" if x.get(k) is None else str(x.get(k))) for k in c] for x in rows]
            if f in parquet:
                import polars as pl
                pl.DataFrame({k: [row[i] for row in out_rows] for i, k in enumerate(c)},
                             schema={k: pl.Utf8 for k in c}).write_parquet(os.path.join(self.out, f + ".parquet"))
                continue
            buf = io.StringIO()
            w = csv.writer(buf, lineterminator="\r\n" if self.t("crlf_bom") else "\n")
            w.writerow(c)
            if self.t("damaged_rows") and f in ("access", "logins", "endpoint", "badge") and len(out_rows) > 50:
                out_rows = list(out_rows)
                for k in range(3):
                    i = r.randrange(1, len(out_rows))
                    bad = list(out_rows[i])
                    kind = k % 3
                    if kind == 0:
                        bad = bad[:-2]                      # wrong field count
                    elif kind == 1:
                        bad[c.index("at")] = "2025-13-45 25:61:00"   # unparseable timestamp
                    else:                                   # duplicate id, different content
                        bad = list(out_rows[i - 1])
                        bad[-1] = bad[-1] + "x" if bad[-1] else "dup"
                    out_rows.insert(i, bad)
            w.writerows(out_rows)
            enc = "utf-8-sig" if self.t("crlf_bom") else "utf-8"
            if self.t("gbk") and f in ("orders", "complaints", "staff"):
                enc = "gb18030"
            with open(os.path.join(self.out, f + ".csv"), "w", encoding=enc, newline="") as fh:
                fh.write(buf.getvalue())
        # case.toml
        cid = f"IND-{self.vector[:5].upper()}-{self.seed}"
        lines = ["[case]", f'id = "{cid}"', f'title = "Independent case: buyers complain ({self.vector}, seed {self.seed})"',
                 f'timezone = "{self.tzname}"', f'opened_at = "{self.opened.replace(microsecond=0).isoformat()}"', "",
                 "[business_hours]", 'start = "%02d:%02d"' % self.bh[:2], 'end = "%02d:%02d"' % self.bh[2:],
                 f"weekdays = {self.weekdays}", ""]
        if self.t("gbk"):
            for f in ("orders", "complaints", "staff"):
                if f not in parquet:
                    lines += [f"[files.{f}]", 'encoding = "gb18030"', ""]
        if self.t("cam_skew") and "camera" not in absent:
            lines += ["[files.camera]", f'timezone = "{self.tzname}"', 'clock = "unsynchronized"', ""]
        with open(os.path.join(self.out, "case.toml"), "w") as fh:
            fh.write("\n".join(lines))
        # truth
        lim = self.opened + dt.timedelta(hours=2)
        lk = sorted([kv for kv in self.leak.items() if kv[1][0] <= lim and self.obyid[kv[0]]["placed_at"] <= lim],
                    key=lambda kv: kv[1][0])
        self.truth = dict(
            scenario=getattr(self, "scen", "background scam noise only"),
            insider_person_ids=self.insiders, vector=self.vector,
            machine_ids=sorted(self.leak_machines), account_ids=sorted(self.leak_accounts),
            app_ids=sorted(self.leak_apps), leaked_order_ids=[k for k, _ in lk],
            leak_start=self.fmt_ts(lk[0][1][0], "local_off") if lk else None,
            leak_end=self.fmt_ts(max(v[0] for _, v in lk), "local_off") if lk else None,
            traits=sorted(self.T), seed=self.seed,
            camera_offset_min=self.cam_offset.total_seconds() / 60,
            n_complaints=len(self.rows["complaints"]),
            n_leak_complaints=self.n_leak_comp,
            absent_files=sorted(absent),
        )
        with open(os.path.join(self.out, "truth.json"), "w") as fh:
            json.dump(self.truth, fh, indent=1)

    def run(self):
        self.setup()
        self.make_staff()
        self.make_machines()
        self.make_accounts()
        self.make_orders()
        self.simulate()
        self.leak_machines = []
        self.plant()
        if self.t("legit_new_app") and self.vector != "third_party_app":
            self.legit_new_app()
        self.noise()
        self.make_complaints()
        self.write()
        return self.truth


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--vector", required=True, choices=VECTORS)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--trait", action="append", default=[], choices=sorted(TRAITS))
    a = ap.parse_args()
    t = G(a.out, a.vector, a.seed, a.trait).run()
    print(json.dumps({k: (v if not isinstance(v, list) or len(v) < 8 else f"[{len(v)} items]")
                      for k, v in t.items()}))


if __name__ == "__main__":
    main()
