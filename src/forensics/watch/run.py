"""``forensics audit``: the watch run on a case, and what it writes.

:func:`audit` runs the account-hygiene checks (:mod:`forensics.watch.hygiene`)
and ranks people by baseline-aware risk (:mod:`forensics.watch.risk`) on a
loaded case, no complaint needed. :func:`write_audit` writes ``people.csv``
(``rank``, ``person_id``, ``score``, ``reasons``, ...), ``signals.csv``, one
CSV per check, ``issues.csv``, ``audit.md``, ``audit.json`` and
``audit.html`` (the top people and their charts); every CSV
goes through :func:`forensics.privacy.write_csv` (masked, formulas defused).
"""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl

from ..analysis.clock import estimate_offsets
from ..analysis.exposure import exposure_events, order_index
from ..analysis.indicators import access_rows
from ..analysis.indicators import indicators as find_indicators
from ..analysis.sessions import sessionize
from ..analysis.timeline import timeline as build_timeline
from ..case import Case, as_text
from ..privacy import escape_markdown, write_csv
from .hygiene import (
    SEVERITY,
    AuditSettings,
    app_authorizations,
    export_rights,
    issues,
    off_hours_access,
    one_person_one_account,
    stale_accounts,
    usb_devices,
)
from .result import Audit
from .risk import WatchSettings, watch

__all__ = ["Audit", "audit", "audit_markdown", "summary_text", "write_audit", "run_audit"]


def audit(
    case: Case,
    *,
    settings: AuditSettings | None = None,
    watch_settings: WatchSettings | None = None,
) -> Audit:
    """Run every check and the watch on a loaded case (no complaint needed)."""
    st = settings or AuditSettings()
    offsets = estimate_offsets(case)
    # The checks read the access rows of exports, API pulls and stale
    # accounts only (as the investigation does): never a timeline of every
    # order view of a large case.
    tl = build_timeline(case, offsets, access=access_rows(case))
    # The checks join the events with the case's other tables by id: as text
    # (the access log holds its ids coded; see forensics.case.as_text).
    events = as_text(exposure_events(case, sessionize(case), order_index(case)))
    found = find_indicators(case, tl, events)
    tables = {
        "accounts": one_person_one_account(case, found),
        "stale": stale_accounts(case, tl),
        "exports": export_rights(case, events, settings=st),
        "apps": app_authorizations(case, events),
        "off_hours": off_hours_access(case, events, settings=st),
        "usb": usb_devices(case, found, settings=st),
    }
    ranked = watch(case, events, tables["stale"], settings=watch_settings)
    return Audit(case_id=case.meta.case_id, issues=issues(**tables), watch=ranked, **tables)


def audit_markdown(a: Audit, *, top: int = 20) -> str:
    """The audit as Markdown: people by risk, issues by severity, table sizes."""
    lines = [f"# Audit — {escape_markdown(a.case_id)}", "", f"## People by risk (top {top})", ""]
    if a.people.is_empty():
        lines.append("No person stands out from their baseline.")
    for r in a.people.head(top).iter_rows(named=True):
        lines.append(f"{r['rank']}. **{escape_markdown(r['person_id'])}** score {r['score']:.3f}")
        lines += [f"   - {escape_markdown(reason)}" for reason in r["reasons"].split(" | ")]
    lines += ["", "## Account hygiene", ""]
    if a.issues.is_empty():
        lines.append("No issue found.")
    for severity in SEVERITY:
        part = a.issues.filter(pl.col("severity") == severity)
        if part.is_empty():
            continue
        lines += ["", f"### {severity.value.capitalize()} ({part.height})", ""]
        for r in part.iter_rows(named=True):
            lines.append(
                f"- [ ] **{escape_markdown(r['check'])}: {escape_markdown(r['subject'])}** — "
                f"{escape_markdown(r['finding'])} "
                f"({escape_markdown(r['source'])} row {r['row']})"
            )
    lines += ["", "## Tables", ""]
    for name, frame in a.tables().items():
        lines.append(f"- `{name}.csv`: {frame.height} rows")
    return "\n".join(lines) + "\n"


def summary_text(a: Audit, *, limit: int = 25, people: int = 10) -> str:
    """A readable summary for the terminal: the top people, then the issues."""
    counts = {s.value: a.issues.filter(pl.col("severity") == s).height for s in SEVERITY}
    lines = [
        f"audit of {a.case_id}: {a.people.height} people with signals; issues "
        + ", ".join(f"{n} {s}" for s, n in counts.items())
    ]
    if people and a.people.height:
        lines.append("people by risk:")
        for r in a.people.head(people).iter_rows(named=True):
            first = r["reasons"].split(" | ")[0]
            lines.append(f"  {r['rank']:>3}. {r['person_id']} {r['score']:.3f} — {first}")
    for r in a.issues.head(limit).iter_rows(named=True):
        lines.append(
            f"  [{r['severity']:<6}] {r['check']}: {r['subject']} — {r['finding']} "
            f"({r['source']} row {r['row']})"
        )
    if a.issues.height > limit:
        lines.append(f"  ... and {a.issues.height - limit} more")
    return "\n".join(lines)


def write_audit(a: Audit, out: Path, *, tz: str = "UTC") -> dict[str, Path]:
    """Write ``audit.md``, ``audit.json``, ``audit.html`` and one CSV per table into ``out``.

    ``tz`` is the case's zone, for the times in ``audit.html``'s charts.
    """
    from .page import audit_html

    out.mkdir(parents=True, exist_ok=True)
    files = {"md": out / "audit.md", "json": out / "audit.json", "html": out / "audit.html"}
    files["html"].write_text(audit_html(a, tz=tz), encoding="utf-8")
    for name, frame in a.tables().items():
        files[name] = out / f"{name}.csv"
        write_csv(frame, files[name])
    files["md"].write_text(audit_markdown(a), encoding="utf-8")
    doc = {
        "format": "forensics.audit/2",
        "case_id": a.case_id,
        "first_judged_day": a.watch.first_judged,
        "severity_counts": {
            s.value: a.issues.filter(pl.col("severity") == s).height for s in SEVERITY
        },
        "tables": {name: frame.to_dicts() for name, frame in a.tables().items()},
    }
    files["json"].write_text(
        json.dumps(doc, indent=2, ensure_ascii=False, default=str) + "\n", encoding="utf-8"
    )
    return files


def run_audit(case_path: Path, out: Path | None = None) -> int:
    """CLI entry: audit the case, print a summary, write files when ``out``."""
    from ..case import load

    case_path = Path(case_path)
    if out is not None:
        out = Path(out)
        if out.resolve() == case_path.resolve() or case_path.resolve() in out.resolve().parents:
            raise SystemExit("forensics: refusing to write inside the case folder")
    case = load(case_path, personal=False)
    a = audit(case)
    print(summary_text(a))
    if out is not None:
        files = write_audit(a, out, tz=case.timezone())
        print(
            f"audit written to {files['md']} (+ audit.html, audit.json, people.csv and "
            f"{len(a.tables()) - 1} more CSV tables)"
        )
    return 0
