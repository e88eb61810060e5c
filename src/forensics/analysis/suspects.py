"""Who (if anyone) is behind the leak path: people ranked with their evidence.

Each person's ``score`` is a posterior probability that this person is the
insider, under a naive-Bayes model over the hypotheses "nobody" (prior
``prior_nobody``) and "person X" (the rest of the prior spread evenly over
everyone on the staff list or seen in the evidence). Evidence items multiply
a hypothesis' odds by the likelihood ratios in :data:`WEIGHTS`; items of one
kind are capped so that many near-identical rows cannot run away with the
score. A score of 0.9 therefore means: given these rows and these weights,
nine chances in ten that this person is the insider and not someone else or
nobody. The weights are judgement, written down so they can be argued with;
they are not fitted to any generator.

Nobody is named for a third-party app or when no path is significant, and
only people with at least one item *linking* them to the leak path (being
at the infected machine when it was infected, owning or operating the
account that exported) are listed: indicators alone (off-hours, new hire)
never put a person on the list.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

import polars as pl

from ..case import Case, as_text
from ..case.localtime import local_text
from .indicators import VISITOR_ROLES
from .vector import VectorCall, brought_by, camera_at_anchors

__all__ = [
    "WEIGHTS",
    "LINK_KINDS",
    "Evidence",
    "Suspect",
    "link_evidence",
    "rank_suspects",
    "top_is_visitor",
]

WEIGHTS: dict[str, float] = {
    # links to the leak path
    "camera_insert_at_infection": 50.0,
    "camera_at_desk_at_infection": 5.0,
    "session_at_infection": 1.5,
    "account_owner_of_leak": 10.0,
    "present_when_path_opened": 20.0,
    "visitor_present_at_infection": 50.0,
    "former_owner_of_stale_account": 30.0,
    "camera_at_desk_at_access": 5.0,
    "used_other_account": 4.0,
    # indicators (only move people already linked)
    "off_hours": 2.0,
    "new_hire_early_days": 1.5,
    "visitor_at_machine": 5.0,
    "large_export": 2.0,
    "off_hours_export": 2.0,
    "stale_account_use": 2.0,
    "outside_login": 1.5,
    # against
    "owner_elsewhere": 0.2,
    "investigator_excluded": 0.1,
}
"""Likelihood ratio of each evidence kind (> 1 for, < 1 against)."""

LINK_KINDS = frozenset(
    {
        "camera_insert_at_infection",
        "camera_at_desk_at_infection",
        "session_at_infection",
        "account_owner_of_leak",
        "former_owner_of_stale_account",
        "camera_at_desk_at_access",
        "used_other_account",
        "present_when_path_opened",
        "visitor_present_at_infection",
    }
)

_CAP_LOG = math.log(1e4)  # no single evidence kind moves the odds more than 10^4


@dataclass(frozen=True)
class Evidence:
    """One row of one file, and what it says about a person."""

    kind: str
    source: str
    row: int
    summary: str
    weight: float
    at: datetime | None = None
    machine_id: str | None = None
    """The machine of the leak path this row ties the person to, if any."""
    account_id: str | None = None
    """The account of the leak path this row ties the person to, if any."""

    @property
    def direction(self) -> str:
        return "for" if self.weight >= 1 else "against"

    def as_dict(self) -> dict:
        return {
            "kind": self.kind,
            "source": self.source,
            "row": self.row,
            "summary": self.summary,
            "weight": self.weight,
            "direction": self.direction,
            "at": self.at.isoformat() if self.at else None,
            "machine_id": self.machine_id,
            "account_id": self.account_id,
        }


@dataclass(frozen=True)
class Suspect:
    person_id: str
    score: float
    role: str | None
    evidence: tuple[Evidence, ...]
    on_staff: bool = True


def link_evidence(
    case: Case,
    call: VectorCall,
    tl: pl.DataFrame,
    sessions: pl.DataFrame,
    *,
    window: timedelta = timedelta(minutes=10),
) -> dict[str, list[Evidence]]:
    """Evidence tying people to the leak path."""
    tz = case.timezone()
    out: dict[str, list[Evidence]] = {}

    def add(person, ev: Evidence):
        if person is not None:
            out.setdefault(person, []).append(ev)

    anchors = call.anchors
    if anchors.is_empty():
        return out
    present = camera_at_anchors(tl, anchors.filter(pl.col("machine_id").is_not_null()), window)
    infection = call.kind in ("usb_malware", "visitor_malware", "malware")
    for r in present.iter_rows(named=True):
        if infection:
            kind = (
                "camera_insert_at_infection"
                if r["c_action"] == "insert_device"
                else "camera_at_desk_at_infection"
            )
        else:
            kind = "camera_at_desk_at_access"
        what = "inserting a device" if r["c_action"] == "insert_device" else "at the desk"
        add(
            r["person_id"],
            Evidence(
                kind,
                r["c_source"],
                r["c_row"],
                f"on camera {what} at {r['machine_id']} {local_text(r['c_at'], tz)} "
                f"({r['what']}, {r['source']} row {r['row']})",
                WEIGHTS[kind],
                r["c_at"],
                machine_id=r["machine_id"],
            ),
        )
    for person, ev in _presence(case, tl, anchors):
        add(person, ev)
    if infection:
        for person, ev in _visitors_present(case, call, tl):
            add(person, ev)
    owners = case.accounts.select("account_id", "owner_person_id", "_row")
    acc_src = case.source("accounts")
    if infection:
        live = (
            anchors.join(
                sessions.select("machine_id", "account_id", "start", "end", "login_row"),
                on="machine_id",
            )
            .filter((pl.col("start") <= pl.col("at")) & (pl.col("end") >= pl.col("at")))
            .join(owners.drop("_row"), on="account_id")
        )
        for r in live.iter_rows(named=True):
            add(
                r["owner_person_id"],
                Evidence(
                    "session_at_infection",
                    case.source("logins"),
                    r["login_row"],
                    f"{r['account_id']} logged in on {r['machine_id']} when {r['what']} "
                    f"({local_text(r['at'], tz)})",
                    WEIGHTS["session_at_infection"],
                    r["at"],
                    machine_id=r["machine_id"],
                    account_id=r["account_id"],
                ),
            )
    else:
        kind = (
            "former_owner_of_stale_account"
            if call.kind == "stale_account"
            else "account_owner_of_leak"
        )
        for r in owners.filter(pl.col("account_id").is_in(list(call.accounts))).iter_rows(
            named=True
        ):
            if r["owner_person_id"] is None:
                continue
            first = anchors.row(0, named=True)
            add(
                r["owner_person_id"],
                Evidence(
                    kind,
                    acc_src,
                    r["_row"],
                    f"owner of {r['account_id']}, which the leak path used ({first['what']} "
                    f"{local_text(first['at'], tz)}, {first['source']} row {first['row']})",
                    WEIGHTS[kind],
                    first["at"],
                    account_id=r["account_id"],
                ),
            )
    return out


def _presence(
    case: Case,
    tl: pl.DataFrame,
    anchors: pl.DataFrame,
    *,
    window: timedelta = timedelta(minutes=30),
    lookback: timedelta = timedelta(hours=4),
    closeness: timedelta = timedelta(minutes=30),
    habit_slack: timedelta = timedelta(minutes=60),
) -> list[tuple[str, Evidence]]:
    """People placed in the building near the moments the leak path opened.

    Only anchors inside the office count (an access from an outside address
    says nothing about who was in the building). Presence comes from every
    source that places a person: an identified camera sighting or a login
    at an office machine within ``window`` of the anchor, and, outside
    business hours, a badge-in (not followed by a badge-out) within
    ``lookback`` before it; in business hours everybody is inside and a
    badge says nothing. Each person present gets a likelihood ratio of
    ``1 + (L - 1) * c / n * (1 - h)``, ``L`` the weight of
    ``present_when_path_opened``, ``n`` the number of people present by any
    source, ``c`` in (0, 1] the closeness in time, ``exp(-dt / closeness)``,
    and ``h`` the person's habit: the share of their other days with a badge-in
    (or login) within ``habit_slack`` of that time of day (an early cleaner or
    a night-shift worker is there every day; a new hire has no habit yet): alone in the building a
    minute before the stick went in weighs almost ``L``; one of seven who
    badged in an hour earlier barely moves the odds. A camera sighting at the
    anchor's own machine is left to the stronger camera evidence.
    """
    inside = anchors.filter(pl.col("machine_id").is_not_null() & pl.col("at").is_not_null())
    people = tl.filter(pl.col("person_id").is_not_null() & pl.col("at").is_not_null())
    if inside.is_empty() or people.is_empty():
        return []
    tz = case.timezone()
    meta = case.meta
    a = inside.select(
        pl.int_range(pl.len()).alias("_a"),
        pl.col("machine_id").alias("a_machine"),
        pl.col("at").alias("a_at"),
        pl.col("what").alias("a_what"),
        pl.col("source").alias("a_source"),
        pl.col("row").alias("a_row"),
    )
    local = pl.col("a_at").dt.convert_time_zone(case.timezone())
    open_day = local.dt.weekday().is_in(list(meta.weekdays))
    in_hours = (
        open_day & (local.dt.time() >= meta.business_start) & (local.dt.time() <= meta.business_end)
    )
    a = a.with_columns(in_hours.alias("_in_hours"))
    fields = ["person_id", "at", "source", "row", "table", "machine_id"]
    seen = people.filter(
        (pl.col("table") == "camera")
        | (
            (pl.col("table") == "logins")
            & (pl.col("action") == "login")
            & pl.col("machine_id").is_not_null()
        )
    ).select(*fields, pl.coalesce("end", "at").alias("s_end"))
    seen = _not_contradicted_by_camera(seen)
    near = a.join_where(
        seen,
        pl.col("at") <= pl.col("a_at") + window,
        pl.col("s_end") >= pl.col("a_at") - window,
    ).with_columns(
        pl.max_horizontal(
            pl.col("at") - pl.col("a_at"), pl.col("a_at") - pl.col("s_end"), pl.duration()
        ).alias("_dt")
    )
    badge = people.filter(pl.col("table") == "badge").select(*fields, "action")
    badged = (
        a.filter(~pl.col("_in_hours"))
        .join_where(
            badge,
            pl.col("at") <= pl.col("a_at"),
            pl.col("at") >= pl.col("a_at") - lookback,
        )
        .sort("at", "row")
        .group_by("_a", "person_id", maintain_order=True)
        .last()
        .filter(pl.col("action") == "in")
        .with_columns((pl.col("a_at") - pl.col("at")).alias("_dt"))
        .drop("action")
    )
    cols = [*a.columns, *fields, "_dt"]
    found = pl.concat([near.select(cols), badged.select(cols)])
    if found.is_empty():
        return []
    n_present = found.group_by("_a").agg(pl.col("person_id").n_unique().alias("_n"))
    tau = closeness.total_seconds()
    at_machine = (pl.col("table") == "logins") & (pl.col("machine_id") == pl.col("a_machine"))
    best = (
        found.join(n_present, on="_a")
        # The camera at the anchor's own machine is weighed on its own.
        .filter(~((pl.col("table") == "camera") & (pl.col("machine_id") == pl.col("a_machine"))))
        # One person sits at a PC: a login at the anchor's own machine is not
        # diluted by everybody else in the building.
        .with_columns(pl.when(at_machine).then(1).otherwise(pl.col("_n")).alias("_n"))
        .with_columns((-(pl.col("_dt").dt.total_seconds() / tau)).exp().alias("_c"))
        .sort(pl.col("_c") / pl.col("_n"), "source", "row", descending=[True, False, False])
        .unique(["_a", "person_id"], keep="first", maintain_order=True)
        .sort("_a", "person_id")
    )
    best = _with_habit(case, people, best, slack_min=habit_slack.total_seconds() / 60)
    base = WEIGHTS["present_when_path_opened"]
    how = {"camera": "on camera", "logins": "logged in", "badge": "badged in"}
    out = []
    for r in best.iter_rows(named=True):
        weight = round(1.0 + (base - 1.0) * r["_c"] / r["_n"] * (1.0 - r["_habit"]), 3)
        where = f" at {r['machine_id']}" if r["machine_id"] and r["table"] != "badge" else ""
        out.append(
            (
                r["person_id"],
                Evidence(
                    "present_when_path_opened",
                    r["source"],
                    r["row"],
                    f"{how.get(r['table'], r['table'])}{where} {local_text(r['at'], tz)}, "
                    + (
                        "at that machine"
                        if r["table"] == "logins" and r["machine_id"] == r["a_machine"]
                        else f"one of {r['_n']} placed in the building"
                    )
                    + f" when {r['a_what']} on {r['a_machine']} "
                    f"({local_text(r['a_at'], tz)}, {r['a_source']} row {r['a_row']})",
                    weight,
                    r["at"],
                    machine_id=r["a_machine"],
                ),
            )
        )
    return out


def _not_contradicted_by_camera(seen: pl.DataFrame) -> pl.DataFrame:
    """``seen`` without the logins that a camera sighting at the same machine
    at that moment gives to somebody else: a login names its account's
    owner, the camera the person at the keyboard."""
    camera = seen.filter((pl.col("table") == "camera") & pl.col("machine_id").is_not_null()).select(
        "machine_id", pl.col("person_id").alias("_who"), "at", "s_end"
    )
    logins = seen.filter(pl.col("table") == "logins")
    if camera.is_empty() or logins.is_empty():
        return seen
    other = (
        logins.select("source", "row", "machine_id", "person_id", pl.col("at").alias("_at"))
        .join(camera, on="machine_id")
        .filter(
            (pl.col("at") <= pl.col("_at"))
            & (pl.col("s_end") >= pl.col("_at"))
            & (pl.col("_who") != pl.col("person_id"))
        )
        .select("source", "row")
        .unique()
    )
    return seen.join(other, on=["source", "row"], how="anti")


def _with_habit(
    case: Case, people: pl.DataFrame, found: pl.DataFrame, *, slack_min: float
) -> pl.DataFrame:
    """``found`` with ``_habit``: for a badge-in or login, the share of the
    person's other days with one of the same kind within ``slack_min``
    minutes of that time of day (0 for camera sightings and for someone
    with no other days)."""
    tz = case.timezone()
    local = pl.col("at").dt.convert_time_zone(tz)
    minute = (local.dt.hour().cast(pl.Int32) * 60 + local.dt.minute().cast(pl.Int32)).alias("_mod")
    habitual = found.filter(pl.col("table").is_in(["badge", "logins"]))
    if habitual.is_empty():
        return found.with_columns(pl.lit(0.0).alias("_habit"))
    keys = habitual.select("person_id", "table").unique()
    history = (
        people.filter(
            ((pl.col("table") == "badge") & (pl.col("action") == "in"))
            | ((pl.col("table") == "logins") & (pl.col("action") == "login"))
        )
        .join(keys, on=["person_id", "table"])
        .select("person_id", "table", local.dt.date().alias("_day"), minute)
    )
    asked = habitual.select(
        "_a", "person_id", "table", local.dt.date().alias("_day0"), minute.alias("_mod0")
    ).unique()
    gap = (pl.col("_mod") - pl.col("_mod0")).abs()
    habit = (
        asked.join(history, on=["person_id", "table"])
        .filter(pl.col("_day") != pl.col("_day0"))
        .with_columns((pl.min_horizontal(gap, 1440 - gap) <= slack_min).alias("_near"))
        .group_by("_a", "person_id", "table")
        .agg(
            (
                pl.col("_day").filter(pl.col("_near")).n_unique()
                / pl.col("_day").n_unique().cast(pl.Float64)
            ).alias("_habit")
        )
    )
    return found.join(habit, on=["_a", "person_id", "table"], how="left").with_columns(
        pl.col("_habit").fill_null(0.0)
    )


def _visitors_present(
    case: Case,
    call: VectorCall,
    tl: pl.DataFrame,
    *,
    lookback: timedelta = timedelta(hours=8),
    window: timedelta = timedelta(minutes=30),
) -> list[tuple[str, Evidence]]:
    """Visitors in the building when the camera shows a non-staff person
    bringing the malware (:func:`forensics.analysis.vector.brought_by`).

    The reviewer could not name the person at the desk, but wrote that they
    were not staff; visitors are few, so each visitor placed inside then (a
    badge-in not followed by a badge-out within ``lookback`` before an
    anchor, or an identified camera sighting within ``window``) shares the
    weight of ``visitor_present_at_infection``: ``1 + (L - 1) / n`` for
    ``n`` visitors present.
    """
    non_staff, staff = brought_by(case, call, tl)
    if non_staff <= staff:
        return []
    roles = dict(case.staff.select("person_id", pl.col("role").str.to_lowercase()).iter_rows())
    visitors = tl.filter(
        pl.col("person_id").is_not_null()
        & pl.col("table").is_in(["badge", "camera"])
        & pl.col("person_id")
        .replace_strict(roles, default="__absent__", return_dtype=pl.String)
        .is_in([*VISITOR_ROLES, "__absent__"])
    )
    anchors = call.anchors.filter(pl.col("machine_id").is_not_null() & pl.col("at").is_not_null())
    if visitors.is_empty() or anchors.is_empty():
        return []
    a = anchors.select(pl.col("at").alias("a_at"), pl.col("machine_id").alias("a_machine"))
    badged = (
        a.join_where(
            visitors.filter(pl.col("table") == "badge"),
            pl.col("at") <= pl.col("a_at"),
            pl.col("at") >= pl.col("a_at") - lookback,
        )
        .sort("at", "row")
        .group_by("a_at", "person_id", maintain_order=True)
        .last()
        .filter(pl.col("action") == "in")
    )
    seen = a.join_where(
        visitors.filter(pl.col("table") == "camera").with_columns(
            pl.coalesce("end", "at").alias("s_end")
        ),
        pl.col("at") <= pl.col("a_at") + window,
        pl.col("s_end") >= pl.col("a_at") - window,
    )
    cols = ["a_at", "a_machine", "person_id", "at", "source", "row", "table"]
    found = pl.concat([badged.select(cols), seen.select(cols)]).sort("a_at", "at", "row")
    if found.is_empty():
        return []
    n = found["person_id"].n_unique()
    weight = round(1.0 + (WEIGHTS["visitor_present_at_infection"] - 1.0) / n, 3)
    tz = case.timezone()
    out = []
    for r in found.unique(
        ["person_id", "source", "row"], keep="first", maintain_order=True
    ).iter_rows(named=True):
        out.append(
            (
                r["person_id"],
                Evidence(
                    "visitor_present_at_infection",
                    r["source"],
                    r["row"],
                    f"visitor ({roles.get(r['person_id']) or 'not on the staff list'}) "
                    f"{'badged in' if r['table'] == 'badge' else 'on camera'} "
                    f"{local_text(r['at'], tz)}, one of {n} visitor(s) inside when the camera "
                    f"shows a non-staff person bringing the device to {r['a_machine']} "
                    f"({local_text(r['a_at'], tz)})",
                    weight,
                    r["at"],
                    machine_id=r["a_machine"],
                ),
            )
        )
    return out


def _context(
    case: Case, call: VectorCall, events: pl.DataFrame, hits: pl.DataFrame, machines: set[str]
) -> list[Evidence]:
    """The rows behind the leak path itself, for a linked person's file.

    Weight 1: they say what happened at the anchors (the USB connection, the
    first complained order opened afterwards), not who did it, so they
    document the case without moving the score.
    """
    tz = case.timezone()
    out = []
    anchors = call.anchors.filter(
        pl.col("machine_id").is_in(list(machines)) | pl.col("machine_id").is_null()
    )
    for a in anchors.iter_rows(named=True):
        out.append(
            Evidence(
                "path_opened",
                a["source"],
                a["row"],
                f"{a['what']} on {a['machine_id'] or 'an outside address'} "
                f"{local_text(a['at'], tz)}",
                1.0,
                a["at"],
                machine_id=a["machine_id"],
            )
        )
    ok = hits.filter(pl.col("in_time") & pl.col("fields_ok")).select("ev", "complaint_id")
    first = (
        as_text(
            events.select("ev", "_row", "at", "action", "account_id", "machine_id").join(
                ok, on="ev"
            )
        )
        .join(anchors.select("machine_id", pl.col("at").alias("_since")), on="machine_id")
        .filter(pl.col("at") >= pl.col("_since"))
        .sort("at", "_row")
        .unique("machine_id", keep="first", maintain_order=True)
    )
    acc_src = case.source("access")
    for r in first.iter_rows(named=True):
        out.append(
            Evidence(
                "complained_order_exposed",
                acc_src,
                r["_row"],
                f"{r['action']} by {r['account_id']} on {r['machine_id']} "
                f"{local_text(r['at'], tz)}: an order later complained about "
                f"({r['complaint_id']})",
                1.0,
                r["at"],
                machine_id=r["machine_id"],
                account_id=r["account_id"],
            )
        )
    return out


def _strongest(items: list[Evidence]) -> list[Evidence]:
    """One item per (kind, file, row): a row read for several anchors (one
    badge-in before a whole sweep) counts once, at its strongest reading."""
    best: dict[tuple[str, str, int], Evidence] = {}
    for e in items:
        key = (e.kind, e.source, e.row)
        if key not in best or abs(math.log(e.weight)) > abs(math.log(best[key].weight)):
            best[key] = e
    return list(best.values())


def rank_suspects(
    case: Case,
    call: VectorCall,
    tl: pl.DataFrame,
    indicators: pl.DataFrame,
    sessions: pl.DataFrame,
    *,
    events: pl.DataFrame | None = None,
    hits: pl.DataFrame | None = None,
    prior_nobody: float = 0.5,
    min_score: float = 0.01,
    statements: dict[str, list[Evidence]] | None = None,
) -> tuple[Suspect, ...]:
    """People ordered by posterior probability of being the insider.

    ``statements``: evidence from the investigator's notes
    (:func:`forensics.analysis.review.person_statements`), weighed with the
    rest for the people already linked to the path.
    """
    if call.kind in ("none", "third_party_app"):
        return ()
    links = link_evidence(case, call, tl, sessions)
    if not links:
        return ()
    anchor_days = set(
        call.anchors.select(pl.col("at").dt.convert_time_zone(case.timezone()).dt.date())
        .to_series()
        .to_list()
    )
    anchor_machines = set(call.anchors["machine_id"].drop_nulls().to_list())
    tz = case.timezone()
    ind = indicators.with_columns(pl.col("at").dt.convert_time_zone(tz).dt.date().alias("_day"))
    evidence: dict[str, list[Evidence]] = {p: list(v) for p, v in links.items()}
    for person, said in (statements or {}).items():
        if person in evidence:
            evidence[person].extend(said)
    for r in ind.filter(pl.col("person_id").is_in(list(links))).iter_rows(named=True):
        kind = r["indicator"]
        if kind not in WEIGHTS or kind in LINK_KINDS and kind != "used_other_account":
            continue
        relevant = (
            r["_day"] in anchor_days
            or (r["machine_id"] in anchor_machines and kind == "visitor_at_machine")
            or (
                kind in ("stale_account_use", "large_export", "off_hours_export", "outside_login")
                and (r["account_id"] in call.accounts)
            )
            or kind == "new_hire_early_days"
            and r["_day"] in anchor_days
        )
        if kind == "used_other_account":
            relevant = r["machine_id"] in anchor_machines and r["_day"] in anchor_days
        if kind == "owner_elsewhere":
            relevant = r["account_id"] in call.accounts and r["_day"] in anchor_days
        if relevant:
            evidence[r["person_id"]].append(
                Evidence(
                    kind,
                    r["source"],
                    int(r["row"]) if r["row"] is not None else 0,
                    r["summary"],
                    WEIGHTS[kind],
                    r["at"],
                )
            )
    staff = case.staff.select("person_id", pl.col("role").str.to_lowercase())
    population = set(staff["person_id"].to_list()) | set(evidence)
    prior_each = (1 - prior_nobody) / max(len(population), 1)
    log_odds: dict[str, float] = {}
    for person, items in evidence.items():
        by_kind: dict[str, float] = {}
        for e in _strongest(items):
            if e.kind in LINK_KINDS:
                by_kind[e.kind] = by_kind.get(e.kind, 0.0) + math.log(e.weight)
            else:  # an indicator says the same thing however often it fires
                by_kind[e.kind] = math.log(e.weight)
        log_odds[person] = sum(max(-_CAP_LOG, min(_CAP_LOG, v)) for v in by_kind.values())
    total = prior_nobody + prior_each * (len(population) - len(log_odds))
    total += sum(prior_each * math.exp(v) for v in log_odds.values())
    roles = dict(staff.iter_rows())
    ranked = []
    for person, lo in log_odds.items():
        score = prior_each * math.exp(lo) / total
        if score < min_score:
            continue
        mine = evidence[person]
        if events is not None and hits is not None:
            # The path's own rows at the machines this person is tied to.
            machines = {e.machine_id for e in mine} & set(call.machines)
            if call.kind not in ("malware", "usb_malware", "visitor_malware"):
                machines |= set(call.machines)
            mine = mine + _context(case, call, events, hits, machines)
        items = sorted(_strongest(mine), key=lambda e: (-abs(math.log(e.weight)), e.source, e.row))
        ranked.append(
            Suspect(
                person,
                round(min(score, 0.999), 4),
                roles.get(person),
                tuple(items),
                on_staff=person in roles,
            )
        )
    ranked.sort(key=lambda s: (-s.score, s.person_id))
    return tuple(ranked)


def top_is_visitor(suspects: tuple[Suspect, ...]) -> bool:
    """Whether the top suspect is a visitor, interview candidate or contractor,
    or not on the staff list at all."""
    top = suspects[0] if suspects else None
    return top is not None and (not top.on_staff or (top.role or "") in VISITOR_ROLES)
