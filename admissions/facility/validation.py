"""Validate parsed ``facility.yml`` data into a ``Facility``, naming the field of each mistake."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import date
from typing import Any, NoReturn
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from admissions.facility.model import (
    DEFAULT_NEED_RULE,
    AdmissionsLine,
    Facility,
    FacilityConfigError,
    NearMiss,
    NeedRule,
    Payers,
    Program,
    Track,
)
from admissions.profile import DAY_NAMES, PROGRAMS, WEEKDAYS, parse_hhmm

_TIME_RE = re.compile(r"^\d{1,2}:\d{2}$")
_DAY_ALIASES: dict[str, str] = {
    **{d: d for d in WEEKDAYS},
    **{name.lower(): d for d, name in DAY_NAMES.items()},
}


def parse_facility(data: Any, source: str = "facility.yml") -> Facility:
    """Validate already-parsed YAML data (a dict) into a ``Facility``."""
    return _Parser(source).facility(data)


def _show(value: Any) -> str:
    """Render a bad value for an error message: strings in double quotes."""
    if value is None:
        return "nothing"
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list" if value else "an empty list"
    return str(value)


class _Parser:
    """Walks the document, keeping the file name for error messages."""

    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, where: str, message: str) -> NoReturn:
        raise FacilityConfigError(f"{self.source}: {where}: {message}")

    def expect(self, where: str, what: str, got: Any) -> NoReturn:
        self.fail(where, f"expected {what}, got {_show(got)}")

    # ----- primitives -------------------------------------------------------------------
    def mapping(self, value: Any, where: str, allowed: tuple[str, ...]) -> dict[str, Any]:
        if not isinstance(value, dict):
            self.expect(where, "a mapping of fields", value)
        for key in value:
            if key not in allowed:
                self.fail(
                    f"{where}.{key}" if where else str(key),
                    f"unknown field (expected one of: {', '.join(allowed)})",
                )
        return value

    def text(self, value: Any, where: str, *, required: bool = True) -> str:
        if value is None and not required:
            return ""
        if not isinstance(value, str) or not value.strip():
            self.expect(where, "some text", value)
        return value.strip()

    def flag(self, value: Any, where: str, default: bool) -> bool:
        if value is None:
            return default
        if not isinstance(value, bool):
            self.expect(where, "true or false", value)
        return value

    def integer(self, value: Any, where: str, low: int, high: int) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            self.expect(where, f"a whole number from {low} to {high}", value)
        return value

    def number(self, value: Any, where: str, low: float, high: float) -> float:
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        if not ok or not low < value <= high:
            self.expect(where, f"a number above {low:g} and up to {high:g}", value)
        return float(value)

    def time(self, value: Any, where: str) -> int:
        if isinstance(value, int) and not isinstance(value, bool):
            self.fail(where, f'expected a time in quotes like "17:30", got the number {value}')
        if isinstance(value, str) and _TIME_RE.match(value.strip()):
            try:
                return parse_hhmm(value.strip())
            except ValueError:
                pass
        self.expect(where, 'a time like "17:30"', value)

    def weekday(self, value: Any, where: str) -> str:
        day = _DAY_ALIASES.get(value.strip().lower()) if isinstance(value, str) else None
        if day is None:
            self.expect(where, f"a weekday ({', '.join(WEEKDAYS)})", value)
        return day

    def span(self, value: Any, where: str) -> tuple[int, int]:
        if not isinstance(value, list) or len(value) != 2:
            self.expect(where, 'an opening and closing time like ["08:00", "20:00"]', value)
        start = self.time(value[0], f"{where}[0]")
        end = self.time(value[1], f"{where}[1]")
        if end <= start:
            self.fail(where, f"closing time {value[1]} must be after opening time {value[0]}")
        return start, end

    # ----- sections ---------------------------------------------------------------------
    def facility(self, data: Any) -> Facility:
        if not isinstance(data, dict):
            self.expect("(top level)", "a mapping with name, admissions, payers, programs", data)
        top = self.mapping(
            data, "", ("name", "admissions", "payers", "need_rule", "programs", "near_miss")
        )
        name = self.text(top.get("name"), "name")
        if "admissions" not in top:
            self.fail("admissions", "missing (it holds the phone, hours and time zone)")
        line = self.admissions(top["admissions"])
        if "programs" not in top:
            self.fail("programs", "missing (expected op, iop, php and/or residential)")
        programs = self.programs(top["programs"])
        payers = self.payers(top.get("payers"), programs)
        need_rule = self.need_rule(top.get("need_rule"), programs)
        near = self.mapping(top.get("near_miss") or {}, "near_miss", ("minutes", "days"))
        near_miss = NearMiss(
            self.integer(near.get("minutes", 60), "near_miss.minutes", 0, 180),
            self.integer(near.get("days", 1), "near_miss.days", 0, 2),
        )
        return Facility(name, line, payers, need_rule, programs, self.source, near_miss)

    def admissions(self, value: Any) -> AdmissionsLine:
        where = "admissions"
        sec = self.mapping(value, where, ("phone", "time_zone", "hours", "holidays"))
        if sec.get("phone") is None:
            self.fail(f"{where}.phone", 'missing: expected a phone number like "212-555-0187"')
        phone = sec["phone"]
        if not isinstance(phone, str) or not 7 <= len(re.sub(r"\D", "", phone)) <= 15:
            self.expect(f"{where}.phone", 'a phone number in quotes like "212-555-0187"', phone)
        tz_name = self.text(sec.get("time_zone"), f"{where}.time_zone")
        try:
            ZoneInfo(tz_name)
        except (ZoneInfoNotFoundError, ValueError):
            self.expect(f"{where}.time_zone", 'a time zone like "America/New_York"', tz_name)
        hours: dict[str, tuple[int, int]] = {}
        raw_hours = sec.get("hours") or {}
        if not isinstance(raw_hours, dict):
            self.expect(f"{where}.hours", "a mapping like mon: [08:00, 20:00]", raw_hours)
        for key, span in raw_hours.items():
            day = self.weekday(key, f"{where}.hours.{key}")
            if day in hours:
                self.fail(f"{where}.hours.{key}", f"{DAY_NAMES[day]} is listed twice")
            hours[day] = self.span(span, f"{where}.hours.{key}")
        holidays: set[date] = set()
        raw_holidays = sec.get("holidays") or []
        if not isinstance(raw_holidays, list):
            self.expect(f"{where}.holidays", "a list of dates like 2026-12-25", raw_holidays)
        for n, item in enumerate(raw_holidays):
            holidays.add(self.day_date(item, f"{where}.holidays[{n}]"))
        ordered_hours = {d: hours[d] for d in WEEKDAYS if d in hours}
        return AdmissionsLine(
            phone=phone.strip(),
            time_zone=tz_name,
            hours=ordered_hours,
            holidays=frozenset(holidays),
        )

    def day_date(self, value: Any, where: str) -> date:
        if isinstance(value, date):
            return value
        if isinstance(value, str):
            try:
                return date.fromisoformat(value.strip())
            except ValueError:
                pass
        self.expect(where, 'a date like "2026-12-25"', value)

    def programs(self, value: Any) -> Mapping[str, Program]:
        if not isinstance(value, dict) or not value:
            self.expect("programs", "a mapping with op, iop, php and/or residential", value)
        parsed: list[Program] = []
        for key, body in value.items():
            if key not in PROGRAMS:
                self.expect("programs", f"program keys from {', '.join(PROGRAMS)}", key)
            parsed.append(self.program(key, body))
        by_intensity: dict[int, str] = {}
        for program in parsed:
            if program.intensity in by_intensity:
                self.fail(
                    f"programs.{program.key}.intensity",
                    f"{program.intensity} is also the intensity of "
                    f"{by_intensity[program.intensity]}; each program needs its own",
                )
            by_intensity[program.intensity] = program.key
        parsed.sort(key=lambda p: p.intensity)
        return {p.key: p for p in parsed}

    def program(self, key: str, value: Any) -> Program:
        where = f"programs.{key}"
        common = ("name", "intensity", "summary")
        if key == "residential":
            body = self.mapping(value, where, (*common, "live_on_site", "typical_weeks"))
            if not self.flag(body.get("live_on_site"), f"{where}.live_on_site", True):
                self.fail(f"{where}.live_on_site", "residential always lives on site (true)")
            weeks = body.get("typical_weeks")
            return Program(
                key=key,
                name=self.text(body.get("name"), f"{where}.name"),
                intensity=self.intensity(key, body.get("intensity")),
                summary=self.text(body.get("summary"), f"{where}.summary", required=False),
                live_on_site=True,
                typical_weeks=(
                    None if weeks is None else self.integer(weeks, f"{where}.typical_weeks", 1, 52)
                ),
            )
        fields = (*common, "min_days_per_week", "max_days_per_week", "min_hours_per_day", "tracks")
        body = self.mapping(value, where, fields)
        for required in ("min_days_per_week", "min_hours_per_day", "tracks"):
            if body.get(required) is None:
                self.fail(f"{where}.{required}", "missing")
        min_days = self.integer(body["min_days_per_week"], f"{where}.min_days_per_week", 1, 7)
        max_days = self.integer(
            body.get("max_days_per_week", 7), f"{where}.max_days_per_week", 1, 7
        )
        if min_days > max_days:
            self.fail(
                f"{where}.min_days_per_week",
                f"min_days_per_week ({min_days}) is more than max_days_per_week ({max_days})",
            )
        min_hours = self.number(body["min_hours_per_day"], f"{where}.min_hours_per_day", 0, 24)
        raw_tracks = body["tracks"]
        if not isinstance(raw_tracks, list) or not raw_tracks:
            self.expect(f"{where}.tracks", "a list of at least one track", raw_tracks)
        tracks: list[Track] = []
        for n, item in enumerate(raw_tracks):
            track = self.track(item, f"{where}.tracks[{n}]", min_days, min_hours)
            if any(t.id == track.id for t in tracks):
                self.fail(f"{where}.tracks[{n}].id", f"track id {_show(track.id)} is used twice")
            tracks.append(track)
        return Program(
            key=key,
            name=self.text(body.get("name"), f"{where}.name"),
            intensity=self.intensity(key, body.get("intensity")),
            summary=self.text(body.get("summary"), f"{where}.summary", required=False),
            min_days_per_week=min_days,
            max_days_per_week=max_days,
            min_hours_per_day=min_hours,
            tracks=tuple(tracks),
        )

    def intensity(self, key: str, value: Any) -> int:
        if value is None:
            return PROGRAMS.index(key) + 1
        return self.integer(value, f"programs.{key}.intensity", 1, 100)

    def track(self, value: Any, where: str, min_days: int, min_hours: float) -> Track:
        body = self.mapping(value, where, ("id", "name", "days", "start", "end"))
        track_id = self.text(body.get("id"), f"{where}.id")
        raw_days = body.get("days")
        if not isinstance(raw_days, list) or not raw_days:
            self.expect(f"{where}.days", "a list of weekdays like [mon, tue, thu]", raw_days)
        days = {self.weekday(d, f"{where}.days[{n}]") for n, d in enumerate(raw_days)}
        if body.get("start") is None or body.get("end") is None:
            self.fail(where, 'needs both start and end, like start: "17:30", end: "21:30"')
        start = self.time(body["start"], f"{where}.start")
        end = self.time(body["end"], f"{where}.end")
        if end <= start:
            self.fail(
                f"{where}.end",
                f"expected a time after start ({body['start']}), got {_show(body['end'])}",
            )
        if end - start < min_hours * 60:
            self.fail(
                where,
                f"a session runs {(end - start) / 60:g} hours but min_hours_per_day is "
                f"{min_hours:g}",
            )
        if len(days) < min_days:
            self.fail(
                f"{where}.days",
                f"meets on {len(days)} days but min_days_per_week is {min_days}",
            )
        return Track(
            id=track_id,
            name=self.text(body.get("name") or f"{track_id} track", f"{where}.name"),
            days=tuple(d for d in WEEKDAYS if d in days),
            start=start,
            end=end,
        )

    def payers(self, value: Any, programs: Mapping[str, Program]) -> Payers:
        if value is None:
            return Payers()
        fields = ("accepted", "medicaid", "medicare", "self_pay", "payment_plans", "prices")
        sec = self.mapping(value, "payers", fields)
        accepted = sec.get("accepted") or []
        if not isinstance(accepted, list):
            self.expect("payers.accepted", "a list of insurer names", accepted)
        names = tuple(self.text(a, f"payers.accepted[{n}]") for n, a in enumerate(accepted))
        prices_raw = sec.get("prices") or {}
        if not isinstance(prices_raw, dict):
            self.expect("payers.prices", 'a mapping like {iop: "$350 a day"}', prices_raw)
        prices: dict[str, str] = {}
        for key, price in prices_raw.items():
            if key not in programs:
                self.expect("payers.prices", f"program keys from {', '.join(programs)}", key)
            prices[key] = self.text(price, f"payers.prices.{key}")
        return Payers(
            accepted=names,
            medicaid=self.flag(sec.get("medicaid"), "payers.medicaid", False),
            medicare=self.flag(sec.get("medicare"), "payers.medicare", False),
            self_pay=self.flag(sec.get("self_pay"), "payers.self_pay", True),
            payment_plans=self.flag(sec.get("payment_plans"), "payers.payment_plans", False),
            prices=prices,
        )

    def need_rule(self, value: Any, programs: Mapping[str, Program]) -> NeedRule:
        sec = self.mapping(value or {}, "need_rule", ("by_yes_count", "severe_withdrawal"))
        raw = sec.get("by_yes_count")
        counts: dict[int, str] = dict(DEFAULT_NEED_RULE)
        if raw is not None:
            if not isinstance(raw, dict):
                self.expect("need_rule.by_yes_count", "a mapping like {0: op, 2: iop}", raw)
            for count, key in raw.items():
                where = f"need_rule.by_yes_count[{count}]"
                if isinstance(count, bool) or not isinstance(count, int) or not 0 <= count <= 4:
                    self.expect("need_rule.by_yes_count", "counts from 0 to 4 as keys", count)
                counts[count] = self.program_key(key, where, programs)
        for count, key in counts.items():
            if raw is None or count not in raw:
                self.program_key(key, f"need_rule.by_yes_count[{count}] (default)", programs)
        severe = self.program_key(
            sec.get("severe_withdrawal", "residential"), "need_rule.severe_withdrawal", programs
        )
        return NeedRule(counts, severe)

    def program_key(self, key: Any, where: str, programs: Mapping[str, Program]) -> str:
        if key not in PROGRAMS:
            self.expect(where, f"a program key ({', '.join(PROGRAMS)})", key)
        if key not in programs:
            self.fail(where, f"{_show(key)} is not defined under programs")
        return str(key)
