"""When one path's excess of complaints lies within another path's orders.

Two paths of different kinds often expose the same orders: a finance
clerk's routine export of the last half-month and a former employee's
account that read the same weeks; a trojan on the desks where those orders
were handled. If only one of them leaked, the complaints about the orders
both exposed cannot say which. The orders each exposed *alone* can: the
buyers of a leaked path's orders are called whether or not another path
also exposed them.

A path is *explained away* by another when

* its orders outside the other's are complained about no more than the
  orders neither exposed (the background), and far less than the orders
  the two share: its association with the complaints is borrowed from the
  shared orders; and
* the other path's orders outside it are complained about more than the
  background: the other path explains complaints the first cannot; or the
  other path has no complained order outside the first and too few orders
  there to be complained about less than the shared ones (it lies within
  the first as far as the complaints go: the shared orders are its own).

Both conditions are one-sided binomial tests at fixed levels
(:class:`ExplainedSettings`). The second keeps the rule from choosing
between two paths whose excess lies only in what they share (then the
evidence does not tell them apart, and nothing changes). The path's own
orders must be at least a tenth of it (a sliver at its edge says little),
and "far less than the shared orders" is measured against the shared
orders placed no earlier than the middle of its own: buyers complain weeks
after a leak, so the latest orders are quiet whichever path leaked them.
Orders are those numbered by :class:`forensics.analysis.exposure.OrderIndex`
below the investigation's universe (placed before the last complaint's
deadline).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
import polars as pl

from .exposure import members_of

__all__ = [
    "ExplainedSettings",
    "Explained",
    "PathOrders",
    "explained_away",
    "unborrowed",
    "stood_in",
    "within_schedule",
]


@dataclass(frozen=True)
class ExplainedSettings:
    """Levels of the two tests (documented defaults)."""

    below_shared: float = 1e-3
    """The first path's own orders must be complained about less than its
    shared ones at this level (binomial lower tail)."""
    min_shared: int = 30
    """Shared orders (placed no earlier than the middle of the first path's
    own) needed to say how often its orders would be complained about."""
    min_held: float = 0.5
    """A path can only borrow its excess from one that exposed at least this
    share of its complained orders (paths that do not are never tested)."""
    min_alone: float = 0.1
    """The share of the first path's orders that must be its own: a sliver
    at the edge of a path says little about the path."""
    background: float = 0.05
    """Its own orders are at the background rate when their excess over it
    is not significant at this level; the other path's own orders must be
    above the background at this level."""
    max_stand_ins: int = 5
    """Paths that are not significant themselves tried as the explanation of
    a kind's leading path when no significant one explains it
    (:func:`stood_in`), the most complained orders first."""


@dataclass(frozen=True)
class Explained:
    """The counts behind a verdict: orders and complained orders in each region."""

    alone: tuple[int, int]  # the path's orders outside the other's
    other_alone: tuple[int, int]  # the other's orders outside the path's
    shared: tuple[int, int]
    neither: tuple[int, int]
    scheduled: bool = False  # the path is on a schedule (:func:`within_schedule`)

    def describe(self, path: str, other: str) -> str:
        n, c = self.alone
        on, oc = self.other_alone
        sn, sc = self.shared
        bn, bc = self.neither
        if self.scheduled:
            return (
                f"{path} is a scheduled export, within {other} as far as the complaints go: "
                f"{other} also exposed all {sc} complained orders of its {n + sn:,}; of "
                f"{on:,} orders only {other} exposed, {oc} were complained about "
                f"({_pct(oc, on)}, orders neither exposed {_pct(bc, bn)})"
            )
        return (
            f"{path} is explained by {other}: of its {n:,} orders {other} did not expose, "
            f"{c} were complained about ({_pct(c, n)}, orders neither exposed {_pct(bc, bn)}), "
            f"of the {sn:,} both exposed {sc} ({_pct(sc, sn)}); of {on:,} orders only {other} "
            f"exposed, {oc} ({_pct(oc, on)})"
        )


def _pct(c: int, n: int) -> str:
    return f"{c / n:.1%}" if n else "—"


class PathOrders:
    """What the paths ``keys`` ((level, cand) pairs) exposed, among the
    orders numbered below ``universe``: their complained orders (from the
    complaint hits, cheap) and, on demand, every order (a mask).

    ``members`` is looked through once for all the paths; the member
    events' intervals only for the paths whose masks are asked for.
    """

    def __init__(
        self,
        members: pl.DataFrame,
        events: pl.DataFrame,
        hits: pl.DataFrame,
        keys: list[tuple[str, str]],
        universe: int,
    ) -> None:
        self.universe = universe
        self._members = members_of(members, _frame(keys)).select("level", "cand", "ev")
        self._events = events
        numbers = hits.lazy().filter(pl.col("idx") < universe).select("ev", "idx").unique()
        held = (
            self._members.lazy()
            .join(numbers, on="ev")
            .select("level", "cand", "idx")
            .unique()
            .collect()
        )
        self._held = _by_path(held, "idx")

    def complained(self, key: tuple[str, str]) -> np.ndarray:
        """Numbers of the complained orders the path exposed."""
        found = self._held.get(key)
        return found if found is not None else np.empty(0, dtype=np.int64)

    def masks(self, keys: list[tuple[str, str]]) -> dict[tuple[str, str], np.ndarray]:
        """Boolean masks over ``0 .. universe - 1``: the orders each path exposed."""
        wanted = self._members.join(_frame(keys).unique(), on=["level", "cand"], how="semi")
        spans = (
            wanted.lazy()
            .join(self._events.lazy().select("ev", "lo", "hi"), on="ev")
            .select(
                "level",
                "cand",
                pl.col("lo").clip(0, self.universe).cast(pl.Int64),
                pl.col("hi").clip(0, self.universe).cast(pl.Int64),
            )
            .filter(pl.col("hi") > pl.col("lo"))
            .collect()
        )
        parts = spans.partition_by(["level", "cand"], as_dict=True)
        size = self.universe + 1
        found = {}
        for key in keys:
            part = parts.get(key)
            if part is None:
                found[key] = np.zeros(self.universe, dtype=bool)
                continue
            opened = np.bincount(part.get_column("lo").to_numpy(), minlength=size)
            closed = np.bincount(part.get_column("hi").to_numpy(), minlength=size)
            found[key] = np.cumsum(opened[:-1] - closed[:-1]) > 0
        return found


def _frame(keys: list[tuple[str, str]]) -> pl.DataFrame:
    return pl.DataFrame(keys, schema=["level", "cand"], orient="row")


def _by_path(frame: pl.DataFrame, column: str) -> dict[tuple[str, str], np.ndarray]:
    return {
        (level, cand): part.get_column(column).to_numpy()
        for (level, cand), part in frame.partition_by(["level", "cand"], as_dict=True).items()
    }


def explained_away(
    path: np.ndarray,
    other: np.ndarray,
    complained: np.ndarray,
    settings: ExplainedSettings | None = None,
) -> Explained | None:
    """The counts when ``path`` is explained away by ``other`` (see the
    module docstring), else None. All three are masks over the same orders;
    ``complained`` marks the orders complained about."""
    st = settings or ExplainedSettings()
    own = path & ~other
    alone, other_alone, shared, neither = _regions(path, other, complained)
    (n, c), (on, oc), (sn, sc), (bn, bc) = alone, other_alone, shared, neither
    if not (n and sn and bn) or sc == 0 or n < st.min_alone * (n + sn):
        return None
    # Against the shared orders placed no earlier than the middle of its own
    # (orders are numbered by placement): those had no more time to be
    # complained about, so buyers called weeks after a leak do not make
    # older own orders look quiet next to younger shared ones, nor younger
    # own orders next to older shared ones.
    middle = int(np.flatnonzero(own)[n // 2])
    younger = np.zeros_like(path)
    younger[middle:] = True
    yn, yc = _count(path & other & younger, complained)
    if yn < st.min_shared or yc == 0:
        return None
    background, shared_rate = bc / bn, yc / yn
    if background >= shared_rate:
        return None
    # scipy.special, not scipy.stats (which takes half a second to import):
    # bdtr(k, n, p) = P(X <= k), bdtrc(k, n, p) = P(X > k).
    from scipy.special import bdtr, bdtrc

    below_shared = bdtr(c, n, shared_rate) < st.below_shared
    at_background = _above(c, n, background, bdtrc) > st.background
    # The other path's own orders are above the background; or it has no
    # complained order of its own (it lies within this path as far as the
    # complaints go) and too few orders of its own to be below the shared
    # rate: then the shared orders are its own, and the excess is its.
    other_above = _above(oc, on, background, bdtrc) < st.background or (
        oc == 0 and (on == 0 or bdtr(0, on, shared_rate) >= st.below_shared)
    )
    if below_shared and at_background and other_above:
        return Explained(alone, other_alone, shared, neither)
    return None


def _count(mask: np.ndarray, complained: np.ndarray) -> tuple[int, int]:
    """Orders in ``mask`` and how many of them were complained about."""
    return int(mask.sum()), int(complained[mask].sum())


def _regions(
    path: np.ndarray, other: np.ndarray, complained: np.ndarray
) -> tuple[tuple[int, int], ...]:
    """(orders, complained) of ``path`` alone, ``other`` alone, both, neither."""
    return tuple(
        _count(mask, complained)
        for mask in (path & ~other, other & ~path, path & other, ~path & ~other)
    )


def _above(c: int, n: int, p: float, bdtrc) -> float:
    """P(X >= c) for X ~ Binomial(n, p): how surprising ``c`` or more is."""
    return 1.0 if c <= 0 else float(bdtrc(c - 1, n, p))


def unborrowed(
    ranked: list[tuple[str, tuple[float, float]]],
    best: Mapping[str, dict],
    voters: Mapping[str, list[tuple[str, str]]],
    members: pl.DataFrame,
    events: pl.DataFrame,
    hits: pl.DataFrame,
    complained: np.ndarray,
    settings: ExplainedSettings | None = None,
) -> tuple[list[tuple[str, tuple[float, float]]], list[str]]:
    """``ranked`` without the leading kinds whose leading path is explained
    away by one path of another kind, and why.

    One path at a time, never a kind's paths together: every significant
    path was found by its complained orders, so what many of them exposed
    together is complained about above the background whatever leaked. Only
    the paths holding at least ``settings.min_held`` of the leading path's
    complained orders are tested (the rest cannot explain its excess)."""
    settings = settings or ExplainedSettings()
    if len(ranked) < 2:
        return ranked, []
    paths = PathOrders(
        members, events, hits, [key for keys in voters.values() for key in keys], complained.size
    )
    why: list[str] = []
    while len(ranked) > 1:
        lead = best[ranked[0][0]]
        lead_key = (lead["level"], lead["id"])
        own = paths.complained(lead_key)
        rivals = [
            (other, key)
            for other, _ in ranked[1:]
            for key in voters[other]
            if _may_explain(own, paths.complained(key), settings)
        ]
        if not rivals:
            break
        masks = paths.masks([lead_key, *(key for _, key in rivals)])
        found = next(
            (
                (other, key, verdict)
                for other, key in rivals
                if (verdict := explained_away(masks[lead_key], masks[key], complained, settings))
            ),
            None,
        )
        if found is None:
            break
        other, (level, cid), verdict = found
        name = f"{lead['level']} {lead['id']}"
        why.append(
            f"{ranked[0][0]} set aside: " + verdict.describe(name, f"{other}'s {level} {cid}")
        )
        ranked = ranked[1:]
    return ranked, why


def _may_explain(own: np.ndarray, theirs: np.ndarray, settings: ExplainedSettings) -> bool:
    """The cheap conditions, on complained orders only: a rival holding
    ``theirs`` holds enough of the path's complained orders (``own``) to
    explain its excess (its own complained orders, or orders, are weighed
    by :func:`explained_away`)."""
    return bool(own.size and np.intersect1d(own, theirs).size >= settings.min_held * own.size)


def stood_in(
    lead: Mapping,
    candidates: list[tuple[str, dict]],
    members: pl.DataFrame,
    more_members: Callable[[pl.DataFrame], pl.DataFrame],
    events: pl.DataFrame,
    hits: pl.DataFrame,
    complained: np.ndarray,
    settings: ExplainedSettings | None = None,
    *,
    scheduled: Callable[[], pl.Series] | None = None,
) -> tuple[str, dict, Explained, pl.DataFrame] | None:
    """The path of ``candidates`` that explains the leading path ``lead``
    away: its kind, its row, the counts and its member events; None when
    none does.

    A path that exposed most of the shop's orders (a former employee's
    account reading for weeks, an app pulling everything) cannot
    concentrate complaints, so it need not be significant; a routine export
    of the oldest weeks can, when buyers are called long after the leak and
    only the oldest orders have been complained about yet. ``candidates``
    ((kind, row) of ``points``) are the significant paths of other kinds and
    the paths whose nature is already suspect without the complaints (a
    flagged account, device or process, an app); only those holding at
    least as many complained orders as the lead are tried, at most
    ``settings.max_stand_ins`` of them. Their member events (``level``,
    ``cand``, ``ev``) come from ``members`` where it has them, else from
    ``more_members``, asked only then.

    A lead whose complained orders were all exposed by ``scheduled()`` events
    (a clerk's half-month exports, :func:`forensics.analysis.streams.scheduled_events`)
    has no orders of its own to test when the other path exposed the whole
    period: it is set aside when the other path exposed every one of its
    complained orders and explains more than the background besides
    (:func:`within_schedule`). A schedule concentrates the complaints of
    whatever leaked the weeks it covers.
    """
    st = settings or ExplainedSettings()
    tried = sorted(
        (c for c in candidates if c[1]["hits"] >= lead["hits"]),
        key=lambda c: (-c[1]["hits"], c[1]["log10_p"], c[1]["level"], c[1]["id"]),
    )[: st.max_stand_ins]
    if not tried:
        return None
    lead_key = (lead["level"], lead["id"])
    keys = [(row["level"], row["id"]) for _, row in tried]
    extra = members_of(members, _frame(keys)).select("level", "cand", "ev")
    held = set(extra.select("level", "cand").unique().iter_rows())
    if missing := [key for key in keys if key not in held]:
        extra = pl.concat([extra, more_members(_frame(missing)).select(extra.columns)])
    lead_members = members_of(members, _frame([lead_key]))
    paths = PathOrders(
        pl.concat(
            [lead_members.select("level", "cand", "ev"), extra.select("level", "cand", "ev")]
        ),
        events,
        hits,
        [lead_key, *keys],
        complained.size,
    )
    own = paths.complained(lead_key)
    able = [
        (kind, row)
        for kind, row in tried
        if _may_explain(own, paths.complained((row["level"], row["id"])), st)
    ]
    if not able:
        return None
    routine = scheduled is not None and _on_schedule(
        lead_members, hits, scheduled(), paths.universe
    )
    masks = paths.masks([lead_key, *((row["level"], row["id"]) for _, row in able)])
    for kind, row in able:
        key = (row["level"], row["id"])
        verdict = explained_away(masks[lead_key], masks[key], complained, st)
        if verdict is None and routine:
            verdict = within_schedule(masks[lead_key], masks[key], complained, st)
        if verdict is not None:
            return kind, row, verdict, members_of(extra, _frame([key]))
    return None


def _on_schedule(
    lead_members: pl.DataFrame, hits: pl.DataFrame, scheduled: pl.Series, universe: int
) -> bool:
    """Whether every event of the lead that exposed a complained order is scheduled."""
    exposing = (
        hits.lazy()
        .filter(pl.col("idx") < universe)
        .join(lead_members.lazy().select("ev").unique(), on="ev", how="semi")
        .select("ev")
        .unique()
        .collect()
        .get_column("ev")
    )
    return bool(exposing.len()) and bool(exposing.is_in(scheduled.implode()).all())


def within_schedule(
    path: np.ndarray,
    other: np.ndarray,
    complained: np.ndarray,
    settings: ExplainedSettings | None = None,
) -> Explained | None:
    """The counts when a scheduled ``path`` lies within ``other`` as far as
    the complaints go: ``other`` exposed every complained order ``path``
    did, and its own orders are complained about above the orders neither
    exposed (at least ``settings.min_shared`` of them, to know the
    background by), else None."""
    st = settings or ExplainedSettings()
    alone, other_alone, shared, neither = _regions(path, other, complained)
    if alone[1] or not shared[1] or not other_alone[1] or neither[0] < st.min_shared:
        return None
    from scipy.special import bdtrc

    background = neither[1] / neither[0]
    if _above(other_alone[1], other_alone[0], background, bdtrc) < st.background:
        return Explained(alone, other_alone, shared, neither, scheduled=True)
    return None
