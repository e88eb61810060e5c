#!/usr/bin/env python3
"""results.jsonl -> RESULTS.md (tables + every failure)."""
import collections
import json
import os
import sys

HERE = os.environ.get("FORENSICS_INDEPENDENT_WORK", "/tmp/forensics-independent")
import glob
srcs = sys.argv[1:] or [os.path.join(HERE, "results.jsonl")] + sorted(glob.glob(os.path.join(HERE, "results_extra*.jsonl"))) \
    + sorted(glob.glob(os.path.join(HERE, "results_rerun*.jsonl")))
recs = {}
for src in srcs:
    if not os.path.exists(src):
        continue
    for line in open(src):
        r = json.loads(line)
        recs[r["case"]] = r
recs = list(recs.values())
for r in recs:
    if r["status"] in ("fail", "pass") and r["vector"] != "none" and (r.get("n_leak_complaints") or 0) < 8:
        if r["status"] == "fail":
            r["status"] = "undecidable"
notes = {}
if os.path.exists(os.path.join(HERE, "guesses.json")):
    notes = json.load(open(os.path.join(HERE, "guesses.json")))
intro = open(os.path.join(HERE, "RESULTS_intro.md")).read() if os.path.exists(os.path.join(HERE, "RESULTS_intro.md")) else ""


def auto_cause(r, fj):
    """Best guess at why the engine went wrong (heuristic, from truth + findings)."""
    tv, fv = r["truth_vector"], (r.get("f_vector") or {}).get("kind")
    tr = r["traits"]
    c = (fj or {}).get("complaints") or {}
    top = (fj or {}).get("suspects") or []
    ev = " ".join(e.get("summary", "") for e in (top[0].get("evidence") or [])) if top else ""
    g = []
    role = ""
    if top:
        import csv as _csv
        for enc in ("utf-8-sig", "gb18030"):
            try:
                sp = os.path.join(r["path"], "staff.csv")
                if os.path.exists(sp):
                    for row in _csv.DictReader(open(sp, encoding=enc, newline="")):
                        if row["person_id"] == top[0].get("person_id"):
                            role = row["role"]
                break
            except UnicodeDecodeError:
                continue
    wrong_top = top and top[0].get("person_id") not in r.get("truth_insiders", [])
    if wrong_top and role in ("finance", "manager") and "export_orders" in ev:
        g.append(f"blamed a legitimate periodic bulk export by a {role} (finance exports the half-month on the "
                 f"1st/15th, managers every Monday with monday_exports) whose window happens to cover the "
                 f"complained orders; the real path's own evidence was outweighed")
    if fv == "none" and tv != "none":
        if not c.get("spike_start"):
            g.append("engine found no complaint spike and stopped ('complaints show no spike above the background "
                     "rate'); the leak complaints are spread out")
        else:
            g.append("engine saw a spike but found no path beyond chance")
        for t, why in [("long_lag", "long lag between leak and complaints"),
                       ("heavy_noise", "background complaints outnumber leak complaints 2-3x"),
                       ("no_order_ids", "70% of complaints carry only buyer_id and buyers have many orders"),
                       ("noise_burst", "an unrelated phishing wave is the only spike")]:
            if t in tr:
                g.append(why)
    elif g:
        pass
    elif fv == "third_party_app" and tv != "third_party_app":
        g.append("blamed a legitimate app newly authorized the same week the leak started (legit_new_app red "
                 "herring: its pulls cover every new order, like any sync app)")
    elif tv == "visitor_malware" and fv == "usb_malware":
        g.append("found the right machine/device but classified the visitor's stick as staff usb_malware and did "
                 "not name the visitor (visitor badge / interviewee role not linked to the insertion)")
    elif tv == "usb_malware" and fv == "insider_export":
        g.append("the trojan on an infected PC also captured a legitimate bulk export (finance half-month export "
                 "or manager export) made on that PC after infection; the engine blames the exporter")
    elif tv in ("insider_export",) and fv in ("usb_malware", "visitor_malware"):
        g.append("an unrelated USB device (a personal stick/phone, or IT's stick) on the insider's or a nearby PC "
                 "was taken as the malware route although the export rows explain the leak")
    elif tv == "third_party_app" and fv == "insider_export":
        g.append("a legitimate bulk export (finance on the 1st/15th, or a manager's Monday export) was preferred "
                 "over the app's API pulls")
    elif tv == "none" and r.get("false_acc"):
        g.append("accused a person although no path beats chance (see lift/p of the leading vector): a legitimate "
                 "large export (finance half-month export / Monday export) coincides with background complaints")
    elif tv == "insider_export" and fv == "insider_export" and top and r.get("insider_ok") is False and \
            (fj.get("leak_path") or {}).get("accounts") and \
            not set((fj.get("leak_path") or {}).get("accounts")) & set(r["truth_accounts"]):
        g.append(f"engine picked the wrong export path {(fj.get('leak_path') or {}).get('accounts')} "
                 f"instead of {r['truth_accounts']}")
    elif tv == "stale_account" and fv == "insider_export":
        g.append("engine did not treat the account of a person who left (left_on set, disabled_at empty) used from "
                 "outside the office as a stale account")
    if r.get("vector_ok") and r.get("insider_ok") is False:
        import re as _re
        m = _re.search(r"owner of (\S+?),", ev)
        if m and m.group(1) not in r["truth_accounts"]:
            g.append(f"engine followed the wrong account {m.group(1)} (a legitimate exporter/viewer whose rows cover "
                     f"many complained orders) and named its owner")
        elif m:
            g.append("top suspect is the owner of the path's account, but the truth insider used it "
                     "(shared/colleague account)")
        elif "on camera" in ev:
            g.append("attribution fell back to people on camera near the time; the path's account owner / desk "
                     "owner was not preferred (desk without camera, multi-desk camera, hot desk or shared account)")
        else:
            g.append("wrong person ranked first")
    if "shared_account" in tr:
        g.append("trait shared_account: the insider used a shared or a colleague's account")
    if "cam_skew" in tr and r.get("cam_offset"):
        g.append(f"camera clock off by {r['cam_offset']:+.0f} min (engine estimate: {(fj or {}).get('clock_offsets')})")
    return "; ".join(g) or "unclear"


