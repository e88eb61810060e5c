"""After the finding: who to warn, what to tell the platform, what to fix.

``forensics respond CASE --out DIR`` investigates the case and writes a
response pack derived from the findings:

``affected_buyers.csv``
    One row per buyer whose order the leak path exposed, for an SMS reminder
    campaign: which path exposed them, when first, and whether they already
    complained. Phone numbers are masked unless ``--reveal-contacts``; the
    file is then named ``affected_buyers.SENSITIVE.csv``.
``platform_report.csv`` / ``.json``
    One row per complaint, for the marketplace: the order, the buyer, when
    the complaint came and when the scammer called, the path that exposed
    the order and when, and a ``basis`` saying what is established
    (:data:`BASIS`), so nothing inferred reads as fact.
``remediation.md`` / ``.json``
    A checklist derived from the evidence, most urgent first, every item
    citing the file and row behind it (:func:`remediation`).

The steps live apart, in the order they run: :mod:`.leakpath` (the leak
path's events and infections), :mod:`.buyers` (exposed orders, affected
buyers, the platform report), :mod:`.remediation` (the checklist); this
module puts them in one :class:`ResponsePack`, writes its files and is the
command line.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from ..case.custody import output_folder
from ..findings import Findings
from ..privacy import write_csv
from .buyers import BASIS, affected_buyers, exposed_orders, platform_report
from .remediation import TIERS, Action, remediation

__all__ = [
    "ResponsePack",
    "respond",
    "write_pack",
    "remediation_markdown",
    "summary_text",
    "run_respond",
]


@dataclass(frozen=True)
class ResponsePack:
    """The three products of :func:`respond`, as frames and actions."""

    case_id: str
    vector: str
    buyers: pl.DataFrame
    platform: pl.DataFrame
    actions: tuple[Action, ...]
    reveal_contacts: bool = False
    notes: tuple[str, ...] = field(default_factory=tuple)


def respond(findings: Findings, *, reveal_contacts: bool = False) -> ResponsePack:
    """Affected buyers, platform report and remediation from the findings."""
    exposed = exposed_orders(findings)
    buyers = affected_buyers(findings, exposed, reveal_contacts=reveal_contacts)
    notes = []
    if findings.vector.kind == "none":
        notes.append("no leak path was found: no buyer is listed as affected by one")
    return ResponsePack(
        case_id=findings.case.meta.case_id,
        vector=findings.vector.kind,
        buyers=buyers,
        platform=platform_report(findings, exposed),
        actions=remediation(findings),
        reveal_contacts=reveal_contacts,
        notes=tuple(notes),
    )


def write_pack(pack: ResponsePack, out: Path) -> dict[str, Path]:
    """Write the pack's files into ``out``; returns them by name."""
    out.mkdir(parents=True, exist_ok=True)
    name = "affected_buyers.SENSITIVE.csv" if pack.reveal_contacts else "affected_buyers.csv"
    files = {
        "buyers": out / name,
        "platform_csv": out / "platform_report.csv",
        "platform_json": out / "platform_report.json",
        "remediation_md": out / "remediation.md",
        "remediation_json": out / "remediation.json",
    }
    write_csv(pack.buyers, files["buyers"], reveal=pack.reveal_contacts)
    write_csv(pack.platform, files["platform_csv"])
    platform_doc = {
        "format": "forensics.platform_report/1",
        "case_id": pack.case_id,
        "vector": pack.vector,
        "basis": BASIS,
        "complaints": pack.platform.to_dicts(),
    }
    _write_json(files["platform_json"], platform_doc)
    _write_json(
        files["remediation_json"],
        {
            "format": "forensics.remediation/1",
            "case_id": pack.case_id,
            "vector": pack.vector,
            "tiers": {str(k): v for k, v in TIERS.items()},
            "items": [a.as_dict() for a in pack.actions],
        },
    )
    files["remediation_md"].write_text(remediation_markdown(pack), encoding="utf-8")
    return files


def _write_json(path: Path, doc: dict) -> None:
    path.write_text(
        json.dumps(doc, indent=2, ensure_ascii=False, default=str) + "\n", encoding="utf-8"
    )


_MD_SPECIAL = re.compile(r"([\\`*_\[\]#|~])")


def _md(text: object) -> str:
    """Evidence text made inert in Markdown (HTML escaped, markup characters escaped)."""
    text = "" if text is None else str(text)
    # < and > are enough to keep raw HTML out; & stays readable.
    return _MD_SPECIAL.sub(r"\\\1", text.replace("<", "&lt;").replace(">", "&gt;"))


def remediation_markdown(pack: ResponsePack) -> str:
    """The checklist as Markdown, grouped by tier."""
    lines = [
        f"# Remediation checklist — {_md(pack.case_id)}",
        "",
        f"Leak path: **{_md(pack.vector)}**. Most urgent first; every item cites its "
        "evidence (file and row).",
        "",
    ]
    lines += [f"> {_md(n)}" for n in pack.notes]
    tier = None
    for a in pack.actions:
        if a.tier != tier:
            tier = a.tier
            lines += ["", f"## {TIERS[tier]}", ""]
        lines.append(f"{a.priority}. [ ] **{_md(a.action)}** — {_md(a.reason)}")
        for c in a.evidence:
            where = f"{c.source} row {c.row}" if c.row is not None else c.source
            lines.append(f"    - {_md(where)}: {_md(c.summary)}")
    return "\n".join(lines) + "\n"


def summary_text(pack: ResponsePack, *, top: int = 5) -> str:
    """The pack in a few lines: buyers, complaints by basis, first actions."""
    complained = int(pack.buyers["complained"].sum()) if pack.buyers.height else 0
    lines = [
        f"leak path: {pack.vector}",
        f"affected buyers: {pack.buyers.height} ({complained} already complained)",
        f"platform report: {pack.platform.height} complaints",
    ]
    counts = pack.platform.group_by("basis").len().sort(["len", "basis"], descending=[True, False])
    lines += [f"  {k:5d}  {basis}" for basis, k in counts.iter_rows()]
    lines.append(f"remediation: {len(pack.actions)} items, first:")
    lines += [f"  {a.priority}. {a.action}" for a in pack.actions[:top]]
    lines += [f"note: {n}" for n in pack.notes]
    return "\n".join(lines)


def run_respond(case_path: Path, out: Path, *, reveal_contacts: bool = False) -> int:
    """CLI entry: investigate the case and write the response pack into ``out``."""
    from ..case import load
    from ..investigate import investigate

    case_path, out = Path(case_path), output_folder(out, case_path, create=False)
    findings = investigate(load(case_path))
    pack = respond(findings, reveal_contacts=reveal_contacts)
    files = write_pack(pack, out)
    print(summary_text(pack))
    print(f"written to {out}: " + ", ".join(sorted(p.name for p in files.values())))
    if reveal_contacts:
        print(
            f"SENSITIVE: {files['buyers'].name} holds unmasked phone numbers; share it only "
            "with the team sending the reminders and delete it after the campaign"
        )
    return 0
