"""Accuracy of ``forensics investigate`` on generated cases: docs/ACCURACY.md.

Every scenario x (no variant, every variant, a few combinations) x seeds x
sizes: generate the case (``forensics.synth.generate``), run ``forensics
investigate`` on it in a subprocess (bounded by ``--timeout``; a traceback
or a missing findings.json is a failed run), score it against truth.json
with :func:`forensics.synth.score.score`, delete the case. Runs go in
parallel (``--jobs``), each in its own folder under ``--work``; results are
appended to ``--work``/results.jsonl as they come, so an interrupted run
resumes with ``--resume``.

    python benchmarks/accuracy.py --seeds 5 --sizes 2k,20k     # make accuracy
    python benchmarks/accuracy.py --seeds 1 --sizes 2k --scenarios usb_malware --variants agentless
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import time
import traceback
from collections import defaultdict
from concurrent.futures import ProcessPoolExecutor, as_completed
from datetime import UTC, datetime
from pathlib import Path

from forensics.synth import VECTORS, generate
from forensics.synth.score import Score, score, summarize
from forensics.synth.variants import VARIANTS

ROOT = Path(__file__).resolve().parent.parent

COMBOS = (
    ("complaints_old", "early_app"),
    ("agentless", "unidentified_insertion"),
    ("mtp_phone", "review_app", "erp_cadence"),
    ("anonymous_visitor", "night_shift", "unidentified_insertion"),
)
"""Variant combinations run besides each variant alone (the shop life of the
independent generator's cases comes in bundles)."""


def _size(text: str) -> int:
    text = text.strip().lower()
    mult = {"k": 1_000, "m": 1_000_000}.get(text[-1], 1)
    return int(float(text.rstrip("km")) * mult)


def _label(n: int) -> str:
    return f"{n // 1_000_000}M" if n % 1_000_000 == 0 else f"{n // 1000}k"


def _command(job: dict) -> str:
    var = "".join(f" --variant {v}" for v in job["variants"])
    return (
        f"forensics generate /tmp/c --scenario {job['scenario']} --seed {job['seed']} "
        f"--orders {job['orders']}{var} && forensics investigate /tmp/c --out /tmp/o"
    )


def _key(job: dict) -> str:  # how a run is found again on --resume
    return f"{job['scenario']}|{'+'.join(job['variants'])}|{job['seed']}|{job['orders']}"


def _forensics() -> list[str]:
    exe = Path(sys.executable).with_name("forensics")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "forensics.cli"]


class _Timeout(Exception):
    pass


def _alarm(signum, frame):
    raise _Timeout


def _in_process(case: Path, timeout: float) -> tuple[dict | None, str | None]:
    """Load and investigate as ``forensics investigate`` does, in this worker,
    bounded by SIGALRM; any exception is the run's error (its last frame)."""
    from forensics import investigate, load

    old = signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(max(1, int(timeout)))
    try:
        findings = investigate(load(case, personal=False), complaint_nodes=False)
        return json.loads(findings.to_json()), None
    except _Timeout:
        return None, f"timeout after {timeout:.0f} s"
    except Exception as exc:
        tb = traceback.extract_tb(exc.__traceback__)[-1]
        where = f"{Path(tb.filename).name}:{tb.lineno} {tb.name}"
        return None, f"{type(exc).__name__} at {where}: {str(exc)[:200]}"
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


