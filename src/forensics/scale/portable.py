"""The exposure and common-point counts written once, for polars and for Spark.

:func:`core_table` is the counting core of :func:`forensics.scale.core.core_counts`
and :func:`union_size`, written against narwhals, so the
same code runs on polars on one machine and on a Spark cluster (or DuckDB)
when one machine is not enough:

``exposed``
    distinct orders a candidate's events exposed: the total length of the
    union of their ``[lo, hi)`` intervals of order numbers, clipped to
    ``limit``. Intervals are sorted by start; each adds what lies beyond the
    furthest end of the candidate's earlier intervals.
``hits``
    distinct complained orders among the hit pairs (event, order) of the
    candidate's events.

How "earlier intervals" are found is the one thing that depends on the kind
of frame. An eager frame (polars in memory) has a row order: candidates get
their own stretch of the number line (candidate number × span + order
number), one sort and one running maximum sweep them all, and intervals are
looked up by row number; polars runs this several times faster than a
window per candidate. A lazy frame (Spark, DuckDB, a polars LazyFrame) has
no row order: the running maximum is a window per candidate ordered by
start, and intervals come from a join. Both branches are tested against each
other and against counting order by order.

Where things run
----------------
Loading, validation, clocks, complaint linking and building the candidate
paths stay local (polars): :func:`forensics.scale.core.prepare` runs them
and writes the three tables the counting needs to Parquet (``members``:
level, cand, ev; ``events``: ev, lo, hi; ``hits``: ev, idx; plus
``universe``) with :func:`write_prepared`. :func:`core_counts_spark` counts
them on Spark and returns the small table (one row per candidate) to polars.
``python -m forensics.scale prepare CASE DIR`` and ``python -m forensics.scale
count DIR`` do the same from a shell; ``SPARK_REMOTE=sc://host:15002`` (Spark
Connect) or ``--master URL`` point the count at a cluster.

This module needs no case and nothing of :mod:`forensics.analysis`: the
analysis counts with it, and :mod:`forensics.scale.core` builds its inputs.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import narwhals as nw
import numpy as np
import polars as pl

from .sweep import exposed_sweep

__all__ = [
    "PREPARED_TABLES",
    "core_table",
    "exposed_sweep",
    "union_size",
    "write_prepared",
    "spark_session",
    "core_counts_spark",
]

PREPARED_TABLES = ("members", "events", "hits")

_KEY = "_k"  # candidate number
_I64 = nw.Int64


def core_table(
    members: Any, events: Any, hits: Any = None, *, limit: int, cands: Any = None
) -> Any:
    """``level``, ``cand``, ``exposed`` (and ``hits``) for every candidate.

    Parameters
    ----------
    members : frame with ``level``, ``cand``, ``ev``
        Which access events make up each candidate path. With ``cands``
        (eager frames only), the candidates already numbered: either
        ``_k``, ``ev`` (and optionally the event's ``lo``, ``hi``, not
        looked up again), or one column per level holding each event's
        candidate number (null: none), a row per event of ``events``,
        which must then be numbered by row
        (:func:`forensics.scale.core.core_inputs` with ``numbered``).
    events : frame with ``ev``, ``lo``, ``hi``
        The interval ``[lo, hi)`` of order numbers each event exposed.
    hits : frame with ``ev``, ``idx``, optional
        Pairs (event, complained order) that count as hits; ``hits`` is the
        number of distinct ``idx`` over a candidate's events. Omitted: no
        ``hits`` column.
    limit : int
        Count only orders numbered below ``limit`` (the universe).
    cands : frame with ``_k``, ``level``, ``cand``, optional
        The candidates numbered by ``members``' ``_k``: one row each, each
        (level, cand) once.

    Frames are polars, Spark or DuckDB frames (or narwhals wrappers of
    them), all eager or all lazy, of one backend. A candidate whose
    intervals all lie at or past ``limit`` is left out.

    Returns
    -------
    A frame of the same kind (eager polars in, eager polars out; a Spark
    DataFrame in, a lazy Spark DataFrame out), sorted by level and
    candidate; ``exposed`` and ``hits`` are Int64.

    Examples
    --------
    >>> import polars as pl
    >>> members = pl.DataFrame({"level": ["account"] * 2, "cand": ["a1"] * 2, "ev": [0, 1]})
    >>> events = pl.DataFrame({"ev": [0, 1], "lo": [0, 5], "hi": [10, 20]})
    >>> core_table(members, events, limit=15).rows()
    [('account', 'a1', 15)]
    """
    members = nw.from_native(members)
    events = nw.from_native(events)
    eager = isinstance(members, nw.DataFrame)
    if eager != isinstance(events, nw.DataFrame):
        raise TypeError("members and events must both be eager frames or both lazy")
    limit = int(limit)
    if limit < 0:
        raise ValueError(f"limit must be >= 0, got {limit}")
    if cands is not None:
        if not eager:
            raise TypeError("numbered members (cands=) must be eager frames")
        cands = nw.from_native(cands).select(nw.col(_KEY).cast(_I64), "level", "cand")
        if "ev" not in members.columns:
            return _by_level_columns(members, events, hits, cands, limit)
        keyed, key = members.with_columns(nw.col(_KEY).cast(_I64)), [_KEY]
    elif eager:
        # Numbering and joins run lazily even for eager frames: polars'
        # streaming engine joins several times faster than its eager one.
        members = members.lazy().select("level", "cand", "ev")
        members = members.filter(~nw.col("level").is_null() & ~nw.col("cand").is_null())
        # Candidates numbered 0, 1, 2, … for the one-sort sweep.
        cands = (
            members.select("level", "cand")
            .unique()
            .with_row_index(_KEY, order_by=["level", "cand"])
            .with_columns(nw.col(_KEY).cast(_I64))
            .collect()
        )
        keyed = members.join(cands.lazy(), on=["level", "cand"]).select(_KEY, "ev").collect()
        key = [_KEY]
    else:
        members = members.select("level", "cand", "ev")
        members = members.filter(~nw.col("level").is_null() & ~nw.col("cand").is_null())
        keyed, key = members, ["level", "cand"]
    intervals = _intervals(keyed, events.select("ev", "lo", "hi"), limit, key)
    if eager:
        top = int(cands[_KEY].max()) + 1 if cands.shape[0] else 0
        table = _exposed_in_order(intervals, span=limit + 1, candidates=top)
    else:
        table = _exposed_by_window(intervals, key)
    if hits is not None:
        per_cand = (
            nw.from_native(hits)
            .select("ev", "idx")
            .join(keyed.select(*key, "ev"), on="ev")
            .group_by(*key)
            .agg(nw.col("idx").n_unique().alias("hits"))
        )
        table = table.join(per_cand, on=key, how="left").with_columns(
            nw.col("hits").fill_null(0).cast(_I64)
        )
    if eager:
        table = cands.join(table, on=_KEY)
    columns = ["level", "cand", "exposed"] + ([] if hits is None else ["hits"])
    return table.select(columns).sort("level", "cand").to_native()


def _by_level_columns(
    codes: nw.DataFrame, events: nw.DataFrame, hits: Any, cands: nw.DataFrame, limit: int
) -> Any:
    """:func:`core_table` of members given as a column of candidate numbers
    per level, a row per event: each level swept on its own, the events'
    intervals read in place rather than copied once per member."""
    ev = events["ev"]
    n = ev.len()
    if codes.shape[0] != n or (n and not (ev[0] == 0 and ev[n - 1] == n - 1 and ev.is_sorted())):
        raise ValueError("a column per level needs one row per event, events numbered by row")
    top = int(cands[_KEY].max()) + 1 if cands.shape[0] else 0
    span = limit + 1
    if top * span >= 2**62:
        raise OverflowError(f"{top} candidates x {span} orders do not fit in Int64")
    lo = nw.col("lo").cast(_I64)
    hi = nw.min_horizontal("hi", nw.lit(limit, _I64)).cast(_I64)
    exposed = np.zeros(top, dtype=np.int64)
    for level in codes.columns:
        k = nw.col(level).cast(_I64)
        frame = events.select("lo", "hi").with_columns(codes[level]).lazy()
        frame = frame.filter(~nw.col(level).is_null() & (hi > lo))
        points = frame.filter(hi - lo == 1).select((k * span + lo).alias("p"))
        ranges = frame.filter(hi - lo > 1).select(
            (k * span + lo).alias("s"), (k * span + hi).alias("e")
        )
        points, ranges = (f.collect() for f in (points, ranges))
        # polars sorts these (partly ordered) numbers about 3x faster than
        # numpy; as a Series, not in the query, which would sort by an index.
        p = points["p"].sort().to_numpy()
        exposed += exposed_sweep(p, ranges["s"].to_numpy(), ranges["e"].to_numpy(), span, top)
        del points, p
    keys = np.flatnonzero(exposed)
    table = nw.from_dict(
        {_KEY: keys.astype(np.int64), "exposed": exposed[keys]},
        backend=nw.get_native_namespace(codes),
    )
    columns = ["level", "cand", "exposed"]
    if hits is not None:
        hits = nw.from_native(hits).select("ev", "idx")
        at = hits["ev"]
        pairs = nw.concat(
            [
                hits.select("idx").with_columns(codes[level][at].cast(_I64).alias(_KEY))
                for level in codes.columns
            ]
        ).filter(~nw.col(_KEY).is_null())
        per_cand = pairs.group_by(_KEY).agg(nw.col("idx").n_unique().alias("hits"))
        table = table.join(per_cand, on=_KEY, how="left").with_columns(
            nw.col("hits").fill_null(0).cast(_I64)
        )
        columns.append("hits")
    return cands.join(table, on=_KEY).select(columns).sort("level", "cand").to_native()


def _intervals(keyed, events, limit: int, key: list[str]):
    """``key``, ``lo``, ``hi`` of every member event, ``hi`` clipped to
    ``limit``; empty intervals dropped."""
    if {"lo", "hi"} <= set(keyed.columns):
        iv = keyed.select(*key, "lo", "hi")
    elif isinstance(keyed, nw.DataFrame) and _numbered_by_row(events["ev"], keyed["ev"]):
        # Events numbered by row (as exposure_events numbers them): look the
        # interval up by position instead of hash-joining millions of rows.
        at = keyed["ev"]
        iv = keyed.select(key).with_columns(
            events["lo"][at].alias("lo"), events["hi"][at].alias("hi")
        )
    else:
        iv = keyed.join(events, on="ev").select(*key, "lo", "hi")
    return iv.with_columns(
        nw.col("lo").cast(_I64), nw.min_horizontal("hi", nw.lit(limit, _I64)).cast(_I64)
    ).filter(nw.col("hi") > nw.col("lo"))


def _numbered_by_row(ev: nw.Series, wanted: nw.Series) -> bool:
    """``ev`` is 0, 1, 2, … and every number in ``wanted`` is one of its rows."""
    n = ev.len()
    if n and not (ev[0] == 0 and bool((ev.diff().drop_nulls() == 1).all())):
        return False
    return wanted.len() == 0 or (
        wanted.null_count() == 0 and wanted.min() >= 0 and wanted.max() < n
    )


def _added(start: nw.Expr, end: nw.Expr, covered: nw.Expr) -> nw.Expr:
    """Orders an interval adds beyond ``covered``, the furthest end of the
    candidate's intervals that start no later (null: none)."""
    return (end - nw.max_horizontal(start, covered.fill_null(start))).clip(lower_bound=0)


