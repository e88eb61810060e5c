"""The common-point core on its own: the heavy step, for benchmarks and scale.

:func:`core_counts` is exactly what :func:`forensics.investigate` computes for
every candidate path at the account, machine and IP levels (the levels every
case has), without the statistics, classification or people on top:

``exposed``
    distinct orders the path exposed, among the orders placed up to the last
    complaint deadline (an export or API pull exposes the orders placed in
    ``[range_start, min(range_end, at)]``; a view, label print or search with
    an order id exposes that order; ``range_start`` empty = from the first
    order; ``range_end`` empty = up to the event);
``hits``
    distinct complained orders it exposed at or before the complaint's
    deadline (``min(contacted_at, received_at)``) through an action that can
    show every field the complaint quoted (a label print shows no amount). A
    complaint names its order, or else every order of its buyer placed
    before the complaint was received.

A reference implementation that expands ranges into (event, order) rows
must give the same numbers (see ``benchmarks/``).

:func:`prepare` writes the counting inputs of a case to a folder for
:func:`forensics.scale.portable.core_counts_spark`; ``python -m
forensics.scale prepare CASE DIR`` and ``python -m forensics.scale count DIR``
(:func:`main`) do both steps from a shell.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from ..analysis.commonpoint import complaint_hits
from ..analysis.complaints import complaint_orders, link_complaints
from ..analysis.exposure import (
    CANDIDATE_KEY,
    SIMPLE_LEVELS,
    candidate_events,
    exposure_events,
    level_codes,
    order_index,
)
from ..analysis.sessions import sessionize
from ..case import Case, load
from .portable import core_counts_spark, core_table, spark_session, write_prepared

__all__ = ["CORE_LEVELS", "CoreInputs", "core_inputs", "core_counts", "prepare", "main"]

CORE_LEVELS = ("account", "machine", "ip")


@dataclass(frozen=True)
class CoreInputs:
    """What the counting needs, prepared from a case (the local step)."""

    members: pl.DataFrame  # level, cand, ev; numbered: a column of _k per level, a row per event
    events: pl.DataFrame  # ev, lo, hi, … (exposure_events)
    hits: pl.DataFrame  # ev, idx: exposed in time through an action showing the quoted fields
    universe: int  # orders placed up to the last complaint deadline
    cands: pl.DataFrame | None = None  # numbered: _k, level, cand


def core_inputs(
    case: Case, *, levels: tuple[str, ...] = CORE_LEVELS, numbered: bool = False
) -> CoreInputs:
    """Sessions, exposure intervals, linked complaints and candidate paths:
    everything before the counting, in polars.

    ``numbered``: each event's candidate number at each level, straight off
    the events (:func:`forensics.analysis.exposure.level_codes`; ``cands`` names
    the numbers; only levels whose candidate is a column of the event),
    rather than one (level, cand, ev) row of strings per pair, which is
    what a Spark cluster is handed.
    """
    index = order_index(case)
    # Sessions only matter to the session level; skipping them saves a sort
    # and an as-of join of every access event.
    sessions = sessionize(case) if "session" in levels else None
    events = exposure_events(case, sessions, index)
    linked = link_complaints(case)
    hits = complaint_hits(events, complaint_orders(case, linked), index)
    last = linked["deadline"].max()
    universe = index.count_placed_until(last) if last is not None else index.size
    cands = None
    if numbered:
        members, cands = _level_codes(case, events, levels)
    else:
        members = candidate_events(case, events, levels=levels)
    return CoreInputs(
        members=members,
        events=events,
        hits=hits.filter(pl.col("in_time") & pl.col("fields_ok")).select("ev", "idx"),
        universe=universe,
        cands=cands,
    )


def _level_codes(
    case: Case, events: pl.DataFrame, levels: tuple[str, ...]
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """:func:`level_codes` of each level, numbered one after the other: a
    column per level, a row per event."""
    columns, cands, offset = {}, [], 0
    for level in levels:
        codes, c = level_codes(case, events, level, first=offset)
        columns[level] = codes
        cands.append(c)
        if c.height:
            offset += int(c.get_column(CANDIDATE_KEY).max()) + 1
    return pl.DataFrame(columns, height=events.height), pl.concat(cands)


def core_counts(case: Case, *, levels: tuple[str, ...] = CORE_LEVELS) -> pl.DataFrame:
    """``level``, ``cand``, ``exposed``, ``hits`` for every path at ``levels``,
    sorted by level and candidate.

    The counting is :func:`forensics.scale.portable.core_table`, the same code
    :func:`forensics.scale.portable.core_counts_spark` runs on Spark.
    """
    # Levels whose candidate is a column of the event are numbered in place.
    numbered = all(level in SIMPLE_LEVELS for level in levels)
    inputs = core_inputs(case, levels=levels, numbered=numbered)
    return core_table(
        inputs.members, inputs.events, inputs.hits, limit=inputs.universe, cands=inputs.cands
    )


def prepare(case: Case, out: Path, *, levels: Sequence[str] | None = None) -> Path:
    """The local step: build the counting core's inputs from a loaded case and
    write them to ``out`` for :func:`~forensics.scale.portable.core_counts_spark`."""
    inputs = core_inputs(case, levels=tuple(levels or CORE_LEVELS))
    return write_prepared(inputs.members, inputs.events, inputs.hits, inputs.universe, out)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m forensics.scale",
        description="Count the common-point core of a large case on Spark.",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("prepare", help="load CASE locally and write the counting inputs to DIR")
    p.add_argument("case")
    p.add_argument("out")
    c = sub.add_parser("count", help="count a prepared DIR on Spark")
    c.add_argument("prepared")
    c.add_argument("--master", help="Spark master URL (ignored when SPARK_REMOTE is set)")
    c.add_argument("--out", help="write the table here (.csv or .parquet); default: print it")
    args = parser.parse_args(argv)
    if args.command == "prepare":
        print(prepare(load(args.case), Path(args.out)))
        return 0
    table = core_counts_spark(spark_session(args.master), args.prepared)
    if args.out is None:
        with pl.Config(tbl_rows=-1):
            print(table)
    elif args.out.endswith(".parquet"):
        table.write_parquet(args.out)
    else:
        table.write_csv(args.out)
    return 0
