"""Infections no endpoint agent saw: camera insertions in the same sweep.

About one office PC in seven has no endpoint agent, or its agent was off.
When the camera shows a device going into such a PC in the same sweep in
which a USB device reached machines whose agents did record it, that PC was
very likely infected too: the sweep is one person carrying one stick from
desk to desk. :func:`sweep_insertions` attributes each such insertion to the
recorded device connected nearest in time on another machine, so that the
device's path (:mod:`forensics.analysis.exposure`) covers the unseen machine from the
insertion on, and the insertion's camera row is cited as where it began.

Assumptions: the insertion's camera clock has been corrected
(:mod:`forensics.analysis.clock`); an agent that logged nothing on the machine within
``quiet`` of the insertion did not see it; a sweep is a window of ``sweep``
around a recorded connection, or, for someone the camera shows at a
recorded connection of the device (within ``attach``), their insertions
within ``carry`` of it. It stops being reliable where staff plug
phones and sticks in all day (every insertion then lands near some device),
which is why a device that moved between machines with nothing run from it
only votes at half strength (:mod:`forensics.analysis.vector`).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta

import polars as pl

from ..case import Case
from .clock import ClockOffset, corrected

__all__ = ["sweep_insertions"]


def sweep_insertions(
    case: Case,
    device_starts: pl.DataFrame,
    offsets: Mapping[str, ClockOffset] | None = None,
    *,
    sweep: timedelta = timedelta(hours=2),
    quiet: timedelta = timedelta(hours=12),
    carry: timedelta = timedelta(days=3),
    attach: timedelta = timedelta(minutes=15),
) -> pl.DataFrame:
    """Camera insertions at machines whose agent recorded nothing then.

    Parameters
    ----------
    case : Case
    device_starts : pl.DataFrame
        ``cand``, ``machine_id``, ``since``: recorded first connections of
        each device on each machine.
    offsets : mapping, optional
        Clock offsets (:func:`forensics.analysis.clock.estimate_offsets`).

    Returns
    -------
    pl.DataFrame
        ``cand``, ``machine_id``, ``since``, ``_row``, ``source``: one row
        per (device, unseen machine), the insertion's camera row.
    """
    empty = pl.DataFrame(
        schema={
            "cand": pl.String,
            "machine_id": pl.String,
            "since": pl.Datetime("us", "UTC"),
            "_row": pl.Int64,
            "source": pl.String,
        }
    )
    if not case.has("camera") or device_starts.is_empty():
        return empty
    cam = corrected(case.camera, (offsets or {}).get("camera"), ("start_at", "end_at")).filter(
        (pl.col("activity") == "insert_device")
        & pl.col("machine_id").is_not_null()
        & pl.col("start_at").is_not_null()
    )
    if cam.is_empty():
        return empty
    ep = corrected(case.endpoint, (offsets or {}).get("endpoint"), ("at",)).select(
        "machine_id", pl.col("at").alias("_ep_at")
    )
    ins = cam.select("machine_id", pl.col("start_at").alias("at"), pl.col("_row").cast(pl.Int64))
    # The agent saw something on that machine near the insertion: it would
    # have recorded the device too, so the endpoint rows speak for it.
    watched = (
        ins.join(ep, on="machine_id")
        .filter((pl.col("_ep_at") - pl.col("at")).abs() <= quiet)
        .select("_row")
        .unique()
    )
    unseen = ins.join(watched, on="_row", how="anti")
    if unseen.is_empty():
        return empty
    recorded = device_starts.select(
        "cand", pl.col("machine_id").alias("_m"), pl.col("since").alias("_t")
    )
    # Near a recorded connection on another machine: the same sweep.
    by_time = (
        unseen.join(recorded, how="cross")
        .filter(
            (pl.col("_m") != pl.col("machine_id")) & ((pl.col("_t") - pl.col("at")).abs() <= sweep)
        )
        .with_columns((pl.col("_t") - pl.col("at")).abs().alias("_gap"))
    )
    # By the person the camera shows carrying that device where it was
    # recorded: their other insertions within ``carry`` are the same sweep
    # spread over days (a new hire's first mornings).
    carriers = (
        cam.filter(pl.col("person_id").is_not_null())
        .select(pl.col("machine_id").alias("_m"), "start_at", "end_at", "person_id")
        .join(recorded, on="_m")
        .filter(
            (pl.col("start_at") <= pl.col("_t") + attach)
            & (pl.col("end_at").fill_null(pl.col("start_at")) >= pl.col("_t") - attach)
        )
        .select("cand", "person_id", "_m", "_t")
    )
    by_person = (
        unseen.join(
            cam.select("_row", "person_id").with_columns(pl.col("_row").cast(pl.Int64)), on="_row"
        )
        .join(carriers, on="person_id")
        .filter((pl.col("_t") - pl.col("at")).abs() <= carry)
        .with_columns((pl.col("_t") - pl.col("at")).abs().alias("_gap"))
        .select(by_time.columns)
    )
    near = (
        pl.concat([by_time, by_person])
        .sort("_gap", "cand", "_row")
        .unique("_row", keep="first", maintain_order=True)
    )
    return (
        near.sort("at", "_row")
        .group_by("cand", "machine_id", maintain_order=True)
        .agg(pl.col("at").first().alias("since"), pl.col("_row").first())
        .with_columns(pl.lit(case.source("camera")).alias("source"))
        .select(empty.columns)
    )
