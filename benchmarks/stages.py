"""Where one investigation spends its time and memory, step by step.

Wraps the steps :func:`forensics.investigate.investigate` calls, runs
what ``forensics investigate`` runs on one case (imports, ``load``,
``investigate``, findings.json written to a temporary folder), and prints
each step's total wall
time, how often it ran, the peak RSS while it ran (sampled every 50 ms) and
the RSS when it was first entered, with the CPU seconds of the process
(all threads) spent in it: on a shared machine the CPU column moves less
than the wall one. Run it with
``_RJEM_MALLOC_CONF=dirty_decay_ms:0,muzzy_decay_ms:0`` to see memory in use
rather than memory the allocator keeps for later.
The numbers of benchmarks/PROFILE.md come from this and from pyinstrument::

    python benchmarks/stages.py /tmp/bench/usb_malware-seed1-10m
    python -m pyinstrument -m forensics.cli investigate CASE --out /tmp/out

Not a test; ``benchmarks/run.py`` runs it once per case size (``--json``)
for the stage table of RESULTS.md.
"""

from __future__ import annotations

import argparse
import importlib
import json
import resource
import tempfile
import threading
import time
from collections import defaultdict
from pathlib import Path

STEPS = (
    "sessionize",
    "estimate_offsets",
    "build_timeline",
    "link_complaints",
    "complaint_orders",
    "complaint_rate",
    "order_index",
    "exposure_events",
    "infection_starts",
    "complaint_hits",
    "machine_order",
    "level_members",
    "keyed_counts",
    "since_counts",
    "score_paths",
    "onset",
    "find_indicators",
    "flagged",
    "candidate_events",
    "classify",
    "_path_members",
    "rank_suspects",
    "evidence_graph",
    "access_rows",
    "apply_identifications",
    "stream_openings",
    "flagged_paths",
    "apply_exclusions",
    "fit_age_model",
    "age_adjusted",
    "person_statements",
    "refine_malware_kind",
    "unknown_extent",
    "to_review",
    "_spike",
    "_ruled_out",
)


def _rss_gb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize() / 1e9


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("case", type=Path)
    p.add_argument("--json", action="store_true", help="print one JSON object instead")
    args = p.parse_args(argv)

    start, start_cpu = time.perf_counter(), time.process_time()
    import forensics

    inv = importlib.import_module("forensics.investigate")
    current = ["load"]
    peak: dict[str, float] = defaultdict(float)
    spent: dict[str, float] = defaultdict(float)
    cpu: dict[str, float] = defaultdict(float)
    calls: dict[str, int] = defaultdict(int)
    entered: dict[str, float] = {}
    spent["imports"], cpu["imports"] = time.perf_counter() - start, time.process_time() - start_cpu
    calls["imports"] = 1

    def sample() -> None:
        while True:
            step = current[0]
            peak[step] = max(peak[step], _rss_gb())
            time.sleep(0.05)

    def timed(name: str, fn):
        def run(*a, **k):
            outer, current[0] = current[0], name
            entered.setdefault(name, _rss_gb())
            t0, c0 = time.perf_counter(), time.process_time()
            try:
                return fn(*a, **k)
            finally:
                spent[name] += time.perf_counter() - t0
                # Nested steps count in both (none of STEPS nests today).
                cpu[name] += time.process_time() - c0
                calls[name] += 1
                current[0] = outer

        return run

    for name in STEPS:
        if hasattr(inv, name):
            setattr(inv, name, timed(name, getattr(inv, name)))
    threading.Thread(target=sample, daemon=True).start()

    # As `forensics investigate` does: personal data checked, not held; the
    # evidence graph without a node per complaint; findings.json written.
    case = timed("load", forensics.load_case)(args.case, personal=False)
    current[0] = "investigate (other)"
    t0, c0 = time.perf_counter(), time.process_time()
    findings = forensics.investigate(case, complaint_nodes=False)
    inner = [k for k in spent if k not in ("imports", "load", "investigate (other)")]
    spent["investigate (other)"] = (time.perf_counter() - t0) - sum(spent[k] for k in inner)
    cpu["investigate (other)"] = (time.process_time() - c0) - sum(cpu[k] for k in inner)
    calls["investigate (other)"] = 1
    with tempfile.TemporaryDirectory() as tmp:
        timed(
            "findings.json",
            lambda: (Path(tmp) / "findings.json").write_text(findings.to_json(), encoding="utf-8"),
        )()
    total, total_cpu = time.perf_counter() - start, time.process_time() - start_cpu
    maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6

    steps = sorted(spent, key=lambda k: -spent[k])
    if args.json:
        rows = {
            k: {"s": spent[k], "cpu": cpu[k], "calls": calls[k], "peak_gb": peak.get(k, 0.0)}
            for k in steps
        }
        print(json.dumps({"steps": rows, "total": total, "cpu": total_cpu, "peak_gb": maxrss}))
        return 0
    print(f"{'step':24s} {'s':>7s} {'CPU s':>7s} {'calls':>5s} {'peak GB':>8s} {'at entry':>8s}")
    for name in steps:
        print(
            f"{name:24s} {spent[name]:7.2f} {cpu[name]:7.2f} {calls[name]:5d}"
            f" {peak.get(name, 0.0):8.2f} {entered.get(name, 0.0):8.2f}"
        )
    print(f"{'total':24s} {total:7.2f} {total_cpu:7.2f}       {maxrss:8.2f} (peak RSS)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
