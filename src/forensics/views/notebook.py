"""Small helpers that keep the walkthrough notebooks' cells thin.

They only select and word what :func:`forensics.investigate` found; the
analysis lives in the engine modules. The ``*_summary`` functions return
plain, stable text: the notebooks print it in cells whose stored output
nbval compares, so a change in a finding fails ``make test``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

import polars as pl

from ..analysis.complaints import MAX_BUYER_ORDERS
from ..analysis.suspects import Suspect
from ..case import load
from ..case.custody import output_folder as custody_output_folder
from ..case.localtime import local_iso
from ..case.notes import Notes
from ..findings import Findings
from ..investigate import investigate
from ..vocab import VectorKind

__all__ = [
    "open_case",
    "headline",
    "inputs_table",
    "complaint_summary",
    "leak_window",
    "complained_orders",
    "paths_summary",
    "significant_paths",
    "clock_summary",
    "clock_comparison",
    "anomalies",
    "suspects_summary",
    "evidence_table",
    "output_folder",
    "figures",
]


def open_case(path: str | Path, *, progress: bool = False, notes: Notes | None = None) -> Findings:
    """Load the case folder at ``path`` and investigate it, with the
    investigator's ``notes`` (:func:`forensics.case.notes.load_notes`) if any."""
    return investigate(load(path, progress=progress), progress=progress, notes=notes)


def _local(findings: Findings, at: datetime | None) -> str:
    if at is None:
        return "open"
    # "+08:00" rather than "%Z": zone abbreviations are ambiguous (CST).
    return local_iso(at, findings.case.timezone(), sep=" ", timespec="minutes")


def headline(findings: Findings) -> str:
    """The investigation's conclusions in a few lines.

    Leak path and confidence, leak window, top suspect (or a plain statement
    that nobody is named), machines on the path, clock offsets.
    """
    v = findings.vector
    lines = [
        f"case {findings.case.meta.case_id}",
        f"leak path: {v.kind} (confidence {v.confidence:.2f})",
        f"leak window: {leak_window(findings)}",
    ]
    if findings.suspects:
        top = findings.suspects[0]
        lines.append(
            f"top suspect: {top.person_id} ({top.role or 'not on staff list'}, "
            f"score {top.score:.3f})"
        )
    else:
        lines.append("top suspect: none (the evidence names no person)")
    lines.append(
        f"machines on the leak path: {len(v.machines)}"
        + (f" ({', '.join(sorted(v.machines))})" if v.machines else "")
    )
    lines.append(clock_summary(findings))
    return "\n".join(lines)


def inputs_table(findings: Findings) -> pl.DataFrame:
    """One row per input file: rows read, accepted, quarantined, encoding."""
    return pl.DataFrame(
        [
            {
                "file": f.file,
                "format": f.format,
                "encoding": f.encoding,
                "rows": f.rows,
                "accepted": f.accepted,
                "quarantined": f.quarantined,
            }
            for f in findings.case.inputs
        ],
        schema={
            "file": pl.String,
            "format": pl.String,
            "encoding": pl.String,
            "rows": pl.Int64,
            "accepted": pl.Int64,
            "quarantined": pl.Int64,
        },
    )


def complaint_summary(findings: Findings) -> str:
    """The complaint spike against the background rate, in words."""
    r = findings.rate
    lines = [
        f"complaints: {findings.complaints.height}, {r.dating}",
        f"background: {r.background_per_day:.2f} per day",
    ]
    if r.has_spike:
        lines.append(
            f"spike: {r.spike_start} to {r.spike_end}, {r.spike_complaints} complaints "
            f"({r.excess:.0f} above background, p = {r.p_value:.1e})"
        )
    else:
        lines.append("spike: none above the background rate")
    lines.append(f"complained orders: {findings.complaint_orders['order_id'].n_unique()}")
    if findings.too_vague:
        lines.append(
            f"naming only a buyer with more than {MAX_BUYER_ORDERS} orders (not counted by "
            f"the overlap tests): {findings.too_vague} complaints"
        )
    return "\n".join(lines)


