"""A self-contained HTML report of an investigation, and ``forensics report``.

:func:`build_report` returns one HTML page: the leak path and how sure we
are, the suspects with every piece of evidence (file and row), the paths
that explain them, the charts of :mod:`forensics.views.charts` (plotly.js inlined
once, nothing fetched from the network), what was ruled out, clock offsets,
the complaints, and the inputs with their SHA-256 and quarantine counts,
the ids missing from their registry and the descriptive values the format
does not list (kept, and used).

Everything that came from the case is escaped (:func:`forensics.privacy.escape`),
buyers' names, phones and addresses are masked (and so are staff names),
links in complaint text are defanged (``hxxps://evil[.]example``), and a
Content-Security-Policy allows only the page's own scripts, by hash: even
a string that escaped escaping could not run.

:func:`run_report` is the CLI entry: it investigates, re-verifies the input
hashes, and writes ``findings.json``, ``report.html`` and static charts.
"""

from __future__ import annotations

import base64
import hashlib
import re
import sys
import time
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path

import plotly.graph_objects as go
import plotly.io as pio
import polars as pl

from .. import __version__
from ..case.custody import output_folder
from ..case.localtime import local_text
from ..findings import Findings
from ..privacy import PERSONAL_COLUMNS, escape, mask_name, mask_phone_numbers, mask_value
from ..views import charts
from ..vocab import VectorKind

__all__ = [
    "STATIC_CHARTS",
    "build_report",
    "defang",
    "report_figures",
    "run_report",
    "write_static_charts",
]

STATIC_CHARTS: dict[str, tuple[str, ...]] = {
    "timeline": ("png", "svg"),
    "complaints": ("png",),
    "coverage": ("png",),
    "evidence-graph": ("png",),
}
"""Charts written beside report.html by :func:`run_report`, and their formats."""

MAX_COMPLAINTS_SHOWN = 200
MAX_QUARANTINE_SHOWN = 50

KIND_WORDS: dict[str, str] = {k.value: k.wording for k in VectorKind}

_URL = re.compile(r"(?i)\b(https?|ftp)://([^\s/?#<>\"']+)")
_DEFANGED = {"http": "hxxp", "https": "hxxps", "ftp": "fxp"}
_SCHEME = re.compile(r"(?i)\b(javascript|vbscript|data|file)\s*:")

_CSS = """
body{font-family:"Noto Sans","WenQuanYi Micro Hei",Arial,sans-serif;margin:0 auto;
max-width:1400px;padding:0 24px 48px;color:#222;line-height:1.45}
h1{margin-bottom:0}h2{border-bottom:2px solid #ddd;padding-bottom:4px;margin-top:2em}
.sub{color:#555;margin-top:4px}
.banner{padding:8px 12px;border-radius:4px;margin:12px 0;background:#eef5ee;border:1px solid #9c9}
.banner.reveal{background:#fde8e8;border-color:#d66}
.call{font-size:1.15em;padding:12px 16px;background:#f7f7f7;border-left:5px solid #b2182b}
table{border-collapse:collapse;margin:8px 0;font-size:0.92em}
th,td{border:1px solid #ddd;padding:3px 8px;text-align:left;vertical-align:top}
th{background:#f3f3f3}td.num{text-align:right;font-variant-numeric:tabular-nums}
tr.against td{background:#eef4fb}
code,.mono{font-family:monospace;font-size:0.9em;word-break:break-all}
code.cite{white-space:nowrap;word-break:normal}
.chart{margin:12px 0 24px}.note{color:#555;font-size:0.92em}.suspect{margin-bottom:28px}
"""


# --------------------------------------------------------------------------
# small helpers


def _e(value: object) -> str:
    return escape(value)


def _when(t: datetime | None, tz: str) -> str:
    return local_text(t, tz, "%Y-%m-%d %H:%M:%S", missing="—")


