"""Clock offsets of unsynchronized sources (a camera NVR, typically).

A file marked ``clock = "unsynchronized"`` in case.toml may run ahead of or
behind the back-office clock by a constant offset. We estimate it by pairing
its events with events on the same machine (or of the same person) from
synchronized sources and taking the mode of the time differences:

==========================  =====================================  ======
unsynchronized event        reference event                        weight
==========================  =====================================  ======
camera ``insert_device``    endpoint ``usb_connect``, same machine  4
camera ``at_desk`` start    login / endpoint logon, same machine    1
camera ``at_desk`` end      logout, same machine                    1
camera ``enter``/``leave``  badge ``in``/``out``, same person       2
endpoint event (if unsync)  access / login, same machine            1
==========================  =====================================  ======

The offset is defined as *source clock minus back-office clock*: a camera
whose clock is 7 minutes fast has offset ``+00:07:00`` and its corrected
times are ``t - offset``. The estimate is the peak of a weighted histogram of
differences (15 s bins, smoothed over ±1 min), refined by the weighted median
of the differences within ±90 s of the peak. ``support`` is the weight inside
that band; ``confidence`` compares it with what a flat background of
unrelated pairs would put there (0 = indistinguishable from chance).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import numpy as np
import polars as pl

from ..case import Case

__all__ = ["ClockOffset", "estimate_offset", "estimate_offsets", "format_offset", "corrected"]

MAX_OFFSET = timedelta(minutes=30)
_SEARCH = timedelta(minutes=35)  # pairs farther apart than this are not compared
_BAND_S = 90.0


@dataclass(frozen=True)
class ClockOffset:
    """Estimated constant offset of one source file."""

    file: str
    table: str
    offset: timedelta
    support: float
    pairs: int
    spread_s: float
    confidence: float
    method: str

    @property
    def text(self) -> str:
        return format_offset(self.offset)

    @classmethod
    def zero(cls, file: str, table: str, method: str) -> ClockOffset:
        return cls(file, table, timedelta(0), 0.0, 0, 0.0, 0.0, method)


def format_offset(offset: timedelta) -> str:
    """``+HH:MM:SS`` / ``-HH:MM:SS``.

    Examples
    --------
    >>> format_offset(timedelta(minutes=7))
    '+00:07:00'
    >>> format_offset(timedelta(seconds=-95))
    '-00:01:35'
    """
    total = round(offset.total_seconds())
    sign = "-" if total < 0 else "+"
    total = abs(total)
    return f"{sign}{total // 3600:02d}:{total % 3600 // 60:02d}:{total % 60:02d}"


def _pairs(left: pl.DataFrame, right: pl.DataFrame, on: str, weight: float) -> pl.DataFrame:
    """Differences ``left.t - right.t`` for rows sharing ``on`` within the search span."""
    if left.is_empty() or right.is_empty():
        return pl.DataFrame(schema={"diff_s": pl.Float64, "w": pl.Float64})
    joined = left.select(on, pl.col("t").alias("tl")).join(
        right.select(on, pl.col("t").alias("tr")), on=on
    )
    return (
        joined.with_columns(
            ((pl.col("tl") - pl.col("tr")).dt.total_microseconds() / 1e6).alias("diff_s")
        )
        .filter(pl.col("diff_s").abs() <= _SEARCH.total_seconds())
        .select("diff_s", pl.lit(weight).alias("w"))
    )


def _camera_pairs(case: Case) -> pl.DataFrame:
    cam = case.camera
    ep = case.endpoint
    lg = case.logins
    parts = []
    ins = cam.filter((pl.col("activity") == "insert_device") & pl.col("machine_id").is_not_null())
    usb = ep.filter(pl.col("kind") == "usb_connect")
    parts.append(
        _pairs(
            ins.select("machine_id", pl.col("start_at").alias("t")),
            usb.select("machine_id", pl.col("at").alias("t")),
            "machine_id",
            4.0,
        )
    )
    desk = cam.filter((pl.col("activity") == "at_desk") & pl.col("machine_id").is_not_null())
    starts_ref = pl.concat(
        [
            lg.filter(pl.col("action") == "login").select("machine_id", pl.col("at").alias("t")),
            ep.filter(pl.col("kind") == "logon").select("machine_id", pl.col("at").alias("t")),
        ]
    ).drop_nulls()
    parts.append(
        _pairs(
            desk.select("machine_id", pl.col("start_at").alias("t")), starts_ref, "machine_id", 1.0
        )
    )
    parts.append(
        _pairs(
            desk.filter(pl.col("end_at").is_not_null()).select(
                "machine_id", pl.col("end_at").alias("t")
            ),
            lg.filter(pl.col("action") == "logout")
            .select("machine_id", pl.col("at").alias("t"))
            .drop_nulls(),
            "machine_id",
            1.0,
        )
    )
    if not case.unsynchronized("badge"):
        bd = case.badge.filter(pl.col("result").fill_null("granted") == "granted")
        for act, direction in (("enter", "in"), ("leave", "out")):
            parts.append(
                _pairs(
                    cam.filter(
                        (pl.col("activity") == act) & pl.col("person_id").is_not_null()
                    ).select("person_id", pl.col("start_at").alias("t")),
                    bd.filter(pl.col("direction") == direction)
                    .select("person_id", pl.col("at").alias("t"))
                    .drop_nulls(),
                    "person_id",
                    2.0,
                )
            )
    return pl.concat(parts)


def _endpoint_pairs(case: Case) -> pl.DataFrame:
    ep = case.endpoint.select("machine_id", pl.col("at").alias("t"))
    ref = pl.concat(
        [
            case.logins.select("machine_id", pl.col("at").alias("t")),
            case.access_lean.select("machine_id", pl.col("at").alias("t")),
        ]
    ).drop_nulls()
    return _pairs(ep, ref, "machine_id", 1.0)


def _peak(diffs: np.ndarray, weights: np.ndarray) -> tuple[float, float, float, float]:
    """Return (offset_s, support, spread_s, confidence) of the strongest peak."""
    span = _SEARCH.total_seconds()
    edges = np.arange(-span, span + 15.0, 15.0)
    hist, _ = np.histogram(diffs, bins=edges, weights=weights)
    smooth = np.convolve(hist, np.ones(9), mode="same")  # ±60 s
    centre = (edges[:-1] + edges[1:]) / 2
    # Only offsets within the contract's ±30 min are admissible.
    admissible = np.abs(centre) <= MAX_OFFSET.total_seconds()
    smooth = np.where(admissible, smooth, -1)
    peak = float(centre[int(np.argmax(smooth))])
    band = np.abs(diffs - peak) <= _BAND_S
    if not band.any():
        return 0.0, 0.0, 0.0, 0.0
    d, w = diffs[band], weights[band]
    order = np.argsort(d)
    cw = np.cumsum(w[order])
    offset = float(d[order][np.searchsorted(cw, cw[-1] / 2)])
    support = float(w.sum())
    spread = float(np.sqrt(np.average((d - offset) ** 2, weights=w)))
    expected = float(weights.sum()) * (2 * _BAND_S) / (2 * span)
    confidence = max(0.0, 1.0 - (expected + 1.0) / (support + 1.0))
    return offset, support, spread, confidence


def estimate_offset(case: Case, table: str) -> ClockOffset:
    """Estimate the clock offset of ``table`` against the back-office clock."""
    file = case.source(table)
    if table == "camera":
        pairs = _camera_pairs(case)
        method = "camera sightings vs usb_connect/login/logout on the same machine and badge"
    elif table == "endpoint":
        pairs = _endpoint_pairs(case)
        method = "endpoint events vs logins/access on the same machine"
    else:
        return ClockOffset.zero(file, table, "no reference events to align with")
    if pairs.is_empty():
        return ClockOffset.zero(file, table, method + " (no pairs found)")
    offset, support, spread, conf = _peak(pairs["diff_s"].to_numpy(), pairs["w"].to_numpy())
    # Rounded to whole seconds: the sources are not more precise than that.
    return ClockOffset(
        file=file,
        table=table,
        offset=timedelta(seconds=round(offset)),
        support=support,
        pairs=pairs.height,
        spread_s=round(spread, 1),
        confidence=round(conf, 3),
        method=method,
    )


def estimate_offsets(case: Case) -> dict[str, ClockOffset]:
    """Offsets of every table marked unsynchronized, keyed by table name."""
    return {
        name: estimate_offset(case, name)
        for name in ("camera", "endpoint", "badge")
        if case.has(name) and case.unsynchronized(name)
    }


def corrected(
    frame: pl.DataFrame, offset: ClockOffset | None, columns: tuple[str, ...]
) -> pl.DataFrame:
    """``frame`` with ``columns`` moved onto the back-office clock."""
    if offset is None or offset.offset == timedelta(0):
        return frame
    return frame.with_columns(pl.col(c) - offset.offset for c in columns)
