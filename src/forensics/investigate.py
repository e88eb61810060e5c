"""The investigation, end to end: ``investigate(case) -> Findings``.

Steps, in the order the data flows (DESIGN.md):

1. sessions from logins; clock offsets of unsynchronized sources;
2. the timeline on the back-office clock;
3. complaints linked to candidate orders, the spike against the background;
4. exposure of every access event as an interval of orders;
5. common-point statistics for every candidate path;
6. indicators; the leak path; machine-level detail of the path;
7. suspects with their evidence; the evidence graph.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import replace
from functools import partial
from pathlib import Path

import numpy as np
import polars as pl

from .analysis.clock import ClockOffset, estimate_offsets
from .analysis.commonpoint import (
    CommonPointSettings,
    common_points,
    complaint_hits,
    flagged,
    keyed_counts,
    onset,
    score_paths,
)
from .analysis.complaints import (
    SPIKE_P,
    ComplaintRate,
    complaint_orders,
    complaint_rate,
    link_complaints,
    specific_orders,
)
from .analysis.exposure import (
    LEVELS,
    SIMPLE_LEVELS,
    OrderIndex,
    candidate_events,
    exposure_events,
    infection_starts,
    level_members,
    machine_order,
    order_index,
    unknown_extent,
)
from .analysis.graph import evidence_graph
from .analysis.indicators import access_rows, flagged_paths
from .analysis.indicators import indicators as find_indicators
from .analysis.orderage import age_adjusted, fit_age_model
from .analysis.review import (
    apply_exclusions,
    apply_identifications,
    person_statements,
    recorded,
    to_review,
    unproven_malware,
)
from .analysis.sessions import sessionize
from .analysis.since import since_counts
from .analysis.spikeshare import spike_end, spike_shares
from .analysis.streams import stream_openings
from .analysis.suspects import rank_suspects, top_is_visitor
from .analysis.timeline import timeline as build_timeline
from .analysis.vector import VectorCall, classify, refine_malware_kind
from .case import Case, load, typed_like
from .case.custody import output_folder
from .case.localtime import zone
from .case.notes import Notes, load_notes
from .findings import Findings
from .progress import steps
from .vocab import VectorKind

__all__ = ["investigate", "run_investigation"]


def investigate(
    case: Case,
    *,
    settings: CommonPointSettings | None = None,
    progress: bool = False,
    complaint_nodes: bool = True,
    notes: Notes | None = None,
) -> Findings:
    """Run the whole investigation on a loaded case.

    ``notes``: the investigator's statements (:func:`forensics.case.notes.load_notes`),
    checked against the record and applied where it does not contradict them
    (:mod:`forensics.analysis.review`).

    ``complaint_nodes=False``: the evidence graph without a node per
    complaint (see :func:`forensics.analysis.graph.evidence_graph`); what
    ``findings.json`` says is the same, and ``forensics investigate``, which
    writes only that, saves building tens of thousands of edges.
    """
    settings = settings or CommonPointSettings()
    bar = steps(8, "investigate", enabled=progress)
    sessions = sessionize(case)
    offsets = estimate_offsets(case)
    bar("timeline")
    # Indicators and people need the access events of exports and of stale
    # accounts only; the full timeline is built if a reader asks for it.
    tl = build_timeline(case, offsets, access=access_rows(case))
    tl, note_outcomes = apply_identifications(case, tl, notes)
    bar("complaints")
    linked = link_complaints(case)
    corders = complaint_orders(case, linked)
    # The overlap tests count the orders a complaint points to; a complaint
    # naming only a buyer with many orders points nowhere in particular.
    tested = specific_orders(corders)
    rate = complaint_rate(case, linked)
    bar("exposure")
    index = order_index(case)
    events = exposure_events(case, sessions, index)
    starts = infection_starts(case, offsets)
    bar("common points")
    hits = complaint_hits(events, tested, index)
    last_deadline = linked["deadline"].max()
    universe = index.count_placed_until(last_deadline) if last_deadline is not None else index.size
    known = tested.join(index.orders.select("order_id", "idx"), on="order_id")
    in_universe = known.filter(pl.col("idx") < universe)
    complained = in_universe["order_id"].n_unique()
    counted = (
        linked.filter(~pl.col("repeat"))
        .join(known.select("complaint_id").unique(), on="complaint_id", how="semi")
        .select("complaint_id")
    )
    spike_start, spike = _spike(case, rate, linked.join(counted, on="complaint_id", how="semi"))
    overlap = (
        settings
        if spike_start is not None
        else replace(
            settings,
            alpha=settings.alpha * settings.quiet_factor,
            min_hits=max(settings.min_hits, settings.quiet_min_hits),
        )
    )
    cp_args = dict(
        counted_complaints=counted, universe=universe, complained=complained, settings=overlap
    )
    # A level at a time: a large case has tens of millions of (path, event)
    # pairs, and each level's counts need only its own. Past the counts, only
    # the events that exposed a complained order matter (onset, the graph).
    hit_events = hits.select("ev").unique()
    # The members among those events, at the levels whose candidate is a
    # column of the event: looked up on those few events, not filtered out
    # of every level's millions of members.
    hit_members = [_simple_hit_members(case, events, hit_events.get_column("ev"))]
    by_machine = None
    counts = []
    for level in LEVELS:
        if level in SIMPLE_LEVELS:
            keyed, cands = level_members(case, events, level, lazy=True)
            counts.append(
                keyed_counts(
                    keyed, cands, events, hits, counted_complaints=counted, universe=universe
                )
            )
            del keyed
            continue
        if starts.get(level) is None or starts[level].is_empty():
            # No such path: an empty table of the level's columns.
            keyed, cands = level_members(case, events, level, starts=starts)
            counts.append(
                keyed_counts(
                    keyed, cands, events, hits, counted_complaints=counted, universe=universe
                )
            )
            continue
        # A device or process path holds every event on its machines from
        # its first sighting there on: counted from the machine order
        # itself, never listing its (path, event) pairs (tens of millions).
        if by_machine is None:
            by_machine = machine_order(events)
        table, members = since_counts(
            by_machine,
            starts[level],
            level,
            events,
            hits,
            counted_complaints=counted,
            universe=universe,
        )
        counts.append(table)
        hit_members.append(members)
    del by_machine
    hit_members = pl.concat(hit_members)
    points = score_paths(
        pl.concat(counts),
        n_complaints=counted.height,
        universe=universe,
        complained=complained,
        settings=overlap,
    )
    points = onset(
        points,
        hit_members,
        events,
        hits,
        complaints=linked.join(counted, on="complaint_id", how="semi"),
        spike_complaints=spike,
        spike_start=spike_start,
        period_start=index.placed.min(),
        opened=stream_openings(case, events),
        universe=universe,
        share_of=_spike_share_of(
            case, events, offsets, index, linked, spike, hits, known.get_column("idx")
        ),
        settings=settings,
        dated_by=rate.dated_by,
    )
    bar("indicators")
    inds = find_indicators(case, tl, events)
    points = flagged(points, flagged_paths(case, inds), settings=settings)
    points, excluded = apply_exclusions(points, notes)
    note_outcomes += excluded
    # What follows looks at the significant paths only.
    members = candidate_events(
        case,
        events,
        offsets,
        paths=points.filter(pl.col("significant")).select("level", pl.col("id").alias("cand")),
    )
    outside_spike = counted.join(spike, on="complaint_id", how="anti")
    background = (
        in_universe.join(outside_spike, on="complaint_id", how="semi").get_column("idx").to_numpy()
    )
    age_model = fit_age_model(background, universe)
    points = age_adjusted(
        points,
        members,
        events,
        age_model,
        universe=universe,
        complained=complained,
        overlap=overlap,
        settings=settings,
        # Each path's lean from the complaints about other orders: with no
        # spike (or a spike that is not the leak's) the leak's complaints
        # are among the "background" ones.
        leave_out=background,
    )
    complained_mask = np.zeros(universe, dtype=bool)
    complained_mask[in_universe.get_column("idx").to_numpy()] = True
    call = classify(
        case,
        points,
        events,
        members,
        inds,
        starts,
        hits,
        spike=spike_start is not None,
        complained=complained_mask,
        more_members=lambda paths: candidate_events(case, events, offsets, paths=paths),
    )
    path_members = _path_members(call, points, events, hits, cp_args)
    bar("suspects")
    suspects = rank_suspects(case, call, tl, inds, sessions, events=events, hits=hits)
    statements, said = person_statements(suspects, notes)
    note_outcomes += said + recorded(notes)
    if statements:
        suspects = rank_suspects(
            case, call, tl, inds, sessions, events=events, hits=hits, statements=statements
        )
    call = refine_malware_kind(call, top_is_visitor=top_is_visitor(suspects), case=case, tl=tl)
    ruled = _ruled_out(points, call, rate)
    unproven = unproven_malware(points, starts)
    if call.kind == "none" and unproven:
        # No path concentrates the complaints, yet the endpoints show
        # malware: say so, not just "none".
        found = "; ".join(
            f"{m['level']} {m['id']} on {len(m['machines'])} machine(s)" for m in unproven[:3]
        )
        call = replace(
            call,
            rationale=(
                *call.rationale,
                f"malware found but not shown to have leaked: {found} (see to_review)",
            ),
        )
    unknown = unknown_extent(case)
    bar("evidence graph")
    findings = Findings(
        case=case,
        vector=call,
        suspects=suspects,
        points=points,
        path_members=path_members,
        clock_offsets=offsets,
        complaints=linked,
        complaint_orders=corders,
        rate=rate,
        sessions=sessions,
        events=events,
        members=members,
        hits=hits,
        indicators=inds,
        ruled_out=ruled,
        infection_starts=starts,
        order_index=index,
        unknown_extent=unknown,
        age_model=age_model,
        notes=notes,
        note_outcomes=tuple(sorted(note_outcomes, key=lambda o: o.line)),
        to_review=tuple(to_review(case, call, suspects, tl, unknown, unproven=unproven)),
        settings={
            "alpha": settings.alpha,
            "min_lift": settings.min_lift,
            "min_hits": settings.min_hits,
            "onset_window_days": settings.onset_window_days,
            "min_onset_coverage": settings.min_onset_coverage,
        },
    )
    return replace(findings, graph=evidence_graph(findings, complaints=complaint_nodes))


def _simple_hit_members(case: Case, events: pl.DataFrame, ev: pl.Series) -> pl.DataFrame:
    """``level``, ``cand``, ``ev``: the members among the events ``ev`` at
    every level whose candidate is a column of the event, level by level in
    the order of :data:`LEVELS`."""
    few = events.filter(pl.col("ev").is_in(ev.implode()))
    parts = [
        candidate_events(case, few, levels=(level,)) for level in LEVELS if level in SIMPLE_LEVELS
    ]
    return pl.concat(parts)


def _spike(case: Case, rate: ComplaintRate, counted: pl.DataFrame):
    """The spike's first instant (UTC) and the counted complaints inside it."""
    if not rate.has_spike or rate.p_value > SPIKE_P:
        # A lone busy day is not a spike worth dating a leak by.
        return None, counted.clear()
    from datetime import UTC, datetime, time

    start = datetime.combine(rate.spike_start, time(0), tzinfo=zone(case.timezone())).astimezone(
        UTC
    )
    day = pl.col(rate.dated_by).dt.convert_time_zone(case.timezone()).dt.date()
    inside = counted.filter((day >= rate.spike_start) & (day <= rate.spike_end))
    return start, inside.select("complaint_id")