def _table(
    head: Sequence[str], rows: Iterable[Sequence[str]], *, classes: Sequence[str] = ()
) -> str:
    """An HTML table from cells that are already safe HTML."""
    h = "".join(f"<th>{c}</th>" for c in head)
    body = []
    for i, row in enumerate(rows):
        cls = f' class="{classes[i]}"' if i < len(classes) and classes[i] else ""
        body.append(f"<tr{cls}>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>")
    return f"<table><thead><tr>{h}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def defang(text: str) -> str:
    """Links made unclickable the way analysts write them.

    >>> defang("click https://refund.example.top/r?o=1 now")
    'click hxxps://refund[.]example[.]top/r?o=1 now'
    >>> defang("javascript:alert(1)")
    'javascript[:]alert(1)'
    """
    text = _URL.sub(lambda m: f"{_DEFANGED[m[1].lower()]}://{m[2].replace('.', '[.]')}", text)
    return _SCHEME.sub(lambda m: f"{m[1]}[:]", text)


def _scrub(text: str | None, personal: Sequence[tuple[str, str]], *, reveal: bool) -> str:
    """Free text from a buyer, safe to show: personal data masked, links
    defanged, then escaped. ``personal`` holds (column, value) pairs of the
    buyer's own orders, masked wherever the text repeats them."""
    if text is None:
        return ""
    if not reveal:
        for column, value in personal:
            if value and len(value) >= 2 and value in text:
                text = text.replace(value, mask_value(column, value))
        text = mask_phone_numbers(text)
    return _e(defang(text)).replace("\n", "<br>")


# --------------------------------------------------------------------------
# figures


def report_figures(findings: Findings, *, reveal: bool = False) -> dict[str, go.Figure]:
    """The charts of the report, by file stem (see :data:`STATIC_CHARTS`)."""
    return {
        "complaints": charts.complaint_spike(findings, reveal=reveal),
        "timeline": charts.timeline(findings, reveal=reveal),
        "coverage": charts.coverage(findings, reveal=reveal),
        "evidence-graph": charts.evidence_graph(findings, reveal=reveal),
    }


def _figure_parts(name: str, fig: go.Figure) -> tuple[str, str]:
    """The div and the script that draws ``fig`` into it.

    plotly's JSON encoder writes ``<``, ``>`` and ``/`` as ``\\u`` escapes,
    so no string in the figure can close the script element.
    """
    div_id = f"chart-{name}"
    height = int(fig.layout.height or 500)
    div = f'<div class="chart"><div id="{div_id}" style="height:{height}px"></div></div>'
    config = '{"displaylogo":false,"responsive":true}'
    script = (
        f"(function(){{var f={pio.to_json(fig, validate=False)};"
        f'Plotly.newPlot("{div_id}",f.data,f.layout,{config});}})();'
    )
    return div, script


# --------------------------------------------------------------------------
# sections


def _header(findings: Findings, tz: str, *, reveal: bool) -> str:
    meta = findings.case.meta
    banner = (
        '<div class="banner reveal"><b>Personal data REVEALED</b> (report built with '
        "<code>--reveal</code>): handle as sensitive.</div>"
        if reveal
        else '<div class="banner">Personal data masked: buyers\' names, phones and addresses, '
        "and staff names. Text from the case is shown as text; links in it are defanged.</div>"
    )
    return (
        f"<h1>Leak investigation {_e(meta.case_id)}</h1>"
        f'<p class="sub">{_e(meta.title)} — opened {_e(_when(meta.opened_at, tz))}; '
        f"times in {_e(tz)}; generated {datetime.now(UTC):%Y-%m-%d %H:%M} UTC by forensics "
        f"{_e(__version__)}</p>{banner}"
    )


def _verdict(findings: Findings, tz: str) -> str:
    v = findings.vector
    words = KIND_WORDS.get(v.kind, v.kind)
    start, end = _when(v.leak_start, tz), _when(v.leak_end, tz)
    window = f"{start} → {end}" if v.leak_start else "none established"
    path = [
        (label, ", ".join(_e(x) for x in items))
        for label, items in (
            ("machines", v.machines),
            ("accounts", v.accounts),
            ("apps", v.apps),
            ("USB devices", v.devices),
        )
        if items
    ]
    rows = [
        ("leak path", f"<b>{_e(v.kind)}</b>: {_e(words)}"),
        ("confidence", f"{v.confidence:.2f}"),
        ("leak window", _e(window)),
        *path,
    ]
    rationale = "".join(f"<li>{_e(r)}</li>" for r in v.rationale)
    people = _people_sentence(findings)
    return (
        "<h2>Conclusion</h2>"
        f'<p class="call">Leak path: <b>{_e(v.kind)}</b> '
        f"(confidence {v.confidence:.2f}). {people}</p>"
        + _table(("", ""), [(f"<b>{a}</b>", b) for a, b in rows])
        + (f"<p>Why:</p><ul>{rationale}</ul>" if rationale else "")
    )


