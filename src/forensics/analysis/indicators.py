"""Behaviours investigators look for, each traced to a file and a row.

Every indicator is a row: ``indicator``, ``person_id``, ``account_id``,
``machine_id``, ``device_id``, ``at`` (back-office clock), ``source``,
``row``, ``summary``. None of them accuses anyone alone; :mod:`suspects`
weighs them (see :data:`forensics.analysis.suspects.WEIGHTS`) together with the path
the complaints point at.

==================== =======================================================
indicator            what it means
==================== =======================================================
off_hours            a person seen (camera) or badged in outside their shift
                     or on a closed day
new_hire_early_days  the above, or a desk other than their own, in the first
                     ``new_hire_days`` days after ``hired_on``
visitor_at_machine   a visitor / interview candidate / contractor, or someone
                     not on the staff list, at a machine
usb_seen_inserting   a person on camera inserting a device at a machine when
                     a USB device was connected to it
usb_seen_at_machine  a person on camera at that desk at that moment
usb_hop              one USB device connected to several machines
usb_then_autorun     a USB connection followed within ``autorun_window`` by an
                     autorun entry, an antivirus alert or a never-seen process
stale_account_use    an account used after its owner left or after it was
                     disabled
owner_elsewhere      an account used on a machine while its owner is seen at
                     another machine
used_other_account   someone seen at the keyboard while another person's
                     account was used there
outside_login        a login from outside the office (no machine)
large_export         an export or API pull far larger than the shop's usual
off_hours_export     an export outside the exporter's shift
unregistered         an id missing from its registry (accounts, machines,
                     staff) used in the logs
==================== =======================================================
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import polars as pl

from ..case import Case, as_text
from ..case.localtime import off_shift

__all__ = [
    "IndicatorSettings",
    "indicators",
    "INDICATOR_SCHEMA",
    "VISITOR_ROLES",
    "shift_windows",
    "malware_keys",
    "flagged_paths",
    "new_apps",
    "access_rows",
]

VISITOR_ROLES = ("visitor", "interviewee", "candidate", "contractor", "guest", "vendor")

INDICATOR_SCHEMA = pl.Schema(
    {
        "indicator": pl.String,
        "person_id": pl.String,
        "account_id": pl.String,
        "machine_id": pl.String,
        "device_id": pl.String,
        "at": pl.Datetime("us", "UTC"),
        "source": pl.String,
        "row": pl.Int64,
        "summary": pl.String,
    }
)


@dataclass(frozen=True)
class IndicatorSettings:
    grace: timedelta = timedelta(minutes=30)
    """Presence this close to a shift's edges is not off-hours."""
    new_hire_days: int = 3
    sighting_window: timedelta = timedelta(minutes=10)
    """How close a camera sighting must be to an event to place someone there."""
    autorun_window: timedelta = timedelta(minutes=30)
    large_export_factor: float = 5.0
    """An export larger than this many times the median export is large."""
    large_export_min: int = 200


def _minutes(col: str) -> pl.Expr:
    return pl.col(col).dt.hour().cast(pl.Int32) * 60 + pl.col(col).dt.minute().cast(pl.Int32)


