"""The background complaint rate by order age: the overlap test's null.

The hypergeometric test of :mod:`forensics.analysis.commonpoint` assumes
every order is as likely as any other to be complained about. Background
scam complaints (those the shop gets whether or not anything leaked) need
not be: buyers of old orders may be called more (lists sold on for months),
or of new ones (a courier's list). A path confined to early orders (an app
revoked long ago) then shows a lift without having leaked anything.

:func:`fit_age_model` fits how background complaints lean by order age: a
log-linear propensity ``exp(beta * x)`` over ``x``, an order's placement
rank scaled to [0, 1] (0 the oldest), by maximum likelihood on the orders
of the complaints received outside the spike (all of them in a quiet case).
The lean counts only when it is clear (``|z| >= min_z`` against no lean);
otherwise ``beta`` is 0 and nothing changes. :func:`age_adjusted` then
re-tests each significant path against that null: its exposure is weighed
by the propensity of the orders it exposed (``n_eff``, the number of
average orders it is worth), and its p-value and lift are those of its hits
among ``n_eff`` orders. In a quiet case every complaint is background to
the fit, the leak's too (and with a spike that is not the leak's, many of
them): so each path's lean is refitted without the complaints about its
own orders (``leave_out``). Where it stops being
reliable: a lean that is not monotone in age (a single old sale complained
about) is not modelled.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import polars as pl

from .commonpoint import CommonPointSettings, ranked
from .exposure import event_columns
from .tails import hypergeom_logsf

__all__ = ["AgeModel", "fit_age_model", "age_adjusted"]


@dataclass(frozen=True)
class AgeModel:
    """How background complaints lean by order age (``beta`` > 0: newer)."""

    beta: float
    z: float
    complaints: int

    @property
    def flat(self) -> bool:
        return self.beta == 0.0


def _mean_x(beta: float) -> float:
    """E[x] for the density ``beta exp(beta x) / (exp(beta) - 1)`` on [0, 1]."""
    if abs(beta) < 1e-6:
        return 0.5 + beta / 12
    return 1.0 / (1.0 - math.exp(-beta)) - 1.0 / beta


def fit_age_model(
    complained_idx: np.ndarray,
    universe: int,
    *,
    min_z: float = 3.0,
    min_complaints: int = 20,
    support: tuple[np.ndarray, np.ndarray] | None = None,
) -> AgeModel:
    """The lean of background complaints over order age.

    ``complained_idx``: placement numbers (``idx`` below ``universe``) of the
    orders of background complaints, one per complaint. ``support``
    (``lo``, ``hi`` placement numbers of disjoint blocks): the orders those
    complaints could be about, when some were set aside (a path's own); the
    lean is then fitted on those orders only, so leaving out the oldest
    weeks does not make the rest look less lean.
    """
    x = (np.asarray(complained_idx, dtype=float) + 0.5) / max(universe, 1)
    m = x.size
    if m < min_complaints or universe < 2:
        return AgeModel(0.0, 0.0, m)
    if support is None:
        a, b = np.array([0.0]), np.array([1.0])
    else:
        a = np.asarray(support[0], dtype=float) / universe
        b = np.asarray(support[1], dtype=float) / universe
    width = b - a
    if width.sum() <= 0:
        return AgeModel(0.0, 0.0, m)
    # Uniform on the support: its mean and spread, for the test of no lean.
    mu = float((width * (a + b) / 2).sum() / width.sum())
    second = float(((b**3 - a**3) / 3).sum() / width.sum())
    sd = math.sqrt(max(second - mu * mu, 1e-12))
    mean = float(x.mean())
    z = (mean - mu) / sd * math.sqrt(m)
    if abs(z) < min_z:
        return AgeModel(0.0, round(z, 3), m)
    lo, hi = -50.0, 50.0
    target = min(max(mean, float(a.min()) + 1e-6), float(b.max()) - 1e-6)
    if support is None:
        for _ in range(100):  # E[x] rises with beta: bisect
            mid = (lo + hi) / 2
            if _mean_x(mid) < target:
                lo = mid
            else:
                hi = mid
        return AgeModel(round((lo + hi) / 2, 6), round(z, 3), m)
    # On blocks each step is a numpy pass: Newton's steps (the slope of
    # E[x] in beta is Var[x]) kept inside the bracket, bisecting otherwise.
    beta = 0.0
    for _ in range(100):
        mean_b, var_b = _moments_on(beta, a, b)
        if abs(mean_b - target) < 1e-13 or hi - lo < 1e-12:
            break
        if mean_b < target:
            lo = beta
        else:
            hi = beta
        step = beta - (mean_b - target) / var_b if var_b > 1e-15 else None
        beta = step if step is not None and lo < step < hi else (lo + hi) / 2
    return AgeModel(round(beta, 6), round(z, 3), m)


def _moments_on(beta: float, a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    """E[x] and Var[x] for the density proportional to ``exp(beta x)`` on
    the blocks [a, b)."""
    if abs(beta) < 1e-6:
        w = b - a
        mean = float((w * (a + b) / 2).sum() / w.sum())
        second = float(((b**3 - a**3) / 3).sum() / w.sum())
        return mean, max(second - mean * mean, 0.0)
    # Shifted by the largest exponent so that e^(beta x) cannot overflow.
    top = max(beta * float(a.min()), beta * float(b.max()))
    ea, eb = np.exp(beta * a - top), np.exp(beta * b - top)
    mass = ((eb - ea) / beta).sum()
    r = 1 / beta
    first = ((eb * (b - r) - ea * (a - r)) * r).sum()
    sq_b, sq_a = b * b - 2 * b * r + 2 * r * r, a * a - 2 * a * r + 2 * r * r
    second = ((eb * sq_b - ea * sq_a) * r).sum()
    mean = float(first / mass)
    return mean, max(float(second / mass) - mean * mean, 0.0)


def _n_eff_without(
    lo: np.ndarray, hi: np.ndarray, universe: int, sample: np.ndarray
) -> float | None:
    """``n_eff`` of one path (its intervals ``[lo, hi)``) under the lean of
    the complaints in ``sample`` about orders it did not expose; None when
    that lean is not clear (the path is left as it was)."""
    if lo.size == 0:
        return None
    if lo.size > 1 and not (lo[1:] >= lo[:-1]).all():
        order = np.argsort(lo, kind="stable")
        lo, hi = lo[order], hi[order]
    hi = np.maximum.accumulate(hi)
    # The sample orders inside: the last interval starting at or before one
    # reaches past it (``hi`` is the running maximum, so any does).
    at = np.searchsorted(lo, sample, side="right") - 1
    inside = (at >= 0) & (sample < hi[np.maximum(at, 0)])
    model = fit_age_model(sample[~inside], universe, support=_outside(lo, hi, universe))
    if model.flat:
        return None
    return _n_eff(np.zeros(lo.size, dtype=np.int64), lo, hi, 1, universe, model.beta)[0]


def _outside(lo: np.ndarray, hi: np.ndarray, universe: int) -> tuple[np.ndarray, np.ndarray]:
    """The blocks of ``0 .. universe - 1`` outside the intervals ``[lo, hi)``
    (sorted by ``lo``, ``hi`` a running maximum)."""
    opens = np.concatenate(([True], lo[1:] > hi[:-1]))
    starts = lo[opens]
    ends = np.append(hi[np.flatnonzero(opens)[1:] - 1], hi[-1])
    gap_lo = np.concatenate(([0], ends))
    gap_hi = np.concatenate((starts, [universe]))
    keep = gap_hi > gap_lo
    return gap_lo[keep], gap_hi[keep]


def _n_eff(
    group: np.ndarray, lo: np.ndarray, hi: np.ndarray, groups: int, universe: int, beta: float
) -> list[float | None]:
    """``n_eff`` of each group ``0 .. groups - 1`` (None for a group without
    intervals): the union of its orders ``[lo, hi)`` (``hi <= universe``)
    weighed by ``exp(beta x)``, in units of the average order.

    The union by a running maximum over the intervals sorted by group and
    ``lo``: an interval starts a new block when it begins past every
    earlier one of its group (touching ones merge). Each group's values are
    shifted into a range of their own (``group * (universe + 1)``), so one
    running maximum over all rows serves every group. One sort of integers
    instead of sorting millions of (level, candidate string) rows, and the
    blocks of a group are summed in ``lo`` order, so ``n_eff`` is the same
    bits on every run.
    """
    out: list[float | None] = [None] * groups
    if lo.size == 0:
        return out
    width = np.int64(universe) + 1
    start = group.astype(np.int64) * width + lo
    if groups * float(width) * float(width) < 2.0**62:
        # Start and length packed in one number: sorting numbers alone is
        # faster than sorting by them (ties in start may come in any order).
        packed = pl.Series(start * width + (hi - lo)).sort().to_numpy()
        start = packed // width
        end = start + packed % width
        del packed
    else:
        order = np.argsort(start, kind="stable")
        end = (start + (hi - lo))[order]
        start = start[order]
        del order
    reach = np.maximum.accumulate(end)
    opens = np.empty(start.size, dtype=bool)
    opens[0] = True
    np.greater(start[1:], reach[:-1], out=opens[1:])
    first = np.flatnonzero(opens)
    last = np.append(first[1:] - 1, start.size - 1)
    block_group = start[first] // width
    shift = block_group * width
    lo, hi = start[first] - shift, reach[last] - shift
    bounds = np.flatnonzero(np.diff(block_group)) + 1
    edges = np.concatenate(([0], bounds, [block_group.size]))
    if beta == 0.0:
        for s, e in zip(edges[:-1], edges[1:], strict=True):
            out[int(block_group[s])] = float((hi[s:e] - lo[s:e]).sum())
        return out
    mass = np.expm1(beta * (hi / universe)) - np.expm1(beta * (lo / universe))
    scale = math.expm1(beta)
    for s, e in zip(edges[:-1], edges[1:], strict=True):
        out[int(block_group[s])] = float(universe * mass[s:e].sum() / scale)
    return out


def age_adjusted(
    points: pl.DataFrame,
    members: pl.DataFrame,
    events: pl.DataFrame,
    model: AgeModel,
    *,
    universe: int,
    complained: int,
    overlap: CommonPointSettings,
    settings: CommonPointSettings,
    leave_out: np.ndarray | None = None,
) -> pl.DataFrame:
    """``points`` with each significant path re-tested against the age model.

    A path significant by the overlap route (or the flagged route) keeps its
    significance only if its hits still stand out among ``n_eff`` orders;
    the onset route does not depend on which orders are complained about
    and is left as it was. Adds ``exposed_by_age`` (``n_eff``; equal to
    ``exposed`` when background complaints do not lean).

    ``leave_out`` (the placement numbers of the orders of the complaints
    ``model`` was fitted on) refits the lean for each path without the
    complaints about its own orders: where a leak's complaints are among
    them (no spike, or a spike that is not the leak's), an export of three
    weeks' orders would otherwise teach the model that those weeks lean, and
    be discounted by its own complaints.
    """
    out = points.with_columns(pl.col("exposed").cast(pl.Float64).alias("exposed_by_age"))
    if points.is_empty() or (model.flat and leave_out is None):
        return out
    sig = points.filter(pl.col("significant")).select("level", pl.col("id").alias("cand"))
    if sig.is_empty():
        return out
    sig = sig.unique(maintain_order=True).with_row_index("_g")
    # Lazy: the joined strings are never copied out.
    spans = members.lazy().join(sig.lazy(), on=["level", "cand"]).select("_g", "ev").collect()
    spans = pl.concat(
        [spans.select("_g"), event_columns(events, spans.get_column("ev"), "lo", "hi")],
        how="horizontal",
    ).filter(pl.col("hi").clip(upper_bound=universe) > pl.col("lo"))
    g = spans.get_column("_g").to_numpy()
    lo = spans.get_column("lo").cast(pl.Int64).to_numpy()
    hi = spans.get_column("hi").clip(upper_bound=universe).cast(pl.Int64).to_numpy()
    if leave_out is None:
        sizes = _n_eff(g, lo, hi, sig.height, universe, model.beta)
    else:
        # Each path's intervals as one slice of the rows sorted by path.
        order = np.argsort(g, kind="stable")
        g, lo, hi = g[order], lo[order], hi[order]
        cut = np.searchsorted(g, np.arange(sig.height + 1))
        seen: dict[tuple[bytes, bytes], float | None] = {}  # paths of the same orders
        sizes = []
        for a, b in zip(cut[:-1], cut[1:], strict=True):
            key = (lo[a:b].tobytes(), hi[a:b].tobytes())
            if key not in seen:
                seen[key] = _n_eff_without(lo[a:b], hi[a:b], universe, leave_out)
            sizes.append(seen[key])
    n_eff = {
        key: size
        for key, size in zip(sig.select("level", "cand").iter_rows(), sizes, strict=True)
        if size is not None
    }
    N, K = max(universe, 1), max(complained, 1)
    tested = max(int((points["hits"] > 0).sum()), 1)
    updates = []
    for r in out.filter(pl.col("significant")).iter_rows(named=True):
        key = (r["level"], r["id"])
        if key not in n_eff:
            continue
        n = max(n_eff[key], float(r["hits"]), 1e-9)
        logp = float(hypergeom_logsf(np.array([r["hits"]]), np.array([round(n)]), N, K)[0])
        log10_p = logp / math.log(10)
        lift = (r["hits"] / n) / (K / N)
        overlap_ok = (
            log10_p + math.log10(tested) <= math.log10(overlap.alpha)
            and lift >= overlap.min_lift
            and r["hits"] >= overlap.min_hits
        )
        family = r.get("family")
        flagged_ok = (
            bool(r.get("flagged"))
            and family is not None
            and log10_p + math.log10(family) <= math.log10(settings.alpha)
            and r["hits"] >= settings.min_flagged_hits
            and lift >= settings.min_lift
        )
        onset_ok = bool(r.get("onset"))
        onset_strength = -math.log10(r["onset_p"]) if r["onset_p"] > 0 else r["strength"]
        updates.append(
            {
                "level": r["level"],
                "id": r["id"],
                "exposed_by_age": n,
                "p_value": math.exp(logp),
                "log10_p": log10_p,
                "lift": lift,
                "significant": overlap_ok or flagged_ok or onset_ok,
                "strength": max(
                    -log10_p if (overlap_ok or flagged_ok) else 0.0,
                    onset_strength if onset_ok else 0.0,
                ),
            }
        )
    if not updates:
        return out
    schema = {c: out.schema[c] for c in updates[0]}
    out = out.update(pl.DataFrame(updates, schema=schema), on=["level", "id"])
    return ranked(out)