def _people_sentence(findings: Findings) -> str:
    """A plain sentence on who, if anyone, the evidence names."""
    if findings.suspects:
        top = findings.suspects[0]
        return f"Most likely insider: <b>{_e(top.person_id)}</b> (score {top.score:.3f})."
    v = findings.vector
    if v.kind == VectorKind.THIRD_PARTY_APP:
        apps = ", ".join(_e(a) for a in v.apps) or "a third-party app"
        return (
            f"The evidence names no person: the orders left through {apps}, "
            "which acts on its own, with nobody at a keyboard."
        )
    if v.kind == VectorKind.NONE:
        return (
            "The evidence names no person: no access path concentrates the complained "
            "orders beyond chance."
        )
    return (
        "The evidence names no person: nothing ties anyone to the moments the leak path was opened."
    )


def _suspects(findings: Findings, tz: str, paths: list[list[str]], *, reveal: bool) -> str:
    if not findings.suspects:
        return f"<h2>Suspects</h2><p>{_people_sentence(findings)}</p>"
    names = _staff_names(findings, reveal=reveal)
    parts = ["<h2>Suspects</h2>"]
    for i, s in enumerate(findings.suspects):
        name = f" {_e(names[s.person_id])}" if s.person_id in names else ""
        staff = "" if s.on_staff else " — not on the staff list"
        head = (
            f"<h3>{i + 1}. {_e(s.person_id)}{name} — score {s.score:.3f}"
            f" ({_e(s.role or 'role unknown')}{staff})</h3>"
        )
        said = findings.notes.file if findings.notes is not None else None
        recorded = [e for e in s.evidence if e.source != said]
        statements = [e for e in s.evidence if e.source == said]
        for_, against = (
            _evidence_rows(recorded, "for", tz),
            _evidence_rows(recorded, "against", tz),
        )
        body = [head, f"<p>Evidence for ({len(for_)} items):</p>"]
        body.append(_evidence_table(for_) if for_ else "<p>none</p>")
        body.append(f"<p>Evidence against ({len(against)} items):</p>")
        body.append(_evidence_table(against, against=True) if against else "<p>none</p>")
        if statements:  # the investigator's word, kept apart from the record
            body.append(f"<p>Investigator statements ({len(statements)}):</p>")
            body.append(
                _evidence_table(
                    _evidence_rows(statements, "for", tz)
                    + _evidence_rows(statements, "against", tz)
                )
            )
        explained = paths[i] if i < len(paths) else []
        if explained:
            items = "".join(f"<li><span class='mono'>{_e(p)}</span></li>" for p in explained)
            body.append(f"<p>How the complaints lead to {_e(s.person_id)}:</p><ol>{items}</ol>")
        parts.append(f'<div class="suspect">{"".join(body)}</div>')
    return "".join(parts)


def _review(as_dict: dict) -> str:
    """What to check next, and what became of the investigator's notes."""
    items = as_dict.get("to_review") or []
    rows = [
        (
            str(i["priority"]),
            _e(i["question"]),
            f'<code class="cite">{_e(i["source"])}:{i["row"]}</code>' if i.get("row") else "",
            _e(i["why"]),
        )
        for i in items
    ]
    part = "<h2>What to check next</h2>" + (
        _table(("priority", "question", "file:row", "why it matters"), rows)
        if rows
        else "<p>Nothing the evidence points to is left to settle.</p>"
    )
    notes = as_dict.get("notes") or []
    if notes:
        rows = [
            (
                f'<code class="cite">{_e(n["source"])}:{n["row"]}</code>',
                _e(n["kind"]),
                _e(n["status"]),
                _e(n["detail"]),
            )
            for n in notes
        ]
        part += (
            "<h2>Investigator notes</h2><p>Statements, not records: each was checked "
            "against the evidence before it counted.</p>"
        )
        part += _table(("note", "kind", "status", "what it says or why not"), rows)
    return part


