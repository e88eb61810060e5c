"""What the investigation found: :class:`Findings`, the hub every output reads.

:func:`forensics.investigate` builds one; the report, the response, the
charts, the widgets and the notebooks read it and recompute nothing it
holds. :meth:`Findings.to_dict` / :meth:`Findings.to_json` are findings.json
(the contract in CASE_FORMAT.md, format :data:`FORMAT`).

Besides the conclusions (the leak path, the suspects, the significant paths)
it keeps the frames behind them and what the outputs need again: the order
numbering (:attr:`Findings.order_index`) and the first sighting of each USB
device and process on each machine (:attr:`Findings.infection_starts`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import polars as pl

from . import __version__
from .analysis.clock import ClockOffset
from .analysis.complaints import ComplaintRate, specific_orders
from .analysis.exposure import OrderIndex
from .analysis.graph import explain
from .analysis.orderage import AgeModel
from .analysis.review import NoteOutcome
from .analysis.suspects import Suspect
from .analysis.timeline import timeline as build_timeline
from .analysis.vector import VectorCall
from .case import Case
from .case.localtime import local_iso
from .case.notes import Notes
from .case.validation import flagged_lines
from .privacy import json_embeddable

if TYPE_CHECKING:  # networkx is imported when a graph is built
    import networkx as nx

__all__ = ["Findings", "FORMAT", "MAX_VECTORS"]

FORMAT = "forensics.findings/1"
MAX_VECTORS = 50


@dataclass(frozen=True)
class Findings:
    """Everything the investigation concluded, and the frames behind it."""

    case: Case
    vector: VectorCall
    suspects: tuple[Suspect, ...]
    points: pl.DataFrame  # every candidate path, most significant first
    path_members: pl.DataFrame  # machines/accounts/apps of the leak path, on the path's events
    clock_offsets: dict[str, ClockOffset]
    complaints: pl.DataFrame  # linked complaints
    complaint_orders: pl.DataFrame
    rate: ComplaintRate
    sessions: pl.DataFrame
    events: pl.DataFrame
    members: pl.DataFrame  # level, cand, ev: which events make up each significant path
    hits: pl.DataFrame
    indicators: pl.DataFrame
    ruled_out: tuple[str, ...]
    # first sighting of each USB device / process per machine
    # (forensics.analysis.exposure.infection_starts: "device", "process")
    infection_starts: dict[str, pl.DataFrame]
    order_index: OrderIndex  # the orders numbered by placed_at
    settings: dict[str, Any] = field(default_factory=dict)
    age_model: AgeModel | None = None
    """How background complaints lean by order age (the overlap test's null)."""
    unknown_extent: pl.DataFrame = field(default_factory=pl.DataFrame)
    """Exports and pulls that named neither an order nor a range."""
    notes: Notes | None = None
    """The investigator's notes the investigation read (beside the case)."""
    note_outcomes: tuple[NoteOutcome, ...] = ()
    """What became of each note: applied, contradicted, unmatched, recorded."""
    to_review: tuple[dict, ...] = ()
    """What to settle next, most decisive first (:func:`forensics.analysis.review.to_review`)."""
    graph: nx.MultiDiGraph | None = None
    _timeline: pl.DataFrame | None = field(default=None, repr=False, compare=False)

    @property
    def timeline(self) -> pl.DataFrame:
        """Every event of the case on the back-office clock
        (:func:`forensics.analysis.timeline.timeline`), built when first asked for:
        the investigation itself reads only a few of the access events."""
        if self._timeline is None:
            object.__setattr__(self, "_timeline", build_timeline(self.case, self.clock_offsets))
        return self._timeline

    @property
    def too_vague(self) -> int:
        """Complaints the overlap tests did not count: they name only a buyer
        with more than a few orders (:func:`.analysis.complaints.specific_orders`)."""
        every = self.complaint_orders.get_column("complaint_id").n_unique()
        return every - specific_orders(self.complaint_orders).get_column("complaint_id").n_unique()

    @property
    def vectors(self) -> pl.DataFrame:
        """The significant paths reported in findings.json."""
        sig = self.points.filter(pl.col("significant"))
        path = self.path_members.filter(pl.col("significant"))
        # A member of the leak path is reported with its figures on the path.
        sig = sig.join(path.select("level", "id"), on=["level", "id"], how="anti")
        # Every member of the leak path, then the strongest other points.
        order = dict(
            by=["strength", "level", "id"], descending=[True, False, False], nulls_last=True
        )
        others = sig.sort(**order).head(MAX_VECTORS)
        return pl.concat([path.sort(**order), others], how="diagonal_relaxed")

    def to_dict(self) -> dict:
        """findings.json as a dict (CASE_FORMAT.md). Each input also counts
        the lines ``forensics validate`` lists as kept but worth a look:
        ``unregistered`` ids and ``unlisted`` descriptive values."""
        tz = self.case.timezone()
        unregistered, unlisted = flagged_lines(self.case)

        def iso(t):
            return local_iso(t, tz)

        return {
            "format": FORMAT,
            "case_id": self.case.meta.case_id,
            "vector": {"kind": self.vector.kind, "confidence": self.vector.confidence},
            "suspects": [self._suspect(s, iso) for s in self.suspects],
            "vectors": [
                {
                    "level": r["level"],
                    "id": r["id"],
                    "coverage": round(r["coverage"], 4),
                    "lift": round(r["lift"], 3),
                    "p_value": float(f"{r['p_value']:.3g}"),
                    "log10_p": round(r["log10_p"], 2),
                    "route": "onset" if r.get("onset") else "association",
                    "exposed": r["exposed"],
                    "hits": r["hits"],
                    "first_exposure": iso(r["first_exposure"]),
                }
                for r in self.vectors.iter_rows(named=True)
            ],
            "leak_window": {"start": iso(self.vector.leak_start), "end": iso(self.vector.leak_end)},
            "leak_path": {
                "machines": list(self.vector.machines),
                "accounts": list(self.vector.accounts),
                "apps": list(self.vector.apps),
                "devices": list(self.vector.devices),
                "rationale": list(self.vector.rationale),
            },
            "clock_offsets": {o.file: o.text for o in self.clock_offsets.values()},
            "clock_offset_detail": {
                o.file: {
                    "offset": o.text,
                    "pairs": o.pairs,
                    "support": o.support,
                    "spread_s": o.spread_s,
                    "confidence": o.confidence,
                    "method": o.method,
                }
                for o in self.clock_offsets.values()
            },
            "complaints": {
                "total": self.complaints.height,
                "background_per_day": round(self.rate.background_per_day, 3),
                "spike_start": str(self.rate.spike_start) if self.rate.spike_start else None,
                "spike_end": str(self.rate.spike_end) if self.rate.spike_end else None,
                "spike_complaints": self.rate.spike_complaints,
                # The days count complaints by when the scammer called
                # (contacted_at, where the buyer said) or when received.
                "dated_by": "contacted_at" if self.rate.dated_by == "deadline" else "received_at",
                # Complaints naming only a buyer with more than a few orders:
                # not counted by the overlap tests (complaints.specific_orders).
                "too_vague": self.too_vague,
                "background_by_age": (
                    {
                        "beta": self.age_model.beta,
                        "z": self.age_model.z,
                        "complaints": self.age_model.complaints,
                    }
                    if self.age_model is not None
                    else None
                ),
            },
            "ruled_out": list(self.ruled_out),
            "unknown_extent": self._unknown_extent(iso),
            "to_review": list(self.to_review),
            "notes": [o.as_dict(self.notes.file) for o in self.note_outcomes] if self.notes else [],
            "inputs": [
                {
                    "file": f.file,
                    "sha256": f.sha256,
                    "rows": f.rows,
                    "quarantined": f.quarantined,
                    "unregistered": unregistered.get(f.file, 0),
                    "unlisted": unlisted.get(f.file, 0),
                }
                for f in self.case.inputs
            ]
            + (
                [
                    {
                        "file": self.notes.file,
                        "sha256": self.notes.sha256,
                        "rows": len(self.notes.notes),
                        "quarantined": 0,
                        "role": "investigator notes (outside the case)",
                    }
                ]
                if self.notes is not None
                else []
            ),
            "tool": {"name": "forensics", "version": __version__, "settings": self.settings},
        }

    def _suspect(self, s: Suspect, iso) -> dict:
        """One suspect of findings.json; ``explained`` is False when no path
        of the evidence graph leads from the complaints to them."""
        paths = explain(self.graph, s.person_id) if self.graph is not None else []
        return {
            "person_id": s.person_id,
            "score": s.score,
            "role": s.role,
            "evidence": [e.as_dict() | {"at": iso(e.at)} for e in s.evidence],
            "paths": paths,
            "explained": bool(paths),
        }

    def _unknown_extent(self, iso, *, examples: int = 10) -> dict:
        """Bulk rows of unknown extent: how many, under which accounts, the first few."""
        rows = self.unknown_extent
        if rows.is_empty():
            return {"rows": 0, "accounts": [], "examples": []}
        src = self.case.source("access")
        return {
            "rows": rows.height,
            "accounts": sorted(set(rows["account_id"].drop_nulls().to_list())),
            "examples": [
                {
                    "source": src,
                    "row": r["_row"],
                    "at": iso(r["at"]),
                    "account_id": r["account_id"],
                    "action": r["action"],
                }
                for r in rows.head(examples).iter_rows(named=True)
            ],
        }

    def to_json(self) -> str:
        """findings.json; ``<``, ``>`` and ``&`` escaped so it embeds safely in a page."""
        text = json.dumps(self.to_dict(), indent=2, ensure_ascii=False, sort_keys=False)
        return json_embeddable(text) + "\n"
