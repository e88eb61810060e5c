"""How well the watch ranks drifters first: the table of docs/ACCURACY.md, "The watch".

For each seed, a ``monitoring`` case is generated (:mod:`forensics.synth.monitoring`),
``forensics.watch.audit`` runs on it, and ``people.csv``'s ranking is scored
against ``truth.json``:

``p@k``
    share of drifters among the first *k* people, *k* = number of drifters;
``p@10``, ``p@30``
    the same among the first 10 and 30 (at most #drifters/10 for p@10 when
    there are fewer than 10 drifters: read it with the count beside it);
``decoys@10``
    IT staff, permanent night workers and evening managers among the first 10
    (the look-alikes the watch must not rank first);
``seconds``
    load plus audit, in this process.

Two configurations: the default scenario (300 people, 28 days, 9 drifters)
and one shaped like the outside log set of issue 18 (1,000 people, 18 days,
30 insiders, many USB logs without serials).

Usage::

    python benchmarks/watch_accuracy.py                 # seeds 1-5, both configurations
    python benchmarks/watch_accuracy.py --seeds 1,2 --markdown
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from forensics import load
from forensics.synth.monitoring import generate_monitoring
from forensics.watch import audit

CONFIGS = {
    "monitoring (300 people, 28 days)": {"people": 300, "days": 28},
    "outside-like (1,000 people, 18 days, 30 insiders)": {
        "people": 1000,
        "days": 18,
        "drifters": 30,
    },
}


def measure(folder: Path, seed: int, **options) -> dict:
    """Generate one case, audit it, and score the ranking against its truth."""
    truth = generate_monitoring(folder, seed=seed, **options)
    t0 = time.perf_counter()
    a = audit(load(folder, personal=False))
    seconds = time.perf_counter() - t0
    ranked = a.people["person_id"].to_list()
    drifters = set(truth["insider_person_ids"])
    decoys = {p for g in ("it", "night", "evening_manager") for p in truth["decoys"][g]}
    k = len(drifters)

    def precision(n: int) -> float:
        return len(drifters & set(ranked[:n])) / n

    return {
        "seed": seed,
        "drifters": k,
        "p@k": precision(k),
        "p@10": precision(10),
        "p@30": precision(30),
        "decoys@10": len(decoys & set(ranked[:10])),
        "seconds": seconds,
    }


def table(rows: list[dict]) -> str:
    head = "| seed | drifters | p@#drifters | p@10 | p@30 | decoys in top 10 | seconds |"
    lines = [head, "|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        lines.append(
            f"| {r['seed']} | {r['drifters']} | {r['p@k']:.2f} | {r['p@10']:.2f} | "
            f"{r['p@30']:.2f} | {r['decoys@10']} | {r['seconds']:.1f} |"
        )
    mean = {k: statistics.mean(r[k] for r in rows) for k in ("p@k", "p@10", "p@30", "seconds")}
    lines.append(
        f"| mean | | {mean['p@k']:.2f} | {mean['p@10']:.2f} | {mean['p@30']:.2f} | "
        f"{max(r['decoys@10'] for r in rows)} (max) | {mean['seconds']:.1f} |"
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", default="1,2,3,4,5")
    ap.add_argument("--markdown", action="store_true", help="print only the Markdown tables")
    args = ap.parse_args(argv)
    seeds = [int(s) for s in args.seeds.split(",")]
    with tempfile.TemporaryDirectory() as tmp:
        for name, options in CONFIGS.items():
            rows = []
            for seed in seeds:
                rows.append(measure(Path(tmp) / f"{seed}-{options['people']}", seed, **options))
                if not args.markdown:
                    print(rows[-1], flush=True)
            print(f"\n**{name}**\n\n{table(rows)}\n", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