def _exposed_in_order(intervals: nw.DataFrame, *, span: int, candidates: int) -> nw.DataFrame:
    """Eager frames: one sweep over every candidate at once.

    Each candidate gets its own stretch of the number line (``_k * span +
    order``), so no per-candidate window is needed: :func:`exposed_sweep`.
    The frame's own engine computes and sorts the single orders (polars
    sorts on every core). ``intervals`` holds ``_k``, ``lo``, ``hi`` with
    ``hi > lo``, already clipped; candidates with none are left out.
    """
    if candidates * span >= 2**62:
        raise OverflowError(f"{candidates} candidates x {span} orders do not fit in Int64")
    base = nw.col(_KEY) * span
    one = nw.col("hi") - nw.col("lo") == 1
    points = intervals.filter(one).select((base + nw.col("lo")).alias("p"))["p"].to_numpy()
    if not points.flags.writeable:
        points = points.copy()
    points.sort()
    ranges = intervals.filter(~one).select(
        (base + nw.col("lo")).alias("s"), (base + nw.col("hi")).alias("e")
    )
    exposed = exposed_sweep(
        points, ranges["s"].to_numpy(), ranges["e"].to_numpy(), span, candidates
    )
    keys = np.flatnonzero(exposed)
    return nw.from_dict(
        {_KEY: keys.astype(np.int64), "exposed": exposed[keys]},
        backend=nw.get_native_namespace(intervals),
    )


