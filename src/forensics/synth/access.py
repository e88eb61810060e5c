"""Order access of ordinary work, vectorised: views, label prints, searches,
exports and API pulls.

Views and label prints are generated per order (a wanted time after the
order was placed) and then handed to a session that is open at or after
that time (:class:`SessionPool`), so every access row falls inside a
back-office session of a plausible person on a plausible machine. No Python
loop runs per order.
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import polars as pl

from ._time import DAY, HOUR, MINUTE, day_seconds
from .world import App, Calendar, Shop

__all__ = [
    "SessionPool",
    "count_placed",
    "views",
    "label_prints",
    "searches",
    "manager_exports",
    "api_pulls",
    "range_rows",
]

_SLOT = 5 * MINUTE
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()


class SessionPool:
    """Sessions of one kind of work on a grid of five-minute slots.

    A slot is *served* by a session that covers all of it. :meth:`assign`
    gives each wanted time the first served slot at or after it and a
    session picked uniformly among those serving that slot.
    """

    def __init__(self, sessions: pl.DataFrame, t0: int, t1: int):
        self.sessions = sessions
        self.t0 = t0
        n_slots = (t1 - t0) // _SLOT + 1
        start = sessions["start"].to_numpy()
        end = sessions["end"].to_numpy()
        first = -((t0 - start) // _SLOT)  # ceil((start - t0) / slot)
        last = (end - t0) // _SLOT - 1
        first = np.clip(first, 0, n_slots)
        last = np.clip(last, -1, n_slots - 1)
        n_cover = np.maximum(last - first + 1, 0)
        owner = np.repeat(np.arange(len(start)), n_cover)
        offset = np.arange(owner.size) - np.repeat(np.cumsum(n_cover) - n_cover, n_cover)
        slot = np.repeat(first, n_cover) + offset
        order = np.argsort(slot, kind="stable")
        self._owner = owner[order]
        self._count = np.bincount(slot, minlength=n_slots)
        self._first = np.cumsum(self._count) - self._count
        idx = np.where(self._count > 0, np.arange(n_slots), n_slots)
        self._next = np.minimum.accumulate(idx[::-1])[::-1]
        self._n = n_slots

    def assign(self, rng: np.random.Generator, want: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Session row (or -1) and access time, at or after each wanted time."""
        slot = (want - self.t0) // _SLOT
        ok = (slot >= 0) & (slot < self._n)
        slot = np.where(ok, slot, 0)
        served = np.where(ok, self._next[slot], self._n)
        ok &= served < self._n
        served = np.where(ok, served, 0)
        pick = self._first[served] + (rng.random(want.size) * self._count[served]).astype(np.int64)
        session = np.where(ok, self._owner[np.minimum(pick, max(self._owner.size - 1, 0))], -1)
        lo = np.maximum(want, self.t0 + served * _SLOT)
        hi = self.t0 + (served + 1) * _SLOT
        at = lo + (rng.random(want.size) * np.maximum(hi - lo, 1)).astype(np.int64)
        return session, at


def _rows(
    pool: SessionPool, session: np.ndarray, at: np.ndarray, action: str, order_id: pl.Series | None
) -> pl.DataFrame:
    keep = session >= 0
    n = int(keep.sum())
    who = pool.sessions.select(pl.col("account_id", "machine_id", "ip").cast(pl.Categorical))
    s = who[session[keep]]
    cols = {
        "at": at[keep],
        "account_id": s["account_id"],
        "machine_id": s["machine_id"],
        "ip": s["ip"],
        "action": pl.repeat(action, n, eager=True).cast(pl.Categorical),
    }
    if order_id is not None:
        cols["order_id"] = order_id.filter(pl.Series(keep))
    return pl.DataFrame(cols)


def views(
    rng: np.random.Generator,
    orders: pl.DataFrame,
    pool: SessionPool,
    *,
    per_order: float,
    until: int,
) -> pl.DataFrame:
    """Customer service opening orders: soon after purchase, on delivery, on returns."""
    n = orders.height
    k = rng.poisson(per_order, n)
    idx = np.repeat(np.arange(n), k)
    m = idx.size
    kind = rng.random(m)
    delay = np.where(
        kind < 0.55,
        rng.exponential(3 * HOUR, m),
        np.where(kind < 0.85, rng.uniform(1 * DAY, 5 * DAY, m), rng.uniform(5 * DAY, 20 * DAY, m)),
    ).astype(np.int64)
    want = orders["placed_at"].to_numpy()[idx] + delay
    keep = want < until
    idx, want = idx[keep], want[keep]
    session, at = pool.assign(rng, want)
    session = np.where(at < until, session, -1)
    return _rows(pool, session, at, "view_order", orders["order_id"].gather(idx))


