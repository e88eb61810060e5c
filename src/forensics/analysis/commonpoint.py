"""Common point of compromise: which path saw the complained orders.

Card-fraud investigators find the shop where all the stolen cards were used;
here we find the path (account, machine, session, device, app, …) through
which the complained orders were seen. For every candidate of
:func:`forensics.analysis.exposure.candidate_events`:

``exposed`` (n)
    distinct orders the path exposed, among the orders placed up to the last
    complaint (the universe, N orders).
``hits`` (k)
    distinct complained orders it exposed *in time* — before the complaint's
    deadline (``contacted_at``, else ``received_at``) — through an action that
    shows every field the scammer quoted. Exposure after the deadline cannot
    explain the call (customer service looking up a complaining buyer's order
    is the everyday example) and is counted in ``ruled_out_time``.
``coverage``
    share of complaints (first complaint of each buyer about each order) with
    at least one candidate order exposed in time.
``precision``, ``lift``
    k / n, and its ratio to the base rate K / N (K = complained orders).
``p_value``
    hypergeometric tail P(X >= k) for n orders drawn from N of which K were
    complained: how surprising the overlap is if the path had nothing to do
    with the leak. ``p_adjusted`` is Bonferroni over every candidate tested.
``first_exposure``
    the earliest in-time exposure of a complained order through the path.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
import polars as pl

from ..case import typed_like
from ..scale.sweep import exposed_sweep
from .exposure import ACTION_FIELDS, CANDIDATE_KEY, OrderIndex, event_columns
from .tails import hypergeom_logsf, poisson_logsf

__all__ = [
    "complaint_hits",
    "common_points",
    "path_counts",
    "keyed_counts",
    "score_paths",
    "onset",
    "flagged",
    "flagged_family",
    "ranked",
    "CommonPointSettings",
]


@dataclass(frozen=True)
class CommonPointSettings:
    """Thresholds of :func:`common_points` (documented defaults)."""

    alpha: float = 0.01
    """Family-wise error rate: a candidate is significant when its
    Bonferroni-adjusted p-value is at most ``alpha``."""
    min_lift: float = 1.2
    """A significant path must also concentrate complaints (a leak of most
    orders cannot show a high lift, so this is a sanity bound)."""
    min_hits: int = 3
    """Fewer complained orders than this prove nothing, whatever the p-value."""
    quiet_factor: float = 1.0
    """With no complaint spike the overlap route demands ``alpha *
    quiet_factor``. 1 (no stricter): leaks whose complaints trickle in
    (weeks of lag, a slow harvest) or drown in background complaints show
    no spike, yet their complaints concentrate on the path all the same
    (docs/INDEPENDENT.md, session 11); it was 0.01 before."""
    quiet_min_hits: int = 5
    """With no complaint spike nothing but the overlap says a leak happened
    at all, so a path significant by it must hold at least this many
    complained orders: three complaints about orders one agent's session
    happened to view are chance among hundreds of sessions, not a leak."""
    min_flagged_hits: int = 2
    """Complained orders a path flagged beforehand (malware, a stale
    account) must show to be significant in its own small family."""
    onset_window_days: float = 14.0
    """How long before the complaint spike a new path may have opened."""
    min_onset_coverage: float = 0.5
    """Share of the spike's complaints a path must explain by its recent
    exposure to be significant by onset."""
    min_onset_excess: float = 0.5
    """Of the spike's complaints that chance alone would leave unexplained
    (a path exposing a share ``s`` of the orders the spike's buyers could
    have had explains about ``s`` of any complaints about them;
    :mod:`forensics.analysis.spikeshare`), the share a path must explain to
    be significant by onset:
    ``(recent_coverage - s) / (1 - s)``. A big export made just before a
    burst of complaints about random orders explains about its share of
    them, not more; an app that pulled every order (``s`` near 1) explains
    them all."""


def complaint_hits(
    events: pl.DataFrame, complaint_orders: pl.DataFrame, index: OrderIndex
) -> pl.DataFrame:
    """Every (access event, complaint, candidate order) where the event exposed the order.

    Returns
    -------
    pl.DataFrame
        ``ev``, ``complaint_id``, ``idx``, ``at``, ``in_time``, ``fields_ok``.
    """
    named = complaint_orders.get_column("order_id").drop_nulls().unique().implode()
    numbers = index.orders.lazy().filter(pl.col("order_id").is_in(named)).select("order_id", "idx")
    co = complaint_orders.join(numbers.collect(), on="order_id").select(
        "complaint_id", "idx", "deadline", "quoted"
    )
    # Lazy, so that of millions of events only those on a complained order
    # (and the few ranges) are ever copied.
    ev = events.lazy().select("ev", "at", "action", "lo", "hi")
    width = pl.col("hi") - pl.col("lo")
    wanted = co.get_column("idx").unique().implode()
    by_order = (
        ev.filter((width == 1) & pl.col("lo").is_in(wanted))
        .rename({"lo": "idx"})
        .drop("hi")
        .join(co.lazy(), on="idx")
        .collect()
    )
    ranges = ev.filter(width > 1).collect()
    by_range = ranges.join_where(
        co, pl.col("lo") <= pl.col("idx"), pl.col("hi") > pl.col("idx")
    ).drop("lo", "hi")
    cols = ["ev", "complaint_id", "idx", "at", "action", "deadline", "quoted"]
    hits = pl.concat([by_order.select(cols), by_range.select(cols)])
    shown = pl.DataFrame(
        {
            "action": list(ACTION_FIELDS),
            "_shown": [sorted(v) for v in ACTION_FIELDS.values()],
        }
    )
    return (
        hits.join(typed_like(shown, hits, "action"), on="action", how="left")
        .with_columns(
            (pl.col("at") <= pl.col("deadline")).alias("in_time"),
            pl.col("quoted")
            .list.set_difference(pl.col("_shown").fill_null(pl.lit([], dtype=pl.List(pl.String))))
            .list.len()
            .eq(0)
            .alias("fields_ok"),
        )
        .select("ev", "complaint_id", "idx", "at", "in_time", "fields_ok")
    )


def common_points(
    members: pl.DataFrame,
    events: pl.DataFrame,
    hits: pl.DataFrame,
    *,
    counted_complaints: pl.DataFrame,
    universe: int,
    complained: int,
    settings: CommonPointSettings | None = None,
) -> pl.DataFrame:
    """Score every candidate path.

    Parameters
    ----------
    members : level, cand, ev
    events : ev, lo, hi, at
    hits : output of :func:`complaint_hits`
    counted_complaints : complaint_id of the complaints coverage counts
    universe : N, orders placed up to the last complaint
    complained : K, distinct complained (candidate) orders

    Returns
    -------
    pl.DataFrame sorted most significant first, one row per candidate.
    """
    counts = path_counts(
        members, events, hits, counted_complaints=counted_complaints, universe=universe
    )
    return score_paths(
        counts,
        n_complaints=counted_complaints.height,
        universe=universe,
        complained=complained,
        settings=settings,
    )


def path_counts(
    members: pl.DataFrame,
    events: pl.DataFrame,
    hits: pl.DataFrame,
    *,
    counted_complaints: pl.DataFrame,
    universe: int,
) -> pl.DataFrame:
    """The counts behind :func:`common_points`, one row per candidate.

    Each candidate's counts depend on its own events only, so the members
    of a large case can be counted a level at a time and the tables
    concatenated before :func:`score_paths`.

    Returns
    -------
    pl.DataFrame
        ``level``, ``cand``, ``exposed``, ``hits``, ``first_exposure``,
        ``last_exposure``, ``covered``, ``ruled_out_time``,
        ``ruled_out_fields``, ``first_event``, ``last_event``, ``events``.
    """
    keyed, cands = _numbered(members)
    return keyed_counts(
        keyed, cands, events, hits, counted_complaints=counted_complaints, universe=universe
    )


def keyed_counts(
    keyed: pl.DataFrame,
    cands: pl.DataFrame,
    events: pl.DataFrame,
    hits: pl.DataFrame,
    *,
    counted_complaints: pl.DataFrame,
    universe: int,
    exposed: pl.DataFrame | None = None,
    span: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """:func:`path_counts` of candidates already numbered: ``keyed`` holds
    ``_k`` and ``ev`` (one row per member event, each event at most once
    per candidate; with ``lo``, ``hi`` and ``at`` too, the events are not
    looked up again) and ``cands`` holds ``_k``, ``level``, ``cand``.
    :func:`forensics.analysis.exposure.level_members` builds both straight from the
    events (``keyed`` may be lazy: then each count reads only what it needs).

    ``exposed`` (``_k``, ``exposed``) and ``span`` (``_k``, ``first_event``,
    ``last_event``, ``events``), when the caller has them
    (:func:`forensics.analysis.since.since_counts`): then ``keyed`` need hold
    only the members among the events of ``hits``."""
    derived = exposed is not None and span is not None
    if not derived and not {"lo", "hi", "at"} <= set(keyed.collect_schema().names()):
        # One look-up of what the counts need from each member's event.
        keyed = keyed.lazy().select(_K, "ev").collect()
        keyed = keyed.with_columns(event_columns(events, keyed["ev"], "lo", "hi", "at"))
    keyed = keyed.lazy()
    hit_events = hits.get_column("ev").unique().implode()
    mh = keyed.filter(pl.col("ev").is_in(hit_events)).select(_K, "ev").join(hits.lazy(), on="ev")
    ok = pl.col("in_time") & pl.col("fields_ok")
    counted = counted_complaints.get_column("complaint_id").implode()
    per_complaint = (
        mh.filter(pl.col("complaint_id").is_in(counted))
        .group_by(_K, "complaint_id")
        .agg(
            ok.any().alias("ok"),
            pl.col("in_time").any().alias("any_in_time"),
        )
        .group_by(_K)
        .agg(
            pl.col("ok").sum().alias("covered"),
            (~pl.col("any_in_time")).sum().alias("ruled_out_time"),
            (pl.col("any_in_time") & ~pl.col("ok")).sum().alias("ruled_out_fields"),
        )
    )
    per_order = mh.group_by(_K).agg(
        pl.col("idx").filter(ok).n_unique().alias("hits"),
        pl.col("at").filter(ok).min().alias("first_exposure"),
        pl.col("at").filter(ok).max().alias("last_exposure"),
    )
    if span is None:
        span = keyed.group_by(_K).agg(
            pl.col("at").min().alias("first_event"),
            pl.col("at").max().alias("last_event"),
            pl.len().alias("events"),
        )
    rest = (
        cands.lazy()
        .select(pl.col(_K).cast(pl.Int64), "level", "cand")
        .join(per_order, on=_K, how="left")
        .join(per_complaint, on=_K, how="left")
        .join(span.lazy(), on=_K, how="left")
        .with_columns(
            pl.col("hits").fill_null(0),
            pl.col("covered").fill_null(0),
            pl.col("ruled_out_time").fill_null(0),
            pl.col("ruled_out_fields").fill_null(0),
        )
    )
    # The sweep runs on one core in numpy; polars groups the rest on the
    # others meanwhile (both let go of the GIL).
    if exposed is not None:
        rest = rest.collect()
    else:
        with ThreadPoolExecutor(max_workers=1) as pool:
            grouped = pool.submit(rest.collect)
            exposed = _exposed(keyed, limit=universe, top=cands.get_column(_K).max())
            rest = grouped.result()
    columns = ["level", "cand", "exposed"] + [
        c for c in rest.columns if c not in (_K, "level", "cand")
    ]
    return rest.join(exposed, on=_K).select(columns).sort("level", "cand")


_K = CANDIDATE_KEY


def _numbered(members: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Candidates numbered: ``keyed`` (``_k``, ``ev``: one row per member) and
    ``cands`` (``_k``, ``level``, ``cand``).

    The counts group and join millions of member rows; on an integer
    number instead of two strings. Members of one level (as
    :func:`forensics.investigate` counts them) are numbered by the
    categorical code of ``cand``: one hashing pass of the strings.
    """
    members = members.select("level", "cand", "ev").filter(
        pl.col("level").is_not_null() & pl.col("cand").is_not_null()
    )
    one_level = members.height > 0 and bool(
        members.select((pl.col("level") == pl.col("level").first()).all()).item()
    )
    if one_level:
        coded = members.select(pl.col("cand").cast(pl.Categorical).alias("_cat"), pl.col("ev"))
        keyed = coded.select(pl.col("_cat").to_physical().cast(pl.Int64).alias(_K), "ev")
        cands = (
            coded.select("_cat")
            .unique()
            .select(
                pl.col("_cat").to_physical().cast(pl.Int64).alias(_K),
                pl.lit(members["level"][0]).alias("level"),
                pl.col("_cat").cast(pl.String).alias("cand"),
            )
        )
        return keyed, cands
    cands = (
        members.select("level", "cand")
        .unique()
        .sort("level", "cand")
        .with_row_index(_K)
        .with_columns(pl.col(_K).cast(pl.Int64))
    )
    keyed = members.join(cands, on=["level", "cand"]).select(_K, "ev")
    return keyed, cands


