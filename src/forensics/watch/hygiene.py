"""Account hygiene: the weaknesses a leak goes through, found before one.

The rule-by-rule half of the watch (``forensics audit``): it reads the case's
registries and logs and needs no complaint. Each check is a function
returning a frame with the file and row behind every line and its own
``severity`` column (a :class:`Severity`, decided from the check's fields);
:func:`issues` gathers them into one list, most severe first. The other
half, people ranked against their own baseline, is
:mod:`forensics.watch.risk`.

=========================  ===================================================
check                      what it flags
=========================  ===================================================
one person, one account    an account used while someone other than its
                           owner was at the keyboard, or while its owner was
                           seen elsewhere (camera); an enabled back-office
                           account with no owner; a person holding several
                           back-office accounts
stale accounts             accounts of people who left that are still
                           enabled (or were disabled only later), and any
                           use after the owner left
export rights              may export but never did; exported without the
                           right; exports only outside the shift (one in bulk)
app authorizations         every app, active or not, its scopes (broad:
                           wildcards, buyers' contact data, export), its
                           pulls, and pulls after it was revoked
off-hours access           per account, the share of order access outside the
                           owner's shift (the business hours when the staff
                           list gives none) or on closed days
USB devices                devices connected to several machines, first seen
                           after the baseline (the first ``baseline_days`` of
                           endpoint logs), or followed by an autorun entry
=========================  ===================================================
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum

import polars as pl

from ..analysis.indicators import shift_windows
from ..case import Case, typed_like
from ..case.localtime import off_shift

__all__ = [
    "AuditSettings",
    "Severity",
    "SEVERITY",
    "BROAD_SCOPE",
    "broad_scopes",
    "one_person_one_account",
    "stale_accounts",
    "export_rights",
    "app_authorizations",
    "off_hours_access",
    "usb_devices",
    "issues",
]


class Severity(StrEnum):
    """How urgent an issue is; the members are in order, most severe first."""

    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"


SEVERITY: tuple[Severity, ...] = tuple(Severity)
"""Issue severities, most severe first."""


def _sev(severity: Severity) -> pl.Expr:
    return pl.lit(severity.value, pl.String)


BROAD_SCOPE = re.compile(
    r"^(\*|.*\*|.*\.all|.*(buyer|customer|contact|phone|address).*|.*\.export)$"
)
"""A scope beyond what an order-processing app needs: a wildcard, buyers'
personal or contact data, or bulk export. ``orders.read`` alone is what an
ERP or a label printer needs to work, so it is not broad by itself."""


_ISSUE_SCHEMA = {
    "severity": pl.String,
    "check": pl.String,
    "subject": pl.String,
    "finding": pl.String,
    "source": pl.String,
    "row": pl.Int64,
}


def broad_scopes(scopes: str | None) -> list[str]:
    """The broad scopes (:data:`BROAD_SCOPE`) in a scopes cell.

    >>> broad_scopes("orders.read;buyer.contact.read;orders.export")
    ['buyer.contact.read', 'orders.export']
    >>> broad_scopes("orders.read, logistics.write")
    []
    """
    parts = re.split(r"[;,\s]+", (scopes or "").strip().lower())
    return [p for p in parts if p and BROAD_SCOPE.match(p)]


@dataclass(frozen=True)
class AuditSettings:
    """Thresholds of the audit, documented so they can be argued with."""

    baseline_days: int = 7
    """A USB device first seen after this many days of endpoint logs is new."""
    bulk_min: int = 200
    """An export of at least this many orders is a bulk export."""
    grace: timedelta = timedelta(minutes=30)
    """Access this close to a shift's edges is not off-hours."""
    off_hours_share: float = 0.2
    """An account with more of its access off-hours than this is flagged..."""
    off_hours_min: int = 5
    """...when it has at least this many off-hours events."""


# --------------------------------------------------------------------------
# checks


