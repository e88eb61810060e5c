"""Read ``case.toml`` into a :class:`~forensics.case.CaseMeta`.

Every value is checked here, where it enters the library, so that a typo
(an unknown time zone, an encoding Python does not know, a ``[files.X]``
section naming no table) stops the load with a message naming the key,
instead of silently shifting every timestamp by hours.
"""

from __future__ import annotations

import codecs
import tomllib
from datetime import UTC, date, datetime, time
from pathlib import Path, PurePosixPath, PureWindowsPath
from types import MappingProxyType
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ._errors import CaseError
from .schema import TABLES

__all__ = ["CASE_TOML", "parse_case_toml", "check_zone", "resolve_file_path"]

CASE_TOML = "case.toml"

_DEFAULT_START = time(9, 0)
_DEFAULT_END = time(18, 0)
_ALL_WEEKDAYS = (1, 2, 3, 4, 5, 6, 7)


def _fail(message: str) -> CaseError:
    return CaseError(f"{CASE_TOML}: {message}", file=CASE_TOML)


def check_zone(zone: Any, where: str) -> str:
    """Return ``zone`` if it is an IANA time zone name, else raise CaseError."""
    if not isinstance(zone, str) or not zone.strip():
        raise _fail(f'{where} must be a time zone name such as "Asia/Shanghai"')
    try:
        ZoneInfo(zone.strip())
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise _fail(f"{where} = {zone!r} is not a known time zone") from exc
    return zone.strip()


def _clock(value: Any, where: str, default: time) -> time:
    if value is None:
        return default
    if isinstance(value, time):
        return value
    if isinstance(value, str):
        try:
            return time.fromisoformat(value.strip())
        except ValueError:
            pass
    raise _fail(f"{where} = {value!r} is not a clock time HH:MM")


def _weekdays(value: Any) -> tuple[int, ...]:
    if value is None:
        return _ALL_WEEKDAYS
    ok = isinstance(value, list) and all(
        isinstance(d, int) and not isinstance(d, bool) and 1 <= d <= 7 for d in value
    )
    if not ok or not value:
        raise _fail(
            f"[business_hours] weekdays = {value!r} must be a list of ISO weekday "
            "numbers 1 (Monday) to 7 (Sunday)"
        )
    return tuple(sorted(set(value)))


def _opened_at(value: Any, zone: str) -> datetime | None:
    """``opened_at`` as an aware UTC datetime; naive values are in the case zone."""
    if value is None:
        return None
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.strip())
        except ValueError as exc:
            raise _fail(f"[case] opened_at = {value!r} is not an ISO 8601 timestamp") from exc
    elif isinstance(value, date) and not isinstance(value, datetime):
        value = datetime.combine(value, time(0, 0))
    if not isinstance(value, datetime):
        raise _fail(f"[case] opened_at = {value!r} is not a timestamp")
    if value.tzinfo is None:
        value = value.replace(tzinfo=ZoneInfo(zone))
    return value.astimezone(UTC)


def _file_settings(name: str, settings: Any) -> MappingProxyType:
    where = f"[files.{name}]"
    if name not in TABLES:
        known = ", ".join(TABLES)
        raise _fail(f"{where} names no table of the case format (tables: {known})")
    if not isinstance(settings, dict):
        raise _fail(f"{where} must be a table of settings")
    settings = dict(settings)
    if "encoding" in settings:
        enc = settings["encoding"]
        try:
            codecs.lookup(str(enc))
        except LookupError as exc:
            raise _fail(f"{where} encoding = {enc!r} is not a known text encoding") from exc
    if "timezone" in settings:
        settings["timezone"] = check_zone(settings["timezone"], f"{where} timezone")
    if "clock" in settings and not isinstance(settings["clock"], str):
        raise _fail(f'{where} clock must be a string such as "unsynchronized"')
    if "delimiter" in settings:
        d = settings["delimiter"]
        if not isinstance(d, str) or len(d) != 1 or d in '"\r\n':
            raise _fail(f'{where} delimiter must be one character, e.g. "," or ";"')
    if "path" in settings:
        settings["path"] = _relative_path(name, settings["path"])
    return MappingProxyType(settings)


def _relative_path(table: str, value: Any) -> str:
    """Check ``[files.TABLE] path``: a relative path that stays in the folder.

    An absolute path or one with ``..`` could make the tool read (and
    report as evidence) a file from outside the case: refused.
    """
    where = f"[files.{table}] path"
    if not isinstance(value, str) or not value.strip():
        raise _fail(f"{where} must be a file name relative to the case folder")
    text = value.strip()
    for pure in (PurePosixPath(text), PureWindowsPath(text)):
        if pure.is_absolute() or pure.anchor or ".." in pure.parts:
            raise _fail(f"{where} = {value!r} must stay inside the case folder")
    if Path(text).suffix.lower() not in (".csv", ".parquet"):
        raise _fail(f"{where} = {value!r} must name a .csv or .parquet file")
    return text.replace("\\", "/")


def resolve_file_path(folder: Path, table: str, value: str) -> Path:
    """The file ``[files.TABLE] path`` names, checked to lie inside ``folder``."""
    where = f"[files.{table}] path"
    path = folder / _relative_path(table, value)
    # A symlink could still lead outside the folder.
    if path.exists() and not path.resolve().is_relative_to(folder.resolve()):
        raise _fail(f"{where} = {value!r} leads outside the case folder")
    return path


def parse_case_toml(data: bytes, folder: Path) -> dict[str, Any]:
    """Parse and check the bytes of ``case.toml``.

    Returns
    -------
    dict
        Keyword arguments of :class:`~forensics.case.CaseMeta`.
    """
    try:
        doc = tomllib.loads(data.decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise _fail("not UTF-8 text") from exc
    except tomllib.TOMLDecodeError as exc:
        raise _fail(f"not valid TOML: {exc}") from exc

    case = doc.get("case", {})
    hours = doc.get("business_hours", {})
    files = doc.get("files", {})
    for section, value in (("[case]", case), ("[business_hours]", hours), ("[files]", files)):
        if not isinstance(value, dict):
            raise _fail(f"{section} must be a table")

    if "timezone" not in case:
        # No silent default: reading Shanghai times as UTC would move every
        # event by eight hours.
        raise _fail('[case] timezone is missing (e.g. timezone = "Asia/Shanghai")')
    zone = check_zone(case["timezone"], "[case] timezone")
    case_id = case.get("id") or folder.resolve().name
    return {
        "case_id": str(case_id),
        "title": str(case.get("title", "")),
        "timezone": zone,
        "opened_at": _opened_at(case.get("opened_at"), zone),
        "business_start": _clock(hours.get("start"), "[business_hours] start", _DEFAULT_START),
        "business_end": _clock(hours.get("end"), "[business_hours] end", _DEFAULT_END),
        "weekdays": _weekdays(hours.get("weekdays")),
        "files": MappingProxyType(
            {name: _file_settings(name, settings) for name, settings in files.items()}
        ),
    }