def run_one(job: dict, work: str, timeout: float) -> dict:
    """Generate, investigate and score one case (runs in a worker process)."""
    folder = Path(work) / f"run-{os.getpid()}-{abs(hash(_key(job))) % 10**8}"
    case, out = folder / "case", folder / "out"
    shutil.rmtree(folder, ignore_errors=True)
    t0 = time.perf_counter()
    record = {**job, "key": _key(job)}
    try:
        truth = generate(
            case,
            scenario=job["scenario"],
            seed=job["seed"],
            orders=job["orders"],
            fmt="csv",
            variants=list(job["variants"]) or None,
        )
    except Exception as exc:  # a generator bug: reported, not scored
        record.update(generate_error=f"{type(exc).__name__}: {exc}", seconds=0.0)
        shutil.rmtree(folder, ignore_errors=True)
        return record
    t1 = time.perf_counter()
    error, findings = None, None
    if job.get("subprocess"):
        try:
            proc = subprocess.run(
                [*_forensics(), "investigate", str(case), "--out", str(out), "--quiet"],
                capture_output=True,
                text=True,
                timeout=timeout,
            )
            if proc.returncode != 0:
                last = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["exit code"]
                error = f"exit {proc.returncode}: {last[0][:300]}"
        except subprocess.TimeoutExpired:
            error = f"timeout after {timeout:.0f} s"
        try:
            findings = json.loads((out / "findings.json").read_text("utf-8"))
        except (OSError, ValueError):
            error = error or "no findings.json"
    else:
        findings, error = _in_process(case, timeout)
    s = score(truth, findings)
    record.update(
        score=s.as_dict(),
        error=error,
        vector_truth=truth["vector"],
        insiders=truth["insider_person_ids"],
        seconds=round(time.perf_counter() - t1, 2),
        generate_seconds=round(t1 - t0, 2),
    )
    shutil.rmtree(folder, ignore_errors=True)
    return record


def plan(scenarios, variants, seeds, sizes, combos=True) -> list[dict]:
    sets = [()] + [(v,) for v in variants]
    if combos:
        sets += [c for c in COMBOS if all(v in variants for v in c)]
    return [
        {"scenario": sc, "variants": vs, "seed": seed, "orders": n}
        for n in sizes
        for sc in scenarios
        for vs in sets
        for seed in seeds
    ]


# --------------------------------------------------------------------------- report


