"""Benchmark forensics against the targets of issue 5 and write ``benchmarks/RESULTS.md``.

For each case size (synthetic ``usb_malware`` cases, generated once into a
cache folder as Parquet), every measurement runs in a process of its own so
that its peak RSS is its own (``os.wait4`` returns the child's resource
usage):

``e2e``
    ``forensics investigate CASE --out DIR``: start-up, load, investigation
    and findings written; wall time measured around the process.
``core``
    :func:`forensics.scale.core.core_counts` on a loaded case; the load is timed
    separately, and the peak RSS of the core alone is read after resetting
    the process's high-water mark (``/proc/self/clear_refs``).
``strong``, ``duckdb``, ``pandas``
    the same core in DuckDB as a strong user would write it, and in DuckDB
    and pandas as an analyst would (``benchmarks/reference.py``), reading the
    same Parquet files; their tables must equal the library's.
``floor``
    one polars read of the Parquet columns the core needs.
``readall``
    one polars read of every column of every Parquet file of the case (what
    a load that checks every cell has to decode at least).
``load``
    :func:`forensics.case.load` as ``forensics investigate`` calls it
    (buyers' personal columns checked but not held: ``personal=False``); the
    *core* runs load with them held.
``stages``
    ``benchmarks/stages.py``: what ``forensics investigate`` does, step by
    step (once per size).

Times inside a worker exclude interpreter start-up and imports. Each
measurement is repeated ``--runs`` times (the references only once at 10M
orders: a DuckDB run there takes minutes) and the median is reported; the
peak RSS is the largest over the runs.

Usage::

    python benchmarks/run.py                       # 100k, 1m, 10m
    python benchmarks/run.py --sizes 100k,1m       # a quicker run
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
BIN = Path(sys.executable).parent
SAMPLE = REPO / "datasets" / "april-trojan"
KINDS = ("floor", "readall", "load", "core", "strong", "duckdb", "pandas", "e2e", "stages")
WORKERS = KINDS[:7]
SCENARIO = "usb_malware"
SEED = 1

# Targets of issue 5.
E2E_10M_SECONDS, E2E_10M_GB = 60.0, 8.0
E2E_1M_SECONDS = 10.0
SAMPLE_SECONDS = 5.0
VS_DUCKDB, VS_PANDAS, VS_FLOOR = 3.0, 10.0, 3.0
# Targets of issue 19.
E2E_VS_STRONG_10M, E2E_10M_GB_19 = 1.5, 5.0
E2E_1M_SECONDS_19 = 4.0
LOAD_VS_FLOOR = 3.0


# --------------------------------------------------------------------------- workers
# Each worker runs in its own process, prints one JSON line and exits.


def _peak_rss_bytes() -> int:
    """High-water mark of this process's resident set (VmHWM)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    return 0


