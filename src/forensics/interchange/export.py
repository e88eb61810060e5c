"""``forensics timeline``: the case's timeline out, as Timesketch JSONL or CSV.

Every event of :func:`forensics.timeline.timeline` (logins, order access,
camera sightings, endpoint and badge events), on the back-office clock: an
unsynchronized file's times are corrected by the estimated offset
(:func:`forensics.clock.estimate_offsets`), and such an event says so
(``clock_offset``, ``recorded_at``: the time as the file wrote it).

Timesketch's import format (one JSON object per line) needs ``message``,
``datetime`` (ISO 8601) and ``timestamp_desc``; the rest are attributes:
``source_file`` and ``source_row`` (where to check it by hand), ``machine``,
``account``, ``person``, ``kind`` (the event's action), ``table``,
``device``, ``os_user`` and ``detail``. ``timestamp`` (microseconds since the
epoch) is written too. Load it with::

    pip install timesketch-import-client
    timesketch_importer --sketch_id 1 --timeline_name april-trojan timeline.jsonl

or upload the file in the web UI (a sketch's "Add timeline" > upload).

The CSV has the same columns and is spreadsheet-safe
(:func:`forensics.privacy.write_csv`: formulas defused). Personal data stays
masked unless ``reveal``: phone numbers written in free text (a camera note,
an endpoint detail) are masked in every export; the timeline holds no buyer
names or addresses.

``--tagged NOTES`` exports only the events the investigator annotated: the
rows a note of the notes file names (``source`` + ``row``), each with the
notes' tags (``tags``) and comments (``notes``) as attributes, as
Timesketch users export what they tagged.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import polars as pl

from ..analysis.clock import estimate_offsets
from ..analysis.timeline import timeline
from ..case import Case, CaseError, load
from ..case.notes import Notes, load_notes
from ..privacy import mask_phone_numbers, write_csv

__all__ = ["only_tagged", "export_frame", "write_timesketch", "write_timeline_csv", "run_timeline"]


def _endpoint_people(case: Case, events: pl.DataFrame) -> pl.DataFrame:
    """Endpoint events with their OS user, device key and the person listing that user."""
    ep = case.endpoint
    wanted = [c for c in ("user", "device_key", "user_person_id") if c in ep.columns]
    if not wanted or ep.is_empty():
        return events.with_columns(pl.lit(None, pl.String).alias("os_user"))
    extra = ep.select(
        pl.col("_row").alias("row"),
        pl.col("user").alias("os_user")
        if "user" in wanted
        else pl.lit(None, pl.String).alias("os_user"),
        *(pl.col(c).alias(f"_{c}") for c in wanted if c != "user"),
    ).with_columns(pl.lit("endpoint").alias("table"))
    joined = events.join(extra, on=["table", "row"], how="left", maintain_order="left")
    fills = []
    if "_device_key" in joined.columns:
        fills.append(pl.coalesce("device_id", "_device_key").alias("device_id"))
    if "_user_person_id" in joined.columns:
        fills.append(pl.coalesce("person_id", "_user_person_id").alias("person_id"))
    return joined.with_columns(fills).drop([c for c in joined.columns if c.startswith("_")])


def export_frame(case: Case, *, reveal: bool = False) -> pl.DataFrame:
    """One row per timeline event, in the columns both exports write."""
    offsets = estimate_offsets(case)
    events = _endpoint_people(case, timeline(case, offsets))
    zone = case.timezone()
    shift = {case.source(t): o for t, o in offsets.items() if o.offset.total_seconds()}
    offset_text = pl.col("source").replace_strict(
        {s: o.text for s, o in shift.items()}, default=None, return_dtype=pl.String
    )
    offset_us = pl.col("source").replace_strict(
        {s: int(o.offset.total_seconds() * 1e6) for s, o in shift.items()},
        default=None,
        return_dtype=pl.Int64,
    )
    local = pl.col("at").dt.convert_time_zone(zone)
    who = pl.coalesce("person_id", "account_id", "os_user")
    message = pl.concat_str(
        pl.col("desc"),
        pl.when(who.is_not_null()).then(pl.lit(": ") + who).otherwise(pl.lit("")),
        pl.when(pl.col("machine_id").is_not_null())
        .then(pl.lit(" at ") + pl.col("machine_id"))
        .otherwise(pl.lit("")),
        pl.when(pl.col("device_id").is_not_null())
        .then(pl.lit(" [") + pl.col("device_id") + pl.lit("]"))
        .otherwise(pl.lit("")),
        pl.when(pl.col("detail").is_not_null())
        .then(pl.lit(" — ") + pl.col("detail"))
        .otherwise(pl.lit("")),
    )
    out = events.select(
        message.alias("message"),
        local.dt.strftime("%Y-%m-%dT%H:%M:%S%.6f%:z").alias("datetime"),
        pl.col("at").dt.epoch("us").alias("timestamp"),
        pl.col("desc").alias("timestamp_desc"),
        pl.col("source").alias("source_file"),
        pl.col("row").alias("source_row"),
        pl.col("table"),
        pl.col("action").alias("kind"),
        pl.col("machine_id").alias("machine"),
        pl.col("account_id").alias("account"),
        pl.col("person_id").alias("person"),
        pl.col("os_user"),
        pl.col("device_id").alias("device"),
        pl.col("detail"),
        offset_text.alias("clock_offset"),
        pl.when(offset_us.is_not_null())
        .then((pl.col("at") + pl.duration(microseconds=offset_us)).dt.convert_time_zone(zone))
        .dt.strftime("%Y-%m-%dT%H:%M:%S%.6f%:z")
        .alias("recorded_at"),
    )
    if not reveal:
        masked = {
            c: out[c].map_elements(mask_phone_numbers, return_dtype=pl.String)
            for c in ("message", "detail")
        }
        out = out.with_columns(**masked)
    return out


def only_tagged(frame: pl.DataFrame, notes: Notes) -> pl.DataFrame:
    """The events of ``frame`` (:func:`export_frame`) that a note names
    (``source`` + ``row``), with ``tags`` (the notes' tags, ``;``-joined) and
    ``notes`` (their texts, ``;``-joined)."""
    named = [
        {"source_file": n.source, "source_row": n.row, "tag": n.tag, "text": n.text}
        for n in notes.notes
        if n.source and n.row
    ]
    if not named:
        return frame.clear().with_columns(
            pl.lit(None, pl.String).alias("tags"), pl.lit(None, pl.String).alias("notes")
        )
    said = (
        pl.DataFrame(
            named,
            schema={
                "source_file": pl.String,
                "source_row": frame.schema["source_row"],
                "tag": pl.String,
                "text": pl.String,
            },
        )
        .group_by("source_file", "source_row", maintain_order=True)
        .agg(
            pl.col("tag").drop_nulls().unique(maintain_order=True).str.join(";").alias("tags"),
            pl.col("text").drop_nulls().str.join("; ").alias("notes"),
        )
        .with_columns(pl.col("tags").replace("", None), pl.col("notes").replace("", None))
    )
    return frame.join(said, on=["source_file", "source_row"], how="inner", maintain_order="left")


def write_timesketch(frame: pl.DataFrame, path: Path) -> int:
    """Write ``frame`` (from :func:`export_frame`) as Timesketch JSONL; return the lines."""
    with open(path, "w", encoding="utf-8", newline="\n") as fh:
        for row in frame.iter_rows(named=True):
            event = {k: v for k, v in row.items() if v is not None}
            fh.write(json.dumps(event, ensure_ascii=False) + "\n")
    return frame.height


def write_timeline_csv(frame: pl.DataFrame, path: Path, *, reveal: bool = False) -> int:
    """Write ``frame`` as spreadsheet-safe CSV (formulas defused); return the rows."""
    write_csv(frame, path, reveal=reveal)
    return frame.height


def run_timeline(
    case_path: Path,
    out: Path,
    *,
    fmt: str = "timesketch",
    reveal: bool = False,
    tagged: str | None = None,
) -> int:
    """``forensics timeline``: load, export, print what was written."""
    from ..views.notebook import output_folder

    out = Path(out)
    try:
        output_folder(out.parent if str(out.parent) else Path("."), case_path)
    except ValueError as exc:
        print(f"forensics: {exc}", file=sys.stderr)
        return 2
    if out.resolve().is_relative_to(Path(case_path).resolve()):
        print("forensics: refusing to write into the case folder", file=sys.stderr)
        return 2
    case = load(case_path)
    frame = export_frame(case, reveal=reveal)
    if tagged is not None:
        try:
            frame = only_tagged(frame, load_notes(tagged))
        except CaseError as exc:
            print(f"forensics: {exc}", file=sys.stderr)
            return 2
    if fmt == "csv":
        n = write_timeline_csv(frame, out, reveal=reveal)
    else:
        n = write_timesketch(frame, out)
    corrected = frame.filter(pl.col("clock_offset").is_not_null())
    note = ""
    if corrected.height:
        files = ", ".join(
            f"{s} {o}"
            for s, o in corrected.select("source_file", "clock_offset")
            .unique()
            .sort("source_file")
            .iter_rows()
        )
        note = f"; clock corrected: {files}"
    print(f"{out}: {n} events ({fmt}){note}")
    return 0
