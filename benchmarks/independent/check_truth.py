#!/usr/bin/env python3
"""Sanity-check kept cases: truth ids exist and are unambiguous in the case files."""
import csv, json, os, sys, glob, collections
import polars as pl

def load(case, name):
    for ext in ("csv", "parquet"):
        p = os.path.join(case, f"{name}.{ext}")
        if os.path.exists(p):
            if ext == "parquet":
                return pl.read_parquet(p).to_dicts()
            enc = "utf-8-sig"
            toml = open(os.path.join(case, "case.toml")).read()
            if f"[files.{name}]\nencoding" in toml:
                enc = "gb18030"
            return list(csv.DictReader(open(p, encoding=enc, newline="")))
    return []

bad = 0
for case in sorted(glob.glob(sys.argv[1] if len(sys.argv) > 1 else "cases/*")):
    if not os.path.exists(os.path.join(case, "truth.json")):
        continue
    t = json.load(open(os.path.join(case, "truth.json")))
    staff = collections.Counter(r["person_id"] for r in load(case, "staff"))
    accts = collections.Counter(r["account_id"] for r in load(case, "accounts"))
    orders = {r["order_id"] for r in load(case, "orders")}
    probs = []
    for p in t["insider_person_ids"]:
        if staff[p] != 1:
            probs.append(f"insider {p} appears {staff[p]}x in staff")
    for a in t["account_ids"]:
        if accts[a] != 1:
            probs.append(f"account {a} appears {accts[a]}x")
    dup = [k for k, v in staff.items() if v > 1]
    if dup:
        probs.append(f"duplicate person ids {dup[:5]}")
    dupa = [k for k, v in accts.items() if v > 1]
    if dupa:
        probs.append(f"duplicate account ids {dupa[:5]}")
    miss = [o for o in t["leaked_order_ids"] if o not in orders]
    if miss:
        probs.append(f"{len(miss)} leaked orders not in orders")
    if probs:
        bad += 1
        print(os.path.basename(case), "; ".join(probs))
print("cases with truth problems:", bad)