def _evidence_rows(evidence, direction: str, tz: str) -> list[tuple[str, ...]]:
    return [
        (
            _e(ev.kind),
            _e(ev.summary),
            f'<code class="cite">{_e(ev.source)}:{ev.row}</code>',
            _e(_when(ev.at, tz)),
            f"{ev.weight:g}",
        )
        for ev in evidence
        if ev.direction == direction
    ]


def _evidence_table(rows, *, against: bool = False) -> str:
    head = ("kind", "what the row says", "file:row", "when", "likelihood ratio")
    return _table(head, rows, classes=["against" if against else ""] * len(rows))


def _staff_names(findings: Findings, *, reveal: bool) -> dict[str, str]:
    staff = findings.case.staff.select("person_id", "name").drop_nulls()
    return {p: (n if reveal else mask_name(n)) for p, n in staff.iter_rows()}


def _charts_section(divs: dict[str, str]) -> str:
    titles = {
        "complaints": "Complaints per day",
        "timeline": "Timeline",
        "coverage": "Common points",
        "evidence-graph": "Evidence graph",
    }
    return "".join(f"<h2>{titles.get(k, _e(k))}</h2>{div}" for k, div in divs.items())


def _vectors(vectors: list[dict]) -> str:
    if not vectors:
        return "<h2>Significant paths</h2><p>No access path is significant.</p>"
    head = (
        "level",
        "id",
        "coverage",
        "lift",
        "p-value",
        "route",
        "complained / exposed",
        "first exposure",
    )
    rows = [
        (
            _e(v["level"]),
            f"<span class='mono'>{_e(v['id'])}</span>",
            f"{v['coverage']:.1%}",
            f"{v['lift']:.2f}",
            f"{v['p_value']:.2g}",
            _e(v["route"]),
            f"{v['hits']} / {v['exposed']}",
            _e(v["first_exposure"] or "—"),
        )
        for v in vectors
    ]
    return "<h2>Significant paths</h2>" + _table(head, rows)


def _ruled_out(findings: Findings) -> str:
    if not findings.ruled_out:
        return "<h2>Ruled out</h2><p>Nothing was explicitly ruled out.</p>"
    items = "".join(f"<li>{_e(r)}</li>" for r in findings.ruled_out)
    return f"<h2>Ruled out</h2><ul>{items}</ul>"


def _clock(findings: Findings) -> str:
    offsets = list(findings.clock_offsets.values())
    if not offsets:
        return (
            "<h2>Clock offsets</h2><p>No source is marked unsynchronized: every clock is "
            "taken as the back-office clock.</p>"
        )
    head = (
        "file",
        "offset (source − back office)",
        "method",
        "confidence",
        "pairs",
        "support",
        "spread (s)",
    )
    rows = [
        (
            f"<code>{_e(o.file)}</code>",
            f"<b>{_e(o.text)}</b>",
            _e(o.method),
            f"{o.confidence:.2f}",
            str(o.pairs),
            f"{o.support:g}",
            f"{o.spread_s:g}",
        )
        for o in offsets
    ]
    return (
        "<h2>Clock offsets</h2><p>Times of these files are corrected by the offset "
        "everywhere in this report.</p>" + _table(head, rows)
    )


def _complaints(findings: Findings, tz: str, *, reveal: bool) -> str:
    r, c = findings.rate, findings.complaints
    spike = (
        f"{r.spike_complaints} complaints on spike days {r.spike_start} – {r.spike_end} "
        f"(about {r.excess:.0f} above the background, p = {r.p_value:.2g})"
        if r.has_spike
        else "no spike above the background"
    )
    cats = c.group_by("category").len().sort(["len", "category"], descending=[True, False])
    cat_text = ", ".join(f"{_e(k or 'unknown')} {n}" for k, n in cats.iter_rows())
    summary = (
        f"<p>{c.height} complaints, {_e(r.dating)}; background {r.background_per_day:.2f}/day; "
        f"{_e(spike)}.</p><p>By category: {cat_text}.</p>"
    )
    return "<h2>Complaints</h2>" + summary + _complaint_table(findings, tz, reveal=reveal)