def _reset_peak_rss() -> bool:
    """Reset VmHWM to the current RSS (Linux >= 4.0); False when not allowed."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def _worker(kind: str, case: Path, table_out: Path | None, duckdb_memory: str) -> dict:
    import polars as pl

    result: dict = {}
    table = None
    c0 = time.process_time()
    if kind == "floor":
        t0 = time.perf_counter()
        frames = [
            pl.read_parquet(case / "orders.parquet", columns=["order_id", "buyer_id", "placed_at"]),
            pl.read_parquet(
                case / "access.parquet",
                columns=["at", "account_id", "machine_id", "ip", "action", "order_id"]
                + ["range_start", "range_end"],
            ),
            pl.read_parquet(
                case / "complaints.parquet",
                columns=["complaint_id", "buyer_id", "order_id", "received_at", "contacted_at"]
                + ["quoted_fields"],
            ),
        ]
        result["seconds"] = time.perf_counter() - t0
        result["rows"] = {"orders": frames[0].height, "access": frames[1].height}
    elif kind == "readall":
        t0 = time.perf_counter()
        frames = [pl.read_parquet(path) for path in sorted(case.glob("*.parquet"))]
        result["seconds"] = time.perf_counter() - t0
        result["rows"] = {"all": sum(f.height for f in frames)}
    elif kind == "load":
        from forensics.case import load

        t0 = time.perf_counter()
        loaded = load(case, personal=False)
        result["seconds"] = time.perf_counter() - t0
        result["rows"] = {"access": loaded.access_lean.height}
    elif kind == "core":
        from forensics.case import load
        from forensics.scale.core import core_counts

        t0 = time.perf_counter()
        loaded = load(case)
        t1 = time.perf_counter()
        c0 = time.process_time()
        reset = _reset_peak_rss()
        table = core_counts(loaded)
        t2 = time.perf_counter()
        result["load_seconds"] = t1 - t0
        result["seconds"] = t2 - t1
        if reset:
            result["core_peak_rss"] = _peak_rss_bytes()
    elif kind == "strong":
        from reference import duckdb_strong_core

        t0 = time.perf_counter()
        spill = case.parent / "duckdb-spill"
        table = duckdb_strong_core(case, memory_limit=duckdb_memory, temp_directory=spill)
        result["seconds"] = time.perf_counter() - t0
    elif kind == "duckdb":
        from reference import duckdb_core

        t0 = time.perf_counter()
        spill = case.parent / "duckdb-spill"
        table = duckdb_core(case, memory_limit=duckdb_memory, temp_directory=spill)
        result["seconds"] = time.perf_counter() - t0
    elif kind == "pandas":
        from reference import pandas_core

        t0 = time.perf_counter()
        table = pl.from_pandas(pandas_core(case))
        result["seconds"] = time.perf_counter() - t0
    else:
        raise ValueError(f"unknown worker {kind!r}")
    result["cpu_seconds"] = time.process_time() - c0
    if table is not None and table_out is not None:
        table.write_parquet(table_out)
    return result


# --------------------------------------------------------------------------- driver


@dataclass
class Measurement:
    """Runs of one kind of measurement on one case."""

    seconds: list[float] = field(default_factory=list)
    cpu_seconds: list[float] = field(default_factory=list)
    load_seconds: list[float] = field(default_factory=list)
    peak_rss: list[int] = field(default_factory=list)
    stages: dict | None = None  # stages.py --json of the last run
    core_peak_rss: list[int] = field(default_factory=list)
    skipped: str | None = None

    def median(self) -> float | None:
        return statistics.median(self.seconds) if self.seconds else None

    def median_cpu(self) -> float | None:
        return statistics.median(self.cpu_seconds) if self.cpu_seconds else None

    def median_load(self) -> float | None:
        return statistics.median(self.load_seconds) if self.load_seconds else None

    def peak(self) -> int | None:
        return max(self.peak_rss) if self.peak_rss else None


class MemoryGuard(RuntimeError):
    """A measured process grew past the memory guard and was stopped."""

    def __init__(self, rss: int, limit: float) -> None:
        super().__init__(f"stopped at {rss / 1e9:.1f} GB RSS (guard {limit / 1e9:.1f} GB)")


def _rss_of(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def _run_child(cmd: list[str], *, max_rss: float = float("inf")) -> tuple[float, float, int, str]:
    """Run ``cmd``; return wall seconds, CPU seconds, peak RSS in bytes and its stdout.

    The machine is shared: a child whose resident set passes ``max_rss``
    bytes is killed and :class:`MemoryGuard` raised.
    """
    with tempfile.TemporaryFile("w+") as out:
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, cwd=HERE)
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            rss = _rss_of(proc.pid)
            if rss > max_rss:
                proc.kill()
                os.wait4(proc.pid, 0)
                raise MemoryGuard(rss, max_rss)
            time.sleep(0.1)
        wall = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        text = out.read()
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} exited with {proc.returncode}")
    cpu = usage.ru_utime + usage.ru_stime
    return wall, cpu, usage.ru_maxrss * 1024, text  # ru_maxrss is in KiB on Linux


def parse_size(text: str) -> int:
    """``100k`` -> 100_000, ``1m`` -> 1_000_000, ``2500`` -> 2500."""
    text = text.strip().lower()
    scale = {"k": 1_000, "m": 1_000_000}.get(text[-1:], 1)
    return int(float(text.rstrip("km")) * scale)


def size_label(orders: int) -> str:
    if orders % 1_000_000 == 0:
        return f"{orders // 1_000_000}M"
    if orders % 1_000 == 0:
        return f"{orders // 1_000}k"
    return str(orders)


def ensure_case(cache: Path, orders: int, history: dict) -> Path:
    """The cached case of ``orders`` orders, generated as Parquet when missing.

    A generation is timed like any measurement (wall time, peak RSS) and
    kept in ``history`` under the size, so the results can report it.
    """
    case = cache / f"{SCENARIO}-seed{SEED}-{size_label(orders).lower()}"
    if (case / "case.toml").is_file():
        return case
    print(f"generating {case} ({orders:,} orders)", flush=True)
    wall, _, rss, _ = _run_child(
        [str(BIN / "forensics"), "generate", str(case), "--scenario", SCENARIO]
        + ["--seed", str(SEED), "--orders", str(orders), "--format", "parquet", "--quiet"]
    )
    print(f"  generate {wall:8.2f} s {rss / 1e9:8.2f} GB", flush=True)
    history.setdefault(str(orders), {})["generate"] = {"seconds": wall, "peak_rss": rss}
    return case


def measure(
    kind: str,
    case: Path,
    runs: int,
    work: Path,
    *,
    duckdb_memory: str = "",
    max_rss: float = float("inf"),
) -> tuple[Measurement, Path | None]:
    """Run one measurement ``runs`` times; return it and the table of the last run.

    A run stopped by the memory guard ends the measurement: it is marked
    skipped with the reason, and no table is returned.
    """
    m = Measurement()
    table = work / f"{kind}.parquet" if kind in ("core", "strong", "duckdb", "pandas") else None
    if kind == "e2e":
        out = work / "findings"
        cmd = [str(BIN / "forensics"), "investigate", str(case), "--out", str(out), "--quiet"]
    elif kind == "stages":
        cmd = [sys.executable, str(HERE / "stages.py"), str(case), "--json"]
    else:
        cmd = [sys.executable, str(HERE / "run.py"), "--worker", kind, str(case)]
        cmd += [f"--duckdb-memory={duckdb_memory}"]
        cmd += ["--table", str(table)] if table is not None else []
    for _ in range(runs):
        try:
            wall, cpu, rss, text = _run_child(cmd, max_rss=max_rss)
        except MemoryGuard as stop:
            m.skipped = str(stop)
            print(f"  {kind:7s} {stop}", flush=True)
            return m, None
        if kind == "e2e":
            m.seconds.append(wall)
            m.cpu_seconds.append(cpu)
        elif kind == "stages":
            m.stages = json.loads(text.strip().splitlines()[-1])
            m.seconds.append(wall)
            m.cpu_seconds.append(cpu)
        else:
            result = json.loads(text.strip().splitlines()[-1])
            m.seconds.append(result["seconds"])
            m.cpu_seconds.append(result["cpu_seconds"])
            if "load_seconds" in result:
                m.load_seconds.append(result["load_seconds"])
            if "core_peak_rss" in result:
                m.core_peak_rss.append(result["core_peak_rss"])
        m.peak_rss.append(rss)
        _print_run(kind, m)
    return m, table


def _print_run(kind: str, m: Measurement) -> None:
    print(
        f"  {kind:7s} {m.seconds[-1]:8.2f} s  {m.cpu_seconds[-1]:8.2f} s CPU"
        f"  {m.peak_rss[-1] / 1e9:6.2f} GB",
        flush=True,
    )


def assert_same(tables: dict[str, Path]) -> int:
    """Assert every implementation produced exactly the library's table; return its rows."""
    import polars as pl

    def norm(path: Path) -> pl.DataFrame:
        return (
            pl.read_parquet(path)
            .select(
                pl.col("level").cast(pl.String),
                pl.col("cand").cast(pl.String),
                pl.col("exposed").cast(pl.Int64),
                pl.col("hits").cast(pl.Int64),
            )
            .sort("level", "cand")
        )

    core = norm(tables["core"])
    for name, path in tables.items():
        other = norm(path)
        if not other.equals(core):
            diff = other.join(core, on=["level", "cand"], how="full", suffix="_core").filter(
                pl.any_horizontal(
                    pl.col("exposed").ne_missing(pl.col("exposed_core")),
                    pl.col("hits").ne_missing(pl.col("hits_core")),
                )
            )
            raise AssertionError(f"{name} differs from forensics.scale.core.core_counts:\n{diff}")
    return core.height