def _exposed(
    keyed: pl.DataFrame | pl.LazyFrame, *, limit: int, top: int | None = None
) -> pl.DataFrame:
    """``_k``, ``exposed``: distinct orders numbered below ``limit`` each
    numbered candidate (``_k``, ``lo``, ``hi`` of each member event)
    exposed; a candidate with none is left out. The sweep is
    :func:`forensics.scale.portable.exposed_sweep`, the one
    :func:`forensics.scale.portable.core_table` uses, so every route counts with
    one piece of code."""
    span = limit + 1
    k = pl.col(_K).cast(pl.Int64)
    lo = pl.col("lo").cast(pl.Int64)
    hi = pl.col("hi").clip(upper_bound=limit).cast(pl.Int64)
    place = k * span
    keyed = keyed.lazy()
    # Apart: as one query, polars would cache every column of the members
    # both start from (about twice as slow).
    points = keyed.filter(hi - lo == 1).select((place + lo).alias("p")).collect()
    ranges = keyed.filter(hi - lo > 1).select((place + lo).alias("s"), (place + hi).alias("e"))
    ranges = ranges.collect()
    if top is None:  # the highest candidate number (any upper bound will do)
        top = keyed.select(k.max()).collect().item()
    # polars sorts these (partly ordered) numbers about 3x faster than
    # numpy; as a Series, not in the query, which would sort by an index.
    points = points.to_series().sort().to_numpy()
    if points.size == 0 and ranges.is_empty():
        return pl.DataFrame(schema={_K: pl.Int64, "exposed": pl.Int64})
    top = int(top) + 1
    exposed = exposed_sweep(
        points,
        ranges["s"].to_numpy(),
        ranges["e"].to_numpy(),
        span,
        top,
    )
    keys = np.flatnonzero(exposed)
    return pl.DataFrame({_K: keys.astype(np.int64), "exposed": exposed[keys]})