def _complaint_table(findings: Findings, tz: str, *, reveal: bool) -> str:
    case = findings.case
    raw = case.complaints.select(
        "complaint_id", "buyer_id", "order_id", "received_at", "category", "text", "quoted_fields"
    )
    shown = raw.sort("received_at").head(MAX_COMPLAINTS_SHOWN)
    personal = _buyers_personal(case, shown["buyer_id"].drop_nulls().unique().to_list())
    rows = [
        (
            f"<code>{_e(x['complaint_id'])}</code>",
            _e(_when(x["received_at"], tz)),
            _e(x["category"]),
            f"<code>{_e(x['order_id'] or '—')}</code>",
            _e((x["quoted_fields"] or "").replace(";", ", ")),
            _scrub(x["text"], personal.get(x["buyer_id"], ()), reveal=reveal),
        )
        for x in shown.iter_rows(named=True)
    ]
    more = (
        f'<p class="note">First {MAX_COMPLAINTS_SHOWN} of {raw.height} shown.</p>'
        if raw.height > MAX_COMPLAINTS_SHOWN
        else ""
    )
    head = ("complaint", "received", "category", "order", "scammer knew", "buyer's text")
    return _table(head, rows) + more


def _buyers_personal(case, buyers: list[str]) -> dict[str, list[tuple[str, str]]]:
    """(column, value) of personal data per buyer, to mask it in their text."""
    cols = [c for c in PERSONAL_COLUMNS if c in case.orders.columns]
    if not cols or not buyers:
        return {}
    orders = case.orders.filter(pl.col("buyer_id").is_in(buyers)).select("buyer_id", *cols)
    out: dict[str, list[tuple[str, str]]] = {}
    for row in orders.iter_rows(named=True):
        pairs = [(c, str(row[c])) for c in cols if row[c] is not None]
        out.setdefault(row["buyer_id"], []).extend(pairs)
    # Longest first, so an address is masked before a name inside it.
    return {b: sorted(set(p), key=lambda cv: -len(cv[1])) for b, p in out.items()}


def _inputs(findings: Findings) -> str:
    head = (
        "file",
        "table",
        "format",
        "encoding",
        "bytes",
        "rows read",
        "accepted",
        "quarantined",
        "SHA-256",
    )
    rows = [
        (
            f"<code>{_e(f.file)}</code>",
            _e(f.table),
            _e(f.format),
            _e(f.encoding or ""),
            str(f.size),
            str(f.rows),
            str(f.accepted),
            str(f.quarantined),
            f"<code>{_e(f.sha256)}</code>",
        )
        for f in findings.case.inputs
    ]
    return (
        "<h2>Inputs</h2><p>The files as read; the report was written only after they were "
        "hashed again and found unchanged.</p>" + _table(head, rows)
    )


def _quarantine(findings: Findings, *, reveal: bool) -> str:
    q = findings.case.quarantine
    if q.is_empty():
        part = "<p>No row was quarantined.</p>"
    else:
        counts = q.group_by("file", "reason").len().sort(["file", "len"], descending=[False, True])
        part = _table(
            ("file", "reason", "rows"),
            [(f"<code>{_e(f)}</code>", _e(r), str(n)) for f, r, n in counts.iter_rows()],
        )
        rows = [
            (
                f"<code>{_e(x['file'])}:{x['row']}</code>",
                _e(x["column"] or "(row)"),
                _e(x["reason"]),
                _quarantined_value(x, reveal=reveal, orders_file=findings.case.source("orders")),
            )
            for x in q.head(MAX_QUARANTINE_SHOWN).iter_rows(named=True)
        ]
        part += _table(("where", "column", "reason", "value"), rows)
        if q.height > MAX_QUARANTINE_SHOWN:
            part += f'<p class="note">First {MAX_QUARANTINE_SHOWN} of {q.height} shown.</p>'
    return "<h2>Quarantine</h2>" + part + _unregistered(findings) + _unlisted(findings)