def _spike_share_of(
    case: Case,
    events: pl.DataFrame,
    offsets: Mapping[str, ClockOffset],
    index: OrderIndex,
    complaints: pl.DataFrame,
    spike: pl.DataFrame,
    hits: pl.DataFrame,
    complained: pl.Series,
) -> Callable[[pl.DataFrame], pl.DataFrame] | None:
    """The onset test's share (and lift) of each path: among the orders the
    spike's buyers could have had (:mod:`forensics.analysis.spikeshare`);
    None without a spike."""
    until = spike_end(complaints, spike)
    if until is None:
        return None
    return partial(
        spike_shares,
        case,
        events,
        until=until,
        index=index,
        offsets=offsets,
        hits=hits,
        complained=complained,
    )


def _path_members(
    call: VectorCall, points: pl.DataFrame, events: pl.DataFrame, hits: pl.DataFrame, cp_args: dict
) -> pl.DataFrame:
    """The machines, accounts and apps of the leak path, each scored on the
    part of the path that went through it.

    For malware, each machine the significant device or process reached,
    from its infection on; otherwise the accounts, machines and apps of the
    events that opened the path (the exports, the stale account's access,
    the app's pulls). They belong to the path because an access or endpoint
    row ties them to it, not because each passes a test of its own: a
    machine that showed few orders after infection still leaked them. So
    ``significant`` is set for every one that exposed at least one
    complained order in time.
    """
    anchors = call.anchors
    if anchors.is_empty() or call.kind == VectorKind.NONE:
        return points.clear()
    # Lazy: only the path's events are ever copied out of the millions.
    live = (
        events.lazy()
        .select("ev", "at", "account_id", "machine_id", "app_id", "lo", "hi")
        .filter(pl.col("hi") > pl.col("lo"))
    )
    if call.kind == VectorKind.MALWARE:
        since = anchors.group_by("machine_id").agg(pl.col("at").min().alias("since"))
        members = (
            live.join(typed_like(since.lazy(), live, "machine_id"), on="machine_id")
            .filter(pl.col("at") >= pl.col("since"))
            .select(
                pl.lit("machine").alias("level"),
                pl.col("machine_id").cast(pl.String).alias("cand"),
                "ev",
            )
            .collect()
        )
    else:
        path = live.join(anchors.lazy().select("ev"), on="ev").collect()
        members = pl.concat(
            [
                path.select(
                    pl.lit(level).alias("level"), pl.col(col).cast(pl.String).alias("cand"), "ev"
                )
                for level, col in (
                    ("account", "account_id"),
                    ("machine", "machine_id"),
                    ("app", "app_id"),
                )
            ]
        ).drop_nulls("cand")
    table = common_points(members, events, hits, **cp_args)
    return table.with_columns(
        (pl.col("hits") > 0).alias("significant"), (-pl.col("log10_p")).alias("strength")
    )