def score_paths(
    table: pl.DataFrame,
    *,
    n_complaints: int,
    universe: int,
    complained: int,
    settings: CommonPointSettings | None = None,
) -> pl.DataFrame:
    """Statistics and significance of the counts of :func:`path_counts`
    (see :func:`common_points`); Bonferroni over every candidate in ``table``."""
    settings = settings or CommonPointSettings()
    n_complaints = max(n_complaints, 1)
    n = table["exposed"].to_numpy()
    k = table["hits"].to_numpy()
    N, K = max(universe, 1), max(complained, 1)
    logp = hypergeom_logsf(k, n, N, K)
    p = np.exp(logp)
    tested = max(int((k > 0).sum()), 1)
    table = table.with_columns(
        (pl.col("covered") / n_complaints).alias("coverage"),
        (pl.col("hits") / pl.col("exposed")).alias("precision"),
        ((pl.col("hits") / pl.col("exposed")) / (K / N)).alias("lift"),
        pl.Series("p_value", p, dtype=pl.Float64),
        pl.Series("log10_p", logp / np.log(10), dtype=pl.Float64),
        pl.Series("p_adjusted", np.minimum(p * tested, 1.0), dtype=pl.Float64),
        pl.Series("log10_p_adjusted", np.minimum((logp + np.log(tested)) / np.log(10), 0.0)),
    ).with_columns(
        (
            (pl.col("log10_p_adjusted") <= np.log10(settings.alpha))
            & (pl.col("lift") >= settings.min_lift)
            & (pl.col("hits") >= settings.min_hits)
        ).alias("significant")
    )
    return table.sort(
        pl.col("significant"),
        pl.col("log10_p"),
        pl.col("lift"),
        pl.col("level"),
        pl.col("cand"),
        descending=[True, False, True, False, False],
    ).select(
        "level",
        pl.col("cand").alias("id"),
        "events",
        "exposed",
        "hits",
        "covered",
        "coverage",
        "precision",
        "lift",
        "p_value",
        "log10_p",
        "p_adjusted",
        "significant",
        "first_exposure",
        "last_exposure",
        "first_event",
        "last_event",
        "ruled_out_time",
        "ruled_out_fields",
    )


