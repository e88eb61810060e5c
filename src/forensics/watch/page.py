"""``audit.html``: the top of ``people.csv`` and each person's activity chart.

One self-contained page, built with the investigation report's own page
helpers (:mod:`forensics.report`): plotly.js inlined once, every case text
escaped, a Content-Security-Policy that lets only the page's own scripts
run. Staff are named by their ids only, as in ``people.csv``.
"""

from __future__ import annotations

from ..response.report import _e, _figure_parts, _page, _table
from .charts import activity_vs_baseline
from .result import Audit

__all__ = ["audit_html"]


def audit_html(a: Audit, *, tz: str = "UTC", top: int = 15, charted: int = 5) -> str:
    """The audit page: people by risk (with reasons), their charts, issue counts.

    Parameters
    ----------
    a : Audit
        :func:`forensics.watch.audit`.
    tz : str
        The case's zone (times in the charts).
    top, charted : int
        How many people to list, and to chart.
    """
    from plotly.offline import get_plotlyjs

    rows = []
    for r in a.people.head(top).iter_rows(named=True):
        reasons = "<br>".join(_e(x) for x in r["reasons"].split(" | "))
        rows.append(
            (str(r["rank"]), _e(r["person_id"]), _e(r["role"]), f"{r['score']:.3f}", reasons)
        )
    people = (
        _table(("rank", "person", "role", "score", "reasons (file and row)"), rows)
        if rows
        else "<p>No person stands out from their baseline.</p>"
    )
    div, script = _figure_parts("watch", activity_vs_baseline(a.watch, top=charted, tz=tz))
    counts = a.issues.group_by("severity", maintain_order=True).len().sort("severity").rows()
    issues = ", ".join(f"{n} {_e(s)}" for s, n in counts) or "none"
    body = (
        f"<h1>Audit {_e(a.case_id)}</h1>"
        f"<h2>People by risk (first {min(top, a.people.height)} of {a.people.height})</h2>"
        "<p>Each person against their own and their role's baseline "
        "(docs/method.md, section 9). The full list is <code>people.csv</code>.</p>"
        f"{people}<h2>Activity against the baseline</h2>{div}"
        f"<h2>Account hygiene</h2><p>Issues: {issues}; see <code>audit.md</code> and "
        "<code>issues.csv</code>.</p>"
    )
    return _page(f"Audit {_e(a.case_id)}", body, get_plotlyjs(), [script])
