"""Two reference implementations of the common-point core, written as an analyst would.

Both compute what :func:`forensics.scale.core.core_counts` computes, straight from
the case's Parquet files, by *exploding* every access event into one row per
order it exposed and counting distinct orders:

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

__all__ = ["duckdb_core", "pandas_core", "CORE_SQL"]

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
    import duckdb

    con = duckdb.connect()
    if memory_limit:
        con.execute(f"SET memory_limit = '{memory_limit}'")
    if temp_directory:
        con.execute(f"SET temp_directory = '{temp_directory}'")
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