def leak_window(findings: Findings) -> str:
    """``start → end`` of the leak in the case's zone (``open`` if unknown)."""
    v = findings.vector
    if v.kind == VectorKind.NONE:
        return "none (no leak path found)"
    return f"{_local(findings, v.leak_start)} → {_local(findings, v.leak_end)}"


def complained_orders(findings: Findings) -> pl.DataFrame:
    """Complaints with the orders they point at, personal columns included.

    Display it through :func:`forensics.views.widgets.show_table`, which masks
    the personal columns and escapes the complaint text.
    """
    case = findings.case
    links = findings.complaint_orders.select("complaint_id", "order_id", "explicit")
    complaints = case.complaints.select(
        "complaint_id", "received_at", "category", "quoted_fields", "text"
    )
    orders = case.orders.select(
        "order_id",
        "placed_at",
        *(c for c in ("buyer_name", "phone", "address") if c in case.orders.columns),
    )
    return (
        complaints.join(links, on="complaint_id", how="left")
        .join(orders, on="order_id", how="left")
        .sort("received_at", "complaint_id")
    )


def paths_summary(findings: Findings) -> str:
    """How many candidate paths were tested and found significant, by level."""
    points = findings.points
    counts = (
        points.group_by("level")
        .agg(pl.len().alias("tested"), pl.col("significant").sum().alias("significant"))
        .sort("level")
    )
    lines = [f"candidate paths tested: {points.height}; significant on their own test:"]
    lines += [
        f"  {r['level']}: {r['significant']} of {r['tested']}" for r in counts.iter_rows(named=True)
    ]
    machines = findings.vectors.filter(pl.col("level") == "machine")["id"].to_list()
    lines.append(
        f"significant machines in findings.json (leak-path members included): {len(machines)}"
        + (f" ({', '.join(sorted(machines))})" if machines else "")
    )
    lead = findings.vector.lead
    if lead:
        lines.append(
            f"strongest: {lead['level']} {lead['id']} (coverage {lead['coverage']:.0%}, "
            f"lift {lead['lift']:.1f})"
        )
    return "\n".join(lines)


def significant_paths(findings: Findings) -> pl.DataFrame:
    """The significant paths of findings.json, rounded for reading."""
    return findings.vectors.select(
        "level",
        "id",
        pl.col("coverage").round(3),
        pl.col("lift").round(2),
        pl.col("p_value").map_elements(lambda p: f"{p:.2g}", return_dtype=pl.String),
        "hits",
        "exposed",
        "first_exposure",
    )


def clock_summary(findings: Findings) -> str:
    """Each unsynchronized clock's estimated offset, or that none needed one."""
    if not findings.clock_offsets:
        return "clock offsets: none estimated (no file is marked unsynchronized)"
    return "\n".join(
        f"clock offset of {o.file}: {o.text} against the back office "
        f"({o.pairs} pairs, confidence {o.confidence:.2f})"
        for o in sorted(findings.clock_offsets.values(), key=lambda o: o.file)
    )


