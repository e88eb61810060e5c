"""The remediation checklist: what to fix, most urgent first, each item citing
the file and row behind it (:func:`remediation`, tiers in :data:`TIERS`)."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import polars as pl

from ..case import as_text
from ..case.localtime import local_col, local_text
from ..findings import Findings
from ..vocab import IndicatorKind, VectorKind
from ..watch.hygiene import broad_scopes
from .leakpath import infection_devices, infection_windows, is_malware, leak_path_events

__all__ = ["Citation", "Action", "TIERS", "MIN_SUSPECT_SCORE", "remediation"]


@dataclass(frozen=True)
class Citation:
    """A file and row that supports an action."""

    source: str
    row: int | None
    summary: str


@dataclass(frozen=True)
class Action:
    """One item of the remediation checklist."""

    tier: int  # 0 contain the leak path ... 4 hygiene reviews
    category: str  # isolate_machine, disable_account, revoke_app, interview, ...
    target_kind: str  # machine, account, app, person, ip
    target: str
    action: str
    reason: str
    evidence: tuple[Citation, ...] = ()
    priority: int = 0  # 1 = first; set once the checklist is ordered

    def as_dict(self) -> dict:
        return asdict(self)


TIERS = {
    0: "Contain the leak path",
    1: "People to interview",
    2: "Follow the leak path's reach",
    3: "Accounts that should not work",
    4: "Permission and authorization review",
}


def remediation(findings: Findings, *, max_evidence: int = 5) -> tuple[Action, ...]:
    """The checklist, most urgent first, each item citing its evidence.

    Tiers (:data:`TIERS`): 0 contain the leak path (isolate its machines,
    disable its accounts, revoke its app); 1 interview the suspects; 2 the
    path's reach (accounts used on infected machines after infection,
    machines the suspicious USB device touched); 3 accounts that should not
    work (former employees', shared); 4 reviews (export rights,
    broad-scope apps). Within a tier, items keep the order of the evidence
    (infection or first exposure first).
    """
    parts = [
        _contain(findings, max_evidence),
        _interviews(findings, max_evidence),
        _reach(findings, max_evidence),
        _stale_accounts(findings, max_evidence),
        _shared_accounts(findings, max_evidence),
        _export_review(findings, max_evidence),
        _app_review(findings),
    ]
    items = [a for part in parts for a in part]
    kept: dict[tuple[str, str, str], Action] = {}
    for a in sorted(items, key=lambda a: a.tier):  # stable: keeps evidence order in a tier
        key = (a.category, a.target_kind, a.target)
        kept[key] = _merge(kept[key], a) if key in kept else a
    return tuple(_with_priority(a, i + 1) for i, a in enumerate(kept.values()))


def _merge(first: Action, later: Action) -> Action:
    """One item for one target: the more urgent tier, both reasons, all evidence."""
    extra = tuple(c for c in later.evidence if c not in first.evidence)
    return Action(
        **{
            **first.__dict__,
            "reason": f"{first.reason}; {later.reason}",
            "evidence": first.evidence + extra,
        }
    )


def _with_priority(a: Action, priority: int) -> Action:
    return Action(**{**a.__dict__, "priority": priority})


def _cite(frame: pl.DataFrame, source: str | pl.Expr, row: str, summary: pl.Expr, n: int) -> tuple:
    src = pl.lit(source) if isinstance(source, str) else source
    f = frame.head(n).select(src.alias("s"), pl.col(row).alias("r"), summary.alias("t"))
    return tuple(Citation(s, r, t) for s, r, t in f.iter_rows())


def _contain(findings: Findings, n: int) -> list[Action]:
    v = findings.vector
    if v.kind == VectorKind.NONE or v.anchors.is_empty():
        return []
    tz = findings.case.timezone()
    if is_malware(findings):
        return _isolate_infected(findings, tz)
    out = []
    pe = leak_path_events(findings)
    access = findings.case.source("access")
    path_ev = findings.events.join(pe.select("ev"), on="ev").sort("at")
    for app in v.apps:
        app_row = findings.case.apps.filter(pl.col("app_id") == app)
        mine = path_ev.filter(pl.col("app_id") == app)
        cites = _cite(
            app_row,
            findings.case.source("apps"),
            "_row",
            pl.format(
                "{} ({}) granted {}, scopes {}",
                "app_id",
                "name",
                local_col("granted_at", tz),
                pl.col("scopes").fill_null("?"),
            ),
            1,
        )
        cites += _cite(
            mine,
            access,
            "_row",
            pl.format(
                "{} by {} {}: {} order(s)",
                "action",
                "account_id",
                local_col("at", tz),
                pl.col("hi") - pl.col("lo"),
            ),
            n,
        )
        out.append(
            Action(
                0,
                "revoke_app",
                "app",
                app,
                f"Revoke app {app} and rotate its API credentials",
                f"the leak path: its pulls exposed {_orders_of(mine)} orders",
                cites,
            )
        )
    for account in v.accounts:
        mine = path_ev.filter(pl.col("account_id") == account)
        verb = (
            "Disable account"
            if v.kind in (VectorKind.STALE_ACCOUNT, VectorKind.INSIDER_EXPORT)
            else "Disable the app's account"
        )
        cites = _cite(
            mine,
            access,
            "_row",
            pl.format(
                "{} by {} from {} {}: {} order(s)",
                "action",
                "account_id",
                pl.coalesce("machine_id", pl.format("ip {}", "ip")),
                local_col("at", tz),
                pl.col("hi") - pl.col("lo"),
            ),
            n,
        )
        out.append(
            Action(
                0,
                "disable_account",
                "account",
                account,
                f"{verb} {account}, end its sessions and rotate its password",
                f"the leak path ({v.kind}): exposed {_orders_of(mine)} orders",
                cites,
            )
        )
    for machine in v.machines:
        mine = path_ev.filter(pl.col("machine_id") == machine)
        cites = _cite(
            mine,
            access,
            "_row",
            pl.format(
                "{} by {} on {} {}", "action", "account_id", "machine_id", local_col("at", tz)
            ),
            n,
        )
        out.append(
            Action(
                0,
                "preserve_machine",
                "machine",
                machine,
                f"Preserve {machine} (image the disk) and examine it",
                "the leak path's events were made from it",
                cites,
            )
        )
    outside = path_ev.filter(pl.col("machine_id").is_null() & pl.col("ip").is_not_null())
    if v.kind != VectorKind.THIRD_PARTY_APP:
        for ip in outside["ip"].unique(maintain_order=True).to_list():
            mine = outside.filter(pl.col("ip") == ip)
            cites = _cite(
                mine,
                access,
                "_row",
                pl.format(
                    "{} by {} from ip {} {}", "action", "account_id", "ip", local_col("at", tz)
                ),
                n,
            )
            out.append(
                Action(
                    0,
                    "block_ip",
                    "ip",
                    ip,
                    f"Block back-office access from {ip}",
                    "the leak path logged in from outside the office",
                    cites,
                )
            )
    return out


def _orders_of(events: pl.DataFrame) -> int:
    """Distinct orders a set of events exposed (interval union)."""
    if events.is_empty():
        return 0
    iv = events.select("lo", "hi").sort("lo", "hi")
    prev = pl.col("hi").cum_max().shift(1)
    blocks = iv.with_columns((prev.is_null() | (pl.col("lo") > prev)).cum_sum().alias("b"))
    return int(blocks.group_by("b").agg(pl.col("hi").max() - pl.col("lo").min())["hi"].sum())


def _isolate_infected(findings: Findings, tz: str) -> list[Action]:
    win = infection_windows(findings).sort("since")
    pe = leak_path_events(findings)
    out = []
    for w in win.iter_rows(named=True):
        cites = [
            Citation(
                w["source"],
                w["row"],
                f"{w['what']} on {w['machine_id']} {local_text(w['since'], tz)}",
            )
        ]
        state = "still infected at the end of the evidence"
        if w["until"] is not None:
            cites.append(
                Citation(
                    w["until_source"],
                    w["until_row"],
                    f"antivirus quarantined the implant {local_text(w['until'], tz)}",
                )
            )
            state = "the antivirus quarantined the implant; confirm it is gone"
        n = _orders_of(pe.filter(pl.col("path") == f"machine {w['machine_id']}"))
        out.append(
            Action(
                0,
                "isolate_machine",
                "machine",
                w["machine_id"],
                f"Isolate {w['machine_id']} from the network, image it, "
                "remove the implant and reinstall",
                f"infected {local_text(w['since'], tz)}; {n} orders opened on it since ({state})",
                tuple(cites),
            )
        )
    return out


MIN_SUSPECT_SCORE = 0.1
"""Below this posterior a person is not put on the interview list: a
checklist naming someone at 2 % would read as an accusation the evidence
does not make."""


def _interviews(findings: Findings, n: int) -> list[Action]:
    out = []
    for s in findings.suspects:
        if s.score < MIN_SUSPECT_SCORE:
            continue
        cites = tuple(Citation(e.source, e.row, e.summary) for e in s.evidence[:n])
        role = f" ({s.role})" if s.role else ""
        out.append(
            Action(
                1,
                "interview",
                "person",
                s.person_id,
                f"Interview {s.person_id}{role}",
                f"suspect score {s.score:.2f} on the evidence below",
                cites,
            )
        )
    return out


def _reach(findings: Findings, n: int) -> list[Action]:
    """Credentials exposed on infected machines; machines the USB device touched."""
    if not is_malware(findings):
        return []
    tz = findings.case.timezone()
    win = infection_windows(findings)
    sessions = (
        findings.sessions.join(win.select("machine_id", "since"), on="machine_id")
        .filter(pl.col("end").fill_null(pl.col("start")) >= pl.col("since"))
        .sort("start")
    )
    logins = findings.case.source("logins")
    out = []
    for account in sessions["account_id"].drop_nulls().unique(maintain_order=True).to_list():
        mine = sessions.filter(pl.col("account_id") == account)
        machines = ", ".join(mine["machine_id"].unique(maintain_order=True).to_list())
        cites = _cite(
            mine.filter(pl.col("login_row").is_not_null()),
            logins,
            "login_row",
            pl.format(
                "{} logged in on {} {} (infected {})",
                "account_id",
                "machine_id",
                local_col("start", tz),
                local_col("since", tz),
            ),
            n,
        )
        out.append(
            Action(
                2,
                "rotate_password",
                "account",
                account,
                f"Rotate the password of {account} and end its sessions",
                f"used on infected machine(s) {machines} after infection: the implant "
                "could capture it",
                cites,
            )
        )
    case = findings.case
    devices = infection_devices(findings)
    touched = (
        findings.infection_starts["device"]
        .filter(
            pl.col("cand").is_in(devices) & ~pl.col("machine_id").is_in(win["machine_id"].to_list())
        )
        .sort("since")
    )
    for r in touched.iter_rows(named=True):
        out.append(
            Action(
                2,
                "scan_machine",
                "machine",
                r["machine_id"],
                f"Scan {r['machine_id']} for the implant and check its autoruns",
                f"the suspicious USB device {r['cand']} was connected to it",
                (
                    Citation(
                        case.source("endpoint"),
                        r["_row"],
                        f"USB {r['cand']} connected {local_text(r['since'], tz)}",
                    ),
                ),
            )
        )
    return out


def _stale_accounts(findings: Findings, n: int) -> list[Action]:
    case = findings.case
    tz = findings.case.timezone()
    left = case.staff.filter(pl.col("left_on").is_not_null()).select(
        pl.col("person_id").alias("owner_person_id"), "left_on", pl.col("_row").alias("staff_row")
    )
    stale = case.accounts.join(left, on="owner_person_id").filter(
        pl.col("disabled_at").is_null()
        | (pl.col("disabled_at").dt.convert_time_zone(tz).dt.date() > pl.col("left_on"))
    )
    uses = findings.indicators.filter(pl.col("indicator") == IndicatorKind.STALE_ACCOUNT_USE)
    out = []
    for r in stale.sort("left_on").iter_rows(named=True):
        cites = [
            Citation(
                case.source("staff"),
                r["staff_row"],
                f"{r['owner_person_id']} left on {r['left_on']}",
            ),
            Citation(
                case.source("accounts"),
                r["_row"],
                f"{r['account_id']} disabled_at "
                + (
                    local_text(r["disabled_at"], tz)
                    if r["disabled_at"]
                    else "empty (still enabled)"
                ),
            ),
        ]
        used = uses.filter(pl.col("account_id") == r["account_id"])
        cites += _cite(used, pl.col("source"), "row", pl.col("summary"), n)
        state = (
            "still enabled" if r["disabled_at"] is None else "disabled only after the owner left"
        )
        also = "; and used after the owner left" if used.height else ""
        out.append(
            Action(
                3,
                "disable_account",
                "account",
                r["account_id"],
                f"Disable {r['account_id']} (former employee {r['owner_person_id']})",
                f"owner left on {r['left_on']}, account {state}{also}",
                tuple(cites),
            )
        )
    return out


def _shared_accounts(findings: Findings, n: int) -> list[Action]:
    case = findings.case
    ownerless = case.accounts.filter(
        pl.col("owner_person_id").is_null()
        & (pl.col("kind").fill_null("") != "app")
        & pl.col("disabled_at").is_null()
        & ~pl.col("account_id").is_in(case.apps["account_id"].drop_nulls().to_list())
    )
    out = [
        Action(
            3,
            "unshare_account",
            "account",
            r["account_id"],
            f"Give each user of {r['account_id']} an account of their own, then disable it",
            "an enabled back-office account with no owner: whoever uses it is not recorded",
            (
                Citation(
                    case.source("accounts"),
                    r["_row"],
                    f"{r['account_id']} kind {r['kind']}, owner_person_id empty",
                ),
            ),
        )
        for r in ownerless.iter_rows(named=True)
    ]
    shared = findings.indicators.filter(
        pl.col("indicator").is_in([IndicatorKind.USED_OTHER_ACCOUNT, IndicatorKind.OWNER_ELSEWHERE])
        & pl.col("account_id").is_not_null()
    ).sort("at")
    for account in shared["account_id"].unique(maintain_order=True).to_list():
        mine = shared.filter(pl.col("account_id") == account)
        people = sorted(set(mine["person_id"].drop_nulls().to_list()))
        out.append(
            Action(
                3,
                "unshare_account",
                "account",
                account,
                f"Give each user of {account} an account of their own and rotate its password",
                f"camera/badge evidence shows it used by someone other than its owner "
                f"({mine.height} rows; people seen: {', '.join(people) or '?'})",
                _cite(mine, pl.col("source"), "row", pl.col("summary"), n),
            )
        )
    return out


def _export_review(findings: Findings, n: int) -> list[Action]:
    case = findings.case
    tz = findings.case.timezone()
    exports = as_text(findings.events.filter(pl.col("action") == "export_orders").sort("at"))
    counts = exports.group_by("account_id").agg(
        pl.len().alias("exports"), pl.col("_row").first(), pl.col("at").first()
    )
    acc = case.accounts.filter(pl.col("kind").fill_null("") != "app").join(
        counts, on="account_id", how="left", suffix="_ex"
    )
    access = case.source("access")
    out = []
    for r in acc.sort("_row").iter_rows(named=True):
        can, did = bool(r["can_export"]), r["exports"] is not None
        row = Citation(case.source("accounts"), r["_row"], f"{r['account_id']} can_export={can}")
        if can and not did:
            out.append(
                Action(
                    4,
                    "export_right",
                    "account",
                    r["account_id"],
                    f"Remove the export right of {r['account_id']}",
                    "may export but never did in the evidence",
                    (row,),
                )
            )
        elif did:
            first = Citation(
                access, r["_row_ex"], f"first of {r['exports']} export(s) {local_text(r['at'], tz)}"
            )
            verdict = (
                "exported without the export right: check how"
                if not can
                else f"exported {r['exports']} time(s): confirm each was needed"
            )
            out.append(
                Action(
                    4,
                    "export_right",
                    "account",
                    r["account_id"],
                    f"Review the exports of {r['account_id']}",
                    verdict,
                    (row, first),
                )
            )
    return out


def _app_review(findings: Findings) -> list[Action]:
    case = findings.case
    tz = findings.case.timezone()
    active = case.apps.filter(pl.col("revoked_at").is_null()).sort("granted_at")
    out = []
    for r in active.iter_rows(named=True):
        scopes = r["scopes"] or ""
        broad = broad_scopes(scopes)
        if not broad:
            continue
        out.append(
            Action(
                4,
                "review_app",
                "app",
                r["app_id"],
                f"Review app {r['app_id']} ({r['name']}): keep only if needed, narrow its scopes",
                f"authorized since {local_text(r['granted_at'], tz)}, not revoked, with broad "
                f"scopes {', '.join(broad)}",
                (Citation(case.source("apps"), r["_row"], f"{r['app_id']} scopes {scopes}"),),
            )
        )
    return out