def one_person_one_account(case: Case, found: pl.DataFrame) -> pl.DataFrame:
    """Accounts that are not one person's alone.

    Parameters
    ----------
    case : Case
    found : pl.DataFrame
        :func:`forensics.indicators.indicators` of the case.

    Returns
    -------
    pl.DataFrame
        ``account_id``, ``issue``, ``severity``, ``people`` (``;``-separated),
        ``rows`` (evidence rows), ``source``, ``row`` (the first), ``summary``.
    """
    cam = (
        found.filter(
            pl.col("indicator").is_in(["used_other_account", "owner_elsewhere"])
            & pl.col("account_id").is_not_null()
        )
        .sort("at", "row")
        .group_by("account_id", "indicator", maintain_order=True)
        .agg(
            pl.col("person_id").drop_nulls().unique().sort().str.join(";").alias("people"),
            pl.len().alias("rows"),
            pl.col("source").first(),
            pl.col("row").first(),
            pl.col("summary").first(),
        )
        .with_columns(
            pl.when(pl.col("indicator") == "used_other_account")
            .then(pl.lit("used while someone other than its owner was at the keyboard"))
            .otherwise(pl.lit("used while its owner was seen at another machine"))
            .alias("issue"),
            pl.when(pl.col("indicator") == "used_other_account")
            .then(_sev(Severity.HIGH))
            .otherwise(_sev(Severity.LOW))
            .alias("severity"),
        )
        .drop("indicator")
    )
    src = case.source("accounts")
    app_accounts = case.apps["account_id"].drop_nulls().to_list()
    people_accounts = case.accounts.filter(
        (pl.col("kind").fill_null("") != "app") & ~pl.col("account_id").is_in(app_accounts)
    )
    ownerless = people_accounts.filter(
        pl.col("owner_person_id").is_null() & pl.col("disabled_at").is_null()
    ).select(
        "account_id",
        pl.lit("enabled account with no owner: whoever uses it is not recorded").alias("issue"),
        _sev(Severity.MEDIUM).alias("severity"),
        pl.lit("").alias("people"),
        pl.lit(1, pl.UInt32).alias("rows"),
        pl.lit(src).alias("source"),
        pl.col("_row").alias("row"),
        pl.format(
            "{} kind {}, owner_person_id empty", "account_id", pl.col("kind").fill_null("?")
        ).alias("summary"),
    )
    several = (
        people_accounts.filter(
            pl.col("owner_person_id").is_not_null() & pl.col("disabled_at").is_null()
        )
        .group_by("owner_person_id", maintain_order=True)
        .agg(pl.col("account_id").sort(), pl.col("_row").min(), pl.len().alias("_n"))
        .filter(pl.col("_n") > 1)
        .explode("account_id")
        .select(
            "account_id",
            pl.format("{} holds {} enabled accounts", "owner_person_id", "_n").alias("issue"),
            _sev(Severity.LOW).alias("severity"),
            pl.col("owner_person_id").alias("people"),
            pl.lit(1, pl.UInt32).alias("rows"),
            pl.lit(src).alias("source"),
            pl.col("_row").alias("row"),
            pl.format("owner {}", "owner_person_id").alias("summary"),
        )
    )
    cols = ["account_id", "issue", "severity", "people", "rows", "source", "row", "summary"]
    return pl.concat([cam.select(cols), ownerless.select(cols), several.select(cols)]).cast(
        {"rows": pl.Int64, "row": pl.Int64}
    )


def stale_accounts(case: Case, timeline: pl.DataFrame) -> pl.DataFrame:
    """Accounts of people who left: still enabled, disabled late, used after.

    Returns
    -------
    pl.DataFrame
        ``account_id``, ``owner_person_id``, ``left_on``, ``disabled_at``,
        ``status``, ``uses_after_leaving``, ``severity``, ``first_use_at``, ``source``,
        ``row`` (first use after leaving, else the accounts.csv row),
        ``staff_row``.
    """
    tz = case.timezone()
    left = case.staff.filter(pl.col("left_on").is_not_null()).select(
        pl.col("person_id").alias("owner_person_id"), "left_on", pl.col("_row").alias("staff_row")
    )
    acc = case.accounts.join(left, on="owner_person_id")
    disabled_day = pl.col("disabled_at").dt.convert_time_zone(tz).dt.date()
    acc = acc.filter(pl.col("disabled_at").is_null() | (disabled_day > pl.col("left_on")))
    used = timeline.filter(
        (pl.col("table") == "access")
        | ((pl.col("table") == "logins") & (pl.col("action") == "login"))
    ).select("account_id", "at", "source", "row")
    after = (
        used.join(acc.select("account_id", "left_on"), on="account_id")
        .filter(pl.col("at").dt.convert_time_zone(tz).dt.date() > pl.col("left_on"))
        .sort("at", "row")
        .group_by("account_id", maintain_order=True)
        .agg(
            pl.len().alias("uses_after_leaving"),
            pl.col("at").first().alias("first_use_at"),
            pl.col("source").first().alias("_use_source"),
            pl.col("row").first().alias("_use_row"),
        )
    )
    status = (
        pl.when(pl.col("disabled_at").is_null())
        .then(pl.lit("still enabled"))
        .otherwise(
            pl.format(
                "disabled {} days after the owner left",
                (disabled_day - pl.col("left_on")).dt.total_days(),
            )
        )
    )
    return (
        acc.join(after, on="account_id", how="left")
        .select(
            "account_id",
            "owner_person_id",
            "left_on",
            "disabled_at",
            status.alias("status"),
            pl.col("uses_after_leaving").fill_null(0).cast(pl.Int64),
            pl.when(pl.col("uses_after_leaving").fill_null(0) > 0)
            .then(_sev(Severity.HIGH))
            .otherwise(_sev(Severity.MEDIUM))
            .alias("severity"),
            "first_use_at",
            pl.coalesce("_use_source", pl.lit(case.source("accounts"))).alias("source"),
            pl.coalesce("_use_row", "_row").alias("row"),
            "staff_row",
        )
        .sort("left_on", "account_id")
    )


