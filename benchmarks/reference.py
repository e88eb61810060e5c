"""Reference implementations of the common-point core: two written as an
analyst would, one as a strong DuckDB user would.

All compute what :func:`forensics.scale.core.core_counts` computes, straight from
the case's Parquet files. :data:`CORE_SQL` (DuckDB) and :func:`pandas_core`
*explode* every access event into one row per order it exposed and count
distinct orders; :data:`STRONG_SQL` (DuckDB) never does (see there). The
rules they share:

- an export or API pull (or any access with a range and no order id) exposes
  the orders placed in ``[range_start, min(range_end, at)]``; an empty
  ``range_start`` means from the first order, an empty ``range_end`` up to
  the event; any other access exposes the order it names;
- ``exposed`` counts the orders placed up to the last complaint deadline;
- ``hits`` counts the complained orders exposed at or before the complaint's
  deadline, ``min(contacted_at, received_at)``; a complaint points at its
  ``order_id`` when that order exists, else at every order of its buyer
  placed up to ``received_at``; a label print shows no amount, so it cannot
  explain a complaint that quoted the amount;
- candidate paths are accounts, machines, and IPs of access with no machine.

Timestamps are naive wall-clock times in the case zone (Asia/Shanghai, no
daylight saving), so they compare as they are; the library converts them to
UTC first, which orders them the same way.

Not a test module and not part of the package: ``benchmarks/run.py`` runs
these in their own processes and asserts they agree with the library.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["duckdb_core", "duckdb_strong_core", "pandas_core", "CORE_SQL", "STRONG_SQL"]

CORE_SQL = r"""
WITH
o AS (SELECT order_id, buyer_id, placed_at FROM read_parquet($orders)),
a AS (
    SELECT row_number() OVER () AS ev, "at", account_id, machine_id, ip, action, order_id,
           range_start, range_end,
           action IN ('export_orders', 'api_pull')
           OR (order_id IS NULL AND (range_start IS NOT NULL OR range_end IS NOT NULL))
               AS is_range
    FROM read_parquet($access)
),
c AS (
    SELECT complaint_id, buyer_id, order_id, received_at,
           least(contacted_at, received_at) AS deadline,
           list_contains(
               regexp_split_to_array(lower(coalesce(quoted_fields, '')), '[,\s|/;]+'), 'amount'
           ) AS quotes_amount
    FROM read_parquet($complaints)
),
last_deadline AS (SELECT max(deadline) AS "last" FROM c),
first_order AS (SELECT min(placed_at) AS "first" FROM o),
-- one row per (event, order) the event exposed
exposure AS (
    SELECT a.ev, a."at", a.action, o.order_id, o.placed_at
    FROM a JOIN o ON o.order_id = a.order_id
    WHERE NOT a.is_range
    UNION ALL
    SELECT a.ev, a."at", a.action, o.order_id, o.placed_at
    FROM a JOIN o
      ON o.placed_at >= coalesce(a.range_start, (SELECT "first" FROM first_order))
     AND o.placed_at <= least(coalesce(a.range_end, a."at"), a."at")
    WHERE a.is_range
),
members AS (
    SELECT 'account' AS level, account_id AS cand, ev FROM a WHERE account_id IS NOT NULL
    UNION ALL
    SELECT 'machine', machine_id, ev FROM a WHERE machine_id IS NOT NULL
    UNION ALL
    SELECT 'ip', ip, ev FROM a WHERE machine_id IS NULL AND ip IS NOT NULL
),
complained AS (
    SELECT complaint_id, order_id, deadline, quotes_amount
    FROM c WHERE order_id IN (SELECT order_id FROM o)
    UNION ALL
    SELECT c.complaint_id, o.order_id, c.deadline, c.quotes_amount
    FROM c JOIN o ON o.buyer_id = c.buyer_id AND o.placed_at <= c.received_at
    WHERE c.order_id IS NULL OR c.order_id NOT IN (SELECT order_id FROM o)
),
exposed AS (
    SELECT m.level, m.cand, count(DISTINCT x.order_id) AS exposed
    FROM members m JOIN exposure x ON x.ev = m.ev
    WHERE x.placed_at <= (SELECT "last" FROM last_deadline)
    GROUP BY m.level, m.cand
),
hits AS (
    SELECT m.level, m.cand, count(DISTINCT x.order_id) AS hits
    FROM exposure x
    JOIN complained k
      ON k.order_id = x.order_id
     AND x."at" <= k.deadline
     AND NOT (x.action = 'print_label' AND k.quotes_amount)
    JOIN members m ON m.ev = x.ev
    GROUP BY m.level, m.cand
)
SELECT e.level, e.cand, e.exposed, coalesce(h.hits, 0) AS hits
FROM exposed e LEFT JOIN hits h ON h.level = e.level AND h.cand = e.cand
ORDER BY e.level, e.cand
"""


STRONG_SQL = r"""
WITH
-- Orders numbered by placement time; each instant's first number and the
-- number after its last, so that a time range becomes numbers [lo, hi).
o AS (
    SELECT order_id, buyer_id, placed_at,
           row_number() OVER (ORDER BY placed_at, order_id) - 1 AS pos
    FROM read_parquet($orders)
),
instants AS (
    SELECT placed_at, min(pos) AS first_pos, max(pos) + 1 AS end_pos FROM o GROUP BY placed_at
),
a AS (
    SELECT "at", account_id, machine_id, ip, action, order_id, range_start,
           least(coalesce(range_end, "at"), "at") AS until,
           action IN ('export_orders', 'api_pull')
           OR (order_id IS NULL AND (range_start IS NOT NULL OR range_end IS NOT NULL))
               AS is_range
    FROM read_parquet($access)
),
c AS (
    SELECT buyer_id, order_id, received_at,
           least(contacted_at, received_at) AS deadline,
           list_contains(
               regexp_split_to_array(lower(coalesce(quoted_fields, '')), '[,\s|/;]+'), 'amount'
           ) AS quotes_amount
    FROM read_parquet($complaints)
),
-- Orders placed up to the last complaint deadline: numbers [0, u).
universe AS (
    SELECT coalesce(max(end_pos), 0) AS u
    FROM instants WHERE placed_at <= (SELECT max(deadline) FROM c)
),
-- Each range as an interval of order numbers, by two as-of joins.
ranges AS (
    SELECT * FROM (
        SELECT r.*, coalesce(e.end_pos, 0) AS hi,
               CASE WHEN r.range_start IS NULL THEN 0
                    ELSE coalesce(s.first_pos, $TOTAL) END AS lo
        FROM (SELECT * FROM a WHERE is_range) r
        ASOF LEFT JOIN instants e ON e.placed_at <= r.until
        ASOF LEFT JOIN instants s ON s.placed_at >= r.range_start
    ) WHERE hi > lo
),
singles AS (
    SELECT a.*, o.pos FROM a JOIN o ON o.order_id = a.order_id WHERE NOT a.is_range
),
-- A candidate path per level: the account, the machine, or the IP of
-- access with no machine.
range_paths AS (
    SELECT 'account' AS level, account_id AS cand, lo, hi FROM ranges WHERE account_id IS NOT NULL
    UNION ALL SELECT 'machine', machine_id, lo, hi FROM ranges WHERE machine_id IS NOT NULL
    UNION ALL SELECT 'ip', ip, lo, hi FROM ranges WHERE machine_id IS NULL AND ip IS NOT NULL
),
single_paths AS (
    SELECT 'account' AS level, account_id AS cand, pos FROM singles WHERE account_id IS NOT NULL
    UNION ALL SELECT 'machine', machine_id, pos FROM singles WHERE machine_id IS NOT NULL
    UNION ALL SELECT 'ip', ip, pos FROM singles WHERE machine_id IS NULL AND ip IS NOT NULL
),
-- exposed: a path's intervals, cut at the universe, merged by gaps and
-- islands (an island starts where an interval starts past the running
-- maximum of the ends before it), plus its single orders outside them,
-- counted distinct as a bitmap.
cut AS (
    SELECT level, cand, lo, least(hi, (SELECT u FROM universe)) AS hi
    FROM range_paths WHERE lo < (SELECT u FROM universe)
),
marked AS (
    SELECT level, cand, lo, hi,
           CASE WHEN lo <= max(hi) OVER (
               PARTITION BY level, cand ORDER BY lo, hi
               ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING
           ) THEN 0 ELSE 1 END AS fresh
    FROM cut
),
numbered AS (
    SELECT level, cand, lo, hi,
           sum(fresh) OVER (PARTITION BY level, cand ORDER BY lo, hi ROWS UNBOUNDED PRECEDING)
               AS island
    FROM marked
),
islands AS (
    SELECT level, cand, min(lo) AS lo, max(hi) AS hi FROM numbered GROUP BY level, cand, island
),
inside AS (SELECT level, cand, sum(hi - lo) AS n FROM islands GROUP BY level, cand),
outside AS (
    SELECT p.level, p.cand, bit_count(bitstring_agg(p.pos, 0, $LAST_POS)) AS n
    FROM single_paths p
    LEFT JOIN islands i
      ON i.level = p.level AND i.cand = p.cand AND p.pos >= i.lo AND p.pos < i.hi
    WHERE p.pos < (SELECT u FROM universe) AND i.lo IS NULL
    GROUP BY p.level, p.cand
),
exposed AS (
    SELECT level, cand, coalesce(i.n, 0) + coalesce(s.n, 0) AS exposed
    FROM inside i FULL JOIN outside s USING (level, cand)
),
-- hits: the complained orders (few) against the events, a range by an
-- inequality join (IEJoin) on order numbers, a single order by equality.
complained AS (
    SELECT o.pos, c.deadline, c.quotes_amount
    FROM c JOIN o ON o.order_id = c.order_id
    UNION ALL
    SELECT o.pos, c.deadline, c.quotes_amount
    FROM c JOIN o ON o.buyer_id = c.buyer_id AND o.placed_at <= c.received_at
    WHERE c.order_id IS NULL OR c.order_id NOT IN (SELECT order_id FROM o)
),
seen AS (
    SELECT r.account_id, r.machine_id, r.ip, k.pos
    FROM ranges r JOIN complained k
      ON k.pos >= r.lo AND k.pos < r.hi AND r."at" <= k.deadline
    WHERE NOT (r.action = 'print_label' AND k.quotes_amount)
    UNION ALL
    SELECT s.account_id, s.machine_id, s.ip, k.pos
    FROM singles s JOIN complained k ON k.pos = s.pos AND s."at" <= k.deadline
    WHERE NOT (s.action = 'print_label' AND k.quotes_amount)
),
hits AS (
    SELECT level, cand, count(DISTINCT pos) AS hits FROM (
        SELECT 'account' AS level, account_id AS cand, pos FROM seen WHERE account_id IS NOT NULL
        UNION ALL SELECT 'machine', machine_id, pos FROM seen WHERE machine_id IS NOT NULL
        UNION ALL SELECT 'ip', ip, pos FROM seen WHERE machine_id IS NULL AND ip IS NOT NULL
    ) GROUP BY level, cand
)
-- As CORE_SQL: the paths that exposed at least one order.
SELECT e.level, e.cand, e.exposed, coalesce(h.hits, 0) AS hits
FROM exposed e LEFT JOIN hits h USING (level, cand)
WHERE e.exposed > 0
ORDER BY e.level, e.cand
"""
"""The same table as :data:`CORE_SQL` without one row per (event, order).

