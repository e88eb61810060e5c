"""The audit's result: every check's table, the issues and the watch."""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from .risk import Watch

__all__ = ["Audit"]


@dataclass(frozen=True)
class Audit:
    """The audit's tables: one per check, the issues drawn from them, and the watch."""

    case_id: str
    accounts: pl.DataFrame  # one person, one account
    stale: pl.DataFrame
    exports: pl.DataFrame
    apps: pl.DataFrame
    off_hours: pl.DataFrame
    usb: pl.DataFrame
    issues: pl.DataFrame
    watch: Watch

    @property
    def people(self) -> pl.DataFrame:
        """People ranked by risk (``people.csv``)."""
        return self.watch.people

    def tables(self) -> dict[str, pl.DataFrame]:
        """Every table by the name of the CSV it is written to."""
        return {
            "people": self.watch.people,
            "signals": self.watch.signals,
            "one_person_one_account": self.accounts,
            "stale_accounts": self.stale,
            "export_rights": self.exports,
            "app_authorizations": self.apps,
            "off_hours_access": self.off_hours,
            "usb_devices": self.usb,
            "issues": self.issues,
        }