def _quarantined_value(row: dict, *, reveal: bool, orders_file: str) -> str:
    """A damaged cell, shown unless it may hold a buyer's personal data."""
    value = row["value"]
    if value is None:
        return ""
    # The orders table may live under any file name case.toml gives it.
    if not reveal and row["file"] == orders_file:
        column = row["column"]
        if column in PERSONAL_COLUMNS:
            return f"<code>{_e(mask_value(column, value))}</code>"
        if column is None:
            return "<i>withheld (a row of orders may hold personal data)</i>"
    shown = value if len(value) <= 120 else value[:119] + "…"
    return f"<code>{_e(shown)}</code>"


def _unregistered(findings: Findings) -> str:
    u = findings.case.unregistered
    if u.is_empty():
        return "<p>Every id used in the logs is registered.</p>"
    counts = u.group_by("file", "column", "value", "references").len().sort("len", descending=True)
    rows = [
        (f"<code>{_e(f)}</code>", _e(c), f"<code>{_e(v)}</code>", _e(r), str(n))
        for f, c, v, r, n in counts.head(MAX_QUARANTINE_SHOWN).iter_rows()
    ]
    return (
        "<p>Ids used in the logs but missing from their registry (possibly evidence):</p>"
        + _table(("file", "column", "id", "missing from", "rows"), rows)
    )


def _unlisted(findings: Findings) -> str:
    u = findings.case.unlisted
    if u.is_empty():
        return (
            "<p>Every complaint category, camera activity, account kind and badge "
            "direction and result is one the format lists.</p>"
        )
    counts = (
        u.group_by("file", "column", "value")
        .agg(pl.len().alias("rows"), pl.col("row").min().alias("first"))
        .sort(["rows", "file", "column", "value"], descending=[True, False, False, False])
    )
    rows = [
        (
            f"<code>{_e(f)}</code>",
            _e(c),
            f"<code>{_e(v)}</code>",
            str(n),
            f"<code>{_e(f)}:{r}</code>",
        )
        for f, c, v, n, r in counts.head(MAX_QUARANTINE_SHOWN).iter_rows()
    ]
    more = (
        f'<p class="note">First {MAX_QUARANTINE_SHOWN} of {counts.height} values shown.</p>'
        if counts.height > MAX_QUARANTINE_SHOWN
        else ""
    )
    return (
        "<p>Values the case format does not list, kept: the rows are accepted and used "
        "in the investigation:</p>"
        + _table(("file", "column", "value", "rows", "first at"), rows)
        + more
    )


def _settings(findings: Findings) -> str:
    rows = [(_e(k), _e(v)) for k, v in findings.settings.items()]
    return "<h2>Settings</h2>" + _table(("setting", "value"), rows) if rows else ""


# --------------------------------------------------------------------------
# the page


def _page(title: str, body: str, library: str, scripts: Sequence[str]) -> str:
    """The HTML document: ``library`` in the head, ``scripts`` at the end of
    the body, each inline script allowed by its hash and nothing else."""
    hashes = " ".join(_script_hash(s) for s in (library, *scripts))
    csp = (
        f"default-src 'none'; script-src {hashes}; style-src 'unsafe-inline'; "
        "img-src data: blob:; font-src data:; connect-src 'none'; base-uri 'none'; "
        "form-action 'none'"
    )
    tail = "".join(f"<script>{s}</script>" for s in scripts)
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{csp}">'
        '<meta name="referrer" content="no-referrer">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{title}</title><style>{_CSS}</style><script>{library}</script>"
        f"</head><body>{body}{tail}</body></html>\n"
    )


def _script_hash(script: str) -> str:
    digest = hashlib.sha256(script.encode("utf-8")).digest()
    return f"'sha256-{base64.b64encode(digest).decode()}'"