def _exposed_by_window(intervals: nw.LazyFrame, key: list[str]) -> nw.LazyFrame:
    """Lazy frames: the same sweep as a window per candidate ordered by start.

    Ordered by start and end, so the two windows see ties in the same order
    (rows equal in both are interchangeable).
    """
    order = ["lo", "hi"]
    added = _added(nw.col("lo"), nw.col("hi"), nw.col("_covered"))
    return (
        intervals.with_columns(nw.col("hi").cum_max().over(*key, order_by=order).alias("_reach"))
        .with_columns(nw.col("_reach").shift(1).over(*key, order_by=order).alias("_covered"))
        .group_by(*key)
        .agg(added.sum().cast(_I64).alias("exposed"))
    )


# --- the local step and the Spark step ------------------------------------------


def write_prepared(
    members: pl.DataFrame, events: pl.DataFrame, hits: pl.DataFrame, universe: int, out: Path
) -> Path:
    """Write the counting core's inputs to ``out``: ``members.parquet``,
    ``events.parquet`` (events that exposed an order), ``hits.parquet`` and
    ``prepared.json`` (the universe)."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    members.select("level", "cand", "ev").write_parquet(out / "members.parquet")
    events.filter(pl.col("hi") > pl.col("lo")).select("ev", "lo", "hi").write_parquet(
        out / "events.parquet"
    )
    hits.select("ev", "idx").write_parquet(out / "hits.parquet")
    (out / "prepared.json").write_text(json.dumps({"universe": int(universe)}) + "\n")
    return out


def spark_session(master: str | None = None, *, app_name: str = "forensics", **conf: str):
    """A SparkSession: Spark Connect when ``SPARK_REMOTE`` is set, else
    ``master`` (e.g. ``spark://host:7077``, ``yarn``, ``local[4]``), else the
    session ``spark-submit`` configured, else ``local[*]``."""
    from pyspark.sql import SparkSession

    builder = SparkSession.builder.appName(app_name)
    if master and not os.environ.get("SPARK_REMOTE"):
        builder = builder.master(master)
    for key, value in conf.items():
        builder = builder.config(key, value)
    return builder.getOrCreate()


def core_counts_spark(spark, prepared: Path | str) -> pl.DataFrame:
    """Count a prepared folder (:func:`forensics.scale.core.prepare`) on Spark.

    ``prepared`` must be readable by the cluster: a path every executor
    sees, ``hdfs://…``, ``s3a://…``. Returns the same table as
    :func:`forensics.scale.core.core_counts`, as a polars DataFrame.
    """
    base = str(prepared).rstrip("/")
    universe = spark.read.json(f"{base}/prepared.json").first()["universe"]
    members, events, hits = (
        spark.read.parquet(f"{base}/{name}.parquet") for name in PREPARED_TABLES
    )
    table = core_table(members, events, hits, limit=universe)
    return nw.from_native(table).collect(backend="polars").to_native()


def union_size(
    members: pl.DataFrame, events: pl.DataFrame, *, limit: int | None = None
) -> pl.DataFrame:
    """Distinct orders each candidate exposed, by merging its intervals.

    Parameters
    ----------
    members : level, cand, ev
    events : ev, lo, hi
    limit : int, optional
        Count only orders numbered below ``limit`` (e.g. placed before the
        last complaint).

    Returns
    -------
    pl.DataFrame
        ``level``, ``cand``, ``exposed``, sorted by level and candidate.

    The counting is :func:`core_table`, written once for polars and Spark.
    """
    if limit is None:
        limit = int(events["hi"].max() or 0)
    return core_table(members, events, limit=limit)
