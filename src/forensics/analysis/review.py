"""The investigator in the loop: notes taken in, and what to check next.

:func:`apply_identifications` and :func:`apply_exclusions` take the
investigator's statements (:mod:`forensics.case.notes`) into the
investigation, each checked against the record first: a note naming
someone whom the badge log places outside at that moment, or whom the
camera shows elsewhere, is reported as *contradicted* and changes nothing;
an exclusion of a person the camera shows inserting the device is too. An
applied note is cited wherever it counts, by the notes file and its line.

:func:`to_review` lists, most decisive first, the evidence that would most
change the conclusion if the investigator settled it: unidentified people on
camera at the machines where the leak path opened, footage nobody has
reviewed, the people to interview, rows of unknown extent, the machines to
image.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import polars as pl

from ..case import Case
from ..case.localtime import local_text
from ..case.notes import Notes
from .suspects import Evidence, Suspect
from .vector import VectorCall

__all__ = [
    "NoteOutcome",
    "apply_identifications",
    "apply_exclusions",
    "person_statements",
    "recorded",
    "to_review",
    "unproven_malware",
]

MALWARE_KINDS = ("malware", "usb_malware", "visitor_malware")


@dataclass(frozen=True)
class NoteOutcome:
    """What became of one note: ``applied``, ``contradicted``, ``unmatched``
    (it names a row or path the evidence does not have) or ``recorded``
    (comments and tags, kept as they are)."""

    line: int
    kind: str
    status: str
    detail: str

    def as_dict(self, file: str) -> dict:
        return {
            "source": file,
            "row": self.line,
            "kind": self.kind,
            "status": self.status,
            "detail": self.detail,
        }


def _badged_out(tl: pl.DataFrame, person: str, at, *, lookback=timedelta(hours=24)):
    """The badge row placing ``person`` outside at ``at`` (last passage an
    ``out`` within the day before), or None."""
    passes = tl.filter(
        (pl.col("table") == "badge")
        & (pl.col("person_id") == person)
        & pl.col("action").is_in(["in", "out"])
        & (pl.col("at") <= at)
        & (pl.col("at") >= at - lookback)
    ).sort("at", "row")
    if passes.is_empty():
        return None
    last = passes.row(-1, named=True)
    return last if last["action"] == "out" else None


def _seen_elsewhere(tl: pl.DataFrame, person: str, row: dict, *, slack=timedelta(minutes=2)):
    """A camera row naming ``person`` at another machine over the same time."""
    end = row["end"] or row["at"]
    other = tl.filter(
        (pl.col("table") == "camera")
        & (pl.col("person_id") == person)
        & pl.col("machine_id").is_not_null()
        & (pl.col("machine_id") != (row["machine_id"] or ""))
        & (pl.col("at") <= end - slack)
        & (pl.coalesce("end", "at") >= row["at"] + slack)
    )
    return other.row(0, named=True) if other.height else None


def apply_identifications(
    case: Case, tl: pl.DataFrame, notes: Notes | None
) -> tuple[pl.DataFrame, list[NoteOutcome]]:
    """The timeline with each uncontradicted ``identify`` note applied.

    The row keeps its time and machine; its ``person_id`` becomes the one
    the note names, and it is cited by the notes file and line (its own
    file and row move into ``detail``). A row the record already names
    someone else on, or a person the badge log or the camera places
    elsewhere then, is left as it was and the note reported contradicted.
    """
    outcomes: list[NoteOutcome] = []
    if notes is None:
        return tl, outcomes
    tz = case.timezone()
    for note in notes.of_kind("identify"):
        hit = tl.filter((pl.col("source") == note.source) & (pl.col("row") == note.row))
        if hit.is_empty():
            outcomes.append(
                NoteOutcome(note.line, note.kind, "unmatched", f"no {note.source} row {note.row}")
            )
            continue
        row = hit.row(0, named=True)
        person = note.person_id
        if row["person_id"] not in (None, person):
            outcomes.append(
                NoteOutcome(
                    note.line,
                    note.kind,
                    "contradicted",
                    f"{note.source} row {note.row} already names {row['person_id']}",
                )
            )
            continue
        out = _badged_out(tl, person, row["at"])
        elsewhere = _seen_elsewhere(tl, person, row) if out is None else None
        if out is not None or elsewhere is not None:
            why = (
                f"{person} badged out {local_text(out['at'], tz)} ({out['source']} row "
                f"{out['row']})"
                if out is not None
                else f"{person} is on camera at {elsewhere['machine_id']} then "
                f"({elsewhere['source']} row {elsewhere['row']})"
            )
            outcomes.append(NoteOutcome(note.line, note.kind, "contradicted", why))
            continue
        where = (pl.col("source") == note.source) & (pl.col("row") == note.row)
        tl = tl.with_columns(
            pl.when(where).then(pl.lit(person)).otherwise(pl.col("person_id")).alias("person_id"),
            pl.when(where)
            .then(pl.lit(f"{note.source} row {note.row}, identified by investigator note"))
            .otherwise(pl.col("detail"))
            .alias("detail"),
            pl.when(where).then(pl.lit(notes.file)).otherwise(pl.col("source")).alias("source"),
            pl.when(where).then(pl.lit(note.line)).otherwise(pl.col("row")).alias("row"),
        )
        outcomes.append(
            NoteOutcome(
                note.line,
                note.kind,
                "applied",
                f"{note.source} row {note.row} ({row['desc']}, {row['machine_id'] or '-'}, "
                f"{local_text(row['at'], tz)}) shows {person}",
            )
        )
    return tl, outcomes


def apply_exclusions(
    points: pl.DataFrame, notes: Notes | None
) -> tuple[pl.DataFrame, list[NoteOutcome]]:
    """``points`` with every path an ``exclude`` note names made not
    significant (``excluded`` set): the investigator has ruled it out, and
    the leak path is decided among the others."""
    outcomes: list[NoteOutcome] = []
    points = points.with_columns(pl.lit(False).alias("excluded"))
    if notes is None:
        return points, outcomes
    for note in notes.of_kind("exclude"):
        if not note.level:
            continue
        match = (pl.col("level") == note.level) & (pl.col("id") == note.id)
        if not points.filter(match).height:
            outcomes.append(
                NoteOutcome(note.line, note.kind, "unmatched", f"no path {note.level} {note.id}")
            )
            continue
        points = points.with_columns(
            pl.when(match).then(False).otherwise(pl.col("significant")).alias("significant"),
            (pl.col("excluded") | match).alias("excluded"),
        )
        outcomes.append(
            NoteOutcome(
                note.line,
                note.kind,
                "applied",
                f"path {note.level} {note.id} ruled out: {note.reason or note.text or ''}".strip(),
            )
        )
    return points, outcomes


def person_statements(
    suspects: tuple[Suspect, ...], notes: Notes | None, *, weight: float = 0.1
) -> tuple[dict[str, list[Evidence]], list[NoteOutcome]]:
    """Evidence items for the people an ``exclude`` note rules out.

    An alibi is a statement: it weighs ``weight`` against the person (cited
    by the notes line), and is contradicted, not applied, when the record
    shows the person on camera inserting the device where the path opened.
    """
    items: dict[str, list[Evidence]] = {}
    outcomes: list[NoteOutcome] = []
    if notes is None:
        return items, outcomes
    by_person = {s.person_id: s for s in suspects}
    for note in notes.of_kind("exclude"):
        if not note.person_id:
            continue
        suspect = by_person.get(note.person_id)
        strong = (
            [e for e in suspect.evidence if e.kind == "camera_insert_at_infection"]
            if suspect
            else []
        )
        if strong:
            e = strong[0]
            outcomes.append(
                NoteOutcome(
                    note.line,
                    note.kind,
                    "contradicted",
                    f"{note.person_id} is on camera inserting the device ({e.source} row {e.row})",
                )
            )
            continue
        items.setdefault(note.person_id, []).append(
            Evidence(
                "investigator_excluded",
                notes.file,
                note.line,
                f"ruled out by the investigator: {note.reason or note.text or 'no reason given'}",
                weight,
            )
        )
        outcomes.append(
            NoteOutcome(
                note.line, note.kind, "applied", f"{note.person_id} ruled out (weight {weight})"
            )
        )
    return items, outcomes


def recorded(notes: Notes | None) -> list[NoteOutcome]:
    """Comments and tags: kept, listed, changing nothing."""
    if notes is None:
        return []
    out = []
    for note in notes.notes:
        if note.kind in ("comment", "tag"):
            about = f" on {note.source} row {note.row}" if note.source and note.row else ""
            label = f"[{note.tag}] " if note.tag else ""
            out.append(
                NoteOutcome(note.line, note.kind, "recorded", f"{label}{note.text or ''}{about}")
            )
    return out


def unproven_malware(points: pl.DataFrame, starts: dict[str, pl.DataFrame]) -> list[dict]:
    """Malware the endpoint evidence shows on its own (the flagged device
    and process paths of ``points``: a stick followed by an autorun entry,
    an antivirus alert or an upload; a process flagged or auto-started,
    :func:`.indicators.malware_keys`) whose path is not significant: found,
    not shown to have leaked.

    One entry per distinct exposure (a stick and the payload it started
    are one), with the machines it reached, where it was first seen, and
    its path's figures.
    """
    rows = points.filter(
        pl.col("level").is_in(["device", "process"]) & pl.col("flagged") & ~pl.col("significant")
    ).sort("level", "id")
    out: list[dict] = []
    seen: set[tuple] = set()
    for r in rows.iter_rows(named=True):
        exposure = (r["exposed"], r["hits"], r["first_exposure"])
        if exposure in seen:
            continue
        seen.add(exposure)
        st = starts[r["level"]].filter(pl.col("cand") == r["id"]).sort("since", "machine_id")
        if st.is_empty():
            continue
        first = st.row(0, named=True)
        out.append(
            {
                "level": r["level"],
                "id": r["id"],
                "machines": st["machine_id"].unique(maintain_order=True).to_list(),
                "since": first["since"],
                "source": first["source"],
                "row": first["_row"],
                "coverage": r["coverage"],
                "lift": r["lift"],
                "p_value": r["p_value"],
            }
        )
    return out


def _item(priority: int, question: str, why: str, **where) -> dict:
    return {"priority": priority, **where, "question": question, "why": why}


def to_review(
    case: Case,
    call: VectorCall,
    suspects: tuple[Suspect, ...],
    tl: pl.DataFrame,
    unknown: pl.DataFrame,
    *,
    window: timedelta = timedelta(minutes=10),
    limit: int = 20,
    unproven: list[dict] = (),
) -> list[dict]:
    """What the investigator should settle next, most decisive first.

    Each item has ``priority`` (1 most decisive), ``source`` and ``row`` (or a
    ``window`` and ``machine_id``/``camera_id``), ``question`` and ``why``
    (what it would confirm or rule out). ``unproven``: malware found but
    not shown to have leaked (:func:`unproven_malware`), each to be imaged.
    """
    tz = case.timezone()
    items: list[dict] = []
    anchors = (
        call.anchors.filter(pl.col("machine_id").is_not_null())
        if call.anchors.height
        else call.anchors
    )
    infection = call.kind in MALWARE_KINDS
    cameras = (
        dict(case.machines.select("machine_id", "camera_id").drop_nulls().iter_rows())
        if case.has("machines")
        else {}
    )
    cam_of_row = (
        dict(case.camera.select("_row", "camera_id").drop_nulls().iter_rows())
        if case.has("camera")
        else {}
    )
    named = {s.person_id for s in suspects if s.score >= 0.5}
    seen_rows: set[int] = set()
    for a in anchors.iter_rows(named=True) if anchors.height else ():
        at, machine = a["at"], a["machine_id"]
        sightings = tl.filter(
            (pl.col("table") == "camera")
            & (pl.col("machine_id") == machine)
            & (pl.col("at") <= at + window)
            & (pl.coalesce("end", "at") >= at - window)
        )
        opened = f"{a['what']} ({a['source']} row {a['row']})"
        anonymous = sightings.filter(pl.col("person_id").is_null())
        for s in anonymous.iter_rows(named=True):
            if s["row"] in seen_rows:
                continue
            seen_rows.add(s["row"])
            cam = cam_of_row.get(s["row"]) or cameras.get(machine) or "the camera"
            start = local_text(s["at"] - timedelta(minutes=2), tz, "%H:%M")
            end = local_text((s["end"] or s["at"]) + timedelta(minutes=2), tz, "%H:%M")
            doing = "inserted a device" if s["action"] == "insert_device" else "is at the desk"
            items.append(
                _item(
                    1,
                    f"who {doing} at {machine} at {local_text(s['at'], tz)}? "
                    f"footage {cam} {start}-{end}",
                    f"the leak path opened there: {opened}; naming this person names who "
                    + ("brought the malware" if infection else "used the machine")
                    + (f" (would confirm or rule out {', '.join(sorted(named))})" if named else ""),
                    source=s["source"],
                    row=s["row"],
                    machine_id=machine,
                    camera_id=cam_of_row.get(s["row"]) or cameras.get(machine),
                )
            )
        if sightings.is_empty():
            cam = cameras.get(machine)
            span = f"{local_text(at - window, tz)} - {local_text(at + window, tz, '%H:%M')}"
            if cam:
                question = f"pull footage {cam} {span}: nobody was reviewed at {machine} then"
            else:
                question = (
                    f"no camera covers {machine}: who was in the office {span}? "
                    "(door log, reception book)"
                )
            items.append(
                _item(
                    2,
                    question,
                    f"the leak path opened there: {opened}",
                    window=[local_text(at - window, tz), local_text(at + window, tz)],
                    machine_id=machine,
                    camera_id=cam,
                )
            )
    for s in suspects[:5]:
        if s.score >= 0.9:
            continue
        links = [e for e in s.evidence if e.weight > 1.0]
        if not links:
            continue
        e = links[0]
        items.append(
            _item(
                3,
                f"interview {s.person_id} ({s.role or 'not on the staff list'}) about: {e.summary}",
                f"score {s.score:.2f}: an account of this would confirm or rule them out",
                source=e.source,
                row=e.row,
                person_id=s.person_id,
            )
        )
    src = case.source("access")
    for r in unknown.head(5).iter_rows(named=True) if unknown.height else ():
        items.append(
            _item(
                4,
                f"what did {r['action']} by {r['account_id']} at {local_text(r['at'], tz)} "
                "contain? the log names neither orders nor a range",
                "its extent is unknown, so no path through it could be counted",
                source=src,
                row=r["_row"],
                account_id=r["account_id"],
            )
        )
    if infection:
        first = anchors.sort("at", "machine_id").unique(
            "machine_id", keep="first", maintain_order=True
        )
        for a in first.iter_rows(named=True):
            items.append(
                _item(
                    5,
                    f"image {a['machine_id']} (infected {local_text(a['at'], tz)}) to recover the "
                    "payload and what it sent",
                    "confirms the infection and the data taken",
                    source=a["source"],
                    row=a["row"],
                    machine_id=a["machine_id"],
                )
            )
    # Where nothing else explains the complaints they come first; beside a
    # leak path that does (often an adware alert the antivirus already
    # quarantined), last.
    unproven_priority = 2 if call.kind == "none" else 6
    for m in unproven:
        shown = ", ".join(m["machines"][:6]) + (" and more" if len(m["machines"]) > 6 else "")
        items.append(
            _item(
                unproven_priority,
                f"image {shown}: {m['level']} {m['id']} behaved like malware there "
                f"(first at {local_text(m['since'], tz)}); what did it take and send?",
                f"its orders hold {m['coverage']:.0%} of the complaints (lift {m['lift']:.1f}, "
                f"p = {m['p_value']:.2g}): found, but not shown to have leaked; what it sent "
                "would confirm or rule it out",
                source=m["source"],
                row=m["row"],
                machine_id=m["machines"][0],
            )
        )
    items.sort(key=lambda i: i["priority"])
    return items[:limit]
