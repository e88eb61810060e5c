"""Orders of the investigated period, vectorised (10 M orders in seconds).

Orders follow a daily cycle (lunch and late-evening peaks), a weekly one,
a slow upward trend and a sale with a midnight rush. Buyers repeat: a few
loyal customers place many orders, most place one.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from ._time import DAY, HOUR
from .names import buyer_identities
from .world import Calendar

__all__ = ["make_orders", "order_status", "HOURLY_PROFILE"]

# Relative order volume per hour of the day for a women's clothing shop.
HOURLY_PROFILE = np.array(
    [
        0.9,
        0.5,
        0.25,
        0.15,
        0.1,
        0.12,
        0.25,
        0.5,
        0.9,
        1.4,
        1.9,
        2.0,
        1.7,
        1.6,
        1.8,
        1.8,
        1.6,
        1.4,
        1.3,
        1.6,
        2.2,
        2.6,
        2.4,
        1.6,
    ]
)


def _cell_weights(rng: np.random.Generator, cal: Calendar) -> np.ndarray:
    """Weight of every (day, hour) cell of the period, zero after opening."""
    n_days = len(cal.days)
    trend = np.linspace(0.85, 1.15, n_days)
    weekly = np.array([1.0, 0.97, 0.97, 1.0, 1.05, 1.12, 1.15])
    day_w = trend * weekly[[d.weekday() for d in cal.days]] * rng.lognormal(0, 0.1, n_days)
    cells = np.outer(day_w, HOURLY_PROFILE)
    for k, d in enumerate(cal.days):
        if cal.is_promo(d):
            cells[k] *= 3.2
            if d == cal.promo_days[0]:
                cells[k, 0] *= 6  # the sale opens at midnight
    # Nothing after the case was opened; the opening hour counts pro rata.
    flat = cells.ravel()
    hours_open = (cal.opened_at - cal.start) / HOUR
    full = int(hours_open)
    flat[full + 1 :] = 0
    flat[full] *= hours_open - full
    return flat / flat.sum()


def _sorted_unique(values: np.ndarray) -> np.ndarray:
    """Distinct values, sorted (a plain sort: faster than np.unique here)."""
    v = np.sort(values)
    return v[np.concatenate([[True], v[1:] != v[:-1]])] if v.size else v


def _distinct_numbers(rng: np.random.Generator, n: int, lo: int, hi: int) -> np.ndarray:
    """``n`` distinct random integers in [lo, hi), in random order (no huge permutation)."""
    out = _sorted_unique(rng.integers(lo, hi, n + n // 8 + 16))
    while out.size < n:
        out = _sorted_unique(np.concatenate([out, rng.integers(lo, hi, n - out.size + 16)]))
    return rng.permutation(out)[:n]


def _order_ids(rng: np.random.Generator, placed: np.ndarray) -> pl.Series:
    """Platform-style numeric ids: yymmdd then twelve random digits (unique)."""
    tail = _distinct_numbers(rng, placed.size, 10**11, 10**12)
    day = pl.from_epoch(pl.Series(placed), time_unit="s").dt.strftime("%y%m%d")
    return pl.select(pl.concat_str([day, pl.Series(tail).cast(pl.String)])).to_series()


def make_orders(rng: np.random.Generator, cal: Calendar, n: int) -> pl.DataFrame:
    """``n`` orders placed before the case was opened, sorted by ``placed_at``.

    Returns
    -------
    polars.DataFrame
        ``order_id, buyer_id, placed_at`` (local seconds), ``amount``,
        ``buyer_name, phone, address`` and ``_cancelled`` (no label is
        printed for a cancelled order).

    Notes
    -----
    ``placed_at`` never falls on a whole minute, so an export or API range
    bounded by whole minutes never has an order exactly on its edge; the
    truth of generated cases does not depend on whether a range is read as
    open or closed.
    """
    cell = rng.choice(len(cal.days) * 24, size=n, p=_cell_weights(rng, cal))
    placed = cal.start + cell.astype(np.int64) * HOUR + rng.integers(0, HOUR, n)
    placed = np.minimum(placed, cal.opened_at - 1)
    placed += (placed % 60 == 0).astype(np.int64)
    placed = np.where(placed >= cal.opened_at, placed - 2, placed)
    placed.sort()

    n_buyers = max(1, int(n * 0.78))
    # Skewed draw: low indices are loyal buyers with many orders.
    buyer = np.minimum((n_buyers * rng.random(n) ** 1.35).astype(np.int64), n_buyers - 1)
    buyer_perm = rng.permutation(n_buyers)
    buyer = buyer_perm[buyer]
    buyer_s = pl.Series(buyer)
    buyer_ids = pl.Series(_distinct_numbers(rng, n_buyers, 10_000_000, 100_000_000))
    ident = buyer_identities(rng, n_buyers)
    # Some orders go elsewhere (the office, a relative): another address.
    moved = np.flatnonzero(rng.random(n) < 0.08)
    address = (
        ident["address"]
        .gather(buyer_s)
        .scatter(moved, buyer_identities(rng, moved.size)["address"])
    )

    amount = np.maximum(np.round(rng.lognormal(np.log(160), 0.55, n)), 20)
    amount = amount - 0.1 * (rng.random(n) < 0.45)
    orders = pl.DataFrame(
        {
            "order_id": _order_ids(rng, placed),
            "buyer_id": "B" + buyer_ids.gather(buyer_s).cast(pl.String),
            "placed_at": placed,
            "amount": np.round(amount, 2),
            "buyer_name": ident["buyer_name"].gather(buyer_s),
            "phone": ident["phone"].gather(buyer_s),
            "address": address,
            "_cancelled": rng.random(n) < 0.03,
        }
    )
    return orders


def order_status(
    orders: pl.DataFrame, printed: np.ndarray, opened_at: int, rng: np.random.Generator
) -> pl.Series:
    """Status at case opening, from age and whether a label was printed."""
    age = (opened_at - orders["placed_at"].to_numpy()) / DAY
    cancelled = orders["_cancelled"].to_numpy()
    refunded = (age > 6) & (rng.random(age.size) < 0.04)
    status = np.select(
        [cancelled, ~printed, refunded, age < 3, age < 10],
        ["cancelled", "paid", "refunded", "shipped", "delivered"],
        default="completed",
    )
    return pl.Series("status", status)
