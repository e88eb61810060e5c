"""The investigation's vocabularies, each defined once.

- :class:`VectorKind`: the leak path kinds findings.json reports
  (``vector.kind``), plus the engine's internal ``malware`` before it is
  told apart into USB or visitor malware. A :class:`~enum.StrEnum`: a
  member equals, hashes, formats and serialises (JSON) as its value.
- :data:`INDICATORS`: one frozen :class:`IndicatorSpec` per indicator
  (:mod:`forensics.analysis.indicators`): its wording, the likelihood ratio
  it weighs a linked person with (:data:`forensics.analysis.suspects.WEIGHTS`),
  whether it links a person to the leak path by itself
  (:data:`forensics.analysis.suspects.LINK_KINDS`) and its colour on the
  timeline. ``tests/test_vocab.py`` checks the engine and the charts agree
  with it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType

__all__ = [
    "VectorKind",
    "MALWARE_KINDS",
    "IndicatorKind",
    "IndicatorSpec",
    "INDICATORS",
]


class VectorKind(StrEnum):
    """How the orders left the shop (``findings.json`` ``vector.kind``)."""

    USB_MALWARE = "usb_malware"
    INSIDER_EXPORT = "insider_export"
    STALE_ACCOUNT = "stale_account"
    VISITOR_MALWARE = "visitor_malware"
    THIRD_PARTY_APP = "third_party_app"
    NONE = "none"
    MALWARE = "malware"  # internal: malware not yet told apart (USB or visitor)

    @property
    def wording(self) -> str:
        """The kind in a plain sentence, for the report."""
        return _VECTOR_WORDING[self]

    @classmethod
    def scenarios(cls) -> tuple[VectorKind, ...]:
        """The kinds a finding (and a generated scenario) can be."""
        return tuple(k for k in cls if k is not cls.MALWARE)


_VECTOR_WORDING = {
    VectorKind.USB_MALWARE: "malware brought in on a USB device, running on office PCs",
    VectorKind.VISITOR_MALWARE: "malware brought in by a visitor, running on office PCs",
    VectorKind.INSIDER_EXPORT: "an insider exported the orders from the back office",
    VectorKind.STALE_ACCOUNT: "a stale account (its owner had left, or it was disabled) was used",
    VectorKind.THIRD_PARTY_APP: "a third-party app pulled the orders through the API",
    VectorKind.MALWARE: "malware running on office PCs",
    VectorKind.NONE: "no leak path stands out",
}

MALWARE_KINDS = frozenset({VectorKind.MALWARE, VectorKind.USB_MALWARE, VectorKind.VISITOR_MALWARE})
"""The kinds whose leak path is an implant on office machines."""


class IndicatorKind(StrEnum):
    """The ``indicator`` column of :func:`forensics.analysis.indicators.indicators`."""

    OFF_HOURS = "off_hours"
    NEW_HIRE_EARLY_DAYS = "new_hire_early_days"
    VISITOR_AT_MACHINE = "visitor_at_machine"
    USB_SEEN_INSERTING = "usb_seen_inserting"
    USB_SEEN_AT_MACHINE = "usb_seen_at_machine"
    USB_HOP = "usb_hop"
    USB_THEN_AUTORUN = "usb_then_autorun"
    STALE_ACCOUNT_USE = "stale_account_use"
    OWNER_ELSEWHERE = "owner_elsewhere"
    USED_OTHER_ACCOUNT = "used_other_account"
    OUTSIDE_LOGIN = "outside_login"
    LARGE_EXPORT = "large_export"
    OFF_HOURS_EXPORT = "off_hours_export"
    UNREGISTERED = "unregistered"


@dataclass(frozen=True)
class IndicatorSpec:
    """What one indicator is and how the rest of the tool treats it."""

    name: IndicatorKind
    wording: str  # what it means, for people
    weight: float | None  # likelihood ratio for a linked person; None: not weighed
    links_person: bool  # links a person to the leak path by itself
    colour: str | None  # ring colour on the timeline; None: the default grey


def _register(*specs: IndicatorSpec) -> Mapping[IndicatorKind, IndicatorSpec]:
    table = {s.name: s for s in specs}
    if len(table) != len(specs) or set(table) != set(IndicatorKind):
        raise ValueError("every IndicatorKind is registered exactly once")
    return MappingProxyType(table)


INDICATORS: Mapping[IndicatorKind, IndicatorSpec] = _register(
    IndicatorSpec(
        IndicatorKind.OFF_HOURS,
        "a person seen (camera) or badged in outside their shift or on a closed day",
        2.0,
        False,
        "#f4a582",
    ),
    IndicatorSpec(
        IndicatorKind.NEW_HIRE_EARLY_DAYS,
        "off hours, or at a desk other than their own, in a new hire's first days",
        1.5,
        False,
        "#fdb863",
    ),
    IndicatorSpec(
        IndicatorKind.VISITOR_AT_MACHINE,
        "a visitor, candidate, contractor or someone not on the staff list at a machine",
        5.0,
        False,
        "#762a83",
    ),
    IndicatorSpec(
        IndicatorKind.USB_SEEN_INSERTING,
        "a person on camera inserting a device at a machine when a USB device was connected",
        None,
        False,
        "#1a9641",
    ),
    IndicatorSpec(
        IndicatorKind.USB_SEEN_AT_MACHINE,
        "a person on camera at that desk when a USB device was connected",
        None,
        False,
        None,
    ),
    IndicatorSpec(
        IndicatorKind.USB_HOP,
        "one USB device connected to several machines",
        None,
        False,
        "#d7191c",
    ),
    IndicatorSpec(
        IndicatorKind.USB_THEN_AUTORUN,
        "a USB connection soon followed by an autorun entry, an antivirus alert "
        "or a never-seen process",
        None,
        False,
        "#a50026",
    ),
    IndicatorSpec(
        IndicatorKind.STALE_ACCOUNT_USE,
        "an account used after its owner left or after it was disabled",
        2.0,
        False,
        "#c51b7d",
    ),
    IndicatorSpec(
        IndicatorKind.OWNER_ELSEWHERE,
        "an account used on a machine while its owner is seen at another machine",
        0.2,
        False,
        "#4393c3",
    ),
    IndicatorSpec(
        IndicatorKind.USED_OTHER_ACCOUNT,
        "someone seen at the keyboard while another person's account was used there",
        4.0,
        True,
        "#2166ac",
    ),
    IndicatorSpec(
        IndicatorKind.OUTSIDE_LOGIN,
        "a login from outside the office (no machine)",
        1.5,
        False,
        None,
    ),
    IndicatorSpec(
        IndicatorKind.LARGE_EXPORT,
        "an export or API pull far larger than the shop's usual",
        2.0,
        False,
        "#b2182b",
    ),
    IndicatorSpec(
        IndicatorKind.OFF_HOURS_EXPORT,
        "an export outside the exporter's shift",
        2.0,
        False,
        "#b2182b",
    ),
    IndicatorSpec(
        IndicatorKind.UNREGISTERED,
        "an id missing from its registry (accounts, machines, staff) used in the logs",
        None,
        False,
        None,
    ),
)
"""Every indicator, by name."""