def _with_shift(case: Case, events: pl.DataFrame | pl.LazyFrame) -> pl.DataFrame | pl.LazyFrame:
    """Events with the owner's shift (business hours for ownerless accounts);
    lazy in, lazy out."""
    tz = case.timezone()
    bs = case.meta.business_start.hour * 60 + case.meta.business_start.minute
    be = case.meta.business_end.hour * 60 + case.meta.business_end.minute
    shifts = shift_windows(case).select(
        pl.col("person_id").alias("owner_person_id"), "shift_start_min", "shift_end_min"
    )
    owners = typed_like(
        case.accounts.select("account_id", "owner_person_id", "kind"), events, "account_id"
    )
    if isinstance(events, pl.LazyFrame):
        owners, shifts = owners.lazy(), shifts.lazy()
    local = pl.col("at").dt.convert_time_zone(tz)
    return (
        events.join(owners, on="account_id", how="left")
        .join(shifts, on="owner_person_id", how="left")
        .with_columns(
            pl.col("shift_start_min").fill_null(bs),
            pl.col("shift_end_min").fill_null(be),
            (local.dt.hour().cast(pl.Int32) * 60 + local.dt.minute().cast(pl.Int32)).alias(
                "local_min"
            ),
            local.dt.weekday().alias("weekday"),
        )
    )