def cell(rs):
    u = sum(r["status"] == "undecidable" for r in rs)
    n = len(rs) - u
    ok = sum(r["status"] == "pass" for r in rs)
    return f"{ok}/{n}" + (f" (+{u}u)" if u else "")


L = ["# Independent case generator: results", "", intro]
vecs = ["usb_malware", "insider_export", "stale_account", "visitor_malware", "third_party_app", "none"]
tot = collections.Counter()
for r in recs:
    tot[r["status"]] += 1
L += [f"Cases run: {len(recs)}; pass {tot['pass']}, fail {tot['fail']}, crash {tot['crash']}, "
      f"generator errors {tot['gen_error']}, undecidable by design {tot['undecidable']} "
      "(fewer than 8 complaints come from leaked orders: not counted as engine failures; marked u).", ""]
# per vector summary
L += ["## Per vector", "", "| vector | cases | pass | vector right | insider first | false accusation | crash |",
      "|---|---|---|---|---|---|---|"]
for v in vecs:
    rs = [r for r in recs if r["vector"] == v]
    if not rs:
        continue
    ran = [r for r in rs if r["status"] in ("pass", "fail")]  # undecidable excluded
    vo = sum(bool(r.get("vector_ok")) for r in ran)
    ins = [r for r in ran if r.get("insider_ok") is not None]
    io = sum(bool(r["insider_ok"]) for r in ins)
    fa = [r for r in ran if r.get("false_acc") is not None]
    fac = sum(bool(r["false_acc"]) for r in fa)
    L.append(f"| {v} | {len(rs)} | {sum(r['status'] == 'pass' for r in rs)} | {vo}/{len(ran)} | "
             f"{f'{io}/{len(ins)}' if ins else '-'} | {f'{fac}/{len(fa)}' if fa else '-'} | "
             f"{sum(r['status'] == 'crash' for r in rs)} |")
L.append("")
# vector x trait
traits = sorted({r["traits"] for r in recs}, key=lambda t: (t != "base", "+" in t, t))
L += ["## Pass rate per vector x trait (pass/cases; a pass = vector right AND insider first when there is one "
      "AND nobody named >= 0.5 when there is none)", "",
      "| trait | " + " | ".join(vecs) + " | all |", "|---|" + "---|" * (len(vecs) + 1)]
for t in traits:
    row = [t]
    for v in vecs:
        rs = [r for r in recs if r["vector"] == v and r["traits"] == t]
        row.append(cell(rs) if rs else "")
    rs = [r for r in recs if r["traits"] == t]
    row.append(cell(rs))
    L.append("| " + " | ".join(row) + " |")
L.append("")
# failures
fails = [r for r in recs if r["status"] not in ("pass", "undecidable")]
groups = collections.defaultdict(list)
for r in fails:
    fp = os.path.join(HERE, "out", r["case"], "findings.json")
    if r["status"] == "crash":
        key = "crash"
    else:
        cause = notes.get(r["case"]) or auto_cause(r, json.load(open(fp)) if os.path.exists(fp) else None)
        key = cause.split(";")[0].split(" (")[0].split(" whose")[0]
        if key.startswith("blamed a legitimate periodic bulk export"):
            key = "blamed a legitimate periodic bulk export (finance 1st/15th or manager)"
        if key.startswith("engine picked the wrong export path"):
            key = "engine picked the wrong export path"
    groups[key].append(r["case"])