def label_prints(
    rng: np.random.Generator, orders: pl.DataFrame, pool: SessionPool, *, until: int
) -> tuple[pl.DataFrame, np.ndarray]:
    """Warehouse printing a shipping label for almost every order.

    Returns the print rows and, per order, whether a label was printed.
    """
    placed = orders["placed_at"].to_numpy()
    n = placed.size
    want = placed + rng.integers(10 * MINUTE, 3 * HOUR, n)
    eligible = ~orders["_cancelled"].to_numpy() & (want < until)
    idx = np.flatnonzero(eligible)
    session, at = pool.assign(rng, want[idx])
    ok = (session >= 0) & (at < until)
    printed = np.zeros(n, bool)
    printed[idx[ok]] = True
    # A few labels are printed twice (jammed printer, changed address).
    twice = rng.random(int(ok.sum())) < 0.03
    again = idx[ok][twice]
    s2, at2 = pool.assign(rng, at[ok][twice] + rng.integers(5 * MINUTE, 2 * HOUR, again.size))
    first = _rows(
        pool, np.where(ok, session, -1), at, "print_label", orders["order_id"].gather(idx)
    )
    second = _rows(
        pool, np.where(at2 < until, s2, -1), at2, "print_label", orders["order_id"].gather(again)
    )
    return pl.concat([first, second]), printed


def searches(
    rng: np.random.Generator, pool: SessionPool, *, per_hour: float, until: int
) -> pl.DataFrame:
    """Order-list searches (no order id): about one an hour per CS session."""
    start = pool.sessions["start"].to_numpy()
    end = np.minimum(pool.sessions["end"].to_numpy(), until)
    hours = np.maximum(end - start, 0) / HOUR
    k = rng.poisson(per_hour * hours)
    sess = np.repeat(np.arange(start.size), k)
    at = start[sess] + (rng.random(sess.size) * (end - start)[sess]).astype(np.int64)
    return _rows(pool, sess, at, "search", None)


def count_placed(placed: np.ndarray, lo: np.ndarray, hi: np.ndarray, at: np.ndarray) -> np.ndarray:
    """Orders placed in [lo, hi] and no later than ``at`` (sorted ``placed``)."""
    top = np.minimum(hi, at)
    return np.maximum(
        np.searchsorted(placed, top, "right") - np.searchsorted(placed, lo, "left"), 0
    )


def range_rows(
    rng: np.random.Generator,
    placed: np.ndarray,
    account: str | list[str],
    machine: str | None | list[str | None],
    ip: str | list[str],
    action: str,
    at: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray,
    *,
    rows_missing: float = 0.1,
) -> pl.DataFrame:
    """Exports or API pulls of ``placed_at`` ranges, with the row counts reported."""
    n = at.size
    rows = count_placed(placed, lo, hi, at).astype(np.int64)
    rows_s = (
        pl.Series("rows", rows).scatter(np.flatnonzero(rng.random(n) < rows_missing), None)
        if n
        else pl.Series("rows", rows)
    )

    def col(v, dtype=pl.String):
        return pl.Series(v if isinstance(v, list) else [v] * n, dtype=dtype)

    return pl.DataFrame(
        {
            "at": at,
            "account_id": col(account),
            "machine_id": col(machine),
            "ip": col(ip),
            "action": col(action),
            "range_start": lo,
            "range_end": hi,
            "rows": rows_s,
        }
    )


def _minute(t: np.ndarray | int):
    return t - t % MINUTE