def build_report(findings: Findings, *, reveal: bool = False) -> str:
    """The investigation as one self-contained HTML page.

    Parameters
    ----------
    findings : Findings
        From :func:`forensics.investigate`.
    reveal : bool
        Show personal data (buyers' names, phones, addresses; staff names)
        unmasked. Case text is escaped either way.

    Returns
    -------
    str
        The HTML document: plotly.js inlined once, no external resource,
        a Content-Security-Policy that lets only its own scripts run.
    """
    from plotly.offline import get_plotlyjs

    from ..case import CaseError

    changed = findings.case.verify()
    if changed:  # never describe evidence that is no longer what is on disk
        raise CaseError(
            "input changed since it was read, no report built: " + ", ".join(changed),
            file=changed[0],
        )
    tz = findings.case.timezone()
    as_dict = findings.to_dict()
    paths = [s.get("paths") or [] for s in as_dict["suspects"]]
    divs, scripts = {}, []
    for name, fig in report_figures(findings, reveal=reveal).items():
        divs[name], script = _figure_parts(name, fig)
        scripts.append(script)
    body = "".join(
        [
            _header(findings, tz, reveal=reveal),
            _verdict(findings, tz),
            _suspects(findings, tz, paths, reveal=reveal),
            _review(as_dict),
            _charts_section(divs),
            _vectors(as_dict["vectors"]),
            _ruled_out(findings),
            _clock(findings),
            _complaints(findings, tz, reveal=reveal),
            _inputs(findings),
            _quarantine(findings, reveal=reveal),
            _settings(findings),
        ]
    )
    title = f"Leak investigation {_e(findings.case.meta.case_id)}"
    return _page(title, body, get_plotlyjs(), scripts)


# --------------------------------------------------------------------------
# CLI


def run_report(
    case_path: Path,
    out: Path,
    *,
    reveal: bool = False,
    progress: bool = True,
    notes: Path | None = None,
) -> int:
    """CLI entry (``forensics report CASE --out DIR``).

    Loads and investigates the case, re-hashes its inputs, then writes
    ``DIR/findings.json``, ``DIR/report.html`` and the charts of
    :data:`STATIC_CHARTS` as images (skipped, with the reason printed,
    when no Chromium is available).

    Returns
    -------
    int
        0 on success (images skipped included); 3 when an input file
        changed while it was read.

    Raises
    ------
    OutputInCaseError
        ``out`` is inside the case folder (the command line exits 2).
    """
    from ..case import load
    from ..case.notes import load_notes
    from ..investigate import investigate

    case_path, out = Path(case_path), output_folder(out, case_path, create=False)
    findings = investigate(
        load(case_path, progress=progress),
        progress=progress,
        notes=load_notes(notes) if notes is not None else None,
    )
    changed = findings.case.verify()
    if changed:
        print(
            "forensics: input changed since it was read, no report written: "
            + ", ".join(changed)
            + " (re-run on a stable copy of the case)",
            file=sys.stderr,
        )
        return 3
    out.mkdir(parents=True, exist_ok=True)
    (out / "findings.json").write_text(findings.to_json(), encoding="utf-8")
    (out / "report.html").write_text(build_report(findings, reveal=reveal), encoding="utf-8")
    written, skipped = write_static_charts(findings, out, reveal=reveal)
    v = findings.vector
    print(f"vector: {v.kind} (confidence {v.confidence})")
    print(f"report written to {out / 'report.html'} (findings in {out / 'findings.json'})")
    if written:
        print("charts: " + ", ".join(p.name for p in written))
    if skipped:
        print(f"static chart images skipped: {skipped}")
    if reveal:
        print("SENSITIVE: the report shows personal data unmasked (--reveal)")
    return 0


def write_static_charts(
    findings: Findings, out: Path, *, reveal: bool = False
) -> tuple[list[Path], str | None]:
    """Write :data:`STATIC_CHARTS` into ``out``; return the files and, if
    images could not be drawn, why."""
    figures = report_figures(findings, reveal=reveal)
    jobs = [(figures[name], out / name, formats) for name, formats in STATIC_CHARTS.items()]
    started = time.time() - 1  # file times are coarser than the clock
    try:
        # One Chromium for every image: starting it is most of the time.
        return charts.export_many(jobs), None
    except charts.ChartExportError as exc:
        targets = [out / f"{name}.{f}" for name, formats in STATIC_CHARTS.items() for f in formats]
        fresh = [t for t in targets if t.is_file() and t.stat().st_mtime >= started]
        return [t for t in fresh if t.stat().st_size > 0], str(exc)
