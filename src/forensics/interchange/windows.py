"""Windows event records to endpoint rows (CASE_FORMAT 1.1): what each event means.

One function per event family takes the record as the ``evtx`` package gives
it (the JSON of one ``<Event>``: ``Event.System`` and ``Event.EventData`` or
``Event.UserData``) and returns either an endpoint row or the reason it is
not imported. Nothing here reads files; :mod:`forensics.interchange.evtx`
does, and counts every reason.

What is imported (every other record is skipped with a reason and counted):

==========================================  =====================  ===============
log / event                                 kind                   user
==========================================  =====================  ===============
Security 4624, logon type 2, 7, 10, 11      ``logon``              Target…Name
(not the DWM-n / UMFD-n sessions)
Security 4624, other logon types            skipped (``other``     Target…Name
                                            with ``all_logons``)
Security 4634 (types as 4624), 4647         ``logoff``             Target…Name
Security 4625 (any logon type)              ``login_failed``       Target…Name
Security 6416, disk drive on ``USBSTOR``    ``usb_connect``        Subject…Name,
                                                                   unless SYSTEM
or a portable device (WPD); never a print
queue or any other class
Sysmon 1                                    ``process_start``      User
Sysmon 3                                    ``network``            User
Sysmon 11                                   ``file_create``        User (Sysmon 13+)
Partition/Diagnostic 1006, bus type USB     ``usb_connect``, or    (none)
(7), not a system or boot disk              ``usb_disconnect`` when
                                            capacity and partitions
                                            are 0
DriverFrameworks-UserMode 2003              ``usb_connect``        (none)
DriverFrameworks-UserMode 2100, 2102 with   ``usb_disconnect``     (none)
a removal request (minor 2 or 23); a 2102
completing a 2100 already imported is
skipped
Windows Defender 1116, 1117                 ``av_alert``           Detection User
==========================================  =====================  ===============

Interactive logon types are 2 (at the keyboard), 7 (unlock), 10 (remote
desktop) and 11 (cached credentials). Network (3), batch (4), service (5),
network-cleartext (8), new-credentials (9) and system (0) logons happen by
the hundred on every PC without anyone sitting at it; they are skipped and
counted per type, or kept as kind ``other`` with ``all_logons=True``.

The time is the event's own: Sysmon's ``UtcTime`` (a network event may be
written long after it happened), else ``TimeCreated/@SystemTime``; both are
UTC and written as ISO 8601 with ``+00:00``. ``machine_id`` is the record's
``Computer``. A USB serial is the device instance id's last part; an id
whose second character is ``&`` was made up by Windows for a device without
a serial and is not a serial, so ``device_id`` stays empty (the loader then
names the drive by machine, user and time: ``device_key``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

__all__ = [
    "INTERACTIVE_LOGON_TYPES",
    "LOGON_TYPE_NAMES",
    "ENDPOINT_COLUMNS",
    "WindowsEvents",
    "event_time",
    "event_fields",
    "usb_serial",
]

INTERACTIVE_LOGON_TYPES = frozenset({2, 7, 10, 11})
LOGON_TYPE_NAMES = {
    0: "system",
    2: "interactive",
    3: "network",
    4: "batch",
    5: "service",
    7: "unlock",
    8: "network cleartext",
    9: "new credentials",
    10: "remote interactive",
    11: "cached interactive",
    12: "cached remote interactive",
    13: "cached unlock",
}
ENDPOINT_COLUMNS = (
    "event_id",
    "at",
    "machine_id",
    "kind",
    "device_id",
    "process",
    "sha256",
    "detail",
    "user",
    "source_file",
    "source_record",
)

SECURITY = "Security"
SYSMON = "Microsoft-Windows-Sysmon/Operational"
PARTITION = "Microsoft-Windows-Partition/Diagnostic"
DRIVER_FRAMEWORKS = "Microsoft-Windows-DriverFrameworks-UserMode/Operational"
DEFENDER = "Microsoft-Windows-Windows Defender/Operational"

# Device setup classes that are removable storage (Security 6416's ClassName).
_STORAGE_CLASSES = {"diskdrive", "wpd"}
_USB_BUS_TYPE = 7  # STORAGE_BUS_TYPE BusTypeUsb
_REMOVAL_MINORS = {2, 23}  # IRP_MN_REMOVE_DEVICE, IRP_MN_SURPRISE_REMOVAL
_SYSTEM_TIME = re.compile(
    r"^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}:\d{2})(?:\.(\d+))?\s*(?:Z|UTC|\+00:00)?$"
)

Row = dict[str, Any]


def _scalar(value: Any) -> Any:
    """An element's value: its text when it also has attributes."""
    if isinstance(value, dict) and "#text" in value:
        return value["#text"]
    return value


