"""The facility as data: its admissions line, payers, need rule and programs.

What ``facility.yml`` says, validated (``admissions.facility.validation``) and typed. Track and
opening times are minutes since local midnight. ``tel_link`` is the one place a phone number
becomes a ``tel:`` link.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from types import MappingProxyType
from zoneinfo import ZoneInfo

from admissions.profile import PROGRAM_SHORT_NAMES

DEFAULT_NEED_RULE: Mapping[int, str] = MappingProxyType(
    {0: "op", 1: "op", 2: "iop", 3: "php", 4: "residential"}
)
SHORT_NAMES: Mapping[str, str] = MappingProxyType(PROGRAM_SHORT_NAMES)


def tel_link(phone: str) -> str:
    """A ``tel:`` link for tap-to-call (10-digit numbers get the +1 country code)."""
    digits = re.sub(r"\D", "", phone)
    return f"tel:+1{digits}" if len(digits) == 10 else f"tel:+{digits}"


def call_button(phone: str) -> dict[str, str]:
    """A tap-to-call chat button for ``phone``: ``{"title": "Call …", "payload": "tel:…"}``."""
    return {"title": f"Call {phone}", "payload": tel_link(phone)}


class FacilityConfigError(ValueError):
    """``facility.yml`` is malformed; the message names the file, the field and the fix."""


@dataclass(frozen=True)
class Track:
    """One schedule a program runs on: the same session on each of ``days``."""

    id: str
    name: str
    days: tuple[str, ...]
    start: int  # minutes since midnight
    end: int

    @property
    def minutes(self) -> int:
        """Length of one session in minutes."""
        return self.end - self.start


@dataclass(frozen=True)
class Program:
    """A level of care. Residential has no tracks; the others have at least one."""

    key: str  # op | iop | php | residential
    name: str
    intensity: int
    summary: str
    min_days_per_week: int = 0
    max_days_per_week: int = 0
    min_hours_per_day: float = 0.0
    tracks: tuple[Track, ...] = ()
    live_on_site: bool = False
    typical_weeks: int | None = None

    @property
    def short_name(self) -> str:
        """``IOP``, ``PHP``, ``OP`` or ``Residential``: the name used in short sentences."""
        return SHORT_NAMES[self.key]


@dataclass(frozen=True)
class Payers:
    """What the facility accepts. Only prices written in the file are ever quoted."""

    accepted: tuple[str, ...] = ()
    medicaid: bool = False
    medicare: bool = False
    self_pay: bool = True
    payment_plans: bool = False
    prices: Mapping[str, str] = field(default_factory=dict)

    def accepts(self, payer: str) -> bool:
        """True when ``payer`` is on the accepted list (case-insensitive)."""
        return payer.strip().lower() in {p.lower() for p in self.accepted}


@dataclass(frozen=True)
class AdmissionsLine:
    """The phone line a person answers, its weekly hours and holidays, in local time."""

    phone: str
    time_zone: str
    hours: Mapping[str, tuple[int, int]]  # weekday -> (open, close) minutes; absent = closed
    holidays: frozenset[date] = frozenset()

    @property
    def tz(self) -> ZoneInfo:
        """The facility's time zone."""
        return ZoneInfo(self.time_zone)

    @property
    def tel_uri(self) -> str:
        """A ``tel:`` link for tap-to-call (see ``tel_link``)."""
        return tel_link(self.phone)


@dataclass(frozen=True)
class NeedRule:
    """How screening answers map to a level of care."""

    by_yes_count: Mapping[int, str] = field(default_factory=lambda: dict(DEFAULT_NEED_RULE))
    severe_withdrawal: str = "residential"


@dataclass(frozen=True)
class NearMiss:
    """How close a track may come to the visitor's free time to be offered anyway."""

    minutes: int = 60  # the session runs past the free time by up to this much
    days: int = 1  # or the visitor is free this many days short of the minimum


@dataclass(frozen=True)
class Facility:
    """The whole validated ``facility.yml``; ``programs`` is ordered least to most intensive."""

    name: str
    admissions: AdmissionsLine
    payers: Payers
    need_rule: NeedRule
    programs: Mapping[str, Program]
    source: str = "facility.yml"
    near_miss: NearMiss = field(default_factory=NearMiss)

    def ordered(self) -> list[Program]:
        """Programs from least to most intensive."""
        return list(self.programs.values())


def reply_values(facility: Facility) -> dict[str, str]:
    """The facility's facts that responses fill in: ``{admissions_phone}``, ``{admissions_tel}``."""
    return {
        "admissions_phone": facility.admissions.phone,
        "admissions_tel": facility.admissions.tel_uri,
    }
