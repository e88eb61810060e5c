#!/usr/bin/env python3
"""Independent synthetic leak-case generator (second generator) for `forensics`.

gen.py OUT --vector V --seed N [--trait T ...]

Writes a case folder per /work/shared/CASE_FORMAT.md (v1 + v1.1) plus truth.json.
Deterministic for (vector, seed, traits). See README.md for the trait list.
"""
import argparse
import csv
import hashlib
import io
import json
import math
import os
import random
import sys
from bisect import bisect_left, bisect_right
from datetime import date, datetime, timedelta, time as dtime, timezone
from zoneinfo import ZoneInfo

VECTORS = ["usb_malware", "insider_export", "stale_account", "visitor_malware",
           "third_party_app", "none"]

TRAITS = {
    "multi_brand": "three brands/shops in one back office; each CS team serves one brand; extra column `shop`",
    "night_shift": "24/7 service: a night CS team (22:00-06:00) logs in, views, plugs phones outside business hours",
    "agency_shared_login": "outsourced CS agency: 4 contractors share ONE sub account from an external IP, no desks",
    "role_accounts": "warehouse uses one shared role account (no owner) on both print stations",
    "dual_accounts": "several staff have two accounts (old + new); both in use",
    "hot_desking": "no assigned desks for CS; people sit at a random free PC each day",
    "reimaged_pc": "a CS PC is reimaged+renamed mid-case; the new name is NOT in machines.csv",
    "vpn_nat": "every login/access (office, VPN, outside) shows the same NAT IP",
    "mobile_app": "managers/CS use a mobile back-office app in the evenings (no machine, carrier IPs)",
    "sales_spike": "a big sale day (x6 orders) with a platform-wide scam wave on its orders (not a leak)",
    "multichannel_dupes": "the same complaint arrives by phone/chat/email: duplicate rows for one order",
    "bad_order_refs": "complaints cite non-existent or mistyped order ids (case, whitespace, full-width, swapped digits)",
    "heavy_buyers": "resellers with 50-200 orders each; their complaints carry no order_id",
    "holiday": "Lunar New Year: office closed 9 days, orders continue, backlog printed afterwards",
    "camera_drift": "camera clock unsynchronized (declared) by 11-29 minutes",
    "camera_down": "cameras down (no rows) for 3 days around the key day",
    "tailgating": "the culprit never badges on the key day (tailgated)",
    "colleague_pc": "insider works at an absent colleague's PC under the colleague's account",
    "slow_leak": "a few orders a day over weeks instead of one burst",
    "old_leak": "complaints start 3-7 weeks after the leak",
    "two_leaks": "a small secondary app leak beside the primary insider leak (truth = primary)",
    "av_false_positives": "antivirus alerts on many innocent PCs (cracked tools, adware)",
    "it_usb": "IT plugs one stick into nearly every PC before hours, installs a tray autorun",
    "nightly_export": "a BI service account exports yesterday's orders every night at 02:xx",
    "auditor_export": "an external auditor makes one full export with a temporary account",
    "tz_offsets": "timestamps with explicit offsets / other per-file time zones (endpoint in UTC)",
    "v10_only": "no v1.1 columns (no endpoint.user, no staff.os_users)",
    "damaged_rows": "malformed rows, unparseable timestamps, duplicate ids, unregistered accounts",
    "gbk_encoding": "orders/complaints in GB18030 with Chinese text; staff.csv with BOM",
    "parquet": "orders/access/logins as Parquet with native datetime columns",
    "usb_no_serial": "USB events carry no device serial",
    "early_birds": "several innocent staff routinely arrive 60-110 minutes before shift",
    "new_hire_wave": "four new CS hires start the same week (onboarding before hours)",
    "visitor_heavy": "many visitors/interviewees, some seated at PCs (accompanied)",
    "no_session_ids": "logins carry no session_id",
    "dst_zone": "shop in Europe/Berlin; the case spans a DST change",
    "exports_no_range": "legit CS/manager exports that name neither range nor order",
    "many_exporters": "every CS account can export and does small legit exports",
    "quiet_malware": "the malware leaves no net_upload/av_alert traces",
    "sparse_complaints": "no contacted_at/quoted_fields; 40% of complaints have no order_id",
    "courier_app_leak": "(third_party_app) the leaking app is the long-trusted logistics app pulling per order",
    "big_case": "15,000 orders",
    "app_full_history": "(third_party_app) the rogue app backfills the whole order history on grant (low lift; onset is the clue)",
    "stale_lookalikes": "two former employees' accounts were never disabled; one is used legitimately by the manager",
    "unsync_no_drift": "camera declared unsynchronized but actually exact",
    "agency_leak": "(insider_export) the export comes through the agency's shared login from the agency IP; truth = any agency contractor",
    "manager_home_exports": "the manager exports the last week's orders from home at night, often",
    "recent_leaver": "(stale_account) the stale account belongs to a CS agent who left DURING the case and used it in office before",
    "batched_complaints": "the platform forwards complaints in weekly batches (received_at = Monday 10:00)",
    "frac_seconds": "timestamps with milliseconds in logins/access/endpoint",
    "crlf_quoted": "CSV files with CRLF line ends and every field quoted",
    "no_badge_camera": "no camera.csv and no badge.csv (optional files absent)",
    "night_insider": "(insider_export) the insider is a night-shift agent exporting during their own shift",
    "insider_views_only": "(insider_export) the insider opens orders one by one (no export action)",
    "usb_noise": "CS agents charge phones over USB most days (camera: insert_device 'plugs phone')",
    "it_insider": "(insider_export) the IT admin is the insider, exporting from the IT room (no camera)",
    "remote_insider": "(insider_export) the insider exports from home in the evening with their own account (no machine)",
    "high_background": "background complaint rate 2.7x higher (platform-wide scam season)",
    "innocent_new_hire_usb": "an innocent new hire plugs a stick into two PCs before hours on day 2 (copies training slides)",
    "visitor_alone_innocent": "an interview candidate left alone at a CS PC charges a phone over USB",
    "empty_optional": "apps.csv and badge.csv present but header-only (no rows)",
    "toml_minimal": "case.toml without weekdays (default: all days) and without title",
    "shuffled_columns": "every table's columns in a random order plus unknown extra columns",
    "all_parquet": "every table as Parquet (native datetime/bool/int columns)",
    "space_ts": "timestamps written with a space instead of 'T'",
    "messy_text": "complaint texts with newlines, quotes, commas, emoji, very long rants",
    "z_suffix": "logins.csv timestamps in UTC with a 'Z' designator",
    "identical_dupes": "1% of access/login rows exported twice, byte-identical (same id, same content)",
    "unregistered_refs": "a night cleaner (not in staff.csv) badges in nightly; endpoint events from a laptop not in machines.csv",
    "login_failed_storm": "credential-stuffing: hundreds of login_failed from outside IPs on many accounts, incl. former staff",
    "cn_account_ids": "Qianniu-style sub-account ids in Chinese ('小美家居:李娜')",
    "no_complaints": "(none) complaints.csv has a header and no rows",
    "stale_login_no_leak": "a former employee's undisabled account logs in once from outside and opens 2 orders",
}

SURN = ["li", "wang", "zhang", "liu", "chen", "yang", "zhao", "huang", "zhou", "wu", "xu", "sun",
        "hu", "zhu", "gao", "lin", "he", "guo", "ma", "luo", "liang", "song", "zheng", "xie"]
GIVN = ["na", "wei", "fang", "min", "jing", "lei", "yang", "jie", "tao", "ming", "chao", "xia",
        "ping", "gang", "hui", "yan", "bo", "dan", "qiang", "juan", "yun", "ting", "hao", "rui"]
CN_S = "李王张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢"
CN_G = "娜伟芳敏静磊洋杰涛明超霞平刚辉燕波丹强娟云婷浩瑞"
CITIES = ["Hangzhou", "Shanghai", "Chengdu", "Wuhan", "Xi'an", "Nanjing", "Shenzhen", "Suzhou"]
CN_CITIES = ["杭州市", "上海市", "成都市", "武汉市", "西安市", "南京市", "深圳市", "苏州市"]


def iso(dt):
    return dt.strftime("%Y-%m-%dT%H:%M:%S")


