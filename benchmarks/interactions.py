"""Time the notebook interactions: a widget change until its chart is in the Output.

Issue "Scale", item 4: on the sample case, a widget change redrawing a chart
stays under 300 ms. This script loads a case, investigates it once, builds
the views the notebooks build (``coverage_view`` as in notebooks 00 and 02,
``timeline_view`` as in 00 and 03), then sets each control programmatically,
as a person would change it, and times the change until the view's Output
holds the new figure as plotly JSON (the display bundle a front end gets).

An IPython shell is started in-process so that :meth:`ChartView.redraw`
takes the path it takes in a notebook; without a kernel the widgets' comms
are inert, so the time is the library's: the handler, the figure and its
JSON, not the browser drawing it.

Each interaction cycles through a few values (ending where it started) for
``--repeat`` rounds; the table gives the median and the max per interaction.
The first change after a view is built is included in the max (plotly loads
validators lazily), not in a warm-up. The exit status is 1 when a median is
over ``--limit`` milliseconds. The machine's load average is printed: the
times are wall-clock times on a possibly shared CPU.

Usage::

    python benchmarks/interactions.py                      # the sample case
    python benchmarks/interactions.py --case /tmp/bench/1m --repeat 3
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
SAMPLE = HERE.parent / "datasets" / "april-trojan"
LIMIT_MS = 300.0
MIME = "application/vnd.plotly.v1+json"


def _shown(view) -> object:
    """The plotly JSON in the view's Output (fails when there is none)."""
    outputs = view.output.outputs
    if not outputs or MIME not in outputs[0]["data"]:
        raise RuntimeError("the view's Output holds no plotly figure")
    return outputs[0]["data"][MIME]


def _time_change(view, change: Callable[[], None]) -> float:
    """Milliseconds from a control change until a new figure is in the Output."""
    before = view.output.outputs
    start = time.perf_counter()
    change()
    _shown(view)
    elapsed = (time.perf_counter() - start) * 1000
    if view.output.outputs is before:
        raise RuntimeError("the change did not redraw the chart")
    return elapsed


def _interactions(findings):
    """(view name, interaction, view, [changes]) for what a person can change."""
    from forensics.views.widgets import coverage_view, timeline_view

    top = findings.suspects[0].person_id if findings.suspects else None
    suspects = [s.person_id for s in findings.suspects[:3]]
    path = sorted(findings.vector.machines)[:3]

    cov = coverage_view(findings)  # notebook 02
    picker, only, first_seen = cov.controls
    levels = list(picker.levels)
    days_all = first_seen.widget.index
    n_days = days_all[1] + 1

    def set_(control, attr, value):
        return lambda: setattr(control, attr, value)

    yield (
        "coverage",
        "level",
        cov,
        [set_(picker, "value", lv) for lv in [*levels, None]],
    )
    yield "coverage", "significant only", cov, [set_(only, "value", v) for v in (True, False)]
    yield (
        "coverage",
        "first seen (days)",
        cov,
        [
            set_(first_seen.widget, "index", (n_days // 2, days_all[1])),
            set_(first_seen.widget, "index", (n_days - 3, n_days - 1)),
            set_(first_seen.widget, "index", days_all),
        ],
    )

    tl = timeline_view(findings, person=top)  # notebooks 00 and 03
    entities, days = tl.controls
    default_days = days.widget.index
    people = [*(p for p in suspects if p != top), None, top]
    yield (
        "timeline",
        "person",
        tl,
        [set_(entities.person, "value", p or "") for p in people],
    )
    yield (
        "timeline",
        "machine",
        tl,
        [set_(entities.machine, "value", m) for m in [*path, ""]],
    )
    lo, hi = default_days
    yield (
        "timeline",
        "days",
        tl,
        [
            set_(days.widget, "index", (lo, lo)),  # one day
            set_(days.widget, "index", (max(0, lo - 7), hi)),  # a week earlier
            set_(days.widget, "index", (0, days_all[1])),  # the whole case
            set_(days.widget, "index", default_days),
        ],
    )
    # The whole case for one person: the widest view a filter still narrows.
    yield (
        "timeline",
        "person, whole case",
        tl,
        [
            set_(days.widget, "index", (0, days_all[1])),
            set_(entities.person, "value", ""),
            set_(entities.person, "value", top or ""),
            set_(days.widget, "index", default_days),
        ],
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--case", type=Path, default=SAMPLE, help="case folder (sample case)")
    parser.add_argument("--repeat", type=int, default=5, help="rounds per interaction")
    parser.add_argument("--limit", type=float, default=LIMIT_MS, help="ms a median may take")
    args = parser.parse_args(argv)

    from IPython.core.interactiveshell import InteractiveShell

    InteractiveShell.instance()  # so ChartView.redraw fills its Output as in a notebook

    from forensics.views.notebook import open_case

    load = os.getloadavg()
    print(f"case {args.case}; {os.cpu_count()} CPUs, load average {load[0]:.2f} at start")
    start = time.perf_counter()
    findings = open_case(args.case)
    print(f"loaded and investigated in {time.perf_counter() - start:.1f} s")

    rows = []
    start = time.perf_counter()
    interactions = list(_interactions(findings))
    print(f"views built in {(time.perf_counter() - start) * 1000:.0f} ms\n")
    for view_name, what, view, changes in interactions:
        times = [_time_change(view, change) for _ in range(args.repeat) for change in changes]
        rows.append((view_name, what, len(times), statistics.median(times), max(times)))

    print(f"{'view':<10} {'interaction':<20} {'n':>3} {'median ms':>10} {'max ms':>8}")
    slow = []
    for view_name, what, n, median, worst in rows:
        flag = "  over the limit" if median > args.limit else ""
        print(f"{view_name:<10} {what:<20} {n:>3} {median:>10.0f} {worst:>8.0f}{flag}")
        if median > args.limit:
            slow.append(f"{view_name} {what}")
    print(f"\nload average {os.getloadavg()[0]:.2f} at the end; limit {args.limit:.0f} ms (median)")
    if slow:
        print(f"over the limit: {', '.join(slow)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