def machine() -> dict[str, str]:
    """CPU, cores, memory, load and library versions of this machine."""
    import duckdb
    import pandas
    import polars

    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        mem_kib = next(
            int(line.split()[1])
            for line in Path("/proc/meminfo").read_text().splitlines()
            if line.startswith("MemTotal:")
        )
        mem = f"{mem_kib * 1024 / 1e9:.1f} GB"
    except (OSError, StopIteration):
        mem = "?"
    return {
        "CPU": cpu,
        "cores": str(os.cpu_count()),
        "RAM": mem,
        "OS": platform.platform(),
        "Python": platform.python_version(),
        "polars": polars.__version__,
        "duckdb": duckdb.__version__,
        "pandas": pandas.__version__,
        "date": dt.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z"),
        "load average at start": " ".join(f"{x:.1f}" for x in os.getloadavg()),
    }


# --------------------------------------------------------------------------- report


def _s(x: float | None) -> str:
    return "—" if x is None else (f"{x:.2f}" if x < 10 else f"{x:.1f}")


def _gb(x: int | None) -> str:
    return "—" if x is None else f"{x / 1e9:.2f}"


def _ratio(a: float | None, b: float | None) -> str:
    return "—" if a is None or b is None or b == 0 else f"{a / b:.1f}x"