def _ruled_out(points: pl.DataFrame, call: VectorCall, rate: ComplaintRate) -> tuple[str, ...]:
    """Plain statements of what the evidence excludes, for the report."""
    out = []
    if not rate.has_spike:
        out.append("complaints show no spike above the background rate")
    big = points.filter((pl.col("ruled_out_fields") > 0) | (pl.col("ruled_out_time") > 0)).sort(
        pl.col("ruled_out_fields") + pl.col("ruled_out_time"),
        pl.col("level"),
        pl.col("id"),
        descending=[True, False, False],
    )
    for r in big.head(10).iter_rows(named=True):
        parts = []
        if r["ruled_out_time"]:
            parts.append(f"{r['ruled_out_time']} complaint(s) only seen after the scammer called")
        if r["ruled_out_fields"]:
            parts.append(
                f"{r['ruled_out_fields']} complaint(s) quoting fields this path cannot show"
            )
        out.append(f"{r['level']} {r['id']}: " + "; ".join(parts))
    broad = points.filter((pl.col("coverage") >= 0.5) & ~pl.col("significant")).head(5)
    for r in broad.iter_rows(named=True):
        out.append(
            f"{r['level']} {r['id']} saw {r['coverage']:.0%} of complained orders but no more than "
            f"its share of all orders (lift {r['lift']:.2f}): a common path, not the leak"
        )
    return tuple(out)


