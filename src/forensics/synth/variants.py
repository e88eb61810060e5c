"""Shop-life variants any scenario can draw: the ordinary life behind issue 15.

The base generator (:mod:`forensics.synth.plots`, :mod:`~.routine`) was
written alongside the engine and shares its assumptions. A *variant* adds a
piece of shop life an independent generator would have, on top of any
scenario, without changing what leaked: per-order review and SMS apps, an
ERP pulling every 30 minutes, a night-shift worker and early cleaners, PCs
without an endpoint agent, phones (MTP) as exfiltration devices, visitors and
insertions nobody identified, background complaints skewed by order age, an
early revoked app, complaints without order ids, a drifting camera clock,
timestamps in UTC, Parquet and GB18030 files.

Every variant draws from its own generator (seeded from the case seed and
the variant's name), so a case without variants is byte-identical to what
the generator wrote before variants existed, and adding one variant does not
reshuffle the draws of the base scenario's plot. A variant can hook in at
these points of :func:`forensics.synth.simulate` (all optional):

``shape(shop, plot, cal)``
    Change the shop after the plot cast its parts (add people, machines,
    apps; take the agent off PCs). Returns the new shop.
``arrivals(shop, cal)``
    Arrival overrides for the routine (the plot's own win).
``stage(office, plot)``
    Extra office evidence after the plot staged the leak.
``access(rec, orders, shop, cal)``
    Extra (never leaking) order-access rows.
``complaints(orders, exposure, cal)``
    Extra (background) complaints.
``finish(tables, shop, cal, plot, meta)``
    Rewrite the finished tables (internal form: timestamps in local
    seconds) and the case metadata.

``truth.json`` lists the variants applied under ``variants`` (only when
there are any, so older truth files keep their bytes).
"""

from __future__ import annotations

import zlib

import numpy as np
import polars as pl

from .events import Recorder
from .life import (
    Agentless,
    AgentlessSweep,
    AnonymousVisitor,
    CameraDrift,
    ComplaintsNew,
    ComplaintsOld,
    EarlyApp,
    ErpCadence,
    Gb18030,
    MtpPhones,
    NightShift,
    NoOrderIds,
    ParquetFiles,
    ReviewApps,
    SharedAccount,
    UnidentifiedInsertion,
    UtcLogs,
    Variant,
)
from .plots import Plot
from .routine import Office
from .world import Calendar, Shop

__all__ = ["VARIANTS", "Variants", "parse_variants", "random_variants"]


# --------------------------------------------------------------------------- registry

_ALL: tuple[type[Variant], ...] = (
    ReviewApps,
    ErpCadence,
    NightShift,
    Agentless,
    AgentlessSweep,
    MtpPhones,
    AnonymousVisitor,
    UnidentifiedInsertion,
    ComplaintsOld,
    ComplaintsNew,
    EarlyApp,
    NoOrderIds,
    SharedAccount,
    CameraDrift,
    UtcLogs,
    ParquetFiles,
    Gb18030,
)
VARIANTS: dict[str, type[Variant]] = {v.name: v for v in _ALL}
"""Every variant by name, in the order they are applied."""


def parse_variants(names) -> tuple[str, ...]:
    """Validated variant names in application order (``"a,b"`` or a list; repeats collapse)."""
    if names is None:
        return ()
    if isinstance(names, str):
        names = [names]
    flat = [n.strip() for item in names for n in str(item).split(",") if n.strip()]
    unknown = [n for n in flat if n not in VARIANTS and n != "random"]
    if unknown:
        raise ValueError(
            f"unknown variant {unknown[0]!r}; choose from random, {', '.join(VARIANTS)}"
        )
    return tuple(n for n in VARIANTS if n in flat) + (("random",) if "random" in flat else ())


def random_variants(seed: int) -> tuple[str, ...]:
    """One to three variants drawn from ``seed`` (``--variant random``)."""
    rng = np.random.default_rng([seed, zlib.crc32(b"random-variants")])
    names = list(VARIANTS)
    k = int(rng.integers(1, 4))
    chosen = {names[int(i)] for i in rng.choice(len(names), k, replace=False)}
    return tuple(n for n in names if n in chosen)


class Variants:
    """The variants of one case, each with its own generator, applied in order."""

    def __init__(self, names, seed: int):
        names = parse_variants(names)
        if "random" in names:
            names = tuple(n for n in VARIANTS if n in set(names[:-1]) | set(random_variants(seed)))
        self.names = names
        self.items = [
            VARIANTS[n](np.random.default_rng([seed, zlib.crc32(n.encode())])) for n in names
        ]

    def __bool__(self) -> bool:
        return bool(self.items)

    def shape(self, shop: Shop, plot: Plot, cal: Calendar) -> Shop:
        for v in self.items:
            shop = v.shape(shop, plot, cal)
        plot.shop = shop
        return shop

    def arrivals(self, shop: Shop, cal: Calendar, own: dict) -> dict:
        out: dict = {}
        for v in self.items:
            out.update(v.arrivals(shop, cal))
        out.update(own)
        return out

    def stage(self, rec: Recorder, shop: Shop, cal: Calendar, plot: Plot) -> None:
        for v in self.items:
            v.stage(Office(rec, v.rng, shop, cal), plot)

    def access(self, rec: Recorder, orders: pl.DataFrame, shop: Shop, cal: Calendar) -> None:
        for v in self.items:
            v.access(rec, orders, shop, cal)

    def complaints(self, orders, exposure, cal) -> list[pl.DataFrame]:
        out = [v.complaints(orders, exposure, cal) for v in self.items]
        return [df for df in out if df is not None and df.height]

    def finish(self, tables: dict, shop: Shop, cal: Calendar, plot: Plot, meta: dict) -> dict:
        for v in self.items:
            tables = v.finish(tables, shop, cal, plot, meta)
        return tables
