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
among ``n_eff`` orders. Where it stops being reliable: a lean that is not
monotone in age (a single old sale complained about) is not modelled, and
in a quiet case a real leak's own complaints pull the fit toward its orders
(which makes the test more cautious, not less).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import polars as pl

from .commonpoint import CommonPointSettings, _hypergeom_logsf

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
    complained_idx: np.ndarray, universe: int, *, min_z: float = 3.0, min_complaints: int = 20
) -> AgeModel:
    """The lean of background complaints over order age.

    ``complained_idx``: placement numbers (``idx`` below ``universe``) of the
    orders of background complaints, one per complaint.
    """
    x = (np.asarray(complained_idx, dtype=float) + 0.5) / max(universe, 1)
    m = x.size
    if m < min_complaints or universe < 2:
        return AgeModel(0.0, 0.0, m)
    mean = float(x.mean())
    z = (mean - 0.5) * math.sqrt(12 * m)
    if abs(z) < min_z:
        return AgeModel(0.0, round(z, 3), m)
    lo, hi = -50.0, 50.0
    target = min(max(mean, 1e-6), 1 - 1e-6)
    for _ in range(100):  # E[x] rises with beta: bisect
        mid = (lo + hi) / 2
        if _mean_x(mid) < target:
            lo = mid
        else:
            hi = mid
    return AgeModel(round((lo + hi) / 2, 6), round(z, 3), m)


def _weighted(lo: np.ndarray, hi: np.ndarray, universe: int, beta: float) -> float:
    """``n_eff``: orders ``[lo, hi)`` (disjoint) weighed by ``exp(beta x)``,
    in units of the average order."""
    if beta == 0.0:
        return float((hi - lo).sum())
    a, b = lo / universe, hi / universe
    mass = np.expm1(beta * b) - np.expm1(beta * a)
    return float(universe * mass.sum() / math.expm1(beta))


def _union(frame: pl.DataFrame) -> pl.DataFrame:
    """Disjoint ``lo``, ``hi`` per ``level``, ``cand`` (running maximum)."""
    return (
        frame.sort("level", "cand", "lo")
        .with_columns(pl.col("hi").cum_max().shift(1).over("level", "cand").alias("_reach"))
        .with_columns(
            (pl.col("_reach").is_null() | (pl.col("lo") > pl.col("_reach")))
            .cum_sum()
            .over("level", "cand")
            .alias("_block")
        )
        .group_by("level", "cand", "_block")
        .agg(pl.col("lo").min(), pl.col("hi").max())
    )


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
) -> pl.DataFrame:
    """``points`` with each significant path re-tested against the age model.

    A path significant by the overlap route (or the flagged route) keeps its
    significance only if its hits still stand out among ``n_eff`` orders;
    the onset route does not depend on which orders are complained about
    and is left as it was. Adds ``exposed_by_age`` (``n_eff``; equal to
    ``exposed`` when background complaints do not lean).
    """
    out = points.with_columns(pl.col("exposed").cast(pl.Float64).alias("exposed_by_age"))
    if model.flat or points.is_empty():
        return out
    sig = points.filter(pl.col("significant")).select("level", pl.col("id").alias("cand"))
    if sig.is_empty():
        return out
    spans = (
        members.join(sig, on=["level", "cand"])
        .join(events.select("ev", "lo", "hi"), on="ev")
        .with_columns(pl.col("hi").clip(upper_bound=universe))
        .filter(pl.col("hi") > pl.col("lo"))
    )
    blocks = _union(spans)
    n_eff = {
        (lv, cd): _weighted(g["lo"].to_numpy(), g["hi"].to_numpy(), universe, model.beta)
        for (lv, cd), g in blocks.group_by("level", "cand")
    }
    N, K = max(universe, 1), max(complained, 1)
    tested = max(int((points["hits"] > 0).sum()), 1)
    family = max(int(points["flagged"].sum()) if "flagged" in points.columns else 0, 1)
    updates = []
    for r in out.filter(pl.col("significant")).iter_rows(named=True):
        key = (r["level"], r["id"])
        if key not in n_eff:
            continue
        n = max(n_eff[key], float(r["hits"]), 1e-9)
        logp = float(_hypergeom_logsf(np.array([r["hits"]]), np.array([round(n)]), N, K)[0])
        log10_p = logp / math.log(10)
        lift = (r["hits"] / n) / (K / N)
        overlap_ok = (
            log10_p + math.log10(tested) <= math.log10(overlap.alpha)
            and lift >= overlap.min_lift
            and r["hits"] >= overlap.min_hits
        )
        flagged_ok = (
            bool(r.get("flagged"))
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
    return out.sort(
        pl.col("significant"),
        pl.col("strength"),
        pl.col("lift"),
        pl.col("level"),
        pl.col("id"),
        descending=[True, True, True, False, False],
    )
