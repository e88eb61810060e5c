"""The watch: people ranked against their own baseline, and account hygiene.

``forensics audit CASE --out DIR`` runs both, before any complaint:

- :mod:`~forensics.watch.activity` ties every source's rows to people;
- :mod:`~forensics.watch.baseline` learns each person's (and role's) usual
  hours and rates from the case's own history;
- :mod:`~forensics.watch.signals` judges each day against them;
- :mod:`~forensics.watch.risk` combines the signals into one ranked risk;
- :mod:`~forensics.watch.hygiene` keeps the rule-by-rule account checks;
- :mod:`~forensics.watch.charts` draws a person's activity against their
  baseline; :mod:`~forensics.watch.run` writes the outputs.
"""

from .hygiene import (
    BROAD_SCOPE,
    SEVERITY,
    AuditSettings,
    Severity,
    app_authorizations,
    broad_scopes,
    export_rights,
    issues,
    off_hours_access,
    one_person_one_account,
    stale_accounts,
    usb_devices,
)
from .risk import Watch, WatchSettings, combine, watch
from .run import Audit, audit, audit_markdown, run_audit, summary_text, write_audit
from .signals import SIGNALS

__all__ = [
    "Audit",
    "AuditSettings",
    "BROAD_SCOPE",
    "SEVERITY",
    "SIGNALS",
    "Severity",
    "Watch",
    "WatchSettings",
    "app_authorizations",
    "audit",
    "audit_markdown",
    "broad_scopes",
    "combine",
    "export_rights",
    "issues",
    "off_hours_access",
    "one_person_one_account",
    "run_audit",
    "stale_accounts",
    "summary_text",
    "usb_devices",
    "watch",
    "write_audit",
]
