"""facility.yml loading: the shipped file loads, and each mistake is named precisely."""

from __future__ import annotations

import copy
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml

from admissions.facility import (
    FacilityConfigError,
    default_facility_path,
    load_facility,
    parse_facility,
)

SHIPPED = Path(__file__).resolve().parents[2] / "facility.yml"
BASE: dict[str, Any] = yaml.safe_load(SHIPPED.read_text(encoding="utf-8"))


def put(data: dict[str, Any], path: str, value: Any) -> None:
    """Set a dotted path (list indexes as numbers); ``...`` as value deletes the key."""
    *parents, last = path.split(".")
    node: Any = data
    for part in parents:
        node = node[int(part)] if isinstance(node, list) else node[part]
    key: Any = int(last) if isinstance(node, list) else last
    if value is ...:
        del node[key]
    else:
        node[key] = value


def changed(*edits: tuple[str, Any]) -> dict[str, Any]:
    data = copy.deepcopy(BASE)
    for path, value in edits:
        put(data, path, value)
    return data


def load_text(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "facility.yml").write_text(text, encoding="utf-8")
    load_facility("facility.yml")


# ----- the shipped file -------------------------------------------------------------------
def test_shipped_file_loads_with_programs_ordered_by_intensity() -> None:
    facility = load_facility(SHIPPED)
    assert facility.name == "Harbor Light Recovery Center"
    assert list(facility.programs) == ["op", "iop", "php", "residential"]
    assert facility.admissions.phone == "833-820-2922"
    assert facility.admissions.tel_uri == "tel:+18338202922"
    assert facility.admissions.hours["mon"] == (8 * 60, 20 * 60)
    assert "sun" not in facility.admissions.hours
    assert date(2026, 12, 25) in facility.admissions.holidays


def test_tracks_are_minutes_since_midnight() -> None:
    iop = load_facility(SHIPPED).programs["iop"]
    evening = iop.tracks[1]
    assert (evening.id, evening.start, evening.end, evening.minutes) == ("evening", 1050, 1290, 240)
    assert evening.days == ("mon", "tue", "thu")
    assert iop.short_name == "IOP"
    assert iop.min_days_per_week == 3


def test_residential_has_no_tracks_and_lives_on_site() -> None:
    residential = load_facility(SHIPPED).programs["residential"]
    assert residential.live_on_site
    assert residential.tracks == ()
    assert residential.typical_weeks == 4


def test_payers_only_quote_prices_that_are_written() -> None:
    facility = load_facility(SHIPPED)
    assert facility.payers.prices == {}
    assert facility.payers.accepts("aetna")
    assert not facility.payers.accepts("Medicaid")
    priced = parse_facility(changed(("payers.prices", {"iop": "$350 a day"})))
    assert priced.payers.prices == {"iop": "$350 a day"}


def test_need_rule_defaults_when_left_out() -> None:
    facility = parse_facility(changed(("need_rule", ...)))
    assert dict(facility.need_rule.by_yes_count) == {
        0: "op",
        1: "op",
        2: "iop",
        3: "php",
        4: "residential",
    }
    assert facility.need_rule.severe_withdrawal == "residential"


def test_programs_follow_intensity_not_file_order() -> None:
    data = changed(("programs.op.intensity", 5))
    assert list(parse_facility(data).programs) == ["iop", "php", "residential", "op"]


def test_full_weekday_names_are_accepted() -> None:
    data = changed(
        ("programs.op.tracks.1.days", ["Saturday"]),
        ("admissions.hours", {"Sunday": ["10:00", "14:00"]}),
    )
    facility = parse_facility(data)
    assert facility.programs["op"].tracks[1].days == ("sat",)
    assert facility.admissions.hours == {"sun": (600, 840)}


