#!/usr/bin/env python3
"""Generate the independent case matrix, run `forensics investigate` on each, score, write RESULTS.md.

usage: run.py [--seeds 1,2,3] [--only VECTOR] [--traitset NAME] [--keep-all]
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
# The cases, findings and results go to a work folder outside the repository.
WORK = os.environ.get("FORENSICS_INDEPENDENT_WORK", "/tmp/forensics-independent")
PY = sys.executable
FX = os.path.join(os.path.dirname(sys.executable), "forensics")
sys.path.insert(0, HERE)
import gen  # noqa: E402
import hashlib  # noqa: E402
GEN_SHA = hashlib.sha256(open(os.path.join(HERE, "gen.py"), "rb").read()).hexdigest()[:10]

GENERAL = ["uuid_ids", "hot_desk", "multi_cam", "cam_skew", "big_staff", "long_lag", "heavy_noise",
           "no_order_ids", "erp_pulls", "it_usb", "av_noise", "agent_missing", "monday_exports",
           "visitor_badges", "mixed_tz", "crlf_bom", "optional_absent", "v11_endpoint", "parquet",
           "gbk", "no_session_ids", "messy_text", "tz_dst"]
SPECIFIC = {"insider_export": ["bulk_export", "shared_account", "warehouse_photo", "viewer", "viewer+shared_account",
                               "warehouse_photo+hot_desk"],
            "usb_malware": ["intern_no_account", "intern_no_account+hot_desk"],
            "stale_account": ["stale_home_ip"],
            "visitor_malware": [], "third_party_app": [], "none": []}
COMBOS = ["big_staff+it_usb+cam_skew+multi_cam", "hot_desk+no_order_ids+heavy_noise+long_lag",
          "erp_pulls+monday_exports+av_noise+visitor_badges", "mixed_tz+crlf_bom+v11_endpoint+agent_missing+uuid_ids"]


EXTRA = ["noise_burst", "app_unranged", "av_cleanup", "poor_camera", "av_cleanup+long_lag",
         "poor_camera+hot_desk+v11_endpoint", "tz_dst+mixed_tz+no_session_ids", "gbk+messy_text+parquet"]


EXTRA3 = ["infect_exporter", "legit_new_app", "infect_exporter+legit_new_app"]
EXTRA2 = ["damaged_rows", "export_unranged", "damaged_rows+crlf_bom+gbk"]


def matrix(seeds, only=None, sets=("base", "general", "specific", "combo", "extra")):
    """Ordered seed-major, then trait, then vector, so any prefix covers every vector."""
    out = []
    for s in seeds:
        for v in gen.VECTORS:
            pass
        tsets = []
        if "base" in sets:
            tsets.append("")
        if "general" in sets:
            tsets += GENERAL
        if "specific" in sets:
            tsets += sorted({t for v in SPECIFIC for t in SPECIFIC[v]})
        if "combo" in sets:
            tsets += COMBOS
        if "extra" in sets:
            tsets += EXTRA
        if "extra3" in sets:
            tsets += EXTRA3
        if "extra2" in sets:
            tsets += EXTRA2
        for ts in tsets:
            for v in gen.VECTORS:
                if only and v not in only:
                    continue
                if ts in sum(SPECIFIC.values(), []) and ts not in SPECIFIC[v]:
                    continue
                if ts == "export_unranged" and v != "insider_export":
                    continue
                if "infect_exporter" in ts and v != "usb_malware":
                    continue
                if ts == "legit_new_app" and v == "third_party_app":
                    continue
                out.append((v, ts, s))
    return out


def run_case(v, ts, seed, root, keep_all=False):
    name = f"{v}__{ts.replace('+', '-') or 'base'}__s{seed}"
    case = os.path.join(root, "cases", name)
    outd = os.path.join(root, "out", name)
    shutil.rmtree(case, ignore_errors=True)
    shutil.rmtree(outd, ignore_errors=True)
    traits = [t for t in ts.split("+") if t]
    rec = dict(case=name, vector=v, traits=ts or "base", seed=seed, path=case, gen_sha=GEN_SHA)
    try:
        truth = gen.G(case, v, seed, traits).run()
    except Exception as e:  # generator bug: record and move on
        import traceback
        rec.update(status="gen_error", error=traceback.format_exc()[-800:])
        return rec
    t0 = time.time()
    try:
        p = subprocess.run([FX, "investigate", case, "--out", outd, "--quiet"], capture_output=True, text=True,
                           timeout=120)
        rc, err = p.returncode, p.stderr
    except subprocess.TimeoutExpired as e:
        rc, err = "timeout", (e.stderr or b"").decode(errors="replace") if isinstance(e.stderr, bytes) else str(e.stderr)
    rec["secs"] = round(time.time() - t0, 1)
    fj = os.path.join(outd, "findings.json")
    ins = truth["insider_person_ids"]
    rec.update(truth_vector=v, truth_insiders=ins, truth_machines=truth["machine_ids"],
               truth_accounts=truth["account_ids"], truth_apps=truth["app_ids"],
               truth_nleaked=len(truth["leaked_order_ids"]), truth_leak_start=truth["leak_start"],
               scenario=truth["scenario"], n_complaints=truth["n_complaints"],
               n_leak_complaints=truth["n_leak_complaints"], cam_offset=truth["camera_offset_min"])
    if rc != 0 or not os.path.exists(fj) or "Traceback" in (err or ""):
        rec.update(status="crash", rc=rc, stderr=(err or "")[-2500:])
        return rec
    f = json.load(open(fj))
    kind = (f.get("vector") or {}).get("kind")
    sus = f.get("suspects") or []
    rec["f_vector"] = f.get("vector")
    rec["f_suspects"] = [(s.get("person_id"), s.get("score")) for s in sus[:3]]
    rec["f_vectors"] = [{k: x.get(k) for k in ("level", "id", "coverage", "lift", "p_value", "route")}
                        for x in (f.get("vectors") or [])[:3]]
    rec["f_window"] = f.get("leak_window")
    rec["f_clock"] = f.get("clock_offsets")
    rec["vector_ok"] = kind == v
    if ins:
        rec["insider_ok"] = bool(sus) and sus[0].get("person_id") in ins
        rec["false_acc"] = None
    else:
        rec["insider_ok"] = None
        rec["false_acc"] = any((s.get("score") or 0) >= 0.5 for s in sus)
    ok = rec["vector_ok"] and rec["insider_ok"] is not False and not rec["false_acc"]
    rec["status"] = "pass" if ok else "fail"
    if ok and not keep_all:
        shutil.rmtree(case, ignore_errors=True)
        shutil.rmtree(outd, ignore_errors=True)
        rec["path"] = "(deleted: pass)"
    return rec


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", default="1,2,3")
    ap.add_argument("--only", default="")
    ap.add_argument("--sets", default="base,general,specific,combo,extra")
    ap.add_argument("--results", default=os.path.join(WORK, "results.jsonl"))
    ap.add_argument("--keep-all", action="store_true")
    ap.add_argument("--append", action="store_true")
    ap.add_argument("--cases", default="", help="comma list of case names to (re)run; appended to results")
    a = ap.parse_args()
    os.makedirs(WORK, exist_ok=True)
    seeds = [int(x) for x in a.seeds.split(",")]
    m = matrix(seeds, [x for x in a.only.split(",") if x] or None, a.sets.split(","))
    if a.cases:
        want = set(a.cases.split(","))
        m = []
        for c in want:
            v, ts, s = c.split("__")
            m.append((v, "" if ts == "base" else ts.replace("-", "+"), int(s[1:])))
        a.append = True
    done = set()
    if a.append and os.path.exists(a.results):
        for line in open(a.results):
            done.add(json.loads(line)["case"])
    mode = "a" if a.append else "w"
    with open(a.results, mode) as fh:
        for i, (v, ts, s) in enumerate(m):
            name = f"{v}__{ts.replace('+', '-') or 'base'}__s{s}"
            if name in done and not a.cases:
                continue
            rec = run_case(v, ts, s, WORK, a.keep_all)
            fh.write(json.dumps(rec) + "\n")
            fh.flush()
            print(f"[{i + 1}/{len(m)}] {rec['case']}: {rec['status']}", flush=True)


if __name__ == "__main__":
    main()