L += ["## Failures grouped by likely cause", "", "| likely cause | n | cases |", "|---|---|---|"]
for k, v in sorted(groups.items(), key=lambda kv: -len(kv[1])):
    L.append(f"| {k} | {len(v)} | {', '.join(sorted(v))} |")
L.append("")
und = [r for r in recs if r["status"] == "undecidable"]
L += [f"## Failures ({len(fails)})", "",
      "Each: case path, truth, what findings.json said, likely cause. Case folders are kept on disk "
      "(findings under /work/indep/out/<case>/).", ""]
for r in sorted(fails, key=lambda r: (r["vector"], r["traits"], r["seed"])):
    L.append(f"### {r['case']}  [{r['status']}]")
    L.append(f"- path: `{r['path']}`")
    if r["status"] == "gen_error":
        L.append(f"- generator error: `{r.get('error', '')[-300:]}`")
        L.append("")
        continue
    L.append(f"- truth: vector **{r['truth_vector']}**, insider {r['truth_insiders'] or 'none'}, machines "
             f"{r['truth_machines']}, accounts {r['truth_accounts']}, apps {r['truth_apps']}, "
             f"{r['truth_nleaked']} leaked orders from {r['truth_leak_start']}; complaints {r['n_complaints']} "
             f"({r['n_leak_complaints']} from leaked orders); scenario: {r['scenario']}"
             + (f"; camera offset {r['cam_offset']:+.0f} min" if r.get("cam_offset") else ""))
    if r["status"] == "crash":
        L.append(f"- CRASH rc={r.get('rc')}; stderr tail:")
        L.append("```")
        L.append((r.get("stderr") or "").strip()[-1500:])
        L.append("```")
    else:
        fv = r.get("f_vector") or {}
        L.append(f"- findings: vector **{fv.get('kind')}** ({fv.get('confidence')}); top suspects "
                 f"{r['f_suspects']}; leading vectors "
                 + "; ".join(f"{x['level']}:{x['id']} cov={x['coverage']} lift={x['lift']} p={x['p_value']}"
                             + (f" route={x['route']}" if x.get('route') else "") for x in r["f_vectors"]))
        fp = os.path.join(HERE, "out", r["case"], "findings.json")
        if os.path.exists(fp):
            fj = json.load(open(fp))
            c = fj.get("complaints") or {}
            L.append(f"- engine complaints: total {c.get('total')}, spike {c.get('spike_start')}..{c.get('spike_end')} "
                     f"({c.get('spike_complaints')}), background/day {c.get('background_per_day')}")
            lp = (fj.get("leak_path") or {}).get("rationale") or []
            if lp:
                L.append(f"- engine rationale: {' | '.join(lp[:3])}")
            ro = fj.get("ruled_out") or []
            if ro:
                L.append(f"- engine ruled_out (first 3): {' | '.join(ro[:3])}")
            if fj.get("suspects"):
                ev = fj["suspects"][0].get("evidence") or []
                L.append(f"- top suspect evidence: {' | '.join(e.get('summary', '') for e in ev[:3])}")
        if r.get("f_clock"):
            L.append(f"- clock_offsets: {r['f_clock']}")
        what = []
        if not r.get("vector_ok"):
            what.append("wrong vector")
        if r.get("insider_ok") is False:
            what.append("insider not first")
        if r.get("false_acc"):
            what.append("false accusation")
        L.append(f"- failed on: {', '.join(what)}")
    fp = os.path.join(HERE, "out", r["case"], "findings.json")
    g = notes.get(r["case"]) or (auto_cause(r, json.load(open(fp)) if os.path.exists(fp) else None)
                                 if r["status"] == "fail" else "")
    if g:
        L.append(f"- likely cause: {g}")
    L.append("")
if und:
    L += [f"## Undecidable by design ({len(und)}), not counted", ""]
    for r in und:
        L.append(f"- {r['case']}: only {r.get('n_leak_complaints')} of {r.get('n_complaints')} complaints come from "
                 f"leaked orders; engine said {(r.get('f_vector') or {}).get('kind')}; `{r['path']}`")
    L.append("")
open(os.path.join(HERE, "RESULTS.md"), "w").write("\n".join(L) + "\n")
print(f"{len(recs)} cases, {len(fails)} non-pass")