def _hhmm(minutes: pl.Expr) -> pl.Expr:
    return pl.format(
        "{}:{}",
        (minutes // 60).cast(pl.String).str.zfill(2),
        (minutes % 60).cast(pl.String).str.zfill(2),
    )


def shift_windows(case: Case) -> pl.DataFrame:
    """Per person: ``shift_start_min``, ``shift_end_min`` (minutes of day, the
    business hours when the staff list gives none), role, dates, desk."""
    bs = case.meta.business_start.hour * 60 + case.meta.business_start.minute
    be = case.meta.business_end.hour * 60 + case.meta.business_end.minute
    return case.staff.select(
        "person_id",
        "name",
        pl.col("role").str.to_lowercase().alias("role"),
        "hired_on",
        "left_on",
        "desk_machine_id",
        pl.coalesce(_minutes("shift_start"), pl.lit(bs)).alias("shift_start_min"),
        pl.coalesce(_minutes("shift_end"), pl.lit(be)).alias("shift_end_min"),
    )


def _localize(frame: pl.DataFrame, tz: str, col: str = "at") -> pl.DataFrame:
    local = pl.col(col).dt.convert_time_zone(tz)
    return frame.with_columns(
        local.dt.date().alias("local_date"),
        (local.dt.hour().cast(pl.Int32) * 60 + local.dt.minute().cast(pl.Int32)).alias("local_min"),
        local.dt.weekday().alias("weekday"),
        local.dt.strftime("%Y-%m-%d %H:%M").alias("local_text"),
    )


def _shape(frame: pl.DataFrame, indicator: str | pl.Expr, **cols: pl.Expr) -> pl.DataFrame:
    exprs = {n: pl.lit(None, dtype=d) for n, d in INDICATOR_SCHEMA.items()}
    exprs["indicator"] = pl.lit(indicator) if isinstance(indicator, str) else indicator
    exprs.update(cols)
    return frame.select(**exprs).cast(dict(INDICATOR_SCHEMA))


def access_rows(case: Case) -> pl.Expr:
    """The access events :func:`indicators` can use (a filter on the access
    table): exports and API pulls, and every use of an account that was
    disabled or whose owner has a leaving date. Given a timeline with only
    these access events, :func:`indicators` finds the same indicators.
    """
    leaving = case.staff.filter(pl.col("left_on").is_not_null())["person_id"]
    accounts = case.accounts.filter(
        pl.col("disabled_at").is_not_null() | pl.col("owner_person_id").is_in(leaving.implode())
    )["account_id"]
    return pl.col("action").is_in(["export_orders", "api_pull"]) | pl.col("account_id").is_in(
        accounts.implode()
    )


def indicators(
    case: Case,
    timeline: pl.DataFrame,
    events: pl.DataFrame,
    *,
    settings: IndicatorSettings | None = None,
) -> pl.DataFrame:
    """Every indicator hit of the case (see the module table)."""
    st = settings or IndicatorSettings()
    tz = case.timezone()
    grace = int(st.grace.total_seconds() // 60)
    staff = shift_windows(case)
    tl = _localize(timeline, tz)
    parts = [
        _off_hours(case, tl, staff, grace, st),
        _visitors(case, tl, staff),
        _usb(case, tl, st),
        _stale(case, tl, staff),
        _owner_elsewhere(case, tl, st),
        _exports(case, events, staff, tz, grace, st),
        _unregistered(case),
    ]
    return pl.concat(parts).sort("at", "indicator", "row", nulls_last=True)


def _off_hours(
    case: Case, tl: pl.DataFrame, staff: pl.DataFrame, grace: int, st: IndicatorSettings
) -> pl.DataFrame:
    # Presence from every source that places a person in the office: camera,
    # badge-in, and a login at an office machine (the account's owner).
    presence = tl.filter(
        pl.col("person_id").is_not_null()
        & (
            (pl.col("table") == "camera")
            | ((pl.col("table") == "badge") & (pl.col("action") == "in"))
            | (
                (pl.col("table") == "logins")
                & (pl.col("action") == "login")
                & pl.col("machine_id").is_not_null()
            )
        )
    ).join(staff, on="person_id", how="inner")
    off = presence.filter(off_shift(case, grace))
    before = pl.col("shift_start_min") - pl.col("local_min")
    when = (
        pl.when((before > 0) & (before < 12 * 60))
        .then(pl.format("{} min before shift start {}", before, _hhmm(pl.col("shift_start_min"))))
        .when(~pl.col("weekday").is_in(list(case.meta.weekdays)))
        .then(pl.lit("on a closed day"))
        .otherwise(
            pl.format(
                "outside shift {}-{}",
                _hhmm(pl.col("shift_start_min")),
                _hhmm(pl.col("shift_end_min")),
            )
        )
    )
    where = pl.coalesce("machine_id", "detail", pl.lit("?"))
    first_per_day = off.sort("at").unique(
        ["person_id", "local_date"], keep="first", maintain_order=True
    )
    off_hours = _shape(
        first_per_day,
        "off_hours",
        person_id=pl.col("person_id"),
        machine_id=pl.col("machine_id"),
        at=pl.col("at"),
        source=pl.col("source"),
        row=pl.col("row"),
        summary=pl.format("{} at {} {}, {}", pl.col("desc"), where, pl.col("local_text"), when),
    )
    # New hires: off-hours, or at a desk not their own, in their first days.
    early = presence.filter(
        pl.col("hired_on").is_not_null()
        & (pl.col("local_date") >= pl.col("hired_on"))
        & (pl.col("local_date") < pl.col("hired_on") + pl.duration(days=st.new_hire_days))
        & (
            off_shift(case, grace)
            | (
                pl.col("machine_id").is_not_null()
                & (pl.col("machine_id") != pl.col("desk_machine_id").fill_null(""))
            )
        )
    )
    day_n = (pl.col("local_date") - pl.col("hired_on")).dt.total_days() + 1
    new_hire = _shape(
        early,
        "new_hire_early_days",
        person_id=pl.col("person_id"),
        machine_id=pl.col("machine_id"),
        at=pl.col("at"),
        source=pl.col("source"),
        row=pl.col("row"),
        summary=pl.format(
            "day {} after hire: {} at {} {}", day_n, pl.col("desc"), where, pl.col("local_text")
        ),
    )
    return pl.concat([off_hours, new_hire])


def _visitors(case: Case, tl: pl.DataFrame, staff: pl.DataFrame) -> pl.DataFrame:
    at_machine = tl.filter(
        (pl.col("table") == "camera")
        & pl.col("machine_id").is_not_null()
        & pl.col("person_id").is_not_null()
        & pl.col("action").is_in(["at_desk", "insert_device"])
    ).join(staff.select("person_id", "role"), on="person_id", how="left")
    v = at_machine.filter(pl.col("role").is_null() | pl.col("role").is_in(list(VISITOR_ROLES)))
    who = pl.coalesce(pl.col("role"), pl.lit("not on the staff list"))
    return _shape(
        v,
        "visitor_at_machine",
        person_id=pl.col("person_id"),
        machine_id=pl.col("machine_id"),
        at=pl.col("at"),
        source=pl.col("source"),
        row=pl.col("row"),
        summary=pl.format(
            "{} ({}) {} at {} {}",
            pl.col("person_id"),
            who,
            pl.col("desc").str.to_lowercase(),
            pl.col("machine_id"),
            pl.col("local_text"),
        ),
    )


def _usb(case: Case, tl: pl.DataFrame, st: IndicatorSettings) -> pl.DataFrame:
    ep = tl.filter(pl.col("table") == "endpoint")
    usb = ep.filter((pl.col("action") == "usb_connect") & pl.col("device_id").is_not_null())
    first = usb.sort("at").unique(["device_id", "machine_id"], keep="first", maintain_order=True)
    n_machines = first.group_by("device_id").agg(
        pl.col("machine_id").n_unique().alias("_n"),
        pl.col("machine_id").sort_by("at").str.join(", ").alias("_list"),
    )
    hops = first.join(n_machines.filter(pl.col("_n") >= 2), on="device_id")
    usb_hop = _shape(
        hops,
        "usb_hop",
        machine_id=pl.col("machine_id"),
        device_id=pl.col("device_id"),
        at=pl.col("at"),
        source=pl.col("source"),
        row=pl.col("row"),
        summary=pl.format(
            "USB {} connected to {} ({} of {} machines: {})",
            pl.col("device_id"),
            pl.col("machine_id"),
            pl.col("local_text"),
            pl.col("_n"),
            pl.col("_list"),
        ),
    )
    # Who was at the machine when the device went in (corrected camera time).
    cam = tl.filter(
        (pl.col("table") == "camera")
        & pl.col("machine_id").is_not_null()
        & pl.col("action").is_in(["insert_device", "at_desk"])
    ).select(
        "machine_id",
        pl.col("at").alias("c_at"),
        pl.col("end").alias("c_end"),
        pl.col("person_id").alias("c_person"),
        pl.col("source").alias("c_source"),
        pl.col("row").alias("c_row"),
        pl.col("action").alias("c_action"),
    )
    w = st.sighting_window
    seen = first.join(cam, on="machine_id").filter(
        (pl.col("c_at") <= pl.col("at") + w) & (pl.coalesce("c_end", "c_at") >= pl.col("at") - w)
    )
    who = pl.coalesce(pl.col("c_person"), pl.lit("an unidentified person"))
    seen_inserting = _shape(
        seen,
        pl.when(pl.col("c_action") == "insert_device")
        .then(pl.lit("usb_seen_inserting"))
        .otherwise(pl.lit("usb_seen_at_machine")),
        person_id=pl.col("c_person"),
        machine_id=pl.col("machine_id"),
        device_id=pl.col("device_id"),
        at=pl.col("c_at"),
        source=pl.col("c_source"),
        row=pl.col("c_row"),
        summary=pl.format(
            "camera: {} {} at {} when USB {} was connected ({})",
            who,
            pl.when(pl.col("c_action") == "insert_device")
            .then(pl.lit("inserting a device"))
            .otherwise(pl.lit("at the desk")),
            pl.col("machine_id"),
            pl.col("device_id"),
            pl.col("local_text"),
        ),
    )
    # A connection followed by an autorun entry, AV alert or never-seen process.
    seen_before = (
        ep.filter(pl.col("action") == "process_start")
        .group_by(pl.col("detail").alias("proc"))
        .agg(pl.col("at").min().alias("_first_anywhere"))
    )
    follow = (
        first.select("device_id", "machine_id", pl.col("at").alias("u_at"), "local_text")
        .join(
            ep.filter(pl.col("action").is_in(["autorun_added", "av_alert", "process_start"])),
            on="machine_id",
        )
        .filter(
            (pl.col("at") >= pl.col("u_at")) & (pl.col("at") <= pl.col("u_at") + st.autorun_window)
        )
        .join(seen_before, left_on="detail", right_on="proc", how="left")
        .filter(
            (pl.col("action") != "process_start") | (pl.col("_first_anywhere") >= pl.col("u_at"))
        )
    )
    then_autorun = _shape(
        follow.sort("at").unique(["device_id", "machine_id"], keep="first", maintain_order=True),
        "usb_then_autorun",
        machine_id=pl.col("machine_id"),
        device_id=pl.col("device_id"),
        at=pl.col("at"),
        source=pl.col("source"),
        row=pl.col("row"),
        summary=pl.format(
            "{} ({}) {} min after USB {} on {}",
            pl.col("desc"),
            pl.col("detail").fill_null("?"),
            ((pl.col("at") - pl.col("u_at")).dt.total_seconds() / 60).round(1),
            pl.col("device_id"),
            pl.col("machine_id"),
        ),
    )
    return pl.concat([usb_hop, seen_inserting, then_autorun])


def _stale(case: Case, tl: pl.DataFrame, staff: pl.DataFrame) -> pl.DataFrame:
    acc = case.accounts.select("account_id", "owner_person_id", "disabled_at").join(
        staff.select(pl.col("person_id").alias("owner_person_id"), "left_on"),
        on="owner_person_id",
        how="left",
    )
    used = tl.filter(
        (pl.col("table") == "access")
        | ((pl.col("table") == "logins") & (pl.col("action") == "login"))
    ).join(acc, on="account_id")
    stale = used.filter(
        (pl.col("left_on").is_not_null() & (pl.col("local_date") > pl.col("left_on")))
        | (pl.col("disabled_at").is_not_null() & (pl.col("at") > pl.col("disabled_at")))
    )
    counts = stale.group_by("account_id").agg(pl.len().alias("_n"))
    first = (
        stale.sort("at")
        .unique("account_id", keep="first", maintain_order=True)
        .join(counts, on="account_id")
    )
    why = (
        pl.when(pl.col("left_on").is_not_null() & (pl.col("local_date") > pl.col("left_on")))
        .then(pl.format("owner {} left on {}", pl.col("owner_person_id"), pl.col("left_on")))
        .otherwise(pl.lit("account disabled before"))
    )
    stale_use = _shape(
        first,
        "stale_account_use",
        person_id=pl.col("owner_person_id"),
        account_id=pl.col("account_id"),
        machine_id=pl.col("machine_id"),
        at=pl.col("at"),
        source=pl.col("source"),
        row=pl.col("row"),
        summary=pl.format(
            "account {} used {} ({}; {} uses in all, first: {} from {})",
            pl.col("account_id"),
            pl.col("local_text"),
            why,
            pl.col("_n"),
            pl.col("desc"),
            pl.coalesce("machine_id", "detail", pl.lit("?")),
        ),
    )
    outside = tl.filter(
        (pl.col("table") == "logins")
        & (pl.col("action") == "login")
        & pl.col("machine_id").is_null()
    )
    outside_login = _shape(
        outside,
        "outside_login",
        person_id=pl.col("person_id"),
        account_id=pl.col("account_id"),
        at=pl.col("at"),
        source=pl.col("source"),
        row=pl.col("row"),
        summary=pl.format(
            "login of {} from outside the office (ip {}) {}",
            pl.col("account_id"),
            pl.col("detail").fill_null("?"),
            pl.col("local_text"),
        ),
    )
    return pl.concat([stale_use, outside_login])


def _owner_elsewhere(case: Case, tl: pl.DataFrame, st: IndicatorSettings) -> pl.DataFrame:
    used = tl.filter(
        pl.col("machine_id").is_not_null()
        & pl.col("person_id").is_not_null()
        & (
            ((pl.col("table") == "logins") & (pl.col("action") == "login"))
            | (
                (pl.col("table") == "access")
                & pl.col("action").is_in(["export_orders", "api_pull"])
            )
        )
    ).select(
        "at",
        "machine_id",
        "account_id",
        pl.col("person_id").alias("owner"),
        "source",
        "row",
        "desc",
        "local_text",
    )
    cam = tl.filter(
        (pl.col("table") == "camera")
        & pl.col("person_id").is_not_null()
        & pl.col("machine_id").is_not_null()
        & pl.col("action").is_in(["at_desk", "insert_device"])
    ).select(
        pl.col("at").alias("c_at"),
        pl.coalesce("end", "at").alias("c_end"),
        pl.col("machine_id").alias("c_machine"),
        pl.col("person_id").alias("c_person"),
        pl.col("source").alias("c_source"),
        pl.col("row").alias("c_row"),
    )
    w = st.sighting_window
    overlap = (pl.col("c_at") <= pl.col("at") + w) & (pl.col("c_end") >= pl.col("at") - w)
    # The owner was seen at another machine at that moment.
    owner_away = used.join(cam, left_on="owner", right_on="c_person").filter(
        overlap & (pl.col("c_machine") != pl.col("machine_id"))
    )
    away = _shape(
        owner_away.unique(["source", "row"], keep="first", maintain_order=True),
        "owner_elsewhere",
        person_id=pl.col("owner"),
        account_id=pl.col("account_id"),
        machine_id=pl.col("machine_id"),
        at=pl.col("at"),
        source=pl.col("source"),
        row=pl.col("row"),
        summary=pl.format(
            "{} under {} on {} {} while its owner {} was on camera at {} ({} row {})",
            pl.col("desc"),
            pl.col("account_id"),
            pl.col("machine_id"),
            pl.col("local_text"),
            pl.col("owner"),
            pl.col("c_machine"),
            pl.col("c_source"),
            pl.col("c_row"),
        ),
    )
    # Someone else was at the keyboard.
    other = used.join(cam, left_on="machine_id", right_on="c_machine").filter(
        overlap & (pl.col("c_person") != pl.col("owner"))
    )
    at_keyboard = _shape(
        other.unique(["source", "row", "c_person"], keep="first", maintain_order=True),
        "used_other_account",
        person_id=pl.col("c_person"),
        account_id=pl.col("account_id"),
        machine_id=pl.col("machine_id"),
        at=pl.col("c_at"),
        source=pl.col("c_source"),
        row=pl.col("c_row"),
        summary=pl.format(
            "camera: {} at {} when {}'s account {} was used ({}, {} row {})",
            pl.col("c_person"),
            pl.col("machine_id"),
            pl.col("owner"),
            pl.col("account_id"),
            pl.col("desc"),
            pl.col("source"),
            pl.col("row"),
        ),
    )
    return pl.concat([away, at_keyboard])


def _exports(
    case: Case,
    events: pl.DataFrame,
    staff: pl.DataFrame,
    tz: str,
    grace: int,
    st: IndicatorSettings,
) -> pl.DataFrame:
    ex = as_text(
        events.filter(pl.col("action").is_in(["export_orders", "api_pull"])).with_columns(
            (pl.col("hi") - pl.col("lo")).alias("n")
        )
    )
    if ex.is_empty():
        return pl.DataFrame(schema=INDICATOR_SCHEMA)
    owners = case.accounts.select("account_id", pl.col("owner_person_id").alias("person_id"))
    ex = _localize(ex.join(owners, on="account_id", how="left"), tz)
    src = case.source("access")
    # Against the account's own history when it has one (a manager's weekly
    # export is large but usual): more than twice anything it exported
    # before; otherwise more than ``large_export_factor`` times the shop's
    # median export.
    shop = ex.group_by("action").agg(pl.col("n").median().alias("_shop"))
    prev_max = pl.col("n").cum_max().shift(1).over("account_id", "action", order_by="at")
    ex = ex.join(shop, on="action").with_columns(prev_max.alias("_prev"))
    ex = ex.with_columns(
        pl.when(pl.col("_prev").is_not_null())
        .then(2 * pl.col("_prev"))
        .otherwise(st.large_export_factor * pl.col("_shop"))
        .alias("_limit"),
        pl.coalesce("_prev", "_shop").alias("_base"),
    )
    large = ex.filter((pl.col("n") > pl.col("_limit")) & (pl.col("n") >= st.large_export_min))
    large_export = _shape(
        large,
        "large_export",
        person_id=pl.col("person_id"),
        account_id=pl.col("account_id"),
        machine_id=pl.col("machine_id"),
        at=pl.col("at"),
        source=pl.lit(src),
        row=pl.col("_row"),
        summary=pl.format(
            "{} of {} orders by {} on {} {} (largest before: {} orders)",
            pl.col("action"),
            pl.col("n"),
            pl.col("account_id"),
            pl.coalesce("machine_id", pl.format("ip {}", "ip")),
            pl.col("local_text"),
            pl.col("_base").round(0).cast(pl.Int64),
        ),
    )
    off = (
        ex.filter(pl.col("action") == "export_orders")
        .join(staff, on="person_id", how="inner")
        .filter(off_shift(case, grace))
    )
    off_export = _shape(
        off,
        "off_hours_export",
        person_id=pl.col("person_id"),
        account_id=pl.col("account_id"),
        machine_id=pl.col("machine_id"),
        at=pl.col("at"),
        source=pl.lit(src),
        row=pl.col("_row"),
        summary=pl.format(
            "export of {} orders by {} at {} outside shift {}-{}",
            pl.col("n"),
            pl.col("account_id"),
            pl.col("local_text"),
            _hhmm(pl.col("shift_start_min")),
            _hhmm(pl.col("shift_end_min")),
        ),
    )
    return pl.concat([large_export, off_export])


def _unregistered(case: Case) -> pl.DataFrame:
    u = case.unregistered
    if u.is_empty():
        return pl.DataFrame(schema=INDICATOR_SCHEMA)
    col = pl.col("column")
    return _shape(
        u,
        "unregistered",
        person_id=pl.when(col.str.contains("person")).then(pl.col("value")),
        account_id=pl.when(col.str.contains("account")).then(pl.col("value")),
        machine_id=pl.when(col.str.contains("machine")).then(pl.col("value")),
        source=pl.col("file"),
        row=pl.col("row"),
        summary=pl.format("{} {} is not in {}", col, pl.col("value"), pl.col("references")),
    )


def malware_keys(
    case: Case,
    found: pl.DataFrame,
    *,
    window: timedelta = timedelta(minutes=30),
    persistent: bool = False,
) -> set[str]:
    """USB device ids and process keys (SHA-256, else lower-cased name) that
    behaved like malware on their own, before any complaint is considered.

    A device counts when an autorun entry, an antivirus alert or a network
    upload followed its connection on that machine within ``window``; a
    process when it was added to autorun or flagged by antivirus. A new
    process alone does not count: IT installing software from a stick looks
    exactly like that. With ``persistent``, only autorun entries count (the
    malware stayed and kept running), not alerts or uploads.
    """
    ep = case.endpoint
    follow_kinds = ["autorun_added"] if persistent else ["autorun_added", "av_alert", "net_upload"]
    # A drive logged without a serial is known by its device_key (CASE_FORMAT 1.1).
    usb = ep.filter((pl.col("kind") == "usb_connect") & pl.col("device_key").is_not_null()).select(
        "machine_id", pl.col("device_key").alias("device_id"), pl.col("at").alias("u_at")
    )
    follow = ep.filter(pl.col("kind").is_in(follow_kinds)).select("machine_id", "at")
    devices = (
        usb.join(follow, on="machine_id")
        .filter((pl.col("at") >= pl.col("u_at")) & (pl.col("at") <= pl.col("u_at") + window))
        .get_column("device_id")
        .unique()
        .to_list()
    )
    flagged = ep.filter(
        pl.col("kind").is_in(follow_kinds[:2] if not persistent else follow_kinds)
    ).select(pl.coalesce(pl.col("sha256").str.to_lowercase(), pl.col("process").str.to_lowercase()))
    return set(devices) | set(flagged.to_series().drop_nulls().to_list())


def flagged_paths(case: Case, found: pl.DataFrame) -> pl.DataFrame:
    """Paths suspicious before any complaint is looked at (``level``, ``id``).

    They are chosen from endpoint and account evidence alone, so testing them
    against the complaints as a small family of their own is honest: a leak
    too small to stand out among thousands of candidate paths can still be
    confirmed on the few that were already suspicious.
    """
    keys = sorted(malware_keys(case, found))
    rows = [("device", k, 1) for k in keys] + [("process", k, 1) for k in keys]
    stale = (
        found.filter(pl.col("indicator") == "stale_account_use")["account_id"].drop_nulls().unique()
    )
    rows += [("account", a, 1) for a in sorted(stale.to_list())]
    # A new app is suspect by a weaker prior than malware or a departed
    # owner's account: the second stage, tested only when the first's
    # tests all held (commonpoint.flagged).
    rows += [(level, key, 2) for level, key in new_apps(case)]
    return pl.DataFrame(
        rows, schema={"level": pl.String, "id": pl.String, "stage": pl.Int8}, orient="row"
    )


def new_apps(case: Case) -> list[tuple[str, str]]:
    """The apps that began while the back office was logging, as paths
    (``level``, ``id``): an app of ``apps.csv`` granted after the first
    recorded access or login (``app``, its id), or an account of kind
    ``app`` created then that ``apps.csv`` does not list (``account``, its
    id: the apps file may be empty or missing).

    An app that starts reading orders inside the evidence period is what an
    investigator checks first among the apps (a free trial with buyer
    scopes, an integration nobody remembers approving). Known from
    ``apps.csv``, ``accounts.csv`` and the logs alone, before any complaint
    is read; an app granted before the logs begin is no newer than the logs
    can tell.
    """
    firsts = [t for t in (case.access_lean["at"].min(), case.logins["at"].min()) if t is not None]
    if not firsts:
        return []
    began = min(firsts)
    apps = case.apps.filter(pl.col("granted_at").is_not_null())
    out = [("app", a) for a in sorted(apps.filter(pl.col("granted_at") > began)["app_id"])]
    listed = case.apps["account_id"].drop_nulls().implode()
    accounts = case.accounts.filter(
        (pl.col("kind") == "app")
        & pl.col("created_at").is_not_null()
        & (pl.col("created_at") > began)
        & ~pl.col("account_id").is_in(listed)
    )
    return out + [("account", a) for a in sorted(accounts["account_id"])]
