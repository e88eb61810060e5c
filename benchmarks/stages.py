"""Where one investigation spends its time and memory, step by step.

Wraps the steps :func:`forensics.investigate.investigate` calls, runs
``load`` + ``investigate`` on one case, and prints each step's total wall
time, how often it ran, the peak RSS while it ran (sampled every 50 ms) and
the RSS when it was first entered. Run it with
``_RJEM_MALLOC_CONF=dirty_decay_ms:0,muzzy_decay_ms:0`` to see memory in use
rather than memory the allocator keeps for later.
The numbers of benchmarks/PROFILE.md come from this and from pyinstrument::

    python benchmarks/stages.py /tmp/bench/usb_malware-seed1-10m
    python -m pyinstrument -m forensics.cli investigate CASE --out /tmp/out

Not a test and not part of ``make bench``: a tool for whoever works on speed.
"""

from __future__ import annotations

import argparse
import importlib
import resource
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
    "score_paths",
    "onset",
    "find_indicators",
    "flagged",
    "candidate_events",
    "classify",
    "_path_members",
    "rank_suspects",
    "evidence_graph",
)


def _rss_gb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize() / 1e9


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("case", type=Path)
    args = p.parse_args(argv)

    import forensics

    inv = importlib.import_module("forensics.investigate")
    current = ["load"]
    peak: dict[str, float] = defaultdict(float)
    spent: dict[str, float] = defaultdict(float)
    calls: dict[str, int] = defaultdict(int)
    entered: dict[str, float] = {}

    def sample() -> None:
        while True:
            step = current[0]
            peak[step] = max(peak[step], _rss_gb())
            time.sleep(0.05)

    def timed(name: str, fn):
        def run(*a, **k):
            outer, current[0] = current[0], name
            entered.setdefault(name, _rss_gb())
            start = time.perf_counter()
            try:
                return fn(*a, **k)
            finally:
                spent[name] += time.perf_counter() - start
                calls[name] += 1
                current[0] = outer

        return run

    for name in STEPS:
        if hasattr(inv, name):
            setattr(inv, name, timed(name, getattr(inv, name)))
    threading.Thread(target=sample, daemon=True).start()

    start = time.perf_counter()
    # As `forensics investigate` loads it: personal data checked, not held.
    case = timed("load", forensics.load_case)(args.case, personal=False)
    current[0] = "investigate (other)"
    t0 = time.perf_counter()
    forensics.investigate(case)
    total = time.perf_counter() - start
    spent["investigate (other)"] = (time.perf_counter() - t0) - sum(
        v for k, v in spent.items() if k not in ("load", "investigate (other)")
    )
    calls["investigate (other)"] = 1

    print(f"{'step':24s} {'s':>7s} {'calls':>5s} {'peak GB':>8s} {'at entry':>8s}")
    for name, seconds in sorted(spent.items(), key=lambda kv: -kv[1]):
        print(
            f"{name:24s} {seconds:7.2f} {calls[name]:5d} {peak.get(name, 0.0):8.2f}"
            f" {entered.get(name, 0.0):8.2f}"
        )
    maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6
    print(f"{'total':24s} {total:7.2f}        {maxrss:8.2f} (peak RSS of the process)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
