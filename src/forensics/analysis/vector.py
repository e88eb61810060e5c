"""Which path leaked the orders: the leak path's kind, its anchors and window.

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
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

import numpy as np
import polars as pl

from ..case import Case, as_text, typed_like
from ..case.localtime import zone
from .commonpoint import CommonPointSettings
from .explained import stood_in, unborrowed
from .exposure import event_columns, members_of
from .indicators import VISITOR_ROLES, malware_keys
from .streams import scheduled_events

__all__ = [
    "VectorCall",
    "classify",
    "refine_malware_kind",
    "brought_by",
    "camera_at_anchors",
    "NOT_ACCOUNT_LIKE",
    "VISITOR_WORDS",
]


NOT_ACCOUNT_LIKE = ("app", "device", "process", "machine")
"""Levels whose vote does not depend on the account behind them."""


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
        frame = pl.DataFrame(
            {"machine_id": list(mapping), name: list(mapping.values())},
            schema={"machine_id": pl.String, name: pl.Datetime("us", "UTC")},
        )
        return typed_like(frame, rows, "machine_id")

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
            reads.join(
                typed_like(f.select("cand", "machine_id", "since"), reads, "machine_id"),
                on="machine_id",
            )
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


_SETTINGS = CommonPointSettings()


def _without_weak_timing(
    sig: pl.DataFrame,
    settings: CommonPointSettings = _SETTINGS,
    min_timing_coverage: float = 0.9,
) -> pl.DataFrame:
    """``sig`` without the paths that only timing made significant (onset,
    no concentration: lift below ``settings.min_lift`` or an overlap p-value
    above ``settings.alpha`` once corrected for the paths tested, as the
    overlap route asks) when another significant path
    explains at least as much of the spike with fewer orders and more
    concentration: a big export or a flagged process that opened before the
    complaints rose is no explanation once a narrower path gives the same
    one; and those whose orders are complained about less than others
    (``onset_lift`` under 1, else ``lift``) and that leave more than
    ``1 - min_timing_coverage`` of the spike unexplained."""
    if "onset" not in sig.columns or sig.is_empty():
        return sig
    timing = sig.filter(
        pl.col("onset")
        & ((pl.col("lift") < settings.min_lift) | (pl.col("p_adjusted") > settings.alpha))
    )
    if timing.is_empty():
        return sig
    # A path whose orders are complained about less than others (lift
    # under 1) is an explanation only when it explains (nearly) the whole
    # burst, as an app pulling every order does; otherwise it opened just
    # before the complaints rose by coincidence. The lift is taken among the
    # orders the spike's buyers could have had where the onset test measured
    # it: over all orders, an app that kept pulling new orders after the
    # spike is diluted by orders no complaint of the spike could be about.
    lift = pl.col("lift")
    if "onset_lift" in timing.columns:
        lift = pl.coalesce("onset_lift", "lift")
    partial = timing.filter(
        (pl.col("recent_coverage") < min_timing_coverage) & (lift < 1.0)
    ).select("level", "id")
    better = timing.join_where(
        sig.select(
            pl.col("exposed").alias("_e"),
            pl.col("lift").alias("_l"),
            pl.col("recent_coverage").alias("_r"),
        ),
        pl.col("_e") < pl.col("exposed"),
        pl.col("_l") > pl.col("lift"),
        pl.col("_r") >= pl.col("recent_coverage"),
    ).select("level", "id")
    drop = pl.concat([partial, better]).unique()
    return sig.join(drop, on=["level", "id"], how="anti")


def classify(
    case: Case,
    points: pl.DataFrame,
    events: pl.DataFrame,
    members: pl.DataFrame,
    indicators: pl.DataFrame,
    starts: Mapping[str, pl.DataFrame],
    hits: pl.DataFrame,
    *,
    spike: bool = False,
    min_spike_share: float = 0.2,
    complained: np.ndarray | None = None,
    more_members: Callable[[pl.DataFrame], pl.DataFrame] | None = None,
) -> VectorCall:
    """Decide the leak path from the significant common points.

    With a complaint ``spike``, the leading path must explain it: a path
    whose exposures since shortly before the spike explain less than
    ``min_spike_share`` of its complaints (``recent_coverage``) does not
    vote while another path does explain it.

    ``complained`` (a Boolean mask over the order numbers of the
    investigation's universe, True where an order was complained about)
    lets a kind's vote fall when its leading path is explained away by
    another kind's paths (:mod:`forensics.analysis.explained`); with
    ``more_members`` (member events of paths given as ``level``, ``cand``),
    also by a path that is suspect by its nature but not significant itself
    (:func:`forensics.analysis.explained.stood_in`), which then leads.
    """
    sig = points.filter(pl.col("significant"))
    if spike and "recent_coverage" in sig.columns:
        explaining = sig.filter(pl.col("recent_coverage") >= min_spike_share)
        if explaining.height:
            sig = explaining
        sig = _without_weak_timing(sig)
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
    reach = dict(starts["device"].group_by("cand").agg(pl.col("machine_id").n_unique()).iter_rows())
    persistent_keys = malware_keys(case, indicators, persistent=True)
    persistent = _held_machines(starts, persistent_keys)
    # Malware that leaked from several machines is a path of its own: a
    # device or process of it significant (the stick or the payload it
    # started; either will do). A key on every PC (IT's tray tool installed
    # from one stick) finds a couple of complained orders read on any two of
    # them by chance, and would make every export "harvested".
    leaking = sig.filter(pl.col("level").is_in(["device", "process"]))["id"].to_list()
    spread = (
        _spread_malware(starts, persistent_keys, events, hits)
        if persistent_keys & set(leaking)
        else {}
    )
    profile = _path_profile(sig, members, events, persistent, spread)
    votes: dict[str, tuple[float, float]] = {}
    best: dict[str, dict] = {}
    voters: dict[str, list[tuple[str, str]]] = {}
    for row in sig.iter_rows(named=True):
        level, cid = row["level"], row["id"]
        strength = row["strength"]
        kind: str | None
        if level == "app":
            kind = "third_party_app"
        elif level == "device":
            kind = "malware"
            if cid not in malware and reach.get(cid, 0) < 2:
                # Nothing run from it, and it never left one machine: someone's
                # own stick in their own PC dates that PC's path but is no way in.
                kind = None
            elif cid not in malware:  # a stick that moved, with nothing run from it
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
        voters.setdefault(kind, []).append((level, cid))
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
    # Equal votes (an account and the machine it was used on expose the
    # same orders, the machine voting for the malware found on it): the
    # kind with the more concentrated path (higher lift) leads: a stick's
    # path from its insertion on explains the same complaints with fewer
    # orders than the desk owner's account over the whole period.
    lift_of = {(r["level"], r["id"]): r["lift"] for r in sig.iter_rows(named=True)}
    lifts = {k: max(lift_of[key] for key in keys) for k, keys in voters.items()}
    ranked = sorted(votes.items(), key=lambda kv: (*kv[1], lifts[kv[0]]), reverse=True)
    borrowed: list[str] = []
    if complained is not None:
        ranked, borrowed = unborrowed(ranked, best, voters, members, events, hits, complained)
    if complained is not None and more_members is not None:
        lead = best[ranked[0][0]]
        rows = {(r["level"], r["id"]): r for r in sig.iter_rows(named=True)}
        rivals = [(k, rows[key]) for k, _ in ranked[1:] for key in voters[k] if key in rows]
        found = stood_in(
            lead,
            rivals + _stand_ins(case, points, malware, ranked[0][0]),
            members,
            more_members,
            events,
            hits,
            complained,
            scheduled=lambda: scheduled_events(case, events),
        )
        if found is not None:
            kind, row, verdict, extra = found
            borrowed.append(
                f"{ranked[0][0]} set aside: "
                + verdict.describe(
                    f"{lead['level']} {lead['id']}",
                    f"{kind}'s {row['level']} {row['id']}"
                    + ("" if row.get("significant") else " (not significant alone)"),
                )
            )
            votes[kind] = max(votes.get(kind, ranked[0][1]), ranked[0][1])
            ranked = [(kind, votes[kind]), *(r for r in ranked[1:] if r[0] != kind)]
            best[kind] = row
            members = pl.concat([members, extra.select(members.columns)])
    kind, (s1, c1) = ranked[0]
    s2 = ranked[1][1][0] if len(ranked) > 1 else 0.0
    confidence = round(min(0.99, s1 / (s1 + s2 + 2.0) * min(1.0, c1 / 0.5)), 3)
    lead = best[kind]
    votes = {k: v[0] for k, v in votes.items()}
    call = _describe(
        case, kind, confidence, lead, votes, sig, events, members, starts, malware, hits
    )
    return replace(call, rationale=(*call.rationale, *borrowed)) if borrowed else call


def _stand_ins(
    case: Case, points: pl.DataFrame, malware: set[str], leading: str
) -> list[tuple[str, dict]]:
    """Paths suspect by their nature though not significant, with the kind
    each would vote for (the ``leading`` kind's excluded): an app, a flagged
    account whose owner had gone (or an app's), a device or process with
    malware corroborated."""
    rows = points.filter(~pl.col("significant") & (pl.col("hits") >= 1))
    if "flagged" in rows.columns:
        rows = rows.filter(
            (pl.col("level") == "app")
            | (pl.col("flagged") & pl.col("level").is_in(["account", "device", "process"]))
        )
    else:
        rows = rows.filter(pl.col("level") == "app")
    out = []
    for row in rows.iter_rows(named=True):
        if row["level"] == "app":
            kind = "third_party_app"
        elif row["level"] == "account":
            kind = _account_vote(case, row["id"], row["last_exposure"])
            if kind == "insider_export":
                continue
        else:
            if row["id"] not in malware:
                continue
            kind = "malware"
        if kind != leading:
            out.append((kind, row))
    return out


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
    acc_src = case.source("access")
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
            "source",
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
        anchors = as_text(anchors)  # a few rows, joined with other tables
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
        events.join(typed_like(owners, events, "account_id"), on="account_id", how="left")
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


VISITOR_WORDS = (
    "visitor",
    "guest",
    "candidate",
    "interview",
    "contractor",
    "courier",
    "delivery",
    "vendor",
    "non-staff",
    "not staff",
    "stranger",
    "面试",
    "应聘",
    "访客",
    "来访",
    "外来",
    "外部人员",
    "非本店",
    "非员工",
    "陌生",
    "快递",
    "外卖",
    "供应商",
)
"""Words a camera reviewer writes for someone who is not on the staff
(lower-cased substring match on the sighting's note)."""


def camera_at_anchors(tl: pl.DataFrame, anchors: pl.DataFrame, window: timedelta) -> pl.DataFrame:
    """Camera sightings at an anchor's machine (inserting a device or at the
    desk) within ``window`` of the anchor's time: the anchors' columns with
    ``c_at``, ``c_end``, ``person_id``, ``c_source``, ``c_row``, ``c_action``
    and ``c_note`` (the reviewer's note)."""
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
        pl.col("detail").alias("c_note"),
    )
    return anchors.join(cam, on="machine_id").filter(
        (pl.col("c_at") <= pl.col("at") + window) & (pl.col("c_end") >= pl.col("at") - window)
    )


def brought_by(
    case: Case,
    call: VectorCall,
    tl: pl.DataFrame,
    *,
    window: timedelta = timedelta(minutes=10),
) -> tuple[float, float]:
    """Who the camera shows at the infected machines when the malware
    arrived: ``(non_staff, staff)`` weights.

    Each sighting at an anchor's machine within ``window`` of the anchor
    counts (3 for inserting a device, 1 for being at the desk): for staff
    when it names someone on the staff list in a staff role, for non-staff
    when it names a visitor, an interview candidate or someone not on the
    list, or when it names nobody but the reviewer's note says what they
    saw (``VISITOR_WORDS``). Who was present decides, not whether a suspect
    could be named.
    """
    anchors = call.anchors.filter(pl.col("machine_id").is_not_null())
    if anchors.is_empty():
        return 0.0, 0.0
    seen = camera_at_anchors(tl, anchors.select("machine_id", "at"), window).unique("c_row")
    roles = dict(case.staff.select("person_id", pl.col("role").str.to_lowercase()).iter_rows())
    non_staff = staff = 0.0
    for r in seen.iter_rows(named=True):
        weight = 3.0 if r["c_action"] == "insert_device" else 1.0
        person = r["person_id"]
        if person is None:
            note = (r["c_note"] or "").lower()
            if any(w in note for w in VISITOR_WORDS):
                non_staff += weight
        elif person not in roles or (roles[person] or "") in VISITOR_ROLES:
            non_staff += weight
        else:
            staff += weight
    return non_staff, staff


def refine_malware_kind(
    call: VectorCall,
    *,
    top_is_visitor: bool,
    case: Case | None = None,
    tl: pl.DataFrame | None = None,
) -> VectorCall:
    """``malware`` becomes ``visitor_malware`` or ``usb_malware``.

    Decided by who the camera shows at the infected machines when the
    malware arrived (:func:`brought_by`); only when it shows nobody either
    way, by whether the top suspect is a visitor (``top_is_visitor``).
    """
    if call.kind != "malware":
        return call
    non_staff, staff = brought_by(case, call, tl) if case is not None and tl is not None else (0, 0)
    visitor = non_staff > staff if non_staff != staff else top_is_visitor
    kind = "visitor_malware" if visitor else "usb_malware"
    votes = {(kind if k == "malware" else k): v for k, v in call.votes.items()}
    return VectorCall(**{**call.__dict__, "kind": kind, "votes": votes})