Written as a strong DuckDB user would (issue 19): orders numbered by
placement time; each range turned into an interval of those numbers with
two ASOF joins; a path's intervals merged by gaps-and-islands (running
maximum of the ends) so that their lengths add up; its single orders outside
them counted distinct as a bitmap (``bitstring_agg``); complaint hits of
ranges by an inequality join of the few complained orders against the
intervals. The paths of an event are read off its own columns rather than
joined back by event number. ``bitstring_agg`` wants constant bounds, so
``$LAST_POS`` and ``$TOTAL`` are replaced by the last order number and the
number of orders (from the Parquet footer) before the query runs.
"""


def _connect(memory_limit: str | None, temp_directory: Path | None):
    import duckdb

    con = duckdb.connect()
    if memory_limit:
        con.execute(f"SET memory_limit = '{memory_limit}'")
    if temp_directory:
        con.execute(f"SET temp_directory = '{temp_directory}'")
    return con


def duckdb_strong_core(
    case: Path, *, memory_limit: str | None = None, temp_directory: Path | None = None
):
    """The core as :data:`STRONG_SQL` over the case's Parquet files.

    Parameters and result as :func:`duckdb_core`.
    """
    con = _connect(memory_limit, temp_directory)
    params = {t: str(case / f"{t}.parquet") for t in ("orders", "access", "complaints")}
    orders = {"orders": params["orders"]}
    [(total,)] = con.sql("SELECT count(*) FROM read_parquet($orders)", params=orders).fetchall()
    query = STRONG_SQL.replace("$LAST_POS", str(max(int(total) - 1, 0)))
    query = query.replace("$TOTAL", str(int(total)))
    return con.sql(query, params=params).pl()


def duckdb_core(case: Path, *, memory_limit: str | None = None, temp_directory: Path | None = None):
    """The core as one DuckDB SQL query over the case's Parquet files.

    Parameters
    ----------
    case : Path
        A case folder holding ``orders``, ``access`` and ``complaints`` as Parquet.
    memory_limit : str, optional
        DuckDB's ``memory_limit`` (e.g. ``"10GB"``); beyond it DuckDB spills
        to ``temp_directory``. DuckDB's default is 80 % of the machine's RAM.
    temp_directory : Path, optional
        Where DuckDB spills.

    Returns
    -------
    pl.DataFrame
        ``level``, ``cand``, ``exposed``, ``hits``, sorted by level and candidate.
    """
    con = _connect(memory_limit, temp_directory)
    params = {t: str(case / f"{t}.parquet") for t in ("orders", "access", "complaints")}
    return con.sql(CORE_SQL, params=params).pl()


def pandas_core(case: Path):
    """The core in pandas, exploding ranges with ``searchsorted`` and ``repeat``.

    Parameters
    ----------
    case : Path
        A case folder holding ``orders``, ``access`` and ``complaints`` as Parquet.

    Returns
    -------
    pandas.DataFrame
        ``level``, ``cand``, ``exposed``, ``hits``, sorted by level and candidate.
    """
    import numpy as np
    import pandas as pd

    orders = (
        pd.read_parquet(case / "orders.parquet", columns=["order_id", "buyer_id", "placed_at"])
        .sort_values(["placed_at", "order_id"])
        .reset_index(drop=True)
    )
    orders["pos"] = np.arange(len(orders))
    access = pd.read_parquet(
        case / "access.parquet",
        columns=["at", "account_id", "machine_id", "ip", "action", "order_id"]
        + ["range_start", "range_end"],
    )
    access["ev"] = np.arange(len(access))
    complaints = pd.read_parquet(
        case / "complaints.parquet",
        columns=["complaint_id", "buyer_id", "order_id", "received_at", "contacted_at"]
        + ["quoted_fields"],
    )
    complaints["deadline"] = complaints[["contacted_at", "received_at"]].min(axis=1)
    complaints["quotes_amount"] = (
        complaints["quoted_fields"]
        .fillna("")
        .str.lower()
        .str.split(r"[,\s|/;]+", regex=True)
        .map(lambda fields: "amount" in fields)
    )
    last = complaints["deadline"].max()

    # Explode: one row per (event, order position).
    is_range = access["action"].isin(["export_orders", "api_pull"]) | (
        access["order_id"].isna() & (access["range_start"].notna() | access["range_end"].notna())
    )
    single = access.loc[~is_range & access["order_id"].notna(), ["ev", "order_id"]].merge(
        orders[["order_id", "pos"]], on="order_id"
    )[["ev", "pos"]]
    ranges = access.loc[is_range]
    placed = orders["placed_at"].to_numpy()
    start = ranges["range_start"].fillna(orders["placed_at"].iloc[0]).to_numpy()
    until = np.minimum(ranges["range_end"].fillna(ranges["at"]).to_numpy(), ranges["at"].to_numpy())
    lo = np.searchsorted(placed, start, side="left")
    hi = np.maximum(np.searchsorted(placed, until, side="right"), lo)
    n = hi - lo
    ev = np.repeat(ranges["ev"].to_numpy(), n)
    pos = np.arange(n.sum()) - np.repeat(np.cumsum(n) - n, n) + np.repeat(lo, n)
    exposure = pd.concat([single, pd.DataFrame({"ev": ev, "pos": pos})], ignore_index=True)

    members = pd.concat(
        [
            access.loc[access["account_id"].notna(), ["ev", "account_id"]]
            .rename(columns={"account_id": "cand"})
            .assign(level="account"),
            access.loc[access["machine_id"].notna(), ["ev", "machine_id"]]
            .rename(columns={"machine_id": "cand"})
            .assign(level="machine"),
            access.loc[access["machine_id"].isna() & access["ip"].notna(), ["ev", "ip"]]
            .rename(columns={"ip": "cand"})
            .assign(level="ip"),
        ],
        ignore_index=True,
    )

    universe = int(np.searchsorted(placed, np.asarray(last, dtype=placed.dtype), side="right"))
    exposed = (
        exposure.loc[exposure["pos"] < universe]
        .merge(members, on="ev")
        .groupby(["level", "cand"])["pos"]
        .nunique()
        .rename("exposed")
    )

    known = complaints["order_id"].isin(orders["order_id"])
    explicit = complaints.loc[known, ["order_id", "deadline", "quotes_amount"]].merge(
        orders[["order_id", "pos"]], on="order_id"
    )
    by_buyer = complaints.loc[~known & complaints["buyer_id"].notna()].merge(
        orders[["buyer_id", "placed_at", "pos"]], on="buyer_id"
    )
    by_buyer = by_buyer.loc[by_buyer["placed_at"] <= by_buyer["received_at"]]
    cols = ["pos", "deadline", "quotes_amount"]
    complained = pd.concat([explicit[cols], by_buyer[cols]])
    seen = exposure.merge(complained, on="pos").merge(access[["ev", "at", "action"]], on="ev")
    seen = seen.loc[
        (seen["at"] <= seen["deadline"])
        & ~((seen["action"] == "print_label") & seen["quotes_amount"])
    ]
    hits = seen.merge(members, on="ev").groupby(["level", "cand"])["pos"].nunique().rename("hits")

    table = exposed.to_frame().join(hits, how="left").reset_index()
    table["hits"] = table["hits"].fillna(0).astype("int64")
    table["exposed"] = table["exposed"].astype("int64")
    return table.sort_values(["level", "cand"]).reset_index(drop=True)