def _import_analysis_libraries() -> None:
    """Import what the steps after the load use and ``import forensics``
    leaves out."""
    import networkx  # noqa: F401
    import scipy.special  # noqa: F401


def run_investigation(
    case_path: Path, out: Path, *, progress: bool = True, notes: Path | None = None
) -> int:
    """CLI entry: load, investigate, write ``findings.json`` into ``out``.

    The buyers' personal data is checked but not held (``personal=False``):
    findings.json carries none of it. ``notes``: the investigator's notes
    file, read beside the case (never inside it).
    """
    output_folder(out, case_path, create=False)
    # The investigation needs scipy.special and networkx (~0.3 s to import);
    # imported on a second thread while the case loads (polars lets go of
    # the GIL), not before it.
    warm = threading.Thread(target=_import_analysis_libraries, daemon=True)
    warm.start()
    try:
        case = load(case_path, progress=progress, personal=False)
    finally:
        warm.join()  # never left importing while the process exits
    out = Path(out)
    findings = investigate(
        case,
        progress=progress,
        complaint_nodes=False,
        notes=load_notes(notes) if notes is not None else None,
    )
    out = output_folder(out, case_path)
    (out / "findings.json").write_text(findings.to_json(), encoding="utf-8")
    v = findings.vector
    print(f"vector: {v.kind} (confidence {v.confidence})")
    if findings.suspects:
        top = findings.suspects[0]
        print(f"top suspect: {top.person_id} (score {top.score})")
    else:
        print("no person named by the evidence")
    print(f"findings written to {out / 'findings.json'}")
    return 0