def onset(
    points: pl.DataFrame,
    members: pl.DataFrame,
    events: pl.DataFrame,
    hits: pl.DataFrame,
    *,
    complaints: pl.DataFrame,
    spike_complaints: pl.DataFrame,
    spike_start: datetime | None,
    period_start: datetime | None,
    opened: pl.DataFrame | None = None,
    universe: int | None = None,
    share_of: Callable[[pl.DataFrame], pl.DataFrame] | None = None,
    settings: CommonPointSettings | None = None,
    dated_by: str = "received_at",
) -> pl.DataFrame:
    """Second route to significance: the complaints began when the path opened.

    Complaints are dated by ``dated_by`` (``received_at``, or ``deadline``
    where the spike was dated by the scammers' calls,
    :func:`forensics.analysis.complaints.complaint_rate`).

    When one path exposed most of the shop's orders (an app pulling every
    order, an export of months), its exposure looks like the base rate and no
    overlap statistic can single it out. What still sets it apart is time:
    before its first event the shop saw complaints at the background rate;
    within ``onset_window_days`` after it, a burst of complaints about orders
    it had exposed. For every path whose first event leaves at least three
    days of evidence before it, ``onset_p`` is the Poisson probability of at
    least that many covered complaints in the window after the first event,
    given the rate of *all* complaints in the window before it (plus half a
    complaint, so a quiet start is not infinitely surprising). The shop's
    long-running paths cannot be tested this way (their first event is the
    start of the evidence) and rely on the overlap route.

    A path opens at its first event, unless ``opened`` (``level``, ``id``,
    ``opened``) dates it earlier: an export or pull of a routine stream
    opened when its stream did (:func:`forensics.analysis.streams.stream_openings`).

    Adds ``recent_coverage`` (share of the spike's complaints explained by
    exposures since ``spike_start - onset_window``), ``onset_p``, ``onset``
    (the route applies: Bonferroni-significant over the paths tested, covering
    at least ``min_onset_coverage`` of the spike and at least
    ``min_onset_excess`` of what its share of the orders would explain by
    chance: ``share_of`` gives the share and the lift among the same orders
    (``level``, ``id``, ``share``, ``lift_before``) of the paths passing the
    rest of the test, as :func:`forensics.analysis.spikeshare.spike_shares`
    does among the orders the spike's buyers could have had, kept as
    ``onset_share`` and ``onset_lift``; without it, ``exposed / universe``)
    and ``strength``
    (``-log10`` of the smaller p-value of the routes that made the path
    significant).
    """
    settings = settings or CommonPointSettings()
    window = timedelta(days=settings.onset_window_days)
    base = points.with_columns(
        pl.lit(0.0).alias("recent_coverage"),
        pl.lit(1.0).alias("onset_p"),
        pl.lit(False).alias("onset"),
    )
    if spike_start is None or period_start is None or spike_complaints.height < settings.min_hits:
        return base.with_columns((-pl.col("log10_p")).alias("strength"))
    window_start = spike_start - window
    n_spike = spike_complaints.height
    # Which complaints each path explains: the (path, complaint) pairs,
    # each once. Hits and members meet on the event, and a complained
    # event belongs to many paths: the pairs are built on path numbers from
    # the hits that count, the event then dropped.
    ok = hits.lazy().filter(pl.col("in_time") & pl.col("fields_ok"))
    paths = members.select("level", "cand").unique(maintain_order=True).with_row_index("_p")
    # Numbered once for both queries below (a join on two strings).
    by_path = members.lazy().join(paths.lazy(), on=["level", "cand"]).select("_p", "ev").collect()
    by_path = by_path.lazy()
    named = paths.lazy().select("_p", "level", pl.col("cand").alias("id"))
    spiked = spike_complaints["complaint_id"].implode()
    recent = (
        ok.filter((pl.col("at") >= window_start) & pl.col("complaint_id").is_in(spiked))
        .select("ev", "complaint_id")
        .unique()
        .join(by_path, on="ev")
        .group_by("_p")
        .agg((pl.col("complaint_id").n_unique() / n_spike).alias("recent_coverage"))
        .join(named, on="_p")
        .drop("_p")
    )
    # When each path opened: its first event, or its stream's start.
    opening = pl.col("first_event")
    if opened is not None and opened.height:
        points = points.join(
            opened.select("level", "id", pl.col("opened").alias("_opened")),
            on=["level", "id"],
            how="left",
        )
        opening = pl.min_horizontal("first_event", "_opened")
    points = points.with_columns(opening.alias("_opening"))
    # Complaints received in the window after each path's opening that it explains.
    first = (
        points.lazy()
        .select("level", pl.col("id").alias("cand"), pl.col("_opening").alias("first_event"))
        .join(paths.lazy(), on=["level", "cand"])
        .select("_p", "first_event")
    )
    received = complaints.lazy().select("complaint_id", pl.col(dated_by).alias("received_at"))
    after = (
        ok.select("ev", "complaint_id")
        .unique()
        .join(by_path, on="ev")
        .select("_p", "complaint_id")
        .unique()
        .join(first, on="_p")
        .join(received, on="complaint_id")
        .filter(
            (pl.col("received_at") >= pl.col("first_event"))
            & (pl.col("received_at") <= pl.col("first_event") + window)
        )
        .group_by("_p")
        .agg(pl.col("complaint_id").n_unique().alias("_after"))
        .join(named, on="_p")
        .drop("_p")
    )
    # Apart: as one query, polars would cache the hits and members they share.
    recent, after = recent.collect(), after.collect()
    times = complaints[dated_by].sort()
    table = points.join(recent, on=["level", "id"], how="left").join(
        after, on=["level", "id"], how="left"
    )
    fe = table["_opening"]
    pre_start = (
        fe.to_frame()
        .select(pl.max_horizontal(pl.col("_opening") - window, pl.lit(period_start)))
        .to_series()
    )
    pre_days = ((fe - pre_start).dt.total_seconds() / 86400).to_numpy()
    n_pre = (
        times.search_sorted(fe, side="left").cast(pl.Int64)
        - times.search_sorted(pre_start, side="left").cast(pl.Int64)
    ).to_numpy()
    n_after = table["_after"].fill_null(0).to_numpy()
    # Only a path that opened in the window before the spike can be why it
    # began; one that opened weeks earlier had its chance to show.
    opened = (fe >= window_start).fill_null(False).to_numpy()
    testable = (np.nan_to_num(pre_days, nan=0.0) >= 3.0) & opened
    with np.errstate(divide="ignore", invalid="ignore"):
        expected = (
            (n_pre + 0.5) / np.where(testable, pre_days, 1.0) * window.total_seconds() / 86400
        )
        logp = np.where(testable & (n_after > 0), poisson_logsf(n_after, expected), 0.0)
    tested = max(int((testable & (n_after > 0)).sum()), 1)
    table = table.with_columns(
        pl.col("recent_coverage").fill_null(0.0),
        pl.Series("onset_p", np.exp(logp)),
        pl.Series("_onset_log10", logp / np.log(10)),
    )
    is_onset = (
        (pl.col("_onset_log10") + np.log10(tested) <= np.log10(settings.alpha))
        & (pl.col("recent_coverage") >= settings.min_onset_coverage)
        & (pl.col("hits") >= settings.min_hits)
    )
    # Timing alone cannot tell a path from a general rise in complaints:
    # the spike's complaints must concentrate on its orders beyond their share.
    share = pl.min_horizontal(pl.col("exposed") / universe, pl.lit(1.0)) if universe else None
    timed = table.filter(is_onset).select("level", "id")
    if share_of is not None and timed.height:
        shares = share_of(timed).select(
            "level",
            "id",
            pl.col("share").alias("onset_share"),
            pl.col("lift_before").alias("onset_lift"),
        )
        table = table.join(shares, on=["level", "id"], how="left")
        share = pl.col("onset_share")
    if share is not None:
        excess = (pl.col("recent_coverage") - share) / (1.0 - share)
        is_onset = is_onset & ((share >= 1.0) | (excess >= settings.min_onset_excess))
    strength = pl.max_horizontal(
        pl.when(pl.col("significant")).then(-pl.col("log10_p")).otherwise(0.0),
        pl.when(pl.col("onset")).then(-pl.col("_onset_log10")).otherwise(0.0),
    )
    out = (
        table.with_columns(is_onset.alias("onset"))
        .with_columns(
            pl.when(pl.col("significant") | pl.col("onset"))
            .then(strength)
            .otherwise(-pl.col("log10_p"))
            .alias("strength"),
        )
        .with_columns((pl.col("significant") | pl.col("onset")).alias("significant"))
        .drop("_after", "_onset_log10", "_opening")
        .drop("_opened", strict=False)
    )
    return ranked(out)