class Shop:
    def __init__(self, vector, seed, traits):
        assert vector in VECTORS, vector
        for t in traits:
            assert t in TRAITS, f"unknown trait {t}"
        self.vector, self.seed, self.traits = vector, seed, set(traits)
        h = int(hashlib.sha256(f"{vector}|{seed}|{','.join(sorted(traits))}".encode()).hexdigest()[:12], 16)
        self.r = random.Random(h)
        self.T = {k: [] for k in ["staff", "accounts", "machines", "orders", "complaints", "logins",
                                  "access", "camera", "endpoint", "badge", "apps"]}
        self.notes = []

    def has(self, t):
        return t in self.traits

    # ------------------------------------------------------------------ calendar
    def calendar(self):
        r = self.r
        self.tzname = "Asia/Shanghai"
        self.days_n = r.randint(50, 70)
        if self.has("old_leak"):
            self.days_n = r.randint(80, 95)
        if self.has("holiday"):
            self.start = date(2024, 1, 8) + timedelta(days=r.randint(0, 10))
            self.holiday = {date(2024, 2, 9) + timedelta(days=i) for i in range(9)}
        else:
            self.holiday = set()
            if self.has("dst_zone"):
                self.tzname = "Europe/Berlin"
                self.start = r.choice([date(2024, 3, 4), date(2024, 9, 30)]) + timedelta(days=r.randint(0, 6))
            elif self.has("sales_spike"):
                self.start = date(2024, 10, 10) + timedelta(days=r.randint(-5, 5))
            else:
                self.start = date(2024, 3, 1) + timedelta(days=r.randint(0, 150))
        self.days = [self.start + timedelta(days=i) for i in range(self.days_n)]
        self.end = datetime.combine(self.days[-1] + timedelta(days=1), dtime(0, 0))
        self.tz = ZoneInfo(self.tzname)
        self.weekdays = [1, 2, 3, 4, 5, 6]
        self.spike_day = None
        if self.has("sales_spike"):
            cand = date(2024, 11, 11) if self.start <= date(2024, 11, 11) < self.days[-1] else self.days[len(self.days) // 3]
            self.spike_day = cand

    def workday(self, d):
        return d.isoweekday() in self.weekdays and d not in self.holiday

    def dt(self, d, hh, mm=0, ss=0):
        return datetime.combine(d, dtime(0, 0)) + timedelta(hours=hh, minutes=mm, seconds=ss)

    def fix_dst(self, t):
        """Move a naive local time out of a DST gap (keeps cases unambiguous to generate)."""
        if self.tzname == "Asia/Shanghai":
            return t
        a = t.replace(tzinfo=self.tz)
        back = a.astimezone(timezone.utc).astimezone(self.tz).replace(tzinfo=None)
        return back if back != t else t

    # ------------------------------------------------------------------ people
    def people(self):
        r = self.r
        used = set()

        def name():
            while True:
                i, j = r.randrange(len(SURN)), r.randrange(len(GIVN))
                if (i, j) not in used:
                    used.add((i, j))
                    return f"{SURN[i].capitalize()} {GIVN[j].capitalize()}", f"{GIVN[j]}.{SURN[i]}", CN_S[i] + CN_G[j]

        self.staff = {}
        self.pn = 0

        def add(role, hired, left=None, shift=(None, None), desk=None, brand=None):
            self.pn += 1
            pid = f"P{self.pn:03d}"
            nm, osu, cn = name()
            s = dict(person_id=pid, name=nm, role=role, hired_on=hired, left_on=left,
                     shift_start=shift[0], shift_end=shift[1], desk=desk, os_user=f"SHOP\\{osu}",
                     cn=cn, brand=brand, accounts=[], absent=set(), early=False)
            self.staff[pid] = s
            return s

        long_ago = lambda: self.start - timedelta(days=r.randint(200, 1500))
        self.brands = ["TM", "JD", "DY"] if self.has("multi_brand") else ["SH"]
        self.manager = add("manager", long_ago())
        self.it = add("it", long_ago())
        ncs = r.randint(6, 9) + (3 if self.has("multi_brand") else 0)
        self.cs = []
        for i in range(ncs):
            self.cs.append(add("customer_service", long_ago(), brand=self.brands[i % len(self.brands)]))
        # new hires during the case
        nh = (4 if self.has("new_hire_wave") else 1) + (1 if self.has("innocent_new_hire_usb") else 0)
        hire_day = self.days[r.randint(len(self.days) // 6, len(self.days) // 3)]
        if self.has("old_leak"):
            hire_day = self.days[r.randint(3, 8)]
        while not self.workday(hire_day):
            hire_day += timedelta(days=1)
        self.hire_day = hire_day
        self.new_hires = []
        for i in range(nh):
            s = add("customer_service", hire_day, brand=self.brands[i % len(self.brands)])
            self.cs.append(s)
            self.new_hires.append(s)
        if self.has("night_shift") or self.has("night_insider"):
            self.night = [add("customer_service", long_ago(), shift=("22:00", "06:00"), brand=self.brands[0])
                          for _ in range(2)]
        else:
            self.night = []
        self.wh = [add("warehouse", long_ago(), shift=("08:00", "17:00")) for _ in range(3)]
        self.analyst = add("analyst", long_ago()) if self.has("nightly_export") else None
        # former employees
        self.former = [add("customer_service", long_ago(), left=self.start - timedelta(days=r.randint(15, 90)))
                       for _ in range(3)]
        self.agency = []
        if self.has("agency_shared_login") or self.has("agency_leak"):
            self.agency = [add("contractor", self.start - timedelta(days=r.randint(20, 200))) for _ in range(4)]
        self.auditor = add("auditor", self.days[len(self.days) // 2]) if self.has("auditor_export") else None
        nvis = r.randint(2, 4) + (8 if self.has("visitor_heavy") else 0)
        self.visitors = []
        for i in range(nvis):
            d = r.choice([d for d in self.days if self.workday(d)])
            v = add(r.choice(["interviewee", "visitor", "interviewee"]), None)
            v["visit_day"] = d
            self.visitors.append(v)
        # early birds
        if self.has("early_birds"):
            for s in r.sample(self.cs[:-len(self.new_hires)], 3):
                s["early"] = True
        self.stale_person = self.former[0]
        if self.has("recent_leaver") and self.vector == "stale_account":
            lv = self.cs[0]
            lv["left_on"] = self.days[int(len(self.days) * 0.25)]
            self.stale_person = lv
        # absences: each employee misses ~4% of days
        for s in self.cs + self.wh + [self.manager, self.it]:
            for d in self.days:
                if r.random() < 0.04:
                    s["absent"].add(d)

    def machines(self):
        r = self.r
        self.mach = {}
        cams = {}
        m_i = 0
        for k, s in enumerate(self.cs + self.night):
            m_i += 1
            mid = f"PC-{m_i:02d}"
            cam = f"CAM-{chr(65 + (m_i - 1) // 5)}"
            self.mach[mid] = dict(machine_id=mid, location=f"CS room desk {m_i}", assigned=s["person_id"], camera=cam)
            s["desk"] = mid
        for i, s in enumerate(self.wh[:2]):
            mid = f"WH-{i + 1:02d}"
            self.mach[mid] = dict(machine_id=mid, location="warehouse print station", assigned=None, camera="CAM-WH")
        for w in self.wh:
            w["desk"] = None
        self.mach["PC-MGR"] = dict(machine_id="PC-MGR", location="manager office", assigned=self.manager["person_id"], camera="CAM-M")
        self.manager["desk"] = "PC-MGR"
        self.mach["PC-IT"] = dict(machine_id="PC-IT", location="IT room", assigned=self.it["person_id"], camera="")
        self.it["desk"] = "PC-IT"
        # spare desk, visitors are often put there
        self.mach["PC-SPARE"] = dict(machine_id="PC-SPARE", location="meeting corner", assigned=None, camera="CAM-A")
        if self.analyst:
            m_i += 1
            mid = f"PC-{m_i:02d}"
            self.mach[mid] = dict(machine_id=mid, location="BI desk", assigned=self.analyst["person_id"], camera="CAM-M")
            self.analyst["desk"] = mid
            self.mach["SRV-01"] = dict(machine_id="SRV-01", location="server closet", assigned=None, camera="")
        if self.has("hot_desking"):
            for s in self.cs:
                self.mach[s["desk"]]["assigned"] = None
        self.cs_pcs = [s["desk"] for s in self.cs]

    def accounts(self):
        r = self.r
        self.acc = {}

        def add(aid, owner, kind, exp, created, disabled=None):
            self.acc[aid] = dict(account_id=aid, owner=owner["person_id"] if owner else None, kind=kind,
                                 can_export=exp, created_at=created, disabled_at=disabled)
            if owner:
                owner["accounts"].append(aid)
            return aid

        def cr(s):
            return datetime.combine(s["hired_on"] or self.start, dtime(9, 30)) + timedelta(minutes=r.randint(0, 300))

        add("shop_main", self.manager, "main", True, datetime(2019, 5, 2, 10, 0))
        for s in self.cs + self.night:
            local = s["name"].split()[1].lower() + "." + s["name"].split()[0].lower()
            pre = s["brand"].lower() if self.has("multi_brand") else "shop"
            if self.has("cn_account_ids"):
                pre, local = {"shop": "小美家居", "tm": "小美天猫店", "jd": "小美京东店", "dy": "小美抖店"}[pre], s["cn"]
            add(f"{pre}:{local}", s, "sub", self.has("many_exporters") or r.random() < 0.25, cr(s))
        # insider needs export right for insider_export
        if self.has("dual_accounts"):
            for s in r.sample(self.cs[: len(self.cs) - len(self.new_hires)], 3):
                add(f"shop:cs{r.randint(10, 99)}{s['person_id'][-2:]}", s, "sub", False, cr(s) - timedelta(days=400))
        if self.has("role_accounts"):
            self.wh_acc = add("shop:warehouse", None, "sub", False, datetime(2020, 3, 3, 9, 0))
        else:
            for w in self.wh:
                add(f"shop:wh.{w['name'].split()[0].lower()}{w['person_id'][-2:]}", w, "sub", False, cr(w))
        add("shop:it.admin", self.it, "sub", True, cr(self.it))
        for i, f in enumerate(self.former):
            local = f["name"].split()[1].lower() + "." + f["name"].split()[0].lower()
            left = datetime.combine(f["left_on"], dtime(18, 0))
            stale = (self.vector == "stale_account" and i == 0 and not self.has("recent_leaver")) or (self.has("stale_login_no_leak") and i == 2) or (self.has("stale_lookalikes") and i in (1, 2))
            add(f"shop:{local}", f, "sub", True, cr(f), None if stale else left + timedelta(hours=r.randint(1, 72)))
        if self.agency:
            add("shop:agency-cs", None, "sub", False, datetime.combine(min(a["hired_on"] for a in self.agency), dtime(10, 0)))
        if self.analyst:
            add("svc-bi-export", None, "sub", True, datetime(2022, 1, 5, 11, 0))
            add("shop:bi." + self.analyst["name"].split()[0].lower(), self.analyst, "sub", True, cr(self.analyst))
        if self.auditor:
            d = self.auditor["hired_on"]
            while not self.workday(d):
                d += timedelta(days=1)
            self.audit_day = d
            add("audit-tmp", self.auditor, "sub", True, self.dt(d, 9, 40), self.dt(d + timedelta(days=1), 10, 5))
        # apps
        self.apps = {}

        def app(app_id, name, granted, scopes, revoked=None):
            aid = add(f"app:{app_id.lower()}", None, "app", False, granted)
            self.apps[app_id] = dict(app_id=app_id, account_id=aid, name=name, granted_at=granted,
                                     revoked_at=revoked, scopes=scopes)
        app("APP-ERP", "JuShuiTan ERP sync", datetime(2021, 6, 1, 14, 0), "orders.read;inventory.write")
        app("APP-LOGI", "KuaiDi Helper", datetime(2022, 2, 10, 9, 0), "orders.read;shipping.write")
        app("APP-REVIEW", "ReviewBoost", self.dt(self.days[len(self.days) // 4], 15, 12), "orders.read.completed;messages.write")

    # ------------------------------------------------------------------ orders
    def orders(self):
        r = self.r
        n = 15000 if self.has("big_case") else r.randint(2500, 9000)
        w = []
        for d in self.days:
            x = 1.0 + (0.25 if d.isoweekday() >= 6 else 0)
            if d in self.holiday:
                x *= 0.45
            if self.spike_day and d == self.spike_day:
                x *= 6
            w.append(x)
        tot = sum(w)
        orders = []
        buyers = []
        heavy = [f"U{r.randint(1000000, 9999999)}" for _ in range(5)] if self.has("heavy_buyers") else []
        self.heavy = heavy
        hours = [0.3, 0.2, 0.1, 0.1, 0.1, 0.2, 0.4, 0.8, 1.2, 1.6, 1.8, 1.7, 1.5, 1.6, 1.7, 1.6, 1.5, 1.5, 1.6, 1.9, 2.3, 2.6, 2.1, 1.0]
        for di, d in enumerate(self.days):
            k = int(round(n * w[di] / tot * r.uniform(0.8, 1.2)))
            for _ in range(k):
                h = r.choices(range(24), weights=hours)[0]
                t = self.fix_dst(self.dt(d, h, r.randint(0, 59), r.randint(0, 59)))
                if heavy and r.random() < 0.04:
                    b = r.choice(heavy)
                elif buyers and r.random() < 0.22:
                    b = r.choice(buyers)
                else:
                    b = f"U{r.randint(1000000, 9999999)}"
                    buyers.append(b)
                brand = r.choice(self.brands)
                orders.append(dict(placed_at=t, buyer_id=b, brand=brand))
        orders.sort(key=lambda o: o["placed_at"])
        seqs = {}
        for o in orders:
            key = (o["brand"], o["placed_at"].date())
            seqs[key] = seqs.get(key, 0) + 1
            o["order_id"] = f"{o['brand']}{o['placed_at']:%y%m%d}{seqs[key]:05d}{r.randint(0, 9)}"
            o["status"] = r.choices(["completed", "shipped", "paid", "refunded", "cancelled"], [60, 20, 10, 6, 4])[0]
            o["amount"] = round(r.lognormvariate(4.2, 0.8), 2)
            i, j = r.randrange(len(SURN)), r.randrange(len(GIVN))
            o["buyer_name"] = (CN_S[i] + CN_G[j]) if self.has("gbk_encoding") else f"{SURN[i].capitalize()} {GIVN[j].capitalize()}"
            o["phone"] = f"1{r.choice('3578')}{r.randint(0, 9)}{r.randint(10000000, 99999999)}"
            ci = r.randrange(len(CITIES))
            o["address"] = (f"{CN_CITIES[ci]}{r.randint(1, 300)}号" if self.has("gbk_encoding")
                            else f"{r.randint(1, 300)} {r.choice(['Wenyi', 'Jianguo', 'Renmin', 'Zhongshan'])} Rd, {CITIES[ci]}")
        self.O = orders
        self.oid = {o["order_id"]: o for o in orders}
        self.ptimes = [o["placed_at"] for o in orders]
        self.by_brand = {b: [o for o in orders if o["brand"] == b] for b in self.brands}
        self.bt = {b: [o["placed_at"] for o in self.by_brand[b]] for b in self.brands}

    def orders_between(self, a, b, brand=None):
        if brand:
            lst, ts = self.by_brand[brand], self.bt[brand]
        else:
            lst, ts = self.O, self.ptimes
        return lst[bisect_left(ts, a):bisect_right(ts, b)]

    # ------------------------------------------------------------------ events
    def ip_office(self):
        return "203.0.113.10" if self.has("vpn_nat") else f"10.0.{self.r.randint(1, 3)}.{self.r.randint(10, 250)}"

    def ip_outside(self):
        if self.has("vpn_nat"):
            return "203.0.113.10"
        r = self.r
        return f"{r.choice([36, 58, 112, 117, 183, 223])}.{r.randint(0, 255)}.{r.randint(0, 255)}.{r.randint(1, 254)}"

    def login(self, t, acc, mid, ip, sid, action="login"):
        self.T["logins"].append(dict(at=t, account_id=acc, machine_id=mid, ip=ip, action=action, session_id=sid))

    def access(self, t, acc, mid, ip, action, order_id=None, rs=None, re_=None, rows=None):
        self.T["access"].append(dict(at=t, account_id=acc, machine_id=mid, ip=ip, action=action, order_id=order_id,
                                     range_start=rs, range_end=re_, rows=rows))

    def ep(self, t, mid, kind, device=None, process=None, sha=None, detail=None, user=None):
        self.T["endpoint"].append(dict(at=t, machine_id=mid, kind=kind, device_id=device, process=process,
                                       sha256=sha, detail=detail, user=user))

    def cam(self, cam, a, b, pid, mid, act, note=""):
        if not cam:
            return
        self.T["camera"].append(dict(camera_id=cam, start_at=a, end_at=b, person_id=pid, machine_id=mid,
                                     activity=act, note=note))

    def badge(self, t, s, direction, door="main", result="granted"):
        self.T["badge"].append(dict(at=t, person_id=s["person_id"], badge_id=s.get("badge", "B" + s["person_id"][1:]),
                                    door=door, direction=direction, result=result))

    def sid(self):
        self.sn = getattr(self, "sn", 0) + 1
        return None if self.has("no_session_ids") else f"S{self.sn:06d}"

    def session(self, s, acc, mid, t0, t1, views, brand=None, ip=None, lunch=True, exports=0):
        """A work session: login, views/searches on recent orders, logout."""
        r = self.r
        ip = ip or self.ip_office()
        sid = self.sid()
        self.login(t0, acc, mid, ip, sid)
        span = (t1 - t0).total_seconds()
        for _ in range(views):
            t = t0 + timedelta(seconds=r.uniform(60, span - 60))
            if lunch and 12 <= t.hour < 13:
                continue
            lo = t - timedelta(days=4)
            cand = self.orders_between(lo, t, brand)
            if not cand:
                continue
            o = r.choice(cand)
            if r.random() < 0.08:
                self.access(t, acc, mid, ip, "search")
            self.access(t, acc, mid, ip, "view_order", order_id=o["order_id"])
            self.seen[mid].append((t, o["order_id"])) if mid else None
        for _ in range(exports):
            t = t0 + timedelta(seconds=r.uniform(60, span - 60))
            if self.has("exports_no_range") and r.random() < 0.5:
                self.access(t, acc, mid, ip, "export_orders", rows=r.randint(5, 60))
            else:
                a = self.dt(t.date(), 0) if r.random() < 0.5 else t - timedelta(hours=r.randint(2, 8))
                k = len(self.orders_between(a, t, brand))
                self.access(t, acc, mid, ip, "export_orders", rs=a, re_=t, rows=k)
        self.login(t1, acc, mid, ip, sid, "logout")

    def routine(self):
        r = self.r
        self.seen = {m: [] for m in self.mach}
        self.seen["DESKTOP-8K2J4QF"] = []
        proc = [("qianniu.exe", "a3f1"), ("chrome.exe", "b7c2"), ("excel.exe", "c9d3"), ("wechat.exe", "d4e5")]
        self.personal_usb = {s["person_id"]: f"USB-{r.choice(['SANDISK', 'KINGSTON', 'TOSHIBA', 'APPLE-IPHONE', 'HUAWEI-P40'])}-{r.randint(100000, 999999)}"
                             for s in self.staff.values()}
        self.rename_day = self.days[len(self.days) // 2 + r.randint(-3, 3)] if self.has("reimaged_pc") else None
        self.renamed = self.cs_pcs[1] if self.has("reimaged_pc") else None
        self.newname = "DESKTOP-8K2J4QF"  # Windows default name after a reimage
        printed = 0
        for d in self.days:
            wd = self.workday(d)
            # --- day staff
            free = list(self.cs_pcs)
            r.shuffle(free)
            for s in self.cs + [self.manager, self.it] + ([self.analyst] if self.analyst else []):
                if not wd or d in s["absent"] or (s["hired_on"] and s["hired_on"] > d) or (s["left_on"] and d >= s["left_on"]):
                    continue
                if s.get("skip_days") and d in s["skip_days"]:
                    continue
                st = s["shift_start"] or "09:00"
                sh, sm = map(int, st.split(":"))
                arrive = self.dt(d, sh, sm) - timedelta(minutes=r.randint(2, 25))
                if s["early"] and r.random() < 0.7:
                    arrive = self.dt(d, sh, sm) - timedelta(minutes=r.randint(60, 110))
                if s in self.new_hires and d <= self.hire_day + timedelta(days=4) and self.has("new_hire_wave"):
                    arrive = self.dt(d, 7, r.randint(30, 55))  # onboarding before hours
                leave = self.dt(d, 18, 0) + timedelta(minutes=r.randint(0, 45))
                if s.get("late_days") and d in s["late_days"]:
                    leave = s["late_days"][d]
                self.badge(arrive, s, "in")
                self.badge(leave + timedelta(minutes=2), s, "out")
                self.cam("CAM-D", arrive + timedelta(seconds=20), arrive + timedelta(seconds=40),
                         s["person_id"] if r.random() < 0.9 else None, None, "enter")
                self.cam("CAM-D", leave + timedelta(minutes=2), leave + timedelta(minutes=2, seconds=15),
                         s["person_id"] if r.random() < 0.9 else None, None, "leave")
                mid = s["desk"]
                if self.has("hot_desking") and s in self.cs:
                    mid = free.pop() if free else s["desk"]
                if mid == self.renamed and self.rename_day and d >= self.rename_day:
                    mid = self.newname
                cam = self.mach.get(mid, {}).get("camera", "CAM-A") if mid != self.newname else self.mach[self.renamed]["camera"]
                t0 = self.dt(d, sh, sm) + timedelta(minutes=r.randint(-5, 12))
                if s["early"] or s in self.new_hires:
                    t0 = max(arrive + timedelta(minutes=5), t0 - timedelta(minutes=r.randint(0, 40)))
                s.setdefault("day_desk", {})[d] = mid
                self.cam(cam, t0 - timedelta(minutes=1), self.dt(d, 12, r.randint(0, 10)), s["person_id"], mid, "at_desk")
                self.cam(cam, self.dt(d, 13, r.randint(0, 10)), leave - timedelta(minutes=1), s["person_id"], mid, "at_desk")
                self.ep(t0 - timedelta(seconds=30), mid, "logon", user=s["os_user"])
                for p, hsh in r.sample(proc, 3):
                    self.ep(t0 + timedelta(minutes=r.randint(1, 400)), mid, "process_start", process=p,
                            sha=hashlib.sha256(hsh.encode()).hexdigest(), user=s["os_user"])
                if r.random() < (0.6 if self.has("usb_noise") else 0.05):
                    tu = t0 + timedelta(minutes=r.randint(10, 420))
                    if self.has("usb_noise"):
                        self.cam(cam, tu - timedelta(seconds=10), tu + timedelta(seconds=20), s["person_id"], mid, "insert_device", "plugs phone")
                    self.ep(tu, mid, "usb_connect", device=self.personal_usb[s["person_id"]], user=s["os_user"])
                    self.ep(tu + timedelta(minutes=r.randint(1, 40)), mid, "usb_disconnect",
                            device=self.personal_usb[s["person_id"]], user=s["os_user"])
                accs = s["accounts"]
                if not accs:
                    continue
                acc = accs[0] if len(accs) == 1 else r.choice(accs)
                if s is self.manager:
                    self.session(s, acc, mid, t0, leave, r.randint(10, 30), exports=0)
                    y = d - timedelta(days=1)
                    te = self.dt(d, 9, 30) + timedelta(minutes=r.randint(0, 40))
                    if self.has("exports_no_range") and r.random() < 0.3:
                        self.access(te, acc, mid, self.ip_office(), "export_orders", rows=r.randint(50, 400))
                    else:
                        a, b = self.dt(y, 0), self.dt(y, 23, 59, 59)
                        self.access(te, acc, mid, self.ip_office(), "export_orders", rs=a, re_=b,
                                    rows=len(self.orders_between(a, b)))
                    continue
                if s is self.it:
                    self.session(s, acc, mid, t0, leave, r.randint(0, 4))
                    continue
                if s is self.analyst:
                    self.session(s, acc, mid, t0, leave, r.randint(0, 5))
                    continue
                nexp = r.randint(0, 2) if self.has("many_exporters") else 0
                self.session(s, acc, mid, t0, leave, r.randint(25, 70), brand=s["brand"] if self.has("multi_brand") else None,
                             exports=nexp)
            # --- night shift (also works on holidays/weekends: 24/7)
            for s in self.night:
                if d in s["absent"]:
                    continue
                a = self.dt(d, 21, 40 + r.randint(0, 15))
                b = self.dt(d + timedelta(days=1), 6, r.randint(0, 20))
                self.badge(a, s, "in")
                self.badge(b, s, "out")
                self.cam("CAM-D", a, a + timedelta(seconds=20), s["person_id"], None, "enter")
                mid = s["desk"]
                cam = self.mach[mid]["camera"]
                self.cam(cam, a + timedelta(minutes=10), b - timedelta(minutes=5), s["person_id"], mid, "at_desk")
                self.ep(a + timedelta(minutes=9), mid, "logon", user=s["os_user"])
                if r.random() < 0.25:  # phone charging at night
                    tu = a + timedelta(minutes=r.randint(30, 300))
                    self.cam(cam, tu - timedelta(seconds=10), tu + timedelta(seconds=20), s["person_id"], mid, "insert_device", "plugs phone")
                    self.ep(tu, mid, "usb_connect", device=self.personal_usb[s["person_id"]], user=s["os_user"])
                self.session(s, s["accounts"][0], mid, a + timedelta(minutes=10), b - timedelta(minutes=5),
                             r.randint(20, 50), brand=s["brand"] if self.has("multi_brand") else None, lunch=False)
            # --- warehouse prints labels
            if wd:
                wh_today = [w for w in self.wh if d not in w["absent"]] or self.wh[:1]
                for w in wh_today:
                    a = self.dt(d, 7, 40 + r.randint(0, 15))
                    self.badge(a, w, "in")
                    self.badge(self.dt(d, 17, r.randint(5, 30)), w, "out")
                    self.cam("CAM-D", a, a + timedelta(seconds=20), w["person_id"], None, "enter")
                cut = self.dt(d, 16, 0)
                j = bisect_right(self.ptimes, cut)
                todo = [o for o in self.O[printed:j] if o["status"] != "cancelled"]
                printed = j
                wsess = {}
                for k, st in enumerate(["WH-01", "WH-02"]):
                    w = wh_today[k % len(wh_today)]
                    acc = self.wh_acc if self.has("role_accounts") else w["accounts"][0]
                    sid = self.sid()
                    ip = self.ip_office()
                    self.login(self.dt(d, 8, r.randint(0, 20)), acc, st, ip, sid)
                    self.login(self.dt(d, 16, r.randint(40, 59)), acc, st, ip, sid, "logout")
                    self.cam("CAM-WH", self.dt(d, 8, 20), self.dt(d, 16, 40), w["person_id"], st, "at_desk")
                    wsess[st] = (acc, ip)
                tlist = sorted(self.dt(d, 8, 30) + timedelta(seconds=r.uniform(0, 8 * 3600 - 600)) for _ in todo)
                for o, t in zip(todo, tlist):
                    st = r.choice(["WH-01", "WH-02"])
                    acc, ip = wsess[st]
                    self.access(t, acc, st, ip, "print_label", order_id=o["order_id"])
                    self.seen[st].append((t, o["order_id"]))
                    o["printed_at"] = t
                    # logistics app fetches each order when the label is printed
                    self.access(t + timedelta(seconds=r.randint(5, 90)), self.apps["APP-LOGI"]["account_id"], None,
                                "47.96.1.20", "api_pull", order_id=o["order_id"])
            # --- mobile app
            if self.has("mobile_app"):
                for s in [self.manager] + r.sample(self.cs[:4], 2):
                    if r.random() < 0.5 and s["accounts"]:
                        t0 = self.dt(d, r.randint(20, 23), r.randint(0, 59))
                        self.session(s, s["accounts"][0], None, t0, t0 + timedelta(minutes=r.randint(5, 40)), r.randint(1, 8),
                                     ip=self.ip_outside(), lunch=False)
            # --- agency (external, shared login, also weekends)
            if self.agency:
                for a in self.agency:
                    if r.random() < 0.75:
                        h0 = r.choice([8, 10, 14, 19])
                        t0 = self.dt(d, h0, r.randint(0, 59))
                        self.session(a, "shop:agency-cs", None, t0, t0 + timedelta(hours=r.randint(3, 5)), r.randint(20, 50),
                                     ip="121.40.77.8" if not self.has("vpn_nat") else self.ip_outside(), lunch=False)
            # --- BI nightly export
            if self.analyst:
                t = self.fix_dst(self.dt(d, 2, r.randint(0, 20), r.randint(0, 59)))
                y = d - timedelta(days=1)
                a, b = self.dt(y, 0), self.dt(y, 23, 59, 59)
                sid = self.sid()
                self.login(t - timedelta(seconds=5), "svc-bi-export", "SRV-01", "10.0.9.5", sid)
                self.access(t, "svc-bi-export", "SRV-01", "10.0.9.5", "export_orders", rs=a, re_=b,
                            rows=len(self.orders_between(a, b)))
                self.login(t + timedelta(seconds=40), "svc-bi-export", "SRV-01", "10.0.9.5", sid, "logout")
                self.ep(t + timedelta(seconds=50), "SRV-01", "net_upload", process="bi_sync.exe",
                        detail=f"upload to bi.internal 3.{r.randint(1, 9)}MB", user="SHOP\\svc_bi")
            # --- ERP hourly pulls
            for h in range(24):
                t = self.fix_dst(self.dt(d, h, 5, r.randint(0, 59)))
                a = t - timedelta(hours=1)
                self.access(t, self.apps["APP-ERP"]["account_id"], None, "47.97.3.3", "api_pull", rs=a, re_=t,
                            rows=len(self.orders_between(a, t)))
            # --- ReviewBoost pulls completed orders per order
            rb = self.apps["APP-REVIEW"]
            if self.dt(d, 23, 0) > rb["granted_at"]:
                for o in self.orders_between(self.dt(d, 0) - timedelta(days=6), self.dt(d, 0) - timedelta(days=5)):
                    if o["status"] == "completed" and r.random() < 0.6:
                        self.access(self.dt(d, 3, r.randint(0, 59)), rb["account_id"], None, "120.55.2.9", "api_pull",
                                    order_id=o["order_id"])
            # --- IT usb rounds
            if self.has("it_usb") and wd and r.random() < 0.12:
                self.it_round(d)
            # --- av false positives
            if self.has("av_false_positives") and wd:
                for m in r.sample(self.cs_pcs, 2):
                    if r.random() < 0.3:
                        self.ep(self.dt(d, r.randint(9, 17), r.randint(0, 59)), m, "av_alert", process=r.choice(["KMSAuto.exe", "WinRAR_keygen.exe", "2345Pinyin.exe"]),
                                sha=hashlib.sha256(r.choice(["k", "w", "p"]).encode()).hexdigest(),
                                detail=r.choice(["HackTool:Win32/AutoKMS", "PUA:Win32/Keygen", "Adware:Win32/2345"]))
        if self.has("manager_home_exports"):
            acc = self.manager["accounts"][0]
            ip = self.ip_outside()
            for d in self.days:
                if r.random() < 0.35:
                    t = self.dt(d, r.randint(21, 23), r.randint(0, 59))
                    sid = self.sid()
                    self.login(t - timedelta(minutes=1), acc, None, ip, sid)
                    a = self.dt(d - timedelta(days=7), 0)
                    self.access(t, acc, None, ip, "export_orders", rs=a, re_=t, rows=len(self.orders_between(a, t)))
                    self.login(t + timedelta(minutes=6), acc, None, ip, sid, "logout")
        # visitors
        for v in self.visitors:
            d = v["visit_day"]
            host = self.manager
            t = self.dt(d, r.choice([10, 14, 15]), r.randint(0, 50))
            v["visit_at"] = t
            v["badge"] = f"V-TEMP-{r.randint(1, 4)}"
            self.badge(t, v, "in", door="reception")
            self.badge(t + timedelta(minutes=r.randint(40, 90)), v, "out", door="reception")
            self.cam("CAM-D", t, t + timedelta(seconds=30), v["person_id"], None, "enter", f"with {host['name']}")
            if self.has("visitor_heavy") and r.random() < 0.5:
                m = "PC-SPARE"
                self.cam("CAM-A", t + timedelta(minutes=5), t + timedelta(minutes=35), v["person_id"], m, "at_desk",
                         f"written test, {host['name']} present")
        # auditor
        if self.auditor:
            d = self.audit_day
            t = self.dt(d, 10, 12)
            self.auditor["badge"] = "V-AUDIT"
            self.badge(t - timedelta(minutes=20), self.auditor, "in", door="reception")
            self.badge(self.dt(d, 16, 40), self.auditor, "out", door="reception")
            sid = self.sid()
            self.login(t, "audit-tmp", "PC-MGR", self.ip_office(), sid)
            a = self.dt(self.days[0], 0)
            te = self.dt(d, 10, 31)
            self.access(te, "audit-tmp", "PC-MGR", self.ip_office(), "export_orders", rs=a, re_=te,
                        rows=len(self.orders_between(a, te)))
            self.login(self.dt(d, 11, 2), "audit-tmp", "PC-MGR", self.ip_office(), sid, "logout")
            self.cam("CAM-M", t - timedelta(minutes=2), self.dt(d, 11, 5), self.auditor["person_id"], "PC-MGR", "at_desk",
                     "external auditor, manager present")
        # stale lookalike: the manager uses a former colleague's account to check old tickets, in office
        if self.has("stale_lookalikes"):
            f = self.former[1]
            acc = f["accounts"][0]
            for k in range(3):
                d = r.choice([d for d in self.days if self.workday(d)])
                t0 = self.dt(d, 14, r.randint(0, 50))
                self.session(self.manager, acc, "PC-MGR", t0, t0 + timedelta(minutes=20), r.randint(2, 6))

    def innocent_extras(self):
        r = self.r
        if self.has("innocent_new_hire_usb"):
            s = self.new_hires[-1]
            d = self.hire_day + timedelta(days=1)
            while not self.workday(d):
                d += timedelta(days=1)
            t = self.dt(d, 7, r.randint(30, 45))
            self.badge(t - timedelta(minutes=4), s, "in")
            dev = None if self.has("usb_no_serial") else f"USB-SANDISK-{r.randint(100000, 999999)}"
            for m in [s["desk"], r.choice([x for x in self.cs_pcs if x != s["desk"]])]:
                cam = self.mach[m]["camera"]
                self.cam(cam, t - timedelta(seconds=20), t + timedelta(minutes=3), s["person_id"], m, "insert_device", "copies training slides")
                self.ep(t, m, "usb_connect", device=dev, user=s["os_user"])
                self.ep(t + timedelta(seconds=30), m, "process_start", process="POWERPNT.EXE", sha=hashlib.sha256(b"ppt").hexdigest(), user=s["os_user"])
                self.ep(t + timedelta(minutes=2), m, "usb_disconnect", device=dev, user=s["os_user"])
                t += timedelta(minutes=r.randint(4, 9))
        if self.has("visitor_alone_innocent"):
            v = self.visitors[-1]
            d = v["visit_day"]
            t = self.dt(d, 12, r.randint(10, 30))
            m = r.choice(self.cs_pcs)
            cam = self.mach[m]["camera"]
            self.cam(cam, t - timedelta(minutes=2), t + timedelta(minutes=15), v["person_id"], m, "at_desk", "candidate waiting alone")
            self.cam(cam, t, t + timedelta(seconds=30), v["person_id"], m, "insert_device", "charging phone")
            dev = None if self.has("usb_no_serial") else f"USB-XIAOMI-{r.randint(100000, 999999)}"
            self.ep(t + timedelta(seconds=5), m, "usb_connect", device=dev, user=self.staff[self.mach[m]["assigned"]]["os_user"] if self.mach[m]["assigned"] else "")
            self.ep(t + timedelta(minutes=12), m, "usb_disconnect", device=dev)
            self.badge(t - timedelta(minutes=20), dict(v, badge="V-TEMP-1"), "in", door="reception")
        if self.has("stale_login_no_leak"):
            f = self.former[2]
            d = self.days[r.randint(len(self.days) // 3, len(self.days) - 5)]
            t = self.dt(d, 20, r.randint(0, 59))
            ip = self.ip_outside()
            self.session(f, f["accounts"][0], None, t, t + timedelta(minutes=9), 2, ip=ip, lunch=False)

    def more_extras(self):
        r = self.r
        if self.has("unregistered_refs"):
            cl = dict(person_id="P900", badge="B-CLEAN-1")
            for d in self.days:
                if self.workday(d):
                    t = self.dt(d, 21, r.randint(0, 30))
                    self.badge(t, cl, "in", door="side")
                    self.badge(t + timedelta(minutes=r.randint(50, 90)), cl, "out", door="side")
                    self.cam("CAM-D", t, t + timedelta(seconds=20), "P900", None, "enter", "cleaner")
            for d in r.sample(self.days, 8):
                t = self.dt(d, r.randint(10, 16), r.randint(0, 59))
                self.ep(t, "LAPTOP-TMP01", "usb_connect", device=None if self.has("usb_no_serial") else "USB-SEAGATE-EXT-77", user="SHOP\\guest")
                self.ep(t + timedelta(minutes=1), "LAPTOP-TMP01", "process_start", process="explorer.exe", user="SHOP\\guest")
        if self.has("login_failed_storm"):
            accs = [a for a in self.acc if not a.startswith("app:")]
            for d in r.sample(self.days, 6):
                t = self.dt(d, r.randint(0, 23), r.randint(0, 59))
                for k in range(r.randint(40, 90)):
                    self.login(t + timedelta(seconds=7 * k), r.choice(accs), None, self.ip_outside() if not self.has("vpn_nat") else "203.0.113.10",
                               None, "login_failed")

    def it_round(self, d):
        r = self.r
        dev = "USB-KINGSTON-IT0001" if not self.has("usb_no_serial") else None
        t = self.dt(d, 7, r.randint(20, 40))
        self.badge(t - timedelta(minutes=3), self.it, "in", door="side")
        for m in r.sample(self.cs_pcs, max(3, len(self.cs_pcs) - 2)):
            t += timedelta(minutes=r.randint(2, 5))
            cam = self.mach[m]["camera"]
            self.cam(cam, t - timedelta(seconds=30), t + timedelta(minutes=2), self.it["person_id"], m, "insert_device",
                     "IT updating printer driver")
            self.ep(t, m, "usb_connect", device=dev, user=self.it["os_user"])
            self.ep(t + timedelta(seconds=20), m, "process_start", process="E:\\drivers\\setup.exe",
                    sha=hashlib.sha256(b"drv").hexdigest(), user=self.it["os_user"])
            self.ep(t + timedelta(seconds=50), m, "autorun_added", process="C:\\Program Files\\HP\\HPTray.exe",
                    sha=hashlib.sha256(b"hptray").hexdigest(), detail="HKLM Run: HPTray", user=self.it["os_user"])
            self.ep(t + timedelta(seconds=90), m, "usb_disconnect", device=dev, user=self.it["os_user"])

    # ------------------------------------------------------------------ leaks
    def pick_day(self, lo=0.2, hi=0.45):
        r = self.r
        if self.has("old_leak"):
            lo, hi = 0.08, 0.2
        ds = [d for d in self.days[int(len(self.days) * lo):int(len(self.days) * hi) + 1] if self.workday(d)]
        return r.choice(ds)

    def infect(self, person, machines, t, visitor=False):
        """USB trojan planted at time t on machines; returns leak exposure dict order->time."""
        r = self.r
        dev = f"USB-GENERIC-{r.randint(10000000, 99999999):X}" if not self.has("usb_no_serial") else None
        mal = r.choice(["C:\\Users\\Public\\svch0st.exe", "C:\\ProgramData\\WinUpdate\\wuauclt64.exe", "C:\\Windows\\Temp\\msdtc_svc.exe"])
        sha = hashlib.sha256(f"mal{self.seed}".encode()).hexdigest()
        self.infected = {}
        for m in machines:
            cam = self.mach[m]["camera"] if m in self.mach else ""
            owner = self.mach[m]["assigned"]
            user = self.staff[owner]["os_user"] if owner and owner in self.staff else ""
            ident = person["person_id"] if (r.random() < 0.8 or m == machines[0]) else None
            note = "" if ident else "new face, dark jacket"
            if visitor:
                note = "candidate waiting alone"
                self.cam(cam, t - timedelta(minutes=1), t + timedelta(minutes=6), ident, m, "at_desk", note)
            self.cam(cam, t - timedelta(seconds=20), t + timedelta(seconds=40), ident, m, "insert_device", note)
            self.ep(t, m, "usb_connect", device=dev, user=user)
            self.ep(t + timedelta(seconds=12), m, "process_start", process="E:\\photos.exe", sha=sha, user=user)
            self.ep(t + timedelta(seconds=15), m, "autorun_added", process=mal, sha=sha, detail="HKCU Run: WindowsUpdateCheck", user=user)
            self.ep(t + timedelta(seconds=60), m, "usb_disconnect", device=dev, user=user)
            self.infected[m] = t
            t += timedelta(minutes=r.randint(2, 6))
        return mal, sha

    def malware_exposure(self, mal, sha):
        r = self.r
        exp = {}
        for m, t0 in self.infected.items():
            # a reimaged PC is clean again: exposure (and beaconing) stops at the rename day
            stop = datetime.combine(self.rename_day, dtime(0)) if (m == self.renamed and self.rename_day) else self.end
            for (t, oid) in self.seen.get(m, []):
                if t0 < t < stop and (oid not in exp or exp[oid] > t):
                    exp[oid] = t
            if not self.has("quiet_malware"):
                d = t0.date()
                while datetime.combine(d, dtime(0)) < stop:
                    if r.random() < 0.6:
                        tt = self.dt(d, r.randint(10, 17), r.randint(0, 59))
                        if tt > t0:
                            self.ep(tt, m, "net_upload",
                                    process=mal.split("\\")[-1], sha=sha, detail=f"POST 185.{r.randint(1, 250)}.{r.randint(1, 250)}.7:443 {r.randint(40, 900)}KB")
                    d += timedelta(days=1)
                self.ep(t0 + timedelta(days=r.randint(5, 15), hours=1), m, "av_alert", process=mal.split("\\")[-1], sha=sha,
                        detail="Trojan:Win32/Agent.gen (quarantine failed)")
        return exp

    def leak(self):
        r = self.r
        v = self.vector
        truth = dict(insider_person_ids=[], machine_ids=[], account_ids=[], app_ids=[])
        exp = {}
        fields = "name;phone;address;item;order_id"
        if v == "usb_malware":
            ins = self.new_hires[0]
            d = self.hire_day + timedelta(days=r.randint(1, 3))
            while not self.workday(d) or d in ins["absent"]:
                d += timedelta(days=1)
            t = self.dt(d, 7, r.randint(0, 25))
            if not self.has("tailgating"):
                self.badge(t - timedelta(minutes=3), ins, "in")
            self.cam("CAM-D", t - timedelta(minutes=2), t - timedelta(minutes=1, seconds=30), ins["person_id"], None, "enter")
            others = [m for m in self.cs_pcs if m != ins["desk"]]
            ms = r.sample(others, r.randint(3, 4))
            mal, sha = self.infect(ins, ms, t)
            exp = self.malware_exposure(mal, sha)
            truth.update(insider_person_ids=[ins["person_id"]], machine_ids=ms)
            self.key_day = d
            self.scen = f"new CS hire {ins['person_id']} plants a USB trojan on {len(ms)} PCs at {t:%H:%M} on {d}"
        elif v == "visitor_malware":
            vis = self.visitors[0]
            d = self.pick_day()
            vis["visit_day"] = d
            # rewrite that visitor's badge/camera rows
            self.T["badge"] = [b for b in self.T["badge"] if b["person_id"] != vis["person_id"]]
            self.T["camera"] = [c for c in self.T["camera"] if c["person_id"] != vis["person_id"]]
            vis["role"] = "interviewee"
            t = self.dt(d, r.choice([12, 17]), r.randint(5, 25)) if r.random() < 0.5 else self.dt(d, 12, r.randint(5, 30))
            self.badge(t - timedelta(minutes=15), dict(vis, badge="V-TEMP-2"), "in", door="reception")
            self.badge(t + timedelta(minutes=50), dict(vis, badge="V-TEMP-2"), "out", door="reception")
            if not self.has("tailgating"):
                pass
            self.cam("CAM-D", t - timedelta(minutes=14), t - timedelta(minutes=13), vis["person_id"], None, "enter", f"with {self.manager['name']}")
            # left alone at an empty desk during lunch (desk owner away)
            m = r.choice(self.cs_pcs)
            ms = [m] + ([r.choice([x for x in self.cs_pcs if x != m])] if r.random() < 0.3 else [])
            mal, sha = self.infect(vis, ms, t, visitor=True)
            exp = self.malware_exposure(mal, sha)
            truth.update(insider_person_ids=[vis["person_id"]], machine_ids=ms)
            self.key_day = d
            self.scen = f"interview candidate {vis['person_id']} left alone plugs a stick into {ms} at {t:%H:%M} on {d}"
        elif v == "insider_export":
            cands = [s for s in self.cs if s not in self.new_hires]
            ins = r.choice(cands)
            if self.has("night_insider"):
                ins = self.night[0]
            if self.has("it_insider"):
                ins = self.it
            if self.has("agency_leak"):
                ins = self.agency[0]
                self.acc["shop:agency-cs"]["can_export"] = True
            acc = ins["accounts"][0] if ins["accounts"] else "shop:agency-cs"
            self.acc[acc]["can_export"] = True
            d = self.pick_day()
            self.key_day = d
            mid = ins["desk"]
            used_acc = acc
            if self.has("colleague_pc"):
                col = r.choice([s for s in cands if s is not ins])
                col["absent"].add(d)
                # colleague really absent that day: drop their rows for that day
                self._drop_person_day(col, d)
                mid = col.get("day_desk", {}).get(d) or col["desk"]
                used_acc = col["accounts"][0]
                self.acc[used_acc]["can_export"] = True
                truth["account_ids"] = [used_acc]
            else:
                truth["account_ids"] = [acc]
            n_ev = 1 if not self.has("slow_leak") else r.randint(12, 25)
            cur = d
            brand = ins["brand"] if (self.has("multi_brand") and ins.get("brand")) else None
            if self.has("agency_leak"):
                mid, used_acc = None, "shop:agency-cs"
                truth["account_ids"] = [used_acc]
            for k in range(n_ev):
                while not self.workday(cur) or (cur in ins["absent"] and not self.has("colleague_pc")):
                    cur += timedelta(days=1)
                if datetime.combine(cur, dtime(20)) >= self.end:
                    break
                when = r.choice(["lunch", "evening", "early"])
                if self.has("colleague_pc"):
                    when = "lunch"
                if self.has("agency_leak"):
                    when = "evening"
                t = {"lunch": self.dt(cur, 12, r.randint(10, 40)), "evening": self.dt(cur, 19, r.randint(0, 50)),
                     "early": self.dt(cur, 7, r.randint(30, 55))}[when]
                if self.has("night_insider"):
                    t = self.dt(cur + timedelta(days=1), r.randint(2, 4), r.randint(0, 59))
                    when = "night"
                if self.has("remote_insider"):
                    t = self.dt(cur, r.randint(21, 22), r.randint(0, 59))
                    when, mid = "home", None
                if when == "evening" and not self.has("agency_leak"):
                    ins.setdefault("late_days", {})[cur] = t + timedelta(minutes=10)
                if when == "early":
                    self.badge(t - timedelta(minutes=8), ins, "in", door="side")
                if n_ev == 1:
                    a = t - timedelta(days=r.randint(12, 25))
                else:
                    a = t - timedelta(days=1)
                a = self.dt(a.date(), 0)
                sid = self.sid()
                ip = self.ip_office() if not (self.has("agency_leak") or self.has("remote_insider")) else self.ip_outside() if self.has("remote_insider") else ("121.40.77.8" if not self.has("vpn_nat") else self.ip_outside())
                self.login(t - timedelta(minutes=2), used_acc, mid, ip, sid)
                if self.has("insider_views_only"):
                    cand = self.orders_between(a, t, brand)
                    pick = r.sample(cand, min(len(cand), r.randint(80, 200) if n_ev == 1 else r.randint(10, 25)))
                    for j, o in enumerate(pick):
                        tt = t + timedelta(seconds=6 * j)
                        self.access(tt, used_acc, mid, ip, "view_order", order_id=o["order_id"])
                        exp.setdefault(o["order_id"], tt)
                else:
                    k_rows = len(self.orders_between(a, t, brand))
                    self.access(t, used_acc, mid, ip, "export_orders", rs=a, re_=t, rows=k_rows)
                self.login(t + timedelta(minutes=3), used_acc, mid, ip, sid, "logout")
                if self.has("agency_leak"):
                    for o in self.orders_between(a, t, brand):
                        exp.setdefault(o["order_id"], t)
                    cur += timedelta(days=r.randint(1, 3))
                    continue
                cam = self.mach[mid]["camera"] if mid in self.mach else ""
                self.cam(cam, t - timedelta(minutes=3), t + timedelta(minutes=4), ins["person_id"], mid, "at_desk",
                         "" if not self.has("colleague_pc") else "at colleague's desk during lunch")
                if not self.has("v10_only") and mid:
                    self.ep(t - timedelta(minutes=2, seconds=30), mid, "logon", user=ins["os_user"])
                if mid:
                  self.ep(t + timedelta(minutes=1), mid, "file_create" if not self.has("v10_only") else "process_start",
                        process="excel.exe", detail=f"C:\\Users\\Public\\Downloads\\orders_{cur:%m%d}.xlsx", user=ins["os_user"])
                if not self.has("insider_views_only"):
                    for o in self.orders_between(a, t, brand):
                        exp.setdefault(o["order_id"], t)
                cur += timedelta(days=r.randint(1, 3))
            truth.update(insider_person_ids=[ins["person_id"]], machine_ids=[mid] if mid else [])
            if self.has("agency_leak"):
                truth["insider_person_ids"] = [a["person_id"] for a in self.agency]
                self.notes.append("agency_leak: shared login, any agency contractor counts as the insider")
            fields = "name;phone;address;item;amount;order_id"
            self.scen = f"{ins['person_id']} exports orders from {mid} ({n_ev} exports) starting {d}"
        elif v == "stale_account":
            f = self.stale_person
            acc = f["accounts"][0]
            d = self.pick_day() if f is self.former[0] else self.pick_day(0.3, 0.5)
            self.key_day = d
            n_ev = r.randint(2, 4) if not self.has("slow_leak") else r.randint(15, 30)
            cur = d
            ip = self.ip_outside()
            for k in range(n_ev):
                if datetime.combine(cur, dtime(23)) >= self.end:
                    break
                t = self.fix_dst(self.dt(cur, r.choice([21, 22, 23, 0, 1]), r.randint(0, 59)))
                sid = self.sid()
                self.login(t - timedelta(minutes=1), acc, None, ip, sid)
                if r.random() < 0.6 or self.has("slow_leak"):
                    a = self.dt((t - timedelta(days=r.randint(1, 10) if not self.has("slow_leak") else 1)).date(), 0)
                    self.access(t, acc, None, ip, "export_orders", rs=a, re_=t, rows=len(self.orders_between(a, t)))
                    for o in self.orders_between(a, t):
                        exp.setdefault(o["order_id"], t)
                else:
                    cand = self.orders_between(t - timedelta(days=5), t)
                    for j, o in enumerate(r.sample(cand, min(len(cand), r.randint(60, 150)))):
                        tt = t + timedelta(seconds=5 * j)
                        self.access(tt, acc, None, ip, "view_order", order_id=o["order_id"])
                        exp.setdefault(o["order_id"], tt)
                self.login(t + timedelta(minutes=r.randint(5, 25)), acc, None, ip, sid, "logout")
                cur += timedelta(days=r.randint(1, 4))
            truth.update(insider_person_ids=[f["person_id"]], account_ids=[acc])
            fields = "name;phone;address;item;amount;order_id"
            self.scen = f"former employee {f['person_id']} (left {f['left_on']}) uses undisabled {acc} from outside from {d}"
        elif v == "third_party_app":
            if self.has("courier_app_leak"):
                app = self.apps["APP-LOGI"]
                d = self.pick_day()
                self.key_day = d
                t0 = self.dt(d, 0)
                for row in self.T["access"]:
                    if row["account_id"] == app["account_id"] and row["at"] >= t0 and row["order_id"]:
                        exp.setdefault(row["order_id"], row["at"])
                self.scen = f"the long-trusted logistics app {app['app_id']} leaks the orders it pulls from {d}"
            else:
                d = self.pick_day(0.4, 0.6) if not self.has("app_full_history") else self.pick_day()
                self.key_day = d
                g = self.dt(d, 16, r.randint(0, 59))
                aid = "APP-GROW"
                self.acc["app:growth"] = dict(account_id="app:growth", owner=None, kind="app", can_export=False, created_at=g,
                                              disabled_at=None)
                self.apps[aid] = app = dict(app_id=aid, account_id="app:growth", name="SalesBoost Pro (free trial)", granted_at=g,
                                            revoked_at=None, scopes="orders.read;buyer.read")
                # backfill 7 days, then pulls every 2h
                a = g - timedelta(days=1) if not self.has("app_full_history") else self.dt(self.days[0], 0)
                t = g + timedelta(minutes=3)
                self.access(t, "app:growth", None, "8.210.33.4", "api_pull", rs=a, re_=t, rows=len(self.orders_between(a, t)))
                last = t
                while True:
                    t = last + timedelta(hours=2, minutes=r.randint(-10, 10))
                    if t >= self.end:
                        break
                    self.access(t, "app:growth", None, "8.210.33.4", "api_pull", rs=last, re_=t, rows=len(self.orders_between(last, t)))
                    last = t
                for o in self.orders_between(a, self.end):
                    exp.setdefault(o["order_id"], max(o["placed_at"], g))
                self.scen = f"newly authorised app {aid} granted {g} pulls all orders"
            truth.update(app_ids=[app["app_id"]], account_ids=[app["account_id"]])
            fields = "name;phone;address;item;amount;order_id"
        else:
            self.key_day = self.days[len(self.days) // 2]
            self.scen = "background complaints only; no leak"
        # secondary leak (two_leaks): small app leak, not the truth vector
        self.secondary = {}
        if self.has("two_leaks") and v not in ("none", "third_party_app"):
            d2 = self.days[int(len(self.days) * 0.6)]
            rb = self.apps["APP-REVIEW"]
            for row in self.T["access"]:
                if row["account_id"] == rb["account_id"] and row["at"].date() >= d2:
                    self.secondary[row["order_id"]] = row["at"]
            self.notes.append("two_leaks: secondary leak via APP-REVIEW (fewer complaints); truth is the primary leak")
        self.truth = truth
        self.exp = exp
        self.fields = fields

    def _drop_person_day(self, s, d):
        pid = s["person_id"]
        self.T["badge"] = [b for b in self.T["badge"] if not (b["person_id"] == pid and b["at"].date() == d)]
        self.T["camera"] = [c for c in self.T["camera"] if not (c["person_id"] == pid and c["start_at"].date() == d)]
        accs = set(s["accounts"])
        drop_oids = set()
        keep = []
        for a in self.T["access"]:
            if a["account_id"] in accs and a["at"].date() == d:
                continue
            keep.append(a)
        self.T["access"] = keep
        self.T["logins"] = [l for l in self.T["logins"] if not (l["account_id"] in accs and l["at"].date() == d)]
        m = s.get("day_desk", {}).get(d)
        self.T["endpoint"] = [e for e in self.T["endpoint"] if not (e.get("user") == s["os_user"] and e["at"].date() == d)]
        if m:
            self.seen[m] = [(t, o) for (t, o) in self.seen[m] if t.date() != d]

    # ------------------------------------------------------------------ complaints
    def complaints(self):
        r = self.r
        rows = []
        texts = ["Someone called me pretending to be customer service and knew my order",
                 "Got a fake refund call, they knew my address and what I bought",
                 "Received SMS with a phishing link mentioning my order number",
                 "Caller said my parcel was lost and asked for bank card",
                 "harassing calls after I ordered from you!!! <script>alert(1)</script>",
                 "Scammer knew my name, phone and the amount I paid; said order ; DROP TABLE orders;--"]
        if self.has("messy_text"):
            texts = ["He said \"I'm from your shop\", knew my name,\nmy phone and my address 😡😡",
                     "Line one\r\nline two, with commas, and \"quotes\"\n\n-- sent from my phone 📱",
                     "x" * 3000 + " scam call",
                     "=HYPERLINK(\"http://evil\",\"click\") fake refund agent",
                     "null", "NaN", "\t tabbed\ttext \u200b zero-width"]
        cn_texts = ["有人冒充客服给我打电话，知道我的订单", "骗子说要退款，知道我的地址和买的东西", "收到钓鱼短信，里面有我的订单号"]

        def mk(o, contacted, cat, fields, buyer=None):
            rec = contacted + timedelta(hours=r.uniform(2, 96))
            if rec >= self.end:
                return None
            row = dict(buyer_id=buyer or o["buyer_id"], order_id=o["order_id"] if o else None, received_at=rec,
                       category=cat, text=r.choice(cn_texts if self.has("gbk_encoding") else texts),
                       contacted_at=contacted, quoted_fields=fields)
            if o and (o["buyer_id"] in self.heavy or (self.has("sparse_complaints") and r.random() < 0.4)
                      or r.random() < 0.1):
                row["order_id"] = None
            if self.has("sparse_complaints"):
                row["contacted_at"] = None
                row["quoted_fields"] = None
            elif r.random() < 0.2:
                row["contacted_at"] = None
            return row

        # leak complaints
        leaked = list(self.exp.keys())
        leaked.sort()
        r.shuffle(leaked)
        target = r.randint(20, 45)
        lagmin, lagmax = (24 * 21, 24 * 50) if self.has("old_leak") else (6, 24 * 12)
        got = []
        for oid in leaked:
            if len(got) >= target:
                break
            o = self.oid[oid]
            t = max(self.exp[oid], o["placed_at"]) + timedelta(hours=r.uniform(lagmin, lagmax))
            row = mk(o, t, r.choice(["scam_call", "scam_call", "fake_refund", "phishing_link"]), self.fields)
            if row:
                got.append(oid)
                rows.append(row)
        self.complained_leaked = got
        # secondary leak complaints (fewer)
        for oid in list(self.secondary)[: 0] + r.sample(list(self.secondary), min(len(self.secondary), max(4, target // 4))):
            o = self.oid[oid]
            row = mk(o, self.secondary[oid] + timedelta(hours=r.uniform(6, 200)), "scam_call", "name;phone;item;order_id")
            if row:
                rows.append(row)
        # background
        base = 0.004 if self.has("high_background") else 0.0015
        for o in self.O:
            p = base * (2.5 if (self.spike_day and o["placed_at"].date() == self.spike_day) else 1)
            if r.random() < p:
                row = mk(o, o["placed_at"] + timedelta(hours=r.uniform(12, 24 * 20)),
                         r.choice(["scam_call", "harassment", "other", "phishing_link", "fake_refund"]),
                         r.choice(["name;phone", "phone", "name;phone;item", "", "name;phone;address"]))
                if row:
                    rows.append(row)
        # complaints with no order at all
        for _ in range(r.randint(1, 4)):
            o = r.choice(self.O)
            row = mk(None, o["placed_at"] + timedelta(days=2), "other", "phone", buyer=f"U{r.randint(1000000, 9999999)}")
            if row:
                rows.append(row)
        if self.has("multichannel_dupes"):
            extra = []
            for row in r.sample(rows, len(rows) // 3):
                for _ in range(r.randint(1, 2)):
                    x = dict(row)
                    x["received_at"] = row["received_at"] + timedelta(hours=r.uniform(0.5, 48))
                    x["text"] = r.choice(["[phone] " , "[email] ", "[app chat] "]) + row["text"]
                    if x["received_at"] < self.end:
                        extra.append(x)
            rows += extra
        if self.has("bad_order_refs"):
            for row in r.sample(rows, max(3, len(rows) // 6)):
                oid = row["order_id"]
                if not oid:
                    continue
                k = r.randrange(4)
                if k == 0:
                    row["order_id"] = oid.lower()
                elif k == 1:
                    row["order_id"] = f" {oid} "
                elif k == 2:
                    row["order_id"] = oid[:-3] + oid[-2] + oid[-3] + oid[-1]  # swapped digits
                else:
                    row["order_id"] = "".join(chr(ord(c) + 0xFEE0) if c.isalnum() else c for c in oid)  # full-width
            for _ in range(3):
                rows.append(dict(buyer_id=f"U{r.randint(1000000, 9999999)}", order_id=f"{self.brands[0]}99{r.randint(10**9, 10**10)}",
                                 received_at=self.end - timedelta(days=r.randint(2, 20)), category="scam_call",
                                 text="I think my order number is this one", contacted_at=None, quoted_fields="phone"))
        if self.has("batched_complaints"):
            for row in rows:
                d = row["received_at"].date()
                nm = d + timedelta(days=(7 - d.weekday()) % 7 or 7)
                b = self.dt(nm, 10, 0)
                if b < self.end:
                    row["received_at"] = b
        rows.sort(key=lambda x: x["received_at"])
        for i, row in enumerate(rows):
            row["complaint_id"] = f"C{i + 1:05d}"
        if self.has("no_complaints") and self.vector == "none":
            rows = []
        self.T["complaints"] = rows

    # ------------------------------------------------------------------ write
    def build(self):
        self.calendar()
        self.people()
        self.machines()
        self.accounts()
        self.orders()
        self.routine()
        self.innocent_extras()
        self.more_extras()
        self.leak()
        self.complaints()
        # camera down days
        if self.has("camera_down"):
            k = self.key_day
            down = {k - timedelta(days=1), k, k + timedelta(days=1)}
            self.T["camera"] = [c for c in self.T["camera"] if c["start_at"].date() not in down]
            self.notes.append(f"cameras down {min(down)}..{max(down)}")
        # strength of the order-level signal a human would see: complained orders inside the leaked set
        ids = [c["order_id"] for c in self.T["complaints"] if c["order_id"] in self.oid]
        n, k = len(set(ids)), len(set(ids) & set(self.exp))
        f = len(self.exp) / max(1, len(self.O))
        lp = None
        if 0 < f < 1 and n:
            terms = [math.lgamma(n + 1) - math.lgamma(j + 1) - math.lgamma(n - j + 1) + j * math.log(f) + (n - j) * math.log(1 - f)
                     for j in range(k, n + 1)]
            m = max(terms)
            lp = round((m + math.log(sum(math.exp(t - m) for t in terms))) / math.log(10), 1)
        self.truth["signal"] = dict(leaked_frac=round(f, 3), complained_orders=n, in_leaked=k,
                                    lift=round(k / n / f, 2) if n and f else None, log10_p=lp)
        lk = sorted(self.exp.values())
        c = [x for x in self.T["complaints"]]
        self.truth.update(
            scenario=self.scen, vector=self.vector,
            leaked_order_ids=sorted(self.exp.keys()),
            leak_start=self.aware(lk[0]) if lk else None,
            leak_end=self.aware(lk[-1]) if lk else None,
            traits=sorted(self.traits), seed=self.seed, notes=self.notes,
            complained_leaked_orders=len(self.complained_leaked),
            complaints_total=len(c),
        )

    def aware(self, t):
        return t.replace(tzinfo=self.tz).isoformat()

    def fmt_time(self, t, fname):
        if t is None:
            return ""
        if isinstance(t, date) and not isinstance(t, datetime):
            return t.isoformat()
        if fname == "camera":
            t = t + self.cam_offset
        if self.has("frac_seconds") and fname in ("logins", "access", "endpoint"):
            t = t + timedelta(milliseconds=(hash((t.toordinal(), t.second, t.minute)) % 997))
        if self.has("tz_offsets"):
            if fname == "endpoint":  # file declared UTC, naive
                return t.replace(tzinfo=self.tz).astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S" + (".%f" if t.microsecond and self.has("frac_seconds") else ""))
            if not self.has("frac_seconds"):
                t = t.replace(microsecond=0)
            if fname == "access":
                return t.replace(tzinfo=self.tz).isoformat()
            if fname == "badge":
                return t.replace(tzinfo=self.tz).astimezone(timezone.utc).isoformat()
            if fname == "logins":
                return t.replace(tzinfo=self.tz).astimezone(ZoneInfo("Asia/Tokyo")).isoformat()
        if self.has("z_suffix") and fname == "logins":
            return t.replace(tzinfo=self.tz).astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        if t.microsecond and self.has("frac_seconds"):
            return t.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3]
        if self.has("space_ts"):
            return t.strftime("%Y-%m-%d %H:%M:%S")
        return iso(t)

    def write(self, out):
        r = self.r
        os.makedirs(out, exist_ok=True)
        self.cam_offset = timedelta(0)
        if self.has("camera_drift"):
            self.cam_offset = timedelta(minutes=r.choice([-1, 1]) * r.randint(11, 29), seconds=r.randint(0, 59))
            self.truth["camera_offset"] = str(self.cam_offset.total_seconds()) + "s"
        v11 = not self.has("v10_only")
        case_id = f"IND2-{self.vector[:4].upper()}-{self.seed}"
        toml = [
            "[case]", f'id = "{case_id}"', f'title = "Buyer scam complaints ({self.vector} seed {self.seed})"',
            f'timezone = "{self.tzname}"', f'opened_at = "{iso(self.end + timedelta(hours=10))}"', "",
            "[business_hours]", 'start = "09:00"', 'end = "18:00"', f"weekdays = {self.weekdays}", "",
        ]
        if self.has("camera_drift") or self.has("unsync_no_drift"):
            toml += ["[files.camera]", 'clock = "unsynchronized"', ""]
        if self.has("tz_offsets"):
            toml += ["[files.endpoint]", 'timezone = "UTC"', "", "[files.badge]", 'timezone = "America/New_York"', ""]
        if self.has("gbk_encoding"):
            toml += ["[files.orders]", 'encoding = "gb18030"', "", "[files.complaints]", 'encoding = "gb18030"', ""]
        if self.has("toml_minimal"):
            toml = [l for l in toml if not l.startswith("weekdays") and not l.startswith("title")]
        with open(os.path.join(out, "case.toml"), "w") as f:
            f.write("\n".join(toml))
        T = {}
        T["staff"] = ([dict(person_id=s["person_id"], name=(s["cn"] if self.has("gbk_encoding") else s["name"]), role=s["role"],
                            hired_on=s["hired_on"], left_on=s["left_on"], shift_start=s["shift_start"], shift_end=s["shift_end"],
                            desk_machine_id=(s["desk"] if not (self.has("hot_desking") and s in self.cs) else None),
                            **({"os_users": s["os_user"] + (";" + s["os_user"].split("\\")[1] if r.random() < 0.3 else "")} if v11 else {}))
                       for s in self.staff.values()], None)
        T["accounts"] = ([dict(account_id=a["account_id"], owner_person_id=a["owner"], kind=a["kind"],
                               can_export="true" if a["can_export"] else "false", created_at=a["created_at"],
                               disabled_at=a["disabled_at"]) for a in self.acc.values()], None)
        T["machines"] = ([dict(machine_id=m["machine_id"], location=m["location"], assigned_person_id=m["assigned"],
                               camera_id=m["camera"]) for m in self.mach.values()], None)
        T["orders"] = ([dict(order_id=o["order_id"], buyer_id=o["buyer_id"], placed_at=o["placed_at"], status=o["status"],
                             amount=o["amount"], buyer_name=o["buyer_name"], phone=o["phone"], address=o["address"],
                             **({"shop": o["brand"]} if self.has("multi_brand") else {})) for o in self.O], None)
        T["complaints"] = (self.T["complaints"], ["complaint_id", "buyer_id", "order_id", "received_at", "category", "text",
                                                  "contacted_at", "quoted_fields"])
        for name, prefix, key in [("logins", "L", "at"), ("access", "A", "at"), ("endpoint", "E", "at"), ("badge", None, "at"),
                                  ("camera", "V", "start_at")]:
            rows = sorted(self.T[name], key=lambda x: x[key])
            if prefix:
                idk = {"camera": "sighting_id"}.get(name, "event_id")
                for i, row in enumerate(rows):
                    row[idk] = f"{prefix}{i + 1:07d}"
            if name == "endpoint":
                for row in rows:
                    if not v11:
                        row.pop("user", None)
                        if row["kind"] in ("file_create", "logoff", "network", "other", "login_failed"):
                            row["kind"] = "process_start"
                    elif self.has("damaged_rows"):
                        pass
            T[name] = (rows, None)
        T["apps"] = ([dict(app_id=a["app_id"], account_id=a["account_id"], name=a["name"], granted_at=a["granted_at"],
                           revoked_at=a["revoked_at"], scopes=a["scopes"]) for a in self.apps.values()], None)
        pq = {"orders", "access", "logins"} if self.has("parquet") else set()
        if self.has("all_parquet"):
            pq = set(T)
        for name, (rows, cols) in T.items():
            if not cols:
                cols = list(rows[0].keys()) if rows else []
                for row in rows:
                    for k in row:
                        if k not in cols:
                            cols.append(k)
            if self.has("no_badge_camera") and name in ("badge", "camera"):
                continue
            if self.has("empty_optional") and name in ("apps", "badge"):
                rows = []
            if self.has("shuffled_columns"):
                cols = list(cols) + ["remark", "exported_by_tool"]
                r.shuffle(cols)
            if name in pq:
                self.write_parquet(out, name, rows, cols)
            else:
                self.write_csv(out, name, rows, cols)
        with open(os.path.join(out, "truth.json"), "w") as f:
            json.dump(self.truth, f, indent=1, default=str)

    TIMECOLS = {"at", "placed_at", "received_at", "contacted_at", "start_at", "end_at", "created_at", "disabled_at",
                "granted_at", "revoked_at", "range_start", "range_end", "hired_on", "left_on"}

    def write_parquet(self, out, name, rows, cols):
        import polars as pl
        data = {}
        for c in cols:
            vals = [row.get(c) for row in rows]
            if c in ("hired_on", "left_on"):
                data[c] = pl.Series(c, vals, dtype=pl.Date)
            elif c in self.TIMECOLS:
                if name == "camera":
                    vals = [v + self.cam_offset if v else None for v in vals]
                if self.has("tz_offsets"):
                    vals = [v.replace(tzinfo=self.tz).astimezone(timezone.utc) if v else None for v in vals]
                    data[c] = pl.Series(c, vals, dtype=pl.Datetime("us", "UTC"))
                else:
                    data[c] = pl.Series(c, vals, dtype=pl.Datetime("us"))
            elif c == "rows":
                data[c] = pl.Series(c, vals, dtype=pl.Int64)
            elif c == "can_export":
                data[c] = pl.Series(c, [v if isinstance(v, bool) else (v == "true") for v in vals], dtype=pl.Boolean)
            elif c == "amount":
                data[c] = pl.Series(c, vals, dtype=pl.Float64)
            else:
                data[c] = pl.Series(c, [None if v is None else str(v) for v in vals], dtype=pl.Utf8)
        pl.DataFrame(data).write_parquet(os.path.join(out, name + ".parquet"))

    def write_csv(self, out, name, rows, cols):
        r = self.r
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n", quoting=csv.QUOTE_ALL if self.has("crlf_quoted") else csv.QUOTE_MINIMAL)
        w.writerow(cols)
        lines_rows = []
        for row in rows:
            vals = []
            for c in cols:
                v = row.get(c)
                if c in self.TIMECOLS:
                    v = self.fmt_time(v, name)
                elif v is None:
                    v = ""
                vals.append(v)
            w.writerow(vals)
        text = buf.getvalue()
        if self.has("damaged_rows") and name in ("access", "logins", "endpoint", "complaints", "camera") and rows:
            lines = text.split("\n")
            hdr, body = lines[0], [l for l in lines[1:] if l]
            n = len(body)
            dam = []
            # wrong field count
            dam.append(body[r.randrange(n)] + ",EXTRA,FIELD")
            # unparseable timestamp
            parts = next(csv.reader([body[r.randrange(n)]]))
            ti = [i for i, c in enumerate(cols) if c in self.TIMECOLS][0]
            parts[ti] = r.choice(["2024-13-45 25:61:00", "yesterday 3pm", "31/02/2024 10:00"])
            if cols[0] in ("event_id", "sighting_id", "complaint_id"):
                parts[0] = parts[0] + "X"
            dam.append(",".join('"%s"' % p.replace('"', '""') if ("," in p or '"' in p) else p for p in parts))
            # duplicate id with different content
            if cols[0] in ("event_id", "sighting_id", "complaint_id"):
                parts = next(csv.reader([body[r.randrange(n)]]))
                for i, c in enumerate(cols):
                    if c in ("ip", "note", "detail", "text"):
                        parts[i] = "tampered"
                dam.append(",".join('"%s"' % p.replace('"', '""') if ("," in p or '"' in p) else p for p in parts))
            # unregistered account (valid row)
            if name in ("access", "logins"):
                parts = next(csv.reader([body[r.randrange(n)]]))
                parts[cols.index("account_id")] = "shop:tmp_test"
                if cols[0] == "event_id":
                    parts[0] = "Z" + parts[0]
                dam.append(",".join(parts))
            for dl in dam:
                body.insert(r.randrange(n), dl)
            text = hdr + "\n" + "\n".join(body) + "\n"
            self.truth.setdefault("damage", {})[name] = len(dam)
        if self.has("identical_dupes") and name in ("access", "logins"):
            lines = text.split("\n")
            body = [l for l in lines[1:] if l]
            for i in sorted(r.sample(range(len(body)), len(body) // 100), reverse=True):
                body.insert(i + 1, body[i])
            text = lines[0] + "\n" + "\n".join(body) + "\n"
        if self.has("crlf_quoted"):
            text = text.replace("\n", "\r\n")
        enc = "utf-8"
        if self.has("gbk_encoding") and name in ("orders", "complaints"):
            enc = "gb18030"
        elif self.has("gbk_encoding") and name == "staff":
            enc = "utf-8-sig"
        with open(os.path.join(out, name + ".csv"), "w", encoding=enc, newline="") as f:
            f.write(text)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out")
    ap.add_argument("--vector", required=True, choices=VECTORS)
    ap.add_argument("--seed", type=int, required=True)
    ap.add_argument("--trait", action="append", default=[], help="repeatable; see --list-traits")
    ap.add_argument("--list-traits", action="store_true")
    a = ap.parse_args(argv)
    if a.list_traits:
        for k, v in TRAITS.items():
            print(f"{k:22s} {v}")
        return
    s = Shop(a.vector, a.seed, a.trait)
    s.build()
    s.write(a.out)
    print(json.dumps({"out": a.out, "orders": len(s.O), "complaints": len(s.T["complaints"]),
                      "complained_leaked": len(s.complained_leaked), "leaked": len(s.exp), "access": len(s.T["access"])}))


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--list-traits":
        main(["x", "--vector", "none", "--seed", "0", "--list-traits"])
    else:
        main()