def export_rights(
    case: Case, events: pl.DataFrame, *, settings: AuditSettings | None = None
) -> pl.DataFrame:
    """Who may export, who did, who never did, and how.

    Returns
    -------
    pl.DataFrame
        ``account_id``, ``owner_person_id``, ``can_export``, ``exports``,
        ``bulk_exports``, ``off_hours_exports``, ``bulk_off_hours_exports``,
        ``orders_exported`` (sum of export sizes), ``last_export_at``,
        ``finding``, ``severity`` (null without a finding), ``source``,
        ``row`` (the first export, else the
        accounts.csv row). App accounts are left to
        :func:`app_authorizations`.
    """
    st = settings or AuditSettings()
    grace = int(st.grace.total_seconds() // 60)
    ex = _with_shift(case, events.filter(pl.col("action") == "export_orders")).with_columns(
        (pl.col("hi") - pl.col("lo")).alias("n"), off_shift(case, grace).alias("_off")
    )
    bulk = pl.col("n") >= st.bulk_min
    per = (
        ex.sort("at", "_row")
        .group_by("account_id", maintain_order=True)
        .agg(
            pl.len().alias("exports"),
            bulk.sum().alias("bulk_exports"),
            pl.col("_off").sum().alias("off_hours_exports"),
            (bulk & pl.col("_off")).sum().alias("bulk_off_hours_exports"),
            pl.col("n").sum().alias("orders_exported"),
            pl.col("at").last().alias("last_export_at"),
            pl.col("_row").first().alias("_ex_row"),
        )
    )
    app_accounts = case.apps["account_id"].drop_nulls().to_list()
    acc = case.accounts.filter(
        (pl.col("kind").fill_null("") != "app") & ~pl.col("account_id").is_in(app_accounts)
    ).join(per, on="account_id", how="left")
    n = pl.col("exports").fill_null(0)
    can = pl.col("can_export").fill_null(False)
    finding = (
        pl.when(~can & (n > 0))
        .then(pl.lit("exported without the export right"))
        .when(can & (n == 0))
        .then(pl.lit("may export but never did"))
        # A leaking insider exports after hours, at least once in bulk; one
        # small export in the evening alone is not worth a line.
        .when((n > 0) & (pl.col("off_hours_exports") == n) & (pl.col("bulk_off_hours_exports") > 0))
        .then(pl.lit("exports only outside the shift, in bulk"))
        .otherwise(pl.lit(None, pl.String))
    )
    severity = (
        pl.when(~can & (n > 0))
        .then(_sev(Severity.HIGH))
        .when(can & (n == 0))
        .then(_sev(Severity.LOW))
        .when(finding.is_not_null())
        .then(_sev(Severity.MEDIUM))
        .otherwise(pl.lit(None, pl.String))
    )
    return (
        acc.filter(can | (n > 0))
        .select(
            "account_id",
            "owner_person_id",
            can.alias("can_export"),
            n.cast(pl.Int64).alias("exports"),
            pl.col("bulk_exports").fill_null(0).cast(pl.Int64),
            pl.col("off_hours_exports").fill_null(0).cast(pl.Int64),
            pl.col("bulk_off_hours_exports").fill_null(0).cast(pl.Int64),
            pl.col("orders_exported").fill_null(0).cast(pl.Int64),
            "last_export_at",
            finding.alias("finding"),
            severity.alias("severity"),
            pl.when(n > 0)
            .then(pl.lit(case.source("access")))
            .otherwise(pl.lit(case.source("accounts")))
            .alias("source"),
            pl.coalesce("_ex_row", "_row").alias("row"),
        )
        .sort("account_id")
    )


def app_authorizations(case: Case, events: pl.DataFrame) -> pl.DataFrame:
    """Every third-party app: whether active, its scopes, what it pulled.

    Returns
    -------
    pl.DataFrame
        ``app_id``, ``name``, ``account_id``, ``granted_at``, ``revoked_at``,
        ``active``, ``scopes``, ``broad``, ``broad_scopes`` (see
        :data:`BROAD_SCOPE`), ``pulls``, ``last_pull_at``, ``pulls_after_revoke``,
        ``severity`` (high: pulls after revocation; medium: active with broad
        scopes; else null), ``source``, ``row`` (apps.csv).
    """
    pulls = events.filter(pl.col("action") == "api_pull").select("account_id", "at")
    apps = case.apps
    stats = (
        apps.select("app_id", "account_id", "revoked_at")
        .join(pulls, on="account_id")
        .group_by("app_id", maintain_order=True)
        .agg(
            pl.len().alias("pulls"),
            pl.col("at").max().alias("last_pull_at"),
            (pl.col("revoked_at").is_not_null() & (pl.col("at") > pl.col("revoked_at")))
            .sum()
            .alias("pulls_after_revoke"),
        )
    )
    broad = (
        pl.col("scopes")
        .fill_null("")
        .str.to_lowercase()
        .str.replace_all(r"[;,\s]+", ";")
        .str.split(";")
        .list.eval(pl.element().filter(pl.element().str.contains(BROAD_SCOPE.pattern)))
        .list.join(";")
    )
    return (
        apps.join(stats, on="app_id", how="left")
        .select(
            "app_id",
            "name",
            "account_id",
            "granted_at",
            "revoked_at",
            pl.col("revoked_at").is_null().alias("active"),
            "scopes",
            (broad != "").alias("broad"),
            pl.when(broad != "").then(broad).alias("broad_scopes"),
            pl.col("pulls").fill_null(0).cast(pl.Int64),
            "last_pull_at",
            pl.col("pulls_after_revoke").fill_null(0).cast(pl.Int64),
            pl.when(pl.col("pulls_after_revoke").fill_null(0) > 0)
            .then(_sev(Severity.HIGH))
            .when(pl.col("revoked_at").is_null() & (broad != ""))
            .then(_sev(Severity.MEDIUM))
            .otherwise(pl.lit(None, pl.String))
            .alias("severity"),
            pl.lit(case.source("apps")).alias("source"),
            pl.col("_row").alias("row"),
        )
        .sort("granted_at", "app_id", nulls_last=True)
    )


def off_hours_access(
    case: Case, events: pl.DataFrame, *, settings: AuditSettings | None = None
) -> pl.DataFrame:
    """Per account, how much of its order access falls outside the shift.

    Returns
    -------
    pl.DataFrame
        ``account_id``, ``owner_person_id``, ``events``, ``off_hours``,
        ``share``, ``closed_day``, ``outside_office`` (no machine),
        ``flagged``, ``severity``, ``source``, ``row`` (first off-hours event). App
        accounts run around the clock by design and are left out.
    """
    st = settings or AuditSettings()
    grace = int(st.grace.total_seconds() // 60)
    app_accounts = case.apps["account_id"].drop_nulls().to_list()
    # Lazy, on the four columns it needs: the access log of a large case is
    # tens of millions of rows.
    ev = _with_shift(
        case,
        events.lazy()
        .select("account_id", "at", "machine_id", "_row")
        .filter(pl.col("account_id").is_not_null() & ~pl.col("account_id").is_in(app_accounts)),
    ).filter(pl.col("kind").fill_null("") != "app")
    ev = ev.with_columns(off_shift(case, grace).alias("_off"))
    closed = ~pl.col("weekday").is_in(list(case.meta.weekdays))
    per = (
        ev.sort("at", "_row")
        .group_by("account_id", "owner_person_id", maintain_order=True)
        .agg(
            pl.len().alias("events"),
            pl.col("_off").sum().alias("off_hours"),
            closed.sum().alias("closed_day"),
            (pl.col("_off") & pl.col("machine_id").is_null()).sum().alias("outside_office"),
            pl.col("_row").filter(pl.col("_off")).first().alias("row"),
        )
        .with_columns((pl.col("off_hours") / pl.col("events")).round(3).alias("share"))
        .collect()
    )
    flagged = (pl.col("share") > st.off_hours_share) & (pl.col("off_hours") >= st.off_hours_min)
    return per.select(
        "account_id",
        "owner_person_id",
        pl.col("events").cast(pl.Int64),
        pl.col("off_hours").cast(pl.Int64),
        "share",
        pl.col("closed_day").cast(pl.Int64),
        pl.col("outside_office").cast(pl.Int64),
        flagged.alias("flagged"),
        pl.when(flagged).then(_sev(Severity.MEDIUM)).otherwise(None).alias("severity"),
        pl.lit(case.source("access")).alias("source"),
        "row",
    ).sort("share", "account_id", descending=[True, False])


def usb_devices(
    case: Case, found: pl.DataFrame, *, settings: AuditSettings | None = None
) -> pl.DataFrame:
    """USB devices: where they went, since when, and what followed.

    Returns
    -------
    pl.DataFrame
        ``device_id``, ``machines`` (``;``-separated, in order of first
        connection), ``n_machines``, ``connections``, ``first_seen_at``,
        ``new`` (first seen after the baseline), ``autorun`` (an autorun
        entry, antivirus alert or new process followed it),
        ``finding``, ``severity``, ``source``, ``row`` (its first connection).
    """
    st = settings or AuditSettings()
    ep = case.endpoint
    usb = ep.filter((pl.col("kind") == "usb_connect") & pl.col("device_id").is_not_null())
    if usb.is_empty():
        return pl.DataFrame(
            schema={
                "device_id": pl.String,
                "machines": pl.String,
                "n_machines": pl.Int64,
                "connections": pl.Int64,
                "first_seen_at": pl.Datetime("us", "UTC"),
                "new": pl.Boolean,
                "autorun": pl.Boolean,
                "finding": pl.String,
                "severity": pl.String,
                "source": pl.String,
                "row": pl.Int64,
            }
        )
    baseline_end = ep["at"].min() + timedelta(days=st.baseline_days)
    autorun = (
        found.filter(pl.col("indicator") == "usb_then_autorun")["device_id"].drop_nulls().unique()
    )
    first_on = usb.sort("at", "_row").unique(
        ["device_id", "machine_id"], keep="first", maintain_order=True
    )
    per = (
        usb.sort("at", "_row")
        .group_by("device_id", maintain_order=True)
        .agg(
            pl.len().alias("connections"),
            pl.col("at").first().alias("first_seen_at"),
            pl.col("_row").first().alias("row"),
        )
        .join(
            first_on.group_by("device_id", maintain_order=True).agg(
                pl.col("machine_id").sort_by("at").str.join(";").alias("machines"),
                pl.col("machine_id").n_unique().alias("n_machines"),
            ),
            on="device_id",
        )
    )
    new = pl.col("first_seen_at") > baseline_end
    auto = pl.col("device_id").is_in(autorun.to_list())
    parts = [
        pl.when(auto).then(pl.lit("followed by an autorun/alert/new process")),
        pl.when(pl.col("n_machines") > 1).then(pl.format("on {} machines", "n_machines")),
        pl.when(new).then(pl.lit("not seen in the baseline")),
    ]
    finding = pl.concat_str(parts, separator="; ", ignore_nulls=True)
    return per.select(
        "device_id",
        "machines",
        pl.col("n_machines").cast(pl.Int64),
        pl.col("connections").cast(pl.Int64),
        "first_seen_at",
        new.alias("new"),
        auto.alias("autorun"),
        pl.when(finding != "").then(finding).alias("finding"),
        # A phone charging at its owner's desk is new but harmless alone.
        pl.when(auto)
        .then(_sev(Severity.HIGH))
        .when(pl.col("n_machines") > 1)
        .then(_sev(Severity.MEDIUM))
        .when(new)
        .then(_sev(Severity.LOW))
        .otherwise(pl.lit(None, pl.String))
        .alias("severity"),
        pl.lit(case.source("endpoint")).alias("source"),
        "row",
    ).sort(["autorun", "n_machines", "first_seen_at"], descending=[True, True, False])


# --------------------------------------------------------------------------
# issues


def issues(
    *,
    accounts: pl.DataFrame,
    stale: pl.DataFrame,
    exports: pl.DataFrame,
    apps: pl.DataFrame,
    off_hours: pl.DataFrame,
    usb: pl.DataFrame,
) -> pl.DataFrame:
    """One list of what to fix, most severe first, each with its file and row.

    Takes the check tables by name; every line's severity is the one its
    check decided (its ``severity`` column), and rows without one are not
    issues.
    """
    parts = [
        accounts.select(
            "severity",
            pl.lit("one person, one account").alias("check"),
            pl.col("account_id").alias("subject"),
            pl.when(pl.col("rows") > 1)
            .then(pl.format("{}: {} ({} rows)", "issue", "summary", "rows"))
            .otherwise(pl.format("{}: {}", "issue", "summary"))
            .alias("finding"),
            "source",
            "row",
        ),
        stale.select(
            "severity",
            pl.lit("stale accounts").alias("check"),
            pl.col("account_id").alias("subject"),
            pl.format(
                "owner {} left on {}; {}; {} uses after leaving",
                "owner_person_id",
                "left_on",
                "status",
                "uses_after_leaving",
            ).alias("finding"),
            "source",
            "row",
        ),
        exports.select(
            "severity",
            pl.lit("export rights").alias("check"),
            pl.col("account_id").alias("subject"),
            pl.when(pl.col("exports") > 0)
            .then(
                pl.format(
                    "{} ({} exports, {} in bulk outside the shift)",
                    "finding",
                    "exports",
                    "bulk_off_hours_exports",
                )
            )
            .otherwise(pl.col("finding"))
            .alias("finding"),
            "source",
            "row",
        ),
        apps.select(
            "severity",
            pl.lit("app authorizations").alias("check"),
            pl.col("app_id").alias("subject"),
            pl.when(pl.col("pulls_after_revoke") > 0)
            .then(
                pl.format(
                    "{} ({}) pulled {} times after it was revoked",
                    "app_id",
                    "name",
                    "pulls_after_revoke",
                )
            )
            .otherwise(
                pl.format(
                    "{} ({}) active with broad scopes {}; {} pulls",
                    "app_id",
                    "name",
                    "broad_scopes",
                    "pulls",
                )
            )
            .alias("finding"),
            "source",
            "row",
        ),
        off_hours.select(
            "severity",
            pl.lit("off-hours access").alias("check"),
            pl.col("account_id").alias("subject"),
            pl.format(
                "{} of {} order accesses outside the shift ({}%), {} from outside the office",
                "off_hours",
                "events",
                (pl.col("share") * 100).round(0).cast(pl.Int64),
                "outside_office",
            ).alias("finding"),
            "source",
            "row",
        ),
        usb.select(
            "severity",
            pl.lit("USB devices").alias("check"),
            pl.col("device_id").alias("subject"),
            pl.format("{} (machines {})", "finding", "machines").alias("finding"),
            "source",
            "row",
        ),
    ]
    order = pl.col("severity").replace_strict(
        {s.value: i for i, s in enumerate(SEVERITY)}, return_dtype=pl.Int32
    )
    return (
        pl.concat([p.cast(_ISSUE_SCHEMA) for p in parts])
        .filter(pl.col("severity").is_not_null())
        .sort(order, "check", "subject", maintain_order=True)
    )