def _verdict(ok: bool | None) -> str:
    return "n/a" if ok is None else ("**met**" if ok else "**missed**")


def write_results(path: Path, info: dict, results: dict, sample: Measurement | None) -> None:
    lines = [
        "# Benchmarks",
        "",
        "Generated by `python benchmarks/run.py` (`make bench`); do not edit by hand.",
        f"Cases: synthetic `{SCENARIO}`, seed {SEED}, Parquet. Times are medians in",
        "seconds; RSS is the peak resident set in GB (10^9 bytes) of the measuring process",
        "(for *core*, the process also loaded the case; *core only* is the peak",
        "while `core_counts` ran, measured after resetting the high-water mark).",
        "",
        "## Machine",
        "",
    ]
    lines += [f"- {k}: {v}" for k, v in info.items()]
    lines += [
        "",
        "## Results",
        "",
        "| orders | access rows | rows equal | e2e s | e2e RSS | load s | core s "
        "| core RSS (only) | DuckDB s | DuckDB RSS | pandas s | pandas RSS | floor s "
        "| floor RSS | DuckDB / core | pandas / core | core / floor |",
        "|" + "---|" * 17,
    ]
    notes = []
    for label, r in results.items():
        m = r["m"]
        core = m["core"].median()
        core_rss = f"{_gb(m['core'].peak())} ({_gb(max(m['core'].core_peak_rss, default=None))})"
        lines.append(
            f"| {label} | {r['access_rows']:,} | {r['equal']} | {_s(m['e2e'].median())} "
            f"| {_gb(m['e2e'].peak())} | {_s(m['core'].median_load())} | {_s(core)} "
            f"| {core_rss} | {_s(m['duckdb'].median())} | {_gb(m['duckdb'].peak())} "
            f"| {_s(m['pandas'].median())} | {_gb(m['pandas'].peak())} "
            f"| {_s(m['floor'].median())} | {_gb(m['floor'].peak())} "
            f"| {_ratio(m['duckdb'].median(), core)} | {_ratio(m['pandas'].median(), core)} "
            f"| {_ratio(core, m['floor'].median())} |"
        )
        for kind, meas in m.items():
            if meas.skipped:
                notes.append(f"- {label} {kind}: skipped, {meas.skipped}")
        counts = sorted({n for k, n in r["runs"].items() if m[k].seconds})
        notes.append(
            f"- {label}: "
            + ", ".join(
                f"{n} run(s) of "
                + ", ".join(k for k in KINDS if r["runs"][k] == n and m[k].seconds)
                for n in counts
            )
        )
        gen = r.get("generate")
        if gen:
            notes.append(
                f"- {label}: `forensics generate` wrote the case in {_s(gen['seconds'])} s, "
                f"peak RSS {_gb(gen['peak_rss'])} GB"
            )
    if sample is not None:
        notes.append(
            f"- sample case `datasets/april-trojan` (CSV), `forensics investigate` end to end: "
            f"{_s(sample.median())} s, {_gb(sample.peak())} GB"
        )
    lines += [
        "",
        *notes,
        "",
        "CPU seconds (user + system, all threads) of the same runs, medians: less",
        "sensitive than wall time to other work on the machine.",
        "",
        "| orders | e2e | core | DuckDB strong | DuckDB | pandas | floor |",
        "|---|---|---|---|---|---|---|",
    ]
    for label, r in results.items():
        m = r["m"]
        kinds = ("e2e", "core", "strong", "duckdb", "pandas", "floor")
        cpu = [_s(m[k].median_cpu()) for k in kinds]
        lines.append(f"| {label} | " + " | ".join(cpu) + " |")
    lines += _strong_section(results)
    lines += _stage_section(results)
    lines += ["", "## Targets (issue 5)", ""]

    def get(label: str, kind: str) -> Measurement | None:
        return results[label]["m"][kind] if label in results else None

    e10, e1 = get("10M", "e2e"), get("1M", "e2e")
    checks = []
    if e10 is not None and e10.skipped:
        target = f"10M end to end ≤ {E2E_10M_SECONDS:.0f} s and ≤ {E2E_10M_GB:.0f} GB"
        checks.append((target, e10.skipped, False))
    elif e10 is not None and e10.median() is not None:
        checks.append(
            (
                f"10M end to end ≤ {E2E_10M_SECONDS:.0f} s and ≤ {E2E_10M_GB:.0f} GB",
                f"{_s(e10.median())} s, {_gb(e10.peak())} GB",
                e10.median() <= E2E_10M_SECONDS and e10.peak() <= E2E_10M_GB * 1e9,
            )
        )
    if e1 is not None and e1.median() is not None:
        checks.append(
            (
                f"1M end to end ≤ {E2E_1M_SECONDS:.0f} s",
                f"{_s(e1.median())} s",
                e1.median() <= E2E_1M_SECONDS,
            )
        )
    if sample is not None:
        checks.append(
            (
                f"sample case < {SAMPLE_SECONDS:.0f} s",
                f"{_s(sample.median())} s",
                sample.median() < SAMPLE_SECONDS,
            )
        )
    for label, r in results.items():
        m = r["m"]
        core = m["core"].median()
        for kind, target, faster in (
            ("duckdb", VS_DUCKDB, True),
            ("pandas", VS_PANDAS, True),
            ("floor", VS_FLOOR, False),
        ):
            other = m[kind].median()
            if core is None or other is None:
                continue
            if faster:
                checks.append(
                    (
                        f"{label}: core ≥ {target:.0f}x faster than {kind}",
                        f"{other / core:.1f}x",
                        other / core >= target,
                    )
                )
            else:
                checks.append(
                    (
                        f"{label}: core within {target:.0f}x of the floor",
                        f"{core / other:.1f}x",
                        core / other <= target,
                    )
                )
    lines += ["| target | measured | verdict |", "|---|---|---|"]
    lines += [f"| {t} | {v} | {_verdict(ok)} |" for t, v, ok in checks]
    lines += ["", "## Targets (issue 19)", "", "| target | measured | verdict |", "|---|---|---|"]
    lines += [f"| {t} | {v} | {_verdict(ok)} |" for t, v, ok in _issue19_checks(results)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _strong_section(results: dict) -> list[str]:
    """The product against the strong DuckDB core and the load against the floor."""
    lines = [
        "",
        "## The product against the strong DuckDB core (issue 19)",
        "",
        "*DuckDB strong* is `STRONG_SQL` of `benchmarks/reference.py` (orders numbered",
        "by time, ranges as intervals by ASOF joins, intervals merged by gaps and islands,",
        "single orders as a bitmap), from the Parquet files, everything included; its",
        "table equals the library's. *load* is `forensics.load` of the whole case (every",
        "file and cell typed, checked and hashed) as `forensics investigate` calls it",
        "(buyers' names, phones and addresses checked, not held); *load, personal held*",
        "is the load of the *core* runs (`load(case)`). *floor* reads the core's columns;",
        "*read all* reads every column of every file, which a load that checks every",
        "cell must decode at least.",
        "",
        "| orders | e2e s | e2e RSS | DuckDB strong s | DuckDB strong RSS | e2e / strong "
        "| load s | load, personal held s | floor s | read all s | load / floor "
        "| load / read all |",
        "|" + "---|" * 12,
    ]
    for label, r in results.items():
        m = r["m"]
        e2e, strong = m["e2e"].median(), m["strong"].median()
        load, floor, whole = m["load"].median(), m["floor"].median(), m["readall"].median()
        lines.append(
            f"| {label} | {_s(e2e)} | {_gb(m['e2e'].peak())} | {_s(strong)} "
            f"| {_gb(m['strong'].peak())} | {_ratio(e2e, strong)} | {_s(load)} "
            f"| {_s(m['core'].median_load())} | {_s(floor)} | {_s(whole)} "
            f"| {_ratio(load, floor)} | {_ratio(load, whole)} |"
        )
    return lines


def _stage_section(results: dict) -> list[str]:
    """Wall and CPU seconds of each step of ``forensics investigate``, per size."""
    sizes = [(label, r["m"]["stages"].stages) for label, r in results.items()]
    sizes = [(label, st) for label, st in sizes if st]
    if not sizes:
        return []
    order: list[str] = []
    for _, st in sizes:
        order += [k for k in st["steps"] if k not in order]
    lines = [
        "",
        "## Stages of `forensics investigate`",
        "",
        "`benchmarks/stages.py` (one run per size): wall seconds, CPU seconds (all threads)",
        "and peak RSS (GB) while each step ran; steps in the order of the largest case.",
        "",
        "| step | " + " | ".join(f"{lb} s | {lb} CPU s | {lb} peak GB" for lb, _ in sizes) + " |",
        "|---|" + "---|---|---|" * len(sizes),
    ]
    order.sort(key=lambda k: -sizes[-1][1]["steps"].get(k, {}).get("s", 0.0))
    for step in order:
        cells = []
        for _, st in sizes:
            row = st["steps"].get(step)
            cells += [_s(row["s"]), _s(row["cpu"]), f"{row['peak_gb']:.2f}"] if row else ["—"] * 3
        lines.append(f"| {step} | " + " | ".join(cells) + " |")
    total = []
    for _, st in sizes:
        total += [_s(st["total"]), _s(st["cpu"]), f"{st['peak_gb']:.2f}"]
    lines.append("| **total** | " + " | ".join(total) + " |")
    return lines


def _issue19_checks(results: dict) -> list[tuple[str, str, bool | None]]:
    checks = []
    ten, one = results.get("10M"), results.get("1M")
    if ten is not None:
        e2e, strong = ten["m"]["e2e"], ten["m"]["strong"]
        if e2e.median() is not None and strong.median() is not None:
            ratio = e2e.median() / strong.median()
            checks.append(
                (
                    f"10M: end to end ≤ {E2E_VS_STRONG_10M}x DuckDB strong",
                    f"{ratio:.2f}x ({_s(e2e.median())} s / {_s(strong.median())} s)",
                    ratio <= E2E_VS_STRONG_10M,
                )
            )
        if e2e.peak() is not None:
            checks.append(
                (
                    f"10M: end to end peak RSS ≤ {E2E_10M_GB_19:.0f} GB",
                    f"{_gb(e2e.peak())} GB",
                    e2e.peak() <= E2E_10M_GB_19 * 1e9,
                )
            )
    if one is not None and one["m"]["e2e"].median() is not None:
        e1 = one["m"]["e2e"].median()
        checks.append(
            (f"1M: end to end ≤ {E2E_1M_SECONDS_19:.0f} s", f"{_s(e1)} s", e1 <= E2E_1M_SECONDS_19)
        )
    for label, r in results.items():
        load, floor = r["m"]["load"].median(), r["m"]["floor"].median()
        if load is not None and floor is not None:
            checks.append(
                (
                    f"{label}: load ≤ {LOAD_VS_FLOOR:.0f}x the floor",
                    f"{load / floor:.1f}x",
                    load / floor <= LOAD_VS_FLOOR,
                )
            )
    return checks


def _pandas_guard(label_orders: int, history: dict, limit_gb: float) -> str | None:
    """Why pandas should not run at this size, or None: linear estimate from 1M orders."""
    ref = history.get("1000000", {}).get("pandas_peak_rss")
    if label_orders <= 1_000_000:
        return None
    if ref is None:
        return "no 1M pandas run to estimate its memory from (run --sizes 1m first)"
    estimate = ref * label_orders / 1_000_000
    if estimate > limit_gb * 1e9:
        return (
            f"estimated peak RSS {estimate / 1e9:.0f} GB (linear from 1M orders: "
            f"{ref / 1e9:.1f} GB) exceeds the {limit_gb:.0f} GB guard"
        )
    return None


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sizes", default="100k,1m,10m", help="orders per case, e.g. 100k,1m")
    p.add_argument("--runs", type=int, default=3, help="runs per measurement (1 at 10M)")
    p.add_argument("--cache", type=Path, default=Path("/tmp/bench"), help="generated cases")
    p.add_argument("--out", type=Path, default=HERE / "RESULTS.md")
    p.add_argument(
        "--only", default=",".join(KINDS), help=f"measurements to run, from {','.join(KINDS)}"
    )
    p.add_argument(
        "--pandas-limit-gb", type=float, default=20.0, help="skip pandas above this estimate"
    )
    p.add_argument(
        "--duckdb-memory",
        default="10GB",
        help="DuckDB memory_limit (it spills beyond); '' for DuckDB's default, 80%% of RAM",
    )
    p.add_argument(
        "--max-rss-gb",
        type=float,
        default=20.0,
        help="kill a measured process whose RSS passes this (the machine is shared)",
    )
    p.add_argument("--no-sample", action="store_true", help="skip datasets/april-trojan")
    p.add_argument("--worker", choices=WORKERS, help=argparse.SUPPRESS)
    p.add_argument("--table", type=Path, help=argparse.SUPPRESS)
    p.add_argument("case", nargs="?", type=Path, help=argparse.SUPPRESS)
    args = p.parse_args(argv)

    if args.worker:
        print(json.dumps(_worker(args.worker, args.case, args.table, args.duckdb_memory)))
        return 0

    args.cache.mkdir(parents=True, exist_ok=True)
    history_file = args.cache / "bench-history.json"
    history = json.loads(history_file.read_text()) if history_file.is_file() else {}
    kinds = [k for k in KINDS if k in args.only.split(",")]
    info = machine()
    results: dict = {}
    for orders in sorted(parse_size(s) for s in args.sizes.split(",")):
        label = size_label(orders)
        case = ensure_case(args.cache, orders, history)
        history_file.write_text(json.dumps(history, indent=1))
        once = orders >= 10_000_000
        runs = {k: 1 if once and k in ("duckdb", "pandas") else args.runs for k in KINDS}
        runs["stages"] = 1
        print(f"{label} orders: {case}", flush=True)
        m = {k: Measurement() for k in KINDS}
        tables = {}
        with tempfile.TemporaryDirectory(dir=args.cache) as tmp:
            for kind in kinds:
                if kind == "pandas":
                    reason = _pandas_guard(orders, history, args.pandas_limit_gb)
                    if reason:
                        m[kind].skipped = reason
                        print(f"  pandas  skipped: {reason}", flush=True)
                        continue
                m[kind], table = measure(
                    kind,
                    case,
                    runs[kind],
                    Path(tmp),
                    duckdb_memory=args.duckdb_memory,
                    max_rss=args.max_rss_gb * 1e9,
                )
                if table is not None:
                    tables[kind] = table
            equal = "—"
            if "core" in tables and len(tables) > 1:
                n = assert_same(tables)
                equal = f"yes ({n} paths: {', '.join(sorted(tables))})"
                print(f"  equal   {equal}", flush=True)
        if m["pandas"].peak() is not None:
            history.setdefault(str(orders), {})["pandas_peak_rss"] = m["pandas"].peak()
            history_file.write_text(json.dumps(history, indent=1))
        import polars as pl

        access_rows = pl.scan_parquet(case / "access.parquet").select(pl.len()).collect().item()
        results[label] = {
            "m": m,
            "equal": equal,
            "runs": runs,
            "access_rows": access_rows,
            "generate": history.get(str(orders), {}).get("generate"),
        }

    sample = None
    if not args.no_sample and "e2e" in kinds and SAMPLE.is_dir():
        print(f"sample: {SAMPLE}", flush=True)
        with tempfile.TemporaryDirectory(dir=args.cache) as tmp:
            sample, _ = measure("e2e", SAMPLE, args.runs, Path(tmp), max_rss=args.max_rss_gb * 1e9)
    info["load average at end"] = " ".join(f"{x:.1f}" for x in os.getloadavg())
    write_results(args.out, info, results, sample)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