def _machine() -> dict:
    import polars as pl

    try:
        load = " ".join(f"{x:.1f}" for x in os.getloadavg())
    except OSError:
        load = "?"
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    dirty = subprocess.run(
        ["git", "status", "--porcelain", "src"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    return {
        "CPU": platform.processor() or platform.machine(),
        "cores": os.cpu_count(),
        "OS": platform.platform(),
        "Python": platform.python_version(),
        "polars": pl.__version__,
        "commit": commit + (" (with uncommitted changes in src/)" if dirty else ""),
        "load average at end": load,
    }


def _cell(n: int, of: int) -> str:
    return f"{n}/{of}" if of else "—"


def _path(s: dict) -> str:
    return f"{s['path']:.2f} ({s['path_cases']})" if s["path_cases"] else "—"


def _row(name: str, s: dict) -> str:
    return (
        f"| {name} | {s['runs']} | {_cell(s['vector'], s['runs'])} | "
        f"{_cell(s['insider'], s['insider_cases'])} | {_cell(s['accused'], s['nobody_cases'])} | "
        f"{_cell(s['failed'], s['runs'])} | {_path(s)} |"
    )


_HEAD = (
    "| {what} | runs | vector right | insider first | false accusations | failed | path found |\n"
    "|---|---|---|---|---|---|---|"
)


def report(records: list[dict], meta: dict, note: str) -> str:
    scored = [r for r in records if "score" in r]
    sc = {id(r): Score(**r["score"]) for r in scored}

    def summ(rs):
        return summarize(sc[id(r)] for r in rs)

    lines = [
        "# Accuracy on generated cases",
        "",
        "Generated by `python benchmarks/accuracy.py` (`make accuracy`); do not edit by hand.",
        "Each run generates a case (`forensics generate`, CSV), runs `forensics investigate`",
        "on it and scores findings.json against truth.json "
        "(`forensics.synth.score`): **vector right** = `vector.kind` equals the truth;",
        "**insider first** = the first suspect did it (cases with an insider);",
        "**false accusations** = someone named with score >= 0.5 where nobody did it",
        "(`none`, `third_party_app`); **failed** = traceback, timeout or no findings.json",
        "(a failed run also counts as wrong on the other measures); **path found** = mean",
        "share of the truth's machine/account/app ids that `leak_path` names, over the runs",
        "(in brackets) that recorded it (reported, not scored; — where none did).",
        "",
    ]
    if note:
        lines += [note, ""]
    lines += ["## Machine and run", ""]
    lines += [f"- {k}: {v}" for k, v in meta.items()]
    lines += ["", "## Overall", "", _HEAD.format(what="orders")]
    sizes = sorted({r["orders"] for r in scored})
    for n in sizes:
        lines.append(_row(_label(n), summ([r for r in scored if r["orders"] == n])))
    lines.append(_row("**all**", summ(scored)))
    lines += [
        "",
        "## By variant (all scenarios, all sizes)",
        "",
        _HEAD.format(what="variant"),
    ]
    by_var = defaultdict(list)
    for r in scored:
        by_var["+".join(r["variants"]) or "(none)"].append(r)
    for name in sorted(by_var, key=lambda k: (k != "(none)", "+" in k, k)):
        lines.append(_row(f"`{name}`", summ(by_var[name])))
    lines += ["", "## By scenario and size (all variant sets)", "", _HEAD.format(what="scenario")]
    for scen in VECTORS:
        for n in sizes:
            rs = [r for r in scored if r["scenario"] == scen and r["orders"] == n]
            if rs:
                lines.append(_row(f"`{scen}` {_label(n)}", summ(rs)))
    lines += ["", "## By scenario (both sizes)", ""]
    for scen in VECTORS:
        rs = [r for r in scored if r["scenario"] == scen]
        if not rs:
            continue
        lines += [f"### `{scen}`", "", _HEAD.format(what="variant")]
        groups = defaultdict(list)
        for r in rs:
            groups["+".join(r["variants"]) or "(none)"].append(r)
        for name in sorted(groups, key=lambda k: (k != "(none)", "+" in k, k)):
            lines.append(_row(f"`{name}`", summ(groups[name])))
        lines.append("")
    bad = [r for r in scored if not sc[id(r)].ok()]
    gen_errors = [r for r in records if "generate_error" in r]
    lines += ["", f"## Runs that were wrong ({len(bad)})", ""]
    if bad:
        lines += [
            "| scenario | variants | seed | orders | truth | said | top suspect (score) | error |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for r in sorted(bad, key=lambda r: (r["scenario"], r["variants"], r["orders"], r["seed"])):
            s = sc[id(r)]
            top = f"{s.top_suspect} ({s.top_score:.2f})" if s.top_suspect else "—"
            err = (r.get("error") or "").replace("|", "/")[:120]
            lines.append(
                f"| {r['scenario']} | {'+'.join(r['variants']) or '—'} | {r['seed']} | "
                f"{r['orders']} | {r['vector_truth']} {','.join(r['insiders'])} | "
                f"{s.vector_said} | {top} | {err} |"
            )
        lines += ["", "Reproduce a row:", "", "```sh", _command(bad[0]), "```"]
    if gen_errors:
        lines += ["", f"## Generator errors ({len(gen_errors)})", ""]
        lines += [f"- `{_command(r)}`: {r['generate_error']}" for r in gen_errors]
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- main


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", default="5", help="a count (1..N) or a list like 3,7,11")
    ap.add_argument("--sizes", default="2k,20k")
    ap.add_argument("--scenarios", default=",".join(VECTORS))
    ap.add_argument("--variants", default=",".join(VARIANTS))
    ap.add_argument("--no-combos", action="store_true")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--timeout", type=float, default=300.0, help="seconds per investigate")
    ap.add_argument("--work", default="/tmp/forensics-accuracy")
    ap.add_argument("--resume", action="store_true", help="keep results.jsonl of an earlier run")
    ap.add_argument("--out", default=str(ROOT / "docs" / "ACCURACY.md"))
    ap.add_argument(
        "--subprocess",
        action="store_true",
        help="run the forensics CLI per case (default: load and investigate in the worker)",
    )
    ap.add_argument(
        "--report-only", action="store_true", help="write the report from results.jsonl only"
    )
    ap.add_argument("--note", default="", help="a paragraph for the top of the report")
    args = ap.parse_args(argv)

    seeds = (
        [int(s) for s in args.seeds.split(",")]
        if "," in args.seeds
        else list(range(1, int(args.seeds) + 1))
    )
    sizes = [_size(s) for s in args.sizes.split(",")]
    scenarios = [s for s in args.scenarios.split(",") if s]
    variants = [v for v in args.variants.split(",") if v]
    for v in variants:
        if v not in VARIANTS:
            ap.error(f"unknown variant {v!r}")
    jobs = plan(scenarios, variants, seeds, sizes, combos=not args.no_combos)
    for j in jobs:
        j["subprocess"] = args.subprocess
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    results_path = work / "results.jsonl"
    done: dict[str, dict] = {}
    if (args.resume or args.report_only) and results_path.exists():
        for line in results_path.read_text("utf-8").splitlines():
            r = json.loads(line)
            r["variants"] = tuple(r["variants"])
            done[r["key"]] = r
    else:
        results_path.write_text("", "utf-8")
    todo = [] if args.report_only else [j for j in jobs if _key(j) not in done]
    # Seed by seed, so an interrupted run still covers every cell evenly.
    todo.sort(key=lambda j: (seeds.index(j["seed"]), j["orders"]))
    from tqdm import tqdm

    started = time.time()
    bar = tqdm(total=len(jobs), initial=len(jobs) - len(todo), desc="accuracy", unit="run")
    wrong = 0
    with (
        ProcessPoolExecutor(max_workers=args.jobs) as pool,
        results_path.open("a", encoding="utf-8") as sink,
    ):
        futures = [pool.submit(run_one, j, str(work), args.timeout) for j in todo]
        for f in as_completed(futures):
            r = f.result()
            r["variants"] = tuple(r["variants"])
            done[r["key"]] = r
            sink.write(json.dumps(r, ensure_ascii=False) + "\n")
            sink.flush()
            if "score" not in r or not Score(**r["score"]).ok():
                wrong += 1
            bar.set_postfix_str(f"wrong {wrong}")
            bar.update(1)
    bar.close()
    elapsed = time.time() - started
    records = [done[_key(j)] for j in jobs if _key(j) in done]
    n_cells = max(1, len(scenarios) * len(seeds) * len(sizes))
    busy = sum(r.get("seconds", 0) + r.get("generate_seconds", 0) for r in records)
    meta = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        **_machine(),
        "runs": f"{len(records)}: {len(scenarios)} scenarios x {len(jobs) // n_cells} variant "
        f"sets x {len(seeds)} seeds x {len(sizes)} sizes ({', '.join(map(_label, sizes))})",
        "jobs": args.jobs,
        "time in runs": f"{busy / 60:.1f} min "
        "(generate + investigate, summed over runs; divide by jobs for wall time)",
        "wall time": f"{elapsed / 60:.1f} min (this invocation)",
        "command": "python benchmarks/accuracy.py "
        + " ".join(a for a in (argv or sys.argv[1:]) if a != args.note and a != "--note"),
    }
    out = Path(args.out)
    # "The watch" (benchmarks/watch_accuracy.py) shares the file: kept as it is.
    old = out.read_text("utf-8") if out.exists() else ""
    kept = old[old.find("\n## The watch") :] if "\n## The watch" in old else ""
    out.write_text(report(records, meta, args.note).rstrip("\n") + "\n" + kept, "utf-8")
    print(f"wrote {args.out}: {len(records)} runs, {wrong} wrong this invocation", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