def _int(value: Any) -> int | None:
    value = _scalar(value)
    try:
        return int(str(value).strip(), 0) if value not in (None, "") else None
    except ValueError:
        return None


def _text(value: Any) -> str | None:
    value = _scalar(value)
    if value is None:
        return None
    text = str(value).strip()
    return text if text and text != "-" else None


def event_fields(event: Mapping[str, Any]) -> dict[str, Any]:
    """The named fields of ``EventData``, or of ``UserData``'s element.

    ``UserData`` holds one element (e.g. ``UMDFHostDeviceRequest``) whose
    attributes and children are its fields; a child's own attributes are
    flattened as ``child.attribute`` (``Request.minor``).
    """
    body = event.get("EventData")
    if isinstance(body, dict):
        return {k: v for k, v in body.items() if k != "#attributes"}
    fields: dict[str, Any] = {}
    user = event.get("UserData")
    if isinstance(user, dict):
        for element in user.values():
            if not isinstance(element, dict):
                continue
            fields.update(element.get("#attributes") or {})
            for name, child in element.items():
                if name == "#attributes":
                    continue
                if isinstance(child, dict):
                    for attr, value in (child.get("#attributes") or {}).items():
                        fields[f"{name}.{attr}"] = value
                    if "#text" in child:
                        fields[name] = child["#text"]
                else:
                    fields[name] = child
    return fields


def _parse_utc(text: str) -> datetime | None:
    match = _SYSTEM_TIME.match(text.strip())
    if match is None:
        return None
    day, clock, fraction = match.groups()
    micro = int((fraction or "0")[:6].ljust(6, "0"))  # SystemTime has 100 ns ticks
    stamp = datetime.fromisoformat(f"{day}T{clock}").replace(microsecond=micro)
    return stamp.replace(tzinfo=UTC)


def event_time(system: Mapping[str, Any], fields: Mapping[str, Any]) -> datetime | None:
    """When the event happened (UTC): Sysmon's ``UtcTime``, else ``TimeCreated``."""
    utc = _text(fields.get("UtcTime"))
    if utc:
        parsed = _parse_utc(utc)
        if parsed is not None:
            return parsed
    created = system.get("TimeCreated")
    if isinstance(created, dict):
        stamp = (created.get("#attributes") or {}).get("SystemTime")
        if stamp:
            return _parse_utc(str(stamp))
    return None


def usb_serial(instance_id: str | None) -> str | None:
    """The serial in a USB device instance id, or None when Windows made one up.

    >>> usb_serial(r"USBSTOR\\Disk&Ven_SanDisk&Prod_Cruzer&Rev_8.02\\4C530001230923114365&0")
    '4C530001230923114365'
    >>> usb_serial(r"USB\\VID_0781&PID_5583\\4C530001230923114365")
    '4C530001230923114365'
    >>> usb_serial(r"USBSTOR\\Disk&Ven_Generic&Prod_Flash\\7&2a8a5ab3&0") is None
    True
    """
    if not instance_id:
        return None
    # a device interface path ends with its class GUID: "...#SERIAL&0#{53f5...}"
    last = instance_id.split("#{")[0].replace("#", "\\").rstrip("\\").split("\\")[-1]
    if len(last) > 1 and last[1] == "&":  # generated by the PnP manager: no serial
        return None
    if last.endswith("&0") or last.endswith("&1"):
        last = last[:-2]
    return last or None


def _endpoint(fields: Mapping[str, Any], side: str) -> str:
    """``ip:port`` of one side of a Sysmon network event."""
    return f"{_text(fields.get(side + 'Ip')) or '?'}:{_text(fields.get(side + 'Port')) or '?'}"


def _machine_account(fields: Mapping[str, Any]) -> bool:
    """The subject is the computer itself (SYSTEM, LOCAL/NETWORK SERVICE, ``PC$``)."""
    sid = str(_scalar(fields.get("SubjectUserSid")) or "")
    name = str(_scalar(fields.get("SubjectUserName")) or "")
    return sid in ("S-1-5-18", "S-1-5-19", "S-1-5-20") or name.endswith("$")


