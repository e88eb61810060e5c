"""The access log's order ids held as the rows of ``orders`` they name.

On a large case ``access.order_id`` is the largest column of all (tens of
millions of strings, ``O...`` ids of 10-12 characters: 0.85 GB at 22.8M
rows). The reference check has already matched every id to its row of
``orders`` (:func:`forensics.case._tables.match_rows`), and an id that names
an order is exactly that order's ``order_id``: so the column is not held.
The access table keeps every other column; the ids are given back, equal
cell for cell to what was loaded, from the match and the few ids that name
no order (kept as text with their position):

* ``case.access`` / ``case["access"]`` / ``case.tables["access"]``: the
  whole table, ``order_id`` rebuilt (cheap on a small case; on a large one
  it costs the column it saved, for as long as the caller holds it);
* ``case.access_lean``: every column but ``order_id`` (what the engine's
  heavy steps read, with :attr:`forensics.case.Case.access_order_rows`);
* ``case.access_where(expr)``: the rows ``expr`` keeps, ``order_id``
  rebuilt for them only.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass

import polars as pl

__all__ = ["OrderIds", "CaseTables", "lean_access"]

_AT = "_at"


@dataclass(frozen=True)
class OrderIds:
    """What ``access.order_id`` held: the row of ``orders`` each id names
    (``rows``, null where none) and the ids naming no order (``extra``:
    ``_at`` position in the access table, ``order_id``)."""

    rows: pl.Series
    extra: pl.DataFrame
    position: int  # of the column in the access table

    def ids(self, orders: pl.DataFrame, at: pl.Series | None = None) -> pl.Series:
        """``order_id`` of the access rows at positions ``at`` (all rows
        when None), in that order."""
        rows = self.rows if at is None else self.rows.gather(at)
        ids = orders.get_column("order_id").gather(rows).alias("order_id")
        if self.extra.height:
            if at is None:
                ids = ids.scatter(self.extra.get_column(_AT), self.extra.get_column("order_id"))
            else:
                # Few rows here: the positions of the unmatched ids among them.
                hit = (
                    at.alias(_AT)
                    .to_frame()
                    .with_row_index("_i")
                    .join(self.extra, on=_AT)
                    .select("_i", "order_id")
                )
                if hit.height:
                    ids = ids.scatter(hit.get_column("_i"), hit.get_column("order_id"))
        return ids

    def restore(self, lean: pl.DataFrame, orders: pl.DataFrame) -> pl.DataFrame:
        """The access table as loaded, from its lean form."""
        # (insert_column changes the frame it is called on: a shallow copy.)
        return lean.clone().insert_column(self.position, self.ids(orders))


def lean_access(access: pl.DataFrame, rows: pl.Series) -> tuple[pl.DataFrame, OrderIds]:
    """``access`` without ``order_id``, and what gives it back."""
    ids = access.get_column("order_id")
    extra = (
        ids.to_frame()
        .with_row_index(_AT)
        .filter(pl.col("order_id").is_not_null() & rows.is_null())
        .select(pl.col(_AT).cast(pl.UInt32), "order_id")
    )
    position = access.get_column_index("order_id")
    return access.drop("order_id"), OrderIds(rows, extra, position)


class CaseTables(Mapping):
    """Table name -> frame, read-only; ``access`` given whole (see the
    module's docstring) though held lean."""

    def __init__(self, tables: Mapping[str, pl.DataFrame], order_ids: OrderIds | None = None):
        self._tables = dict(tables)
        self._order_ids = order_ids

    def __getitem__(self, name: str) -> pl.DataFrame:
        frame = self._tables[name]
        if name == "access" and self._order_ids is not None:
            return self._order_ids.restore(frame, self._tables["orders"])
        return frame

    def __iter__(self) -> Iterator[str]:
        return iter(self._tables)

    def __len__(self) -> int:
        return len(self._tables)

    def lean(self, name: str) -> pl.DataFrame:
        """The frame as held (``access`` without ``order_id`` when lean)."""
        return self._tables[name]

    def where(self, name: str, keep: pl.Expr) -> pl.DataFrame:
        """The rows of table ``name`` that ``keep`` selects (``keep`` must
        not read ``access.order_id``), whole."""
        if name != "access" or self._order_ids is None:
            return self[name].filter(keep)
        rows = self._tables[name].with_row_index(_AT).filter(keep)
        at = rows.get_column(_AT)
        ids = self._order_ids.ids(self._tables["orders"], at)
        return rows.drop(_AT).insert_column(self._order_ids.position, ids)  # a new frame