def test_default_path_honours_facility_file(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("FACILITY_FILE", raising=False)
    assert default_facility_path() == SHIPPED
    monkeypatch.setenv("FACILITY_FILE", str(tmp_path / "other.yml"))
    assert default_facility_path() == tmp_path / "other.yml"


# ----- mistakes ---------------------------------------------------------------------------
BAD = [
    pytest.param(
        [("programs.iop.tracks.1.start", "25:00")],
        'facility.yml: programs.iop.tracks[1].start: expected a time like "17:30", got "25:00"',
        id="track-time-out-of-range",
    ),
    pytest.param(
        [("programs.iop.tracks.0.end", "1pm")],
        'programs.iop.tracks[0].end: expected a time like "17:30", got "1pm"',
        id="track-time-wrong-format",
    ),
    pytest.param(
        [("programs.iop.tracks.0.days", ["mon", "tues", "wed"])],
        'programs.iop.tracks[0].days[1]: expected a weekday (mon, tue, wed, thu, fri, sat, sun), got "tues"',
        id="unknown-weekday-in-track",
    ),
    pytest.param(
        [("admissions.hours.mnday", ["08:00", "20:00"])],
        'admissions.hours.mnday: expected a weekday (mon, tue, wed, thu, fri, sat, sun), got "mnday"',
        id="unknown-weekday-in-hours",
    ),
    pytest.param(
        [("programs.op.tracks.0.end", "17:00")],
        'programs.op.tracks[0].end: expected a time after start (18:00), got "17:00"',
        id="track-ends-before-it-starts",
    ),
    pytest.param(
        [("admissions.hours.mon", ["20:00", "08:00"])],
        "admissions.hours.mon: closing time 08:00 must be after opening time 20:00",
        id="hours-close-before-open",
    ),
    pytest.param(
        [("admissions.hours.tue", ["08:00"])],
        'admissions.hours.tue: expected an opening and closing time like ["08:00", "20:00"], got a list',
        id="hours-need-two-times",
    ),
    pytest.param(
        [("programs.iop.min_days_per_week", 6)],
        "programs.iop.min_days_per_week: min_days_per_week (6) is more than max_days_per_week (5)",
        id="min-days-above-max-days",
    ),
    pytest.param(
        [("programs.iop.min_days_per_week", 0)],
        "programs.iop.min_days_per_week: expected a whole number from 1 to 7, got 0",
        id="min-days-zero",
    ),
    pytest.param(
        [("programs.php.min_hours_per_day", "six")],
        'programs.php.min_hours_per_day: expected a number above 0 and up to 24, got "six"',
        id="min-hours-not-a-number",
    ),
    pytest.param(
        [("programs.php.tracks.0.end", "13:30")],
        "programs.php.tracks[0]: a session runs 5 hours but min_hours_per_day is 6",
        id="track-shorter-than-min-hours",
    ),
    pytest.param(
        [("programs.iop.tracks.1.days", ["mon", "tue"])],
        "programs.iop.tracks[1].days: meets on 2 days but min_days_per_week is 3",
        id="track-fewer-days-than-min-days",
    ),
    pytest.param(
        [("programs.op.tracks.1.id", "weekday_evening")],
        'programs.op.tracks[1].id: track id "weekday_evening" is used twice',
        id="duplicate-track-id",
    ),
    pytest.param(
        [("programs.iop.tracks", [])],
        "programs.iop.tracks: expected a list of at least one track, got an empty list",
        id="no-tracks",
    ),
    pytest.param(
        [("need_rule.by_yes_count", {3: "phpp"})],
        'need_rule.by_yes_count[3]: expected a program key (op, iop, php, residential), got "phpp"',
        id="unknown-program-in-need-rule",
    ),
    pytest.param(
        [("need_rule.by_yes_count", {5: "php"})],
        "need_rule.by_yes_count: expected counts from 0 to 4 as keys, got 5",
        id="need-rule-count-out-of-range",
    ),
    pytest.param(
        [("programs.php", ...)],
        'need_rule.by_yes_count[3]: "php" is not defined under programs',
        id="need-rule-names-missing-program",
    ),
    pytest.param(
        [("need_rule.severe_withdrawal", "detox")],
        'need_rule.severe_withdrawal: expected a program key (op, iop, php, residential), got "detox"',
        id="unknown-severe-withdrawal-program",
    ),
    pytest.param(
        [("admissions.time_zone", "America/Nowhere")],
        'admissions.time_zone: expected a time zone like "America/New_York", got "America/Nowhere"',
        id="bad-time-zone",
    ),
    pytest.param(
        [("admissions.time_zone", "../etc/passwd")],
        'admissions.time_zone: expected a time zone like "America/New_York", got "../etc/passwd"',
        id="time-zone-path-trick",
    ),
    pytest.param(
        [("admissions.holidays", ["2026-12-25", "2026-02-30"])],
        'admissions.holidays[1]: expected a date like "2026-12-25", got "2026-02-30"',
        id="bad-holiday-date",
    ),
    pytest.param(
        [("admissions.phone", ...)],
        'admissions.phone: missing: expected a phone number like "212-555-0187"',
        id="missing-phone",
    ),
    pytest.param(
        [("admissions.phone", "call us")],
        'admissions.phone: expected a phone number in quotes like "212-555-0187", got "call us"',
        id="phone-without-digits",
    ),
    pytest.param(
        [("programs.detox", {"name": "Detox"})],
        'programs: expected program keys from op, iop, php, residential, got "detox"',
        id="unknown-program",
    ),
    pytest.param(
        [("programs.iop.min_day_per_week", 3)],
        "programs.iop.min_day_per_week: unknown field (expected one of:",
        id="misspelt-field",
    ),
    pytest.param(
        [("programs.op.intensity", 2)],
        "programs.op.intensity: 2 is also the intensity of iop; each program needs its own",
        id="duplicate-intensity",
    ),
    pytest.param(
        [("payers.medicaid", "sometimes")],
        'payers.medicaid: expected true or false, got "sometimes"',
        id="payer-flag-not-boolean",
    ),
    pytest.param(
        [("payers.prices", {"detox": "$100"})],
        'payers.prices: expected program keys from op, iop, php, residential, got "detox"',
        id="price-for-unknown-program",
    ),
    pytest.param(
        [("name", "")],
        'name: expected some text, got ""',
        id="empty-name",
    ),
    pytest.param(
        [("programs.residential.live_on_site", False)],
        "programs.residential.live_on_site: residential always lives on site (true)",
        id="residential-not-on-site",
    ),
]


@pytest.mark.parametrize(("edits", "message"), BAD)
def test_mistakes_name_the_field(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, edits: list[tuple[str, Any]], message: str
) -> None:
    text = yaml.safe_dump(changed(*edits), sort_keys=False)
    with pytest.raises(FacilityConfigError) as caught:
        load_text(tmp_path, monkeypatch, text)
    assert str(caught.value).startswith("facility.yml: ")
    assert message in str(caught.value)


def test_yaml_syntax_error_gives_the_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = 'name: "Harbor"\nadmissions:\n  phone: "833-820-2922\n  time_zone: x\n'
    with pytest.raises(
        FacilityConfigError, match=r"^facility.yml: line \d+, column \d+: not valid YAML"
    ):
        load_text(tmp_path, monkeypatch, text)


def test_bad_indentation_gives_the_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = SHIPPED.read_text(encoding="utf-8").replace("  time_zone:", "    time_zone:")
    with pytest.raises(FacilityConfigError, match=r"line 6, column \d+: not valid YAML"):
        load_text(tmp_path, monkeypatch, text)


def test_unquoted_times_get_a_hint(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = SHIPPED.read_text(encoding="utf-8").replace('start: "17:30"', "start: 17:30")
    with pytest.raises(FacilityConfigError) as caught:
        load_text(tmp_path, monkeypatch, text)
    assert str(caught.value) == (
        'facility.yml: programs.iop.tracks[1].start: expected a time in quotes like "17:30", '
        "got the number 1050"
    )


def test_unquoted_dates_are_checked_too(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = SHIPPED.read_text(encoding="utf-8").replace('- "2027-01-01"', "- 2027-13-01")
    with pytest.raises(
        FacilityConfigError,
        match=r'admissions.holidays\[1\]: expected a date like "2026-12-25", got "2027-13-01"',
    ):
        load_text(tmp_path, monkeypatch, text)


def test_duplicate_keys_are_caught(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = SHIPPED.read_text(encoding="utf-8").replace(
        '    sat: ["09:00", "17:00"]', '    sat: ["09:00", "17:00"]\n    mon: ["10:00", "12:00"]'
    )
    with pytest.raises(
        FacilityConfigError, match=r"line 14, column 5: not valid YAML: duplicate key 'mon'"
    ):
        load_text(tmp_path, monkeypatch, text)


def test_missing_and_empty_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(FacilityConfigError, match=r"^facility.yml: file not found$"):
        load_facility("facility.yml")
    with pytest.raises(FacilityConfigError, match=r"\(top level\): expected a mapping"):
        load_text(tmp_path, monkeypatch, "# nothing here\n")


def test_is_a_value_error() -> None:
    assert issubclass(FacilityConfigError, ValueError)