def _session_account(fields: Mapping[str, Any]) -> bool:
    """The desktop window manager's (DWM-n) or font driver host's (UMFD-n) own logon.

    Windows logs them as interactive (type 2) at every sign-in; no one typed.
    """
    sid = str(_scalar(fields.get("TargetUserSid")) or "")
    return sid.startswith(("S-1-5-90-", "S-1-5-96-"))


def _domain_user(fields: Mapping[str, Any], prefix: str) -> str | None:
    name = _text(fields.get(f"{prefix}UserName"))
    if name is None:
        return None
    domain = _text(fields.get(f"{prefix}DomainName"))
    return f"{domain}\\{name}" if domain else name


class WindowsEvents:
    """Maps the records of one import run (stateful only to pair UMDF requests).

    Parameters
    ----------
    all_logons : bool
        Keep non-interactive 4624/4634 logons as kind ``other`` instead of
        skipping them.
    """

    def __init__(self, *, all_logons: bool = False) -> None:
        self.all_logons = all_logons
        self._removals: set[tuple[str, str, int]] = set()
        self._rules: dict[tuple[str, int], Callable[[dict], Row | str]] = {
            (SECURITY, 4624): self._logon,
            (SECURITY, 4634): self._logoff,
            (SECURITY, 4647): self._logoff,
            (SECURITY, 4625): self._failed,
            (SECURITY, 6416): self._external_device,
            (SYSMON, 1): self._process,
            (SYSMON, 3): self._network,
            (SYSMON, 11): self._file_create,
            (PARTITION, 1006): self._partition,
            (DRIVER_FRAMEWORKS, 2003): self._umdf_arrival,
            (DRIVER_FRAMEWORKS, 2100): self._umdf_request,
            (DRIVER_FRAMEWORKS, 2102): self._umdf_request,
            (DEFENDER, 1116): self._defender,
            (DEFENDER, 1117): self._defender,
        }

    def map(self, channel: str, event_id: int, fields: dict[str, Any]) -> Row | str:
        """The row for one record's fields, or why it is not imported."""
        rule = self._rules.get((channel, event_id))
        if rule is None:
            return "not an event forensics imports"
        return rule(fields)

    # ---------------------------------------------------------- Security

    def _logon_type(self, fields: dict) -> tuple[int | None, str]:
        kind = _int(fields.get("LogonType"))
        name = LOGON_TYPE_NAMES.get(kind, "unknown") if kind is not None else "unknown"
        return kind, f"logon type {kind} ({name})"

    def _logon(self, fields: dict) -> Row | str:
        if _session_account(fields):
            return "Window Manager / Font Driver Host session: not a person"
        kind, label = self._logon_type(fields)
        if kind not in INTERACTIVE_LOGON_TYPES:
            if not self.all_logons:
                return f"{label}: not an interactive logon"
            return self._account_row("other", fields, f"4624 {label}")
        return self._account_row("logon", fields, label)

    def _logoff(self, fields: dict) -> Row | str:
        if _session_account(fields):
            return "Window Manager / Font Driver Host session: not a person"
        if "LogonType" in fields:  # 4634; 4647 (user-initiated) has no type
            kind, label = self._logon_type(fields)
            if kind not in INTERACTIVE_LOGON_TYPES:
                if not self.all_logons:
                    return f"{label}: not an interactive logoff"
                return self._account_row("other", fields, f"4634 {label}")
            return self._account_row("logoff", fields, label)
        return self._account_row("logoff", fields, "user-initiated logoff")

    def _failed(self, fields: dict) -> Row | str:
        _, label = self._logon_type(fields)
        status = _text(fields.get("Status")) or "?"
        sub = _text(fields.get("SubStatus"))
        detail = f"{label}, status {status}" + (f"/{sub}" if sub else "")
        ip = _text(fields.get("IpAddress"))
        if ip:
            detail += f", from {ip}"
        return self._account_row("login_failed", fields, detail)

    def _account_row(self, kind: str, fields: dict, detail: str) -> Row:
        process = _text(fields.get("ProcessName"))
        return {
            "kind": kind,
            "user": _domain_user(fields, "Target"),
            "process": process,
            "detail": detail,
        }

    def _external_device(self, fields: dict) -> Row | str:
        cls = (_text(fields.get("ClassName")) or "").lower()
        device = _text(fields.get("DeviceId")) or ""
        if cls not in _STORAGE_CLASSES:
            return f"device class {fields.get('ClassName') or '?'}: not removable storage"
        if cls == "diskdrive" and not device.upper().startswith("USBSTOR\\"):
            return "disk drive not on USB (internal or virtual disk)"
        return {
            "kind": "usb_connect",
            # usually logged by SYSTEM (the machine account): then no user is known
            "user": None if _machine_account(fields) else _domain_user(fields, "Subject"),
            "device_id": usb_serial(device),
            "detail": f"{_text(fields.get('DeviceDescription')) or ''} [{device}]".strip(),
        }

    # ------------------------------------------------------------ Sysmon

    def _process(self, fields: dict) -> Row | str:
        hashes = _text(fields.get("Hashes")) or ""
        sha = next(
            (
                h.split("=", 1)[1].lower()
                for h in hashes.split(",")
                if h.upper().startswith("SHA256=")
            ),
            None,
        )
        return {
            "kind": "process_start",
            "user": _text(fields.get("User")),
            "process": _text(fields.get("Image")),
            "sha256": sha,
            "detail": _text(fields.get("CommandLine")),
        }

    def _network(self, fields: dict) -> Row | str:
        src = _endpoint(fields, "Source")
        dst = _endpoint(fields, "Destination")
        host = _text(fields.get("DestinationHostname"))
        proto = _text(fields.get("Protocol")) or ""
        return {
            "kind": "network",
            "user": _text(fields.get("User")),
            "process": _text(fields.get("Image")),
            "detail": f"{proto} {src} -> {dst}".strip() + (f" ({host})" if host else ""),
        }

    def _file_create(self, fields: dict) -> Row | str:
        return {
            "kind": "file_create",
            "user": _text(fields.get("User")),
            "process": _text(fields.get("Image")),
            "detail": _text(fields.get("TargetFilename")),
        }

    # -------------------------------------------------------------- USB

    def _partition(self, fields: dict) -> Row | str:
        bus = _int(fields.get("BusType"))
        if bus != _USB_BUS_TYPE:
            return f"bus type {bus}: not a USB disk (internal disk)"
        if str(_scalar(fields.get("IsSystem"))).lower() == "true" or (
            str(_scalar(fields.get("IsBoot"))).lower() == "true"
        ):
            return "system or boot disk: not a removable drive"
        capacity = _int(fields.get("Capacity")) or 0
        partitions = _int(fields.get("PartitionCount")) or 0
        parent = _text(fields.get("ParentId"))
        serial = usb_serial(parent) if parent and parent.upper().startswith("USB") else None
        serial = serial or _text(fields.get("SerialNumber"))
        model = " ".join(
            t for t in (_text(fields.get("Manufacturer")), _text(fields.get("Model"))) if t
        )
        removed = capacity == 0 and partitions == 0
        return {
            "kind": "usb_disconnect" if removed else "usb_connect",
            "device_id": serial,
            "detail": f"{model or 'USB disk'}, {capacity} bytes" if not removed else model or None,
        }

    def _umdf_arrival(self, fields: dict) -> Row | str:
        instance = _text(fields.get("instance"))
        if not instance or "USBSTOR" not in instance.upper():
            return "UMDF device arrival not of USB storage"
        return {"kind": "usb_connect", "device_id": usb_serial(instance), "detail": instance}

    def _umdf_request(self, fields: dict) -> Row | str:
        instance = _text(fields.get("instance"))
        minor = _int(fields.get("Request.minor"))
        if not instance or "USBSTOR" not in instance.upper():
            return "UMDF request not of USB storage"
        if minor not in _REMOVAL_MINORS:
            return f"UMDF request minor {minor}: not a removal"
        key = (_text(fields.get("lifetime")) or "", instance, minor)
        if key in self._removals:
            return "completion of a removal request already imported (2100)"
        self._removals.add(key)
        return {"kind": "usb_disconnect", "device_id": usb_serial(instance), "detail": instance}

    # ---------------------------------------------------------- Defender

    def _defender(self, fields: dict) -> Row | str:
        path = _text(fields.get("Path"))
        threat = _text(fields.get("Threat Name")) or "?"
        action = _text(fields.get("Action Name"))
        detail = (
            f"{threat}" + (f" at {path}" if path else "") + (f"; action {action}" if action else "")
        )
        return {
            "kind": "av_alert",
            "user": _text(fields.get("Detection User")),
            "process": _text(fields.get("Process Name")),
            "detail": detail,
        }
