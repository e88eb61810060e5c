"""Which path leaked the orders, and who (if anyone) is behind it.

Classifying the leak path
-------------------------
Every significant common point (:mod:`forensics.analysis.commonpoint`) votes for the
kind of leak its nature implies:

========================  ==================================================
common point              votes for
========================  ==================================================
app, or an app account    ``third_party_app``
account / session / IP /  ``stale_account`` when the owner had left, or the
export event              account was disabled, before its first in-time
                          exposure; otherwise ``insider_export``
USB device / process /    ``usb_malware`` (or ``visitor_malware``, below)
machine                   only when malware is corroborated on its machines:
                          an autorun entry, an antivirus alert or a process
                          never seen before, following a USB connection, or a
                          process that itself was flagged or auto-started
========================  ==================================================

A vote is worth the ``strength`` of its common point (``-log10`` of the
p-value of the route that made it significant, see
:mod:`forensics.analysis.commonpoint`). A USB device that moved between machines
with nothing run from it votes at half strength. ``vector.confidence`` is
``S1 / (S1 + S2 + 2)`` (the best and second best kinds' strengths), scaled
down when the leading point explains less than half of the complaints: near
1 when one explanation dominates, near 0.5 when two compete. With no significant
common point the kind is ``none``. Malware brought in by someone whose role
is a visitor, an interview candidate or a contractor (or who is not on the
staff list) is ``visitor_malware``.

Ranking people
--------------
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
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import polars as pl

from ..case import Case
from ..case.localtime import local_text, zone
from .exposure import event_columns, members_of
from .indicators import VISITOR_ROLES, malware_keys

__all__ = [
    "WEIGHTS",
    "LINK_KINDS",
    "Evidence",
    "Suspect",
    "VectorCall",
    "classify",
    "rank_suspects",
]

WEIGHTS: dict[str, float] = {
    # links to the leak path
    "camera_insert_at_infection": 50.0,
    "camera_at_desk_at_infection": 5.0,
    "session_at_infection": 1.5,
    "account_owner_of_leak": 10.0,
    "in_building_off_hours": 3.0,
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
        "in_building_off_hours",
    }
)

NOT_ACCOUNT_LIKE = ("app", "device", "process", "machine")
"""Levels whose vote does not depend on the account behind them."""

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
        }


@dataclass(frozen=True)
class Suspect:
    person_id: str
    score: float
    role: str | None
    evidence: tuple[Evidence, ...]
    on_staff: bool = True


@dataclass(frozen=True)
class VectorCall:
    """The leak path the evidence points at."""

    kind: str
    confidence: float
    lead: dict | None  # the strongest common point: level, id, ...
    votes: dict[str, float]
    machines: tuple[str, ...] = ()
    accounts: tuple[str, ...] = ()
    apps: tuple[str, ...] = ()
    devices: tuple[str, ...] = ()
    anchors: pl.DataFrame = field(default_factory=pl.DataFrame)
    """(machine_id, at, source, row, what): moments the leak path was opened."""
    leak_start: datetime | None = None
    leak_end: datetime | None = None
    rationale: tuple[str, ...] = ()


# --------------------------------------------------------------------------
# classification


def _account_vote(case: Case, account_id: str | None, last: datetime | None) -> str:
    """The kind of leak an account-like path implies.

    ``last`` is the path's last in-time exposure of a complained order: an
    account still exposing complained orders after its owner left, or after
    it was disabled, is a stale account, whatever it did before.
    """
    if account_id is None:
        return "insider_export"
    if account_id in set(case.apps["account_id"].drop_nulls().to_list()):
        return "third_party_app"
    row = case.accounts.filter(pl.col("account_id") == account_id)
    if row.is_empty():
        # An account nobody registered: nothing says who holds it.
        return "stale_account"
    acct = row.row(0, named=True)
    if (acct.get("kind") or "") == "app":
        return "third_party_app"
    if last is not None and acct.get("disabled_at") is not None and acct["disabled_at"] < last:
        return "stale_account"
    owner = acct.get("owner_person_id")
    if owner is not None and last is not None:
        staff = case.staff.filter(pl.col("person_id") == owner)
        if staff.is_empty():  # the owner is no longer even on the staff list
            return "stale_account"
        left = staff["left_on"].drop_nulls()
        if left.len() and left[0] < last.astimezone(zone(case.timezone())).date():
            return "stale_account"
    return "insider_export"


def _held_machines(starts: Mapping[str, pl.DataFrame], keys: set[str]) -> dict[str, datetime]:
    """Machine -> when persistent malware (``keys``) first arrived there."""
    out: dict[str, datetime] = {}
    for level in ("device", "process"):
        f = starts[level].filter(pl.col("cand").is_in(list(keys)))
        for m, t in f.group_by("machine_id").agg(pl.col("since").min()).iter_rows():
            out[m] = min(t, out.get(m, t))
    return out


def _path_profile(
    sig: pl.DataFrame,
    members: pl.DataFrame,
    events: pl.DataFrame,
    persistent: dict[str, datetime],
    spread: dict[str, datetime],
) -> dict[tuple[str, str], dict]:
    """Per significant path: its main account, and whether malware harvested it.

    A path of reads on machines that persistent malware already held is the
    malware's harvest: what a user saw there, the malware saw. An export is
    different (an insider may export from a machine that happens to carry
    malware), so a path with an export counts as harvested only when that
    malware leaked from other machines too.
    """
    # Only account-like paths are profiled (classify votes for the others by level).
    keys = sig.filter(~pl.col("level").is_in(NOT_ACCOUNT_LIKE)).select(
        "level", pl.col("id").alias("cand")
    )
    rows = members_of(members, keys)
    rows = rows.with_columns(
        event_columns(events, rows["ev"], "account_id", "machine_id", "at", "action")
    )

    def held(mapping: dict[str, datetime], name: str) -> pl.DataFrame:
        return pl.DataFrame(
            {"machine_id": list(mapping), name: list(mapping.values())},
            schema={"machine_id": pl.String, name: pl.Datetime("us", "UTC")},
        )

    rows = rows.join(held(persistent, "_p"), on="machine_id", how="left").join(
        held(spread, "_s"), on="machine_id", how="left"
    )
    top_account = (
        rows.group_by("level", "cand", "account_id")
        .len()
        .sort("len", "account_id", descending=[True, False], nulls_last=True)
        .group_by("level", "cand", maintain_order=True)
        .first()
        .select("level", "cand", "account_id")
    )
    summary = rows.group_by("level", "cand").agg(
        (pl.col("action") == "export_orders").any().alias("has_export"),
        (pl.col("_p").is_not_null() & (pl.col("at") >= pl.col("_p"))).all().alias("in_persistent"),
        (pl.col("_s").is_not_null() & (pl.col("at") >= pl.col("_s"))).all().alias("in_spread"),
    )
    table = summary.join(top_account, on=["level", "cand"], how="left").with_columns(
        pl.when(pl.col("has_export"))
        .then(pl.col("in_spread"))
        .otherwise(pl.col("in_persistent"))
        .alias("harvested")
    )
    return {(r["level"], r["cand"]): r for r in table.iter_rows(named=True)}


def _spread_malware(
    starts: Mapping[str, pl.DataFrame],
    malware: set[str],
    events: pl.DataFrame,
    hits: pl.DataFrame,
    *,
    min_complaints: int = 2,
) -> dict[str, datetime]:
    """Machines held by a corroborated malware key that leaked complained
    orders from at least two machines (not counting exports), with the time
    it arrived on each. Malware seen leaking on one machine only cannot be
    told apart from an export made there."""
    ok = hits.filter(pl.col("in_time") & pl.col("fields_ok")).select("ev", "complaint_id")
    # Only events that exposed a complained order can count: those alone
    # are looked up, not every event.
    hit = ok.get_column("ev").unique().sort()
    reads = (
        event_columns(events, hit, "machine_id", "at", "action")
        .with_columns(hit)
        .filter(pl.col("action") != "export_orders")
        .select("ev", "machine_id", "at")
    )
    out: dict[str, datetime] = {}
    for level in ("device", "process"):
        f = starts[level].filter(pl.col("cand").is_in(list(malware)))
        if f.is_empty():
            continue
        leaked = (
            reads.join(f.select("cand", "machine_id", "since"), on="machine_id")
            .filter(pl.col("at") >= pl.col("since"))
            .join(ok, on="ev")
            .group_by("cand", "machine_id")
            .agg(pl.col("complaint_id").n_unique().alias("n"))
            .filter(pl.col("n") >= min_complaints)
        )
        wide = (
            leaked.group_by("cand")
            .agg(pl.col("machine_id").n_unique().alias("m"))
            .filter(pl.col("m") >= 2)
        )
        for m, t in (
            f.join(wide.select("cand"), on="cand")
            .group_by("machine_id")
            .agg(pl.col("since").min())
            .iter_rows()
        ):
            out[m] = min(t, out.get(m, t))
    return out


def classify(
    case: Case,
    points: pl.DataFrame,
    events: pl.DataFrame,
    members: pl.DataFrame,
    indicators: pl.DataFrame,
    starts: Mapping[str, pl.DataFrame],
    hits: pl.DataFrame,
) -> VectorCall:
    """Decide the leak path from the significant common points."""
    sig = points.filter(pl.col("significant"))
    if sig.is_empty():
        return VectorCall(
            kind="none",
            confidence=0.0,
            lead=None,
            votes={},
            rationale=("no access path concentrates the complained orders beyond chance",),
        )
    malware = malware_keys(case, indicators)
    machine_malware = set()
    for level in ("device", "process"):
        f = starts[level].filter(pl.col("cand").is_in(list(malware)))
        machine_malware |= set(f["machine_id"].to_list())
    persistent_keys = malware_keys(case, indicators, persistent=True)
    persistent = _held_machines(starts, persistent_keys)
    spread = _spread_malware(starts, persistent_keys, events, hits)
    profile = _path_profile(sig, members, events, persistent, spread)
    votes: dict[str, tuple[float, float]] = {}
    best: dict[str, dict] = {}
    for row in sig.iter_rows(named=True):
        level, cid = row["level"], row["id"]
        strength = row["strength"]
        kind: str | None
        if level == "app":
            kind = "third_party_app"
        elif level == "device":
            kind = "malware"
            if cid not in malware:  # a stick that moved, with nothing run from it
                strength *= 0.5
        elif level == "process":
            kind = "malware" if cid in malware else None
        elif level == "machine":
            kind = "malware" if cid in machine_malware else None
        else:
            info = profile.get((level, cid), {})
            account = cid if level == "account" else info.get("account_id")
            kind = _account_vote(case, account, row["last_exposure"])
            if kind == "insider_export" and info.get("harvested") and persistent:
                kind = "malware"
        if kind is None:
            continue
        # The strongest evidence decides between kinds; within a kind the
        # strongest point leads, a device or process before the machines it
        # reached.
        cover = max(row["coverage"], row.get("recent_coverage") or 0.0)
        old_strength, old_cover = votes.get(kind, (-1.0, -1.0))
        votes[kind] = (max(strength, old_strength), max(cover, old_cover))
        # The USB device is the way in, the process its payload, the
        # machines where it landed: lead with the entry point.
        rank = (level == "device", level == "process", strength)
        if kind not in best or rank > best[kind][0]:
            best[kind] = (rank, row)
    best = {k: v[1] for k, v in best.items()}
    if not votes:
        return VectorCall(
            kind="none",
            confidence=0.2,
            lead=None,
            votes={},
            rationale=(
                "complained orders concentrate on some paths, but none is an account, app, "
                "export or corroborated malware",
            ),
        )
    ranked = sorted(votes.items(), key=lambda kv: kv[1], reverse=True)
    kind, (s1, c1) = ranked[0]
    s2 = ranked[1][1][0] if len(ranked) > 1 else 0.0
    confidence = round(min(0.99, s1 / (s1 + s2 + 2.0) * min(1.0, c1 / 0.5)), 3)
    lead = best[kind]
    votes = {k: v[0] for k, v in votes.items()}
    return _describe(
        case, kind, confidence, lead, votes, sig, events, members, starts, malware, hits
    )


def _describe(
    case, kind, confidence, lead, votes, sig, events, members, starts, malware_keys, hits
) -> VectorCall:
    rationale = [
        f"strongest common point: {lead['level']} {lead['id']} "
        f"(coverage {lead['coverage']:.0%}, lift {lead['lift']:.1f}, p = {lead['p_value']:.2g})"
    ]
    for k, s in sorted(votes.items(), key=lambda kv: -kv[1]):
        rationale.append(f"{k}: strongest supporting point -log10 p = {s:.1f}")
    lead_members = members_of(
        members, pl.DataFrame({"level": [lead["level"]], "cand": [lead["id"]]})
    )
    lead_events = events.filter(pl.col("ev").is_in(lead_members["ev"].implode()))
    acc_src, ep_src = case.source("access"), case.source("endpoint")
    if kind == "malware":
        level = lead["level"] if lead["level"] in ("device", "process") else None
        if level is None:  # a machine led: take every corroborated device/process on it
            level = "device"
        st = starts[level]
        if lead["level"] in ("device", "process"):
            st = st.filter(pl.col("cand") == lead["id"])
        else:
            st = st.filter(pl.col("machine_id") == lead["id"])
            flagged = st.filter(pl.col("cand").is_in(list(malware_keys)))
            st = (flagged if flagged.height else st).sort("since").head(1)
        anchors = st.select(
            "machine_id",
            pl.col("since").alias("at"),
            pl.lit(ep_src).alias("source"),
            pl.col("_row").alias("row"),
            pl.format("{} first seen", pl.col("cand")).alias("what"),
        ).sort("at")
        machines = tuple(anchors["machine_id"].to_list())
        devices = tuple(st["cand"].unique().to_list()) if level == "device" else ()
        start = anchors["at"].min()
        accounts = ()
        apps = ()
    else:
        if kind == "insider_export":
            # The exports (or, failing those, the reads) behind the lead.
            chosen = lead_events.filter(pl.col("action") == "export_orders")
            if chosen.is_empty():
                chosen = lead_events
            # ...and every other export under the same account from then on
            # that put complained orders in front of someone in time.
            lead_accounts = chosen["account_id"].drop_nulls().unique().to_list()
            exposed_in_time = (
                hits.filter(pl.col("in_time") & pl.col("fields_ok")).select("ev").unique()
            )
            extra = events.filter(
                (pl.col("action") == "export_orders") & pl.col("account_id").is_in(lead_accounts)
            ).join(exposed_in_time, on="ev", how="semi")
            chosen = pl.concat([chosen, extra]).unique("ev").sort("at")
            if lead.get("first_exposure") is not None:
                after = chosen.filter(pl.col("at") >= lead["first_exposure"] - timedelta(seconds=1))
                chosen = after if after.height else chosen
        elif kind == "stale_account":
            # Every use of the account once its owner had gone, from any address.
            lead_accounts = lead_events["account_id"].drop_nulls().unique().to_list()
            chosen = _after_owner_left(
                case, events.filter(pl.col("account_id").is_in(lead_accounts))
            )
            if chosen.is_empty():
                chosen = lead_events
        else:
            chosen = lead_events
            if lead.get("first_exposure") is not None:
                after = chosen.filter(pl.col("at") >= lead["first_exposure"])
                chosen = after if after.height else chosen
        anchors = chosen.select(
            "machine_id",
            "at",
            pl.lit(acc_src).alias("source"),
            pl.col("_row").alias("row"),
            pl.format("{} by {}", pl.col("action"), pl.col("account_id")).alias("what"),
            "ev",
            "account_id",
            "app_id",
        ).sort("at")
        machines = tuple(sorted(set(chosen["machine_id"].drop_nulls().to_list())))
        accounts = tuple(sorted(set(chosen["account_id"].drop_nulls().to_list())))
        apps = tuple(sorted(set(chosen["app_id"].drop_nulls().to_list())))
        devices = ()
        start = lead.get("first_exposure") or chosen["at"].min()
        if kind == "stale_account":
            # The first login after the owner left opened the path.
            logins = _after_owner_left(
                case,
                case.logins.filter(
                    pl.col("account_id").is_in(list(accounts)) & (pl.col("action") == "login")
                ),
            )
            start = min(t for t in (chosen["at"].min(), logins["at"].min()) if t is not None)
    end = (
        anchors["at"].max()
        if kind in ("insider_export", "stale_account")
        else _leak_end(lead_events)
    )
    return VectorCall(
        kind=kind,
        confidence=confidence,
        lead=lead,
        votes=votes,
        machines=machines,
        accounts=accounts,
        apps=apps,
        devices=devices,
        anchors=anchors,
        leak_start=start,
        leak_end=end,
        rationale=tuple(rationale),
    )


def _after_owner_left(case: Case, events: pl.DataFrame) -> pl.DataFrame:
    """Events of accounts whose owner had left (or that were disabled) by then."""
    owners = case.accounts.select("account_id", "owner_person_id", "disabled_at").join(
        case.staff.select(pl.col("person_id").alias("owner_person_id"), "left_on"),
        on="owner_person_id",
        how="left",
    )
    local_day = pl.col("at").dt.convert_time_zone(case.timezone()).dt.date()
    return (
        events.join(owners, on="account_id", how="left")
        .filter(
            (pl.col("left_on").is_not_null() & (local_day > pl.col("left_on")))
            | (pl.col("disabled_at").is_not_null() & (pl.col("at") > pl.col("disabled_at")))
        )
        .select(events.columns)
        .sort("at")
    )


def _leak_end(lead_events: pl.DataFrame) -> datetime | None:
    """The last exposure through the path in the evidence."""
    return lead_events["at"].max() if lead_events.height else None


# --------------------------------------------------------------------------
# people


def _present(tl: pl.DataFrame, anchors: pl.DataFrame, window: timedelta) -> pl.DataFrame:
    """Camera sightings at an anchor's machine around the anchor's time."""
    cam = tl.filter(
        (pl.col("table") == "camera")
        & pl.col("machine_id").is_not_null()
        & pl.col("action").is_in(["insert_device", "at_desk"])
    ).select(
        "machine_id",
        pl.col("at").alias("c_at"),
        pl.coalesce("end", "at").alias("c_end"),
        "person_id",
        pl.col("source").alias("c_source"),
        pl.col("row").alias("c_row"),
        pl.col("action").alias("c_action"),
    )
    return anchors.join(cam, on="machine_id").filter(
        (pl.col("c_at") <= pl.col("at") + window) & (pl.col("c_end") >= pl.col("at") - window)
    )


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
    present = _present(tl, anchors.filter(pl.col("machine_id").is_not_null()), window)
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
            ),
        )
    for person, ev in _in_building(case, tl, anchors):
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
                ),
            )
    return out


def _in_building(
    case: Case,
    tl: pl.DataFrame,
    anchors: pl.DataFrame,
    *,
    lookback: timedelta = timedelta(hours=4),
    crowd: int = 3,
):
    """People badged in (and not out) shortly before an off-hours anchor.

    Outside business hours the building is nearly empty, so being one of the
    few people inside when the path was opened is evidence; in business
    hours everybody is inside and it is none. Skipped when more than
    ``crowd`` people were in.
    """
    tz = case.timezone()
    meta = case.meta
    badge = tl.filter((pl.col("table") == "badge") & pl.col("person_id").is_not_null())
    if badge.is_empty():
        return []
    out = []
    for a in anchors.iter_rows(named=True):
        local = a["at"].astimezone(zone(tz))
        open_day = local.isoweekday() in meta.weekdays
        if open_day and meta.business_start <= local.time() <= meta.business_end:
            continue
        before = badge.filter((pl.col("at") <= a["at"]) & (pl.col("at") >= a["at"] - lookback))
        last = before.sort("at").group_by("person_id", maintain_order=True).last()
        inside = last.filter(pl.col("action") == "in")
        if inside.is_empty() or inside.height > crowd:
            continue
        for r in inside.iter_rows(named=True):
            out.append(
                (
                    r["person_id"],
                    Evidence(
                        "in_building_off_hours",
                        r["source"],
                        r["row"],
                        f"badged in {local_text(r['at'], tz)}, one of {inside.height} inside when "
                        f"{a['what']} ({local_text(a['at'], tz)}, {a['source']} row {a['row']})",
                        WEIGHTS["in_building_off_hours"],
                        r["at"],
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
            )
        )
    ok = hits.filter(pl.col("in_time") & pl.col("fields_ok")).select("ev", "complaint_id")
    first = (
        events.select("ev", "_row", "at", "action", "account_id", "machine_id")
        .join(ok, on="ev")
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
            )
        )
    return out


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
) -> tuple[Suspect, ...]:
    """People ordered by posterior probability of being the insider."""
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
        seen_rows = set()
        for e in items:
            key = (e.kind, e.source, e.row)
            if key in seen_rows:
                continue
            seen_rows.add(key)
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
            machines = {m for m in call.machines if any(m in e.summary for e in mine)}
            if call.kind not in ("malware", "usb_malware", "visitor_malware"):
                machines |= set(call.machines)
            mine = mine + _context(case, call, events, hits, machines)
        items = sorted(
            {(e.kind, e.source, e.row): e for e in mine}.values(),
            key=lambda e: (-abs(math.log(e.weight)), e.source, e.row),
        )
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


def refine_malware_kind(call: VectorCall, suspects: tuple[Suspect, ...]) -> VectorCall:
    """``malware`` becomes ``visitor_malware`` when the top suspect is not staff."""
    if call.kind != "malware":
        return call
    top = suspects[0] if suspects else None
    visitor = top is not None and (not top.on_staff or (top.role or "") in VISITOR_ROLES)
    kind = "visitor_malware" if visitor else "usb_malware"
    votes = {(kind if k == "malware" else k): v for k, v in call.votes.items()}
    return VectorCall(**{**call.__dict__, "kind": kind, "votes": votes})