def ranked(points: pl.DataFrame) -> pl.DataFrame:
    """``points`` in the order every route leaves them: significant first,
    then by strength and lift, ties by level and id."""
    return points.sort(
        pl.col("significant"),
        pl.col("strength"),
        pl.col("lift"),
        pl.col("level"),
        pl.col("id"),
        descending=[True, True, True, False, False],
    )


def flagged(
    points: pl.DataFrame,
    suspicious: pl.DataFrame,
    *,
    settings: CommonPointSettings | None = None,
) -> pl.DataFrame:
    """Third route: paths flagged before looking at complaints.

    ``suspicious`` (``level``, ``id``, optional ``stage``) were picked from
    endpoint or account evidence alone
    (:func:`forensics.analysis.indicators.flagged_paths`), so they are a
    pre-registered family: Bonferroni over the flagged paths only (those
    that exposed the same orders counted once), and ``min_flagged_hits``
    complained orders suffice. The family is tested in stages
    (gatekeeping, which keeps the family-wise error at ``alpha``): the paths
    of stage 2 (apps granted during the logs) are tested only when every
    test of stage 1 (malware, accounts used after their owner left) was
    significant, or there was none; so a legitimate new app, in nearly every
    shop, costs the malware nothing. Adds ``flagged`` and ``family`` (the
    tests in the path's stage, null where the stage was not tested).
    """
    settings = settings or CommonPointSettings()
    keys = suspicious if "stage" in suspicious.columns else suspicious.with_columns(stage=1)
    keys = keys.select("level", "id", pl.col("stage").cast(pl.Int8), flagged=pl.lit(True))
    out = points.join(keys, on=["level", "id"], how="left").with_columns(
        pl.col("flagged").fill_null(False)
    )

    def passes(family: pl.Expr) -> pl.Expr:
        return (
            (pl.col("log10_p") + family.cast(pl.Float64).log10() <= np.log10(settings.alpha))
            & (pl.col("hits") >= settings.min_flagged_hits)
            & (pl.col("lift") >= settings.min_lift)
        )

    sizes: dict[int, int] = {}
    for stage in sorted(out["stage"].drop_nulls().unique().to_list()):
        members = out.filter(pl.col("stage") == stage)
        sizes[stage] = flagged_family(members)
        tested = members.filter(pl.col("hits") > 0)
        if not tested.select((pl.col("significant") | passes(pl.lit(sizes[stage]))).all()).item():
            break  # the gate closes: later stages are not tested
    family = pl.col("stage").replace_strict(sizes, default=None, return_dtype=pl.Int64)
    out = out.with_columns(family.alias("family")).drop("stage")
    route = pl.col("flagged") & pl.col("family").is_not_null() & passes(pl.col("family"))
    return ranked(out.with_columns((pl.col("significant") | route).alias("significant")))


def flagged_family(points: pl.DataFrame) -> int:
    """Tests in the flagged family: one per distinct exposure among the
    flagged paths (a stick and the payload it started are one; a key
    flagged at a level where it is no path is no test)."""
    if "flagged" not in points.columns:
        return 1
    tested = points.filter(pl.col("flagged")).select("exposed", "hits", "first_exposure")
    return max(tested.unique().height, 1)