def manager_exports(
    rng: np.random.Generator, placed: np.ndarray, sessions: pl.DataFrame, shop: Shop, cal: Calendar
) -> pl.DataFrame:
    """Legitimate exports in office hours.

    The owner exports yesterday's orders every morning (and last week's on
    Mondays) for bookkeeping; the CS lead exports the week's after-sales
    list on Saturday afternoon; finance exports last month once.
    """
    rows = []
    closed: set[tuple[str, int]] = set()
    exporters = {a.owner: a for a in shop.accounts if a.can_export and a.owner}
    office = sessions.filter(
        pl.col("machine_id").is_not_null() & pl.col("person_id").is_in(list(exporters))
    )
    firsts = (
        office.with_columns((pl.col("start") // DAY).alias("day"))
        .sort("start")
        .group_by(["person_id", "day"], maintain_order=True)
        .first()
    )
    for person_id, day_n, start, end, machine, ip in firsts.select(
        "person_id", "day", "start", "end", "machine_id", "ip"
    ).iter_rows():
        person = shop.person(person_id)
        day = date.fromordinal(_EPOCH_ORDINAL + day_n)
        d0 = day_n * DAY
        account = exporters[person_id].account_id
        wanted = []
        if "owner" in person.tags or person.role == "manager":
            if rng.random() < 0.8:
                wanted.append((d0 - DAY, d0))
            if day.isoweekday() == 1:
                wanted.append((d0 - 7 * DAY, d0))
        elif "lead" in person.tags and day.isoweekday() == 6:
            wanted.append((d0 - 7 * DAY, d0 + 12 * HOUR))
        elif person.role == "finance" and (person_id, day.month) not in closed:
            closed.add((person_id, day.month))  # month-end close, first day back
            first_of_month = day.replace(day=1)
            previous = (first_of_month - timedelta(days=1)).replace(day=1)
            wanted.append((day_seconds(previous), day_seconds(first_of_month)))
        t = max(start + 10 * MINUTE, d0 + 9 * HOUR + 30 * MINUTE) + int(
            rng.integers(0, 90 * MINUTE)
        )
        if person.role != "manager" and "lead" in person.tags:
            t = d0 + 15 * HOUR + int(rng.integers(0, 90 * MINUTE))
        for lo, hi in wanted:
            if not start < t < min(end, cal.opened_at):
                continue
            rows.append((t, account, machine, ip, lo, hi))
            t += int(rng.integers(40, 400))
    if not rows:
        return range_rows(
            rng,
            placed,
            [],
            [],
            [],
            "export_orders",
            np.zeros(0, np.int64),
            np.zeros(0, np.int64),
            np.zeros(0, np.int64),
        )
    at, acc, mac, ips, lo, hi = (list(x) for x in zip(*rows, strict=True))
    return range_rows(
        rng, placed, acc, mac, ips, "export_orders", np.array(at), np.array(lo), np.array(hi)
    )


def api_pulls(
    rng: np.random.Generator, placed: np.ndarray, app: App, cal: Calendar
) -> pl.DataFrame:
    """Scheduled pulls of a legitimate app, each covering the time since the last."""
    t_end = cal.opened_at if app.revoked_at is None else min(app.revoked_at, cal.opened_at)
    t_start = max(app.granted_at, cal.start - DAY)
    if app.schedule == "hourly":
        marks = np.arange(_minute(t_start) // HOUR * HOUR + HOUR, t_end, HOUR)
        lo = marks - HOUR
        hi = marks
        at = marks + 5 * MINUTE + rng.integers(0, 40, marks.size)
    elif app.schedule == "daytime":
        marks = np.arange(t_start // (30 * MINUTE) * 30 * MINUTE + 30 * MINUTE, t_end, 30 * MINUTE)
        tod = marks % DAY
        marks = marks[(tod >= 8 * HOUR) & (tod <= 22 * HOUR)]
        # Each pull covers since the previous one (the night gap included).
        lo = np.concatenate([[marks[0] - 30 * MINUTE], marks[:-1]]) if marks.size else marks
        hi = marks
        at = marks + rng.integers(10, 90, marks.size)
    elif app.schedule == "nightly":
        days = np.arange(t_start // DAY * DAY + DAY, t_end, DAY)
        lo, hi = days - DAY, days
        at = days + 2 * HOUR + rng.integers(0, 20 * MINUTE, days.size)
    else:
        return range_rows(
            rng,
            placed,
            [],
            [],
            [],
            "api_pull",
            np.zeros(0, np.int64),
            np.zeros(0, np.int64),
            np.zeros(0, np.int64),
        )
    keep = (at < t_end) & (at >= cal.start)
    return range_rows(
        rng,
        placed,
        app.account_id,
        None,
        app.ip,
        "api_pull",
        at[keep],
        lo[keep],
        hi[keep],
        rows_missing=0.0,
    )