def clock_comparison(
    findings: Findings, *, person: str | None = None, activity: str = "insert_device"
) -> pl.DataFrame:
    """Camera sightings as recorded and as placed on the back-office clock.

    ``recorded`` is the camera's own time stamp (local), ``corrected`` the
    time the timeline uses after removing the estimated offset, and
    ``endpoint`` the nearest USB connection on the same machine, if any.
    """
    case = findings.case
    if "camera" not in case.present:
        return pl.DataFrame()
    tz = case.timezone()
    camera = case.camera.filter(pl.col("activity") == activity)
    if person is not None:
        camera = camera.filter(pl.col("person_id") == person)
    placed = findings.timeline.filter(pl.col("table") == "camera").select(
        pl.col("row").alias("_row"), pl.col("at").alias("corrected")
    )
    usb = (
        findings.timeline.filter(pl.col("action") == "usb_connect")
        .select("machine_id", pl.col("at").alias("endpoint"), pl.col("row").alias("endpoint_row"))
        .sort("endpoint")
    )
    return (
        camera.join(placed, on="_row")
        .sort("corrected")
        .join_asof(
            usb,
            left_on="corrected",
            right_on="endpoint",
            by="machine_id",
            strategy="nearest",
            tolerance="30m",
            check_sortedness=False,  # both sides sorted by time; "by" hides it from polars
        )
        .select(
            pl.col("_row").alias("camera_row"),
            "person_id",
            "machine_id",
            pl.col("start_at").dt.convert_time_zone(tz).alias("recorded"),
            pl.col("corrected").dt.convert_time_zone(tz),
            pl.col("endpoint").dt.convert_time_zone(tz),
            "endpoint_row",
        )
    )


def anomalies(findings: Findings, *, people: Sequence[str] | None = None) -> pl.DataFrame:
    """Indicators (off-hours, USB, new hire...) of ``people`` (default: the
    suspects; everyone when there are none), oldest first."""
    if people is None:
        people = [s.person_id for s in findings.suspects]
    ind = findings.indicators
    if people:
        ind = ind.filter(pl.col("person_id").is_in(list(people)))
    return ind.select(
        "at", "indicator", "person_id", "machine_id", "source", "row", "summary"
    ).sort("at")


def suspects_summary(findings: Findings) -> str:
    """The ranked suspects with their evidence counts, or a plain statement."""
    if not findings.suspects:
        kind = findings.vector.kind
        why = (
            "a third-party app, not a person, holds the leak path"
            if kind == VectorKind.THIRD_PARTY_APP
            else "no access path concentrates the complained orders"
            if kind == VectorKind.NONE
            else "no one is linked to the leak path by the evidence"
        )
        return f"nobody is named: {why} (leak path: {kind})"
    lines = []
    for i, s in enumerate(findings.suspects, start=1):
        against = sum(1 for e in s.evidence if e.direction == "against")
        lines.append(
            f"{i}. {s.person_id} ({s.role or 'not on staff list'}) score {s.score:.3f}: "
            f"{len(s.evidence) - against} item(s) for, {against} against"
        )
    return "\n".join(lines)


def evidence_table(suspect: Suspect, *, direction: str | None = None) -> pl.DataFrame:
    """A suspect's evidence rows (``direction``: "for", "against" or None)."""
    rows = [
        {
            "kind": e.kind,
            "weight": e.weight,
            "source": e.source,
            "row": e.row,
            "at": e.at,
            "summary": e.summary,
        }
        for e in suspect.evidence
        if direction is None or e.direction == direction
    ]
    return pl.DataFrame(
        rows,
        schema={
            "kind": pl.String,
            "weight": pl.Float64,
            "source": pl.String,
            "row": pl.Int64,
            "at": pl.Datetime("us", "UTC"),
            "summary": pl.String,
        },
    )


def output_folder(out: str | Path, case: str | Path) -> Path:
    """Create ``out`` and return it, refusing a folder inside the case
    (:class:`~forensics.case.OutputInCaseError`, a ValueError).

    The case folder is evidence: nothing is ever written into it.
    """
    return custody_output_folder(out, case)


def figures(findings: Findings) -> dict[str, object]:
    """The report's charts by file stem: spike, coverage, timeline, graph.

    The timeline follows the top suspect when there is one.
    """
    from . import charts

    top = findings.suspects[0].person_id if findings.suspects else None
    return {
        "complaints": charts.complaint_spike(findings),
        "coverage": charts.coverage(findings, significant_only=True),
        "timeline": charts.timeline(findings, person=top, tz=findings.case.timezone()),
        "evidence-graph": charts.evidence_graph(findings),
    }
